/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_X86_PGTABLE_H
#define _ASM_X86_PGTABLE_H

#include <asm/page_types.h>
#include <asm/pgtable_types.h>

/*
 * Number of index bits of one page table.  Note that this is *not* the
 * shift of the memory one entry maps: that one is PAGE_SHIFT.
 */
#define PTE_SHIFT ilog2(PTRS_PER_PTE)

static inline int page_level_shift(enum pg_level level)
{
	return (PAGE_SHIFT - PTE_SHIFT) + level * PTE_SHIFT;
}

static inline unsigned long page_level_size(enum pg_level level)
{
	return 1UL << page_level_shift(level);
}

static inline unsigned long page_level_mask(enum pg_level level)
{
	return ~(page_level_size(level) - 1);
}

/* Each page table is itself one page of memory. */
static inline void pte_table_clear(pte_t *table)
{
	memset(table, 0, PTRS_PER_PTE * sizeof(pte_t));
}

static inline unsigned long pte_index(unsigned long address)
{
	return (address >> PAGE_SHIFT) & (PTRS_PER_PTE - 1);
}

#endif /* _ASM_X86_PGTABLE_H */
