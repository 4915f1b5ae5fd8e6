/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmr_image_prepare(): everything a guest's disks and seed need before its
 * argv is built.  Two passes: first every input is checked and the seed is
 * built in memory (nothing written), then overlays and the seed are
 * written, so invalid input leaves the host as it was.
 */
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>

#include "images/images.h"
#include "images/internal.h"
#include "lib/base/fsutil.h"
#include "lib/base/util.h"
#include "lib/plan/plan.h"

#define PUBKEY_MAX_BYTES (64u * 1024u)

/* Home of the user who invoked vmrun: under sudo, the sudo user's. */
static char *invoking_home(void)
{
	const char *sudo_user = getenv("SUDO_USER");
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (getuid() == 0 && sudo_user && *sudo_user && (pw = getpwnam(sudo_user)) && pw->pw_dir)
		return xstrdup(pw->pw_dir);
	if (home && *home == '/')
		return xstrdup(home);
	pw = getpwuid(getuid());
	return pw && pw->pw_dir ? xstrdup(pw->pw_dir) : NULL;
}

int vmr_image_user_keys(struct vmr_strvec *ret, struct vmr_error **err)
{
	_cleanup_free_ char *home = invoking_home();
	glob_t gl = {0};
	int r;

	if (!home)
		return 0;
	_cleanup_free_ char *pattern = xasprintf("%s/.ssh/*.pub", home);
	r = glob(pattern, 0, NULL, &gl); /* sorted by name */
	if (r == GLOB_NOMATCH)
		return 0;
	if (r != 0)
		return vmr_error_set(err, r == GLOB_NOSPACE ? ENOMEM : EIO, "list '%s'", pattern);
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		_cleanup_free_ char *text = NULL;

		r = read_file(gl.gl_pathv[i], PUBKEY_MAX_BYTES, &text, NULL);
		if (r < 0) {
			vmr_error_set(err, -r, "read ssh key '%s'", gl.gl_pathv[i]);
			globfree(&gl);
			return r;
		}
		for (char *line = text, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			line += strspn(line, " \t");
			size_t n = strlen(line);
			while (n > 0 &&
			       (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
				line[--n] = '\0';
			if (n > 0 && line[0] != '#')
				vmr_strvec_push(ret, line);
		}
	}
	globfree(&gl);
	return 0;
}

/* Directory of the topology file, canonical, where relative paths resolve. */
static int topo_dir(const struct vmr_topology *t, char **ret, struct vmr_error **err)
{
	_cleanup_free_ char *dir = NULL;
	const char *slash = t->file ? strrchr(t->file, '/') : NULL;

	if (!t->file || !slash)
		dir = xstrdup(".");
	else if (slash == t->file)
		dir = xstrdup("/");
	else
		dir = xstrndup(t->file, (size_t)(slash - t->file));
	*ret = realpath(dir, NULL);
	if (!*ret)
		return vmr_error_set(err, errno, "directory of topology '%s'",
				     t->file ? t->file : ".");
	return 0;
}

struct prep {
	const struct vmr_guest *g;
	char *root;	 /* the `image:` overlay, or NULL */
	char *state_dir; /* where the seed goes */
	char *qemu_img;
	struct images_overlay *ov;
	size_t nov, aov;
	bool seed;
	struct vmr_seed s;
	char *seed_path;
};

static void prep_free(struct prep *p)
{
	free(p->qemu_img);
	for (size_t i = 0; i < p->nov; i++)
		images_overlay_free(&p->ov[i]);
	free(p->ov);
	vmr_seed_free(&p->s);
	free(p->seed_path);
	free(p->root);
	free(p->state_dir);
}

static int plan_overlay(struct prep *p, const struct vmr_config *cfg, const char *file,
			const char *base, uint64_t size, struct vmr_error **err)
{
	if (!p->qemu_img && vmr_image_qemu_img(cfg, &p->qemu_img, err) < 0)
		return -1;
	XGROW(p->ov, p->aov, p->nov + 1);
	if (images_overlay_plan(p->qemu_img, file, base, size, &p->ov[p->nov], err) < 0)
		return -1;
	p->nov++;
	return 0;
}

static int plan_blank(struct prep *p, const struct vmr_config *cfg, const char *file,
		      const char *format, uint64_t size, struct vmr_error **err)
{
	if (!p->qemu_img && vmr_image_qemu_img(cfg, &p->qemu_img, err) < 0)
		return -1;
	XGROW(p->ov, p->aov, p->nov + 1);
	if (images_blank_plan(p->qemu_img, file, format, size, &p->ov[p->nov], err) < 0)
		return -1;
	p->nov++;
	return 0;
}

static int plan_seed(struct prep *p, const struct vmr_guest *g, const char *dir,
		     const char *state_dir, struct vmr_error **err)
{
	struct vmr_strvec keys = VMR_STRVEC_INIT;
	_cleanup_free_ char *ud_path = NULL, *ud = NULL;
	struct vmr_seed_input in = {0};
	int r;

	if (g->cloud_init.user_data) {
		ud_path = images_path_join(dir, g->cloud_init.user_data);
		r = read_file(ud_path, VMR_USER_DATA_MAX_BYTES, &ud, NULL);
		if (r == -EFBIG)
			return vmr_error_usage(err,
					       "user_data '%s' of guest '%s': larger than %u KiB",
					       ud_path, g->name, VMR_USER_DATA_MAX_BYTES / 1024);
		if (r < 0)
			return vmr_error_usage(err, "user_data '%s' of guest '%s': %s", ud_path,
					       g->name, strerror(-r));
		in.user_data = ud;
		in.user_data_path = ud_path;
	}
	if (!g->cloud_init.ssh_keys_given && vmr_image_user_keys(&keys, err) < 0)
		return -1;
	in.keys = &keys;
	r = vmr_seed_build(g, &in, &p->s, err);
	vmr_strvec_clear(&keys);
	if (r < 0)
		return r;
	p->seed = true;
	p->seed_path = xasprintf("%s/%s", state_dir, VMR_PLAN_SEED_FILE);
	return 0;
}

/* Pass 1 for one guest: check everything and build the seed; write nothing. */
static int prep_plan(struct prep *p, const struct vmr_config *cfg, const struct vmr_topology *t,
		     const struct vmr_guest *g, const char *guest_state_dir, struct vmr_error **err)
{
	_cleanup_free_ char *dir = NULL, *state = NULL;

	p->g = g;
	if (topo_dir(t, &dir, err) < 0)
		return -1;
	state = guest_state_dir
		    ? xstrdup(guest_state_dir)
		    : xasprintf("%s/%s", cfg->state_dir ? cfg->state_dir : "/run/vmrun", g->name);
	p->root = vmr_plan_root_disk(cfg, g);
	if (p->root) {
		_cleanup_free_ char *base = images_path_join(dir, g->image);

		if (plan_overlay(p, cfg, p->root, base, 0, err) < 0)
			return vmr_error_wrap(err, "image of guest '%s'", g->name);
	}
	for (size_t i = 0; i < g->ndisks; i++) {
		const struct vmr_disk *d = &g->disks[i];

		if (d->cdrom)
			continue;
		if (!d->backing) {
			/* size: without backing is a blank image, made when missing */
			if (!d->size)
				continue;
			_cleanup_free_ char *file = images_path_join(dir, d->file);
			const char *fmt =
			    vmr_disk_effective_format(d) == VMR_FORMAT_QCOW2 ? "qcow2" : "raw";
			if (plan_blank(p, cfg, file, fmt, d->size, err) < 0)
				return vmr_error_wrap(err, "disk '%s' of guest '%s'", d->file,
						      g->name);
			continue;
		}
		if (vmr_disk_effective_format(d) != VMR_FORMAT_QCOW2)
			return vmr_error_usage(err,
					       "disk '%s' of guest '%s': an overlay on a base is "
					       "qcow2, not raw",
					       d->file, g->name);
		_cleanup_free_ char *file = images_path_join(dir, d->file);
		_cleanup_free_ char *base = images_path_join(dir, d->backing);
		if (plan_overlay(p, cfg, file, base, d->size, err) < 0)
			return vmr_error_wrap(err, "disk '%s' of guest '%s'", d->file, g->name);
	}
	if (g->cloud_init.enabled) {
		p->state_dir = TAKE_PTR(state);
		if (plan_seed(p, g, dir, p->state_dir, err) < 0)
			return -1;
	}
	return 0;
}

/* Whether *err says a directory is not ours to write (owner, mode, read-only mount). */
static bool error_not_writable(struct vmr_error **err)
{
	int e = err && *err ? (*err)->errnum : 0;

	return e == EACCES || e == EPERM || e == EROFS;
}

/*
 * The root overlay goes under image_dir, /var/lib/vmrun/images unless
 * configured, which only root may write: say where to choose another.
 */
static void hint_image_dir(struct vmr_error **err)
{
	if (error_not_writable(err))
		vmr_error_hint(err, "set image_dir in vmrun.conf (--config FILE) to a directory "
				    "this user can write (docs/configuration.md)");
}

/* Pass 2 for one guest: write what pass 1 found missing or stale. */
static int prep_apply(struct prep *p, struct vmr_strvec *written, struct vmr_error **err)
{
	if (p->root) {
		_cleanup_free_ char *rootdir =
		    xstrndup(p->root, (size_t)(strrchr(p->root, '/') - p->root));

		int r = vmr_mkdir_p(rootdir, 0755);

		if (r < 0) {
			r = vmr_error_set(err, -r, "image of guest '%s': create directory '%s'",
					  p->g->name, rootdir);
			hint_image_dir(err);
			return r;
		}
	}
	for (size_t i = 0; i < p->nov; i++) {
		if (images_overlay_apply(p->qemu_img, &p->ov[i], err) < 0) {
			if (streq(p->ov[i].file, p->root))
				hint_image_dir(err);
			return -1;
		}
		if (written && (p->ov[i].action != IMAGES_OVERLAY_KEEP || p->ov[i].rebase))
			vmr_strvec_push(written, p->ov[i].file);
	}
	if (p->seed) {
		bool w = false;

		int r = vmr_mkdir_p(p->state_dir, 0700);

		if (r < 0) {
			r = vmr_error_set(err, -r,
					  "cloud-init seed of guest '%s': create directory '%s'",
					  p->g->name, p->state_dir);
			if (error_not_writable(err))
				vmr_error_hint(err, "choose a state directory this user can write: "
						    "--state-dir DIR or VMRUN_STATE_DIR");
			return r;
		}
		if (vmr_seed_iso_write(&p->s, p->seed_path, &w, err) < 0)
			return vmr_error_wrap(err, "cloud-init seed of guest '%s'", p->g->name);
		if (written && w)
			vmr_strvec_push(written, p->seed_path);
	}
	return 0;
}

int vmr_image_prepare_guests(const struct vmr_config *cfg, const struct vmr_topology *t,
			     const struct vmr_guest *const *guests, size_t n,
			     struct vmr_strvec *written, struct vmr_error **err)
{
	struct prep *p = xcalloc(n ? n : 1, sizeof(*p));
	int r = 0;

	for (size_t i = 0; i < n && r >= 0; i++)
		r = prep_plan(&p[i], cfg, t, guests[i], NULL, err);
	for (size_t i = 0; i < n && r >= 0; i++)
		r = prep_apply(&p[i], written, err);
	for (size_t i = 0; i < n; i++)
		prep_free(&p[i]);
	free(p);
	return r < 0 ? -1 : 0;
}

int vmr_image_prepare_list(const struct vmr_config *cfg, const struct vmr_topology *t,
			   const struct vmr_guest *g, const char *guest_state_dir,
			   char **ret_seed_iso, struct vmr_strvec *written, struct vmr_error **err)
{
	struct prep p = {0};
	int r;

	r = prep_plan(&p, cfg, t, g, guest_state_dir, err);
	if (r >= 0)
		r = prep_apply(&p, written, err);
	if (r >= 0 && ret_seed_iso)
		*ret_seed_iso = p.seed ? TAKE_PTR(p.seed_path) : NULL;
	prep_free(&p);
	return r < 0 ? -1 : 0;
}

int vmr_image_prepare(const struct vmr_config *cfg, const struct vmr_topology *t,
		      const struct vmr_guest *g, const char *guest_state_dir, char **ret_seed_iso,
		      struct vmr_error **err)
{
	return vmr_image_prepare_list(cfg, t, g, guest_state_dir, ret_seed_iso, NULL, err);
}
