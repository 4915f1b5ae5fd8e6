/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QEMU command line builder: plan -> argv.  Pure: no syscalls, no
 * environment, no clock, so the same plan always yields the same argv and
 * golden tests (tests/argv/) can compare it byte for byte.  The core here
 * writes the machine, the monitor and console sockets, the kernel, the
 * root overlay and the seed; each device writes its own part through its
 * argv hook and the helpers of lib/plan/argv.h.
 */
#include <jansson.h>
#include <stdio.h>

#include "lib/base/buf.h"
#include "lib/base/netaddr.h"
#include "lib/base/util.h"
#include "lib/plan/argv.h"

void vmr_argv_push_json(struct vmr_argv *b, const char *opt, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	if (!s)
		abort(); /* only on allocation failure */
	json_decref(obj);
	vmr_strvec_push(b->out, opt);
	vmr_strvec_push_take(b->out, s);
}

void vmr_argv_push(struct vmr_argv *b, const char *opt, const char *val)
{
	vmr_strvec_push(b->out, opt);
	vmr_strvec_push(b->out, val);
}

enum vmr_ide_kind vmr_argv_machine_ide(const char *machine)
{
	size_t n = strcspn(machine, ",");

	if ((n == 3 && startswith(machine, "q35")) || startswith(machine, "pc-q35-"))
		return VMR_IDE_AHCI;
	if ((n == 2 && startswith(machine, "pc")) || startswith(machine, "pc-i440fx-") ||
	    (n > 3 && startswith(machine, "pc-") && !startswith(machine, "pc-q35")))
		return VMR_IDE_PIIX;
	return VMR_IDE_NONE;
}

unsigned vmr_argv_ide_slots(enum vmr_ide_kind ide)
{
	return ide == VMR_IDE_AHCI   ? VMR_Q35_AHCI_PORTS
	       : ide == VMR_IDE_PIIX ? VMR_PIIX_IDE_SLOTS
				     : 0;
}

int vmr_argv_ide_attach(struct vmr_argv *b, json_t *dev, const char *what, struct vmr_error **err)
{
	const struct vmr_guest *g = b->p->guest;
	unsigned slot = b->ide_next;
	char bus[16];

	/* the loader counts IDE devices against the machine: this cannot happen */
	if (slot >= vmr_argv_ide_slots(b->ide))
		return vmr_error_usage(err, "%s of guest '%s': no IDE slot left on machine '%s'",
				       what, g->name, g->machine);
	if (b->ide == VMR_IDE_AHCI) {
		snprintf(bus, sizeof(bus), "ide.%u", slot);
		json_object_set_new(dev, "bus", json_string(bus));
	} else {
		snprintf(bus, sizeof(bus), "ide.%u", slot / 2);
		json_object_set_new(dev, "bus", json_string(bus));
		json_object_set_new(dev, "unit", json_integer(slot % 2));
	}
	b->ide_next++;
	return 0;
}

void vmr_argv_scsi_attach(struct vmr_argv *b, json_t *dev)
{
	if (!b->scsi_added) {
		vmr_argv_push_json(
		    b, "-device",
		    json_pack("{s:s, s:s}", "driver", "virtio-scsi-pci", "id", "scsi0"));
		b->scsi_added = true;
	}
	json_object_set_new(dev, "bus", json_string("scsi0.0"));
	json_object_set_new(dev, "channel", json_integer(0));
	json_object_set_new(dev, "scsi-id", json_integer(b->scsi_next++));
	json_object_set_new(dev, "lun", json_integer(0));
}

void vmr_argv_usb_attach(struct vmr_argv *b, json_t *dev)
{
	if (!b->xhci_added) {
		/* USB 2 and 3 ports, 15 each (the most xHCI has): a tablet and many hosts */
		vmr_argv_push_json(b, "-device",
				   json_pack("{s:s, s:s, s:i, s:i}", "driver", "qemu-xhci", "id",
					     "xhci", "p2", 15, "p3", 15));
		b->xhci_added = true;
	}
	json_object_set_new(dev, "bus", json_string("xhci.0"));
}

void vmr_argv_boot(struct vmr_argv *b, json_t *dev)
{
	/* with -kernel the firmware boots no disk; otherwise the first listed one */
	if (b->boot_set || b->p->guest->kernel)
		return;
	json_object_set_new(dev, "bootindex", json_integer(1));
	b->boot_set = true;
}

static const char *aio_name(enum vmr_disk_aio a)
{
	return a == VMR_AIO_DEFAULT ? NULL : vmr_disk_aio_name(a);
}

