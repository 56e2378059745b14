/* SPDX-License-Identifier: GPL-2.0 */
/* Fixture: structs of a header, written in several files (mined fields). */
struct fx_log {
	char *buf;		/* one page from __get_free_page(), or NULL: mined */
	char *other;		/* a page, but stepped elsewhere: refused */
	char *shared;		/* a page, but a macro stores into it: refused */
};

struct fx_peer {
	char *buf;		/* kmalloc(64): no page; says nothing of fx_log's buf */
};
