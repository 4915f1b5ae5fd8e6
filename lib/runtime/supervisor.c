/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest supervisor (lib/runtime/supervisor.h, docs/supervisor.md): its
 * entry point, status.json, QEMU's life (reaping, the graceful stop and its
 * escalation, signals) and QMP events.  The phases are in
 * supervisor_{start,loop,control,teardown}.c (supervisor_internal.h).
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "lib/base/fault.h"
#include "lib/base/notify.h"
#include "lib/runtime/plandesc.h"
#include "lib/runtime/procstat.h"
#include "lib/runtime/supervisor_internal.h"

const char *const sup_phase_names[] = {
    [PHASE_STARTING] = "starting", [PHASE_RUNNING] = "running", [PHASE_POWERDOWN] = "stopping",
    [PHASE_QUIT] = "stopping",	   [PHASE_KILLED] = "stopping",
};

void sup_log(struct sup *s, enum vmr_log_level level, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	if (!s->o->log)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	s->o->log(level, msg, s->o->log_userdata);
}

char *sup_file(struct sup *s, const char *name)
{
	return vmr_statedir_file(&s->dir, name);
}

void sup_unlink(struct sup *s, const char *name)
{
	_cleanup_free_ char *p = sup_file(s, name);

	(void)unlink(p);
}

json_t *sup_status(struct sup *s, bool live, json_t *qemu_state)
{
	json_t *st = json_object(), *vcpus = json_array(), *nics = json_array();
	const struct vmr_guest *g = s->g;

	json_object_set_new(st, "guest", json_string(g->name));
	json_object_set_new(st, "state",
			    json_string(s->finished ? "exited" : sup_phase_names[s->phase]));
	json_object_set_new(st, "supervisor_pid",
			    json_integer(s->o->manager_pid > 0 ? s->o->manager_pid : getpid()));
	if (s->o->manager_pid > 0)
		json_object_set_new(st, "run_pid", json_integer(getpid()));
	json_object_set_new(st, "topology",
			    s->o->topo_path ? json_string(s->o->topo_path) : json_null());
	json_object_set_new(st, "restart", json_string(vmr_restart_name(g->restart)));
	json_object_set_new(st, "restart_count", json_integer(s->o->restart_count));
	json_object_set_new(st, "stop_cause",
			    s->stop_cause ? json_string(s->stop_cause) : json_null());
	json_object_set_new(st, "health", sup_health_json(s));
	if (s->have_plan) {
		json_object_set_new(st, "disks", vmr_plan_disks_json(&s->plan));
		json_object_set_new(st, "unmigratable", vmr_plan_unmigratable_json(&s->plan));
	}
	json_object_set_new(st, "qemu_pid",
			    s->qemu_pid > 0 ? json_integer(s->qemu_pid) : json_null());
	json_object_set_new(st, "accel", json_string(vmr_accel_name(s->plan.facts.accel)));
	json_object_set_new(st, "started", json_integer((json_int_t)s->started_wall));
	if (g->has_cpuset) {
		_cleanup_free_ char *cs = vmr_cpuset_format(&g->cpuset);

		json_object_set_new(st, "cpuset", json_string(cs));
	} else {
		json_object_set_new(st, "cpuset", json_null());
	}
	json_object_set_new(st, "pinned", json_boolean(s->pinned));
	json_object_set_new(st, "ran", json_boolean(s->ran));
	json_object_set_new(st, "stop_timeout", json_integer(s->stop_timeout));
	for (size_t i = 0; i < s->nvcpus; i++) {
		json_t *v = json_pack("{s:I, s:I}", "index", (json_int_t)s->vcpus[i].index,
				      "thread", (json_int_t)s->vcpus[i].tid);

		if (s->pinned)
			json_object_set_new(v, "cpu", json_integer(g->cpuset.cpus[i]));
		if (live) {
			struct vmr_cpuset aff = {0};

			if (vmr_pin_affinity(s->vcpus[i].tid, &aff, NULL) == 0) {
				_cleanup_free_ char *a = vmr_cpuset_format(&aff);

				json_object_set_new(v, "affinity", json_string(a));
				vmr_cpuset_free(&aff);
			}
		}
		json_array_append_new(vcpus, v);
	}
	json_object_set_new(st, "vcpus", vcpus);
	for (size_t i = 0; i < g->nnics; i++) {
		const struct vmr_nic *n = &g->nics[i];
		const struct vmr_plan_dev *pd =
		    s->have_plan ? vmr_plan_nic(&s->plan, n->name) : NULL;
		char mac[18];

		char ip[64];

		json_array_append_new(
		    nics,
		    json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "name", n->name, "kind",
			      n->att.ops->name, "mac", vmr_mac_format(&n->mac, mac), "ifname",
			      pd && pd->ifname ? json_string(pd->ifname) : json_null(), "pci",
			      pd && pd->hostdev ? json_string(pd->hostdev) : json_null(), "ip",
			      n->has_ip ? json_string(vmr_cidr_format(&n->ip, ip)) : json_null()));
	}
	json_object_set_new(st, "nics", nics);
	{
		json_t *helpers = json_array();

		for (size_t i = 0; i < s->helpers.n; i++)
			json_array_append_new(helpers, json_pack("{s:s, s:I, s:b}", "name",
								 s->helpers.v[i].name, "pid",
								 (json_int_t)s->helpers.v[i].pid,
								 "exited", s->helpers.v[i].exited));
		json_object_set_new(st, "helpers", helpers);
	}
	if (s->finished)
		json_object_set_new(st, "exit_status", json_integer(s->exit_status));
	if (live) {
		json_object_set_new(st, "uptime",
				    json_integer((json_int_t)((now_ms() - s->started_ms) / 1000)));
		json_object_set_new(st, "qemu_state",
				    qemu_state ? json_incref(qemu_state) : json_null());
	}
	return st;
}

