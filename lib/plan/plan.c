/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plan: a guest, the host facts and each device's share (lib/plan/plan.h). */
#include <fcntl.h>
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/plan/accel.h"
#include "lib/plan/plan.h"

/* QEMU gets this and nothing else from our environment. */
#define QEMU_PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_IMAGE_DIR "/var/lib/vmrun/images"

char *vmr_plan_root_disk(const struct vmr_config *cfg, const struct vmr_guest *g)
{
	if (!g->image)
		return NULL;
	return xasprintf("%s/%s/%s", cfg && cfg->image_dir ? cfg->image_dir : DEFAULT_IMAGE_DIR,
			 g->name, VMR_PLAN_ROOT_FILE);
}

char *vmr_plan_guest_dir(const struct vmr_config *cfg, const struct vmr_guest *g)
{
	return xasprintf("%s/%s", cfg && cfg->image_dir ? cfg->image_dir : DEFAULT_IMAGE_DIR,
			 g->name);
}

int vmr_facts_probe(const struct vmr_config *cfg, const struct vmr_guest *g, enum vmr_accel accel,
		    struct vmr_facts *ret, char **ret_warning, struct vmr_error **err)
{
	_cleanup_free_ char *vhost = NULL;
	struct vmr_facts f = {.accel = accel};
	int r, fd;

	if (ret_warning)
		*ret_warning = NULL;
	if (accel == VMR_ACCEL_AUTO) {
		r = vmr_accel_resolve(g->accel, cfg->accel, cfg->dev_root, cfg->sysfs_root,
				      &f.accel, ret_warning, err);
		if (r < 0)
			return vmr_error_wrap(err, "guest '%s'", g->name);
	}
	/* like libvirt: vhost-net when the host has it, QEMU's own backend otherwise */
	vhost = xasprintf("%s/vhost-net", cfg->dev_root ? cfg->dev_root : "/dev");
	fd = open(vhost, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		f.vhost = true;
		close(fd);
	}
	*ret = f;
	return 0;
}

static void dev_add(struct vmr_plan *p, const struct vmr_device *d, const struct vmr_nic *nic,
		    const struct vmr_disk *disk, size_t index)
{
	struct vmr_plan_dev *pd = &p->devs[p->ndevs++];

	*pd = (struct vmr_plan_dev){.dev = d, .nic = nic, .disk = disk, .index = index};
	/* a disk vmrun makes (an overlay on `backing:`, a blank `size:` image) */
	if (disk && !disk->cdrom && (disk->backing || disk->size)) {
		pd->fd_file = vmr_plan_path(p, disk->file);
		pd->fd_file_label = xasprintf("disk%zu", index);
		pd->fd_file_writable = !disk->readonly;
	}
	if (d->ops && d->ops->plan)
		d->ops->plan(p, pd);
	for (int ph = 0; ph < VMR_FD_PHASES; ph++)
		if (pd->nfds[ph] > VMR_MAX_QUEUES)
			pd->nfds[ph] = VMR_MAX_QUEUES; /* the loader keeps queues <= 16 */
}

/* Number the child fds: phase by phase, device by device, then QMP and the console. */
static void assign_fds(struct vmr_plan *p)
{
	int fd = 3;

	for (int ph = 0; ph < VMR_FD_PHASES; ph++)
		for (size_t i = 0; i < p->ndevs; i++)
			for (unsigned q = 0; q < p->devs[i].nfds[ph]; q++)
				p->devs[i].fds[ph][q] = fd++;
	p->qmp_fd = fd++;
	p->console_fd = fd++;
	for (size_t i = 0; i < p->nfiles; i++)
		p->files[i].fd = fd++;
	p->nfds = fd - 3;
}

static void file_add(struct vmr_plan *p, const char *path, const char *opaque, bool writable)
{
	p->files = xrealloc(p->files, (p->nfiles + 1) * sizeof(*p->files));
	p->files[p->nfiles++] = (struct vmr_plan_file){
	    .path = xstrdup(path), .opaque = xstrdup(opaque), .writable = writable, .fd = -1};
}

/* What QEMU gets as fds: the root overlay, the devices' files, the seed. */
static void plan_files(struct vmr_plan *p)
{
	if (p->root_disk)
		file_add(p, p->root_disk, "root", true);
	for (size_t i = 0; i < p->ndevs; i++)
		if (p->devs[i].fd_file)
			file_add(p, p->devs[i].fd_file, p->devs[i].fd_file_label,
				 p->devs[i].fd_file_writable);
	if (p->seed_iso)
		file_add(p, p->seed_iso, "seed", false);
}

const struct vmr_plan_file *vmr_plan_file_find(const struct vmr_plan *p, const char *path)
{
	for (size_t i = 0; i < p->nfiles; i++)
		if (streq(p->files[i].path, path))
			return &p->files[i];
	return NULL;
}

