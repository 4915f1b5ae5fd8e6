/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The restart manager of a guest with a restart policy (lib/runtime/restart.h). */
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/base/spawn.h"
#include "lib/base/util.h"
#include "lib/runtime/restart.h"

bool vmr_restart_decide(enum vmr_restart policy, unsigned max, unsigned count,
			const struct vmr_restart_end *e, uint64_t *delay_ms, const char **ret_why)
{
	const char *why = NULL;
	bool again;

	if (e->stop_cause) {
		why = "stopped from outside";
		again = false;
	} else if (e->status == VMR_EXIT_USAGE) {
		why = "invalid input";
		again = false;
	} else if (!e->ran && count == 0) {
		why = "the first start failed";
		again = false;
	} else if (policy == VMR_RESTART_ALWAYS) {
		why = e->status ? "failure" : "exit";
		again = true;
	} else if (policy == VMR_RESTART_ON_FAILURE) {
		if (e->status == 0) {
			why = "exit status 0";
			again = false;
		} else if (max && count >= max) {
			why = "the maximum of restarts reached";
			again = false;
		} else {
			why = "failure";
			again = true;
		}
	} else {
		why = "restart: no";
		again = false;
	}
	*ret_why = why;
	if (!again)
		return false;
	if (*delay_ms == 0 || e->duration_ms >= VMR_RESTART_RESET_MS)
		*delay_ms = VMR_RESTART_DELAY_MIN_MS;
	else
		*delay_ms *= 2;
	if (*delay_ms > VMR_RESTART_DELAY_MAX_MS)
		*delay_ms = VMR_RESTART_DELAY_MAX_MS;
	return true;
}

struct mgr {
	const struct vmr_restart_opts *o;
	struct vmr_statedir dir;
	int sigfd;
	sigset_t oldmask;
	pid_t child;
	int child_status; /* exit status, 128+N for a signal */
	bool child_done;
	bool stopping; /* a signal asked us to stop */
	int last_sig;
};

static void mgr_log(struct mgr *m, const char *fmt, ...) _printf_(2, 3);

static void mgr_log(struct mgr *m, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	if (!m->o->log)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	m->o->log(VMR_LOG_INFO, msg, m->o->log_userdata);
}

/* Reap every child (a PID 1 reaps orphans too); note ours. */
static void mgr_reap(struct mgr *m)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != m->child)
			continue;
		m->child_done = true;
		m->child_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
}

static void mgr_signals(struct mgr *m)
{
	struct signalfd_siginfo si;

	while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		m->stopping = true;
		m->last_sig = (int)si.ssi_signo;
		/* the supervisor stops its guest gracefully (a second one hurries it) */
		if (m->child > 0 && !m->child_done)
			kill(m->child, (int)si.ssi_signo);
	}
	mgr_reap(m);
}

/* status.json with fields changed (a supervisor wrote the rest). */
static void status_update(struct mgr *m, const char *state, unsigned count, int exit_status,
			  uint64_t restart_in_ms)
{
	_cleanup_free_ char *path = vmr_statedir_file(&m->dir, "status.json");
	json_t *st = json_load_file(path, 0, NULL);
	char *text;

	if (!json_is_object(st)) {
		json_decref(st);
		st = json_pack("{s:s}", "guest", m->o->guest->name);
	}
	json_object_set_new(st, "state", json_string(state));
	json_object_set_new(st, "supervisor_pid", json_integer(getpid()));
	json_object_set_new(st, "restart_count", json_integer(count));
	if (exit_status >= 0)
		json_object_set_new(st, "exit_status", json_integer(exit_status));
	if (restart_in_ms)
		json_object_set_new(
		    st, "restart_at",
		    json_integer(
			(json_int_t)(time(NULL) + (time_t)((restart_in_ms + 999) / 1000))));
	else
		json_object_del(st, "restart_at");
	json_object_del(st, "run_pid");
	text = json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text) {
		_cleanup_free_ char *line = xasprintf("%s\n", text);

		(void)write_file_atomic(path, line, strlen(line), 0644);
	}
	free(text);
	json_decref(st);
}

