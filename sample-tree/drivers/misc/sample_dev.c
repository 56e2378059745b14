// SPDX-License-Identifier: GPL-2.0
/*
 * Sample DMA ring device, written for the pgrewrite sample tree.
 *
 * The device fetches descriptors from a ring that is always 4096 bytes:
 * the hardware knows nothing of the kernel's PAGE_SIZE, but the driver
 * has spelled it that way since the first version.
 */

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/mm.h>

#define SAMPLE_DRV_NAME		"sample_dev"
#define SAMPLE_DESC_SIZE	16
/* The ring is one hardware page: 4K on every platform. */
#define SAMPLE_RING_BYTES	PAGE_SIZE
#define SAMPLE_RING_ENTRIES	(PAGE_SIZE / SAMPLE_DESC_SIZE)

#define SAMPLE_REG_RING_LO	0x10
#define SAMPLE_REG_RING_HI	0x14
#define SAMPLE_REG_RING_SZ	0x18

struct sample_desc {
	__le64 addr;
	__le32 len;
	__le32 flags;
};

struct sample_dev {
	struct device *dev;
	void *regs;
	struct sample_desc *ring;
	dma_addr_t ring_dma;
	char *scratch;
	unsigned int head;
	unsigned long bytes_moved;
};

static int sample_ring_init(struct sample_dev *sd)
{
	sd->ring = dma_alloc_coherent(sd->dev, SAMPLE_RING_BYTES, &sd->ring_dma,
				      GFP_KERNEL);
	if (!sd->ring)
		return -ENOMEM;

	writel(lower_32_bits(sd->ring_dma), sd->regs + SAMPLE_REG_RING_LO);
	writel(upper_32_bits(sd->ring_dma), sd->regs + SAMPLE_REG_RING_HI);
	/* The register takes the ring size in 4K units, minus one. */
	writel(SAMPLE_RING_BYTES / PAGE_SIZE - 1, sd->regs + SAMPLE_REG_RING_SZ);
	return 0;
}

static void sample_ring_fini(struct sample_dev *sd)
{
	dma_free_coherent(sd->dev, PAGE_SIZE, sd->ring, sd->ring_dma);
}

static int sample_queue_page(struct sample_dev *sd, struct page *page)
{
	struct sample_desc *d = &sd->ring[sd->head];
	dma_addr_t dma;

	dma = dma_map_page(sd->dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(sd->dev, dma))
		return -EIO;

	d->addr = cpu_to_le64(dma);
	d->len = cpu_to_le32(PAGE_SIZE);
	sd->head = (sd->head + 1) % SAMPLE_RING_ENTRIES;
	sd->bytes_moved += PAGE_SIZE;
	return 0;
}

/* The attribute buffer is one page; report the limit user space may rely on. */
static ssize_t buffer_limit_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return scnprintf(buf, PAGE_SIZE, "%lu\n", PAGE_SIZE);
}
static DEVICE_ATTR_RO(buffer_limit);

static int sample_probe(struct device *dev)
{
	struct sample_dev *sd;
	int ret;

	sd = devm_kzalloc(dev, sizeof(*sd), GFP_KERNEL);
	if (!sd)
		return -ENOMEM;
	sd->dev = dev;

	sd->scratch = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!sd->scratch)
		return -ENOMEM;

	ret = sample_ring_init(sd);
	if (ret) {
		kfree(sd->scratch);
		return ret;
	}
	dev_info(dev, "ring of %lu descriptors (PAGE_SIZE=%lu)\n",
		 SAMPLE_RING_ENTRIES, PAGE_SIZE);
	dev_set_drvdata(dev, sd);
	return 0;
}

static void sample_remove(struct device *dev)
{
	struct sample_dev *sd = dev_get_drvdata(dev);

	sample_ring_fini(sd);
	kfree(sd->scratch);
}

/*
 * Vendor tracing macros: the invocation below is not balanced, the way an
 * out-of-tree tracing shim left it.  The compiler never sees it (the guard
 * is never defined), but a parser does.
 */
#ifdef CONFIG_SAMPLE_DEV_VENDOR_TRACE
SAMPLE_TRACE_EVENT(ring_refill,
	TP_ARGS(struct sample_dev *sd, unsigned int n),
	TP_fast_assign(
		__entry->bytes = n * PAGE_SIZE;
		__entry->head = sd->head;
	,
	TP_printk("bytes=%u head=%u", __entry->bytes, __entry->head)
);
#endif

MODULE_DESCRIPTION("pgrewrite sample DMA ring device");
MODULE_LICENSE("GPL");
