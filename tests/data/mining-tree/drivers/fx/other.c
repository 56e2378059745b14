// SPDX-License-Identifier: GPL-2.0
static unsigned long fx_twice(struct folio *folio)
{
	return folio_nr_pages(folio) + 1;
}
