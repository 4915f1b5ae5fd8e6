/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun media GUEST [DEVICE (PATH | --eject)]: list a running guest's
 * removable media, or change or eject one (lib/runtime/media.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"
#include "lib/runtime/media.h"

struct media_opts {
	bool eject;
	bool json;
};

static const struct vmr_cli_opt media_options[] = {
    {"eject", 'e', NULL, "take DEVICE's medium out (the tray stays empty)",
     VMR_CLI_FLAG(struct media_opts, eject)},
    {"json", 'j', NULL, "list as JSON", VMR_CLI_FLAG(struct media_opts, json)},
    {0},
};

const struct vmr_cli_cmd cmd_media_cli = {
    .name = "media",
    .summary = "list, change or eject a running guest's CD-ROM media",
    .synopsis = "[--json] GUEST\n"
		"GUEST DEVICE PATH\n"
		"--eject GUEST DEVICE",
    .description = "Without DEVICE, list GUEST's removable devices and their media.  With\n"
		   "DEVICE and PATH, put the file PATH (an ISO, read-only) into DEVICE's tray;\n"
		   "with --eject, empty it.  Both work while the guest holds the tray locked.\n"
		   "DEVICE is the QEMU id of a `{cdrom: PATH}` disk: diskN, N its place in\n"
		   "`disks:` from 0 (as `vmrun args` shows).  QEMU opens PATH as the user it\n"
		   "runs as.  The change lasts until QEMU exits.",
    .opts = media_options,
    .arg_names = "GUEST [DEVICE [PATH]]",
    .min_args = 1,
    .max_args = 3,
    .exit_status = "0 done, 1 the guest is not running or QEMU refused, 2 bad usage\n"
		   "(an unknown device, PATH missing, PATH with --eject)",
    .run = cmd_media,
};

static void print_list(const json_t *list)
{
	const json_t *m;
	size_t i;

	if (json_array_size(list) == 0) {
		printf("no removable media\n");
		return;
	}
	printf("%-10s %s\n", "DEVICE", "MEDIUM");
	json_array_foreach(list, i, m)
	{
		const char *file = json_string_value(json_object_get(m, "file"));

		printf("%-10s %s%s\n", json_string_value(json_object_get(m, "device")),
		       file ? file : "(empty)",
		       json_is_true(json_object_get(m, "locked")) ? " (locked by the guest)" : "");
	}
}

VERB(media)
{
	struct media_opts o = {0};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	_cleanup_free_ char *path = NULL;
	struct vmr_cli_args a;
	json_t *list = NULL;
	struct stat st;
	int r;

	r = vmr_cli_parse(&cmd_media_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	if (a.n == 2 && !o.eject)
		return vmr_cli_usage_error(&cmd_media_cli, "DEVICE needs PATH or --eject");
	if (a.n == 3 && o.eject)
		return vmr_cli_usage_error(&cmd_media_cli, "PATH and --eject together");
	if (a.n == 1 && o.eject)
		return vmr_cli_usage_error(&cmd_media_cli, "--eject needs DEVICE");
	if (a.n == 3) {
		/* QEMU resolves nothing relative to our directory: an absolute path */
		path = realpath(a.v[2], NULL);
		if (!path || stat(path, &st) < 0) {
			fprintf(stderr, "vmrun: error: media: '%s': %s\n", a.v[2], strerror(errno));
			return VMR_EXIT_USAGE;
		}
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
			fprintf(stderr, "vmrun: error: media: '%s' is not a file\n", a.v[2]);
			return VMR_EXIT_USAGE;
		}
	}
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	if (a.n == 1) {
		r = vmr_guest_media_list(cfg.state_dir, a.v[0], &list, &err);
		if (r < 0) {
			r = vmr_cli_fail(err);
			goto out;
		}
		if (o.json) {
			json_dumpf(list, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			putchar('\n');
		} else {
			print_list(list);
		}
		json_decref(list);
		r = VMR_EXIT_OK;
		goto out;
	}
	r = vmr_guest_media_change(cfg.state_dir, a.v[0], a.v[1], path, &err);
	if (r < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	if (path)
		printf("%s: %s\n", a.v[1], path);
	else
		printf("%s: ejected\n", a.v[1]);
	r = VMR_EXIT_OK;
out:
	vmr_config_free(&cfg);
	return r;
}
