// SPDX-License-Identifier: GPL-2.0
/*
 * Firmware update over a mailbox, for the pgrewrite sample tree.
 *
 * The controller's flash is programmed one 4K flash page ("PG") at a time;
 * PG_SIZE below is the controller's flash page, unrelated to the kernel's
 * PAGE_SIZE.  A tree-wide rename that produced PG_SIZE here would be
 * captured by this definition.
 */

#include <linux/firmware.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mm.h>

#define PG_SIZE			0x1000
#define PG_MASK			(~(PG_SIZE - 1))
#define FW_HEADER_SIZE		64
#define FW_MAX_PAGES		256

struct sample_fw_ctx {
	struct device *dev;
	u8 *bounce;
	size_t bounce_len;
};

static int sample_fw_write_flash_page(struct sample_fw_ctx *ctx, u32 addr,
				      const u8 *data)
{
	if (addr & ~PG_MASK)
		return -EINVAL;
	memcpy(ctx->bounce, data, PG_SIZE);
	return 0;
}

static int sample_fw_program(struct sample_fw_ctx *ctx,
			     const struct firmware *fw)
{
	size_t len = fw->size - FW_HEADER_SIZE;
	u32 addr;
	int ret;

	if (len > FW_MAX_PAGES * PG_SIZE)
		return -EFBIG;

	/* The bounce buffer is a kernel page; it must hold one flash page. */
	BUILD_BUG_ON(PG_SIZE > PAGE_SIZE);
	ctx->bounce_len = PAGE_SIZE;
	ctx->bounce = kmalloc(ctx->bounce_len, GFP_KERNEL);
	if (!ctx->bounce)
		return -ENOMEM;

	for (addr = 0; addr < len; addr += PG_SIZE) {
		ret = sample_fw_write_flash_page(ctx, addr,
						 fw->data + FW_HEADER_SIZE + addr);
		if (ret)
			break;
	}
	kfree(ctx->bounce);
	return ret;
}

static unsigned int sample_fw_kernel_pages(const struct firmware *fw)
{
	return PAGE_ALIGN(fw->size) >> PAGE_SHIFT;
}

int sample_fw_update(struct device *dev, const char *name)
{
	struct sample_fw_ctx ctx = { .dev = dev };
	const struct firmware *fw;
	int ret;

	ret = request_firmware(&fw, name, dev);
	if (ret)
		return ret;
	dev_dbg(dev, "firmware %s: %zu bytes, %u kernel pages\n", name,
		fw->size, sample_fw_kernel_pages(fw));
	ret = sample_fw_program(&ctx, fw);
	release_firmware(fw);
	return ret;
}
EXPORT_SYMBOL_GPL(sample_fw_update);

MODULE_LICENSE("GPL");
