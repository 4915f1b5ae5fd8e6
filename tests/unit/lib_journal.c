/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The undo journal: record/replay order, durability, failure handling. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "lib/base/journal.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

/*
 * fsync is interposed: the executable's definition wins over libc's for
 * the archive linked into it.  Each call records how long the file was,
 * so a test can check that a record was on disk before record() returned.
 */
static int fsync_calls;
static off_t fsync_size;
static int fsync_fail_once; /* errno to fail the next fsync with */

int fsync(int fd)
{
	struct stat st;

	fsync_calls++;
	if (fstat(fd, &st) == 0)
		fsync_size = st.st_size;
	if (fsync_fail_once) {
		errno = fsync_fail_once;
		fsync_fail_once = 0;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

static char order[64];
static size_t norder;
static int fail_n = -1; /* the "n" whose undo fails */

static int undo_test(const json_t *e, void *ctx, struct vmr_error **err)
{
	int n = (int)json_integer_value(json_object_get(e, "n"));

	if (ctx != (void *)order)
		return vmr_error_set(err, EINVAL, "wrong ctx");
	if (n == fail_n)
		return vmr_error_set(err, EBUSY, "undo thing %d", n);
	if (norder + 1 < sizeof(order))
		order[norder++] = (char)('0' + n);
	return 0;
}

/* what undoing a test.thing needs: bit n, checking ctx as undo_test does */
static uint64_t caps_test(const json_t *e, void *ctx)
{
	if (ctx != (void *)order)
		return 0;
	return UINT64_C(1) << json_integer_value(json_object_get(e, "n"));
}

static void record_n(struct vmr_journal *j, const char *type, int n)
{
	struct vmr_error *err = NULL;
	json_t *e = json_pack("{s:s, s:i}", "type", type, "n", n);
	int calls = fsync_calls;

	ok(vmr_journal_record(j, e, &err) == 0, "record %s %d", type, n);
	ok(fsync_calls > calls, "record %d fsynced before returning", n);
	/* the journal takes a reference of its own; ours is still ours to drop */
	is_int((long long)e->refcount, 2, "record %d borrows the caller's reference", n);
	json_decref(e);
	vmr_error_free(err);
}

static char *slurp(const char *path)
{
	char *s = NULL;

	if (read_file(path, 1 << 20, &s, NULL) < 0)
		return xstrdup("<unreadable>");
	return s;
}

int main(void)
{
	char dir[] = "/tmp/vmrt-journal-XXXXXX";
	_cleanup_free_ char *path = NULL;
	struct vmr_journal *j = NULL;
	struct vmr_error *err = NULL;
	struct stat st;
	json_t *e;
	char *s;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	path = xasprintf("%s/journal.jsonl", dir);
	vmr_journal_register("test.thing", undo_test);

	/* record and durability */
	ok(vmr_journal_open(path, &j, &err) == 0, "open creates the journal");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "journal mode 0600");
	record_n(j, "test.thing", 1);
	{
		/* the line was in the file when fsync ran */
		s = slurp(path);
		is_int(fsync_size, (long long)strlen(s), "fsync saw the whole record");
		free(s);
	}
	record_n(j, "test.thing", 2);
	record_n(j, "test.thing", 3);
	is_int((long long)vmr_journal_count(j), 3, "three entries");

	/* what undoing them needs */
	ok(vmr_journal_caps(j, order) == UINT64_MAX,
	   "a type that declares nothing needs every capability");
	vmr_journal_register_caps("test.thing", caps_test);
	is_int((long long)vmr_journal_caps(j, order), 0xe, "the union of what each entry needs");
	is_int((long long)vmr_journal_caps(NULL, order), 0, "no journal: nothing");
	s = slurp(path);
	is_str(s,
	       "{\"type\":\"test.thing\",\"n\":1}\n{\"type\":\"test.thing\",\"n\":2}\n"
	       "{\"type\":\"test.thing\",\"n\":3}\n",
	       "one JSON object per line");
	free(s);

	/* an entry without a type is refused */
	e = json_pack("{s:i}", "n", 9);
	ok(vmr_journal_record(j, e, &err) < 0 && err, "entry without type refused");
	vmr_error_clear(&err);
	json_decref(e);

	/* a failing fsync leaves no trace of the record */
	e = json_pack("{s:s, s:i}", "type", "test.thing", "n", 8);
	fsync_fail_once = EIO;
	ok(vmr_journal_record(j, e, &err) < 0 && err && err->errnum == EIO,
	   "failed fsync fails the record");
	vmr_error_clear(&err);
	json_decref(e);
	is_int((long long)vmr_journal_count(j), 3, "failed record not counted");
	s = slurp(path);
	ok(strstr(s, "\"n\":8") == NULL, "failed record cut from the file");
	free(s);

	/* the fd is close-on-exec: find it through /proc */
	{
		int cloexec_all = 1;

		for (int fd = 3; fd < 64; fd++) {
			char link[64], target[4096];
			ssize_t n;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			n = readlink(link, target, sizeof(target) - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			if (streq(target, path) && !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
				cloexec_all = 0;
		}
		ok(cloexec_all, "journal fd is O_CLOEXEC");
	}

	/* a dead supervisor: close without replay, reopen, entries are back */
	vmr_journal_close(j);
	j = NULL;
	ok(vmr_journal_open(path, &j, &err) == 0, "reopen a leftover journal");
	is_int((long long)vmr_journal_count(j), 3, "leftover entries loaded");

	/* replay in reverse order */
	ok(vmr_journal_replay(j, order, &err) == 0, "replay succeeds");
	order[norder] = '\0';
	is_str(order, "321", "undone in reverse order");
	is_int((long long)vmr_journal_count(j), 0, "journal empty after replay");
	ok(stat(path, &st) == 0 && st.st_size == 0, "journal file truncated");
	vmr_error_clear(&err);

	/* a failing undo keeps its entry (and only it), later replay retries */
	record_n(j, "test.thing", 4);
	record_n(j, "test.thing", 5);
	record_n(j, "test.thing", 6);
	fail_n = 5;
	norder = 0;
	ok(vmr_journal_replay(j, order, &err) < 0 && err, "replay reports the failure");
	order[norder] = '\0';
	is_str(order, "64", "the others were undone, still in reverse");
	ok(err && err->errnum == EBUSY && strstr(err->msg, "undo thing 5"),
	   "error is the handler's: %s", err ? err->msg : "");
	ok(err && err->hint && strstr(err->hint, "kept"), "hint says the entry is kept");
	vmr_error_clear(&err);
	is_int((long long)vmr_journal_count(j), 1, "one entry kept");
	s = slurp(path);
	is_str(s, "{\"type\":\"test.thing\",\"n\":5}\n", "file holds exactly the kept entry");
	free(s);
	record_n(j, "test.thing", 7); /* appends after the rewrite */
	vmr_journal_close(j);
	j = NULL;
	ok(vmr_journal_open(path, &j, &err) == 0, "reopen after a partial replay");
	is_int((long long)vmr_journal_count(j), 2, "kept entry and the new one");
	fail_n = -1;
	norder = 0;
	ok(vmr_journal_replay(j, order, &err) == 0, "retry succeeds");
	order[norder] = '\0';
	is_str(order, "75", "retried in reverse order");
	vmr_error_clear(&err);

	/* unknown type: fails and is kept; known ones still undone */
	record_n(j, "test.thing", 1);
	record_n(j, "test.nosuch", 2);
	norder = 0;
	ok(vmr_journal_replay(j, order, &err) < 0, "replay with an unknown type fails");
	ok(err && strstr(err->msg, "unknown type 'test.nosuch'"), "error names the type: %s",
	   err ? err->msg : "");
	vmr_error_clear(&err);
	order[norder] = '\0';
	is_str(order, "1", "known entry undone despite the unknown one");
	is_int((long long)vmr_journal_count(j), 1, "unknown entry kept");
	vmr_journal_close(j);
	j = NULL;

	/* a torn last line (writer died mid-record) is dropped and cut off */
	{
		int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

		ok(fd >= 0 &&
		       write_all(fd, "{\"type\":\"test.thing\",\"n\":3}\n{\"type\":\"te", 40) == 0,
		   "write a torn journal");
		close(fd);
	}
	ok(vmr_journal_open(path, &j, &err) == 0, "open a torn journal");
	is_int((long long)vmr_journal_count(j), 1, "torn line dropped");
	s = slurp(path);
	is_str(s, "{\"type\":\"test.thing\",\"n\":3}\n", "torn line cut from the file");
	free(s);
	vmr_journal_close(j);
	j = NULL;

	/* a corrupt complete line is an error naming the file and line */
	{
		int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

		ok(fd >= 0 && write_all(fd, "not json\n", 9) == 0, "append a corrupt line");
		close(fd);
	}
	ok(vmr_journal_open(path, &j, &err) < 0, "corrupt line refused");
	ok(err && strstr(err->msg, "line 2"), "error names the line: %s", err ? err->msg : "");
	vmr_error_clear(&err);

	unlink(path);
	rmdir(dir);
	return tap_done();
}
