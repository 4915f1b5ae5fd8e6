/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a guest's host changes need, checked before the first one (lib/runtime/preflight.h). */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/base/fsutil.h"
#include "lib/base/util.h"
#include "lib/runtime/preflight.h"

/* What one device's host setup needs, given its grants (lib/plan/plan.h). */
static int require_grants(const struct vmr_config *cfg, const struct vmr_plan *p,
			  const struct vmr_plan_dev *pd, const struct vmr_grants *gr,
			  struct vmr_error **err)
{
	static const cap_value_t net_admin[] = {CAP_NET_ADMIN};
	const char *sysfs = cfg && cfg->sysfs_root && cfg->sysfs_root[0] ? cfg->sysfs_root : "/sys";
	const struct vmr_guest *g = p->guest;
	_cleanup_free_ char *what = NULL, *path = NULL;
	int r;

	if (gr->net_admin) {
		what = pd->nic ? xasprintf("creating the %s NIC '%s' of guest '%s'",
					   pd->dev->ops->name, pd->nic->name, g->name)
			       : xasprintf("the %s of guest '%s'", pd->dev->ops->name, g->name);
		r = vmr_caps_require(net_admin, ARRAY_SIZE(net_admin), what, err);
		if (r < 0)
			return r;
	}
	/* a device known before the start (a VF is chosen at setup) */
	if (gr->vfio && pd->hostdev) {
		free(what);
		what = xasprintf("binding '%s' (guest '%s'%s%s%s) to vfio-pci", pd->hostdev,
				 g->name, pd->nic ? " NIC '" : "", pd->nic ? pd->nic->name : "",
				 pd->nic ? "'" : "");
		path = xasprintf("%s/bus/pci/devices/%s/driver_override", sysfs, pd->hostdev);
		r = vmr_caps_require_writable(path, what, err);
		if (r < 0)
			return r;
		free(path);
		path = xasprintf("%s/bus/pci/drivers_probe", sysfs);
		return vmr_caps_require_writable(path, what, err);
	}
	return 0;
}

/* What one device's host setup needs: its own grants. */
static int require_device(const struct vmr_config *cfg, const struct vmr_plan *p,
			  const struct vmr_plan_dev *pd, struct vmr_error **err)
{
	struct vmr_grants gr = {0};
	int r;

	if (!pd->dev->ops || !pd->dev->ops->grants)
		return 0;
	pd->dev->ops->grants(p, pd, &gr);
	r = require_grants(cfg, p, pd, &gr, err);
	vmr_strvec_clear(&gr.dirs);
	vmr_strvec_clear(&gr.files);
	return r;
}

int vmr_caps_preflight(const struct vmr_config *cfg, const struct vmr_plan *p,
		       struct vmr_error **err)
{
	const struct vmr_guest *g = p->guest;
	int r;

