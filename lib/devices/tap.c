/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `tap: NAME`: an existing tap the administrator made (never created). */
#include "lib/base/util.h"
#include "lib/devices/taplike.h"

struct tap {
	struct vmr_taplike tl;
	char *tap;
};

static const struct vmr_key keys[] = {
    VMR_TAPLIKE_KEYS(struct tap),
    VMR_KEYS_END,
};

static void tap_init(void *conf)
{
	vmr_taplike_init(&((struct tap *)conf)->tl);
}

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

static void tap_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	vmr_taplike_check(c, &VMR_DEVICE_CONF(d, struct tap)->tl);
}

static void tap_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	vmr_taplike_plan(p, pd, &VMR_DEVICE_CONF(pd->dev, struct tap)->tl);
	pd->ifname = xstrdup(VMR_DEVICE_CONF(pd->dev, struct tap)->tap);
}

static int tap_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		    struct vmr_error **err)
{
	return vmr_taplike_argv(pd, b, &VMR_DEVICE_CONF(pd->dev, struct tap)->tl);
}

static void tap_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
		       struct vmr_grants *g)
{
	vmr_taplike_grants(pd, g);
	g->tun = true;
}

static int tap_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct tap *t = VMR_DEVICE_CONF(pd->dev, struct tap);
	int tapfds[VMR_MAX_QUEUES], r;

	for (unsigned q = 0; q < VMR_MAX_QUEUES; q++)
		tapfds[q] = -1;
	r = vmr_net_tap(s->net, t->tap, pd->nfds[VMR_FD_TAP], tapfds, err);
	return vmr_taplike_give(s, pd, tapfds, r, err);
}

const struct vmr_device_ops vmr_device_tap = {
    .name = "tap",
    .cls = VMR_DEVICE_NIC,
    .summary = "an existing tap",
    .conf_size = sizeof(struct tap),
    .parse = tap_parse,
    .keys = keys,
    .init = tap_init,
    .check = tap_check,
    .free = tap_free,
    .json = tap_json,
    .plan = tap_plan,
    .argv = tap_argv,
    .grants = tap_grants,
    .setup = tap_setup,
};
