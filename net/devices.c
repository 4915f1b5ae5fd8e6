/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Discovery for `vmrun devices`: PCI devices through libpci (pointed at
 * the configured sysfs root; loaded on first use, lib/base/dlib.h),
 * network interfaces and USB devices from sysfs.  Read-only.
 */
#include <errno.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/dlib.h"
#include "lib/base/strvec.h"
#include "lib/base/util.h"
#include "net/internal.h"

#define PCI_SONAME "libpci.so.3"
#define PCI_SYMS(X) X(alloc) X(init) X(scan_bus) X(fill_info) X(lookup_name) X(set_param) X(cleanup)

static struct {
#define PCI_FN(f) __typeof__(pci_##f) *f;
	PCI_SYMS(PCI_FN)
#undef PCI_FN
} pci;

static int pci_load(struct vmr_error **err)
{
#define PCI_SYM(f) {"pci_" #f, (void **)&pci.f},
	static const struct vmr_dlib_sym syms[] = {PCI_SYMS(PCI_SYM)};
#undef PCI_SYM

	if (pci.alloc)
		return 0;
	return vmr_dlib_load(PCI_SONAME, "the PCI device list (Debian package libpci3)", syms,
			     ARRAY_SIZE(syms), err);
}

static void strv_freep(char ***v)
{
	vmr_strv_free(*v);
}
#define _cleanup_strv_ _cleanup_(strv_freep)

/*
 * libpci's error callback must not return (its callers go on with NULL
 * pointers), and library code must not print or exit: jump back out with
 * the message.  libpci has no per-access user pointer, hence the statics.
 */
static jmp_buf pci_jmp;
static char pci_msg[256];

static void __attribute__((noreturn, format(printf, 1, 2))) pci_err(char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pci_msg, sizeof(pci_msg), fmt, ap);
	va_end(ap);
	longjmp(pci_jmp, 1);
}

static void __attribute__((format(printf, 1, 2))) pci_quiet(char *fmt, ...)
{
	(void)fmt;
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* an attribute's value (link: a symlink's target name), NULL when absent */
static __attribute__((format(printf, 3, 4))) char *lookup(const struct vmr_config *cfg, bool link,
							  const char *fmt, ...)
{
	_cleanup_free_ char *rel = NULL;
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	rel = xvasprintf(fmt, ap);
	va_end(ap);
	if (link)
		return net_sysfs_link_name(cfg, &s, NULL, "%s", rel) > 0 ? s : NULL;
	return net_sysfs_read(cfg, &s, NULL, "%s", rel) == 0 ? s : NULL;
}
#define attr(cfg, ...) lookup(cfg, false, __VA_ARGS__)
#define link_name(cfg, ...) lookup(cfg, true, __VA_ARGS__)

/*
 * The PCI function a netdev belongs to: its device, or the first ancestor
 * on the PCI bus (a virtio-net netdev's device is the virtio device whose
 * parent is the PCI function).  NULL for virtual links.
 */
static char *pci_parent(const struct vmr_config *cfg, const char *ifname)
{
	_cleanup_free_ char *path = net_sysfs_path(cfg, "class/net/%s/device", ifname);
	_cleanup_free_ char *real = realpath(path, NULL);
	const char *root = net_sysfs_root(cfg);
	char *slash;

	if (!real)
		return NULL;
	for (int depth = 0; depth < 4; depth++) {
		char sub[4096], *base;
		_cleanup_free_ char *link = xasprintf("%s/subsystem", real);
		ssize_t n = readlink(link, sub, sizeof(sub) - 1);

		if (n > 0) {
			sub[n] = '\0';
			base = strrchr(sub, '/');
			if (streq(base ? base + 1 : sub, "pci")) {
				slash = strrchr(real, '/');
				return xstrdup(slash ? slash + 1 : real);
			}
		}
		slash = strrchr(real, '/');
		if (!slash || (size_t)(slash - real) <= strlen(root))
			break;
		*slash = '\0';
	}
	return NULL;
}

static int scan_nics(const struct vmr_config *cfg, json_t *nics)
{
	_cleanup_strv_ char **names = NULL;

	if (net_sysfs_list(cfg, &names, NULL, "class/net") < 0)
		return 0; /* no network class (a minimal fake tree) */
	for (char **n = names; *n; n++) {
		_cleanup_free_ char *mac = NULL, *state = NULL, *drv = NULL, *dev = NULL;
		json_t *o;

		if (streq(*n, "lo"))
			continue;
		mac = attr(cfg, "class/net/%s/address", *n);
		state = attr(cfg, "class/net/%s/operstate", *n);
		drv = link_name(cfg, "class/net/%s/device/driver", *n);
		dev = pci_parent(cfg, *n);
		o = json_pack("{s:s, s:o, s:o, s:o, s:o}", "name", *n, "mac", jstr_or_null(mac),
			      "driver", jstr_or_null(drv), "pci", jstr_or_null(dev), "state",
			      jstr_or_null(state));
		if (!o)
			return -ENOMEM;
		json_array_append_new(nics, o);
	}
	return 0;
}

static int scan_usb(const struct vmr_config *cfg, json_t *usb)
{
	struct vmr_net_usb *v = NULL;
	size_t n = 0;

	vmr_net_usb_list(cfg, &v, &n);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *id = xasprintf("%04x:%04x", v[i].vendor, v[i].product);
		_cleanup_free_ char *yaml = vmr_net_usb_yaml(v, n, i);
		json_t *o;

		o = json_pack("{s:s, s:I, s:I, s:s, s:o, s:o, s:o}", "port", v[i].name, "bus",
			      (json_int_t)v[i].bus, "dev", (json_int_t)v[i].dev, "id", id,
			      "manufacturer", jstr_or_null(v[i].manufacturer), "product",
			      jstr_or_null(v[i].product_name), "yaml", jstr_or_null(yaml));
		if (!o) {
			vmr_net_usb_list_free(v, n);
			return -ENOMEM;
		}
		json_array_append_new(usb, o);
	}
	vmr_net_usb_list_free(v, n);
	return 0;
}

