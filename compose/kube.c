/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kubernetes manifests: the topology as a ConfigMap, per physical host a
 * DaemonSet pinned to that node running `vmrun host up` in the foreground,
 * and per guest a Pod on its node (init containers wait for the host setup
 * and prepare the images; the container is `vmrun run`).  The same grants
 * as compose.yml, translated; docs/compose.md says where they differ.
 */
#include <stdio.h>

#include "compose/compose.h"
#include "compose/internal.h"
#include "lib/base/netaddr.h"
#include "lib/base/util.h"
#include "lib/base/yamlout.h"

/* what QEMU needs beside the guest RAM a hugepage backend holds (a request, not a limit) */
#define KUBE_QEMU_OVERHEAD "256Mi"

#define KUBE_CONFIGMAP "vmrun-topology"
#define KUBE_LABEL_APP "app.kubernetes.io/name"

static void labels_map(struct vmr_yamlout *y, const char *key, const struct vmr_strvec *kv)
{
	vmr_yamlout_str(y, key);
	vmr_yamlout_map_start(y);
	for (size_t i = 0; i + 1 < kv->n; i += 2)
		vmr_yamlout_kv_str(y, kv->v[i], kv->v[i + 1]);
	vmr_yamlout_map_end(y);
}

static void argv_seq(struct vmr_yamlout *y, const char *key, const struct vmr_strvec *argv)
{
	vmr_yamlout_str(y, key);
	vmr_yamlout_seq_start(y, true);
	for (size_t i = 0; i < argv->n; i++)
		vmr_yamlout_quoted(y, argv->v[i]);
	vmr_yamlout_seq_end(y);
}

/* The volume name of mount i: DNS-1123 labels, stable per position. */
static char *mount_volume_name(const struct compose_mount *m, size_t i)
{
	if (m->kube_volume)
		return xstrdup(m->kube_volume);
	switch (m->type) {
	case COMPOSE_MOUNT_VOLUME:
		return xstrdup("disks");
	case COMPOSE_MOUNT_TOPOLOGY:
		return xstrdup("topology");
	case COMPOSE_MOUNT_DIR:
	case COMPOSE_MOUNT_FILE:
		break;
	}
	return xasprintf("host-%zu", i);
}

static void security_context(struct vmr_yamlout *y, const struct compose_grants *g)
{
	vmr_yamlout_str(y, "securityContext");
	vmr_yamlout_map_start(y);
	if (g->privileged) {
		vmr_yamlout_kv_bool(y, "privileged", true);
	} else {
		vmr_yamlout_kv_bool(y, "allowPrivilegeEscalation", false);
		vmr_yamlout_str(y, "capabilities");
		vmr_yamlout_map_start(y);
		vmr_yamlout_str(y, "drop");
		vmr_yamlout_seq_start(y, true);
		vmr_yamlout_str(y, "ALL");
		vmr_yamlout_seq_end(y);
		if (g->caps.n) {
			vmr_yamlout_str(y, "add");
			vmr_yamlout_seq_start(y, true);
			for (size_t i = 0; i < g->caps.n; i++)
				vmr_yamlout_str(y, g->caps.v[i]);
			vmr_yamlout_seq_end(y);
		}
		vmr_yamlout_map_end(y);
		if (g->sysfs_rw) {
			/* AppArmor's default profile denies sysfs writes */
			vmr_yamlout_str(y, "appArmorProfile");
			vmr_yamlout_map_start(y);
			vmr_yamlout_kv_str(y, "type", "Unconfined");
			vmr_yamlout_map_end(y);
		}
	}
	vmr_yamlout_map_end(y);
}

