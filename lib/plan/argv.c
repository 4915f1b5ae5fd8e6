/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QEMU command line builder: plan -> argv.  Pure: no syscalls, no
 * environment, no clock, so the same plan always yields the same argv and
 * golden tests (tests/argv/) can compare it byte for byte.
 *
 * -blockdev and -device values are JSON objects (as libvirt builds them),
 * so image paths with commas need no escaping and the same objects could be
 * sent with blockdev-add/device_add.  -netdev, -chardev and friends use
 * key=value: their values are ids and numbers vmrun generates.
 * docs/qemu-argv.md explains every argument.
 */
#include <jansson.h>
#include <stdio.h>

#include "lib/base/buf.h"
#include "lib/base/netaddr.h"
#include "lib/plan/plan.h"
#include "lib/base/util.h"

#define Q35_AHCI_PORTS 6 /* ich9-ahci: buses ide.0 .. ide.5, one unit each */
#define PIIX_IDE_SLOTS 4 /* piix: ide.0 and ide.1, two units each */

enum ide_kind { IDE_NONE, IDE_AHCI, IDE_PIIX };

struct builder {
	const struct vmr_plan *p;
	struct vmr_strvec *out;
	enum ide_kind ide;
	unsigned ide_next;  /* next free IDE slot */
	bool scsi_added;    /* the virtio-scsi controller is on the command line */
	unsigned scsi_next; /* next free scsi-id on it */
	bool boot_set;	    /* a device carries bootindex 1 */
};

static void push_json(struct builder *b, const char *opt, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	if (!s)
		abort(); /* only on allocation failure */
	json_decref(obj);
	vmr_strvec_push(b->out, opt);
	vmr_strvec_push_take(b->out, s);
}

static void push2(struct builder *b, const char *opt, const char *val)
{
	vmr_strvec_push(b->out, opt);
	vmr_strvec_push(b->out, val);
}

/* The machine type is the first comma-separated item of `machine`. */
static enum ide_kind machine_ide(const char *machine)
{
	size_t n = strcspn(machine, ",");

	if ((n == 3 && startswith(machine, "q35")) || startswith(machine, "pc-q35-"))
		return IDE_AHCI;
	if ((n == 2 && startswith(machine, "pc")) || startswith(machine, "pc-i440fx-") ||
	    (n > 3 && startswith(machine, "pc-") && !startswith(machine, "pc-q35")))
		return IDE_PIIX;
	return IDE_NONE;
}

static const char *guest_machine(const struct vmr_guest *g)
{
	return g->machine ? g->machine : "q35";
}

/* Fill bus (and unit) of an IDE device; fails when the machine has no free slot. */
static int ide_attach(struct builder *b, json_t *dev, const char *what, struct vmr_error **err)
{
	const char *guest = b->p->guest->name;
	unsigned slot = b->ide_next;
	char bus[16];

	switch (b->ide) {
	case IDE_AHCI:
		if (slot >= Q35_AHCI_PORTS)
			return vmr_error_usage(err,
					       "%s of guest '%s': more than %d ide devices "
					       "(disks with bus ide, cdroms, the seed)",
					       what, guest, Q35_AHCI_PORTS);
		snprintf(bus, sizeof(bus), "ide.%u", slot);
		json_object_set_new(dev, "bus", json_string(bus));
		break;
	case IDE_PIIX:
		if (slot >= PIIX_IDE_SLOTS)
			return vmr_error_usage(err,
					       "%s of guest '%s': more than %d ide devices "
					       "(disks with bus ide, cdroms, the seed)",
					       what, guest, PIIX_IDE_SLOTS);
		snprintf(bus, sizeof(bus), "ide.%u", slot / 2);
		json_object_set_new(dev, "bus", json_string(bus));
		json_object_set_new(dev, "unit", json_integer(slot % 2));
		break;
	case IDE_NONE:
		return vmr_error_usage(err,
				       "%s of guest '%s': bus 'ide' needs a q35 or pc "
				       "machine, not '%s'",
				       what, guest, guest_machine(b->p->guest));
	}
	b->ide_next++;
	return 0;
}

static void scsi_attach(struct builder *b, json_t *dev)
{
	if (!b->scsi_added) {
		json_t *ctl = json_object();

		json_object_set_new(ctl, "driver", json_string("virtio-scsi-pci"));
		json_object_set_new(ctl, "id", json_string("scsi0"));
		push_json(b, "-device", ctl);
		b->scsi_added = true;
	}
	json_object_set_new(dev, "bus", json_string("scsi0.0"));
	json_object_set_new(dev, "channel", json_integer(0));
	json_object_set_new(dev, "scsi-id", json_integer(b->scsi_next++));
	json_object_set_new(dev, "lun", json_integer(0));
}

