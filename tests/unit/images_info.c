/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing `qemu-img info --output=json`. */
#include <stdio.h>

#include "images/images.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

int main(void)
{
	struct vmr_image_info i = {0};
	struct vmr_error *err = NULL;

	/* as QEMU 7.2 prints it for an overlay */
	ok(vmr_image_info_parse(
	       "{\n"
	       "    \"backing-filename-format\": \"qcow2\",\n"
	       "    \"virtual-size\": 2147483648,\n"
	       "    \"filename\": \"vm1.qcow2\",\n"
	       "    \"cluster-size\": 65536,\n"
	       "    \"format\": \"qcow2\",\n"
	       "    \"actual-size\": 200704,\n"
	       "    \"format-specific\": {\"type\": \"qcow2\", \"data\": {\"compat\": \"1.1\"}},\n"
	       "    \"full-backing-filename\": \"/img/base.qcow2\",\n"
	       "    \"backing-filename\": \"/img/base.qcow2\",\n"
	       "    \"dirty-flag\": false\n"
	       "}\n",
	       "vm1.qcow2", &i, &err) == 0,
	   "overlay info parses");
	is_str(i.format, "qcow2", "format");
	is_int((long long)i.virtual_size, 2147483648LL, "virtual size");
	is_int((long long)i.actual_size, 200704, "actual size");
	is_str(i.backing, "/img/base.qcow2", "backing file");
	is_str(i.backing_format, "qcow2", "backing format");
	vmr_image_info_free(&i);

	ok(vmr_image_info_parse(
	       "{\"virtual-size\": 376832, \"filename\": \"s.iso\", \"format\": \"raw\","
	       " \"actual-size\": 376832, \"dirty-flag\": false}",
	       "s.iso", &i, &err) == 0,
	   "raw info parses");
	ok(i.backing == NULL && i.backing_format == NULL, "no backing");
	vmr_image_info_free(&i);

	ok(vmr_image_info_parse("{\"filename\": \"x\"}", "x", &i, &err) < 0, "no format: error");
	if (err) {
		_cleanup_free_ char *t = vmr_error_text(err);
		is_str(t, "probe 'x': unexpected qemu-img info output: Protocol error",
		       "message names the file");
	}
	vmr_error_clear(&err);
	ok(vmr_image_info_parse("{\"format\": \"raw\", \"virtual-size\": -1}", "x", &i, &err) < 0,
	   "negative size: error");
	vmr_error_clear(&err);
	ok(vmr_image_info_parse("qemu-img: oops", "x", &i, &err) < 0, "not JSON: error");
	vmr_error_clear(&err);
	ok(vmr_image_info_parse("{\"format\": \"raw\", \"format\": \"qcow2\", \"virtual-size\": 1}",
				"x", &i, &err) < 0,
	   "duplicate keys: error");
	vmr_error_clear(&err);
	ok(vmr_image_info_parse("[]", "x", &i, &err) < 0, "not an object: error");
	vmr_error_clear(&err);
	return tap_done();
}
