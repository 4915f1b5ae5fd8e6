/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `firmware: bios|uefi` and `secure_boot: true`: SeaBIOS (QEMU's default,
 * nothing to add) or OVMF from Debian's ovmf.  UEFI takes OVMF's code
 * read-only and a copy of its variable store template that belongs to the
 * guest: IMAGE_DIR/GUEST/uefi-vars.fd, made on the first start and kept
 * across runs like the root overlay (the state directory is a tmpfs).
 * Secure boot takes the SMM build of the code, the template with
 * Microsoft's and Debian's keys enrolled (uefi-vars-secboot.fd, so turning
 * it on or off never reuses the other store), SMM on the machine and
 * flash writes only from SMM.
 *
 * Two guest keys, one device kind each, both here: secure_boot is a
 * variant of the firmware and only exists with `firmware: uefi`.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "lib/base/fsutil.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

#define CODE "OVMF_CODE_4M.fd"
#define CODE_SECBOOT "OVMF_CODE_4M.secboot.fd"
#define VARS_TEMPLATE "OVMF_VARS_4M.fd"		   /* no keys: secure boot off */
#define VARS_TEMPLATE_SECBOOT "OVMF_VARS_4M.ms.fd" /* Microsoft + Debian keys, enforcing */
#define VARS "uefi-vars.fd"
#define VARS_SECBOOT "uefi-vars-secboot.fd"

/* what `vmrun rm` removes: both stores, whichever a guest once had */
static const char *const fw_kept[] = {VARS, VARS_SECBOOT, NULL};

enum { FW_BIOS, FW_UEFI };
static const char *const firmware_names[] = {"bios", "uefi", NULL};

struct firmware {
	unsigned type;
};

extern const struct vmr_device_ops vmr_device_firmware, vmr_device_secure_boot;

/* the value is a key of its own in the JSON: the guest sees which firmware it has */
static const struct vmr_key firmware_keys[] = {
    {.name = "firmware",
     .type = VMR_KEY_ENUM,
     .off = offsetof(struct firmware, type),
     .flags = VMR_KEY_HW,
     .names = firmware_names},
    VMR_KEYS_END,
};

static bool firmware_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	struct firmware *f = conf;

	return vmr_key_enum(c, n, "firmware", firmware_names, ARRAY_SIZE(firmware_names) - 1,
			    &f->type);
}

static json_t *firmware_json(const void *conf)
{
	return json_string(firmware_names[((const struct firmware *)conf)->type]);
}

static void firmware_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	const struct firmware *f = VMR_DEVICE_CONF(d, struct firmware);

	/* OVMF's flash is on the PC machines only (pc, q35 and their versions) */
	if (f->type == FW_UEFI && vmr_argv_machine_ide(c->guest->machine) == VMR_IDE_NONE)
		VMR_KEY_ERR(c->kc, d->pos, "use machine q35 (the default) or pc",
			    "%s: firmware 'uefi' needs a pc or q35 machine, not '%s'", c->kc->ctx,
			    c->guest->machine);
}

static const struct vmr_device *guest_device(const struct vmr_guest *g,
					     const struct vmr_device_ops *ops)
{
	for (size_t i = 0; i < g->ndevices; i++)
		if (g->devices[i].ops == ops)
			return &g->devices[i];
	return NULL;
}

static bool uefi(const struct vmr_guest *g)
{
	const struct vmr_device *d = guest_device(g, &vmr_device_firmware);

	return d && VMR_DEVICE_CONF(d, struct firmware)->type == FW_UEFI;
}

static void secure_boot_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	const struct vmr_guest *g = c->guest;

	/* firmware comes first in the registry: it is loaded when this runs */
	if (!uefi(g))
		VMR_KEY_ERR(c->kc, d->pos, "add 'firmware: uefi'",
			    "%s: 'secure_boot' needs 'firmware: uefi'", c->kc->ctx);
	if (vmr_argv_machine_ide(g->machine) != VMR_IDE_AHCI)
		VMR_KEY_ERR(c->kc, d->pos, NULL,
			    "%s: 'secure_boot' needs a q35 machine (OVMF's secure boot build "
			    "runs in SMM), not '%s'",
			    c->kc->ctx, g->machine);
	if (g->kernel)
		VMR_KEY_ERR(c->kc, d->pos,
			    "boot a disk whose ESP holds a signed boot loader (shim and GRUB)",
			    "%s: 'secure_boot' with 'kernel': OVMF starts a kernel QEMU loads "
			    "without checking its signature",
			    c->kc->ctx);
}

static bool secure_boot(const struct vmr_plan *p)
{
	return guest_device(p->guest, &vmr_device_secure_boot) != NULL;
}

/* The firmware's files on this host and the guest's variable store (caller frees). */
static void fw_paths(const struct vmr_plan *p, char **ret_code, char **ret_template,
		     char **ret_vars)
{
	bool sb = secure_boot(p);

	*ret_code = xasprintf("%s/%s", p->firmware_dir, sb ? CODE_SECBOOT : CODE);
	if (ret_template)
		*ret_template =
		    xasprintf("%s/%s", p->firmware_dir, sb ? VARS_TEMPLATE_SECBOOT : VARS_TEMPLATE);
	*ret_vars = xasprintf("%s/%s", p->guest_dir, sb ? VARS_SECBOOT : VARS);
}

