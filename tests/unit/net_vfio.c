/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI passthrough and SR-IOV steps against a fake sysfs tree
 * (tests/net/fakesys.h plays the kernel): the exact writes, in order, for
 * binding to vfio-pci and giving the device back, IOMMU group viability,
 * sriov_numvfs with autoprobe, the VF that carries a MAC, and the journal
 * entries that let a replay restore everything.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "tests/net/fakesys.h"

#include "lib/base/caps.h"
#include "lib/base/journal.h"
#include "net/internal.h"
#include "tests/lib/proc.h"
#include "tests/lib/tap.h"

static struct vmr_config cfg;
static char devroot[160];

static void setup_tree(void)
{
	static const char *const drivers[] = {"ixgbe",	 "ixgbevf",	  "vfio-pci", "e1000e",
					      "nouveau", "snd_hda_intel", "pcieport"};
	static const struct fake_dev devs[] = {
	    {"0000:01:00.0", "ixgbe", "ixgbe", 10, "enp1s0f0", "a4:bf:01:cc:75:96", 8, "ixgbevf", 0,
	     NULL, NULL},
	    {"0000:01:00.1", "ixgbe", "ixgbe", 10, "enp1s0f1", "a4:bf:01:cc:75:97", 8, "ixgbevf", 0,
	     NULL, NULL},
	    {"0000:03:00.0", "e1000e", "e1000e", 12, "enp3s0", "a4:bf:01:00:00:03", 0, NULL, 0,
	     NULL, NULL},
	    {"0000:04:00.0", NULL, "e1000e", 13, NULL, NULL, 0, NULL, 0, NULL, NULL},
	    {"0000:05:00.0", "nouveau", "nouveau", 14, NULL, NULL, 0, NULL, 0, NULL, NULL},
	    {"0000:05:00.1", "snd_hda_intel", "snd_hda_intel", 14, NULL, NULL, 0, NULL, 0, NULL,
	     NULL},
	    {"0000:00:1c.0", "pcieport", "pcieport", 14, NULL, NULL, 0, NULL, 0, NULL, NULL},
	    {"0000:06:00.0", "e1000e", "e1000e", -1, NULL, NULL, 0, NULL, 0, NULL, NULL},
	};

	fake_init();
	for (size_t i = 0; i < ARRAY_SIZE(drivers); i++)
		fake_driver_add(drivers[i]);
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++)
		fake_add(&devs[i]);
	snprintf(devroot, sizeof(devroot), "%s/dev", fake.root);
	mkdir(devroot, 0755);
	cfg.sysfs_root = fake.root;
	cfg.dev_root = devroot;
}

static char *drv(const char *bdf)
{
	char *d = fake_driver(bdf);

	return d ? d : xstrdup("(none)");
}

static bool is_node(const char *name, unsigned maj, unsigned min)
{
	char *p = xasprintf("%s/vfio/%s", devroot, name);
	struct stat st;
	bool r = stat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(maj, min);

	free(p);
	return r;
}

static void check_log(const char *want, const char *what)
{
	char *got = fake_take_log();

	is_str(got, want, "%s", what);
	free(got);
}

static void check_str(char *got, const char *want, const char *what)
{
	is_str(got, want, "%s", what);
	free(got);
}

static void test_viability(void)
{
	const char *const ours[] = {"0000:05:00.1", NULL};
	struct vmr_error *e = NULL;
	char *why = NULL;
	long group;

	is_int(net_pci_group_viable(&cfg, "0000:03:00.0", NULL, &group, &why, &e), 1,
	       "a device alone in its group is viable");
	is_int(group, 12, "its IOMMU group is 12");
	is_int(net_pci_group_viable(&cfg, "0000:05:00.0", NULL, &group, &why, &e), 0,
	       "a GPU whose audio function is on a host driver is not viable");
	is_str(why,
	       "'0000:05:00.0' shares IOMMU group 14 with '0000:05:00.1', which is bound to "
	       "'snd_hda_intel'",
	       "the reason names the other device and its driver");
	free(why);
	why = NULL;
	is_int(net_pci_group_viable(&cfg, "0000:05:00.0", ours, &group, &why, &e), 1,
	       "viable when both functions are passed through (a pcieport bridge is harmless)");
	is_int(net_pci_group_viable(&cfg, "0000:06:00.0", NULL, &group, &why, &e), 0,
	       "a device without an IOMMU group is not viable");
	ok(why && strstr(why, "has no IOMMU group"), "the reason says so");
	free(why);
	check_log("", "checking viability writes nothing");
	vmr_error_free(e);
}

