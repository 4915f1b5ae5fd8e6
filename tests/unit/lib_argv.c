/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plan and the QEMU argv builder on guests of small topologies: fd
 * numbering, every disk bus and cache mode, every NIC kind, the devices,
 * the rules the model enforces instead of the builder, and path
 * resolution.
 */
#include <stdio.h>

#include "lib/devices/devices.h"
#include "lib/plan/plan.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

/* ---- helpers ---------------------------------------------------------- */

static struct vmr_config cfg = {
    .qemu = (char *)"/usr/bin/qemu-system-x86_64",
    .state_dir = (char *)"/run/vmrun",
    .image_dir = (char *)"/var/lib/vmrun/images",
};
static struct vmr_topology *topo;

/*
 * Plan guest name of a topology with these guests (YAML under `guests:`),
 * relative paths resolving in dir, with the facts given.  The topology
 * stays loaded until the next call.
 */
static int plan_of(struct vmr_plan *p, const char *guests, const char *name, const char *dir,
		   enum vmr_accel accel, bool vhost)
{
	_cleanup_free_ char *yaml = xasprintf("version: 1\nguests:\n%s", guests);
	struct vmr_plan_opts po = {.cfg = &cfg, .topo_dir = dir, .facts = {accel, vhost}};
	struct vmr_diags d = {0};
	struct vmr_error *e = NULL;
	int r;

