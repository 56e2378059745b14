// SPDX-License-Identifier: GPL-2.0
/* Written for pgrewrite's report tests; not kernel code. */
static void *shadow_page(void)
{
	return (void *)__get_free_pages(GFP_KERNEL, get_order(PAGE_SIZE));
}

static int weird(int n)
{
	return n < PAGE_SIZE ? n : PAGE_ALIGN(n);
}
