/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The containers of a compose context or a set of pods: what each runs,
 * what it is granted and how it is labelled.  The grants are the least
 * that works; docs/compose.md gives the reason for each.
 */
#include <stdio.h>

#include "compose/internal.h"
#include "lib/base/netaddr.h"
#include "lib/base/util.h"

const struct compose_health compose_guest_health = {
    .interval = 5,
    .timeout = 5,
    .retries = 3,
    .start_period = 60,
};
const struct compose_health compose_host_health = {
    .interval = 3,
    .timeout = 5,
    .retries = 3,
    .start_period = 30,
};

char *compose_volume_name(const struct vmr_guest *g)
{
	return xasprintf("vm_%s", g->name);
}

unsigned compose_guest_grace(const struct vmr_guest *g)
{
	unsigned stop = g->stop_timeout ? g->stop_timeout : VMR_DEFAULT_STOP_TIMEOUT;

	return stop + VMR_COMPOSE_TEARDOWN_SECONDS;
}

unsigned compose_host_grace(void)
{
	/* host down only replays a journal: links, sysfs writes */
	return 10;
}

void compose_guest_argv(const struct vmr_guest *g, struct vmr_strvec *ret)
{
	const char *argv[] = {"vmrun", "run", VMR_COMPOSE_TOPOLOGY_PATH, g->name, NULL};
	const char *norestart[] = {"vmrun", "run", "--no-restart", VMR_COMPOSE_TOPOLOGY_PATH,
				   g->name, NULL};

	/* the orchestrator restarts the container: vmrun must not restart inside it too */
	vmr_strvec_pushv(ret, g->restart != VMR_RESTART_NO ? norestart : argv);
}

const char *compose_guest_restart(const struct vmr_guest *g, char buf[static 32])
{
	if (g->restart == VMR_RESTART_ON_FAILURE && g->restart_max) {
		snprintf(buf, 32, "on-failure:%u", g->restart_max);
		return buf;
	}
	return vmr_restart_name(g->restart);
}

char *compose_exporter_service(const struct vmr_compose_host *h)
{
	/* host_NAME -> exporter_NAME */
	return xasprintf("exporter_%s", h->service + strlen("host_"));
}

void compose_exporter_argv(const struct vmr_compose_opts *o, struct vmr_strvec *ret)
{
	const char *argv[] = {"vmrun", "exporter", "--listen", o->exporter, NULL};

	vmr_strvec_pushv(ret, argv);
}

void compose_prep_argv(const struct vmr_guest *g, struct vmr_strvec *ret)
{
	const char *argv[] = {"vmrun", "image", "prep", VMR_COMPOSE_TOPOLOGY_PATH, g->name, NULL};

	vmr_strvec_pushv(ret, argv);
}

void compose_host_argv(const struct vmr_compose_host *h, struct vmr_strvec *ret)
{
	const char *argv[] = {"vmrun", "host", "up", "--foreground", VMR_COMPOSE_TOPOLOGY_PATH,
			      NULL};

	vmr_strvec_pushv(ret, argv);
	/* the implicit local host is `host up`'s default (no name) */
	if (h->host)
		vmr_strvec_push(ret, h->name);
}

void compose_guest_health_argv(const struct vmr_guest *g, struct vmr_strvec *ret)
{
	const char *argv[] = {"vmrun", "health", g->name, NULL};

	vmr_strvec_pushv(ret, argv);
}

void compose_host_health_argv(const struct vmr_compose_host *h, struct vmr_strvec *ret)
{
	const char *argv[] = {"vmrun", "health", "--host", NULL};

	vmr_strvec_pushv(ret, argv);
	if (h->host)
		vmr_strvec_push(ret, h->name);
}

static void mount_add(struct compose_grants *g, enum compose_mount_type type, const char *source,
		      const char *target, bool read_only, bool must_exist)
{
	g->mounts = xrealloc(g->mounts, (g->nmounts + 1) * sizeof(*g->mounts));
	g->mounts[g->nmounts++] = (struct compose_mount){
	    .type = type,
	    .source = xstrdup(source),
	    .target = xstrdup(target),
	    .read_only = read_only,
	    .must_exist = must_exist,
	};
}

const char *compose_state_dir(const struct vmr_compose_opts *o)
{
	return o->state_dir ? o->state_dir : VMR_COMPOSE_STATE_DIR;
}

