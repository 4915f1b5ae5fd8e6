/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Detached supervisors and waiting for their guests (lib/launch.h). */
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "lib/base/buf.h"
#include "lib/runtime/control.h"
#include "lib/base/fsutil.h"
#include "lib/base/fault.h"
#include "lib/runtime/launch.h"
#include "lib/base/spawn.h"
#include "lib/base/statedir.h"
#include "lib/base/strvec.h"
#include "lib/base/util.h"

#define LOG_TAIL_BYTES 16384

/* supervisor.log for appending; the previous one is kept as supervisor.log.1 */
static int open_log(const char *state_dir, const char *guest, struct vmr_error **err)
{
	_cleanup_free_ char *path = vmr_statedir_path(state_dir, guest, VMR_LAUNCH_LOG);
	_cleanup_free_ char *old = xasprintf("%s.1", path);
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && st.st_size > 0 && rename(path, old) < 0)
		return vmr_error_set(err, errno, "rotate '%s'", path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return vmr_error_set(err, errno, "create '%s'", path);
	return fd;
}

int vmr_launch_init(struct vmr_launch *l, const struct vmr_launch_opts *o, struct vmr_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	uint64_t nonce = 0;
	int one = 1, len;

	*l = (struct vmr_launch){.o = o, .notify_fd = -1, .env = VMR_STRVEC_INIT};
	for (char *const *e = o->envp; e && *e; e++)
		if (!startswith(*e, "NOTIFY_SOCKET="))
			vmr_strvec_push(&l->env, *e);
	if (!o->supervise)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return vmr_error_set(err, errno, "create notification socket");
	/* the sender's pid tells which guest a message is about */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		return vmr_error_set(err, errno, "notification socket: SO_PASSCRED");
	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) < 0)
		nonce = now_ms();
	/* abstract: no file, so no directory that could be full or read-only */
	len = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "vmrun/up/%d/%016llx",
		       (int)getpid(), (unsigned long long)nonce);
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len)) < 0)
		return vmr_error_set(err, errno, "bind notification socket");
	vmr_strvec_pushf(&l->env, "NOTIFY_SOCKET=@%s", sa.sun_path + 1);
	l->notify_fd = TAKE_FD(fd);
	return 0;
}

void vmr_launch_done(struct vmr_launch *l)
{
	if (l->notify_fd >= 0)
		close(l->notify_fd);
	l->notify_fd = -1;
	vmr_strvec_clear(&l->env);
}

static void guest_reset(struct vmr_launch_guest *g)
{
	g->started = false;
	g->pid = 0;
	g->pidfd = -1;
	g->state = VMR_LAUNCH_WAITING;
	g->running = false;
	g->exit_status = 0;
	g->exit_signal = 0;
	g->status_errno = 0;
	g->status[0] = '\0';
}

/* 1 with g->pid and g->pidfd when a supervisor runs g, 0 when none does */
static int guest_running(const struct vmr_launch *l, struct vmr_launch_guest *g,
			 struct vmr_error **err)
{
	pid_t pid = 0;
	int r;

	r = vmr_statedir_probe(l->o->state_dir, g->name, &pid, err);
	if (r <= 0 || pid <= 0)
		return r < 0 ? r : 0;
	/* not ours to start (nor to stop if another guest fails) */
	g->pidfd = pidfd_open(pid, 0);
	if (g->pidfd < 0) {
		if (errno == ESRCH)
			return 0; /* it exited between the probe and now */
		return vmr_error_set(err, errno, "guest '%s': watch supervisor pid %d", g->name,
				     (int)pid);
	}
	g->pid = pid;
	return 1;
}

int vmr_launch_find(struct vmr_launch *l, struct vmr_launch_guest *g, struct vmr_error **err)
{
	int r;

	guest_reset(g);
	r = guest_running(l, g, err);
	if (r == 0)
		g->state = VMR_LAUNCH_PENDING;
	return r;
}

/* What the forked child runs: the supervisor, as `vmrun run` would. */
struct supervise_arg {
	const struct vmr_launch_opts *o;
	const char *guest;
};

static int supervise_child(void *arg)
{
	const struct supervise_arg *a = arg;

	/* tests hold a supervisor here, before it probes the guest's lock */
	vmr_fault_point("supervise");
	return a->o->supervise(a->guest, a->o->userdata);
}

