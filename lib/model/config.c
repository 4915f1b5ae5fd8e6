/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host configuration: /etc/vmrun/vmrun.conf via iniparser, then the environment. */
#include <iniparser.h>
#include <stdarg.h>
#include <stdio.h>

#include "lib/model/config.h"
#include "lib/base/caps.h"
#include "lib/base/spawn.h"
#include "lib/base/util.h"

/*
 * iniparser reports syntax errors through a process-wide callback that
 * prints to stderr by default.  Library code must not print, so the text
 * is kept here and becomes part of the returned error.
 */
static char ini_last_error[512];

static _printf_(1, 2) int ini_error_keep(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(ini_last_error, sizeof(ini_last_error), fmt, ap);
	va_end(ap);
	return r;
}

static void dictionary_freep(dictionary **d)
{
	if (*d)
		iniparser_freedict(*d);
}

/* "iniparser: syntax error in f (3):\n-> x" -> "syntax error in f (3): x" */
static char *ini_error_text(void)
{
	const char *s = ini_last_error;
	char *t, *p;

	if (startswith(s, "iniparser: "))
		s += strlen("iniparser: ");
	t = xstrdup(*s ? s : "cannot parse");
	for (p = t; *p; p++)
		if (*p == '\n')
			*p = ' ';
	while (p > t && p[-1] == ' ')
		*--p = '\0';
	return t;
}

static bool user_name_ok(const char *s)
{
	/* a user name as useradd accepts it, or a numeric uid */
	if (!*s || strlen(s) > 32)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      (*p == '-' && p != s) || (*p == '$' && !p[1])))
			return false;
	return true;
}

static char **config_field(struct vmr_config *c, const char *key)
{
	if (streq(key, "qemu"))
		return &c->qemu;
	if (streq(key, "state_dir"))
		return &c->state_dir;
	if (streq(key, "image_dir"))
		return &c->image_dir;
	if (streq(key, "sysfs_root"))
		return &c->sysfs_root;
	if (streq(key, "dev_root"))
		return &c->dev_root;
	if (streq(key, "qemu_user"))
		return &c->qemu_user;
	if (streq(key, "firmware_dir"))
		return &c->firmware_dir;
	if (streq(key, "swtpm"))
		return &c->swtpm;
	if (streq(key, "cgroup_root"))
		return &c->cgroup_root;
	return NULL;
}

/* The line of path where key is set in [vmrun] (iniparser keeps no line numbers); 0 if none. */
static unsigned config_key_line(const char *path, const char *key)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	unsigned n = 0, found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		const char *s = line + strspn(line, " \t");
		size_t klen = strlen(key);

		n++;
		if (strncmp(s, key, klen) == 0 && strchr(" \t=", s[klen]))
			found = n; /* iniparser keeps the last one */
	}
	fclose(f);
	return found;
}

/* Check and store one setting; src names where it came from, for messages. */
static int config_set(struct vmr_config *c, const char *src, const char *key, const char *value,
		      struct vmr_error **err)
{
	char **field;

	if (streq(key, "accel")) {
		if (streq(value, "auto"))
			c->accel = VMR_ACCEL_AUTO;
		else if (streq(value, "kvm"))
			c->accel = VMR_ACCEL_KVM;
		else if (streq(value, "tcg"))
			c->accel = VMR_ACCEL_TCG;
		else
			return vmr_error_usage(
			    err, "%s: invalid value '%s' for 'accel' (expected auto, kvm or tcg)",
			    src, value);
		return 0;
	}
	if (streq(key, "sandbox")) {
		if (streq(value, "true"))
			c->sandbox = true;
		else if (streq(value, "false"))
			c->sandbox = false;
		else
			return vmr_error_usage(
			    err, "%s: invalid value '%s' for 'sandbox' (expected true or false)",
			    src, value);
		return 0;
	}
	if (streq(key, "private_mounts") || streq(key, "cgroup")) {
		enum vmr_switch *sw = streq(key, "cgroup") ? &c->cgroup : &c->private_mounts;

		if (streq(value, "auto"))
			*sw = VMR_SWITCH_AUTO;
		else if (streq(value, "true"))
			*sw = VMR_SWITCH_TRUE;
		else if (streq(value, "false"))
			*sw = VMR_SWITCH_FALSE;
		else
			return vmr_error_usage(
			    err, "%s: invalid value '%s' for '%s' (expected auto, true or false)",
			    src, value, key);
		return 0;
	}
	field = config_field(c, key);
	if (!field)
		return vmr_error_usage(err, "%s: unknown key '%s' in [vmrun]", src, key);
	if (streq(key, "qemu_user")) {
		if (!*value) {
			/* empty used to mean root: refuse it rather than guess */
			unsigned line = c->path ? config_key_line(c->path, key) : 0;
			int r;

			if (line)
				r = vmr_error_usage(err, "%s:%u: empty value for 'qemu_user'",
						    c->path, line);
			else
				r = vmr_error_usage(err, "%s: empty value for 'qemu_user'", src);
			vmr_error_hint(err, "name a user, write 'qemu_user = root' to keep QEMU "
					    "root, or remove the line for the default (vmrun)");
			return r;
		}
		if (!user_name_ok(value))
			return vmr_error_usage(err, "%s: invalid value '%s' for 'qemu_user'", src,
					       value);
		free(*field);
		*field = xstrdup(value);
		c->qemu_user_set = true;
		return 0;
	}
	if (value[0] != '/')
		return vmr_error_usage(
		    err, "%s: invalid value '%s' for '%s' (expected an absolute path)", src, value,
		    key);
	free(*field);
	*field = xstrdup(value);
	return 0;
}

