/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun args: print the QEMU command line `run` would exec for a guest. */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "images/images.h"
#include "lib/plan/accel.h"
#include "lib/base/buf.h"
#include "lib/base/netaddr.h"
#include "lib/plan/plan.h"
#include "lib/base/util.h"
#include "net/net.h"

static void usage(FILE *f)
{
	fputs("usage: vmrun args TOPOLOGY GUEST [--accel kvm|tcg] [--vhost on|off]\n"
	      "                  [--no-sandbox] [--vf NIC=DDDD:BB:SS.F]...\n\n"
	      "Print the QEMU command line `vmrun run` would execute for GUEST, one argument\n"
	      "per line, argv[0] first.  Fds are numbered as run passes them (3, 4, ...).\n\n"
	      "  --accel ACCEL     kvm or tcg instead of resolving `auto` on this host\n"
	      "  --vhost on|off    vhost-net fds for tap-like NICs (default: on when\n"
	      "                    /dev/vhost-net opens, as run decides)\n"
	      "  --no-sandbox      leave out QEMU's -sandbox\n"
	      "  --vf NIC=PCI      the VF a `vf:` NIC gets (run picks it when the guest\n"
	      "                    starts); repeat for each vf NIC\n"
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

/* Canonical directory of the topology file: relative paths in it resolve there. */
static int topology_dir(const char *path, char **ret, struct vmr_error **err)
{
	_cleanup_free_ char *real = realpath(path, NULL);

	if (!real)
		return vmr_error_set(err, errno, "resolve '%s'", path);
	*ret = xstrdup(dirname(real));
	return 0;
}

static int fill_vfs(struct vmr_plan *plan, const struct vf_opt *vfs, size_t nvfs,
		    struct vmr_error **err)
{
	const struct vmr_guest *g = plan->guest;

	for (size_t i = 0; i < nvfs; i++) {
		size_t k;

		for (k = 0; k < plan->nnics; k++)
			if (streq(plan->nics[k].nic->name, vfs[i].nic))
				break;
		if (k == plan->nnics || plan->nics[k].nic->kind != VMR_NIC_VF)
			return vmr_error_usage(err, "--vf '%s=%s': guest '%s' has no vf nic '%s'",
					       vfs[i].nic, vfs[i].vf, g->name, vfs[i].nic);
		free(plan->nics[k].vfio_host);
		plan->nics[k].vfio_host = xstrdup(vfs[i].vf);
	}
	for (size_t k = 0; k < plan->nnics; k++) {
		const struct vmr_nic *n = plan->nics[k].nic;
		char pf[13];

		if (n->kind != VMR_NIC_VF || plan->nics[k].vfio_host)
			continue;
		vmr_error_usage(err,
				"nic '%s' of guest '%s' is a vf of '%s': run picks the vf when "
				"the guest starts",
				n->name, g->name, vmr_pci_format(&n->pci, pf));
		vmr_error_hint(err,
			       "pass --vf %s=DDDD:BB:SS.F to print the command line with that vf",
			       n->name);
		return -EINVAL;
	}
	return 0;
}

VERB(args)
{
	static const struct option opts[] = {
	    {"accel", required_argument, NULL, 'a'}, {"vhost", required_argument, NULL, 'v'},
	    {"no-sandbox", no_argument, NULL, 'S'},  {"vf", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0},
	};
	struct vmr_config cfg = {0};
	struct vmr_topology *topo = NULL;
	struct vmr_plan plan = {0};
	struct vmr_strvec out = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	struct vf_opt *vfs = NULL;
	size_t nvfs = 0, vfs_alloc = 0;
	_cleanup_free_ char *dir = NULL, *warning = NULL;
	const struct vmr_guest *g;
	enum vmr_accel accel = VMR_ACCEL_AUTO;
	int vhost = -1, sandbox = 1, c, status;

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

	if (accel == VMR_ACCEL_AUTO &&
	    vmr_accel_resolve(g->accel, cfg.accel, cfg.dev_root, cfg.sysfs_root, &accel, &warning,
			      &err) < 0) {
		vmr_error_wrap(&err, "guest '%s'", g->name);
		/* printing needs no usable KVM: say how to get the command line anyway */
		vmr_error_hint(&err, "%s%sprint the command line anyway with --accel kvm (or tcg)",
			       err->hint ? err->hint : "", err->hint ? "; or " : "");
		status = vmr_cli_fail(err);
		goto out;
	}
	if (warning)
		fprintf(stderr, "vmrun: warning: guest '%s': %s\n", g->name, warning);

	if (topology_dir(argv[optind], &dir, &err) < 0) {
		status = vmr_cli_fail(err);
		goto out;
	}
	vmr_plan_init(&plan, topo, g, cfg.qemu, dir, accel);
	/* run's choice: vhost-net when the device opens (net/ falls back the same way) */
	plan.vhost = vhost >= 0 ? vhost : vmr_net_vhost_available(&cfg);
	plan.sandbox = sandbox;
	vmr_plan_assign_fds(&plan);
	/* the paths run uses; images/ creates the files there (docs/images.md) */
	if (g->cloud_init.enabled)
		plan.seed_iso = xasprintf("%s/%s/" VMR_SEED_FILE, cfg.state_dir, g->name);
	plan.root_disk = vmr_image_root_path(&cfg, g);
	if (fill_vfs(&plan, vfs, nvfs, &err) < 0 || vmr_argv_build(&plan, &out, &err) < 0) {
		status = vmr_cli_fail(err);
		goto out;
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