static void test_bind_restore(void)
{
	struct net_rec rec = {NULL, json_array()};
	struct vmr_error *e = NULL;
	char *s;

	is_int(net_pci_bind_vfio(&cfg, &rec, "0000:03:00.0", &e), 0, "bind a NIC to vfio-pci");
	check_log("bus/pci/drivers/e1000e/unbind <- 0000:03:00.0\n"
		  "bus/pci/devices/0000:03:00.0/driver_override <- vfio-pci\n"
		  "bus/pci/drivers_probe <- 0000:03:00.0\n",
		  "unbind, driver_override, drivers_probe, in that order");
	check_str(drv("0000:03:00.0"), "vfio-pci", "the device is on vfio-pci");
	s = json_dumps(json_array_get(rec.done, 0), JSON_COMPACT | JSON_SORT_KEYS);
	is_str(s, "{\"bdf\":\"0000:03:00.0\",\"driver\":\"e1000e\",\"type\":\"pci.driver\"}",
	       "the journal remembers the driver before the first write");
	free(s);
	ok(is_node("vfio", 10, 196) && is_node("12", 241, 12),
	   "the missing /dev/vfio/vfio and /dev/vfio/12 nodes were made from sysfs");
	is_int((long long)json_array_size(rec.done), 3,
	       "three journal entries (driver, two nodes)");

	is_int(net_pci_bind_vfio(&cfg, &rec, "0000:03:00.0", &e), 0, "binding again");
	check_log("", "is a no-op");
	is_int((long long)json_array_size(rec.done), 3, "and journals nothing");

	is_int(net_undo_entries(rec.done, &cfg, &e), 0, "undo the journal entries");
	check_log("bus/pci/drivers/vfio-pci/unbind <- 0000:03:00.0\n"
		  "bus/pci/devices/0000:03:00.0/driver_override <- \\n\n"
		  "bus/pci/drivers_probe <- 0000:03:00.0\n",
		  "restore: unbind from vfio-pci, clear driver_override, reprobe");
	check_str(drv("0000:03:00.0"), "e1000e", "the device is back on its driver");
	ok(!is_node("12", 241, 12) && !is_node("vfio", 10, 196),
	   "the nodes vmrun made are removed");
	is_int(net_undo_entries(rec.done, &cfg, &e), 0, "undo again (a second replay)");
	check_log("", "changes nothing");
	json_decref(rec.done);
	vmr_error_free(e);
}

/* "uid:gid mode" of DEV/vfio/name */
static char *node_access(const char *name)
{
	char *p = xasprintf("%s/vfio/%s", devroot, name);
	struct stat st;
	char *r;

	r = stat(p, &st) == 0 ? xasprintf("%u:%u %04o", (unsigned)st.st_uid, (unsigned)st.st_gid,
					  (unsigned)(st.st_mode & 07777))
			      : xstrdup("(missing)");
	free(p);
	return r;
}

