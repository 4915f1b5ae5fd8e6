/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_TESTS_FAKESYS_H
#define VMR_TESTS_FAKESYS_H

/*
 * A fake sysfs tree for the PCI, vfio and SR-IOV code: regular files and
 * symlinks laid out like /sys (bus/pci/devices, bus/pci/drivers,
 * kernel/iommu_groups, class/vfio), plus the kernel's reaction to the
 * writes that are commands (unbind, bind, drivers_probe, driver_override,
 * sriov_numvfs).
 *
 * The reaction happens in write(2): this header defines write(), which the
 * test executable's own definition makes the one the code under test calls
 * (like tests/unit/lib_journal.c does with fsync).  A write to a file under
 * the fake root is logged ("REL <- VALUE", "\n" shown as "\\n"), applied
 * to the tree the way the kernel would, and may fail like the kernel
 * (EBUSY for a non-zero sriov_numvfs over a non-zero one).  Then it is
 * written to the file.  Include it in exactly one file per test binary.
 */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"

struct fake_dev {
	const char *bdf;
	const char *driver; /* bound at creation; NULL: none */
	const char *native; /* what drivers_probe picks without override */
	int group;	    /* IOMMU group; -1: none */
	const char *netdev; /* net/NAME with address mac, or NULL */
	const char *mac;
	unsigned totalvfs;     /* > 0: an SR-IOV PF */
	const char *vf_driver; /* driver autoprobe binds VFs to */
	unsigned numvfs;       /* state: the file is truncated by the write's open */
	const char *class;     /* "0x020000" when NULL */
	const char *id;	       /* "8086:10fb" when NULL */
};

#define FAKE_MAX_DEVS 32

static struct {
	char root[128];
	size_t rootlen;
	char dev[140]; /* ROOT/dev: the dev_root of tests that bind to vfio-pci */
	struct vmr_buf log;
	struct fake_dev devs[FAKE_MAX_DEVS];
	char override[FAKE_MAX_DEVS][32];
	char bdfs[FAKE_MAX_DEVS][16];
	size_t ndevs;
	int in_fake; /* the fake itself writes files: don't recurse */
} fake;

