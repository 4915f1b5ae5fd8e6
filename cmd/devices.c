/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun devices [--json]: what this host offers a topology (NICs, VFs, PCI, USB). */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"
#include "net/net.h"

struct devices_opts {
	bool json;
};

static const struct vmr_cli_opt devices_options[] = {
    {"json", 'j', NULL, "one JSON object instead of tables",
     VMR_CLI_FLAG(struct devices_opts, json)},
    {0},
};

const struct vmr_cli_cmd cmd_devices_cli = {
    .name = "devices",
    .summary = "list NICs, SR-IOV PFs, PCI and USB devices a topology can use",
    .synopsis = "[--json]",
    .description = "List what a topology can use on this host: network interfaces (MAC,\n"
		   "driver, PCI address, state), SR-IOV physical functions (VFs in use and\n"
		   "total), PCI devices with their IOMMU group and whether they can be passed\n"
		   "through, and USB devices.  Reads sysfs (sysfs_root in the configuration,\n"
		   "or VMRUN_SYSFS_ROOT) with libpci; changes nothing.",
    .opts = devices_options,
    .exit_status = "0 listed, 1 sysfs could not be read, 2 bad usage",
    .run = cmd_devices,
};

static const char *s_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static void print_tables(const json_t *d)
{
	const json_t *v;
	size_t i;

	printf("network interfaces:\n");
	printf("  %-15s %-17s %-12s %-12s %s\n", "NAME", "MAC", "DRIVER", "PCI", "STATE");
	json_array_foreach(json_object_get(d, "nics"), i, v)
	    printf("  %-15s %-17s %-12s %-12s %s\n", s_or(v, "name", "-"), s_or(v, "mac", "-"),
		   s_or(v, "driver", "-"), s_or(v, "pci", "-"), s_or(v, "state", "-"));

	printf("\nSR-IOV physical functions:\n");
	printf("  %-12s %-15s %-12s %s\n", "PCI", "IFNAME", "DRIVER", "VFS (used/total)");
	json_array_foreach(json_object_get(d, "sriov"), i, v)
	    printf("  %-12s %-15s %-12s %lld/%lld\n", s_or(v, "pci", "-"), s_or(v, "ifname", "-"),
		   s_or(v, "driver", "-"), json_integer_value(json_object_get(v, "numvfs")),
		   json_integer_value(json_object_get(v, "totalvfs")));

	printf("\nPCI devices:\n");
	printf("  %-12s %-9s %-14s %-5s %-11s %s\n", "PCI", "ID", "DRIVER", "GROUP", "PASSTHROUGH",
	       "DEVICE");
	json_array_foreach(json_object_get(d, "pci"), i, v)
	{
		const json_t *g = json_object_get(v, "iommu_group");
		char group[16] = "-";

		if (json_is_integer(g))
			snprintf(group, sizeof(group), "%lld", json_integer_value(g));
		printf("  %-12s %-9s %-14s %-5s %-11s %s: %s %s\n", s_or(v, "pci", "-"),
		       s_or(v, "id", "-"), s_or(v, "driver", "-"), group,
		       json_is_true(json_object_get(v, "passthrough")) ? "yes" : "no",
		       s_or(v, "class_name", "-"), s_or(v, "vendor", ""), s_or(v, "device", ""));
		if (!json_is_true(json_object_get(v, "passthrough")) && json_object_get(v, "why"))
			printf("  %-12s   (%s)\n", "", s_or(v, "why", ""));
	}

	printf("\nUSB devices (YAML: the guest's usb: entry that passes it through):\n");
	printf("  %-7s %-9s %-8s %-40s %s\n", "BUS:DEV", "ID", "PORT", "YAML", "PRODUCT");
	json_array_foreach(json_object_get(d, "usb"), i, v)
	{
		const char *manu = json_string_value(json_object_get(v, "manufacturer"));

		printf("  %03lld:%03lld %-9s %-8s %-40s %s%s%s\n",
		       json_integer_value(json_object_get(v, "bus")),
		       json_integer_value(json_object_get(v, "dev")), s_or(v, "id", "-"),
		       s_or(v, "port", "-"), s_or(v, "yaml", "- (a root hub)"), manu ? manu : "",
		       manu ? " " : "", s_or(v, "product", ""));
	}
}

VERB(devices)
{
	struct devices_opts o = {0};
	struct vmr_cli_args a;
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	json_t *d = NULL;
	int status;

	status = vmr_cli_parse(&cmd_devices_cli, argc, argv, &o, &a);
	if (status != VMR_CLI_RUN)
		return status;
	status = vmr_cli_config(&cfg);
	if (status)
		return status;
	if (vmr_net_devices(&cfg, &d, &err) < 0) {
		status = vmr_cli_fail(err);
	} else if (o.json) {
		json_dumpf(d, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		print_tables(d);
	}
	json_decref(d);
	vmr_config_free(&cfg);
	return status;
}
