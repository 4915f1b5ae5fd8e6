/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun args: print the QEMU command line `run` would exec for a guest. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "lib/base/buf.h"
#include "lib/base/netaddr.h"
#include "lib/base/util.h"
#include "lib/plan/plan.h"
#include "lib/runtime/guestplan.h"

struct args_opts {
	int accel; /* index in "auto|kvm|tcg" */
	int vhost; /* index in "on|off", -1: not given */
	bool no_sandbox;
	bool env;
	struct vmr_strvec vfs;
};

/* in the order of --accel's "auto|kvm|tcg" */
static const enum vmr_accel accels[] = {VMR_ACCEL_AUTO, VMR_ACCEL_KVM, VMR_ACCEL_TCG};

static const struct vmr_cli_opt args_options[] = {
    {"accel", 0, "auto|kvm|tcg", "kvm or tcg instead of resolving `auto` on this host",
     VMR_CLI_CHOICE(struct args_opts, accel)},
    {"vhost", 0, "on|off",
     "vhost-net fds for tap-like NICs (default: on when\n"
     "/dev/vhost-net opens, as run decides)",
     VMR_CLI_CHOICE(struct args_opts, vhost)},
    {"no-sandbox", 0, NULL, "leave out QEMU's -sandbox",
     VMR_CLI_FLAG(struct args_opts, no_sandbox)},
    {"vf", 0, "NIC=PCI",
     "the VF a `vf:` NIC gets (run picks it when the guest\n"
     "starts); repeat for each vf NIC",
     VMR_CLI_LIST(struct args_opts, vfs)},
    {"env", 0, NULL, "first QEMU's whole environment, NAME=VALUE a line",
     VMR_CLI_FLAG(struct args_opts, env)},
    {0},
};

const struct vmr_cli_cmd cmd_args_cli = {
    .name = "args",
    .summary = "print the QEMU command line of a guest",
    .synopsis = "TOPOLOGY GUEST [--accel kvm|tcg] [--vhost on|off]\n"
		" [--no-sandbox] [--vf NIC=DDDD:BB:SS.F]... [--env]",
    .description = "Print the QEMU command line `vmrun run` executes for GUEST on this host, one\n"
		   "argument per line, argv[0] first: the same plan, fd numbers (3, 4, ...)\n"
		   "and paths (the seed in the state directory).",
    .opts = args_options,
    .arg_names = "TOPOLOGY GUEST",
    .min_args = 2,
    .max_args = 2,
    .footer = "See docs/qemu-argv.md for what each argument is for.",
    .exit_status = "0 printed, 1 runtime failure, 2 bad usage or invalid topology",
    .run = cmd_args,
};

struct vf_opt {
	char *nic;
	char *vf;
};

static int parse_vf(const char *arg, struct vf_opt *ret, struct vmr_error **err)
{
	const char *eq = strchr(arg, '=');
	struct vmr_pci_addr a;
	char buf[13];

	if (!eq || eq == arg)
		return vmr_error_usage(err, "--vf '%s': expected NIC=DDDD:BB:SS.F", arg);
	if (vmr_pci_parse(eq + 1, &a) < 0)
		return vmr_error_usage(
		    err, "--vf '%s': invalid PCI address '%s' (want DDDD:BB:SS.F)", arg, eq + 1);
	ret->nic = xstrndup(arg, eq - arg);
	ret->vf = xstrdup(vmr_pci_format(&a, buf));
	return 0;
}

/* The VFs --vf names, in the plan: run picks them when the guest starts. */
static int fill_vfs(struct vmr_plan *plan, const struct vf_opt *vfs, size_t nvfs,
		    struct vmr_error **err)
{
	const struct vmr_guest *g = plan->guest;

	for (size_t i = 0; i < nvfs; i++) {
		struct vmr_plan_dev *pd = vmr_plan_nic(plan, vfs[i].nic);

		if (!pd || !streq(pd->dev->ops->name, "vf"))
			return vmr_error_usage(err, "--vf '%s=%s': guest '%s' has no vf nic '%s'",
					       vfs[i].nic, vfs[i].vf, g->name, vfs[i].nic);
		free(pd->hostdev);
		pd->hostdev = xstrdup(vfs[i].vf);
	}
	return 0;
}