int vmr_launch_start(struct vmr_launch *l, struct vmr_launch_guest *g, struct vmr_error **err)
{
	const struct vmr_launch_opts *o = l->o;
	_cleanup_free_ char *dir = vmr_statedir_path(o->state_dir, g->name, NULL);
	_cleanup_close_ int log = -1, devnull = -1;
	struct vmr_strvec title = VMR_STRVEC_INIT;
	struct supervise_arg arg = {.o = o, .guest = g->name};
	struct vmr_spawn_fork sp;
	int r;

	guest_reset(g);
	r = guest_running(l, g, err);
	if (r != 0)
		return r < 0 ? r : 0;
	if (!o->supervise)
		return vmr_error_set(err, ESRCH, "guest '%s' has no supervisor", g->name);

	/* the supervisor makes these too; the log must exist before it runs */
	r = vmr_mkdir_p(dir, 0700);
	if (r < 0)
		return vmr_error_set(err, -r, "create state directory '%s'", dir);
	log = open_log(o->state_dir, g->name, err);
	if (log < 0)
		return log;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return vmr_error_set(err, errno, "open /dev/null");

	/* what `ps` shows: the command that would run the same supervisor */
	vmr_strvec_push(&title, "vmrun");
	if (o->config) {
		vmr_strvec_push(&title, "--config");
		vmr_strvec_push(&title, o->config);
	}
	vmr_strvec_push(&title, "--state-dir");
	vmr_strvec_push(&title, o->state_dir);
	vmr_strvec_push(&title, "run");
	if (o->no_seccomp)
		vmr_strvec_push(&title, "--no-seccomp");
	vmr_strvec_push(&title, o->topology);
	vmr_strvec_push(&title, g->name);
	sp = (struct vmr_spawn_fork){
	    .stdin_fd = devnull,
	    .stdout_fd = devnull,
	    .stderr_fd = log,
	    .envp = l->env.v,
	    .title = title.v,
	    .fn = supervise_child,
	    .arg = &arg,
	};
	r = vmr_spawn_fork(&sp, &g->pid, err);
	vmr_strvec_clear(&title);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s': start supervisor", g->name);
	g->started = true;
	g->pidfd = pidfd_open(g->pid, 0);
	if (g->pidfd < 0)
		return vmr_error_set(err, errno, "guest '%s': watch supervisor pid %d", g->name,
				     (int)g->pid);
	return 1;
}

/*
 * Read what the supervisors we started said (sd_notify's protocol:
 * KEY=VALUE lines in one datagram, the sender's pid in SCM_CREDENTIALS).
 */
