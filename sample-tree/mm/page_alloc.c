// SPDX-License-Identifier: GPL-2.0-only
/*
 *  Buddy allocator entry points for the pgrewrite sample tree.
 *
 *  An order-n block is PAGE_SIZE << n bytes.  Nothing in this file knows
 *  about page tables.
 */

#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/memblock.h>
#include <linux/string.h>

static unsigned long nr_free_pages_counter;

static inline void clear_highpage_range(struct page *page, unsigned int order)
{
	unsigned int i;

	for (i = 0; i < (1U << order); i++) {
		void *kaddr = kmap_local_page(page + i);

		memset(kaddr, 0, PAGE_SIZE);
		kunmap_local(kaddr);
	}
}

struct page *alloc_pages_sample(gfp_t gfp, unsigned int order)
{
	struct page *page;

	page = alloc_pages(gfp, order);
	if (!page)
		return NULL;

	if (gfp & __GFP_ZERO)
		clear_highpage_range(page, order);

	nr_free_pages_counter -= 1UL << order;
	return page;
}

unsigned long __get_free_pages_sample(gfp_t gfp_mask, unsigned int order)
{
	struct page *page;

	page = alloc_pages(gfp_mask & ~__GFP_HIGHMEM, order);
	if (!page)
		return 0;
	return (unsigned long)page_address(page);
}

unsigned long get_zeroed_page_sample(gfp_t gfp_mask)
{
	struct page *page = alloc_pages(gfp_mask, 0);

	if (!page)
		return 0;
	memset(page_address(page), 0, PAGE_SIZE);
	return (unsigned long)page_address(page);
}

void *alloc_pages_exact_sample(size_t size, gfp_t gfp_mask)
{
	unsigned int order = get_order(size);
	unsigned long addr;

	addr = __get_free_pages_sample(gfp_mask, order);
	if (addr) {
		unsigned long alloc_end = addr + (PAGE_SIZE << order);
		unsigned long used = addr + PAGE_ALIGN(size);

		while (used < alloc_end) {
			free_page(used);
			used += PAGE_SIZE;
		}
	}
	return (void *)addr;
}

/*
 * Early boot: carve "one page" out of memblock for the per-cpu free lists.
 */
void setup_pcp_area(int nid)
{
	void *area = memblock_alloc_node(PAGE_SIZE, PAGE_SIZE, nid);

	if (!area)
		panic("%s: failed to allocate %lu bytes\n", __func__, PAGE_SIZE);
}

void show_free_areas_sample(void)
{
	printk("Free pages: %lukB\n",
	       nr_free_pages_counter << (PAGE_SHIFT - 10));
}

/* Thread stacks are order-based objects. */
#define THREAD_SIZE_ORDER	2
#define THREAD_SIZE		(PAGE_SIZE << THREAD_SIZE_ORDER)

void *alloc_thread_stack_sample(int node)
{
	struct page *page = alloc_pages_node(node, GFP_KERNEL, THREAD_SIZE_ORDER);

	return page ? page_address(page) : NULL;
}