/* The guest's variable store is vmrun's: QEMU gets it as an fd; the code it opens by name. */
static void firmware_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	if (VMR_DEVICE_CONF(pd->dev, struct firmware)->type != FW_UEFI)
		return;
	fw_paths(p, &pd->reads, NULL, &pd->fd_file);
	pd->fd_file_label = xstrdup("fw-vars");
	pd->fd_file_writable = true;
}

static void firmware_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
			    struct vmr_grants *g)
{
	if (VMR_DEVICE_CONF(pd->dev, struct firmware)->type == FW_UEFI)
		g->guest_dir = true;
}

static int firmware_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
			 struct vmr_argv *b, struct vmr_error **err)
{
	_cleanup_free_ char *code = NULL, *vars = NULL;
	bool sb = secure_boot(p);

	if (VMR_DEVICE_CONF(pd->dev, struct firmware)->type != FW_UEFI)
		return 0; /* SeaBIOS is QEMU's own default */
	fw_paths(p, &code, NULL, &vars);
	/* read-only on both nodes: a writable raw node on a read-only file fails */
	vmr_argv_blockdev(b, "fw-code", code, "raw", true, NULL, VMR_AIO_DEFAULT);
	vmr_argv_blockdev(b, "fw-vars", vars, "raw", false, NULL, VMR_AIO_DEFAULT);
	/* QEMU merges this -machine with the first one */
	vmr_argv_push(b, "-machine",
		      sb ? "pflash0=fw-code,pflash1=fw-vars,smm=on"
			 : "pflash0=fw-code,pflash1=fw-vars");
	if (sb)
		/* the variable store is writable only from SMM, so the OS cannot change the keys */
		vmr_argv_push(b, "-global", "driver=cfi.pflash01,property=secure,value=on");
	return 0;
}

static int need_file(const char *path, struct vmr_error **err)
{
	if (access(path, R_OK) == 0)
		return 0;
	return vmr_error_set(err, errno,
			     "OVMF file '%s' (install Debian's ovmf, or set "
			     "firmware_dir in vmrun.conf)",
			     path);
}

static int firmware_preflight(const struct vmr_config *cfg, const struct vmr_plan *p,
			      const struct vmr_plan_dev *pd, struct vmr_error **err)
{
	_cleanup_free_ char *code = NULL, *tmpl = NULL, *vars = NULL;
	int r;

	if (VMR_DEVICE_CONF(pd->dev, struct firmware)->type != FW_UEFI)
		return 0;
	fw_paths(p, &code, &tmpl, &vars);
	r = need_file(code, err);
	if (r == 0 && access(vars, F_OK) < 0)
		r = need_file(tmpl, err);
	return r < 0 ? vmr_error_wrap(err, "guest '%s'", p->guest->name) : 0;
}

/* Copy the template (written under a temporary name, then renamed into place). */
static int vars_create(const char *tmpl, const char *vars, struct vmr_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	r = read_file(tmpl, 64u << 20, &data, &len);
	if (r < 0)
		return vmr_error_set(err, -r, "read '%s'", tmpl);
	r = write_file_atomic(vars, data, len, 0600);
	if (r < 0)
		return vmr_error_set(err, -r, "write '%s'", vars);
	return 0;
}

/*
 * The guest's variable store: made from the template on the first start
 * and kept afterwards (boot entries, keys, what the OS wrote).
 */
static int firmware_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct vmr_plan *p = s->plan;
	_cleanup_free_ char *code = NULL, *tmpl = NULL, *vars = NULL;
	int r;

	if (VMR_DEVICE_CONF(pd->dev, struct firmware)->type != FW_UEFI)
		return 0;
	fw_paths(p, &code, &tmpl, &vars);
	r = vmr_mkdir_p(p->guest_dir, 0755);
	if (r < 0)
		return vmr_error_set(err, -r, "create '%s'", p->guest_dir);
	if (access(vars, F_OK) < 0) {
		if (errno != ENOENT)
			return vmr_error_set(err, errno, "UEFI variables '%s'", vars);
		r = vars_create(tmpl, vars, err);
		if (r < 0)
			return r;
	}
	/* QEMU gets it as an fd (firmware_plan): it stays the supervisor's */
	return 0;
}

const struct vmr_device_ops vmr_device_firmware = {
    .name = "firmware",
    .cls = VMR_DEVICE_GUEST,
    .summary = "the guest's firmware: SeaBIOS (bios) or OVMF (uefi) with its own variables",
    .kept = fw_kept,
    .conf_size = sizeof(struct firmware),
    .parse = firmware_parse,
    .keys = firmware_keys,
    .json = firmware_json,
    .check = firmware_check,
    .plan = firmware_plan,
    .argv = firmware_argv,
    .grants = firmware_grants,
    .preflight = firmware_preflight,
    .setup = firmware_setup,
};

const struct vmr_device_ops vmr_device_secure_boot = {
    .name = "secure_boot",
    .cls = VMR_DEVICE_GUEST,
    .summary = "UEFI secure boot: OVMF's SMM build with Microsoft's and Debian's keys enrolled",
    .check = secure_boot_check,
};
