/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/util.c, strvec.c, buf.c, error.c, unixsock.c */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "lib/base/buf.h"
#include "lib/base/fsutil.h"
#include "lib/base/error.h"
#include "lib/base/strvec.h"
#include "lib/base/unixsock.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

static void test_parse_uint(void)
{
	unsigned long long v = 0;

	ok(parse_uint("0", 10, &v) == 0 && v == 0, "parse_uint 0");
	ok(parse_uint("4094", 4094, &v) == 0 && v == 4094, "parse_uint at max");
	ok(parse_uint("4095", 4094, &v) == -ERANGE, "parse_uint above max");
	ok(parse_uint("1844674407370955160", ULLONG_MAX, &v) == 0 && v == 1844674407370955160ull,
	   "parse_uint 19 digits");
	ok(parse_uint("18446744073709551615", ULLONG_MAX, &v) == 0 && v == ULLONG_MAX,
	   "parse_uint ULLONG_MAX");
	ok(parse_uint("18446744073709551616", ULLONG_MAX, &v) == -ERANGE, "parse_uint overflow");
	ok(parse_uint("", 10, &v) == -EINVAL && parse_uint(NULL, 10, &v) == -EINVAL,
	   "parse_uint empty");
	ok(parse_uint("0x10", 100, &v) == -EINVAL, "parse_uint hex rejected");
	ok(parse_uint("-1", 100, &v) == -EINVAL && parse_uint("+1", 100, &v) == -EINVAL,
	   "parse_uint signs rejected");
	ok(parse_uint(" 1", 100, &v) == -EINVAL && parse_uint("1 ", 100, &v) == -EINVAL,
	   "parse_uint spaces rejected");
}

static void test_alloc(void)
{
	_cleanup_free_ char *s = xasprintf("%s-%d", "a", 5);
	_cleanup_free_ char *n = xstrndup("abcdef", 3);
	_cleanup_free_ int *arr = NULL;
	size_t alloc = 0;

	is_str(s, "a-5", "xasprintf");
	is_str(n, "abc", "xstrndup");
	ok(xstrdup(NULL) == NULL, "xstrdup(NULL) is NULL");
	XGROW(arr, alloc, 5);
	ok(alloc >= 5 && arr, "XGROW grows");
	arr[4] = 7;
	XGROW(arr, alloc, 100);
	ok(alloc >= 100 && arr[4] == 7 && arr[99] == 0, "XGROW keeps and zeroes");
	ok(streq("a", "a") && !streq("a", "b") && !streq(NULL, "a") && !streq(NULL, NULL),
	   "streq handles NULL");
	ok(startswith("vmrun:x", "vmrun:") && !startswith("vm", "vmrun"), "startswith");
}

static void test_files(void)
{
	char dir[] = "/tmp/vmrt-util-XXXXXX";
	_cleanup_free_ char *path = NULL, *data = NULL;
	size_t len = 0;
	struct stat st;

	ok(mkdtemp(dir) != NULL, "mkdtemp");
	path = xasprintf("%s/f", dir);
	ok(write_file_atomic(path, "hello\n", 6, 0640) == 0, "write_file_atomic");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "mode applied");
	ok(read_file(path, 100, &data, &len) == 0 && len == 6, "read_file");
	is_str(data, "hello\n", "read_file contents");
	free(data);
	data = NULL;
	is_int(read_file(path, 5, &data, &len), -EFBIG, "read_file above max is -EFBIG");
	ok(data == NULL, "nothing returned on failure");
	is_int(read_file("/nonexistent/vmrun", 5, &data, NULL), -ENOENT, "read_file ENOENT");
	unlink(path);
	rmdir(dir);
	ok(now_ms() > 0, "now_ms");
}

static void test_strvec(void)
{
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	const char *more[] = {"c", "d", NULL};
	char **v;

	vmr_strvec_push(&sv, "a");
	vmr_strvec_pushf(&sv, "b%d", 1);
	vmr_strvec_pushv(&sv, more);
	vmr_strvec_push_take(&sv, xstrdup("e"));
	is_int(sv.n, 5, "strvec: 5 items");
	ok(sv.v[5] == NULL, "strvec: NULL-terminated");
	is_str(sv.v[1], "b1", "strvec: pushf");
	v = vmr_strvec_detach(&sv);
	ok(sv.n == 0 && sv.v == NULL, "strvec: detach empties");
	is_str(v[4], "e", "strvec: detached array kept");
	vmr_strv_free(v);
	vmr_strv_free(NULL);
	vmr_strvec_push(&sv, "x");
	vmr_strvec_clear(&sv);
	ok(sv.n == 0 && sv.v == NULL, "strvec: clear");
}

static void test_buf(void)
{
	struct vmr_buf b = VMR_BUF_INIT;
	char *s;

	is_str(vmr_buf_str(&b), "", "buf: empty is \"\"");
	vmr_buf_adds(&b, "abc");
	vmr_buf_addc(&b, '-');
	vmr_buf_addf(&b, "%03d", 7);
	is_str(vmr_buf_str(&b), "abc-007", "buf: adds/addc/addf");
	vmr_buf_add(&b, "\0x", 2);
	is_int(b.len, 9, "buf: binary add counts bytes");
	ok(b.s[b.len] == '\0', "buf: NUL-terminated");
	vmr_buf_consume(&b, 4);
	ok(b.len == 5 && memcmp(b.s, "007\0x", 5) == 0, "buf: consume");
	vmr_buf_reset(&b);
	is_str(vmr_buf_str(&b), "", "buf: reset");
	vmr_buf_adds(&b, "z");
	s = vmr_buf_detach(&b);
	is_str(s, "z", "buf: detach");
	ok(b.len == 0, "buf: empty after detach");
	free(s);
	vmr_buf_free(&b);
}

