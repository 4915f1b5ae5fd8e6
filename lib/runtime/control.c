/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Control socket client and guest lifecycle requests (lib/control.h). */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/base/buf.h"
#include "lib/runtime/control.h"
#include "lib/runtime/run.h"
#include "lib/base/statedir.h"
#include "lib/runtime/supervisor.h"
#include "lib/base/util.h"

/* a reply carries at most a QMP reply; QEMU's own cap is far below this */
#define REPLY_MAX (16u << 20)

int vmr_guest_socket_connect(const char *state_dir, const char *guest, const char *name,
			     struct vmr_error **err)
{
	_cleanup_free_ char *path = vmr_statedir_path(state_dir, guest, name);
	struct vmr_error *e = NULL;
	int fd;

	fd = run_socket_connect(path, &e);
	if (fd >= 0)
		return fd;
	if (e->errnum == ENOENT || e->errnum == ECONNREFUSED) {
		int errnum = e->errnum;

		vmr_error_free(e);
		return vmr_error_set(err, errnum, "guest '%s' is not running", guest);
	}
	if (err)
		*err = e;
	else
		vmr_error_free(e);
	return vmr_error_wrap(err, "guest '%s'", guest);
}

int vmr_control_connect(const char *state_dir, const char *guest, struct vmr_error **err)
{
	return vmr_guest_socket_connect(state_dir, guest, "control.sock", err);
}

static int poll_left(uint64_t deadline, int timeout_ms)
{
	uint64_t now = now_ms();

	if (timeout_ms < 0)
		return -1;
	return now >= deadline ? 0 : (int)(deadline - now);
}

