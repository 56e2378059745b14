#ifndef _LINUX_MM_H
#define _LINUX_MM_H
#include <asm/page.h>
#define ALIGN(x, a)		(((x) + ((a) - 1)) & ~((a) - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((a) - 1))
#define IS_ALIGNED(x, a)	(((x) & ((a) - 1)) == 0)
struct page;
static inline void *kmap_local_page(struct page *page) { return (void *)page; }
static inline void kunmap_local(void *addr) { }
#define PAGE_ALIGN(addr)	ALIGN(addr, PAGE_SIZE)
/* test whether an address (unsigned long or pointer) is aligned to PAGE_SIZE */
#define PAGE_ALIGNED(addr)	IS_ALIGNED((unsigned long)(addr), PAGE_SIZE)

/* a line number in the generated code, as WARN_ON() puts in __bug_table */
static inline int mm_h_line(void) { return __LINE__; }

#define offset_in_page(p)	((unsigned long)(p) & ~PAGE_MASK)
#endif
