/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What this host's kernel and devices give guests (`vmrun probe`): the
 * same checks the supervisor makes before it relies on a feature, so a
 * test or a user asks vmrun rather than guessing.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "lib/base/util.h"
#include "net/internal.h"

int vmr_net_probe_device(const struct vmr_config *cfg, const char *node, char **ret_why)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", net_dev_root(cfg), node);
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		*ret_why = xasprintf("open '%s': %s", path, strerror(errno));
		return 0;
	}
	close(fd);
	*ret_why = NULL;
	return 1;
}

/*
 * In the child, in a network namespace of its own: a link of kind (on a
 * bridge, for the kinds that need a lower device).  Writes the reason of a failure to fd.
 */
static _Noreturn void probe_kind_child(const char *kind, int fd)
{
	/* a bridge is the parent: the one Ethernet-like kind every kernel here has */
	struct net_link_spec lower = {.name = "vmrprobe0", .kind = "bridge", .up = true};
	struct net_link_spec spec = {.name = "vmrprobe1", .kind = kind, .up = true};
	struct vmr_error *e = NULL;
	struct net_link l;
	struct vmr_nl nl;
	char *why = NULL;
	int r;

	if (unshare(CLONE_NEWNET) < 0) {
		why = xasprintf("cannot probe in a private network namespace: unshare: %s",
				strerror(errno));
		goto out;
	}
	if (net_nl_open(&nl, &e) < 0) {
		why = vmr_error_text(e);
		goto out;
	}
	if (!streq(kind, "bridge")) {
		r = net_link_create_raw(&nl, &lower, NULL);
		if (r < 0 || net_link_lookup(&nl, lower.name, 0, &l, &e) <= 0) {
			net_nl_fail(&nl, r, &e, "create a bridge to put a %s link on", kind);
			why = vmr_error_text(e);
			goto out;
		}
		spec.parent = l.ifindex;
		spec.vlan_id = 7;
	}
	r = net_link_create_raw(&nl, &spec, NULL);
	if (r < 0) {
		net_nl_fail(&nl, r, &e, "create a %s link", kind);
		why = vmr_error_text(e);
	}
out:
	if (why)
		(void)write_all(fd, why, strlen(why));
	_exit(why ? 1 : 0);
}

int vmr_net_probe_kind(const char *kind, char **ret_why)
{
	_cleanup_close_ int rd = -1;
	char buf[512];
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		*ret_why = xasprintf("pipe: %s", strerror(errno));
		return 0;
	}
	pid = fork();
	if (pid < 0) {
		*ret_why = xasprintf("fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return 0;
	}
	if (pid == 0) {
		close(p[0]);
		probe_kind_child(kind, p[1]);
	}
	close(p[1]);
	rd = p[0];
	n = read(rd, buf, sizeof(buf) - 1);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		*ret_why = NULL;
		return 1;
	}
	if (n > 0) {
		buf[n] = '\0';
		*ret_why = xstrdup(buf);
	} else {
		*ret_why = xasprintf("the probe for '%s' links failed", kind);
	}
	return 0;
}

int vmr_net_probe_iommu(const struct vmr_config *cfg, char **ret_why)
{
	_cleanup_free_ char *groups = net_sysfs_path(cfg, "kernel/iommu_groups");
	char **names = NULL;
	size_t n = 0;
	int r;

	r = net_sysfs_list(cfg, &names, NULL, "kernel/iommu_groups");
	if (r >= 0)
		for (n = 0; names && names[n]; n++)
			free(names[n]);
	free(names);
	if (r < 0 || n == 0) {
		*ret_why = xasprintf("no IOMMU groups in '%s': the IOMMU is off or absent "
				     "(intel_iommu=on or amd_iommu=on on the kernel command line)",
				     groups);
		return 0;
	}
	return vmr_net_probe_device(cfg, "vfio/vfio", ret_why);
}
