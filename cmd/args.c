/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun args: print the QEMU command line `run` would exec for a guest. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "lib/base/buf.h"
#include "lib/base/netaddr.h"
#include "lib/base/util.h"
#include "lib/plan/plan.h"
#include "lib/runtime/guestplan.h"

static void usage(FILE *f)
{
	fputs("usage: vmrun args TOPOLOGY GUEST [--accel kvm|tcg] [--vhost on|off]\n"
	      "                  [--no-sandbox] [--vf NIC=DDDD:BB:SS.F]... [--env]\n\n"
	      "Print the QEMU command line `vmrun run` executes for GUEST on this host, one\n"
	      "argument per line, argv[0] first: the same plan, fd numbers (3, 4, ...) and\n"
	      "paths (the seed in the state directory).\n\n"
	      "  --accel ACCEL     kvm or tcg instead of resolving `auto` on this host\n"
	      "  --vhost on|off    vhost-net fds for tap-like NICs (default: on when\n"
	      "                    /dev/vhost-net opens, as run decides)\n"
	      "  --no-sandbox      leave out QEMU's -sandbox\n"
	      "  --vf NIC=PCI      the VF a `vf:` NIC gets (run picks it when the guest\n"
	      "                    starts); repeat for each vf NIC\n"
	      "  --env             first QEMU's whole environment, NAME=VALUE a line\n"
	      "  -h, --help        show this help\n\n"
	      "exit status: 0 printed, 1 runtime failure, 2 bad usage or invalid topology\n"
	      "See docs/qemu-argv.md for what each argument is for.\n",
	      f);
}

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
	static const struct option opts[] = {
	    {"accel", required_argument, NULL, 'a'},
	    {"vhost", required_argument, NULL, 'v'},
	    {"no-sandbox", no_argument, NULL, 'S'},
	    {"vf", required_argument, NULL, 'f'},
	    {"env", no_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
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
	enum vmr_accel accel = VMR_ACCEL_AUTO;
	int vhost = -1, sandbox = 1, c, status;
	bool env = false;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (streq(optarg, "kvm"))
				accel = VMR_ACCEL_KVM;
			else if (streq(optarg, "tcg"))
				accel = VMR_ACCEL_TCG;
			else if (!streq(optarg, "auto")) {
				fprintf(stderr,
					"vmrun: error: --accel '%s': expected kvm, tcg or auto\n",
					optarg);
				status = VMR_EXIT_USAGE;
				goto out;
			}
			break;
		case 'v':
			if (streq(optarg, "on"))
				vhost = 1;
			else if (streq(optarg, "off"))
				vhost = 0;
			else {
				fprintf(stderr, "vmrun: error: --vhost '%s': expected on or off\n",
					optarg);
				status = VMR_EXIT_USAGE;
				goto out;
			}
			break;
		case 'S':
			sandbox = 0;
			break;
		case 'e':
			env = true;
			break;
		case 'f':
			XGROW(vfs, vfs_alloc, nvfs + 1);
			if (parse_vf(optarg, &vfs[nvfs], &err) < 0) {
				status = vmr_cli_fail(err);
				goto out;
			}
			nvfs++;
			break;
		case 'h':
			usage(stdout);
			status = VMR_EXIT_OK;
			goto out;
		default:
			usage(stderr);
			status = VMR_EXIT_USAGE;
			goto out;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "vmrun: error: args needs a topology file and a guest name\n");
		usage(stderr);
		status = VMR_EXIT_USAGE;
		goto out;
	}

	status = vmr_cli_config(&cfg);
	if (status)
		goto out;
	status = vmr_cli_topology(argv[optind], &topo);
	if (status)
		goto out;
	g = vmr_topology_guest(topo, argv[optind + 1]);
	if (!g) {
		struct vmr_buf names = VMR_BUF_INIT;

		for (size_t i = 0; i < topo->nguests; i++)
			vmr_buf_addf(&names, "%s'%s'", i ? ", " : "", topo->guests[i].name);
		vmr_error_usage(&err, "guest '%s' not found in '%s'", argv[optind + 1],
				argv[optind]);
		vmr_error_hint(&err, "its guests: %s", vmr_buf_str(&names));
		vmr_buf_free(&names);
		status = vmr_cli_fail(err);
		goto out;
	}

	po = (struct vmr_guest_plan_opts){
	    .topo_path = argv[optind], .accel = accel, .vhost = vhost, .no_sandbox = !sandbox};
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
	for (size_t i = 0; env && i < plan.env.n; i++) {
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
	vmr_strvec_clear(&out);
	vmr_plan_free(&plan);
	vmr_topology_free(topo);
	vmr_config_free(&cfg);
	return status;
}
