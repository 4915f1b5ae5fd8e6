/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guests grouped by physical host, and what each guest's container needs. */
#include <stdio.h>

#include "compose/compose.h"
#include "lib/util.h"

char *compose_host_service(const char *host)
{
	char *s = xasprintf("host_%s", host);

	/* Compose accepts dots and dashes, Kubernetes-style tools and shells are happier without */
	for (char *p = s; *p; p++)
		if (*p == '.' || *p == '-')
			*p = '_';
	return s;
}

static const struct vmr_host *find_host(const struct vmr_topology *t, const char *name)
{
	for (size_t i = 0; i < t->nhosts; i++)
		if (streq(t->hosts[i].name, name))
			return &t->hosts[i];
	return NULL;
}

static const struct vmr_host *find_primary(const struct vmr_topology *t)
{
	for (size_t i = 0; i < t->nhosts; i++)
		if (t->hosts[i].primary)
			return &t->hosts[i];
	return NULL;
}

static size_t add_host(struct vmr_compose_layout *l, const struct vmr_host *h, bool local)
{
	struct vmr_compose_host *ch;

	l->hosts = xrealloc(l->hosts, (l->nhosts + 1) * sizeof(*l->hosts));
	ch = &l->hosts[l->nhosts];
	*ch = (struct vmr_compose_host){
	    .name = xstrdup(h ? h->name : VMR_COMPOSE_LOCAL_HOST),
	    .host = h,
	    .local = local,
	};
	ch->service = compose_host_service(ch->name);
	if (!local) {
		ch->ssh_target = xstrdup(h->address ? h->address : h->name);
		ch->docker_host = xasprintf("ssh://%s", ch->ssh_target);
	}
	return l->nhosts++;
}

void compose_layout_build(const struct vmr_topology *t, struct vmr_compose_layout *ret)
{
	const struct vmr_host *primary = find_primary(t);
	struct vmr_compose_layout l = {0};
	size_t local = (size_t)-1;
	bool unplaced = false;

	for (size_t i = 0; i < t->nguests; i++)
		if (!t->guests[i].host)
			unplaced = true;

	/*
	 * The host compose.sh runs on comes first: the primary host, or the
	 * local machine when no host is primary (it then holds the unplaced
	 * guests and the ctrlif).
	 */
	if (primary)
		local = add_host(&l, primary, true);
	else if (t->nhosts == 0 || unplaced || t->ctrlif.present)
		local = add_host(&l, NULL, true);
	for (size_t i = 0; i < t->nhosts; i++)
		if (&t->hosts[i] != primary)
			add_host(&l, &t->hosts[i], false);

	l.guest_host = xcalloc(t->nguests ? t->nguests : 1, sizeof(*l.guest_host));
	for (size_t i = 0; i < t->nguests; i++) {
		const struct vmr_guest *g = &t->guests[i];
		size_t h = local;

		if (g->host) {
			const struct vmr_host *th = find_host(t, g->host);

			for (size_t j = 0; j < l.nhosts; j++)
				if (l.hosts[j].host == th)
					h = j;
		}
		if (h == (size_t)-1)
			abort(); /* compose_topology_check() rejects unknown hosts */
		l.guest_host[i] = h;
		l.hosts[h].guests =
		    xrealloc(l.hosts[h].guests, (l.hosts[h].nguests + 1) * sizeof(size_t));
		l.hosts[h].guests[l.hosts[h].nguests++] = i;
		for (size_t n = 0; n < g->nnics; n++)
			if (g->nics[n].kind == VMR_NIC_VF)
				l.hosts[h].sriov = true;
	}
	if (t->ctrlif.present && local != (size_t)-1)
		l.hosts[local].ctrlif = true;
	*ret = l;
}

void compose_layout_free(struct vmr_compose_layout *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nhosts; i++) {
		free(l->hosts[i].name);
		free(l->hosts[i].service);
		free(l->hosts[i].docker_host);
		free(l->hosts[i].ssh_target);
		free(l->hosts[i].guests);
	}
	free(l->hosts);
	free(l->guest_host);
	*l = (struct vmr_compose_layout){0};
}

static void add_path(struct vmr_strvec *sv, const char *p)
{
	if (!p || p[0] != '/')
		return;
	for (size_t i = 0; i < sv->n; i++)
		if (streq(sv->v[i], p))
			return;
	vmr_strvec_push(sv, p);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_paths(struct vmr_strvec *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(char *), cmp_str);
}

void compose_guest_needs(const struct vmr_guest *g, struct vmr_compose_needs *ret)
{
	struct vmr_compose_needs n = {0};

	n.kvm = g->accel != VMR_ACCEL_TCG;
	for (size_t i = 0; i < g->nnics; i++) {
		switch (g->nics[i].kind) {
		case VMR_NIC_MACVTAP:
			n.macvtap = n.vhost_net = n.net_admin = true;
			break;
		case VMR_NIC_BRIDGE:
		case VMR_NIC_TAP:
			n.tun = n.vhost_net = n.net_admin = true;
			break;
		case VMR_NIC_VF:
			n.vfio = n.net_admin = true;
			break;
		case VMR_NIC_PCI:
			n.vfio = true;
			break;
		case VMR_NIC_USER:
			break;
		}
	}

	add_path(&n.ro_paths, g->kernel);
	add_path(&n.ro_paths, g->initrd);
	if (g->image) {
		if (g->image[0] == '/')
			add_path(&n.ro_paths, g->image);
		else if (!strchr(g->image, '/'))
			n.image_dir = true;
	}
	for (size_t i = 0; i < g->ndisks; i++) {
		const struct vmr_disk *d = &g->disks[i];

		add_path(d->cdrom || d->readonly ? &n.ro_paths : &n.rw_paths, d->file);
		add_path(&n.ro_paths, d->backing);
		if (d->backing && d->backing[0] != '/' && !strchr(d->backing, '/'))
			n.image_dir = true;
	}
	add_path(&n.ro_paths, g->cloud_init.user_data);
	/* a file both read and written is mounted once, writable */
	for (size_t i = 0; i < n.rw_paths.n; i++) {
		for (size_t j = 0; j < n.ro_paths.n; j++) {
			if (streq(n.rw_paths.v[i], n.ro_paths.v[j])) {
				free(n.ro_paths.v[j]);
				memmove(&n.ro_paths.v[j], &n.ro_paths.v[j + 1],
					(n.ro_paths.n - j) * sizeof(char *));
				n.ro_paths.n--;
				break;
			}
		}
	}
	sort_paths(&n.ro_paths);
	sort_paths(&n.rw_paths);
	*ret = n;
}

void compose_needs_free(struct vmr_compose_needs *n)
{
	if (!n)
		return;
	vmr_strvec_clear(&n->ro_paths);
	vmr_strvec_clear(&n->rw_paths);
}

const struct vmr_nic *compose_guest_ssh_nic(const struct vmr_guest *g)
{
	for (size_t i = 0; i < g->nnics; i++)
		if (streq(g->nics[i].name, "vmctrl") && g->nics[i].has_ip &&
		    g->nics[i].ip.family == AF_INET)
			return &g->nics[i];
	for (size_t i = 0; i < g->nnics; i++)
		if (g->nics[i].has_ip && g->nics[i].ip.family == AF_INET)
			return &g->nics[i];
	return NULL;
}
