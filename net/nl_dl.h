/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_NET_NL_DL_H
#define VMR_NET_NL_DL_H

/*
 * libnl-3 and libnl-route-3, loaded by the first net_nl_open() (lib/base/dlib.h)
 * instead of at every exec of vmrun: they carry 750 symbol and 1550 relative
 * relocations, the largest share of what the dynamic linker did for `vmrun up`
 * and every other verb, and their relocated pages stayed in every supervisor,
 * also of guests without NICs (docs/performance.md).  Included by net/nl.c
 * only, after libnl's headers: each function libnl gives net/nl.c is called
 * through a pointer of its own type, under its own name (the defines at the
 * end), so the calls read as before.
 */

#define NL_DL_LIBNL3 "libnl-3.so.200"
#define NL_DL_LIBNL_ROUTE "libnl-route-3.so.200"

/* the functions net/nl.c uses, by library */
#define NL_DL_LIBNL3_SYMS(X)                                                                       \
	X(nl_addr2str)                                                                             \
	X(nl_addr_build)                                                                           \
	X(nl_addr_get_binary_addr)                                                                 \
	X(nl_addr_get_len)                                                                         \
	X(nl_addr_put)                                                                             \
	X(nl_addr_set_prefixlen)                                                                   \
	X(nl_cache_foreach)                                                                        \
	X(nl_cache_free)                                                                           \
	X(nl_cache_get_first)                                                                      \
	X(nl_cache_get_next)                                                                       \
	X(nl_cb_clone)                                                                             \
	X(nl_cb_put)                                                                               \
	X(nl_cb_set)                                                                               \
	X(nl_connect)                                                                              \
	X(nl_geterror)                                                                             \
	X(nl_recvmsgs_report)                                                                      \
	X(nl_send_auto)                                                                            \
	X(nl_socket_alloc)                                                                         \
	X(nl_socket_enable_msg_peek)                                                               \
	X(nl_socket_free)                                                                          \
	X(nl_socket_get_cb)                                                                        \
	X(nl_socket_get_fd)                                                                        \
	X(nl_socket_modify_err_cb)                                                                 \
	X(nl_wait_for_ack)                                                                         \
	X(nla_nest_end)                                                                            \
	X(nla_nest_start)                                                                          \
	X(nla_put_string)                                                                          \
	X(nlmsg_alloc_simple)                                                                      \
	X(nlmsg_append)                                                                            \
	X(nlmsg_free)                                                                              \
	X(nlmsg_hdr)

