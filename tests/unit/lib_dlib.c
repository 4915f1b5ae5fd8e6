/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/base/dlib.c: libraries loaded on first use */
#include <errno.h>
#include <string.h>

#include "lib/base/dlib.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

/* Whether this process maps a file whose name contains name. */
static bool mapped(const char *name)
{
	_cleanup_free_ char *maps = NULL;
	size_t len = 0;

	if (read_file("/proc/self/maps", 1 << 24, &maps, &len) < 0)
		return false;
	return strstr(maps, name) != NULL;
}

/* A library this test is not linked with is mapped once loaded, and its handle kept. */
static void test_handle(void)
{
	const char *(*version)(void) = NULL;
	const struct vmr_dlib_sym syms[] = {{"iso_lib_version", (void **)&version}};
	struct vmr_error *err = NULL;
	void *h = NULL;

	/* libisofs: vmrun loads it on demand, the unit tests do not link it */
	if (mapped("libisofs.so")) {
		tap_skip("libisofs is already mapped here", "load with its handle");
		return;
	}
	if (vmr_dlib_load_handle("libisofs.so.6", "the test", syms, ARRAY_SIZE(syms), &h, &err) <
	    0) {
		tap_skip(err ? err->msg : "no libisofs.so.6", "load with its handle");
		vmr_error_free(err);
		return;
	}
	ok(h && version && mapped("libisofs.so"), "loaded with its handle: mapped, resolved");
}

int main(void)
{
	size_t (*my_strlen)(const char *) = NULL;
	int (*my_abs)(int) = NULL;
	void *missing = NULL;
	const struct vmr_dlib_sym good[] = {{"strlen", (void **)&my_strlen},
					    {"abs", (void **)&my_abs}};
	const struct vmr_dlib_sym bad[] = {{"strlen", (void **)&my_strlen},
					   {"vmrun_no_such_symbol", &missing}};
	struct vmr_error *err = NULL;

	is_int(vmr_dlib_load("libc.so.6", "the test", good, ARRAY_SIZE(good), &err), 0,
	       "libc loads, both symbols resolve");
	ok(my_strlen && my_strlen("four") == 4 && my_abs && my_abs(-3) == 3,
	   "the resolved functions are the library's");

	ok(vmr_dlib_load("libc.so.6", "the test", bad, ARRAY_SIZE(bad), &err) < 0,
	   "a missing symbol fails");
	ok(err && err->errnum == ENOENT && strstr(err->msg, "'vmrun_no_such_symbol'") &&
	       strstr(err->msg, "for the test"),
	   "names the symbol and what the library is for (%s)", err ? err->msg : "");
	ok(!my_strlen && !missing, "nothing is left resolved after a failure");
	vmr_error_free(err);
	err = NULL;

	ok(vmr_dlib_load("libvmrun-none.so.9", "the test (Debian package none)", good,
			 ARRAY_SIZE(good), &err) < 0,
	   "a missing library fails");
	ok(err && strstr(err->msg, "load libvmrun-none.so.9 for the test") &&
	       strstr(err->msg, "(Debian package none)"),
	   "names the library and its package (%s)", err ? err->msg : "");
	vmr_error_free(err);
	test_handle();
	return tap_done();
}
