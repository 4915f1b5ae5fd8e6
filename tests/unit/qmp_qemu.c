/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QMP client against the real QEMU (TCG, paused, no guest): a listening
 * socket created here and passed as fd=3, as the supervisor does.
 * Skipped, with the reason, when qemu-system-x86_64 is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"
#include "qmp/qmp.h"
#include "tests/lib/tap.h"

#define QEMU "qemu-system-x86_64"
#define T 20000 /* generous: TCG start-up on a loaded 2-core box */

static char *find_in_path(const char *name)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = xstrdup(path ? path : "/usr/bin:/bin");
	char *save = NULL;

	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", dir, name);

		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

static pid_t spawn_qemu(const char *qemu, int lfd)
{
	/* argv is built before fork: the child only dups, sets PDEATHSIG and execs */
	char *const argv[] = {
	    (char *)qemu,
	    "-machine",
	    "pc",
	    "-m",
	    "32",
	    "-smp",
	    "2",
	    "-accel",
	    "tcg",
	    "-nodefaults",
	    "-no-user-config",
	    "-S",
	    "-display",
	    "none",
	    "-name",
	    "qmpt,debug-threads=on",
	    /* a VNC server without a listener: clients come as fds (getfd, add_client) */
	    "-device",
	    "VGA",
	    "-vnc",
	    "none,password=on",
	    "-chardev",
	    "socket,id=m,fd=3,server=on,wait=off",
	    "-mon",
	    "chardev=m,mode=control",
	    NULL,
	};
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid < 0)
		abort();
	if (pid == 0) {
		if (lfd == 3) {
			if (fcntl(3, F_SETFD, 0) < 0)
				_exit(127);
		} else if (dup2(lfd, 3) < 0) {
			_exit(127);
		}
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		execv(qemu, argv);
		_exit(127);
	}
	return pid;
}

struct rec {
	struct vmr_buf events;
	int done; /* executes completed, maintained by the test */
	int done_at_resume, done_at_shutdown;
};

static void on_event(const char *event, json_t *data, json_t *timestamp, void *userdata)
{
	struct rec *r = userdata;
	const char *reason = json_string_value(json_object_get(data, "reason"));

	vmr_buf_addf(&r->events, "%s%s%s%s ", event, reason ? "(" : "", reason ? reason : "",
		     reason ? ")" : "");
	if (streq(event, "RESUME"))
		r->done_at_resume = r->done;
	if (streq(event, "SHUTDOWN"))
		r->done_at_shutdown = r->done;
}

static char *err_text(const struct vmr_error *err)
{
	return err ? vmr_error_text(err) : xstrdup("(no error)");
}

/* What the supervisor does for each client of STATE/GUEST/vnc.sock (lib/runtime/supervisor_vnc.c).
 */
static void test_vnc_clients(struct vmr_qmp *q)
{
	json_t *pw = json_pack("{s:s, s:s}", "protocol", "vnc", "password", "pw");
	json_t *getfd = json_pack("{s:s}", "fdname", "vnc-client");
	json_t *add =
	    json_pack("{s:s, s:s, s:b}", "protocol", "vnc", "fdname", "vnc-client", "skipauth", 0);
	struct vmr_error *err = NULL;
	json_t *ret = NULL;
	int conns[3];

	is_int(vmr_qmp_execute(q, "set_password", pw, T, NULL, &err), 0, "set_password");
	for (int i = 0; i < 3; i++) {
		int sv[2];
		char greet[13] = {0}, auth[3] = {0};
		struct pollfd pfd;

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			abort();
		conns[i] = sv[0];
		is_int(vmr_qmp_execute_fd(q, "getfd", getfd, sv[1], T, NULL, &err), 0,
		       "client %d: getfd with the fd", i);
		close(sv[1]);
		is_int(vmr_qmp_execute(q, "add_client", add, T, NULL, &err), 0,
		       "client %d: add_client vnc", i);
		pfd = (struct pollfd){.fd = sv[0], .events = POLLIN};
		poll(&pfd, 1, T);
		ok(read(sv[0], greet, 12) == 12 && streq(greet, "RFB 003.008\n"),
		   "client %d: RFB greeting", i);
		if (write(sv[0], "RFB 003.008\n", 12) != 12)
			abort();
		poll(&pfd, 1, T);
		/* one security type, 2: VNC authentication (the password is on) */
		ok(read(sv[0], auth, 2) == 2 && auth[0] == 1 && auth[1] == 2,
		   "client %d: asked for the VNC password", i);
	}
	is_int(vmr_qmp_execute(q, "query-vnc-servers", NULL, T, &ret, &err), 0,
	       "query-vnc-servers");
	is_int(json_array_size(json_object_get(json_array_get(ret, 0), "clients")), 3,
	       "three clients at once");
	json_decref(ret);
	is_int(vmr_qmp_execute(q, "add_client", add, T, NULL, &err), -EREMOTEIO,
	       "add_client without a new fd fails");
	vmr_error_clear(&err);
	for (int i = 0; i < 3; i++)
		close(conns[i]);
	json_decref(pw);
	json_decref(getfd);
	json_decref(add);
}