/* The containers' vmrun must use the state directory the host side mounts. */
static void state_env(const struct vmr_compose_opts *o, struct compose_grants *r)
{
	if (!o->state_dir || streq(o->state_dir, VMR_COMPOSE_STATE_DIR))
		return;
	vmr_strvec_push(&r->env, "VMRUN_STATE_DIR");
	vmr_strvec_push(&r->env, o->state_dir);
}

/*
 * The exporter reads the state directory (the supervisors' control sockets;
 * connecting needs no write access) and nothing else: no capability, no
 * device; the host's network namespace for the NICs' counters.
 */
void compose_exporter_grants(const struct vmr_compose_opts *o, struct compose_grants *ret)
{
	vmr_strvec_push(&ret->security_opt, "no-new-privileges:true");
	mount_add(ret, COMPOSE_MOUNT_DIR, compose_state_dir(o), compose_state_dir(o), true, false);
	state_env(o, ret);
}

/* The volume, the topology, the guest's state directory and the files it names. */
static void guest_mounts(const struct vmr_guest *g, const struct vmr_compose_opts *o,
			 const struct vmr_compose_needs *n, struct compose_grants *ret)
{
	_cleanup_free_ char *vol = compose_volume_name(g);
	_cleanup_free_ char *state = xasprintf("%s/%s", compose_state_dir(o), g->name);

	mount_add(ret, COMPOSE_MOUNT_VOLUME, vol, VMR_COMPOSE_VOLUME_PATH, false, false);
	if (n->root_overlay || n->guest_dir) {
		_cleanup_free_ char *root = xasprintf("%s/%s", VMR_COMPOSE_IMAGE_DIR, g->name);

		/*
		 * `image:` puts the root overlay in IMAGE_DIR/GUEST, UEFI and
		 * the TPM their state: keep it in the volume too
		 */
		mount_add(ret, COMPOSE_MOUNT_VOLUME, vol, root, false, false);
	}
	mount_add(ret, COMPOSE_MOUNT_TOPOLOGY, "topology.yaml", VMR_COMPOSE_TOPOLOGY_PATH, true,
		  true);
	/*
	 * The host's state directory, so the undo journal outlives the
	 * container (a macvtap outlives a SIGKILLed container too) and
	 * `vmrun console` / `vmrun ps` work from the host.
	 */
	mount_add(ret, COMPOSE_MOUNT_DIR, state, state, false, false);
	state_env(o, ret);
	for (size_t i = 0; i < n->npaths; i++) {
		const struct vmr_compose_path *p = &n->paths[i];

		mount_add(ret, p->dir ? COMPOSE_MOUNT_DIR : COMPOSE_MOUNT_FILE, p->host,
			  p->container, !p->rw, !p->dir);
	}
}

void compose_guest_grants(const struct vmr_guest *g, enum compose_target target,
			  const struct vmr_compose_opts *o, struct compose_grants *ret)
{
	struct vmr_compose_needs n;
	struct compose_grants r = {0};

	compose_guest_needs(g, o->topology_dir, &n);
	if (n.net_admin)
		vmr_strvec_push(&r.caps, "NET_ADMIN");
	if (n.macvtap)
		vmr_strvec_push(&r.caps, "MKNOD");
	/* QEMU's mbind for `memory: {numa_node}`: Docker's seccomp profile allows it with this */
	if (n.numa)
		vmr_strvec_push(&r.caps, "SYS_NICE");
	r.hugepages_2m = n.hugepages_2m;
	r.hugepages_1g = n.hugepages_1g;
	vmr_strvec_push(&r.security_opt, "no-new-privileges:true");
	if (n.vfio)
		vmr_strvec_push(&r.security_opt, "apparmor:unconfined");
	if (n.kvm)
		vmr_strvec_push(&r.devices, "/dev/kvm");
	if (n.tun)
		vmr_strvec_push(&r.devices, "/dev/net/tun");
	/*
	 * No /dev/vhost-net: Docker refuses to start a container whose device
	 * is missing, and hosts without vhost_net are common, while vmrun
	 * falls back to the plain tap data path without it.
	 */
	/*
	 * The macvtap and VFIO group character devices get their major
	 * number when the module loads, so no fixed rule can name them.
	 */
	if (n.macvtap || n.vfio)
		vmr_strvec_push(&r.cgroup_rules, "c *:* rwm");
	else if (n.usb)
		/* usbfs nodes: major 189 (usb_device), minors by bus and address */
		vmr_strvec_push(&r.cgroup_rules, "c 189:* rwm");
	r.memlock = n.vfio;
	r.sysfs_rw = n.vfio;
	if (target == COMPOSE_TARGET_KUBE) {
		/* pods have no ulimits: the capability lifts the memlock limit instead */
		if (n.vfio)
			vmr_strvec_push(&r.caps, "IPC_LOCK");
		/*
		 * Kubernetes has no device cgroup rules: a hostPath device
		 * node other than /dev/net/tun (in the runtime's default
		 * allow-list) cannot be opened unless the pod is privileged.
		 */
		r.privileged = n.kvm || n.macvtap || n.vfio || n.usb;
	}
	/*
	 * vmrun empties QEMU's bounding set before exec (docs/security.md),
	 * which takes CAP_SETPCAP whenever there is something to drop.
	 */
	if (r.caps.n)
		vmr_strvec_push(&r.caps, "SETPCAP");
	guest_mounts(g, o, &n, &r);
	if (n.vfio) {
		mount_add(&r, COMPOSE_MOUNT_DIR, "/dev/vfio", "/dev/vfio", false, true);
		mount_add(&r, COMPOSE_MOUNT_DIR, "/sys", "/sys", false, true);
	}
	/* a device's node is named by its bus and address, which change on replugging */
	if (n.usb)
		mount_add(&r, COMPOSE_MOUNT_DIR, "/dev/bus/usb", "/dev/bus/usb", false, true);
	compose_needs_free(&n);
	*ret = r;
}

