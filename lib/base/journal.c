/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The undo journal (lib/journal.h).  The file is the truth: the in-memory
 * list only mirrors the lines already fsynced, so a crash at any point
 * leaves a journal whose entries are a superset of the changes made.
 */
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

#include "lib/base/buf.h"
#include "lib/base/fault.h"
#include "lib/base/journal.h"
#include "lib/base/util.h"

#define JOURNAL_MAX_TYPES 32
/* a journal is a few lines per NIC; anything this big is not ours */
#define JOURNAL_MAX_BYTES (4u << 20)

struct vmr_journal {
	char *path;
	int fd;
	json_t **entries;
	size_t n, alloc;
};

static struct {
	const char *type;
	vmr_undo_fn fn;
	vmr_undo_caps_fn caps;
} handlers[JOURNAL_MAX_TYPES];
static size_t nhandlers;

static size_t handler_slot(const char *type)
{
	for (size_t i = 0; i < nhandlers; i++)
		if (streq(handlers[i].type, type))
			return i;
	/* a fixed table: the set of types is known at build time */
	if (nhandlers == JOURNAL_MAX_TYPES)
		abort();
	handlers[nhandlers].type = type;
	return nhandlers++;
}

void vmr_journal_register(const char *type, vmr_undo_fn fn)
{
	handlers[handler_slot(type)].fn = fn;
}

void vmr_journal_register_caps(const char *type, vmr_undo_caps_fn fn)
{
	handlers[handler_slot(type)].caps = fn;
}

uint64_t vmr_journal_caps(const struct vmr_journal *j, void *ctx)
{
	uint64_t need = 0;

	for (size_t k = 0; j && k < j->n; k++) {
		const char *type = json_string_value(json_object_get(j->entries[k], "type"));
		vmr_undo_caps_fn fn = NULL;

		for (size_t i = 0; type && i < nhandlers; i++)
			if (streq(handlers[i].type, type))
				fn = handlers[i].caps;
		if (!fn)
			return UINT64_MAX;
		need |= fn(j->entries[k], ctx);
	}
	return need;
}

static vmr_undo_fn handler_find(const char *type)
{
	for (size_t i = 0; i < nhandlers; i++)
		if (streq(handlers[i].type, type))
			return handlers[i].fn;
	return NULL;
}

/* fsync the directory holding path, so a newly created file survives a crash */
static int fsync_parent(const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	_cleanup_close_ int dfd = -1;

	dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0)
		return -errno;
	return 0;
}

static void entries_push(struct vmr_journal *j, json_t *e)
{
	XGROW(j->entries, j->alloc, j->n + 1);
	j->entries[j->n++] = e;
}

/*
 * Load the lines already in the file.  A last line without its newline is
 * a record that was being written when its writer died: the change it
 * describes was never started (record returns only after the fsync), so it
 * is dropped and cut off the file.
 */
static int journal_load(struct vmr_journal *j, struct vmr_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0, lineno = 0;
	char *p, *end;
	int r;

	r = read_file(j->path, JOURNAL_MAX_BYTES, &data, &len);
	if (r < 0)
		return vmr_error_set(err, -r, "read journal '%s'", j->path);
	p = data;
	end = data + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		json_error_t jerr;
		json_t *e;

		lineno++;
		if (!nl) {
			if (ftruncate(j->fd, (off_t)(p - data)) < 0 || fsync(j->fd) < 0)
				return vmr_error_set(err, errno, "truncate journal '%s'", j->path);
			break;
		}
		if (nl == p) { /* tolerate blank lines */
			p = nl + 1;
			continue;
		}
		e = json_loadb(p, (size_t)(nl - p), 0, &jerr);
		if (!e || !json_is_object(e)) {
			json_decref(e);
			vmr_error_set(err, EBADMSG, "journal '%s' line %zu: %s", j->path, lineno,
				      e ? "not a JSON object" : jerr.text);
			vmr_error_hint(err, "the host changes it lists may need undoing by "
					    "hand; remove the file once the host is clean");
			return vmr_error_ret(*err);
		}
		entries_push(j, e);
		p = nl + 1;
	}
	return 0;
}

int vmr_journal_open(const char *path, struct vmr_journal **ret, struct vmr_error **err)
{
	struct vmr_journal *j;
	bool created = false;
	int fd;

	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0)
		created = true;
	else if (errno == EEXIST)
		fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return vmr_error_set(err, errno, "open journal '%s'", path);

	j = xcalloc(1, sizeof(*j));
	j->path = xstrdup(path);
	j->fd = fd;
	if (created) {
		int r = fsync_parent(path);

		if (r < 0) {
			vmr_journal_close(j);
			return vmr_error_set(err, -r, "sync directory of journal '%s'", path);
		}
	} else if (journal_load(j, err) < 0) {
		int r = vmr_error_ret(*err);

		vmr_journal_close(j);
		return r;
	}
	*ret = j;
	return 0;
}

