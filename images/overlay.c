/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qcow2 overlays on a base image, made and checked with qemu-img. */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "images/images.h"
#include "images/internal.h"
#include "lib/base/util.h"

/* Formats qemu-img may find a base (or an import source) in. */
static const char *const base_formats[] = {"qcow2", "raw", "vmdk", "vdi", "vpc", "qed"};

static bool base_format_ok(const char *fmt)
{
	for (size_t i = 0; i < ARRAY_SIZE(base_formats); i++)
		if (streq(fmt, base_formats[i]))
			return true;
	return false;
}

int vmr_image_qemu_img(const struct vmr_config *cfg, char **ret, struct vmr_error **err)
{
	const char *env = getenv("VMRUN_QEMU_IMG");

	if (env && *env) {
		if (access(env, X_OK) < 0)
			return vmr_error_set(err, errno, "qemu-img '%s' (VMRUN_QEMU_IMG)", env);
		*ret = xstrdup(env);
		return 0;
	}
	/* the qemu-img of the same installation as the configured QEMU */
	if (cfg && cfg->qemu && strchr(cfg->qemu, '/')) {
		const char *slash = strrchr(cfg->qemu, '/');
		_cleanup_free_ char *p =
		    xasprintf("%.*s/qemu-img", (int)(slash - cfg->qemu), cfg->qemu);

		if (access(p, X_OK) == 0) {
			*ret = TAKE_PTR(p);
			return 0;
		}
	}
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *dir = copy, *next; dir; dir = next) {
		next = strchr(dir, ':');
		if (next)
			*next++ = '\0';
		if (*dir != '/')
			continue; /* a relative PATH entry would depend on the cwd */
		_cleanup_free_ char *p = xasprintf("%s/qemu-img", dir);
		if (access(p, X_OK) == 0) {
			*ret = TAKE_PTR(p);
			return 0;
		}
	}
	vmr_error_set(err, ENOENT, "find 'qemu-img'");
	vmr_error_hint(err, "install qemu-utils or set VMRUN_QEMU_IMG");
	return -ENOENT;
}

void vmr_image_info_free(struct vmr_image_info *i)
{
	if (!i)
		return;
	free(i->format);
	free(i->backing);
	free(i->backing_format);
	*i = (struct vmr_image_info){0};
}

int vmr_image_info_parse(const char *json, const char *path, struct vmr_image_info *ret,
			 struct vmr_error **err)
{
	json_error_t jerr;
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	struct vmr_image_info i = {0};
	json_t *v;

	if (!root)
		return vmr_error_set(err, EPROTO, "probe '%s': qemu-img info: %s", path, jerr.text);
	if (!json_is_object(root))
		goto bad;
	v = json_object_get(root, "format");
	if (!json_is_string(v))
		goto bad;
	i.format = xstrdup(json_string_value(v));
	v = json_object_get(root, "virtual-size");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		goto bad;
	i.virtual_size = (uint64_t)json_integer_value(v);
	v = json_object_get(root, "actual-size");
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		i.actual_size = (uint64_t)json_integer_value(v);
	v = json_object_get(root, "backing-filename");
	if (json_is_string(v))
		i.backing = xstrdup(json_string_value(v));
	v = json_object_get(root, "backing-filename-format");
	if (json_is_string(v))
		i.backing_format = xstrdup(json_string_value(v));
	json_decref(root);
	*ret = i;
	return 0;
bad:
	json_decref(root);
	vmr_image_info_free(&i);
	return vmr_error_set(err, EPROTO, "probe '%s': unexpected qemu-img info output", path);
}

int vmr_image_info_get(const char *qemu_img, const char *path, struct vmr_image_info *ret,
		       struct vmr_error **err)
{
	char *argv[] = {(char *)qemu_img, "info", "--output=json", "-U", "--", (char *)path, NULL};
	struct vmr_buf out = VMR_BUF_INIT;
	struct images_run r = {.argv = argv, .out = &out};
	int rc;

	rc = images_run(&r, NULL, err);
	if (rc >= 0)
		rc = vmr_image_info_parse(vmr_buf_str(&out), path, ret, err);
	vmr_buf_free(&out);
	return rc;
}

/* The recorded backing name of an overlay, resolved as QEMU resolves it. */
static char *backing_resolved(const char *overlay, const char *backing)
{
	const char *slash = strrchr(overlay, '/');
	_cleanup_free_ char *dir =
	    slash ? xstrndup(overlay, (size_t)(slash - overlay)) : xstrdup(".");
	_cleanup_free_ char *joined = images_path_join(slash == overlay ? "/" : dir, backing);
	char *real = realpath(joined, NULL);

	return real ? real : TAKE_PTR(joined);
}

