/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A stopped guest's overlays and state removed (lib/runtime/remove.h). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "images/images.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/runtime/guestplan.h"
#include "lib/runtime/plandesc.h"
#include "lib/runtime/remove.h"

/* realpath, or path itself when it does not exist (it cannot be anyone's base then) */
static char *canon(const char *path)
{
	char *r = realpath(path, NULL);

	return r ? r : xstrdup(path);
}

/*
 * The guest of t (not g) whose disks use file: as a base of theirs, or as an
 * image in the backing chain of one of its overlays.  Returns its name
 * (static in t) and what, or NULL.
 */
static const char *used_by(const struct vmr_config *cfg, const struct vmr_topology *t,
			   const struct vmr_guest *g, const char *topo_path, const char *qemu_img,
			   const char *file, const char **ret_how)
{
	for (size_t i = 0; i < t->nguests; i++) {
		const struct vmr_guest *o = &t->guests[i];
		json_t *disks, *d;
		size_t k;

		if (o == g)
			continue;
		disks = vmr_guest_disks_json(cfg, t, o, topo_path, NULL);
		json_array_foreach(disks, k, d)
		{
			const char *f = json_string_value(json_object_get(d, "file"));
			const char *b = json_string_value(json_object_get(d, "backing"));
			_cleanup_free_ char *cf = f ? canon(f) : NULL, *cb = b ? canon(b) : NULL;
			json_t *chain = NULL, *img;
			size_t m;

			if ((cf && streq(cf, file)) || (cb && streq(cb, file))) {
				*ret_how = cb && streq(cb, file) ? "as its base" : "as its disk";
				json_decref(disks);
				return o->name;
			}
			if (!f || access(f, F_OK) < 0 || !qemu_img ||
			    vmr_image_chain(qemu_img, f, &chain, NULL) < 0)
				continue;
			json_array_foreach(chain, m, img)
			{
				const char *fn =
				    json_string_value(json_object_get(img, "filename"));
				_cleanup_free_ char *cfn = fn ? canon(fn) : NULL;

				if (m > 0 && cfn && streq(cfn, file)) {
					json_decref(chain);
					json_decref(disks);
					*ret_how = "in the backing chain of one of its disks";
					return o->name;
				}
			}
			json_decref(chain);
		}
		json_decref(disks);
	}
	return NULL;
}

/* Every file of dir, then dir (one level of subdirectories: dev/). */
static int remove_tree(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL;
		struct stat st;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth > 0)
			r = remove_tree(p, depth - 1);
		else if (unlink(p) < 0 && errno != ENOENT)
			r = -errno;
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

/*
 * What devices keep in IMAGE_DIR/GUEST (UEFI variables, TPM state: their
 * ops' kept names), whichever the guest has now, since an earlier topology
 * may have had them.  Appends each one there is to removed; returns how
 * many, or negative.
 */
static int remove_kept(const char *gdir, bool dry_run, struct vmr_strvec *removed,
		       struct vmr_error **err)
{
	int n = 0;

	for (const struct vmr_device_ops *const *k = vmr_device_kinds(); *k; k++) {
		for (const char *const *name = (*k)->kept; name && *name; name++) {
			_cleanup_free_ char *p = xasprintf("%s/%s", gdir, *name);
			size_t len = strlen(p);
			bool dir = p[len - 1] == '/';
			struct stat st;
			int r = 0;

			if (dir)
				p[len - 1] = '\0';
			if (lstat(p, &st) < 0)
				continue;
			if (!dry_run)
				r = dir && S_ISDIR(st.st_mode) ? remove_tree(p, 0)
				    : unlink(p) < 0	       ? -errno
							       : 0;
			if (r < 0)
				return vmr_error_set(err, -r, "remove '%s'", p);
			vmr_strvec_pushf(removed, "%s%s", p, dir ? "/" : "");
			n++;
		}
	}
	return n;
}

