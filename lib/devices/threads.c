/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where QEMU's threads run besides the vCPUs (`cpuset`):
 *   emulator_cpus: CPUSET   the main loop, RCU, the monitor's I/O thread,
 *                           thread-pool workers and vhost-net workers
 *   iothreads: N            N iothread objects io0..io(N-1); a virtio disk's
 *                           `iothread: K` runs its I/O on ioK
 *   iothread_cpus: CPUSET   where the iothreads run (default: with the
 *                           emulator threads)
 * The plan carries the sets; the supervisor applies them over QMP's thread
 * ids (lib/runtime/pin.c).  Nothing here is seen by the guest.
 */
#include <stdio.h>

#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

#define IOTHREADS_MAX 64u

extern const struct vmr_device_ops vmr_device_iothreads;

struct cpus {
	struct vmr_cpuset set;
};

struct iothreads {
	unsigned n;
};

static bool cpus_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, const char *key,
		       struct vmr_cpuset *out)
{
	_cleanup_free_ char *bad = NULL;
	const char *why = NULL;

	if (!vmr_key_want_scalar(c, n, key))
		return false;
	if (vmr_cpuset_parse(n->value, out, &bad, &why) < 0) {
		VMR_KEY_ERR(c, n->pos, NULL, "%s: %s '%s' in %s '%s'", c->ctx, why, bad, key,
			    n->value);
		return false;
	}
	return true;
}

static bool emulator_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	return cpus_parse(c, n, "emulator_cpus", &((struct cpus *)conf)->set);
}

static bool iothread_cpus_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	return cpus_parse(c, n, "iothread_cpus", &((struct cpus *)conf)->set);
}

static void cpus_free(void *conf)
{
	vmr_cpuset_free(&((struct cpus *)conf)->set);
}

static json_t *cpus_json(const void *conf)
{
	char *s = vmr_cpuset_format(&((const struct cpus *)conf)->set);
	json_t *j = json_string(s);

	free(s);
	return j;
}

static bool iothreads_parse(struct vmr_keyctx *c, const struct vmr_ynode *n, void *conf)
{
	return vmr_key_uint(c, n, "iothreads", 1, IOTHREADS_MAX, &((struct iothreads *)conf)->n);
}

static json_t *iothreads_json(const void *conf)
{
	return json_integer(((const struct iothreads *)conf)->n);
}

unsigned vmr_device_iothreads_count(const struct vmr_guest *g)
{
	for (size_t i = 0; i < g->ndevices; i++)
		if (g->devices[i].ops == &vmr_device_iothreads)
			return VMR_DEVICE_CONF(&g->devices[i], struct iothreads)->n;
	return 0;
}

static void iothread_cpus_check(const struct vmr_devcheck *c, const struct vmr_device *d)
{
	if (!vmr_device_iothreads_count(c->guest))
		VMR_KEY_ERR(c->kc, d->pos, "add 'iothreads: N'",
			    "%s: 'iothread_cpus' needs 'iothreads'", c->kc->ctx);
}

static void emulator_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	pd->emulator_cpus = &VMR_DEVICE_CONF(pd->dev, struct cpus)->set;
}

static void iothread_cpus_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	pd->iothread_cpus = &VMR_DEVICE_CONF(pd->dev, struct cpus)->set;
}

static void iothreads_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	pd->iothreads = VMR_DEVICE_CONF(pd->dev, struct iothreads)->n;
}

static int iothreads_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
			  struct vmr_argv *b, struct vmr_error **err)
{
	for (unsigned i = 0; i < pd->iothreads; i++) {
		char id[16];

		snprintf(id, sizeof(id), "io%u", i);
		vmr_argv_push_json(b, "-object",
				   json_pack("{s:s, s:s}", "qom-type", "iothread", "id", id));
	}
	return 0;
}

const struct vmr_device_ops vmr_device_emulator_cpus = {
    .name = "emulator_cpus",
    .cls = VMR_DEVICE_GUEST,
    .summary = "host CPUs of QEMU's threads other than the vCPUs (and vhost-net's)",
    .conf_size = sizeof(struct cpus),
    .parse = emulator_parse,
    .free = cpus_free,
    .json = cpus_json,
    .host_only = true,
    .plan = emulator_plan,
};

const struct vmr_device_ops vmr_device_iothreads = {
    .name = "iothreads",
    .cls = VMR_DEVICE_GUEST,
    .summary = "iothreads io0.. for virtio disks' I/O (a disk's `iothread: K`)",
    .conf_size = sizeof(struct iothreads),
    .parse = iothreads_parse,
    .json = iothreads_json,
    .host_only = true,
    .plan = iothreads_plan,
    .argv = iothreads_argv,
};

const struct vmr_device_ops vmr_device_iothread_cpus = {
    .name = "iothread_cpus",
    .cls = VMR_DEVICE_GUEST,
    .summary = "host CPUs of the iothreads",
    .conf_size = sizeof(struct cpus),
    .parse = iothread_cpus_parse,
    .check_guest = iothread_cpus_check,
    .free = cpus_free,
    .json = cpus_json,
    .host_only = true,
    .plan = iothread_cpus_plan,
};
