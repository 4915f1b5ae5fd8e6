/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_METRICS_H
#define VMR_METRICS_H

/*
 * A guest's figures for `vmrun stats`, `vmrun inspect` and the exporter
 * (docs/verbs.md): its supervisor's `stats` reply (CPU time of QEMU and of
 * each vCPU thread from /proc, QEMU's RSS, query-blockstats) joined with
 * its status (state, readiness, restarts) and the counters of its NICs'
 * host interfaces, read over netlink in the caller's network namespace.
 * And the Prometheus text format of them (vmr_metrics_render(): pure).
 */

#include <jansson.h>

#include "lib/base/buf.h"
#include "lib/base/error.h"

/*
 * One guest as a new object: {guest, up (a supervisor runs it), state,
 * accel, healthy, restart_count, restart, started, uptime, memory_bytes,
 * cpu_seconds, rss_bytes, vcpus: [{index, thread, cpu_seconds}], disks:
 * [{id, rd_bytes, wr_bytes, rd_operations, wr_operations,
 * flush_operations}], nics: [{name, kind, ifname, rx_bytes, tx_bytes,
 * rx_packets, tx_packets, rx_errors, tx_errors, rx_dropped, tx_dropped}]}.
 * Figures a stopped guest does not have are null or empty.
 */
int vmr_guest_metrics(const char *state_dir, const char *guest, int timeout_ms, json_t **ret,
		      struct vmr_error **err);

/*
 * The Prometheus text exposition format (version 0.0.4) of guests (an
 * array of vmr_guest_metrics() objects), appended to out: every family
 * with its # HELP and # TYPE, `vmrun_` names in base units (seconds,
 * bytes), counters ending in _total, labels guest, vcpu, disk, nic,
 * interface.  Pure.
 */
void vmr_metrics_render(json_t *guests, struct vmr_buf *out);

#endif
