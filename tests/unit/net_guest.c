/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest NIC setup against the kernel, in a network namespace of the test's
 * own (tests/net/nstest.h) with a veth pair as the parent: macvtap by name
 * and by MAC, missing parent, MTU and VLAN, bridge + tap, multiqueue,
 * duplicate MAC, rollback of a half-done setup, journal replay leaving the
 * link list as it was, a killed supervisor's leftovers reclaimed and a
 * foreign interface with our name left alone, extended-ack text.
 */
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "tests/net/nstest.h"

#include "lib/devices/devices.h"
#include "lib/base/journal.h"
#include "lib/plan/plan.h"
#include "lib/runtime/guestplan.h"
#include "lib/model/topology.h"
#include "net/net.h"
#include "tests/lib/tap.h"

static struct ns_env *env;
static struct vmr_config cfg;
static char *baseline;

static struct vmr_topology *topo_load(const char *yaml)
{
	struct vmr_topology *t = NULL;
	struct vmr_diags d = {0};

	if (vmr_topology_load_buffer("test.yaml", yaml, strlen(yaml), vmr_device_kinds(), &t, &d) <
	    0) {
		for (size_t i = 0; i < d.n; i++)
			tap_diag("%u:%u: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
		vmr_diags_clear(&d);
		return NULL;
	}
	vmr_diags_clear(&d);
	return t;
}

struct run {
	struct vmr_topology *t;
	struct vmr_plan plan;
	int *fds;
	struct vmr_journal *j;
	struct vmr_error *err;
	int r;
	char *jpath;
};

/*
 * rn's plan for guest g: vhost-net fds when vhost and the host (cfg's
 * dev root) has vhost-net, as vmrun run decides.
 */
static int plan_for(struct run *rn, const char *g, bool vhost)
{
	const struct vmr_guest *guest = vmr_topology_guest(rn->t, g);
	struct vmr_plan_opts po = {.cfg = &cfg, .topo_dir = "/"};

	if (vmr_facts_probe(&cfg, guest, VMR_ACCEL_TCG, &po.facts, NULL, NULL) < 0)
		return -1;
	po.facts.vhost = po.facts.vhost && vhost;
	return vmr_plan_build(rn->t, guest, &po, &rn->plan, NULL);
}

/* What reclaim of guest g of t finds (the links its NICs own). */
static int reclaim(struct vmr_topology *t, const char *g, struct vmr_error **err)
{
	const struct vmr_guest *guest = vmr_topology_guest(t, g);
	struct vmr_net_owned *owned = NULL;
	size_t n = 0;
	int r;

	vmr_devices_owned(guest, &owned, &n);
	r = vmr_net_reclaim(&cfg, guest->name, owned, n, true, err);
	vmr_devices_owned_free(owned, n);
	return r;
}

/* set up guest g of yaml, journal in the scratch dir, no vhost */
static void run_setup(struct run *rn, const char *yaml, const char *g, bool vhost)
{
	memset(rn, 0, sizeof(*rn));
	rn->t = topo_load(yaml);
	if (!rn->t) {
		rn->r = -EINVAL;
		return;
	}
	if (plan_for(rn, g, vhost) < 0) {
		rn->r = -EINVAL;
		return;
	}
	rn->fds = xcalloc((size_t)rn->plan.nfds, sizeof(int));
	for (int i = 0; i < rn->plan.nfds; i++)
		rn->fds[i] = -1;
	rn->jpath = xasprintf("%s/journal-%s.jsonl", env->tmp, g);
	if (vmr_journal_open(rn->jpath, &rn->j, &rn->err) < 0) {
		rn->r = -EIO;
		return;
	}
	rn->r = vmr_guest_setup(&cfg, rn->j, &rn->plan, rn->fds, NULL, NULL, &rn->err);
}

static char *err_text(struct run *rn)
{
	return rn->err ? vmr_error_text(rn->err) : xstrdup("(no error)");
}

/* close fds, replay the journal, free */
static int run_teardown(struct run *rn)
{
	struct vmr_error *e = NULL;
	int r = 0;

	for (int i = 0; rn->fds && i < rn->plan.nfds; i++)
		if (rn->fds[i] >= 0)
			close(rn->fds[i]);
	if (rn->j) {
		r = vmr_journal_replay(rn->j, &cfg, &e);
		if (r < 0) {
			char *s = vmr_error_text(e);
			tap_diag("replay: %s", s);
			free(s);
			vmr_error_free(e);
		}
		vmr_journal_close(rn->j);
	}
	if (rn->t) {
		vmr_plan_free(&rn->plan);
		vmr_topology_free(rn->t);
	}
	vmr_error_free(rn->err);
	free(rn->fds);
	free(rn->jpath);
	return r;
}

static bool link_is(const char *name, const char *kind, struct net_link *ret)
{
	struct net_link l;

	if (net_link_lookup(&env->nl, name, 0, &l, NULL) != 1)
		return false;
	if (ret)
		*ret = l;
	return streq(l.kind, kind);
}

static int count_open(const struct run *rn)
{
	int n = 0;

	for (int i = 0; i < rn->plan.nfds; i++)
		n += rn->fds[i] >= 0;
	return n;
}

static void check_baseline(const char *what)
{
	char *now = ns_links(env);

	is_str(now, baseline, "%s: the link list is as before", what);
	free(now);
}

#define GUEST_HDR "version: 1\nguests:\n  a:\n    accel: tcg\n    nics:\n"

static void test_macvtap_by_name(void)
{
	struct run rn;
	struct net_link l, parent;
	struct ifreq ifr;
	char mb[18];

	run_setup(
	    &rn,
	    GUEST_HDR
	    "    - {name: n1, macvtap: v0, mac: \"52:de:ac:19:a0:03\", queues: 2, mtu: 1400}\n",
	    "a", false);
	is_int(rn.r, 0, "macvtap by name: setup succeeds");
	if (rn.r < 0) {
		char *s = err_text(&rn);
		tap_diag("%s", s);
		free(s);
	}
	ok(link_is("vm-52deac19a003", "macvtap", &l), "macvtap 'vm-52deac19a003' exists");
	is_str(vmr_mac_format(&l.mac, mb), "52:de:ac:19:a0:03", "it has the guest MAC");
	is_str(l.alias, "vmrun:a:n1", "it carries the owner mark");
	ok(l.flags & IFF_UP, "it is up");
	is_int(l.mtu, 1400, "it has the MTU asked for");
	net_link_lookup(&env->nl, "v0", 0, &parent, NULL);
	is_int(l.link, parent.ifindex, "its lower device is 'v0'");
	is_str(rn.plan.devs[0].ifname, "vm-52deac19a003", "the plan names the host interface");
	is_int(count_open(&rn), 2, "two queue fds are open");
	memset(&ifr, 0, sizeof(ifr));
	ok(rn.fds[rn.plan.devs[0].fds[VMR_FD_TAP][1] - 3] >= 0 &&
	       ioctl(rn.fds[rn.plan.devs[0].fds[VMR_FD_TAP][1] - 3], TUNGETIFF, &ifr) == 0 &&
	       streq(ifr.ifr_name, "vm-52deac19a003"),
	   "the second queue fd is a tap of the macvtap");
	ok(ifr.ifr_flags & IFF_VNET_HDR, "the tap has a vnet header");
	is_int(vmr_journal_count(rn.j), 1, "one journal entry");
	is_int(run_teardown(&rn), 0, "macvtap by name: journal replay succeeds");
	ok(!link_is("vm-52deac19a003", "macvtap", NULL), "the macvtap is gone");
	check_baseline("macvtap by name");
}

static void test_macvtap_by_mac(void)
{
	struct run rn;
	struct net_link l, v1;

	run_setup(&rn,
		  GUEST_HDR
		  "    - {name: n1, macvtap: \"02:00:00:00:00:b1\", mac: \"52:de:ac:19:a0:04\"}\n",
		  "a", false);
	is_int(rn.r, 0, "macvtap by MAC: setup succeeds");
	net_link_lookup(&env->nl, "v1", 0, &v1, NULL);
	ok(link_is("vm-52deac19a004", "macvtap", &l) && l.link == v1.ifindex,
	   "the macvtap hangs off 'v1', the link with that MAC");
	is_int(run_teardown(&rn), 0, "macvtap by MAC: replay succeeds");
	check_baseline("macvtap by MAC");
}

static void test_missing_parent(void)
{
	struct run rn;
	char *s;

	run_setup(&rn, GUEST_HDR "    - {name: n1, macvtap: nosuch0}\n", "a", false);
	s = err_text(&rn);
	ok(rn.r < 0, "missing parent by name fails");
	is_str(s, "NIC 'n1': host netif 'nosuch0' not found: No such device", "the error names it");
	free(s);
	is_int(run_teardown(&rn), 0, "replay after the failure succeeds");
	check_baseline("missing parent by name");

	run_setup(&rn, GUEST_HDR "    - {name: n1, macvtap: \"a4:bf:01:cc:75:97\"}\n", "a", false);
	s = err_text(&rn);
	ok(rn.r < 0, "missing parent by MAC fails");
	is_str(s, "NIC 'n1': host netif not found for 'a4:bf:01:cc:75:97': No such device",
	       "the error names the MAC");
	free(s);
	run_teardown(&rn);
	check_baseline("missing parent by MAC");
}

static void test_parent_mac_ambiguous(void)
{
	struct net_link l;
	struct run rn;
	char *s;

	ok(ns_veth(env, "v2", "v3", "02:00:00:00:00:b1") == 0, "a second link with v1's MAC");
	run_setup(&rn, GUEST_HDR "    - {name: n1, macvtap: \"02:00:00:00:00:b1\"}\n", "a", false);
	s = err_text(&rn);
	ok(rn.r < 0, "a parent MAC that several links have fails");
	is_str(s,
	       "NIC 'n1': several host netifs have MAC '02:00:00:00:00:b1': 'v1' and 'v2': "
	       "Name not unique on network",
	       "the error names both links");
	free(s);
	run_teardown(&rn);
	if (net_link_lookup(&env->nl, "v2", 0, &l, NULL) == 1)
		net_link_delete_raw(&env->nl, l.ifindex);
	check_baseline("ambiguous parent MAC");
}

/* journal entries whose name is now held by something that is not what we made */
static void test_undo_checks_identity(void)
{
	struct net_link_spec spec = {.name = "vm-52deac19a0aa", .kind = "macvtap", .up = false};
	struct vmr_error *e = NULL;
	struct net_link v0, l;
	struct vmr_mac m;
	json_t *entry;

	/* our owner mark, but another MAC: a later link that copied the mark, not ours */
	vmr_mac_parse("52:de:ac:19:a0:bb", &m);
	net_link_lookup(&env->nl, "v0", 0, &v0, NULL);
	spec.parent = v0.ifindex;
	spec.mac = &m;
	ok(net_link_create_raw(&env->nl, &spec, NULL) == 0 &&
	       net_link_mark(&env->nl, spec.name, 0, "vmrun:a:n1", &l, NULL) > 0,
	   "a marked macvtap with another MAC");
	entry = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "net.link", "ifname", spec.name,
			  "kind", "macvtap", "mac", "52:de:ac:19:a0:aa", "owner", "vmrun:a:n1");
	is_int(net_undo_link(entry, &cfg, &e), 0, "undoing net.link succeeds");
	ok(link_is(spec.name, "macvtap", NULL), "and leaves the link whose MAC is not ours");
	json_decref(entry);

