/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * USB passthrough without USB hardware: a fake sysfs tree (bus/usb/devices)
 * and a fake device root (bus/usb/BBB/DDD as plain files) drive the
 * discovery `vmrun devices` prints (net/usb.c, with the YAML for each
 * device), the lookup of a guest's `usb:` entries, the device's preflight
 * and its setup, which must open exactly the node of the device named and
 * hand the fd to the child fd slot the command line's -add-fd names.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

#include "lib/base/fsutil.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/plan.h"
#include "lib/runtime/guestplan.h"
#include "net/net.h"
#include "tests/lib/tap.h"

static char root[64];
static struct vmr_config cfg;

static void put(const char *rel, const char *content)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", root, rel);
	_cleanup_free_ char *dir = xstrdup(path);

	*strrchr(dir, '/') = '\0';
	if (vmr_mkdir_p(dir, 0755) < 0 ||
	    write_file_atomic(path, content, strlen(content), 0644) < 0)
		abort();
}

/* a device in the fake sysfs tree, and its usbfs node in the fake /dev */
static void usb_dev(const char *name, unsigned bus, unsigned dev, const char *vid, const char *pid,
		    const char *product)
{
	char rel[128], val[32];

	snprintf(rel, sizeof(rel), "sys/bus/usb/devices/%s/busnum", name);
	snprintf(val, sizeof(val), "%u\n", bus);
	put(rel, val);
	snprintf(rel, sizeof(rel), "sys/bus/usb/devices/%s/devnum", name);
	snprintf(val, sizeof(val), "%u\n", dev);
	put(rel, val);
	snprintf(rel, sizeof(rel), "sys/bus/usb/devices/%s/idVendor", name);
	snprintf(val, sizeof(val), "%s\n", vid);
	put(rel, val);
	snprintf(rel, sizeof(rel), "sys/bus/usb/devices/%s/idProduct", name);
	snprintf(val, sizeof(val), "%s\n", pid);
	put(rel, val);
	if (product) {
		snprintf(rel, sizeof(rel), "sys/bus/usb/devices/%s/product", name);
		snprintf(val, sizeof(val), "%s\n", product);
		put(rel, val);
	}
	snprintf(rel, sizeof(rel), "dev/bus/usb/%03u/%03u", bus, dev);
	snprintf(val, sizeof(val), "node %s\n", name);
	put(rel, val);
}

static struct vmr_topology *load(const char *guests)
{
	_cleanup_free_ char *yaml = xasprintf("version: 1\nguests:\n%s", guests);
	struct vmr_topology *t = NULL;
	struct vmr_diags d = {0};

