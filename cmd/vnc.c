/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun vnc GUEST [--json]: where the guest's VNC server listens and how
 * to connect (QMP query-vnc through the supervisor).  A server on the unix
 * socket has no listener of QEMU's (`-vnc none`: the supervisor accepts on
 * STATE/GUEST/vnc.sock and hands QEMU the clients), so query-vnc says
 * "enabled": false; query-vnc-servers then gives its authentication and
 * clients, and the socket is the state directory's.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"
#include "lib/runtime/control.h"

#define VNC_REPLY_TIMEOUT_MS 65000
#define VNC_PORT_BASE 5900

struct vnc_opts {
	bool json;
};

static const struct vmr_cli_opt vnc_options[] = {
    {"json", 'j', NULL, "print QEMU's query-vnc answer with \"uri\" added",
     VMR_CLI_FLAG(struct vnc_opts, json)},
    {0},
};

const struct vmr_cli_cmd cmd_vnc_cli = {
    .name = "vnc",
    .summary = "say where a guest's VNC server listens and how to connect",
    .synopsis = "[--json] GUEST",
    .description = "Print the address of GUEST's VNC server (the topology's `vnc:` key) as a\n"
		   "URI, its authentication, its clients and a command that connects.  A unix\n"
		   "socket is in the guest's state directory and only root reaches it.  The\n"
		   "password is the first line of the topology's password_file; it is never\n"
		   "printed.",
    .opts = vnc_options,
    .arg_names = "GUEST",
    .min_args = 1,
    .max_args = 1,
    .exit_status = "0 printed, 1 the guest is not running or has no VNC server,\n"
		   "2 bad usage",
    .run = cmd_vnc,
};

/* "vnc://127.0.0.1:5901", "vnc://[::1]:5901", "vnc+unix:///run/vmrun/a/vnc.sock" */
static char *vnc_uri(const json_t *v)
{
	const char *family = json_string_value(json_object_get(v, "family"));
	const char *host = json_string_value(json_object_get(v, "host"));
	const char *service = json_string_value(json_object_get(v, "service"));

	if (!service)
		return NULL;
	if (streq(family, "unix"))
		return xasprintf("vnc+unix://%s", service);
	if (streq(family, "ipv6"))
		return xasprintf("vnc://[%s]:%s", host ? host : "::", service);
	return xasprintf("vnc://%s:%s", host ? host : "0.0.0.0", service);
}

/*
 * The server of `-vnc none` (query-vnc-servers: one without a listening
 * address) as query-vnc would describe it on the supervisor's socket, or
 * NULL when there is none (a new reference).
 */
static json_t *vnc_relayed(const struct vmr_config *cfg, const char *guest)
{
	json_t *req = json_pack("{s:{s:s}}", "qmp", "execute", "query-vnc-servers");
	struct vmr_error *err = NULL;
	_cleanup_free_ char *sock = NULL;
	json_t *servers = NULL, *srv, *v = NULL;
	int r;

	r = vmr_control_call(cfg->state_dir, guest, req, VNC_REPLY_TIMEOUT_MS, &servers, NULL,
			     &err);
	json_decref(req);
	vmr_error_free(err);
	srv = r < 0 ? NULL : json_array_get(servers, 0);
	if (srv && json_array_size(json_object_get(srv, "server")) == 0) {
		const char *auth = json_string_value(json_object_get(srv, "auth"));
		json_t *clients = json_object_get(srv, "clients");

		sock = vmr_statedir_path(cfg->state_dir, guest, "vnc.sock");
		v = json_pack("{s:b, s:s, s:s, s:s, s:o}", "enabled", 1, "family", "unix",
			      "service", sock, "auth", auth ? auth : "?", "clients",
			      clients ? json_incref(clients) : json_array());
	}
	json_decref(servers);
	return v;
}

VERB(vnc)
{
	struct vnc_opts o = {0};
	struct vmr_config cfg = {0};
	struct vmr_error *err = NULL;
	_cleanup_free_ char *uri = NULL;
	json_t *req, *v = NULL;
	struct vmr_cli_args a;
	const char *guest, *family, *auth, *service;
	int r;

	r = vmr_cli_parse(&cmd_vnc_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	guest = a.v[0];
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	req = json_pack("{s:{s:s}}", "qmp", "execute", "query-vnc");
	r = vmr_control_call(cfg.state_dir, guest, req, VNC_REPLY_TIMEOUT_MS, &v, NULL, &err);
	json_decref(req);
	if (r < 0) {
		r = vmr_cli_fail(err);
		goto out;
	}
	if (!json_is_true(json_object_get(v, "enabled"))) {
		json_t *relayed = vnc_relayed(&cfg, guest);

		if (relayed) {
			json_decref(v);
			v = relayed;
		}
	}
	if (!json_is_true(json_object_get(v, "enabled")) || !(uri = vnc_uri(v))) {
		fprintf(stderr,
			"vmrun: error: guest '%s' has no VNC server (`vnc:` in its topology)\n",
			guest);
		r = VMR_EXIT_FAILURE;
		goto out;
	}
	if (o.json) {
		json_object_set_new(v, "uri", json_string(uri));
		json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		r = VMR_EXIT_OK;
		goto out;
	}
	family = json_string_value(json_object_get(v, "family"));
	auth = json_string_value(json_object_get(v, "auth"));
	service = json_string_value(json_object_get(v, "service"));
	printf("%s\n", uri);
	printf("  auth: %s\n", streq(auth, "vnc")    ? "VNC password (the topology's password_file)"
			       : streq(auth, "none") ? "none"
			       : auth		     ? auth
						     : "?");
	printf("  clients: %zu\n", json_array_size(json_object_get(v, "clients")));
	if (streq(family, "unix")) {
		printf("  connect: remote-viewer %s\n", uri);
		printf("  or over TCP on this host: socat TCP-LISTEN:5999,bind=127.0.0.1 "
		       "UNIX-CONNECT:%s & gvncviewer 127.0.0.1:99\n",
		       service);
	} else {
		long port = strtol(service ? service : "0", NULL, 10);
		const char *host = json_string_value(json_object_get(v, "host"));

		printf("  connect: remote-viewer %s\n", uri);
		if (port >= VNC_PORT_BASE)
			printf("  display :%ld: gvncviewer %s%s%s:%ld\n", port - VNC_PORT_BASE,
			       streq(family, "ipv6") ? "[" : "", host ? host : "",
			       streq(family, "ipv6") ? "]" : "", port - VNC_PORT_BASE);
	}
	r = VMR_EXIT_OK;
out:
	json_decref(v);
	vmr_config_free(&cfg);
	return r;
}
