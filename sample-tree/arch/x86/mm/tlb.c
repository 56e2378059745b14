// SPDX-License-Identifier: GPL-2.0-only
/*
 * TLB shootdown for the pgrewrite sample tree.
 */

#include <linux/mm.h>
#include <linux/smp.h>
#include <asm/tlbflush.h>

/*
 * Above this many entries a full flush is cheaper than one invlpg per
 * PAGE_SIZE stride.
 */
unsigned long tlb_single_page_flush_ceiling __read_mostly = 33;

struct flush_tlb_info {
	struct mm_struct	*mm;
	unsigned long		start;
	unsigned long		end;
	u64			new_tlb_gen;
	unsigned int		initiating_cpu;
	u8			stride_shift;
	u8			freed_tables;
};

/* Flush strides are named after the level: STRIDE_SHIFT(PMD) is PMD_SHIFT. */
#define STRIDE_SHIFT(level)	level##_SHIFT

static void flush_tlb_func(void *info)
{
	const struct flush_tlb_info *f = info;
	unsigned long addr = f->start;

	while (addr < f->end) {
		flush_tlb_one_user(addr);
		addr += 1UL << f->stride_shift;
	}
}

void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, unsigned int stride_shift,
			bool freed_tables)
{
	struct flush_tlb_info info = {
		.mm		= mm,
		.start		= start,
		.end		= end,
		.stride_shift	= stride_shift,
		.freed_tables	= freed_tables,
	};

	if ((end - start) >> stride_shift > tlb_single_page_flush_ceiling)
		info.start = 0, info.end = TLB_FLUSH_ALL;
	on_each_cpu_mask(mm_cpumask(mm), flush_tlb_func, &info, true);
}

void flush_tlb_page(struct vm_area_struct *vma, unsigned long a)
{
	flush_tlb_mm_range(vma->vm_mm, a, a + PAGE_SIZE, PAGE_SHIFT, false);
}

void flush_tlb_range(struct vm_area_struct *vma, unsigned long start,
		     unsigned long end)
{
	flush_tlb_mm_range(vma->vm_mm, start & PAGE_MASK, PAGE_ALIGN(end),
			   STRIDE_SHIFT(PAGE), false);
}

void flush_tlb_kernel_range(unsigned long start, unsigned long end)
{
	unsigned long addr;

	if ((end - start) > tlb_single_page_flush_ceiling * PAGE_SIZE) {
		flush_tlb_all();
		return;
	}
	for (addr = round_down(start, PAGE_SIZE); addr < end; addr += PAGE_SIZE)
		asm volatile("invlpg (%0)" ::"r" (addr) : "memory");
}

/* Touch one byte in each page of a range so the walker fills the TLB. */
static inline void prefault_range(unsigned long start, unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++)
		asm volatile("prefetcht0 (%0, %1)"
			     :: "r" (start), "r" (i * PAGE_SIZE), "i" (PAGE_SIZE));
}
