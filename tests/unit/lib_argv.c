/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plan and the QEMU argv builder on hand-made guests (no topology
 * loader): fd numbering, every disk bus and cache mode, every NIC kind,
 * the errors the builder reports, and path resolution.
 */
#include <stdio.h>

#include "lib/plan/plan.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

/* ---- helpers ---------------------------------------------------------- */

static struct vmr_topology topo = {.file = (char *)"/t/topology.yaml", .version = 1};

static void guest_init(struct vmr_guest *g, const char *name)
{
	*g = (struct vmr_guest){.name = (char *)name, .vcpus = 2, .memory = 1024ull << 20};
}

static struct vmr_nic nic_make(const char *name, enum vmr_nic_kind kind, unsigned last)
{
	return (struct vmr_nic){
	    .name = (char *)name,
	    .kind = kind,
	    .queues = 1,
	    .mac = {{0x52, 0xde, 0xac, 0x19, 0xa0, (uint8_t)last}},
	};
}

static struct vmr_disk disk_make(const char *file, enum vmr_disk_bus bus)
{
	return (struct vmr_disk){.file = (char *)file, .bus = bus};
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
	struct vmr_guest g;
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	bool same = true;

	guest_init(&g, "m");
	vmr_plan_init(&p, &topo, &g, "/usr/bin/qemu-system-x86_64", "/t", VMR_ACCEL_TCG);
	is_int(p.qmp_fd, 3, "minimal: qmp fd is 3 without NICs");
	is_int(p.console_fd, 4, "minimal: console fd is 4");
	is_int(p.nfds, 2, "minimal: two fds passed");
	ok(p.sandbox && p.vhost, "minimal: plan defaults to sandbox and vhost");
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
	struct vmr_guest g;
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	guest_init(&g, "k");
	g.vcpus = 10;
	g.memory = 4096ull << 20;
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_KVM);
	is_int(build(&p, &sv, &err), 0, "kvm: builds");
	is_str(opt_value(&sv, "-accel", 0), "kvm", "kvm: -accel kvm");
	is_str(opt_value(&sv, "-cpu", 0), "host", "kvm: -cpu host by default");
	is_str(opt_value(&sv, "-smp", 0), "10,sockets=1,cores=10,threads=1", "kvm: -smp 10");
	is_str(opt_value(&sv, "-m", 0), "4096M", "memory: whole MiB");
	vmr_plan_free(&p);

	g.cpu = (char *)"host,-vmx,-svm";
	g.machine = (char *)"pc-q35-7.2";
	g.memory = (1ull << 20) + 4096;
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
	is_int(build(&p, &sv, &err), 0, "cpu override: builds");
	is_str(opt_value(&sv, "-cpu", 0), "max,-vmx,-svm",
	       "cpu host under tcg: max with the same feature flags");
	is_str(opt_value(&sv, "-machine", 0), "pc-q35-7.2", "machine override");
	is_str(opt_value(&sv, "-accel", 0), "tcg,thread=multi", "tcg is multi-threaded");
	is_str(opt_value(&sv, "-m", 0), "1028K", "memory: KiB when not whole MiB");

	vmr_strvec_clear(&sv);
	g.cpu = (char *)"hostile";
	is_int(build(&p, &sv, &err), 0, "other cpu model: builds");
	is_str(opt_value(&sv, "-cpu", 0), "hostile", "other cpu model: verbatim under tcg");
	vmr_strvec_clear(&sv);
	g.cpu = (char *)"host";
	p.accel = VMR_ACCEL_KVM;
	is_int(build(&p, &sv, &err), 0, "cpu host under kvm: builds");
	is_str(opt_value(&sv, "-cpu", 0), "host", "cpu host under kvm: verbatim");

	p.accel = VMR_ACCEL_AUTO;
	ok(build(&p, &sv, &err) < 0 && err_has(err, "accelerator not resolved"),
	   "unresolved accel is an error");
	vmr_error_clear(&err);
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
}