static void volume_mounts(struct vmr_yamlout *y, const struct compose_grants *g)
{
	vmr_yamlout_str(y, "volumeMounts");
	vmr_yamlout_seq_start(y, false);
	for (size_t i = 0; i < g->nmounts; i++) {
		const struct compose_mount *m = &g->mounts[i];
		_cleanup_free_ char *name = mount_volume_name(m, i);

		vmr_yamlout_map_start(y);
		vmr_yamlout_kv_str(y, "name", name);
		vmr_yamlout_kv_str(y, "mountPath", m->target);
		if (m->type == COMPOSE_MOUNT_TOPOLOGY)
			vmr_yamlout_kv_str(y, "subPath", "topology.yaml");
		if (m->read_only)
			vmr_yamlout_kv_bool(y, "readOnly", true);
		vmr_yamlout_map_end(y);
	}
	for (size_t i = 0; i < g->devices.n; i++) {
		_cleanup_free_ char *name = xasprintf("dev-%zu", i);

		vmr_yamlout_map_start(y);
		vmr_yamlout_kv_str(y, "name", name);
		vmr_yamlout_kv_str(y, "mountPath", g->devices.v[i]);
		vmr_yamlout_map_end(y);
	}
	vmr_yamlout_seq_end(y);
}

static void host_path(struct vmr_yamlout *y, const char *path, const char *type)
{
	vmr_yamlout_str(y, "hostPath");
	vmr_yamlout_map_start(y);
	vmr_yamlout_kv_str(y, "path", path);
	vmr_yamlout_kv_str(y, "type", type);
	vmr_yamlout_map_end(y);
}

/* Volume entries for the mounts and devices of g (names as volume_mounts()). */
static void volume_entries(struct vmr_yamlout *y, const struct compose_grants *g,
			   const struct vmr_guest *guest)
{
	bool disks = false;

	for (size_t i = 0; i < g->nmounts; i++) {
		const struct compose_mount *m = &g->mounts[i];
		_cleanup_free_ char *name = mount_volume_name(m, i);

		/* the disk volume may be mounted twice (root overlay), declared once */
		if (m->type == COMPOSE_MOUNT_VOLUME) {
			if (disks)
				continue;
			disks = true;
		}
		vmr_yamlout_map_start(y);
		vmr_yamlout_kv_str(y, "name", name);
		switch (m->type) {
		case COMPOSE_MOUNT_VOLUME: {
			/* the pod is bound to its node, so a node directory holds the disks */
			_cleanup_free_ char *dir =
			    xasprintf("%s/%s", VMR_COMPOSE_KUBE_VOLUME_DIR, guest->name);

			host_path(y, dir, "DirectoryOrCreate");
			break;
		}
		case COMPOSE_MOUNT_TOPOLOGY:
			vmr_yamlout_str(y, "configMap");
			vmr_yamlout_map_start(y);
			vmr_yamlout_kv_str(y, "name", KUBE_CONFIGMAP);
			vmr_yamlout_map_end(y);
			break;
		case COMPOSE_MOUNT_DIR:
			host_path(y, m->source, m->must_exist ? "Directory" : "DirectoryOrCreate");
			break;
		case COMPOSE_MOUNT_FILE:
			host_path(y, m->source, "File");
			break;
		}
		vmr_yamlout_map_end(y);
	}
	for (size_t i = 0; i < g->devices.n; i++) {
		_cleanup_free_ char *name = xasprintf("dev-%zu", i);

		vmr_yamlout_map_start(y);
		vmr_yamlout_kv_str(y, "name", name);
		host_path(y, g->devices.v[i], "CharDevice");
		vmr_yamlout_map_end(y);
	}
}

static void probe(struct vmr_yamlout *y, const char *key, const struct vmr_strvec *argv,
		  const struct compose_health *h)
{
	vmr_yamlout_str(y, key);
	vmr_yamlout_map_start(y);
	vmr_yamlout_str(y, "exec");
	vmr_yamlout_map_start(y);
	argv_seq(y, "command", argv);
	vmr_yamlout_map_end(y);
	if (streq(key, "livenessProbe"))
		vmr_yamlout_kv_int(y, "initialDelaySeconds", h->start_period);
	vmr_yamlout_kv_int(y, "periodSeconds", h->interval);
	vmr_yamlout_kv_int(y, "timeoutSeconds", h->timeout);
	vmr_yamlout_kv_int(y, "failureThreshold", h->retries);
	vmr_yamlout_map_end(y);
}