int vmr_guest_remove(const struct vmr_config *cfg, const char *topo_path, const char *guest,
		     bool dry_run, struct vmr_rm_result *ret, struct vmr_error **err)
{
	struct vmr_rm_result res = {.removed = VMR_STRVEC_INIT, .kept = VMR_STRVEC_INIT};
	struct vmr_diags diags = {0};
	struct vmr_topology *t = NULL;
	struct vmr_statedir lock = {.lock_fd = -1};
	_cleanup_free_ char *state = NULL, *journal = NULL, *real = NULL, *qemu_img = NULL;
	_cleanup_free_ char *gdir = NULL;
	struct vmr_strvec files = VMR_STRVEC_INIT;
	const struct vmr_guest *g;
	json_t *disks = NULL, *d;
	struct stat st;
	pid_t pid = 0;
	size_t k;
	int r;

	real = realpath(topo_path, NULL);
	if (!real)
		return vmr_error_set(err, errno, "resolve '%s'", topo_path);
	r = vmr_topology_load(real, vmr_device_kinds(), &t, &diags);
	vmr_diags_clear(&diags);
	if (r < 0)
		return vmr_error_usage(err, "topology '%s' is not valid (see `vmrun validate %s`)",
				       topo_path, topo_path);
	g = vmr_topology_guest(t, guest);
	if (!g) {
		r = vmr_error_usage(err, "guest '%s' not found in '%s'", guest, topo_path);
		goto out;
	}
	r = vmr_statedir_probe(cfg->state_dir, guest, &pid, err);
	if (r < 0)
		goto out;
	if (r > 0) {
		r = vmr_error_set(err, 0,
				  "guest '%s' is running (supervisor pid %d): stop it first", guest,
				  (int)pid);
		goto out;
	}
	journal = vmr_statedir_path(cfg->state_dir, guest, "journal.jsonl");
	if (stat(journal, &st) == 0 && st.st_size > 0) {
		r = vmr_error_set(err, 0,
				  "guest '%s': its last supervisor died and left host changes in "
				  "'%s'",
				  guest, journal);
		vmr_error_hint(err, "`vmrun down %s %s` undoes them first", topo_path, guest);
		goto out;
	}
	disks = vmr_guest_disks_json(cfg, t, g, real, err);
	if (!disks) {
		r = -EINVAL;
		goto out;
	}
	if (vmr_image_qemu_img(cfg, &qemu_img, NULL) < 0)
		qemu_img = NULL;
	json_array_foreach(disks, k, d)
	{
		const char *id = json_string_value(json_object_get(d, "id"));
		const char *f = json_string_value(json_object_get(d, "file"));
		_cleanup_free_ char *cf = canon(f);
		const char *who, *how = NULL;

		if (streq(id, "seed") || json_is_true(json_object_get(d, "cdrom")))
			continue;
		if (!streq(id, "root") && json_is_null(json_object_get(d, "backing"))) {
			vmr_strvec_pushf(&res.kept, "%s: a disk of its own (file:), not an overlay",
					 f);
			continue;
		}
		if (lstat(f, &st) < 0)
			continue;
		who = used_by(cfg, t, g, real, qemu_img, cf, &how);
		if (who) {
			r = vmr_error_set(err, 0,
					  "guest '%s' uses '%s' %s: not removing guest '%s'", who,
					  f, how, guest);
			goto out;
		}
		vmr_strvec_push(&files, f);
	}
	state = vmr_statedir_path(cfg->state_dir, guest, NULL);
	if (!dry_run) {
		/* a start that races us fails on the lock, and we on it */
		if (stat(state, &st) == 0) {
			r = vmr_statedir_lock(cfg->state_dir, guest, &lock, err);
			if (r < 0)
				goto out;
		}
		for (size_t i = 0; i < files.n; i++) {
			if (unlink(files.v[i]) < 0 && errno != ENOENT) {
				r = vmr_error_set(err, errno, "remove '%s'", files.v[i]);
				goto out;
			}
		}
	}
	for (size_t i = 0; i < files.n; i++)
		vmr_strvec_push(&res.removed, files.v[i]);
	gdir = vmr_plan_guest_dir(cfg, g);
	r = remove_kept(gdir, dry_run, &res.removed, err);
	if (r < 0)
		goto out;
	if (g->image || r > 0) {
		/* IMAGE_DIR/GUEST, when nothing else is in it */
		if (!dry_run && rmdir(gdir) == 0)
			vmr_strvec_pushf(&res.removed, "%s/", gdir);
	}
	if (stat(state, &st) == 0) {
		if (!dry_run) {
			r = remove_tree(state, 1);
			if (r < 0) {
				r = vmr_error_set(err, -r, "remove '%s'", state);
				goto out;
			}
		}
		vmr_strvec_pushf(&res.removed, "%s/", state);
	}
	r = 0;
out:
	vmr_statedir_release(&lock);
	vmr_strvec_clear(&files);
	json_decref(disks);
	vmr_topology_free(t);
	if (r < 0) {
		vmr_rm_result_free(&res);
		return r;
	}
	*ret = res;
	return 0;
}

void vmr_rm_result_free(struct vmr_rm_result *r)
{
	vmr_strvec_clear(&r->removed);
	vmr_strvec_clear(&r->kept);
}
