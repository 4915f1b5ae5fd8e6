/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `host up` SR-IOV: checks before any change (too many VFs, a PF without
 * its interface) and the rollback of a half-done setup, with the exact
 * sysfs writes of a fake tree (tests/net/fakesys.h) whose PF interface is
 * a veth in the test's own network namespace (tests/net/nstest.h): the
 * veth refuses VF settings, as a NIC without SR-IOV support would.
 */
#include "tests/net/fakesys.h"
#include "tests/net/nstest.h"

#include "lib/devices/devices.h"
#include "lib/runtime/guestplan.h"
#include "lib/plan/plan.h"
#include "lib/model/topology.h"
#include "net/net.h"
#include "tests/lib/tap.h"

static struct vmr_config cfg;

static char *drv_of(const char *bdf)
{
	char *d = fake_driver(bdf);

	return d ? d : xstrdup("(none)");
}

static struct vmr_topology *topo(const char *yaml)
{
	struct vmr_topology *t = NULL;
	struct vmr_diags d = {0};

	if (vmr_topology_load_buffer("host.yaml", yaml, strlen(yaml), vmr_device_kinds(), &t, &d) <
	    0)
		for (size_t i = 0; i < d.n; i++)
			tap_diag("%u:%u: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
	vmr_diags_clear(&d);
	return t;
}

static char *host_up(const char *yaml)
{
	struct vmr_topology *t = topo(yaml);
	struct vmr_hostsetup h = {0};
	struct vmr_error *e = NULL;
	char *s;

	if (!t)
		return xstrdup("(topology)");
	vmr_hostsetup_collect(&h, t, NULL);
	if (vmr_net_host_up(&cfg, t, NULL, h.vfs, h.nvfs, NULL, &e) == 0)
		s = xstrdup("ok");
	else
		s = vmr_error_text(e);
	vmr_hostsetup_free(&h);
	vmr_error_free(e);
	vmr_topology_free(t);
	return s;
}

#define VF_GUESTS(n0)                                                                              \
	"version: 1\nguests:\n"                                                                    \
	"  a:\n    accel: tcg\n    nics:\n"                                                        \
	"    - {name: n1, vf: \"0000:01:00.0\", mac: \"52:de:ac:19:a2:05\", vlan: 7}\n"            \
	"    - {name: n2, vf: \"" n0 "\", mac: \"52:de:ac:19:a2:03\"}\n"                           \
	"  b:\n    accel: tcg\n    nics:\n"                                                        \
	"    - {name: n1, vf: \"0000:01:00.0\", mac: \"52:de:ac:19:a2:04\", trust: true}\n"

/* set up guest a of yaml (PCI NICs only: no fds but QMP's and the console's) */
static char *setup(const char *yaml)
{
	struct vmr_topology *t = topo(yaml);
	struct vmr_error *e = NULL;
	struct vmr_plan_opts po = {.cfg = &cfg, .topo_dir = "/", .facts = {.accel = VMR_ACCEL_TCG}};
	struct vmr_plan plan = {0};
	int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
	char *s;

	if (!t)
		return xstrdup("(topology)");
	if (vmr_plan_build(t, vmr_topology_guest(t, "a"), &po, &plan, &e) == 0 &&
	    vmr_guest_setup(&cfg, NULL, &plan, fds, NULL, NULL, &e) == 0)
		s = xasprintf("ok %s", plan.devs[0].hostdev);
	else
		s = vmr_error_text(e);
	vmr_error_free(e);
	vmr_plan_free(&plan);
	vmr_topology_free(t);
	return s;
}

#define PCI_GUEST(extra)                                                                           \
	"version: 1\nguests:\n  a:\n    accel: tcg\n    nics:\n"                                   \
	"    - {name: n1, pci: \"0000:03:00.0\"" extra "}\n"

/* a NIC the host uses is refused unless force (enp3s0f0 is a veth here) */
static void test_host_use(struct ns_env *env)
{
	struct vmr_cidr a;
	struct net_link l, br;
	struct net_link_spec spec = {.name = "vmrtbr9", .kind = "bridge"};
	char *s;

	net_link_lookup(&env->nl, "enp3s0f0", 0, &l, NULL);
	vmr_cidr_parse("10.0.0.5/24", &a);
	is_int(net_addr_add(&env->nl, l.ifindex, &a, "enp3s0f0", NULL), 0,
	       "the PF interface gets an address");
	free(fake_take_log());
	s = setup(PCI_GUEST(""));
	is_str(s,
	       "NIC 'n1': PCI device '0000:03:00.0' ('enp3s0f0') is used by the host: it has "
	       "address 10.0.0.5/24: Device or resource busy",
	       "a NIC with an address is refused");
	free(s);
	s = fake_take_log();
	is_str(s, "", "without a write");
	free(s);

	s = setup(PCI_GUEST(", force: true"));
	is_str(s, "ok 0000:03:00.0", "force: true passes it through anyway");
	free(s);
	s = drv_of("0000:03:00.0");
	is_str(s, "vfio-pci", "it is on vfio-pci");
	free(s);
	s = xasprintf("%s/vfio/11", fake.dev);
	ok(access(s, F_OK) == 0, "its group's node is made under the dev root (%s)", s);
	free(s);
	ok(net_pci_restore(&cfg, "0000:03:00.0", "ixgbe", NULL) == 0, "give it back");
	free(fake_take_log());

	/* a bridge port without an address is in use too */
	net_link_delete_raw(&env->nl, l.ifindex); /* both veth ends go */
	ok(ns_veth(env, "enp3s0f0", "enp3s0f0p", NULL) == 0 &&
	       net_link_create_raw(&env->nl, &spec, NULL) == 0,
	   "a fresh PF interface and a bridge");
	net_link_lookup(&env->nl, "enp3s0f0", 0, &l, NULL);
	net_link_lookup(&env->nl, "vmrtbr9", 0, &br, NULL);
	net_link_change_raw(&env->nl, l.ifindex, NULL, 0, br.ifindex, -1, NULL);
	s = setup(PCI_GUEST(""));
	is_str(s,
	       "NIC 'n1': PCI device '0000:03:00.0' ('enp3s0f0') is used by the host: it is a "
	       "port of bridge 'vmrtbr9': Device or resource busy",
	       "a bridge port is refused");
	free(s);
	s = drv_of("0000:03:00.0");
	is_str(s, "ixgbe", "and keeps its driver");
	free(s);
}

int main(void)
{
	static const struct fake_dev pf = {.bdf = "0000:01:00.0",
					   .driver = "ixgbe",
					   .native = "ixgbe",
					   .group = 10,
					   .netdev = "enp1s0f0",
					   .mac = "a4:bf:01:cc:75:96",
					   .totalvfs = 2,
					   .vf_driver = "ixgbevf"};
	static const struct fake_dev pf2 = {.bdf = "0000:03:00.0",
					    .driver = "ixgbe",
					    .native = "ixgbe",
					    .group = 11,
					    .netdev = "enp3s0f0",
					    .totalvfs = 4,
					    .vf_driver = "ixgbevf"};
	const char *why = NULL;
	struct ns_env *env;
	char *s, *links;

	env = ns_enter(&why);
	if (!env) {
		tap_skip(why, "host up SR-IOV tests");
		return tap_done();
	}
	fake_init();
	fake_driver_add("vfio-pci");
	fake_add(&pf);
	fake_add(&pf2);
	cfg.sysfs_root = fake.root;
	cfg.dev_root = fake.dev; /* the vfio nodes made for QEMU go there, not in /dev */
	cfg.state_dir = env->tmp;

	s = host_up(VF_GUESTS("0000:01:00.0"));
	is_str(s, "'0000:01:00.0' has 2 VFs, the guests on this host need 3",
	       "three VFs on a PF with two are refused");
	free(s);
	s = fake_take_log();
	is_str(s, "", "before any write");
	free(s);

	s = host_up(VF_GUESTS("0000:03:00.0"));
	is_str(s,
	       "PF '0000:01:00.0': interface 'enp1s0f0' not found in this network namespace: "
	       "No such device",
	       "a PF whose interface is not here is refused");
	free(s);
	s = fake_take_log();
	is_str(s, "", "before any write");
	free(s);

	/* the PF interfaces exist now, but refuse VF settings like a NIC without SR-IOV */
	ok(ns_veth(env, "enp1s0f0", "enp1s0f0p", NULL) == 0 &&
	       ns_veth(env, "enp3s0f0", "enp3s0f0p", NULL) == 0,
	   "veths stand in for the PF interfaces");
	links = ns_links(env);
	s = host_up(VF_GUESTS("0000:03:00.0"));
	ok(strstr(s, "set VF 0 of 'enp1s0f0'") != NULL, "setting a VF fails, naming it (%s)", s);
	free(s);
	s = fake_take_log();
	is_str(s,
	       "bus/pci/devices/0000:01:00.0/sriov_drivers_autoprobe <- 0\n"
	       "bus/pci/devices/0000:01:00.0/sriov_numvfs <- 2\n"
	       "bus/pci/devices/0000:01:00.0/sriov_drivers_autoprobe <- 1\n"
	       "bus/pci/devices/0000:01:00.0/sriov_numvfs <- 0\n"
	       "bus/pci/devices/0000:01:00.0/sriov_drivers_autoprobe <- 1\n",
	       "the VFs made before the failure are removed again");
	free(s);
	s = ns_links(env);
	is_str(s, links, "the links are as before (the PF interface was up already)");
	free(s);
	free(links);
	is_int(fake_read_uint("bus/pci/devices/%s/sriov_numvfs", "0000:03:00.0"), 0,
	       "the second PF was never touched");

	test_host_use(env);
	fake_cleanup();
	ns_leave(env);
	return tap_done();
}
