#include <linux/mm.h>
void *pfn_to_va(unsigned long pfn)
{
	return __va(pfn << PAGE_SHIFT);
}
int pfn_line(void) { return mm_h_line(); }

void zero_page(struct page *page)
{
	void *kaddr = kmap_local_page(page);

	__builtin_memset(kaddr, 0, PAGE_SIZE);
	kunmap_local(kaddr);
}
