/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * compose.yml: per guest a vm_NAME service (vmrun run as PID 1) and a
 * vmprep_NAME job, per physical host a host_HOST service (vmrun host up in
 * the foreground).  docs/compose.md explains every grant.
 */
#include <stdio.h>

#include "compose/compose.h"
#include "compose/internal.h"
#include "lib/base/netaddr.h"
#include "lib/base/util.h"
#include "lib/base/yamlout.h"

static void kv_duration(struct vmr_yamlout *y, const char *key, unsigned seconds)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%us", seconds);
	vmr_yamlout_kv_str(y, key, buf);
}

static void str_list(struct vmr_yamlout *y, const char *key, const struct vmr_strvec *sv, bool flow)
{
	if (!sv->n)
		return;
	vmr_yamlout_str(y, key);
	vmr_yamlout_seq_start(y, flow);
	for (size_t i = 0; i < sv->n; i++)
		vmr_yamlout_str(y, sv->v[i]);
	vmr_yamlout_seq_end(y);
}

static void argv_list(struct vmr_yamlout *y, const char *key, const struct vmr_strvec *argv)
{
	vmr_yamlout_str(y, key);
	vmr_yamlout_seq_start(y, true);
	for (size_t i = 0; i < argv->n; i++)
		vmr_yamlout_quoted(y, argv->v[i]);
	vmr_yamlout_seq_end(y);
}

static void healthcheck(struct vmr_yamlout *y, const struct vmr_strvec *test,
			const struct compose_health *h)
{
	struct vmr_strvec cmd = VMR_STRVEC_INIT;

	/* exec form ("CMD"): the check runs without a shell, like the service */
	vmr_strvec_push(&cmd, "CMD");
	for (size_t i = 0; i < test->n; i++)
		vmr_strvec_push(&cmd, test->v[i]);
	vmr_yamlout_str(y, "healthcheck");
	vmr_yamlout_map_start(y);
	argv_list(y, "test", &cmd);
	kv_duration(y, "interval", h->interval);
	kv_duration(y, "timeout", h->timeout);
	vmr_yamlout_kv_int(y, "retries", h->retries);
	kv_duration(y, "start_period", h->start_period);
	vmr_yamlout_map_end(y);
	vmr_strvec_clear(&cmd);
}

/* The settings every service starts with. */
static void service_head(struct vmr_yamlout *y, const struct vmr_compose_opts *o,
			 const struct vmr_strvec *command, const char *network_mode)
{
	vmr_yamlout_kv_str(y, "image", o->image ? o->image : VMR_COMPOSE_DEFAULT_IMAGE);
	argv_list(y, "command", command);
	/* vmrun is PID 1: it reaps QEMU and turns SIGTERM into an ACPI shutdown */
	vmr_yamlout_kv_bool(y, "init", false);
	vmr_yamlout_kv_str(y, "network_mode", network_mode);
}

static void environment(struct vmr_yamlout *y, const struct compose_grants *g)
{
	if (!g->env.n)
		return;
	vmr_yamlout_str(y, "environment");
	vmr_yamlout_map_start(y);
	for (size_t i = 0; i + 1 < g->env.n; i += 2)
		vmr_yamlout_kv_str(y, g->env.v[i], g->env.v[i + 1]);
	vmr_yamlout_map_end(y);
}

static void security(struct vmr_yamlout *y, const struct compose_grants *g)
{
	struct vmr_strvec all = VMR_STRVEC_INIT;

	vmr_strvec_push(&all, "ALL");
	str_list(y, "cap_drop", &all, true);
	str_list(y, "cap_add", &g->caps, true);
	str_list(y, "security_opt", &g->security_opt, false);
	str_list(y, "devices", &g->devices, false);
	str_list(y, "device_cgroup_rules", &g->cgroup_rules, false);
	if (g->memlock) {
		vmr_yamlout_str(y, "ulimits");
		vmr_yamlout_map_start(y);
		vmr_yamlout_str(y, "memlock");
		vmr_yamlout_map_start(y);
		vmr_yamlout_kv_int(y, "soft", -1);
		vmr_yamlout_kv_int(y, "hard", -1);
		vmr_yamlout_map_end(y);
		vmr_yamlout_map_end(y);
	}
	vmr_strvec_clear(&all);
}

