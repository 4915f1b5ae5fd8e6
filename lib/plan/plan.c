/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plan: a guest plus the host facts its QEMU command line needs. */
#include "lib/base/netaddr.h"
#include "lib/plan/plan.h"
#include "lib/base/util.h"

static bool nic_is_tap_like(const struct vmr_nic *n)
{
	return n->kind == VMR_NIC_MACVTAP || n->kind == VMR_NIC_BRIDGE || n->kind == VMR_NIC_TAP;
}

/* vhost-net only serves virtio-net devices: other models would hold idle fds */
static bool nic_is_virtio(const struct vmr_nic *n)
{
	return !n->model || startswith(n->model, "virtio-net");
}

void vmr_plan_init(struct vmr_plan *p, const struct vmr_topology *t, const struct vmr_guest *g,
		   const char *qemu, const char *topo_dir, enum vmr_accel accel)
{
	*p = (struct vmr_plan){
	    .topo = t,
	    .guest = g,
	    .qemu = xstrdup(qemu),
	    .topo_dir = xstrdup(topo_dir),
	    .accel = accel,
	    .vhost = true,
	    .sandbox = true,
	    .qmp_fd = -1,
	    .console_fd = -1,
	    .nnics = g->nnics,
	    .nics = xcalloc(g->nnics, sizeof(struct vmr_plan_nic)),
	};
	for (size_t i = 0; i < g->nnics; i++) {
		const struct vmr_nic *n = &g->nics[i];
		struct vmr_plan_nic *pn = &p->nics[i];

		pn->nic = n;
		if (nic_is_tap_like(n)) {
			/*
			 * Clamp so the fd arrays cannot overflow; vmr_argv_build()
			 * rejects the NIC when queues was really above the limit.
			 */
			pn->ntapfds = n->queues ? n->queues : 1;
			if (pn->ntapfds > VMR_MAX_QUEUES)
				pn->ntapfds = VMR_MAX_QUEUES;
		}
		if (n->kind == VMR_NIC_PCI) {
			char buf[13];

			pn->vfio_host = xstrdup(vmr_pci_format(&n->pci, buf));
		}
	}
	vmr_plan_assign_fds(p);
}

void vmr_plan_assign_fds(struct vmr_plan *p)
{
	int fd = 3;

	for (size_t i = 0; i < p->nnics; i++)
		for (unsigned q = 0; q < p->nics[i].ntapfds; q++)
			p->nics[i].tapfd[q] = fd++;
	for (size_t i = 0; i < p->nnics; i++) {
		struct vmr_plan_nic *pn = &p->nics[i];

		pn->nvhostfds = p->vhost && nic_is_virtio(pn->nic) ? pn->ntapfds : 0;
		for (unsigned q = 0; q < pn->nvhostfds; q++)
			pn->vhostfd[q] = fd++;
	}
	p->qmp_fd = fd++;
	p->console_fd = fd++;
	p->nfds = fd - 3;
}

void vmr_plan_free(struct vmr_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nnics; i++) {
		free(p->nics[i].ifname);
		free(p->nics[i].vfio_host);
	}
	free(p->nics);
	free(p->qemu);
	free(p->topo_dir);
	free(p->seed_iso);
	free(p->root_disk);
	*p = (struct vmr_plan){.qmp_fd = -1, .console_fd = -1};
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