	vmr_topology_free(topo);
	topo = NULL;
	if (vmr_topology_load_buffer("a.yaml", yaml, strlen(yaml), vmr_device_kinds(), &topo, &d) <
	    0) {
		for (size_t i = 0; i < d.n; i++)
			tap_diag("%u:%u: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
		vmr_diags_clear(&d);
		*p = (struct vmr_plan){0};
		return -1;
	}
	r = vmr_plan_build(topo, vmr_topology_guest(topo, name), &po, p, &e);
	if (r < 0)
		tap_diag("plan: %s", e->msg);
	vmr_error_free(e);
	return r;
}

/* Whether yaml fails to load with a message containing needle. */
static bool refused(const char *guests, const char *needle)
{
	_cleanup_free_ char *yaml = xasprintf("version: 1\nguests:\n%s", guests);
	struct vmr_topology *t = NULL;
	struct vmr_diags d = {0};
	bool found = false;

	if (vmr_topology_load_buffer("a.yaml", yaml, strlen(yaml), vmr_device_kinds(), &t, &d) ==
	    0) {
		vmr_topology_free(t);
		return false;
	}
	for (size_t i = 0; i < d.n; i++) {
		found = found || strstr(d.v[i].msg, needle);
		if (!found)
			tap_diag("%s", d.v[i].msg);
	}
	vmr_diags_clear(&d);
	return found;
}

/* Build argv for g; returns the status of vmr_argv_build. */
static int build(struct vmr_plan *p, struct vmr_strvec *sv, struct vmr_error **err)
{
	vmr_strvec_clear(sv);
	return vmr_argv_build(p, sv, err);
}

/* Index of the nth (0-based) occurrence of opt followed by a value, or -1. */
static long find_opt(const struct vmr_strvec *sv, const char *opt, unsigned nth)
{
	for (size_t i = 1; i + 1 < sv->n; i++)
		if (streq(sv->v[i], opt) && nth-- == 0)
			return (long)i;
	return -1;
}

static const char *opt_value(const struct vmr_strvec *sv, const char *opt, unsigned nth)
{
	long i = find_opt(sv, opt, nth);

	return i < 0 ? NULL : sv->v[i + 1];
}

static bool has_pair(const struct vmr_strvec *sv, const char *opt, const char *val)
{
	for (size_t i = 1; i + 1 < sv->n; i++)
		if (streq(sv->v[i], opt) && streq(sv->v[i + 1], val))
			return true;
	return false;
}

static long index_of(const struct vmr_strvec *sv, const char *arg)
{
	for (size_t i = 0; i < sv->n; i++)
		if (streq(sv->v[i], arg))
			return (long)i;
	return -1;
}

static size_t count_opt(const struct vmr_strvec *sv, const char *opt)
{
	size_t n = 0;

	for (size_t i = 1; i < sv->n; i++)
		n += streq(sv->v[i], opt);
	return n;
}

static bool err_has(const struct vmr_error *e, const char *needle)
{
	return e && e->msg && strstr(e->msg, needle);
}

/* ---- tests ------------------------------------------------------------ */

static void test_minimal(void)
{
	static const char *const want[] = {
	    "/usr/bin/qemu-system-x86_64",
	    "-name",
	    "m,debug-threads=on",
	    "-S",
	    "-nodefaults",
	    "-no-user-config",
	    "-display",
	    "none",
	    "-msg",
	    "timestamp=on",
	    "-machine",
	    "q35",
	    "-accel",
	    "tcg,thread=multi",
	    "-cpu",
	    "max",
	    "-smp",
	    "2,sockets=1,cores=2,threads=1",
	    "-m",
	    "1024M",
	    "-chardev",
	    "socket,id=qmp,fd=3,server=on,wait=off",
	    "-mon",
	    "chardev=qmp,mode=control",
	    "-chardev",
	    "socket,id=console,fd=4,server=on,wait=off",
	    "-serial",
	    "chardev:console",
	    "-sandbox",
	    "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
	};
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	bool same = true;

	is_int(plan_of(&p, "  m: {vcpus: 2, memory: 1G}\n", "m", "/t", VMR_ACCEL_TCG, true), 0,
	       "minimal: plans");
	is_int(p.qmp_fd, 3, "minimal: qmp fd is 3 without NICs");
	is_int(p.console_fd, 4, "minimal: console fd is 4");
	is_int(p.nfds, 2, "minimal: two fds passed");
	ok(p.sandbox, "minimal: plan defaults to sandbox");
	ok(p.env.n == 1 && startswith(p.env.v[0], "PATH="), "minimal: QEMU's environment is PATH");
	is_int(build(&p, &sv, &err), 0, "minimal: builds");
	is_int((long long)sv.n, (long long)ARRAY_SIZE(want), "minimal: argument count");
	for (size_t i = 0; i < ARRAY_SIZE(want) && i < sv.n; i++)
		if (!streq(sv.v[i], want[i])) {
			tap_diag("argv[%zu] = '%s', want '%s'", i, sv.v[i], want[i]);
			same = false;
		}
	ok(same, "minimal: exact argv");
	ok(sv.v[sv.n] == NULL, "minimal: argv is NULL-terminated");

	/* purity: the same plan gives the same argv */
	{
		struct vmr_strvec again = VMR_STRVEC_INIT;
		bool eq = true;

		is_int(vmr_argv_build(&p, &again, &err), 0, "minimal: builds again");
		eq = again.n == sv.n;
		for (size_t i = 0; eq && i < sv.n; i++)
			eq = streq(sv.v[i], again.v[i]);
		ok(eq, "minimal: second build is identical");
		vmr_strvec_clear(&again);
	}
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
	vmr_error_free(err);
}

static void test_accel_cpu_memory(void)
{
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	plan_of(&p, "  k: {vcpus: 10, memory: 4G}\n", "k", "/t", VMR_ACCEL_KVM, true);
	is_int(build(&p, &sv, &err), 0, "kvm: builds");
	is_str(opt_value(&sv, "-accel", 0), "kvm", "kvm: -accel kvm");
	is_str(opt_value(&sv, "-cpu", 0), "host", "kvm: -cpu host by default");
	is_str(opt_value(&sv, "-smp", 0), "10,sockets=1,cores=10,threads=1", "kvm: -smp 10");
	is_str(opt_value(&sv, "-m", 0), "4096M", "memory: whole MiB");
	ok(p.grants.kvm, "kvm: the process needs /dev/kvm");
	vmr_plan_free(&p);

	plan_of(&p,
		"  k: {cpu: \"host,-vmx,-svm\", machine: pc-q35-7.2, memory: 16388K}\n"
		"  h: {cpu: hostile}\n  o: {cpu: host}\n",
		"k", "/t", VMR_ACCEL_TCG, true);
	is_int(build(&p, &sv, &err), 0, "cpu override: builds");
	is_str(opt_value(&sv, "-cpu", 0), "max",
	       "cpu host,-vmx,-svm under tcg: max without the host's feature flags");
	is_str(opt_value(&sv, "-machine", 0), "pc-q35-7.2", "machine override");
	is_str(opt_value(&sv, "-accel", 0), "tcg,thread=multi", "tcg is multi-threaded");
	is_str(opt_value(&sv, "-m", 0), "16388K", "memory: KiB when not whole MiB");
	ok(!p.grants.kvm, "tcg: no /dev/kvm");
	vmr_plan_free(&p);

	vmr_strvec_clear(&sv);
	plan_of(&p, "  h: {cpu: hostile}\n", "h", "/t", VMR_ACCEL_TCG, true);
	is_int(build(&p, &sv, &err), 0, "other cpu model: builds");
	is_str(opt_value(&sv, "-cpu", 0), "hostile", "other cpu model: verbatim under tcg");
	vmr_plan_free(&p);
	vmr_strvec_clear(&sv);
	plan_of(&p, "  o: {cpu: host}\n", "o", "/t", VMR_ACCEL_KVM, true);
	is_int(build(&p, &sv, &err), 0, "cpu host under kvm: builds");
	is_str(opt_value(&sv, "-cpu", 0), "host", "cpu host under kvm: verbatim");

	p.facts.accel = VMR_ACCEL_AUTO;
	ok(build(&p, &sv, &err) < 0 && err_has(err, "accelerator not resolved"),
	   "unresolved accel is an error");
	vmr_error_clear(&err);
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
}

#define FDS_GUEST                                                                                  \
	"  f:\n    nics:\n"                                                                        \
	"      - {name: vmctrl, macvtap: eth1, mac: \"52:de:ac:19:a0:03\"}\n"                      \
	"      - {name: user0, user: true, mac: \"52:de:ac:19:a0:04\"}\n"                          \
	"      - {name: n3, bridge: br0, queues: 2, mac: \"52:de:ac:19:a0:05\"}\n"                 \
	"      - {name: n6, pci: \"0000:1a:00.1\", mac: \"52:de:ac:19:a0:06\"}\n"                  \
	"      - {name: n9, tap: tap9, mac: \"52:de:ac:19:a0:07\"}\n"

static void test_fds(void)
{
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	struct vmr_plan_dev *d;

	plan_of(&p, FDS_GUEST, "f", "/t", VMR_ACCEL_TCG, true);
	d = p.devs;
	is_int(p.ndevs, 5, "fds: a plan share per NIC");
	is_int(d[0].fds[VMR_FD_TAP][0], 3, "fds: first tap-like NIC gets fd 3");
	is_int(d[1].nfds[VMR_FD_TAP], 0, "fds: user NIC has no tap fd");
	is_int(d[2].nfds[VMR_FD_TAP], 2, "fds: multiqueue NIC has one fd per queue");
	is_int(d[2].fds[VMR_FD_TAP][0], 4, "fds: second tap-like NIC, queue 0");
	is_int(d[2].fds[VMR_FD_TAP][1], 5, "fds: second tap-like NIC, queue 1");
	is_int(d[3].nfds[VMR_FD_TAP], 0, "fds: pci NIC has no tap fd");
	is_str(d[3].hostdev, "0000:1a:00.1", "fds: pci NIC's vfio host from the model");
	is_int(d[4].fds[VMR_FD_TAP][0], 6, "fds: third tap-like NIC");
	is_int(d[0].fds[VMR_FD_VHOST][0], 7, "fds: vhost fds follow all tap fds");
	is_int(d[2].fds[VMR_FD_VHOST][0], 8, "fds: vhost fd for queue 0");
	is_int(d[2].fds[VMR_FD_VHOST][1], 9, "fds: vhost fd for queue 1");
	is_int(d[4].fds[VMR_FD_VHOST][0], 10, "fds: vhost fd of third NIC");
	is_int(p.qmp_fd, 11, "fds: qmp after vhost fds");
	is_int(p.console_fd, 12, "fds: console last");
	is_int(p.nfds, 10, "fds: 3..12 passed");
	is_str(d[0].ifname, "vm-52deac19a003", "macvtap: the plan names its host interface");
	ok(p.grants.tap_nodes && p.grants.tun && p.grants.net_admin && p.grants.vfio &&
	       p.grants.vhost,
	   "grants: tap nodes, tun, NET_ADMIN, vfio, vhost-net");

	is_int(build(&p, &sv, &err), 0, "fds: builds");
	ok(has_pair(&sv, "-netdev",
		    "{\"type\":\"tap\",\"id\":\"net-vmctrl\",\"fd\":\"3\",\"vhost\":true,"
		    "\"vhostfd\":\"7\"}"),
	   "netdev: single queue with vhost");
	ok(has_pair(&sv, "-netdev",
		    "{\"type\":\"tap\",\"id\":\"net-n3\",\"fds\":\"4:5\",\"vhost\":true,"
		    "\"vhostfds\":\"8:9\"}"),
	   "netdev: multiqueue with vhost");
	ok(has_pair(
	       &sv, "-device",
	       "{\"driver\":\"virtio-net-pci\",\"netdev\":\"net-n3\",\"mac\":\"52:de:ac:19:a0:05\","
	       "\"id\":\"nic-n3\",\"mq\":true,\"vectors\":6}"),
	   "device: multiqueue virtio-net with vectors 2*q+2");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"vfio-pci\",\"host\":\"0000:1a:00.1\",\"id\":\"hostdev-n6\"}"),
	   "device: pci passthrough");
	ok(find_opt(&sv, "-netdev", 0) < find_opt(&sv, "-netdev", 1) &&
	       strstr(opt_value(&sv, "-netdev", 1), "net-user0"),
	   "NICs appear in NIC order");
	ok(has_pair(&sv, "-chardev", "socket,id=qmp,fd=11,server=on,wait=off"),
	   "chardev qmp uses the plan's fd");
	vmr_plan_free(&p);

	plan_of(&p, FDS_GUEST, "f", "/t", VMR_ACCEL_TCG, false);
	is_int(p.devs[0].nfds[VMR_FD_VHOST], 0, "vhost off: no vhost fds");
	is_int(p.qmp_fd, 7, "vhost off: qmp follows the tap fds");
	is_int(p.console_fd, 8, "vhost off: console");
	is_int(p.nfds, 6, "vhost off: 3..8 passed");
	ok(!p.grants.vhost, "vhost off: no /dev/vhost-net");
	is_int(build(&p, &sv, &err), 0, "vhost off: builds");
	ok(has_pair(&sv, "-netdev", "{\"type\":\"tap\",\"id\":\"net-n3\",\"fds\":\"4:5\"}"),
	   "vhost off: no vhost options");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
	vmr_error_free(err);
}

