/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Route netlink: links, addresses, neighbours and VF settings through
 * libnl-route-3.  libnl 3.7 drops the kernel's extended ack (it maps the
 * error to its own NLE_* code and never looks past struct nlmsgerr), so
 * the socket asks for extended acks and an error callback reads the
 * NLMSGERR_ATTR_MSG attribute with libmnl's attribute parser, as
 * iproute2's lib/libnetlink.c does.  That callback also keeps the kernel's
 * real errno, which libnl's NLE_* mapping loses (EADDRINUSE and EBUSY both
 * become vague codes on some paths).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/macvtap.h>
#include <netlink/route/link/sriov.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/base/buf.h"
#include "lib/base/dlib.h"
#include "lib/base/util.h"
#include "net/internal.h"
#include "net/net.h"
/* last: it names libnl's functions after its declarations */
#include "net/nl_dl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define IFF_UP_FLAG 0x1 /* IFF_UP: <net/if.h> and <linux/if.h> clash */

static void link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}
#define _cleanup_link_ _cleanup_(link_putp)

static void cache_freep(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}
#define _cleanup_cache_ _cleanup_(cache_freep)

static void addr_putp(struct nl_addr **a)
{
	if (*a)
		nl_addr_put(*a);
}
#define _cleanup_addr_ _cleanup_(addr_putp)

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	struct vmr_nl *nl = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(nl->extack, sizeof(nl->extack), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* libnl hands us the struct nlmsgerr inside the NLMSG_ERROR message it read */
static int error_cb(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct vmr_nl *nl = arg;
	const struct nlmsghdr *nlh = (const void *)((const char *)e - NLMSG_HDRLEN);
	unsigned off = sizeof(*e);

	nl->errnum = -e->error;
	nl->extack[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	/* without NLM_F_CAPPED the request is echoed before the TLVs */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (NLMSG_HDRLEN + off <= nlh->nlmsg_len)
		mnl_attr_parse(nlh, off, extack_attr_cb, nl);
	return NL_STOP;
}

static void nl_reset(struct vmr_nl *nl)
{
	nl->errnum = 0;
	nl->extack[0] = '\0';
}

int net_nl_open(struct vmr_nl *nl, struct vmr_error **err)
{
	int one = 1, r, fd;

	nl_reset(nl);
	nl->sk = NULL;
	if (nl_dl_load(err) < 0)
		return -1;
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return vmr_error_set(err, ENOMEM, "allocate netlink socket");
	r = nl_connect(nl->sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return vmr_error_set(err, EIO, "open route netlink socket: %s", nl_geterror(r));
	}
	fd = nl_socket_get_fd(nl->sk);
	/* libnl opens with SOCK_CLOEXEC; make sure of it for older builds */
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* both are best effort: kernels before 4.12 have no extended ack */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl_socket_enable_msg_peek(nl->sk);
	nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, error_cb, nl);
	return 0;
}

void net_nl_close(struct vmr_nl *nl)
{
	if (nl && nl->sk) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
	}
}

static int nle_to_errno(int r)
{
	switch (-r) {
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return ENODEV;
	case NLE_EXIST:
		return EEXIST;
	case NLE_BUSY:
		return EBUSY;
	case NLE_INVAL:
		return EINVAL;
	case NLE_PERM:
		return EPERM;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_RANGE:
		return ERANGE;
	default:
		return EIO;
	}
}

int net_nl_fail(struct vmr_nl *nl, int r, struct vmr_error **err, const char *fmt, ...)
{
	_cleanup_free_ char *ctx = NULL;
	va_list ap;
	int errnum;

	va_start(ap, fmt);
	ctx = xvasprintf(fmt, ap);
	va_end(ap);
	if (nl->errnum > 0) {
		errnum = nl->errnum;
		if (nl->extack[0])
			return vmr_error_set(err, errnum, "%s: %s", ctx, nl->extack);
		return vmr_error_set(err, errnum, "%s", ctx);
	}
	errnum = nle_to_errno(r);
	if (errnum == EIO)
		return vmr_error_set(err, errnum, "%s: %s", ctx, nl_geterror(r));
	return vmr_error_set(err, errnum, "%s", ctx);
}