/*
 * The `stats` reply: CPU time of QEMU and of each vCPU thread and QEMU's
 * RSS from /proc (ours to read even in a container's PID namespace), and
 * the counters of query-blockstats (blockstats; NULL when QMP failed).
 */
json_t *sup_stats(struct sup *s, json_t *blockstats)
{
	json_t *st = json_object(), *vcpus = json_array(), *disks = json_array(),
	       *nics = json_array(), *b;
	const struct vmr_guest *g = s->g;
	double cpu;
	uint64_t rss;
	size_t i;

	json_object_set_new(st, "guest", json_string(g->name));
	json_object_set_new(st, "qemu_pid",
			    s->qemu_pid > 0 && !s->qemu_exited ? json_integer(s->qemu_pid)
							       : json_null());
	json_object_set_new(st, "uptime",
			    json_integer((json_int_t)((now_ms() - s->started_ms) / 1000)));
	json_object_set_new(st, "memory_bytes", json_integer((json_int_t)g->memory));
	json_object_set_new(st, "cpu_seconds",
			    vmr_proc_cpu_seconds("/proc", s->qemu_pid, 0, &cpu) == 0
				? json_real(cpu)
				: json_null());
	json_object_set_new(st, "rss_bytes",
			    vmr_proc_rss_bytes("/proc", s->qemu_pid, &rss) == 0
				? json_integer((json_int_t)rss)
				: json_null());
	for (i = 0; i < s->nvcpus; i++) {
		json_t *v = json_pack("{s:I, s:I}", "index", (json_int_t)s->vcpus[i].index,
				      "thread", (json_int_t)s->vcpus[i].tid);

		json_object_set_new(
		    v, "cpu_seconds",
		    vmr_proc_cpu_seconds("/proc", s->qemu_pid, s->vcpus[i].tid, &cpu) == 0
			? json_real(cpu)
			: json_null());
		json_array_append_new(vcpus, v);
	}
	json_array_foreach(blockstats, i, b)
	{
		static const char *const keys[] = {
		    "rd_bytes",		"wr_bytes",	    "rd_operations",   "wr_operations",
		    "flush_operations", "rd_total_time_ns", "wr_total_time_ns"};
		json_t *bs = json_object_get(b, "stats"), *d;
		const char *node = json_string_value(json_object_get(b, "node-name"));
		const char *dev = json_string_value(json_object_get(b, "device"));

		if (!json_is_object(bs))
			continue;
		d = json_pack("{s:s}", "id", node && *node ? node : dev ? dev : "?");
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			json_t *v = json_object_get(bs, keys[k]);

			json_object_set_new(d, keys[k],
					    json_is_integer(v) ? json_incref(v) : json_integer(0));
		}
		json_array_append_new(disks, d);
	}
	for (i = 0; i < g->nnics; i++) {
		const struct vmr_plan_dev *pd =
		    s->have_plan ? vmr_plan_nic(&s->plan, g->nics[i].name) : NULL;

		json_array_append_new(
		    nics, json_pack("{s:s, s:s, s:o}", "name", g->nics[i].name, "kind",
				    g->nics[i].att.ops->name, "ifname",
				    pd && pd->ifname ? json_string(pd->ifname) : json_null()));
	}
	json_object_set_new(st, "vcpus", vcpus);
	json_object_set_new(st, "disks", disks);
	json_object_set_new(st, "nics", nics);
	return st;
}

