/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun stats [GUEST...] [--json] [--interval S [--count N]]: CPU time per
 * vCPU thread and QEMU's memory from /proc, block I/O from query-blockstats,
 * NIC counters over netlink (lib/runtime/metrics.h); once, or every S
 * seconds as rates (as `docker stats` does).
 */
#include <stdio.h>
#include <time.h>

#include "cmd/cmd.h"
#include "lib/base/util.h"
#include "lib/runtime/control.h"
#include "lib/runtime/metrics.h"

#define STATS_TIMEOUT_MS 3000

struct stats_opts {
	bool json;
	long long interval;
	long long count;
};

static const struct vmr_cli_opt stats_options[] = {
    {"json", 'j', NULL, "JSON: one array (with --interval, one line per sample)",
     VMR_CLI_FLAG(struct stats_opts, json)},
    {"interval", 'i', "S", "sample every S seconds and show rates, until interrupted",
     VMR_CLI_SECONDS(struct stats_opts, interval, 1, 86400)},
    {"count", 'n', "N", "with --interval: stop after N samples",
     VMR_CLI_SECONDS(struct stats_opts, count, 1, 1000000)},
    {0},
};

const struct vmr_cli_cmd cmd_stats_cli = {
    .name = "stats",
    .summary = "CPU, memory, disk and NIC figures of running guests",
    .synopsis = "[GUEST...] [--json] [--interval S [--count N]]",
    .description = "Show the figures of GUEST... (default: every guest a supervisor runs): CPU\n"
		   "time of QEMU and of each vCPU thread (/proc), QEMU's resident memory, bytes\n"
		   "and requests per disk (QMP query-blockstats), bytes and packets of each\n"
		   "NIC's host interface (netlink, in this network namespace).  With\n"
		   "--interval S, sample every S seconds and show rates.",
    .opts = stats_options,
    .arg_names = "[GUEST...]",
    .max_args = VMR_CLI_ANY,
    .exit_status = "0 shown, 1 failure (the state directory cannot be read),\n"
		   "2 bad usage",
    .run = cmd_stats,
};

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : 0;
}

/* Sum of key over an array of objects. */
static double sum(json_t *arr, const char *key)
{
	double s = 0;
	size_t i;
	json_t *x;

	json_array_foreach(arr, i, x) s += num(x, key);
	return s;
}

static char *human_bytes(double b)
{
	static const char units[] = "KMGTP";
	int u = -1;

	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	return u < 0 ? xasprintf("%.0fB", b) : xasprintf("%.1f%ciB", b, units[u]);
}

static int collect(const char *state, const struct vmr_strvec *names, bool all, json_t **ret,
		   struct vmr_error **err)
{
	json_t *list = json_array();

	for (size_t i = 0; i < names->n; i++) {
		json_t *m = NULL;

		if (vmr_guest_metrics(state, names->v[i], STATS_TIMEOUT_MS, &m, err) < 0) {
			json_decref(list);
			return -1;
		}
		if (all && !json_is_true(json_object_get(m, "up"))) {
			json_decref(m);
			continue;
		}
		json_array_append_new(list, m);
	}
	*ret = list;
	return 0;
}

static void print_once(json_t *list)
{
	size_t i;
	json_t *g;

	printf("%-12s  %-10s  %9s  %10s  %10s  %10s  %10s  %10s\n", "GUEST", "STATE", "CPU-S",
	       "MEM-RSS", "DISK-READ", "DISK-WRITE", "NET-RX", "NET-TX");
	json_array_foreach(list, i, g)
	{
		_cleanup_free_ char *rss = human_bytes(num(g, "rss_bytes"));
		_cleanup_free_ char *rd = human_bytes(sum(json_object_get(g, "disks"), "rd_bytes"));
		_cleanup_free_ char *wr = human_bytes(sum(json_object_get(g, "disks"), "wr_bytes"));
		_cleanup_free_ char *rx = human_bytes(sum(json_object_get(g, "nics"), "rx_bytes"));
		_cleanup_free_ char *tx = human_bytes(sum(json_object_get(g, "nics"), "tx_bytes"));
		const char *state = json_string_value(json_object_get(g, "state"));

		printf("%-12s  %-10s  %9.2f  %10s  %10s  %10s  %10s  %10s\n",
		       json_string_value(json_object_get(g, "guest")), state ? state : "-",
		       num(g, "cpu_seconds"), rss, rd, wr, rx, tx);
	}
}

/* The guest of prev (an array) named like g, or NULL. */
static json_t *find_guest(json_t *prev, json_t *g)
{
	size_t i;
	json_t *p;

	json_array_foreach(prev, i, p)
	{
		if (streq(json_string_value(json_object_get(p, "guest")),
			  json_string_value(json_object_get(g, "guest"))) &&
		    json_equal(json_object_get(p, "qemu_pid"), json_object_get(g, "qemu_pid")))
			return p;
	}
	return NULL;
}