static void link_fill(struct rtnl_link *l, struct net_link *ret)
{
	struct nl_addr *a;
	const char *s;

	memset(ret, 0, sizeof(*ret));
	ret->ifindex = rtnl_link_get_ifindex(l);
	snprintf(ret->name, sizeof(ret->name), "%s", rtnl_link_get_name(l) ?: "");
	s = rtnl_link_get_type(l);
	snprintf(ret->kind, sizeof(ret->kind), "%s", s ?: "");
	s = rtnl_link_get_ifalias(l);
	snprintf(ret->alias, sizeof(ret->alias), "%s", s ?: "");
	a = rtnl_link_get_addr(l);
	if (a && nl_addr_get_len(a) == 6) {
		memcpy(ret->mac.b, nl_addr_get_binary_addr(a), 6);
		ret->has_mac = true;
	}
	ret->mtu = rtnl_link_get_mtu(l);
	ret->flags = rtnl_link_get_flags(l);
	ret->master = rtnl_link_get_master(l);
	ret->link = rtnl_link_get_link(l);
}

int net_link_lookup(struct vmr_nl *nl, const char *name, int ifindex, struct net_link *ret,
		    struct vmr_error **err)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	int r;

	nl_reset(nl);
	r = rtnl_link_get_kernel(nl->sk, ifindex, ifindex ? NULL : name, &l);
	if (r < 0) {
		/* rtnl_link_get_kernel() reads the answer with its own error callback */
		if (nl->errnum == ENODEV ||
		    (!nl->errnum && (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)))
			return 0;
		if (ifindex)
			return net_nl_fail(nl, r, err, "look up interface %d", ifindex);
		return net_nl_fail(nl, r, err, "look up interface '%s'", name);
	}
	link_fill(l, ret);
	return 1;
}

int net_link_list(struct vmr_nl *nl, struct net_link **ret, size_t *ret_n, struct vmr_error **err)
{
	_cleanup_cache_ struct nl_cache *cache = NULL;
	struct net_link *v = NULL;
	size_t n = 0, alloc = 0;
	struct nl_object *o;
	int r;

	nl_reset(nl);
	r = rtnl_link_alloc_cache(nl->sk, AF_UNSPEC, &cache);
	if (r < 0)
		return net_nl_fail(nl, r, err, "list interfaces");
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		XGROW(v, alloc, n + 1);
		link_fill((struct rtnl_link *)o, &v[n++]);
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* kinds that copy their lower device's MAC, so a MAC names the lower one */
static bool kind_is_stacked(const char *kind)
{
	static const char *const stacked[] = {"vlan", "macvlan", "macvtap", "bridge",
					      "bond", "team",	 "ipvlan"};

	for (size_t i = 0; i < ARRAY_SIZE(stacked); i++)
		if (streq(kind, stacked[i]))
			return true;
	return false;
}

int net_link_find_mac(struct vmr_nl *nl, const struct vmr_mac *mac, struct net_link *ret,
		      struct vmr_error **err)
{
	_cleanup_free_ struct net_link *v = NULL;
	size_t n, found = 0, first = 0;
	char mb[18];
	int r;

	r = net_link_list(nl, &v, &n, err);
	if (r < 0)
		return r;
	vmr_mac_format(mac, mb);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].has_mac || !vmr_mac_equal(&v[i].mac, mac) || kind_is_stacked(v[i].kind))
			continue;
		if (found++ == 0) {
			first = i;
			continue;
		}
		return vmr_error_set(err, ENOTUNIQ,
				     "several host netifs have MAC '%s': '%s' and '%s'", mb,
				     v[first].name, v[i].name);
	}
	if (!found)
		return vmr_error_set(err, ENODEV, "host netif not found for '%s'", mb);
	*ret = v[first];
	return 0;
}

static int mac_addr(const struct vmr_mac *mac, struct nl_addr **ret)
{
	*ret = nl_addr_build(AF_LLC, mac->b, 6);
	return *ret ? 0 : -NLE_NOMEM;
}

