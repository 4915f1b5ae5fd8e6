/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The seed ISO: volume descriptor, determinism, write-only-when-changed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "images/images.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

#define SECTOR 2048

static struct vmr_seed seed(const char *iid)
{
	struct vmr_seed s = {
	    .instance_id = xstrdup(iid),
	    .meta_data = xasprintf("instance-id: %s\nlocal-hostname: vm1\n", iid),
	    .user_data = xstrdup("#cloud-config\n{}\n"),
	    .network_config = xstrdup("version: 2\nethernets: {}\n"),
	};
	return s;
}

static void test_render(void)
{
	struct vmr_seed s = seed("iid-aaaa");
	struct vmr_buf a = VMR_BUF_INIT, b = VMR_BUF_INIT;
	struct vmr_error *err = NULL;

	ok(vmr_seed_iso_render(&s, &a, &err) == 0, "render");
	ok(vmr_seed_iso_render(&s, &b, &err) == 0, "render again");
	ok(a.len > 16 * SECTOR && a.len % SECTOR == 0,
	   "whole sectors past the system area (%zu bytes)", a.len);
	ok(a.len == b.len && memcmp(a.s, b.s, a.len) == 0, "same seed, same bytes");
	if (a.len > 17 * SECTOR) {
		const char *pvd = a.s + 16 * SECTOR;
		char vol[33];

		ok(pvd[0] == 1 && memcmp(pvd + 1, "CD001", 5) == 0,
		   "primary volume descriptor at sector 16");
		memcpy(vol, pvd + 40, 32);
		vol[32] = '\0';
		for (int i = 31; i >= 0 && vol[i] == ' '; i--)
			vol[i] = '\0';
		is_str(vol, "cidata", "volume id cidata (lowercase, as cloud-localds writes it)");
	}
	ok(memmem(a.s, a.len, s.meta_data, strlen(s.meta_data)) != NULL,
	   "meta-data stored verbatim");
	ok(memmem(a.s, a.len, "network-config", 14) != NULL,
	   "Rock Ridge name network-config present");
	vmr_buf_free(&a);
	vmr_buf_free(&b);
	vmr_seed_free(&s);
}

static void test_write(void)
{
	char dir[] = "/tmp/vmrt-iso-XXXXXX";
	struct vmr_seed s = seed("iid-bbbb"), s2 = seed("iid-cccc");
	struct vmr_error *err = NULL;
	struct stat st1, st2;
	bool w = false;

	if (!mkdtemp(dir)) {
		tap_skip("mkdtemp failed", "write tests");
		return;
	}
	_cleanup_free_ char *path = xasprintf("%s/seed.iso", dir);

	ok(vmr_seed_iso_write(&s, path, &w, &err) == 0 && w, "first write writes");
	stat(path, &st1);
	/* an old mtime shows whether the file is rewritten */
	struct timespec old[2] = {{1000, 0}, {1000, 0}};
	utimensat(AT_FDCWD, path, old, 0);
	ok(vmr_seed_iso_write(&s, path, &w, &err) == 0 && !w, "same seed: not written");
	stat(path, &st2);
	ok(st2.st_mtime == 1000 && st2.st_ino == st1.st_ino,
	   "file untouched (inode and mtime kept)");
	ok(vmr_seed_iso_write(&s2, path, &w, &err) == 0 && w, "changed seed: written");
	stat(path, &st2);
	ok(st2.st_mtime != 1000, "file replaced");
	is_int(st2.st_mode & 07777, 0644, "mode 0644");

	_cleanup_free_ char *bad = xasprintf("%s/nodir/seed.iso", dir);
	ok(vmr_seed_iso_write(&s, bad, &w, &err) < 0 && err && err->errnum == ENOENT,
	   "missing directory: ENOENT");
	if (err) {
		_cleanup_free_ char *t = vmr_error_text(err);
		ok(strstr(t, "write seed '") != NULL, "message names the seed: %s", t);
	}
	vmr_error_clear(&err);

	unlink(path);
	rmdir(dir);
	vmr_seed_free(&s);
	vmr_seed_free(&s2);
}

int main(void)
{
	test_render();
	test_write();
	return tap_done();
}
