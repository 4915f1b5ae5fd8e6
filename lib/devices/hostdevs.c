/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `hostdevs: [{pci: DDDD:BB:SS.F, multifunction: true, rom: PATH|false}]`:
 * host PCI devices (GPUs and others) passed through whole with vfio-pci,
 * by the same path as a `pci:` NIC (net/: the IOMMU group checked -- every
 * other member must be unbound, harmless or passed through by the guest
 * too --, the device bound to vfio-pci, its driver restored on undo).
 *
 * On q35 each host slot gets its own pcie-root-port; functions of one
 * host slot listed together keep their function numbers on it, function 0
 * carrying `multifunction: true` (a GPU and its audio function).  `rom:
 * PATH` gives the device that option ROM, `rom: false` hides its ROM BAR.
 */
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

#define HOSTDEVS_MAX 16u      /* the claims a device may report */
#define ROOT_PORT_CHASSIS 200 /* chassis numbers of our root ports: 200.. */

struct hostdev {
	struct vmr_pos pos;
	struct vmr_pci_addr pci;
	bool valid;
	bool multifunction;
	bool no_rom;
	char *rom;
};

struct hostdevs {
	struct hostdev *v;
	size_t n;
};

static bool pci_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	struct hostdev *h = obj;

	h->valid = vmr_key_pci(c, n, "pci", field);
	return h->valid;
}

static json_t *pci_json(const void *field)
{
	char buf[13];

	return json_string(vmr_pci_format(field, buf));
}

/* `rom: PATH` or `rom: false` */
static bool rom_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *field, void *obj)
{
	struct hostdev *h = obj;

	if (n->type == VMR_YNODE_SCALAR && n->plain &&
	    (streq(n->value, "false") || streq(n->value, "true"))) {
		if (streq(n->value, "true")) {
			VMR_KEY_ERR(c, n->pos, "write rom: PATH, or rom: false to hide the ROM",
				    "%s: 'rom: true' is the default", c->ctx);
			return false;
		}
		h->no_rom = true;
		return true;
	}
	return vmr_key_str(c, n, "rom", field);
}

static void rom_free(void *field)
{
	free(*(char **)field);
	*(char **)field = NULL;
}

static json_t *rom_json(const void *field)
{
	const struct hostdev *h =
	    (const struct hostdev *)((const char *)field - offsetof(struct hostdev, rom));

	return h->no_rom ? json_false() : h->rom ? json_string(h->rom) : json_null();
}

static const struct vmr_key entry_keys[] = {
    {.name = "pci",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct hostdev, pci),
     .flags = VMR_KEY_HW,
     .parse = pci_parse,
     .json = pci_json},
    {.name = "multifunction",
     .type = VMR_KEY_BOOL,
     .off = offsetof(struct hostdev, multifunction),
     .flags = VMR_KEY_HW},
    {.name = "rom",
     .type = VMR_KEY_CUSTOM,
     .off = offsetof(struct hostdev, rom),
     .flags = VMR_KEY_HW,
     .parse = rom_parse,
     .free = rom_free,
     .json = rom_json},
    VMR_KEYS_END,
};

static bool same_slot(const struct vmr_pci_addr *a, const struct vmr_pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

static bool hostdevs_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	struct hostdevs *hs = conf;
	_cleanup_free_ const char **names = NULL;
	size_t nnames;
	bool good = true;

	if (!vmr_key_want_seq(c, n, "hostdevs"))
		return false;
	if (n->n == 0 || n->n > HOSTDEVS_MAX) {
		VMR_KEY_ERR(c, n->pos, NULL, "%s: 'hostdevs' lists %zu devices (1 to %u)", c->ctx,
			    n->n, HOSTDEVS_MAX);
		return false;
	}
	names = vmr_keys_names(entry_keys, &nnames);
	hs->v = xcalloc(n->n, sizeof(*hs->v));
	for (size_t i = 0; i < n->n; i++) {
		const struct vmr_ynode *it = n->items[i];
		struct hostdev *h = &hs->v[hs->n++];
		char buf[13];

		h->pos = it->pos;
		if (!vmr_key_want_map(c, it, "hostdevs")) {
			good = false;
			continue;
		}
		vmr_key_check_unknown(c, it, names, nnames);
		vmr_keys_parse(c, entry_keys, it, h);
		if (!vmr_key_get(it, "pci")) {
			VMR_KEY_ERR(c, it->pos, "write {pci: DDDD:BB:SS.F}",
				    "%s: hostdev #%zu needs 'pci'", c->ctx, i + 1);
			good = false;
			continue;
		}
		if (!h->valid) {
			good = false;
			continue;
		}
		for (size_t k = 0; k + 1 < hs->n; k++)
			if (hs->v[k].valid && vmr_pci_equal(&hs->v[k].pci, &h->pci)) {
				VMR_KEY_ERR(c, vmr_key_get(it, "pci")->pos, NULL,
					    "%s: hostdev '%s' listed twice", c->ctx,
					    vmr_pci_format(&h->pci, buf));
				good = false;
			}
	}
	return good;
}