static int send_line(int fd, const char *s, size_t n, uint64_t deadline, int timeout_ms)
{
	while (n > 0) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		ssize_t w;

		w = send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w >= 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if (poll(&p, 1, poll_left(deadline, timeout_ms)) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Read up to the first newline into line (without it); -errno, -EPIPE at EOF. */
static int recv_line(int fd, struct vmr_buf *line, uint64_t deadline, int timeout_ms)
{
	char buf[65536];

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char *nl = line->len ? memchr(line->s, '\n', line->len) : NULL;
		ssize_t n;
		int r;

		if (nl) {
			line->len = (size_t)(nl - line->s);
			line->s[line->len] = '\0';
			return 0;
		}
		if (line->len > REPLY_MAX)
			return -EMSGSIZE;
		r = poll(&p, 1, poll_left(deadline, timeout_ms));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		vmr_buf_add(line, buf, (size_t)n);
	}
}

/* The parent of process pid (/proc/PID/stat), 0 when unknown. */
static pid_t parent_of(pid_t pid)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/stat", (int)pid);
	_cleanup_free_ char *text = NULL;
	const char *p;
	int ppid = 0;

	if (read_file(path, 4096, &text, NULL) < 0 || !(p = strrchr(text, ')')) ||
	    sscanf(p + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/*
 * vmr_control_request() to the supervisor with pid expect only (0: any):
 * the pid that listens on the socket (SO_PEERCRED) must be expect, else
 * nothing is sent and this fails with ESRCH.
 */
static int control_request(const char *state_dir, const char *guest, pid_t expect, json_t *request,
			   int timeout_ms, json_t **ret_reply, struct vmr_error **err)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	struct vmr_buf line = VMR_BUF_INIT;
	json_error_t jerr;
	json_t *reply;
	int r;

	fd = vmr_control_connect(state_dir, guest, err);
	if (fd < 0)
		return fd;
	if (expect > 0) {
		struct ucred cred;
		socklen_t len = sizeof(cred);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
			return vmr_error_set(err, errno, "guest '%s': control socket", guest);
		/* a restart manager's supervisor is its child (lib/runtime/restart.h) */
		if (cred.pid != expect && parent_of(cred.pid) != expect)
			return vmr_error_set(err, ESRCH,
					     "guest '%s': its supervisor is pid %d, not %d", guest,
					     (int)cred.pid, (int)expect);
	}
	text = json_dumps(request, JSON_COMPACT);
	if (!text)
		return vmr_error_set(err, EINVAL, "guest '%s': request is not JSON", guest);
	r = send_line(fd, text, strlen(text), deadline, timeout_ms);
	if (r == 0)
		r = send_line(fd, "\n", 1, deadline, timeout_ms);
	if (r == 0)
		r = recv_line(fd, &line, deadline, timeout_ms);
	if (r < 0) {
		vmr_buf_free(&line);
		if (r == -ETIMEDOUT)
			return vmr_error_set(
			    err, ETIMEDOUT, "guest '%s': no reply from the supervisor within %d ms",
			    guest, timeout_ms);
		if (r == -EPIPE || r == -ECONNRESET)
			return vmr_error_set(err, EPIPE,
					     "guest '%s': supervisor closed the connection", guest);
		return vmr_error_set(err, -r, "guest '%s': control socket", guest);
	}
	reply = json_loadb(line.s, line.len, 0, &jerr);
	vmr_buf_free(&line);
	if (!json_is_object(reply)) {
		json_decref(reply);
		return vmr_error_set(err, EPROTO, "guest '%s': malformed reply from the supervisor",
				     guest);
	}
	*ret_reply = reply;
	return 0;
}

int vmr_control_request(const char *state_dir, const char *guest, json_t *request, int timeout_ms,
			json_t **ret_reply, struct vmr_error **err)
{
	return control_request(state_dir, guest, 0, request, timeout_ms, ret_reply, err);
}

int vmr_control_call(const char *state_dir, const char *guest, json_t *request, int timeout_ms,
		     json_t **ret_return, char **ret_class, struct vmr_error **err)
{
	json_t *reply = NULL, *ret, *e;
	int r;

	r = vmr_control_request(state_dir, guest, request, timeout_ms, &reply, err);
	if (r < 0)
		return r;
	ret = json_object_get(reply, "return");
	e = json_object_get(reply, "error");
	if (ret) {
		if (ret_return)
			*ret_return = json_incref(ret);
		json_decref(reply);
		return 0;
	}
	if (json_is_object(e)) {
		const char *cls = json_string_value(json_object_get(e, "class"));
		const char *desc = json_string_value(json_object_get(e, "desc"));

		r = vmr_error_set(err, 0, "guest '%s': %s", guest, desc ? desc : "unknown error");
		if (ret_class)
			*ret_class = xstrdup(cls ? cls : "GenericError");
		json_decref(reply);
		return r;
	}
	json_decref(reply);
	return vmr_error_set(err, EPROTO, "guest '%s': reply has neither return nor error", guest);
}

int vmr_control_qmp(const char *state_dir, const char *guest, const char *cmd, json_t *args,
		    int timeout_ms, json_t **ret_return, char **ret_class, struct vmr_error **err)
{
	json_t *req = json_pack("{s:{s:s}}", "qmp", "execute", cmd);
	int r;

	if (args)
		json_object_set(json_object_get(req, "qmp"), "arguments", args);
	r = vmr_control_call(state_dir, guest, req, timeout_ms, ret_return, ret_class, err);
	json_decref(req);
	return r;
}

/* status.json as an object, or NULL when absent or unreadable. */
static json_t *status_file(const char *state_dir, const char *guest)
{
	_cleanup_free_ char *path = vmr_statedir_path(state_dir, guest, "status.json");
	json_t *st = json_load_file(path, 0, NULL);

	if (!json_is_object(st)) {
		json_decref(st);
		return NULL;
	}
	return st;
}

static bool guest_has_file(const char *state_dir, const char *guest, const char *name)
{
	_cleanup_free_ char *path = vmr_statedir_path(state_dir, guest, name);

	return access(path, F_OK) == 0;
}

/*
 * Whether the supervisor's poll loop serves the control socket now: its
 * startup is synchronous, so a request sent while it starts would wait
 * for the whole startup (up to the QMP deadlines).  The ready file exists
 * only while the loop runs; status.json says "stopping" once it stops.
 */
static bool supervisor_serving(const char *state_dir, const char *guest)
{
	json_t *st;
	bool stopping;

	if (guest_has_file(state_dir, guest, "ready"))
		return true;
	st = status_file(state_dir, guest);
	stopping = streq(json_string_value(json_object_get(st, "state")), "stopping");
	json_decref(st);
	return stopping;
}

/* SIGTERM to the supervisor holding guest's lock, race-free against pid reuse. */
static int signal_supervisor(const char *state_dir, const char *guest, int sig,
			     struct vmr_error **err)
{
	for (int i = 0; i < 50; i++) {
		_cleanup_close_ int pidfd = -1;
		struct timespec ts = {0, 20 * 1000000L};
		pid_t pid = 0, again = 0;
		int r;

		r = vmr_statedir_probe(state_dir, guest, &pid, err);
		if (r <= 0)
			return r;
		if (pid <= 0) {
			/* locked, pid not written yet */
			nanosleep(&ts, NULL);
			continue;
		}
		pidfd = pidfd_open(pid, 0);
		if (pidfd < 0 && errno == ENOSYS) {
			/* before Linux 5.3 (or under valgrind): the lock was just seen held */
			if (kill(pid, sig) < 0)
				return vmr_error_set(err, errno,
						     "guest '%s': signal supervisor (pid %d)",
						     guest, (int)pid);
			return 1;
		}
		if (pidfd < 0 && errno != ESRCH)
			return vmr_error_set(err, errno, "guest '%s': pidfd_open %d", guest,
					     (int)pid);
		/* the pidfd names the lock holder only if it still holds the lock */
		r = vmr_statedir_probe(state_dir, guest, &again, err);
		if (r <= 0)
			return r;
		if (pidfd < 0 || again != pid)
			continue;
		if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0) {
			if (errno == ESRCH)
				continue;
			return vmr_error_set(err, errno, "guest '%s': signal supervisor (pid %d)",
					     guest, (int)pid);
		}
		return 1;
	}
	return vmr_error_set(err, EAGAIN, "guest '%s': cannot identify its supervisor", guest);
}

int vmr_guest_stop(const char *state_dir, const char *guest, int timeout_s, bool kill,
		   pid_t *ret_pid, struct vmr_error **err)
{
	struct vmr_error *e = NULL;
	pid_t pid = 0;
	json_t *req;
	int r;

	r = vmr_statedir_probe(state_dir, guest, &pid, err);
	if (r <= 0)
		return r;
	if (ret_pid)
		*ret_pid = pid;
	if (!supervisor_serving(state_dir, guest))
		return signal_supervisor(state_dir, guest, SIGTERM, err);

	if (kill)
		req = json_pack("{s:n}", "kill");
	else if (timeout_s >= 0)
		req = json_pack("{s:{s:i}}", "stop", "timeout", timeout_s);
	else
		req = json_pack("{s:n}", "stop");
	r = vmr_control_call(state_dir, guest, req, VMR_CONTROL_TIMEOUT_MS, NULL, NULL, &e);
	json_decref(req);
	if (r >= 0)
		return 1;
	/* it went away between the probe and the request: nothing to stop */
	if ((e->errnum == ENOENT || e->errnum == ECONNREFUSED || e->errnum == EPIPE) &&
	    vmr_statedir_probe(state_dir, guest, NULL, NULL) == 0) {
		vmr_error_free(e);
		return 0;
	}
	if (err)
		*err = e;
	else
		vmr_error_free(e);
	return r;
}

int vmr_guest_kill_if(const char *state_dir, const char *guest, pid_t pid, struct vmr_error **err)
{
	json_t *req = json_pack("{s:n}", "kill"), *reply = NULL;
	struct vmr_error *e = NULL;
	int r;

	r = control_request(state_dir, guest, pid, req, VMR_CONTROL_TIMEOUT_MS, &reply, &e);
	json_decref(req);
	json_decref(reply);
	if (r >= 0)
		return 1;
	/* not serving (yet), another supervisor's socket, or gone meanwhile */
	if (e->errnum == ESRCH || e->errnum == ENOENT || e->errnum == ECONNREFUSED ||
	    e->errnum == EPIPE) {
		vmr_error_free(e);
		return 0;
	}
	if (err)
		*err = e;
	else
		vmr_error_free(e);
	return r;
}

/* Wait up to timeout_ms (< 0: no limit) for process pid to end. */
static int wait_pid_gone(pid_t pid, const char *guest, int timeout_ms, struct vmr_error **err)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	_cleanup_close_ int pfd = pidfd_open(pid, 0);

	if (pfd < 0)
		return errno == ESRCH
			   ? 0
			   : vmr_error_set(err, errno, "watch supervisor pid %d", (int)pid);
	for (;;) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		uint64_t now = now_ms();
		int left = -1, n;

		if (timeout_ms >= 0) {
			if (now >= deadline)
				return vmr_error_set(err, ETIMEDOUT,
						     "guest '%s' still running after %d ms", guest,
						     timeout_ms);
			left = (int)(deadline - now);
		}
		n = poll(&p, 1, left);
		if (n < 0 && errno != EINTR)
			return vmr_error_set(err, errno, "poll");
		if (n > 0)
			return 0;
	}
}