/*
 * QEMU's -drive cache modes split over the two layers -blockdev separates
 * (qemu-options.hx, "cache" table): the host page cache and flushes are
 * node options, the guest-visible write cache is a device property.
 */
struct cache_flags {
	bool direct, no_flush, writeback;
};

static bool cache_flags(enum vmr_disk_cache c, struct cache_flags *ret)
{
	switch (c) {
	case VMR_CACHE_DEFAULT:
		return false;
	case VMR_CACHE_NONE:
		*ret = (struct cache_flags){.direct = true, .writeback = true};
		return true;
	case VMR_CACHE_WRITEBACK:
		*ret = (struct cache_flags){.writeback = true};
		return true;
	case VMR_CACHE_WRITETHROUGH:
		*ret = (struct cache_flags){0};
		return true;
	case VMR_CACHE_DIRECTSYNC:
		*ret = (struct cache_flags){.direct = true};
		return true;
	case VMR_CACHE_UNSAFE:
		*ret = (struct cache_flags){.writeback = true, .no_flush = true};
		return true;
	}
	return false;
}

static const char *aio_name(enum vmr_disk_aio a)
{
	switch (a) {
	case VMR_AIO_THREADS:
		return "threads";
	case VMR_AIO_NATIVE:
		return "native";
	case VMR_AIO_IO_URING:
		return "io_uring";
	case VMR_AIO_DEFAULT:
		break;
	}
	return NULL;
}

/*
 * Emit the protocol node "<id>-file" and the format node "<id>" for one
 * image.  Named nodes (not a nested "file" object) so QMP block commands
 * can address either layer.
 */
static void push_blockdev(struct builder *b, const char *id, const char *path, const char *format,
			  bool readonly, const struct cache_flags *cache, enum vmr_disk_aio aio)
{
	_cleanup_free_ char *file_id = xasprintf("%s-file", id);
	json_t *file = json_object(), *fmt = json_object();
	const char *aio_s = aio_name(aio);

	json_object_set_new(file, "driver", json_string("file"));
	json_object_set_new(file, "filename", json_string(path));
	json_object_set_new(file, "node-name", json_string(file_id));
	if (aio_s)
		json_object_set_new(file, "aio", json_string(aio_s));
	json_object_set_new(fmt, "driver", json_string(format));
	json_object_set_new(fmt, "file", json_string(file_id));
	json_object_set_new(fmt, "node-name", json_string(id));
	/* both layers: an explicit file node does not inherit from its parent */
	for (int i = 0; i < 2; i++) {
		json_t *o = i ? fmt : file;

		if (readonly)
			json_object_set_new(o, "read-only", json_true());
		if (cache)
			json_object_set_new(o, "cache",
					    json_pack("{s:b,s:b}", "direct", cache->direct,
						      "no-flush", cache->no_flush));
	}
	push_json(b, "-blockdev", file);
	push_json(b, "-blockdev", fmt);
}

static void set_boot(struct builder *b, json_t *dev)
{
	/* with -kernel the firmware boots no disk; otherwise the first listed one */
	if (b->boot_set || b->p->guest->kernel)
		return;
	json_object_set_new(dev, "bootindex", json_integer(1));
	b->boot_set = true;
}

/*
 * A read-only CD-ROM: ide-cd where the machine has IDE (installer ISOs
 * need no virtio driver), else, or when scsi is set, scsi-cd.
 */
static int push_cdrom(struct builder *b, const char *id, const char *path, bool scsi,
		      const char *what, struct vmr_error **err)
{
	json_t *dev;

	push_blockdev(b, id, path, "raw", true, NULL, VMR_AIO_DEFAULT);
	dev = json_object();
	if (b->ide != IDE_NONE && !scsi) {
		json_object_set_new(dev, "driver", json_string("ide-cd"));
		if (ide_attach(b, dev, what, err) < 0) {
			json_decref(dev);
			return -1;
		}
	} else {
		json_object_set_new(dev, "driver", json_string("scsi-cd"));
		scsi_attach(b, dev);
	}
	json_object_set_new(dev, "drive", json_string(id));
	json_object_set_new(dev, "id", json_string(id));
	set_boot(b, dev);
	push_json(b, "-device", dev);
	return 0;
}

