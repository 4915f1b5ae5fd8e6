/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun inspect GUEST [--json]: everything about one guest in one place:
 * its configuration (topology, what runs), state, pids, uptime, restarts,
 * readiness, vCPU threads and affinity, memory, disks with their image
 * chain, NICs with counters and addresses (docs/verbs.md).
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "images/images.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"
#include "lib/runtime/control.h"
#include "lib/runtime/metrics.h"
#include "lib/runtime/plandesc.h"

#define INSPECT_TIMEOUT_MS 5000

struct inspect_opts {
	bool json;
};

static const struct vmr_cli_opt inspect_options[] = {
    {"json", 'j', NULL, "one JSON object (docs/verbs.md lists its keys)",
     VMR_CLI_FLAG(struct inspect_opts, json)},
    {0},
};

const struct vmr_cli_cmd cmd_inspect_cli = {
    .name = "inspect",
    .summary = "everything about one guest: config, state, vCPUs, memory, disks, NICs",
    .synopsis = "GUEST [--json]",
    .description = "Describe GUEST: its topology and the command line and host changes it\n"
		   "runs with, its state, pids, uptime, restarts and readiness, each vCPU's\n"
		   "thread, affinity and CPU time, QEMU's memory (and the guest's balloon\n"
		   "statistics when it has a balloon), each disk's image chain and allocation,\n"
		   "each NIC's host interface, counters and addresses (from the guest agent when\n"
		   "it answers, else from the topology).",
    .opts = inspect_options,
    .arg_names = "GUEST",
    .min_args = 1,
    .max_args = 1,
    .exit_status = "0 shown, 1 failure (a guest without a state directory), 2 bad usage",
    .run = cmd_inspect,
};

static json_t *qmp_return(const char *state, const char *guest, const char *cmd)
{
	json_t *ret = NULL;

	if (vmr_control_qmp(state, guest, cmd, NULL, INSPECT_TIMEOUT_MS, &ret, NULL, NULL) < 0)
		ret = NULL;
	return ret;
}

/* The agent's view of the guest's interfaces, or NULL. */
static json_t *agent_interfaces(const char *state, const char *guest)
{
	json_t *req = json_pack("{s:{s:s}}", "agent", "execute", "guest-network-get-interfaces");
	json_t *ret = NULL;

	if (vmr_control_call(state, guest, req, INSPECT_TIMEOUT_MS, &ret, NULL, NULL) < 0 ||
	    !json_is_array(ret)) {
		json_decref(ret);
		ret = NULL;
	}
	json_decref(req);
	return ret;
}

/* The addresses the agent reports for the interface with mac, as "ADDR/PFX" strings. */
static json_t *agent_addresses(json_t *ifaces, const char *mac)
{
	json_t *out = json_array(), *i, *a;
	size_t k, m;

	json_array_foreach(ifaces, k, i)
	{
		if (!mac ||
		    strcasecmp(json_string_value(json_object_get(i, "hardware-address")) ?: "",
			       mac) != 0)
			continue;
		json_array_foreach(json_object_get(i, "ip-addresses"), m, a) json_array_append_new(
		    out,
		    json_sprintf("%s/%lld", json_string_value(json_object_get(a, "ip-address")),
				 (long long)json_integer_value(json_object_get(a, "prefix"))));
	}
	return out;
}

