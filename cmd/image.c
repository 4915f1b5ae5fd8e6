/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun image prep|import: per-guest disks and seeds, disk import (docs/images.md). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "images/images.h"
#include "lib/base/util.h"

static volatile int interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static void usage(FILE *f)
{
	fputs("usage: vmrun image prep TOPOLOGY [GUEST...]\n"
	      "       vmrun image import SRC DEST [--format qcow2|raw] [--force]\n\n"
	      "prep    create the qcow2 overlays (disks with backing:, image:) and the\n"
	      "        cloud-init seed of each guest (all guests when none is named);\n"
	      "        prints the path of every file written, one per line\n"
	      "import  convert a qcow2, raw, vmdk, vdi, vpc (vhd) or qed disk to qcow2\n"
	      "        (default) or raw, verify it, and only then put it at DEST\n\n"
	      "  -f, --format FMT  output format of import: qcow2 or raw\n"
	      "      --force       let import replace an existing DEST\n"
	      "  -h, --help        show this help\n\n"
	      "exit status: 0 done, 1 runtime failure (e.g. a directory that cannot be\n"
	      "written), 2 bad usage or invalid input (nothing written)\n",
	      f);
}

static int image_prep(int argc, char **argv)
{
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_strvec written = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	const struct vmr_guest **guests = NULL;
	size_t n = 0;
	int r;

	if (argc < 2) {
		fprintf(stderr, "vmrun: error: image prep needs a topology file\n");
		usage(stderr);
		return VMR_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-') {
			fprintf(stderr, "vmrun: error: image prep: unrecognized option '%s'\n",
				argv[i]);
			usage(stderr);
			return VMR_EXIT_USAGE;
		}
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_cli_topology(argv[1], &t);
	if (r) {
		vmr_config_free(&cfg);
		return r;
	}
	if (argc > 2) {
		guests = xcalloc((size_t)(argc - 2), sizeof(*guests));
		for (int i = 2; i < argc; i++) {
			const struct vmr_guest *g = vmr_topology_guest(t, argv[i]);

			if (!g) {
				vmr_error_usage(&err, "guest '%s' is not in '%s'", argv[i],
						argv[1]);
				goto out;
			}
			guests[n++] = g;
		}
	} else {
		guests = xcalloc(t->nguests ? t->nguests : 1, sizeof(*guests));
		for (size_t i = 0; i < t->nguests; i++)
			guests[n++] = &t->guests[i];
	}
	r = vmr_image_prepare_guests(&cfg, t, guests, n, &written, &err);
	/* what was written before a failure is complete: say so either way */
	for (size_t i = 0; i < written.n; i++)
		printf("%s\n", written.v[i]);
	fflush(stdout);
out:
	r = err ? vmr_cli_fail(err) : VMR_EXIT_OK;
	vmr_strvec_clear(&written);
	free(guests);
	vmr_topology_free(t);
	vmr_config_free(&cfg);
	return r;
}

struct bar {
	bool tty;
	int last; /* last percentage shown, -1 before the first */
};

static void show_progress(double pct, void *userdata)
{
	struct bar *b = userdata;
	int p = (int)pct;

	if (b->tty) {
		char fill[41];
		int w = (int)(pct * 40 / 100);

		if (p == b->last && pct < 100)
			return;
		memset(fill, '#', (size_t)w);
		memset(fill + w, '-', (size_t)(40 - w));
		fill[40] = '\0';
		fprintf(stderr, "\rimport: [%s] %3d%%", fill, p);
		b->last = p;
	} else {
		/* plain lines, one per 10 %, for logs */
		if (p / 10 == b->last / 10 && b->last >= 0)
			return;
		fprintf(stderr, "import: %d%%\n", p / 10 * 10);
		b->last = p;
	}
	fflush(stderr);
}

static int image_import(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"force", no_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_import_opts o = {.format = VMR_IMPORT_QCOW2, .cancel = &interrupted};
	struct bar bar = {.tty = isatty(STDERR_FILENO), .last = -1};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	_cleanup_free_ char *qemu_img = NULL;
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll wakes up */
	int c, r;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (streq(optarg, "qcow2")) {
				o.format = VMR_IMPORT_QCOW2;
			} else if (streq(optarg, "raw")) {
				o.format = VMR_IMPORT_RAW;
			} else {
				vmr_error_usage(&err, "--format '%s': expected qcow2 or raw",
						optarg);
				return vmr_cli_fail(err);
			}
			break;
		case 'F':
			o.force = true;
			break;
		case 'h':
			usage(stdout);
			return VMR_EXIT_OK;
		default:
			usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "vmrun: error: image import needs a source and a destination\n");
		usage(stderr);
		return VMR_EXIT_USAGE;
	}
	o.src = argv[optind];
	o.dest = argv[optind + 1];
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	if (vmr_image_qemu_img(&cfg, &qemu_img, &err) < 0) {
		vmr_config_free(&cfg);
		return vmr_cli_fail(err);
	}
	vmr_config_free(&cfg);
	o.qemu_img = qemu_img;
	o.progress = show_progress;
	o.userdata = &bar;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	r = vmr_image_import(&o, &err);
	if (bar.tty && bar.last >= 0)
		fputc('\n', stderr);
	if (r < 0)
		return vmr_cli_fail(err);
	printf("%s\n", o.dest);
	return VMR_EXIT_OK;
}

int cmd_image(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "vmrun: error: image needs a command: prep or import\n");
		usage(stderr);
		return VMR_EXIT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h")) {
		usage(stdout);
		return VMR_EXIT_OK;
	}
	for (int i = 2; i < argc; i++) {
		if (streq(argv[i], "--"))
			break;
		if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			usage(stdout);
			return VMR_EXIT_OK;
		}
	}
	optind = 0;
	if (streq(argv[1], "prep"))
		return image_prep(argc - 1, argv + 1);
	if (streq(argv[1], "import"))
		return image_import(argc - 1, argv + 1);
	fprintf(stderr, "vmrun: error: unknown image command '%s' (prep or import)\n", argv[1]);
	usage(stderr);
	return VMR_EXIT_USAGE;
}
