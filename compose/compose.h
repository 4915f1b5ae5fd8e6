/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_COMPOSE_H
#define VMR_COMPOSE_H

/*
 * Orchestrator inputs from a topology (docs/compose.md is the user
 * reference): a Docker Compose context (`vmrun compose`: compose.yml,
 * compose.sh, Dockerfile, a copy of the topology) and Kubernetes manifests
 * (`vmrun kube`).  vmrun then runs inside their containers as PID 1.
 *
 * Everything here is pure: the generators read the validated model and fill
 * buffers; the same model and options always give the same bytes, so the
 * outputs are golden-tested.  Only compose_dir_write() touches the
 * filesystem, and only after every file has been generated.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lib/base/buf.h"
#include "lib/base/error.h"
#include "lib/base/netaddr.h"
#include "lib/base/strvec.h"
#include "lib/model/topology.h"

#define VMR_COMPOSE_DEFAULT_IMAGE "vmrun:latest"
/* where the containers see the topology and the guest's volume */
#define VMR_COMPOSE_TOPOLOGY_PATH "/vmrun/topology.yaml"
#define VMR_COMPOSE_VOLUME_PATH "/vmrun"
/* the hosts' default state directory, bind-mounted per guest (docs/state-dir.md) */
#define VMR_COMPOSE_STATE_DIR "/run/vmrun"
/* the container's image_dir (vmrun's default): `image:` root overlays go to IMAGE_DIR/GUEST */
#define VMR_COMPOSE_IMAGE_DIR "/var/lib/vmrun/images"
/* kube: the guests' disk directories on each node (compose uses named volumes) */
#define VMR_COMPOSE_KUBE_VOLUME_DIR "/var/lib/vmrun/volumes"
/* seconds added to a guest's stop_timeout for quit, SIGKILL and teardown */
#define VMR_COMPOSE_TEARDOWN_SECONDS 5
/* the name of the implicit host when the topology has no `hosts:` */
#define VMR_COMPOSE_LOCAL_HOST "local"

struct vmr_compose_opts {
	const char *image;	   /* container image; NULL = VMR_COMPOSE_DEFAULT_IMAGE */
	bool host_binary;	   /* the Dockerfile copies DIR/vmrun instead of building it */
	const char *source;	   /* vmrun source tree for `compose.sh build`; NULL = ask */
	const char *topology_name; /* the input file name shown in headers; NULL = none */
	const char *topology_dir; /* canonical directory of the input: relative paths; NULL = "." */
	const char *state_dir;	  /* the hosts' state directory; NULL = VMR_COMPOSE_STATE_DIR */
	const char *exporter;	  /* ADDR:PORT of an exporter_HOST service per host; NULL: none */
};

/* One physical host and the guests placed on it. */
struct vmr_compose_host {
	char *name;		     /* topology host name, or VMR_COMPOSE_LOCAL_HOST */
	const struct vmr_host *host; /* NULL for the implicit local host */
	char *service;		     /* "host_" + name with '.' and '-' as '_' */
	bool local;		     /* compose.sh talks to the local docker */
	char *docker_host;	     /* "ssh://ADDRESS" for remote hosts, else NULL */
	char *ssh_target;	     /* "ADDRESS" for remote hosts, else NULL */
	bool ctrlif;		     /* `host up` creates vmctrl here */
	bool sriov;		     /* guests here use VFs: `host up` sets up SR-IOV */
	struct vmr_pci_addr *pfs;    /* the PFs of those VFs, sorted */
	unsigned *nvfs;		     /* per PF: how many VFs the guests here use */
	size_t npfs;
	size_t *guests; /* indices into topology->guests, in file order */
	size_t nguests;
};

struct vmr_compose_layout {
	struct vmr_compose_host *hosts; /* the primary (or local) host first, then file order */
	size_t nhosts;
	size_t *guest_host; /* per guest: index into hosts */
};

/*
 * Group the guests by physical host.  Hosts with no guests are kept (they
 * may carry the ctrlif).  Assumes compose_topology_check() passed.
 */
void compose_layout_build(const struct vmr_topology *t, struct vmr_compose_layout *ret);
void compose_layout_free(struct vmr_compose_layout *l);

/* A host file or directory a container sees. */
struct vmr_compose_path {
	char *host;	 /* absolute path on the physical host */
	char *container; /* where the container sees it */
	bool dir;	 /* a directory (created if missing), else a file that must exist */
	bool rw;	 /* written: disks, and directories overlays are created in */
};

