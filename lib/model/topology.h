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
#include <jansson.h>

#include "lib/base/cpuset.h"
#include "lib/model/diag.h"
#include "lib/base/error.h"
#include "lib/base/netaddr.h"
#include "lib/base/strvec.h"
#include "lib/model/device.h"

#define VMR_TOPOLOGY_MAX_BYTES (256u * 1024u)
#define VMR_GUEST_NAME_MAX 31 /* [a-z][a-z0-9]{0,30} */
#define VMR_NIC_NAME_MAX 15   /* [a-z][a-z0-9]{0,14} */
#define VMR_HOST_NAME_MAX 63  /* [a-z0-9][a-z0-9.-]{0,62} */
#define VMR_GUEST_VCPUS_MAX 1024u
#define VMR_GUEST_MEMORY_MIN (16ull << 20)
#define VMR_DEFAULT_STOP_TIMEOUT 7 /* fits Docker's 10 s grace with teardown */

enum vmr_accel { VMR_ACCEL_AUTO, VMR_ACCEL_KVM, VMR_ACCEL_TCG };

enum vmr_disk_format { VMR_FORMAT_AUTO, VMR_FORMAT_QCOW2, VMR_FORMAT_RAW };
enum vmr_disk_cache {
	VMR_CACHE_DEFAULT, /* QEMU's default (writeback) */
	VMR_CACHE_NONE,
	VMR_CACHE_WRITEBACK,
	VMR_CACHE_WRITETHROUGH,
	VMR_CACHE_DIRECTSYNC,
	VMR_CACHE_UNSAFE,
};
enum vmr_disk_aio { VMR_AIO_DEFAULT, VMR_AIO_THREADS, VMR_AIO_NATIVE, VMR_AIO_IO_URING };

/*
 * A disk: its common keys here, its bus (or cdrom) a device of class
 * VMR_DEVICE_DISK (lib/model/device.h) that puts it on QEMU's command line.
 */
struct vmr_disk {
	struct vmr_pos pos;
	bool cdrom; /* removable read-only media ({cdrom: PATH}: a keyed disk kind) */
	char *file; /* the image (or the ISO for cdrom) */
	enum vmr_disk_format format; /* AUTO: qcow2 with backing or a .qcow2 name, else raw */
	char *backing;		     /* base image: `file` is a qcow2 overlay on it (images/) */
	uint64_t size;		     /* bytes; 0 = keep the image's size */
	enum vmr_disk_cache cache;
	enum vmr_disk_aio aio;
	bool readonly;
	char *bus_name; /* the `bus` key as written (NULL: virtio) */
	struct vmr_device bus;
};

/*
 * A NIC: its common keys here, its attachment (macvtap, bridge, ...) a
 * device of class VMR_DEVICE_NIC that makes the host side and the netdev.
 */
struct vmr_nic {
	struct vmr_pos pos;
	char *name;		/* guest-side name, [a-z][a-z0-9]{0,14} */
	struct vmr_mac mac;	/* always set after loading (derived if omitted) */
	bool mac_given;		/* written in the file (or by define) */
	struct vmr_pos mac_pos; /* the mac key, else the nic */
	bool has_ip;
	struct vmr_cidr ip; /* guest address for cloud-init */
	char *gateway;	    /* optional default route via this NIC */
	unsigned mtu;	    /* 0 = leave as is */
	bool ipv6_auto; /* keep router adverts and link-local (else cloud-init turns them off) */
	struct vmr_device att;
};

struct vmr_cloud_init {
	bool enabled;	 /* a seed is built for this guest */
	bool given;	 /* the key was written (else the seed follows ip and cpu_isolation) */
	char *user_data; /* path of the user's own #cloud-config */
	struct vmr_strvec ssh_authorized_keys;
	bool ssh_keys_given; /* the key was present (even if empty) */
	char *password;	     /* NULL = no password */
	char *hostname;	     /* default: the guest name */
};

