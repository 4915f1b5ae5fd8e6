/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_NET_INTERNAL_H
#define VMR_NET_INTERNAL_H

/*
 * Internal interfaces of net/ (not for other modules; the unit tests in
 * tests/unit/net_*.c use them).  The public interface is net/net.h.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/model/config.h"
#include "lib/base/error.h"
#include "lib/base/journal.h"
#include "lib/base/netaddr.h"
#include "net/net.h"

struct net_rec;

/* ------------------------------------------------------------------ */
/* netlink (net/nl.c): libnl-route-3 for the objects, libmnl for extack */

struct nl_sock;

/*
 * A route netlink socket.  After a failed request, errnum is the kernel's
 * errno and extack the kernel's extended-ack message ("" when none).
 */
struct vmr_nl {
	struct nl_sock *sk;
	int errnum;
	char extack[256];
};

/* Open a NETLINK_ROUTE socket (O_CLOEXEC, extended acks requested). */
int net_nl_open(struct vmr_nl *nl, struct vmr_error **err);
/* Close; a zeroed or closed struct is fine. */
void net_nl_close(struct vmr_nl *nl);

/*
 * Set *err for the failed libnl call that returned r: the kernel's errno
 * when the kernel answered, and its extack text before it, so the message
 * reads "CONTEXT: EXTACK: strerror".  Returns the negative errno.
 */