	/* a net.bridge entry whose name is now a marked link of another kind */
	entry = json_pack("{s:s, s:s, s:s}", "type", "net.bridge", "ifname", spec.name, "owner",
			  "vmrun:a:n1");
	is_int(net_undo_shared(entry, &cfg, &e), 0, "undoing net.bridge succeeds");
	ok(link_is(spec.name, "macvtap", NULL), "and leaves a link that is not a bridge");
	json_decref(entry);
	vmr_error_free(e);
	net_link_delete_raw(&env->nl, l.ifindex);
	check_baseline("undo checks identity");
}

static void test_rollback(void)
{
	struct run rn;

	/* the second NIC fails after the first made its macvtap and opened fds */
	run_setup(&rn,
		  GUEST_HDR "    - {name: n1, macvtap: v0}\n    - {name: n2, macvtap: nosuch1}\n",
		  "a", false);
	ok(rn.r < 0, "a guest whose second NIC fails: setup fails");
	is_int(count_open(&rn), 0, "no fd is left open");
	{
		char *now = ns_links(env);

		is_str(now, baseline, "the first NIC's macvtap was rolled back before any replay");
		free(now);
	}
	run_teardown(&rn);

	/* vhost-net asked for but missing: the facts say so, the plan has plain taps */
	cfg.dev_root = env->tmp; /* no vhost-net here */
	run_setup(&rn, GUEST_HDR "    - {name: n1, macvtap: v0}\n", "a", true);
	cfg.dev_root = NULL;
	is_int(rn.r, 0, "no vhost-net: setup succeeds");
	ok(!rn.plan.facts.vhost && rn.plan.devs[0].nfds[VMR_FD_VHOST] == 0,
	   "the plan has plain taps");
	is_int(rn.plan.qmp_fd, 4, "the QMP fd follows the single tap fd");
	is_int(rn.plan.nfds, 3, "three child fds (tap, QMP, console)");
	is_int(count_open(&rn), 1, "one fd is open");
	run_teardown(&rn);
	check_baseline("no vhost-net");
}