static void notify_read(struct vmr_launch *l, struct vmr_launch_guest *gs, size_t n)
{
	for (;;) {
		char buf[4096], ctl[CMSG_SPACE(sizeof(struct ucred))];
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl,
				    .msg_controllen = sizeof(ctl)};
		struct vmr_launch_guest *g = NULL;
		const struct ucred *cred = NULL;
		ssize_t len;

		if (l->notify_fd < 0)
			return;
		len = recvmsg(l->notify_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (len < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
				cred = (const struct ucred *)(void *)CMSG_DATA(c);
		buf[len] = '\0';
		/*
		 * From the supervisor we started, or from one its restart
		 * manager (the one we started) runs: that one names it MAINPID.
		 */
		{
			const char *mp = strstr(buf, "MAINPID=");
			pid_t main_pid = 0;

			if (mp && (mp == buf || mp[-1] == '\n'))
				main_pid = (pid_t)atoi(mp + strlen("MAINPID="));
			for (size_t i = 0; cred && i < n && !g; i++)
				if (gs[i].started && (gs[i].pid == cred->pid ||
						      (main_pid > 0 && gs[i].pid == main_pid)))
					g = &gs[i];
		}
		if (!g)
			continue;
		for (char *line = buf; *line;) {
			size_t ll = strcspn(line, "\n");
			char *next = line[ll] ? line + ll + 1 : line + ll;

			line[ll] = '\0';
			if (streq(line, "READY=1") && g->state == VMR_LAUNCH_WAITING) {
				if (l->o->wait_healthy)
					g->running = true;
				else
					g->state = VMR_LAUNCH_READY;
			} else if (startswith(line, "STATUS="))
				snprintf(g->status, sizeof(g->status), "%s",
					 line + strlen("STATUS="));
			else if (startswith(line, "ERRNO="))
				g->status_errno = atoi(line + strlen("ERRNO="));
			line = next;
		}
	}
}

/* The supervisor behind g exited: reap it if it is ours. */
static void guest_exited(struct vmr_launch_guest *g)
{
	int st;

	g->state = VMR_LAUNCH_FAILED;
	g->exit_status = -1;
	if (g->started && waitpid(g->pid, &st, 0) == g->pid) {
		if (WIFEXITED(st)) {
			g->exit_status = WEXITSTATUS(st);
		} else if (WIFSIGNALED(st)) {
			g->exit_signal = WTERMSIG(st);
		}
	}
	if (g->pidfd >= 0)
		close(g->pidfd);
	g->pidfd = -1;
}

/*
 * A guest is ready when the supervisor we watch says so: its answer to
 * {"ping": null} on the control socket, {"return": {"ready": true}},
 * while it holds the guest's lock (the socket may be a stale one's until
 * ours replaces it).
 *
 * When to ask: the supervisor's startup is synchronous and its poll loop,
 * which serves the control socket, starts right after the guest runs with
 * its vCPUs pinned.  So a ping sent early waits in the socket's backlog
 * and is answered the moment the guest is ready, without asking QEMU
 * (`status` would run query-status, and QEMU under TCG may answer that
 * tens of ms after `cont`).  Until the socket accepts connections we retry
 * every RETRY_MS, far less than QEMU takes to start.  Cheaper than the
 * obvious alternatives: closing an inotify instance that had a watch
 * waits for an SRCU grace period (~12 ms here, paid by every `up` at the
 * latest when it exits), and polling the ready file every millisecond
 * cost `up` 2 ms of CPU, taken from QEMU's startup on a small machine.
 * Deaths come through the pidfds.
 */
#define RETRY_MS 5
#define PING_REPLY_MAX 256

struct waiter {
	int fd; /* connected, ping sent; -1: none */
	uint64_t retry_at;
	bool stopping; /* the guest is being stopped: ask no more, its death follows */
	bool health;   /* the request sent is the health wait, not the ping */
	size_t len;
	char reply[PING_REPLY_MAX];
};

static void waiter_close(struct waiter *w, uint64_t retry_at)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->len = 0;
	w->retry_at = retry_at;
}

/*
 * Connect to the control socket and send the ping (or, once the guest runs
 * and readiness is wanted, the health wait); else retry later.
 */
static void waiter_ask(const char *state_dir, const struct vmr_launch_guest *g, struct waiter *w)
{
	static const char ping[] = "{\"ping\": null}\n";
	static const char health[] = "{\"health\": {\"wait\": true}}\n";
	const char *req = g->running ? health : ping;
	size_t reqlen = strlen(req);
	_cleanup_free_ char *path = vmr_statedir_path(state_dir, g->name, "control.sock");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	w->retry_at = now_ms() + RETRY_MS;
	if (strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	/* a full backlog (EAGAIN) is retried like a missing socket */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, req, reqlen, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)reqlen) {
		close(fd);
		return;
	}
	w->fd = fd;
	w->health = g->running;
}

/*
 * Read the ping's reply.  A complete one decides: ready (with our
 * supervisor holding the lock), stopping (ask no more), or ask again later;
 * so does a connection closed or a reply that is not one.
 */
