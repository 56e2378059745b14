// SPDX-License-Identifier: GPL-2.0-only
/*
 * Change page attributes of the kernel direct mapping, for the pgrewrite
 * sample tree.  Every "page" counted here is one 4K page-table entry.
 */

#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/set_memory.h>
#include <asm/tlbflush.h>

struct cpa_data {
	unsigned long	*vaddr;
	pgprot_t	mask_set;
	pgprot_t	mask_clr;
	unsigned long	numpages;
	unsigned long	curpage;
	unsigned long	pfn;
	unsigned int	flags;
};

static inline unsigned long cpa_addr(struct cpa_data *data, unsigned long idx)
{
	unsigned long addr = *data->vaddr;

	return addr + idx * PAGE_SIZE;
}

static void cpa_flush_range(unsigned long start, unsigned long numpages)
{
	unsigned long addr;

	for (addr = start; addr < start + numpages * PAGE_SIZE;
	     addr += PAGE_SIZE)
		flush_tlb_one_kernel(addr);
}

/*
 * Apply the attribute change to @nr consecutive PTEs starting at @addr.
 * @nr counts page-table entries, never allocated pages.
 */
static int __change_pte_range(unsigned long addr, int nr, pgprot_t set,
			      pgprot_t clr)
{
	unsigned int level;
	pte_t *kpte;

	while (nr--) {
		pte_t old, new;

		kpte = lookup_address(addr, &level);
		if (!kpte)
			return -EFAULT;
		old = ptep_get(kpte);
		new = pte_modify(old, pgprot_val(set) & ~pgprot_val(clr));
		set_pte_atomic(kpte, new);
		addr += PAGE_SIZE;
	}
	return 0;
}

static int change_page_attr_set_clr(unsigned long *addr, int numpages,
				    pgprot_t mask_set, pgprot_t mask_clr)
{
	struct cpa_data cpa = {
		.vaddr		= addr,
		.numpages	= numpages,
		.mask_set	= mask_set,
		.mask_clr	= mask_clr,
	};
	unsigned long start = *addr;
	int ret;

	if (*addr & ~PAGE_MASK) {
		*addr &= PAGE_MASK;
		WARN_ON_ONCE(1);
	}

	ret = __change_pte_range(cpa_addr(&cpa, 0), numpages, mask_set,
				 mask_clr);
	cpa_flush_range(start, numpages);
	return ret;
}

int set_memory_ro(unsigned long addr, int numpages)
{
	return change_page_attr_set_clr(&addr, numpages, __pgprot(0),
					__pgprot(_PAGE_RW));
}

int set_memory_nx(unsigned long addr, int numpages)
{
	return change_page_attr_set_clr(&addr, numpages, __pgprot(_PAGE_NX),
					__pgprot(0));
}

/* Make a region of kernel text read-only once it is written. */
void mark_text_ro_sample(unsigned long start, unsigned long end)
{
	unsigned long size;

	start = PAGE_ALIGN_DOWN(start);
	size = PAGE_ALIGN(end) - start;

	set_memory_ro(start, size >> PAGE_SHIFT);
	set_memory_nx(PAGE_ALIGN(end), 1);
}

/*
 * set_pages_array_ro - the array holds struct page pointers, the CPA
 * counts PTEs: one page of the array is one PTE only while they agree.
 */
int set_pages_array_ro(struct page **pages, int numpages)
{
	unsigned long start;
	int i;

	for (i = 0; i < numpages; i++) {
		start = (unsigned long)page_address(pages[i]);
		set_memory_ro(start, 1);
	}
	return 0;
}