void vmr_argv_blockdev(struct vmr_argv *b, const char *id, const char *path, const char *format,
		       bool readonly, const struct vmr_argv_cache *cache, enum vmr_disk_aio aio)
{
	_cleanup_free_ char *file_id = xasprintf("%s-file", id);
	const struct vmr_plan_file *pf = vmr_plan_file_find(b->p, path);
	json_t *file = json_object(), *fmt = json_object();
	const char *aio_s = aio_name(aio);

	/*
	 * Named nodes (not a nested "file" object) so QMP block commands can
	 * address either layer.  A file vmrun made is an fd in fd set N
	 * (child fd N): QEMU dups it instead of opening the path.
	 */
	json_object_set_new(file, "driver", json_string("file"));
	if (pf) {
		vmr_strvec_push(b->out, "-add-fd");
		vmr_strvec_pushf(b->out, "fd=%d,set=%d,opaque=%s", pf->fd, pf->fd, pf->opaque);
		json_object_set_new(file, "filename", json_sprintf("/dev/fdset/%d", pf->fd));
	} else {
		json_object_set_new(file, "filename", json_string(path));
	}
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
	vmr_argv_push_json(b, "-blockdev", file);
	vmr_argv_push_json(b, "-blockdev", fmt);
}

/*
 * QEMU's -drive cache modes split over the two layers -blockdev separates
 * (qemu-options.hx, "cache" table): the host page cache and flushes are
 * node options, the guest-visible write cache is a device property.
 */
static bool cache_flags(enum vmr_disk_cache c, struct vmr_argv_cache *ret)
{
	switch (c) {
	case VMR_CACHE_DEFAULT:
		return false;
	case VMR_CACHE_NONE:
		*ret = (struct vmr_argv_cache){.direct = true, .writeback = true};
		return true;
	case VMR_CACHE_WRITEBACK:
		*ret = (struct vmr_argv_cache){.writeback = true};
		return true;
	case VMR_CACHE_WRITETHROUGH:
		*ret = (struct vmr_argv_cache){0};
		return true;
	case VMR_CACHE_DIRECTSYNC:
		*ret = (struct vmr_argv_cache){.direct = true};
		return true;
	case VMR_CACHE_UNSAFE:
		*ret = (struct vmr_argv_cache){.writeback = true, .no_flush = true};
		return true;
	}
	return false;
}

int vmr_argv_disk(struct vmr_argv *b, const struct vmr_plan_dev *pd, const char *driver,
		  int (*fill)(struct vmr_argv *b, const struct vmr_plan_dev *pd, json_t *dev,
			      struct vmr_error **err),
		  bool serial, struct vmr_error **err)
{
	const struct vmr_disk *d = pd->disk;
	_cleanup_free_ char *path = vmr_plan_path(b->p, d->file);
	struct vmr_argv_cache cache;
	bool has_cache = cache_flags(d->cache, &cache);
	char id[32];
	json_t *dev;

	snprintf(id, sizeof(id), "disk%zu", pd->index);
	vmr_argv_blockdev(b, id, path,
			  vmr_disk_effective_format(d) == VMR_FORMAT_QCOW2 ? "qcow2" : "raw",
			  d->readonly, has_cache ? &cache : NULL, d->aio);
	dev = json_object();
	json_object_set_new(dev, "driver", json_string(driver));
	if (fill && fill(b, pd, dev, err) < 0) {
		json_decref(dev);
		return -1;
	}
	json_object_set_new(dev, "drive", json_string(id));
	if (serial)
		json_object_set_new(dev, "serial", json_string(id));
	json_object_set_new(dev, "id", json_string(id));
	if (has_cache)
		json_object_set_new(dev, "write-cache",
				    json_string(cache.writeback ? "on" : "off"));
	vmr_argv_boot(b, dev);
	vmr_argv_push_json(b, "-device", dev);
	return 0;
}

int vmr_argv_cdrom(struct vmr_argv *b, const char *id, const char *path, bool scsi,
		   const char *what, struct vmr_error **err)
{
	json_t *dev;

	vmr_argv_blockdev(b, id, path, "raw", true, NULL, VMR_AIO_DEFAULT);
	dev = json_object();
	if (b->ide != VMR_IDE_NONE && !scsi) {
		json_object_set_new(dev, "driver", json_string("ide-cd"));
		if (vmr_argv_ide_attach(b, dev, what, err) < 0) {
			json_decref(dev);
			return -1;
		}
	} else {
		json_object_set_new(dev, "driver", json_string("scsi-cd"));
		vmr_argv_scsi_attach(b, dev);
	}
	json_object_set_new(dev, "drive", json_string(id));
	json_object_set_new(dev, "id", json_string(id));
	vmr_argv_boot(b, dev);
	vmr_argv_push_json(b, "-device", dev);
	return 0;
}