static void test_qemu_user(void)
{
	struct net_rec rec = {NULL, json_array()};
	struct vmr_error *e = NULL;
	char *p;

	/* QEMU as uid 65534, group 65534: the nodes must be read-write for it */
	cfg.qemu_user = "65534:65534";
	is_int(net_pci_bind_vfio(&cfg, &rec, "0000:03:00.0", &e), 0, "bind with qemu_user");
	free(fake_take_log());
	check_str(node_access("12"), "0:65534 0660",
		  "a node vmrun makes is 0660 with QEMU's group");
	check_str(node_access("vfio"), "0:65534 0660", "so is the container node");
	is_int((long long)json_array_size(rec.done), 3, "no more journal entries than without");
	is_int(net_undo_entries(rec.done, &cfg, &e), 0, "undo");
	ok(!is_node("12", 241, 12) && !is_node("vfio", 10, 196),
	   "the nodes vmrun made are removed");
	free(fake_take_log());
	json_decref(rec.done);

	/* nodes the host has (udev: /dev/vfio/N root 0600, /dev/vfio/vfio 0666) */
	rec.done = json_array();
	p = xasprintf("%s/vfio", devroot);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/vfio/12", devroot);
	if (mknod(p, S_IFCHR | 0600, makedev(241, 12)) < 0 || chmod(p, 0600) < 0)
		abort();
	free(p);
	p = xasprintf("%s/vfio/vfio", devroot);
	if (mknod(p, S_IFCHR | 0666, makedev(10, 196)) < 0 || chmod(p, 0666) < 0)
		abort();
	free(p);
	is_int(net_pci_bind_vfio(&cfg, &rec, "0000:03:00.0", &e), 0, "bind with host nodes");
	free(fake_take_log());
	check_str(node_access("12"), "0:65534 0660",
		  "the host's group node is given to QEMU's group");
	check_str(node_access("vfio"), "0:0 0666", "a node QEMU can already open is left alone");
	is_str(json_string_value(json_object_get(json_array_get(rec.done, 1), "type")),
	       "net.node_access", "the old owner and mode are journaled before the change");
	is_int((long long)json_array_size(rec.done), 2, "driver and one node_access entry");
	is_int(net_undo_entries(rec.done, &cfg, &e), 0, "undo");
	check_str(node_access("12"), "0:0 0600", "the host's node is back to root 0600");
	is_int(net_undo_entries(rec.done, &cfg, &e), 0, "undo again");
	check_str(node_access("12"), "0:0 0600", "changes nothing");
	free(fake_take_log());
	json_decref(rec.done);
	p = xasprintf("%s/vfio/12", devroot);
	unlink(p);
	free(p);
	p = xasprintf("%s/vfio/vfio", devroot);
	unlink(p);
	free(p);
	cfg.qemu_user = NULL;
	vmr_error_free(e);
}

static void test_unbound(void)
{
	struct net_rec rec = {NULL, json_array()};
	struct vmr_error *e = NULL;

	is_int(net_pci_bind_vfio(&cfg, &rec, "0000:04:00.0", &e), 0,
	       "bind a device with no driver");
	check_log("bus/pci/devices/0000:04:00.0/driver_override <- vfio-pci\n"
		  "bus/pci/drivers_probe <- 0000:04:00.0\n",
		  "no unbind for an unbound device");
	is_int(net_undo_entries(rec.done, &cfg, &e), 0, "undo");
	check_log("bus/pci/drivers/vfio-pci/unbind <- 0000:04:00.0\n"
		  "bus/pci/devices/0000:04:00.0/driver_override <- \\n\n",
		  "restore leaves it unbound (no probe)");
	check_str(drv("0000:04:00.0"), "(none)", "the device has no driver again");
	json_decref(rec.done);
	vmr_error_free(e);
}

static void test_bind_errors(void)
{
	struct net_rec rec = {NULL, json_array()};
	struct vmr_error *e = NULL;
	char *p, *s;

	ok(net_pci_bind_vfio(&cfg, &rec, "0000:09:00.0", &e) < 0, "a missing device fails");
	s = vmr_error_text(e);
	is_str(s, "PCI device '0000:09:00.0' not found: No such device", "naming it");
	free(s);
	vmr_error_clear(&e);

	p = xasprintf("%s/bus/pci/drivers/vfio-pci", fake.root);
	rename(p, "/tmp/vmrt-sysfs-vfio-aside");
	ok(net_pci_bind_vfio(&cfg, &rec, "0000:03:00.0", &e) < 0, "no vfio-pci driver fails");
	s = vmr_error_text(e);
	ok(strstr(s, "the vfio-pci driver is not loaded") != NULL, "saying so (%s)", s);
	free(s);
	rename("/tmp/vmrt-sysfs-vfio-aside", p);
	free(p);
	check_log("", "before any write");
	check_str(drv("0000:03:00.0"), "e1000e", "the device keeps its driver");
	is_int((long long)json_array_size(rec.done), 0, "nothing journaled");
	json_decref(rec.done);
	vmr_error_free(e);
}