int net_nl_fail(struct vmr_nl *nl, int r, struct vmr_error **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The facts of one link that net/ acts on. */
struct net_link {
	int ifindex;
	char name[16];	 /* IFNAMSIZ */
	char kind[32];	 /* IFLA_INFO_KIND, "" for none (physical, veth shows "veth") */
	char alias[256]; /* ifalias, "" when unset */
	bool has_mac;
	struct vmr_mac mac;
	unsigned mtu;
	unsigned flags; /* IFF_* */
	int master;	/* ifindex of the bridge/bond, 0 when none */
	int link;	/* IFLA_LINK: the lower device, 0 when none */
};

/*
 * Look up a link by name (index 0) or index.  Returns 1 and fills *ret when
 * it exists, 0 when it does not, negative with *err on failure.
 */
int net_link_lookup(struct vmr_nl *nl, const char *name, int ifindex, struct net_link *ret,
		    struct vmr_error **err);

/* All links of the namespace; *ret is a new array of *ret_n entries. */
int net_link_list(struct vmr_nl *nl, struct net_link **ret, size_t *ret_n, struct vmr_error **err);

/*
 * Find the host netif whose current MAC is mac, ignoring the stacked kinds
 * that copy their lower device's MAC (vlan, macvlan, macvtap, bridge, bond).
 * None: "host netif not found for 'MAC'"; several: both named.
 */
int net_link_find_mac(struct vmr_nl *nl, const struct vmr_mac *mac, struct net_link *ret,
		      struct vmr_error **err);

struct net_link_spec {
	const char *name;
	const char *kind;		/* "macvtap", "macvlan", "vlan", "bridge" */
	int parent;			/* lower device ifindex (macvtap/macvlan/vlan) */
	const struct vmr_mac *mac;	/* NULL: kernel's choice */
	unsigned mtu;			/* 0: default */
	enum vmr_net_macvtap_mode mode; /* macvtap/macvlan */
	unsigned vlan_id;		/* vlan */
	bool up;			/* bring up in the same request */
};

/*
 * Create a link in one RTM_NEWLINK (so a failure at link-up, such as a
 * MAC already used on the parent, leaves nothing behind).  Errors are
 * reported by the caller's context via net_nl_fail(); this returns the
 * libnl code (negative) or 0, with nl->errnum/extack set.  With
 * ret_ifindex, the request asks for an echo (NLM_F_ECHO) and
 * *ret_ifindex is the new link's index from it, or 0 when the kernel sent
 * none (before Linux 6.3): net_link_mark() then looks the link up.
 */
int net_link_create_raw(struct vmr_nl *nl, const struct net_link_spec *spec, int *ret_ifindex);

/*
 * Give the link vmrun just created its owner mark (ifalias; the kernel
 * takes no alias in RTM_NEWLINK, hence this second request).  ifindex is
 * the link's index from net_link_create_raw(), or 0 to look name up
 * first; call it only after a creation that succeeded, so the mark never
 * claims another program's link.  With ret, *ret is filled (a lookup by
 * index when ifindex was given).  Returns the link's index (> 0); a link
 * gone in between fails with ENODEV.
 */
int net_link_mark(struct vmr_nl *nl, const char *name, int ifindex, const char *owner,
		  struct net_link *ret, struct vmr_error **err);

/*
 * Change a link: alias (NULL: keep), mtu (0: keep), master (-1: keep,
 * 0: none), up (-1 keep, 0 down, 1 up), mac (NULL: keep).  Returns the
 * libnl code like net_link_create_raw().
 */
int net_link_change_raw(struct vmr_nl *nl, int ifindex, const char *alias, unsigned mtu, int master,
			int up, const struct vmr_mac *mac);

/* Delete a link by index; the libnl code (0 also when it is gone already). */
int net_link_delete_raw(struct vmr_nl *nl, int ifindex);

/* Number of links whose master or lower device is ifindex (a veth peer is neither). */
int net_link_count_uppers(struct vmr_nl *nl, int ifindex, size_t *ret, struct vmr_error **err);
/*
 * Add (or remove) the alternative name altname of link ifindex
 * (RTM_NEWLINKPROP / RTM_DELLINKPROP, Linux 5.5+): libnl's return code;
 * an altname that exists (add) or is gone (remove) is -NLE_EXIST /
 * -NLE_OBJ_NOTFOUND with nl->errnum EEXIST / ENODEV or ENOENT.
 */
int net_link_altname_raw(struct vmr_nl *nl, int ifindex, const char *altname, bool add);

/*
 * A link holding ifname, a name vmrun wants: nothing (0), our leftover
 * (owner mark and MAC match: deleted when delete_ours, else 0), or a
 * foreign link ("interface 'vm-52deac19a003' exists and is not ours").
 */
int net_name_check(struct vmr_nl *nl, const char *ifname, const char *owner,
		   const struct vmr_mac *mac, bool delete_ours, struct vmr_error **err);

/* Add an address to a link (kept if it is there already). */
int net_addr_add(struct vmr_nl *nl, int ifindex, const struct vmr_cidr *a, const char *ifname,
		 struct vmr_error **err);

/* Add or replace a permanent neighbour entry ip -> mac on a link. */
int net_neigh_add(struct vmr_nl *nl, int ifindex, const struct vmr_cidr *ip,
		  const struct vmr_mac *mac, const char *ifname, struct vmr_error **err);

/*
 * Why the host is using the link (an address that is not IPv6 link-local,
 * a route through it, a bridge or bond master), as a new string, or NULL
 * when it is free.
 */
int net_link_in_use(struct vmr_nl *nl, const struct net_link *l, char **ret_why,
		    struct vmr_error **err);

/* One VF of a PF as the PF's driver reports it (IFLA_VFINFO_LIST). */
struct net_vf {
	unsigned index;
	struct vmr_mac mac;
	unsigned vlan;
	bool trust, spoofchk;
};

/* The VFs of PF netdev ifindex. */
int net_vf_list(struct vmr_nl *nl, int ifindex, struct net_vf **ret, size_t *ret_n,
		struct vmr_error **err);

/* Set MAC, VLAN, trust and spoofchk of VF index of PF ifindex. */
int net_vf_set(struct vmr_nl *nl, int ifindex, const char *pfname, const struct net_vf *vf,
	       struct vmr_error **err);

/* ------------------------------------------------------------------ */
/* sysfs through the configured root (net/sysfs.c) */

/* cfg->sysfs_root or "/sys"; cfg->dev_root or "/dev". */
const char *net_sysfs_root(const struct vmr_config *cfg);
const char *net_dev_root(const struct vmr_config *cfg);

/* ROOT + "/" + formatted relative path (caller frees). */
char *net_sysfs_path(const struct vmr_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Read a small attribute, trailing newline removed.  -errno, *err set. */
int net_sysfs_read(const struct vmr_config *cfg, char **ret, struct vmr_error **err,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Read an unsigned decimal (or 0x hex) attribute. */
int net_sysfs_read_uint(const struct vmr_config *cfg, unsigned long *ret, struct vmr_error **err,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Write value to an attribute in one write(2), as the kernel expects. */
int net_sysfs_write(const struct vmr_config *cfg, const char *value, struct vmr_error **err,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * The last component of a symlink's target ("ixgbe" for .../driver).
 * Returns 1 and *ret, 0 when the link does not exist, or -errno.
 */
int net_sysfs_link_name(const struct vmr_config *cfg, char **ret, struct vmr_error **err,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Whether a path exists under the root. */
bool net_sysfs_exists(const struct vmr_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sorted names in a directory under the root (no . and ..); -errno. */
int net_sysfs_list(const struct vmr_config *cfg, char ***ret, struct vmr_error **err,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ------------------------------------------------------------------ */
/* tap devices (net/tapdev.c) */

/*
 * Open the character device of macvtap `ifname` (index ifindex) queues
 * times: /dev/tapN when it is the right device, else a node made from the
 * sysfs major:minor in STATE/GUEST/dev/.  fds[0..queues-1] are set.
 */
int net_macvtap_open(const struct vmr_config *cfg, const char *guest, const char *ifname,
		     int ifindex, unsigned queues, int *fds, struct vmr_error **err);

/*
 * Attach to (creating if it does not exist) tap `ifname` through
 * /dev/net/tun: IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, IFF_MULTI_QUEUE when
 * queues > 1.  fds[0..queues-1] are set.
 */
int net_tun_open(const struct vmr_config *cfg, const char *ifname, unsigned queues, int *fds,
		 struct vmr_error **err);

/* Open /dev/vhost-net (O_RDWR|O_CLOEXEC). */
int net_vhost_open(const struct vmr_config *cfg, int *ret_fd, struct vmr_error **err);

/* ------------------------------------------------------------------ */
/* PCI and vfio (net/pci.c) */

/*
 * Whether the IOMMU group of bdf can be passed through: every other device
 * in it is bound to vfio-pci, pci-stub, pcieport or nothing, or is listed
 * in ours (NULL-terminated, may be NULL: devices passed through together).
 * Returns 1 viable, 0 not (*ret_why says why; caller frees), negative on
 * failure.  *ret_group (may be NULL) gets the group number, -1 for none.
 */
int net_pci_group_viable(const struct vmr_config *cfg, const char *bdf, const char *const *ours,
			 long *ret_group, char **ret_why, struct vmr_error **err);

/*
 * Bind bdf to vfio-pci: record the current driver in j ("pci.driver"),
 * unbind, driver_override=vfio-pci, drivers_probe, verify.  No-op when it is
 * bound to vfio-pci already.  Ensures DEV/vfio/GROUP exists.
 */
int net_pci_bind_vfio(const struct vmr_config *cfg, struct net_rec *rec, const char *bdf,
		      struct vmr_error **err);

/*
 * Give bdf back to driver (NULL: leave it unbound): unbind from vfio-pci,
 * clear driver_override, drivers_probe and verify.
 */
int net_pci_restore(const struct vmr_config *cfg, const char *bdf, const char *driver,
		    struct vmr_error **err);

/* Current driver of bdf: 1 and *ret, 0 when unbound, negative on failure. */
int net_pci_driver(const struct vmr_config *cfg, const char *bdf, char **ret,
		   struct vmr_error **err);

/* The netdev name of a PCI network function (first of .../net/), or 0 when none. */
int net_pci_netdev(const struct vmr_config *cfg, const char *bdf, char **ret,
		   struct vmr_error **err);

/*
 * The VF of PF pf carrying mac: its BDF via virtfnN.  vfs/nvfs is what the
 * PF reports over netlink (NULL: read each VF's MAC from its own netdev in
 * sysfs).  Fails clearly when no VF has the MAC.
 */
int net_vf_find(const struct vmr_config *cfg, const char *pf, const struct vmr_mac *mac,
		const struct net_vf *vfs, size_t nvfs, char **ret_bdf, struct vmr_error **err);

/*
 * sriov_numvfs of pf to n (0 < n <= sriov_totalvfs), autoprobe off while
 * the VFs appear so no host driver grabs them; records the old numvfs and
 * autoprobe in j ("sriov.numvfs") first; restores autoprobe afterwards.
 * No change (and no journal entry) when numvfs is n already.
 */
int net_sriov_set_numvfs(const struct vmr_config *cfg, struct net_rec *rec, const char *pf,
			 unsigned n, struct vmr_error **err);

/* ------------------------------------------------------------------ */
/* journal entries (net/undo.c) */

/*
 * Where host changes are recorded: the journal (NULL in tests that only
 * watch the writes) and, when done is a JSON array, a copy of each entry so
 * the caller can roll back its own step.
 */
struct net_rec {
	struct vmr_journal *j;
	json_t *done;
};

/* Record entry (consumed; NULL means out of memory) before the change. */
int net_record(struct net_rec *rec, json_t *entry, struct vmr_error **err);

/*
 * A macvtap's parent (or vmctrl's) must be up or the macvtap is
 * LOWERLAYERDOWN.  When parent is down: journal "net.parent", mark it with
 * the alternative name "vmrun-up<ifindex>" (which says vmrun raised it, to
 * every vmrun process on the host, and outlives a killed one) and set it
 * up.  When it is up with that mark, journal "net.parent" too, so whoever
 * is last to stop puts it down; up without it, it was up before vmrun and
 * nothing is recorded.  The undo puts it down and removes the mark once no
 * link hangs off it any more.
 */
int net_parent_up(struct vmr_nl *nl, struct net_rec *rec, const struct net_link *parent,
		  struct vmr_error **err);
/* "vmrun-up<ifindex>" into buf (at least 16 bytes); -ERANGE past IFNAMSIZ. */
int net_parent_mark(int ifindex, char buf[static 16]);

/* Undo handlers, also called directly to roll back a failed setup. */
int net_undo_link(const json_t *e, void *ctx, struct vmr_error **err);
int net_undo_parent(const json_t *e, void *ctx, struct vmr_error **err);
int net_undo_shared(const json_t *e, void *ctx, struct vmr_error **err);
int net_undo_pci(const json_t *e, void *ctx, struct vmr_error **err);
int net_undo_numvfs(const json_t *e, void *ctx, struct vmr_error **err);
int net_undo_vf(const json_t *e, void *ctx, struct vmr_error **err);
int net_undo_node(const json_t *e, void *ctx, struct vmr_error **err);
int net_undo_node_access(const json_t *e, void *ctx, struct vmr_error **err);

/*
 * Run the undo handler of each entry of the JSON array done, last first (the
 * rollback of one failed step).  Returns 0 or the first failure.
 */
int net_undo_entries(const json_t *done, const struct vmr_config *cfg, struct vmr_error **err);

#endif