static int macvlan_mode(enum vmr_net_macvtap_mode m)
{
	switch (m) {
	case VMR_NET_MACVTAP_VEPA:
		return MACVLAN_MODE_VEPA;
	case VMR_NET_MACVTAP_PRIVATE:
		return MACVLAN_MODE_PRIVATE;
	case VMR_NET_MACVTAP_PASSTHRU:
		return MACVLAN_MODE_PASSTHRU;
	case VMR_NET_MACVTAP_BRIDGE:
	default:
		return MACVLAN_MODE_BRIDGE;
	}
}

/* What the kernel echoes of a link it created (link_add_echo). */
struct add_echo {
	const char *name;
	int ifindex;
	bool acked;
};

static int echo_name_cb(const struct nlattr *attr, void *data)
{
	struct add_echo *e = data;

	if (mnl_attr_get_type(attr) == IFLA_IFNAME &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 &&
	    streq(mnl_attr_get_str(attr), e->name))
		return MNL_CB_STOP;
	return MNL_CB_OK;
}

/* libnl passes only messages of our request's sequence number here */
static int echo_valid_cb(struct nl_msg *msg, void *arg)
{
	const struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct add_echo *e = arg;
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return NL_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	/* MNL_CB_STOP: the callback found the name we created */
	if (ifi->ifi_index > 0 && mnl_attr_parse(nlh, sizeof(*ifi), echo_name_cb, e) == MNL_CB_STOP)
		e->ifindex = ifi->ifi_index;
	return NL_OK;
}

static int echo_ack_cb(struct nl_msg *msg, void *arg)
{
	struct add_echo *e = arg;

	(void)msg;
	e->acked = true;
	return NL_STOP;
}

/*
 * rtnl_link_add() with NLM_F_ECHO: Linux 6.3 and later send the new link
 * back before the ACK, which gives its ifindex without a lookup.  libnl's
 * nl_wait_for_ack() would return at the echo, so the replies are read
 * here until the ACK or the error; libnl checks that each has our
 * sequence number.  *ret_ifindex stays 0 when no echo came (older kernels).
 */
static int link_add_echo(struct vmr_nl *nl, struct rtnl_link *l, const char *name, int *ret_ifindex)
{
	struct add_echo e = {.name = name};
	struct nl_cb *sk_cb, *cb;
	struct nl_msg *msg = NULL;
	int r;

	r = rtnl_link_build_add_request(l, NLM_F_CREATE | NLM_F_EXCL, &msg);
	if (r < 0)
		return r;
	if (ret_ifindex)
		nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ECHO;
	r = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (r < 0)
		return r;
	/* a clone keeps the socket's error callback (error_cb) */
	sk_cb = nl_socket_get_cb(nl->sk);
	cb = nl_cb_clone(sk_cb);
	nl_cb_put(sk_cb);
	if (!cb)
		return -NLE_NOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, echo_valid_cb, &e);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, echo_ack_cb, &e);
	/*
	 * nl_recvmsgs_report() returns after each datagram (the echo and the
	 * ACK are two) with the number of messages it handled; none means the
	 * socket gave nothing, which must not become a wait for ever
	 */
	do
		r = nl_recvmsgs_report(nl->sk, cb);
	while (r > 0 && !e.acked);
	nl_cb_put(cb);
	if (r == 0)
		return -NLE_FAILURE;
	if (r < 0)
		return r;
	if (ret_ifindex)
		*ret_ifindex = e.ifindex;
	return 0;
}

int net_link_create_raw(struct vmr_nl *nl, const struct net_link_spec *spec, int *ret_ifindex)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	_cleanup_addr_ struct nl_addr *a = NULL;
	int r;

	nl_reset(nl);
	if (ret_ifindex)
		*ret_ifindex = 0;
	if (streq(spec->kind, "macvtap")) {
		l = rtnl_link_macvtap_alloc();
		if (l && (r = rtnl_link_macvtap_set_mode(l, macvlan_mode(spec->mode))) < 0)
			return r;
	} else if (streq(spec->kind, "macvlan")) {
		l = rtnl_link_macvlan_alloc();
		if (l && (r = rtnl_link_macvlan_set_mode(l, macvlan_mode(spec->mode))) < 0)
			return r;
	} else if (streq(spec->kind, "vlan")) {
		l = rtnl_link_vlan_alloc();
		if (l && (r = rtnl_link_vlan_set_id(l, spec->vlan_id)) < 0)
			return r;
	} else {
		l = rtnl_link_alloc();
		if (l && (r = rtnl_link_set_type(l, spec->kind)) < 0)
			return r;
	}
	if (!l)
		return -NLE_NOMEM;
	rtnl_link_set_name(l, spec->name);
	if (spec->parent > 0)
		rtnl_link_set_link(l, spec->parent);
	if (spec->mac) {
		r = mac_addr(spec->mac, &a);
		if (r < 0)
			return r;
		rtnl_link_set_addr(l, a);
	}
	if (spec->mtu)
		rtnl_link_set_mtu(l, spec->mtu);
	if (spec->up)
		rtnl_link_set_flags(l, IFF_UP_FLAG);
	return link_add_echo(nl, l, spec->name, ret_ifindex);
}

