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

#include "lib/topology.h"
#include "net/net.h"
#include "tests/lib/tap.h"

static struct vmr_config cfg;

static struct vmr_topology *topo(const char *yaml)
{
	struct vmr_topology *t = NULL;
	struct vmr_diags d = { 0 };

	if (vmr_topology_load_buffer("host.yaml", yaml, strlen(yaml), &t, &d) < 0)
		for (size_t i = 0; i < d.n; i++)
			tap_diag("%u:%u: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
	vmr_diags_clear(&d);
	return t;
}

static char *host_up(const char *yaml)
{
	struct vmr_topology *t = topo(yaml);
	struct vmr_error *e = NULL;
	char *s;

	if (!t)
		return xstrdup("(topology)");
	if (vmr_net_host_up(&cfg, t, NULL, NULL, &e) == 0)
		s = xstrdup("ok");
	else
		s = vmr_error_text(e);
	vmr_error_free(e);
	vmr_topology_free(t);
	return s;
}

#define VF_GUESTS(n0)                                                                      \
	"version: 1\nguests:\n"                                                            \
	"  a:\n    accel: tcg\n    nics:\n"                                                \
	"    - {name: n1, vf: \"0000:01:00.0\", mac: \"52:de:ac:19:a2:05\", vlan: 7}\n"      \
	"    - {name: n2, vf: \"" n0 "\", mac: \"52:de:ac:19:a2:03\"}\n"                     \
	"  b:\n    accel: tcg\n    nics:\n"                                                \
	"    - {name: n1, vf: \"0000:01:00.0\", mac: \"52:de:ac:19:a2:04\", trust: true}\n"

int main(void)
{
	static const struct fake_dev pf = { .bdf = "0000:01:00.0", .driver = "ixgbe",
					    .native = "ixgbe", .group = 10, .netdev = "enp1s0f0",
					    .mac = "a4:bf:01:cc:75:96", .totalvfs = 2,
					    .vf_driver = "ixgbevf" };
	static const struct fake_dev pf2 = { .bdf = "0000:03:00.0", .driver = "ixgbe",
					     .native = "ixgbe", .group = 11, .netdev = "enp3s0f0",
					     .totalvfs = 4, .vf_driver = "ixgbevf" };
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
	cfg.state_dir = env->tmp;

	s = host_up(VF_GUESTS("0000:01:00.0"));
	is_str(s, "'0000:01:00.0' has 2 VFs, the guests on this host need 3",
	       "three VFs on a PF with two are refused");
	free(s);
	s = fake_take_log();
	is_str(s, "", "before any write");
	free(s);

	s = host_up(VF_GUESTS("0000:03:00.0"));
	is_str(s, "PF '0000:01:00.0': interface 'enp1s0f0' not found in this network namespace: "
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
	is_str(s, "bus/pci/devices/0000:01:00.0/sriov_drivers_autoprobe <- 0\n"
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

	fake_cleanup();
	ns_leave(env);
	return tap_done();
}
