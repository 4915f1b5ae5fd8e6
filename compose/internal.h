/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_COMPOSE_INTERNAL_H
#define VMR_COMPOSE_INTERNAL_H

/*
 * What a guest, prep or host container runs and is granted, shared by the
 * compose.yml and Kubernetes generators so both describe the same
 * containers.  Private to compose/.
 */

#include <stdbool.h>

#include "compose/compose.h"
#include "lib/base/strvec.h"

enum compose_target { COMPOSE_TARGET_COMPOSE, COMPOSE_TARGET_KUBE };

enum compose_mount_type {
	COMPOSE_MOUNT_VOLUME,	/* the guest's disk volume at /vmrun */
	COMPOSE_MOUNT_TOPOLOGY, /* the topology, read-only, at VMR_COMPOSE_TOPOLOGY_PATH */
	COMPOSE_MOUNT_DIR,	/* a host directory; created when missing unless must_exist */
	COMPOSE_MOUNT_FILE,	/* a host file that must exist */
};

struct compose_mount {
	enum compose_mount_type type;
	char *source; /* host path, or the volume name */
	char *target;
	bool read_only;
	bool must_exist;
	const char *kube_volume; /* kube volume name (static); NULL = derived from the position */
};

struct compose_grants {
	struct vmr_strvec caps;		/* added to an empty set (cap_drop ALL) */
	struct vmr_strvec security_opt; /* compose only */
	struct vmr_strvec devices;	/* device nodes passed in */
	struct vmr_strvec cgroup_rules; /* compose device_cgroup_rules */
	struct vmr_strvec env;		/* NAME, value, NAME, value ... */
	bool memlock;			/* unlimited RLIMIT_MEMLOCK (VFIO pins guest RAM) */
	bool sysfs_rw;			/* writes sysfs (vfio-pci binding, SR-IOV) */
	bool privileged;		/* kube: a device needs it (no device cgroup rules there) */
	uint64_t hugepages_2m, hugepages_1g; /* kube: hugepages-2Mi/-1Gi resource limits */
	struct compose_mount *mounts;
	size_t nmounts;
};

struct compose_health {
	unsigned interval, timeout, retries, start_period; /* seconds */
};

extern const struct compose_health compose_guest_health;
extern const struct compose_health compose_host_health;

/* argv of each container (exec form, argv[0] = "vmrun") */
void compose_guest_argv(const struct vmr_guest *g, struct vmr_strvec *ret);
void compose_prep_argv(const struct vmr_guest *g, struct vmr_strvec *ret);
void compose_host_argv(const struct vmr_compose_host *h, struct vmr_strvec *ret);
/* the exporter_HOST service (o->exporter set): its name (caller frees) and argv */
char *compose_exporter_service(const struct vmr_compose_host *h);
void compose_exporter_argv(const struct vmr_compose_opts *o, struct vmr_strvec *ret);
void compose_exporter_grants(const struct vmr_compose_opts *o, struct compose_grants *ret);
/* the orchestrator's restart policy of a guest with `restart:` ("no" without one) */
const char *compose_guest_restart(const struct vmr_guest *g, char buf[static 32]);
/* argv of the health/readiness checks */
void compose_guest_health_argv(const struct vmr_guest *g, struct vmr_strvec *ret);
/* `vmrun health --live GUEST`: its supervisor answers (kube's livenessProbe) */
void compose_guest_live_argv(const struct vmr_guest *g, struct vmr_strvec *ret);
void compose_host_health_argv(const struct vmr_compose_host *h, struct vmr_strvec *ret);

/* o: the topology's directory (compose_guest_needs()) and the state directory */
void compose_guest_grants(const struct vmr_guest *g, enum compose_target target,
			  const struct vmr_compose_opts *o, struct compose_grants *ret);
void compose_prep_grants(const struct vmr_guest *g, enum compose_target target,
			 const struct vmr_compose_opts *o, struct compose_grants *ret);
void compose_host_grants(const struct vmr_compose_host *h, enum compose_target target,
			 const struct vmr_compose_opts *o, struct compose_grants *ret);
/* virt_ctrlif (5gdeploy's name for the ctrlif): nothing but the state directory, read-only */
void compose_ctrlif_grants(const struct vmr_compose_opts *o, struct compose_grants *ret);

/* The state directory of o (VMR_COMPOSE_STATE_DIR unless set). */
const char *compose_state_dir(const struct vmr_compose_opts *o);
void compose_grants_free(struct compose_grants *g);

/* Label key/value pairs (flattened: key, value, key, value ...) */
void compose_guest_labels(const struct vmr_compose_host *h, const struct vmr_guest *g,
			  const char *role, struct vmr_strvec *ret);
void compose_host_labels(const struct vmr_compose_host *h, struct vmr_strvec *ret);

/* 5gdeploy's annotations of vm_NAME (key, value, ...; docs/5gdeploy.md). */
void compose_guest_annotations(const struct vmr_compose_host *h, const struct vmr_guest *g,
			       struct vmr_strvec *ret);
/* 5gdeploy's annotations of virt_ctrlif: the ctrlif's address (key, value, ...). */
void compose_ctrlif_annotations(const struct vmr_topology *t, struct vmr_strvec *ret);

/* Seconds a container may take to stop before it is killed. */
unsigned compose_guest_grace(const struct vmr_guest *g);
unsigned compose_host_grace(void);

/* "vm_NAME": the guest's disk volume (caller frees). */
char *compose_volume_name(const struct vmr_guest *g);

/* Single-quote s for bash (caller frees). */
char *compose_sh_quote(const char *s);

#endif