static void test_nic_options(void)
{
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	plan_of(&p,
		"  o:\n    nics:\n"
		"      - {name: mgmt, user: {forward: [\"tcp:2222:22\", "
		"\"udp:127.0.0.1:5353:10.0.2.15:53\"]}, mac: \"52:de:ac:19:a0:01\"}\n"
		"      - {name: jumbo, macvtap: eth1, mtu: 9000, mac: \"52:de:ac:19:a0:02\"}\n"
		"      - {name: legacy, tap: t0, model: e1000, mtu: 1400, mac: "
		"\"52:de:ac:19:a0:03\"}\n",
		"o", "/t", VMR_ACCEL_TCG, true);
	is_int(p.devs[1].nfds[VMR_FD_VHOST], 1, "vhost: virtio-net NIC gets a vhost fd");
	is_int(p.devs[2].nfds[VMR_FD_VHOST], 0, "vhost: e1000 NIC gets none");
	is_int(p.qmp_fd, 6, "vhost: only one vhost fd numbered");
	is_int(build(&p, &sv, &err), 0, "nic options: builds");
	ok(has_pair(
	       &sv, "-netdev",
	       "{\"type\":\"user\",\"id\":\"net-mgmt\",\"hostfwd\":[{\"str\":\"tcp::2222-:22\"},"
	       "{\"str\":\"udp:127.0.0.1:5353-10.0.2.15:53\"}]}"),
	   "user: forwards with and without addresses");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"virtio-net-pci\",\"netdev\":\"net-jumbo\",\"mac\":\"52:de:ac:19:"
		    "a0:02\","
		    "\"id\":\"nic-jumbo\",\"host_mtu\":9000}"),
	   "mtu: host_mtu on virtio-net");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"e1000\",\"netdev\":\"net-legacy\",\"mac\":\"52:de:ac:19:a0:03\","
		    "\"id\":\"nic-legacy\"}"),
	   "model override: no virtio-only properties");
	ok(has_pair(&sv, "-netdev", "{\"type\":\"tap\",\"id\":\"net-legacy\",\"fd\":\"4\"}"),
	   "model override: tap without vhost");
	ok(has_pair(&sv, "-netdev",
		    "{\"type\":\"tap\",\"id\":\"net-jumbo\",\"fd\":\"3\",\"vhost\":true,"
		    "\"vhostfd\":\"5\"}"),
	   "virtio-net: tap with vhost");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);

	ok(refused("  o:\n    nics: [{name: legacy, tap: t0, model: e1000, queues: 2}]\n",
		   "2 queues need a virtio-net model, not 'e1000'"),
	   "multiqueue with a non-virtio model: refused by the model");
	ok(refused("  o:\n    nics: [{name: jumbo, macvtap: eth1, queues: 17}]\n",
		   "queues '17' out of range (1..16)"),
	   "queues above the limit: refused by the model");
}