static void volumes(struct vmr_yamlout *y, const struct compose_grants *g)
{
	if (!g->nmounts)
		return;
	vmr_yamlout_str(y, "volumes");
	vmr_yamlout_seq_start(y, false);
	for (size_t i = 0; i < g->nmounts; i++) {
		const struct compose_mount *m = &g->mounts[i];

		if (m->type == COMPOSE_MOUNT_FILE) {
			/*
			 * Long syntax: a missing file is an error instead of
			 * an empty directory Docker would create in its place.
			 */
			vmr_yamlout_map_start(y);
			vmr_yamlout_kv_str(y, "type", "bind");
			vmr_yamlout_kv_str(y, "source", m->source);
			vmr_yamlout_kv_str(y, "target", m->target);
			if (m->read_only)
				vmr_yamlout_kv_bool(y, "read_only", true);
			vmr_yamlout_map_end(y);
		} else {
			/* "./" makes Compose bind the file next to compose.yml */
			_cleanup_free_ char *s =
			    xasprintf("%s%s:%s%s", m->type == COMPOSE_MOUNT_TOPOLOGY ? "./" : "",
				      m->source, m->target, m->read_only ? ":ro" : "");

			vmr_yamlout_str(y, s);
		}
	}
	vmr_yamlout_seq_end(y);
}

static void string_map(struct vmr_yamlout *y, const char *key, const struct vmr_strvec *kv)
{
	vmr_yamlout_str(y, key);
	vmr_yamlout_map_start(y);
	for (size_t i = 0; i + 1 < kv->n; i += 2)
		vmr_yamlout_kv_str(y, kv->v[i], kv->v[i + 1]);
	vmr_yamlout_map_end(y);
}

static void labels(struct vmr_yamlout *y, const struct vmr_strvec *kv)
{
	string_map(y, "labels", kv);
}

static void host_service(struct vmr_yamlout *y, const struct vmr_compose_opts *o,
			 const struct vmr_compose_host *h)
{
	struct vmr_strvec cmd = VMR_STRVEC_INIT, test = VMR_STRVEC_INIT, lab = VMR_STRVEC_INIT;
	struct compose_grants g = {0};

	compose_host_argv(h, &cmd);
	compose_host_health_argv(h, &test);
	compose_host_grants(h, COMPOSE_TARGET_COMPOSE, o, &g);
	compose_host_labels(h, &lab);

	vmr_yamlout_str(y, h->service);
	vmr_yamlout_map_start(y);
	service_head(y, o, &cmd, "host");
	environment(y, &g);
	security(y, &g);
	volumes(y, &g);
	kv_duration(y, "stop_grace_period", compose_host_grace());
	healthcheck(y, &test, &compose_host_health);
	labels(y, &lab);
	vmr_yamlout_map_end(y);

	compose_grants_free(&g);
	vmr_strvec_clear(&cmd);
	vmr_strvec_clear(&test);
	vmr_strvec_clear(&lab);
}

/*
 * What a guest's two services share, from the image to the volumes: the
 * prep job runs in the same container setup as the guest (its cpuset too,
 * so it stays off the CPUs of guests that already run).
 */
static void guest_common(struct vmr_yamlout *y, const struct vmr_compose_opts *o,
			 const struct vmr_guest *guest, const struct vmr_strvec *cmd,
			 const char *network_mode, const struct compose_grants *g)
{
	service_head(y, o, cmd, network_mode);
	environment(y, g);
	security(y, g);
	if (guest->has_cpuset) {
		_cleanup_free_ char *cs = vmr_cpuset_format(&guest->cpuset);

		vmr_yamlout_kv_str(y, "cpuset", cs);
	}
	volumes(y, g);
}

static void prep_service(struct vmr_yamlout *y, const struct vmr_compose_opts *o,
			 const struct vmr_compose_host *h, const struct vmr_guest *guest)
{
	struct vmr_strvec cmd = VMR_STRVEC_INIT, lab = VMR_STRVEC_INIT;
	struct compose_grants g = {0};
	_cleanup_free_ char *name = xasprintf("vmprep_%s", guest->name);

	compose_prep_argv(guest, &cmd);
	compose_prep_grants(guest, COMPOSE_TARGET_COMPOSE, o, &g);
	compose_guest_labels(h, guest, "prep", &lab);

	vmr_yamlout_str(y, name);
	vmr_yamlout_map_start(y);
	/* image preparation needs no network: base images are on the host */
	guest_common(y, o, guest, &cmd, "none", &g);
	labels(y, &lab);
	vmr_yamlout_map_end(y);

	compose_grants_free(&g);
	vmr_strvec_clear(&cmd);
	vmr_strvec_clear(&lab);
}

