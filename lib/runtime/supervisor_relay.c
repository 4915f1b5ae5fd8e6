/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relays (lib/devices/devices.h, struct vmr_relay): listening sockets
 * the devices left to the supervisor (vnc.sock).  Each client accepted is
 * handed to QEMU over QMP: `getfd` with the connection as SCM_RIGHTS
 * (vmr_qmp_send_fd), then, once QEMU holds it, `add_client` with the
 * relay's protocol and skipauth false, so QEMU's own authentication (the
 * VNC password) still applies.  Each client gets an fd name of its own:
 * the getfd of the next client may reach QEMU before this add_client.
 * Clients are as many as QEMU takes; those arriving while the guest
 * starts, or while RELAY_MAX_IN_FLIGHT are being handed over, wait in the
 * backlog.
 */
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/runtime/supervisor_internal.h"

/* Clients accepted per relay and loop pass: a flood must not starve the loop. */
#define RELAY_ACCEPTS_PER_PASS 4
/*
 * Clients on their way to QEMU at once (each holds an fd until QEMU has
 * it); more wait in the listening socket's backlog.
 */
#define RELAY_MAX_IN_FLIGHT 16
#define RELAY_QMP_TIMEOUT_MS 10000

struct relay_client {
	struct sup *s; /* s->relay_in_flight counts these */
	size_t relay;
	char fdname[32];
};

static void relay_done(struct relay_client *c)
{
	c->s->relay_in_flight--;
	free(c);
}

static void relay_failed(struct relay_client *c, const char *what, int r, struct vmr_error *err)
{
	const struct vmr_relay *rl;
	_cleanup_free_ char *text = NULL;

	/* teardown closes QMP with clients in flight: nothing to report */
	if (r == -EPIPE)
		return;
	rl = &c->s->helpers.relays[c->relay];
	text = err ? vmr_error_text(err) : NULL;
	sup_log(c->s, VMR_LOG_WARNING,
		"guest '%s': a client of '%s' was not handed to QEMU: %s: %s", c->s->g->name,
		rl->path, what, text ? text : "?");
}

static void relay_added(json_t *ret, int r, const char *error_class, struct vmr_error *err,
			void *userdata)
{
	struct relay_client *c = userdata;

	(void)ret;
	(void)error_class;
	if (r < 0)
		relay_failed(c, "add_client", r, err);
	vmr_error_free(err);
	relay_done(c);
}

/* QEMU holds the connection under c->fdname: make it a client of the display */
static void relay_got_fd(json_t *ret, int r, const char *error_class, struct vmr_error *err,
			 void *userdata)
{
	struct relay_client *c = userdata;
	struct vmr_error *e = NULL;
	json_t *args;

	(void)ret;
	(void)error_class;
	if (r < 0) {
		relay_failed(c, "getfd", r, err);
		vmr_error_free(err);
		relay_done(c);
		return;
	}
	args = json_pack("{s:s, s:s, s:b}", "protocol", c->s->helpers.relays[c->relay].protocol,
			 "fdname", c->fdname, "skipauth", 0);
	r = vmr_qmp_send(c->s->qmp, "add_client", args, RELAY_QMP_TIMEOUT_MS, relay_added, c, NULL,
			 &e);
	json_decref(args);
	if (r < 0) {
		relay_failed(c, "add_client", r, e);
		vmr_error_free(e);
		relay_done(c);
	}
}

static void relay_accept(struct sup *s, size_t i)
{
	struct vmr_relay *rl = &s->helpers.relays[i];

	for (int k = 0; k < RELAY_ACCEPTS_PER_PASS && s->relay_in_flight < RELAY_MAX_IN_FLIGHT;
	     k++) {
		_cleanup_close_ int fd = accept4(rl->fd, NULL, NULL, SOCK_CLOEXEC);
		struct relay_client *c;
		struct vmr_error *e = NULL;
		json_t *args;
		int r;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				sup_log(s, VMR_LOG_WARNING, "guest '%s': accept on '%s': %s",
					s->g->name, rl->path, strerror(errno));
			return;
		}
		/* without QMP nobody can take it: the client sees EOF */
		if (vmr_qmp_closed(s->qmp))
			continue;
		c = xcalloc(1, sizeof(*c));
		c->s = s;
		s->relay_in_flight++;
		c->relay = i;
		snprintf(c->fdname, sizeof(c->fdname), "vmrun-%s-%llu", rl->protocol,
			 (unsigned long long)++s->relay_seq);
		args = json_pack("{s:s}", "fdname", c->fdname);
		/* the client keeps a duplicate until sent: ours closes here */
		r = vmr_qmp_send_fd(s->qmp, "getfd", args, fd, RELAY_QMP_TIMEOUT_MS, relay_got_fd,
				    c, NULL, &e);
		json_decref(args);
		if (r < 0) {
			relay_failed(c, "getfd", r, e);
			vmr_error_free(e);
			relay_done(c);
		}
	}
}

size_t sup_relay_poll(struct sup *s, struct pollfd *pfd)
{
	size_t n = s->helpers.nrelays < SUP_MAX_RELAYS ? s->helpers.nrelays : SUP_MAX_RELAYS;

	/* at the limit, not polled (a negative fd is ignored): clients wait in the backlog */
	for (size_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){
		    .fd = s->relay_in_flight < RELAY_MAX_IN_FLIGHT ? s->helpers.relays[i].fd : -1,
		    .events = POLLIN};
	return n;
}

void sup_relay_dispatch(struct sup *s, const struct pollfd *pfd, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pfd[i].revents & POLLIN)
			relay_accept(s, i);
}
