/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the host configuration (lib/config.c): the bytes
 * are the content of a vmrun.conf, handed to vmr_config_load() as a file
 * (a memfd, by its /proc/self/fd path: iniparser reads a path).  The
 * VMRUN_* variables that would override the file are cleared first.
 *
 * Properties (a violation traps):
 * - success leaves the error alone and gives a complete configuration:
 *   the file's path, every path setting absolute, accel one of the three,
 *   a qemu_user that is a valid user name or none;
 * - failure sets an error of usage status (2: the file is readable, so its
 *   content was refused) whose message is one line and names the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/model/config.h"
#include "lib/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static int absolute(const char *s)
{
	return s && s[0] == '/';
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const env[] = {"VMRUN_QEMU",	      "VMRUN_STATE_DIR",
					  "VMRUN_SYSFS_ROOT", "VMRUN_DEV_ROOT",
					  "VMRUN_NO_SANDBOX", "VMRUN_CGROUP_ROOT"};

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		unsetenv(env[i]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmr_config c = {0};
	struct vmr_error *err = NULL;
	char path[64];
	size_t off = 0;
	int fd, r;

	fd = memfd_create("fuzz.conf", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	r = vmr_config_load(path, &c, &err);
	if (r == 0) {
		CHECK(err == NULL);
		CHECK(c.path && streq(c.path, path));
		CHECK(absolute(c.qemu) && absolute(c.state_dir) && absolute(c.image_dir) &&
		      absolute(c.sysfs_root) && absolute(c.dev_root) && absolute(c.cgroup_root));
		CHECK(c.private_mounts <= VMR_SWITCH_FALSE && c.cgroup <= VMR_SWITCH_FALSE);
		CHECK(c.accel == VMR_ACCEL_AUTO || c.accel == VMR_ACCEL_KVM ||
		      c.accel == VMR_ACCEL_TCG);
		CHECK(!c.qemu_user || (c.qemu_user[0] && strlen(c.qemu_user) <= 32));
	} else {
		CHECK(r < 0 && err && err->msg);
		CHECK(err->status == VMR_EXIT_USAGE);
		CHECK(!strchr(err->msg, '\n'));
		CHECK(strstr(err->msg, path) != NULL);
		CHECK(c.path == NULL && c.qemu == NULL);
	}
	vmr_error_free(err);
	vmr_config_free(&c);
	close(fd);
	return 0;
}