/*
 * status.json: rewritten atomically whenever the state changes.  During
 * startup a failure fails the start (a guest whose state nobody can read
 * must not run); afterwards it is reported once and the guest goes on.
 */
int sup_write_status(struct sup *s, struct vmr_error **err)
{
	json_t *st = sup_status(s, false, NULL);
	char *text = json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS);
	_cleanup_free_ char *path = sup_file(s, "status.json");
	int r = -ENOMEM;

	if (text) {
		_cleanup_free_ char *line = xasprintf("%s\n", text);

		r = write_file_atomic(path, line, strlen(line), 0644);
	}
	free(text);
	json_decref(st);
	if (r >= 0) {
		s->status_failed = false;
		return 0;
	}
	if (err)
		return vmr_error_set(err, -r, "write '%s'", path);
	if (!s->status_failed)
		sup_log(s, VMR_LOG_WARNING, "guest '%s': write '%s': %s", s->g->name, path,
			strerror(-r));
	s->status_failed = true;
	return r;
}

static struct vmr_helper *sup_helper(struct sup *s, pid_t pid)
{
	for (size_t i = 0; i < s->helpers.n; i++)
		if (s->helpers.v[i].pid == pid)
			return &s->helpers.v[i];
	return NULL;
}

void sup_reap(struct sup *s)
{
	struct vmr_helper *h;
	int status;
	pid_t pid;

	/* every child, not only QEMU: orphans re-parented to us are ours to reap */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == s->qemu_pid && !s->qemu_exited) {
			s->qemu_exited = true;
			s->qemu_wstatus = status;
		} else if ((h = sup_helper(s, pid)) && !h->exited) {
			h->exited = true;
			h->wstatus = status;
			/* during startup nothing makes it end on purpose: judge at once */
			if (!s->qemu_exited && !s->helper_check_at)
				s->helper_check_at =
				    now_ms() + (s->phase == PHASE_STARTING ? 0 : HELPER_GRACE_MS);
		}
	}
	sup_helpers_check(s);
}

/*
 * A helper that ended while QEMU lives on (after the grace a quitting
 * QEMU gets): the guest lost a device it needs, so it is stopped, and
 * `vmrun run` ends with VMR_EXIT_HELPER whatever QEMU does then.
 */
