/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guests grouped by physical host, and what each guest's container needs. */
#include <stdio.h>

#include "compose/compose.h"
#include "lib/base/util.h"
#include "lib/plan/plan.h"

char *compose_host_service(const char *host)
{
	char *s = xasprintf("host_%s", host);

	/* Compose accepts dots and dashes, Kubernetes-style tools and shells are happier without */
	for (char *p = s; *p; p++)
		if (*p == '.' || *p == '-')
			*p = '_';
	return s;
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

static unsigned long long pci_key(const struct vmr_pci_addr *p)
{
	return ((unsigned long long)p->domain << 24) | (p->bus << 16) | (p->slot << 8) | p->func;
}

/* One more VF of pf on host h; the PF list stays sorted by address. */
static void count_vf(struct vmr_compose_host *h, const struct vmr_pci_addr *pf)
{
	size_t i = 0;

	h->sriov = true;
	while (i < h->npfs && pci_key(&h->pfs[i]) < pci_key(pf))
		i++;
	if (i < h->npfs && vmr_pci_equal(&h->pfs[i], pf)) {
		h->nvfs[i]++;
		return;
	}
	h->pfs = xrealloc(h->pfs, (h->npfs + 1) * sizeof(*h->pfs));
	h->nvfs = xrealloc(h->nvfs, (h->npfs + 1) * sizeof(*h->nvfs));
	memmove(&h->pfs[i + 1], &h->pfs[i], (h->npfs - i) * sizeof(*h->pfs));
	memmove(&h->nvfs[i + 1], &h->nvfs[i], (h->npfs - i) * sizeof(*h->nvfs));
	h->pfs[i] = *pf;
	h->nvfs[i] = 1;
	h->npfs++;
}

void compose_layout_build(const struct vmr_topology *t, struct vmr_compose_layout *ret)
{
	const struct vmr_host *primary = vmr_topology_primary(t);
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
			const struct vmr_host *th = vmr_topology_host(t, g->host);

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
		for (size_t n = 0; n < g->nnics; n++) {
			const struct vmr_device *d = &g->nics[n].att;
			struct vmr_claim c[16];
			size_t nc =
			    d->ops && d->ops->claims ? d->ops->claims(d, c, ARRAY_SIZE(c)) : 0;

			for (size_t k = 0; k < nc; k++)
				if (c[k].type == VMR_CLAIM_VF)
					count_vf(&l.hosts[h], &c[k].pci);
		}
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
		free(l->hosts[i].pfs);
		free(l->hosts[i].nvfs);
	}
	free(l->hosts);
	free(l->guest_host);
	*l = (struct vmr_compose_layout){0};
}

/*
 * base joined with rel, with "." and ".." folded lexically: the files need
 * not exist yet, and the container resolves its path the same way (the
 * topology's directory there is VMR_COMPOSE_VOLUME_PATH, which is real).
 */
static char *path_join(const char *base, const char *rel)
{
	struct vmr_buf b = VMR_BUF_INIT;
	_cleanup_free_ char *tmp = rel[0] == '/' ? xstrdup(rel) : xasprintf("%s/%s", base, rel);
	char *save = NULL;

	for (char *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (streq(c, "."))
			continue;
		if (streq(c, "..")) {
			char *slash = b.len ? strrchr(b.s, '/') : NULL;

			b.len = slash ? (size_t)(slash - b.s) : 0;
			if (b.s)
				b.s[b.len] = '\0';
			continue;
		}
		vmr_buf_addc(&b, '/');
		vmr_buf_adds(&b, c);
	}
	if (!b.len)
		vmr_buf_addc(&b, '/');
	return vmr_buf_detach(&b);
}