int images_size_text(uint64_t n, char buf[static 32])
{
	static const char units[] = "KMGTPE";
	int u = -1;

	while (n >= 1024 && n % 1024 == 0 && u < 5) {
		n /= 1024;
		u++;
	}
	if (u < 0)
		return snprintf(buf, 32, "%llu", (unsigned long long)n);
	return snprintf(buf, 32, "%llu%c", (unsigned long long)n, units[u]);
}

/* Keep an image of the wanted size, grow a smaller one, refuse to shrink. */
static int plan_size(struct images_overlay *o, struct vmr_error **err)
{
	char want[32], have[32];

	if (o->size == 0 || o->cur_size == o->size) {
		o->action = IMAGES_OVERLAY_KEEP;
		return 0;
	}
	if (o->cur_size > o->size) {
		images_size_text(o->size, want);
		images_size_text(o->cur_size, have);
		return vmr_error_usage(err,
				       "image '%s' is %s, larger than size %s: shrinking "
				       "would lose data",
				       o->file, have, want);
	}
	o->action = IMAGES_OVERLAY_GROW;
	return 0;
}

/* How an overlay is brought in line (images_overlay_plan). */
static int overlay_plan_existing(const char *qemu_img, struct images_overlay *o,
				 struct vmr_error **err)
{
	struct vmr_image_info cur = {0};
	int r;

	if (vmr_image_info_get(qemu_img, o->file, &cur, err) < 0)
		return vmr_error_wrap(err, "overlay '%s'", o->file);
	if (!streq(cur.format, "qcow2") || !cur.backing) {
		vmr_image_info_free(&cur);
		r = vmr_error_usage(err, "overlay '%s' exists and is not a qcow2 overlay", o->file);
		vmr_error_hint(err, "move it away to have it created on '%s'", o->base);
		return r;
	}
	_cleanup_free_ char *cur_base = backing_resolved(o->file, cur.backing);
	if (!streq(cur_base, o->base)) {
		r = vmr_error_usage(err, "overlay '%s' exists on base '%s', not '%s'", o->file,
				    cur.backing, o->base);
		vmr_error_hint(err, "remove it (its data is lost) to have it created again");
		vmr_image_info_free(&cur);
		return r;
	}
	o->rebase = cur.backing[0] != '/';
	o->cur_size = cur.virtual_size;
	vmr_image_info_free(&cur);
	return plan_size(o, err);
}

static int blank_plan_existing(const char *qemu_img, struct images_overlay *o,
			       struct vmr_error **err)
{
	struct vmr_image_info cur = {0};
	int r;

	if (vmr_image_info_get(qemu_img, o->file, &cur, err) < 0)
		return vmr_error_wrap(err, "image '%s'", o->file);
	if (!streq(cur.format, o->format)) {
		r = vmr_error_usage(err, "image '%s' is %s, not %s", o->file, cur.format,
				    o->format);
		vmr_image_info_free(&cur);
		return r;
	}
	o->cur_size = cur.virtual_size;
	vmr_image_info_free(&cur);
	return plan_size(o, err);
}

int images_blank_plan(const char *qemu_img, const char *file, const char *format, uint64_t size,
		      struct images_overlay *ret, struct vmr_error **err)
{
	struct images_overlay o = {.size = size, .file = xstrdup(file), .format = xstrdup(format)};
	struct stat st;
	int r;

	if (lstat(file, &st) == 0) {
		r = blank_plan_existing(qemu_img, &o, err);
		if (r < 0) {
			images_overlay_free(&o);
			return r;
		}
	} else if (errno == ENOENT) {
		o.action = IMAGES_OVERLAY_CREATE;
	} else {
		r = vmr_error_set(err, errno, "image '%s'", file);
		images_overlay_free(&o);
		return r;
	}
	*ret = o;
	return 0;
}

int images_overlay_plan(const char *qemu_img, const char *file, const char *backing, uint64_t size,
			struct images_overlay *ret, struct vmr_error **err)
{
	struct images_overlay o = {.size = size};
	struct vmr_image_info base = {0};
	struct stat st;
	int r;