/* What the run's supervisor recorded: whether its guest ran, who stopped it. */
static void run_record(struct mgr *m, bool *ret_ran, char **ret_cause)
{
	_cleanup_free_ char *path = vmr_statedir_file(&m->dir, "status.json");
	json_t *st = json_load_file(path, 0, NULL);
	const char *cause = json_string_value(json_object_get(st, "stop_cause"));

	*ret_ran = json_is_true(json_object_get(st, "ran"));
	*ret_cause = cause ? xstrdup(cause) : NULL;
	json_decref(st);
}

static int mgr_fork(struct mgr *m, unsigned count, struct vmr_error **err)
{
	pid_t parent = getpid(), pid;

	m->child_done = false;
	pid = fork();
	if (pid < 0)
		return vmr_error_set(err, errno, "guest '%s': fork a supervisor",
				     m->o->guest->name);
	if (pid == 0) {
		int status;

		close(m->sigfd);
		sigprocmask(SIG_SETMASK, &m->oldmask, NULL);
		/* the guest stops gracefully if its manager is killed */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		if (getppid() != parent)
			_exit(VMR_EXIT_FAILURE);
		status = m->o->run(&m->dir, parent, count, m->o->userdata);
		fflush(stdout);
		fflush(stderr);
		_exit(status);
	}
	m->child = pid;
	return 0;
}

/* Wait for the child's end, or (child <= 0) for until_ms or a signal. */
static void mgr_wait(struct mgr *m, uint64_t until_ms)
{
	for (;;) {
		struct pollfd p = {.fd = m->sigfd, .events = POLLIN};
		int t = -1;

		mgr_reap(m);
		if (m->child > 0 && m->child_done)
			return;
		if (m->child <= 0) {
			uint64_t now = now_ms();

			if (m->stopping || now >= until_ms)
				return;
			t = (int)(until_ms - now);
		}
		if (poll(&p, 1, t) < 0 && errno != EINTR)
			return;
		mgr_signals(m);
	}
}

int vmr_restart_run(const struct vmr_restart_opts *o, int *ret_status, struct vmr_error **err)
{
	const struct vmr_guest *g = o->guest;
	struct mgr m = {.o = o, .dir = {.lock_fd = -1}, .sigfd = -1};
	uint64_t delay = 0;
	unsigned count = 0;
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &m.oldmask) < 0) {
		return vmr_error_set(err, errno, "block signals");
	}
	m.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m.sigfd < 0) {
		r = vmr_error_set(err, errno, "signalfd");
		goto out_mask;
	}
	r = vmr_statedir_lock(o->cfg->state_dir, g->name, &m.dir, err);
	if (r < 0)
		goto out_fd;

	for (;;) {
		struct vmr_restart_end e = {0};
		_cleanup_free_ char *cause = NULL;
		uint64_t started = now_ms();
		const char *why = NULL;

		r = mgr_fork(&m, count, err);
		if (r < 0)
			break;
		mgr_wait(&m, 0);
		m.child = 0;
		e.status = m.child_status;
		e.duration_ms = now_ms() - started;
		run_record(&m, &e.ran, &cause);
		e.stop_cause = m.stopping ? "signal" : cause;
		*ret_status = e.status;
		if (!vmr_restart_decide(g->restart, g->restart_max, count, &e, &delay, &why)) {
			if (count > 0 || e.ran)
				mgr_log(&m, "guest '%s': not restarting (%s), exit status %d",
					g->name, why, e.status);
			status_update(&m, "exited", count, e.status, 0);
			r = 0;
			break;
		}
		mgr_log(&m,
			"guest '%s': restarting in %llu.%llu s (restart %u, restart: %s; %s: exit "
			"status %d after %llu.%llu s)",
			g->name, (unsigned long long)(delay / 1000),
			(unsigned long long)(delay % 1000 / 100), count + 1,
			vmr_restart_name(g->restart), why, e.status,
			(unsigned long long)(e.duration_ms / 1000),
			(unsigned long long)(e.duration_ms % 1000 / 100));
		status_update(&m, "restarting", count, e.status, delay);
		mgr_wait(&m, now_ms() + delay);
		if (m.stopping) {
			mgr_log(&m, "guest '%s': SIG%s during the restart delay: not restarting",
				g->name, sigabbrev_np(m.last_sig) ?: "?");
			status_update(&m, "exited", count, e.status, 0);
			r = 0;
			break;
		}
		count++;
	}
	vmr_statedir_release(&m.dir);
out_fd:
	close(m.sigfd);
out_mask:
	sigprocmask(SIG_SETMASK, &m.oldmask, NULL);
	return r;
}
