/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun probe: what this host gives guests, by the checks vmrun itself makes. */
#include <jansson.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/plan/accel.h"
#include "lib/base/util.h"
#include "net/net.h"

/* vmrun probe --help describes each (cmd_probe_cli) */
struct feature {
	const char *name;
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
    {"kvm", probe_kvm, NULL},
    {"tun", probe_device, "net/tun"},
    {"vhost-net", probe_device, "vhost-net"},
    {"macvtap", probe_kind, "macvtap"},
    {"bridge", probe_kind, "bridge"},
    {"vlan", probe_kind, "vlan"},
    {"iommu", probe_iommu, NULL},
};

const char *cmd_probe_feature(size_t i)
{
	return i < ARRAY_SIZE(features) ? features[i].name : NULL;
}

struct probe_opts {
	bool json;
};

static const struct vmr_cli_opt probe_options[] = {
    {"json", 'j', NULL, "one JSON object: {FEATURE: {\"usable\": BOOL, \"reason\": TEXT}}",
     VMR_CLI_FLAG(struct probe_opts, json)},
    {0},
};

const struct vmr_cli_cmd cmd_probe_cli = {
    .name = "probe",
    .summary = "tell what this host gives guests: KVM, vhost-net, link kinds, IOMMU",
    .synopsis = "[--json] [FEATURE...]",
    .description = "Tell whether this host gives guests each FEATURE (default: all), by the\n"
		   "same checks vmrun makes before it relies on one.  One line each:\n"
		   "\"FEATURE: yes\" or \"FEATURE: no: REASON\".  Link kinds are tried in a\n"
		   "private network namespace, so the host's links are left alone.\n"
		   "\n"
		   "features:\n"
		   "  kvm        KVM runs guests (else accel auto falls back to TCG)\n"
		   "  tun        tap devices (bridge and tap NICs)\n"
		   "  vhost-net  vhost-net for tap-like NICs (else QEMU's own virtio-net backend)\n"
		   "  macvtap    macvtap links (macvtap NICs)\n"
		   "  bridge     bridges (bridge NICs)\n"
		   "  vlan       802.1Q VLAN sub-interfaces (the vlan key of macvtap NICs)\n"
		   "  iommu      an IOMMU and VFIO (pci and vf NICs)",
    .opts = probe_options,
    .arg_names = "[FEATURE...]",
    .max_args = VMR_CLI_ANY,
    .exit_status = "0 every FEATURE is usable, 1 one is not, 2 bad usage",
    .run = cmd_probe,
};

static const struct feature *feature_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		if (streq(features[i].name, name))
			return &features[i];
	return NULL;
}

VERB(probe)
{
	struct probe_opts o = {0};
	const struct feature *want[ARRAY_SIZE(features)];
	struct vmr_config cfg = {0};
	json_t *out = NULL;
	size_t nwant = 0;
	struct vmr_cli_args a;
	int status;

	status = vmr_cli_parse(&cmd_probe_cli, argc, argv, &o, &a);
	if (status != VMR_CLI_RUN)
		return status;
	for (int i = 0; i < a.n; i++) {
		const struct feature *f = feature_find(a.v[i]);

		if (!f)
			return vmr_cli_usage_error(&cmd_probe_cli, "unknown feature '%s'", a.v[i]);
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
		if (o.json)
			json_object_set_new(
			    out, want[i]->name,
			    json_pack("{s:b, s:s?}", "usable", usable, "reason", why));
		else if (usable)
			printf("%s: yes\n", want[i]->name);
		else
			printf("%s: no: %s\n", want[i]->name, why);
	}
	if (o.json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	}
	json_decref(out);
	vmr_config_free(&cfg);
	if (fflush(stdout) != 0)
		return VMR_EXIT_FAILURE;
	return status;
}