static void add_path(struct vmr_compose_needs *n, const char *topology_dir, const char *path,
		     bool dir, bool rw)
{
	_cleanup_free_ char *host = path_join(topology_dir, path);
	_cleanup_free_ char *container = path_join(VMR_COMPOSE_VOLUME_PATH, path);

	for (size_t i = 0; i < n->npaths; i++) {
		if (streq(n->paths[i].container, container)) {
			/* read by one key, written by another: mount it once, writable */
			n->paths[i].rw |= rw;
			n->paths[i].dir |= dir;
			return;
		}
	}
	n->paths = xrealloc(n->paths, (n->npaths + 1) * sizeof(*n->paths));
	n->paths[n->npaths++] = (struct vmr_compose_path){
	    .host = TAKE_PTR(host),
	    .container = TAKE_PTR(container),
	    .dir = dir,
	    .rw = rw,
	};
}

static void add_input(struct vmr_compose_needs *n, const char *topology_dir, const char *path)
{
	if (path)
		add_path(n, topology_dir, path, false, false);
}

static int cmp_path(const void *a, const void *b)
{
	const struct vmr_compose_path *x = a, *y = b;

	return strcmp(x->container, y->container);
}

void compose_guest_needs(const struct vmr_guest *g, const char *topology_dir,
			 struct vmr_compose_needs *ret)
{
	struct vmr_compose_needs n = {0};
	struct vmr_plan_opts po = {.topo_dir = topology_dir};
	struct vmr_plan plan;

	if (!topology_dir)
		topology_dir = ".";
	/*
	 * What the plan's devices need, for a host whose facts are not known
	 * here: KVM unless the guest asks for TCG, and no vhost-net (a
	 * container without its device falls back to the plain tap path).
	 */
	po.facts.accel = g->accel == VMR_ACCEL_TCG ? VMR_ACCEL_TCG : VMR_ACCEL_KVM;
	if (vmr_plan_build(NULL, g, &po, &plan, NULL) == 0) {
		n.kvm = plan.grants.kvm;
		n.tun = plan.grants.tun;
		n.macvtap = plan.grants.tap_nodes;
		n.net_admin = plan.grants.net_admin;
		n.vfio = plan.grants.vfio;
		n.guest_dir = plan.grants.guest_dir;
		n.usb = plan.grants.usb;
		n.hugepages_2m = plan.grants.hugepages_2m;
		n.hugepages_1g = plan.grants.hugepages_1g;
		n.numa = plan.grants.numa;
		/* vhost-user sockets' directories (the backend's side), a device's ROM */
		for (size_t i = 0; i < plan.grants.dirs.n; i++)
			add_path(&n, topology_dir, plan.grants.dirs.v[i], true, true);
		/* files the start reads, as the topology names them (a VNC password_file) */
		for (size_t i = 0; i < plan.grants.files.n; i++)
			add_input(&n, topology_dir, plan.grants.files.v[i]);
		vmr_plan_free(&plan);
	}

	add_input(&n, topology_dir, g->kernel);
	add_input(&n, topology_dir, g->initrd);
	add_input(&n, topology_dir, g->cloud_init.user_data);
	if (g->image) {
		add_input(&n, topology_dir, g->image);
		n.root_overlay = true;
	}
	for (size_t i = 0; i < g->ndisks; i++) {
		const struct vmr_disk *d = &g->disks[i];

		add_input(&n, topology_dir, d->backing);
		if (d->cdrom || d->readonly) {
			add_input(&n, topology_dir, d->file);
		} else if (d->file[0] == '/') {
			/* an overlay `image prep` creates needs its directory (written atomically)
			 */
			if (d->backing) {
				_cleanup_free_ char *dir = xstrdup(d->file);

				*strrchr(dir, '/') = '\0';
				add_path(&n, topology_dir, *dir ? dir : "/", true, true);
			} else {
				add_path(&n, topology_dir, d->file, false, true);
			}
		}
		/* a relative writable disk lives in the guest's volume */
	}
	if (n.npaths > 1)
		qsort(n.paths, n.npaths, sizeof(*n.paths), cmp_path);
	*ret = n;
}

void compose_needs_free(struct vmr_compose_needs *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->npaths; i++) {
		free(n->paths[i].host);
		free(n->paths[i].container);
	}
	free(n->paths);
	*n = (struct vmr_compose_needs){0};
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
