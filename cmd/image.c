/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmrun image prep|import: per-guest disks and seeds, disk import (docs/images.md). */
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

#define IMAGE_EXIT                                                                                 \
	"0 done, 1 runtime failure (e.g. a directory that cannot be\n"                             \
	"written), 2 bad usage or invalid input (nothing written)"

/* in the order of --format's "qcow2|raw" */
static const enum vmr_import_format import_formats[] = {VMR_IMPORT_QCOW2, VMR_IMPORT_RAW};

struct import_opts {
	int format;
	bool force;
};

static int image_prep(int argc, char **argv);
static int image_import(int argc, char **argv);

static const struct vmr_cli_cmd image_prep_cli = {
    .name = "image prep",
    .summary = "create the qcow2 overlays (disks with backing:, image:) and the\n"
	       "cloud-init seed of each guest (all guests when none is named);\n"
	       "prints the path of every file written, one per line",
    .synopsis = "TOPOLOGY [GUEST...]",
    .description = "Create the qcow2 overlays (disks with backing:, image:) and the\n"
		   "cloud-init seed of each guest (all guests when none is named);\n"
		   "print the path of every file written, one per line.",
    .arg_names = "TOPOLOGY [GUEST...]",
    .min_args = 1,
    .max_args = VMR_CLI_ANY,
    .exit_status = IMAGE_EXIT,
    .run = image_prep,
};

static const struct vmr_cli_opt import_options[] = {
    {"format", 'f', "qcow2|raw", "output format of import (default qcow2)",
     VMR_CLI_CHOICE(struct import_opts, format)},
    {"force", 0, NULL, "let import replace an existing DEST",
     VMR_CLI_FLAG(struct import_opts, force)},
    {0},
};

static const struct vmr_cli_cmd image_import_cli = {
    .name = "image import",
    .summary = "convert a qcow2, raw, vmdk, vdi, vpc (vhd) or qed disk to qcow2\n"
	       "(default) or raw, verify it, and only then put it at DEST",
    .synopsis = "SRC DEST [--format qcow2|raw] [--force]",
    .description = "Convert a qcow2, raw, vmdk, vdi, vpc (vhd) or qed disk to qcow2\n"
		   "(default) or raw, verify it, and only then put it at DEST.",
    .opts = import_options,
    .arg_names = "SRC DEST",
    .min_args = 2,
    .max_args = 2,
    .exit_status = IMAGE_EXIT,
    .run = image_import,
};
static int image_prep(int argc, char **argv)
{
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_strvec written = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	const struct vmr_guest **guests = NULL;
	struct vmr_cli_args a;
	size_t n = 0;
	int r;

	r = vmr_cli_parse(&image_prep_cli, argc, argv, NULL, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_cli_topology(a.v[0], &t);
	if (r) {
		vmr_config_free(&cfg);
		return r;
	}
	if (a.n > 1) {
		guests = xcalloc((size_t)(a.n - 1), sizeof(*guests));
		for (int i = 1; i < a.n; i++) {
			const struct vmr_guest *g = vmr_topology_guest(t, a.v[i]);

			if (!g) {
				vmr_error_usage(&err, "guest '%s' is not in '%s'", a.v[i], a.v[0]);
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
	struct import_opts io = {0};
	struct vmr_import_opts o = {.format = VMR_IMPORT_QCOW2, .cancel = &interrupted};
	struct bar bar = {.tty = isatty(STDERR_FILENO), .last = -1};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	_cleanup_free_ char *qemu_img = NULL;
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll wakes up */
	struct vmr_cli_args a;
	int r;

	r = vmr_cli_parse(&image_import_cli, argc, argv, &io, &a);
	if (r != VMR_CLI_RUN)
		return r;
	o.format = import_formats[io.format];
	o.force = io.force;
	o.src = a.v[0];
	o.dest = a.v[1];
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

static const struct vmr_cli_cmd *const image_subs[] = {&image_prep_cli, &image_import_cli, NULL};

const struct vmr_cli_cmd cmd_image_cli = {
    .name = "image",
    .summary = "prepare guest disks and seeds, import disk images",
    .description = "Prepare the disks and seeds of guests, import disk images (docs/images.md).",
    .arg_names = "COMMAND [ARGS...]",
    .min_args = 1,
    .max_args = VMR_CLI_ANY,
    .exit_status = IMAGE_EXIT,
    .subs = image_subs,
};
