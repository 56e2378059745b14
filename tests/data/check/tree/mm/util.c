// SPDX-License-Identifier: GPL-2.0
/* Helpers, written for pgrewrite's check tests. */
#include <linux/mm.h>

static void zero_one(struct page *page)
{
	void *k = kmap_local_page(page);

	memset(k, 0, PAGE_SIZE);
	kunmap_local(k);
}

static int helper_a(int x)
{
	return x + 1;
}

static int helper_b(int x)
{
	return x * 2;
}