void sup_helpers_check(struct sup *s)
{
	_cleanup_free_ char *how = NULL, *why = NULL;
	const struct vmr_helper *h = NULL;

	if (!s->helper_check_at || s->helper_died)
		return;
	if (s->qemu_exited) {
		s->helper_check_at = 0; /* it ended with QEMU */
		return;
	}
	if (now_ms() < s->helper_check_at)
		return;
	s->helper_check_at = 0;
	for (size_t i = 0; i < s->helpers.n && !h; i++)
		if (s->helpers.v[i].exited)
			h = &s->helpers.v[i];
	if (!h)
		return;
	s->helper_died = true;
	how = sup_wstatus_text(h->wstatus);
	why = xasprintf("%s (pid %d) %s", h->name, (int)h->pid, how);
	sup_log(s, VMR_LOG_WARNING, "guest '%s': %s: the guest cannot run without it", s->g->name,
		why);
	sup_stop(s, s->stop_timeout, why);
}

static bool sup_helpers_alive(struct sup *s)
{
	for (size_t i = 0; i < s->helpers.n; i++)
		if (!s->helpers.v[i].exited)
			return true;
	return false;
}

static void sup_helpers_signal(struct sup *s, int sig)
{
	for (size_t i = 0; i < s->helpers.n; i++)
		if (!s->helpers.v[i].exited)
			kill(s->helpers.v[i].pid, sig);
}

/*
 * Teardown, once QEMU is gone: helpers end by themselves when QEMU closes
 * their sockets (swtpm --terminate); whoever does not within
 * HELPER_STOP_MS gets SIGTERM, then SIGKILL.  All are reaped.
 */
void sup_helpers_stop(struct sup *s)
{
	/* no QEMU ever connected: nothing will end them */
	int step = s->qemu_pid > 0 ? 0 : 1;
	uint64_t deadline = now_ms() + HELPER_STOP_MS;

	if (step == 1)
		sup_helpers_signal(s, SIGTERM);
	for (;;) {
		sup_reap(s);
		if (!sup_helpers_alive(s))
			return;
		if (now_ms() >= deadline) {
			if (step == 2)
				break;
			sup_helpers_signal(s, step == 0 ? SIGTERM : SIGKILL);
			sup_log(s, VMR_LOG_INFO, "guest '%s': helper still running after QEMU: %s",
				s->g->name, step == 0 ? "SIGTERM" : "SIGKILL");
			step++;
			deadline = now_ms() + HELPER_STOP_MS;
		}
		(void)poll(NULL, 0, 20);
	}
	for (size_t i = 0; i < s->helpers.n; i++) {
		struct vmr_helper *h = &s->helpers.v[i];

		if (h->exited)
			continue;
		while (waitpid(h->pid, &h->wstatus, 0) < 0 && errno == EINTR)
			;
		h->exited = true;
	}
}

/*
 * Whether QEMU is gone or on its way out: exited (reaped now), or a fatal
 * signal already pending for it that it has not acted on yet (a
 * `kill -9` a moment ago).  For the readiness answer, which must not say
 * ready for a guest that dies the next instant.
 */
bool sup_qemu_dying(struct sup *s)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	const unsigned long long fatal = (1ull << (SIGKILL - 1)) | (1ull << (SIGTERM - 1));
	static const char *const keys[] = {"\nShdPnd:", "\nSigPnd:"};

	sup_reap(s);
	if (s->qemu_exited || s->qemu_pid <= 0)
		return true;
	path = xasprintf("/proc/%d/status", (int)s->qemu_pid);
	if (read_file(path, 1 << 16, &text, NULL) < 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *p = strstr(text, keys[i]);

		if (p && strtoull(p + strlen(keys[i]), NULL, 16) & fatal)
			return true;
	}
	return false;
}

void sup_kill(struct sup *s)
{
	if (s->qemu_pid > 0 && !s->qemu_exited)
		kill(s->qemu_pid, SIGKILL);
	s->phase = PHASE_KILLED;
	s->deadline = 0;
}