	for (size_t i = 0; i < p->ndevs; i++) {
		r = require_device(cfg, p, &p->devs[i], err);
		if (r < 0)
			return r;
	}
	if (cfg && cfg->qemu_user) {
		static const cap_value_t ids[] = {CAP_SETUID, CAP_SETGID, CAP_KILL};
		static const cap_value_t nice[] = {CAP_SYS_NICE};
		_cleanup_free_ char *what = xasprintf("running QEMU as '%s'", cfg->qemu_user);

		r = vmr_caps_require(ids, ARRAY_SIZE(ids), what, err);
		if (r < 0)
			return r;
		if (g->has_cpuset || p->emulator_cpus || p->iothread_cpus) {
			free(what);
			what = xasprintf("placing the threads of guest '%s' when QEMU runs as '%s'",
					 g->name, cfg->qemu_user);
			r = vmr_caps_require(nice, ARRAY_SIZE(nice), what, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* "owner root" or "owner 1000", "group kvm" */
static char *id_name(bool group, unsigned id)
{
	if (group) {
		struct group *gr = getgrgid((gid_t)id);

		return gr ? xasprintf("group %s", gr->gr_name) : xasprintf("group %u", id);
	}
	struct passwd *pw = getpwuid((uid_t)id);

	return pw ? xasprintf("owner %s", pw->pw_name) : xasprintf("owner %u", id);
}

static int check_one(const struct vmr_plan *p, const char *user_name,
		     const struct vmr_spawn_user *u, const char *path, int want,
		     struct vmr_error **err)
{
	const struct vmr_path_user pu = {
	    .uid = u->uid, .gid = u->gid, .groups = u->groups, .ngroups = u->ngroups};
	_cleanup_free_ char *where = NULL, *owner = NULL, *group = NULL;
	const char *verb = want & X_OK ? "run" : want & W_OK ? "write" : "read";
	struct stat st;
	int r;

	if (!path || path[0] != '/')
		return 0;
	r = vmr_path_access(path, &pu, want, &where, &st);
	if (r != -EACCES)
		return 0; /* reachable, or missing: named by the checks that need it */
	owner = id_name(false, st.st_uid);
	group = id_name(true, st.st_gid);
	if (streq(where, path))
		r = vmr_error_usage(
		    err,
		    "guest '%s': QEMU runs as user '%s' (uid %u) and cannot %s '%s': "
		    "it is mode %04o %s %s",
		    p->guest->name, user_name, (unsigned)u->uid, verb, path,
		    (unsigned)(st.st_mode & 07777), owner, group);
	else
		r = vmr_error_usage(
		    err,
		    "guest '%s': QEMU runs as user '%s' (uid %u) and cannot %s '%s': "
		    "directory '%s' is mode %04o %s",
		    p->guest->name, user_name, (unsigned)u->uid, verb, path, where,
		    (unsigned)(st.st_mode & 07777), owner);
	vmr_error_hint(err,
		       "let the user %s it (chmod, or move the file), or set qemu_user = root "
		       "in vmrun.conf (docs/security.md)",
		       verb);
	return r;
}

/* A file QEMU opens by name and what it does with it. */
struct named_file {
	char *path;
	int want; /* R_OK, W_OK, X_OK */
};

int vmr_qemu_files_preflight(const struct vmr_plan *p, const char *user_name,
			     const struct vmr_spawn_user *u, struct vmr_error **err)
{
	const struct vmr_guest *g = p->guest;
	_cleanup_free_ struct named_file *f = xcalloc(4 + 2 * g->ndisks + p->ndevs, sizeof(*f));
	size_t n = 0;
	int r = 0;

	f[n++] = (struct named_file){xstrdup(p->qemu), X_OK};
	if (g->kernel)
		f[n++] = (struct named_file){vmr_plan_path(p, g->kernel), R_OK};
	if (g->initrd)
		f[n++] = (struct named_file){vmr_plan_path(p, g->initrd), R_OK};
	if (g->image)
		f[n++] = (struct named_file){vmr_plan_path(p, g->image), R_OK};
	for (size_t i = 0; i < g->ndisks; i++) {
		const struct vmr_disk *d = &g->disks[i];
		_cleanup_free_ char *file = vmr_plan_path(p, d->file);

		/* QEMU opens an overlay's base by the name in its header, read-only */
		if (d->backing)
			f[n++] = (struct named_file){vmr_plan_path(p, d->backing), R_OK};
		if (!vmr_plan_file_find(p, file))
			f[n++] = (struct named_file){TAKE_PTR(file),
						     d->cdrom || d->readonly ? R_OK : R_OK | W_OK};
	}
	for (size_t i = 0; i < p->ndevs; i++)
		if (p->devs[i].reads)
			f[n++] = (struct named_file){xstrdup(p->devs[i].reads), R_OK};
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = check_one(p, user_name, u, f[i].path, f[i].want, err);
		free(f[i].path);
	}
	return r;
}
