/* SPDX-License-Identifier: GPL-2.0 */
#define fx_macro_named(f) fx_other(f)

/* a header's inline function: every includer calls it */
static inline void *fx_buf_of(struct page *page)
{
	return page_address(page);
}
