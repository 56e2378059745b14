// SPDX-License-Identifier: GPL-2.0
/* A miniature driver with sysfs attributes, written for pgrewrite's check tests. */
#include <linux/device.h>

static int foo_mode;

static ssize_t mode_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return scnprintf(buf, 64, "%d\n", foo_mode);
}
static DEVICE_ATTR_RO(mode);
