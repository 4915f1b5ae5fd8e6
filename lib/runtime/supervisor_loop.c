/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's loop while the guest runs: one poll() over the
 * signalfd, QMP, the control socket and its clients, and the console,
 * until QEMU exits; the stop deadlines fire from here.
 */
#include <poll.h>

#include "lib/runtime/supervisor_internal.h"

static int poll_timeout(struct sup *s)
{
	int t = vmr_qmp_timeout(s->qmp), left;
	uint64_t now = now_ms();
	uint64_t d = s->deadline;

	if (s->qmp_lost_at && (!d || s->qmp_lost_at + QMP_LOST_GRACE_MS < d))
		d = s->qmp_lost_at + QMP_LOST_GRACE_MS;
	if (s->helper_check_at && (!d || s->helper_check_at < d))
		d = s->helper_check_at;
	if (d) {
		left = d > now ? (int)(d - now) : 0;
		if (t < 0 || left < t)
			t = left;
	}
	left = sup_health_timeout(s);
	if (left >= 0 && (t < 0 || left < t))
		t = left;
	return t;
}

static void sup_deadlines(struct sup *s)
{
	uint64_t now = now_ms();

	sup_helpers_check(s);
	if (s->deadline && now >= s->deadline) {
		s->deadline = 0;
		if (s->phase == PHASE_POWERDOWN) {
			_cleanup_free_ char *why =
			    xasprintf("no poweroff within %u s", s->stop_wait);

			sup_escalate(s, why);
		} else if (s->phase == PHASE_QUIT) {
			sup_escalate(s, "QEMU did not quit");
		}
	}
	if (s->qmp_lost_at && now >= s->qmp_lost_at + QMP_LOST_GRACE_MS &&
	    s->phase != PHASE_KILLED) {
		s->qmp_lost_at = 0;
		sup_escalate(s, "QMP connection lost and QEMU still running");
	}
}

/*
 * QEMU has exited, but its last events (SHUTDOWN, which decides the exit
 * status) may still sit in the socket: read up to EOF, which follows at
 * once since QEMU held the only other end.  The deadline only guards
 * against an end that something else inherited.
 */
static void sup_qmp_drain(struct sup *s)
{
	uint64_t deadline = now_ms() + QMP_DRAIN_MS;

	while (!vmr_qmp_closed(s->qmp)) {
		struct pollfd p = {.fd = vmr_qmp_fd(s->qmp), .events = POLLIN};
		struct vmr_error *e = NULL;
		uint64_t now = now_ms();
		int n;

		if (now >= deadline)
			break;
		n = poll(&p, 1, (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && vmr_qmp_process(s->qmp, &e) < 0)
			vmr_error_free(e);
	}
}

void sup_loop(struct sup *s)
{
	enum {
		MAX_POLL =
		    3 + RUN_MAX_CLIENTS + 3 + RUN_MAX_CLIENTS + SUP_HEALTH_NPOLL + SUP_MAX_RELAYS
	};

	while (!s->qemu_exited) {
		struct pollfd pfd[MAX_POLL];
		uint64_t ids[RUN_MAX_CLIENTS];
		size_t n = 0, ctl_base, nctl, con_base, ncon, health_base, relay_base, nrelay;
		struct vmr_error *e = NULL;

		pfd[n++] = (struct pollfd){.fd = s->sigfd, .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = vmr_qmp_fd(s->qmp),
					   .events = vmr_qmp_poll_events(s->qmp)};
		pfd[n++] = (struct pollfd){.fd = s->ctl_listen, .events = POLLIN};
		ctl_base = n;
		nctl = s->nctl;
		for (size_t i = 0; i < nctl; i++) {
			struct ctl_client *c = s->ctl[i];

			ids[i] = c->id;
			pfd[n++] = (struct pollfd){
			    .fd = c->fd,
			    .events = (short)((sup_ctl_wants_input(c) ? POLLIN : 0) |
					      (c->out.buf.len ? POLLOUT : 0)),
			};
		}
		con_base = n;
		ncon = run_console_poll(&s->con, pfd + n);
		n += ncon;
		health_base = n;
		sup_health_poll(s, pfd + n);
		n += SUP_HEALTH_NPOLL;
		relay_base = n;
		nrelay = sup_relay_poll(s, pfd + n);
		n += nrelay;

		if (poll(pfd, n, poll_timeout(s)) < 0 && errno != EINTR)
			break; /* cannot happen with valid fds; teardown follows */

		if (pfd[0].revents)
			sup_read_signals(s);
		if (!vmr_qmp_closed(s->qmp) && vmr_qmp_process(s->qmp, &e) < 0) {
			vmr_error_free(e);
			e = NULL;
		}
		if (vmr_qmp_closed(s->qmp) && !s->qmp_lost_at && !s->qemu_exited)
			s->qmp_lost_at = now_ms();
		for (size_t k = 0; k < nctl; k++) {
			size_t i;
			struct ctl_client *c = sup_ctl_find(s, ids[k], &i);
			short rev = pfd[ctl_base + k].revents;

			if (!c)
				continue;
			if (rev & POLLOUT &&
			    run_outq_flush(&c->out, c->fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
				sup_ctl_drop(s, i);
				continue;
			}
			if (rev & (POLLIN | POLLHUP | POLLERR) && !c->eof)
				sup_ctl_read(s, i);
			/* a reply that came in may let the next request go */
			sup_ctl_process_lines(s, ids[k]);
			c = sup_ctl_find(s, ids[k], &i);
			if (c && c->eof && !c->busy && c->out.buf.len == 0 &&
			    (c->in.len == 0 || !memchr(c->in.s, '\n', c->in.len)))
				sup_ctl_drop(s, i);
		}
		if (pfd[2].revents & POLLIN)
			sup_ctl_accept(s);
		run_console_dispatch(&s->con, pfd + con_base, ncon);
		sup_health_dispatch(s, pfd + health_base);
		sup_relay_dispatch(s, pfd + relay_base, nrelay);
		sup_health_tick(s);
		sup_deadlines(s);
	}
	sup_qmp_drain(s);
}