static void waiter_read(const char *state_dir, bool wait_healthy, struct vmr_launch_guest *g,
			struct waiter *w)
{
	ssize_t n = recv(w->fd, w->reply + w->len, sizeof(w->reply) - 1 - w->len, MSG_DONTWAIT);
	json_t *reply = NULL, *ready;
	char *nl;
	pid_t pid = 0;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0)
		w->len += (size_t)n;
	nl = memchr(w->reply, '\n', w->len);
	if (!nl && n > 0 && w->len < sizeof(w->reply) - 1)
		return; /* the rest is on its way */
	if (nl)
		reply = json_loadb(w->reply, (size_t)(nl - w->reply), 0, NULL);
	ready = json_object_get(json_object_get(reply, "return"), w->health ? "healthy" : "ready");
	if (w->health) {
		/*
		 * Not healthy: a stop began or QEMU died; a restart manager may
		 * start it again, so ask again a little later.
		 */
		waiter_close(w, now_ms() + (json_is_true(ready) ? RETRY_MS : 20 * RETRY_MS));
		if (json_is_true(ready) && vmr_statedir_probe(state_dir, g->name, &pid, NULL) > 0 &&
		    pid == g->pid)
			g->state = VMR_LAUNCH_READY;
		json_decref(reply);
		return;
	}
	waiter_close(w, now_ms() + RETRY_MS);
	if (json_is_true(ready) && vmr_statedir_probe(state_dir, g->name, &pid, NULL) > 0 &&
	    pid == g->pid) {
		if (wait_healthy)
			g->running = true;
		else
			g->state = VMR_LAUNCH_READY;
	} else if (json_is_false(ready)) {
		w->stopping = true;
	}
	json_decref(reply);
}

/*
 * A supervisor we did not start went away while we waited: it was stopping
 * (or dying, its QEMU killed) when we found it.  Its lock is free now, its
 * host changes undone: start ours, a few times at most (another `up` may
 * be racing us for the same guest, and then we watch its supervisor).
 */
#define MAX_RETRIES 3

static void guest_replace(struct vmr_launch *l, struct vmr_launch_guest *g, struct waiter *w)
{
	struct vmr_error *e = NULL;
	unsigned retries = g->retries + 1;

	if (!l->o->supervise || g->retries >= MAX_RETRIES)
		return;
	waiter_close(w, 0);
	w->stopping = false;
	if (vmr_launch_start(l, g, &e) < 0) {
		snprintf(g->status, sizeof(g->status), "%s", e->msg);
		g->state = VMR_LAUNCH_FAILED;
		g->exit_status = -1;
	}
	g->retries = retries;
	vmr_error_free(e);
}

/*
 * The supervisor we started exited because another one holds the guest's
 * lock (another `up` started it at the same moment): then that one is the
 * guest's supervisor, to be watched like one we found running.
 */
static bool lost_race(const char *state_dir, const struct vmr_launch_guest *g)
{
	pid_t pid = 0;

	return g->started && g->status_errno == EBUSY &&
	       vmr_statedir_probe(state_dir, g->name, &pid, NULL) > 0 && pid != g->pid;
}

/* A pending guest could not be started: it failed, with the reason. */
static void start_failed(struct vmr_launch_guest *g, struct vmr_error *e)
{
	_cleanup_free_ char *text = vmr_error_text(e);

	snprintf(g->status, sizeof(g->status), "%s", text ? text : "start failed");
	g->status_errno = e ? e->errnum : 0;
	g->state = VMR_LAUNCH_FAILED;
	g->exit_status = -1;
	vmr_error_free(e);
}

/*
 * Start pending guests, in order, while fewer than o->parallel of the
 * supervisors we started are still starting.
 */
static void start_pending(struct vmr_launch *l, struct vmr_launch_guest *gs, size_t n)
{
	size_t starting = 0;

	for (size_t i = 0; i < n; i++)
		starting += gs[i].started && gs[i].state == VMR_LAUNCH_WAITING;
	for (size_t i = 0; i < n; i++) {
		struct vmr_error *e = NULL;
		int r;

		if (l->o->parallel && starting >= l->o->parallel)
			return;
		if (gs[i].state != VMR_LAUNCH_PENDING)
			continue;
		r = vmr_launch_start(l, &gs[i], &e);
		if (r < 0)
			start_failed(&gs[i], e);
		else
			starting += (size_t)r;
	}
}

