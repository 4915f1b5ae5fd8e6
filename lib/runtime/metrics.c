/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest's figures and their Prometheus text (lib/runtime/metrics.h). */
#include <stdarg.h>
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/runtime/control.h"
#include "lib/runtime/metrics.h"
#include "net/net.h"

static void copy_key(json_t *to, json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);

	json_object_set_new(to, key, v ? json_incref(v) : json_null());
}

int vmr_guest_metrics(const char *state_dir, const char *guest, int timeout_ms, json_t **ret,
		      struct vmr_error **err)
{
	static const char *const status_keys[] = {"state",	    "accel",   "restart_count",
						  "restart",	    "started", "uptime",
						  "supervisor_pid", "qemu_pid"};
	json_t *st = NULL, *m, *stats = NULL, *nics = json_array(), *n;
	bool up;
	size_t k;
	int r;

	r = vmr_guest_status(state_dir, guest, timeout_ms, &st, err);
	if (r < 0) {
		json_decref(nics);
		return r;
	}
	up = json_is_true(json_object_get(st, "supervisor_alive"));
	m = json_pack("{s:s, s:b}", "guest", guest, "up", up);
	for (size_t i = 0; i < ARRAY_SIZE(status_keys); i++)
		copy_key(m, st, status_keys[i]);
	json_object_set_new(m, "healthy",
			    json_boolean(up && json_is_true(json_object_get(
						   json_object_get(st, "health"), "healthy"))));
	if (up && json_is_true(json_object_get(st, "live"))) {
		json_t *req = json_pack("{s:n}", "stats");

		/* a supervisor that does not answer in time shows without figures */
		if (vmr_control_call(state_dir, guest, req, timeout_ms, &stats, NULL, NULL) < 0)
			stats = NULL;
		json_decref(req);
	}
	copy_key(m, stats, "memory_bytes");
	copy_key(m, stats, "cpu_seconds");
	copy_key(m, stats, "rss_bytes");
	json_object_set(m, "vcpus",
			json_is_array(json_object_get(stats, "vcpus"))
			    ? json_object_get(stats, "vcpus")
			    : json_array());
	json_object_set(m, "disks",
			json_is_array(json_object_get(stats, "disks"))
			    ? json_object_get(stats, "disks")
			    : json_array());
	json_array_foreach(json_object_get(stats, "nics"), k, n)
	{
		const char *ifname = json_string_value(json_object_get(n, "ifname"));
		struct vmr_net_link_stats ls;
		json_t *o = json_deep_copy(n);

		if (ifname && vmr_net_link_stats(ifname, &ls, NULL) == 0) {
			json_object_set_new(o, "rx_bytes", json_integer((json_int_t)ls.rx_bytes));
			json_object_set_new(o, "tx_bytes", json_integer((json_int_t)ls.tx_bytes));
			json_object_set_new(o, "rx_packets",
					    json_integer((json_int_t)ls.rx_packets));
			json_object_set_new(o, "tx_packets",
					    json_integer((json_int_t)ls.tx_packets));
			json_object_set_new(o, "rx_errors", json_integer((json_int_t)ls.rx_errors));
			json_object_set_new(o, "tx_errors", json_integer((json_int_t)ls.tx_errors));
			json_object_set_new(o, "rx_dropped",
					    json_integer((json_int_t)ls.rx_dropped));
			json_object_set_new(o, "tx_dropped",
					    json_integer((json_int_t)ls.tx_dropped));
		}
		json_array_append_new(nics, o);
	}
	json_object_set_new(m, "nics", nics);
	json_decref(stats);
	json_decref(st);
	*ret = m;
	return 0;
}

/* ---- the text format ---- */

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct vmr_buf *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			vmr_buf_adds(out, "\\\\");
		else if (*s == '"')
			vmr_buf_adds(out, "\\\"");
		else if (*s == '\n')
			vmr_buf_adds(out, "\\n");
		else
			vmr_buf_addc(out, *s);
	}
}

