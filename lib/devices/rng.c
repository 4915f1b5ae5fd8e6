/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `rng: true`: a virtio-rng-pci device fed from the host's /dev/urandom,
 * so a guest has entropy from its first boot (cloud images wait for it
 * in early boot without one).  The whole device is this file: the key
 * (selecting it is all there is), its command line, and the instance-id
 * (the guest sees it, and vmr_guest_hw_json() hashes every device).
 */
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

static int rng_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		    struct vmr_error **err)
{
	vmr_argv_push_json(b, "-object",
			   json_pack("{s:s, s:s, s:s}", "qom-type", "rng-random", "id", "rng0",
				     "filename", "/dev/urandom"));
	vmr_argv_push_json(
	    b, "-device",
	    json_pack("{s:s, s:s, s:s}", "driver", "virtio-rng-pci", "rng", "rng0", "id", "rng0"));
	return 0;
}

const struct vmr_device_ops vmr_device_rng = {
    .name = "rng",
    .cls = VMR_DEVICE_GUEST,
    .summary = "a virtio-rng-pci entropy source fed from the host's /dev/urandom",
    .argv = rng_argv,
};