/*
 * The exit status the supervisor pid recorded: in status.json, or in
 * status.json.1 when a successor started meanwhile (it keeps its
 * predecessor's there).  -1 when none.
 */
static int recorded_exit_status(const char *state_dir, const char *guest, pid_t pid)
{
	static const char *const files[] = {"status.json", "status.json.1"};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *path = vmr_statedir_path(state_dir, guest, files[i]);
		json_t *st = json_load_file(path, 0, NULL);
		json_t *es = json_object_get(st, "exit_status");
		json_t *sp = json_object_get(st, "supervisor_pid");
		int r = -1;
		bool mine = !pid || (json_is_integer(sp) && json_integer_value(sp) == pid);

		if (mine && json_is_integer(es) &&
		    streq(json_string_value(json_object_get(st, "state")), "exited"))
			r = (int)json_integer_value(es);
		json_decref(st);
		if (mine)
			return r;
	}
	return -1;
}

int vmr_guest_wait_stopped(const char *state_dir, const char *guest, pid_t pid, int timeout_ms,
			   int *ret_exit_status, struct vmr_error **err)
{
	int r;

	/*
	 * The supervisor we asked, not the lock: an `up` waiting for this
	 * guest may start a new supervisor the moment this one is gone.
	 */
	if (pid > 0)
		r = wait_pid_gone(pid, guest, timeout_ms, err);
	else
		r = vmr_statedir_wait(state_dir, guest, timeout_ms, err);
	if (r < 0)
		return r;
	*ret_exit_status = recorded_exit_status(state_dir, guest, pid);
	return 0;
}

