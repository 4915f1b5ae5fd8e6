/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `macvtap: PARENT`: a macvtap link on a host interface (by name or MAC),
 * optionally on a VLAN sub-interface of it, the guest's NIC on its tap
 * device (docs/networking.md).
 */
#include "lib/base/util.h"
#include "lib/devices/taplike.h"

struct macvtap {
	struct vmr_taplike tl; /* first: the taplike hooks read it */
	char *parent;	       /* host netif name or MAC text */
	bool parent_is_mac;
	struct vmr_mac parent_mac; /* when parent_is_mac */
	enum vmr_net_macvtap_mode mode;
	unsigned vlan; /* 0 = none; 1..4094 */
};

static const char *const modes[] = {"bridge", "vepa", "private", "passthru", NULL};

static const struct vmr_key keys[] = {
    {.name = "mode", .type = VMR_KEY_ENUM, .off = offsetof(struct macvtap, mode), .names = modes},
    {.name = "vlan",
     .type = VMR_KEY_UINT,
     .off = offsetof(struct macvtap, vlan),
     .min = 1,
     .max = 4094},
    VMR_TAPLIKE_KEYS(struct macvtap),
    VMR_KEYS_END,
};

static bool macvtap_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	struct macvtap *m = conf;

	return vmr_key_ifname_or_mac(c, n, "macvtap", &m->parent, &m->parent_is_mac,
				     &m->parent_mac);
}

static json_t *macvtap_json(const void *conf)
{
	return json_string(((const struct macvtap *)conf)->parent);
}

static void macvtap_free(void *conf)
{
	free(((struct macvtap *)conf)->parent);
}

static bool macvtap_link_mac(const struct vmr_nic *nic, struct vmr_mac *ret)
{
	*ret = nic->mac;
	return true;
}

static void macvtap_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
			   struct vmr_grants *g)
{
	vmr_taplike_grants(pd, g);
	g->tap_nodes = true;
}

static int macvtap_open(struct vmr_setup *s, const struct vmr_plan_dev *pd,
			const struct vmr_net_nic *nic, char **ret_ifname, int *tapfds,
			struct vmr_error **err)
{
	const struct macvtap *m = VMR_DEVICE_CONF(pd->dev, struct macvtap);

	return vmr_net_macvtap(s->net, nic, m->parent, m->parent_is_mac ? &m->parent_mac : NULL,
			       m->mode, m->vlan, ret_ifname, tapfds, err);
}

static int macvtap_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	return vmr_taplike_setup(s, pd, macvtap_open, err);
}

const struct vmr_device_ops vmr_device_macvtap = {
    .name = "macvtap",
    .cls = VMR_DEVICE_NIC,
    .summary = "a macvtap on a host interface (by name or MAC)",
    .conf_size = sizeof(struct macvtap),
    .parse = macvtap_parse,
    .keys = keys,
    .init = vmr_taplike_init,
    .check = vmr_taplike_check,
    .free = macvtap_free,
    .json = macvtap_json,
    .link_mac = macvtap_link_mac,
    .plan = vmr_taplike_plan,
    .argv = vmr_taplike_argv,
    .grants = macvtap_grants,
    .setup = macvtap_setup,
};
