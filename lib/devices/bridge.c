/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bridge: NAME`: a tap for the guest on a host bridge (created, and
 * shared with other guests, when missing).
 */
#include "lib/base/util.h"
#include "lib/devices/taplike.h"

struct bridge {
	struct vmr_taplike tl; /* first: the taplike hooks read it */
	char *bridge;
};

static const struct vmr_key keys[] = {
    VMR_TAPLIKE_KEYS(struct bridge),
    VMR_KEYS_END,
};

static bool bridge_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	struct bridge *b = conf;

	if (!vmr_key_str(c, n, "bridge", &b->bridge))
		return false;
	if (vmr_ifname_valid(b->bridge))
		return true;
	VMR_KEY_ERR(c, n->pos, NULL, "%s: invalid interface name '%s' for 'bridge'", c->ctx,
		    b->bridge);
	return false;
}

static json_t *bridge_json(const void *conf)
{
	return json_string(((const struct bridge *)conf)->bridge);
}

static void bridge_free(void *conf)
{
	free(((struct bridge *)conf)->bridge);
}

/* the host side must not carry the guest's MAC (net/net.h) */
static bool bridge_link_mac(const struct vmr_nic *nic, struct vmr_mac *ret)
{
	vmr_net_tap_mac(&nic->mac, ret);
	return true;
}

static void bridge_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
			  struct vmr_grants *g)
{
	vmr_taplike_grants(pd, g);
	g->tun = true;
}

static int bridge_open(struct vmr_setup *s, const struct vmr_plan_dev *pd,
		       const struct vmr_net_nic *nic, char **ret_ifname, int *tapfds,
		       struct vmr_error **err)
{
	return vmr_net_bridge_tap(s->net, nic, VMR_DEVICE_CONF(pd->dev, struct bridge)->bridge,
				  ret_ifname, tapfds, err);
}

static int bridge_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	return vmr_taplike_setup(s, pd, bridge_open, err);
}

const struct vmr_device_ops vmr_device_bridge = {
    .name = "bridge",
    .cls = VMR_DEVICE_NIC,
    .summary = "a tap on a host bridge (created when missing)",
    .conf_size = sizeof(struct bridge),
    .parse = bridge_parse,
    .keys = keys,
    .init = vmr_taplike_init,
    .check = vmr_taplike_check,
    .free = bridge_free,
    .json = bridge_json,
    .link_mac = bridge_link_mac,
    .plan = vmr_taplike_plan,
    .argv = vmr_taplike_argv,
    .grants = bridge_grants,
    .setup = bridge_setup,
};