static int push_disk(struct builder *b, size_t idx, const struct vmr_disk *d,
		     struct vmr_error **err)
{
	const struct vmr_guest *g = b->p->guest;
	_cleanup_free_ char *path = vmr_plan_path(b->p, d->file);
	_cleanup_free_ char *what = xasprintf("disk '%s'", d->file);
	struct cache_flags cache;
	bool has_cache = cache_flags(d->cache, &cache);
	char id[32];
	const char *driver = NULL;
	json_t *dev;

	snprintf(id, sizeof(id), "disk%zu", idx);
	if (d->cdrom)
		return push_cdrom(b, id, path, false, what, err);

	if (d->aio == VMR_AIO_NATIVE && !(has_cache && cache.direct))
		return vmr_error_usage(err,
				       "%s of guest '%s': aio 'native' needs cache 'none' "
				       "or 'directsync' (O_DIRECT)",
				       what, g->name);
	if (d->readonly && d->bus == VMR_BUS_IDE)
		return vmr_error_usage(err,
				       "%s of guest '%s': an ide disk cannot be read-only "
				       "(qemu's ide-hd refuses it); use bus virtio or scsi",
				       what, g->name);

	push_blockdev(b, id, path,
		      vmr_disk_effective_format(d) == VMR_FORMAT_QCOW2 ? "qcow2" : "raw",
		      d->readonly, has_cache ? &cache : NULL, d->aio);

	dev = json_object();
	switch (d->bus) {
	case VMR_BUS_VIRTIO:
		driver = "virtio-blk-pci";
		break;
	case VMR_BUS_SCSI:
		driver = "scsi-hd";
		break;
	case VMR_BUS_NVME:
		driver = "nvme";
		break;
	case VMR_BUS_IDE:
		driver = "ide-hd";
		break;
	}
	json_object_set_new(dev, "driver", json_string(driver));
	if (d->bus == VMR_BUS_SCSI)
		scsi_attach(b, dev);
	if (d->bus == VMR_BUS_IDE && ide_attach(b, dev, what, err) < 0) {
		json_decref(dev);
		return -1;
	}
	json_object_set_new(dev, "drive", json_string(id));
	/* nvme refuses to start without one; the guest sees /dev/disk/by-id/nvme-*_diskN */
	if (d->bus == VMR_BUS_NVME)
		json_object_set_new(dev, "serial", json_string(id));
	json_object_set_new(dev, "id", json_string(id));
	if (has_cache)
		json_object_set_new(dev, "write-cache",
				    json_string(cache.writeback ? "on" : "off"));
	set_boot(b, dev);
	push_json(b, "-device", dev);
	return 0;
}

/* `image: BASE`: the overlay images/ made on BASE, first, as a virtio disk. */
static void push_root_disk(struct builder *b)
{
	json_t *dev = json_object();

	push_blockdev(b, "root", b->p->root_disk, "qcow2", false, NULL, VMR_AIO_DEFAULT);
	json_object_set_new(dev, "driver", json_string("virtio-blk-pci"));
	json_object_set_new(dev, "drive", json_string("root"));
	json_object_set_new(dev, "id", json_string("root"));
	set_boot(b, dev);
	push_json(b, "-device", dev);
}

static void fd_list(struct vmr_buf *buf, const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		vmr_buf_addf(buf, "%s%d", i ? ":" : "", fds[i]);
}

static void push_nic_device(struct builder *b, const struct vmr_plan_nic *pn)
{
	const struct vmr_nic *n = pn->nic;
	const char *model = n->model ? n->model : "virtio-net-pci";
	bool virtio = startswith(model, "virtio-net");
	char mac[18];
	json_t *dev = json_object();

	json_object_set_new(dev, "driver", json_string(model));
	json_object_set_new(dev, "netdev", json_pack("s+", "net-", n->name));
	json_object_set_new(dev, "mac", json_string(vmr_mac_format(&n->mac, mac)));
	json_object_set_new(dev, "id", json_pack("s+", "nic-", n->name));
	if (virtio && pn->ntapfds > 1) {
		/* one rx and one tx vector per queue pair, plus config and control */
		json_object_set_new(dev, "mq", json_true());
		json_object_set_new(dev, "vectors", json_integer(2 * pn->ntapfds + 2));
	}
	if (virtio && n->mtu)
		json_object_set_new(dev, "host_mtu", json_integer(n->mtu));
	push_json(b, "-device", dev);
}