#define NL_DL_LIBNL_ROUTE_SYMS(X)                                                                  \
	X(rtnl_addr_add)                                                                           \
	X(rtnl_addr_alloc)                                                                         \
	X(rtnl_addr_alloc_cache)                                                                   \
	X(rtnl_addr_get_family)                                                                    \
	X(rtnl_addr_get_ifindex)                                                                   \
	X(rtnl_addr_get_local)                                                                     \
	X(rtnl_addr_get_scope)                                                                     \
	X(rtnl_addr_put)                                                                           \
	X(rtnl_addr_set_ifindex)                                                                   \
	X(rtnl_addr_set_local)                                                                     \
	X(rtnl_link_alloc)                                                                         \
	X(rtnl_link_alloc_cache)                                                                   \
	X(rtnl_link_build_add_request)                                                             \
	X(rtnl_link_change)                                                                        \
	X(rtnl_link_delete)                                                                        \
	X(rtnl_link_get_addr)                                                                      \
	X(rtnl_link_get_flags)                                                                     \
	X(rtnl_link_get_ifalias)                                                                   \
	X(rtnl_link_get_ifindex)                                                                   \
	X(rtnl_link_get_kernel)                                                                    \
	X(rtnl_link_get_link)                                                                      \
	X(rtnl_link_get_master)                                                                    \
	X(rtnl_link_get_mtu)                                                                       \
	X(rtnl_link_get_name)                                                                      \
	X(rtnl_link_get_num_vf)                                                                    \
	X(rtnl_link_get_stat)                                                                      \
	X(rtnl_link_get_type)                                                                      \
	X(rtnl_link_has_vf_list)                                                                   \
	X(rtnl_link_macvlan_alloc)                                                                 \
	X(rtnl_link_macvlan_set_mode)                                                              \
	X(rtnl_link_macvtap_alloc)                                                                 \
	X(rtnl_link_macvtap_set_mode)                                                              \
	X(rtnl_link_put)                                                                           \
	X(rtnl_link_set_addr)                                                                      \
	X(rtnl_link_set_flags)                                                                     \
	X(rtnl_link_set_ifalias)                                                                   \
	X(rtnl_link_set_ifindex)                                                                   \
	X(rtnl_link_set_link)                                                                      \
	X(rtnl_link_set_master)                                                                    \
	X(rtnl_link_set_mtu)                                                                       \
	X(rtnl_link_set_name)                                                                      \
	X(rtnl_link_set_type)                                                                      \
	X(rtnl_link_unset_flags)                                                                   \
	X(rtnl_link_vf_add)                                                                        \
	X(rtnl_link_vf_alloc)                                                                      \
	X(rtnl_link_vf_get)                                                                        \
	X(rtnl_link_vf_get_addr)                                                                   \
	X(rtnl_link_vf_get_index)                                                                  \
	X(rtnl_link_vf_get_spoofchk)                                                               \
	X(rtnl_link_vf_get_trust)                                                                  \
	X(rtnl_link_vf_get_vlans)                                                                  \
	X(rtnl_link_vf_put)                                                                        \
	X(rtnl_link_vf_set_addr)                                                                   \
	X(rtnl_link_vf_set_index)                                                                  \
	X(rtnl_link_vf_set_spoofchk)                                                               \
	X(rtnl_link_vf_set_trust)                                                                  \
	X(rtnl_link_vf_set_vlans)                                                                  \
	X(rtnl_link_vf_vlan_alloc)                                                                 \
	X(rtnl_link_vf_vlan_put)                                                                   \
	X(rtnl_link_vlan_alloc)                                                                    \
	X(rtnl_link_vlan_set_id)                                                                   \
	X(rtnl_neigh_add)                                                                          \
	X(rtnl_neigh_alloc)                                                                        \
	X(rtnl_neigh_put)                                                                          \
	X(rtnl_neigh_set_dst)                                                                      \
	X(rtnl_neigh_set_ifindex)                                                                  \
	X(rtnl_neigh_set_lladdr)                                                                   \
	X(rtnl_neigh_set_state)                                                                    \
	X(rtnl_route_alloc_cache)                                                                  \
	X(rtnl_route_get_dst)                                                                      \
	X(rtnl_route_get_family)                                                                   \
	X(rtnl_route_get_nnexthops)                                                                \
	X(rtnl_route_get_protocol)                                                                 \
	X(rtnl_route_get_table)                                                                    \
	X(rtnl_route_nexthop_n)                                                                    \
	X(rtnl_route_nh_get_ifindex)

static struct {
#define NL_DL_FN(f) __typeof__(f) *f;
	NL_DL_LIBNL3_SYMS(NL_DL_FN) NL_DL_LIBNL_ROUTE_SYMS(NL_DL_FN)
#undef NL_DL_FN
} nl_dl;

/* Load both libraries once; later calls return 0 at once. */
static int nl_dl_load(struct vmr_error **err)
{
#define NL_DL_SYM(f) {#f, (void **)&nl_dl.f},
	static const struct vmr_dlib_sym nl3[] = {NL_DL_LIBNL3_SYMS(NL_DL_SYM)};
	static const struct vmr_dlib_sym route[] = {NL_DL_LIBNL_ROUTE_SYMS(NL_DL_SYM)};
#undef NL_DL_SYM
	static bool loaded;

	if (loaded)
		return 0;
	if (vmr_dlib_load(NL_DL_LIBNL3, "netlink (Debian package libnl-3-200)", nl3,
			  ARRAY_SIZE(nl3), err) < 0 ||
	    vmr_dlib_load(NL_DL_LIBNL_ROUTE, "netlink (Debian package libnl-route-3-200)", route,
			  ARRAY_SIZE(route), err) < 0)
		return -1;
	loaded = true;
	return 0;
}

