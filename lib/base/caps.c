/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capability checks and QEMU's privilege drop: see lib/base/caps.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/base/buf.h"
#include "lib/base/fsutil.h"
#include "lib/base/caps.h"
#include "lib/base/netaddr.h"
#include "lib/base/util.h"

/* libcap's bit vectors are two 32-bit words: 64 capabilities at most */
#define CAPS_MAX 64

/* clang-format off */
static const char *const step_names[] = {
	[VMR_CAPS_STEP_MEMLOCK] = "raise RLIMIT_MEMLOCK",
	[VMR_CAPS_STEP_BOUNDING] = "drop capability bounding set",
	[VMR_CAPS_STEP_SETGROUPS] = "setgroups",
	[VMR_CAPS_STEP_SETRESGID] = "setresgid",
	[VMR_CAPS_STEP_SETRESUID] = "setresuid",
	[VMR_CAPS_STEP_CAPSET] = "capset",
	[VMR_CAPS_STEP_AMBIENT] = "clear ambient capabilities",
	[VMR_CAPS_STEP_NO_NEW_PRIVS] = "PR_SET_NO_NEW_PRIVS",
};
/* clang-format on */

const char *vmr_caps_step_name(int step)
{
	if (step < 0 || step >= (int)ARRAY_SIZE(step_names) || !step_names[step])
		return "drop privileges";
	return step_names[step];
}

