/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_TESTS_NSTEST_H
#define VMR_TESTS_NSTEST_H

/*
 * Helpers for net/ unit tests that need a network namespace of their own.
 * ns_enter() moves the test process into a new, unnamed network namespace
 * (and a private mount namespace with that namespace's sysfs mounted on a
 * temporary directory), so nothing the test does can reach the machine's
 * interfaces, and the kernel deletes every virtual link when the process
 * exits, whatever happens.  Header-only: each tests/unit/ file is one binary.
 */

#include <errno.h>
#include <ftw.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/strvec.h"
#include "lib/base/util.h"
#include "net/internal.h"

struct ns_env {
	char tmp[64];	/* scratch directory (state dir, journal) */
	char sysfs[96]; /* this namespace's sysfs */
	struct vmr_nl nl;
};

/* Returns NULL with a reason in *why when the test cannot run here. */
static inline struct ns_env *ns_enter(const char **why)
{
	static struct ns_env env;

	if (geteuid() != 0) {
		*why = "needs root (network namespaces)";
		return NULL;
	}
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		*why = "unshare(CLONE_NEWNET|CLONE_NEWNS) failed";
		return NULL;
	}
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
		*why = "cannot make mounts private";
		return NULL;
	}
	snprintf(env.tmp, sizeof(env.tmp), "/tmp/vmrt-net-XXXXXX");
	if (!mkdtemp(env.tmp)) {
		*why = "mkdtemp failed";
		return NULL;
	}
	snprintf(env.sysfs, sizeof(env.sysfs), "%s/sys", env.tmp);
	/* a sysfs mounted from inside the namespace shows its class/net */
	if (mkdir(env.sysfs, 0755) < 0 || mount("sysfs", env.sysfs, "sysfs", 0, NULL) < 0) {
		*why = "cannot mount sysfs for the namespace";
		return NULL;
	}
	if (net_nl_open(&env.nl, NULL) < 0) {
		*why = "no route netlink socket";
		return NULL;
	}
	return &env;
}

static int ns_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static inline void ns_leave(struct ns_env *env)
{
	if (!env)
		return;
	net_nl_close(&env->nl);
	umount2(env->sysfs, MNT_DETACH);
	/* the scratch tree holds only our own files (sysfs is unmounted) */
	nftw(env->tmp, ns_rm_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* a veth pair a <-> b, both up, a with MAC mac (may be NULL) */
static inline int ns_veth(struct ns_env *env, const char *a, const char *b, const char *mac)
{
	struct rtnl_link *l = NULL, *peer;
	struct net_link la, lb;
	struct vmr_mac m;
	int r;

	l = rtnl_link_veth_alloc();
	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, a);
	peer = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(peer, b);
	rtnl_link_put(peer);
	r = rtnl_link_add(env->nl.sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (r < 0)
		return r;
	if (net_link_lookup(&env->nl, a, 0, &la, NULL) <= 0 ||
	    net_link_lookup(&env->nl, b, 0, &lb, NULL) <= 0)
		return -ENODEV;
	if (mac && vmr_mac_parse(mac, &m) == 0)
		r = net_link_change_raw(&env->nl, la.ifindex, NULL, 0, -1, 1, &m);
	else
		r = net_link_change_raw(&env->nl, la.ifindex, NULL, 0, -1, 1, NULL);
	if (r == 0)
		r = net_link_change_raw(&env->nl, lb.ifindex, NULL, 0, -1, 1, NULL);
	return r;
}

static int ns_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "name kind alias" of every link, sorted, one per line (caller frees) */
static inline char *ns_links(struct ns_env *env)
{
	struct net_link *v = NULL;
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	size_t n = 0, len = 0;
	char *out, *p;

	if (net_link_list(&env->nl, &v, &n, NULL) < 0)
		return xstrdup("(error)");
	for (size_t i = 0; i < n; i++)
		vmr_strvec_pushf(&sv, "%s %s %s", v[i].name, v[i].kind, v[i].alias);
	free(v);
	if (sv.n)
		qsort(sv.v, sv.n, sizeof(char *), ns_cmp);
	for (size_t i = 0; i < sv.n; i++)
		len += strlen(sv.v[i]) + 1;
	out = p = xcalloc(1, len + 1);
	for (size_t i = 0; i < sv.n; i++) {
		size_t l = strlen(sv.v[i]);

		memcpy(p, sv.v[i], l);
		p[l] = '\n';
		p += l + 1;
	}
	vmr_strvec_clear(&sv);
	return out;
}

#endif
