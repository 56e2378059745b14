// SPDX-License-Identifier: GPL-2.0
/* Written for pgrewrite's report tests; not kernel code. */
static void zap_pte_range(pte_t *pte, unsigned long addr, unsigned long end)
{
	do {
		pte_clear(NULL, addr, pte);
	} while (pte++, addr += PAGE_SIZE, addr != end);
}

static void fill_pages(struct page **pages, unsigned long addr, int nr)
{
	int i;

	for (i = 0; i < nr; i++, addr += PAGE_SIZE)
		set_pte_at(NULL, addr, NULL, mk_pte(pages[i], PAGE_KERNEL));
}

#if PAGE_SHIFT > 12
#define BIG_PAGES 1
#endif

static unsigned long odd(unsigned long x)
{
	return x & ~PAGE_MASK;
}