static void depends(struct vmr_yamlout *y, const char *service, const char *condition)
{
	vmr_yamlout_str(y, service);
	vmr_yamlout_map_start(y);
	vmr_yamlout_kv_str(y, "condition", condition);
	vmr_yamlout_map_end(y);
}

static void guest_service(struct vmr_yamlout *y, const struct vmr_compose_opts *o,
			  const struct vmr_compose_host *h, const struct vmr_guest *guest,
			  bool annotate)
{
	struct vmr_strvec cmd = VMR_STRVEC_INIT, test = VMR_STRVEC_INIT, lab = VMR_STRVEC_INIT;
	struct compose_grants g = {0};
	_cleanup_free_ char *name = xasprintf("vm_%s", guest->name);
	_cleanup_free_ char *prep = xasprintf("vmprep_%s", guest->name);

	compose_guest_argv(guest, &cmd);
	compose_guest_health_argv(guest, &test);
	compose_guest_grants(guest, COMPOSE_TARGET_COMPOSE, o, &g);
	compose_guest_labels(h, guest, "guest", &lab);

	vmr_yamlout_str(y, name);
	vmr_yamlout_map_start(y);
	guest_common(y, o, guest, &cmd, "host", &g);
	vmr_yamlout_str(y, "depends_on");
	vmr_yamlout_map_start(y);
	depends(y, h->service, "service_healthy");
	depends(y, prep, "service_completed_successfully");
	vmr_yamlout_map_end(y);
	kv_duration(y, "stop_grace_period", compose_guest_grace(guest));
	if (guest->restart != VMR_RESTART_NO) {
		char buf[32];

		/* Docker restarts the container; vmrun runs with --no-restart inside */
		vmr_yamlout_kv_str(y, "restart", compose_guest_restart(guest, buf));
	}
	healthcheck(y, &test, &compose_guest_health);
	labels(y, &lab);
	if (annotate) {
		struct vmr_strvec ann = VMR_STRVEC_INIT;

		compose_guest_annotations(h, guest, &ann);
		string_map(y, "annotations", &ann);
		vmr_strvec_clear(&ann);
	}
	vmr_yamlout_map_end(y);

	compose_grants_free(&g);
	vmr_strvec_clear(&cmd);
	vmr_strvec_clear(&test);
	vmr_strvec_clear(&lab);
}

/*
 * `virt_ctrlif`: the service name 5gdeploy's netdef-compose looks up for a
 * bridge's `ctrlif` reference, holding the ctrlif's address.  vmrun's own
 * ctrlif is made by the primary host's host_HOST service, so this one is in
 * a profile that nothing activates: `up` never starts it.  Started by hand
 * (`--profile 5gdeploy up virt_ctrlif`) it only asks `vmrun health --host`
 * whether that host service is set up.
 */
static void ctrlif_service(struct vmr_yamlout *y, const struct vmr_compose_opts *o,
			   const struct vmr_topology *t, const struct vmr_compose_host *h,
			   bool annotate)
{
	struct vmr_strvec cmd = VMR_STRVEC_INIT, lab = VMR_STRVEC_INIT;
	struct compose_grants g = {0};

	compose_host_health_argv(h, &cmd);
	compose_ctrlif_grants(o, &g);
	vmr_strvec_push(&lab, "vmrun.role");
	vmr_strvec_push(&lab, "5gdeploy");
	vmr_strvec_push(&lab, "vmrun.host");
	vmr_strvec_push(&lab, h->name);

	vmr_yamlout_str(y, "virt_ctrlif");
	vmr_yamlout_map_start(y);
	service_head(y, o, &cmd, "none");
	vmr_yamlout_str(y, "profiles");
	vmr_yamlout_seq_start(y, true);
	vmr_yamlout_str(y, "5gdeploy");
	vmr_yamlout_seq_end(y);
	environment(y, &g);
	security(y, &g);
	volumes(y, &g);
	labels(y, &lab);
	if (annotate) {
		struct vmr_strvec ann = VMR_STRVEC_INIT;

		compose_ctrlif_annotations(t, &ann);
		string_map(y, "annotations", &ann);
		vmr_strvec_clear(&ann);
	}
	vmr_yamlout_map_end(y);

	compose_grants_free(&g);
	vmr_strvec_clear(&cmd);
	vmr_strvec_clear(&lab);
}

