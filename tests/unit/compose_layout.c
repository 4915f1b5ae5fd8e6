/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compose/: host layout, per-guest needs and grants, checks, shell quoting. */
#include <stdio.h>

#include "compose/compose.h"
#include "compose/internal.h"
#include "lib/devices/devices.h"
#include "lib/model/topology.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

static struct vmr_topology *load(const char *text)
{
	struct vmr_topology *t = NULL;
	struct vmr_diags d = {0};

	if (vmr_topology_load_buffer("t.yaml", text, strlen(text), vmr_device_kinds(), &t, &d) <
	    0) {
		for (size_t i = 0; i < d.n; i++)
			tap_diag("%u:%u: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
		t = NULL;
	}
	vmr_diags_clear(&d);
	return t;
}

static bool has(const struct vmr_strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (streq(sv->v[i], s))
			return true;
	return false;
}

static void test_layout(void)
{
	struct vmr_topology *t = load("version: 1\n"
				      "hosts:\n"
				      "  h2: {address: 10.0.0.2}\n"
				      "  h1: {address: 10.0.0.1, primary: true}\n"
				      "  idle.lab-3: {}\n"
				      "ctrlif: {parent: eth0, address: 172.25.160.1/24}\n"
				      "guests:\n"
				      "  a: {host: h2, nics: [{name: n, vf: \"0000:3b:00.0\"}]}\n"
				      "  b: {}\n"
				      "  c: {host: h2, nics: [{name: x, vf: \"0000:3b:00.0\"},\n"
				      "                       {name: y, vf: \"0000:1a:00.0\"}]}\n");
	struct vmr_compose_layout l;

	if (!ok(t != NULL, "layout topology loads"))
		return;
	compose_layout_build(t, &l);
	is_int(l.nhosts, 3, "three hosts");
	is_str(l.hosts[0].name, "h1", "the primary host comes first");
	ok(l.hosts[0].local && !l.hosts[0].docker_host, "the primary host is driven locally");
	ok(l.hosts[0].ctrlif && !l.hosts[1].ctrlif, "the ctrlif lives on the primary host");
	is_str(l.hosts[1].name, "h2", "then the others in file order");
	is_str(l.hosts[1].docker_host, "ssh://10.0.0.2", "remote hosts over ssh to their address");
	is_str(l.hosts[1].ssh_target, "10.0.0.2", "ssh target is the address");
	ok(l.hosts[1].sriov && !l.hosts[0].sriov, "SR-IOV only where a guest uses a VF");
	ok(l.hosts[1].npfs == 2 && l.hosts[1].pfs[0].bus == 0x1a && l.hosts[1].nvfs[0] == 1 &&
	       l.hosts[1].pfs[1].bus == 0x3b && l.hosts[1].nvfs[1] == 2,
	   "VFs counted per PF, PFs sorted by address");
	is_str(l.hosts[2].service, "host_idle_lab_3", "dots and dashes become underscores");
	is_str(l.hosts[2].docker_host, "ssh://idle.lab-3", "no address: the name");
	is_int(l.hosts[2].nguests, 0, "a host without guests is kept");
	is_int(l.guest_host[0], 1, "a on h2");
	is_int(l.guest_host[1], 0, "an unplaced guest runs on the primary host");
	is_int(l.hosts[1].nguests, 2, "h2 has a and c");
	ok(l.hosts[1].guests[0] == 0 && l.hosts[1].guests[1] == 2, "in file order");
	compose_layout_free(&l);
	vmr_topology_free(t);

	t = load("version: 1\n"
		 "hosts: {r1: {}}\n"
		 "guests:\n"
		 "  a: {host: r1}\n"
		 "  b: {}\n");
	if (!ok(t != NULL, "no-primary topology loads"))
		return;
	compose_layout_build(t, &l);
	is_int(l.nhosts, 2, "no primary host: the local machine is added for unplaced guests");
	is_str(l.hosts[0].name, VMR_COMPOSE_LOCAL_HOST, "named local");
	ok(l.hosts[0].local && !l.hosts[0].host, "it is local and not a topology host");
	ok(!l.hosts[1].local, "r1 is remote");
	is_int(l.guest_host[1], 0, "b runs locally");
	compose_layout_free(&l);
	vmr_topology_free(t);

	t = load("version: 1\n"
		 "hosts: {r1: {}}\n"
		 "guests:\n"
		 "  a: {host: r1}\n");
	if (!ok(t != NULL, "all-placed topology loads"))
		return;
	compose_layout_build(t, &l);
	is_int(l.nhosts, 1, "every guest placed and no ctrlif: no local host");
	compose_layout_free(&l);
	vmr_topology_free(t);

	t = load("version: 1\nguests:\n  a: {}\n");
	if (!ok(t != NULL, "hostless topology loads"))
		return;
	compose_layout_build(t, &l);
	ok(l.nhosts == 1 && l.hosts[0].local && streq(l.hosts[0].service, "host_local"),
	   "no hosts at all: one local host, host_local");
	compose_layout_free(&l);
	vmr_topology_free(t);
}

static const struct vmr_compose_path *find_path(const struct vmr_compose_needs *n,
						const char *container)
{
	for (size_t i = 0; i < n->npaths; i++)
		if (streq(n->paths[i].container, container))
			return &n->paths[i];
	return NULL;
}

static void test_needs(void)
{
	struct vmr_topology *t =
	    load("version: 1\n"
		 "guests:\n"
		 "  m:\n"
		 "    accel: tcg\n"
		 "    kernel: ../k/vmlinuz\n"
		 "    initrd: ./initrd.img\n"
		 "    nics: [{name: n, macvtap: eth1}]\n"
		 "  k:\n"
		 "    image: /img/base.qcow2\n"
		 "    disks:\n"
		 "      - {file: /d/k-data.qcow2, backing: /img/data.qcow2, size: 8G}\n"
		 "      - {file: /d/raw.img, format: raw}\n"
		 "      - {file: local.qcow2, backing: base.qcow2}\n"
		 "      - {cdrom: /iso/x.iso}\n"
		 "      - {file: /img/data.qcow2, readonly: true}\n"
		 "    nics:\n"
		 "      - {name: b, bridge: br0}\n"
		 "      - {name: p, pci: \"0000:1a:00.1\"}\n"
		 "  u:\n"
		 "    accel: kvm\n"
		 "    nics: [{name: s, user: {}}]\n");
	struct vmr_compose_needs n;
	const struct vmr_compose_path *p;

	if (!ok(t != NULL, "needs topology loads"))
		return;
	compose_guest_needs(&t->guests[0], "/top/dir", &n);
	ok(!n.kvm && !n.tun && n.macvtap && n.net_admin && !n.vfio,
	   "tcg + macvtap: tap node, NET_ADMIN; no /dev/kvm");
	is_int(n.npaths, 2, "kernel and initrd");
	p = find_path(&n, "/k/vmlinuz");
	ok(p && streq(p->host, "/top/k/vmlinuz") && !p->rw && !p->dir,
	   "../k/vmlinuz: host file next to the topology, seen where vmrun resolves it from "
	   "/vmrun");
	p = find_path(&n, "/vmrun/initrd.img");
	ok(p && streq(p->host, "/top/dir/initrd.img"), "./initrd.img folds the dot");
	compose_needs_free(&n);

	compose_guest_needs(&t->guests[1], "/top/dir", &n);
	ok(n.kvm && n.tun && !n.macvtap && n.vfio && n.root_overlay,
	   "auto accel, bridge and pci: kvm, tun, vfio; image: root overlay");
	ok((p = find_path(&n, "/img/base.qcow2")) && !p->rw, "the base image is read-only");
	ok((p = find_path(&n, "/d")) && p->dir && p->rw,
	   "an absolute overlay: its directory, writable (created atomically)");
	ok((p = find_path(&n, "/d/raw.img")) && !p->dir && p->rw,
	   "an absolute disk without backing: the file, writable");
	ok(!find_path(&n, "/vmrun/local.qcow2"), "a relative writable disk lives in the volume");
	ok((p = find_path(&n, "/vmrun/base.qcow2")) && streq(p->host, "/top/dir/base.qcow2"),
	   "its relative base comes from the topology's directory");
	ok((p = find_path(&n, "/iso/x.iso")) && !p->rw, "cdrom read-only");
	ok((p = find_path(&n, "/img/data.qcow2")) && !p->rw,
	   "a file used as base and as read-only disk is mounted once");
	for (size_t i = 1; i < n.npaths; i++)
		if (!ok(strcmp(n.paths[i - 1].container, n.paths[i].container) < 0,
			"paths sorted and unique (%s)", n.paths[i].container))
			break;
	compose_needs_free(&n);

	compose_guest_needs(&t->guests[2], "/top/dir", &n);
	ok(n.kvm && !n.tun && !n.net_admin && !n.macvtap && !n.vfio && !n.npaths,
	   "user networking with kvm: /dev/kvm and nothing else");
	compose_needs_free(&n);
	vmr_topology_free(t);
}

static void test_grants(void)
{
	struct vmr_topology *t = load("version: 1\n"
				      "guests:\n"
				      "  v:\n"
				      "    stop_timeout: 30\n"
				      "    nics:\n"
				      "      - {name: a, macvtap: eth1}\n"
				      "      - {name: f, vf: \"0000:3b:00.0\"}\n"
				      "  w:\n"
				      "    accel: tcg\n"
				      "    nics: [{name: t, tap: tap7}]\n"
				      "  x:\n"
				      "    accel: tcg\n"
				      "    nics: [{name: s, user: {}}]\n");
	struct vmr_compose_opts opts = {.topology_dir = "/t"};
	struct compose_grants g;
	struct vmr_strvec sv = VMR_STRVEC_INIT;

	if (!ok(t != NULL, "grants topology loads"))
		return;
	compose_guest_grants(&t->guests[0], COMPOSE_TARGET_COMPOSE, &opts, &g);
	ok(has(&g.caps, "NET_ADMIN") && has(&g.caps, "MKNOD") && has(&g.caps, "SETPCAP") &&
	       g.caps.n == 3,
	   "macvtap + vf: NET_ADMIN, MKNOD, and SETPCAP to drop them from QEMU's bounding set");
	ok(has(&g.cgroup_rules, "c *:* rwm"), "a char device rule for the dynamic majors");
	ok(g.memlock && g.sysfs_rw && has(&g.security_opt, "apparmor:unconfined"),
	   "VFIO: memlock, writable sysfs, AppArmor unconfined");
	ok(!g.privileged, "compose never needs privileged");
	compose_grants_free(&g);
	compose_guest_grants(&t->guests[0], COMPOSE_TARGET_KUBE, &opts, &g);
	ok(g.privileged && has(&g.caps, "IPC_LOCK"),
	   "kube: privileged for the devices, IPC_LOCK instead of a memlock ulimit");
	compose_grants_free(&g);
	compose_guest_grants(&t->guests[1], COMPOSE_TARGET_KUBE, &opts, &g);
	ok(!g.privileged && g.devices.n == 1 && has(&g.devices, "/dev/net/tun"),
	   "kube: tcg + tap: only /dev/net/tun, in the runtime's default devices: unprivileged");
	ok(has(&g.caps, "NET_ADMIN") && !has(&g.caps, "MKNOD") && !g.cgroup_rules.n,
	   "tap: NET_ADMIN, no tap node");
	compose_grants_free(&g);
	compose_guest_grants(&t->guests[2], COMPOSE_TARGET_KUBE, &opts, &g);
	ok(!g.privileged && !g.devices.n && !g.caps.n,
	   "kube: tcg + user networking: unprivileged, no devices, no capabilities");
	ok(!g.env.n, "the default state directory needs no environment");
	compose_grants_free(&g);
	opts.state_dir = "/srv/state";
	compose_guest_grants(&t->guests[2], COMPOSE_TARGET_COMPOSE, &opts, &g);
	ok(g.env.n == 2 && streq(g.env.v[0], "VMRUN_STATE_DIR") && streq(g.env.v[1], "/srv/state"),
	   "another state directory: VMRUN_STATE_DIR tells the container's vmrun");
	ok(g.nmounts >= 3 && streq(g.mounts[2].source, "/srv/state/x") &&
	       streq(g.mounts[2].target, "/srv/state/x"),
	   "and the guest's state directory is mounted at the same path");
	compose_grants_free(&g);

	is_int(compose_guest_grace(&t->guests[0]), 30 + VMR_COMPOSE_TEARDOWN_SECONDS,
	       "grace = stop_timeout + teardown");
	is_int(compose_guest_grace(&t->guests[1]),
	       VMR_DEFAULT_STOP_TIMEOUT + VMR_COMPOSE_TEARDOWN_SECONDS, "default stop_timeout");

	compose_guest_argv(&t->guests[0], &sv);
	ok(sv.n == 4 && streq(sv.v[0], "vmrun") && streq(sv.v[1], "run") &&
	       streq(sv.v[2], VMR_COMPOSE_TOPOLOGY_PATH) && streq(sv.v[3], "v"),
	   "guest argv: vmrun run /vmrun/topology.yaml v");
	vmr_strvec_clear(&sv);
	compose_guest_labels(&(struct vmr_compose_host){.name = "h"}, &t->guests[0], "guest", &sv);
	ok(sv.n >= 6 && streq(sv.v[0], "vmrun.role") && streq(sv.v[3], "h") &&
	       has(&sv, "vmrun.mac.a") && !has(&sv, "vmrun.ip.a"),
	   "labels: role, host, guest, MACs (no IP when none)");
	vmr_strvec_clear(&sv);
	vmr_topology_free(t);
}

static void test_check(void)
{
	struct vmr_topology *t = load("version: 1\n"
				      "hosts: {a-b: {primary: true}, a.b: {}, local: {}}\n"
				      "guests: {g: {host: a.b}}\n");
	struct vmr_diags d = {0};

	if (!ok(t != NULL, "check topology loads"))
		return;
	is_int(compose_topology_check(t, &d), -EINVAL, "colliding and reserved host names fail");
	is_int(d.n, 2, "two problems");
	ok(d.n == 2 && strstr(d.v[0].msg, "host 'a.b'") && strstr(d.v[0].msg, "'host_a_b'") &&
	       strstr(d.v[0].msg, "host 'a-b'"),
	   "names both hosts and the service");
	ok(d.n == 2 && strstr(d.v[1].msg, "host 'local'") && d.v[1].line == 2,
	   "local: reserved, with its position");
	vmr_diags_clear(&d);
	vmr_topology_free(t);

	t = load("version: 1\nhosts: {local: {primary: true}}\nguests: {g: {}}\n");
	if (ok(t != NULL, "primary 'local' loads"))
		is_int(compose_topology_check(t, &d), 0, "a primary host may be called local");
	vmr_diags_clear(&d);
	vmr_topology_free(t);
}

static void test_quote(void)
{
	char *q;

	q = compose_sh_quote("it's");
	is_str(q, "'it'\\''s'", "single quote escaped");
	free(q);
	q = compose_sh_quote("");
	is_str(q, "''", "empty string");
	free(q);
	q = compose_sh_quote("$HOME `x` \\n");
	is_str(q, "'$HOME `x` \\n'", "nothing expands inside single quotes");
	free(q);
	q = compose_host_service("192.168.60.2");
	is_str(q, "host_192_168_60_2", "IP host names make service names");
	free(q);
}

int main(void)
{
	test_layout();
	test_needs();
	test_grants();
	test_check();
	test_quote();
	return tap_done();
}
