/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `macvtap: PARENT`: a macvtap link on a host interface (by name or MAC),
 * optionally on a VLAN sub-interface of it, the guest's NIC on its tap
 * device (docs/networking.md).
 */
#include "lib/base/util.h"
#include "lib/devices/taplike.h"

struct macvtap {
	struct vmr_taplike tl;
	char *parent; /* host netif name or MAC text */
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

static void macvtap_init(void *conf)
{
	vmr_taplike_init(&((struct macvtap *)conf)->tl);
}

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

static void macvtap_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	vmr_taplike_check(c, &VMR_DEVICE_CONF(d, struct macvtap)->tl);
}

static bool macvtap_link_mac(const struct vmr_nic *nic, struct vmr_mac *ret)
{
	*ret = nic->mac;
	return true;
}

static void macvtap_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	char name[16];

	vmr_taplike_plan(p, pd, &VMR_DEVICE_CONF(pd->dev, struct macvtap)->tl);
	pd->ifname = xstrdup(vmr_net_ifname(&pd->nic->mac, name));
}

static int macvtap_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
			struct vmr_error **err)
{
	return vmr_taplike_argv(pd, b, &VMR_DEVICE_CONF(pd->dev, struct macvtap)->tl);
}

static void macvtap_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
			   struct vmr_grants *g)
{
	vmr_taplike_grants(pd, g);
	g->tap_nodes = true;
}

static int macvtap_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct macvtap *m = VMR_DEVICE_CONF(pd->dev, struct macvtap);
	struct vmr_net_nic nic = vmr_taplike_net_nic(s, pd, &m->tl);
	_cleanup_free_ char *ifname = NULL;
	int tapfds[VMR_MAX_QUEUES], r;

	for (unsigned q = 0; q < VMR_MAX_QUEUES; q++)
		tapfds[q] = -1;
	r = vmr_net_macvtap(s->net, &nic, m->parent, m->parent_is_mac ? &m->parent_mac : NULL,
			    m->mode, m->vlan, &ifname, tapfds, err);
	if (ifname) {
		free(pd->ifname);
		pd->ifname = TAKE_PTR(ifname);
	}
	return vmr_taplike_give(s, pd, tapfds, r, err);
}

const struct vmr_device_ops vmr_device_macvtap = {
    .name = "macvtap",
    .cls = VMR_DEVICE_NIC,
    .summary = "a macvtap on a host interface (by name or MAC)",
    .conf_size = sizeof(struct macvtap),
    .parse = macvtap_parse,
    .keys = keys,
    .init = macvtap_init,
    .check = macvtap_check,
    .free = macvtap_free,
    .json = macvtap_json,
    .link_mac = macvtap_link_mac,
    .plan = macvtap_plan,
    .argv = macvtap_argv,
    .grants = macvtap_grants,
    .setup = macvtap_setup,
};