static json_t *pci_entry(const struct vmr_config *cfg, struct pci_access *pacc, struct pci_dev *d,
			 const char *bdf, json_t *sriov)
{
	char vname[128], dname[256], cname[128], id[16], cls[8];
	_cleanup_free_ char *drv = NULL, *why = NULL, *netdev = NULL;
	unsigned long total = 0, num = 0;
	long group = -1;
	int viable;
	json_t *o;

	pci.lookup_name(pacc, vname, sizeof(vname), PCI_LOOKUP_VENDOR, d->vendor_id);
	pci.lookup_name(pacc, dname, sizeof(dname), PCI_LOOKUP_DEVICE, d->vendor_id, d->device_id);
	pci.lookup_name(pacc, cname, sizeof(cname), PCI_LOOKUP_CLASS, d->device_class);
	(void)net_pci_driver(cfg, bdf, &drv, NULL);
	viable = net_pci_group_viable(cfg, bdf, NULL, &group, &why, NULL);
	(void)net_pci_netdev(cfg, bdf, &netdev, NULL);
	snprintf(id, sizeof(id), "%04x:%04x", d->vendor_id, d->device_id);
	snprintf(cls, sizeof(cls), "%04x", d->device_class);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:o}", "pci", bdf, "id",
		      id, "class", cls, "class_name", cname, "vendor", vname, "device", dname,
		      "driver", jstr_or_null(drv), "ifname", jstr_or_null(netdev), "iommu_group",
		      group >= 0 ? json_integer(group) : json_null(), "passthrough", viable > 0,
		      "why", jstr_or_null(viable > 0 ? NULL : why));
	if (o &&
	    net_sysfs_read_uint(cfg, &total, NULL, "bus/pci/devices/%s/sriov_totalvfs", bdf) == 0 &&
	    total > 0) {
		(void)net_sysfs_read_uint(cfg, &num, NULL, "bus/pci/devices/%s/sriov_numvfs", bdf);
		json_array_append_new(
		    sriov, json_pack("{s:s, s:o, s:o, s:I, s:I}", "pci", bdf, "ifname",
				     jstr_or_null(netdev), "driver", jstr_or_null(drv), "totalvfs",
				     (json_int_t)total, "numvfs", (json_int_t)num));
	}
	return o;
}

static int scan_pci(const struct vmr_config *cfg, json_t *pcis, json_t *sriov,
		    struct vmr_error **err)
{
	_cleanup_free_ char *path = net_sysfs_path(cfg, "bus/pci");
	struct pci_access *volatile pacc = NULL;
	int r = 0;

	if (!net_sysfs_exists(cfg, "bus/pci/devices"))
		return 0;
	if (pci_load(err) < 0)
		return -1;
	pacc = pci.alloc();
	if (!pacc)
		return vmr_error_set(err, ENOMEM, "allocate libpci");
	pacc->error = pci_err;
	pacc->warning = pci_quiet;
	pacc->debug = pci_quiet;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	if (setjmp(pci_jmp)) {
		r = vmr_error_set(err, EIO, "scan PCI devices in '%s': %s", path, pci_msg);
		goto out;
	}
	pci.set_param(pacc, "sysfs.path", path);
	pci.init(pacc);
	pci.scan_bus(pacc);
	for (struct pci_dev *d = pacc->devices; d; d = d->next) {
		char bdf[16];
		json_t *o;

		pci.fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS);
		snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", d->domain, d->bus, d->dev, d->func);
		/* bridges are plumbing, never passed through */
		if ((d->device_class >> 8) == PCI_BASE_CLASS_BRIDGE)
			continue;
		o = pci_entry(cfg, pacc, d, bdf, sriov);
		if (!o) {
			r = vmr_error_set(err, ENOMEM, "describe PCI device '%s'", bdf);
			goto out;
		}
		json_array_append_new(pcis, o);
	}
out:
	pci.cleanup(pacc);
	return r;
}

static int cmp_pci(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;

	return strcmp(json_string_value(json_object_get(x, "pci")),
		      json_string_value(json_object_get(y, "pci")));
}

/* libpci lists devices in its own order: sort by address for stable output */
static void sort_by_pci(json_t *arr)
{
	size_t n = json_array_size(arr);
	json_t **v = xcalloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), cmp_pci);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

int vmr_net_devices(const struct vmr_config *cfg, json_t **ret, struct vmr_error **err)
{
	json_t *o, *nics, *sriov, *pcis, *usb;
	int r;

	o = json_pack("{s:[], s:[], s:[], s:[]}", "nics", "sriov", "pci", "usb");
	if (!o)
		return vmr_error_set(err, ENOMEM, "allocate device list");
	nics = json_object_get(o, "nics");
	sriov = json_object_get(o, "sriov");
	pcis = json_object_get(o, "pci");
	usb = json_object_get(o, "usb");
	r = scan_pci(cfg, pcis, sriov, err);
	if (r == 0 && (scan_nics(cfg, nics) < 0 || scan_usb(cfg, usb) < 0))
		r = vmr_error_set(err, ENOMEM, "list devices");
	if (r < 0) {
		json_decref(o);
		return r;
	}
	sort_by_pci(pcis);
	sort_by_pci(sriov);
	*ret = o;
	return 0;
}