static void test_fds(void)
{
	struct vmr_nic nics[5];
	struct vmr_guest g;
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	nics[0] = nic_make("vmctrl", VMR_NIC_MACVTAP, 3);
	nics[1] = nic_make("user0", VMR_NIC_USER, 4);
	nics[2] = nic_make("n3", VMR_NIC_BRIDGE, 5);
	nics[2].queues = 2;
	nics[3] = nic_make("n6", VMR_NIC_PCI, 6);
	nics[3].pci = (struct vmr_pci_addr){0, 0x1a, 0, 1};
	nics[4] = nic_make("n9", VMR_NIC_TAP, 7);
	guest_init(&g, "f");
	g.nics = nics;
	g.nnics = ARRAY_SIZE(nics);

	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
	is_int(p.nics[0].tapfd[0], 3, "fds: first tap-like NIC gets fd 3");
	is_int(p.nics[1].ntapfds, 0, "fds: user NIC has no tap fd");
	is_int(p.nics[2].ntapfds, 2, "fds: multiqueue NIC has one fd per queue");
	is_int(p.nics[2].tapfd[0], 4, "fds: second tap-like NIC, queue 0");
	is_int(p.nics[2].tapfd[1], 5, "fds: second tap-like NIC, queue 1");
	is_int(p.nics[3].ntapfds, 0, "fds: pci NIC has no tap fd");
	is_str(p.nics[3].vfio_host, "0000:1a:00.1", "fds: pci NIC's vfio host from the model");
	is_int(p.nics[4].tapfd[0], 6, "fds: third tap-like NIC");
	is_int(p.nics[0].vhostfd[0], 7, "fds: vhost fds follow all tap fds");
	is_int(p.nics[2].vhostfd[0], 8, "fds: vhost fd for queue 0");
	is_int(p.nics[2].vhostfd[1], 9, "fds: vhost fd for queue 1");
	is_int(p.nics[4].vhostfd[0], 10, "fds: vhost fd of third NIC");
	is_int(p.qmp_fd, 11, "fds: qmp after vhost fds");
	is_int(p.console_fd, 12, "fds: console last");
	is_int(p.nfds, 10, "fds: 3..12 passed");

	is_int(build(&p, &sv, &err), 0, "fds: builds");
	ok(has_pair(&sv, "-netdev", "tap,id=net-vmctrl,fd=3,vhost=on,vhostfd=7"),
	   "netdev: single queue with vhost");
	ok(has_pair(&sv, "-netdev", "tap,id=net-n3,fds=4:5,vhost=on,vhostfds=8:9"),
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

	p.vhost = false;
	vmr_plan_assign_fds(&p);
	is_int(p.nics[0].nvhostfds, 0, "vhost off: no vhost fds");
	is_int(p.qmp_fd, 7, "vhost off: qmp follows the tap fds");
	is_int(p.console_fd, 8, "vhost off: console");
	is_int(p.nfds, 6, "vhost off: 3..8 passed");
	is_int(build(&p, &sv, &err), 0, "vhost off: builds");
	ok(has_pair(&sv, "-netdev", "tap,id=net-n3,fds=4:5"), "vhost off: no vhost options");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
	vmr_error_free(err);
}

static void test_nic_options(void)
{
	struct vmr_hostfwd fwd[2] = {
	    {.host_port = 2222, .guest_port = 22},
	    {.udp = true,
	     .host_addr = (char *)"127.0.0.1",
	     .host_port = 5353,
	     .guest_addr = (char *)"10.0.2.15",
	     .guest_port = 53},
	};
	struct vmr_nic nics[3];
	struct vmr_guest g;
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	nics[0] = nic_make("mgmt", VMR_NIC_USER, 1);
	nics[0].forwards = fwd;
	nics[0].nforwards = 2;
	nics[1] = nic_make("jumbo", VMR_NIC_MACVTAP, 2);
	nics[1].mtu = 9000;
	nics[2] = nic_make("legacy", VMR_NIC_TAP, 3);
	nics[2].model = (char *)"e1000";
	nics[2].mtu = 1400;
	guest_init(&g, "o");
	g.nics = nics;
	g.nnics = ARRAY_SIZE(nics);
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
	is_int(p.nics[1].nvhostfds, 1, "vhost: virtio-net NIC gets a vhost fd");
	is_int(p.nics[2].nvhostfds, 0, "vhost: e1000 NIC gets none");
	is_int(p.qmp_fd, 6, "vhost: only one vhost fd numbered");
	is_int(build(&p, &sv, &err), 0, "nic options: builds");
	ok(has_pair(
	       &sv, "-netdev",
	       "user,id=net-mgmt,hostfwd=tcp::2222-:22,hostfwd=udp:127.0.0.1:5353-10.0.2.15:53"),
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
	ok(has_pair(&sv, "-netdev", "tap,id=net-legacy,fd=4"), "model override: tap without vhost");
	ok(has_pair(&sv, "-netdev", "tap,id=net-jumbo,fd=3,vhost=on,vhostfd=5"),
	   "virtio-net: tap with vhost");
	vmr_plan_free(&p);

	nics[2].queues = 2;
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
	ok(build(&p, &sv, &err) < 0 &&
	       err_has(err, "nic 'legacy' of guest 'o': 2 queues need a virtio-net model, not "
			    "'e1000'"),
	   "multiqueue with a non-virtio model: error");
	vmr_error_clear(&err);
	vmr_plan_free(&p);
	nics[2].queues = 1;

	nics[1].queues = VMR_MAX_QUEUES + 1;
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
	is_int(p.nics[1].ntapfds, VMR_MAX_QUEUES, "queues above the limit are clamped in the plan");
	ok(build(&p, &sv, &err) < 0 && err && err->status == VMR_EXIT_USAGE &&
	       err_has(err, "nic 'jumbo' of guest 'o': 17 queues, at most 16"),
	   "queues above the limit: builder error");
	vmr_error_clear(&err);
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
}

static void test_vf(void)
{
	struct vmr_nic nics[1];
	struct vmr_guest g;
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	nics[0] = nic_make("n3", VMR_NIC_VF, 9);
	nics[0].pci = (struct vmr_pci_addr){0, 0x1a, 0, 0};
	guest_init(&g, "v");
	g.nics = nics;
	g.nnics = 1;
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_KVM);
	ok(p.nics[0].vfio_host == NULL, "vf: not resolved by the plan itself");
	ok(build(&p, &sv, &err) < 0, "vf: unresolved is an error");
	ok(err && err->status == VMR_EXIT_USAGE, "vf: usage status");
	ok(err_has(err, "nic 'n3' of guest 'v': the vf of pf '0000:1a:00.0' is not resolved"),
	   "vf: message names nic, guest and pf");
	ok(sv.n == 0, "vf: nothing returned on failure");
	vmr_error_clear(&err);

	p.nics[0].vfio_host = xstrdup("0000:1a:02.3");
	is_int(build(&p, &sv, &err), 0, "vf: resolved builds");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"vfio-pci\",\"host\":\"0000:1a:02.3\",\"id\":\"hostdev-n3\"}"),
	   "vf: vfio-pci with the resolved VF");
	is_int(p.nfds, 2, "vf: no tap fds");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
}

