/* SPDX-License-Identifier: GPL-2.0 */
/*
 *  Early 64-bit entry for the pgrewrite sample kernel.
 *  The early page tables below are one PAGE_SIZE page each.
 */

#include <linux/linkage.h>
#include <asm/page_types.h>
#include <asm/pgtable_types.h>
#include <asm/asm-offsets.h>

	.text
	__HEAD
	.code64
SYM_CODE_START_NOALIGN(startup_64)
	/* Set up the stack for verify_cpu() */
	leaq	(__end_init_task - PTREGS_SIZE)(%rip), %rsp

	/* Clear the early page directory: PAGE_SIZE bytes, 8 at a time */
	leaq	early_top_pgt(%rip), %rdi
	xorl	%eax, %eax
	movl	$(PAGE_SIZE / 8), %ecx
	rep stosq

	/* Round the physical load address down to a page boundary */
	leaq	_text(%rip), %rbp
	andq	$PAGE_MASK, %rbp
	shrq	$PAGE_SHIFT, %rbp

	jmp	.Lon_kernel_cs
SYM_CODE_END(startup_64)

SYM_CODE_START_LOCAL(.Lon_kernel_cs)
	movq	$(early_stack + PAGE_SIZE), %rsp
	call	x86_64_start_kernel
	ud2
SYM_CODE_END(.Lon_kernel_cs)

#define SYM_DATA_START_PAGE_ALIGNED(name)			\
	SYM_START(name, SYM_L_GLOBAL, .balign PAGE_SIZE)

	__PAGE_ALIGNED_BSS
SYM_DATA_START_PAGE_ALIGNED(early_top_pgt)
	.fill	512,8,0
SYM_DATA_END(early_top_pgt)

SYM_DATA_START_PAGE_ALIGNED(early_stack)
	.skip	PAGE_SIZE
SYM_DATA_END(early_stack)