/* "CAP_NET_ADMIN", as the kernel's headers and capabilities(7) spell it */
static char *cap_upper_name(cap_value_t cap)
{
	char *lib = cap_to_name(cap);
	char *s;

	if (!lib)
		return xasprintf("capability %d", (int)cap);
	s = xstrdup(lib);
	cap_free(lib);
	for (char *p = s; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return s;
}

static int last_cap(void)
{
	int n = (int)cap_max_bits();

	return (n > CAPS_MAX ? CAPS_MAX : n) - 1;
}

/*
 * The bounding set as a mask: one read of CapBnd in /proc/self/status
 * rather than a PR_CAPBSET_READ per capability (cap_get_bound(3)), which
 * the start of every supervisor paid twice; the per-capability walk where
 * /proc is not there.
 */
static uint64_t bound_mask(int last)
{
	static const char *const field[] = {"CapBnd"};
	uint64_t mask = 0;

	if (vmr_proc_status_masks(field, 1, &mask) == 0)
		return mask;
	for (int cap = 0; cap <= last; cap++)
		if (cap_get_bound((cap_value_t)cap) > 0)
			mask |= VMR_CAP_BIT(cap);
	return mask;
}

/* PR_CAP_AMBIENT_CLEAR_ALL: cap_reset_ambient(3) first reads each capability's flag */
static int clear_ambient(void)
{
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

bool vmr_caps_have(cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t cur = cap_get_proc();

	if (!cur)
		return false;
	if (cap_get_flag(cur, cap, CAP_EFFECTIVE, &v) < 0)
		v = CAP_CLEAR;
	cap_free(cur);
	return v == CAP_SET;
}

bool vmr_caps_any_permitted(void)
{
	cap_t cur = cap_get_proc();
	bool any = false;

	/* cannot tell: assume there is something to drop */
	if (!cur)
		return true;
	for (int cap = 0; cap <= last_cap() && !any; cap++) {
		cap_flag_value_t v = CAP_CLEAR;

		if (cap_get_flag(cur, (cap_value_t)cap, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			any = true;
	}
	cap_free(cur);
	return any;
}

int vmr_caps_require(const cap_value_t *caps, size_t n, const char *what, struct vmr_error **err)
{
	struct vmr_buf names = VMR_BUF_INIT;
	size_t nmissing = 0, done = 0;

	for (size_t i = 0; i < n; i++)
		if (!vmr_caps_have(caps[i]))
			nmissing++;
	if (!nmissing)
		return 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *name = NULL;

		if (vmr_caps_have(caps[i]))
			continue;
		if (done)
			vmr_buf_adds(&names, done + 1 == nmissing ? " and " : ", ");
		name = cap_upper_name(caps[i]);
		vmr_buf_adds(&names, name);
		done++;
	}
	/* no errno text: "Operation not permitted" would only repeat it */
	vmr_error_set(err, 0, "%s needs %s, which this process lacks", what, vmr_buf_str(&names));
	vmr_error_hint(err, "run vmrun as root, or grant %s to its container (docs/compose.md)",
		       nmissing == 1 ? "it" : "them");
	vmr_buf_free(&names);
	return -EPERM;
}

int vmr_caps_require_writable(const char *path, const char *what, struct vmr_error **err)
{
	int r;

	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0)
		return 0;
	if (errno == ENOENT)
		return 0;
	r = vmr_error_set(err, errno, "%s needs write access to '%s'", what, path);
	if (errno == EROFS)
		vmr_error_hint(err, "the file system is mounted read-only: give the container "
				    "a writable /sys (docs/compose.md)");
	return r;
}

static bool in_groups(gid_t gid, const gid_t *groups, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * Make sure d's user can open o->device read-write, joining the device's
 * group when that is what it takes.  The kernel checks exactly one class:
 * owner, else group, else other.
 */
static int prepare_device(const struct vmr_caps_drop_opts *o, struct vmr_caps_drop *d,
			  struct vmr_error **err)
{
	struct stat st;
	bool group_rw;
	int r;

	if (stat(o->device, &st) < 0)
		return vmr_error_set(err, errno, "stat '%s'", o->device);
	group_rw = (st.st_mode & 0060) == 0060;
	if (st.st_uid == d->uid) {
		if ((st.st_mode & 0600) == 0600)
			return 0;
	} else if (st.st_gid == d->gid || in_groups(st.st_gid, d->groups, d->ngroups)) {
		if (group_rw)
			return 0;
	} else if (group_rw && st.st_gid != 0) {
		/* joining root's group would grant far more than the device */
		d->groups = xrealloc(d->groups, (d->ngroups + 1) * sizeof(gid_t));
		d->groups[d->ngroups++] = st.st_gid;
		return 0;
	} else if ((st.st_mode & 0006) == 0006) {
		return 0;
	}
	r = vmr_error_set(err, EACCES,
			  "QEMU as uid %u gid %u cannot open '%s' (owner %u:%u, mode %04o)",
			  (unsigned)d->uid, (unsigned)d->gid, o->device, (unsigned)st.st_uid,
			  (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
	vmr_error_hint(err, "give the device to a group other than root with mode 0660 (Debian: "
			    "group kvm), or set qemu_user = root");
	return r;
}

static int prepare_ids(const struct vmr_caps_drop_opts *o, struct vmr_caps_drop *d,
		       struct vmr_error **err)
{
	static const cap_value_t setgid_cap[] = {CAP_SETGID};
	static const cap_value_t setuid_cap[] = {CAP_SETUID};
	_cleanup_free_ char *what =
	    xasprintf("running QEMU as uid %u gid %u", (unsigned)o->uid, (unsigned)o->gid);
	int r;

	if (o->ngroups > (size_t)sysconf(_SC_NGROUPS_MAX))
		return vmr_error_set(err, EINVAL, "%s: %zu supplementary groups, at most %ld", what,
				     o->ngroups, sysconf(_SC_NGROUPS_MAX));
	/* setgroups needs CAP_SETGID even to set the groups we have */
	r = vmr_caps_require(setgid_cap, 1, what, err);
	if (r < 0)
		return r;
	if (o->uid != geteuid() || o->uid != getuid()) {
		r = vmr_caps_require(setuid_cap, 1, what, err);
		if (r < 0)
			return r;
	}
	d->change_ids = true;
	d->uid = o->uid;
	d->gid = o->gid;
	d->ngroups = o->ngroups;
	if (o->ngroups) {
		d->groups = xcalloc(o->ngroups, sizeof(gid_t));
		memcpy(d->groups, o->groups, o->ngroups * sizeof(gid_t));
	}
	if (o->device)
		return prepare_device(o, d, err);
	return 0;
}

static int prepare_memlock(const struct vmr_caps_drop_opts *o, struct vmr_caps_drop *d,
			   struct vmr_error **err)
{
	static const cap_value_t resource[] = {CAP_SYS_RESOURCE};
	struct rlimit cur;
	int r;

	if (getrlimit(RLIMIT_MEMLOCK, &cur) < 0)
		return vmr_error_set(err, errno, "getrlimit RLIMIT_MEMLOCK");
	if (cur.rlim_max != RLIM_INFINITY && o->memlock > (uint64_t)cur.rlim_max) {
		_cleanup_free_ char *what =
		    xasprintf("raising QEMU's locked-memory limit to %llu MiB",
			      (unsigned long long)(o->memlock >> 20));

		r = vmr_caps_require(resource, 1, what, err);
		if (r < 0)
			return r;
	}
	d->set_memlock = true;
	d->memlock.rlim_cur = (rlim_t)o->memlock;
	d->memlock.rlim_max = (rlim_t)o->memlock;
	return 0;
}

/* The bounding set to drop: whatever is still in it and not kept. */
static int prepare_bounding(const struct vmr_caps_drop_opts *o, uint64_t *ret_keep,
			    struct vmr_caps_drop *d, struct vmr_error **err)
{
	static const cap_value_t default_keep[] = VMR_CAPS_QEMU_ROOT_KEEP;
	static const cap_value_t setpcap[] = {CAP_SETPCAP};
	const cap_value_t *keep = o->keep ? o->keep : default_keep;
	size_t nkeep = o->keep ? o->nkeep : ARRAY_SIZE(default_keep);
	uint64_t keep_mask = 0;

	d->last_cap = last_cap();
	if (!o->change_ids) {
		for (size_t i = 0; i < nkeep; i++) {
			if (keep[i] < 0 || keep[i] > d->last_cap)
				return vmr_error_set(
				    err, EINVAL, "capability %d to keep: unknown to this kernel",
				    (int)keep[i]);
			keep_mask |= UINT64_C(1) << keep[i];
		}
	}
	d->drop_bound = bound_mask(d->last_cap) & ~keep_mask;
	if (d->last_cap < 63)
		d->drop_bound &= (UINT64_C(1) << (d->last_cap + 1)) - 1;
	*ret_keep = keep_mask;
	if (d->drop_bound)
		return vmr_caps_require(setpcap, 1,
					"dropping capabilities from QEMU's bounding set", err);
	return 0;
}

/*
 * What capset sets last.  Nothing for a user: setresuid already cleared
 * the permitted and effective sets, this clears the inheritable one.  For
 * root the kept caps stay permitted and effective (exec recomputes them
 * from the bounding set anyway, so this only matters until exec).
 */
static int prepare_final(uint64_t keep, struct vmr_caps_drop *d, struct vmr_error **err)
{
	cap_t cur = NULL;

	d->set_final = true;
	d->final_caps = 0;
	if (!keep)
		return 0;
	cur = cap_get_proc();
	if (!cur)
		return vmr_error_set(err, errno, "cap_get_proc");
	for (int cap = 0; cap <= d->last_cap; cap++) {
		cap_flag_value_t have = CAP_CLEAR;

		if (!(keep & (UINT64_C(1) << cap)))
			continue;
		if (cap_get_flag(cur, (cap_value_t)cap, CAP_PERMITTED, &have) == 0 &&
		    have == CAP_SET)
			d->final_caps |= UINT64_C(1) << cap;
	}
	cap_free(cur);
	return 0;
}

int vmr_caps_drop_prepare(const struct vmr_caps_drop_opts *o, struct vmr_caps_drop *ret,
			  struct vmr_error **err)
{
	struct vmr_caps_drop d = {0};
	uint64_t keep = 0;
	int r;

	r = prepare_bounding(o, &keep, &d, err);
	if (r >= 0 && o->change_ids)
		r = prepare_ids(o, &d, err);
	if (r >= 0 && o->memlock)
		r = prepare_memlock(o, &d, err);
	if (r >= 0)
		r = prepare_final(keep, &d, err);
	if (r < 0) {
		vmr_caps_drop_free(&d);
		return r;
	}
	*ret = d;
	return 0;
}

static int fail(int *ret_step, int step)
{
	*ret_step = step;
	return errno > 0 ? -errno : -EPERM;
}

int vmr_caps_drop_apply(const struct vmr_caps_drop *d, int *ret_step)
{
	/* the limit first: raising the hard limit needs CAP_SYS_RESOURCE */
	if (d->set_memlock && setrlimit(RLIMIT_MEMLOCK, &d->memlock) < 0)
		return fail(ret_step, VMR_CAPS_STEP_MEMLOCK);
	/* while CAP_SETPCAP is still effective; setresuid would clear it */
	for (int cap = 0; cap <= d->last_cap; cap++) {
		if (!(d->drop_bound & (UINT64_C(1) << cap)))
			continue;
		errno = 0;
		if (cap_drop_bound((cap_value_t)cap) < 0)
			return fail(ret_step, VMR_CAPS_STEP_BOUNDING);
	}
	if (d->change_ids) {
		/*
		 * the system calls, not glibc's functions: those change every
		 * thread of a process by signalling them, and this runs in a
		 * child sharing its parent's memory (lib/base/spawn.c), where
		 * glibc's view of the threads is the parent's
		 */
		if (syscall(SYS_setgroups, d->ngroups, d->groups) < 0)
			return fail(ret_step, VMR_CAPS_STEP_SETGROUPS);
		if (syscall(SYS_setresgid, d->gid, d->gid, d->gid) < 0)
			return fail(ret_step, VMR_CAPS_STEP_SETRESGID);
		/* without PR_SET_KEEPCAPS this empties permitted and effective */
		if (syscall(SYS_setresuid, d->uid, d->uid, d->uid) < 0)
			return fail(ret_step, VMR_CAPS_STEP_SETRESUID);
	}
	if (d->set_final) {
		/*
		 * capset(2) from plain bits, not cap_set_proc(): a cap_t is a
		 * heap object, which this forked child must not allocate, and
		 * a prepared one is a copy the child exits holding when its
		 * exec fails (valgrind counts it lost)
		 */
		struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0}};

		for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
			data[i].permitted = (uint32_t)(d->final_caps >> (32 * i));
			data[i].effective = data[i].permitted;
		}
		if (capset(&hdr, data) < 0)
			return fail(ret_step, VMR_CAPS_STEP_CAPSET);
	}
	/* EINVAL: a kernel without ambient capabilities (before 4.3) has none */
	if (clear_ambient() < 0 && errno != EINVAL)
		return fail(ret_step, VMR_CAPS_STEP_AMBIENT);
	/* also what lets QEMU load its -sandbox filter as a non-root user */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(ret_step, VMR_CAPS_STEP_NO_NEW_PRIVS);
	return 0;
}

bool vmr_caps_drop_ids(const struct vmr_caps_drop *d, uid_t *ret_uid, gid_t *ret_gid)
{
	if (!d || !d->change_ids)
		return false;
	*ret_uid = d->uid;
	*ret_gid = d->gid;
	return true;
}

void vmr_caps_drop_free(struct vmr_caps_drop *d)
{
	if (!d)
		return;
	d->set_final = false;
	d->final_caps = 0;
	free(d->groups);
	d->groups = NULL;
	d->ngroups = 0;
}

/* ---- the supervisor's own drop ---- */

/* Who the kernel checks file access as: this process's fsuid and groups. */
struct dac_ids {
	uid_t uid;
	gid_t gid;
	gid_t groups[NGROUPS_MAX];
	int ngroups;
};

static void dac_ids_get(struct dac_ids *ids)
{
	ids->uid = geteuid();
	ids->gid = getegid();
	ids->ngroups = getgroups(NGROUPS_MAX, ids->groups);
	if (ids->ngroups < 0)
		ids->ngroups = 0;
}

/* Whether the mode bits of st grant want (a mask of R_OK, W_OK, X_OK) to ids. */
static bool dac_allows(const struct stat *st, int want, const struct dac_ids *ids)
{
	unsigned bits;

	if (st->st_uid == ids->uid)
		bits = (st->st_mode >> 6) & 7;
	else if (st->st_gid == ids->gid || in_groups(st->st_gid, ids->groups, (size_t)ids->ngroups))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return ((int)bits & want) == want;
}

/*
 * The capabilities needed to reach path's parent and then unlink or
 * write path (see caps.h).
 */
enum dac_what { DAC_REACH, DAC_UNLINK, DAC_WRITE };

static uint64_t dac_need(const char *path, enum dac_what what)
{
	_cleanup_free_ char *abs = NULL, *parent = NULL, *real = NULL;
	struct dac_ids ids;
	struct stat st, dst;
	uint64_t need = 0;
	bool parent_exists;
	char *slash;

	if (path[0] == '/') {
		abs = xstrdup(path);
	} else {
		_cleanup_free_ char *cwd = getcwd(NULL, 0);

		if (!cwd)
			return VMR_CAP_BIT(CAP_DAC_OVERRIDE);
		abs = xasprintf("%s/%s", cwd, path);
	}
	dac_ids_get(&ids);
	parent = xstrdup(abs);
	slash = strrchr(parent, '/');
	*(slash == parent ? slash + 1 : slash) = '\0';
	/* the longest prefix that exists, symbolic links resolved */
	real = realpath(parent, NULL);
	parent_exists = real != NULL;
	while (!real && strcmp(parent, "/") != 0) {
		slash = strrchr(parent, '/');
		*(slash == parent ? slash + 1 : slash) = '\0';
		real = realpath(parent, NULL);
	}
	if (!real)
		return VMR_CAP_BIT(CAP_DAC_OVERRIDE);
	/* search permission on "/" and every directory down to real */
	if (stat("/", &dst) == 0 && !dac_allows(&dst, X_OK, &ids))
		need |= VMR_CAP_BIT(CAP_DAC_OVERRIDE);
	for (char *p = real; p[1];) {
		char *next = strchr(p + 1, '/');
		char save = 0;

		if (next) {
			save = *next;
			*next = '\0';
		}
		if (stat(real, &dst) == 0 && !dac_allows(&dst, X_OK, &ids))
			need |= VMR_CAP_BIT(CAP_DAC_OVERRIDE);
		if (!next)
			break;
		*next = save;
		p = next;
	}
	if (what == DAC_REACH || !parent_exists || stat(real, &dst) < 0)
		return need;
	if (what == DAC_UNLINK) {
		/* also for a file not made yet (a socket QEMU makes later) */
		if (!dac_allows(&dst, W_OK | X_OK, &ids))
			need |= VMR_CAP_BIT(CAP_DAC_OVERRIDE);
		if (lstat(abs, &st) == 0 && (dst.st_mode & S_ISVTX) && st.st_uid != ids.uid &&
		    dst.st_uid != ids.uid)
			need |= VMR_CAP_BIT(CAP_FOWNER);
	} else if (stat(abs, &st) == 0 && !dac_allows(&st, W_OK, &ids)) {
		need |= VMR_CAP_BIT(CAP_DAC_OVERRIDE);
	}
	return need;
}

uint64_t vmr_caps_dac_unlink(const char *path)
{
	return dac_need(path, DAC_UNLINK);
}

uint64_t vmr_caps_dac_write(const char *path)
{
	return dac_need(path, DAC_WRITE);
}

uint64_t vmr_caps_dac_reach(const char *path)
{
	return dac_need(path, DAC_REACH);
}

char *vmr_caps_mask_names(uint64_t mask)
{
	struct vmr_buf b = VMR_BUF_INIT;

	for (int cap = 0; cap < CAPS_MAX; cap++) {
		_cleanup_free_ char *name = NULL;

		if (!(mask & VMR_CAP_BIT(cap)))
			continue;
		name = cap_upper_name((cap_value_t)cap);
		vmr_buf_addf(&b, "%s%s", b.len ? " " : "", name);
	}
	if (!b.len)
		vmr_buf_adds(&b, "none");
	return vmr_buf_detach(&b);
}

int vmr_caps_keep_only(uint64_t keep, uint64_t *ret_kept, struct vmr_error **err)
{
	int last = last_cap();
	uint64_t permitted = 0, kept, bound;
	bool setpcap;
	cap_t cur, next;
	int r;

	cur = cap_get_proc();
	if (!cur)
		return vmr_error_set(err, errno, "cap_get_proc");
	for (int cap = 0; cap <= last; cap++) {
		cap_flag_value_t v = CAP_CLEAR;

		if (cap_get_flag(cur, (cap_value_t)cap, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			permitted |= VMR_CAP_BIT(cap);
	}
	cap_free(cur);
	if (!permitted) {
		if (ret_kept)
			*ret_kept = 0;
		return 1;
	}
	kept = keep & permitted;
	/* the bounding set first: dropping from it needs CAP_SETPCAP, about to go */
	setpcap = vmr_caps_have(CAP_SETPCAP);
	bound = setpcap ? bound_mask(last) : 0;
	for (int cap = 0; setpcap && cap <= last; cap++) {
		if ((kept & VMR_CAP_BIT(cap)) || !(bound & VMR_CAP_BIT(cap)))
			continue;
		if (cap_drop_bound((cap_value_t)cap) < 0) {
			_cleanup_free_ char *name = cap_upper_name((cap_value_t)cap);

			return vmr_error_set(err, errno, "drop %s from the bounding set", name);
		}
	}
	next = cap_init();
	if (!next)
		return vmr_error_set(err, errno, "cap_init");
	for (int cap = 0; cap <= last; cap++) {
		cap_value_t v = (cap_value_t)cap;

		if (!(kept & VMR_CAP_BIT(cap)))
			continue;
		if (cap_set_flag(next, CAP_PERMITTED, 1, &v, CAP_SET) < 0 ||
		    cap_set_flag(next, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0) {
			r = vmr_error_set(err, errno, "cap_set_flag");
			cap_free(next);
			return r;
		}
	}
	r = cap_set_proc(next);
	cap_free(next);
	if (r < 0)
		return vmr_error_set(err, errno, "capset: keep only what the supervisor needs");
	/* EINVAL: a kernel without ambient capabilities (before 4.3) has none */
	if (clear_ambient() < 0 && errno != EINVAL)
		return vmr_error_set(err, errno, "clear the ambient capabilities");
	if (ret_kept)
		*ret_kept = kept;
	return 0;
}