static void fake_vput(const char *content, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void fake_vput(const char *content, const char *fmt, va_list ap)
{
	char *rel = xvasprintf(fmt, ap), *path, *slash;
	int fd;

	path = xasprintf("%s/%s", fake.root, rel);
	for (slash = path + fake.rootlen + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	if (content) {
		fake.in_fake++;
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (write(fd, content, strlen(content)) < 0)
				abort();
			close(fd);
		}
		fake.in_fake--;
	} else {
		mkdir(path, 0755);
	}
	free(path);
	free(rel);
}

/* fake_put("1\n", "bus/pci/devices/%s/sriov_numvfs", bdf); NULL content: a directory */
static __attribute__((format(printf, 2, 3))) void fake_put(const char *content, const char *fmt,
							   ...)
{
	va_list ap;

	va_start(ap, fmt);
	fake_vput(content, fmt, ap);
	va_end(ap);
}

static __attribute__((format(printf, 2, 3))) void fake_link(const char *target, const char *fmt,
							    ...)
{
	char *rel = NULL, *path;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		abort();
	va_end(ap);
	path = xasprintf("%s/%s", fake.root, rel);
	unlink(path);
	if (symlink(target, path) < 0)
		abort();
	free(path);
	free(rel);
}

static __attribute__((format(printf, 1, 2))) void fake_rm(const char *fmt, ...)
{
	char *rel = NULL, *path;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		abort();
	va_end(ap);
	path = xasprintf("%s/%s", fake.root, rel);
	unlink(path);
	free(path);
	free(rel);
}

static struct fake_dev *fake_dev(const char *bdf, size_t *idx)
{
	for (size_t i = 0; i < fake.ndevs; i++)
		if (streq(fake.devs[i].bdf, bdf)) {
			if (idx)
				*idx = i;
			return &fake.devs[i];
		}
	return NULL;
}

static void fake_driver_add(const char *drv);

static void fake_bind(const char *bdf, const char *drv)
{
	char *t = xasprintf("../../../../bus/pci/drivers/%s", drv);

	fake_driver_add(drv);
	fake_link(t, "bus/pci/devices/%s/driver", bdf);
	free(t);
	t = xasprintf("../../devices/%s", bdf);
	fake_link(t, "bus/pci/drivers/%s/%s", drv, bdf);
	free(t);
}

static char *fake_driver(const char *bdf)
{
	char *path = xasprintf("%s/bus/pci/devices/%s/driver", fake.root, bdf);
	char buf[256];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	char *s;

	free(path);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	s = strrchr(buf, '/');
	return xstrdup(s ? s + 1 : buf);
}

static void fake_unbind(const char *bdf)
{
	char *drv = fake_driver(bdf);

	if (!drv)
		return;
	fake_rm("bus/pci/devices/%s/driver", bdf);
	fake_rm("bus/pci/drivers/%s/%s", drv, bdf);
	free(drv);
}

/* a device as the kernel shows it; bdf and strings must outlive the test */
static void fake_add(const struct fake_dev *d)
{
	struct fake_dev *n;

	if (fake.ndevs == FAKE_MAX_DEVS)
		abort();
	n = &fake.devs[fake.ndevs];
	*n = *d;
	snprintf(fake.bdfs[fake.ndevs], sizeof(fake.bdfs[0]), "%s", d->bdf);
	n->bdf = fake.bdfs[fake.ndevs];
	fake.override[fake.ndevs][0] = '\0';
	fake.ndevs++;
	{
		char *v = xasprintf("0x%.4s\n", d->id ? d->id : "8086:10fb");
		char *dv = xasprintf("0x%.4s\n", (d->id ? d->id : "8086:10fb") + 5);
		char *c = xasprintf("%s\n", d->class ? d->class : "0x020000");

		fake_put(v, "bus/pci/devices/%s/vendor", d->bdf);
		fake_put(dv, "bus/pci/devices/%s/device", d->bdf);
		fake_put(c, "bus/pci/devices/%s/class", d->bdf);
		free(v);
		free(dv);
		free(c);
	}
	fake_put("(null)\n", "bus/pci/devices/%s/driver_override", d->bdf);
	fake_put("0\n", "bus/pci/devices/%s/irq", d->bdf);
	fake_link("../../../../bus/pci", "bus/pci/devices/%s/subsystem", d->bdf);
	if (d->group >= 0) {
		char *t = xasprintf("../../../../kernel/iommu_groups/%d", d->group);

		fake_put(NULL, "kernel/iommu_groups/%d/devices", d->group);
		fake_link(t, "bus/pci/devices/%s/iommu_group", d->bdf);
		free(t);
		t = xasprintf("../../../../bus/pci/devices/%s", d->bdf);
		fake_link(t, "kernel/iommu_groups/%d/devices/%s", d->group, d->bdf);
		free(t);
		t = xasprintf("241:%d\n", d->group);
		fake_put(t, "class/vfio/%d/dev", d->group);
		free(t);
	}
	if (d->driver)
		fake_bind(d->bdf, d->driver);
	if (d->netdev) {
		char *m = xasprintf("%s\n", d->mac ? d->mac : "00:00:00:00:00:00");

		fake_put(m, "bus/pci/devices/%s/net/%s/address", d->bdf, d->netdev);
		fake_put("up\n", "bus/pci/devices/%s/net/%s/operstate", d->bdf, d->netdev);
		fake_link("../..", "bus/pci/devices/%s/net/%s/device", d->bdf, d->netdev);
		free(m);
		m = xasprintf("../../bus/pci/devices/%s/net/%s", d->bdf, d->netdev);
		fake_put(NULL, "class/net");
		fake_link(m, "class/net/%s", d->netdev);
		free(m);
	}
	if (d->totalvfs) {
		char *s = xasprintf("%u\n", d->totalvfs);

		fake_put(s, "bus/pci/devices/%s/sriov_totalvfs", d->bdf);
		fake_put("0\n", "bus/pci/devices/%s/sriov_numvfs", d->bdf);
		fake_put("1\n", "bus/pci/devices/%s/sriov_drivers_autoprobe", d->bdf);
		free(s);
	}
}

static void fake_driver_add(const char *drv)
{
	fake_put("", "bus/pci/drivers/%s/bind", drv);
	fake_put("", "bus/pci/drivers/%s/unbind", drv);
	fake_put("", "bus/pci/drivers/%s/new_id", drv);
}

/* Build an empty tree under a new temporary directory. */
static void fake_init(void)
{
	snprintf(fake.root, sizeof(fake.root), "/tmp/vmrt-sysfs-XXXXXX");
	if (!mkdtemp(fake.root))
		abort();
	fake.rootlen = strlen(fake.root);
	snprintf(fake.dev, sizeof(fake.dev), "%s/dev", fake.root);
	if (mkdir(fake.dev, 0755) < 0)
		abort();
	fake_put("", "bus/pci/drivers_probe");
	fake_put("10:196\n", "class/misc/vfio/dev");
	fake_put(NULL, "kernel/iommu_groups");
}

static int fake_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void fake_cleanup(void)
{
	if (fake.root[0])
		nftw(fake.root, fake_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	vmr_buf_free(&fake.log);
}

/* The writes logged since the last call (caller frees). */
static _unused_ char *fake_take_log(void)
{
	char *s = vmr_buf_detach(&fake.log);

	return s ? s : xstrdup("");
}

static __attribute__((format(printf, 1, 2))) unsigned fake_read_uint(const char *fmt, ...)
{
	char *rel = NULL, *path, *s = NULL;
	unsigned v = 0;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		abort();
	va_end(ap);
	path = xasprintf("%s/%s", fake.root, rel);
	if (read_file(path, 64, &s, NULL) == 0)
		v = (unsigned)strtoul(s, NULL, 0);
	free(s);
	free(path);
	free(rel);
	return v;
}

/* VF i of PF a:b:c.f is a:b+1:0.i here (the real layout depends on the device) */
static void fake_vf_bdf(const char *pf, unsigned i, char buf[32])
{
	unsigned dom, bus, slot, fn;

	if (sscanf(pf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		abort();
	snprintf(buf, 32, "%04x:%02x:%02x.%x", dom, bus + 1, i / 8, i % 8);
}

static int fake_set_numvfs(const char *pf, unsigned n)
{
	struct fake_dev *d = fake_dev(pf, NULL);
	unsigned cur = d ? d->numvfs : 0;
	bool autoprobe = fake_read_uint("bus/pci/devices/%s/sriov_drivers_autoprobe", pf) != 0;
	char vf[32];

	if (!d || n > d->totalvfs)
		return -EINVAL;
	/* drivers/pci/iov.c sriov_numvfs_store */
	if (n && cur && n != cur)
		return -EBUSY;
	for (unsigned i = 0; i < cur && !n; i++) {
		size_t idx;

		fake_vf_bdf(pf, i, vf);
		fake_unbind(vf);
		fake_rm("bus/pci/devices/%s/virtfn%u", pf, i);
		if (fake_dev(vf, &idx)) {
			char *p = xasprintf("%s/bus/pci/devices/%s", fake.root, vf);

			nftw(p, fake_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
			free(p);
			memmove(&fake.devs[idx], &fake.devs[idx + 1],
				(fake.ndevs - idx - 1) * sizeof(fake.devs[0]));
			memmove(&fake.override[idx], &fake.override[idx + 1],
				(fake.ndevs - idx - 1) * sizeof(fake.override[0]));
			memmove(&fake.bdfs[idx], &fake.bdfs[idx + 1],
				(fake.ndevs - idx - 1) * sizeof(fake.bdfs[0]));
			fake.ndevs--;
			for (size_t k = 0; k < fake.ndevs; k++)
				fake.devs[k].bdf = fake.bdfs[k];
			d = fake_dev(pf, NULL);
		}
	}
	for (unsigned i = 0; i < n && !cur; i++) {
		struct fake_dev v = {.group = 100 + (int)i, .native = d->vf_driver};
		char *t;

		fake_vf_bdf(pf, i, vf);
		v.bdf = vf;
		v.driver = autoprobe ? d->vf_driver : NULL;
		fake_add(&v);
		d = fake_dev(pf, NULL);
		t = xasprintf("../%s", vf);
		fake_link(t, "bus/pci/devices/%s/virtfn%u", pf, i);
		free(t);
	}
	d = fake_dev(pf, NULL);
	d->numvfs = n;
	return 0;
}

static bool fake_driver_exists(const char *drv)
{
	char *p = xasprintf("%s/bus/pci/drivers/%s", fake.root, drv);
	bool r = access(p, F_OK) == 0;

	free(p);
	return r;
}

/* the kernel's reaction to a write; negative errno fails the write */
static int fake_apply(const char *rel, const char *value)
{
	char a[64], b[64];
	size_t idx;

	if (sscanf(rel, "bus/pci/drivers/%63[^/]/%63s", a, b) == 2) {
		struct fake_dev *d = fake_dev(value, NULL);
		char *cur = d ? fake_driver(value) : NULL;
		int r = 0;

		if (!d)
			r = -ENODEV;
		else if (streq(b, "unbind") && !streq(cur, a))
			r = -ENODEV;
		else if (streq(b, "unbind"))
			fake_unbind(value);
		else if (streq(b, "bind") && cur)
			r = -EBUSY;
		else if (streq(b, "bind"))
			fake_bind(value, a);
		free(cur);
		return r;
	}
	if (streq(rel, "bus/pci/drivers_probe")) {
		struct fake_dev *d = fake_dev(value, &idx);
		char *cur;
		const char *want;

		if (!d)
			return -ENODEV;
		cur = fake_driver(value);
		want = fake.override[idx][0] ? fake.override[idx] : d->native;
		if (!cur && want && fake_driver_exists(want))
			fake_bind(value, want);
		free(cur);
		return 0;
	}
	if (sscanf(rel, "bus/pci/devices/%63[^/]/%63s", a, b) == 2) {
		if (!fake_dev(a, &idx))
			return -ENODEV;
		if (streq(b, "driver_override")) {
			size_t n = strcspn(value, "\n");

			snprintf(fake.override[idx], sizeof(fake.override[idx]), "%.*s", (int)n,
				 value);
			return 0;
		}
		if (streq(b, "sriov_numvfs"))
			return fake_set_numvfs(a, (unsigned)strtoul(value, NULL, 10));
	}
	return 0;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	char link[64], path[512];
	ssize_t len;

	if (!fake.in_fake && fake.root[0]) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, path, sizeof(path) - 1);
		if (len > (ssize_t)fake.rootlen && !strncmp(path, fake.root, fake.rootlen) &&
		    path[fake.rootlen] == '/') {
			char *value = xstrndup(buf, n);
			int r;

			path[len] = '\0';
			vmr_buf_addf(&fake.log, "%s <- ", path + fake.rootlen + 1);
			for (const char *c = value; *c; c++)
				if (*c == '\n')
					vmr_buf_adds(&fake.log, "\\n");
				else
					vmr_buf_addc(&fake.log, *c);
			vmr_buf_addc(&fake.log, '\n');
			fake.in_fake++;
			r = fake_apply(path + fake.rootlen + 1, value);
			fake.in_fake--;
			free(value);
			if (r < 0) {
				errno = -r;
				return -1;
			}
		}
	}
	return syscall(SYS_write, fd, buf, n);
}

#endif
