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

#include "lib/base/error.h"
#include "lib/base/journal.h"
#include "lib/base/netaddr.h"
#include "lib/model/config.h"
#include "lib/model/topology.h"

#define VMR_NET_OWNER_PREFIX "vmrun:"

/*
 * Register the journal undo handlers of net/ (types "net.link", "net.vlan",
 * "net.bridge", "net.updown", "net.parent", "net.node", "pci.driver", "sriov.numvfs",
 * "sriov.vf"; net/undo.c describes each).  Call once at
 * startup, before any journal replay.
 */
void vmr_net_register_undo(void);

enum vmr_net_macvtap_mode {
	VMR_NET_MACVTAP_BRIDGE,
	VMR_NET_MACVTAP_VEPA,
	VMR_NET_MACVTAP_PRIVATE,
	VMR_NET_MACVTAP_PASSTHRU,
};

/*
 * The host interface name vmrun uses for a link it creates for a guest NIC
 * (macvtap, or the tap of a bridge NIC): "vm-" and the guest MAC without
 * colons, as 5gdeploy names them.  buf gets at most 15 chars + NUL.
 * Returns buf.
 */
char *vmr_net_ifname(const struct vmr_mac *guest_mac, char buf[static 16]);

/* The owner mark of a NIC: "vmrun:<guest>:<nic>" (caller frees). */
char *vmr_net_owner(const char *guest, const char *nic);

/*
 * The MAC of the host side of a bridge NIC's tap: the guest's with the
 * first byte 0xfe, as libvirt does (the bridge would otherwise learn the
 * guest's address on the wrong port and may adopt it as its own).
 */
void vmr_net_tap_mac(const struct vmr_mac *guest_mac, struct vmr_mac *ret);

/*
 * One guest's host setup: a netlink socket (opened by the first device that needs
 * one: a guest without NICs or PCI devices never loads libnl), the journal every change is
 * recorded in first, and the list of what this setup recorded, so a failed
 * setup can roll back its own changes (the handlers are idempotent: a later
 * replay of the whole journal is harmless).
 */
struct vmr_net;

int vmr_net_open(const struct vmr_config *cfg, struct vmr_journal *j, struct vmr_net **ret,
		 struct vmr_error **err);
/* Undo what this context recorded, last first, and forget it (best effort). */
void vmr_net_rollback(struct vmr_net *n);
/* Close; NULL is fine.  Undoes nothing. */
void vmr_net_close(struct vmr_net *n);

/* A link vmrun creates for one guest NIC. */
struct vmr_net_nic {
	const char *guest, *nic;   /* for the owner mark vmrun:<guest>:<nic> */
	const struct vmr_mac *mac; /* the guest's MAC: the link's name vm-<MAC12> */
	unsigned mtu;		   /* 0: the kernel's default */
	unsigned queues;	   /* tap fds to open, >= 1 */
};

/*
 * A macvtap for nic on parent (an interface name, or parent_mac when not
 * NULL), on the VLAN sub-interface of parent for vlan when vlan is not 0
 * (created and shared with other guests when missing): created with the
 * guest's MAC, marked, up; its tap device opened nic->queues times into
 * tapfds.  *ret_ifname (caller frees) is its name.  A leftover of ours
 * holding the name is replaced, a foreign link is refused.
 */
int vmr_net_macvtap(struct vmr_net *n, const struct vmr_net_nic *nic, const char *parent,
		    const struct vmr_mac *parent_mac, enum vmr_net_macvtap_mode mode, unsigned vlan,
		    char **ret_ifname, int *tapfds, struct vmr_error **err);

/*
 * A tap for nic on bridge (created and shared when missing), opened
 * nic->queues times into tapfds; its MAC is vmr_net_tap_mac().  The tap
 * is not persistent: it goes when QEMU, its last holder, exits.
 */
int vmr_net_bridge_tap(struct vmr_net *n, const struct vmr_net_nic *nic, const char *bridge,
		       char **ret_ifname, int *tapfds, struct vmr_error **err);

/* The existing tap named tap, opened queues times (a missing one is not created). */
int vmr_net_tap(struct vmr_net *n, const char *tap, unsigned queues, int *tapfds,
		struct vmr_error **err);

/* A vhost-net fd (DEV/vhost-net). */
int vmr_net_vhost(struct vmr_net *n, int *ret_fd, struct vmr_error **err);

/*
 * PCI device bdf bound to vfio-pci (its driver restored on undo), unless
 * the host uses it (an address, a route, a master) and force is false
 * (the hint then names NIC nic, may be NULL).  together lists the devices
 * the guest passes through whole (an IOMMU group may hold several of
 * them; NULL-terminated, may be NULL).
 */
int vmr_net_pci(struct vmr_net *n, const char *bdf, bool force, const char *nic,
		const char *const *together, struct vmr_error **err);

/*
 * The VF of PF pf whose MAC is mac (set by `vmrun host up`) bound to
 * vfio-pci; *ret_bdf (caller frees) is its address.
 */
int vmr_net_vf(struct vmr_net *n, const struct vmr_pci_addr *pf, const struct vmr_mac *mac,
	       const char *const *together, char **ret_bdf, struct vmr_error **err);

/* A link a guest's NIC owns: its name, owner mark and MAC. */
struct vmr_net_owned {
	char ifname[16];
	char *owner;
	struct vmr_mac mac;
};

