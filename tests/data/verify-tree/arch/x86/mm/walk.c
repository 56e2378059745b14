#include <linux/mm.h>
#include <asm/pgtable.h>
unsigned long pt_index(unsigned long a) { return (a >> PTE_SHIFT) & 511; }
int walk_line(void) { return mm_h_line() + page_level_shift(1); }
void *pfn_va(unsigned long pfn)
{
	return __va(pfn << PAGE_SHIFT);
}
