/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `user: true` or `user: {forward: [...]}`: QEMU's user-mode network
 * (slirp), with host ports forwarded to the guest; no host change at all.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

struct hostfwd {
	bool udp;	 /* "udp:..." else tcp */
	char *host_addr; /* NULL = all addresses */
	unsigned host_port;
	char *guest_addr; /* NULL = the guest's DHCP address */
	unsigned guest_port;
};

struct user {
	char *model;
	struct hostfwd *forwards;
	size_t nforwards;
};

static const struct vmr_key keys[] = {
    {.name = "model",
     .type = VMR_KEY_STR,
     .off = offsetof(struct user, model),
     .flags = VMR_KEY_HW},
    VMR_KEYS_END,
};

/* PROTO:HPORT:GPORT, PROTO:HADDR:HPORT:GPORT, PROTO:HADDR:HPORT:GADDR:GPORT */
static int hostfwd_parse(const char *s, struct hostfwd *ret)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *parts[5], *p = copy;
	size_t n = 0;
	unsigned long long hp, gp;
	struct in_addr a;
	char *ha = NULL, *ga = NULL, *hps, *gps;

	/* split by hand: strtok_r would let "tcp::22" or a trailing ':' through */
	for (;;) {
		char *colon = strchr(p, ':');

		if (n == ARRAY_SIZE(parts))
			return -EINVAL;
		parts[n++] = p;
		if (!colon)
			break;
		*colon = '\0';
		p = colon + 1;
	}
	for (size_t i = 0; i < n; i++)
		if (!*parts[i])
			return -EINVAL;
	if (n < 3 || (!streq(parts[0], "tcp") && !streq(parts[0], "udp")))
		return -EINVAL;
	hps = parts[n == 3 ? 1 : 2];
	gps = parts[n - 1];
	if (n >= 4)
		ha = parts[1];
	if (n == 5)
		ga = parts[3];
	if (parse_uint(hps, 65535, &hp) < 0 || hp == 0 || parse_uint(gps, 65535, &gp) < 0 ||
	    gp == 0)
		return -EINVAL;
	if ((ha && inet_pton(AF_INET, ha, &a) != 1) || (ga && inet_pton(AF_INET, ga, &a) != 1))
		return -EINVAL;
	*ret = (struct hostfwd){
	    .udp = streq(parts[0], "udp"),
	    .host_addr = xstrdup(ha),
	    .host_port = (unsigned)hp,
	    .guest_addr = xstrdup(ga),
	    .guest_port = (unsigned)gp,
	};
	return 0;
}

static bool user_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	static const char *const known[] = {"forward"};
	struct user *u = conf;
	const struct vmr_ynode *fw;
	bool b, good = true;

	if (n->type == VMR_YNODE_SCALAR) {
		if (vmr_ynode_is_null(n))
			return true;
		if (!vmr_key_bool(c, n, "user", &b))
			return false;
		if (!b)
			VMR_KEY_ERR(c, n->pos, "remove the nic, or write user: {}",
				    "%s: 'user: false' attaches nothing", c->ctx);
		return b;
	}
	if (!vmr_key_want_map(c, n, "user"))
		return false;
	vmr_key_check_unknown(c, n, known, ARRAY_SIZE(known));
	fw = vmr_key_get(n, "forward");
	if (!fw || !vmr_key_want_seq(c, fw, "forward"))
		return !fw;
	u->forwards = xcalloc(fw->n + 1, sizeof(*u->forwards));
	for (size_t i = 0; i < fw->n; i++) {
		const struct vmr_ynode *it = fw->items[i];

		if (it->type != VMR_YNODE_SCALAR ||
		    hostfwd_parse(it->value, &u->forwards[u->nforwards]) < 0) {
			VMR_KEY_ERR(c, it->pos,
				    "write PROTO:[HOSTADDR:]HOSTPORT:[GUESTADDR:]GUESTPORT, e.g. "
				    "tcp:2222:22",
				    "%s: invalid forward '%s'", c->ctx,
				    it->type == VMR_YNODE_SCALAR ? it->value : vmr_ynode_kind(it));
			good = false;
			continue;
		}
		u->nforwards++;
	}
	return good;
}

static void user_free(void *conf)
{
	struct user *u = conf;

	for (size_t i = 0; i < u->nforwards; i++) {
		free(u->forwards[i].host_addr);
		free(u->forwards[i].guest_addr);
	}
	free(u->forwards);
}

/* QEMU's hostfwd rule: PROTO:[HADDR]:HPORT-[GADDR]:GPORT */
static char *hostfwd_rule(const struct hostfwd *f)
{
	return xasprintf("%s:%s:%u-%s:%u", f->udp ? "udp" : "tcp", f->host_addr ? f->host_addr : "",
			 f->host_port, f->guest_addr ? f->guest_addr : "", f->guest_port);
}

/* the guest sees the forwarded ports: part of its instance-id */
static json_t *user_json(const void *conf)
{
	const struct user *u = conf;
	json_t *a = json_array();

	for (size_t i = 0; i < u->nforwards; i++) {
		_cleanup_free_ char *rule = hostfwd_rule(&u->forwards[i]);

		json_array_append_new(a, json_string(rule));
	}
	return a;
}

static int user_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		     struct vmr_error **err)
{
	const struct user *u = VMR_DEVICE_CONF(pd->dev, struct user);
	json_t *nd = json_object(), *fw = json_array();

	json_object_set_new(nd, "type", json_string("user"));
	json_object_set_new(nd, "id", json_pack("s+", "net-", pd->nic->name));
	for (size_t i = 0; i < u->nforwards; i++) {
		_cleanup_free_ char *rule = hostfwd_rule(&u->forwards[i]);

		json_array_append_new(fw, json_pack("{s:s}", "str", rule));
	}
	if (u->nforwards)
		json_object_set_new(nd, "hostfwd", fw);
	else
		json_decref(fw);
	vmr_argv_push_json(b, "-netdev", nd);
	vmr_argv_nic_device(b, pd, u->model, 1);
	return 0;
}

const struct vmr_device_ops vmr_device_user = {
    .name = "user",
    .cls = VMR_DEVICE_NIC,
    .summary = "QEMU's user-mode network, with forwarded ports",
    .conf_size = sizeof(struct user),
    .parse = user_parse,
    .keys = keys,
    .free = user_free,
    .json = user_json,
    .argv = user_argv,
};