void sup_escalate(struct sup *s, const char *why)
{
	struct vmr_error *e = NULL;

	s->escalated = true;
	if (s->phase == PHASE_QUIT || vmr_qmp_closed(s->qmp)) {
		sup_log(s, VMR_LOG_INFO, "guest '%s': %s: killing QEMU (pid %d)", s->g->name, why,
			(int)s->qemu_pid);
		sup_kill(s);
		return;
	}
	sup_log(s, VMR_LOG_INFO, "guest '%s': %s: sending quit", s->g->name, why);
	s->phase = PHASE_QUIT;
	s->deadline = now_ms() + VMR_SUPERVISOR_QUIT_TIMEOUT_MS;
	if (vmr_qmp_send(s->qmp, "quit", NULL, VMR_SUPERVISOR_QUIT_TIMEOUT_MS, NULL, NULL, NULL,
			 &e) < 0) {
		vmr_error_free(e);
		sup_kill(s);
	}
}

/* A graceful stop: the ACPI power button, then escalation at the deadline. */
void sup_stop(struct sup *s, unsigned timeout_s, const char *why)
{
	struct vmr_error *e = NULL;

	switch (s->phase) {
	case PHASE_STARTING:
		s->stop_requested = true;
		return;
	case PHASE_RUNNING:
		break;
	case PHASE_POWERDOWN: {
		uint64_t d = now_ms() + (uint64_t)timeout_s * 1000u;

		if (d < s->deadline) {
			s->deadline = d;
			s->stop_wait = timeout_s;
		}
		return;
	}
	default:
		return;
	}
	sup_unlink(s, "ready");
	(void)vmr_notify("STOPPING=1");
	s->phase = PHASE_POWERDOWN;
	sup_health_end(s);
	s->stop_wait = timeout_s;
	s->deadline = now_ms() + (uint64_t)timeout_s * 1000u;
	(void)sup_write_status(s, NULL);
	sup_log(s, VMR_LOG_INFO,
		"guest '%s': %s: pressing the ACPI power button, waiting up to %u s", s->g->name,
		why, timeout_s);
	if (vmr_qmp_send(s->qmp, "system_powerdown", NULL, 5000, NULL, NULL, NULL, &e) < 0) {
		vmr_error_free(e);
		sup_escalate(s, "QMP is gone");
	}
}

static void sup_on_signal(struct sup *s, int sig)
{
	const char *name = sigabbrev_np(sig);
	_cleanup_free_ char *why = xasprintf("SIG%s", name ? name : "?");

	if (!s->stop_cause)
		s->stop_cause = "signal";
	switch (s->phase) {
	case PHASE_STARTING:
	case PHASE_RUNNING:
		sup_stop(s, s->stop_timeout, why);
		break;
	case PHASE_POWERDOWN: {
		_cleanup_free_ char *w = xasprintf("second %s, not waiting", why);

		sup_escalate(s, w);
		break;
	}
	case PHASE_QUIT:
		sup_escalate(s, why);
		break;
	case PHASE_KILLED:
		break;
	}
}

void sup_read_signals(struct sup *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue; /* reaped below: SIGCHLDs coalesce */
		sup_on_signal(s, (int)si.ssi_signo);
	}
	sup_reap(s);
}

int sup_exit_status(const struct sup *s)
{
	int st = s->qemu_wstatus;

	if (WIFSIGNALED(st))
		return s->escalated ? VMR_EXIT_STOPPED : 128 + WTERMSIG(st);
	if (WEXITSTATUS(st) != 0)
		return VMR_EXIT_QEMU_ERROR;
	/* QEMU 7.2 exits 0 at once on a watchdog poweroff, without SHUTDOWN */
	if (s->watchdog_poweroff && !s->shutdown_seen)
		return VMR_EXIT_WATCHDOG;
	if (s->shutdown_seen && streq(s->shutdown_reason, "guest-panic"))
		return VMR_EXIT_GUEST_PANIC;
	if (s->shutdown_guest)
		return 0;
	return VMR_EXIT_STOPPED;
}

char *sup_wstatus_text(int st)
{
	if (WIFSIGNALED(st)) {
		const char *n = sigabbrev_np(WTERMSIG(st));

		return xasprintf("killed by SIG%s", n ? n : "?");
	}
	return xasprintf("exited with status %d", WEXITSTATUS(st));
}