static int fails(struct vmr_error **err)
{
	return vmr_error_set(err, ENOENT, "open '%s'", "/x");
}

static void test_error(void)
{
	struct vmr_error *err = NULL;
	_cleanup_free_ char *t1 = NULL, *t2 = NULL;
	char *buf = NULL;
	size_t sz = 0;
	FILE *f;

	is_int(fails(&err), -ENOENT, "error: returns -errno");
	is_int(err->status, VMR_EXIT_FAILURE, "error: runtime status");
	is_int(vmr_error_wrap(&err, "load guest '%s'", "a"), -ENOENT, "error: wrap keeps return");
	t1 = vmr_error_text(err);
	is_str(t1, "load guest 'a': open '/x': No such file or directory",
	       "error: text with strerror");
	vmr_error_hint(&err, "create it with '%s'", "touch");
	f = open_memstream(&buf, &sz);
	vmr_error_print(err, f);
	fclose(f);
	is_str(buf,
	       "vmrun: error: load guest 'a': open '/x': No such file or directory\n"
	       "vmrun: hint: create it with 'touch'\n",
	       "error: print with hint");
	free(buf);
	vmr_error_clear(&err);
	ok(err == NULL, "error: clear");
	is_int(vmr_error_usage(&err, "bad '%s'", "x"), -EINVAL, "error: usage returns -EINVAL");
	is_int(err->status, VMR_EXIT_USAGE, "error: usage status");
	t2 = vmr_error_text(err);
	is_str(t2, "bad 'x'", "error: usage text has no strerror");
	vmr_error_set(&err, 0, "second");
	ok(err->errnum == 0 && streq(err->msg, "second"),
	   "error: a second error replaces the first");
	is_int(vmr_error_ret(err), -1, "error: -1 without errno");
	vmr_error_free(err);
	is_int(vmr_error_set(NULL, EIO, "dropped"), -EIO, "error: NULL err still returns");
	vmr_error_free(NULL);
}

/* A socket whose mode a connect() can observe while the file is new: 0600 under any umask. */
static void test_unixsock(void)
{
	char dir[] = "/tmp/vmrt-sock-XXXXXX";
	_cleanup_free_ char *path = NULL, *file = NULL, *longp = NULL;
	struct vmr_error *err = NULL;
	struct stat st;
	mode_t old;
	int fd, fd2;

	if (!mkdtemp(dir)) {
		tap_skip("mkdtemp failed", "vmr_unix_listen");
		return;
	}
	path = xasprintf("%s/s.sock", dir);
	old = umask(0);
	fd = vmr_unix_listen(path, 1, true, &err);
	ok(fd >= 0, "listen under umask 0");
	ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 07777) == 0600,
	   "mode 0600 (got %o)", (unsigned)(st.st_mode & 07777));
	is_int(umask(old), 0, "the umask is restored");
	ok((fcntl(fd, F_GETFD) & FD_CLOEXEC) && (fcntl(fd, F_GETFL) & O_NONBLOCK),
	   "close-on-exec and non-blocking");
	fd2 = vmr_unix_listen(path, 1, false, &err);
	ok(fd2 >= 0 && stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	   "a stale socket is replaced, 0600 again");
	if (fd2 >= 0)
		close(fd2);
	close(fd);
	file = xasprintf("%s/f", dir);
	close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	is_int(vmr_unix_listen(file, 1, false, &err), -EEXIST, "a regular file is not replaced");
	ok(err && strstr(err->msg, "not a socket"), "says it is not a socket");
	vmr_error_clear(&err);
	longp = xasprintf("%s/%0200d", dir, 0);
	is_int(vmr_unix_listen(longp, 1, false, &err), -ENAMETOOLONG, "too long a path");
	vmr_error_clear(&err);
	unlink(path);
	unlink(file);
	rmdir(dir);
}

/* /proc/self/status masks: one read, each field by name */
static void test_status_masks(void)
{
	static const char *const sig[] = {"SigIgn", "SigCgt"};
	static const char *const bad[] = {"SigIgn", "Name"};
	static const char *const none[] = {"NoSuchField"};
	uint64_t m[2] = {0, 0};

	signal(SIGUSR1, SIG_IGN);
	ok(vmr_proc_status_masks(sig, 2, m) == 0, "SigIgn and SigCgt read");
	ok(m[0] & (UINT64_C(1) << (SIGUSR1 - 1)), "an ignored signal is in SigIgn");
	ok(!(m[1] & (UINT64_C(1) << (SIGUSR1 - 1))), "and not in SigCgt");
	signal(SIGUSR1, SIG_DFL);
	ok(vmr_proc_status_masks(sig, 1, m) == 0 && !(m[0] & (UINT64_C(1) << (SIGUSR1 - 1))),
	   "back at SIG_DFL, it is not");
	is_int(vmr_proc_status_masks(bad, 2, m), -EINVAL, "a field that is not a mask is refused");
	is_int(vmr_proc_status_masks(none, 1, m), -ENOENT, "a missing field is refused");
}

int main(void)
{
	test_status_masks();
	test_parse_uint();
	test_alloc();
	test_files();
	test_strvec();
	test_buf();
	test_error();
	test_unixsock();
	return tap_done();
}
