/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_MM_H
#define _LINUX_MM_H

#include <linux/errno.h>
#include <linux/mmdebug.h>
#include <linux/gfp.h>
#include <linux/pgtable.h>
#include <asm/page_types.h>
#include <asm-generic/getorder.h>

struct mempolicy;
struct anon_vma;
struct file_ra_state;
struct writeback_control;

extern unsigned long max_mapnr;
extern unsigned long totalram_pages_count;

/* to align the pointer to the (next) page boundary */
#define PAGE_ALIGN(addr) ALIGN(addr, PAGE_SIZE)

/* to align the pointer to the (prev) page boundary */
#define PAGE_ALIGN_DOWN(addr) ALIGN_DOWN(addr, PAGE_SIZE)

/* test whether an address (unsigned long or pointer) is aligned to PAGE_SIZE */
#define PAGE_ALIGNED(addr)	IS_ALIGNED((unsigned long)(addr), PAGE_SIZE)

#define offset_in_page(p)	((unsigned long)(p) & ~PAGE_MASK)
#define offset_in_folio(folio, p) ((unsigned long)(p) & (folio_size(folio) - 1))

/* Number of pages needed to hold @size bytes, rounded up. */
#define nr_pages_for(size)	(((size) + PAGE_SIZE - 1) >> PAGE_SHIFT)

/*
 * The granule constants are also reachable by name: PAGE_GRANULE_BYTES pastes
 * its way to PAGE_SIZE_BYTES, which the debug printers use.
 */
#define PAGE_SIZE_BYTES		PAGE_SIZE
#define PAGE_GRANULE_BYTES	PAGE_SIZE##_BYTES
#define __granule_bytes(g)	g##_BYTES
#define page_granule_bytes()	__granule_bytes(PAGE_SIZE)

#if PAGE_SHIFT > 12
/*
 * Larger base pages: keep the zero page and the per-cpu page-table cache
 * sized in 4K units, as the hardware walks them.
 */
#define ZERO_PAGE_ORDER		(PAGE_SHIFT - 12)
#define PTE_CACHE_ENTRIES	(PAGE_SIZE / 4096)
#else
#define ZERO_PAGE_ORDER		0
#define PTE_CACHE_ENTRIES	1
#endif

extern unsigned long empty_zero_page[PAGE_SIZE / sizeof(unsigned long)];

struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	struct mm_struct *vm_mm;
	pgprot_t vm_page_prot;
	unsigned long vm_flags;
	unsigned long vm_pgoff;
	struct file *vm_file;
	void *vm_private_data;
};

static inline unsigned long vma_pages(const struct vm_area_struct *vma)
{
	return (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
}

static inline unsigned long linear_page_index(const struct vm_area_struct *vma,
					      unsigned long address)
{
	pgoff_t pgoff;

	pgoff = (address - vma->vm_start) >> PAGE_SHIFT;
	pgoff += vma->vm_pgoff;
	return pgoff;
}

/* Size of the folio in bytes; an order-0 folio is PAGE_SIZE. */
static inline size_t folio_size(const struct folio *folio)
{
	return PAGE_SIZE << folio_order(folio);
}

static inline loff_t folio_pos(const struct folio *folio)
{
	return (loff_t)folio->index << PAGE_SHIFT;
}

static inline unsigned long page_size(const struct page *page)
{
	return PAGE_SIZE << compound_order(page);
}

static inline bool range_in_one_page(const void *p, size_t len)
{
	return offset_in_page(p) + len <= PAGE_SIZE;
}

static inline void clear_page_tail(struct page *page, unsigned int from)
{
	void *kaddr = kmap_local_page(page);

	memset(kaddr + from, 0, PAGE_SIZE - from);
	kunmap_local(kaddr);
}

/* Report a count of pages in KiB for /proc/meminfo style output. */
static inline unsigned long pages_to_kb(unsigned long pages)
{
	return pages << (PAGE_SHIFT - 10);
}

struct page_frag_cache {
	void *va;
	unsigned int offset;
	unsigned int size;
};

extern void *page_frag_alloc(struct page_frag_cache *nc, unsigned int fragsz,
			     gfp_t gfp_mask);

#endif /* _LINUX_MM_H */