static void metadata(struct vmr_yamlout *y, const char *name, const struct vmr_strvec *labels,
		     const struct vmr_strvec *annotations)
{
	vmr_yamlout_str(y, "metadata");
	vmr_yamlout_map_start(y);
	vmr_yamlout_kv_str(y, "name", name);
	labels_map(y, "labels", labels);
	if (annotations && annotations->n)
		labels_map(y, "annotations", annotations);
	vmr_yamlout_map_end(y);
}

static void node_selector(struct vmr_yamlout *y, const struct vmr_compose_host *h)
{
	/* the implicit local host: any node (a one-node cluster) */
	if (!h->host)
		return;
	vmr_yamlout_str(y, "nodeSelector");
	vmr_yamlout_map_start(y);
	vmr_yamlout_kv_str(y, "kubernetes.io/hostname", h->name);
	vmr_yamlout_map_end(y);
}

/* "1Gi", "512Mi": a Kubernetes quantity of bytes (whole MiB: hugepage sizes are) */
static char *quantity(uint64_t bytes)
{
	if (bytes % (UINT64_C(1) << 30) == 0)
		return xasprintf("%lluGi", (unsigned long long)(bytes >> 30));
	return xasprintf("%lluMi", (unsigned long long)(bytes >> 20));
}

/*
 * Guest RAM in hugepages: the pod must ask for them (limits; requests
 * follow), and Kubernetes wants a cpu or memory request beside them:
 * QEMU's own memory, which no hugepage holds.
 */
static void resources(struct vmr_yamlout *y, const struct compose_grants *g)
{
	_cleanup_free_ char *h2 = NULL, *h1 = NULL;

	if (!g->hugepages_2m && !g->hugepages_1g)
		return;
	vmr_yamlout_str(y, "resources");
	vmr_yamlout_map_start(y);
	vmr_yamlout_str(y, "limits");
	vmr_yamlout_map_start(y);
	if (g->hugepages_2m) {
		h2 = quantity(g->hugepages_2m);
		vmr_yamlout_kv_str(y, "hugepages-2Mi", h2);
	}
	if (g->hugepages_1g) {
		h1 = quantity(g->hugepages_1g);
		vmr_yamlout_kv_str(y, "hugepages-1Gi", h1);
	}
	vmr_yamlout_map_end(y);
	vmr_yamlout_str(y, "requests");
	vmr_yamlout_map_start(y);
	vmr_yamlout_kv_str(y, "memory", KUBE_QEMU_OVERHEAD);
	vmr_yamlout_map_end(y);
	vmr_yamlout_map_end(y);
}

static void container(struct vmr_yamlout *y, const char *name, const char *image,
		      const struct vmr_strvec *argv, const struct compose_grants *g)
{
	vmr_yamlout_map_start(y);
	vmr_yamlout_kv_str(y, "name", name);
	vmr_yamlout_kv_str(y, "image", image);
	vmr_yamlout_kv_str(y, "imagePullPolicy", "IfNotPresent");
	argv_seq(y, "command", argv);
	if (g->env.n) {
		vmr_yamlout_str(y, "env");
		vmr_yamlout_seq_start(y, false);
		for (size_t i = 0; i + 1 < g->env.n; i += 2) {
			vmr_yamlout_map_start(y);
			vmr_yamlout_kv_str(y, "name", g->env.v[i]);
			vmr_yamlout_kv_str(y, "value", g->env.v[i + 1]);
			vmr_yamlout_map_end(y);
		}
		vmr_yamlout_seq_end(y);
	}
	security_context(y, g);
	volume_mounts(y, g);
	resources(y, g);
}