int vmr_guest_stop_wait_ms(const char *state_dir, const char *guest, int timeout_s,
			   unsigned fallback_s)
{
	unsigned long long wait_s = fallback_s;

	if (timeout_s >= 0) {
		wait_s = (unsigned)timeout_s;
	} else {
		json_t *st = status_file(state_dir, guest);
		json_t *t = json_object_get(st, "stop_timeout");

		if (json_is_integer(t) && json_integer_value(t) >= 0)
			wait_s = (unsigned long long)json_integer_value(t);
		json_decref(st);
	}
	if (wait_s > VMR_STOP_TIMEOUT_MAX_S)
		wait_s = VMR_STOP_TIMEOUT_MAX_S;
	return (int)wait_s * 1000 + VMR_SUPERVISOR_QUIT_TIMEOUT_MS + VMR_STOP_TEARDOWN_MARGIN_MS;
}

const char *vmr_guest_exit_text(int exit_status)
{
	switch (exit_status) {
	case VMR_EXIT_OK:
		return "the guest powered off";
	case VMR_EXIT_FAILURE:
		return "startup or teardown failed";
	case VMR_EXIT_QEMU_ERROR:
		return "QEMU failed";
	case VMR_EXIT_GUEST_PANIC:
		return "the guest panicked";
	case 128 + SIGKILL:
		return "QEMU was killed by SIGKILL";
	case VMR_EXIT_STOPPED:
		return "stopped without a guest poweroff";
	default:
		return NULL;
	}
}

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vmr_guest_list(const char *state_dir, struct vmr_strvec *ret, struct vmr_error **err)
{
	struct vmr_strvec names = VMR_STRVEC_INIT;
	DIR *d = opendir(state_dir);
	struct dirent *de;

	if (!d) {
		if (errno == ENOENT)
			return 0;
		return vmr_error_set(err, errno, "open state directory '%s'", state_dir);
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		/* a guest directory is one a supervisor has locked at least once */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || !guest_has_file(state_dir, de->d_name, "lock"))
			continue;
		vmr_strvec_push(&names, de->d_name);
	}
	closedir(d);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(names.v[0]), strcmp_p);
	for (size_t i = 0; i < names.n; i++)
		vmr_strvec_push(ret, names.v[i]);
	vmr_strvec_clear(&names);
	return 0;
}

