/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `usb: [{vendor: 0x0781, product: 0x5567}, {bus: 1, port: "1.2"}]`: host
 * USB devices passed through (QEMU's usb-host on the xHCI controller).
 * vmrun finds each in sysfs, opens its usbfs node DEV/bus/usb/BBB/DDD
 * read-write itself and hands QEMU the fd through an fd set
 * (`-add-fd` and hostdevice=/dev/fdset/N), so a QEMU without privileges
 * needs no access to /dev/bus/usb: the fd is its only way to the device.
 * `vmrun devices` prints the entry that names each device.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

#define USB_MAX 8
#define USB_PORT_DEPTH 5 /* hubs below the root port: a USB tier limit of 7 */

struct usb_dev {
	struct vmr_pos pos;
	bool by_id;
	unsigned vendor, product;
	unsigned bus;
	char *port;
};

struct usb {
	struct usb_dev *v;
	size_t n;
};

static bool usb_id_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
			 unsigned *out)
{
	char *end;
	unsigned long v;

	if (!vmr_key_want_scalar(c, n, key))
		return false;
	/* lsusb's hex with 0x: unquoted YAML would read a bare 0781 as a number */
	if (!startswith(n->value, "0x") || !n->value[2] || strlen(n->value) > 6) {
		VMR_KEY_ERR(c, n->pos,
			    "write the ID lsusb and 'vmrun devices' show, with 0x: 0x0781",
			    "%s: '%s' must be a hexadecimal ID 0x0000..0xffff, not '%s'", c->ctx,
			    key, n->value);
		return false;
	}
	v = strtoul(n->value + 2, &end, 16);
	if (*end) {
		VMR_KEY_ERR(c, n->pos, NULL,
			    "%s: '%s' must be a hexadecimal ID 0x0000..0xffff, not '%s'", c->ctx,
			    key, n->value);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

/* "1", "1.2", "1.2.4": the ports from the root hub down, each 1..31 */
static bool usb_port_ok(const char *s)
{
	unsigned depth = 0;

	for (;;) {
		char *end;
		unsigned long v;

		if (*s < '1' || *s > '9')
			return false;
		v = strtoul(s, &end, 10);
		if (v < 1 || v > 31 || ++depth > USB_PORT_DEPTH + 1)
			return false;
		if (!*end)
			return true;
		if (*end != '.')
			return false;
		s = end + 1;
	}
}

static void usb_entry(struct vmr_keyctx *c, const struct vmr_ynode *m, struct usb_dev *d, bool *ok)
{
	static const char *const known[] = {"vendor", "product", "bus", "port"};
	const struct vmr_ynode *vendor, *product, *bus, *port;

	d->pos = m->pos;
	if (m->type != VMR_YNODE_MAP) {
		VMR_KEY_ERR(c, m->pos, "{vendor: 0x0781, product: 0x5567} or {bus: 1, port: \"2\"}",
			    "%s: items of 'usb' must be mappings, not %s", c->ctx,
			    vmr_ynode_kind(m));
		*ok = false;
		return;
	}
	vmr_key_check_unknown(c, m, known, ARRAY_SIZE(known));
	vendor = vmr_key_get(m, "vendor");
	product = vmr_key_get(m, "product");
	bus = vmr_key_get(m, "bus");
	port = vmr_key_get(m, "port");
	if ((vendor || product) && (bus || port)) {
		VMR_KEY_ERR(c, (bus ? bus : port)->pos,
			    "name a device by ID or by where it is plugged in, not both",
			    "%s: a usb entry has vendor and product, or bus and port", c->ctx);
		*ok = false;
		return;
	}
	if (vendor || product) {
		d->by_id = true;
		if (!vendor || !product) {
			VMR_KEY_ERR(c, m->pos, NULL,
				    "%s: a usb entry needs both 'vendor' and 'product'", c->ctx);
			*ok = false;
			return;
		}
		*ok &= usb_id_parse(c, vendor, "vendor", &d->vendor);
		*ok &= usb_id_parse(c, product, "product", &d->product);
		return;
	}
	if (!bus || !port) {
		VMR_KEY_ERR(c, m->pos, "{vendor: 0x0781, product: 0x5567} or {bus: 1, port: \"2\"}",
			    "%s: a usb entry needs 'vendor' and 'product', or 'bus' and 'port'",
			    c->ctx);
		*ok = false;
		return;
	}
	*ok &= vmr_key_uint(c, bus, "bus", 1, 255, &d->bus);
	if (!vmr_key_str(c, port, "port", &d->port)) {
		*ok = false;
	} else if (!usb_port_ok(d->port)) {
		VMR_KEY_ERR(c, port->pos, "the part after \"BUS-\" of the sysfs name, e.g. \"1.2\"",
			    "%s: invalid USB port '%s' (ports 1..31 joined by dots)", c->ctx,
			    d->port);
		*ok = false;
	}
}

static bool usb_same(const struct usb_dev *a, const struct usb_dev *b)
{
	if (a->by_id != b->by_id)
		return false;
	return a->by_id ? a->vendor == b->vendor && a->product == b->product
			: a->bus == b->bus && a->port && b->port && streq(a->port, b->port);
}

static bool usb_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	struct usb *u = conf;
	bool ok = true;

	if (!vmr_key_want_seq(c, n, "usb"))
		return false;
	if (n->n > USB_MAX) {
		VMR_KEY_ERR(c, n->items[USB_MAX]->pos, NULL,
			    "%s: at most %d usb devices (%zu given)", c->ctx, USB_MAX, n->n);
		return false;
	}
	u->v = xcalloc(n->n + 1, sizeof(*u->v));
	for (size_t i = 0; i < n->n; i++) {
		_cleanup_free_ char *ctx = xasprintf("%s usb #%zu", c->ctx, i + 1);
		struct vmr_keyctx ic = {.r = c->r, .ctx = ctx};
		bool item_ok = true;

		usb_entry(&ic, n->items[i], &u->v[i], &item_ok);
		u->n = i + 1;
		ok &= item_ok;
		for (size_t k = 0; item_ok && k < i; k++)
			if (usb_same(&u->v[i], &u->v[k])) {
				VMR_KEY_ERR(&ic, u->v[i].pos, NULL,
					    "%s: the same device as usb #%zu", ic.ctx, k + 1);
				ok = false;
				break;
			}
	}
	return ok && n->n > 0;
}

static void usb_free(void *conf)
{
	struct usb *u = conf;

	for (size_t i = 0; i < u->n; i++)
		free(u->v[i].port);
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

static json_t *usb_list_json(const void *field)
{
	const struct usb *u = field;
	json_t *a = json_array();

	for (size_t i = 0; i < u->n; i++) {
		const struct usb_dev *d = &u->v[i];
		char id[8];

		if (d->by_id) {
			json_t *o = json_object();

			snprintf(id, sizeof(id), "0x%04x", d->vendor);
			json_object_set_new(o, "vendor", json_string(id));
			snprintf(id, sizeof(id), "0x%04x", d->product);
			json_object_set_new(o, "product", json_string(id));
			json_array_append_new(a, o);
		} else {
			json_array_append_new(a, json_pack("{s:i, s:s}", "bus", (int)d->bus, "port",
							   d->port ? d->port : ""));
		}
	}
	return a;
}

static json_t *usb_json(const void *conf)
{
	return usb_list_json(conf);
}

/* the devices are what the guest sees: part of the instance-id's JSON */
static const struct vmr_key usb_keys[] = {
    {.name = "usb", .type = VMR_KEY_CUSTOM, .off = 0, .flags = VMR_KEY_HW, .json = usb_list_json},
    VMR_KEYS_END,
};

static void usb_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	if (vmr_argv_machine_ide(c->guest->machine) == VMR_IDE_NONE)
		VMR_KEY_ERR(c->kc, d->pos, NULL,
			    "%s: 'usb' needs a pc or q35 machine (its xHCI controller is PCI), "
			    "not '%s'",
			    c->kc->ctx, c->guest->machine);
}

static void usb_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	pd->nfds[VMR_FD_DEV] = (unsigned)VMR_DEVICE_CONF(pd->dev, struct usb)->n;
}

