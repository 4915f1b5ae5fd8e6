/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * USB devices of this host from sysfs (bus/usb/devices under the
 * configured sysfs root): the list `vmrun devices` shows, with the
 * topology YAML that names each, and the lookup of a guest's `usb:` entry.
 * Read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/buf.h"
#include "lib/base/strvec.h"
#include "lib/base/util.h"
#include "net/internal.h"

static void strv_freep(char ***v)
{
	vmr_strv_free(*v);
}
#define _cleanup_strv_ _cleanup_(strv_freep)

static char *usb_attr(const struct vmr_config *cfg, const char *name, const char *attr)
{
	char *s = NULL;

	return net_sysfs_read(cfg, &s, NULL, "bus/usb/devices/%s/%s", name, attr) == 0 ? s : NULL;
}

/* A 4-digit hex ID as sysfs writes it ("0781"); -1 when it is not one. */
static long hex_id(const char *s)
{
	char *end;
	long v;

	if (!s || strlen(s) != 4)
		return -1;
	v = strtol(s, &end, 16);
	return *end ? -1 : v;
}

/* One device from its sysfs name ("1-1.4", "usb1"); false for interfaces and broken entries. */
static bool usb_read(const struct vmr_config *cfg, const char *name, struct vmr_net_usb *ret)
{
	_cleanup_free_ char *busnum = NULL, *devnum = NULL, *vid = NULL, *pid = NULL;
	unsigned long long b, d;
	struct vmr_net_usb u = {0};
	long v, p;

	/* interfaces ("1-1:1.0") are not devices */
	if (strchr(name, ':') || strlen(name) >= sizeof(u.name))
		return false;
	busnum = usb_attr(cfg, name, "busnum");
	devnum = usb_attr(cfg, name, "devnum");
	vid = usb_attr(cfg, name, "idVendor");
	pid = usb_attr(cfg, name, "idProduct");
	v = hex_id(vid);
	p = hex_id(pid);
	if (!busnum || !devnum || v < 0 || p < 0 || parse_uint(busnum, 255, &b) < 0 ||
	    parse_uint(devnum, 255, &d) < 0)
		return false;
	memcpy(u.name, name, strlen(name) + 1);
	u.bus = (unsigned)b;
	u.dev = (unsigned)d;
	u.vendor = (unsigned)v;
	u.product = (unsigned)p;
	/* a root hub is "usbN"; a device "BUS-PORT[.PORT...]" */
	u.root_hub = startswith(name, "usb");
	if (!u.root_hub) {
		const char *dash = strchr(name, '-');

		if (!dash)
			return false;
		snprintf(u.port, sizeof(u.port), "%s", dash + 1);
	}
	u.manufacturer = usb_attr(cfg, name, "manufacturer");
	u.product_name = usb_attr(cfg, name, "product");
	*ret = u;
	return true;
}

int vmr_net_usb_list(const struct vmr_config *cfg, struct vmr_net_usb **ret, size_t *ret_n)
{
	_cleanup_strv_ char **names = NULL;
	struct vmr_net_usb *v = NULL;
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	/* no USB at all (a container, a VM without a controller) is an empty list */
	if (net_sysfs_list(cfg, &names, NULL, "bus/usb/devices") < 0)
		return 0;
	for (char **name = names; *name; name++) {
		struct vmr_net_usb u;

		if (!usb_read(cfg, *name, &u))
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = u;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

void vmr_net_usb_list_free(struct vmr_net_usb *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].manufacturer);
		free(v[i].product_name);
	}
	free(v);
}

char *vmr_net_usb_yaml(const struct vmr_net_usb *v, size_t n, size_t i)
{
	size_t same = 0;

	if (v[i].root_hub)
		return NULL;
	for (size_t k = 0; k < n; k++)
		same +=
		    !v[k].root_hub && v[k].vendor == v[i].vendor && v[k].product == v[i].product;
	/* the ID follows the device to any port; two alike need their place */
	if (same == 1)
		return xasprintf("{vendor: 0x%04x, product: 0x%04x}", v[i].vendor, v[i].product);
	return xasprintf("{bus: %u, port: \"%s\"}", v[i].bus, v[i].port);
}

int vmr_net_usb_find(const struct vmr_config *cfg, const struct vmr_net_usb_want *w,
		     struct vmr_net_usb *ret, struct vmr_error **err)
{
	struct vmr_net_usb *v = NULL;
	_cleanup_free_ char *what = NULL;
	struct vmr_buf where = VMR_BUF_INIT;
	size_t n = 0, found = 0, at = 0;

	if (w->by_id)
		what = xasprintf("USB device %04x:%04x", w->vendor, w->product);
	else
		what = xasprintf("USB device on bus %u port %s", w->bus, w->port);
	vmr_net_usb_list(cfg, &v, &n);
	for (size_t i = 0; i < n; i++) {
		bool match = !v[i].root_hub &&
			     (w->by_id ? v[i].vendor == w->vendor && v[i].product == w->product
				       : v[i].bus == w->bus && streq(v[i].port, w->port));

		if (!match)
			continue;
		vmr_buf_addf(&where, "%s%u-%s", found ? ", " : "", v[i].bus, v[i].port);
		if (!found++)
			at = i;
	}
	if (found == 1) {
		*ret = v[at];
		ret->manufacturer = ret->product_name = NULL;
		vmr_net_usb_list_free(v, n);
		vmr_buf_free(&where);
		return 0;
	}
	vmr_net_usb_list_free(v, n);
	if (found == 0) {
		vmr_buf_free(&where);
		vmr_error_set(err, 0, "%s: not on this host ('vmrun devices' lists them)", what);
		return -ENODEV;
	}
	vmr_error_set(err, 0, "%s: %zu devices match (%s); name one by bus and port", what, found,
		      where.s);
	vmr_buf_free(&where);
	return -EEXIST;
}