static void host_labels(const struct vmr_compose_host *h, struct vmr_strvec *ret)
{
	vmr_strvec_push(ret, KUBE_LABEL_APP);
	vmr_strvec_push(ret, "vmrun");
	vmr_strvec_push(ret, "vmrun/role");
	vmr_strvec_push(ret, "host");
	vmr_strvec_push(ret, "vmrun/host");
	vmr_strvec_push(ret, h->name);
}

static int host_daemonset(const struct vmr_compose_host *h, const struct vmr_compose_opts *o,
			  struct vmr_buf *out, struct vmr_error **err)
{
	const char *image = o->image ? o->image : VMR_COMPOSE_DEFAULT_IMAGE;
	struct vmr_strvec lab = VMR_STRVEC_INIT, cmd = VMR_STRVEC_INIT, test = VMR_STRVEC_INIT;
	struct compose_grants g = {0};
	_cleanup_free_ char *name = xasprintf("vmrun-host-%s", h->name);
	struct vmr_yamlout y;

	host_labels(h, &lab);
	compose_host_argv(h, &cmd);
	compose_host_health_argv(h, &test);
	compose_host_grants(h, COMPOSE_TARGET_KUBE, o, &g);

	vmr_buf_addf(out,
		     "# Generated by vmrun kube; do not edit.\n"
		     "# Host setup of '%s': `vmrun host up` until the pod is deleted.\n",
		     h->name);
	vmr_yamlout_init(&y, out);
	vmr_yamlout_map_start(&y);
	vmr_yamlout_kv_str(&y, "apiVersion", "apps/v1");
	vmr_yamlout_kv_str(&y, "kind", "DaemonSet");
	metadata(&y, name, &lab, NULL);
	vmr_yamlout_str(&y, "spec");
	vmr_yamlout_map_start(&y);
	vmr_yamlout_str(&y, "selector");
	vmr_yamlout_map_start(&y);
	labels_map(&y, "matchLabels", &lab);
	vmr_yamlout_map_end(&y);
	vmr_yamlout_str(&y, "template");
	vmr_yamlout_map_start(&y);
	vmr_yamlout_str(&y, "metadata");
	vmr_yamlout_map_start(&y);
	labels_map(&y, "labels", &lab);
	vmr_yamlout_map_end(&y);
	vmr_yamlout_str(&y, "spec");
	vmr_yamlout_map_start(&y);
	node_selector(&y, h);
	vmr_yamlout_kv_bool(&y, "hostNetwork", true);
	vmr_yamlout_kv_int(&y, "terminationGracePeriodSeconds", compose_host_grace());
	vmr_yamlout_str(&y, "containers");
	vmr_yamlout_seq_start(&y, false);
	container(&y, "host", image, &cmd, &g);
	probe(&y, "readinessProbe", &test, &compose_host_health);
	vmr_yamlout_map_end(&y);
	vmr_yamlout_seq_end(&y);
	vmr_yamlout_str(&y, "volumes");
	vmr_yamlout_seq_start(&y, false);
	volume_entries(&y, &g, NULL);
	vmr_yamlout_seq_end(&y);
	vmr_yamlout_map_end(&y); /* template spec */
	vmr_yamlout_map_end(&y); /* template */
	vmr_yamlout_map_end(&y); /* spec */
	vmr_yamlout_map_end(&y);

	compose_grants_free(&g);
	vmr_strvec_clear(&lab);
	vmr_strvec_clear(&cmd);
	vmr_strvec_clear(&test);
	return vmr_yamlout_finish(&y, name, err);
}

