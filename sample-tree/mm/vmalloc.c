// SPDX-License-Identifier: GPL-2.0-only
/*
 *  Virtually contiguous kernel memory for the pgrewrite sample tree.
 */

#include <linux/vmalloc.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/pgtable.h>
#include <asm/tlbflush.h>

struct vm_struct {
	struct vm_struct *next;
	void *addr;
	unsigned long size;
	unsigned long flags;
	struct page **pages;
	unsigned int nr_pages;
	phys_addr_t phys_addr;
};

/* Every area is followed by a one-page guard gap. */
static inline unsigned long get_vm_area_size(const struct vm_struct *area)
{
	return area->size - PAGE_SIZE;
}

/*
 * Map @pages into the kernel range [addr, end).  The virtual address moves
 * one PTE at a time while the page array moves one page at a time: the two
 * strides only agree while a page is one PTE.
 */
static int vmap_pages_pte_range(pmd_t *pmd, unsigned long addr,
				unsigned long end, pgprot_t prot,
				struct page **pages, int *nr)
{
	pte_t *pte;

	pte = pte_alloc_kernel(pmd, addr);
	if (!pte)
		return -ENOMEM;
	do {
		struct page *page = pages[*nr];

		if (WARN_ON(!pte_none(ptep_get(pte))))
			return -EBUSY;
		if (WARN_ON(!page))
			return -ENOMEM;
		set_pte_at(&init_mm, addr, pte, mk_pte(page, prot));
		(*nr)++;
	} while (pte++, addr += PAGE_SIZE, addr != end);
	return 0;
}

static void vunmap_pte_range(pmd_t *pmd, unsigned long addr, unsigned long end)
{
	pte_t *pte = pte_offset_kernel(pmd, addr);

	do {
		ptep_get_and_clear(&init_mm, addr, pte);
	} while (pte++, addr += PAGE_SIZE, addr != end);
}

void *vmap_sample(struct page **pages, unsigned int count, pgprot_t prot)
{
	unsigned long size = (unsigned long)count << PAGE_SHIFT;
	unsigned long addr;
	int nr = 0;

	if (count > totalram_pages_count)
		return NULL;

	addr = (unsigned long)__get_vm_area_node(size, 1, VM_MAP);
	if (!addr)
		return NULL;
	if (vmap_pages_pte_range(NULL, addr, addr + size, prot, pages, &nr) < 0) {
		vunmap_pte_range(NULL, addr, addr + size);
		return NULL;
	}
	return (void *)addr;
}

static void *__vmalloc_area_node(struct vm_struct *area, gfp_t gfp_mask,
				 pgprot_t prot, int node)
{
	unsigned long addr = (unsigned long)area->addr;
	unsigned long size = get_vm_area_size(area);
	unsigned int nr_small_pages = size >> PAGE_SHIFT;
	unsigned int i;

	area->pages = kmalloc_array(nr_small_pages, sizeof(struct page *),
				    gfp_mask);
	if (!area->pages)
		return NULL;

	for (i = 0; i < nr_small_pages; i++) {
		area->pages[i] = alloc_pages_node(node, gfp_mask, 0);
		if (!area->pages[i])
			goto fail;
		area->nr_pages++;
	}

	for (i = 0; i < area->nr_pages; i++, addr += PAGE_SIZE)
		map_kernel_page(addr, page_to_phys(area->pages[i]), prot);

	return area->addr;

fail:
	pr_warn("vmalloc: allocation failure, allocated %u of %lu bytes\n",
		area->nr_pages * (unsigned int)PAGE_SIZE, size);
	return NULL;
}

void *__vmalloc_node_sample(unsigned long size, gfp_t gfp_mask, int node)
{
	struct vm_struct *area;

	size = PAGE_ALIGN(size);
	if (!size || (size >> PAGE_SHIFT) > totalram_pages_count)
		return NULL;

	area = __get_vm_area_node(size + PAGE_SIZE, 1, VM_ALLOC);
	if (!area)
		return NULL;
	return __vmalloc_area_node(area, gfp_mask, PAGE_KERNEL, node);
}