static int push_nic(struct builder *b, const struct vmr_plan_nic *pn, struct vmr_error **err)
{
	const struct vmr_nic *n = pn->nic;
	const char *guest = b->p->guest->name;
	struct vmr_buf buf = VMR_BUF_INIT;
	json_t *dev;

	switch (n->kind) {
	case VMR_NIC_MACVTAP:
	case VMR_NIC_BRIDGE:
	case VMR_NIC_TAP:
		if (n->queues > VMR_MAX_QUEUES)
			return vmr_error_usage(err, "nic '%s' of guest '%s': %u queues, at most %d",
					       n->name, guest, n->queues, VMR_MAX_QUEUES);
		if (pn->ntapfds > 1 && n->model && !startswith(n->model, "virtio-net"))
			return vmr_error_usage(err,
					       "nic '%s' of guest '%s': %u queues need a "
					       "virtio-net model, not '%s'",
					       n->name, guest, pn->ntapfds, n->model);
		if (pn->ntapfds == 0)
			return vmr_error_usage(err, "nic '%s' of guest '%s': no tap fd in the plan",
					       n->name, guest);
		vmr_buf_addf(&buf, "tap,id=net-%s", n->name);
		vmr_buf_adds(&buf, pn->ntapfds > 1 ? ",fds=" : ",fd=");
		fd_list(&buf, pn->tapfd, pn->ntapfds);
		if (pn->nvhostfds) {
			vmr_buf_adds(&buf, pn->nvhostfds > 1 ? ",vhost=on,vhostfds="
							     : ",vhost=on,vhostfd=");
			fd_list(&buf, pn->vhostfd, pn->nvhostfds);
		}
		vmr_strvec_push(b->out, "-netdev");
		vmr_strvec_push_take(b->out, vmr_buf_detach(&buf));
		push_nic_device(b, pn);
		return 0;

	case VMR_NIC_USER:
		vmr_buf_addf(&buf, "user,id=net-%s", n->name);
		for (size_t i = 0; i < n->nforwards; i++) {
			const struct vmr_hostfwd *f = &n->forwards[i];
			const char *ha = f->host_addr ? f->host_addr : "";
			const char *ga = f->guest_addr ? f->guest_addr : "";

			vmr_buf_addf(&buf, ",hostfwd=%s:%s:%u-%s:%u", f->udp ? "udp" : "tcp", ha,
				     f->host_port, ga, f->guest_port);
		}
		vmr_strvec_push(b->out, "-netdev");
		vmr_strvec_push_take(b->out, vmr_buf_detach(&buf));
		push_nic_device(b, pn);
		return 0;

	case VMR_NIC_PCI:
	case VMR_NIC_VF:
		if (!pn->vfio_host) {
			char pf[13];

			return vmr_error_usage(err,
					       "nic '%s' of guest '%s': the vf of pf '%s' is "
					       "not resolved in the plan",
					       n->name, guest, vmr_pci_format(&n->pci, pf));
		}
		dev = json_object();
		json_object_set_new(dev, "driver", json_string("vfio-pci"));
		json_object_set_new(dev, "host", json_string(pn->vfio_host));
		json_object_set_new(dev, "id", json_pack("s+", "hostdev-", n->name));
		push_json(b, "-device", dev);
		return 0;
	}
	return vmr_error_usage(err, "nic '%s' of guest '%s': unknown kind %d", n->name, guest,
			       (int)n->kind);
}

static void push_memory(struct builder *b, uint64_t bytes)
{
	/* -m takes MiB without a suffix; keep the exact size when it is not whole MiB */
	if (bytes % (1u << 20) == 0)
		vmr_strvec_pushf(b->out, "%lluM", (unsigned long long)(bytes >> 20));
	else if (bytes % 1024 == 0)
		vmr_strvec_pushf(b->out, "%lluK", (unsigned long long)(bytes >> 10));
	else
		vmr_strvec_pushf(b->out, "%lluB", (unsigned long long)bytes);
}

