/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_NETADDR_H
#define VMR_NETADDR_H

/* MAC addresses, IPv4/IPv6 CIDRs and PCI addresses: parsing and formatting. */

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

struct vmr_mac {
	uint8_t b[6];
};

/* "52:de:ac:19:a0:03" (case-insensitive, ':' separators only). 0 or -EINVAL. */
int vmr_mac_parse(const char *s, struct vmr_mac *ret);
/* Lowercase "xx:xx:xx:xx:xx:xx" into buf (at least 18 bytes). Returns buf. */
char *vmr_mac_format(const struct vmr_mac *m, char buf[static 18]);
/* Lowercase hex without colons, 12 chars + NUL. */
char *vmr_mac_format12(const struct vmr_mac *m, char buf[static 13]);
static inline bool vmr_mac_is_multicast(const struct vmr_mac *m)
{
	return m->b[0] & 1;
}
static inline bool vmr_mac_is_zero(const struct vmr_mac *m)
{
	return !(m->b[0] | m->b[1] | m->b[2] | m->b[3] | m->b[4] | m->b[5]);
}
/* Byte-wise equality. */
bool vmr_mac_equal(const struct vmr_mac *a, const struct vmr_mac *b);
/*
 * Stable default guest MAC for (guest, nic): locally administered unicast
 * 52:54:xx:xx:xx:xx-style, derived from a hash of "guest/nic".
 */
void vmr_mac_derive(const char *guest, const char *nic, struct vmr_mac *ret);
/* 5gdeploy's ip2mac: 52:de followed by the 4 bytes of the IPv4 address. */
void vmr_mac_from_ipv4(struct in_addr a, struct vmr_mac *ret);

struct vmr_cidr {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	unsigned prefix;
};

/* "172.25.160.3/24" or "fd00::3/64"; the prefix is required. 0 or -EINVAL. */
int vmr_cidr_parse(const char *s, struct vmr_cidr *ret);
/* Text form into buf (at least 64 bytes). Returns buf. */
char *vmr_cidr_format(const struct vmr_cidr *c, char buf[static 64]);
/* The address alone, without the prefix ("172.25.160.3"), into buf. Returns buf. */
char *vmr_addr_format(const struct vmr_cidr *c, char buf[static 64]);

/* Full PCI address "DDDD:BB:SS.F" (hex, case-insensitive). */
struct vmr_pci_addr {
	unsigned domain, bus, slot, func;
};
/* Slot above 0x1f or function above 7 is invalid too.  0 or -EINVAL. */
int vmr_pci_parse(const char *s, struct vmr_pci_addr *ret);
/* Lowercase canonical "0000:1a:00.1" into buf (at least 13 bytes). */
char *vmr_pci_format(const struct vmr_pci_addr *p, char buf[static 13]);
/* All four fields equal. */
bool vmr_pci_equal(const struct vmr_pci_addr *a, const struct vmr_pci_addr *b);

/*
 * Interface names as the kernel accepts them (dev_valid_name): 1..15 bytes,
 * not "." or "..", no '/', ':' or whitespace.
 */
bool vmr_ifname_valid(const char *s);

/*
 * Parse a size "4G", "512M", "20G", "1T", "64K"; a bare number is
 * default_unit bytes (1 << 20 for memory given in MiB).  Binary units.
 * Returns 0 and bytes in *ret, or -EINVAL / -ERANGE.
 */
int vmr_size_parse(const char *s, uint64_t default_unit, uint64_t *ret);

#endif