static json_t *build(const struct vmr_config *cfg, const char *guest, struct vmr_error **err)
{
	_cleanup_free_ char *plan_path = vmr_statedir_path(cfg->state_dir, guest, VMR_PLAN_FILE);
	_cleanup_free_ char *qemu_img = NULL;
	json_t *st = NULL, *m = NULL, *o, *plan, *disks = json_array(), *nics = json_array(),
	       *vcpus = json_array(), *ifaces = NULL, *x;
	bool up;
	size_t k;

	if (vmr_guest_status(cfg->state_dir, guest, INSPECT_TIMEOUT_MS, &st, err) < 0 ||
	    vmr_guest_metrics(cfg->state_dir, guest, INSPECT_TIMEOUT_MS, &m, err) < 0) {
		json_decref(st);
		json_decref(disks);
		json_decref(nics);
		json_decref(vcpus);
		return NULL;
	}
	up = json_is_true(json_object_get(st, "supervisor_alive"));
	plan = json_load_file(plan_path, 0, NULL);
	o = json_pack("{s:s, s:s?, s:b, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "guest", guest,
		      "state", json_string_value(json_object_get(st, "state")), "running", up,
		      "supervisor_pid", json_object_get(st, "supervisor_pid"), "qemu_pid",
		      json_object_get(st, "qemu_pid"), "started", json_object_get(st, "started"),
		      "uptime", json_object_get(st, "uptime"), "restart_count",
		      json_object_get(st, "restart_count"), "exit_status",
		      json_object_get(st, "exit_status"), "accel", json_object_get(st, "accel"));
	json_object_set_new(
	    o, "config",
	    json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}", "topology", json_object_get(st, "topology"),
		      "restart", json_object_get(st, "restart"), "cpuset",
		      json_object_get(st, "cpuset"), "argv", json_object_get(plan, "argv"), "host",
		      json_object_get(plan, "host")));
	/* processes a device runs beside QEMU (swtpm) */
	json_object_set_new(o, "helpers",
			    json_object_get(st, "helpers")
				? json_incref(json_object_get(st, "helpers"))
				: json_array());
	json_object_set_new(o, "readiness",
			    json_object_get(st, "health")
				? json_incref(json_object_get(st, "health"))
				: json_null());
	/* vCPUs: thread and affinity from the status, CPU time from /proc */
	json_array_foreach(json_object_get(st, "vcpus"), k, x)
	{
		json_t *v = json_deep_copy(x), *c = json_array_get(json_object_get(m, "vcpus"), k);

		json_object_set(v, "cpu_seconds",
				c ? json_object_get(c, "cpu_seconds") ?: json_null() : json_null());
		json_array_append_new(vcpus, v);
	}
	json_object_set_new(o, "vcpus", vcpus);
	{
		json_t *bal = up ? qmp_return(cfg->state_dir, guest, "query-balloon") : NULL;

		json_object_set_new(o, "memory",
				    json_pack("{s:O?, s:O?, s:O?, s:o}", "size_bytes",
					      json_object_get(m, "memory_bytes"), "qemu_rss_bytes",
					      json_object_get(m, "rss_bytes"), "qemu_cpu_seconds",
					      json_object_get(m, "cpu_seconds"), "balloon",
					      bal ? bal : json_null()));
	}
	/* disks: the chain of each image, and its I/O while it runs */
	if (vmr_image_qemu_img(cfg, &qemu_img, NULL) < 0)
		qemu_img = NULL;
	json_array_foreach(json_object_get(st, "disks"), k, x)
	{
		json_t *d = json_deep_copy(x), *chain = NULL, *io = NULL, *b;
		const char *file = json_string_value(json_object_get(x, "file"));
		size_t n;

		if (qemu_img && file && vmr_image_chain(qemu_img, file, &chain, NULL) == 0) {
			json_t *c = json_array(), *img;

			json_array_foreach(chain, n, img) json_array_append_new(
			    c, json_pack("{s:O?, s:O?, s:O?, s:O?}", "file",
					 json_object_get(img, "filename"), "format",
					 json_object_get(img, "format"), "virtual_size",
					 json_object_get(img, "virtual-size"), "actual_size",
					 json_object_get(img, "actual-size")));
			json_object_set_new(d, "chain", c);
			json_decref(chain);
		} else {
			json_object_set_new(d, "chain", json_null());
		}
		json_array_foreach(json_object_get(m, "disks"), n, b)
		{
			if (json_equal(json_object_get(b, "id"), json_object_get(x, "id")))
				io = json_deep_copy(b);
		}
		if (io)
			json_object_del(io, "id");
		json_object_set_new(d, "io", io ? io : json_null());
		json_array_append_new(disks, d);
	}
	json_object_set_new(o, "disks", disks);
	/* NICs: host interface and counters; addresses from the agent, else the topology */
	if (up)
		ifaces = agent_interfaces(cfg->state_dir, guest);
	json_array_foreach(json_object_get(st, "nics"), k, x)
	{
		json_t *n = json_deep_copy(x), *c = NULL, *mm;
		const char *ip = json_string_value(json_object_get(x, "ip"));
		size_t q;

		json_array_foreach(json_object_get(m, "nics"), q, mm)
		{
			if (json_equal(json_object_get(mm, "name"), json_object_get(x, "name")))
				c = mm;
		}
		if (c) {
			static const char *const keys[] = {"rx_bytes",	 "tx_bytes",  "rx_packets",
							   "tx_packets", "rx_errors", "tx_errors",
							   "rx_dropped", "tx_dropped"};
			json_t *cnt = json_object();

			for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
				if (json_object_get(c, keys[i]))
					json_object_set(cnt, keys[i], json_object_get(c, keys[i]));
			json_object_set_new(n, "host_counters", cnt);
		}
		if (ifaces) {
			json_object_set_new(
			    n, "addresses",
			    agent_addresses(ifaces, json_string_value(json_object_get(x, "mac"))));
			json_object_set_new(n, "addresses_from", json_string("agent"));
		} else {
			json_object_set_new(n, "addresses",
					    ip ? json_pack("[s]", ip) : json_array());
			json_object_set_new(n, "addresses_from", json_string("topology"));
		}
		json_array_append_new(nics, n);
	}
	json_object_set_new(o, "nics", nics);
	json_decref(ifaces);
	json_decref(plan);
	json_decref(st);
	json_decref(m);
	return o;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static void print_human(json_t *o)
{
	json_t *r = json_object_get(o, "readiness"), *mem = json_object_get(o, "memory"), *x;
	json_t *cfgj = json_object_get(o, "config");
	size_t k;

	printf("guest:        %s\n", str(o, "guest"));
	printf("state:        %s%s\n", str(o, "state"),
	       json_is_true(json_object_get(o, "running")) ? "" : " (no supervisor)");
	printf("topology:     %s\n", str(cfgj, "topology"));
	printf("supervisor:   pid %lld, QEMU pid %lld, accel %s\n",
	       (long long)json_integer_value(json_object_get(o, "supervisor_pid")),
	       (long long)json_integer_value(json_object_get(o, "qemu_pid")), str(o, "accel"));
	json_array_foreach(json_object_get(o, "helpers"), k, x)
	    printf("helper:       %s, pid %lld%s\n", str(x, "name"),
		   (long long)json_integer_value(json_object_get(x, "pid")),
		   json_is_true(json_object_get(x, "exited")) ? " (exited)" : "");
	printf("uptime:       %lld s, restarts %lld (restart: %s)\n",
	       (long long)json_integer_value(json_object_get(o, "uptime")),
	       (long long)json_integer_value(json_object_get(o, "restart_count")),
	       str(cfgj, "restart"));
	printf("readiness:    %s, ready_when %s%s%s\n",
	       json_is_true(json_object_get(r, "healthy")) ? "ready" : "not ready",
	       str(r, "ready_when"), json_object_get(r, "last") ? ", last seen: " : "",
	       json_object_get(r, "last") ? str(r, "last") : "");
	printf("memory:       %lld bytes, QEMU RSS %lld bytes, balloon %s\n",
	       (long long)json_integer_value(json_object_get(mem, "size_bytes")),
	       (long long)json_integer_value(json_object_get(mem, "qemu_rss_bytes")),
	       json_is_null(json_object_get(mem, "balloon")) ? "none" : "present");
	json_array_foreach(json_object_get(o, "vcpus"), k, x)
	    printf("vcpu %lld:       thread %lld, affinity %s, %.2f s CPU\n",
		   (long long)json_integer_value(json_object_get(x, "index")),
		   (long long)json_integer_value(json_object_get(x, "thread")), str(x, "affinity"),
		   json_number_value(json_object_get(x, "cpu_seconds")));
	json_array_foreach(json_object_get(o, "disks"), k, x)
	{
		json_t *img, *io = json_object_get(x, "io");
		size_t n;

		printf("disk %s: %s (%s%s)\n", str(x, "id"), str(x, "file"), str(x, "format"),
		       json_is_true(json_object_get(x, "readonly")) ? ", read-only" : "");
		json_array_foreach(json_object_get(x, "chain"), n, img)
		    printf("  %s %s: %s, %lld of %lld bytes allocated\n", n ? "on" : "image",
			   str(img, "file"), str(img, "format"),
			   (long long)json_integer_value(json_object_get(img, "actual_size")),
			   (long long)json_integer_value(json_object_get(img, "virtual_size")));
		if (json_is_object(io))
			printf("  io: read %lld bytes (%lld requests), written %lld bytes (%lld "
			       "requests)\n",
			       (long long)json_integer_value(json_object_get(io, "rd_bytes")),
			       (long long)json_integer_value(json_object_get(io, "rd_operations")),
			       (long long)json_integer_value(json_object_get(io, "wr_bytes")),
			       (long long)json_integer_value(json_object_get(io, "wr_operations")));
	}
	json_array_foreach(json_object_get(o, "nics"), k, x)
	{
		json_t *c = json_object_get(x, "host_counters"), *a;
		size_t n;

		printf("nic %s: %s %s, host interface %s\n", str(x, "name"), str(x, "kind"),
		       str(x, "mac"), str(x, "ifname"));
		if (json_object_size(c))
			printf("  host counters: rx %lld bytes %lld packets, tx %lld bytes %lld "
			       "packets\n",
			       (long long)json_integer_value(json_object_get(c, "rx_bytes")),
			       (long long)json_integer_value(json_object_get(c, "rx_packets")),
			       (long long)json_integer_value(json_object_get(c, "tx_bytes")),
			       (long long)json_integer_value(json_object_get(c, "tx_packets")));
		printf("  addresses (%s):", str(x, "addresses_from"));
		json_array_foreach(json_object_get(x, "addresses"), n, a)
		    printf(" %s", json_string_value(a));
		printf("\n");
	}
}

VERB(inspect)
{
	struct inspect_opts o = {0};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_cli_args a;
	_cleanup_free_ char *dir = NULL;
	json_t *j;
	int r;

	r = vmr_cli_parse(&cmd_inspect_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	if (!vmr_guest_name_valid(a.v[0])) {
		vmr_error_usage(&err, "invalid guest name '%s'", a.v[0]);
		r = vmr_cli_fail(err);
		goto out;
	}
	dir = vmr_statedir_path(cfg.state_dir, a.v[0], "lock");
	if (access(dir, F_OK) < 0) {
		vmr_error_set(&err, 0, "guest '%s' has never run here (no '%s')", a.v[0], dir);
		r = vmr_cli_fail(err);
		goto out;
	}
	j = build(&cfg, a.v[0], &err);
	if (!j) {
		r = vmr_cli_fail(err);
		goto out;
	}
	if (o.json) {
		char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

		printf("%s\n", text ? text : "{}");
		free(text);
	} else {
		print_human(j);
	}
	json_decref(j);
	r = VMR_EXIT_OK;
out:
	vmr_config_free(&cfg);
	return r;
}
