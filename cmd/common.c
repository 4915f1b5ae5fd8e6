/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the verbs: error printing, config and topology loading. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/devices/devices.h"
#include "lib/runtime/control.h"
#include "lib/base/util.h"

int vmr_cli_fail(struct vmr_error *err)
{
	int status = err ? err->status : VMR_EXIT_FAILURE;

	vmr_error_print(err, stderr);
	vmr_error_free(err);
	return status ? status : VMR_EXIT_FAILURE;
}

int vmr_cli_config(struct vmr_config *ret)
{
	struct vmr_error *err = NULL;

	if (vmr_config_load(vmr_opts.config, ret, &err) < 0)
		return vmr_cli_fail(err);
	if (vmr_opts.state_dir) {
		free(ret->state_dir);
		ret->state_dir = xstrdup(vmr_opts.state_dir);
	}
	return 0;
}

int vmr_cli_topology(const char *path, struct vmr_topology **ret)
{
	struct vmr_diags diags = {0};
	int r;

	r = vmr_topology_load(path, vmr_device_kinds(), ret, &diags);
	if (r < 0) {
		vmr_diags_print(&diags, stderr);
		vmr_diags_clear(&diags);
		return r == -EINVAL ? VMR_EXIT_USAGE : VMR_EXIT_FAILURE;
	}
	vmr_diags_clear(&diags);
	return 0;
}

long long vmr_cli_parallel_default(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > VMR_CLI_PARALLEL_MAX ? VMR_CLI_PARALLEL_MAX : n;
}

void vmr_cli_print_stopped(const char *guest, int es)
{
	const char *text = es < 0 ? NULL : vmr_guest_exit_text(es);

	if (es < 0)
		printf("guest '%s' stopped\n", guest);
	else if (text)
		printf("guest '%s' stopped: %s (exit status %d)\n", guest, text, es);
	else
		printf("guest '%s' stopped (exit status %d)\n", guest, es);
}
