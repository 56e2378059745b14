/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sample tree: the header every <asm/page.h> includes after it has defined
 * PAGE_SHIFT and PAGE_SIZE. pgrewrite's series adds PTE_* and PG_* here.
 */
#ifndef __ASM_MEMORY_MODEL_H
#define __ASM_MEMORY_MODEL_H

#ifndef __ASSEMBLY__

#define __pfn_to_page(pfn)	(mem_map + ((pfn) - ARCH_PFN_OFFSET))
#define __page_to_pfn(page)	((unsigned long)((page) - mem_map) + ARCH_PFN_OFFSET)

#endif /* __ASSEMBLY__ */

#endif /* __ASM_MEMORY_MODEL_H */