static void test_numvfs(void)
{
	struct net_rec rec = {NULL, json_array()};
	struct vmr_error *e = NULL;
	char *s;

	ok(net_sriov_set_numvfs(&cfg, &rec, "0000:01:00.0", 9, &e) < 0, "more VFs than the PF has");
	s = vmr_error_text(e);
	is_str(s, "'0000:01:00.0' has 8 VFs, 9 needed", "is refused");
	ok(e && e->status == VMR_EXIT_USAGE, "as invalid input");
	free(s);
	vmr_error_clear(&e);
	check_log("", "without a write");

	is_int(net_sriov_set_numvfs(&cfg, &rec, "0000:01:00.0", 3, &e), 0,
	       "3 VFs on a PF with none");
	check_log("bus/pci/devices/0000:01:00.0/sriov_drivers_autoprobe <- 0\n"
		  "bus/pci/devices/0000:01:00.0/sriov_numvfs <- 3\n"
		  "bus/pci/devices/0000:01:00.0/sriov_drivers_autoprobe <- 1\n",
		  "autoprobe off, numvfs, autoprobe back");
	check_str(drv("0000:02:00.0"), "(none)", "the new VFs are not grabbed by a host driver");
	s = json_dumps(json_array_get(rec.done, 0), JSON_COMPACT | JSON_SORT_KEYS);
	is_str(
	    s,
	    "{\"autoprobe\":true,\"numvfs\":0,\"pf\":\"0000:01:00.0\",\"type\":\"sriov.numvfs\"}",
	    "the journal has the old count and autoprobe");
	free(s);

	is_int(net_sriov_set_numvfs(&cfg, &rec, "0000:01:00.0", 2, &e), 0, "then 2");
	check_log("bus/pci/devices/0000:01:00.0/sriov_drivers_autoprobe <- 0\n"
		  "bus/pci/devices/0000:01:00.0/sriov_numvfs <- 0\n"
		  "bus/pci/devices/0000:01:00.0/sriov_numvfs <- 2\n"
		  "bus/pci/devices/0000:01:00.0/sriov_drivers_autoprobe <- 1\n",
		  "a new count goes through 0 (the kernel refuses otherwise)");
	is_int(net_sriov_set_numvfs(&cfg, &rec, "0000:01:00.0", 2, &e), 0, "2 again");
	check_log("", "is a no-op");

	/* the VF that carries a MAC, without a PF netdev to ask (VF netdevs in sysfs) */
	fake_put("52:de:ac:19:a0:09\n", "bus/pci/devices/0000:02:00.1/net/eth9/address");
	{
		struct vmr_mac m;
		char *bdf = NULL;

		vmr_mac_parse("52:de:ac:19:a0:09", &m);
		is_int(net_vf_find(&cfg, "0000:01:00.0", &m, NULL, 0, &bdf, &e), 0,
		       "find the VF by its netdev's MAC");
		is_str(bdf, "0000:02:00.1", "it is virtfn1");
		free(bdf);
		bdf = NULL;
		{
			struct net_vf vfs[2] = {{.index = 0}, {.index = 1}};

			vmr_mac_parse("52:de:ac:19:a0:0a", &vfs[0].mac);
			vmr_mac_parse("52:de:ac:19:a0:0a", &m);
			is_int(net_vf_find(&cfg, "0000:01:00.0", &m, vfs, 2, &bdf, &e), 0,
			       "find the VF from the PF's VF list");
			is_str(bdf, "0000:02:00.0", "it is virtfn0");
			free(bdf);
			bdf = NULL;
		}
		vmr_mac_parse("52:de:ac:19:a0:ff", &m);
		ok(net_vf_find(&cfg, "0000:01:00.0", &m, NULL, 0, &bdf, &e) < 0, "a MAC no VF has");
		s = vmr_error_text(e);
		is_str(s, "no VF of '0000:01:00.0' has MAC '52:de:ac:19:a0:ff': No such device",
		       "fails clearly");
		ok(e && e->hint && strstr(e->hint, "host up"), "with a hint");
		free(s);
		vmr_error_clear(&e);
	}

	is_int(net_undo_entries(rec.done, &cfg, &e), 0, "undo both changes, last first");
	check_log("bus/pci/devices/0000:01:00.0/sriov_numvfs <- 0\n"
		  "bus/pci/devices/0000:01:00.0/sriov_drivers_autoprobe <- 1\n"
		  "bus/pci/devices/0000:01:00.0/sriov_numvfs <- 3\n"
		  "bus/pci/devices/0000:01:00.0/sriov_numvfs <- 0\n"
		  "bus/pci/devices/0000:01:00.0/sriov_drivers_autoprobe <- 1\n",
		  "restore: back to 3 VFs, then to none, autoprobe as it was");
	is_int(fake_read_uint("bus/pci/devices/%s/sriov_numvfs", "0000:01:00.0"), 0, "no VFs left");
	json_decref(rec.done);
	vmr_error_free(e);
}

