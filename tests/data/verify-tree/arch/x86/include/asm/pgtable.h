#ifndef _ASM_X86_PGTABLE_H
#define _ASM_X86_PGTABLE_H

/* PTE_SHIFT: index bits of one page-table level */
#define PTE_SHIFT 9

static inline int page_level_shift(int level)
{
	return (PAGE_SHIFT - PTE_SHIFT) + level * PTE_SHIFT;
}
#endif