static void test_vf(void)
{
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	plan_of(&p,
		"  v:\n    nics: [{name: n3, vf: \"0000:1a:00.0\", mac: \"52:de:ac:19:a0:09\"}]\n",
		"v", "/t", VMR_ACCEL_KVM, true);
	ok(p.devs[0].hostdev == NULL, "vf: not resolved by the plan itself");
	ok(build(&p, &sv, &err) < 0, "vf: unresolved is an error");
	ok(err && err->status == VMR_EXIT_USAGE, "vf: usage status");
	ok(err_has(err, "nic 'n3' of guest 'v' is a vf of '0000:1a:00.0': run picks the vf"),
	   "vf: message names nic, guest and pf");
	ok(sv.n == 0, "vf: nothing returned on failure");
	vmr_error_clear(&err);

	p.devs[0].hostdev = xstrdup("0000:1a:02.3");
	is_int(build(&p, &sv, &err), 0, "vf: resolved builds");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"vfio-pci\",\"host\":\"0000:1a:02.3\",\"id\":\"hostdev-n3\"}"),
	   "vf: vfio-pci with the resolved VF");
	is_int(p.nfds, 2, "vf: no tap fds");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
}

#define DISKS_GUEST                                                                                \
	"  d:\n    cloud_init: true\n    disks:\n"                                                 \
	"      - {file: root.qcow2, cache: none, aio: native}\n"                                   \
	"      - {file: /data/scratch.img, bus: scsi, cache: writethrough, aio: io_uring, "        \
	"readonly: true}\n"                                                                        \
	"      - {file: ../nv.raw, bus: nvme, cache: unsafe, format: raw}\n"                       \
	"      - {file: ide.img, bus: ide, cache: directsync, aio: threads}\n"                     \
	"      - {cdrom: install.iso}\n"                                                           \
	"      - {file: wb.img, bus: scsi, cache: writeback}\n"                                    \
	"      - {file: base-overlay.img, backing: base.qcow2}\n"                                  \
	"      - {file: \"x,y.img\"}\n"

