/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The contexts of the devices' host hooks (lib/devices/devices.h). */
#include <sys/stat.h>

#include "lib/base/cgroup.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"

void vmr_setup_helper(struct vmr_setup *s, const char *name, pid_t pid)
{
	struct vmr_helpers *h = s->helpers;

	h->v = xrealloc(h->v, (h->n + 1) * sizeof(*h->v));
	h->v[h->n++] = (struct vmr_helper){.name = xstrdup(name), .pid = pid};
}

int vmr_setup_relay(struct vmr_setup *s, const char *protocol, const char *path, int fd,
		    struct vmr_error **err)
{
	struct vmr_helpers *h = s->helpers;

	if (!h) {
		close(fd);
		return vmr_error_set(err, 0, "socket '%s' needs a supervisor to accept its clients",
				     path);
	}
	h->relays = xrealloc(h->relays, (h->nrelays + 1) * sizeof(*h->relays));
	h->relays[h->nrelays++] =
	    (struct vmr_relay){.protocol = xstrdup(protocol), .path = xstrdup(path), .fd = fd};
	return 0;
}

void vmr_helpers_relays_free(struct vmr_helpers *h)
{
	for (size_t i = 0; i < h->nrelays; i++) {
		if (h->relays[i].fd >= 0)
			close(h->relays[i].fd);
		free(h->relays[i].protocol);
		free(h->relays[i].path);
	}
	free(h->relays);
	h->relays = NULL;
	h->nrelays = 0;
}

int vmr_setup_own(const struct vmr_setup *s, const char *path, struct vmr_error **err)
{
	struct stat st;
	uid_t uid;
	gid_t gid;

	if (!vmr_caps_drop_ids(s->caps, &uid, &gid))
		return 0;
	if (lstat(path, &st) < 0)
		return vmr_error_set(err, errno, "stat '%s'", path);
	if (st.st_uid == uid && st.st_gid == gid)
		return 0;
	if (lchown(path, uid, gid) < 0)
		return vmr_error_set(err, errno, "give '%s' to qemu_user (uid %u gid %u)", path,
				     (unsigned)uid, (unsigned)gid);
	return 0;
}

#define UNDO_SOCKET "state.socket"

int vmr_setup_journal_file(struct vmr_setup *s, const char *path, struct vmr_error **err)
{
	json_t *e = json_pack("{s:s, s:s}", "type", UNDO_SOCKET, "path", path);
	int r = vmr_journal_record(s->journal, e, err);

	json_decref(e);
	return r;
}

/* Remove the socket if one is there: whatever else holds the name now is not ours. */
static int undo_socket(const json_t *entry, void *ctx, struct vmr_error **err)
{
	const char *path = json_string_value(json_object_get(entry, "path"));
	struct stat st;

	(void)ctx;
	if (!path)
		return vmr_error_set(err, EINVAL, "journal entry '%s' without a path", UNDO_SOCKET);
	/* gone is fine; unreachable (EACCES) is not: the socket would stay */
	if (lstat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR
			   ? 0
			   : vmr_error_set(err, errno, "remove '%s'", path);
	if (!S_ISSOCK(st.st_mode))
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return vmr_error_set(err, errno, "remove '%s'", path);
	return 0;
}

/* Unlinking it: nothing for a root supervisor in its own state directory;
 * CAP_DAC_OVERRIDE in a directory of qemu_user's (vnc/) */
static uint64_t undo_socket_caps(const json_t *entry, void *ctx)
{
	const char *path = json_string_value(json_object_get(entry, "path"));

	(void)ctx;
	return path ? vmr_caps_dac_unlink(path) : 0;
}

void vmr_devices_register_undo(void)
{
	vmr_journal_register(UNDO_SOCKET, undo_socket);
	vmr_journal_register_caps(UNDO_SOCKET, undo_socket_caps);
	/* QEMU's cgroup (lib/base/cgroup.h), made by the supervisor beside the devices' changes */
	vmr_cgroup_register_undo();
}

void vmr_setup_give(struct vmr_setup *s, const struct vmr_plan_dev *pd, enum vmr_fd_phase ph,
		    unsigned q, int fd)
{
	int slot;

	if (q >= pd->nfds[ph]) {
		close(fd);
		return;
	}
	slot = pd->fds[ph][q] - 3;
	if (slot < 0 || slot >= s->plan->nfds) {
		close(fd);
		return;
	}
	if (s->fds[slot] >= 0)
		close(s->fds[slot]);
	s->fds[slot] = fd;
}

void vmr_hostsetup_collect(struct vmr_hostsetup *h, const struct vmr_topology *t, const char *host)
{
	const struct vmr_host *primary = vmr_topology_primary(t);
	const char *want = host ? host : primary ? primary->name : NULL;

	h->topo = t;
	for (size_t i = 0; i < t->nguests; i++) {
		const struct vmr_guest *g = &t->guests[i];
		const char *on = vmr_guest_host(t, g);

		if (!(want ? streq(on, want) : !on))
			continue;
		h->guest = g;
		for (size_t k = 0; k < g->nnics; k++)
			if (g->nics[k].att.ops && g->nics[k].att.ops->host_needs)
				g->nics[k].att.ops->host_needs(h, &g->nics[k].att);
		for (size_t k = 0; k < g->ndevices; k++)
			if (g->devices[k].ops->host_needs)
				g->devices[k].ops->host_needs(h, &g->devices[k]);
	}
	h->guest = NULL;
}

void vmr_hostsetup_free(struct vmr_hostsetup *h)
{
	free(h->vfs);
	*h = (struct vmr_hostsetup){0};
}

void vmr_devices_owned(const struct vmr_guest *g, struct vmr_net_owned **ret, size_t *ret_n)
{
	struct vmr_net_owned *v = xcalloc(g->nnics + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < g->nnics; i++) {
		const struct vmr_nic *nic = &g->nics[i];

		if (!nic->att.ops || !nic->att.ops->link_mac ||
		    !nic->att.ops->link_mac(nic, &v[n].mac))
			continue;
		vmr_net_ifname(&nic->mac, v[n].ifname);
		v[n].owner = vmr_net_owner(g->name, nic->name);
		n++;
	}
	*ret = v;
	*ret_n = n;
}

void vmr_devices_owned_free(struct vmr_net_owned *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].owner);
	free(v);
}
