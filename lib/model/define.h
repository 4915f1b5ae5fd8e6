/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_DEFINE_H
#define VMR_DEFINE_H

/*
 * 5gdeploy's `virt --vm=... --ctrlif=...` syntax turned into a topology
 * (docs/5gdeploy.md).  Two steps, both pure (no host access):
 *
 *   vmr_define_build()  flags -> struct vmr_define, with the addresses
 *                       5gdeploy would give: each guest netif name owns a
 *                       /24 of the ip-space (vmctrl first, the second
 *                       reserved for 5gdeploy's vmbuild, the others by first
 *                       appearance); host part .1 is the ctrlif, .2 reserved,
 *                       guests .3, .4, ... in flag order.
 *   vmr_define_emit()   struct vmr_define -> topology YAML (lib/yamlout.h).
 *
 * Unlike 5gdeploy, everything doubtful is rejected with a usage error that
 * names the flag (its 1-based index and value) and the offending token.
 */

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

#include "lib/base/buf.h"
#include "lib/base/cpuset.h"
#include "lib/base/error.h"
#include "lib/base/netaddr.h"
#include "lib/base/strvec.h"
#include "lib/model/topology.h"

#define VMR_DEFINE_IP_SPACE "172.25.160.0/20"
#define VMR_DEFINE_MIN_SPACE_PREFIX 20 /* 5gdeploy: "/20 or larger" */
#define VMR_DEFINE_CTRLIF_OCTET 1      /* virt_ctrlif */
#define VMR_DEFINE_FIRST_GUEST_OCTET 3 /* .2 is 5gdeploy's virt_base */
#define VMR_DEFINE_LAST_GUEST_OCTET 254
#define VMR_DEFINE_RESERVED_NET "vmbuild" /* the second /24 */
#define VMR_DEFINE_CTRL_NET "vmctrl"	  /* the first /24, required in every guest */

#define VMR_DEFINE_IMAGE_NAME "debian-12.qcow2" /* under the configured image_dir */

/* Guest settings written under `defaults:` (borrowed strings). */
struct vmr_define_defaults {
	const char *memory; /* "4G" (5gdeploy's fixed 4096 MiB) */
	const char *cpu;    /* NULL: "host,-vmx,-svm", or "max,-vmx,-svm" with accel tcg */
	const char *accel;  /* "auto", "kvm" or "tcg" */
	const char *image;  /* base image of every guest's root disk; NULL = omitted */
	bool cpu_isolation; /* 5gdeploy's guest CPU isolation (true) */
};

/* The command line, as given.  Strings are borrowed. */
struct vmr_define_opts {
	const char *const *vms; /* each --vm value, in order */
	size_t nvms;
	const char *ctrlif;   /* --ctrlif: MAC or ifname (required) */
	const char *ip_space; /* --ip-space; NULL = VMR_DEFINE_IP_SPACE */
	struct vmr_define_defaults defaults;
	const char *const *ssh_keys; /* authorized_keys lines for every guest */
	size_t nssh_keys;
};

/* The attachments 5gdeploy's netifs become. */
enum vmr_define_kind { VMR_DEFINE_MACVTAP, VMR_DEFINE_PCI, VMR_DEFINE_VF };

/* One guest netif: `name@MAC`, `name@IFNAME`, `name@MAC+pci=PCI`, `name@VF+pci=PF`. */
struct vmr_define_nic {
	char *name;		   /* lowercased guest netif name */
	enum vmr_define_kind kind; /* the attachment define writes */
	char *parent;		   /* MACVTAP: ifname, or MAC in lowercase canonical form */
	struct vmr_pci_addr pci;   /* PCI: the device; VF: the PF */
	struct vmr_mac mac;	   /* guest MAC: ip2mac, or the host MAC for PCI */
	struct in_addr ip;	   /* guest address, prefix /24 */
	size_t net;		   /* index into vmr_define.networks */
};

struct vmr_define_guest {
	size_t flag; /* 1-based index of its --vm flag */
	char *name;
	char *host; /* NULL = the primary host */
	struct vmr_cpuset cpuset;
	unsigned octet; /* host part of every address of this guest */
	struct vmr_define_nic *nics;
	size_t nnics;
};

struct vmr_define {
	struct in_addr space; /* network address of the ip-space */
	unsigned space_prefix;
	char *ctrlif;		    /* ifname, or MAC in lowercase canonical form */
	struct in_addr ctrlif_ip;   /* .1 of the vmctrl /24 */
	struct vmr_strvec networks; /* networks.v[i] owns the /24 at space + i*256 */
	struct vmr_strvec hosts;    /* distinct placement hosts, first appearance */
	struct vmr_define_guest *guests;
	size_t nguests;
	/* the checked defaults, owned; cpu resolved, image may be NULL */
	char *memory, *cpu, *accel, *image;
	bool cpu_isolation;
	struct vmr_strvec ssh_keys; /* defaults.cloud_init.ssh_authorized_keys */
};

/*
 * Fill d with the settings matching 5gdeploy's guests: memory 4G, accel
 * auto, cpu isolation on, cpu and image NULL.
 */
void vmr_define_defaults_init(struct vmr_define_defaults *d);

/*
 * Append the public keys of an authorized_keys-style text (what
 * ~/.ssh/id_ed25519.pub holds, the key 5gdeploy puts in its guests) to
 * keys, skipping blank and '#' lines.  source names the text in errors
 * ("--ssh-key '~/.ssh/id_ed25519.pub'").  Returns the number of keys
 * added, or -EINVAL with a usage error when a line is not an OpenSSH
 * public key or there is none.
 */
int vmr_define_ssh_keys_parse(const char *text, const char *source, struct vmr_strvec *keys,
			      struct vmr_error **err);

/*
 * Parse and check every flag and allocate addresses.  On success returns 0
 * and a new struct in *ret (free with vmr_define_free()).  Invalid input
 * returns -EINVAL with a usage-status error naming the flag and token,
 * e.g. "--vm #2 'a | (1) | vmctrl@eth1,n6@eth2,n6@eth3': duplicate netif
 * 'n6' in guest 'a'".
 */
int vmr_define_build(const struct vmr_define_opts *opts, struct vmr_define **ret,
		     struct vmr_error **err);

/*
 * Append the topology YAML (format of docs/topology.md) to out, written
 * with lib/yamlout.h and its quoting rule.  Returns 0, or -EINVAL with
 * *err "generate the topology: PROBLEM" if the emitter fails (for a d
 * vmr_define_build() made, it does not).
 */
int vmr_define_emit(const struct vmr_define *d, struct vmr_buf *out, struct vmr_error **err);

/* Free d and everything it owns; NULL is fine. */
void vmr_define_free(struct vmr_define *d);

/* Lookups for callers and tests; NULL when absent. */
const struct vmr_define_guest *vmr_define_guest(const struct vmr_define *d, const char *name);
const struct vmr_define_nic *vmr_define_guest_nic(const struct vmr_define_guest *g,
						  const char *name);

#endif