char *vmr_argv_fd_list(const int *fds, unsigned n)
{
	struct vmr_buf buf = VMR_BUF_INIT;

	for (unsigned i = 0; i < n; i++)
		vmr_buf_addf(&buf, "%s%d", i ? ":" : "", fds[i]);
	return vmr_buf_detach(&buf);
}

void vmr_argv_nic_device(struct vmr_argv *b, const struct vmr_plan_dev *pd, const char *model,
			 unsigned queues)
{
	const struct vmr_nic *n = pd->nic;
	bool virtio;
	char mac[18];
	json_t *dev = json_object();

	if (!model)
		model = "virtio-net-pci";
	virtio = startswith(model, "virtio-net");
	json_object_set_new(dev, "driver", json_string(model));
	json_object_set_new(dev, "netdev", json_pack("s+", "net-", n->name));
	json_object_set_new(dev, "mac", json_string(vmr_mac_format(&n->mac, mac)));
	json_object_set_new(dev, "id", json_pack("s+", "nic-", n->name));
	if (virtio && queues > 1) {
		/* one rx and one tx vector per queue pair, plus config and control */
		json_object_set_new(dev, "mq", json_true());
		json_object_set_new(dev, "vectors", json_integer(2 * queues + 2));
	}
	if (virtio && n->mtu)
		json_object_set_new(dev, "host_mtu", json_integer(n->mtu));
	vmr_argv_push_json(b, "-device", dev);
}

void vmr_argv_memory_backend(struct vmr_argv *b, json_t *obj)
{
	_cleanup_free_ char *machine =
	    xasprintf("memory-backend=%s", json_string_value(json_object_get(obj, "id")));

	vmr_argv_push_json(b, "-object", obj);
	/* QEMU merges a second -machine into the first */
	vmr_argv_push(b, "-machine", machine);
}

/* `image: BASE`: the overlay images/ made on BASE, first, as a virtio disk. */
static void push_root_disk(struct vmr_argv *b)
{
	json_t *dev = json_object();

	vmr_argv_blockdev(b, "root", b->p->root_disk, "qcow2", false, NULL, VMR_AIO_DEFAULT);
	json_object_set_new(dev, "driver", json_string("virtio-blk-pci"));
	json_object_set_new(dev, "drive", json_string("root"));
	json_object_set_new(dev, "id", json_string("root"));
	vmr_argv_boot(b, dev);
	vmr_argv_push_json(b, "-device", dev);
}

static void push_memory(struct vmr_argv *b, uint64_t bytes)
{
	/* -m takes MiB without a suffix; keep the exact size when it is not whole MiB */
	if (bytes % (1u << 20) == 0)
		vmr_strvec_pushf(b->out, "%lluM", (unsigned long long)(bytes >> 20));
	else if (bytes % 1024 == 0)
		vmr_strvec_pushf(b->out, "%lluK", (unsigned long long)(bytes >> 10));
	else
		vmr_strvec_pushf(b->out, "%lluB", (unsigned long long)bytes);
}

static void push_cpu(struct vmr_argv *b, const struct vmr_guest *g, bool kvm)
{
	if (g->cpu && !kvm && (streq(g->cpu, "host") || startswith(g->cpu, "host,"))) {
		/*
		 * "host" needs KVM.  A topology written for KVM labs (5gdeploy's
		 * `host,-vmx,-svm`) that falls back to TCG gets "max", the closest
		 * TCG model, without the feature flags: they name the host CPU's
		 * features, and "max,-svm" under QEMU 7.2's TCG makes the guest's
		 * readlink("/proc/self/exe") fail, so every glibc static-pie
		 * program (busybox) aborts in _dl_get_origin (docs/5gdeploy.md).
		 */
		vmr_argv_push(b, "-cpu", "max");
	} else {
		vmr_argv_push(b, "-cpu", g->cpu ? g->cpu : kvm ? "host" : "max");
	}
}

