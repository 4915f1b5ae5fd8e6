/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI devices and SR-IOV through sysfs: IOMMU group viability, handing a
 * device to vfio-pci and back (the driver_override way of libvirt and
 * Incus: unbind, driver_override, drivers_probe, verify), the VF that
 * carries a MAC, sriov_numvfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/buf.h"
#include "lib/base/spawn.h"
#include "lib/base/strvec.h"
#include "lib/base/util.h"
#include "net/internal.h"

#define VFIO_DRIVER "vfio-pci"
/* a probe runs the driver's probe routine synchronously, but give it 1 s */
#define BIND_POLL_TRIES 20
#define BIND_POLL_NS (50 * 1000 * 1000)

static void strv_freep(char ***v)
{
	vmr_strv_free(*v);
}
#define _cleanup_strv_ _cleanup_(strv_freep)

static void sleep_ns(long ns)
{
	struct timespec ts = {0, ns};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int net_pci_driver(const struct vmr_config *cfg, const char *bdf, char **ret,
		   struct vmr_error **err)
{
	return net_sysfs_link_name(cfg, ret, err, "bus/pci/devices/%s/driver", bdf);
}

int net_pci_netdev(const struct vmr_config *cfg, const char *bdf, char **ret,
		   struct vmr_error **err)
{
	_cleanup_strv_ char **names = NULL;
	int r;

	if (!net_sysfs_exists(cfg, "bus/pci/devices/%s/net", bdf))
		return 0;
	r = net_sysfs_list(cfg, &names, err, "bus/pci/devices/%s/net", bdf);
	if (r < 0)
		return r;
	if (!names[0])
		return 0;
	*ret = xstrdup(names[0]);
	return 1;
}

static bool driver_harmless(const char *drv)
{
	return !drv || streq(drv, VFIO_DRIVER) || streq(drv, "pci-stub") || streq(drv, "pcieport");
}

static bool strv_contains(const char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (streq(*v, s))
			return true;
	return false;
}

int net_pci_group_viable(const struct vmr_config *cfg, const char *bdf, const char *const *ours,
			 long *ret_group, char **ret_why, struct vmr_error **err)
{
	_cleanup_free_ char *group = NULL;
	_cleanup_strv_ char **devs = NULL;
	unsigned long long g;
	int r;

	*ret_why = NULL;
	if (ret_group)
		*ret_group = -1;
	r = net_sysfs_link_name(cfg, &group, err, "bus/pci/devices/%s/iommu_group", bdf);
	if (r < 0)
		return r;
	if (r == 0) {
		*ret_why = xasprintf("'%s' has no IOMMU group (is the IOMMU enabled, "
				     "e.g. intel_iommu=on?)",
				     bdf);
		return 0;
	}
	if (parse_uint(group, 1u << 30, &g) < 0)
		return vmr_error_set(err, EINVAL, "IOMMU group of '%s': bad name '%s'", bdf, group);
	if (ret_group)
		*ret_group = (long)g;
	r = net_sysfs_list(cfg, &devs, err, "kernel/iommu_groups/%s/devices", group);
	if (r < 0)
		return r;
	for (char **d = devs; *d; d++) {
		_cleanup_free_ char *drv = NULL;

		if (streq(*d, bdf) || strv_contains(ours, *d))
			continue;
		r = net_pci_driver(cfg, *d, &drv, err);
		if (r < 0)
			return r;
		if (!driver_harmless(drv)) {
			*ret_why = xasprintf(
			    "'%s' shares IOMMU group %s with '%s', which is bound to '%s'", bdf,
			    group, *d, drv);
			return 0;
		}
	}
	return 1;
}

/* wait until bdf is bound to want (NULL: to nothing); 0 or -ETIMEDOUT */
static int wait_driver(const struct vmr_config *cfg, const char *bdf, const char *want,
		       char **ret_last, struct vmr_error **err)
{
	for (int i = 0; i < BIND_POLL_TRIES; i++) {
		_cleanup_free_ char *drv = NULL;
		int r = net_pci_driver(cfg, bdf, &drv, err);

		if (r < 0)
			return r;
		if ((r == 0 && !want) || (r > 0 && streq(drv, want)))
			return 0;
		if (i == BIND_POLL_TRIES - 1) {
			*ret_last = TAKE_PTR(drv);
			return -ETIMEDOUT;
		}
		sleep_ns(BIND_POLL_NS);
	}
	return -ETIMEDOUT;
}

/*
 * Whether a process of uid/gid (its groups: the gid only, which is what a
 * node's group is set to here) can open a node of st read-write.  The
 * kernel checks one class: owner, else group, else other.
 */
static bool node_rw_for(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return (st->st_mode & 0600) == 0600;
	if (st->st_gid == gid)
		return (st->st_mode & 0060) == 0060;
	return (st->st_mode & 0006) == 0006;
}

/*
 * With qemu_user, QEMU opens the node as that user (docs/security.md):
 * give it to the user's group, read-write.  A node we just made needs no
 * journal entry of its own (its net.node removes it); a node that was
 * there gets its owner and mode journaled first ("net.node_access").
 */
static int node_allow_qemu(const struct vmr_config *cfg, struct net_rec *rec, const char *path,
			   bool made, struct vmr_error **err)
{
	struct vmr_spawn_user u = {0};
	struct stat st;
	mode_t mode;
	int r;

	if (!cfg->qemu_user)
		return 0;
	r = vmr_spawn_user_lookup(cfg->qemu_user, &u, err);
	/* only its uid and primary group matter here */
	vmr_spawn_user_free(&u);
	if (r < 0)
		return vmr_error_wrap(err, "give '%s' to qemu_user", path);
	if (stat(path, &st) < 0)
		return vmr_error_set(err, errno, "stat '%s'", path);
	if (node_rw_for(&st, u.uid, u.gid))
		return 0;
	mode = (st.st_mode & 07777) | 0060;
	if (!made) {
		r = net_record(rec,
			       json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i}", "type",
					 "net.node_access", "path", path, "major",
					 (int)major(st.st_rdev), "minor", (int)minor(st.st_rdev),
					 "uid", (int)st.st_uid, "gid", (int)st.st_gid, "mode",
					 (int)(st.st_mode & 07777)),
			       err);
		if (r < 0)
			return r;
	}
	/* the owner stays (root): only the group and its bits change */
	if (chown(path, (uid_t)-1, u.gid) < 0)
		return vmr_error_set(err, errno, "give '%s' to group %u of qemu_user '%s'", path,
				     (unsigned)u.gid, cfg->qemu_user);
	if (chmod(path, mode) < 0)
		return vmr_error_set(err, errno, "chmod '%s' to %04o", path, (unsigned)mode);
	return 0;
}

