/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MAC, CIDR, PCI, interface name and size parsing. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/base/netaddr.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

static void test_mac(void)
{
	struct vmr_mac m, d1, d2, d3;
	struct in_addr a;
	char buf[18], b12[13];

	ok(vmr_mac_parse("52:DE:ac:19:a0:03", &m) == 0, "mac: mixed case parses");
	is_str(vmr_mac_format(&m, buf), "52:de:ac:19:a0:03", "mac: formats lowercase");
	is_str(vmr_mac_format12(&m, b12), "52deac19a003", "mac: 12-char form");
	ok(vmr_mac_parse("52-de-ac-19-a0-03", &m) == -EINVAL, "mac: dashes rejected");
	ok(vmr_mac_parse("52:de:ac:19:a0", &m) == -EINVAL, "mac: five bytes rejected");
	ok(vmr_mac_parse("52:de:ac:19:a0:0g", &m) == -EINVAL, "mac: non-hex rejected");
	ok(vmr_mac_parse("52:de:ac:19:a0:03:", &m) == -EINVAL, "mac: trailing colon rejected");
	ok(vmr_mac_parse("", &m) == -EINVAL && vmr_mac_parse(NULL, &m) == -EINVAL,
	   "mac: empty and NULL");
	vmr_mac_parse("01:00:5e:00:00:01", &m);
	ok(vmr_mac_is_multicast(&m), "mac: 01:... is multicast");
	vmr_mac_parse("00:00:00:00:00:00", &m);
	ok(vmr_mac_is_zero(&m) && !vmr_mac_is_multicast(&m), "mac: all zero");

	inet_pton(AF_INET, "172.25.160.3", &a);
	vmr_mac_from_ipv4(a, &m);
	is_str(vmr_mac_format(&m, buf), "52:de:ac:19:a0:03", "ip2mac 172.25.160.3");
	inet_pton(AF_INET, "172.25.161.255", &a);
	vmr_mac_from_ipv4(a, &m);
	is_str(vmr_mac_format(&m, buf), "52:de:ac:19:a1:ff", "ip2mac 172.25.161.255");

	vmr_mac_derive("a", "vmctrl", &d1);
	vmr_mac_derive("a", "vmctrl", &d2);
	vmr_mac_derive("b", "vmctrl", &d3);
	ok(vmr_mac_equal(&d1, &d2), "derive: stable");
	ok(!vmr_mac_equal(&d1, &d3), "derive: depends on the guest");
	vmr_mac_derive("a", "n3", &d3);
	ok(!vmr_mac_equal(&d1, &d3), "derive: depends on the nic");
	ok(d1.b[0] == 0x52 && d1.b[1] == 0x54 && !vmr_mac_is_multicast(&d1) && (d1.b[0] & 2),
	   "derive: locally administered unicast 52:54:...");
	/* the value is part of the user-visible contract: guests keep their MACs */
	/* FNV-1a of "a/vmctrl", computed independently */
	is_str(vmr_mac_format(&d1, buf), "52:54:de:1c:58:39", "derive: a/vmctrl value is fixed");
}

static void test_cidr(void)
{
	struct vmr_cidr c;
	char buf[64];

	ok(vmr_cidr_parse("172.25.160.3/24", &c) == 0 && c.family == AF_INET && c.prefix == 24,
	   "cidr: ipv4");
	is_str(vmr_cidr_format(&c, buf), "172.25.160.3/24", "cidr: formats back");
	ok(vmr_cidr_parse("fd00::3/64", &c) == 0 && c.family == AF_INET6 && c.prefix == 64,
	   "cidr: ipv6");
	is_str(vmr_cidr_format(&c, buf), "fd00::3/64", "cidr: ipv6 formats back");
	ok(vmr_cidr_parse("10.0.0.1/32", &c) == 0, "cidr: /32");
	ok(vmr_cidr_parse("10.0.0.1/33", &c) == -EINVAL, "cidr: /33 rejected");
	ok(vmr_cidr_parse("fd00::1/129", &c) == -EINVAL, "cidr: /129 rejected");
	ok(vmr_cidr_parse("10.0.0.1", &c) == -EINVAL, "cidr: prefix required");
	ok(vmr_cidr_parse("10.0.0.1/", &c) == -EINVAL, "cidr: empty prefix");
	ok(vmr_cidr_parse("10.0.0.1/+8", &c) == -EINVAL, "cidr: signed prefix");
	ok(vmr_cidr_parse("10.0.0/8", &c) == -EINVAL, "cidr: short address");
	ok(vmr_cidr_parse("/8", &c) == -EINVAL, "cidr: no address");
}

