/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QEMU's cgroup v2 leaf (lib/base/cgroup.h). */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "lib/base/caps.h"
#include "lib/base/cgroup.h"
#include "lib/base/util.h"

#define UNDO_CGROUP "cgroup"
#define REMOVE_WAIT_MS 2000
#define PARENT_TRIES 3

/* the files vmrun writes in a leaf: a fake tree's undo removes them */
static const char *const leaf_files[] = {"cpuset.cpus", "memory.max", "pids.max", "cgroup.procs",
					 "cgroup.kill"};

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static void add_cpus(struct vmr_cpuset *u, const struct vmr_cpuset *cs)
{
	if (!cs)
		return;
	for (size_t i = 0; i < cs->n; i++) {
		if (vmr_cpuset_contains(u, cs->cpus[i]))
			continue;
		u->cpus = xrealloc(u->cpus, (u->n + 1) * sizeof(*u->cpus));
		u->cpus[u->n++] = cs->cpus[i];
	}
}

void vmr_cgroup_limits(const struct vmr_cpuset *vcpus, const struct vmr_cpuset *emulator,
		       const struct vmr_cpuset *iothreads, uint64_t memory, unsigned nvcpus,
		       struct vmr_cgroup_limits *ret)
{
	*ret = (struct vmr_cgroup_limits){0};
	add_cpus(&ret->cpus, vcpus);
	add_cpus(&ret->cpus, emulator);
	add_cpus(&ret->cpus, iothreads);
	if (ret->cpus.n > 1)
		qsort(ret->cpus.cpus, ret->cpus.n, sizeof(*ret->cpus.cpus), cmp_unsigned);
	ret->memory_max = memory + VMR_CGROUP_MEMORY_OVERHEAD;
	ret->pids_max = VMR_CGROUP_PIDS_BASE + 4 * (uint64_t)nvcpus;
}

void vmr_cgroup_limits_free(struct vmr_cgroup_limits *l)
{
	if (!l)
		return;
	vmr_cpuset_free(&l->cpus);
}

char *vmr_cgroup_path(const char *root, const char *guest)
{
	return xasprintf("%s/" VMR_CGROUP_DIR "/%s", root, guest);
}

/* Whether word is one of the blank-separated words of the file at path. */
static bool file_has_word(const char *path, const char *word)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;

	if (read_file(path, 1 << 16, &text, NULL) < 0)
		return false;
	for (char *t = strtok_r(text, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save))
		if (streq(t, word))
			return true;
	return false;
}

/* The controllers limits l needs, NULL-terminated. */
static void needed(const struct vmr_cgroup_limits *l, const char *ret[4])
{
	size_t n = 0;

	if (l->cpus.n > 0)
		ret[n++] = "cpuset";
	ret[n++] = "memory";
	ret[n++] = "pids";
	ret[n] = NULL;
}

int vmr_cgroup_usable(const char *root, const struct vmr_cgroup_limits *l, char **ret_why)
{
	_cleanup_free_ char *controllers = xasprintf("%s/cgroup.controllers", root);
	_cleanup_free_ char *subtree = xasprintf("%s/cgroup.subtree_control", root);
	_cleanup_free_ char *self = NULL;
	const char *need[4];

	needed(l, need);
	if (access(controllers, F_OK) == 0) {
		for (const char **c = need; *c; c++) {
			if (file_has_word(subtree, *c))
				continue;
			*ret_why =
			    xasprintf("the %s controller is not enabled in '%s'", *c, subtree);
			return -1;
		}
		/* an unprivileged supervisor: auto turns off rather than fail at mkdir */
		if (faccessat(AT_FDCWD, root, W_OK, AT_EACCESS) < 0) {
			*ret_why = xasprintf("'%s' is not writable: %s", root, strerror(errno));
			return -1;
		}
		return 2;
	}
	/* v1: each controller a hierarchy of its own */
	(void)read_file("/proc/self/cgroup", 1 << 16, &self, NULL);
	for (const char **c = need; *c; c++) {
		_cleanup_free_ char *procs = xasprintf("%s/%s/cgroup.procs", root, *c);
		_cleanup_free_ char *own = NULL, *base = NULL;

		if (access(procs, F_OK) < 0) {
			*ret_why = xasprintf("no cgroup v2 hierarchy at '%s', and no cgroup v1 %s "
					     "controller at '%s/%s'",
					     root, *c, root, *c);
			return -1;
		}
		own = vmr_cgroup_v1_own(self, *c);
		base = xasprintf("%s/%s%s", root, *c, streq(own, "/") ? "" : own);
		if (faccessat(AT_FDCWD, base, W_OK, AT_EACCESS) < 0) {
			*ret_why = xasprintf("'%s' is not writable: %s", base, strerror(errno));
			return -1;
		}
	}
	return 1;
}