/*
 * QEMU opens DEV/vfio/GROUP itself (host=); a container's private /dev may
 * lack it, so make it from sysfs like udev would.  The node is journaled.
 * With qemu_user, the node (made or found) is then read-write for that
 * user's group.
 */
static int ensure_vfio_node(const struct vmr_config *cfg, struct net_rec *rec, const char *sysdir,
			    const char *name, struct vmr_error **err)
{
	_cleanup_free_ char *path = NULL, *dir = NULL, *num = NULL;
	unsigned maj, min;
	struct stat st;
	char c;
	int r;

	dir = xasprintf("%s/vfio", net_dev_root(cfg));
	path = xasprintf("%s/%s", dir, name);
	if (stat(path, &st) == 0)
		return node_allow_qemu(cfg, rec, path, false, err);
	r = net_sysfs_read(cfg, &num, err, "%s/dev", sysdir);
	if (r < 0)
		return vmr_error_wrap(err, "create '%s'", path);
	if (sscanf(num, "%u:%u%c", &maj, &min, &c) != 2)
		return vmr_error_set(err, EINVAL, "create '%s': bad device number '%s'", path, num);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return vmr_error_set(err, errno, "create directory '%s'", dir);
	r = net_record(rec,
		       json_pack("{s:s, s:s, s:i, s:i}", "type", "net.node", "path", path, "major",
				 (int)maj, "minor", (int)min),
		       err);
	if (r < 0)
		return r;
	if (mknod(path, S_IFCHR | 0600, makedev(maj, min)) < 0 && errno != EEXIST)
		return vmr_error_set(err, errno, "create '%s' (%u:%u)", path, maj, min);
	return node_allow_qemu(cfg, rec, path, true, err);
}

int net_pci_bind_vfio(const struct vmr_config *cfg, struct net_rec *rec, const char *bdf,
		      struct vmr_error **err)
{
	_cleanup_free_ char *drv = NULL, *last = NULL, *group = NULL, *gdir = NULL;
	int r;

