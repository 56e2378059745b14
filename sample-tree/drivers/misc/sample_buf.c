// SPDX-License-Identifier: GPL-2.0
/*
 * Sample trace buffer character device, for the pgrewrite sample tree.
 *
 * This file is stored with CRLF line endings on purpose: rewriting it
 * must keep every "\r\n" exactly as it is.
 */

#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define SAMPLE_BUF_PAGES	4

struct sample_buf {
	unsigned long pages[SAMPLE_BUF_PAGES];
	size_t used;
};

static struct sample_buf *sample_buf_alloc(void)
{
	struct sample_buf *sb;
	int i;

	sb = kzalloc(sizeof(*sb), GFP_KERNEL);
	if (!sb)
		return NULL;
	for (i = 0; i < SAMPLE_BUF_PAGES; i++) {
		sb->pages[i] = get_zeroed_page(GFP_KERNEL);
		if (!sb->pages[i])
			goto fail;
	}
	return sb;
fail:
	while (--i >= 0)
		free_page(sb->pages[i]);
	kfree(sb);
	return NULL;
}

static ssize_t sample_buf_read(struct file *file, char *ubuf, size_t count,
			       loff_t *ppos)
{
	struct sample_buf *sb = file->private_data;
	size_t idx = *ppos >> PAGE_SHIFT;
	size_t off = offset_in_page(*ppos);
	size_t chunk;

	if (*ppos >= sb->used || idx >= SAMPLE_BUF_PAGES)
		return 0;
	chunk = min_t(size_t, count, PAGE_SIZE - off);
	chunk = min_t(size_t, chunk, sb->used - *ppos);
	if (copy_to_user(ubuf, (void *)sb->pages[idx] + off, chunk))
		return -EFAULT;
	*ppos += chunk;
	return chunk;
}

static ssize_t sample_buf_write(struct file *file, const char *ubuf,
				size_t count, loff_t *ppos)
{
	struct sample_buf *sb = file->private_data;
	char *tmp;

	if (count > PAGE_SIZE) {
		pr_warn_once("sample_buf: writes larger than PAGE_SIZE are truncated\n");
		count = PAGE_SIZE;
	}
	tmp = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	if (copy_from_user(tmp, ubuf, count)) {
		kfree(tmp);
		return -EFAULT;
	}
	sb->used = count;
	memcpy((void *)sb->pages[0], tmp, count);
	kfree(tmp);
	return count;
}

static const struct file_operations sample_buf_fops = {
	.owner	= THIS_MODULE,
	.read	= sample_buf_read,
	.write	= sample_buf_write,
};

static struct miscdevice sample_buf_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "sample_buf",
	.fops	= &sample_buf_fops,
};
module_misc_device(sample_buf_misc);

MODULE_DESCRIPTION("pgrewrite sample page buffer device");
MODULE_LICENSE("GPL");
