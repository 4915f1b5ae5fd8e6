/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun console GUEST [--timeout S]: attach to a guest's serial console
 * through its supervisor's console.sock.  On a terminal: raw mode, restored
 * on every way out; Ctrl-] detaches.  Through pipes: stdin is sent as it
 * comes, and its end leaves the output flowing until the guest's side
 * closes or the timeout.
 */
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>

#include "cmd/cmd.h"
#include "lib/runtime/control.h"
#include "lib/base/util.h"

#define ESCAPE_CHAR 0x1d /* Ctrl-] as telnet and virsh console use it */

struct console_opts {
	long long timeout;
};

static const struct vmr_cli_opt console_options[] = {
    {"timeout", 't', "S", "detach after S seconds",
     VMR_CLI_SECONDS(struct console_opts, timeout, 0, 86400 * 365)},
    {0},
};

const struct vmr_cli_cmd cmd_console_cli = {
    .name = "console",
    .summary = "attach to a guest's serial console (Ctrl-] detaches)",
    .synopsis = "GUEST [--timeout S]",
    .description = "Connect to GUEST's serial console.  On a terminal the terminal is put in raw\n"
		   "mode (restored on exit) and Ctrl-] detaches.  stdin and stdout may be pipes:\n"
		   "input is sent to the guest as it comes; after the end of the input the\n"
		   "output keeps flowing until the guest's console closes or --timeout.\n"
		   "Only the oldest connected client types into the guest; others watch.",
    .opts = console_options,
    .arg_names = "GUEST",
    .min_args = 1,
    .max_args = 1,
    .exit_status = "0 detached or the console closed, 1 the guest is not\n"
		   "running or the connection failed, 2 bad usage",
    .run = cmd_console,
};

struct term {
	bool raw;
	struct termios saved;
};

static void term_restore(struct term *t)
{
	if (t->raw)
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &t->saved);
	t->raw = false;
}

static int term_raw(struct term *t)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &t->saved) < 0)
		return -errno;
	raw = t->saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
		return -errno;
	t->raw = true;
	return 0;
}

enum relay_end { END_DETACH, END_CLOSED, END_TIMEOUT, END_SIGNAL, END_ERROR };

/*
 * Copy stdin to sock and sock to stdout until the end: the escape char on
 * a terminal, the guest side closing, the deadline, a signal, or an error
 * (errno in *ret_errno; for a signal its number).
 */
static enum relay_end relay(int sock, int sigfd, bool tty, long long timeout_ms, int *ret_errno)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	bool in_open = true;
	char buf[65536];

	for (;;) {
		struct pollfd pfd[3] = {
		    {.fd = sock, .events = POLLIN},
		    {.fd = sigfd, .events = POLLIN},
		    {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN},
		};
		int left = -1, r;
		ssize_t n;

		if (timeout_ms >= 0) {
			uint64_t now = now_ms();

			if (now >= deadline)
				return END_TIMEOUT;
			/* --timeout allows a year: more milliseconds than poll() takes */
			left = deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
		}
		r = poll(pfd, 3, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*ret_errno = errno;
			return END_ERROR;
		}
		if (pfd[1].revents) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				*ret_errno = (int)si.ssi_signo;
			return END_SIGNAL;
		}
		if (pfd[0].revents) {
			n = recv(sock, buf, sizeof(buf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0 || (n < 0 && errno == ECONNRESET))
				return END_CLOSED;
			if (n < 0) {
				*ret_errno = errno;
				return END_ERROR;
			}
			r = write_all(STDOUT_FILENO, buf, (size_t)n);
			if (r < 0) {
				/* the reader of our output left: that ends the session */
				if (r == -EPIPE)
					return END_DETACH;
				*ret_errno = -r;
				return END_ERROR;
			}
		}
		if (pfd[2].revents) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				/*
				 * End of input: keep the connection open, the
				 * supervisor drops a client whose side is shut.
				 */
				in_open = false;
				continue;
			}
			esc = tty ? memchr(buf, ESCAPE_CHAR, (size_t)n) : NULL;
			if (esc)
				n = esc - buf;
			for (ssize_t off = 0; off < n;) {
				ssize_t w = send(sock, buf + off, (size_t)(n - off), MSG_NOSIGNAL);

				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
					return END_CLOSED;
				if (w < 0) {
					*ret_errno = errno;
					return END_ERROR;
				}
				off += w;
			}
			if (esc)
				return END_DETACH;
		}
	}
}

VERB(console)
{
	struct console_opts o = {.timeout = -1};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	struct term term = {0};
	_cleanup_close_ int sock = -1, sigfd = -1;
	struct sigaction ign = {.sa_handler = SIG_IGN};
	struct vmr_cli_args a;
	bool tty;
	sigset_t set, oldset;
	enum relay_end end;
	const char *guest;
	int r, errnum = 0;

	r = vmr_cli_parse(&cmd_console_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	guest = a.v[0];
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	sock = vmr_guest_socket_connect(cfg.state_dir, guest, "console.sock", &err);
	vmr_config_free(&cfg);
	if (sock < 0)
		return vmr_cli_fail(err);

	/* signals become events, so the terminal is restored whatever ends us */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &set, &oldset) < 0 ||
	    (sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		vmr_error_set(&err, errno, "signalfd");
		return vmr_cli_fail(err);
	}
	sigaction(SIGPIPE, &ign, NULL);

	tty = isatty(STDIN_FILENO);
	if (tty) {
		r = term_raw(&term);
		if (r < 0) {
			vmr_error_set(&err, -r, "set the terminal to raw mode");
			return vmr_cli_fail(err);
		}
		fprintf(stderr,
			"vmrun: connected to the console of guest '%s'; Ctrl-] detaches\r\n",
			guest);
	}
	end = relay(sock, sigfd, tty, o.timeout >= 0 ? o.timeout * 1000 : -1, &errnum);
	term_restore(&term);
	sigprocmask(SIG_SETMASK, &oldset, NULL);

	switch (end) {
	case END_CLOSED:
		fprintf(stderr, "%svmrun: the console of guest '%s' closed\n", tty ? "\n" : "",
			guest);
		return VMR_EXIT_OK;
	case END_DETACH:
	case END_TIMEOUT:
		if (tty)
			fprintf(stderr, "\nvmrun: detached from guest '%s'\n", guest);
		return VMR_EXIT_OK;
	case END_SIGNAL:
		if (tty)
			fprintf(stderr, "\nvmrun: detached from guest '%s'\n", guest);
		return 128 + errnum;
	case END_ERROR:
	default:
		vmr_error_set(&err, errnum, "console of guest '%s'", guest);
		return vmr_cli_fail(err);
	}
}
