// SPDX-License-Identifier: GPL-2.0
unsigned long fx_arch_count(struct folio *folio)
{
	return 1;
}