static char *entry_line(const json_t *entry)
{
	char *s = json_dumps(entry, JSON_COMPACT | JSON_ENSURE_ASCII);
	char *line;

	if (!s)
		abort(); /* only fails on allocation */
	line = xasprintf("%s\n", s);
	free(s);
	return line;
}

int vmr_journal_record(struct vmr_journal *j, json_t *entry, struct vmr_error **err)
{
	_cleanup_free_ char *line = NULL;
	struct stat st;
	int r;

	if (!json_is_object(entry) || !json_is_string(json_object_get(entry, "type")))
		return vmr_error_set(err, EINVAL, "journal entry without a \"type\"");
	if (fstat(j->fd, &st) < 0)
		return vmr_error_set(err, errno, "stat journal '%s'", j->path);
	line = entry_line(entry);
	r = write_all(j->fd, line, strlen(line));
	if (r == 0 && fsync(j->fd) < 0)
		r = -errno;
	if (r < 0) {
		/* leave no half line behind: the change will not be made */
		if (ftruncate(j->fd, st.st_size) == 0)
			(void)fsync(j->fd);
		return vmr_error_set(err, -r, "write journal '%s'", j->path);
	}
	entries_push(j, json_incref(entry));
	/* recorded, the change not made yet: the case the journal exists for */
	vmr_fault_point("journal-record");
	return 0;
}

size_t vmr_journal_count(const struct vmr_journal *j)
{
	return j ? j->n : 0;
}

/*
 * Replace the file's contents with the kept entries.  Empty: truncate in
 * place.  Otherwise write a new file and rename it over, so a crash leaves
 * either the old or the new list, never a mix; then reopen it.
 */
static int journal_rewrite(struct vmr_journal *j, struct vmr_error **err)
{
	struct vmr_buf b = VMR_BUF_INIT;
	int fd, r;

	if (j->n == 0) {
		if (ftruncate(j->fd, 0) < 0 || fsync(j->fd) < 0)
			return vmr_error_set(err, errno, "truncate journal '%s'", j->path);
		return 0;
	}
	for (size_t i = 0; i < j->n; i++) {
		_cleanup_free_ char *line = entry_line(j->entries[i]);

		vmr_buf_adds(&b, line);
	}
	r = write_file_atomic(j->path, b.s, b.len, 0600);
	vmr_buf_free(&b);
	if (r < 0)
		return vmr_error_set(err, -r, "rewrite journal '%s'", j->path);
	fd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return vmr_error_set(err, errno, "reopen journal '%s'", j->path);
	close(j->fd);
	j->fd = fd;
	return 0;
}

int vmr_journal_replay(struct vmr_journal *j, void *ctx, struct vmr_error **err)
{
	struct vmr_error *first = NULL;
	size_t kept = 0;
	int r;

	/* walk backwards; kept entries are compacted at the tail, in order */
	for (size_t i = j->n; i-- > 0;) {
		json_t *e = j->entries[i];
		const char *type = json_string_value(json_object_get(e, "type"));
		struct vmr_error *e_err = NULL;
		vmr_undo_fn fn = type ? handler_find(type) : NULL;

		if (!type)
			vmr_error_set(&e_err, EINVAL, "journal entry %zu has no \"type\"", i + 1);
		else if (!fn)
			vmr_error_set(&e_err, ENOTSUP, "undo journal entry %zu: unknown type '%s'",
				      i + 1, type);
		else if (fn(e, ctx, &e_err) < 0 && !e_err)
			vmr_error_set(&e_err, 0, "undo journal entry %zu ('%s') failed", i + 1,
				      type);

		if (e_err) {
			j->entries[j->n - 1 - kept] = e;
			kept++;
			if (!first)
				first = e_err;
			else
				vmr_error_free(e_err);
		} else {
			json_decref(e);
		}
	}
	/* move the kept entries (now at the tail) to the front */
	if (kept)
		memmove(j->entries, j->entries + (j->n - kept), kept * sizeof(*j->entries));
	j->n = kept;

	r = journal_rewrite(j, err);
	if (first) {
		if (r < 0 || !err) {
			/* a failed rewrite is the worse news: the file may be stale */
			vmr_error_free(first);
			return r < 0 ? r : -1;
		}
		vmr_error_clear(err);
		*err = first;
		if (kept > 1)
			vmr_error_hint(err,
				       "%zu journal entries could not be undone; "
				       "they are kept in '%s' for the next start",
				       kept, j->path);
		else
			vmr_error_hint(err, "the entry is kept in '%s' for the next start",
				       j->path);
		return vmr_error_ret(*err);
	}
	return r;
}

void vmr_journal_close(struct vmr_journal *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		json_decref(j->entries[i]);
	free(j->entries);
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j);
}