/* Add "rates" to each guest of cur from the change since prev, secs apart. */
static void add_rates(json_t *cur, json_t *prev, double secs)
{
	size_t i;
	json_t *g;

	json_array_foreach(cur, i, g)
	{
		json_t *p = find_guest(prev, g);
		double d = secs > 0 ? secs : 1;

		if (!p)
			continue;
		json_object_set_new(
		    g, "rates",
		    json_pack("{s:f, s:f, s:f, s:f, s:f}", "cpu_percent",
			      100.0 * (num(g, "cpu_seconds") - num(p, "cpu_seconds")) / d,
			      "disk_read_bytes_per_second",
			      (sum(json_object_get(g, "disks"), "rd_bytes") -
			       sum(json_object_get(p, "disks"), "rd_bytes")) /
				  d,
			      "disk_write_bytes_per_second",
			      (sum(json_object_get(g, "disks"), "wr_bytes") -
			       sum(json_object_get(p, "disks"), "wr_bytes")) /
				  d,
			      "net_rx_bytes_per_second",
			      (sum(json_object_get(g, "nics"), "rx_bytes") -
			       sum(json_object_get(p, "nics"), "rx_bytes")) /
				  d,
			      "net_tx_bytes_per_second",
			      (sum(json_object_get(g, "nics"), "tx_bytes") -
			       sum(json_object_get(p, "nics"), "tx_bytes")) /
				  d));
	}
}

static void print_rates(json_t *list)
{
	size_t i;
	json_t *g;

	printf("%-12s  %-10s  %7s  %10s  %10s  %10s  %10s  %10s\n", "GUEST", "STATE", "CPU%",
	       "MEM-RSS", "DISK-R/s", "DISK-W/s", "NET-RX/s", "NET-TX/s");
	json_array_foreach(list, i, g)
	{
		json_t *r = json_object_get(g, "rates");
		_cleanup_free_ char *rss = human_bytes(num(g, "rss_bytes"));
		_cleanup_free_ char *rd = human_bytes(num(r, "disk_read_bytes_per_second"));
		_cleanup_free_ char *wr = human_bytes(num(r, "disk_write_bytes_per_second"));
		_cleanup_free_ char *rx = human_bytes(num(r, "net_rx_bytes_per_second"));
		_cleanup_free_ char *tx = human_bytes(num(r, "net_tx_bytes_per_second"));
		const char *state = json_string_value(json_object_get(g, "state"));

		if (!r) {
			printf("%-12s  %-10s  %7s  %10s  %10s  %10s  %10s  %10s\n",
			       json_string_value(json_object_get(g, "guest")), state ? state : "-",
			       "-", rss, "-", "-", "-", "-");
			continue;
		}
		printf("%-12s  %-10s  %6.1f%%  %10s  %10s  %10s  %10s  %10s\n",
		       json_string_value(json_object_get(g, "guest")), state ? state : "-",
		       num(r, "cpu_percent"), rss, rd, wr, rx, tx);
	}
}

VERB(stats)
{
	struct stats_opts o = {.interval = 0, .count = 0};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct vmr_strvec names = VMR_STRVEC_INIT;
	struct vmr_cli_args a;
	json_t *prev = NULL, *cur = NULL;
	uint64_t prev_ms = 0;
	int r;

	r = vmr_cli_parse(&cmd_stats_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	if (o.count && !o.interval)
		return vmr_cli_usage_error(&cmd_stats_cli, "--count needs --interval");
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	for (int i = 0; i < a.n; i++)
		vmr_strvec_push(&names, a.v[i]);
	if (a.n == 0 && vmr_guest_list(cfg.state_dir, &names, &err) < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	for (long long n = 0;; n++) {
		r = collect(cfg.state_dir, &names, a.n == 0, &cur, &err);
		if (r < 0) {
			r = vmr_cli_fail(err);
			goto out;
		}
		if (!o.interval) {
			if (o.json) {
				char *text = json_dumps(cur, JSON_INDENT(2) | JSON_SORT_KEYS);

				printf("%s\n", text ? text : "[]");
				free(text);
			} else {
				print_once(cur);
			}
			break;
		}
		if (prev) {
			add_rates(cur, prev, (double)(now_ms() - prev_ms) / 1000.0);
			if (o.json) {
				char *text = json_dumps(cur, JSON_COMPACT | JSON_SORT_KEYS);

				printf("%s\n", text ? text : "[]");
				free(text);
			} else {
				print_rates(cur);
				printf("\n");
			}
			fflush(stdout);
			if (o.count && n >= o.count)
				break;
		}
		json_decref(prev);
		prev = TAKE_PTR(cur);
		prev_ms = now_ms();
		{
			struct timespec ts = {(time_t)o.interval, 0};

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
	}
	r = VMR_EXIT_OK;
out:
	json_decref(prev);
	json_decref(cur);
	vmr_strvec_clear(&names);
	vmr_config_free(&cfg);
	return r;
}