/* exporter_HOST: `vmrun exporter` reading the host's state directory, on the host's network */
static void exporter_service(struct vmr_yamlout *y, const struct vmr_compose_opts *o,
			     const struct vmr_compose_host *h)
{
	struct vmr_strvec cmd = VMR_STRVEC_INIT, lab = VMR_STRVEC_INIT;
	struct compose_grants g = {0};
	_cleanup_free_ char *name = compose_exporter_service(h);

	compose_exporter_argv(o, &cmd);
	compose_exporter_grants(o, &g);
	vmr_strvec_pushv(
	    &lab, (const char *const[]){"vmrun.host", h->name, "vmrun.role", "exporter", NULL});
	vmr_yamlout_str(y, name);
	vmr_yamlout_map_start(y);
	service_head(y, o, &cmd, "host");
	environment(y, &g);
	security(y, &g);
	volumes(y, &g);
	kv_duration(y, "stop_grace_period", 5);
	vmr_yamlout_kv_str(y, "restart", "unless-stopped");
	labels(y, &lab);
	vmr_yamlout_map_end(y);
	compose_grants_free(&g);
	vmr_strvec_clear(&cmd);
	vmr_strvec_clear(&lab);
}

int compose_file_build(const struct vmr_topology *t, const struct vmr_compose_opts *o,
		       bool annotations, struct vmr_buf *out, struct vmr_error **err)
{
	struct vmr_compose_layout l;
	struct vmr_yamlout y;

	compose_layout_build(t, &l);
	vmr_buf_addf(out, "# Generated by vmrun compose%s%s; do not edit.\n",
		     o->topology_name ? " from " : "", o->topology_name ? o->topology_name : "");
	vmr_buf_adds(out, "# Run it with ./compose.sh (up, down, ps, logs, upload, ssh GUEST).\n");
	if (annotations)
		vmr_buf_adds(out,
			     "# Compose v2 and 5gdeploy's netdef-compose --use-vm read this file;\n"
			     "# docker-compose 1.29 reads compose.v1.yml (no annotations).\n");
	else
		vmr_buf_adds(out,
			     "# For docker-compose 1.29: compose.yml without its annotations,\n"
			     "# which 1.29's schema refuses.\n");
	vmr_yamlout_init(&y, out);
	vmr_yamlout_map_start(&y);
	vmr_yamlout_str(&y, "services");
	vmr_yamlout_map_start(&y);
	/* per host: its setup service, then each guest's prep job and guest */
	for (size_t i = 0; i < l.nhosts; i++) {
		const struct vmr_compose_host *h = &l.hosts[i];

		host_service(&y, o, h);
		for (size_t j = 0; j < h->nguests; j++) {
			const struct vmr_guest *g = &t->guests[h->guests[j]];

			prep_service(&y, o, h, g);
			guest_service(&y, o, h, g, annotations);
		}
		if (o->exporter)
			exporter_service(&y, o, h);
	}
	for (size_t i = 0; i < l.nhosts; i++)
		if (l.hosts[i].ctrlif)
			ctrlif_service(&y, o, t, &l.hosts[i], annotations);
	vmr_yamlout_map_end(&y);
	if (t->nguests) {
		vmr_yamlout_str(&y, "volumes");
		vmr_yamlout_map_start(&y);
		for (size_t i = 0; i < t->nguests; i++) {
			_cleanup_free_ char *v = compose_volume_name(&t->guests[i]);

			vmr_yamlout_str(&y, v);
			vmr_yamlout_map_start(&y);
			vmr_yamlout_map_end(&y);
		}
		vmr_yamlout_map_end(&y);
	}
	vmr_yamlout_map_end(&y);
	compose_layout_free(&l);
	return vmr_yamlout_finish(&y, "compose.yml", err);
}
