/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `vnc: true | {listen: unix | ADDRESS, port: N, password_file: PATH}`: a
 * VGA card and QEMU's VNC server on it, reached through a unix socket in
 * the state directory or on a TCP port.  The unix socket,
 * STATE/GUEST/vnc.sock (0600), is the supervisor's: QEMU runs `-vnc none`
 * (a server without a listener) and the supervisor hands it each client
 * it accepts as an fd over QMP (getfd, add_client; struct vmr_relay), so
 * QEMU needs no path into the state directory.  Clients may be several at
 * once, as on TCP.  The password is never on a command line: QEMU starts
 * with `password=on`, which refuses every client until the supervisor has
 * read password_file and sent it with QMP set_password, before the guest
 * runs.  VNC's authentication takes 8 characters at most (QEMU silently
 * cuts longer ones), so a longer password is refused.  `vmrun vnc GUEST`
 * says how to connect.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/stat.h>

#include "lib/base/unixsock.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

#define VNC_SOCKET "vnc.sock" /* in STATE/GUEST, the supervisor's */
#define VNC_BACKLOG 8
#define VNC_PORT_BASE 5900 /* QEMU's -vnc takes a display number: port - 5900 */
#define VNC_PASSWORD_MAX 8

struct vnc {
	char *listen; /* "unix", an IP address; NULL: unix without port, else 127.0.0.1 */
	unsigned port;
	char *password_file;
	struct vmr_pos listen_pos, port_pos;
};

static const struct vmr_key vnc_keys[] = {
    {.name = "listen",
     .type = VMR_KEY_STR,
     .off = offsetof(struct vnc, listen),
     .flags = VMR_KEY_POS,
     .pos_off = offsetof(struct vnc, listen_pos)},
    {.name = "port",
     .type = VMR_KEY_UINT,
     .off = offsetof(struct vnc, port),
     .flags = VMR_KEY_POS,
     .pos_off = offsetof(struct vnc, port_pos),
     .min = VNC_PORT_BASE,
     .max = 65535},
    {.name = "password_file", .type = VMR_KEY_STR, .off = offsetof(struct vnc, password_file)},
    VMR_KEYS_END,
};

static bool on_unix(const struct vnc *v)
{
	return v->listen ? streq(v->listen, "unix") : !v->port;
}

/* the address QEMU listens on, for TCP */
static const char *tcp_address(const struct vnc *v)
{
	return v->listen ? v->listen : "127.0.0.1";
}

static void vnc_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	const struct vnc *v = VMR_DEVICE_CONF(d, struct vnc);
	struct in6_addr a;

	if (v->listen && !streq(v->listen, "unix") && inet_pton(AF_INET, v->listen, &a) != 1 &&
	    inet_pton(AF_INET6, v->listen, &a) != 1) {
		VMR_KEY_ERR(c->kc, v->listen_pos, NULL,
			    "%s vnc: 'listen' must be 'unix' or an IP address, not '%s'",
			    c->kc->ctx, v->listen);
		return;
	}
	if (on_unix(v) && v->port) {
		VMR_KEY_ERR(c->kc, v->port_pos, NULL,
			    "%s vnc: 'port' does not apply to listen 'unix'", c->kc->ctx);
		return;
	}
	if (!on_unix(v) && !v->port) {
		if (vmr_key_get(c->map, "port"))
			return; /* an invalid port, reported already */
		VMR_KEY_ERR(c->kc, v->listen_pos, "e.g. port: 5901 (display :1)",
			    "%s vnc: listen '%s' needs a 'port' (5900..65535)", c->kc->ctx,
			    v->listen);
		return;
	}
	if (!on_unix(v) && !v->password_file)
		VMR_KEY_ERR(c->kc, d->pos,
			    "a unix socket (listen: unix) is only reachable by root; "
			    "or add password_file",
			    "%s vnc: a VNC server on TCP needs 'password_file' (anyone who "
			    "reaches %s:%u could take the guest's console)",
			    c->kc->ctx, tcp_address(v), v->port);
}

