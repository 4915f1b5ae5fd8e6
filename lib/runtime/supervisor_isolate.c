/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU's private mount namespace and cgroup (`private_mounts`, `cgroup`;
 * docs/security.md): decided with the checks that change nothing, made
 * right before QEMU's spawn, applied in its child (lib/base/spawn.c).
 */
#include <stdlib.h>

#include "lib/base/container.h"
#include "lib/runtime/supervisor_internal.h"

static const char *cgroup_root(const struct sup *s)
{
	return s->cfg->cgroup_root ? s->cfg->cgroup_root : VMR_CONFIG_CGROUP_ROOT;
}

/*
 * Decide both settings (auto: on outside a container, where this host
 * allows it).  An explicit true that cannot work is an error here, before
 * any host change.
 */
int sup_isolate_check(struct sup *s, struct vmr_error **err)
{
	const struct vmr_guest *g = s->g;
	_cleanup_free_ char *container = NULL;
	bool in_container = vmr_container_detect("/", getenv("container"), &container) > 0;
	struct vmr_error *e = NULL;

	s->private_mounts = false;
	if (s->cfg->private_mounts == VMR_SWITCH_TRUE ||
	    (s->cfg->private_mounts == VMR_SWITCH_AUTO && !in_container)) {
		if (vmr_mountns_probe(&e) == 0) {
			s->private_mounts = true;
		} else if (s->cfg->private_mounts == VMR_SWITCH_TRUE) {
			_cleanup_free_ char *why = vmr_error_text(e);

			vmr_error_free(e);
			/* why ends with the errno text already */
			vmr_error_set(err, 0, "guest '%s': private_mounts = true: %s", g->name,
				      why);
			vmr_error_hint(err,
				       "a mount namespace needs CAP_SYS_ADMIN (an unprivileged "
				       "container has none): set private_mounts = false or auto");
			return -EPERM;
		} else {
			_cleanup_free_ char *why = vmr_error_text(e);

			vmr_error_free(e);
			sup_log(s, VMR_LOG_INFO,
				"guest '%s': QEMU shares the host's mounts (private_mounts = "
				"auto): %s",
				g->name, why);
		}
	}

	s->cgroup = false;
	vmr_cgroup_limits(g->has_cpuset ? &g->cpuset : NULL, s->plan.emulator_cpus,
			  s->plan.iothread_cpus, g->memory, g->vcpus, &s->cg_limits);
	s->have_cg_limits = true;
	if (s->cfg->cgroup == VMR_SWITCH_TRUE ||
	    (s->cfg->cgroup == VMR_SWITCH_AUTO && !in_container)) {
		_cleanup_free_ char *why = NULL;
		int v = vmr_cgroup_usable(cgroup_root(s), &s->cg_limits, &why);

		if (v > 0) {
			s->cgroup = true;
			s->cg_version = v;
		} else if (s->cfg->cgroup == VMR_SWITCH_TRUE) {
			vmr_error_set(err, 0, "guest '%s': cgroup = true: %s", g->name, why);
			vmr_error_hint(err, "set cgroup = false or auto (docs/security.md)");
			return -EOPNOTSUPP;
		} else {
			sup_log(s, VMR_LOG_INFO,
				"guest '%s': no cgroup for QEMU (cgroup = auto): %s", g->name, why);
		}
	}
	return 0;
}

/* The private namespace's plan: the nodes QEMU opens by name, the files it only reads. */
static int mounts_plan(struct sup *s, struct vmr_error **err)
{
	const struct vmr_guest *g = s->g;
	struct vmr_mountns *m = &s->mounts;
	int r = 0;

	for (const char *const *n = vmr_mountns_base_nodes; *n && r >= 0; n++) {
		_cleanup_free_ char *src = xasprintf("/dev/%s", *n);

		r = vmr_mountns_add_dev(m, src, src, false, err);
	}
	if (r >= 0 && s->plan.facts.accel == VMR_ACCEL_KVM) {
		_cleanup_free_ char *src = xasprintf("%s/kvm", s->cfg->dev_root);

		r = vmr_mountns_add_dev(m, src, "/dev/kvm", true, err);
	}
	if (r >= 0 && s->plan.grants.vfio) {
		/* QEMU opens /dev/vfio/vfio and /dev/vfio/GROUP itself */
		_cleanup_free_ char *src = xasprintf("%s/vfio", s->cfg->dev_root);

		r = vmr_mountns_add_dev(m, src, "/dev/vfio", true, err);
	}
	for (size_t i = 0; i < g->ndisks && r >= 0; i++) {
		const struct vmr_disk *d = &g->disks[i];
		_cleanup_free_ char *file = vmr_plan_path(&s->plan, d->file);
		_cleanup_free_ char *real = realpath(file, NULL);

		/* a symlink elsewhere (/srv/vm/disk -> /dev/sdb) ends in /dev too */
		if (real && startswith(real, "/dev/") && !startswith(file, "/dev/")) {
			free(file);
			file = TAKE_PTR(real);
		}
		if (startswith(file, "/dev/")) {
			/* a block device given as a disk: the node, as the host has it */
			r = vmr_mountns_add_dev(m, file, file, true, err);
			continue;
		}
		if (d->cdrom || d->readonly)
			r = vmr_mountns_add_ro(m, file, err);
		if (r >= 0 && d->backing) {
			_cleanup_free_ char *base = vmr_plan_path(&s->plan, d->backing);

			r = vmr_mountns_add_ro(m, base, err);
		}
	}
	{
		const char *ro[] = {g->image, g->kernel, g->initrd};

		for (size_t i = 0; i < ARRAY_SIZE(ro) && r >= 0; i++) {
			_cleanup_free_ char *path = NULL;

			if (!ro[i])
				continue;
			path = vmr_plan_path(&s->plan, ro[i]);
			r = vmr_mountns_add_ro(m, path, err);
		}
	}
	return r;
}

/*
 * Right before the spawn, after the devices' host setup (which may make
 * /dev/vfio nodes): the mount plan, and the cgroup (journaled first).
 */
int sup_isolate_prepare(struct sup *s, struct vmr_error **err)
{
	int r;

	if (s->private_mounts) {
		r = mounts_plan(s, err);
		if (r < 0)
			return vmr_error_wrap(err, "guest '%s'", s->g->name);
	}
	if (s->cgroup) {
		r = vmr_cgroup_create(cgroup_root(s), s->cg_version, s->g->name, &s->cg_limits,
				      s->journal, &s->cg, err);
		if (r < 0)
			return vmr_error_wrap(err, "guest '%s'", s->g->name);
		s->have_cg = true;
	}
	return 0;
}
