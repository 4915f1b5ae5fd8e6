/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun define: 5gdeploy's `virt --vm=... --ctrlif=...` flags -> topology YAML. */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/buf.h"
#include "lib/model/define.h"
#include "lib/base/util.h"

static void usage(FILE *f)
{
	fputs(
	    "usage: vmrun define --vm='NAME | HOST(CPUSET) | NETIFS' [--vm=...]\n"
	    "                    --ctrlif=MAC|IFNAME [--ip-space=" VMR_DEFINE_IP_SPACE "]\n"
	    "                    [--image=PATH] [--memory=SIZE] [--cpu=MODEL]\n"
	    "                    [--accel=auto|kvm|tcg] [--ssh-key=FILE] [-o FILE]\n\n"
	    "Print a topology for guests written in 5gdeploy's virt syntax, with the\n"
	    "addresses 5gdeploy gives them.\n\n"
	    "  --vm VALUE         one guest; repeat for each guest, all on one command line\n"
	    "                     NAME      [a-z][a-z0-9]{0,30}\n"
	    "                     HOST      physical host IP or name, empty = primary host\n"
	    "                     CPUSET    host CPUs, e.g. 10-19; one vCPU per CPU\n"
	    "                     NETIFS    comma separated: guestif@HOSTMAC, guestif@IFNAME\n"
	    "                               (macvtap), guestif@HOSTMAC+pci=DDDD:BB:SS.F\n"
	    "                               (passthrough), guestif@VF+pci=PF (SR-IOV);\n"
	    "                               every guest needs vmctrl\n"
	    "  --ctrlif MAC|IFNAME  primary host netif that reaches the guests' vmctrl\n"
	    "  --ip-space CIDR    /20 or larger; one /24 per guest netif name\n"
	    "  --image PATH       base image of the guests (default "
	    "IMAGE_DIR/" VMR_DEFINE_IMAGE_NAME ")\n"
	    "  --memory SIZE      guest memory (default 4G)\n"
	    "  --cpu MODEL        QEMU CPU model (default host,-vmx,-svm; max,-vmx,-svm with tcg)\n"
	    "  --accel ACCEL      auto, kvm or tcg (default auto)\n"
	    "  --ssh-key FILE     public keys every guest accepts (e.g. ~/.ssh/id_ed25519.pub)\n"
	    "  -o, --output FILE  write the topology to FILE instead of standard output\n"
	    "  -h, --help         show this help\n\n"
	    "exit status: 0 written, 1 runtime failure (e.g. FILE cannot be written),\n"
	    "2 bad usage or an invalid flag (nothing written)\n"
	    "See docs/5gdeploy.md for the migration guide.\n",
	    f);
}

/* Read a public key file for --ssh-key; prints the error itself. */
static int ssh_key_read(const char *path, struct vmr_strvec *keys)
{
	_cleanup_free_ char *text = NULL, *source = NULL;
	struct vmr_error *err = NULL;
	int r;

	r = read_file(path, 64 * 1024, &text, NULL);
	if (r < 0) {
		vmr_error_usage(&err, "--ssh-key '%s': %s", path, strerror(-r));
		return -vmr_cli_fail(err);
	}
	source = xasprintf("--ssh-key '%s'", path);
	if (vmr_define_ssh_keys_parse(text, source, keys, &err) < 0)
		return -vmr_cli_fail(err);
	return 0;
}

VERB(define)
{
	static const struct option opts[] = {
	    {"vm", required_argument, NULL, 'v'},
	    {"ctrlif", required_argument, NULL, 'c'},
	    {"ip-space", required_argument, NULL, 'i'},
	    {"image", required_argument, NULL, 'I'},
	    {"memory", required_argument, NULL, 'm'},
	    {"cpu", required_argument, NULL, 'C'},
	    {"accel", required_argument, NULL, 'a'},
	    {"ssh-key", required_argument, NULL, 'k'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_define_opts o = {0};
	struct vmr_strvec vms = VMR_STRVEC_INIT, keys = VMR_STRVEC_INIT;
	struct vmr_buf out = VMR_BUF_INIT;
	struct vmr_config cfg = {0};
	struct vmr_define *d = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *image = NULL;
	const char *output = NULL;
	int c, status = VMR_EXIT_OK;

	vmr_define_defaults_init(&o.defaults);
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			vmr_strvec_push(&vms, optarg);
			break;
		case 'c':
			o.ctrlif = optarg;
			break;
		case 'i':
			o.ip_space = optarg;
			break;
		case 'I':
			o.defaults.image = optarg;
			break;
		case 'm':
			o.defaults.memory = optarg;
			break;
		case 'C':
			o.defaults.cpu = optarg;
			break;
		case 'a':
			o.defaults.accel = optarg;
			break;
		case 'k':
			if (ssh_key_read(optarg, &keys) < 0) {
				status = VMR_EXIT_USAGE;
				goto out;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			usage(stdout);
			goto out;
		default:
			usage(stderr);
			status = VMR_EXIT_USAGE;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vmrun: error: define: unexpected argument '%s'\n", argv[optind]);
		status = VMR_EXIT_USAGE;
		goto out;
	}
	if (!o.defaults.image) {
		status = vmr_cli_config(&cfg);
		if (status)
			goto out;
		image = xasprintf("%s/%s", cfg.image_dir, VMR_DEFINE_IMAGE_NAME);
		o.defaults.image = image;
	}
	o.vms = (const char *const *)vms.v;
	o.nvms = vms.n;
	o.ssh_keys = (const char *const *)keys.v;
	o.nssh_keys = keys.n;
	if (vmr_define_build(&o, &d, &err) < 0 || vmr_define_emit(d, &out, &err) < 0) {
		status = vmr_cli_fail(TAKE_PTR(err));
		goto out;
	}
	if (output) {
		int r = write_file_atomic(output, out.s, out.len, 0644);

		if (r < 0) {
			vmr_error_set(&err, r, "write '%s'", output);
			status = vmr_cli_fail(TAKE_PTR(err));
		}
	} else if (fwrite(vmr_buf_str(&out), 1, out.len, stdout) != out.len ||
		   fflush(stdout) != 0) {
		vmr_error_set(&err, errno, "write the topology to standard output");
		status = vmr_cli_fail(TAKE_PTR(err));
	}
out:
	vmr_define_free(d);
	vmr_buf_free(&out);
	vmr_strvec_clear(&vms);
	vmr_strvec_clear(&keys);
	vmr_config_free(&cfg); /* zeroed when not loaded */
	return status;
}
