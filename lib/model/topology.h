/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_TOPOLOGY_H
#define VMR_TOPOLOGY_H

/*
 * The validated model of a topology file (docs/topology.md is the user
 * reference).  Everything here is plain data: loading it touches no host
 * state.  Strings are owned by the model and freed by vmr_topology_free().
 * Optional strings are NULL when absent; every `pos` is where the item was
 * written, for error messages made after loading.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/cpuset.h"
#include "lib/model/diag.h"
#include "lib/base/error.h"
#include "lib/base/netaddr.h"
#include "lib/base/strvec.h"

#define VMR_TOPOLOGY_MAX_BYTES (256u * 1024u)
#define VMR_GUEST_NAME_MAX 31 /* [a-z][a-z0-9]{0,30} */
#define VMR_NIC_NAME_MAX 15   /* [a-z][a-z0-9]{0,14} */
#define VMR_HOST_NAME_MAX 63  /* [a-z0-9][a-z0-9.-]{0,62} */
#define VMR_GUEST_VCPUS_MAX 1024u
#define VMR_GUEST_MEMORY_MIN (16ull << 20)
#define VMR_DEFAULT_STOP_TIMEOUT 7 /* fits Docker's 10 s grace with teardown */

enum vmr_accel { VMR_ACCEL_AUTO, VMR_ACCEL_KVM, VMR_ACCEL_TCG };

enum vmr_disk_format { VMR_FORMAT_AUTO, VMR_FORMAT_QCOW2, VMR_FORMAT_RAW };
enum vmr_disk_bus { VMR_BUS_VIRTIO, VMR_BUS_SCSI, VMR_BUS_NVME, VMR_BUS_IDE };
enum vmr_disk_cache {
	VMR_CACHE_DEFAULT, /* QEMU's default (writeback) */
	VMR_CACHE_NONE,
	VMR_CACHE_WRITEBACK,
	VMR_CACHE_WRITETHROUGH,
	VMR_CACHE_DIRECTSYNC,
	VMR_CACHE_UNSAFE,
};
enum vmr_disk_aio { VMR_AIO_DEFAULT, VMR_AIO_THREADS, VMR_AIO_NATIVE, VMR_AIO_IO_URING };

struct vmr_disk {
	struct vmr_pos pos;
	bool cdrom; /* {cdrom: PATH}: read-only removable media */
	char *file; /* the image (or the ISO for cdrom) */
	enum vmr_disk_format
	    format;    /* AUTO: qcow2 when backing is set or the name ends in .qcow2, else raw */
	char *backing; /* base image: `file` is a qcow2 overlay on it (images/) */
	uint64_t size; /* bytes; 0 = keep the image's size */
	enum vmr_disk_bus bus;
	enum vmr_disk_cache cache;
	enum vmr_disk_aio aio;
	bool readonly;
};

enum vmr_nic_kind {
	VMR_NIC_MACVTAP,
	VMR_NIC_BRIDGE,
	VMR_NIC_TAP,
	VMR_NIC_USER,
	VMR_NIC_PCI,
	VMR_NIC_VF,
};

enum vmr_macvtap_mode {
	VMR_MACVTAP_BRIDGE,
	VMR_MACVTAP_VEPA,
	VMR_MACVTAP_PRIVATE,
	VMR_MACVTAP_PASSTHRU,
};

struct vmr_hostfwd {
	bool udp;	 /* "udp:..." else tcp */
	char *host_addr; /* NULL = all addresses */
	unsigned host_port;
	char *guest_addr; /* NULL = the guest's DHCP address */
	unsigned guest_port;
};

struct vmr_nic {
	struct vmr_pos pos;
	char *name;		/* guest-side name, [a-z][a-z0-9]{0,14} */
	struct vmr_mac mac;	/* always set after loading (derived if omitted) */
	bool mac_given;		/* written in the file (or by define) */
	struct vmr_pos mac_pos; /* the mac key, else the nic */
	bool has_ip;
	struct vmr_cidr ip; /* guest address for cloud-init */
	char *gateway;	    /* optional default route via this NIC */
	enum vmr_nic_kind kind;
	struct vmr_pos attach_pos; /* the attachment key (macvtap:, pci: ...) */
	/* VMR_NIC_MACVTAP */
	char *parent; /* host netif name or MAC text */
	bool parent_is_mac;
	struct vmr_mac parent_mac; /* when parent_is_mac */
	enum vmr_macvtap_mode mode;
	/* VMR_NIC_BRIDGE / VMR_NIC_TAP */
	char *bridge;
	char *tap;
	/* VMR_NIC_USER */
	struct vmr_hostfwd *forwards;
	size_t nforwards;
	/* VMR_NIC_PCI: the device; VMR_NIC_VF: the PF whose VF is used */
	struct vmr_pci_addr pci;
	bool force;	      /* pass through even if the host uses it */
	bool trust, spoofchk; /* VF settings (host up); spoofchk default true */
	/* common */
	unsigned vlan;	 /* 0 = none; 1..4094 */
	unsigned mtu;	 /* 0 = leave as is */
	unsigned queues; /* >= 1; multiqueue tap when > 1 */
	char *model;	 /* QEMU device model, default virtio-net-pci */
};