VERB(args)
{
	struct args_opts o = {.vhost = -1};
	struct vmr_config cfg = {0};
	struct vmr_topology *topo = NULL;
	struct vmr_plan plan = {0};
	struct vmr_strvec out = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	struct vf_opt *vfs = NULL;
	size_t nvfs = 0, vfs_alloc = 0;
	_cleanup_free_ char *warning = NULL;
	struct vmr_guest_plan_opts po;
	const struct vmr_guest *g;
	struct vmr_cli_args a;
	enum vmr_accel accel;
	int status;

	status = vmr_cli_parse(&cmd_args_cli, argc, argv, &o, &a);
	if (status != VMR_CLI_RUN)
		return status;
	accel = accels[o.accel];
	for (size_t i = 0; i < o.vfs.n; i++) {
		XGROW(vfs, vfs_alloc, nvfs + 1);
		if (parse_vf(o.vfs.v[i], &vfs[nvfs], &err) < 0) {
			status = vmr_cli_fail(err);
			goto out;
		}
		nvfs++;
	}
	status = vmr_cli_config(&cfg);
	if (status)
		goto out;
	status = vmr_cli_topology(a.v[0], &topo);
	if (status)
		goto out;
	g = vmr_topology_guest(topo, a.v[1]);
	if (!g) {
		struct vmr_buf names = VMR_BUF_INIT;

		for (size_t i = 0; i < topo->nguests; i++)
			vmr_buf_addf(&names, "%s'%s'", i ? ", " : "", topo->guests[i].name);
		vmr_error_usage(&err, "guest '%s' not found in '%s'", a.v[1], a.v[0]);
		vmr_error_hint(&err, "its guests: %s", vmr_buf_str(&names));
		vmr_buf_free(&names);
		status = vmr_cli_fail(err);
		goto out;
	}

	po = (struct vmr_guest_plan_opts){
	    .topo_path = a.v[0],
	    .accel = accel,
	    .vhost = o.vhost < 0 ? -1 : o.vhost == 0, /* "on|off" */
	    .no_sandbox = o.no_sandbox,
	};
	if (vmr_guest_plan(&cfg, topo, g, &po, &plan, &warning, &err) < 0) {
		/* printing needs no usable KVM: say how to get the command line anyway */
		if (accel == VMR_ACCEL_AUTO && err->status == VMR_EXIT_FAILURE)
			vmr_error_hint(
			    &err, "%s%sprint the command line anyway with --accel kvm (or tcg)",
			    err->hint ? err->hint : "", err->hint ? "; or " : "");
		status = vmr_cli_fail(err);
		goto out;
	}
	if (warning)
		fprintf(stderr, "vmrun: warning: guest '%s': %s\n", g->name, warning);
	if (fill_vfs(&plan, vfs, nvfs, &err) < 0 || vmr_argv_build(&plan, &out, &err) < 0) {
		status = vmr_cli_fail(err);
		goto out;
	}

	/* QEMU's whole environment first, as NAME=VALUE lines: run passes nothing else */
	for (size_t i = 0; o.env && i < plan.env.n; i++) {
		fputs(plan.env.v[i], stdout);
		putchar('\n');
	}
	for (size_t i = 0; i < out.n; i++) {
		fputs(out.v[i], stdout);
		putchar('\n');
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "vmrun: error: write to standard output: %s\n", strerror(errno));
		status = VMR_EXIT_FAILURE;
	}

out:
	for (size_t i = 0; i < nvfs; i++) {
		free(vfs[i].nic);
		free(vfs[i].vf);
	}
	free(vfs);
	vmr_strvec_clear(&o.vfs);
	vmr_strvec_clear(&out);
	vmr_plan_free(&plan);
	vmr_topology_free(topo);
	vmr_config_free(&cfg);
	return status;
}