static void test_journal_replay(void)
{
	struct vmr_journal *j = NULL;
	struct vmr_error *e = NULL;
	struct net_rec rec;
	char *path = xasprintf("%s-journal.jsonl", fake.root);

	vmr_net_register_undo();
	is_int(vmr_journal_open(path, &j, &e), 0, "open a journal");
	rec.j = j;
	rec.done = NULL;
	is_int(net_sriov_set_numvfs(&cfg, &rec, "0000:01:00.1", 2, &e), 0,
	       "2 VFs on the second PF");
	is_int(net_pci_bind_vfio(&cfg, &rec, "0000:02:00.0", &e), 0, "first VF to vfio-pci");
	free(fake_take_log());
	vmr_journal_close(j);
	is_int(vmr_journal_open(path, &j, &e), 0, "reopen it, as the next run would");
	is_int((long long)vmr_journal_count(j), 4, "four entries (numvfs, driver, two nodes)");
	is_int(vmr_journal_replay(j, &cfg, &e), 0, "replay it through the registered handlers");
	check_log("bus/pci/drivers/vfio-pci/unbind <- 0000:02:00.0\n"
		  "bus/pci/devices/0000:02:00.0/driver_override <- \\n\n"
		  "bus/pci/devices/0000:01:00.1/sriov_numvfs <- 0\n"
		  "bus/pci/devices/0000:01:00.1/sriov_drivers_autoprobe <- 1\n",
		  "the VF is released, then the VFs are removed");
	is_int((long long)vmr_journal_count(j), 0, "the journal is empty");
	vmr_journal_close(j);
	unlink(path);
	free(path);
	vmr_error_free(e);
}

/* what the child of test_replay_dropped() reports */
struct dropped {
	uint64_t need;
	int keep_r, replay_r;
	bool log_ok, driver_ok, nodes_gone;
	char caps[128];
};

/* The child of replay_dropped(): a function, so its cleanups run before _exit */
static void dropped_child(struct vmr_journal *j, struct dropped *d)
{
	_cleanup_free_ char *st = NULL, *eff = NULL, *prm = NULL, *bnd = NULL;
	char *log, *dr;

	d->need = vmr_journal_caps(j, &cfg);
	d->keep_r = vmr_caps_keep_only(d->need, NULL, NULL);
	if (read_file("/proc/self/status", 1 << 16, &st, NULL) == 0) {
		eff = test_status_field(st, "CapEff");
		prm = test_status_field(st, "CapPrm");
		bnd = test_status_field(st, "CapBnd");
		snprintf(d->caps, sizeof(d->caps), "%s %s %s", eff, prm, bnd);
	}
	d->replay_r = vmr_journal_replay(j, &cfg, NULL);
	log = fake_take_log();
	d->log_ok = streq(log, "bus/pci/drivers/vfio-pci/unbind <- 0000:03:00.0\n"
			       "bus/pci/devices/0000:03:00.0/driver_override <- \\n\n"
			       "bus/pci/drivers_probe <- 0000:03:00.0\n");
	dr = drv("0000:03:00.0");
	d->driver_ok = streq(dr, "e1000e");
	free(log);
	free(dr);
}