static void test_duplicate_mac(void)
{
	struct net_link_spec spec = {.name = "other0", .kind = "macvlan", .up = true};
	struct vmr_mac m;
	struct net_link v0;
	struct run rn;
	char *before, *now, *s;

	vmr_mac_parse("52:de:ac:19:a0:05", &m);
	net_link_lookup(&env->nl, "v0", 0, &v0, NULL);
	spec.parent = v0.ifindex;
	spec.mac = &m;
	is_int(net_link_create_raw(&env->nl, &spec, NULL), 0,
	       "a foreign macvlan uses the guest MAC on 'v0'");
	before = ns_links(env);
	run_setup(&rn, GUEST_HDR "    - {name: n1, macvtap: v0, mac: \"52:de:ac:19:a0:05\"}\n", "a",
		  false);
	s = err_text(&rn);
	ok(rn.r < 0, "a duplicate MAC on the parent fails");
	is_str(s, "NIC 'n1': create macvtap 'vm-52deac19a005' on 'v0': Address already in use",
	       "the error names the interface and the kernel's reason");
	free(s);
	now = ns_links(env);
	is_str(now, before, "nothing is left behind (the kernel undid the half-made link)");
	free(now);
	run_teardown(&rn);
	now = ns_links(env);
	is_str(now, before, "the replay leaves the foreign macvlan alone");
	free(now);
	free(before);
	net_link_delete_raw(&env->nl,
			    (net_link_lookup(&env->nl, "other0", 0, &v0, NULL), v0.ifindex));
	check_baseline("duplicate MAC");
}

