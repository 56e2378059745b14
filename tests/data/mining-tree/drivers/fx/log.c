// SPDX-License-Identifier: GPL-2.0
#include <linux/fxlog.h>

int fx_log_init(struct fx_log *log, struct fx_peer *peer)
{
	log->buf = (char *)__get_free_page(GFP_KERNEL);
	log->other = (char *)get_zeroed_page(GFP_KERNEL);
	log->shared = (char *)__get_free_page(GFP_KERNEL);
	peer->buf = kmalloc(64, GFP_KERNEL);
	return log->buf ? 0 : -ENOMEM;
}