int vmr_argv_build(const struct vmr_plan *p, struct vmr_strvec *ret, struct vmr_error **err)
{
	const struct vmr_guest *g = p->guest;
	struct vmr_strvec out = VMR_STRVEC_INIT;
	struct builder b = {.p = p, .out = &out, .ide = machine_ide(guest_machine(g))};
	bool kvm = p->accel == VMR_ACCEL_KVM;
	int r;

	if (p->accel != VMR_ACCEL_KVM && p->accel != VMR_ACCEL_TCG)
		return vmr_error_usage(err, "guest '%s': accelerator not resolved in the plan",
				       g->name);
	if (g->vcpus == 0)
		return vmr_error_usage(err, "guest '%s': no vcpus", g->name);
	if (g->memory < (1u << 20))
		return vmr_error_usage(err, "guest '%s': memory below 1M", g->name);
	if (p->qmp_fd < 3 || p->console_fd < 3)
		return vmr_error_usage(
		    err, "guest '%s': qmp and console fds not assigned in the plan", g->name);

	vmr_strvec_push(&out, p->qemu ? p->qemu : "qemu-system-x86_64");
	/* thread names "CPU n/KVM" make the vCPU threads recognisable when pinning */
	vmr_strvec_push(&out, "-name");
	vmr_strvec_pushf(&out, "%s,debug-threads=on", g->name);
	/* paused until the supervisor has pinned the vCPUs and sends "cont" */
	vmr_strvec_push(&out, "-S");
	vmr_strvec_push(&out, "-nodefaults");
	vmr_strvec_push(&out, "-no-user-config");
	push2(&b, "-display", "none");
	push2(&b, "-msg", "timestamp=on");

	push2(&b, "-machine", guest_machine(g));
	/* TCG: one host thread per vCPU, or there is nothing to pin */
	push2(&b, "-accel", kvm ? "kvm" : "tcg,thread=multi");
	if (g->cpu && !kvm && (streq(g->cpu, "host") || startswith(g->cpu, "host,"))) {
		/*
		 * "host" needs KVM.  A topology written for KVM labs (5gdeploy's
		 * `host,-vmx,-svm`) that falls back to TCG keeps its feature flags
		 * on "max", the closest TCG model, instead of failing in QEMU.
		 */
		_cleanup_free_ char *cpu = xasprintf("max%s", g->cpu + strlen("host"));

		push2(&b, "-cpu", cpu);
	} else {
		push2(&b, "-cpu", g->cpu ? g->cpu : kvm ? "host" : "max");
	}
	vmr_strvec_push(&out, "-smp");
	vmr_strvec_pushf(&out, "%u,sockets=1,cores=%u,threads=1", g->vcpus, g->vcpus);
	vmr_strvec_push(&out, "-m");
	push_memory(&b, g->memory);

	/* listening sockets vmrun bound before exec: no connect/poll race */
	vmr_strvec_push(&out, "-chardev");
	vmr_strvec_pushf(&out, "socket,id=qmp,fd=%d,server=on,wait=off", p->qmp_fd);
	push2(&b, "-mon", "chardev=qmp,mode=control");
	vmr_strvec_push(&out, "-chardev");
	vmr_strvec_pushf(&out, "socket,id=console,fd=%d,server=on,wait=off", p->console_fd);
	push2(&b, "-serial", "chardev:console");

	if (g->kernel) {
		_cleanup_free_ char *k = vmr_plan_path(p, g->kernel);

		push2(&b, "-kernel", k);
	}
	if (g->initrd) {
		_cleanup_free_ char *i = vmr_plan_path(p, g->initrd);

		push2(&b, "-initrd", i);
	}
	if (g->append)
		push2(&b, "-append", g->append);

	if (g->image) {
		if (!p->root_disk) {
			r = vmr_error_usage(err,
					    "guest '%s': the root disk overlay on image '%s' is "
					    "not in the plan",
					    g->name, g->image);
			goto fail;
		}
		push_root_disk(&b);
	}
	for (size_t i = 0; i < g->ndisks; i++) {
		r = push_disk(&b, i, &g->disks[i], err);
		if (r < 0)
			goto fail;
	}
	if (p->seed_iso) {
		/* cloud kernels (Debian's among them) have virtio-scsi but no AHCI driver */
		r = push_cdrom(&b, "seed", p->seed_iso, true, "the cloud-init seed", err);
		if (r < 0)
			goto fail;
	}
	for (size_t i = 0; i < p->nnics; i++) {
		r = push_nic(&b, &p->nics[i], err);
		if (r < 0)
			goto fail;
	}

	if (p->sandbox)
		/*
		 * vmrun drops the uid itself before exec: -runas would be
		 * killed by elevateprivileges=deny and clears PDEATHSIG.
		 */
		push2(&b, "-sandbox",
		      "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");

	for (size_t i = 0; i < g->qemu_args.n; i++)
		vmr_strvec_push(&out, g->qemu_args.v[i]);

	vmr_strvec_clear(ret);
	*ret = out;
	return 0;

fail:
	vmr_strvec_clear(&out);
	return r;
}