static int usb_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		    struct vmr_error **err)
{
	const struct usb *u = VMR_DEVICE_CONF(pd->dev, struct usb);

	for (size_t i = 0; i < u->n; i++) {
		int fd = pd->fds[VMR_FD_DEV][i];
		char id[32];
		json_t *dev;

		snprintf(id, sizeof(id), "usb%zu", i);
		/* fd set N holds child fd N: unique, and plain to read */
		vmr_strvec_push(b->out, "-add-fd");
		vmr_strvec_pushf(b->out, "fd=%d,set=%d,opaque=%s", fd, fd, id);
		dev = json_pack("{s:s}", "driver", "usb-host");
		vmr_argv_usb_attach(b, dev);
		json_object_set_new(dev, "hostdevice", json_sprintf("/dev/fdset/%d", fd));
		json_object_set_new(dev, "id", json_string(id));
		vmr_argv_push_json(b, "-device", dev);
	}
	return 0;
}

static void usb_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
		       struct vmr_grants *g)
{
	g->usb = true;
}

static void usb_want(const struct usb_dev *d, struct vmr_net_usb_want *w)
{
	*w = (struct vmr_net_usb_want){.by_id = d->by_id,
				       .vendor = d->vendor,
				       .product = d->product,
				       .bus = d->bus,
				       .port = d->port};
}

