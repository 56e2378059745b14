// SPDX-License-Identifier: GPL-2.0
/* Mining fixture: functions other files call. */
#include <linux/fx.h>

/* returns: every return agrees (pg-count) */
unsigned long fx_nr_pages(struct folio *folio)
{
	if (!folio)
		return folio_nr_pages(folio);
	return folio_nr_pages(folio);
}

/* returns: one return has no unit (a stub value): nothing */
unsigned long fx_maybe_pages(struct folio *folio)
{
	if (!folio)
		return 0;
	return folio_nr_pages(folio);
}

/* arguments: pfn goes to remap_pfn_range() (pte-count), len bounds it (pte-bytes) */
int fx_map_pfn(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn, unsigned long len)
{
	return remap_pfn_range(vma, addr, pfn, len, vma->vm_page_prot);
}

/* arguments: the parameter is assigned in the body: nothing */
int fx_map_moved(struct vm_area_struct *vma, unsigned long pfn)
{
	pfn = vma->vm_pgoff;
	return remap_pfn_range(vma, 0, pfn, 4096, vma->vm_page_prot);
}

/* weak: another definition may replace it: nothing */
unsigned long __weak fx_weak_pages(struct folio *folio)
{
	return folio_nr_pages(folio);
}

/* file-local: in-file summaries cover it, other files cannot call it: nothing */
static unsigned long fx_local_pages(struct folio *folio)
{
	return folio_nr_pages(folio);
}

/* defined again in arch/a and arch/b, which disagree: nothing */
unsigned long fx_arch_count(struct folio *folio)
{
	return folio_nr_pages(folio);
}

/* a macro of that name in a header: a call may be the macro's: nothing */
unsigned long fx_macro_named(struct folio *folio)
{
	return folio_nr_pages(folio);
}

/* units.yaml lists it: it wins, nothing is mined */
unsigned long folio_index(struct folio *folio)
{
	return folio_nr_pages(folio);
}

/* a static function of the same name elsewhere agrees: mined, 2 definitions */
unsigned long fx_twice(struct folio *folio)
{
	return folio_nr_pages(folio);
}

/* a strong rule decision is a fact, as in the scan: returns bytes of a PG page */
unsigned long fx_order_bytes(unsigned int order)
{
	return PAGE_SIZE << order;
}