static void test_disks(void)
{
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	long i0, iscsi, iseed;

	plan_of(&p, DISKS_GUEST, "d", "/srv/topo", VMR_ACCEL_TCG, true);
	is_str(p.seed_iso, "/run/vmrun/d/seed.iso", "seed: in the guest's state directory");
	is_int(build(&p, &sv, &err), 0, "disks: builds");

	is_str(opt_value(&sv, "-blockdev", 0),
	       "{\"driver\":\"file\",\"filename\":\"/srv/topo/"
	       "root.qcow2\",\"node-name\":\"disk0-file\","
	       "\"aio\":\"native\",\"cache\":{\"direct\":true,\"no-flush\":false}}",
	       "virtio: file node with aio native and cache none");
	is_str(opt_value(&sv, "-blockdev", 1),
	       "{\"driver\":\"qcow2\",\"file\":\"disk0-file\",\"node-name\":\"disk0\","
	       "\"cache\":{\"direct\":true,\"no-flush\":false}}",
	       "virtio: qcow2 format node by file name");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"virtio-blk-pci\",\"drive\":\"disk0\",\"id\":\"disk0\","
		    "\"write-cache\":\"on\",\"bootindex\":1}"),
	   "virtio: virtio-blk-pci, write cache on, boots first");

	is_str(
	    opt_value(&sv, "-blockdev", 2),
	    "{\"driver\":\"file\",\"filename\":\"/data/scratch.img\",\"node-name\":\"disk1-file\","
	    "\"aio\":\"io_uring\",\"read-only\":true,\"cache\":{\"direct\":false,\"no-flush\":"
	    "false}}",
	    "scsi: absolute path kept, read-only, io_uring, writethrough");
	is_str(opt_value(&sv, "-blockdev", 3),
	       "{\"driver\":\"raw\",\"file\":\"disk1-file\",\"node-name\":\"disk1\",\"read-only\":"
	       "true,"
	       "\"cache\":{\"direct\":false,\"no-flush\":false}}",
	       "scsi: raw format node read-only");
	iscsi = index_of(&sv, "{\"driver\":\"virtio-scsi-pci\",\"id\":\"scsi0\"}");
	ok(iscsi > 0, "scsi: one virtio-scsi controller");
	ok(has_pair(
	       &sv, "-device",
	       "{\"driver\":\"scsi-hd\",\"bus\":\"scsi0.0\",\"channel\":0,\"scsi-id\":0,\"lun\":0,"
	       "\"drive\":\"disk1\",\"id\":\"disk1\",\"write-cache\":\"off\"}"),
	   "scsi: scsi-hd on the controller, write cache off");
	ok(iscsi < index_of(&sv, "{\"driver\":\"scsi-hd\",\"bus\":\"scsi0.0\",\"channel\":0,"
				 "\"scsi-id\":0,\"lun\":0,\"drive\":\"disk1\",\"id\":\"disk1\","
				 "\"write-cache\":\"off\"}"),
	   "scsi: controller before its first disk");

	is_str(opt_value(&sv, "-blockdev", 4),
	       "{\"driver\":\"file\",\"filename\":\"/srv/nv.raw\",\"node-name\":\"disk2-file\","
	       "\"cache\":{\"direct\":false,\"no-flush\":true}}",
	       "nvme: ../ folded into topo_dir, unsafe = no-flush");
	ok(has_pair(
	       &sv, "-device",
	       "{\"driver\":\"nvme\",\"drive\":\"disk2\",\"serial\":\"disk2\",\"id\":\"disk2\","
	       "\"write-cache\":\"on\"}"),
	   "nvme: with a serial");

	is_str(
	    opt_value(&sv, "-blockdev", 6),
	    "{\"driver\":\"file\",\"filename\":\"/srv/topo/ide.img\",\"node-name\":\"disk3-file\","
	    "\"aio\":\"threads\",\"cache\":{\"direct\":true,\"no-flush\":false}}",
	    "ide: directsync = direct, aio threads");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"ide-hd\",\"bus\":\"ide.0\",\"drive\":\"disk3\",\"id\":\"disk3\","
		    "\"write-cache\":\"off\"}"),
	   "ide: ide-hd on the first ahci port");

	is_str(opt_value(&sv, "-blockdev", 8),
	       "{\"driver\":\"file\",\"filename\":\"/srv/topo/"
	       "install.iso\",\"node-name\":\"disk4-file\","
	       "\"read-only\":true}",
	       "cdrom: read-only file node");
	is_str(opt_value(&sv, "-blockdev", 9),
	       "{\"driver\":\"raw\",\"file\":\"disk4-file\",\"node-name\":\"disk4\",\"read-only\":"
	       "true}",
	       "cdrom: raw read-only");
	ok(has_pair(
	       &sv, "-device",
	       "{\"driver\":\"ide-cd\",\"bus\":\"ide.1\",\"drive\":\"disk4\",\"id\":\"disk4\"}"),
	   "cdrom: ide-cd on the next ahci port");

	ok(has_pair(
	       &sv, "-device",
	       "{\"driver\":\"scsi-hd\",\"bus\":\"scsi0.0\",\"channel\":0,\"scsi-id\":1,\"lun\":0,"
	       "\"drive\":\"disk5\",\"id\":\"disk5\",\"write-cache\":\"on\"}"),
	   "scsi: second disk on the same controller, next scsi-id");
	is_int((long long)count_opt(&sv, "-device"), 10,
	       "one -device per disk, the seed and the scsi controller");
	is_str(opt_value(&sv, "-blockdev", 13),
	       "{\"driver\":\"qcow2\",\"file\":\"disk6-file\",\"node-name\":\"disk6\"}",
	       "backing: overlay is qcow2, backing chain from its header");
	is_str(
	    opt_value(&sv, "-blockdev", 14),
	    "{\"driver\":\"file\",\"filename\":\"/srv/topo/x,y.img\",\"node-name\":\"disk7-file\"}",
	    "commas in paths need no escaping in JSON");

	iseed = index_of(&sv, "{\"driver\":\"scsi-cd\",\"bus\":\"scsi0.0\",\"channel\":0,"
			      "\"scsi-id\":2,\"lun\":0,\"drive\":\"seed\",\"id\":\"seed\"}");
	ok(iseed > 0, "seed: scsi-cd on the virtio-scsi controller, also on q35");
	i0 = index_of(&sv, "{\"driver\":\"virtio-blk-pci\",\"drive\":\"disk7\",\"id\":\"disk7\"}");
	ok(i0 > 0 && iseed > i0, "seed: after every disk");
	is_str(opt_value(&sv, "-blockdev", 16),
	       "{\"driver\":\"file\",\"filename\":\"/dev/fdset/6\",\"node-name\":\"seed-file\","
	       "\"read-only\":true}",
	       "seed: an fd set, read-only");
	ok(p.nfiles == 2 && streq(p.files[0].opaque, "disk6") &&
	       streq(p.files[0].path, "/srv/topo/base-overlay.img") && p.files[0].writable &&
	       p.files[0].fd == 5 && streq(p.files[1].opaque, "seed") &&
	       streq(p.files[1].path, "/run/vmrun/d/seed.iso") && !p.files[1].writable &&
	       p.files[1].fd == 6 && p.nfds == 4,
	   "files vmrun makes: the overlay read-write, the seed read-only, after the console");
	ok(has_pair(&sv, "-add-fd", "fd=5,set=5,opaque=disk6") &&
	       has_pair(&sv, "-add-fd", "fd=6,set=6,opaque=seed"),
	   "-add-fd: fd set N holds child fd N");
	is_str(opt_value(&sv, "-blockdev", 12),
	       "{\"driver\":\"file\",\"filename\":\"/dev/fdset/5\",\"node-name\":\"disk6-file\"}",
	       "backing: the overlay vmrun made is an fd set, writable");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
}

