/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `hostdevs:` end to end against a fake sysfs tree (tests/net/fakesys.h):
 * topology -> plan -> the device's host setup through the NIC passthrough
 * path -> the journal's replay.  A GPU and its audio function share IOMMU
 * group 14 with a PCIe port: listing only the GPU is refused (its audio
 * function is on snd_hda_intel) with nothing written; listing both binds
 * both to vfio-pci, and the replay gives each its driver back.  Also the
 * free-hugepages count of the memory device under a fake sysfs.
 */
#include <sys/stat.h>

#include "tests/net/fakesys.h"

#include "lib/base/journal.h"
#include "lib/devices/devices.h"
#include "lib/runtime/guestplan.h"
#include "net/net.h"
#include "tests/lib/tap.h"

static struct vmr_config cfg;
static char devroot[160];

static void setup_tree(void)
{
	static const char *const drivers[] = {"vfio-pci", "nouveau", "snd_hda_intel", "pcieport"};
	static const struct fake_dev devs[] = {
	    {"0000:05:00.0", "nouveau", "nouveau", 14, NULL, NULL, 0, NULL, 0, "0x030000",
	     "10de:1eb8"},
	    {"0000:05:00.1", "snd_hda_intel", "snd_hda_intel", 14, NULL, NULL, 0, NULL, 0,
	     "0x040300", "10de:10f8"},
	    {"0000:00:1c.0", "pcieport", "pcieport", 14, NULL, NULL, 0, NULL, 0, "0x060400",
	     "8086:a110"},
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

static void check_drv(const char *bdf, const char *want, const char *what)
{
	char *d = drv(bdf);

	is_str(d, want, "%s", what);
	free(d);
}

/* load TEXT, plan guest "g", run its devices' host setup into journal j */
static int setup_guest(const char *text, struct vmr_journal *j, struct vmr_error **err)
{
	struct vmr_diags diags = {0};
	struct vmr_topology *t = NULL;
	struct vmr_plan_opts po = {.cfg = &cfg, .topo_dir = "/", .facts = {.accel = VMR_ACCEL_TCG}};
	struct vmr_plan p;
	int *fds, r;

	r = vmr_topology_load_buffer("hostdevs.yaml", text, strlen(text), vmr_device_kinds(), &t,
				     &diags);
	if (r < 0) {
		for (size_t i = 0; i < diags.n; i++)
			tap_diag("%s", diags.v[i].msg);
		vmr_diags_clear(&diags);
		return r;
	}
	r = vmr_plan_build(t, vmr_topology_guest(t, "g"), &po, &p, err);
	if (r < 0) {
		vmr_topology_free(t);
		return r;
	}
	fds = xcalloc((size_t)p.nfds, sizeof(*fds));
	for (int i = 0; i < p.nfds; i++)
		fds[i] = -1;
	r = vmr_guest_setup(&cfg, j, &p, fds, NULL, NULL, err);
	free(fds);
	vmr_plan_free(&p);
	vmr_topology_free(t);
	vmr_diags_clear(&diags);
	return r;
}

static void test_hostdevs(void)
{
	static const char gpu_only[] = "version: 1\n"
				       "guests:\n"
				       "  g:\n"
				       "    hostdevs:\n"
				       "      - {pci: \"0000:05:00.0\"}\n";
	static const char both[] =
	    "version: 1\n"
	    "guests:\n"
	    "  g:\n"
	    "    hostdevs:\n"
	    "      - {pci: \"0000:05:00.0\", multifunction: true, rom: false}\n"
	    "      - {pci: \"0000:05:00.1\"}\n";
	char *path = xasprintf("%s-journal.jsonl", fake.root);
	struct vmr_journal *j = NULL;
	struct vmr_error *e = NULL;
	char *log;

	vmr_net_register_undo();
	is_int(vmr_journal_open(path, &j, &e), 0, "open a journal");

	ok(setup_guest(gpu_only, j, &e) < 0 && e, "the GPU alone is refused");
	ok(e && strstr(e->msg, "shares IOMMU group 14 with '0000:05:00.1', which is bound to "
			       "'snd_hda_intel'"),
	   "the error names the other function of the group and its driver");
	ok(e && strstr(e->msg, "hostdev '0000:05:00.0'"), "and the hostdev");
	vmr_error_clear(&e);
	log = fake_take_log();
	is_str(log, "", "nothing written to sysfs");
	free(log);
	is_int((long long)vmr_journal_count(j), 0, "nothing journaled");

	is_int(setup_guest(both, j, &e), 0, "the GPU with its audio function");
	if (e)
		tap_diag("%s", e->msg);
	vmr_error_clear(&e);
	check_drv("0000:05:00.0", "vfio-pci", "the GPU is on vfio-pci");
	check_drv("0000:05:00.1", "vfio-pci", "its audio function is on vfio-pci");
	check_drv("0000:00:1c.0", "pcieport", "the PCIe port stays on pcieport");
	free(fake_take_log());

	is_int(vmr_journal_replay(j, &cfg, &e), 0, "replay the journal (the undo)");
	check_drv("0000:05:00.0", "nouveau", "the GPU is back on nouveau");
	check_drv("0000:05:00.1", "snd_hda_intel", "the audio function is back on snd_hda_intel");
	is_int((long long)vmr_journal_count(j), 0, "the journal is empty");
	free(fake_take_log());
	vmr_journal_close(j);
	unlink(path);
	free(path);
	vmr_error_free(e);
}

static void test_free_hugepages(void)
{
	struct vmr_error *e = NULL;
	unsigned long long n = 0;

	fake_put("512\n", "kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
	fake_put("12\n", "kernel/mm/hugepages/hugepages-2048kB/resv_hugepages");
	fake_put("3\n", "devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages");
	is_int(vmr_memory_free_hugepages(fake.root, 2u << 20, -1, &n, &e), 0, "read free pages");
	is_int((long long)n, 500, "free less reserved: 500 pages of 2M");
	is_int(vmr_memory_free_hugepages(fake.root, 2u << 20, 0, &n, &e), 0,
	       "read a node's free pages");
	is_int((long long)n, 3, "node 0 has 3");
	ok(vmr_memory_free_hugepages(fake.root, 1u << 30, -1, &n, &e) < 0 && e,
	   "no 1G pool: an error");
	vmr_error_clear(&e);
	free(fake_take_log());
}

int main(void)
{
	setup_tree();
	free(fake_take_log());
	test_hostdevs();
	test_free_hugepages();
	fake_cleanup();
	return tap_done();
}