	if (!net_sysfs_exists(cfg, "bus/pci/devices/%s", bdf))
		return vmr_error_set(err, ENODEV, "PCI device '%s' not found", bdf);
	r = net_pci_driver(cfg, bdf, &drv, err);
	if (r < 0)
		return r;
	if (!streq(drv, VFIO_DRIVER)) {
		/* checked before anything changes: else the device is left driverless */
		if (!net_sysfs_exists(cfg, "bus/pci/drivers/" VFIO_DRIVER))
			return vmr_error_set(err, ENOENT,
					     "bind '%s' to vfio-pci: the vfio-pci driver is "
					     "not loaded (modprobe vfio-pci)",
					     bdf);
		r = net_record(
		    rec,
		    json_pack("{s:s, s:s, s:s?}", "type", "pci.driver", "bdf", bdf, "driver", drv),
		    err);
		if (r < 0)
			return r;
		if (drv) {
			r = net_sysfs_write(cfg, bdf, err, "bus/pci/drivers/%s/unbind", drv);
			if (r < 0)
				return vmr_error_wrap(err, "unbind '%s' from '%s'", bdf, drv);
		}
		r = net_sysfs_write(cfg, VFIO_DRIVER, err, "bus/pci/devices/%s/driver_override",
				    bdf);
		if (r < 0)
			return vmr_error_wrap(err, "bind '%s' to vfio-pci", bdf);
		r = net_sysfs_write(cfg, bdf, err, "bus/pci/drivers_probe");
		if (r < 0)
			return vmr_error_wrap(err, "bind '%s' to vfio-pci", bdf);
		r = wait_driver(cfg, bdf, VFIO_DRIVER, &last, err);
		if (r == -ETIMEDOUT)
			return vmr_error_set(err, ETIMEDOUT, "bind '%s' to vfio-pci: %s", bdf,
					     last ? "it is bound to another driver"
						  : "it stays unbound");
		if (r < 0)
			return r;
	}
	r = net_sysfs_link_name(cfg, &group, err, "bus/pci/devices/%s/iommu_group", bdf);
	if (r <= 0)
		return r < 0 ? r : vmr_error_set(err, ENOENT, "'%s' has no IOMMU group", bdf);
	r = ensure_vfio_node(cfg, rec, "class/misc/vfio", "vfio", err);
	if (r < 0)
		return r;
	gdir = xasprintf("class/vfio/%s", group);
	return ensure_vfio_node(cfg, rec, gdir, group, err);
}

/* "\n" clears the override (libvirt's virPCIDeviceUnbindFromStub) */
static int override_clear(const struct vmr_config *cfg, const char *bdf, struct vmr_error **err)
{
	_cleanup_free_ char *cur = NULL;
	int r;

	r = net_sysfs_read(cfg, &cur, err, "bus/pci/devices/%s/driver_override", bdf);
	if (r < 0)
		return r;
	/* the kernel shows an unset override as "(null)" */
	if (!cur[0] || streq(cur, "(null)"))
		return 0;
	return net_sysfs_write(cfg, "\n", err, "bus/pci/devices/%s/driver_override", bdf);
}

int net_pci_restore(const struct vmr_config *cfg, const char *bdf, const char *driver,
		    struct vmr_error **err)
{
	_cleanup_free_ char *cur = NULL, *last = NULL;
	int r;

	if (!net_sysfs_exists(cfg, "bus/pci/devices/%s", bdf))
		return 0; /* a VF removed with sriov_numvfs=0, or hot-unplugged */
	r = net_pci_driver(cfg, bdf, &cur, err);
	if (r < 0)
		return r;
	if (cur && streq(cur, driver))
		goto clear;
	/* only undo our own binding: another driver was chosen by someone else */
	if (cur && !streq(cur, VFIO_DRIVER))
		return 0;
	if (cur) {
		r = net_sysfs_write(cfg, bdf, err, "bus/pci/drivers/%s/unbind", VFIO_DRIVER);
		if (r < 0)
			return vmr_error_wrap(err, "unbind '%s' from vfio-pci", bdf);
	}
clear:
	r = override_clear(cfg, bdf, err);
	if (r < 0)
		return vmr_error_wrap(err, "give '%s' back to '%s'", bdf, driver ?: "no driver");
	if (!driver || (cur && streq(cur, driver)))
		return 0;
	r = net_sysfs_write(cfg, bdf, err, "bus/pci/drivers_probe");
	if (r < 0)
		return vmr_error_wrap(err, "give '%s' back to '%s'", bdf, driver);
	r = wait_driver(cfg, bdf, driver, &last, err);
	if (r == -ETIMEDOUT)
		return vmr_error_set(err, ETIMEDOUT, "give '%s' back to '%s': %s%s%s", bdf, driver,
				     last ? "it is bound to '" : "it stays unbound",
				     last ? last : "", last ? "'" : "");
	return r;
}