static void test_bridge(void)
{
	struct run rn;
	struct net_link br, tp;
	char mb[18];

	run_setup(
	    &rn,
	    GUEST_HDR
	    "    - {name: n1, bridge: vmrtbr0, mac: \"52:de:ac:19:a0:06\", queues: 2, mtu: 1450}\n",
	    "a", false);
	is_int(rn.r, 0, "bridge + tap: setup succeeds");
	ok(link_is("vmrtbr0", "bridge", &br), "the missing bridge was created");
	is_str(br.alias, "vmrun:a:n1", "the bridge carries the owner mark");
	ok(link_is("vm-52deac19a006", "tun", &tp), "the tap exists");
	is_int(tp.master, br.ifindex, "the tap is a port of the bridge");
	is_str(vmr_mac_format(&tp.mac, mb), "fe:de:ac:19:a0:06", "the tap has the host-side MAC");
	is_int(tp.mtu, 1450, "the tap has the MTU asked for");
	ok(tp.flags & IFF_UP, "the tap is up");
	is_int(count_open(&rn), 2, "two multiqueue tap fds are open");
	is_int(run_teardown(&rn), 0, "bridge: replay succeeds");
	ok(!link_is("vm-52deac19a006", "tun", NULL), "the tap vanished with its fds");
	ok(!link_is("vmrtbr0", "bridge", NULL), "the bridge vmrun created is removed");
	check_baseline("bridge + tap");
}

static void test_foreign_bridge(void)
{
	struct net_link_spec spec = {.name = "vmrtbr1", .kind = "bridge", .up = true};
	struct net_link br;
	struct run rn;
	char *before;

	is_int(net_link_create_raw(&env->nl, &spec, NULL), 0, "a bridge made by someone else");
	before = ns_links(env);
	run_setup(&rn, GUEST_HDR "    - {name: n1, bridge: vmrtbr1}\n", "a", false);
	is_int(rn.r, 0, "bridge exists: setup succeeds");
	run_teardown(&rn);
	ok(link_is("vmrtbr1", "bridge", &br), "the replay keeps a bridge vmrun did not create");
	{
		char *now = ns_links(env);

		is_str(now, before, "only the tap is gone");
		free(now);
	}
	free(before);
	net_link_delete_raw(&env->nl, br.ifindex);
}