void sup_on_event(const char *event, json_t *data, json_t *timestamp, void *userdata)
{
	struct sup *s = userdata;
	json_t *o = json_object();
	char *line;

	if (timestamp)
		json_object_set(o, "timestamp", timestamp);
	json_object_set_new(o, "event", json_string(event));
	if (data)
		json_object_set(o, "data", data);
	line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (line) {
		run_caplog_write(&s->events, line, strlen(line));
		run_caplog_write(&s->events, "\n", 1);
		if (s->o->events)
			sup_log(s, VMR_LOG_EVENT, "%s", line);
		free(line);
	}
	if (streq(event, "WATCHDOG")) {
		const char *action = json_string_value(json_object_get(data, "action"));

		sup_log(s, VMR_LOG_INFO, "guest '%s': the watchdog fired (action %s)", s->g->name,
			action ? action : "?");
		if (streq(action, "poweroff"))
			s->watchdog_poweroff = true;
	}
	if (streq(event, "SHUTDOWN")) {
		const char *reason = json_string_value(json_object_get(data, "reason"));

		s->shutdown_seen = true;
		s->shutdown_guest = json_is_true(json_object_get(data, "guest"));
		free(s->shutdown_reason);
		s->shutdown_reason = xstrdup(reason);
	}
	/* after SHUTDOWN's flags: a reboot in progress takes them back */
	sup_health_event(s, event, data);
}

void sup_on_qmp_diag(const char *msg, void *userdata)
{
	struct sup *s = userdata;

	if (s->o->events)
		sup_log(s, VMR_LOG_WARNING, "qmp: %s", msg);
}

int vmr_supervisor_run(const struct vmr_supervisor_opts *o, int *ret_status, struct vmr_error **err)
{
	struct sup s = {
	    .o = o,
	    .cfg = o->cfg,
	    .g = o->guest,
	    .dir = {.lock_fd = -1},
	    .sigfd = -1,
	    .ctl_listen = -1,
	    .events = {.fd = -1},
	    .stop_timeout = o->guest->stop_timeout,
	    .started_wall = time(NULL),
	    .started_ms = now_ms(),
	};
	struct vmr_error *terr = NULL;
	int r, tr;

	sup_health_init(&s);
	r = sup_start(&s, err);
	if (r == 0)
		sup_loop(&s);
	if (r == 0)
		s.exit_status = sup_exit_status(&s);
	else if (r == 1)
		s.exit_status = VMR_EXIT_STOPPED;
	else
		s.exit_status = err && *err && (*err)->status ? (*err)->status : VMR_EXIT_FAILURE;
	/* however QEMU ended after it: the guest was stopped for the helper */
	if (r >= 0 && s.helper_died)
		s.exit_status = VMR_EXIT_HELPER;
	tr = sup_teardown(&s, &terr);
	if (r >= 0 && s.qemu_exited && r != 1) {
		_cleanup_free_ char *how = sup_wstatus_text(s.qemu_wstatus);

		sup_log(&s, VMR_LOG_INFO, "guest '%s': QEMU %s%s%s%s, exit status %d", s.g->name,
			how, s.shutdown_reason ? " (" : "",
			s.shutdown_reason ? s.shutdown_reason : "", s.shutdown_reason ? ")" : "",
			s.exit_status);
	} else if (r == 1) {
		sup_log(&s, VMR_LOG_INFO, "guest '%s': stopped before it ran, exit status %d",
			s.g->name, s.exit_status);
	}
	sup_free(&s);
	if (r < 0) {
		/* the startup failure is the news; a teardown failure adds to it */
		if (tr < 0) {
			_cleanup_free_ char *t = vmr_error_text(terr);

			vmr_error_hint(err, "also: %s", t);
		}
		vmr_error_free(terr);
		return r;
	}
	if (tr < 0) {
		vmr_error_clear(err);
		if (err)
			*err = terr;
		else
			vmr_error_free(terr);
		return tr;
	}
	*ret_status = s.exit_status;
	return 0;
}
