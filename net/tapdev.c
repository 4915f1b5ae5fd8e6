/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tap character devices: the macvtap node (/dev/tapN, or one made from
 * sysfs when the container's /dev lacks it), /dev/net/tun taps and
 * vhost-net.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/fsutil.h"
#include "lib/base/util.h"
#include "net/internal.h"

/* the sysfs entry appears with the link; allow a slow host 2 s */
#define NODE_WAIT_TRIES 200
#define NODE_WAIT_NS (10 * 1000 * 1000)

static void sleep_ns(long ns)
{
	struct timespec ts = {0, ns};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* close the first n queue fds (a failed open leaves -1 behind) */
static void close_queues(int *fds, unsigned n)
{
	while (n-- > 0)
		if (fds[n] >= 0) {
			close(fds[n]);
			fds[n] = -1;
		}
}

/* "246:1" from sysfs, waiting for the entry the kernel adds with the link */
static int macvtap_devnum(const struct vmr_config *cfg, const char *ifname, int ifindex, dev_t *ret,
			  struct vmr_error **err)
{
	_cleanup_free_ char *s = NULL;
	unsigned maj, min;
	char c;
	int r = 0;

	for (int i = 0; i < NODE_WAIT_TRIES; i++) {
		struct vmr_error *e = NULL;

		r = net_sysfs_read(cfg, &s, &e, "class/net/%s/macvtap/tap%d/dev", ifname, ifindex);
		if (r == 0)
			break;
		if (r != -ENOENT || i == NODE_WAIT_TRIES - 1) {
			if (err && !*err)
				*err = e;
			else
				vmr_error_free(e);
			return vmr_error_wrap(err, "find the tap device of macvtap '%s'", ifname);
		}
		vmr_error_free(e);
		sleep_ns(NODE_WAIT_NS);
	}
	if (sscanf(s, "%u:%u%c", &maj, &min, &c) != 2)
		return vmr_error_set(
		    err, EINVAL, "tap device of macvtap '%s': bad device number '%s'", ifname, s);
	*ret = makedev(maj, min);
	return 0;
}

int net_macvtap_open(const struct vmr_config *cfg, const char *guest, const char *ifname,
		     int ifindex, unsigned queues, int *fds, struct vmr_error **err)
{
	_cleanup_free_ char *devpath = NULL, *dir = NULL, *node = NULL;
	const char *path;
	struct stat st;
	unsigned q;
	dev_t dev;
	int r;

	r = macvtap_devnum(cfg, ifname, ifindex, &dev, err);
	if (r < 0)
		return r;
	/* ifindexes are per network namespace: /dev/tapN may be another netns's tap */
	devpath = xasprintf("%s/tap%d", net_dev_root(cfg), ifindex);
	if (stat(devpath, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == dev) {
		path = devpath;
	} else {
		dir = xasprintf("%s/%s/dev", cfg->state_dir, guest);
		r = vmr_mkdir_p(dir, 0700);
		if (r < 0)
			return vmr_error_set(err, -r, "create directory '%s'", dir);
		node = xasprintf("%s/tap%d", dir, ifindex);
		if (unlink(node) < 0 && errno != ENOENT)
			return vmr_error_set(err, errno, "remove stale node '%s'", node);
		if (mknod(node, S_IFCHR | 0600, dev) < 0)
			return vmr_error_set(err, errno,
					     "create tap node '%s' (%u:%u) for macvtap '%s'", node,
					     major(dev), minor(dev), ifname);
		path = node;
	}
	/* each open is one queue of the macvtap (drivers/net/tap.c) */
	for (q = 0; q < queues; q++) {
		struct ifreq ifr;

		fds[q] = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fds[q] < 0) {
			r = vmr_error_set(err, errno, "open '%s' (macvtap '%s')", path, ifname);
			goto fail;
		}
		memset(&ifr, 0, sizeof(ifr));
		if (ioctl(fds[q], TUNGETIFF, &ifr) < 0) {
			r = vmr_error_set(err, errno, "query '%s' (macvtap '%s')", path, ifname);
			q++;
			goto fail;
		}
		if (!streq(ifr.ifr_name, ifname)) {
			r = vmr_error_set(err, ENXIO,
					  "'%s' is the tap of '%s', not of macvtap '%s'", path,
					  ifr.ifr_name, ifname);
			q++;
			goto fail;
		}
	}
	/* the fds keep the device; a node left behind would only confuse */
	if (node)
		(void)unlink(node);
	return 0;
fail:
	close_queues(fds, q);
	if (node)
		(void)unlink(node);
	return r;
}

int net_tun_open(const struct vmr_config *cfg, const char *ifname, unsigned queues, int *fds,
		 struct vmr_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/net/tun", net_dev_root(cfg));
	unsigned q;
	int r;

	if (strlen(ifname) >= IFNAMSIZ)
		return vmr_error_set(err, EINVAL, "tap name '%s' is too long", ifname);
	for (q = 0; q < queues; q++) {
		struct ifreq ifr;

		fds[q] = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fds[q] < 0) {
			r = vmr_error_set(err, errno, "open '%s'", path);
			goto fail;
		}
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		if (queues > 1)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
		if (ioctl(fds[q], TUNSETIFF, &ifr) < 0) {
			r = vmr_error_set(err, errno, "attach to tap '%s'%s", ifname,
					  queues > 1 ? " (multiqueue)" : "");
			q++;
			goto fail;
		}
	}
	return 0;
fail:
	close_queues(fds, q);
	return r;
}

int net_vhost_open(const struct vmr_config *cfg, int *ret_fd, struct vmr_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/vhost-net", net_dev_root(cfg));
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return vmr_error_set(err, errno, "open '%s'", path);
	*ret_fd = fd;
	return 0;
}