static void test_tap(void)
{
	struct run rn;
	char *s;
	int fd;

	/* a persistent tap made by the user */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	{
		struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};

		memcpy(ifr.ifr_name, "vmrttap0", 9);
		ok(fd >= 0 && ioctl(fd, TUNSETIFF, &ifr) == 0 && ioctl(fd, TUNSETPERSIST, 1) == 0,
		   "a persistent tap 'vmrttap0'");
		if (fd >= 0)
			close(fd);
	}
	run_setup(&rn, GUEST_HDR "    - {name: n1, tap: vmrttap0}\n", "a", false);
	is_int(rn.r, 0, "existing tap: setup succeeds");
	is_int(count_open(&rn), 1, "its fd is open");
	run_teardown(&rn);
	ok(link_is("vmrttap0", "tun", NULL), "the user's tap stays");

	run_setup(&rn, GUEST_HDR "    - {name: n1, tap: vmrttap9}\n", "a", false);
	s = err_text(&rn);
	is_str(s, "NIC 'n1': tap 'vmrttap9' not found: No such device",
	       "a missing tap is not created");
	free(s);
	ok(!link_is("vmrttap9", "tun", NULL), "no tap 'vmrttap9' appeared");
	run_teardown(&rn);

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	{
		struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};

		memcpy(ifr.ifr_name, "vmrttap0", 9);
		if (fd >= 0 && ioctl(fd, TUNSETIFF, &ifr) == 0)
			ioctl(fd, TUNSETPERSIST, 0);
		if (fd >= 0)
			close(fd);
	}
	check_baseline("existing tap");
}

static void test_vlan(void)
{
	struct net_link_spec spec = {.name = "vmrtprobe.7", .kind = "vlan", .vlan_id = 7};
	struct net_link v0, l, vl;
	struct run rn;
	int r;

	net_link_lookup(&env->nl, "v0", 0, &v0, NULL);
	spec.parent = v0.ifindex;
	r = net_link_create_raw(&env->nl, &spec, NULL);
	if (r < 0 && env->nl.errnum == EOPNOTSUPP) {
		tap_skip("the kernel has no 802.1Q VLAN support (CONFIG_VLAN_8021Q)",
			 "macvtap on a VLAN sub-interface");
		return;
	}
	if (net_link_lookup(&env->nl, "vmrtprobe.7", 0, &l, NULL) == 1)
		net_link_delete_raw(&env->nl, l.ifindex);
	run_setup(
	    &rn,
	    GUEST_HDR
	    "    - {name: n1, macvtap: v0, vlan: 100, mac: \"52:de:ac:19:a0:07\", mtu: 1400}\n",
	    "a", false);
	is_int(rn.r, 0, "macvtap with VLAN: setup succeeds");
	ok(link_is("v0.100", "vlan", &vl), "VLAN sub-interface 'v0.100' was created");
	ok(link_is("vm-52deac19a007", "macvtap", &l) && l.link == vl.ifindex,
	   "the macvtap is on it");
	is_int(l.mtu, 1400, "the macvtap has the MTU");
	run_teardown(&rn);
	ok(!link_is("v0.100", "vlan", NULL),
	   "the VLAN sub-interface is removed with its last user");
	check_baseline("VLAN");
}