static void hostdevs_free(void *conf)
{
	struct hostdevs *hs = conf;

	for (size_t i = 0; i < hs->n; i++)
		vmr_keys_free(entry_keys, &hs->v[i]);
	free(hs->v);
}

static json_t *hostdevs_json(const void *conf)
{
	const struct hostdevs *hs = conf;
	json_t *a = json_array();

	for (size_t i = 0; i < hs->n; i++) {
		json_t *o = json_object();

		vmr_keys_json(entry_keys, &hs->v[i], false, o);
		json_array_append_new(a, o);
	}
	return a;
}

static bool machine_q35(const char *m)
{
	return vmr_argv_machine_ide(m) == VMR_IDE_AHCI;
}

/*
 * Functions of one host slot go to one guest slot: function 0 must be
 * there, with multifunction; multifunction means nothing elsewhere.
 */
static void hostdevs_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	const struct hostdevs *hs = VMR_DEVICE_CONF(d, struct hostdevs);
	char buf[13];

	for (size_t i = 0; i < hs->n; i++) {
		const struct hostdev *h = &hs->v[i];
		const struct hostdev *f0 = NULL;
		size_t others = 0;

		if (!h->valid)
			continue;
		if (h->multifunction && h->pci.func != 0) {
			VMR_KEY_ERR(c->kc, h->pos, "put it on function 0 of the slot",
				    "%s: hostdev '%s': 'multifunction' belongs to function 0",
				    c->kc->ctx, vmr_pci_format(&h->pci, buf));
			continue;
		}
		if (h->multifunction && !machine_q35(c->guest->machine)) {
			VMR_KEY_ERR(c->kc, h->pos, NULL,
				    "%s: hostdev '%s': 'multifunction' needs machine q35 (a root "
				    "port per device)",
				    c->kc->ctx, vmr_pci_format(&h->pci, buf));
			continue;
		}
		if (h->pci.func == 0) {
			/* the first other function of its slot, if any */
			for (size_t k = 0; k < hs->n && !h->multifunction; k++)
				if (hs->v[k].valid && hs->v[k].pci.func != 0 &&
				    same_slot(&hs->v[k].pci, &h->pci)) {
					char other[13];

					VMR_KEY_ERR(c->kc, h->pos, "add 'multifunction: true'",
						    "%s: hostdev '%s' shares its slot with '%s': "
						    "function 0 needs 'multifunction: true'",
						    c->kc->ctx, vmr_pci_format(&h->pci, buf),
						    vmr_pci_format(&hs->v[k].pci, other));
					break;
				}
			continue;
		}
		for (size_t k = 0; k < hs->n; k++)
			if (hs->v[k].valid && hs->v[k].pci.func == 0 &&
			    same_slot(&hs->v[k].pci, &h->pci))
				f0 = &hs->v[k];
		if (!f0)
			for (size_t k = 0; k < hs->n; k++)
				if (k != i && hs->v[k].valid && same_slot(&hs->v[k].pci, &h->pci))
					others++;
		if (!f0 && others)
			VMR_KEY_ERR(c->kc, h->pos, "list function 0 with 'multifunction: true'",
				    "%s: hostdev '%s': functions of one slot need function 0",
				    c->kc->ctx, vmr_pci_format(&h->pci, buf));
	}
}

static size_t hostdevs_claims(const struct vmr_device *d, struct vmr_claim *out, size_t max)
{
	const struct hostdevs *hs = VMR_DEVICE_CONF(d, struct hostdevs);
	size_t n = 0;

	for (size_t i = 0; i < hs->n && n < max; i++)
		if (hs->v[i].valid)
			out[n++] = (struct vmr_claim){.type = VMR_CLAIM_PCI, .pci = hs->v[i].pci};
	return n;
}