/*
 * Reclaim before setup, or for `vmrun down` of a dead supervisor's guest:
 * a link holding one of the names in links is deleted when it is a leftover
 * of ours (owner mark and MAC as listed); when strict, any other holder
 * makes this fail ("interface 'vm-52deac19a003' exists and is not ours")
 * without touching anything.  Also sweeps macvtaps and taps anywhere in the
 * namespace whose owner mark is vmrun:<guest>:* and whose MAC is one of the
 * listed (a shared VLAN or bridge is left to the journals).  Call it after
 * replaying the guest's journal from a dead run.
 */
int vmr_net_reclaim(const struct vmr_config *cfg, const char *guest,
		    const struct vmr_net_owned *links, size_t n, bool strict,
		    struct vmr_error **err);

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

/* What `vmrun host up` sets on one VF of a PF for a guest's `vf:` NIC. */
struct vmr_net_vf_want {
	struct vmr_pci_addr pf;
	struct vmr_mac mac;
	unsigned vlan;
	bool trust, spoofchk;
};

/*
 * `vmrun host up` for host `host` (NULL: the primary host): the ctrlif
 * interface `vmctrl` with its address and permanent neighbour entries for
 * every guest's vmctrl NIC (on the primary host only), and SR-IOV for the
 * VFs in vfs (the `vf:` NICs of the guests placed on this host:
 * sriov_numvfs, VF MAC/VLAN/trust/spoofchk via netlink, VFs bound to
 * vfio-pci).  Every change is journaled
 * in j (STATE/host-<NAME>/journal.jsonl) so `host down`, which is a replay
 * of that journal, restores the host.  Invalid requests (more VFs than
 * sriov_totalvfs, missing PF) fail before anything is changed.
 */
int vmr_net_host_up(const struct vmr_config *cfg, const struct vmr_topology *t, const char *host,
		    const struct vmr_net_vf_want *vfs, size_t nvfs, struct vmr_journal *j,
		    struct vmr_error **err);

/*
 * Discover what a topology can use (`vmrun devices`): network interfaces,
 * SR-IOV PFs, other PCI devices with IOMMU group and passthrough viability,
 * USB devices.  Through libpci and sysfs under cfg->sysfs_root.  Returns a
 * new JSON object in *ret (absent facts are null):
 *   {"nics":[{"name","mac","driver","pci","state"}],
 *    "sriov":[{"pci","ifname","driver","totalvfs","numvfs"}],
 *    "pci":[{"pci","id","class","class_name","vendor","device","driver",
 *            "ifname","iommu_group","passthrough":bool,"why"}],
 *    "usb":[{"port","bus","dev","id","manufacturer","product","yaml"}]}
 * (yaml: the guest's `usb:` entry that names the device, null for a root hub)
 * nics and usb in sysfs order (sorted by name), pci and sriov by address.
 */
int vmr_net_devices(const struct vmr_config *cfg, json_t **ret, struct vmr_error **err);

/* A USB device of this host (net/usb.c), from sysfs under cfg->sysfs_root. */
struct vmr_net_usb {
	char name[32];	   /* sysfs name: "1-1.4", "usb1" */
	unsigned bus, dev; /* busnum, devnum: its node is DEV/bus/usb/BBB/DDD */
	unsigned vendor, product;
	char port[24];	    /* "1.4" (the name after "BUS-"); "" for a root hub */
	bool root_hub;	    /* "usbN": a controller's hub, which no guest can take */
	char *manufacturer; /* NULL when sysfs has none */
	char *product_name;
};

/*
 * Every USB device (not interfaces) in sysfs name order; an empty list when
 * the host has no USB.  Free with vmr_net_usb_list_free().
 */
int vmr_net_usb_list(const struct vmr_config *cfg, struct vmr_net_usb **ret, size_t *ret_n);
void vmr_net_usb_list_free(struct vmr_net_usb *v, size_t n);

/*
 * The topology's `usb:` entry naming v[i] (caller frees): by vendor and
 * product when no other device of the list has both, else by bus and port;
 * NULL for a root hub.
 */
char *vmr_net_usb_yaml(const struct vmr_net_usb *v, size_t n, size_t i);

/* A guest's `usb:` entry: by ID, or by where it is plugged in. */
struct vmr_net_usb_want {
	bool by_id;
	unsigned vendor, product; /* by_id */
	unsigned bus;		  /* else */
	const char *port;	  /* "1.2" */
};

/*
 * The one device w names into *ret (without manufacturer and product_name,
 * which are NULL).  Fails with -ENODEV when none matches, -EEXIST when
 * several do (the message lists where they are).
 */
int vmr_net_usb_find(const struct vmr_config *cfg, const struct vmr_net_usb_want *w,
		     struct vmr_net_usb *ret, struct vmr_error **err);

/* A link's counters as the kernel keeps them (its side: a tap's rx is what the guest sent). */
struct vmr_net_link_stats {
	int ifindex;
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
	uint64_t rx_errors, tx_errors, rx_dropped, tx_dropped;
};

/*
 * The counters of link ifname in our network namespace, over netlink
 * (RTM_GETLINK, IFLA_STATS64 through libnl).  A missing link fails with
 * ENODEV.
 */
int vmr_net_link_stats(const char *ifname, struct vmr_net_link_stats *ret, struct vmr_error **err);

#endif
