/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Prometheus exporter over libmicrohttpd (lib/runtime/exporter.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

#include "lib/base/buf.h"
#include "lib/base/strvec.h"
#include "lib/base/util.h"
#include "lib/runtime/control.h"
#include "lib/runtime/exporter.h"
#include "lib/runtime/metrics.h"

int vmr_exporter_parse_listen(const char *listen, struct sockaddr_storage *ret, socklen_t *ret_len,
			      struct vmr_error **err)
{
	_cleanup_free_ char *host = NULL;
	const char *colon, *port;
	unsigned long p;
	char *end = NULL;

	*ret = (struct sockaddr_storage){0};
	if (!listen || !*listen)
		goto bad;
	if (listen[0] == '[') {
		const char *rb = strchr(listen, ']');

		if (!rb || rb[1] != ':')
			goto bad;
		host = xstrndup(listen + 1, (size_t)(rb - listen - 1));
		port = rb + 2;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || strchr(listen, ':') != colon)
			goto bad;
		host = xstrndup(listen, (size_t)(colon - listen));
		port = colon + 1;
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (!isdigit((unsigned char)*port) || *end || errno || p > 65535)
		goto bad;
	if (listen[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ret;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			goto bad;
		*ret_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ret;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)p);
		if (*host && inet_pton(AF_INET, host, &a->sin_addr) != 1)
			goto bad;
		if (!*host)
			a->sin_addr.s_addr = htonl(INADDR_ANY);
		*ret_len = sizeof(*a);
	}
	return 0;
bad:
	vmr_error_usage(err, "invalid --listen '%s'", listen ? listen : "");
	vmr_error_hint(err, "write ADDRESS:PORT, [IPV6]:PORT or :PORT (every IPv4 address)");
	return -EINVAL;
}

struct exporter {
	const struct vmr_exporter_opts *o;
};

static void ex_log(const struct vmr_exporter_opts *o, enum vmr_log_level lvl, const char *fmt, ...)
    _printf_(3, 4);

static void ex_log(const struct vmr_exporter_opts *o, enum vmr_log_level lvl, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	if (!o->log)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	o->log(lvl, msg, o->log_userdata);
}

/* libmicrohttpd's error logger: fmt is its own format string */
static void mhd_logger(void *cls, const char *fmt, va_list ap) _printf_(2, 0);
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	const struct vmr_exporter_opts *o = cls;
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	size_t n = strlen(msg);

	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (o->log)
		o->log(VMR_LOG_WARNING, msg, o->log_userdata);
}

/* Every guest's metrics, in the text format. */
static char *scrape(const struct vmr_exporter_opts *o, size_t *ret_len)
{
	struct vmr_strvec names = VMR_STRVEC_INIT;
	struct vmr_buf out = VMR_BUF_INIT;
	json_t *guests = json_array();

	if (vmr_guest_list(o->state_dir, &names, NULL) == 0) {
		for (size_t i = 0; i < names.n; i++) {
			json_t *m = NULL;

			if (vmr_guest_metrics(o->state_dir, names.v[i],
					      VMR_EXPORTER_GUEST_TIMEOUT_MS, &m, NULL) == 0)
				json_array_append_new(guests, m);
		}
	}
	vmr_strvec_clear(&names);
	vmr_metrics_render(guests, &out);
	json_decref(guests);
	*ret_len = out.len;
	return vmr_buf_detach(&out);
}

/*
 * libmicrohttpd is loaded when the exporter starts, not linked into vmrun:
 * it brings GnuTLS and eight more libraries, whose loading and relocation
 * every vmrun process (`up`, each supervisor, every verb) would pay at exec
 * for a server only `vmrun exporter` runs (docs/performance.md).  The
 * types and constants still come from its header.
 */
#define MHD_SONAME "libmicrohttpd.so.12"

static struct {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
} mhd;

static int mhd_load(struct vmr_error **err)
{
	void *h;

	if (mhd.start_daemon)
		return 0;
	h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return vmr_error_set(err, ENOENT, "exporter: load %s: %s", MHD_SONAME, dlerror());
#define MHD_SYM(f)                                                                                 \
	do {                                                                                       \
		*(void **)&mhd.f = dlsym(h, "MHD_" #f);                                            \
		if (!mhd.f)                                                                        \
			return vmr_error_set(err, ENOENT, "exporter: %s has no MHD_" #f,           \
					     MHD_SONAME);                                          \
	} while (0)
	MHD_SYM(stop_daemon);
	MHD_SYM(create_response_from_buffer);
	MHD_SYM(add_response_header);
	MHD_SYM(queue_response);
	MHD_SYM(destroy_response);
	MHD_SYM(start_daemon); /* last: it says all are there */
#undef MHD_SYM
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     char *body, size_t len, const char *allow)
{
	struct MHD_Response *r = mhd.create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		mhd.add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = mhd.queue_response(c, status, r);
	mhd.destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	const struct vmr_exporter_opts *o = cls;
	size_t len;
	char *body;

	if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD)) {
		body = xstrdup("only GET and HEAD\n");
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", body,
			     strlen(body), "GET, HEAD");
	}
	if (streq(url, "/metrics")) {
		body = scrape(o, &len);
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
			     NULL);
	}
	if (streq(url, "/")) {
		body = xstrdup("vmrun exporter: the guests' metrics are at /metrics\n");
		return reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8", body, strlen(body), NULL);
	}
	body = xasprintf("not found: %s (the metrics are at /metrics)\n", url);
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", body, strlen(body), NULL);
}

int vmr_exporter_run(const struct vmr_exporter_opts *o, struct vmr_error **err)
{
	struct sockaddr_storage sa;
	socklen_t salen = 0;
	struct MHD_Daemon *d;
	sigset_t set, old;
	char host[INET6_ADDRSTRLEN] = "?";
	int fd, one = 1, sig = 0, r;

	r = vmr_exporter_parse_listen(o->listen, &sa, &salen, err);
	if (r < 0)
		return r;
	r = mhd_load(err);
	if (r < 0)
		return r;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vmr_error_set(err, errno, "exporter: socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, 64) < 0) {
		r = vmr_error_set(err, errno, "exporter: listen on '%s'", o->listen);
		close(fd);
		return r;
	}
	/* the port the kernel chose for :0 */
	salen = sizeof(sa);
	(void)getsockname(fd, (struct sockaddr *)&sa, &salen);
	if (sa.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof(host));

	/* blocked before MHD's thread starts, so only sigwait() sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0) {
		r = vmr_error_set(err, errno, "block signals");
		close(fd);
		return r;
	}
	d = mhd.start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
				 (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
			     0, NULL, NULL, handle, (void *)o, MHD_OPTION_EXTERNAL_LOGGER,
			     mhd_logger, (void *)o, MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	if (!d) {
		close(fd);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return vmr_error_set(err, EIO, "exporter: start the HTTP server (libmicrohttpd)");
	}
	ex_log(o, VMR_LOG_INFO, "exporter listening on %s%s%s:%u (metrics at /metrics, state %s)",
	       sa.ss_family == AF_INET6 ? "[" : "", host, sa.ss_family == AF_INET6 ? "]" : "",
	       (unsigned)ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
							: ((struct sockaddr_in *)&sa)->sin_port),
	       o->state_dir);
	sigdelset(&set, SIGPIPE);
	while (sigwait(&set, &sig) != 0)
		;
	ex_log(o, VMR_LOG_INFO, "exporter: SIG%s: stopping", sigabbrev_np(sig) ?: "?");
	mhd.stop_daemon(d);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}