/* clang-format off */
#define nl_addr2str (*nl_dl.nl_addr2str)
#define nl_addr_build (*nl_dl.nl_addr_build)
#define nl_addr_get_binary_addr (*nl_dl.nl_addr_get_binary_addr)
#define nl_addr_get_len (*nl_dl.nl_addr_get_len)
#define nl_addr_put (*nl_dl.nl_addr_put)
#define nl_addr_set_prefixlen (*nl_dl.nl_addr_set_prefixlen)
#define nl_cache_foreach (*nl_dl.nl_cache_foreach)
#define nl_cache_free (*nl_dl.nl_cache_free)
#define nl_cache_get_first (*nl_dl.nl_cache_get_first)
#define nl_cache_get_next (*nl_dl.nl_cache_get_next)
#define nl_cb_clone (*nl_dl.nl_cb_clone)
#define nl_cb_put (*nl_dl.nl_cb_put)
#define nl_cb_set (*nl_dl.nl_cb_set)
#define nl_connect (*nl_dl.nl_connect)
#define nl_geterror (*nl_dl.nl_geterror)
#define nl_recvmsgs_report (*nl_dl.nl_recvmsgs_report)
#define nl_send_auto (*nl_dl.nl_send_auto)
#define nl_socket_alloc (*nl_dl.nl_socket_alloc)
#define nl_socket_enable_msg_peek (*nl_dl.nl_socket_enable_msg_peek)
#define nl_socket_free (*nl_dl.nl_socket_free)
#define nl_socket_get_cb (*nl_dl.nl_socket_get_cb)
#define nl_socket_get_fd (*nl_dl.nl_socket_get_fd)
#define nl_socket_modify_err_cb (*nl_dl.nl_socket_modify_err_cb)
#define nl_wait_for_ack (*nl_dl.nl_wait_for_ack)
#define nla_nest_end (*nl_dl.nla_nest_end)
#define nla_nest_start (*nl_dl.nla_nest_start)
#define nla_put_string (*nl_dl.nla_put_string)
#define nlmsg_alloc_simple (*nl_dl.nlmsg_alloc_simple)
#define nlmsg_append (*nl_dl.nlmsg_append)
#define nlmsg_free (*nl_dl.nlmsg_free)
#define nlmsg_hdr (*nl_dl.nlmsg_hdr)
#define rtnl_addr_add (*nl_dl.rtnl_addr_add)
#define rtnl_addr_alloc (*nl_dl.rtnl_addr_alloc)
#define rtnl_addr_alloc_cache (*nl_dl.rtnl_addr_alloc_cache)
#define rtnl_addr_get_family (*nl_dl.rtnl_addr_get_family)
#define rtnl_addr_get_ifindex (*nl_dl.rtnl_addr_get_ifindex)
#define rtnl_addr_get_local (*nl_dl.rtnl_addr_get_local)
#define rtnl_addr_get_scope (*nl_dl.rtnl_addr_get_scope)
#define rtnl_addr_put (*nl_dl.rtnl_addr_put)
#define rtnl_addr_set_ifindex (*nl_dl.rtnl_addr_set_ifindex)
#define rtnl_addr_set_local (*nl_dl.rtnl_addr_set_local)
#define rtnl_link_alloc (*nl_dl.rtnl_link_alloc)
#define rtnl_link_alloc_cache (*nl_dl.rtnl_link_alloc_cache)
#define rtnl_link_build_add_request (*nl_dl.rtnl_link_build_add_request)
#define rtnl_link_change (*nl_dl.rtnl_link_change)
#define rtnl_link_delete (*nl_dl.rtnl_link_delete)
#define rtnl_link_get_addr (*nl_dl.rtnl_link_get_addr)
#define rtnl_link_get_flags (*nl_dl.rtnl_link_get_flags)
#define rtnl_link_get_ifalias (*nl_dl.rtnl_link_get_ifalias)
#define rtnl_link_get_ifindex (*nl_dl.rtnl_link_get_ifindex)
#define rtnl_link_get_kernel (*nl_dl.rtnl_link_get_kernel)
#define rtnl_link_get_link (*nl_dl.rtnl_link_get_link)
#define rtnl_link_get_master (*nl_dl.rtnl_link_get_master)
#define rtnl_link_get_mtu (*nl_dl.rtnl_link_get_mtu)
#define rtnl_link_get_name (*nl_dl.rtnl_link_get_name)
#define rtnl_link_get_num_vf (*nl_dl.rtnl_link_get_num_vf)
#define rtnl_link_get_stat (*nl_dl.rtnl_link_get_stat)
#define rtnl_link_get_type (*nl_dl.rtnl_link_get_type)
#define rtnl_link_has_vf_list (*nl_dl.rtnl_link_has_vf_list)
#define rtnl_link_macvlan_alloc (*nl_dl.rtnl_link_macvlan_alloc)
#define rtnl_link_macvlan_set_mode (*nl_dl.rtnl_link_macvlan_set_mode)
#define rtnl_link_macvtap_alloc (*nl_dl.rtnl_link_macvtap_alloc)
#define rtnl_link_macvtap_set_mode (*nl_dl.rtnl_link_macvtap_set_mode)
#define rtnl_link_put (*nl_dl.rtnl_link_put)
#define rtnl_link_set_addr (*nl_dl.rtnl_link_set_addr)
#define rtnl_link_set_flags (*nl_dl.rtnl_link_set_flags)
#define rtnl_link_set_ifalias (*nl_dl.rtnl_link_set_ifalias)
#define rtnl_link_set_ifindex (*nl_dl.rtnl_link_set_ifindex)
#define rtnl_link_set_link (*nl_dl.rtnl_link_set_link)
#define rtnl_link_set_master (*nl_dl.rtnl_link_set_master)
#define rtnl_link_set_mtu (*nl_dl.rtnl_link_set_mtu)
#define rtnl_link_set_name (*nl_dl.rtnl_link_set_name)
#define rtnl_link_set_type (*nl_dl.rtnl_link_set_type)
#define rtnl_link_unset_flags (*nl_dl.rtnl_link_unset_flags)
#define rtnl_link_vf_add (*nl_dl.rtnl_link_vf_add)
#define rtnl_link_vf_alloc (*nl_dl.rtnl_link_vf_alloc)
#define rtnl_link_vf_get (*nl_dl.rtnl_link_vf_get)
#define rtnl_link_vf_get_addr (*nl_dl.rtnl_link_vf_get_addr)
#define rtnl_link_vf_get_index (*nl_dl.rtnl_link_vf_get_index)
#define rtnl_link_vf_get_spoofchk (*nl_dl.rtnl_link_vf_get_spoofchk)
#define rtnl_link_vf_get_trust (*nl_dl.rtnl_link_vf_get_trust)
#define rtnl_link_vf_get_vlans (*nl_dl.rtnl_link_vf_get_vlans)
#define rtnl_link_vf_put (*nl_dl.rtnl_link_vf_put)
#define rtnl_link_vf_set_addr (*nl_dl.rtnl_link_vf_set_addr)
#define rtnl_link_vf_set_index (*nl_dl.rtnl_link_vf_set_index)
#define rtnl_link_vf_set_spoofchk (*nl_dl.rtnl_link_vf_set_spoofchk)
#define rtnl_link_vf_set_trust (*nl_dl.rtnl_link_vf_set_trust)
#define rtnl_link_vf_set_vlans (*nl_dl.rtnl_link_vf_set_vlans)
#define rtnl_link_vf_vlan_alloc (*nl_dl.rtnl_link_vf_vlan_alloc)
#define rtnl_link_vf_vlan_put (*nl_dl.rtnl_link_vf_vlan_put)
#define rtnl_link_vlan_alloc (*nl_dl.rtnl_link_vlan_alloc)
#define rtnl_link_vlan_set_id (*nl_dl.rtnl_link_vlan_set_id)
#define rtnl_neigh_add (*nl_dl.rtnl_neigh_add)
#define rtnl_neigh_alloc (*nl_dl.rtnl_neigh_alloc)
#define rtnl_neigh_put (*nl_dl.rtnl_neigh_put)
#define rtnl_neigh_set_dst (*nl_dl.rtnl_neigh_set_dst)
#define rtnl_neigh_set_ifindex (*nl_dl.rtnl_neigh_set_ifindex)
#define rtnl_neigh_set_lladdr (*nl_dl.rtnl_neigh_set_lladdr)
#define rtnl_neigh_set_state (*nl_dl.rtnl_neigh_set_state)
#define rtnl_route_alloc_cache (*nl_dl.rtnl_route_alloc_cache)
#define rtnl_route_get_dst (*nl_dl.rtnl_route_get_dst)
#define rtnl_route_get_family (*nl_dl.rtnl_route_get_family)
#define rtnl_route_get_nnexthops (*nl_dl.rtnl_route_get_nnexthops)
#define rtnl_route_get_protocol (*nl_dl.rtnl_route_get_protocol)
#define rtnl_route_get_table (*nl_dl.rtnl_route_get_table)
#define rtnl_route_nexthop_n (*nl_dl.rtnl_route_nexthop_n)
#define rtnl_route_nh_get_ifindex (*nl_dl.rtnl_route_nh_get_ifindex)
/* clang-format on */

#endif
