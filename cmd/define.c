/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun define: 5gdeploy's `virt --vm=... --ctrlif=...` flags -> topology YAML. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/buf.h"
#include "lib/model/define.h"
#include "lib/base/util.h"

struct define_cli_opts {
	struct vmr_define_opts d;
	struct vmr_strvec vms;
	struct vmr_strvec ssh_keys; /* files */
	int accel;		    /* index in "auto|kvm|tcg", -1: not given */
	const char *output;
};

/* in the order of --accel's "auto|kvm|tcg" */
static const char *const accels[] = {"auto", "kvm", "tcg"};

static const struct vmr_cli_opt define_options[] = {
    {"vm", 0, "VALUE",
     "one guest; repeat for each guest, all on one\n"
     "command line:\n"
     "NAME    [a-z][a-z0-9]{0,30}\n"
     "HOST    physical host IP or name, empty = primary\n"
     "        host\n"
     "CPUSET  host CPUs, e.g. 10-19; one vCPU per CPU\n"
     "NETIFS  comma separated: guestif@HOSTMAC,\n"
     "        guestif@IFNAME (macvtap),\n"
     "        guestif@HOSTMAC+pci=DDDD:BB:SS.F\n"
     "        (passthrough), guestif@VF+pci=PF (SR-IOV);\n"
     "        every guest needs vmctrl",
     VMR_CLI_LIST(struct define_cli_opts, vms)},
    {"ctrlif", 0, "MAC|IFNAME", "primary host netif that reaches the guests' vmctrl",
     VMR_CLI_STRING(struct define_cli_opts, d.ctrlif)},
    {"ip-space", 0, "CIDR", "/20 or larger; one /24 per guest netif name",
     VMR_CLI_STRING(struct define_cli_opts, d.ip_space)},
    {"image", 0, "PATH",
     "base image of the guests\n"
     "(default IMAGE_DIR/" VMR_DEFINE_IMAGE_NAME ")",
     VMR_CLI_STRING(struct define_cli_opts, d.defaults.image)},
    {"memory", 0, "SIZE", "guest memory (default 4G)",
     VMR_CLI_STRING(struct define_cli_opts, d.defaults.memory)},
    {"cpu", 0, "MODEL",
     "QEMU CPU model (default host,-vmx,-svm;\n"
     "max,-vmx,-svm with tcg)",
     VMR_CLI_STRING(struct define_cli_opts, d.defaults.cpu)},
    {"accel", 0, "auto|kvm|tcg", "the accelerator (default auto)",
     VMR_CLI_CHOICE(struct define_cli_opts, accel)},
    {"ssh-key", 0, "FILE",
     "public keys every guest accepts\n"
     "(e.g. ~/.ssh/id_ed25519.pub)",
     VMR_CLI_LIST(struct define_cli_opts, ssh_keys)},
    {"output", 'o', "FILE", "write the topology to FILE instead of standard\noutput",
     VMR_CLI_STRING(struct define_cli_opts, output)},
    {0},
};

const struct vmr_cli_cmd cmd_define_cli = {
    .name = "define",
    .summary = "print a topology from 5gdeploy --vm flags",
    .synopsis = "--vm='NAME | HOST(CPUSET) | NETIFS' [--vm=...]\n"
		" --ctrlif=MAC|IFNAME [--ip-space=" VMR_DEFINE_IP_SPACE "]\n"
		" [--image=PATH] [--memory=SIZE] [--cpu=MODEL]\n"
		" [--accel=auto|kvm|tcg] [--ssh-key=FILE] [-o FILE]",
    .description = "Print a topology for guests written in 5gdeploy's virt syntax, with the\n"
		   "addresses 5gdeploy gives them.",
    .opts = define_options,
    .exit_status = "0 written, 1 runtime failure (e.g. FILE cannot be written),\n"
		   "2 bad usage or an invalid flag (nothing written)",
    .footer = "See docs/5gdeploy.md for the migration guide.",
    .run = cmd_define,
};

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
	struct define_cli_opts o = {.accel = -1};
	struct vmr_strvec keys = VMR_STRVEC_INIT;
	struct vmr_buf out = VMR_BUF_INIT;
	struct vmr_config cfg = {0};
	struct vmr_define *d = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *image = NULL;
	struct vmr_cli_args a;
	int status;

	vmr_define_defaults_init(&o.d.defaults);
	status = vmr_cli_parse(&cmd_define_cli, argc, argv, &o, &a);
	if (status != VMR_CLI_RUN)
		return status;
	status = VMR_EXIT_OK;
	if (o.accel >= 0)
		o.d.defaults.accel = accels[o.accel];
	for (size_t i = 0; i < o.ssh_keys.n; i++) {
		if (ssh_key_read(o.ssh_keys.v[i], &keys) < 0) {
			status = VMR_EXIT_USAGE;
			goto out;
		}
	}
	if (!o.d.defaults.image) {
		status = vmr_cli_config(&cfg);
		if (status)
			goto out;
		image = xasprintf("%s/%s", cfg.image_dir, VMR_DEFINE_IMAGE_NAME);
		o.d.defaults.image = image;
	}
	o.d.vms = (const char *const *)o.vms.v;
	o.d.nvms = o.vms.n;
	o.d.ssh_keys = (const char *const *)keys.v;
	o.d.nssh_keys = keys.n;
	if (vmr_define_build(&o.d, &d, &err) < 0 || vmr_define_emit(d, &out, &err) < 0) {
		status = vmr_cli_fail(TAKE_PTR(err));
		goto out;
	}
	if (o.output) {
		int r = write_file_atomic(o.output, out.s, out.len, 0644);

		if (r < 0) {
			vmr_error_set(&err, r, "write '%s'", o.output);
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
	vmr_strvec_clear(&o.vms);
	vmr_strvec_clear(&o.ssh_keys);
	vmr_strvec_clear(&keys);
	vmr_config_free(&cfg); /* zeroed when not loaded */
	return status;
}