void compose_prep_grants(const struct vmr_guest *g, enum compose_target target,
			 const struct vmr_compose_opts *o, struct compose_grants *ret)
{
	struct vmr_compose_needs n;
	struct compose_grants r = {0};

	compose_guest_needs(g, o->topology_dir, &n);
	vmr_strvec_push(&r.security_opt, "no-new-privileges:true");
	guest_mounts(g, o, &n, &r);
	compose_needs_free(&n);
	(void)target;
	*ret = r;
}

void compose_host_grants(const struct vmr_compose_host *h, enum compose_target target,
			 const struct vmr_compose_opts *o, struct compose_grants *ret)
{
	struct compose_grants r = {0};

	vmr_strvec_push(&r.caps, "NET_ADMIN");
	vmr_strvec_push(&r.security_opt, "no-new-privileges:true");
	if (h->sriov)
		vmr_strvec_push(&r.security_opt, "apparmor:unconfined");
	r.sysfs_rw = h->sriov;
	mount_add(&r, COMPOSE_MOUNT_TOPOLOGY, "topology.yaml", VMR_COMPOSE_TOPOLOGY_PATH, true,
		  true);
	/* the journal of `host up` must outlive the container, like a guest's */
	mount_add(&r, COMPOSE_MOUNT_DIR, compose_state_dir(o), compose_state_dir(o), false, false);
	state_env(o, &r);
	if (h->sriov)
		mount_add(&r, COMPOSE_MOUNT_DIR, "/sys", "/sys", false, true);
	(void)target;
	*ret = r;
}

void compose_ctrlif_grants(const struct vmr_compose_opts *o, struct compose_grants *ret)
{
	struct compose_grants r = {0};

	vmr_strvec_push(&r.security_opt, "no-new-privileges:true");
	/* `vmrun health --host` only looks for STATE/host-HOST/ready */
	mount_add(&r, COMPOSE_MOUNT_DIR, compose_state_dir(o), compose_state_dir(o), true, false);
	state_env(o, &r);
	*ret = r;
}

void compose_grants_free(struct compose_grants *g)
{
	if (!g)
		return;
	vmr_strvec_clear(&g->caps);
	vmr_strvec_clear(&g->security_opt);
	vmr_strvec_clear(&g->devices);
	vmr_strvec_clear(&g->cgroup_rules);
	vmr_strvec_clear(&g->env);
	for (size_t i = 0; i < g->nmounts; i++) {
		free(g->mounts[i].source);
		free(g->mounts[i].target);
	}
	free(g->mounts);
	*g = (struct compose_grants){0};
}

static void label(struct vmr_strvec *kv, const char *key, const char *value)
{
	vmr_strvec_push(kv, key);
	vmr_strvec_push(kv, value);
}