	if (vmr_topology_load_buffer("u.yaml", yaml, strlen(yaml), vmr_device_kinds(), &t, &d) <
	    0) {
		for (size_t i = 0; i < d.n; i++)
			tap_diag("%u:%u: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
		vmr_diags_clear(&d);
		return NULL;
	}
	return t;
}

/* The text of the first diagnostic loading guests gives, or "(loaded)". */
static char *refusal(const char *guests)
{
	_cleanup_free_ char *yaml = xasprintf("version: 1\nguests:\n%s", guests);
	struct vmr_topology *t = NULL;
	struct vmr_diags d = {0};
	char *s;

	if (vmr_topology_load_buffer("u.yaml", yaml, strlen(yaml), vmr_device_kinds(), &t, &d) ==
	    0) {
		vmr_topology_free(t);
		return xstrdup("(loaded)");
	}
	s = xasprintf("%u:%u: %s", d.v[0].line, d.v[0].col, d.v[0].msg);
	vmr_diags_clear(&d);
	return s;
}

static void test_list(void)
{
	struct vmr_net_usb *v = NULL;
	size_t n = 0;
	char *y;
	json_t *d = NULL;
	struct vmr_error *err = NULL;
	const json_t *e;
	size_t i;

	is_int(vmr_net_usb_list(&cfg, &v, &n), 0, "list: reads the fake tree");
	is_int((long long)n, 5, "list: five devices (the interface is left out)");
	ok(n == 5 && streq(v[0].name, "1-1.4") && streq(v[4].name, "usb1"), "list: in name order");
	ok(n == 5 && v[4].root_hub && !v[0].root_hub, "list: usb1 is a root hub");
	ok(n == 5 && streq(v[0].port, "1.4") && v[0].bus == 1 && v[0].dev == 7,
	   "list: port 1.4 on bus 1, device 7");
	y = n == 5 ? vmr_net_usb_yaml(v, n, 1) : NULL;
	is_str(y, "{vendor: 0x0781, product: 0x5567}", "yaml: a unique device by its ID");
	free(y);
	y = n == 5 ? vmr_net_usb_yaml(v, n, 0) : NULL;
	is_str(y, "{bus: 1, port: \"1.4\"}", "yaml: one of two alike by bus and port");
	free(y);
	y = n == 5 ? vmr_net_usb_yaml(v, n, 4) : NULL;
	ok(y == NULL, "yaml: none for a root hub");
	free(y);
	vmr_net_usb_list_free(v, n);

	is_int(vmr_net_devices(&cfg, &d, &err), 0, "vmrun devices: lists");
	vmr_error_free(err);
	json_array_foreach(json_object_get(d, "usb"), i, e)
	{
		if (streq(json_string_value(json_object_get(e, "port")), "1-2"))
			is_str(json_string_value(json_object_get(e, "yaml")),
			       "{vendor: 0x0781, product: 0x5567}",
			       "vmrun devices: the YAML column");
	}
	json_decref(d);
}

static char *find(const struct vmr_net_usb_want *w)
{
	struct vmr_net_usb u;
	struct vmr_error *err = NULL;
	char *s;

	if (vmr_net_usb_find(&cfg, w, &u, &err) == 0)
		return xasprintf("%s %03u/%03u", u.name, u.bus, u.dev);
	s = vmr_error_text(err);
	vmr_error_free(err);
	return s;
}

static void test_find(void)
{
	struct vmr_net_usb_want w = {.by_id = true, .vendor = 0x0781, .product = 0x5567};
	char *s;

	s = find(&w);
	is_str(s, "1-2 001/004", "find: by ID");
	free(s);
	w = (struct vmr_net_usb_want){.by_id = true, .vendor = 0x046d, .product = 0xc52b};
	s = find(&w);
	is_str(s,
	       "USB device 046d:c52b: 2 devices match (1-1.4, 2-3); name one by bus and "
	       "port",
	       "find: two alike are refused, naming where they are");
	free(s);
	w = (struct vmr_net_usb_want){.bus = 2, .port = "3"};
	s = find(&w);
	is_str(s, "2-3 002/009", "find: by bus and port");
	free(s);
	w = (struct vmr_net_usb_want){.by_id = true, .vendor = 0x1234, .product = 0x5678};
	s = find(&w);
	is_str(s, "USB device 1234:5678: not on this host ('vmrun devices' lists them)",
	       "find: an absent device");
	free(s);
	w = (struct vmr_net_usb_want){.by_id = true, .vendor = 0x1d6b, .product = 0x0002};
	s = find(&w);
	is_str(s, "USB device 1d6b:0002: not on this host ('vmrun devices' lists them)",
	       "find: a root hub is never a match");
	free(s);
}

/* The inode of the file behind fd and of the fake node, as "ino" strings. */
static bool same_file(int fd, const char *rel)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", root, rel);
	struct stat a, b;

	return fd >= 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino;
}

