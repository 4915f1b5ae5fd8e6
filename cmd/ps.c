/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun ps [--all] [--json] [GUEST...]: the guests in the state directory
 * that run (or that a dead supervisor left for the next start to
 * reclaim), their state, pids, uptime, vCPU threads and affinities, NICs.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/buf.h"
#include "lib/runtime/control.h"
#include "lib/base/util.h"

#define PS_STATUS_TIMEOUT_MS 3000

struct ps_opts {
	bool all;
	bool json;
};

static const struct vmr_cli_opt ps_options[] = {
    {"all", 'a', NULL, "also the guests that are not running", VMR_CLI_FLAG(struct ps_opts, all)},
    {"json", 'j', NULL, "one JSON array with every field (docs/verbs.md)",
     VMR_CLI_FLAG(struct ps_opts, json)},
    {0},
};

const struct vmr_cli_cmd cmd_ps_cli = {
    .name = "ps",
    .summary = "list guests: state, pids, uptime, vCPU affinity, NICs",
    .synopsis = "[--all] [--json] [GUEST...]",
    .description = "List the guests in the state directory that have a supervisor, and those\n"
		   "whose supervisor died without cleaning up (stale: the next `vmrun run` or\n"
		   "`up` of the guest reclaims what it left).  With --all or GUEST... also\n"
		   "guests that stopped.  Columns:\n"
		   "  STATE       QEMU's run state from QMP (running, paused, ...) while the\n"
		   "              supervisor runs; starting or stopping around that; stale;\n"
		   "              exited after a clean stop, stopped when nothing was recorded\n"
		   "  SUPERVISOR  QEMU  supervisor and QEMU pids (running guests only)\n"
		   "  UPTIME      since the supervisor started\n"
		   "  RESTARTS    restarts by its restart policy (restarting: waiting to)\n"
		   "  VCPUS       per vCPU: INDEX:THREAD@AFFINITY (CPUs the thread may run on)\n"
		   "  NICS        per NIC: NAME=HOST-INTERFACE (or the PCI device, or the kind)",
    .opts = ps_options,
    .arg_names = "[GUEST...]",
    .max_args = VMR_CLI_ANY,
    .exit_status = "0 listed, 1 the state directory cannot be read, 2 bad usage",
    .run = cmd_ps,
};

static char *fmt_uptime(json_t *v)
{
	unsigned long long s;

	if (!json_is_number(v))
		return xstrdup("-");
	s = (unsigned long long)json_number_value(v);
	if (s < 60)
		return xasprintf("%llus", s);
	if (s < 3600)
		return xasprintf("%llum%02llus", s / 60, s % 60);
	if (s < 86400)
		return xasprintf("%lluh%02llum", s / 3600, s % 3600 / 60);
	return xasprintf("%llud%02lluh", s / 86400, s % 86400 / 3600);
}

static char *fmt_pid(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) > 0
		   ? xasprintf("%lld", (long long)json_integer_value(v))
		   : xstrdup("-");
}

static char *fmt_vcpus(json_t *vcpus)
{
	struct vmr_buf b = VMR_BUF_INIT;
	size_t i;
	json_t *v;

	json_array_foreach(vcpus, i, v)
	{
		const char *aff = json_string_value(json_object_get(v, "affinity"));

		vmr_buf_addf(&b, "%s%lld:%lld@%s", i ? " " : "",
			     (long long)json_integer_value(json_object_get(v, "index")),
			     (long long)json_integer_value(json_object_get(v, "thread")),
			     aff ? aff : "?");
	}
	if (b.len == 0)
		vmr_buf_adds(&b, "-");
	return vmr_buf_detach(&b);
}

static char *fmt_nics(json_t *nics)
{
	struct vmr_buf b = VMR_BUF_INIT;
	size_t i;
	json_t *n;

	json_array_foreach(nics, i, n)
	{
		const char *name = json_string_value(json_object_get(n, "name"));
		const char *ifname = json_string_value(json_object_get(n, "ifname"));
		const char *pci = json_string_value(json_object_get(n, "pci"));
		const char *kind = json_string_value(json_object_get(n, "kind"));

		vmr_buf_addf(&b, "%s%s=%s", i ? " " : "", name ? name : "?",
			     ifname ? ifname
			     : pci  ? pci
			     : kind ? kind
				    : "?");
	}
	if (b.len == 0)
		vmr_buf_adds(&b, "-");
	return vmr_buf_detach(&b);
}

