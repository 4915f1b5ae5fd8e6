/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `agent: true`: a virtio-serial channel named org.qemu.guest_agent.0 for
 * the QEMU guest agent (qemu-ga) in the guest.  Its host end is a
 * listening socket STATE/GUEST/agent.sock, bound here before QEMU starts
 * and passed to QEMU as an fd (like the QMP and console sockets), so the
 * supervisor's connection waits in the backlog and nothing races.  The
 * supervisor speaks the agent protocol over it: `ready_when: agent`
 * (guest-ping), and the guest's addresses for `vmrun inspect`.
 */
#include <stdio.h>

#include "lib/base/unixsock.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

#define AGENT_SOCKET "agent.sock"
#define AGENT_PORT_NAME "org.qemu.guest_agent.0"

static void agent_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	pd->nfds[VMR_FD_SOCKET] = 1;
}

static int agent_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		      struct vmr_error **err)
{
	vmr_strvec_push(b->out, "-chardev");
	vmr_strvec_pushf(b->out, "socket,id=agent,fd=%d,server=on,wait=off",
			 pd->fds[VMR_FD_SOCKET][0]);
	vmr_argv_push_json(b, "-device",
			   json_pack("{s:s, s:s}", "driver", "virtio-serial-pci", "id", "vser0"));
	vmr_argv_push_json(b, "-device",
			   json_pack("{s:s, s:s, s:s, s:s, s:s}", "driver", "virtserialport", "bus",
				     "vser0.0", "chardev", "agent", "name", AGENT_PORT_NAME, "id",
				     "agent0"));
	return 0;
}

/* The listening socket, bound in the guest's state directory (no host change to undo). */
static int agent_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/" AGENT_SOCKET, s->plan->state_dir);
	int fd = vmr_unix_listen(path, 1, false, err);

	if (fd < 0)
		return fd;
	vmr_setup_give(s, pd, VMR_FD_SOCKET, 0, fd);
	return 0;
}

const struct vmr_device_ops vmr_device_agent = {
    .name = "agent",
    .cls = VMR_DEVICE_GUEST,
    .summary = "a virtio-serial channel for the QEMU guest agent (qemu-ga)",
    .guest_agent = true,
    .plan = agent_plan,
    .argv = agent_argv,
    .setup = agent_setup,
};