static void test_disks(void)
{
	struct vmr_disk d[8];
	struct vmr_guest g;
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	long i0, iscsi, iseed;

	d[0] = disk_make("root.qcow2", VMR_BUS_VIRTIO);
	d[0].cache = VMR_CACHE_NONE;
	d[0].aio = VMR_AIO_NATIVE;
	d[1] = disk_make("/data/scratch.img", VMR_BUS_SCSI);
	d[1].cache = VMR_CACHE_WRITETHROUGH;
	d[1].aio = VMR_AIO_IO_URING;
	d[1].readonly = true;
	d[2] = disk_make("../nv.raw", VMR_BUS_NVME);
	d[2].cache = VMR_CACHE_UNSAFE;
	d[2].format = VMR_FORMAT_RAW;
	d[3] = disk_make("ide.img", VMR_BUS_IDE);
	d[3].cache = VMR_CACHE_DIRECTSYNC;
	d[3].aio = VMR_AIO_THREADS;
	d[4] = (struct vmr_disk){.cdrom = true, .file = (char *)"install.iso"};
	d[5] = disk_make("wb.img", VMR_BUS_SCSI);
	d[5].cache = VMR_CACHE_WRITEBACK;
	d[6] = disk_make("base-overlay.img", VMR_BUS_VIRTIO);
	d[6].backing = (char *)"base.qcow2";
	d[7] = disk_make("x,y.img", VMR_BUS_VIRTIO);
	guest_init(&g, "d");
	g.disks = d;
	g.ndisks = ARRAY_SIZE(d);
	vmr_plan_init(&p, &topo, &g, "qemu", "/srv/topo", VMR_ACCEL_TCG);
	p.seed_iso = xstrdup("/run/vmrun/d/seed.iso");
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
	       "{\"driver\":\"file\",\"filename\":\"/run/vmrun/d/"
	       "seed.iso\",\"node-name\":\"seed-file\","
	       "\"read-only\":true}",
	       "seed: absolute path read-only");
	vmr_strvec_clear(&sv);
	vmr_plan_free(&p);
}