static void test_disk_rules_and_machines(void)
{
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	ok(refused("  e: {disks: [{file: a.img, aio: native}]}\n",
		   "aio 'native' needs cache 'none' or 'directsync'"),
	   "aio native without cache none: refused by the model");
	ok(refused("  e: {disks: [{file: a.img, aio: native, cache: writeback}]}\n",
		   "aio 'native' needs cache"),
	   "aio native with writeback: refused");
	is_int(plan_of(&p, "  e: {disks: [{file: a.img, aio: native, cache: directsync}]}\n", "e",
		       "/t", VMR_ACCEL_TCG, true),
	       0, "aio native with directsync: accepted");
	vmr_plan_free(&p);
	ok(refused("  e: {disks: [{file: r.img, bus: ide, readonly: true}]}\n",
		   "an ide disk cannot be read-only"),
	   "read-only ide disk: refused");

	/* seven IDE devices on q35's six AHCI ports */
	ok(refused("  e: {disks: [{cdrom: c.iso}, {cdrom: c.iso}, {cdrom: c.iso}, {cdrom: c.iso}, "
		   "{cdrom: c.iso}, {cdrom: c.iso}, {cdrom: c.iso}]}\n",
		   "more than 6 ide devices"),
	   "q35: seventh ide device is refused");
	is_int(
	    plan_of(&p,
		    "  e: {disks: [{cdrom: c.iso}, {cdrom: c.iso}, {cdrom: c.iso}, {cdrom: c.iso}, "
		    "{cdrom: c.iso}, {cdrom: c.iso}]}\n",
		    "e", "/t", VMR_ACCEL_TCG, true),
	    0, "q35: six ide devices plan");
	is_int(build(&p, &sv, &err), 0, "q35: six ide devices fit");
	vmr_plan_free(&p);

	/* pc: two buses with two units each */
	plan_of(&p,
		"  e: {machine: pc, disks: [{file: a.img, bus: ide}, {cdrom: c.iso}, {cdrom: "
		"c.iso}]}\n",
		"e", "/t", VMR_ACCEL_TCG, true);
	is_int(build(&p, &sv, &err), 0, "pc: builds");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"ide-hd\",\"bus\":\"ide.0\",\"unit\":0,\"drive\":\"disk0\","
		    "\"id\":\"disk0\",\"bootindex\":1}"),
	   "pc: first ide device on ide.0 unit 0");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"ide-cd\",\"bus\":\"ide.1\",\"unit\":0,\"drive\":\"disk2\","
		    "\"id\":\"disk2\"}"),
	   "pc: third ide device on ide.1 unit 0");
	vmr_plan_free(&p);
	ok(refused("  e: {machine: pc, disks: [{file: a.img, bus: ide}, {cdrom: c.iso}, {cdrom: "
		   "c.iso}, {cdrom: c.iso}, {cdrom: c.iso}]}\n",
		   "more than 4 ide devices"),
	   "pc: fifth ide device is refused");

	/* a machine without IDE: cdroms go to virtio-scsi, ide disks are refused */
	plan_of(&p, "  e: {machine: microvm, disks: [{cdrom: c.iso}]}\n", "e", "/t", VMR_ACCEL_TCG,
		true);
	is_int(build(&p, &sv, &err), 0, "microvm: cdrom builds");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"scsi-cd\",\"bus\":\"scsi0.0\",\"channel\":0,\"scsi-id\":0,"
		    "\"lun\":0,\"drive\":\"disk0\",\"id\":\"disk0\",\"bootindex\":1}"),
	   "microvm: cdrom becomes scsi-cd");
	vmr_plan_free(&p);
	ok(refused("  e: {machine: microvm, disks: [{file: a.img, bus: ide}]}\n",
		   "bus 'ide' needs a q35 or pc machine, not 'microvm'"),
	   "microvm: ide disk is refused");

	/* with a kernel no disk carries a bootindex */
	plan_of(
	    &p,
	    "  e: {kernel: vmlinuz, initrd: ./boot/initrd.img, append: \"console=ttyS0 quiet\", "
	    "disks: [{file: a.img}]}\n",
	    "e", "/t/x", VMR_ACCEL_TCG, true);
	is_int(build(&p, &sv, &err), 0, "kernel: builds");
	is_str(opt_value(&sv, "-kernel", 0), "/t/x/vmlinuz", "kernel: resolved path");
	is_str(opt_value(&sv, "-initrd", 0), "/t/x/boot/initrd.img", "initrd: ./ folded");
	is_str(opt_value(&sv, "-append", 0), "console=ttyS0 quiet",
	       "append: verbatim, one argument");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"virtio-blk-pci\",\"drive\":\"disk0\",\"id\":\"disk0\"}"),
	   "kernel: disk without bootindex");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
}