char *vmr_cgroup_v1_own(const char *proc_cgroup, const char *ctl)
{
	_cleanup_free_ char *text = xstrdup(proc_cgroup ? proc_cgroup : "");
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *save2 = NULL;

		if (!c2 || c2 == c1 + 1) /* "0::/x" is v2 */
			continue;
		*c2 = '\0';
		for (char *n = strtok_r(c1 + 1, ",", &save2); n; n = strtok_r(NULL, ",", &save2))
			if (streq(n, ctl))
				return xstrdup(c2[1] ? c2 + 1 : "/");
	}
	return xstrdup("/");
}

static bool is_fake(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) < 0 ||
	       (sf.f_type != CGROUP2_SUPER_MAGIC && sf.f_type != CGROUP_SUPER_MAGIC);
}

/* Write text to dir/name (created in a fake tree). */
static int cg_write(const char *dir, const char *name, const char *text, struct vmr_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return vmr_error_set(err, errno, "cgroup: open '%s'", path);
	r = write_all(fd, text, strlen(text));
	if (r < 0)
		return vmr_error_set(err, -r, "cgroup: write '%s' to '%s'", text, path);
	return 0;
}

/* SIGKILL each pid in dir/cgroup.procs: 0 when none is left, 1 when some were, -errno. */
static int procs_kill(const char *dir)
{
	_cleanup_free_ char *path = xasprintf("%s/cgroup.procs", dir);
	_cleanup_free_ char *text = NULL;
	char *save = NULL;
	int r, any = 0;

	r = read_file(path, 1 << 20, &text, NULL);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (char *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		unsigned long long pid;

		if (parse_uint(t, INT32_MAX, &pid) < 0 || pid <= 1 || (pid_t)pid == getpid())
			continue;
		any = 1;
		(void)kill((pid_t)pid, SIGKILL);
	}
	return any;
}

/* Whether dir (a fake tree's) holds nothing but the file name. */
static bool fake_only_file(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool only = true;

	if (!d)
		return false;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && !streq(de->d_name, name))
			only = false;
	closedir(d);
	return only;
}

int vmr_cgroup_remove(const char *path, struct vmr_error **err)
{
	_cleanup_free_ char *parent = NULL;
	struct stat st;
	char *slash;

	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (is_fake(path)) {
		/* a test tree: plain files, nobody to kill */
		for (size_t i = 0; i < ARRAY_SIZE(leaf_files); i++) {
			_cleanup_free_ char *f = xasprintf("%s/%s", path, leaf_files[i]);

			(void)unlink(f);
		}
	} else {
		_cleanup_free_ char *killf = xasprintf("%s/cgroup.kill", path);
		uint64_t until = now_ms() + REMOVE_WAIT_MS;
		int r;

		/* cgroup.kill (Linux 5.14) also gets processes forking meanwhile */
		if (access(killf, F_OK) == 0)
			(void)cg_write(path, "cgroup.kill", "1", NULL);
		for (;;) {
			r = procs_kill(path);
			if (r <= 0 || now_ms() >= until)
				break;
			usleep(20 * 1000);
		}
		if (r > 0)
			return vmr_error_set(err, EBUSY,
					     "cgroup '%s': processes left after SIGKILL", path);
	}
	if (rmdir(path) < 0 && errno != ENOENT)
		return vmr_error_set(err, errno, "remove cgroup '%s'", path);
	/* ROOT/vmrun goes with its last guest */
	parent = xstrdup(path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (is_fake(parent) && fake_only_file(parent, "cgroup.subtree_control")) {
			_cleanup_free_ char *f = xasprintf("%s/cgroup.subtree_control", parent);

			(void)unlink(f);
		}
		(void)rmdir(parent);
	}
	return 0;
}