struct vmr_cloud_init {
	bool enabled;	 /* a seed is built for this guest */
	char *user_data; /* path of the user's own #cloud-config */
	struct vmr_strvec ssh_authorized_keys;
	bool ssh_keys_given; /* the key was present (even if empty) */
	char *password;	     /* NULL = no password */
	char *hostname;	     /* default: the guest name */
};

struct vmr_guest {
	struct vmr_pos pos;
	char *name;
	char *host; /* placement; NULL = the primary host */
	struct vmr_pos host_pos;
	bool has_cpuset;
	struct vmr_pos cpuset_pos;
	struct vmr_cpuset cpuset; /* vCPU i runs on cpuset.cpus[i] */
	unsigned vcpus;		  /* == cpuset.n when has_cpuset */
	uint64_t memory;	  /* bytes */
	enum vmr_accel accel;
	char *machine; /* default "q35" */
	char *cpu;     /* default: "host" with kvm, "max" with tcg (NULL) */
	char *kernel, *initrd, *append;
	char *image; /* shorthand: root disk overlay on this base */
	struct vmr_disk *disks;
	size_t ndisks;
	struct vmr_nic *nics;
	size_t nnics;
	unsigned stop_timeout; /* seconds */
	bool cpu_isolation;
	struct vmr_cloud_init cloud_init;
	struct vmr_strvec qemu_args; /* appended last, verbatim */
};

struct vmr_host {
	struct vmr_pos pos;
	char *name;    /* [a-z0-9][a-z0-9.-]{0,62}; may be an IP */
	char *address; /* IP or DNS name used for ssh://; NULL = name */
	bool primary;  /* compose.sh runs here (local docker) */
	bool has_reserved;
	struct vmr_cpuset reserved; /* CPUs no guest may use */
};

struct vmr_ctrlif {
	bool present;
	struct vmr_pos pos;
	char *parent; /* MAC text or ifname on the primary host */
	bool parent_is_mac;
	struct vmr_mac parent_mac;
	struct vmr_cidr address; /* e.g. 172.25.160.1/24 */
	struct vmr_mac mac;	 /* the vmctrl interface's MAC (ip2mac) */
};

struct vmr_topology {
	char *file; /* as given to the loader */
	unsigned version;
	struct vmr_host *hosts;
	size_t nhosts;
	struct vmr_ctrlif ctrlif;
	struct vmr_guest *guests;
	size_t nguests;
};

/*
 * Load and validate a topology file.  On success returns 0 and a new model
 * in *ret (free with vmr_topology_free()).  On invalid input returns
 * -EINVAL and appends every problem found to diags (each with file, line,
 * column); on I/O failure returns -errno with one diag naming the file.
 * Files above VMR_TOPOLOGY_MAX_BYTES are refused before parsing.
 */
int vmr_topology_load(const char *path, struct vmr_topology **ret, struct vmr_diags *diags);

/* Same from memory; name is used in diagnostics. */
int vmr_topology_load_buffer(const char *name, const char *data, size_t len,
			     struct vmr_topology **ret, struct vmr_diags *diags);

/* Free a model and every string it owns; NULL is fine. */
void vmr_topology_free(struct vmr_topology *t);

/* Lookups; NULL when absent. */
const struct vmr_guest *vmr_topology_guest(const struct vmr_topology *t, const char *name);
const struct vmr_host *vmr_topology_host(const struct vmr_topology *t, const char *name);
/* The primary host, or NULL when no host is marked primary (local machine). */
const struct vmr_host *vmr_topology_primary(const struct vmr_topology *t);

/*
 * The loader's rules for names, for code that writes topologies (define)
 * and must not write one the loader refuses.  NULL is invalid.
 */
bool vmr_guest_name_valid(const char *s); /* [a-z][a-z0-9]{0,30} */
bool vmr_nic_name_valid(const char *s);	  /* [a-z][a-z0-9]{0,14} */
bool vmr_host_name_valid(const char *s);  /* [a-z0-9][a-z0-9.-]{0,62} */
/* A host's `address`: a DNS name (labels of letters, digits, '-'), IPv4 or IPv6. */
bool vmr_host_address_valid(const char *s);

/* Text names of enum values, as written in the topology file. */
const char *vmr_accel_name(enum vmr_accel a);
const char *vmr_nic_kind_name(enum vmr_nic_kind k);
const char *vmr_macvtap_mode_name(enum vmr_macvtap_mode m);
const char *vmr_disk_bus_name(enum vmr_disk_bus b);
const char *vmr_disk_cache_name(enum vmr_disk_cache c);
const char *vmr_disk_aio_name(enum vmr_disk_aio a);
/* The effective format of a disk (AUTO resolved as documented above). */
enum vmr_disk_format vmr_disk_effective_format(const struct vmr_disk *d);

#endif