int net_link_mark(struct vmr_nl *nl, const char *name, int ifindex, const char *owner,
		  struct net_link *ret, struct vmr_error **err)
{
	struct net_link l;
	bool known = false;
	int r;

	if (ifindex <= 0) {
		r = net_link_lookup(nl, name, 0, &l, err);
		if (r == 0)
			return vmr_error_set(err, ENODEV,
					     "interface '%s' vanished after its creation", name);
		if (r < 0)
			return r;
		ifindex = l.ifindex;
		known = true;
	}
	r = net_link_change_raw(nl, ifindex, owner, 0, -1, -1, NULL);
	if (r < 0)
		return net_nl_fail(nl, r, err, "mark '%s' as '%s'", name, owner);
	if (!ret)
		return ifindex;
	if (!known) {
		r = net_link_lookup(nl, NULL, ifindex, &l, err);
		if (r == 0)
			return vmr_error_set(err, ENODEV, "interface '%s' vanished after its mark",
					     name);
		if (r < 0)
			return r;
	}
	*ret = l;
	snprintf(ret->alias, sizeof(ret->alias), "%s", owner);
	return ifindex;
}

int net_link_change_raw(struct vmr_nl *nl, int ifindex, const char *alias, unsigned mtu, int master,
			int up, const struct vmr_mac *mac)
{
	_cleanup_link_ struct rtnl_link *orig = NULL, *change = NULL;
	_cleanup_addr_ struct nl_addr *a = NULL;
	int r;

	nl_reset(nl);
	orig = rtnl_link_alloc();
	change = rtnl_link_alloc();
	if (!orig || !change)
		return -NLE_NOMEM;
	rtnl_link_set_ifindex(orig, ifindex);
	if (alias)
		rtnl_link_set_ifalias(change, alias);
	if (mtu)
		rtnl_link_set_mtu(change, mtu);
	if (master >= 0)
		rtnl_link_set_master(change, master);
	if (up > 0)
		rtnl_link_set_flags(change, IFF_UP_FLAG);
	else if (up == 0)
		rtnl_link_unset_flags(change, IFF_UP_FLAG);
	if (mac) {
		r = mac_addr(mac, &a);
		if (r < 0)
			return r;
		rtnl_link_set_addr(change, a);
	}
	return rtnl_link_change(nl->sk, orig, change, 0);
}

int net_link_delete_raw(struct vmr_nl *nl, int ifindex)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	int r;

	nl_reset(nl);
	l = rtnl_link_alloc();
	if (!l)
		return -NLE_NOMEM;
	rtnl_link_set_ifindex(l, ifindex);
	r = rtnl_link_delete(nl->sk, l);
	if (r < 0 && nl->errnum == ENODEV)
		return 0;
	return r;
}

int net_link_altname_raw(struct vmr_nl *nl, int ifindex, const char *altname, bool add)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct nlattr *list;
	struct nl_msg *msg;
	int r;

	nl_reset(nl);
	/* libnl 3.7 has no API for link properties: the message by hand */
	msg = nlmsg_alloc_simple(add ? RTM_NEWLINKPROP : RTM_DELLINKPROP,
				 add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	if (!msg)
		return -NLE_NOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(list = nla_nest_start(msg, IFLA_PROP_LIST)) ||
	    nla_put_string(msg, IFLA_ALT_IFNAME, altname) < 0) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	nla_nest_end(msg, list);
	r = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (r < 0)
		return r;
	return nl_wait_for_ack(nl->sk);
}

