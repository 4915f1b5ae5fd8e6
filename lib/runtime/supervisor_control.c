/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's control socket (STATE/GUEST/control.sock): JSON lines,
 * one reply per request, in order (lib/runtime/supervisor.h lists them).
 * Non-blocking, served by the loop; a client's next request waits while
 * one of its requests is in flight or its replies pile up unread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/runtime/control.h"
#include "lib/runtime/supervisor_internal.h"

enum ctl_reply_kind {
	CTL_REPLY_QMP,	  /* QEMU's reply as it is */
	CTL_REPLY_STATUS, /* the status, the command being query-status */
	CTL_REPLY_STATS,  /* the stats, the command being query-blockstats */
};

struct ctl_req {
	struct sup *s;
	uint64_t client;
	enum ctl_reply_kind kind;
};

struct ctl_client *sup_ctl_find(struct sup *s, uint64_t id, size_t *ret_i)
{
	for (size_t i = 0; i < s->nctl; i++) {
		if (s->ctl[i]->id == id) {
			if (ret_i)
				*ret_i = i;
			return s->ctl[i];
		}
	}
	return NULL;
}

void sup_ctl_drop(struct sup *s, size_t i)
{
	struct ctl_client *c = s->ctl[i];

	close(c->fd);
	vmr_buf_free(&c->in);
	vmr_buf_free(&c->out.buf);
	free(c);
	memmove(&s->ctl[i], &s->ctl[i + 1], (s->nctl - i - 1) * sizeof(s->ctl[0]));
	s->nctl--;
}