int vmr_launch_wait(struct vmr_launch *l, struct vmr_launch_guest *gs, size_t n, int timeout_ms,
		    bool stop_at_failure, struct vmr_error **err)
{
	const char *state_dir = l->o->state_dir;
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	_cleanup_free_ struct pollfd *pfd = xcalloc(2 * n + 2, sizeof(*pfd));
	_cleanup_free_ size_t *idx = xcalloc(2 * n + 2, sizeof(*idx));
	_cleanup_free_ struct waiter *ws = xcalloc(n + 1, sizeof(*ws));
	int ret;

	for (size_t i = 0; i < n; i++)
		ws[i].fd = -1;
	for (;;) {
		bool waiting = false, failed = false;
		uint64_t now, wake = 0;
		size_t np = 0, notready = 0;
		int left = -1, r;

		for (size_t i = 0; i < n; i++)
			failed = failed || gs[i].state == VMR_LAUNCH_FAILED;
		if (!failed || !stop_at_failure)
			start_pending(l, gs, n);
		now = now_ms();
		for (size_t i = 0; i < n; i++) {
			struct vmr_launch_guest *g = &gs[i];
			/*
			 * ours report on the notification socket; others are
			 * asked; readiness is asked of every running one
			 */
			bool ask = !g->started || g->running;

			if (ask && g->state == VMR_LAUNCH_WAITING && ws[i].fd < 0 &&
			    !ws[i].stopping && now >= ws[i].retry_at)
				waiter_ask(state_dir, g, &ws[i]);
			if (g->state != VMR_LAUNCH_READY)
				notready++;
			if (g->state == VMR_LAUNCH_FAILED)
				failed = true;
			if (g->state == VMR_LAUNCH_PENDING)
				waiting = true;
			if (g->state != VMR_LAUNCH_WAITING)
				continue;
			waiting = true;
			if (ws[i].fd >= 0) {
				idx[np] = i;
				pfd[np++] = (struct pollfd){.fd = ws[i].fd, .events = POLLIN};
			} else if (ask && !ws[i].stopping && (!wake || ws[i].retry_at < wake)) {
				wake = ws[i].retry_at;
			}
		}
		if (!waiting || (failed && stop_at_failure)) {
			ret = (int)notready;
			break;
		}
		/* every supervisor we watch, ready ones included: one may still die */
		for (size_t i = 0; i < n; i++) {
			if (gs[i].pidfd < 0 || gs[i].state == VMR_LAUNCH_FAILED)
				continue;
			idx[np] = n + i;
			pfd[np++] = (struct pollfd){.fd = gs[i].pidfd, .events = POLLIN};
		}
		if (l->notify_fd >= 0) {
			idx[np] = 2 * n;
			pfd[np++] = (struct pollfd){.fd = l->notify_fd, .events = POLLIN};
		}
		if (timeout_ms >= 0) {
			if (now >= deadline) {
				ret = (int)notready;
				break;
			}
			left = (int)(deadline - now);
		}
		if (wake) {
			int w = wake > now ? (int)(wake - now) : 0;

			if (left < 0 || w < left)
				left = w;
		}
		r = poll(pfd, np, left);
		if (r < 0 && errno != EINTR) {
			ret = vmr_error_set(err, errno, "poll");
			break;
		}
		/* what a supervisor said comes before its death is handled */
		notify_read(l, gs, n);
		for (size_t k = 0; r > 0 && k < np; k++) {
			struct vmr_launch_guest *g;

			if (!pfd[k].revents || idx[k] == 2 * n)
				continue;
			if (idx[k] >= n) {
				g = &gs[idx[k] - n];
				guest_exited(g);
				if (!g->started || lost_race(state_dir, g))
					guest_replace(l, g, &ws[idx[k] - n]);
				continue;
			}
			g = &gs[idx[k]];
			if (g->state == VMR_LAUNCH_WAITING)
				waiter_read(state_dir, l->o->wait_healthy, g, &ws[idx[k]]);
			else
				waiter_close(&ws[idx[k]], 0);
		}
	}
	for (size_t i = 0; i < n; i++)
		waiter_close(&ws[i], 0);
	return ret;
}

/* Wait up to deadline for every started supervisor to exit; true when none is left. */
static bool wait_exits(struct vmr_launch_guest *gs, size_t n, uint64_t deadline)
{
	_cleanup_free_ struct pollfd *pfd = xcalloc(n + 1, sizeof(*pfd));
	_cleanup_free_ size_t *idx = xcalloc(n + 1, sizeof(*idx));

	for (;;) {
		size_t np = 0;
		uint64_t now = now_ms();

		for (size_t i = 0; i < n; i++) {
			if (!gs[i].started || gs[i].pidfd < 0)
				continue;
			idx[np] = i;
			pfd[np++] = (struct pollfd){.fd = gs[i].pidfd, .events = POLLIN};
		}
		if (np == 0)
			return true;
		if (now >= deadline)
			return false;
		if (poll(pfd, np, (int)(deadline - now)) < 0 && errno != EINTR)
			return false;
		for (size_t k = 0; k < np; k++) {
			if (pfd[k].revents)
				guest_exited(&gs[idx[k]]);
		}
	}
}