int net_link_count_uppers(struct vmr_nl *nl, int ifindex, size_t *ret, struct vmr_error **err)
{
	_cleanup_free_ struct net_link *v = NULL;
	size_t n, count = 0;
	int r;

	r = net_link_list(nl, &v, &n, err);
	if (r < 0)
		return r;
	/* a veth's IFLA_LINK is its peer, not a device it sits on */
	for (size_t i = 0; i < n; i++)
		if (v[i].ifindex != ifindex &&
		    (v[i].master == ifindex || (v[i].link == ifindex && !streq(v[i].kind, "veth"))))
			count++;
	*ret = count;
	return 0;
}

static int cidr_addr(const struct vmr_cidr *c, bool with_prefix, struct nl_addr **ret)
{
	*ret = nl_addr_build(c->family, &c->addr, c->family == AF_INET ? 4 : 16);
	if (!*ret)
		return -NLE_NOMEM;
	if (with_prefix)
		nl_addr_set_prefixlen(*ret, c->prefix);
	return 0;
}

int net_addr_add(struct vmr_nl *nl, int ifindex, const struct vmr_cidr *c, const char *ifname,
		 struct vmr_error **err)
{
	struct rtnl_addr *ra = NULL;
	_cleanup_addr_ struct nl_addr *a = NULL;
	char buf[64];
	int r;

	nl_reset(nl);
	r = cidr_addr(c, true, &a);
	if (r < 0)
		return net_nl_fail(nl, r, err, "add address '%s' to '%s'", vmr_cidr_format(c, buf),
				   ifname);
	ra = rtnl_addr_alloc();
	if (!ra)
		return vmr_error_set(err, ENOMEM, "allocate address");
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_local(ra, a);
	r = rtnl_addr_add(nl->sk, ra, NLM_F_REPLACE);
	rtnl_addr_put(ra);
	if (r < 0)
		return net_nl_fail(nl, r, err, "add address '%s' to '%s'", vmr_cidr_format(c, buf),
				   ifname);
	return 0;
}

int net_neigh_add(struct vmr_nl *nl, int ifindex, const struct vmr_cidr *ip,
		  const struct vmr_mac *mac, const char *ifname, struct vmr_error **err)
{
	struct rtnl_neigh *n = NULL;
	_cleanup_addr_ struct nl_addr *dst = NULL, *ll = NULL;
	char buf[64];
	int r;

	nl_reset(nl);
	r = cidr_addr(ip, false, &dst);
	if (r == 0)
		r = mac_addr(mac, &ll);
	if (r < 0)
		return net_nl_fail(nl, r, err, "add neighbour '%s' on '%s'",
				   vmr_cidr_format(ip, buf), ifname);
	n = rtnl_neigh_alloc();
	if (!n)
		return vmr_error_set(err, ENOMEM, "allocate neighbour");
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_dst(n, dst);
	rtnl_neigh_set_lladdr(n, ll);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	r = rtnl_neigh_add(nl->sk, n, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_neigh_put(n);
	if (r < 0)
		return net_nl_fail(nl, r, err, "add neighbour '%s' on '%s'",
				   vmr_cidr_format(ip, buf), ifname);
	return 0;
}

struct in_use_ctx {
	int ifindex;
	struct vmr_buf why;
};

static void addr_in_use_cb(struct nl_object *o, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	struct in_use_ctx *c = arg;
	char buf[INET6_ADDRSTRLEN + 8];

	if (rtnl_addr_get_ifindex(a) != c->ifindex)
		return;
	/* every IPv6-enabled link that is up has one: not a sign of use */
	if (rtnl_addr_get_family(a) == AF_INET6 && rtnl_addr_get_scope(a) == RT_SCOPE_LINK)
		return;
	if (c->why.len)
		return;
	vmr_buf_addf(&c->why, "it has address %s",
		     nl_addr2str(rtnl_addr_get_local(a), buf, sizeof(buf)));
}

static void route_in_use_cb(struct nl_object *o, void *arg)
{
	struct rtnl_route *rt = (struct rtnl_route *)o;
	struct in_use_ctx *c = arg;
	char buf[INET6_ADDRSTRLEN + 8];
	int n;

	if (c->why.len || rtnl_route_get_table(rt) != RT_TABLE_MAIN)
		return;
	/* kernel routes for link-local and multicast prefixes come with any link */
	if (rtnl_route_get_protocol(rt) == RTPROT_KERNEL && rtnl_route_get_family(rt) == AF_INET6)
		return;
	n = rtnl_route_get_nnexthops(rt);
	for (int i = 0; i < n; i++) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, i);

		if (rtnl_route_nh_get_ifindex(nh) == c->ifindex) {
			vmr_buf_addf(&c->why, "route %s goes through it",
				     nl_addr2str(rtnl_route_get_dst(rt), buf, sizeof(buf)));
			return;
		}
	}
}