/* Record the leaf in the journal, before anything is made, and remove a stale one. */
static int leaf_record(const char *leaf, struct vmr_journal *j, struct vmr_error **err)
{
	json_t *e = json_pack("{s:s, s:s}", "type", UNDO_CGROUP, "path", leaf);
	int r = vmr_journal_record(j, e, err);

	json_decref(e);
	if (r < 0)
		return r;
	/* a leaf the journal did not name: a run killed between its entry's loss and here */
	return vmr_cgroup_remove(leaf, err);
}

static int leaf_open_procs(const char *leaf, struct vmr_cgroup *ret, struct vmr_error **err)
{
	_cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", leaf);
	int fd = open(procs, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return vmr_error_set(err, errno, "cgroup: open '%s'", procs);
	ret->procs_fd[ret->nfds++] = fd;
	if (!ret->path)
		ret->path = xstrdup(leaf);
	return 0;
}

static int write_num(const char *dir, const char *name, uint64_t v, struct vmr_error **err)
{
	_cleanup_free_ char *num = xasprintf("%llu", (unsigned long long)v);

	return cg_write(dir, name, num, err);
}

static int create_v2(const char *root, const char *guest, const struct vmr_cgroup_limits *l,
		     struct vmr_journal *j, struct vmr_cgroup *ret, struct vmr_error **err)
{
	_cleanup_free_ char *parent = xasprintf("%s/" VMR_CGROUP_DIR, root);
	_cleanup_free_ char *leaf = vmr_cgroup_path(root, guest);
	_cleanup_free_ char *enable = NULL;
	const char *need[4];
	int r;

	r = leaf_record(leaf, j, err);
	if (r < 0)
		return r;
	needed(l, need);
	for (const char **c = need; *c; c++) {
		char *t = xasprintf("%s%s+%s", enable ? enable : "", enable ? " " : "", *c);

		free(enable);
		enable = t;
	}
	/* another guest's teardown may remove ROOT/vmrun between the two mkdirs: again */
	for (int tries = 0;; tries++) {
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			return vmr_error_set(err, errno, "cgroup: mkdir '%s'", parent);
		r = cg_write(parent, "cgroup.subtree_control", enable, err);
		if (r < 0)
			return r;
		if (mkdir(leaf, 0755) == 0)
			break;
		if (errno != ENOENT || tries == PARENT_TRIES)
			return vmr_error_set(err, errno, "cgroup: mkdir '%s'", leaf);
	}
	if (l->cpus.n > 0) {
		_cleanup_free_ char *cpus = vmr_cpuset_format(&l->cpus);

		r = cg_write(leaf, "cpuset.cpus", cpus, err);
		if (r < 0)
			return r;
	}
	r = write_num(leaf, "memory.max", l->memory_max, err);
	if (r < 0)
		return r;
	r = write_num(leaf, "pids.max", l->pids_max, err);
	if (r < 0)
		return r;
	return leaf_open_procs(leaf, ret, err);
}

/* v1 cpuset: a new cgroup has empty cpus and mems, and nobody may join it until both are set. */
static int cpuset_inherit(const char *from, const char *dir, const char *cpus,
			  struct vmr_error **err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *src = xasprintf("%s/%s", from, files[i]);
		_cleanup_free_ char *text = NULL;
		int r;

		if (i == 0 && cpus) {
			r = cg_write(dir, files[i], cpus, err);
		} else {
			r = read_file(src, 1 << 16, &text, NULL);
			if (r < 0)
				return vmr_error_set(err, -r, "cgroup: read '%s'", src);
			text[strcspn(text, "\n")] = '\0';
			r = cg_write(dir, files[i], text, err);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int create_v1(const char *root, const char *guest, const struct vmr_cgroup_limits *l,
		     struct vmr_journal *j, struct vmr_cgroup *ret, struct vmr_error **err)
{
	_cleanup_free_ char *self = NULL;
	const char *need[4];
	int r;

	(void)read_file("/proc/self/cgroup", 1 << 16, &self, NULL);
	needed(l, need);
	for (const char **c = need; *c; c++) {
		_cleanup_free_ char *own = vmr_cgroup_v1_own(self, *c);
		_cleanup_free_ char *base =
		    xasprintf("%s/%s%s", root, *c, streq(own, "/") ? "" : own);
		_cleanup_free_ char *parent = xasprintf("%s/" VMR_CGROUP_DIR, base);
		_cleanup_free_ char *leaf = vmr_cgroup_path(base, guest);
		bool cpuset = streq(*c, "cpuset");

		r = leaf_record(leaf, j, err);
		if (r < 0)
			return r;
		for (int tries = 0;; tries++) {
			if (mkdir(parent, 0755) < 0 && errno != EEXIST)
				return vmr_error_set(err, errno, "cgroup: mkdir '%s'", parent);
			/* always (the same values): a guest starting beside may have made it */
			if (cpuset) {
				r = cpuset_inherit(base, parent, NULL, err);
				if (r < 0)
					return r;
			}
			if (mkdir(leaf, 0755) == 0)
				break;
			if (errno != ENOENT || tries == PARENT_TRIES)
				return vmr_error_set(err, errno, "cgroup: mkdir '%s'", leaf);
		}
		if (cpuset) {
			_cleanup_free_ char *cpus = vmr_cpuset_format(&l->cpus);

			r = cpuset_inherit(parent, leaf, cpus, err);
		} else if (streq(*c, "memory")) {
			r = write_num(leaf, "memory.limit_in_bytes", l->memory_max, err);
		} else {
			r = write_num(leaf, "pids.max", l->pids_max, err);
		}
		if (r < 0)
			return r;
		r = leaf_open_procs(leaf, ret, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int vmr_cgroup_create(const char *root, int version, const char *guest,
		      const struct vmr_cgroup_limits *l, struct vmr_journal *j,
		      struct vmr_cgroup *ret, struct vmr_error **err)
{
	struct vmr_cgroup c = {.nfds = 0};
	int r;

	r = version == 1 ? create_v1(root, guest, l, j, &c, err)
			 : create_v2(root, guest, l, j, &c, err);
	if (r < 0) {
		vmr_cgroup_close(&c);
		return r;
	}
	*ret = c;
	return 0;
}

void vmr_cgroup_close(struct vmr_cgroup *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nfds; i++)
		if (c->procs_fd[i] >= 0)
			close(c->procs_fd[i]);
	free(c->path);
	*c = (struct vmr_cgroup){0};
}

static int undo_cgroup(const json_t *entry, void *ctx, struct vmr_error **err)
{
	const char *path = json_string_value(json_object_get(entry, "path"));
	const char *slash;

	(void)ctx;
	/* only ever a leaf of ROOT/vmrun: a damaged journal removes nothing else */
	if (!path || path[0] != '/' || !(slash = strrchr(path, '/')) || slash[1] == '\0' ||
	    slash - path < (ptrdiff_t)strlen("/" VMR_CGROUP_DIR) ||
	    strncmp(slash - strlen("/" VMR_CGROUP_DIR), "/" VMR_CGROUP_DIR,
		    strlen("/" VMR_CGROUP_DIR)) != 0)
		return vmr_error_set(err, EINVAL, "journal entry '%s' with a bad path '%s'",
				     UNDO_CGROUP, path ? path : "");
	return vmr_cgroup_remove(path, err);
}

/*
 * What the undo needs beyond a root supervisor's uid: writing cgroup.kill
 * and removing the leaf, by the mode bits (vmrun/ is root's and 0755:
 * nothing).  Removing vmrun/ itself with the last leaf is not counted: at
 * the 0555 top of a v1 hierarchy it would need CAP_DAC_OVERRIDE for an
 * empty directory, so there it stays.  Killing what is left needs
 * CAP_KILL only for another uid's processes: QEMU as qemu_user, for which
 * the supervisor keeps it anyway (docs/security.md).
 */
static uint64_t undo_cgroup_caps(const json_t *entry, void *ctx)
{
	const char *path = json_string_value(json_object_get(entry, "path"));
	_cleanup_free_ char *killf = NULL;

	(void)ctx;
	if (!path)
		return 0;
	killf = xasprintf("%s/cgroup.kill", path);
	return vmr_caps_dac_unlink(path) | vmr_caps_dac_write(killf);
}

void vmr_cgroup_register_undo(void)
{
	vmr_journal_register(UNDO_CGROUP, undo_cgroup);
	vmr_journal_register_caps(UNDO_CGROUP, undo_cgroup_caps);
}
