/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `vf: PF`: an SR-IOV VF of PF DDDD:BB:SS.F passed through with vfio-pci.
 * `vmrun host up` makes the PF's VFs and gives one the guest's MAC (with
 * vlan, trust and spoofchk); the guest's start picks the VF carrying it.
 */
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

struct vf {
	struct vmr_pci_addr pf;
	bool valid;
	unsigned vlan;
	bool force, trust, spoofchk;
};

static const struct vmr_key keys[] = {
    {.name = "vlan", .type = VMR_KEY_UINT, .off = offsetof(struct vf, vlan), .min = 1, .max = 4094},
    {.name = "force", .type = VMR_KEY_BOOL, .off = offsetof(struct vf, force)},
    {.name = "trust", .type = VMR_KEY_BOOL, .off = offsetof(struct vf, trust)},
    {.name = "spoofchk", .type = VMR_KEY_BOOL, .off = offsetof(struct vf, spoofchk)},
    VMR_KEYS_END,
};

static void vf_init(void *conf)
{
	((struct vf *)conf)->spoofchk = true;
}

static bool vf_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	struct vf *v = conf;

	v->valid = vmr_key_pci(c, n, "vf", &v->pf);
	return v->valid;
}

static json_t *vf_json(const void *conf)
{
	char buf[13];

	return json_string(vmr_pci_format(&((const struct vf *)conf)->pf, buf));
}

static size_t vf_claims(const struct vmr_device *d, struct vmr_claim *out, size_t max)
{
	const struct vf *v = VMR_DEVICE_CONF(d, struct vf);

	if (!v->valid || max < 1)
		return 0;
	out[0] = (struct vmr_claim){.type = VMR_CLAIM_VF, .pci = v->pf};
	return 1;
}

static int vf_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		   struct vmr_error **err)
{
	const struct vf *v = VMR_DEVICE_CONF(pd->dev, struct vf);
	char pf[13];

	if (!pd->hostdev) {
		vmr_error_usage(err,
				"nic '%s' of guest '%s' is a vf of '%s': run picks the vf when the "
				"guest starts",
				pd->nic->name, p->guest->name, vmr_pci_format(&v->pf, pf));
		vmr_error_hint(err,
			       "pass --vf %s=DDDD:BB:SS.F to print the command line with that vf",
			       pd->nic->name);
		return -EINVAL;
	}
	vmr_argv_push_json(b, "-device",
			   json_pack("{s:s, s:s, s:s+}", "driver", "vfio-pci", "host", pd->hostdev,
				     "id", "hostdev-", pd->nic->name));
	return 0;
}

static void vf_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_grants *g)
{
	g->vfio = true;
	g->net_admin = true;
}

static int vf_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct vf *v = VMR_DEVICE_CONF(pd->dev, struct vf);
	_cleanup_free_ char *bdf = NULL;
	int r;

	r = vmr_net_vf(s->net, &v->pf, &pd->nic->mac, s->together, &bdf, err);
	if (r < 0)
		return r;
	free(pd->hostdev);
	pd->hostdev = TAKE_PTR(bdf);
	return 0;
}

static void vf_host_needs(struct vmr_hostsetup *h, const struct vmr_device *d)
{
	const struct vf *v = VMR_DEVICE_CONF(d, struct vf);
	const struct vmr_nic *nic = NULL;

	for (size_t i = 0; i < h->guest->nnics && !nic; i++)
		if (&h->guest->nics[i].att == d)
			nic = &h->guest->nics[i];
	if (!nic || !v->valid)
		return;
	XGROW(h->vfs, h->alloc, h->nvfs + 1);
	h->vfs[h->nvfs++] = (struct vmr_net_vf_want){
	    .pf = v->pf,
	    .mac = nic->mac,
	    .vlan = v->vlan,
	    .trust = v->trust,
	    .spoofchk = v->spoofchk,
	};
}

const struct vmr_device_ops vmr_device_vf = {
    .unmigratable = true,
    .name = "vf",
    .cls = VMR_DEVICE_NIC,
    .summary = "an SR-IOV VF of a PF, chosen by the guest's MAC (vfio-pci)",
    .conf_size = sizeof(struct vf),
    .parse = vf_parse,
    .keys = keys,
    .init = vf_init,
    .json = vf_json,
    .claims = vf_claims,
    .argv = vf_argv,
    .grants = vf_grants,
    .setup = vf_setup,
    .host_needs = vf_host_needs,
};
