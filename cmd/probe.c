/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun probe: what this host gives guests, by the checks vmrun itself makes. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/plan/accel.h"
#include "lib/base/util.h"
#include "net/net.h"

struct feature {
	const char *name;
	const char *what;
	int (*probe)(const struct vmr_config *cfg, const char *arg, char **ret_why);
	const char *arg;
};

static int probe_kvm(const struct vmr_config *cfg, _unused_ const char *arg, char **ret_why)
{
	return vmr_accel_kvm_usable(cfg->dev_root, cfg->sysfs_root, ret_why);
}

static int probe_device(const struct vmr_config *cfg, const char *node, char **ret_why)
{
	return vmr_net_probe_device(cfg, node, ret_why);
}

static int probe_kind(_unused_ const struct vmr_config *cfg, const char *kind, char **ret_why)
{
	return vmr_net_probe_kind(kind, ret_why);
}

static int probe_iommu(const struct vmr_config *cfg, _unused_ const char *arg, char **ret_why)
{
	return vmr_net_probe_iommu(cfg, ret_why);
}

static const struct feature features[] = {
    {"kvm", "KVM runs guests (else accel auto falls back to TCG)", probe_kvm, NULL},
    {"tun", "tap devices (bridge and tap NICs)", probe_device, "net/tun"},
    {"vhost-net", "vhost-net for tap-like NICs (else QEMU's own virtio-net backend)", probe_device,
     "vhost-net"},
    {"macvtap", "macvtap links (macvtap NICs)", probe_kind, "macvtap"},
    {"bridge", "bridges (bridge NICs)", probe_kind, "bridge"},
    {"vlan", "802.1Q VLAN sub-interfaces (the vlan key of macvtap NICs)", probe_kind, "vlan"},
    {"iommu", "an IOMMU and VFIO (pci and vf NICs)", probe_iommu, NULL},
};

static void usage(FILE *f)
{
	fputs("usage: vmrun probe [--json] [FEATURE...]\n\n"
	      "Tell whether this host gives guests each FEATURE (default: all), by the\n"
	      "same checks vmrun makes before it relies on one.  One line each:\n"
	      "\"FEATURE: yes\" or \"FEATURE: no: REASON\".  Link kinds are tried in a\n"
	      "private network namespace, so the host's links are left alone.\n\n"
	      "features:\n",
	      f);
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		fprintf(f, "  %-10s %s\n", features[i].name, features[i].what);
	fputs(
	    "\n      --json     one JSON object: {FEATURE: {\"usable\": BOOL, \"reason\": TEXT}}\n"
	    "  -h, --help     show this help\n\n"
	    "exit status: 0 every FEATURE is usable, 1 one is not, 2 bad usage\n",
	    f);
}

static const struct feature *feature_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		if (streq(features[i].name, name))
			return &features[i];
	return NULL;
}

VERB(probe)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct feature *want[ARRAY_SIZE(features)];
	struct vmr_config cfg = {0};
	json_t *out = NULL;
	size_t nwant = 0;
	bool json = false;
	int c, status;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return VMR_EXIT_OK;
		default:
			usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	for (int i = optind; i < argc; i++) {
		const struct feature *f = feature_find(argv[i]);

		if (!f) {
			fprintf(stderr, "vmrun: error: probe: unknown feature '%s'\n", argv[i]);
			fputs("vmrun: see 'vmrun probe --help'\n", stderr);
			return VMR_EXIT_USAGE;
		}
		if (nwant < ARRAY_SIZE(want))
			want[nwant++] = f;
	}
	if (nwant == 0)
		for (size_t i = 0; i < ARRAY_SIZE(features); i++)
			want[nwant++] = &features[i];
	status = vmr_cli_config(&cfg);
	if (status)
		return status;

	out = json_object();
	for (size_t i = 0; i < nwant; i++) {
		_cleanup_free_ char *why = NULL;
		int usable = want[i]->probe(&cfg, want[i]->arg, &why);

		if (!usable)
			status = VMR_EXIT_FAILURE;
		if (json)
			json_object_set_new(
			    out, want[i]->name,
			    json_pack("{s:b, s:s?}", "usable", usable, "reason", why));
		else if (usable)
			printf("%s: yes\n", want[i]->name);
		else
			printf("%s: no: %s\n", want[i]->name, why);
	}
	if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	}
	json_decref(out);
	vmr_config_free(&cfg);
	if (fflush(stdout) != 0)
		return VMR_EXIT_FAILURE;
	return status;
}