static void test_killed_and_reclaim(void)
{
	const char *yaml = GUEST_HDR "    - {name: n1, macvtap: v0, mac: \"52:de:ac:19:a0:08\"}\n";
	struct vmr_error *e = NULL;
	struct vmr_topology *t;
	struct vmr_journal *j = NULL;
	_cleanup_free_ char *jpath = xasprintf("%s/journal-killed.jsonl", env->tmp);
	int status = 0;
	pid_t pid;
	char *s;

	/* a supervisor that dies with SIGKILL right after setting up */
	pid = fork();
	if (pid == 0) {
		struct run rn;

		memset(&rn, 0, sizeof(rn));
		rn.t = topo_load(yaml);
		if (plan_for(&rn, "a", false) < 0)
			_exit(1);
		rn.fds = xcalloc((size_t)rn.plan.nfds, sizeof(int));
		if (vmr_journal_open(jpath, &j, NULL) < 0 ||
		    vmr_guest_setup(&cfg, j, &rn.plan, rn.fds, NULL, NULL, NULL) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the supervisor was killed");
	ok(link_is("vm-52deac19a008", "macvtap", NULL), "its macvtap survived it");
	t = topo_load(yaml);
	ok(vmr_journal_open(jpath, &j, &e) == 0 && vmr_journal_count(j) == 1,
	   "the next start finds one journal entry");
	is_int(vmr_journal_replay(j, &cfg, &e), 0, "replaying it succeeds");
	vmr_journal_close(j);
	ok(!link_is("vm-52deac19a008", "macvtap", NULL), "the leftover macvtap is gone");
	is_int(reclaim(t, "a", &e), 0, "reclaim then finds nothing");

	/* journal lost: the sweep finds our leftover by its mark and MAC */
	pid = fork();
	if (pid == 0) {
		struct run rn;

		memset(&rn, 0, sizeof(rn));
		rn.t = topo_load(yaml);
		if (plan_for(&rn, "a", false) < 0)
			_exit(1);
		rn.fds = xcalloc((size_t)rn.plan.nfds, sizeof(int));
		if (vmr_guest_setup(&cfg, NULL, &rn.plan, rn.fds, NULL, NULL, NULL) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	waitpid(pid, &status, 0);
	ok(link_is("vm-52deac19a008", "macvtap", NULL), "a leftover without a journal");
	is_int(reclaim(t, "a", &e), 0, "reclaim succeeds");
	ok(!link_is("vm-52deac19a008", "macvtap", NULL), "reclaim deleted our leftover");
	check_baseline("reclaim");

	/* a bridge with our mark and, by chance, the guest's MAC is not a leftover NIC */
	{
		struct net_link_spec spec = {.name = "vmrtbr5", .kind = "bridge"};
		struct net_link br;
		struct vmr_mac m;

		vmr_mac_parse("52:de:ac:19:a0:08", &m);
		spec.mac = &m;
		ok(net_link_create_raw(&env->nl, &spec, NULL) == 0 &&
		       net_link_mark(&env->nl, "vmrtbr5", 0, "vmrun:a:n1", &br, NULL) > 0,
		   "a bridge marked vmrun:a:n1 with the guest's MAC");
		is_int(reclaim(t, "a", &e), 0, "reclaim succeeds");
		ok(link_is("vmrtbr5", "bridge", NULL),
		   "the sweep leaves a shared bridge to the journals");
		net_link_delete_raw(&env->nl, br.ifindex);
	}

	/* a foreign link holding the name: refuse and never touch it */
	{
		struct net_link_spec spec = {
		    .name = "vm-52deac19a008", .kind = "macvtap", .up = false};
		struct net_link v0, l;
		struct vmr_mac m;
		char *before;

		vmr_mac_parse("52:de:ac:19:a0:08", &m);
		net_link_lookup(&env->nl, "v0", 0, &v0, NULL);
		spec.parent = v0.ifindex;
		spec.mac = &m;
		is_int(net_link_create_raw(&env->nl, &spec, NULL), 0,
		       "someone else's macvtap with our name and MAC");
		before = ns_links(env);
		ok(reclaim(t, "a", &e) < 0, "reclaim refuses");
		s = e ? vmr_error_text(e) : NULL;
		is_str(s, "interface 'vm-52deac19a008' exists and is not ours: File exists",
		       "the error says why");
		free(s);
		vmr_error_clear(&e);
		{
			struct run rn;

			run_setup(&rn, yaml, "a", false);
			ok(rn.r < 0, "setup refuses too");
			run_teardown(&rn);
		}
		s = ns_links(env);
		is_str(s, before, "the foreign macvtap is untouched");
		free(s);
		free(before);
		if (net_link_lookup(&env->nl, "vm-52deac19a008", 0, &l, NULL) == 1)
			net_link_delete_raw(&env->nl, l.ifindex);
	}
	vmr_error_free(e);
	vmr_topology_free(t);
	check_baseline("foreign interface");
}

static void test_extack(void)
{
	struct net_link_spec spec = {.name = "vmrtx0", .kind = "vmrtnosuchkind"};
	struct vmr_error *e = NULL;
	char *s;
	int r;

	r = net_link_create_raw(&env->nl, &spec, NULL);
	ok(r < 0, "creating a link of an unknown kind fails");
	net_nl_fail(&env->nl, r, &e, "create %s '%s'", spec.kind, spec.name);
	s = vmr_error_text(e);
	is_str(s, "create vmrtnosuchkind 'vmrtx0': Unknown device type: Operation not supported",
	       "the kernel's extended ack comes before the errno text");
	free(s);
	vmr_error_free(e);
}

/* whether the kernel echoes a created link (NLM_F_ECHO on RTM_NEWLINK: Linux 6.3) */
static bool kernel_echoes_newlink(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 3);
}

static void test_create_echo(void)
{
	struct net_link_spec spec = {
	    .name = "vmrte0", .kind = "macvtap", .mode = VMR_NET_MACVTAP_BRIDGE, .up = true};
	struct vmr_error *e = NULL;
	struct net_link v0, l, m;
	struct vmr_mac mac;
	int ifindex = -1, ifindex2 = -1;

	vmr_mac_parse("52:de:ac:19:a0:e0", &mac);
	net_link_lookup(&env->nl, "v0", 0, &v0, NULL);
	spec.parent = v0.ifindex;
	spec.mac = &mac;
	is_int(net_link_create_raw(&env->nl, &spec, &ifindex), 0, "a macvtap asking for its echo");
	is_int(net_link_lookup(&env->nl, "vmrte0", 0, &l, NULL), 1,
	       "the next request reads its own reply");
	/* a kernel before 6.3 sends no echo (0), unless its distribution backported it */
	if (kernel_echoes_newlink())
		is_int(ifindex, l.ifindex, "the echo gives the new link's index");
	else
		ok(ifindex == 0 || ifindex == l.ifindex,
		   "before Linux 6.3: index 0 (no echo) or the link's");
	is_int(net_link_mark(&env->nl, "vmrte0", ifindex, "vmrun:a:n1", &m, &e), l.ifindex,
	       "the mark returns the link's index");
	ok(m.ifindex == l.ifindex && streq(m.name, "vmrte0") && streq(m.kind, "macvtap") &&
	       streq(m.alias, "vmrun:a:n1"),
	   "and fills the link's facts");
	net_link_lookup(&env->nl, "vmrte0", 0, &l, NULL);
	is_str(l.alias, "vmrun:a:n1", "the kernel has the mark");
	is_int(net_link_mark(&env->nl, "vmrte0", 0, "vmrun:a:n2", NULL, &e), l.ifindex,
	       "a mark by name (no echo) finds the same link");
	/* the name is taken: the failure leaves no index a caller could mark */
	ok(net_link_create_raw(&env->nl, &spec, &ifindex2) < 0 && env->nl.errnum == EEXIST,
	   "creating the name again fails with EEXIST");
	is_int(ifindex2, 0, "and gives no index");
	net_link_lookup(&env->nl, "vmrte0", 0, &l, NULL);
	is_str(l.alias, "vmrun:a:n2", "the existing link keeps its mark");
	net_link_delete_raw(&env->nl, l.ifindex);
	vmr_error_free(e);
	check_baseline("create echo");
}

int main(void)
{
	const char *why = NULL;

	env = ns_enter(&why);
	if (!env) {
		tap_skip(why, "net guest setup tests");
		return tap_done();
	}
	cfg.sysfs_root = env->sysfs;
	cfg.state_dir = env->tmp;
	vmr_net_register_undo();
	ok(ns_veth(env, "v0", "v1", "02:00:00:00:00:b0") == 0, "veth pair v0/v1");
	{
		struct net_link v1;
		struct vmr_mac m;

		vmr_mac_parse("02:00:00:00:00:b1", &m);
		net_link_lookup(&env->nl, "v1", 0, &v1, NULL);
		net_link_change_raw(&env->nl, v1.ifindex, NULL, 0, -1, 1, &m);
	}
	baseline = ns_links(env);
	test_extack();
	test_create_echo();
	test_macvtap_by_name();
	test_macvtap_by_mac();
	test_missing_parent();
	test_parent_mac_ambiguous();
	test_rollback();
	test_duplicate_mac();
	test_bridge();
	test_foreign_bridge();
	test_tap();
	test_vlan();
	test_killed_and_reclaim();
	test_undo_checks_identity();
	free(baseline);
	ns_leave(env);
	return tap_done();
}