static void test_sandbox_and_qemu_args(void)
{
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	plan_of(&p, "  s: {qemu_args: [-device, virtio-rng-pci, -sandbox, \"off\"]}\n", "s", "/t",
		VMR_ACCEL_TCG, true);
	is_int(build(&p, &sv, &err), 0, "qemu_args: builds");
	ok(sv.n >= 4 && streq(sv.v[sv.n - 4], "-device") &&
	       streq(sv.v[sv.n - 3], "virtio-rng-pci") && streq(sv.v[sv.n - 2], "-sandbox") &&
	       streq(sv.v[sv.n - 1], "off"),
	   "qemu_args: verbatim and last");
	ok(find_opt(&sv, "-sandbox", 0) < (long)sv.n - 4, "sandbox: before qemu_args");
	p.sandbox = false;
	is_int(build(&p, &sv, &err), 0, "no sandbox: builds");
	is_int((long long)count_opt(&sv, "-sandbox"), 1, "no sandbox: only the user's -sandbox");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
}

static void test_rng(void)
{
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	plan_of(&p, "  r: {rng: true}\n  n: {rng: false}\n", "r", "/t", VMR_ACCEL_TCG, true);
	is_int(build(&p, &sv, &err), 0, "rng: builds");
	ok(has_pair(&sv, "-object",
		    "{\"qom-type\":\"rng-random\",\"id\":\"rng0\",\"filename\":\"/dev/urandom\"}"),
	   "rng: an rng-random backend on /dev/urandom");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"virtio-rng-pci\",\"rng\":\"rng0\",\"id\":\"rng0\"}"),
	   "rng: a virtio-rng-pci device");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
	plan_of(&p, "  n: {rng: false}\n", "n", "/t", VMR_ACCEL_TCG, true);
	is_int(build(&p, &sv, &err), 0, "rng false: builds");
	is_int((long long)count_opt(&sv, "-object"), 0, "rng false: no device");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
	ok(refused("  r: {rng: yes}\n", "'rng' must be true or false"), "rng: a boolean");
}