static int vnc_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		    struct vmr_error **err)
{
	const struct vnc *v = VMR_DEVICE_CONF(pd->dev, struct vnc);
	const char *pw = v->password_file ? ",password=on" : "";

	/* -nodefaults leaves the guest without a display to show */
	vmr_argv_push_json(b, "-device", json_pack("{s:s, s:s}", "driver", "VGA", "id", "video0"));
	vmr_strvec_push(b->out, "-vnc");
	if (on_unix(v)) {
		/* clients come as fds from the supervisor (vnc_setup) */
		vmr_strvec_pushf(b->out, "none%s", pw);
	} else if (strchr(tcp_address(v), ':')) {
		vmr_strvec_pushf(b->out, "[%s]:%u%s", tcp_address(v), v->port - VNC_PORT_BASE, pw);
	} else {
		vmr_strvec_pushf(b->out, "%s:%u%s", tcp_address(v), v->port - VNC_PORT_BASE, pw);
	}
	return 0;
}

static void vnc_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
		       struct vmr_grants *g)
{
	const struct vnc *v = VMR_DEVICE_CONF(pd->dev, struct vnc);

	if (v->password_file)
		vmr_strvec_push(&g->files, v->password_file);
}

/*
 * The password: password_file's first line (a final newline is not part
 * of it), 1 to 8 characters.  *ret is wiped and freed by the caller.
 */
static int vnc_password(const struct vmr_plan *p, const struct vnc *v, char **ret,
			struct vmr_error **err)
{
	_cleanup_free_ char *path = vmr_plan_path(p, v->password_file);
	char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, 4096, &text, &len);
	if (r == -EFBIG)
		return vmr_error_usage(err, "vnc password_file '%s': more than a password", path);
	if (r < 0)
		return vmr_error_usage(err, "vnc password_file '%s': %s", path, strerror(-r));
	len = strcspn(text, "\r\n");
	text[len] = '\0';
	if (len == 0 || len > VNC_PASSWORD_MAX) {
		explicit_bzero(text, strlen(text));
		free(text);
		return vmr_error_usage(err,
				       "vnc password_file '%s': the password has %zu characters; "
				       "VNC takes 1 to %d",
				       path, len, VNC_PASSWORD_MAX);
	}
	*ret = text;
	return 0;
}

static int vnc_preflight(const struct vmr_config *cfg, const struct vmr_plan *p,
			 const struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct vnc *v = VMR_DEVICE_CONF(pd->dev, struct vnc);
	char *pw = NULL;
	int r;

	if (!v->password_file)
		return 0;
	r = vnc_password(p, v, &pw, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", p->guest->name);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return 0;
}

/* The unix socket: the supervisor's, its clients handed to QEMU as fds */
static int vnc_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct vnc *v = VMR_DEVICE_CONF(pd->dev, struct vnc);
	_cleanup_free_ char *sock = NULL;
	int r, fd;

	if (!on_unix(v))
		return 0;
	sock = xasprintf("%s/" VNC_SOCKET, s->plan->state_dir);
	r = vmr_setup_journal_file(s, sock, err);
	if (r < 0)
		return r;
	fd = vmr_unix_listen(sock, VNC_BACKLOG, true, err);
	if (fd < 0)
		return fd;
	return vmr_setup_relay(s, "vnc", sock, fd, err);
}

static int vnc_prestart(struct vmr_prestart *ps, const struct vmr_plan_dev *pd,
			struct vmr_error **err)
{
	const struct vnc *v = VMR_DEVICE_CONF(pd->dev, struct vnc);
	char *pw = NULL;
	json_t *args;
	int r;

	if (!v->password_file)
		return 0;
	r = vnc_password(ps->plan, v, &pw, err);
	if (r < 0)
		return r;
	args = json_pack("{s:s, s:s}", "protocol", "vnc", "password", pw);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	r = ps->call(ps->userdata, "set_password", args, NULL, err);
	json_decref(args);
	if (r < 0)
		vmr_error_wrap(err, "set the VNC password");
	return r;
}

const struct vmr_device_ops vmr_device_vnc = {
    .name = "vnc",
    .cls = VMR_DEVICE_GUEST,
    .summary = "a VGA card shown by QEMU's VNC server (unix socket or TCP, password over QMP)",
    .conf_size = sizeof(struct vnc),
    .toggle = true,
    .keys = vnc_keys,
    .check = vnc_check,
    .argv = vnc_argv,
    .grants = vnc_grants,
    .preflight = vnc_preflight,
    .setup = vnc_setup,
    .prestart = vnc_prestart,
};