static void test_pci(void)
{
	struct vmr_pci_addr p, q;
	char buf[13];

	ok(vmr_pci_parse("0000:1A:00.1", &p) == 0 && p.bus == 0x1a && p.func == 1, "pci: full");
	is_str(vmr_pci_format(&p, buf), "0000:1a:00.1", "pci: canonical lowercase");
	ok(vmr_pci_parse("1a:00.1", &p) == -EINVAL, "pci: short form rejected");
	ok(vmr_pci_parse("0000:1a:00.8", &p) == -EINVAL, "pci: function 8 rejected");
	ok(vmr_pci_parse("0000:1a:20.0", &p) == -EINVAL, "pci: slot 0x20 rejected");
	ok(vmr_pci_parse("0000:1a:00:1", &p) == -EINVAL, "pci: wrong separator");
	ok(vmr_pci_parse("10000:1a:00.1", &p) == -EINVAL, "pci: long domain");
	vmr_pci_parse("0001:1a:1f.7", &p);
	is_str(vmr_pci_format(&p, buf), "0001:1a:1f.7", "pci: domain, slot and function kept");
	vmr_pci_parse("0001:1a:1f.7", &q);
	ok(vmr_pci_equal(&p, &q), "pci: equal");
	q.func = 6;
	ok(!vmr_pci_equal(&p, &q), "pci: not equal");
}

static void test_ifname(void)
{
	ok(vmr_ifname_valid("eth0"), "ifname: eth0");
	ok(vmr_ifname_valid("vm-52deac19a003"), "ifname: 15 chars");
	ok(!vmr_ifname_valid("vm-52deac19a0031"), "ifname: 16 chars");
	ok(!vmr_ifname_valid(""), "ifname: empty");
	ok(!vmr_ifname_valid(".") && !vmr_ifname_valid(".."), "ifname: . and ..");
	ok(!vmr_ifname_valid("a/b") && !vmr_ifname_valid("eth0:1") && !vmr_ifname_valid("a b"),
	   "ifname: slash, colon, space");
	ok(!vmr_ifname_valid(NULL), "ifname: NULL");
}

static void test_size(void)
{
	uint64_t v = 0;

	ok(vmr_size_parse("512", 1ull << 20, &v) == 0 && v == 512ull << 20, "size: bare MiB");
	ok(vmr_size_parse("4G", 1ull << 20, &v) == 0 && v == 4ull << 30, "size: 4G");
	ok(vmr_size_parse("64k", 1, &v) == 0 && v == 64ull << 10, "size: 64k");
	ok(vmr_size_parse("1T", 1, &v) == 0 && v == 1ull << 40, "size: 1T");
	ok(vmr_size_parse("0", 1, &v) == 0 && v == 0, "size: zero parses (callers check)");
	ok(vmr_size_parse("4GB", 1, &v) == -EINVAL, "size: 4GB rejected");
	ok(vmr_size_parse("4X", 1, &v) == -EINVAL, "size: unknown suffix");
	ok(vmr_size_parse("G", 1, &v) == -EINVAL, "size: suffix only");
	ok(vmr_size_parse("-1G", 1, &v) == -EINVAL, "size: negative");
	ok(vmr_size_parse("1.5G", 1, &v) == -EINVAL, "size: fraction");
	ok(vmr_size_parse("", 1, &v) == -EINVAL, "size: empty");
	ok(vmr_size_parse("20000000T", 1, &v) == -ERANGE, "size: overflow");
	ok(vmr_size_parse("99999999999999999999999", 1, &v) == -EINVAL ||
	       vmr_size_parse("99999999999999999999999", 1, &v) == -ERANGE,
	   "size: too many digits");
	ok(vmr_size_parse("18446744073709551615", 1, &v) == 0 && v == UINT64_MAX,
	   "size: the largest byte count");
	ok(vmr_size_parse("18446744073709551616", 1, &v) == -ERANGE, "size: one byte more");
	ok(vmr_size_parse("16777215T", 1, &v) == 0 && v == 16777215ull << 40, "size: largest in T");
	ok(vmr_size_parse("16777216T", 1, &v) == -ERANGE, "size: 2^64 in T");
	ok(vmr_size_parse("+4G", 1, &v) == -EINVAL && vmr_size_parse(" 4G", 1, &v) == -EINVAL,
	   "size: sign or blank before the digits");
}

int main(void)
{
	test_mac();
	test_cidr();
	test_pci();
	test_ifname();
	test_size();
	return tap_done();
}
