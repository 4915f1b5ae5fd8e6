/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `vhost_user: {socket: PATH, mode: client|server, queues: N}`: a NIC whose
 * data path is a vhost-user backend (OVS-DPDK, VPP, a DPDK app) on a unix
 * socket.  The backend maps the guest's RAM, so the plan asks for shared
 * memory (a memfd backend with share=on, or the hugepage backend of
 * `memory: {...}` with share=on).  mode client (the default): QEMU
 * connects to the backend's socket, which must exist when the guest
 * starts; server: QEMU listens and waits for the backend before it starts.
 * Under TCG the device gets "vectors": 0 (INTx): QEMU 7.2 crashes starting
 * vhost-user with MSI-X without KVM's irqfd.
 */
#include <libgen.h>
#include <sys/stat.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

enum vu_mode { VU_CLIENT, VU_SERVER };
static const char *const mode_names[] = {"client", "server", NULL};

struct vhost_user {
	char *socket;
	unsigned mode;
	unsigned queues;
};

/* the keys inside the attachment's mapping */
static const struct vmr_key inner_keys[] = {
    {.name = "socket", .type = VMR_KEY_STR, .off = offsetof(struct vhost_user, socket)},
    {.name = "mode",
     .type = VMR_KEY_ENUM,
     .off = offsetof(struct vhost_user, mode),
     .flags = VMR_KEY_HW,
     .names = mode_names},
    {.name = "queues",
     .type = VMR_KEY_UINT,
     .off = offsetof(struct vhost_user, queues),
     .flags = VMR_KEY_HW,
     .min = 1,
     .max = VMR_MAX_QUEUES},
    VMR_KEYS_END,
};

static void vu_init(void *conf)
{
	((struct vhost_user *)conf)->queues = 1;
}

static bool vu_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	struct vhost_user *v = conf;
	_cleanup_free_ const char **names = NULL;
	size_t nnames;

	if (!vmr_key_want_map(c, n, "vhost_user"))
		return false;
	names = vmr_keys_names(inner_keys, &nnames);
	vmr_key_check_unknown(c, n, names, nnames);
	vmr_keys_parse(c, inner_keys, n, v);
	if (!vmr_key_get(n, "socket")) {
		VMR_KEY_ERR(c, n->pos, "write vhost_user: {socket: PATH}",
			    "%s: 'vhost_user' needs 'socket'", c->ctx);
		return false;
	}
	return v->socket != NULL;
}

static json_t *vu_json(const void *conf)
{
	const struct vhost_user *v = conf;

	return json_pack("{s:s?, s:s, s:i}", "socket", v->socket, "mode", mode_names[v->mode],
			 "queues", (int)v->queues);
}

static void vu_free(void *conf)
{
	vmr_keys_free(inner_keys, conf);
}

static void vu_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	pd->shared_memory = true;
}

/* QemuOpts values double their commas */
static char *opts_escape(const char *s)
{
	struct vmr_buf b = VMR_BUF_INIT;

	for (; *s; s++)
		vmr_buf_addf(&b, *s == ',' ? ",," : "%c", *s);
	return vmr_buf_detach(&b);
}

static int vu_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		   struct vmr_error **err)
{
	const struct vhost_user *v = VMR_DEVICE_CONF(pd->dev, struct vhost_user);
	const struct vmr_nic *n = pd->nic;
	_cleanup_free_ char *path = vmr_plan_path(p, v->socket);
	_cleanup_free_ char *esc = opts_escape(path);
	_cleanup_free_ char *chardev = NULL;
	json_t *dev;
	char mac[18];

	/* -chardev takes no JSON in QEMU 7.2 */
	chardev = xasprintf("socket,id=vu-%s,path=%s%s", n->name, esc,
			    v->mode == VU_SERVER ? ",server=on,wait=off" : "");
	vmr_argv_push(b, "-chardev", chardev);
	vmr_argv_push_json(b, "-netdev",
			   json_pack("{s:s, s:s+, s:s+, s:i}", "type", "vhost-user", "id", "net-",
				     n->name, "chardev", "vu-", n->name, "queues", (int)v->queues));
	dev = json_pack("{s:s, s:s+, s:s, s:s+}", "driver", "virtio-net-pci", "netdev", "net-",
			n->name, "mac", vmr_mac_format(&n->mac, mac), "id", "nic-", n->name);
	if (v->queues > 1)
		json_object_set_new(dev, "mq", json_true());
	if (p->facts.accel != VMR_ACCEL_KVM)
		json_object_set_new(dev, "vectors", json_integer(0));
	else if (v->queues > 1)
		json_object_set_new(dev, "vectors", json_integer(2 * v->queues + 2));
	if (n->mtu)
		json_object_set_new(dev, "host_mtu", json_integer(n->mtu));
	vmr_argv_push_json(b, "-device", dev);
	return 0;
}

static void vu_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_grants *g)
{
	const struct vhost_user *v = VMR_DEVICE_CONF(pd->dev, struct vhost_user);
	_cleanup_free_ char *path = xstrdup(v->socket);

	/* the directory, not the socket: a restarted backend makes a new one */
	vmr_strvec_push(&g->dirs, dirname(path));
}

static int vu_preflight(const struct vmr_config *cfg, const struct vmr_plan *p,
			const struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct vhost_user *v = VMR_DEVICE_CONF(pd->dev, struct vhost_user);
	_cleanup_free_ char *path = vmr_plan_path(p, v->socket);
	_cleanup_free_ char *dir = xstrdup(path);
	struct stat st;
	int r;

	if (v->mode == VU_SERVER) {
		/* QEMU makes the socket: its directory must be there */
		if (stat(dirname(dir), &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		return vmr_error_usage(err,
				       "guest '%s' nic '%s': vhost-user socket directory '%s' "
				       "does not exist",
				       p->guest->name, pd->nic->name, dir);
	}
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		return 0;
	r = errno;
	r = vmr_error_usage(err, "guest '%s' nic '%s': vhost-user socket '%s': %s", p->guest->name,
			    pd->nic->name, path,
			    stat(path, &st) == 0 ? "not a socket" : strerror(r));
	vmr_error_hint(err, "start the backend first (mode client connects to its socket), or "
			    "use mode: server");
	return r;
}

const struct vmr_device_ops vmr_device_vhost_user = {
    .name = "vhost_user",
    .cls = VMR_DEVICE_NIC,
    .summary = "a vhost-user backend's socket (OVS-DPDK, VPP, DPDK); guest RAM shared",
    .conf_size = sizeof(struct vhost_user),
    .parse = vu_parse,
    .init = vu_init,
    .free = vu_free,
    .json = vu_json,
    .plan = vu_plan,
    .argv = vu_argv,
    .grants = vu_grants,
    .preflight = vu_preflight,
};
