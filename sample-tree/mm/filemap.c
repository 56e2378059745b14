// SPDX-License-Identifier: GPL-2.0-only
/*
 *  Page-cache lookups and buffered reads for the pgrewrite sample tree.
 *
 *  Read-ahead heuristics after an idea by Jürgen Kessler: a page-cache
 *  index counts PAGE_SIZE units of the file, whatever the folio size.
 */

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/uio.h>
#include <linux/highmem.h>

static inline pgoff_t pos_to_index(loff_t pos)
{
	return pos >> PAGE_SHIFT;
}

static size_t copy_folio_chunk(struct folio *folio, loff_t pos, size_t count,
			       struct iov_iter *iter)
{
	size_t offset = offset_in_folio(folio, pos);
	size_t bytes = min_t(size_t, folio_size(folio) - offset, count);

	return copy_folio_to_iter(folio, offset, bytes, iter);
}

ssize_t filemap_read_sample(struct kiocb *iocb, struct iov_iter *iter)
{
	struct address_space *mapping = iocb->ki_filp->f_mapping;
	struct inode *inode = mapping->host;
	loff_t isize = i_size_read(inode);
	pgoff_t index = iocb->ki_pos >> PAGE_SHIFT;
	pgoff_t last_index = (isize + PAGE_SIZE - 1) >> PAGE_SHIFT;
	ssize_t already_read = 0;

	while (index < last_index && iov_iter_count(iter)) {
		struct folio *folio = filemap_get_folio(mapping, index);
		size_t copied;

		if (IS_ERR(folio))
			break;
		copied = copy_folio_chunk(folio, iocb->ki_pos,
					  iov_iter_count(iter), iter);
		iocb->ki_pos += copied;
		already_read += copied;
		index = folio_next_index(folio);
		folio_put(folio);
	}
	return already_read;
}

/* Zero the part of the last page beyond EOF before it is mapped. */
void zero_tail_of_page(struct address_space *mapping, loff_t isize)
{
	pgoff_t index = isize >> PAGE_SHIFT;
	unsigned int offset = offset_in_page(isize);
	struct page *page;

	if (!offset)
		return;
	page = find_lock_page(mapping, index);
	if (!page)
		return;
	zero_user_segment(page, offset, PAGE_SIZE);
	unlock_page(page);
}

void readahead_window(struct file_ra_state *ra, loff_t start, size_t len)
{
	ra->start = start >> PAGE_SHIFT;
	ra->size = PAGE_ALIGN(len) >> PAGE_SHIFT;
	ra->async_size = ra->size / 4;
}

/*
 * Fault-around: the fault address is a user address, vmf->pgoff counts in
 * PTE units of the VMA, and folio->index counts page-cache pages.  Mixing
 * them is the logic site reviewers asked to see on its own.
 */
vm_fault_t filemap_map_pages_sample(struct vm_fault *vmf, pgoff_t start_pgoff,
				    pgoff_t end_pgoff)
{
	struct vm_area_struct *vma = vmf->vma;
	struct address_space *mapping = vma->vm_file->f_mapping;
	unsigned long addr;
	struct folio *folio;

	folio = filemap_get_folio(mapping, start_pgoff);
	if (IS_ERR(folio))
		return 0;

	addr = vma->vm_start + ((folio->index - vma->vm_pgoff) << PAGE_SHIFT);
	vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, addr, &vmf->ptl);
	do {
		struct page *page = folio_file_page(folio, vmf->pgoff);

		set_pte_at(vma->vm_mm, addr, vmf->pte,
			   mk_pte(page, vma->vm_page_prot));
		vmf->pte++;
		addr += PAGE_SIZE;
	} while (++vmf->pgoff <= end_pgoff);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	folio_put(folio);
	return 0;
}

int filemap_write_begin_sample(struct address_space *mapping, loff_t pos,
			       unsigned int len, struct folio **foliop)
{
	pgoff_t index = pos >> PAGE_SHIFT;
	unsigned int offset = pos & (PAGE_SIZE - 1);

	if (offset + len > PAGE_SIZE)
		return -EINVAL;
	*foliop = __filemap_get_folio(mapping, index, FGP_WRITEBEGIN,
				      mapping_gfp_mask(mapping));
	return PTR_ERR_OR_ZERO(*foliop);
}
