// SPDX-License-Identifier: GPL-2.0
/* Written for pgrewrite's report tests; not kernel code. */
static void cpa_flush(unsigned long addr, int numpages)
{
	flush_tlb_kernel_range(addr, addr + numpages * PAGE_SIZE);
}

static int descriptor_len(void)
{
	return PAGE_SIZE; /* hardware ring: <4K> & "quotes" */
}
