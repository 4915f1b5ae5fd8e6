/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `vmrun systemd`: the unit drop-ins that run one host's guests under
 * systemd (docs/systemd.md).  The template units vmrun@.service (one guest
 * per instance, Type=notify) and vmrun-host@.service (the host setup, a
 * oneshot) are installed with vmrun (systemd/); this writes what is
 * particular to a topology: which topology file an instance reads, how long
 * its stop may take, what it depends on, and a target that wants them all.
 */
#include <ctype.h>
#include <stdio.h>

#include "compose/compose.h"
#include "compose/internal.h"
#include "lib/base/util.h"

/* the topology's file name as a unit name part: [A-Za-z0-9:_.-], others '_' */
static char *unit_part(const char *path)
{
	const char *base = strrchr(path, '/');
	char *s = xstrdup(base ? base + 1 : path), *dot = strrchr(s, '.');

	if (dot && dot != s && (streq(dot, ".yaml") || streq(dot, ".yml")))
		*dot = '\0';
	for (char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(":_.-", *p))
			*p = '_';
	return s;
}

/*
 * An Environment= assignment: systemd takes the value up to the end of the
 * line, quoted when it holds spaces, with C-style escapes inside quotes.
 */
static void env_line(struct vmr_buf *b, const char *name, const char *value)
{
	vmr_buf_addf(b, "Environment=\"%s=", name);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			vmr_buf_addc(b, '\\');
		/* '%' starts a specifier */
		if (*p == '%')
			vmr_buf_addc(b, '%');
		vmr_buf_addc(b, *p);
	}
	vmr_buf_adds(b, "\"\n");
}

int compose_systemd_build(const struct vmr_topology *t, const struct vmr_compose_opts *o,
			  const char *topology_path, const char *host,
			  struct vmr_compose_files *ret, struct vmr_error **err)
{
	struct vmr_compose_layout l = {0};
	struct vmr_compose_files files = {0};
	struct vmr_buf b = VMR_BUF_INIT, wants = VMR_BUF_INIT;
	const struct vmr_compose_host *h = NULL;
	_cleanup_free_ char *part = unit_part(topology_path), *target = NULL;
	_cleanup_free_ char *host_unit = NULL;
	const char *name = o->topology_name ? o->topology_name : topology_path;

	compose_layout_build(t, &l);
	for (size_t i = 0; i < l.nhosts && !h; i++)
		if (host ? streq(l.hosts[i].name, host) : i == 0)
			h = &l.hosts[i];
	if (!h) {
		compose_layout_free(&l);
		return vmr_error_usage(err, "host '%s' is not in the topology '%s'", host, name);
	}
	/* the host setup has work only for the ctrlif and VFs (docs/networking.md) */
	if (h->ctrlif || h->sriov) {
		host_unit = xasprintf("vmrun-host@%s.service", h->name);
		vmr_buf_addf(&b,
			     "# %s: the setup of host '%s' for %s (written by `vmrun systemd`)\n"
			     "[Unit]\n"
			     "Description=vmrun host setup of %s (%s)\n"
			     "\n"
			     "[Service]\n",
			     host_unit, h->name, name, h->name, name);
		env_line(&b, "VMRUN_TOPOLOGY", topology_path);
		/* the implicit local host is `host up`'s default (no name) */
		env_line(&b, "VMRUN_HOST", h->host ? h->name : "");
		if (o->state_dir)
			env_line(&b, "VMRUN_STATE_DIR", o->state_dir);
		_cleanup_free_ char *file = xasprintf("%s.d/50-vmrun.conf", host_unit);
		compose_files_add(&files, file, &b, 0644);
	}
	for (size_t k = 0; k < h->nguests; k++) {
		const struct vmr_guest *g = &t->guests[h->guests[k]];
		_cleanup_free_ char *unit = xasprintf("vmrun@%s.service", g->name);
		_cleanup_free_ char *file = xasprintf("%s.d/50-vmrun.conf", unit);

		vmr_buf_addf(&b,
			     "# %s: guest '%s' of %s (written by `vmrun systemd`)\n"
			     "[Unit]\n"
			     "Description=vmrun guest %s (%s)\n",
			     unit, g->name, name, g->name, name);
		if (host_unit)
			vmr_buf_addf(&b, "Requires=%s\nAfter=%s\n", host_unit, host_unit);
		vmr_buf_adds(&b, "\n[Service]\n");
		env_line(&b, "VMRUN_TOPOLOGY", topology_path);
		if (o->state_dir)
			env_line(&b, "VMRUN_STATE_DIR", o->state_dir);
		/* SIGTERM: the power button, stop_timeout, then quit, SIGKILL and the teardown */
		vmr_buf_addf(&b, "TimeoutStopSec=%u\n",
			     g->stop_timeout + VMR_COMPOSE_TEARDOWN_SECONDS);
		{
			/* what compose grants the container that systemd would limit */
			struct compose_grants gr = {0};

			compose_guest_grants(g, COMPOSE_TARGET_COMPOSE, o, &gr);
			/* VFIO pins all guest RAM: systemd's default RLIMIT_MEMLOCK is 8 MiB */
			if (gr.memlock)
				vmr_buf_adds(&b, "LimitMEMLOCK=infinity\n");
			compose_grants_free(&gr);
		}
		compose_files_add(&files, file, &b, 0644);
		vmr_buf_addf(&wants, " %s", unit);
	}
	target = xasprintf("vmrun-%s.target", part);
	vmr_buf_addf(&b,
		     "# %s: every guest of %s on host '%s' (written by `vmrun systemd`)\n"
		     "[Unit]\n"
		     "Description=vmrun guests of %s on host %s\n"
		     "Documentation=man:vmrun-systemd(1)\n",
		     target, name, h->name, name, h->name);
	if (wants.len)
		vmr_buf_addf(&b, "Wants=%s\n", vmr_buf_str(&wants) + 1);
	vmr_buf_adds(&b, "\n[Install]\nWantedBy=multi-user.target\n");
	compose_files_add(&files, target, &b, 0644);
	vmr_buf_free(&wants);
	compose_layout_free(&l);
	*ret = files;
	return 0;
}