int vmr_plan_build(const struct vmr_topology *t, const struct vmr_guest *g,
		   const struct vmr_plan_opts *o, struct vmr_plan *ret, struct vmr_error **err)
{
	const struct vmr_config *cfg = o->cfg;
	struct vmr_plan p = {
	    .topo = t,
	    .guest = g,
	    .facts = o->facts,
	    .qemu = xstrdup(cfg && cfg->qemu ? cfg->qemu : "qemu-system-x86_64"),
	    .topo_dir = xstrdup(o->topo_dir),
	    .sandbox = !o->no_sandbox,
	    .env = VMR_STRVEC_INIT,
	    .grants = {.files = VMR_STRVEC_INIT},
	    .qmp_fd = -1,
	    .console_fd = -1,
	};

	if (p.facts.accel != VMR_ACCEL_KVM && p.facts.accel != VMR_ACCEL_TCG) {
		vmr_plan_free(&p);
		return vmr_error_usage(err, "guest '%s': accelerator not resolved in the plan",
				       g->name);
	}
	vmr_strvec_push(&p.env, QEMU_PATH_ENV);
	p.state_dir =
	    xasprintf("%s/%s", cfg && cfg->state_dir ? cfg->state_dir : "/run/vmrun", g->name);
	if (g->cloud_init.enabled)
		p.seed_iso = xasprintf("%s/" VMR_PLAN_SEED_FILE, p.state_dir);
	p.root_disk = vmr_plan_root_disk(cfg, g);
	p.guest_dir = vmr_plan_guest_dir(cfg, g);
	p.firmware_dir =
	    xstrdup(cfg && cfg->firmware_dir ? cfg->firmware_dir : VMR_CONFIG_FIRMWARE_DIR);
	p.grants.kvm = p.facts.accel == VMR_ACCEL_KVM;

	p.devs = xcalloc(g->ndisks + g->nnics + g->ndevices + 1, sizeof(*p.devs));
	for (size_t i = 0; i < g->ndisks; i++)
		dev_add(&p, &g->disks[i].bus, NULL, &g->disks[i], i);
	for (size_t i = 0; i < g->nnics; i++)
		dev_add(&p, &g->nics[i].att, &g->nics[i], NULL, i);
	for (size_t i = 0; i < g->ndevices; i++)
		dev_add(&p, &g->devices[i], NULL, NULL, i);
	plan_files(&p);
	assign_fds(&p);
	for (size_t i = 0; i < p.ndevs; i++) {
		const struct vmr_plan_dev *pd = &p.devs[i];

		p.shared_memory |= pd->shared_memory;
		p.memory_backend |= pd->memory_backend;
		p.iothreads += pd->iothreads;
		if (pd->emulator_cpus)
			p.emulator_cpus = pd->emulator_cpus;
		if (pd->iothread_cpus)
			p.iothread_cpus = pd->iothread_cpus;
	}
	for (size_t i = 0; i < p.ndevs; i++) {
		const struct vmr_device *d = p.devs[i].dev;

		if (d->ops && d->ops->grants)
			d->ops->grants(&p, &p.devs[i], &p.grants);
	}
	*ret = p;
	return 0;
}

void vmr_plan_free(struct vmr_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ndevs; i++) {
		free(p->devs[i].ifname);
		free(p->devs[i].hostdev);
		free(p->devs[i].fd_file);
		free(p->devs[i].fd_file_label);
		free(p->devs[i].reads);
	}
	for (size_t i = 0; i < p->nfiles; i++) {
		free(p->files[i].path);
		free(p->files[i].opaque);
	}
	free(p->files);
	free(p->devs);
	free(p->qemu);
	free(p->topo_dir);
	free(p->state_dir);
	vmr_strvec_clear(&p->env);
	vmr_strvec_clear(&p->grants.dirs);
	vmr_strvec_clear(&p->grants.files);
	free(p->seed_iso);
	free(p->root_disk);
	free(p->guest_dir);
	free(p->firmware_dir);
	*p = (struct vmr_plan){.qmp_fd = -1, .console_fd = -1};
}

struct vmr_plan_dev *vmr_plan_nic(const struct vmr_plan *p, const char *name)
{
	for (size_t i = 0; i < p->ndevs; i++)
		if (p->devs[i].nic && streq(p->devs[i].nic->name, name))
			return &p->devs[i];
	return NULL;
}

char *vmr_plan_path(const struct vmr_plan *p, const char *path)
{
	size_t dirlen;

	if (path[0] == '/' || !p->topo_dir)
		return xstrdup(path);

	/*
	 * topo_dir is canonical (the caller passes a realpath), so leading
	 * "./" and "../" can be folded into it without changing which file is
	 * meant; later ".." segments may follow symlinks and stay as written.
	 */
	dirlen = strlen(p->topo_dir);
	while (dirlen > 1 && p->topo_dir[dirlen - 1] == '/')
		dirlen--;
	for (;;) {
		if (startswith(path, "./")) {
			path += 2;
		} else if (streq(path, ".")) {
			path += 1;
		} else if (startswith(path, "../") || streq(path, "..")) {
			while (dirlen > 1 && p->topo_dir[dirlen - 1] != '/')
				dirlen--;
			while (dirlen > 1 && p->topo_dir[dirlen - 1] == '/')
				dirlen--;
			path += path[2] ? 3 : 2;
		} else if (path[0] == '/') {
			path++; /* "a//b" after a folded segment */
		} else {
			break;
		}
	}
	if (!*path)
		return xstrndup(p->topo_dir, dirlen);
	if (dirlen == 1 && p->topo_dir[0] == '/')
		return xasprintf("/%s", path);
	return xasprintf("%.*s/%s", (int)dirlen, p->topo_dir, path);
}