/* Bind, then in a child: keep what the journal needs, replay, look. */
static void replay_dropped(const char *what, uint64_t want_need, void (*before)(void))
{
	struct dropped *d =
	    mmap(NULL, sizeof(*d), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct vmr_journal *j = NULL;
	struct vmr_error *e = NULL;
	struct net_rec rec = {0};
	/* not on the heap: the child exits holding it */
	char path[sizeof(fake.root) + 16];
	int status = -1;
	pid_t pid;

	snprintf(path, sizeof(path), "%s-journal.jsonl", fake.root);
	if (d == MAP_FAILED)
		abort();
	vmr_net_register_undo();
	if (vmr_journal_open(path, &j, &e) < 0)
		abort();
	rec.j = j;
	is_int(net_pci_bind_vfio(&cfg, &rec, "0000:03:00.0", &e), 0, "%s: bind to vfio-pci", what);
	free(fake_take_log());
	if (before)
		before();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		dropped_child(j, d);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child ran (status %d)", what,
	   status);
	/* looked at here, with every capability: the child might not see them */
	d->nodes_gone = !is_node("vfio", 10, 196) && !is_node("12", 241, 12);
	is_int((long long)d->need, (long long)want_need, "%s: what the journal needs", what);
	is_int(d->keep_r, 0, "%s: the other capabilities dropped", what);
	{
		_cleanup_free_ char *want =
		    xasprintf("%016llx %016llx %016llx", (unsigned long long)want_need,
			      (unsigned long long)want_need, (unsigned long long)want_need);

		is_str(d->caps, want, "%s: CapEff, CapPrm, CapBnd are exactly that", what);
	}
	is_int(d->replay_r, 0, "%s: the replay succeeds without them", what);
	ok(d->log_ok, "%s: unbind, clear driver_override, reprobe", what);
	ok(d->driver_ok, "%s: the device is back on its driver", what);
	ok(d->nodes_gone, "%s: the /dev/vfio nodes vmrun made are gone", what);
	/* the parent's copy: give the device back for the next case */
	if (vmr_journal_replay(j, &cfg, &e) < 0)
		abort();
	free(fake_take_log());
	vmr_journal_close(j);
	unlink(path);
	munmap(d, sizeof(*d));
}

/* /dev/vfio given to another user, 0700: unlinking its nodes takes CAP_DAC_OVERRIDE */
static void vfio_dir_foreign(void)
{
	_cleanup_free_ char *p = xasprintf("%s/vfio", devroot);

	if (chown(p, 65534, 65534) < 0 || chmod(p, 0700) < 0)
		abort();
}

static void test_replay_dropped(void)
{
	_cleanup_free_ char *p = xasprintf("%s/vfio", devroot);

	if (geteuid() != 0 || !vmr_caps_have(CAP_SETPCAP)) {
		tap_skip("needs root with CAP_SETPCAP", "teardown after the supervisor's drop");
		return;
	}
	/* root's sysfs and /dev: a root supervisor needs no capability at all */
	replay_dropped("root-owned sysfs and /dev", 0, NULL);
	replay_dropped("/dev/vfio of another user", VMR_CAP_BIT(CAP_DAC_OVERRIDE),
		       vfio_dir_foreign);
	if (chown(p, 0, 0) < 0 || chmod(p, 0755) < 0)
		abort();
}

int main(void)
{
	setup_tree();
	free(fake_take_log());
	test_viability();
	test_bind_restore();
	test_qemu_user();
	test_unbound();
	test_bind_errors();
	test_numvfs();
	test_journal_replay();
	test_replay_dropped();
	fake_cleanup();
	return tap_done();
}
