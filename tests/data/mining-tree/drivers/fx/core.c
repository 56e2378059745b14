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

/* arguments: the parameter only meets another value (compared with PG bytes): nothing */
void *fx_area_alloc(unsigned long size)
{
	if (size >= (PAGE_SIZE << PAGE_ALLOC_COSTLY_ORDER))
		return vmalloc(size);
	return kmalloc(size, GFP_KERNEL);
}

/* arguments: the parameter is capped by min_t() and stepped down: nothing */
void fx_fill_frags(struct sk_buff *skb, struct page *page, unsigned long data_len)
{
	unsigned long chunk;

	while (data_len) {
		chunk = min_t(unsigned long, data_len, PAGE_SIZE);
		skb_fill_page_desc(skb, 0, page, 0, chunk);
		data_len -= chunk;
	}
}

/* arguments: stepped (+=) in the body, though what it is handed to says pte-count: nothing */
int fx_map_stepped(struct vm_area_struct *vma, unsigned long pfn)
{
	int err = remap_pfn_range(vma, 0, pfn, 4096, vma->vm_page_prot);

	pfn += 1;
	return err;
}

/* arguments: capped by min() on the way to what says pg-bytes: nothing */
void fx_fill_capped(struct sk_buff *skb, struct page *page, unsigned long len)
{
	unsigned long chunk = min(len, fx_limit);

	skb_fill_page_desc(skb, 0, page, 0, chunk);
}

/* arguments: 2 bounds a loop that fills pages[] with one alloc_page() per
 * element, so it counts allocated pages: pg-count */
int fx_pool_alloc(struct fx_pool *pool, int page_count)
{
	int i;

	for (i = 0; i < page_count; i++)
		pool->pages[i] = alloc_page(GFP_KERNEL);
	return 0;
}

/* arguments: 2 is only compared with a counter, outside a loop's bound: nothing */
int fx_pool_check(struct fx_pool *pool, int page_count)
{
	int i = fx_filled(pool);

	if (i < page_count)
		pool->pages[i] = alloc_page(GFP_KERNEL);
	return 0;
}