/* What a guest's container needs from its host; see docs/compose.md for why. */
struct vmr_compose_needs {
	bool kvm;	   /* accel kvm or auto: /dev/kvm */
	bool tun;	   /* bridge or tap NICs: /dev/net/tun */
	bool macvtap;	   /* MKNOD and a char device cgroup rule for the tap node */
	bool net_admin;	   /* creating, attaching or configuring links */
	bool vfio;	   /* PCI or VF NICs: /dev/vfio, memlock, writable /sys */
	bool root_overlay; /* `image:`: the root overlay goes to IMAGE_DIR/GUEST (the volume) */
	bool guest_dir;	   /* UEFI variables, TPM state: IMAGE_DIR/GUEST too (the volume) */
	bool usb;	   /* USB passthrough: DEV/bus/usb and its character major, 189 */
	uint64_t hugepages_2m, hugepages_1g; /* guest RAM in hugepages: kube's resource limits */
	bool numa;			     /* a host NUMA node: SYS_NICE (mbind under seccomp) */
	struct vmr_compose_path *paths;	     /* sorted by container path, unique */
	size_t npaths;
};

/*
 * What guest g needs.  topology_dir is the canonical directory of the
 * topology file on this machine: relative inputs (kernel, initrd, bases,
 * user_data, read-only disks) are read from there on the host and seen in
 * the container where vmrun resolves them, under VMR_COMPOSE_VOLUME_PATH.
 * Relative writable disks live in the guest's volume and need no mount.
 */
void compose_guest_needs(const struct vmr_guest *g, const char *topology_dir,
			 struct vmr_compose_needs *ret);
void compose_needs_free(struct vmr_compose_needs *n);

/*
 * What compose and kube need beyond the loader's validation (which checks
 * that placed hosts exist, per-host cpuset overlaps, reserved CPUs and PCI
 * devices used twice): every placed host exists (again: the layout relies
 * on it), host names give distinct service names and do not take the local
 * machine's name.  Every problem is appended to diags (FILE:LINE:COL,
 * naming the guest or host and the key).  Returns 0 or -EINVAL.
 */
int compose_topology_check(const struct vmr_topology *t, struct vmr_diags *diags);

/*
 * compose.yml into out.  With annotations, services carry the Compose
 * `annotations` 5gdeploy's netdef-compose --use-vm reads (5gdeploy.vmname,
 * 5gdeploy.ip_NIC, 5gdeploy.mac_NIC, and the `virt_ctrlif` service's
 * 5gdeploy.ip_vmctrl; docs/5gdeploy.md): that is compose.yml, for Compose
 * v2.  Without, the same file for docker-compose 1.29, whose schema
 * refuses the key: compose.v1.yml.  Fails only when the emitter does.
 */
int compose_file_build(const struct vmr_topology *t, const struct vmr_compose_opts *o,
		       bool annotations, struct vmr_buf *out, struct vmr_error **err);

/* compose.sh (bash, shellcheck-clean) into out. */
int compose_script_build(const struct vmr_topology *t, const struct vmr_compose_opts *o,
			 struct vmr_buf *out, struct vmr_error **err);

/* The Dockerfile into out: a build stage from the source tree, or host_binary. */
void compose_dockerfile_build(const struct vmr_compose_opts *o, struct vmr_buf *out);

/* One generated file: name relative to the output directory, contents. */
struct vmr_compose_file {
	char *name;
	struct vmr_buf data;
	unsigned mode;
};

struct vmr_compose_files {
	struct vmr_compose_file *v;
	size_t n, alloc;
};

/* Add a file (name copied, data taken) to files. */
void compose_files_add(struct vmr_compose_files *files, const char *name, struct vmr_buf *data,
		       unsigned mode);
void compose_files_free(struct vmr_compose_files *files);

/*
 * Every file of `vmrun compose`: compose.yml, compose.sh, Dockerfile and
 * topology.yaml (topology_text, the input's bytes).  The host binary copy is
 * not included (compose_dir_write() copies it).
 */
int compose_context_build(const struct vmr_topology *t, const struct vmr_compose_opts *o,
			  const char *topology_text, size_t topology_len,
			  struct vmr_compose_files *ret, struct vmr_error **err);

/*
 * Kubernetes manifests of `vmrun kube`: topology-configmap.yaml,
 * host-setup.yaml (a DaemonSet on the topology's hosts) and
 * pod-NAME.yaml per guest.
 */
int compose_kube_build(const struct vmr_topology *t, const struct vmr_compose_opts *o,
		       const char *topology_text, size_t topology_len,
		       struct vmr_compose_files *ret, struct vmr_error **err);

/*
 * Write files into dir (created if missing, mode 0755), each atomically.
 * When binary is not NULL it is copied to dir/vmrun (mode 0755) first.
 * Nothing is written if dir cannot be created.  Returns 0 or -errno.
 */
int compose_dir_write(const char *dir, const struct vmr_compose_files *files, const char *binary,
		      struct vmr_error **err);

/* The service name of a host: "host_" + name with '.' and '-' as '_' (caller frees). */
char *compose_host_service(const char *host);

/* The guest's address for `compose.sh ssh`: its vmctrl NIC, else its first IPv4 NIC; NULL if none.
 */
const struct vmr_nic *compose_guest_ssh_nic(const struct vmr_guest *g);

#endif
