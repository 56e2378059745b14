// SPDX-License-Identifier: GPL-2.0
#include <linux/fxlog.h>

#define FX_SHARE(l, p) ((l)->shared = (p))

void fx_log_reset(struct fx_log *log)
{
	free_page((unsigned long)log->buf);
	log->buf = NULL;
	log->other += 16;
}