int net_link_in_use(struct vmr_nl *nl, const struct net_link *l, char **ret_why,
		    struct vmr_error **err)
{
	_cleanup_cache_ struct nl_cache *addrs = NULL, *routes = NULL;
	struct in_use_ctx c = {.ifindex = l->ifindex};
	struct net_link m;
	int r;

	*ret_why = NULL;
	if (l->master) {
		r = net_link_lookup(nl, NULL, l->master, &m, err);
		if (r < 0)
			return r;
		*ret_why = xasprintf("it is a port of %s '%s'", m.kind[0] ? m.kind : "master",
				     r ? m.name : "?");
		return 0;
	}
	nl_reset(nl);
	r = rtnl_addr_alloc_cache(nl->sk, &addrs);
	if (r < 0)
		return net_nl_fail(nl, r, err, "list addresses");
	nl_cache_foreach(addrs, addr_in_use_cb, &c);
	if (!c.why.len) {
		r = rtnl_route_alloc_cache(nl->sk, AF_UNSPEC, 0, &routes);
		if (r < 0)
			return net_nl_fail(nl, r, err, "list routes");
		nl_cache_foreach(routes, route_in_use_cb, &c);
	}
	if (c.why.len)
		*ret_why = vmr_buf_detach(&c.why);
	return 0;
}