/* Queue one reply line (reply is taken) and let the client read on. */
void sup_ctl_reply(struct sup *s, uint64_t id, json_t *reply)
{
	struct ctl_client *c = sup_ctl_find(s, id, NULL);
	char *text = json_dumps(reply, JSON_COMPACT);

	json_decref(reply);
	if (c && text) {
		c->busy = false;
		/* replies are never dropped: the cap is only a guard on memory */
		c->out.cap = SIZE_MAX;
		run_outq_add(&c->out, text, strlen(text));
		run_outq_add(&c->out, "\n", 1);
		(void)run_outq_flush(&c->out, c->fd, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	free(text);
}

json_t *sup_ctl_error(const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	return json_pack("{s:{s:s, s:s}}", "error", "class", "VmrunError", "desc", msg);
}

static void ctl_qmp_done(json_t *ret, int r, const char *error_class, struct vmr_error *err,
			 void *userdata)
{
	struct ctl_req *req = userdata;
	struct sup *s = req->s;
	json_t *reply;

	if (req->kind == CTL_REPLY_STATUS) {
		json_t *state = r >= 0 ? json_object_get(ret, "status") : NULL;

		reply = json_pack("{s:o}", "return", sup_status(s, true, state));
	} else if (req->kind == CTL_REPLY_STATS) {
		reply = json_pack("{s:o}", "return", sup_stats(s, r >= 0 ? ret : NULL));
	} else if (r >= 0) {
		reply = json_object();
		json_object_set_new(reply, "return", ret ? json_incref(ret) : json_object());
	} else {
		_cleanup_free_ char *text = vmr_error_text(err);

		reply = json_pack("{s:{s:s, s:s}}", "error", "class",
				  error_class ? error_class : "VmrunError", "desc", text);
	}
	vmr_error_free(err);
	sup_ctl_reply(s, req->client, reply);
	free(req);
}

static void ctl_send_qmp(struct sup *s, struct ctl_client *c, const char *cmd, json_t *args,
			 enum ctl_reply_kind kind)
{
	struct ctl_req *req = xcalloc(1, sizeof(*req));
	struct vmr_error *e = NULL;

	*req = (struct ctl_req){.s = s, .client = c->id, .kind = kind};
	c->busy = true;
	if (vmr_qmp_send(s->qmp, cmd, args, CTL_QMP_TIMEOUT_MS, ctl_qmp_done, req, NULL, &e) < 0) {
		/* not called back: answer here */
		free(req);
		if (kind == CTL_REPLY_STATUS) {
			sup_ctl_reply(s, c->id,
				      json_pack("{s:o}", "return", sup_status(s, true, NULL)));
		} else if (kind == CTL_REPLY_STATS) {
			sup_ctl_reply(s, c->id, json_pack("{s:o}", "return", sup_stats(s, NULL)));
		} else {
			_cleanup_free_ char *text = vmr_error_text(e);

			sup_ctl_reply(s, c->id, sup_ctl_error("%s", text));
		}
		vmr_error_free(e);
	}
}

static void ctl_request(struct sup *s, struct ctl_client *c, const char *line, size_t len)
{
	_cleanup_free_ char *why = NULL;
	struct vmr_ctl_request req;

	if (vmr_ctl_parse(line, len, &req, &why) < 0) {
		sup_ctl_reply(s, c->id, sup_ctl_error("%s", why));
		return;
	}
	switch (req.kind) {
	case VMR_CTL_QMP:
		ctl_send_qmp(s, c, req.execute, req.arguments, CTL_REPLY_QMP);
		break;
	case VMR_CTL_STATUS:
		ctl_send_qmp(s, c, "query-status", NULL, CTL_REPLY_STATUS);
		break;
	case VMR_CTL_STATS:
		ctl_send_qmp(s, c, "query-blockstats", NULL, CTL_REPLY_STATS);
		break;
	case VMR_CTL_HEALTH:
		if (req.wait) {
			c->busy = true;
			sup_health_wait(s, c->id);
		} else {
			sup_ctl_reply(s, c->id, json_pack("{s:o}", "return", sup_health_json(s)));
		}
		break;
	case VMR_CTL_REBOOT:
		c->busy = true;
		sup_reboot_start(s, c->id,
				 req.timeout >= 0 ? (unsigned)req.timeout : s->stop_timeout);
		break;
	case VMR_CTL_AGENT:
		c->busy = true;
		sup_agent_call(s, c->id, req.execute, req.arguments);
		break;
	case VMR_CTL_PING:
		/*
		 * Answered by the loop, so startup is over; ready: the guest
		 * runs and no stop began.  A QEMU killed a moment ago is not
		 * ready even if it has not died yet.
		 */
		sup_ctl_reply(s, c->id,
			      json_pack("{s:{s:b}}", "return", "ready",
					s->phase == PHASE_RUNNING && !sup_qemu_dying(s)));
		break;
	case VMR_CTL_STOP:
		if (!s->stop_cause)
			s->stop_cause = "request";
		sup_stop(s, req.timeout >= 0 ? (unsigned)req.timeout : s->stop_timeout,
			 "stop requested");
		sup_ctl_reply(s, c->id, json_pack("{s:{}}", "return"));
		break;
	case VMR_CTL_KILL:
		sup_log(s, VMR_LOG_INFO, "guest '%s': kill requested: killing QEMU (pid %d)",
			s->g->name, (int)s->qemu_pid);
		s->stop_cause = "kill";
		sup_kill(s);
		sup_health_end(s);
		sup_ctl_reply(s, c->id, json_pack("{s:{}}", "return"));
		break;
	}
	vmr_ctl_request_free(&req);
}

/*
 * Whether to take more requests from c: not while one is in flight or its
 * replies pile up unread, so a client that pipelines requests without
 * reading costs at most a line and a few replies of memory.
 */
bool sup_ctl_wants_input(const struct ctl_client *c)
{
	return !c->eof && !c->busy && c->out.buf.len < CTL_OUT_HIGH;
}

/* Handle complete lines while no request of this client is in flight. */
void sup_ctl_process_lines(struct sup *s, uint64_t id)
{
	struct ctl_client *c;
	char *nl;

	while ((c = sup_ctl_find(s, id, NULL)) && !c->busy && c->out.buf.len < CTL_OUT_HIGH &&
	       c->in.len > 0 && (nl = memchr(c->in.s, '\n', c->in.len))) {
		size_t len = (size_t)(nl - c->in.s);
		_cleanup_free_ char *line = xstrndup(c->in.s, len);

		vmr_buf_consume(&c->in, len + 1);
		if (len > 0)
			ctl_request(s, c, line, len);
	}
}

void sup_ctl_read(struct sup *s, size_t i)
{
	struct ctl_client *c = s->ctl[i];
	char buf[4096];
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		c->eof = true;
		return;
	}
	vmr_buf_add(&c->in, buf, (size_t)n);
	if (c->in.len > CTL_LINE_MAX && !memchr(c->in.s, '\n', c->in.len)) {
		sup_ctl_reply(s, c->id,
			      sup_ctl_error("request line exceeds %u bytes", CTL_LINE_MAX));
		c->eof = true;
		return;
	}
	sup_ctl_process_lines(s, c->id);
}

void sup_ctl_accept(struct sup *s)
{
	for (;;) {
		int fd = accept4(s->ctl_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ctl_client *c;

		if (fd < 0)
			return;
		if (s->nctl == RUN_MAX_CLIENTS) {
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->id = ++s->next_ctl_id;
		c->out.cap = SIZE_MAX;
		s->ctl[s->nctl++] = c;
	}
}