static void test_disk_errors_and_machines(void)
{
	struct vmr_disk d[8];
	struct vmr_guest g;
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	guest_init(&g, "e");
	g.disks = d;
	g.ndisks = 1;

	d[0] = disk_make("a.img", VMR_BUS_VIRTIO);
	d[0].aio = VMR_AIO_NATIVE;
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
	ok(build(&p, &sv, &err) < 0 && err->status == VMR_EXIT_USAGE &&
	       err_has(err, "disk 'a.img' of guest 'e': aio 'native' needs cache 'none' or "
			    "'directsync'"),
	   "aio native without cache none: error");
	vmr_error_clear(&err);
	d[0].cache = VMR_CACHE_WRITEBACK;
	ok(build(&p, &sv, &err) < 0, "aio native with writeback: error");
	vmr_error_clear(&err);
	d[0].cache = VMR_CACHE_DIRECTSYNC;
	is_int(build(&p, &sv, &err), 0, "aio native with directsync: accepted");

	d[0] = disk_make("r.img", VMR_BUS_IDE);
	d[0].readonly = true;
	ok(build(&p, &sv, &err) < 0 && err_has(err, "an ide disk cannot be read-only"),
	   "read-only ide disk: error");
	vmr_error_clear(&err);
	vmr_plan_free(&p);

	/* seven IDE devices on q35's six AHCI ports */
	for (size_t i = 0; i < 7; i++)
		d[i] = (struct vmr_disk){.cdrom = true, .file = (char *)"c.iso"};
	g.ndisks = 7;
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
	ok(build(&p, &sv, &err) < 0 && err_has(err, "more than 6 ide devices"),
	   "q35: seventh ide device is an error");
	vmr_error_clear(&err);
	g.ndisks = 6;
	is_int(build(&p, &sv, &err), 0, "q35: six ide devices fit");
	vmr_plan_free(&p);

	/* pc: two buses with two units each */
	g.machine = (char *)"pc";
	g.ndisks = 3;
	d[0] = disk_make("a.img", VMR_BUS_IDE);
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
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
	g.ndisks = 5;
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
	ok(build(&p, &sv, &err) < 0 && err_has(err, "more than 4 ide devices"),
	   "pc: fifth ide device is an error");
	vmr_error_clear(&err);
	vmr_plan_free(&p);

	/* a machine without IDE: cdroms go to virtio-scsi, ide disks are refused */
	g.machine = (char *)"microvm";
	g.ndisks = 1;
	d[0] = (struct vmr_disk){.cdrom = true, .file = (char *)"c.iso"};
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
	is_int(build(&p, &sv, &err), 0, "microvm: cdrom builds");
	ok(has_pair(&sv, "-device",
		    "{\"driver\":\"scsi-cd\",\"bus\":\"scsi0.0\",\"channel\":0,\"scsi-id\":0,"
		    "\"lun\":0,\"drive\":\"disk0\",\"id\":\"disk0\",\"bootindex\":1}"),
	   "microvm: cdrom becomes scsi-cd");
	d[0] = disk_make("a.img", VMR_BUS_IDE);
	ok(build(&p, &sv, &err) < 0 &&
	       err_has(err, "bus 'ide' needs a q35 or pc machine, not 'microvm'"),
	   "microvm: ide disk is an error");
	vmr_error_clear(&err);
	vmr_plan_free(&p);

	/* with a kernel no disk carries a bootindex */
	g.machine = NULL;
	g.kernel = (char *)"vmlinuz";
	g.initrd = (char *)"./boot/initrd.img";
	g.append = (char *)"console=ttyS0 quiet";
	d[0] = disk_make("a.img", VMR_BUS_VIRTIO);
	vmr_plan_init(&p, &topo, &g, "qemu", "/t/x", VMR_ACCEL_TCG);
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
	struct vmr_guest g;
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	guest_init(&g, "s");
	vmr_strvec_push(&g.qemu_args, "-device");
	vmr_strvec_push(&g.qemu_args, "virtio-rng-pci");
	vmr_strvec_push(&g.qemu_args, "-sandbox");
	vmr_strvec_push(&g.qemu_args, "off");
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
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
	vmr_strvec_clear(&g.qemu_args);
	vmr_plan_free(&p);

	g.vcpus = 0;
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
	ok(build(&p, &sv, &err) < 0 && err_has(err, "guest 's': no vcpus"), "zero vcpus: error");
	vmr_error_clear(&err);
	vmr_plan_free(&p);
}

static void test_image(void)
{
	struct vmr_disk d[1];
	struct vmr_guest g;
	struct vmr_plan p;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;

	guest_init(&g, "i");
	g.image = (char *)"debian-12.qcow2";
	d[0] = disk_make("data.img", VMR_BUS_VIRTIO);
	g.disks = d;
	g.ndisks = 1;
	vmr_plan_init(&p, &topo, &g, "qemu", "/t", VMR_ACCEL_TCG);
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
	struct vmr_guest g;

	guest_init(&g, "p");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmr_plan p;
		char *s;

		vmr_plan_init(&p, &topo, &g, "qemu", cases[i].dir, VMR_ACCEL_TCG);
		s = vmr_plan_path(&p, cases[i].path);
		is_str(s, cases[i].want, "plan path '%s' in '%s'", cases[i].path, cases[i].dir);
		free(s);
		vmr_plan_free(&p);
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
	test_disk_errors_and_machines();
	test_sandbox_and_qemu_args();
	test_image();
	test_plan_path();
	return tap_done();
}
