// SPDX-License-Identifier: GPL-2.0-only
/*
 * Re-map IO memory to kernel address space, for the pgrewrite sample tree.
 */

#include <linux/io.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <asm/fixmap.h>
#include <asm/pgtable.h>

/* The early fixmap page table: exactly one table of PTEs. */
struct early_pte_table {
	pte_t pte[PAGE_SIZE / sizeof(pte_t)];
} __aligned(PAGE_SIZE);

static struct early_pte_table bm_pte;

static int ioremap_change_attr(unsigned long vaddr, unsigned long size,
			       enum page_cache_mode pcm)
{
	unsigned long nrpages = size >> PAGE_SHIFT;

	return _set_memory_wb(vaddr, nrpages);
}

static void *__ioremap_caller(resource_size_t phys_addr,
				      unsigned long size,
				      enum page_cache_mode pcm, void *caller)
{
	unsigned long offset, vaddr;
	resource_size_t last_addr;
	const resource_size_t unaligned_phys_addr = phys_addr;
	const unsigned long unaligned_size = size;
	struct vm_struct *area;
	unsigned long pfn, last_pfn;

	last_addr = phys_addr + size - 1;
	if (!size || last_addr < phys_addr)
		return NULL;

	pfn = phys_addr >> PAGE_SHIFT;
	last_pfn = last_addr >> PAGE_SHIFT;
	if (pfn_range_is_mapped(pfn, last_pfn + 1))
		return NULL;

	/* Mappings have to be page-aligned */
	offset = phys_addr & ~PAGE_MASK;
	phys_addr &= PAGE_MASK;
	size = PAGE_ALIGN(last_addr + 1) - phys_addr;

	area = get_vm_area_caller(size, VM_IOREMAP, caller);
	if (!area)
		return NULL;
	area->phys_addr = phys_addr;
	vaddr = (unsigned long)area->addr;

	if (ioremap_change_attr(vaddr, size, pcm) < 0)
		goto err_free_area;
	if (ioremap_page_range(vaddr, vaddr + size, phys_addr, __pgprot(pcm)))
		goto err_free_area;

	return (void *)(vaddr + offset);

err_free_area:
	free_vm_area(area);
	pr_warn("ioremap failed for %pa (+%lu)\n", &unaligned_phys_addr,
		unaligned_size);
	return NULL;
}

void iounmap(volatile void *addr)
{
	void *vaddr = (void *)((unsigned long)addr & PAGE_MASK);

	free_vm_area(find_vm_area(vaddr));
}

/* Is the kernel virtual address backed by RAM we already map? */
bool phys_mem_access_prot_allowed(const void *x)
{
	unsigned long pfn = __pa(x) >> PAGE_SHIFT;

	return pfn < max_pfn_mapped;
}

void early_ioremap_pmd_populate(pmd_t *pmd)
{
	phys_addr_t table = __pa_symbol(&bm_pte);
	phys_addr_t end = table + PTRS_PER_PTE * sizeof(pte_t);

	memset(&bm_pte, 0, sizeof(bm_pte));
	set_pmd(pmd, __pmd(table | _PAGE_TABLE));
	WARN_ON(end - table != PAGE_SIZE);
}

void *xlate_dev_mem_ptr(phys_addr_t phys)
{
	unsigned long start  = phys &  PAGE_MASK;
	unsigned long offset = phys & ~PAGE_MASK;
	void *vaddr;

	vaddr = memremap(start, PAGE_SIZE, MEMREMAP_WB);
	if (vaddr)
		vaddr += offset;
	return vaddr;
}