int net_vf_find(const struct vmr_config *cfg, const char *pf, const struct vmr_mac *mac,
		const struct net_vf *vfs, size_t nvfs, char **ret_bdf, struct vmr_error **err)
{
	_cleanup_free_ char *bdf = NULL;
	char mb[18];
	long index = -1;
	int r;

	vmr_mac_format(mac, mb);
	if (!net_sysfs_exists(cfg, "bus/pci/devices/%s", pf))
		return vmr_error_set(err, ENODEV, "PF '%s' not found", pf);
	if (vfs) {
		for (size_t i = 0; i < nvfs && index < 0; i++)
			if (vmr_mac_equal(&vfs[i].mac, mac))
				index = vfs[i].index;
	} else {
		/* no PF netdev to ask: VFs still on a net driver show their MAC */
		_cleanup_strv_ char **names = NULL;

		r = net_sysfs_list(cfg, &names, err, "bus/pci/devices/%s", pf);
		if (r < 0)
			return r;
		for (char **n = names; *n && index < 0; n++) {
			_cleanup_free_ char *vf = NULL, *ifname = NULL, *addr = NULL;
			unsigned long long k;
			struct vmr_mac m;

			if (!startswith(*n, "virtfn") || parse_uint(*n + 6, 1u << 16, &k) < 0)
				continue;
			if (net_sysfs_link_name(cfg, &vf, NULL, "bus/pci/devices/%s/%s", pf, *n) <=
			    0)
				continue;
			if (net_pci_netdev(cfg, vf, &ifname, NULL) <= 0)
				continue;
			if (net_sysfs_read(cfg, &addr, NULL, "bus/pci/devices/%s/net/%s/address",
					   vf, ifname) < 0)
				continue;
			if (vmr_mac_parse(addr, &m) == 0 && vmr_mac_equal(&m, mac))
				index = (long)k;
		}
	}
	if (index < 0) {
		r = vmr_error_set(err, ENODEV, "no VF of '%s' has MAC '%s'", pf, mb);
		vmr_error_hint(err, "'vmrun host up' assigns the VF MACs");
		return r;
	}
	r = net_sysfs_link_name(cfg, &bdf, err, "bus/pci/devices/%s/virtfn%ld", pf, index);
	if (r < 0)
		return r;
	if (r == 0)
		return vmr_error_set(err, ENODEV, "VF %ld of '%s' (MAC '%s') has no 'virtfn%ld'",
				     index, pf, mb, index);
	*ret_bdf = TAKE_PTR(bdf);
	return 0;
}

int net_sriov_set_numvfs(const struct vmr_config *cfg, struct net_rec *rec, const char *pf,
			 unsigned n, struct vmr_error **err)
{
	unsigned long total, cur, autoprobe;
	char num[32];
	int r;

	if (!net_sysfs_exists(cfg, "bus/pci/devices/%s", pf))
		return vmr_error_set(err, ENODEV, "PF '%s' not found", pf);
	if (!net_sysfs_exists(cfg, "bus/pci/devices/%s/sriov_totalvfs", pf))
		return vmr_error_usage(err, "'%s' is not SR-IOV capable (no sriov_totalvfs)", pf);
	r = net_sysfs_read_uint(cfg, &total, err, "bus/pci/devices/%s/sriov_totalvfs", pf);
	if (r < 0)
		return r;
	if (n > total)
		return vmr_error_usage(err, "'%s' has %lu VFs, %u needed", pf, total, n);
	r = net_sysfs_read_uint(cfg, &cur, err, "bus/pci/devices/%s/sriov_numvfs", pf);
	if (r < 0)
		return r;
	r = net_sysfs_read_uint(cfg, &autoprobe, err, "bus/pci/devices/%s/sriov_drivers_autoprobe",
				pf);
	if (r < 0)
		return r;
	if (cur == n)
		return 0;
	r = net_record(rec,
		       json_pack("{s:s, s:s, s:i, s:b}", "type", "sriov.numvfs", "pf", pf, "numvfs",
				 (int)cur, "autoprobe", autoprobe != 0),
		       err);
	if (r < 0)
		return r;
	/* no host driver may grab the new VFs: they go to vfio-pci */
	if (autoprobe) {
		r = net_sysfs_write(cfg, "0", err, "bus/pci/devices/%s/sriov_drivers_autoprobe",
				    pf);
		if (r < 0)
			return r;
	}
	/* the kernel refuses to change a non-zero count except through 0 */
	if (cur) {
		r = net_sysfs_write(cfg, "0", err, "bus/pci/devices/%s/sriov_numvfs", pf);
		if (r < 0)
			return vmr_error_wrap(err, "remove the VFs of '%s'", pf);
	}
	snprintf(num, sizeof(num), "%u", n);
	r = net_sysfs_write(cfg, num, err, "bus/pci/devices/%s/sriov_numvfs", pf);
	if (r < 0)
		return vmr_error_wrap(err, "create %u VFs on '%s'", n, pf);
	if (autoprobe) {
		r = net_sysfs_write(cfg, "1", err, "bus/pci/devices/%s/sriov_drivers_autoprobe",
				    pf);
		if (r < 0)
			return r;
	}
	return 0;
}