/* `ready_when:` what makes the guest ready (healthy) once it runs (docs/topology.md) */
enum vmr_ready_kind {
	VMR_READY_RUNNING,    /* QEMU runs with its vCPUs pinned (the default) */
	VMR_READY_CONSOLE,    /* a console line matches a POSIX extended regex */
	VMR_READY_CLOUD_INIT, /* cloud-init's final message on the console */
	VMR_READY_TCP,	      /* a TCP connection to the guest's address is accepted */
	VMR_READY_AGENT,      /* the QEMU guest agent answers guest-ping */
};

struct vmr_ready {
	enum vmr_ready_kind kind;
	struct vmr_pos pos;
	char *regex;	 /* CONSOLE (CLOUD_INIT: VMR_READY_CLOUD_INIT_REGEX) */
	char *address;	 /* TCP: the guest's address (given, or its first NIC's ip) */
	unsigned port;	 /* TCP */
	bool addr_given; /* TCP: written as ADDRESS:PORT */
};

/* cloud-init's final_message as its default config writes it to the console */
#define VMR_READY_CLOUD_INIT_REGEX "Cloud-init v\\. .* finished at "

/* `restart:` what the supervisor does when the guest ends (Docker's policies) */
enum vmr_restart {
	VMR_RESTART_NO,
	VMR_RESTART_ON_FAILURE,
	VMR_RESTART_ALWAYS,
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
	struct vmr_device *devices;  /* guest keys that add a device (rng: true), in kind order */
	size_t ndevices;
	struct vmr_ready ready; /* ready_when */
	enum vmr_restart restart;
	unsigned restart_max; /* on-failure:N: at most N restarts in a row; 0: no limit */
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
	char *file;				   /* as given to the loader */
	const struct vmr_device_ops *const *kinds; /* the device kinds it was loaded with */
	unsigned version;
	struct vmr_host *hosts;
	size_t nhosts;
	struct vmr_ctrlif ctrlif;
	struct vmr_guest *guests;
	size_t nguests;
};

/*
 * Load and validate a topology file with the device kinds (a NULL-
 * terminated list, lib/devices/registry.c's vmr_device_kinds(): the
 * loader knows no kind by name).  On success returns 0 and a new model in
 * *ret (free with vmr_topology_free()).  On invalid input returns -EINVAL
 * and appends every problem found to diags (each with file, line,
 * column); on I/O failure returns -errno with one diag naming the file.
 * Files above VMR_TOPOLOGY_MAX_BYTES are refused before parsing.
 */
int vmr_topology_load(const char *path, const struct vmr_device_ops *const *kinds,
		      struct vmr_topology **ret, struct vmr_diags *diags);

/* Same from memory; name is used in diagnostics. */
int vmr_topology_load_buffer(const char *name, const char *data, size_t len,
			     const struct vmr_device_ops *const *kinds, struct vmr_topology **ret,
			     struct vmr_diags *diags);

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
const char *vmr_restart_name(enum vmr_restart r);
/* ready_when as written: "running", "console: REGEX", "tcp: ADDR:PORT"...; caller frees */
char *vmr_ready_text(const struct vmr_ready *r);
/* Whether g has a guest-agent channel (a device kind with guest_agent set). */
bool vmr_guest_has_agent(const struct vmr_guest *g);
const char *vmr_disk_cache_name(enum vmr_disk_cache c);
const char *vmr_disk_aio_name(enum vmr_disk_aio a);
/* The effective format of a disk (AUTO resolved as documented above). */
enum vmr_disk_format vmr_disk_effective_format(const struct vmr_disk *d);

/*
 * What the guest sees as hardware, as JSON: its keys marked VMR_KEY_HW,
 * its disks', NICs' and devices' (lib/model/keys.h).  The cloud-init
 * instance-id hashes it, so a new key marked VMR_KEY_HW changes the id
 * without anything else to update.  Caller owns the reference.
 */
json_t *vmr_guest_hw_json(const struct vmr_guest *g);

/* The host a guest runs on: its `host`, else the primary host's name, else NULL. */
const char *vmr_guest_host(const struct vmr_topology *t, const struct vmr_guest *g);

#endif
