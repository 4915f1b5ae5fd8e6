/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `tap: NAME`: an existing tap the administrator made (never created). */
#include "lib/base/util.h"
#include "lib/devices/taplike.h"

struct tap {
	struct vmr_taplike tl; /* first: the taplike hooks read it */
	char *tap;
};

static const struct vmr_key keys[] = {
    VMR_TAPLIKE_KEYS(struct tap),
    VMR_KEYS_END,
};

static bool tap_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	struct tap *t = conf;

	if (!vmr_key_str(c, n, "tap", &t->tap))
		return false;
	if (vmr_ifname_valid(t->tap))
		return true;
	VMR_KEY_ERR(c, n->pos, NULL, "%s: invalid interface name '%s' for 'tap'", c->ctx, t->tap);
	return false;
}

static json_t *tap_json(const void *conf)
{
	return json_string(((const struct tap *)conf)->tap);
}

static void tap_free(void *conf)
{
	free(((struct tap *)conf)->tap);
}

/* the tap's own name, not vm-<MAC12>: vmrun makes no link for it */
static void tap_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	vmr_taplike_plan(p, pd);
	free(pd->ifname);
	pd->ifname = xstrdup(VMR_DEVICE_CONF(pd->dev, struct tap)->tap);
}

static void tap_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
		       struct vmr_grants *g)
{
	vmr_taplike_grants(pd, g);
	g->tun = true;
}

static int tap_open(struct vmr_setup *s, const struct vmr_plan_dev *pd,
		    const struct vmr_net_nic *nic, char **ret_ifname, int *tapfds,
		    struct vmr_error **err)
{
	return vmr_net_tap(s->net, VMR_DEVICE_CONF(pd->dev, struct tap)->tap, nic->queues, tapfds,
			   err);
}

static int tap_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	return vmr_taplike_setup(s, pd, tap_open, err);
}

const struct vmr_device_ops vmr_device_tap = {
    .name = "tap",
    .cls = VMR_DEVICE_NIC,
    .summary = "an existing tap",
    .conf_size = sizeof(struct tap),
    .parse = tap_parse,
    .keys = keys,
    .init = vmr_taplike_init,
    .check = vmr_taplike_check,
    .free = tap_free,
    .json = tap_json,
    .plan = tap_plan,
    .argv = vmr_taplike_argv,
    .grants = tap_grants,
    .setup = tap_setup,
};
