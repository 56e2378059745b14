// SPDX-License-Identifier: GPL-2.0-only
/*
 *  Page-table walking and fault helpers for the pgrewrite sample tree.
 *
 *  The walkers below advance a user virtual address by PAGE_SIZE for
 *  every page-table entry they visit.
 */

#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/highmem.h>
#include <linux/pgtable.h>
#include <linux/rmap.h>
#include <asm/tlbflush.h>

static unsigned long zap_pte_range(struct mmu_gather *tlb,
				   struct vm_area_struct *vma, pmd_t *pmd,
				   unsigned long addr, unsigned long end)
{
	struct mm_struct *mm = tlb->mm;
	spinlock_t *ptl;
	pte_t *start_pte;
	pte_t *pte;

	tlb_change_page_size(tlb, PAGE_SIZE);
	start_pte = pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		return addr;

	for (; addr != end; pte++, addr += PAGE_SIZE) {
		pte_t ptent = ptep_get(pte);

		if (pte_none(ptent))
			continue;
		ptent = ptep_get_and_clear(mm, addr, pte);
		tlb_remove_tlb_entry(tlb, pte, addr);
	}

	pte_unmap_unlock(start_pte, ptl);
	return addr;
}

static int remap_pte_range(struct mm_struct *mm, pmd_t *pmd,
			   unsigned long addr, unsigned long end,
			   unsigned long pfn, pgprot_t prot)
{
	pte_t *pte, *mapped_pte;
	spinlock_t *ptl;
	int err = 0;

	mapped_pte = pte = pte_alloc_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		return -ENOMEM;
	do {
		if (!pte_none(ptep_get(pte))) {
			err = -EACCES;
			break;
		}
		set_pte_at(mm, addr, pte, pte_mkspecial(pfn_pte(pfn, prot)));
		pfn++;
	} while (pte++, addr += PAGE_SIZE, addr != end);
	pte_unmap_unlock(mapped_pte, ptl);
	return err;
}

int remap_pfn_range(struct vm_area_struct *vma, unsigned long addr,
		    unsigned long pfn, unsigned long size, pgprot_t prot)
{
	unsigned long end = addr + PAGE_ALIGN(size);

	if (WARN_ON_ONCE(!PAGE_ALIGNED(addr)))
		return -EINVAL;

	vma->vm_pgoff = pfn;
	return remap_pte_range(vma->vm_mm, NULL, addr, end, pfn, prot);
}

/*
 * Map a batch of consecutive pages of one folio.  The PTE index and the
 * index into the folio advance together: a logic site once a folio page
 * covers more than one PTE.
 */
static void set_folio_ptes(struct vm_area_struct *vma, struct folio *folio,
			   unsigned long addr, pte_t *pte, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++, addr += PAGE_SIZE) {
		struct page *page = folio_page(folio, i);

		set_pte_at(vma->vm_mm, addr, pte + i,
			   mk_pte(page, vma->vm_page_prot));
	}
}

vm_fault_t do_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long addr = vmf->address & PAGE_MASK;
	struct folio *folio;

	folio = vma_alloc_zeroed_movable_folio(vma, addr);
	if (!folio)
		return VM_FAULT_OOM;

	vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, addr, &vmf->ptl);
	set_folio_ptes(vma, folio, addr, vmf->pte, 1);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	flush_tlb_page(vma, addr);
	return 0;
}

/*
 * Copy one user page: the destination user address is PTE-granular, the
 * kernel mapping of the source page is a whole allocated page.
 */
static int copy_user_page_at(struct page *dst, struct page *src,
			     unsigned long vaddr)
{
	void *kdst = kmap_local_page(dst);
	void *ksrc = kmap_local_page(src);

	memcpy(kdst + offset_in_page(vaddr), ksrc + offset_in_page(vaddr),
	       PAGE_SIZE - offset_in_page(vaddr));
	kunmap_local(ksrc);
	kunmap_local(kdst);
	return 0;
}

void print_bad_pte(struct vm_area_struct *vma, unsigned long addr, pte_t pte)
{
	pgoff_t index = linear_page_index(vma, addr);

	pr_alert("BUG: Bad page map at %lx (PAGE_SIZE %lu) index:%lx\n",
		 addr, PAGE_SIZE, index);
	dump_stack();
}
