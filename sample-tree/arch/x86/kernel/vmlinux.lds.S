/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Linker script for the pgrewrite sample kernel image.
 * Sections are aligned to PAGE_SIZE so they can be mapped with
 * different permissions.
 */

#define LOAD_OFFSET __START_KERNEL_map

#include <asm-generic/vmlinux.lds.h>
#include <asm/page_types.h>

#undef i386

OUTPUT_FORMAT(CONFIG_OUTPUT_FORMAT)
OUTPUT_ARCH(i386:x86-64)
ENTRY(phys_startup_64)

jiffies = jiffies_64;

PHDRS {
	text PT_LOAD FLAGS(5);
	data PT_LOAD FLAGS(6);
	note PT_NOTE FLAGS(0);
}

SECTIONS
{
	. = __START_KERNEL;
	phys_startup_64 = ABSOLUTE(startup_64 - LOAD_OFFSET);

	.text : AT(ADDR(.text) - LOAD_OFFSET) {
		_text = .;
		_stext = .;
		HEAD_TEXT
		TEXT_TEXT
		. = ALIGN(PAGE_SIZE);
		_etext = .;
	} :text = 0xcccccccc

	. = ALIGN(PAGE_SIZE);
	RO_DATA(PAGE_SIZE)

	.data : AT(ADDR(.data) - LOAD_OFFSET) {
		INIT_TASK_DATA(THREAD_SIZE)
		DATA_DATA
		CONSTRUCTORS
		. = ALIGN(PAGE_SIZE);
		__bss_start = .;
	} :data

	.brk : AT(ADDR(.brk) - LOAD_OFFSET) {
		__brk_base = .;
		. += 64 * 1024;		/* 64k alignment slop space */
		*(.bss..brk)		/* areas brk users have reserved */
		__brk_limit = .;
	}

	. = ALIGN(PAGE_SIZE);
	_end = .;
}

. = ASSERT((_end - LOAD_OFFSET <= KERNEL_IMAGE_SIZE),
	   "kernel image bigger than KERNEL_IMAGE_SIZE");
. = ASSERT(((_etext - _text) & ~PAGE_MASK) == 0, "text not page aligned");