/* A sample value: integers as such, reals with enough digits. */
static void value(struct vmr_buf *out, json_t *v)
{
	if (json_is_integer(v))
		vmr_buf_addf(out, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		vmr_buf_addf(out, "%.15g", json_real_value(v));
	else if (json_is_true(v))
		vmr_buf_adds(out, "1");
	else
		vmr_buf_adds(out, "0");
}

struct family {
	const char *name, *type, *help;
};

static void family_head(struct vmr_buf *out, const struct family *f)
{
	vmr_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
}

/* name{k1="v1",k2="v2"} value; labels as NULL-terminated key, value pairs */
static void sample(struct vmr_buf *out, const char *name, json_t *v, ...)
{
	const char *k;
	bool first = true;
	va_list ap;

	vmr_buf_adds(out, name);
	va_start(ap, v);
	while ((k = va_arg(ap, const char *))) {
		const char *val = va_arg(ap, const char *);

		vmr_buf_addf(out, "%s%s=\"", first ? "{" : ",", k);
		label_value(out, val);
		vmr_buf_addc(out, '"');
		first = false;
	}
	va_end(ap);
	vmr_buf_adds(out, first ? " " : "} ");
	value(out, v);
	vmr_buf_addc(out, '\n');
}

/* Guest-level families: one sample per guest from the key of its object. */
static const struct {
	struct family f;
	const char *key;
	bool up_only; /* only while a supervisor runs it */
} guest_families[] = {
    {{"vmrun_guest_up", "gauge", "Whether a supervisor runs the guest (1) or not (0)."},
     "up",
     false},
    {{"vmrun_guest_ready", "gauge",
      "Whether the guest is ready as its ready_when says, and not paused."},
     "healthy",
     false},
    {{"vmrun_guest_restarts_total", "counter",
      "Restarts of the guest by its restart policy (this supervisor's)."},
     "restart_count",
     true},
    {{"vmrun_guest_start_time_seconds", "gauge",
      "When the guest's supervisor started, in seconds since the Unix epoch."},
     "started",
     true},
    {{"vmrun_guest_memory_bytes", "gauge", "The guest's memory size (its `memory:`)."},
     "memory_bytes",
     true},
    {{"vmrun_qemu_cpu_seconds_total", "counter",
      "CPU time of the guest's QEMU process, user and system."},
     "cpu_seconds",
     true},
    {{"vmrun_qemu_resident_memory_bytes", "gauge", "Resident memory of the guest's QEMU."},
     "rss_bytes",
     true},
};

static const struct {
	struct family f;
	const char *key;
} disk_families[] = {
    {{"vmrun_disk_read_bytes_total", "counter", "Bytes the guest read from the disk."}, "rd_bytes"},
    {{"vmrun_disk_written_bytes_total", "counter", "Bytes the guest wrote to the disk."},
     "wr_bytes"},
    {{"vmrun_disk_reads_total", "counter", "Read requests of the guest on the disk."},
     "rd_operations"},
    {{"vmrun_disk_writes_total", "counter", "Write requests of the guest on the disk."},
     "wr_operations"},
    {{"vmrun_disk_flushes_total", "counter", "Flush requests of the guest on the disk."},
     "flush_operations"},
};

static const struct {
	struct family f;
	const char *key;
} nic_families[] = {
    {{"vmrun_host_interface_receive_bytes_total", "counter",
      "Bytes received on the NIC's host interface, as the host counts them."},
     "rx_bytes"},
    {{"vmrun_host_interface_transmit_bytes_total", "counter",
      "Bytes transmitted on the NIC's host interface, as the host counts them."},
     "tx_bytes"},
    {{"vmrun_host_interface_receive_packets_total", "counter",
      "Packets received on the NIC's host interface."},
     "rx_packets"},
    {{"vmrun_host_interface_transmit_packets_total", "counter",
      "Packets transmitted on the NIC's host interface."},
     "tx_packets"},
    {{"vmrun_host_interface_receive_errors_total", "counter",
      "Receive errors on the NIC's host interface."},
     "rx_errors"},
    {{"vmrun_host_interface_transmit_errors_total", "counter",
      "Transmit errors on the NIC's host interface."},
     "tx_errors"},
    {{"vmrun_host_interface_receive_drops_total", "counter",
      "Received packets dropped on the NIC's host interface."},
     "rx_dropped"},
    {{"vmrun_host_interface_transmit_drops_total", "counter",
      "Transmitted packets dropped on the NIC's host interface."},
     "tx_dropped"},
};

void vmr_metrics_render(json_t *guests, struct vmr_buf *out)
{
	static const struct family info = {"vmrun_guest_info", "gauge",
					   "The guest's settings as labels; always 1."};
	static const struct family vcpu = {"vmrun_vcpu_cpu_seconds_total", "counter",
					   "CPU time of a vCPU thread, user and system."};
	static const struct family count = {"vmrun_exporter_guests", "gauge",
					    "Guests in the state directory."};
	size_t i, k;
	json_t *g, *x;

	x = json_integer((json_int_t)json_array_size(guests));
	family_head(out, &count);
	sample(out, count.name, x, NULL);
	json_decref(x);
	family_head(out, &info);
	json_array_foreach(guests, i, g)
	{
		const char *accel = json_string_value(json_object_get(g, "accel"));
		const char *restart = json_string_value(json_object_get(g, "restart"));
		json_t *one = json_integer(1);

		sample(out, info.name, one, "guest", json_string_value(json_object_get(g, "guest")),
		       "accel", accel ? accel : "", "restart", restart ? restart : "", NULL);
		json_decref(one);
	}
	for (size_t f = 0; f < ARRAY_SIZE(guest_families); f++) {
		family_head(out, &guest_families[f].f);
		json_array_foreach(guests, i, g)
		{
			json_t *v = json_object_get(g, guest_families[f].key);

			if (guest_families[f].up_only &&
			    (!json_is_true(json_object_get(g, "up")) || !json_is_number(v)))
				continue;
			sample(out, guest_families[f].f.name, v, "guest",
			       json_string_value(json_object_get(g, "guest")), NULL);
		}
	}
	family_head(out, &vcpu);
	json_array_foreach(guests, i, g)
	{
		json_array_foreach(json_object_get(g, "vcpus"), k, x)
		{
			char idx[24];

			if (!json_is_number(json_object_get(x, "cpu_seconds")))
				continue;
			snprintf(idx, sizeof(idx), "%lld",
				 (long long)json_integer_value(json_object_get(x, "index")));
			sample(out, vcpu.name, json_object_get(x, "cpu_seconds"), "guest",
			       json_string_value(json_object_get(g, "guest")), "vcpu", idx, NULL);
		}
	}
	for (size_t f = 0; f < ARRAY_SIZE(disk_families); f++) {
		family_head(out, &disk_families[f].f);
		json_array_foreach(guests, i, g)
		{
			json_array_foreach(json_object_get(g, "disks"), k, x) sample(
			    out, disk_families[f].f.name, json_object_get(x, disk_families[f].key),
			    "guest", json_string_value(json_object_get(g, "guest")), "disk",
			    json_string_value(json_object_get(x, "id")), NULL);
		}
	}
	for (size_t f = 0; f < ARRAY_SIZE(nic_families); f++) {
		family_head(out, &nic_families[f].f);
		json_array_foreach(guests, i, g)
		{
			json_array_foreach(json_object_get(g, "nics"), k, x)
			{
				json_t *v = json_object_get(x, nic_families[f].key);
				const char *ifname =
				    json_string_value(json_object_get(x, "ifname"));

				if (!json_is_integer(v) || !ifname)
					continue;
				sample(out, nic_families[f].f.name, v, "guest",
				       json_string_value(json_object_get(g, "guest")), "nic",
				       json_string_value(json_object_get(x, "name")), "interface",
				       ifname, NULL);
			}
		}
	}
}