static void print_table(json_t *list)
{
	size_t i, wname = 5, wstate = 5;
	json_t *st;

	json_array_foreach(list, i, st)
	{
		size_t ln = strlen(json_string_value(json_object_get(st, "guest")));
		size_t ls = strlen(json_string_value(json_object_get(st, "state")));

		wname = ln > wname ? ln : wname;
		wstate = ls > wstate ? ls : wstate;
	}
	printf("%-*s  %-*s  %-10s  %-7s  %-7s  %-8s  %-24s  %s\n", (int)wname, "GUEST", (int)wstate,
	       "STATE", "SUPERVISOR", "QEMU", "UPTIME", "RESTARTS", "VCPUS", "NICS");
	json_array_foreach(list, i, st)
	{
		/* a guest without a supervisor has no pids, threads or NICs (null, []) */
		_cleanup_free_ char *sup = fmt_pid(json_object_get(st, "supervisor_pid"));
		_cleanup_free_ char *qemu = fmt_pid(json_object_get(st, "qemu_pid"));
		_cleanup_free_ char *up = fmt_uptime(json_object_get(st, "uptime"));
		_cleanup_free_ char *vcpus = fmt_vcpus(json_object_get(st, "vcpus"));
		_cleanup_free_ char *nics = fmt_nics(json_object_get(st, "nics"));
		json_t *rc = json_object_get(st, "restart_count");
		_cleanup_free_ char *restarts =
		    json_is_true(json_object_get(st, "supervisor_alive")) && json_is_integer(rc)
			? xasprintf("%lld", (long long)json_integer_value(rc))
			: xstrdup("-");

		printf("%-*s  %-*s  %-10s  %-7s  %-7s  %-8s  %-24s  %s\n", (int)wname,
		       json_string_value(json_object_get(st, "guest")), (int)wstate,
		       json_string_value(json_object_get(st, "state")), sup, qemu, up, restarts,
		       vcpus, nics);
	}
}

/* Whether ps lists st without --all: its supervisor runs, or a dead one left host changes. */
static bool ps_listed(json_t *st)
{
	return json_is_true(json_object_get(st, "supervisor_alive")) ||
	       streq(json_string_value(json_object_get(st, "state")), "stale");
}

VERB(ps)
{
	struct ps_opts o = {0};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_strvec names = VMR_STRVEC_INIT;
	struct vmr_cli_args a;
	json_t *list = NULL;
	size_t nstale = 0;
	int r;

	r = vmr_cli_parse(&cmd_ps_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	if (a.n > 0) {
		for (int i = 0; i < a.n; i++)
			vmr_strvec_push(&names, a.v[i]);
	} else if (vmr_guest_list(cfg.state_dir, &names, &err) < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	list = json_array();
	for (size_t i = 0; i < names.n; i++) {
		json_t *st = NULL;

		if (vmr_guest_status(cfg.state_dir, names.v[i], PS_STATUS_TIMEOUT_MS, &st, &err) <
		    0) {
			r = vmr_cli_fail(err);
			goto out;
		}
		/* a guest asked for by name is shown whatever its state */
		if (!o.all && a.n == 0 && !ps_listed(st)) {
			json_decref(st);
			continue;
		}
		nstale += streq(json_string_value(json_object_get(st, "state")), "stale");
		json_array_append_new(list, st);
	}
	if (o.json) {
		char *text = json_dumps(list, JSON_INDENT(2) | JSON_SORT_KEYS);

		if (text)
			printf("%s\n", text);
		free(text);
	} else {
		print_table(list);
		if (nstale > 0)
			fprintf(stderr,
				"vmrun: stale: the supervisor died without cleaning up; the next "
				"`vmrun run` or `up` of the guest reclaims what it left\n");
	}
	r = VMR_EXIT_OK;
out:
	json_decref(list);
	vmr_strvec_clear(&names);
	vmr_config_free(&cfg);
	return r;
}
