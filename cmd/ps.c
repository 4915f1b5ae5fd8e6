/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun ps [--json] [GUEST...]: the guests in the state directory, their
 * state, pids, uptime, vCPU threads and affinities, NICs.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/buf.h"
#include "lib/control.h"
#include "lib/util.h"

#define PS_STATUS_TIMEOUT_MS 3000

static void ps_usage(FILE *f)
{
	fputs("usage: vmrun ps [--json] [GUEST...]\n\n"
	      "List the guests in the state directory (or only GUEST...):\n"
	      "  STATE       QEMU's run state from QMP (running, paused, ...) while the\n"
	      "              supervisor runs; starting or stopping around that; stale when\n"
	      "              the supervisor died without cleaning up; exited or stopped\n"
	      "  SUPERVISOR  QEMU  supervisor and QEMU pids\n"
	      "  VCPUS       per vCPU: INDEX:THREAD@AFFINITY (CPUs the thread may run on)\n"
	      "  NICS        per NIC: NAME=HOST-INTERFACE (or the PCI device, or the kind)\n\n"
	      "  -j, --json   one JSON array with every field (docs/verbs.md)\n"
	      "  -h, --help   show this help\n",
	      f);
}

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
	printf("%-*s  %-*s  %-10s  %-7s  %-7s  %-24s  %s\n", (int)wname, "GUEST", (int)wstate,
	       "STATE", "SUPERVISOR", "QEMU", "UPTIME", "VCPUS", "NICS");
	json_array_foreach(list, i, st)
	{
		/* the pids and threads of a cleanly stopped guest are history */
		bool past = streq(json_string_value(json_object_get(st, "state")), "exited") ||
			    streq(json_string_value(json_object_get(st, "state")), "stopped");
		_cleanup_free_ char *sup =
		    fmt_pid(past ? NULL : json_object_get(st, "supervisor_pid"));
		_cleanup_free_ char *qemu = fmt_pid(past ? NULL : json_object_get(st, "qemu_pid"));
		_cleanup_free_ char *up = fmt_uptime(json_object_get(st, "uptime"));
		_cleanup_free_ char *vcpus = fmt_vcpus(past ? NULL : json_object_get(st, "vcpus"));
		_cleanup_free_ char *nics = fmt_nics(json_object_get(st, "nics"));

		printf("%-*s  %-*s  %-10s  %-7s  %-7s  %-24s  %s\n", (int)wname,
		       json_string_value(json_object_get(st, "guest")), (int)wstate,
		       json_string_value(json_object_get(st, "state")), sup, qemu, up, vcpus, nics);
	}
}

VERB(ps)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_strvec names = VMR_STRVEC_INIT;
	json_t *list = NULL;
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			ps_usage(stdout);
			return VMR_EXIT_OK;
		default:
			ps_usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			vmr_strvec_push(&names, argv[i]);
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
		json_array_append_new(list, st);
	}
	if (json) {
		char *text = json_dumps(list, JSON_INDENT(2) | JSON_SORT_KEYS);

		if (text)
			printf("%s\n", text);
		free(text);
	} else {
		print_table(list);
	}
	r = VMR_EXIT_OK;
out:
	json_decref(list);
	vmr_strvec_clear(&names);
	vmr_config_free(&cfg);
	return r;
}
