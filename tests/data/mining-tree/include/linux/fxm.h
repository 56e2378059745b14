/* SPDX-License-Identifier: GPL-2.0 */
/* members.py: fxm_stream's buf is a struct xdr_buf (a struct units.yaml's
 * fields name), so `s->buf->page_len` finds page_len's unit; len is no struct. */
#ifndef _FXM_H
#define _FXM_H

struct xdr_buf;

struct fxm_stream {
	struct xdr_buf *buf;
	unsigned int len;
};

#endif