static int usb_preflight(const struct vmr_config *cfg, const struct vmr_plan *p,
			 const struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct usb *u = VMR_DEVICE_CONF(pd->dev, struct usb);

	for (size_t i = 0; i < u->n; i++) {
		struct vmr_net_usb_want w;
		struct vmr_net_usb found;
		int r;

		usb_want(&u->v[i], &w);
		r = vmr_net_usb_find(cfg, &w, &found, err);
		if (r < 0)
			return vmr_error_wrap(err, "guest '%s'", p->guest->name);
	}
	return 0;
}

static int usb_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct usb *u = VMR_DEVICE_CONF(pd->dev, struct usb);
	const char *dev_root = s->cfg->dev_root ? s->cfg->dev_root : "/dev";

	for (size_t i = 0; i < u->n; i++) {
		_cleanup_free_ char *node = NULL;
		struct vmr_net_usb_want w;
		struct vmr_net_usb found;
		int r, fd;

		usb_want(&u->v[i], &w);
		r = vmr_net_usb_find(s->cfg, &w, &found, err);
		if (r < 0)
			return r;
		node = xasprintf("%s/bus/usb/%03u/%03u", dev_root, found.bus, found.dev);
		/* read-write: QEMU's fd set lookup asks for O_RDWR, libusb claims interfaces */
		fd = open(node, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return vmr_error_set(err, errno, "open USB device %s (%04x:%04x) at '%s'",
					     found.name, found.vendor, found.product, node);
		vmr_setup_give(s, pd, VMR_FD_DEV, (unsigned)i, fd);
	}
	return 0;
}

const struct vmr_device_ops vmr_device_usb = {
    .name = "usb",
    .cls = VMR_DEVICE_GUEST,
    .summary = "host USB devices passed through (usb-host on xHCI), opened by vmrun",
    .conf_size = sizeof(struct usb),
    .parse = usb_parse,
    .keys = usb_keys,
    .check = usb_check,
    .free = usb_free,
    .json = usb_json,
    .plan = usb_plan,
    .argv = usb_argv,
    .grants = usb_grants,
    .preflight = usb_preflight,
    .setup = usb_setup,
};