static int config_read(const char *path, struct vmr_config *c, struct vmr_error **err)
{
	_cleanup_(dictionary_freep) dictionary *d = NULL;
	_cleanup_free_ const char **keys = NULL;
	int nsec, nkeys;

	ini_last_error[0] = '\0';
	iniparser_set_error_callback(ini_error_keep);
	d = iniparser_load(path);
	iniparser_set_error_callback(NULL);
	if (!d) {
		_cleanup_free_ char *why = ini_error_text();

		return vmr_error_usage(err, "read config '%s': %s", path, why);
	}
	nsec = iniparser_getnsec(d);
	for (int i = 0; i < nsec; i++) {
		const char *sec = iniparser_getsecname(d, i);

		/* iniparser also lists a key outside any section as a section */
		if (!streq(sec, "vmrun"))
			return vmr_error_usage(
			    err, "config '%s': unknown section or key '%s' (expected [vmrun])",
			    path, sec);
	}
	nkeys = iniparser_getsecnkeys(d, "vmrun");
	if (nkeys <= 0)
		return 0;
	keys = xcalloc((size_t)nkeys, sizeof(*keys));
	if (!iniparser_getseckeys(d, "vmrun", keys))
		return 0;
	for (int i = 0; i < nkeys; i++) {
		const char *key = keys[i] + strlen("vmrun:");
		const char *value = iniparser_getstring(d, keys[i], "");
		_cleanup_free_ char *src = xasprintf("config '%s'", path);

		if (config_set(c, src, key, value, err) < 0)
			return -EINVAL;
	}
	return 0;
}

/*
 * qemu_user as the rest of vmrun reads it: NULL when QEMU keeps the
 * supervisor's uid -- an explicit `root`, or, by default, a process that
 * cannot change ids (an unprivileged user with user-mode networking) --
 * else the user.  The default is the system user "vmrun", or "nobody"
 * where it does not exist (the supervisor warns: qemu_user_fallback).
 */
static void config_qemu_user(struct vmr_config *c)
{
	if (c->qemu_user_set) {
		if (streq(c->qemu_user, "root")) {
			free(c->qemu_user);
			c->qemu_user = NULL;
		}
		return;
	}
	if (!vmr_caps_have(CAP_SETUID) || !vmr_caps_have(CAP_SETGID))
		return;
	if (vmr_user_exists(VMR_CONFIG_QEMU_USER)) {
		c->qemu_user = xstrdup(VMR_CONFIG_QEMU_USER);
	} else {
		c->qemu_user = xstrdup(VMR_CONFIG_QEMU_USER_FALLBACK);
		c->qemu_user_fallback = true;
	}
}

int vmr_config_load(const char *path, struct vmr_config *ret, struct vmr_error **err)
{
	static const struct {
		const char *env, *key;
	} envs[] = {
	    {"VMRUN_QEMU", "qemu"},
	    {"VMRUN_STATE_DIR", "state_dir"},
	    {"VMRUN_SYSFS_ROOT", "sysfs_root"},
	    {"VMRUN_DEV_ROOT", "dev_root"},
	    {"VMRUN_CGROUP_ROOT", "cgroup_root"},
	};
	struct vmr_config c = {
	    .qemu = xstrdup("/usr/bin/qemu-system-x86_64"),
	    .state_dir = xstrdup("/run/vmrun"),
	    .accel = VMR_ACCEL_AUTO,
	    .image_dir = xstrdup("/var/lib/vmrun/images"),
	    .sysfs_root = xstrdup("/sys"),
	    .dev_root = xstrdup("/dev"),
	    .sandbox = true,
	    .firmware_dir = xstrdup(VMR_CONFIG_FIRMWARE_DIR),
	    .swtpm = xstrdup(VMR_CONFIG_SWTPM),
	    .private_mounts = VMR_SWITCH_AUTO,
	    .cgroup = VMR_SWITCH_AUTO,
	    .cgroup_root = xstrdup(VMR_CONFIG_CGROUP_ROOT),
	};
	const char *file = path ? path : VMR_CONFIG_DEFAULT_PATH;

	if (access(file, F_OK) < 0) {
		if (errno != ENOENT || path) {
			int e = errno;

			vmr_config_free(&c);
			if (e == ENOENT)
				return vmr_error_usage(err, "config file '%s' does not exist",
						       file);
			return vmr_error_set(err, e, "read config '%s'", file);
		}
	} else {
		if (access(file, R_OK) < 0) {
			int e = errno;

			vmr_config_free(&c);
			return vmr_error_set(err, e, "read config '%s'", file);
		}
		c.path = xstrdup(file);
		if (config_read(file, &c, err) < 0) {
			vmr_config_free(&c);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(envs); i++) {
		const char *v = getenv(envs[i].env);
		_cleanup_free_ char *src = NULL;

		if (!v || !*v)
			continue;
		src = xasprintf("environment variable %s", envs[i].env);
		if (config_set(&c, src, envs[i].key, v, err) < 0) {
			vmr_config_free(&c);
			return -EINVAL;
		}
	}
	/* the debugging switch lib/sandbox.c honours too: it only ever disables */
	if (streq(getenv("VMRUN_NO_SANDBOX"), "1"))
		c.sandbox = false;
	config_qemu_user(&c);
	*ret = c;
	return 0;
}

void vmr_config_free(struct vmr_config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->qemu);
	free(c->state_dir);
	free(c->image_dir);
	free(c->qemu_user);
	free(c->sysfs_root);
	free(c->dev_root);
	free(c->firmware_dir);
	free(c->swtpm);
	free(c->cgroup_root);
	*c = (struct vmr_config){0};
}
