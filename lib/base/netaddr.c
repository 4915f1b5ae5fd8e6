/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MAC, CIDR, PCI address, interface name and size parsing. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/base/netaddr.h"
#include "lib/base/util.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse exactly n hex digits at s; -1 when any is not a hex digit. */
static long hexn(const char *s, size_t n)
{
	long v = 0;

	for (size_t i = 0; i < n; i++) {
		int h = hexval(s[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

int vmr_mac_parse(const char *s, struct vmr_mac *ret)
{
	struct vmr_mac m;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (size_t i = 0; i < 6; i++) {
		long v = hexn(s + 3 * i, 2);

		if (v < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		m.b[i] = (uint8_t)v;
	}
	*ret = m;
	return 0;
}

char *vmr_mac_format(const struct vmr_mac *m, char buf[static 18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m->b[0], m->b[1], m->b[2], m->b[3],
		 m->b[4], m->b[5]);
	return buf;
}

char *vmr_mac_format12(const struct vmr_mac *m, char buf[static 13])
{
	snprintf(buf, 13, "%02x%02x%02x%02x%02x%02x", m->b[0], m->b[1], m->b[2], m->b[3], m->b[4],
		 m->b[5]);
	return buf;
}

bool vmr_mac_equal(const struct vmr_mac *a, const struct vmr_mac *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

void vmr_mac_derive(const char *guest, const char *nic, struct vmr_mac *ret)
{
	/*
	 * FNV-1a over "guest/nic": stable across versions and hosts, so a
	 * guest keeps its MACs (and its cloud-init matches) when re-created.
	 * 52:54 keeps it locally administered unicast and apart from the
	 * 52:de addresses that 5gdeploy derives from IPv4 addresses.
	 */
	uint32_t h = 2166136261u;
	const char *parts[] = {guest, "/", nic};

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		for (const unsigned char *p = (const unsigned char *)parts[i]; p && *p; p++) {
			h ^= *p;
			h *= 16777619u;
		}
	ret->b[0] = 0x52;
	ret->b[1] = 0x54;
	ret->b[2] = (uint8_t)(h >> 24);
	ret->b[3] = (uint8_t)(h >> 16);
	ret->b[4] = (uint8_t)(h >> 8);
	ret->b[5] = (uint8_t)h;
}

void vmr_mac_from_ipv4(struct in_addr a, struct vmr_mac *ret)
{
	const uint8_t *ip = (const uint8_t *)&a.s_addr; /* network byte order */

	ret->b[0] = 0x52;
	ret->b[1] = 0xde;
	memcpy(ret->b + 2, ip, 4);
}

int vmr_cidr_parse(const char *s, struct vmr_cidr *ret)
{
	_cleanup_free_ char *addr = NULL;
	const char *slash;
	unsigned long long prefix;
	struct vmr_cidr c = {0};

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash || slash == s)
		return -EINVAL;
	addr = xstrndup(s, (size_t)(slash - s));
	if (inet_pton(AF_INET, addr, &c.addr.v4) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &c.addr.v6) == 1)
		c.family = AF_INET6;
	else
		return -EINVAL;
	if (strlen(slash + 1) > 3 ||
	    parse_uint(slash + 1, c.family == AF_INET ? 32 : 128, &prefix) < 0)
		return -EINVAL;
	c.prefix = (unsigned)prefix;
	*ret = c;
	return 0;
}

char *vmr_cidr_format(const struct vmr_cidr *c, char buf[static 64])
{
	char a[INET6_ADDRSTRLEN] = "";

	inet_ntop(c->family, &c->addr, a, sizeof(a));
	snprintf(buf, 64, "%s/%u", a, c->prefix);
	return buf;
}

char *vmr_addr_format(const struct vmr_cidr *c, char buf[static 64])
{
	buf[0] = '\0';
	inet_ntop(c->family, &c->addr, buf, 64);
	return buf;
}

int vmr_pci_parse(const char *s, struct vmr_pci_addr *ret)
{
	long d, b, sl, f;

	/* DDDD:BB:SS.F, exactly; the short BB:SS.F form is ambiguous on multi-domain hosts */
	if (!s || strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.')
		return -EINVAL;
	d = hexn(s, 4);
	b = hexn(s + 5, 2);
	sl = hexn(s + 8, 2);
	f = hexn(s + 11, 1);
	if (d < 0 || b < 0 || sl < 0 || f < 0 || sl > 0x1f || f > 7)
		return -EINVAL;
	ret->domain = (unsigned)d;
	ret->bus = (unsigned)b;
	ret->slot = (unsigned)sl;
	ret->func = (unsigned)f;
	return 0;
}

char *vmr_pci_format(const struct vmr_pci_addr *p, char buf[static 13])
{
	snprintf(buf, 13, "%04x:%02x:%02x.%x", p->domain & 0xffff, p->bus & 0xff, p->slot & 0x1f,
		 p->func & 7);
	return buf;
}

bool vmr_pci_equal(const struct vmr_pci_addr *a, const struct vmr_pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot &&
	       a->func == b->func;
}

bool vmr_ifname_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	/* the kernel's dev_valid_name(): IFNAMSIZ is 16 including the NUL */
	if (n == 0 || n > 15 || streq(s, ".") || streq(s, ".."))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p == '/' || *p == ':' || isspace(*p))
			return false;
	return true;
}

int vmr_size_parse(const char *s, uint64_t default_unit, uint64_t *ret)
{
	_cleanup_free_ char *num = NULL;
	uint64_t unit = default_unit;
	unsigned long long v;
	size_t digits;
	int r;

	if (!s)
		return -EINVAL;
	digits = strspn(s, "0123456789");
	if (s[digits]) {
		if (s[digits + 1])
			return -EINVAL;
		switch (s[digits]) {
		case 'k':
		case 'K':
			unit = 1ull << 10;
			break;
		case 'm':
		case 'M':
			unit = 1ull << 20;
			break;
		case 'g':
		case 'G':
			unit = 1ull << 30;
			break;
		case 't':
		case 'T':
			unit = 1ull << 40;
			break;
		default:
			return -EINVAL;
		}
	}
	num = xstrndup(s, digits);
	r = parse_uint(num, unit ? UINT64_MAX / unit : UINT64_MAX, &v);
	if (r < 0)
		return r;
	*ret = v * unit;
	return 0;
}