char *vmr_thread_affinity(pid_t pid, pid_t tid)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/task/%d/status", (int)pid, (int)tid);
	_cleanup_free_ char *text = NULL;
	const char *key = "\nCpus_allowed_list:";
	char *p, *end;

	if (read_file(path, 1 << 16, &text, NULL) < 0)
		return NULL;
	p = strstr(text, key);
	if (!p)
		return NULL;
	p += strlen(key);
	p += strspn(p, " \t");
	end = strchr(p, '\n');
	return end ? xstrndup(p, (size_t)(end - p)) : xstrdup(p);
}

static bool journal_pending(const char *state_dir, const char *guest)
{
	_cleanup_free_ char *path = vmr_statedir_path(state_dir, guest, "journal.jsonl");
	struct stat st;

	return stat(path, &st) == 0 && st.st_size > 0;
}

int vmr_guest_status(const char *state_dir, const char *guest, int timeout_ms, json_t **ret,
		     struct vmr_error **err)
{
	json_t *st = NULL, *vcpus;
	const char *phase;
	pid_t pid = 0;
	bool held, live = false;
	int r;

	r = vmr_statedir_probe(state_dir, guest, &pid, err);
	if (r < 0)
		return r;
	held = r > 0;
	if (held && supervisor_serving(state_dir, guest)) {
		json_t *req = json_pack("{s:n}", "status");

		/* a supervisor that does not answer is shown from its status file */
		if (vmr_control_call(state_dir, guest, req, timeout_ms, &st, NULL, NULL) == 0 &&
		    json_is_object(st))
			live = true;
		json_decref(req);
	}
	if (!live) {
		json_decref(st);
		st = status_file(state_dir, guest);
	}
	if (!st)
		st = json_object();
	json_object_set_new(st, "guest", json_string(guest));
	json_object_set_new(st, "live", json_boolean(live));
	json_object_set_new(st, "supervisor_alive", json_boolean(held));
	phase = json_string_value(json_object_get(st, "state"));
	json_object_set_new(st, "supervisor_state", phase ? json_string(phase) : json_null());
	if (!json_object_get(st, "qemu_state"))
		json_object_set_new(st, "qemu_state", json_null());

	if (held) {
		const char *q = json_string_value(json_object_get(st, "qemu_state"));
		json_t *started = json_object_get(st, "started");

		json_object_set_new(st, "state", json_string(q ? q : phase ? phase : "starting"));
		json_object_set_new(st, "supervisor_pid", json_integer(pid));
		if (!json_object_get(st, "uptime") && json_is_integer(started)) {
			time_t now = time(NULL), t0 = (time_t)json_integer_value(started);

			json_object_set_new(st, "uptime",
					    json_integer(now > t0 ? (json_int_t)(now - t0) : 0));
		}
	} else {
		const char *s;

		/* host changes waiting to be undone make a guest stale, whatever it said */
		if (journal_pending(state_dir, guest))
			s = "stale";
		else if (phase)
			s = streq(phase, "exited") ? "exited" : "stale";
		else
			s = "stopped";
		json_object_set_new(st, "state", json_string(s));
		json_object_set_new(st, "uptime", json_null());
		/* what status.json says of processes and links that are gone (or reclaimed) */
		json_object_set_new(st, "supervisor_pid", json_null());
		json_object_set_new(st, "qemu_pid", json_null());
		json_object_set_new(st, "vcpus", json_array());
		json_object_set_new(st, "nics", json_array());
	}

