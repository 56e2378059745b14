// SPDX-License-Identifier: GPL-2.0-only
/*
 *  mmap(2), munmap(2) and brk(2) argument handling for the pgrewrite
 *  sample tree.  User space sees 4 KiB pages: these checks stay in PTE
 *  units whatever the allocation granularity is.
 */

#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/syscalls.h>
#include <linux/random.h>

#define MMAP_MIN_GAP		(128UL * 1024 * 1024UL)
#define STACK_GUARD_GAP		(256UL << PAGE_SHIFT)

unsigned long mmap_min_addr = 65536;

unsigned long do_mmap_sample(struct file *file, unsigned long addr,
			     unsigned long len, unsigned long prot,
			     unsigned long flags, unsigned long pgoff)
{
	if (!len)
		return -EINVAL;

	/* Careful about overflows.. */
	len = PAGE_ALIGN(len);
	if (!len)
		return -ENOMEM;

	/* offset overflow? */
	if ((pgoff + (len >> PAGE_SHIFT)) < pgoff)
		return -EOVERFLOW;

	if (flags & MAP_FIXED) {
		if (addr & ~PAGE_MASK)
			return -EINVAL;
	}
	return get_unmapped_area(file, addr, len, pgoff, flags);
}

unsigned long ksys_mmap_sample(unsigned long addr, unsigned long len,
			       unsigned long prot, unsigned long flags,
			       unsigned long fd, unsigned long off)
{
	if (offset_in_page(off) != 0)
		return -EINVAL;

	return do_mmap_sample(NULL, addr, len, prot, flags, off >> PAGE_SHIFT);
}

unsigned long ksys_brk_sample(unsigned long brk)
{
	struct mm_struct *mm = current->mm;
	unsigned long newbrk, oldbrk;

	newbrk = PAGE_ALIGN(brk);
	oldbrk = PAGE_ALIGN(mm->brk);
	if (oldbrk == newbrk)
		return brk;
	mm->brk = brk;
	return newbrk;
}

/* The file offset of a user address inside a mapping, in bytes. */
static inline loff_t vma_address_to_offset(struct vm_area_struct *vma,
					   unsigned long addr)
{
	return ((loff_t)vma->vm_pgoff << PAGE_SHIFT) + (addr - vma->vm_start);
}

/*
 * Randomise the mmap base.  The gap and the random offset are alignment
 * policy, not a size of anything: a human decides their unit.
 */
unsigned long mmap_base_sample(unsigned long rnd, unsigned long task_size)
{
	unsigned long gap = MMAP_MIN_GAP;
	unsigned long pad = STACK_GUARD_GAP;

	if (gap + pad > gap)
		gap += pad;
	return PAGE_ALIGN(task_size - gap - (rnd << PAGE_SHIFT));
}

/* Every VMA's size in pages, as accounted in mm->total_vm. */
void vm_stat_account_sample(struct mm_struct *mm, struct vm_area_struct *vma)
{
	mm->total_vm += vma_pages(vma);
	if (vma->vm_flags & VM_LOCKED)
		mm->locked_vm += (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
}
