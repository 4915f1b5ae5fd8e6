/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_NET_H
#define VMR_NET_H

/*
 * Host networking and device passthrough for one guest (docs/networking.md):
 * macvtap, bridge + tap, existing taps, VLAN sub-interfaces and MTU over
 * netlink (libnl-route-3; libmnl only to read the kernel's extended ack),
 * tap device nodes, vhost-net, PCI devices and SR-IOV VFs handed to
 * vfio-pci through sysfs, and the host-level setup of `vmrun host up`.
 *
 * Every host change is recorded in the undo journal (lib/journal.h) *before*
 * it is made; the undo handlers registered by vmr_net_register_undo() take
 * the host configuration (`const struct vmr_config *`) as ctx.
 *
 * Interfaces vmrun creates carry the owner mark `vmrun:<guest>:<nic>` as
 * their ifalias; nothing without our mark (and, for links with a guest MAC,
 * the MAC we gave it) is ever deleted.
 *
 * All sysfs access goes through cfg->sysfs_root, device nodes through
 * cfg->dev_root, so tests drive fake trees.
 */

#include <jansson.h>
#include <stdbool.h>

#include "lib/model/config.h"
#include "lib/base/error.h"
#include "lib/base/journal.h"
#include "lib/plan/plan.h"
#include "lib/model/topology.h"

#define VMR_NET_OWNER_PREFIX "vmrun:"

/*
 * Register the journal undo handlers of net/ (types "net.link", "net.vlan",
 * "net.bridge", "net.updown", "net.node", "pci.driver", "sriov.numvfs",
 * "sriov.vf"; net/undo.c describes each).  Call once at
 * startup, before any journal replay.
 */
void vmr_net_register_undo(void);

/*
 * The host interface name vmrun uses for a tap-like NIC it creates
 * (macvtap, or the tap of a bridge NIC): "vm-" and the guest MAC without
 * colons, as 5gdeploy names them.  buf gets at most 15 chars + NUL.
 * Returns buf.
 */
char *vmr_net_ifname(const struct vmr_nic *nic, char buf[static 16]);

/*
 * The owner mark of a NIC: "vmrun:<guest>:<nic>" (caller frees).
 */
char *vmr_net_owner(const char *guest, const char *nic);

/*
 * Whether DEV/vhost-net opens (a caller may set plan->vhost from it before
 * numbering the child fds; vmr_net_setup_guest() falls back by itself).
 */
bool vmr_net_vhost_available(const struct vmr_config *cfg);

/*
 * Probes of what the host gives guests (`vmrun probe`).  Each returns 1
 * when the feature is usable, else 0 with the reason in *ret_why (a new
 * string; NULL on 1):
 *   vmr_net_probe_device: DEV/node opens read-write ("net/tun", "vhost-net");
 *   vmr_net_probe_kind: a link of kind ("macvtap", "vlan", "bridge") can be
 *     created, tried in a forked child in a network namespace of its own
 *     (needs CAP_SYS_ADMIN and CAP_NET_ADMIN; the host's links are untouched);
 *   vmr_net_probe_iommu: IOMMU groups exist and DEV/vfio/vfio opens.
 */
int vmr_net_probe_device(const struct vmr_config *cfg, const char *node, char **ret_why);
int vmr_net_probe_kind(const char *kind, char **ret_why);
int vmr_net_probe_iommu(const struct vmr_config *cfg, char **ret_why);

/*
 * Reclaim before setup: for every NIC of g that vmrun would create a link
 * for, a link already holding the name is deleted when it is a leftover of
 * ours (owner mark vmrun:<guest>:<nic> and the MAC we give it); any other
 * holder makes this fail ("interface 'vm-52deac19a003' exists and is not
 * ours") without touching anything, when strict (a start must; `down`
 * only sweeps).  Also sweeps macvtaps and taps anywhere
 * in the namespace whose owner mark is vmrun:<guest>:* and whose MAC is one
 * of g's (a shared VLAN or bridge is left to the journals).  Call it
 * after replaying the guest's journal from a dead run.
 */
int vmr_net_reclaim(const struct vmr_config *cfg, const struct vmr_guest *g, bool strict,
		    struct vmr_error **err);

/*
 * Set up every NIC of plan->guest: create the links, open tap and vhost-net
 * fds, bind PCI devices and VFs to vfio-pci.  When the plan asks for
 * vhost-net and DEV/vhost-net does not open, the plan falls back to plain
 * taps (plan->vhost = false) and its child fds are renumbered with
 * vmr_plan_assign_fds(), so read plan->nfds, qmp_fd and console_fd after
 * this call (fds needs only the old, larger, plan->nfds entries).  Each host change is journaled
 * in j before it is made.  Fills plan->nics[i].ifname and .vfio_host (the
 * plan owns the strings) and stores the opened fds (O_CLOEXEC, the caller
 * owns them) in fds[child_fd - 3]; fds has plan->nfds entries, and the QMP
 * and console slots are left alone.  On failure closes the fds it opened,
 * undoes what it did as far as it can and returns negative with *err (the
 * caller replays the journal anyway).
 */
int vmr_net_setup_guest(const struct vmr_config *cfg, struct vmr_journal *j, struct vmr_plan *plan,
			int *fds, struct vmr_error **err);

/*
 * `vmrun host up` for host `host` (NULL: the primary host): the ctrlif
 * interface `vmctrl` with its address and permanent neighbour entries for
 * every guest's vmctrl NIC (on the primary host only), and SR-IOV for every
 * PF that guests placed on this host use (sriov_numvfs, VF MAC/VLAN/trust/
 * spoofchk via netlink, VFs bound to vfio-pci).  Every change is journaled
 * in j (STATE/host-<NAME>/journal.jsonl) so `host down`, which is a replay
 * of that journal, restores the host.  Invalid requests (more VFs than
 * sriov_totalvfs, missing PF) fail before anything is changed.
 */
int vmr_net_host_up(const struct vmr_config *cfg, const struct vmr_topology *t, const char *host,
		    struct vmr_journal *j, struct vmr_error **err);

/*
 * Discover what a topology can use (`vmrun devices`): network interfaces,
 * SR-IOV PFs, other PCI devices with IOMMU group and passthrough viability,
 * USB devices.  Through libpci and sysfs under cfg->sysfs_root.  Returns a
 * new JSON object in *ret (absent facts are null):
 *   {"nics":[{"name","mac","driver","pci","state"}],
 *    "sriov":[{"pci","ifname","driver","totalvfs","numvfs"}],
 *    "pci":[{"pci","id","class","class_name","vendor","device","driver",
 *            "ifname","iommu_group","passthrough":bool,"why"}],
 *    "usb":[{"port","bus","dev","id","manufacturer","product"}]}
 * nics and usb in sysfs order (sorted by name), pci and sriov by address.
 */
int vmr_net_devices(const struct vmr_config *cfg, json_t **ret, struct vmr_error **err);

#endif