static int guest_pod(const struct vmr_compose_host *h, const struct vmr_guest *guest,
		     const struct vmr_compose_opts *o, struct vmr_buf *out, struct vmr_error **err)
{
	const char *image = o->image ? o->image : VMR_COMPOSE_DEFAULT_IMAGE;
	struct vmr_strvec lab = VMR_STRVEC_INIT, ann = VMR_STRVEC_INIT, flat = VMR_STRVEC_INIT;
	struct vmr_strvec cmd = VMR_STRVEC_INIT, prep = VMR_STRVEC_INIT, wait = VMR_STRVEC_INIT;
	struct vmr_strvec test = VMR_STRVEC_INIT, live = VMR_STRVEC_INIT;
	struct compose_grants g = {0}, pg = {0}, wg = {0};
	_cleanup_free_ char *name = xasprintf("vm-%s", guest->name);
	struct vmr_yamlout y;

	vmr_strvec_pushv(&lab,
			 (const char *[]){KUBE_LABEL_APP, "vmrun", "vmrun/role", "guest",
					  "vmrun/guest", guest->name, "vmrun/host", h->name, NULL});
	/* addresses, MACs and CPU lists are not valid label values: annotations */
	compose_guest_labels(h, guest, "guest", &flat);
	for (size_t i = 0; i + 1 < flat.n; i += 2) {
		if (!startswith(flat.v[i], "vmrun.cpuset") && !startswith(flat.v[i], "vmrun.ip.") &&
		    !startswith(flat.v[i], "vmrun.mac."))
			continue;
		vmr_strvec_pushf(&ann, "vmrun/%s", flat.v[i] + strlen("vmrun."));
		vmr_strvec_push(&ann, flat.v[i + 1]);
	}
	compose_guest_argv(guest, &cmd);
	compose_prep_argv(guest, &prep);
	compose_host_health_argv(h, &wait);
	compose_guest_health_argv(guest, &test);
	compose_guest_live_argv(guest, &live);
	compose_guest_grants(guest, COMPOSE_TARGET_KUBE, o, &g);
	compose_prep_grants(guest, COMPOSE_TARGET_KUBE, o, &pg);

	/* waiting for the host setup reads its state directory, nothing else */
	wg.mounts = xcalloc(1, sizeof(*wg.mounts));
	wg.mounts[0] = (struct compose_mount){
	    .type = COMPOSE_MOUNT_DIR,
	    .source = xstrdup(compose_state_dir(o)),
	    .target = xstrdup(compose_state_dir(o)),
	    .read_only = true,
	    .must_exist = false,
	    .kube_volume = "host-state",
	};
	wg.nmounts = 1;
	if (pg.env.n)
		vmr_strvec_pushv(&wg.env, (const char *const *)pg.env.v);

	vmr_buf_addf(out,
		     "# Generated by vmrun kube; do not edit.\n"
		     "# Guest '%s' on host '%s'.\n",
		     guest->name, h->name);
	vmr_yamlout_init(&y, out);
	vmr_yamlout_map_start(&y);
	vmr_yamlout_kv_str(&y, "apiVersion", "v1");
	vmr_yamlout_kv_str(&y, "kind", "Pod");
	metadata(&y, name, &lab, &ann);
	vmr_yamlout_str(&y, "spec");
	vmr_yamlout_map_start(&y);
	node_selector(&y, h);
	vmr_yamlout_kv_bool(&y, "hostNetwork", true);
	/* a guest that powers off completes the pod (restart: always: it starts again);
	 * a failure is retried */
	vmr_yamlout_kv_str(&y, "restartPolicy",
			   guest->restart == VMR_RESTART_ALWAYS ? "Always" : "OnFailure");
	vmr_yamlout_kv_int(&y, "terminationGracePeriodSeconds", compose_guest_grace(guest));
	vmr_yamlout_str(&y, "initContainers");
	vmr_yamlout_seq_start(&y, false);
	container(&y, "wait-host", image, &wait, &wg);
	vmr_yamlout_map_end(&y);
	container(&y, "prep", image, &prep, &pg);
	vmr_yamlout_map_end(&y);
	vmr_yamlout_seq_end(&y);
	vmr_yamlout_str(&y, "containers");
	vmr_yamlout_seq_start(&y, false);
	container(&y, "vm", image, &cmd, &g);
	probe(&y, "readinessProbe", &test, &compose_guest_health);
	/*
	 * a supervisor that stops answering is restarted; not one whose guest is
	 * still booting or paused (podman makes this its healthcheck)
	 */
	probe(&y, "livenessProbe", &live, &compose_guest_health);
	vmr_yamlout_map_end(&y);
	vmr_yamlout_seq_end(&y);
	/* prep's mounts are the first of g's, in the same order, so g's volumes serve both */
	vmr_yamlout_str(&y, "volumes");
	vmr_yamlout_seq_start(&y, false);
	volume_entries(&y, &g, guest);
	volume_entries(&y, &wg, guest);
	vmr_yamlout_seq_end(&y);
	vmr_yamlout_map_end(&y); /* spec */
	vmr_yamlout_map_end(&y);

	compose_grants_free(&g);
	compose_grants_free(&pg);
	compose_grants_free(&wg);
	vmr_strvec_clear(&lab);
	vmr_strvec_clear(&ann);
	vmr_strvec_clear(&flat);
	vmr_strvec_clear(&cmd);
	vmr_strvec_clear(&prep);
	vmr_strvec_clear(&wait);
	vmr_strvec_clear(&test);
	vmr_strvec_clear(&live);
	return vmr_yamlout_finish(&y, name, err);
}