static void test_image(void)
{
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	plan_of(&p, "  i: {image: debian-12.qcow2, disks: [{file: data.img}]}\n", "i", "/t",
		VMR_ACCEL_TCG, true);
	is_str(p.root_disk, "/var/lib/vmrun/images/i/root.qcow2",
	       "image: root overlay in image_dir");
	free(p.root_disk);
	p.root_disk = NULL;
	ok(build(&p, &sv, &err) < 0 && err->status == VMR_EXIT_USAGE &&
	       err_has(err, "guest 'i': the root disk overlay on image 'debian-12.qcow2' is not "
			    "in the plan"),
	   "image without root_disk in the plan: error");
	vmr_error_clear(&err);
	p.root_disk = xstrdup("/run/vmrun/i/root.qcow2");
	is_int(build(&p, &sv, &err), 0, "image: builds");
	is_str(opt_value(&sv, "-blockdev", 0),
	       "{\"driver\":\"file\",\"filename\":\"/run/vmrun/i/root.qcow2\",\"node-name\":"
	       "\"root-file\"}",
	       "image: root overlay file node first");
	is_str(opt_value(&sv, "-blockdev", 1),
	       "{\"driver\":\"qcow2\",\"file\":\"root-file\",\"node-name\":\"root\"}",
	       "image: qcow2 format node");
	is_str(opt_value(&sv, "-device", 0),
	       "{\"driver\":\"virtio-blk-pci\",\"drive\":\"root\",\"id\":\"root\",\"bootindex\":1}",
	       "image: virtio root disk boots");
	is_str(opt_value(&sv, "-device", 1),
	       "{\"driver\":\"virtio-blk-pci\",\"drive\":\"disk0\",\"id\":\"disk0\"}",
	       "image: listed disks follow, without bootindex");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
}

static void test_plan_path(void)
{
	static const struct {
		const char *dir, *path, *want;
	} cases[] = {
	    {"/work/main/examples", "../build/testguest/vmlinuz",
	     "/work/main/build/testguest/vmlinuz"},
	    {"/work/main/examples", "disk.qcow2", "/work/main/examples/disk.qcow2"},
	    {"/work/main/examples", "./a/./b", "/work/main/examples/a/./b"},
	    {"/work/main/examples", "/abs/x", "/abs/x"},
	    {"/work/main/examples", "../../../../x", "/x"},
	    {"/work/main/examples", "a/../b", "/work/main/examples/a/../b"},
	    {"/work/main/examples", "..", "/work/main"},
	    {"/work/main/examples/", "..//x", "/work/main/x"},
	    {"/", "x", "/x"},
	    {"/", "../x", "/x"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmr_plan p = {.topo_dir = (char *)cases[i].dir};
		char *s;

		s = vmr_plan_path(&p, cases[i].path);
		is_str(s, cases[i].want, "plan path '%s' in '%s'", cases[i].path, cases[i].dir);
		free(s);
	}
}

int main(void)
{
	test_minimal();
	test_accel_cpu_memory();
	test_fds();
	test_nic_options();
	test_vf();
	test_disks();
	test_disk_rules_and_machines();
	test_sandbox_and_qemu_args();
	test_rng();
	test_image();
	test_plan_path();
	vmr_topology_free(topo);
	return tap_done();
}
