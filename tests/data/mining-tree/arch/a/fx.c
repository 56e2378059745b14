// SPDX-License-Identifier: GPL-2.0
unsigned long fx_arch_count(struct folio *folio)
{
	return folio_nr_pages(folio);
}