static void test_setup(void)
{
	struct vmr_topology *t =
	    load("  g:\n    accel: tcg\n    tablet: true\n"
		 "    usb: [{vendor: 0x0781, product: 0x5567}, {bus: 1, port: \"1.4\"}]\n");
	struct vmr_plan_opts po = {.cfg = &cfg, .topo_dir = "/", .facts = {.accel = VMR_ACCEL_TCG}};
	struct vmr_plan plan = {0};
	struct vmr_strvec argv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	int fds[8];
	const struct vmr_plan_dev *pd = NULL;
	bool fdset = false, host0 = false, tablet = false;

	if (!t) {
		ok(0, "setup: the topology loads");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = -1;
	is_int(vmr_plan_build(t, vmr_topology_guest(t, "g"), &po, &plan, &err), 0, "setup: plan");
	for (size_t i = 0; i < plan.ndevs; i++)
		if (streq(plan.devs[i].dev->ops->name, "usb"))
			pd = &plan.devs[i];
	ok(pd && pd->nfds[VMR_FD_DEV] == 2 && pd->fds[VMR_FD_DEV][0] == 3 &&
	       pd->fds[VMR_FD_DEV][1] == 4,
	   "plan: child fds 3 and 4 for the two devices");
	ok(plan.grants.usb, "grants: USB device nodes");
	is_int(vmr_argv_build(&plan, &argv, &err), 0, "argv builds");
	for (size_t i = 0; i + 1 < argv.n; i++) {
		fdset |=
		    streq(argv.v[i], "-add-fd") && streq(argv.v[i + 1], "fd=3,set=3,opaque=usb0");
		host0 |= streq(argv.v[i + 1], "{\"driver\":\"usb-host\",\"bus\":\"xhci.0\","
					      "\"hostdevice\":\"/dev/fdset/3\",\"id\":\"usb0\"}");
		tablet |=
		    streq(argv.v[i + 1],
			  "{\"driver\":\"usb-tablet\",\"bus\":\"xhci.0\",\"id\":\"tablet0\"}");
	}
	ok(fdset, "argv: -add-fd puts child fd 3 in fd set 3");
	ok(host0, "argv: usb-host opens /dev/fdset/3 on the xHCI bus");
	ok(tablet, "argv: the tablet shares the controller");
	is_int(vmr_guest_preflight(&cfg, &plan, &err), 0, "preflight: both devices are here");
	is_int(vmr_guest_setup(&cfg, NULL, &plan, fds, NULL, NULL, &err), 0, "setup succeeds");
	if (err) {
		char *s = vmr_error_text(err);

		tap_diag("%s", s);
		free(s);
		vmr_error_clear(&err);
	}
	ok(same_file(fds[0], "dev/bus/usb/001/004"), "fd 3 is the node of 0781:5567 (1-2)");
	ok(same_file(fds[1], "dev/bus/usb/001/007"), "fd 4 is the node of bus 1 port 1.4");
	ok(fds[0] >= 0 && (fcntl(fds[0], F_GETFL) & O_ACCMODE) == O_RDWR,
	   "opened read-write (QEMU's fd set lookup wants O_RDWR)");
	ok(fds[0] >= 0 && (fcntl(fds[0], F_GETFD) & FD_CLOEXEC), "and close-on-exec");
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	vmr_strvec_clear(&argv);
	vmr_plan_free(&plan);
	vmr_topology_free(t);

	/* a device that is not there fails before anything changes */
	t = load("  g:\n    accel: tcg\n    usb: [{vendor: 0x1234, product: 0x5678}]\n");
	if (t && vmr_plan_build(t, vmr_topology_guest(t, "g"), &po, &plan, &err) == 0) {
		char *s;

		ok(vmr_guest_preflight(&cfg, &plan, &err) < 0, "preflight: an absent device fails");
		s = err ? vmr_error_text(err) : xstrdup("");
		is_str(s,
		       "guest 'g': USB device 1234:5678: not on this host ('vmrun devices' "
		       "lists them)",
		       "preflight: and says which");
		free(s);
		vmr_error_clear(&err);
		vmr_plan_free(&plan);
	}
	vmr_topology_free(t);
}

static void test_model(void)
{
	char *s;

	s = refusal("  g: {usb: [{vendor: 0781, product: 0x5567}]}\n");
	is_str(s,
	       "3:22: guest 'g' usb #1: 'vendor' must be a hexadecimal ID 0x0000..0xffff, not "
	       "'0781'",
	       "model: an ID without 0x");
	free(s);
	s = refusal("  g: {usb: [{vendor: 0x0781}]}\n");
	is_str(s, "3:13: guest 'g' usb #1: a usb entry needs both 'vendor' and 'product'",
	       "model: vendor without product");
	free(s);
	s = refusal("  g: {usb: [{bus: 1, port: \"1..2\"}]}\n");
	is_str(s, "3:28: guest 'g' usb #1: invalid USB port '1..2' (ports 1..31 joined by dots)",
	       "model: a bad port");
	free(s);
	s = refusal("  g: {usb: [{bus: 1, port: \"2\", vendor: 0x1}]}\n");
	is_str(s, "3:19: guest 'g' usb #1: a usb entry has vendor and product, or bus and port",
	       "model: both forms in one entry");
	free(s);
	s = refusal("  g: {usb: [{bus: 1, port: \"2\"}, {bus: 1, port: \"2\"}]}\n");
	is_str(s, "3:34: guest 'g' usb #2: the same device as usb #1", "model: listed twice");
	free(s);
	s = refusal("  g: {usb: [{bus: 1, port: \"2\", serial: x}]}\n");
	is_str(s, "3:33: guest 'g' usb #1: unknown key 'serial'", "model: an unknown key");
	free(s);
	s = refusal("  g: {machine: microvm, usb: [{bus: 1, port: \"2\"}]}\n");
	is_str(s,
	       "3:30: guest 'g': 'usb' needs a pc or q35 machine (its xHCI controller is PCI), "
	       "not 'microvm'",
	       "model: no PCI, no xHCI");
	free(s);
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/vmrt-usb-XXXXXX");
	if (!mkdtemp(root))
		abort();
	cfg.sysfs_root = xasprintf("%s/sys", root);
	cfg.dev_root = xasprintf("%s/dev", root);
	cfg.state_dir = xasprintf("%s/state", root);
	cfg.image_dir = xasprintf("%s/images", root);
	usb_dev("usb1", 1, 1, "1d6b", "0002", "xHCI Host Controller");
	usb_dev("1-2", 1, 4, "0781", "5567", "Cruzer Blade");
	usb_dev("1-1.4", 1, 7, "046d", "c52b", "USB Receiver");
	usb_dev("2-3", 2, 9, "046d", "c52b", "USB Receiver");
	usb_dev("2-4", 2, 10, "abcd", "0001", NULL);
	put("sys/bus/usb/devices/1-2:1.0/busnum", "1\n");

	test_list();
	test_find();
	test_setup();
	test_model();

	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(cfg.sysfs_root);
	free(cfg.dev_root);
	free(cfg.state_dir);
	free(cfg.image_dir);
	return tap_done();
}