/* the first device: the preflight checks that vmrun may rebind it (sysfs writable) */
static void hostdevs_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	const struct hostdevs *hs = VMR_DEVICE_CONF(pd->dev, struct hostdevs);
	char buf[13];

	if (hs->n && hs->v[0].valid)
		pd->hostdev = xstrdup(vmr_pci_format(&hs->v[0].pci, buf));
}

static int hostdevs_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
			 struct vmr_argv *b, struct vmr_error **err)
{
	const struct hostdevs *hs = VMR_DEVICE_CONF(pd->dev, struct hostdevs);
	bool q35 = machine_q35(p->guest->machine);
	unsigned ports = 0;
	unsigned *port = xcalloc(hs->n + 1, sizeof(*port));

	for (size_t i = 0; i < hs->n; i++) {
		const struct hostdev *h = &hs->v[i];
		bool shared = false;
		char id[32];

		if (!q35)
			break;
		/* one root port per host slot, in the order the slots first appear */
		for (size_t k = 0; k < i && !shared; k++)
			if (same_slot(&hs->v[k].pci, &h->pci)) {
				port[i] = port[k];
				shared = true;
			}
		if (!shared) {
			port[i] = ports++;
			snprintf(id, sizeof(id), "hostdev-rp%u", port[i]);
			vmr_argv_push_json(b, "-device",
					   json_pack("{s:s, s:s, s:s, s:i}", "driver",
						     "pcie-root-port", "id", id, "bus", "pcie.0",
						     "chassis", ROOT_PORT_CHASSIS + (int)port[i]));
		}
	}
	for (size_t i = 0; i < hs->n; i++) {
		const struct hostdev *h = &hs->v[i];
		bool alone = true;
		char bdf[13], id[32], addr[16];
		json_t *dev;

		for (size_t k = 0; k < hs->n; k++)
			if (k != i && same_slot(&hs->v[k].pci, &h->pci))
				alone = false;
		snprintf(id, sizeof(id), "hostdev%zu", i);
		dev = json_pack("{s:s, s:s, s:s}", "driver", "vfio-pci", "host",
				vmr_pci_format(&h->pci, bdf), "id", id);
		if (q35) {
			snprintf(id, sizeof(id), "hostdev-rp%u", port[i]);
			json_object_set_new(dev, "bus", json_string(id));
			if (alone || h->pci.func == 0)
				snprintf(addr, sizeof(addr), "0x0");
			else
				snprintf(addr, sizeof(addr), "0x0.0x%x", h->pci.func);
			json_object_set_new(dev, "addr", json_string(addr));
		}
		if (h->multifunction)
			json_object_set_new(dev, "multifunction", json_true());
		if (h->rom) {
			_cleanup_free_ char *rom = vmr_plan_path(p, h->rom);

			json_object_set_new(dev, "romfile", json_string(rom));
		} else if (h->no_rom) {
			json_object_set_new(dev, "rombar", json_integer(0));
		}
		vmr_argv_push_json(b, "-device", dev);
	}
	free(port);
	return 0;
}

static void hostdevs_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
			    struct vmr_grants *g)
{
	const struct hostdevs *hs = VMR_DEVICE_CONF(pd->dev, struct hostdevs);

	g->vfio = true;
	for (size_t i = 0; i < hs->n; i++)
		if (hs->v[i].rom)
			vmr_strvec_push(&g->files, hs->v[i].rom);
}

static int hostdevs_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct hostdevs *hs = VMR_DEVICE_CONF(pd->dev, struct hostdevs);
	int r;

	for (size_t i = 0; i < hs->n; i++) {
		char bdf[13];

		r = vmr_net_pci(s->net, vmr_pci_format(&hs->v[i].pci, bdf), false, NULL,
				s->together, err);
		if (r < 0)
			return vmr_error_wrap(err, "hostdev '%s'", bdf);
	}
	return 0;
}

const struct vmr_device_ops vmr_device_hostdevs = {
    .unmigratable = true,
    .name = "hostdevs",
    .cls = VMR_DEVICE_GUEST,
    .summary = "host PCI devices (GPUs, ...) passed through whole (vfio-pci)",
    .conf_size = sizeof(struct hostdevs),
    .parse = hostdevs_parse,
    .check = hostdevs_check,
    .free = hostdevs_free,
    .json = hostdevs_json,
    .claims = hostdevs_claims,
    .plan = hostdevs_plan,
    .argv = hostdevs_argv,
    .grants = hostdevs_grants,
    .setup = hostdevs_setup,
};
