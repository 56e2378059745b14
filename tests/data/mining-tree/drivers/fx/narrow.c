// SPDX-License-Identifier: GPL-2.0
/* Mining fixture: what the narrowing of gold round 7 refuses (each would
 * be mined without it). */
#include <linux/fx.h>

/* a per-page chunk under a cap, len stepped: the chunk is a page length, len is not */
static int fx_chunk_pages(struct bio *bio, void *data, unsigned int len)
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned int bytes = PAGE_SIZE;

		if (bytes > len)
			bytes = len;
		bio_add_page(bio, virt_to_page(data), bytes, 0);
		len -= bytes;
	}
	return 0;
}

/* one capped chunk, len never written */
static int fx_chunk_first(struct bio *bio, void *data, unsigned int len)
{
	unsigned int bytes = PAGE_SIZE;

	if (bytes > len)
		bytes = len;
	bio_add_page(bio, virt_to_page(data), bytes, 0);
	return 0;
}

/* one chunk through min() */
static int fx_chunk_min(struct bio *bio, void *data, unsigned int len)
{
	bio_add_page(bio, virt_to_page(data), min(len, PAGE_SIZE), 0);
	return 0;
}

/* nested: each len reaches the page length only through its callee's cap */
int fx_map_chunks(struct bio *bio, void *data, unsigned int len)
{
	return fx_chunk_pages(bio, data, len);
}

int fx_map_first(struct bio *bio, void *data, unsigned int len)
{
	return fx_chunk_first(bio, data, len);
}

int fx_map_min(struct bio *bio, void *data, unsigned int len)
{
	return fx_chunk_min(bio, data, len);
}

/* a PFN macro of a difference of two sizes: a count of frames, no PFN */
unsigned long fx_free_frames(void)
{
	return PHYS_PFN(fx_total_size() - fx_reserved_size());
}
