/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the parser of `qemu-img info --output=json`
 * (vmr_image_info_parse, images/overlay.c): what qemu-img, or a file
 * pretending to be an image, makes it print.  The bytes are the output,
 * cut at the first NUL as a C string would be.
 *
 * Properties (a violation traps):
 * - success sets a format, leaves the error alone, and sizes that fit
 *   (virtual-size is never negative);
 * - failure sets an error (EPROTO) that names the probed path, and leaves
 *   the result as it was (zeroed).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "images/images.h"
#include "lib/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmr_image_info info = {0};
	struct vmr_error *err = NULL;
	char *json = malloc(size + 1);
	int r;

	if (!json)
		abort();
	memcpy(json, data, size);
	json[size] = '\0';
	r = vmr_image_info_parse(json, "/fuzz/disk.img", &info, &err);
	if (r == 0) {
		CHECK(err == NULL);
		CHECK(info.format != NULL);
		CHECK(info.virtual_size <= (uint64_t)INT64_MAX);
		CHECK(info.actual_size <= (uint64_t)INT64_MAX);
	} else {
		CHECK(r == -EPROTO && err && err->errnum == EPROTO);
		CHECK(strstr(err->msg, "'/fuzz/disk.img'") != NULL);
		CHECK(!info.format && !info.backing && !info.backing_format &&
		      info.virtual_size == 0 && info.actual_size == 0);
	}
	vmr_error_free(err);
	vmr_image_info_free(&info);
	free(json);
	return 0;
}
