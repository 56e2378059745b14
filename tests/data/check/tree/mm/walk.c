// SPDX-License-Identifier: GPL-2.0
/* A miniature page-table walker, written for pgrewrite's check tests. */
#include <linux/mm.h>

static void clear_range(struct mm_struct *mm, pte_t *pte, unsigned long addr,
			unsigned long end)
{
	for (; addr != end; pte++, addr += PAGE_SIZE)
		pte_clear(mm, addr, pte);
}

static int count_present(pte_t *pte, int nr)
{
	int i, n = 0;

	for (i = 0; i < nr; i++)
		n += pte_present(ptep_get(pte + i));
	return n;
}