static int configmap(const char *text, size_t len, struct vmr_buf *out, struct vmr_error **err)
{
	struct vmr_strvec lab = VMR_STRVEC_INIT;
	struct vmr_yamlout y;

	vmr_strvec_push(&lab, KUBE_LABEL_APP);
	vmr_strvec_push(&lab, "vmrun");
	vmr_buf_adds(out, "# Generated by vmrun kube; do not edit.\n");
	vmr_yamlout_init(&y, out);
	vmr_yamlout_map_start(&y);
	vmr_yamlout_kv_str(&y, "apiVersion", "v1");
	vmr_yamlout_kv_str(&y, "kind", "ConfigMap");
	metadata(&y, KUBE_CONFIGMAP, &lab, NULL);
	vmr_yamlout_str(&y, "data");
	vmr_yamlout_map_start(&y);
	vmr_yamlout_str(&y, "topology.yaml");
	/* a literal block keeps the file readable; libyaml quotes it if it cannot */
	vmr_yamlout_literal(&y, text, len);
	vmr_yamlout_map_end(&y);
	vmr_yamlout_map_end(&y);
	vmr_strvec_clear(&lab);
	return vmr_yamlout_finish(&y, KUBE_CONFIGMAP, err);
}

int compose_kube_build(const struct vmr_topology *t, const struct vmr_compose_opts *o,
		       const char *topology_text, size_t topology_len,
		       struct vmr_compose_files *ret, struct vmr_error **err)
{
	struct vmr_compose_files files = {0};
	struct vmr_compose_layout l;
	struct vmr_buf b = VMR_BUF_INIT;
	int r;

	compose_layout_build(t, &l);
	r = configmap(topology_text, topology_len, &b, err);
	if (r < 0)
		goto out;
	compose_files_add(&files, "topology-configmap.yaml", &b, 0644);
	for (size_t i = 0; i < l.nhosts; i++) {
		const struct vmr_compose_host *h = &l.hosts[i];
		_cleanup_free_ char *fn = xasprintf("host-%s.yaml", h->name);

		r = host_daemonset(h, o, &b, err);
		if (r < 0)
			goto out;
		compose_files_add(&files, fn, &b, 0644);
	}
	for (size_t i = 0; i < t->nguests; i++) {
		_cleanup_free_ char *fn = xasprintf("pod-%s.yaml", t->guests[i].name);

		r = guest_pod(&l.hosts[l.guest_host[i]], &t->guests[i], o, &b, err);
		if (r < 0)
			goto out;
		compose_files_add(&files, fn, &b, 0644);
	}
	*ret = files;
	files = (struct vmr_compose_files){0};
out:
	vmr_buf_free(&b);
	compose_files_free(&files);
	compose_layout_free(&l);
	return r;
}
