/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun's netlink path for bench/netlink.sh: create N macvtaps on PARENT the
 * way vmr_net_macvtap() does (net_link_create_raw(): one RTM_NEWLINK that
 * also brings the link up and asks for its echo, then net_link_mark(): the
 * owner mark by the echoed index, after a lookup by name only when the
 * kernel sent no echo), then delete them by index as the undo handler
 * does.  Prints "create MS" and "delete MS" for each round.
 *
 *   netlink_bench PARENT N ROUNDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lib/base/util.h"
#include "net/internal.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int fail(struct vmr_error *e)
{
	char *s = vmr_error_text(e);

	fprintf(stderr, "netlink_bench: %s\n", s);
	free(s);
	vmr_error_free(e);
	return 1;
}

int main(int argc, char **argv)
{
	struct vmr_nl nl = {0};
	struct vmr_error *err = NULL;
	struct net_link parent;
	unsigned long long n, rounds;
	int *idx;

	if (argc != 4 || parse_uint(argv[2], 4096, &n) < 0 ||
	    parse_uint(argv[3], 1000, &rounds) < 0) {
		fprintf(stderr, "usage: netlink_bench PARENT N ROUNDS\n");
		return 2;
	}
	if (net_nl_open(&nl, &err) < 0)
		return fail(err);
	if (net_link_lookup(&nl, argv[1], 0, &parent, &err) <= 0)
		return err ? fail(err) : (fprintf(stderr, "no '%s'\n", argv[1]), 1);
	idx = xcalloc(n, sizeof(*idx));
	for (unsigned long long r = 0; r < rounds; r++) {
		double t0 = now(), t1, t2;

		for (unsigned long long i = 0; i < n; i++) {
			char name[16], owner[64];
			struct vmr_mac mac = {
			    {0x52, 0xde, 0xbe, 0x0c, (uint8_t)(i >> 8), (uint8_t)i}};
			struct net_link_spec spec = {.name = name,
						     .kind = "macvtap",
						     .parent = parent.ifindex,
						     .mac = &mac,
						     .mode = VMR_NET_MACVTAP_BRIDGE,
						     .up = true};
			int rc, ifindex;

			snprintf(name, sizeof(name), "vmb%llu", i);
			snprintf(owner, sizeof(owner), "vmrun:bench:n%llu", i);
			rc = net_link_create_raw(&nl, &spec, &ifindex);
			if (rc < 0) {
				net_nl_fail(&nl, rc, &err, "create macvtap '%s'", name);
				return fail(err);
			}
			ifindex = net_link_mark(&nl, name, ifindex, owner, NULL, &err);
			if (ifindex < 0)
				return fail(err);
			idx[i] = ifindex;
		}
		t1 = now();
		for (unsigned long long i = 0; i < n; i++) {
			int rc = net_link_delete_raw(&nl, idx[i]);

			if (rc < 0) {
				net_nl_fail(&nl, rc, &err, "delete link %d", idx[i]);
				return fail(err);
			}
		}
		t2 = now();
		printf("create %.3f\ndelete %.3f\n", t1 - t0, t2 - t1);
	}
	free(idx);
	net_nl_close(&nl);
	return 0;
}