int vmr_launch_stop(struct vmr_launch *l, struct vmr_launch_guest *gs, size_t n, int timeout_ms,
		    struct vmr_error **err)
{
	const char *state_dir = l->o->state_dir;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	_cleanup_free_ bool *stopping = xcalloc(n + 1, sizeof(*stopping));
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		stopping[i] = gs[i].started && gs[i].pidfd >= 0;

	/*
	 * A supervisor still starting gets SIGTERM and stops once its startup
	 * ends; one that became ready meanwhile would take that as a graceful
	 * stop, so the kill is repeated every second until they are gone.
	 */
	for (;;) {
		uint64_t next = now_ms() + 1000;

		for (size_t i = 0; i < n; i++) {
			struct vmr_launch_guest *g = &gs[i];
			struct vmr_error *e = NULL;
			int r;

			if (!g->started || g->pidfd < 0)
				continue;
			/* ours only: the lock may be another `up`'s supervisor's */
			r = vmr_guest_kill_if(state_dir, g->name, g->pid, &e);
			if (r == 0) {
				/* not serving yet: its startup ends at the signal */
				(void)pidfd_send_signal(g->pidfd, SIGTERM, NULL, 0);
			} else if (r < 0) {
				if (ret == 0 && err && !*err)
					*err = e;
				else
					vmr_error_free(e);
				e = NULL;
				if (ret == 0)
					ret = -1;
			}
		}
		if (wait_exits(gs, n, next < deadline ? next : deadline))
			break;
		if (now_ms() >= deadline) {
			for (size_t i = 0; i < n; i++) {
				if (gs[i].started && gs[i].pidfd >= 0) {
					(void)pidfd_send_signal(gs[i].pidfd, SIGKILL, NULL, 0);
					if (ret == 0) {
						ret = vmr_error_set(
						    err, ETIMEDOUT,
						    "guest '%s': supervisor did not stop "
						    "within %d ms: killed it",
						    gs[i].name, timeout_ms);
					}
				}
			}
			(void)wait_exits(gs, n, now_ms() + 5000);
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (stopping[i])
			gs[i].state = VMR_LAUNCH_STOPPED;
	}
	return ret;
}

void vmr_launch_guests_free(struct vmr_launch_guest *gs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (gs[i].pidfd >= 0)
			close(gs[i].pidfd);
		gs[i].pidfd = -1;
	}
}

char *vmr_launch_log_tail(const char *state_dir, const char *guest, size_t max_lines)
{
	_cleanup_free_ char *path = vmr_statedir_path(state_dir, guest, VMR_LAUNCH_LOG);
	_cleanup_close_ int fd = -1;
	char buf[LOG_TAIL_BYTES + 1];
	struct vmr_strvec lines = VMR_STRVEC_INIT;
	struct vmr_buf out = VMR_BUF_INIT;
	struct stat st;
	off_t off;
	ssize_t len;
	char *p;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	off = st.st_size > LOG_TAIL_BYTES ? st.st_size - LOG_TAIL_BYTES : 0;
	len = pread(fd, buf, LOG_TAIL_BYTES, off);
	if (len <= 0)
		return NULL;
	buf[len] = '\0';
	p = buf;
	if (off > 0) {
		/* skip the partial first line */
		char *nl = strchr(p, '\n');

		p = nl ? nl + 1 : p + len;
	}
	while (*p) {
		size_t l = strcspn(p, "\n");

		while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == ' '))
			l--;
		if (l > 0)
			vmr_strvec_push_take(&lines, xstrndup(p, l));
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	for (size_t i = lines.n > max_lines ? lines.n - max_lines : 0; i < lines.n; i++)
		vmr_buf_addf(&out, "%s%s", out.len ? "\n" : "", lines.v[i]);
	vmr_strvec_clear(&lines);
	if (out.len == 0) {
		vmr_buf_free(&out);
		return NULL;
	}
	return vmr_buf_detach(&out);
}