	vcpus = json_object_get(st, "vcpus");
	if (held && json_is_array(vcpus)) {
		json_int_t qpid = json_integer_value(json_object_get(st, "qemu_pid"));
		size_t i;
		json_t *v;

		json_array_foreach(vcpus, i, v)
		{
			json_int_t tid = json_integer_value(json_object_get(v, "thread"));
			char *aff;

			if (json_object_get(v, "affinity") || qpid <= 0 || tid <= 0)
				continue;
			aff = vmr_thread_affinity((pid_t)qpid, (pid_t)tid);
			if (aff)
				json_object_set_new(v, "affinity", json_string(aff));
			free(aff);
		}
	}
	*ret = st;
	return 0;
}

int vmr_ctl_parse(const char *line, size_t len, struct vmr_ctl_request *ret, char **ret_why)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, 0, &jerr), *val, *t;
	struct vmr_ctl_request r = {.timeout = -1, .doc = req};
	const char *key;

	if (!req || !json_is_object(req) || json_object_size(req) != 1) {
		*ret_why = xasprintf("invalid request: %s",
				     req ? "want an object with one member" : jerr.text);
		json_decref(req);
		return -EINVAL;
	}
	key = json_object_iter_key(json_object_iter(req));
	val = json_object_get(req, key);
	if (streq(key, "qmp") || streq(key, "agent")) {
		r.kind = streq(key, "qmp") ? VMR_CTL_QMP : VMR_CTL_AGENT;
		r.execute = json_string_value(json_object_get(val, "execute"));
		r.arguments = json_object_get(val, "arguments");
		if (!r.execute || (r.arguments && !json_is_object(r.arguments))) {
			*ret_why = xasprintf("invalid request: \"%s\" wants "
					     "{\"execute\": NAME, \"arguments\": {...}}",
					     key);
			json_decref(req);
			return -EINVAL;
		}
	} else if (streq(key, "status")) {
		r.kind = VMR_CTL_STATUS;
	} else if (streq(key, "ping")) {
		r.kind = VMR_CTL_PING;
	} else if (streq(key, "stats")) {
		r.kind = VMR_CTL_STATS;
	} else if (streq(key, "health")) {
		r.kind = VMR_CTL_HEALTH;
		t = json_object_get(val, "wait");
		if ((!json_is_null(val) && !json_is_object(val)) || (t && !json_is_boolean(t))) {
			*ret_why = xstrdup("invalid request: \"health\" wants null or "
					   "{\"wait\": BOOL}");
			json_decref(req);
			return -EINVAL;
		}
		r.wait = json_is_true(t);
	} else if (streq(key, "stop") || streq(key, "reboot")) {
		r.kind = streq(key, "stop") ? VMR_CTL_STOP : VMR_CTL_REBOOT;
		t = json_object_get(val, "timeout");
		if (t && (!json_is_integer(t) || json_integer_value(t) < 0 ||
			  json_integer_value(t) > 86400)) {
			*ret_why = xstrdup("invalid request: \"timeout\" wants seconds");
			json_decref(req);
			return -EINVAL;
		}
		if (t)
			r.timeout = (int)json_integer_value(t);
	} else if (streq(key, "kill")) {
		r.kind = VMR_CTL_KILL;
	} else {
		*ret_why = xasprintf("unknown request '%s'", key);
		json_decref(req);
		return -EINVAL;
	}
	*ret = r;
	return 0;
}

void vmr_ctl_request_free(struct vmr_ctl_request *r)
{
	if (!r)
		return;
	json_decref(r->doc);
	*r = (struct vmr_ctl_request){.timeout = -1};
}
