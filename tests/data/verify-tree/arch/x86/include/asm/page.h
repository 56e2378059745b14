#ifndef _ASM_X86_PAGE_H
#define _ASM_X86_PAGE_H
#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define __va(x)		((void *)((unsigned long)(x) + 0xffff888000000000UL))
#include <asm-generic/memory_model.h>
#endif