	o.base = realpath(backing, NULL);
	if (!o.base)
		return errno == ENOENT
			   ? vmr_error_usage(err, "base image '%s': %s", backing, strerror(ENOENT))
			   : vmr_error_set(err, errno, "base image '%s'", backing);
	o.file = xstrdup(file);
	if (stat(o.base, &st) < 0) {
		r = vmr_error_set(err, errno, "base image '%s'", backing);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		r = vmr_error_usage(err, "base image '%s' is not a file", backing);
		goto fail;
	}
	if (vmr_image_info_get(qemu_img, o.base, &base, err) < 0) {
		r = vmr_error_wrap(err, "base image '%s'", backing);
		goto fail;
	}
	if (!base_format_ok(base.format)) {
		r = vmr_error_usage(err, "base image '%s': unsupported format '%s'", backing,
				    base.format);
		vmr_error_hint(err, "supported: qcow2, raw, vmdk, vdi, vpc, qed");
		goto fail;
	}
	if (size && size < base.virtual_size) {
		char want[32], have[32];

		images_size_text(size, want);
		images_size_text(base.virtual_size, have);
		r = vmr_error_usage(err, "overlay '%s': size %s is smaller than its base '%s' (%s)",
				    file, want, backing, have);
		goto fail;
	}
	o.format = TAKE_PTR(base.format);
	vmr_image_info_free(&base);

	if (lstat(file, &st) == 0) {
		r = overlay_plan_existing(qemu_img, &o, err);
		if (r < 0)
			goto fail;
	} else if (errno == ENOENT) {
		o.action = IMAGES_OVERLAY_CREATE;
	} else {
		r = vmr_error_set(err, errno, "overlay '%s'", file);
		goto fail;
	}
	*ret = o;
	return 0;
fail:
	vmr_image_info_free(&base);
	images_overlay_free(&o);
	return r;
}

int images_overlay_apply(const char *qemu_img, const struct images_overlay *o,
			 struct vmr_error **err)
{
	char sz[32], have[32];
	int r;

	if (o->rebase) {
		char *argv[] = {(char *)qemu_img, "rebase", "-q",    "-u", "-f",    "qcow2", "-F",
				o->format,	  "-b",	    o->base, "--", o->file, NULL};
		struct images_run run = {.argv = argv};

		if (images_run(&run, NULL, err) < 0)
			return vmr_error_wrap(
			    err, "record base '%s' of overlay '%s' by its absolute name", o->base,
			    o->file);
	}
	if (o->action == IMAGES_OVERLAY_KEEP)
		return 0;
	images_size_text(o->size, sz);
	/* an overlay is qcow2; a blank image has the format it was planned with */
	const char *fmt = o->base ? "qcow2" : o->format;
	const char *what = o->base ? "overlay" : "image";
	if (o->action == IMAGES_OVERLAY_GROW) {
		char *argv[] = {(char *)qemu_img, "resize", "-q", "-f", (char *)fmt, "--",
				o->file,	  sz,	    NULL};
		struct images_run run = {.argv = argv};

		images_size_text(o->cur_size, have);
		if (images_run(&run, NULL, err) < 0)
			return vmr_error_wrap(err, "grow %s '%s' from %s to %s", what, o->file,
					      have, sz);
		return 0;
	}

	_cleanup_free_ char *tmp = NULL;
	if (images_tmp_create(o->file, &tmp, err) < 0)
		return vmr_error_wrap(err, "create %s '%s'", what, o->file);
	struct vmr_strvec argv = VMR_STRVEC_INIT;
	if (o->base)
		vmr_strvec_pushv(&argv, (const char *const[]){qemu_img, "create", "-q", "-f",
							      "qcow2", "-F", o->format, "-b",
							      o->base, "--", tmp, NULL});
	else
		vmr_strvec_pushv(&argv, (const char *const[]){qemu_img, "create", "-q", "-f",
							      o->format, "--", tmp, NULL});
	if (o->size)
		vmr_strvec_push(&argv, sz);
	struct images_run run = {.argv = argv.v};
	r = images_run(&run, NULL, err);
	vmr_strvec_clear(&argv);
	/* never replace a file that appeared meanwhile: it may hold data */
	if (r >= 0)
		r = images_tmp_commit(tmp, o->file, true, err);
	if (r < 0) {
		unlink(tmp);
		if (!o->base)
			return vmr_error_wrap(err, "create image '%s'", o->file);
		return vmr_error_wrap(err, "create overlay '%s' on '%s'", o->file, o->base);
	}
	return 0;
}

void images_overlay_free(struct images_overlay *o)
{
	if (!o)
		return;
	free(o->file);
	free(o->base);
	free(o->format);
	*o = (struct images_overlay){0};
}

int vmr_image_overlay(const char *qemu_img, const char *file, const char *backing, uint64_t size,
		      bool *ret_written, struct vmr_error **err)
{
	struct images_overlay o;
	int r;

	if (ret_written)
		*ret_written = false;
	r = images_overlay_plan(qemu_img, file, backing, size, &o, err);
	if (r < 0)
		return r;
	r = images_overlay_apply(qemu_img, &o, err);
	if (r >= 0 && ret_written)
		*ret_written = o.action != IMAGES_OVERLAY_KEEP || o.rebase;
	images_overlay_free(&o);
	return r;
}