/* Each device of the plan whose class is cls, in plan order. */
static int push_devices(struct vmr_argv *b, enum vmr_device_class cls, struct vmr_error **err)
{
	for (size_t i = 0; i < b->p->ndevs; i++) {
		const struct vmr_plan_dev *pd = &b->p->devs[i];
		int r;

		if (!pd->dev->ops || pd->dev->ops->cls != cls || !pd->dev->ops->argv)
			continue;
		r = pd->dev->ops->argv(b->p, pd, b, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int vmr_argv_build(const struct vmr_plan *p, struct vmr_strvec *ret, struct vmr_error **err)
{
	const struct vmr_guest *g = p->guest;
	struct vmr_strvec out = VMR_STRVEC_INIT;
	struct vmr_argv b = {.p = p, .out = &out, .ide = vmr_argv_machine_ide(g->machine)};
	bool kvm = p->facts.accel == VMR_ACCEL_KVM;
	int r;

	if (p->facts.accel != VMR_ACCEL_KVM && p->facts.accel != VMR_ACCEL_TCG)
		return vmr_error_usage(err, "guest '%s': accelerator not resolved in the plan",
				       g->name);
	if (p->qmp_fd < 3 || p->console_fd < 3)
		return vmr_error_usage(
		    err, "guest '%s': qmp and console fds not assigned in the plan", g->name);

	vmr_strvec_push(&out, p->qemu);
	/* thread names "CPU n/KVM" make the vCPU threads recognisable when pinning */
	vmr_strvec_push(&out, "-name");
	vmr_strvec_pushf(&out, "%s,debug-threads=on", g->name);
	/* paused until the supervisor has pinned the vCPUs and sends "cont" */
	vmr_strvec_push(&out, "-S");
	vmr_strvec_push(&out, "-nodefaults");
	vmr_strvec_push(&out, "-no-user-config");
	vmr_argv_push(&b, "-display", "none");
	vmr_argv_push(&b, "-msg", "timestamp=on");

	vmr_argv_push(&b, "-machine", g->machine);
	/* TCG: one host thread per vCPU, or there is nothing to pin */
	vmr_argv_push(&b, "-accel", kvm ? "kvm" : "tcg,thread=multi");
	push_cpu(&b, g, kvm);
	vmr_strvec_push(&out, "-smp");
	vmr_strvec_pushf(&out, "%u,sockets=1,cores=%u,threads=1", g->vcpus, g->vcpus);
	vmr_strvec_push(&out, "-m");
	push_memory(&b, g->memory);

	/* listening sockets vmrun bound before exec: no connect/poll race */
	vmr_strvec_push(&out, "-chardev");
	vmr_strvec_pushf(&out, "socket,id=qmp,fd=%d,server=on,wait=off", p->qmp_fd);
	vmr_argv_push(&b, "-mon", "chardev=qmp,mode=control");
	vmr_strvec_push(&out, "-chardev");
	vmr_strvec_pushf(&out, "socket,id=console,fd=%d,server=on,wait=off", p->console_fd);
	vmr_argv_push(&b, "-serial", "chardev:console");

	if (g->kernel) {
		_cleanup_free_ char *k = vmr_plan_path(p, g->kernel);

		vmr_argv_push(&b, "-kernel", k);
	}
	if (g->initrd) {
		_cleanup_free_ char *i = vmr_plan_path(p, g->initrd);

		vmr_argv_push(&b, "-initrd", i);
	}
	if (g->append)
		vmr_argv_push(&b, "-append", g->append);

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
	r = push_devices(&b, VMR_DEVICE_DISK, err);
	if (r < 0)
		goto fail;
	if (p->seed_iso) {
		/* cloud kernels (Debian's among them) have virtio-scsi but no AHCI driver */
		r = vmr_argv_cdrom(&b, "seed", p->seed_iso, true, "the cloud-init seed", err);
		if (r < 0)
			goto fail;
	}
	r = push_devices(&b, VMR_DEVICE_NIC, err);
	if (r < 0)
		goto fail;
	r = push_devices(&b, VMR_DEVICE_GUEST, err);
	if (r < 0)
		goto fail;
	if (p->shared_memory && !p->memory_backend)
		/* vhost-user backends map the guest's RAM: it must be a shared fd */
		vmr_argv_memory_backend(&b, json_pack("{s:s, s:s, s:I, s:b}", "qom-type",
						      "memory-backend-memfd", "id", "mem0", "size",
						      (json_int_t)g->memory, "share", true));

	if (p->sandbox)
		/*
		 * vmrun drops the uid itself before exec: -runas would be
		 * killed by elevateprivileges=deny and clears PDEATHSIG.
		 */
		vmr_argv_push(
		    &b, "-sandbox",
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