static void test_qemu(const char *qemu)
{
	char dir[] = "/tmp/vmrt-qmpq-XXXXXX";
	_cleanup_free_ char *path = NULL, *msg = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vmr_qmp *q = NULL, *q2 = NULL;
	struct vmr_error *err = NULL;
	struct rec rec = {0};
	json_t *ret = NULL;
	int lfd, r, status = -1;
	pid_t pid;

	if (!mkdtemp(dir))
		abort();
	path = xasprintf("%s/qmp.sock", dir);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0)
		abort();
	pid = spawn_qemu(qemu, lfd);
	close(lfd);

	is_int(vmr_qmp_connect_path(path, T, &q, &err), 0, "connect to the passed socket");
	if (!q) {
		kill(pid, SIGKILL);
		goto out;
	}
	vmr_qmp_set_event_handler(q, on_event, &rec);

	/* a chardev serves one client: a second one gets no greeting */
	is_int(vmr_qmp_connect_path(path, T, &q2, &err), 0, "second client connects");
	if (q2) {
		_cleanup_free_ char *want =
		    xasprintf("qmp '%s': no greeting within 300 ms: Connection timed out", path);

		is_int(vmr_qmp_handshake(q2, 300, &err), -ETIMEDOUT, "but gets no greeting");
		msg = err_text(err);
		is_str(msg, want, "timeout names the socket");
		vmr_error_clear(&err);
		vmr_qmp_free(q2);
	}

	is_int(vmr_qmp_execute(q, "query-status", NULL, T, NULL, &err), -EREMOTEIO,
	       "command before negotiation refused");
	is_str(vmr_qmp_error_class(q), "CommandNotFound", "as CommandNotFound");
	vmr_error_clear(&err);

	is_int(vmr_qmp_handshake(q, T, &err), 0, "handshake");
	ok(json_is_integer(json_object_get(
	       json_object_get(json_object_get(vmr_qmp_greeting(q), "version"), "qemu"), "major")),
	   "greeting carries QEMU's version");

	is_int(vmr_qmp_execute(q, "query-status", NULL, T, &ret, &err), 0, "query-status");
	is_str(json_string_value(json_object_get(ret, "status")), "prelaunch", "paused by -S");
	json_decref(ret);
	ret = NULL;

	is_int(vmr_qmp_execute(q, "query-cpus-fast", NULL, T, &ret, &err), 0, "query-cpus-fast");
	is_int(json_array_size(ret), 2, "two vCPUs");
	for (size_t i = 0; i < json_array_size(ret); i++) {
		json_t *tid = json_object_get(json_array_get(ret, i), "thread-id");
		_cleanup_free_ char *task =
		    xasprintf("/proc/%d/task/%lld", (int)pid, (long long)json_integer_value(tid));

		ok(json_is_integer(tid) && access(task, F_OK) == 0,
		   "vCPU %zu thread-id is a QEMU thread (%s)", i, task);
	}
	json_decref(ret);
	ret = NULL;

	test_vnc_clients(q);

	rec.done = 1;
	is_int(vmr_qmp_execute(q, "cont", NULL, T, NULL, &err), 0, "cont");
	rec.done = 2;
	is_int(rec.done_at_resume, 1, "RESUME dispatched before cont's return");

	rec.done = 3;
	r = vmr_qmp_execute(q, "quit", NULL, T, NULL, &err);
	free(msg);
	msg = err_text(err);
	/* QEMU may close before its return reaches us: that is success for quit */
	ok(r == 0 || r == -EPIPE, "quit (%d: %s)", r, r ? msg : "ok");
	vmr_error_clear(&err);
	rec.done = 4;
	is_int(rec.done_at_shutdown, 3, "SHUTDOWN dispatched before quit's return");
	ok(strstr(vmr_buf_str(&rec.events), "SHUTDOWN(host-qmp-quit)") != NULL,
	   "SHUTDOWN reason host-qmp-quit (events: %s)", vmr_buf_str(&rec.events));

	for (int i = 0; i < 200 && (r = vmr_qmp_process(q, &err)) == 0; i++) {
		struct pollfd pfd = {.fd = vmr_qmp_fd(q), .events = POLLIN};

		poll(&pfd, 1, 100);
	}
	is_int(r, -EPIPE, "EOF or reset after quit closes the client");
	free(msg);
	msg = err_text(err);
	ok(strstr(msg, "QMP connection closed") != NULL, "%s", msg);
	vmr_error_clear(&err);
	is_int(vmr_qmp_execute(q, "query-status", NULL, T, NULL, &err), -EPIPE,
	       "later commands fail at once");
	vmr_error_clear(&err);
	vmr_qmp_free(q);

out:
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "QEMU exited 0 (status %#x)", status);
	vmr_buf_free(&rec.events);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	_cleanup_free_ char *qemu = find_in_path(QEMU);

	signal(SIGPIPE, SIG_IGN);
	if (!qemu)
		tap_skip(QEMU " is not installed (apt-get install qemu-system-x86)",
			 "QMP against the real QEMU");
	else
		test_qemu(qemu);
	return tap_done();
}