void compose_guest_labels(const struct vmr_compose_host *h, const struct vmr_guest *g,
			  const char *role, struct vmr_strvec *ret)
{
	label(ret, "vmrun.role", role);
	label(ret, "vmrun.host", h->name);
	label(ret, "vmrun.guest", g->name);
	if (g->has_cpuset) {
		_cleanup_free_ char *cs = vmr_cpuset_format(&g->cpuset);

		label(ret, "vmrun.cpuset", cs);
	}
	for (size_t i = 0; i < g->nnics; i++) {
		const struct vmr_nic *nic = &g->nics[i];
		char mac[18], ip[64];

		vmr_strvec_pushf(ret, "vmrun.mac.%s", nic->name);
		vmr_strvec_push(ret, vmr_mac_format(&nic->mac, mac));
		if (nic->has_ip) {
			vmr_strvec_pushf(ret, "vmrun.ip.%s", nic->name);
			vmr_strvec_push(ret, vmr_cidr_format(&nic->ip, ip));
		}
	}
}

/*
 * 5gdeploy writes every value as a string and addresses as bare IPv4
 * (virt/context.ts); netdef-compose's --use-vm turns 5gdeploy.ip_vmctrl
 * into the ssh URI root@ADDRESS and derives a missing 5gdeploy.mac_NIC from
 * the address (ip2mac), which vmrun's own MACs need not follow: every
 * known MAC is written.
 */
void compose_guest_annotations(const struct vmr_compose_host *h, const struct vmr_guest *g,
			       struct vmr_strvec *ret)
{
	bool vmctrl = false;

	for (size_t i = 0; i < g->nnics; i++)
		if (streq(g->nics[i].name, "vmctrl") && g->nics[i].has_ip &&
		    g->nics[i].ip.family == AF_INET)
			vmctrl = true;
	/*
	 * netdef-compose aborts (`netif ...:vmctrl missing`) on any vmname
	 * service without ip_vmctrl: a guest without a vmctrl IPv4 address is
	 * no --place target (5gdeploy reaches guests as root@VMCTRL), yet its
	 * netifs still resolve in bridges (those look up vm_NAME by key).
	 */
	if (vmctrl)
		label(ret, "5gdeploy.vmname", g->name);
	/* 5gdeploy's physical host: "" is the primary one */
	label(ret, "5gdeploy.host", h->local || !h->ssh_target ? "" : h->ssh_target);
	vmr_strvec_push(ret, "5gdeploy.cpus");
	vmr_strvec_pushf(ret, "%u", g->vcpus ? g->vcpus : 1);
	for (size_t i = 0; i < g->nnics; i++) {
		const struct vmr_nic *nic = &g->nics[i];
		char mac[18], ip[64];

		if (nic->has_ip && nic->ip.family == AF_INET) {
			vmr_strvec_pushf(ret, "5gdeploy.ip_%s", nic->name);
			vmr_strvec_push(ret, vmr_addr_format(&nic->ip, ip));
		}
		/* a passed-through device without `mac:` keeps a MAC nobody knows yet */
		if (!(nic->att.ops && nic->att.ops->mac_from_device) || nic->mac_given) {
			vmr_strvec_pushf(ret, "5gdeploy.mac_%s", nic->name);
			vmr_strvec_push(ret, vmr_mac_format(&nic->mac, mac));
		}
	}
}

void compose_ctrlif_annotations(const struct vmr_topology *t, struct vmr_strvec *ret)
{
	char ip[64];

	label(ret, "5gdeploy.host", "");
	if (t->ctrlif.present && t->ctrlif.address.family == AF_INET)
		label(ret, "5gdeploy.ip_vmctrl", vmr_addr_format(&t->ctrlif.address, ip));
}

void compose_host_labels(const struct vmr_compose_host *h, struct vmr_strvec *ret)
{
	label(ret, "vmrun.role", "host");
	label(ret, "vmrun.host", h->name);
	if (h->ctrlif)
		label(ret, "vmrun.ctrlif", "true");
	/* what `host up` will ask of each PF; it checks sriov_totalvfs on the host */
	for (size_t i = 0; i < h->npfs; i++) {
		char pci[13];

		vmr_strvec_pushf(ret, "vmrun.vfs.%s", vmr_pci_format(&h->pfs[i], pci));
		vmr_strvec_pushf(ret, "%u", h->nvfs[i]);
	}
}

char *compose_sh_quote(const char *s)
{
	struct vmr_buf b = VMR_BUF_INIT;

	vmr_buf_addc(&b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			vmr_buf_adds(&b, "'\\''");
		else
			vmr_buf_addc(&b, *s);
	}
	vmr_buf_addc(&b, '\'');
	return vmr_buf_detach(&b);
}
