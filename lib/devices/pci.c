/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `pci: DDDD:BB:SS.F`: a PCI network function passed through whole with
 * vfio-pci, its host driver restored afterwards.  The guest sees the
 * device's own MAC unless `mac` is given.
 */
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

struct pci {
	struct vmr_pci_addr pci;
	bool valid; /* an unparsed address claims nothing */
	bool force; /* pass through even if the host uses it */
};

static const struct vmr_key keys[] = {
    {.name = "force", .type = VMR_KEY_BOOL, .off = offsetof(struct pci, force)},
    VMR_KEYS_END,
};

static bool pci_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	struct pci *p = conf;

	p->valid = vmr_key_pci(c, n, "pci", &p->pci);
	return p->valid;
}

static json_t *pci_json(const void *conf)
{
	char buf[13];

	return json_string(vmr_pci_format(&((const struct pci *)conf)->pci, buf));
}

static size_t pci_claims(const struct vmr_device *d, struct vmr_claim *out, size_t max)
{
	const struct pci *p = VMR_DEVICE_CONF(d, struct pci);

	if (!p->valid || max < 1)
		return 0;
	out[0] = (struct vmr_claim){.type = VMR_CLAIM_PCI, .pci = p->pci};
	return 1;
}

static void pci_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	char buf[13];

	pd->hostdev = xstrdup(vmr_pci_format(&VMR_DEVICE_CONF(pd->dev, struct pci)->pci, buf));
}

static int pci_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		    struct vmr_error **err)
{
	vmr_argv_push_json(b, "-device",
			   json_pack("{s:s, s:s, s:s+}", "driver", "vfio-pci", "host", pd->hostdev,
				     "id", "hostdev-", pd->nic->name));
	return 0;
}

static void pci_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
		       struct vmr_grants *g)
{
	g->vfio = true;
}

static int pci_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct pci *p = VMR_DEVICE_CONF(pd->dev, struct pci);

	return vmr_net_pci(s->net, pd->hostdev, p->force, pd->nic->name, s->together, err);
}

const struct vmr_device_ops vmr_device_pci = {
    .unmigratable = true,
    .name = "pci",
    .cls = VMR_DEVICE_NIC,
    .summary = "a PCI network function passed through whole (vfio-pci)",
    .conf_size = sizeof(struct pci),
    .parse = pci_parse,
    .keys = keys,
    .json = pci_json,
    .claims = pci_claims,
    .mac_from_device = true,
    .plan = pci_plan,
    .argv = pci_argv,
    .grants = pci_grants,
    .setup = pci_setup,
};