int net_vf_list(struct vmr_nl *nl, int ifindex, struct net_vf **ret, size_t *ret_n,
		struct vmr_error **err)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	struct net_vf *v = NULL;
	size_t n = 0, alloc = 0;
	int r;

	nl_reset(nl);
	r = rtnl_link_get_kernel(nl->sk, ifindex, NULL, &l);
	if (r < 0)
		return net_nl_fail(nl, r, err, "read VFs of interface %d", ifindex);
	if (rtnl_link_has_vf_list(l)) {
		uint32_t num = 0;

		(void)rtnl_link_get_num_vf(l, &num);
		for (uint32_t i = 0; i < num; i++) {
			struct rtnl_link_vf *vf = rtnl_link_vf_get(l, i);
			struct nl_addr *a = NULL;
			nl_vf_vlans_t *vl = NULL;
			uint32_t x = 0;

			if (!vf)
				continue;
			XGROW(v, alloc, n + 1);
			memset(&v[n], 0, sizeof(v[n]));
			(void)rtnl_link_vf_get_index(vf, &x);
			v[n].index = x;
			if (rtnl_link_vf_get_addr(vf, &a) == 0 && a && nl_addr_get_len(a) >= 6)
				memcpy(v[n].mac.b, nl_addr_get_binary_addr(a), 6);
			/* unlike the address, the VLAN list comes with a reference of its own */
			if (rtnl_link_vf_get_vlans(vf, &vl) == 0 && vl) {
				if (vl->size > 0)
					v[n].vlan = vl->vlans[0].vf_vlan;
				rtnl_link_vf_vlan_put(vl);
			}
			if (rtnl_link_vf_get_trust(vf, &x) == 0)
				v[n].trust = x;
			if (rtnl_link_vf_get_spoofchk(vf, &x) == 0)
				v[n].spoofchk = x;
			rtnl_link_vf_put(vf);
			n++;
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int net_vf_set(struct vmr_nl *nl, int ifindex, const char *pfname, const struct net_vf *vf,
	       struct vmr_error **err)
{
	_cleanup_link_ struct rtnl_link *orig = NULL, *change = NULL;
	_cleanup_addr_ struct nl_addr *a = NULL;
	struct rtnl_link_vf *v = NULL;
	nl_vf_vlans_t *vl = NULL;
	char mb[18];
	int r;

	nl_reset(nl);
	vmr_mac_format(&vf->mac, mb);
	orig = rtnl_link_alloc();
	change = rtnl_link_alloc();
	v = rtnl_link_vf_alloc();
	if (!orig || !change || !v || mac_addr(&vf->mac, &a) < 0 ||
	    rtnl_link_vf_vlan_alloc(&vl, 1) < 0) {
		if (v)
			rtnl_link_vf_put(v);
		return vmr_error_set(err, ENOMEM, "allocate VF settings");
	}
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_vf_set_index(v, vf->index);
	rtnl_link_vf_set_addr(v, a);
	vl->vlans[0].vf_vlan = vf->vlan;
	vl->vlans[0].vf_vlan_qos = 0;
	/* host order, as libnl parses it: 802.1Q goes out as the plain IFLA_VF_VLAN */
	vl->vlans[0].vf_vlan_proto = ETH_P_8021Q;
	rtnl_link_vf_set_vlans(v, vl);
	rtnl_link_vf_set_trust(v, vf->trust);
	rtnl_link_vf_set_spoofchk(v, vf->spoofchk);
	r = rtnl_link_vf_add(change, v);
	rtnl_link_vf_vlan_put(vl);
	rtnl_link_vf_put(v);
	if (r < 0)
		return net_nl_fail(nl, r, err, "set VF %u of '%s'", vf->index, pfname);
	r = rtnl_link_change(nl->sk, orig, change, 0);
	if (r < 0)
		return net_nl_fail(nl, r, err,
				   "set VF %u of '%s' (mac %s, vlan %u, trust %s, spoofchk %s)",
				   vf->index, pfname, mb, vf->vlan, vf->trust ? "on" : "off",
				   vf->spoofchk ? "on" : "off");
	return 0;
}

/* A link's counters (net/net.h): one RTM_GETLINK, the IFLA_STATS64 libnl keeps. */
int vmr_net_link_stats(const char *ifname, struct vmr_net_link_stats *ret, struct vmr_error **err)
{
	static const struct {
		rtnl_link_stat_id_t id;
		size_t off;
	} map[] = {
	    {RTNL_LINK_RX_BYTES, offsetof(struct vmr_net_link_stats, rx_bytes)},
	    {RTNL_LINK_TX_BYTES, offsetof(struct vmr_net_link_stats, tx_bytes)},
	    {RTNL_LINK_RX_PACKETS, offsetof(struct vmr_net_link_stats, rx_packets)},
	    {RTNL_LINK_TX_PACKETS, offsetof(struct vmr_net_link_stats, tx_packets)},
	    {RTNL_LINK_RX_ERRORS, offsetof(struct vmr_net_link_stats, rx_errors)},
	    {RTNL_LINK_TX_ERRORS, offsetof(struct vmr_net_link_stats, tx_errors)},
	    {RTNL_LINK_RX_DROPPED, offsetof(struct vmr_net_link_stats, rx_dropped)},
	    {RTNL_LINK_TX_DROPPED, offsetof(struct vmr_net_link_stats, tx_dropped)},
	};
	struct vmr_nl nl = {0};
	struct rtnl_link *l = NULL;
	int r;

	r = net_nl_open(&nl, err);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(nl.sk, 0, ifname, &l);
	if (r < 0) {
		if (nl.errnum == ENODEV ||
		    (!nl.errnum && (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)))
			r = vmr_error_set(err, ENODEV, "interface '%s' not found", ifname);
		else
			r = net_nl_fail(&nl, r, err, "look up interface '%s'", ifname);
		net_nl_close(&nl);
		return r;
	}
	*ret = (struct vmr_net_link_stats){.ifindex = rtnl_link_get_ifindex(l)};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		*(uint64_t *)((char *)ret + map[i].off) = rtnl_link_get_stat(l, map[i].id);
	rtnl_link_put(l);
	net_nl_close(&nl);
	return 0;
}
