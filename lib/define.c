/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * 5gdeploy's --vm syntax -> topology.  The address scheme follows 5gdeploy's
 * compose/ipalloc.ts as used by virt/main.ts, so guests keep the addresses
 * (and therefore the ip2mac MACs) they had under 5gdeploy.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <yaml.h>

#include "lib/buf.h"
#include "lib/define.h"
#include "lib/util.h"

void vmr_define_defaults_init(struct vmr_define_defaults *d)
{
	*d = (struct vmr_define_defaults){
	    .memory = "4G",
	    .accel = "auto",
	    .cpu_isolation = true,
	};
}

/* --- errors ------------------------------------------------------------- */

/* "--vm #N 'VALUE': MSG" with a usage status. */
static int _printf_(4, 5)
    flag_fail(struct vmr_error **err, size_t idx, const char *value, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmr_error_setv(err, VMR_EXIT_USAGE, EINVAL, fmt, ap);
	va_end(ap);
	vmr_error_wrap(err, "--vm #%zu '%s'", idx, value);
	return -EINVAL;
}

/* --- small parsers ------------------------------------------------------ */

/*
 * Well-formed UTF-8: no overlong forms, surrogates or code points above
 * U+10FFFF.  libyaml's emitter checks less (it writes a surrogate as
 * "\ud800", which its own reader then refuses), so the loader's rule is
 * checked here.
 */
static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p, n, cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		/* stops at the first non-continuation byte, so never reads past the NUL */
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

/* UTF-8 text without control characters (tab allowed when tab is true). */
static bool text_valid_tab(const char *s, bool tab)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && !(tab && *p == '\t')) || *p == 0x7f)
			return false;
	return utf8_valid(s);
}

static bool text_valid(const char *s)
{
	return text_valid_tab(s, false);
}

/* Printable ASCII from '!' to '~': no blanks, no control characters. */
static bool ascii_word(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return false;
	return true;
}

static char *strip(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/*
 * 5gdeploy's splitVbar: split on " | " when the value contains it,
 * otherwise on "\s*\|\s*".  Parts are stripped of surrounding blanks.
 */
static void split_vbar(const char *s, struct vmr_strvec *ret)
{
	bool spaced = strstr(s, " | ") != NULL;
	const char *p = s;

	for (;;) {
		const char *bar = spaced ? strstr(p, " | ") : strchr(p, '|');

		if (!bar) {
			vmr_strvec_push_take(ret, strip(p, strlen(p)));
			return;
		}
		vmr_strvec_push_take(ret, strip(p, (size_t)(bar - p)));
		p = bar + (spaced ? 3 : 1);
	}
}

static bool is_vf(const char *s)
{
	return strcasecmp(s, "vf") == 0;
}

/* A host netif given as MAC (kept in canonical lowercase) or as interface name. */
static int host_netif_parse(const char *s, char **ret)
{
	struct vmr_mac mac;

	if (vmr_mac_parse(s, &mac) == 0) {
		char buf[18];

		if (vmr_mac_is_multicast(&mac) || vmr_mac_is_zero(&mac))
			return -EINVAL;
		*ret = xstrdup(vmr_mac_format(&mac, buf));
		return 0;
	}
	/* no ':' in interface names, so a MAC typo cannot pass for one */
	if (!vmr_ifname_valid(s))
		return -EINVAL;
	/* the kernel takes any byte but these, which YAML cannot carry as they are */
	if (!ascii_word(s))
		return -EINVAL;
	*ret = xstrdup(s);
	return 0;
}

static struct in_addr net_address(const struct vmr_define *d, size_t net, unsigned octet)
{
	struct in_addr a;

	a.s_addr = htonl(ntohl(d->space.s_addr) + (uint32_t)net * 256u + octet);
	return a;
}

int vmr_define_ssh_keys_parse(const char *text, const char *source, struct vmr_strvec *keys,
			      struct vmr_error **err)
{
	static const char *const types[] = {"ssh-", "ecdsa-", "sk-"};
	struct vmr_strvec found = VMR_STRVEC_INIT;
	const char *p = text;
	unsigned lineno = 0;
	int added;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		_cleanup_free_ char *line = strip(p, len);
		bool typed = false;

		lineno++;
		p += len + (nl ? 1 : 0);
		if (!*line || line[0] == '#')
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(types); i++)
			typed = typed || startswith(line, types[i]);
		typed = typed && text_valid_tab(line, true);
		if (!typed || !strpbrk(line, " \t")) {
			vmr_strvec_clear(&found);
			return vmr_error_usage(err,
					       "%s line %u: not an OpenSSH public key (expected "
					       "'ssh-ed25519 AAAA... comment')",
					       source, lineno);
		}
		vmr_strvec_push_take(&found, TAKE_PTR(line));
	}
	if (found.n == 0)
		return vmr_error_usage(err, "%s: no public key found", source);
	/* keys changes only on success */
	vmr_strvec_pushv(keys, (const char *const *)found.v);
	added = (int)found.n;
	vmr_strvec_clear(&found);
	return added;
}

/* --- building ----------------------------------------------------------- */

static void nic_clear(struct vmr_define_nic *n)
{
	free(n->name);
	free(n->parent);
}

static void guest_clear(struct vmr_define_guest *g)
{
	free(g->name);
	free(g->host);
	vmr_cpuset_free(&g->cpuset);
	for (size_t i = 0; i < g->nnics; i++)
		nic_clear(&g->nics[i]);
	free(g->nics);
}

void vmr_define_free(struct vmr_define *d)
{
	if (!d)
		return;
	free(d->ctrlif);
	vmr_strvec_clear(&d->networks);
	vmr_strvec_clear(&d->hosts);
	for (size_t i = 0; i < d->nguests; i++)
		guest_clear(&d->guests[i]);
	free(d->guests);
	free(d->memory);
	free(d->cpu);
	free(d->accel);
	free(d->image);
	vmr_strvec_clear(&d->ssh_keys);
	free(d);
}

static void define_freep(struct vmr_define **d)
{
	vmr_define_free(*d);
}

static int ip_space_parse(struct vmr_define *d, const char *s, struct vmr_error **err)
{
	struct vmr_cidr c;
	uint32_t mask;

	if (vmr_cidr_parse(s, &c) < 0 || c.family != AF_INET)
		return vmr_error_usage(err, "--ip-space '%s': expected an IPv4 CIDR like '%s'", s,
				       VMR_DEFINE_IP_SPACE);
	if (c.prefix > VMR_DEFINE_MIN_SPACE_PREFIX)
		return vmr_error_usage(err, "--ip-space '%s': /%u or larger address space required",
				       s, VMR_DEFINE_MIN_SPACE_PREFIX);
	/* like 5gdeploy (netmask's netLong), host bits of the base are ignored */
	mask = c.prefix == 0 ? 0 : ~0u << (32 - c.prefix);
	d->space.s_addr = htonl(ntohl(c.addr.v4.s_addr) & mask);
	d->space_prefix = c.prefix;
	return 0;
}

static int defaults_check(struct vmr_define *d, const struct vmr_define_defaults *o,
			  struct vmr_error **err)
{
	uint64_t bytes;

	if (!o->memory || vmr_size_parse(o->memory, 1u << 20, &bytes) < 0)
		return vmr_error_usage(err,
				       "--memory '%s': expected a size like '4G' or '4096' (MiB)",
				       o->memory ? o->memory : "");
	if (bytes < VMR_GUEST_MEMORY_MIN)
		return vmr_error_usage(err, "--memory '%s': at least %lluM", o->memory,
				       VMR_GUEST_MEMORY_MIN >> 20);
	if (!o->accel ||
	    (!streq(o->accel, "auto") && !streq(o->accel, "kvm") && !streq(o->accel, "tcg")))
		return vmr_error_usage(err, "--accel '%s': expected 'auto', 'kvm' or 'tcg'",
				       o->accel ? o->accel : "");
	if (o->cpu) {
		if (!*o->cpu || !ascii_word(o->cpu))
			return vmr_error_usage(
			    err, "--cpu '%s': expected a QEMU CPU model like 'host'", o->cpu);
		d->cpu = xstrdup(o->cpu);
	} else {
		/* 5gdeploy turns nested virtualization off; TCG has no "host" model */
		d->cpu = xstrdup(streq(o->accel, "tcg") ? "max,-vmx,-svm" : "host,-vmx,-svm");
	}
	if (o->image && (!*o->image || !text_valid(o->image)))
		return vmr_error_usage(err,
				       "--image '%s': expected the path of a disk image (UTF-8, "
				       "no control characters)",
				       o->image);
	d->memory = xstrdup(o->memory);
	d->accel = xstrdup(o->accel);
	d->image = xstrdup(o->image);
	d->cpu_isolation = o->cpu_isolation;
	return 0;
}

/* "HOST(CPUSET)"; HOST may be empty (the primary host), the cpuset is required. */
static int placement_parse(struct vmr_define_guest *g, const char *s, size_t idx, const char *vm,
			   struct vmr_error **err)
{
	_cleanup_free_ char *host = NULL, *set = NULL, *bad = NULL;
	const char *open = strchr(s, '('), *why = NULL;
	size_t len = strlen(s);

	if (strpbrk(s, "@ \t") || (open && (len < 2 || s[len - 1] != ')')))
		return flag_fail(err, idx, vm, "invalid placement '%s': expected HOST(CPUSET)", s);
	if (!open)
		return flag_fail(err, idx, vm,
				 "guest '%s' must have a cpuset: placement '%s' has no '(CPUSET)'",
				 g->name, s);
	host = xstrndup(s, (size_t)(open - s));
	set = xstrndup(open + 1, len - (size_t)(open - s) - 2);
	if (strpbrk(host, "()") || strspn(set, "0123456789,-") != strlen(set))
		return flag_fail(err, idx, vm, "invalid placement '%s': expected HOST(CPUSET)", s);
	/* the host is both a topology host name and the address compose.sh uses */
	if (*host && (!vmr_host_name_valid(host) || !vmr_host_address_valid(host)))
		return flag_fail(err, idx, vm,
				 "invalid host '%s' in placement '%s': expected an IP address or a "
				 "lowercase host name",
				 host, s);
	if (!*set)
		return flag_fail(err, idx, vm,
				 "guest '%s' must have a cpuset: placement '%s' has "
				 "an empty '()'",
				 g->name, s);
	if (vmr_cpuset_parse(set, &g->cpuset, &bad, &why) < 0)
		return flag_fail(err, idx, vm, "invalid cpuset '%s': %s%s%s%s", set,
				 why ? why : "bad syntax", bad ? " '" : "", bad ? bad : "",
				 bad ? "'" : "");
	if (g->cpuset.n > VMR_GUEST_VCPUS_MAX)
		return flag_fail(err, idx, vm, "cpuset '%s' has %zu CPUs, at most %u vCPUs", set,
				 g->cpuset.n, VMR_GUEST_VCPUS_MAX);
	if (*host)
		g->host = TAKE_PTR(host);
	return 0;
}

/* One netif item, already stripped: NAME@HOSTIF[+pci=PCI]. */
static int nic_parse(struct vmr_define_nic *n, const char *item, size_t idx, const char *vm,
		     const char *guest, struct vmr_error **err)
{
	const char *at = strchr(item, '@'), *hostif, *plus;
	_cleanup_free_ char *name = NULL, *left = NULL;

	if (!at || strchr(at + 1, '@'))
		return flag_fail(err, idx, vm,
				 "invalid netif '%s': expected GUESTIF@HOSTIF with "
				 "exactly one '@'",
				 item);
	name = xstrndup(item, (size_t)(at - item));
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p); /* 5gdeploy lowercases it */
	if (!vmr_nic_name_valid(name))
		return flag_fail(err, idx, vm,
				 "invalid netif name '%s' in '%s': expected a letter "
				 "followed by up to 14 letters or digits",
				 name, item);
	if (streq(name, VMR_DEFINE_RESERVED_NET))
		return flag_fail(err, idx, vm,
				 "netif name '%s' in '%s' is reserved (5gdeploy's "
				 "image build network)",
				 name, item);
	hostif = at + 1;
	plus = strcasestr(hostif, "+pci=");
	if (!plus) {
		if (is_vf(hostif)) {
			flag_fail(err, idx, vm,
				  "netif '%s' of guest '%s': '%s' needs '+pci=PF' (the "
				  "PCI address of the SR-IOV physical function)",
				  item, guest, hostif);
			vmr_error_hint(err, "write '%s@VF+pci=0000:1a:00.0'", name);
			return -EINVAL;
		}
		n->kind = VMR_NIC_MACVTAP;
		if (host_netif_parse(hostif, &n->parent) < 0)
			return flag_fail(err, idx, vm,
					 "invalid host netif '%s' in netif '%s': "
					 "expected a unicast MAC address or an interface name",
					 hostif, item);
		n->name = TAKE_PTR(name);
		return 0;
	}
	left = xstrndup(hostif, (size_t)(plus - hostif));
	if (vmr_pci_parse(plus + 5, &n->pci) < 0)
		return flag_fail(err, idx, vm,
				 "invalid PCI address '%s' in netif '%s': expected "
				 "the full form DDDD:BB:SS.F (like 0000:1a:00.1)",
				 plus + 5, item);
	if (is_vf(left)) {
		n->kind = VMR_NIC_VF;
	} else if (vmr_mac_parse(left, &n->mac) == 0) {
		if (vmr_mac_is_multicast(&n->mac) || vmr_mac_is_zero(&n->mac))
			return flag_fail(err, idx, vm,
					 "host MAC '%s' in netif '%s' is not a unicast "
					 "address",
					 left, item);
		n->kind = VMR_NIC_PCI;
	} else {
		return flag_fail(err, idx, vm,
				 "invalid netif '%s': '+pci=' must follow the host "
				 "MAC address (passthrough) or 'VF' (SR-IOV), not '%s'",
				 item, left);
	}
	n->name = TAKE_PTR(name);
	return 0;
}

static int nics_parse(struct vmr_define_guest *g, const char *s, size_t idx, const char *vm,
		      struct vmr_error **err)
{
	size_t alloc = 0;
	const char *p = s;
	bool ctrl = false;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		_cleanup_free_ char *item = strip(p, len);
		struct vmr_define_nic *n;
		int r;

		if (!*item)
			return flag_fail(err, idx, vm, "empty netif in '%s'", s);
		XGROW(g->nics, alloc, g->nnics + 1);
		n = &g->nics[g->nnics];
		*n = (struct vmr_define_nic){0};
		r = nic_parse(n, item, idx, vm, g->name, err);
		if (r < 0) {
			nic_clear(n);
			return r;
		}
		g->nnics++;
		for (size_t i = 0; i + 1 < g->nnics; i++)
			if (streq(g->nics[i].name, n->name))
				return flag_fail(err, idx, vm, "duplicate netif '%s' in guest '%s'",
						 n->name, g->name);
		if (streq(n->name, VMR_DEFINE_CTRL_NET))
			ctrl = true;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!ctrl)
		return flag_fail(err, idx, vm,
				 "guest '%s' has no '%s' netif (every guest needs one "
				 "for the control network)",
				 g->name, VMR_DEFINE_CTRL_NET);
	return 0;
}

static bool same_host(const struct vmr_define_guest *a, const struct vmr_define_guest *b)
{
	return a->host ? streq(a->host, b->host) : !b->host;
}

/* Checks against the guests already accepted. */
static int guest_check_others(const struct vmr_define *d, const struct vmr_define_guest *g,
			      size_t idx, const char *vm, struct vmr_error **err)
{
	for (size_t i = 0; i < d->nguests; i++) {
		const struct vmr_define_guest *o = &d->guests[i];
		long cpu;

		if (streq(o->name, g->name))
			return flag_fail(err, idx, vm, "duplicate guest name '%s' (also --vm #%zu)",
					 g->name, o->flag);
		if (!same_host(o, g))
			continue;
		cpu = vmr_cpuset_first_common(&o->cpuset, &g->cpuset);
		if (cpu >= 0) {
			_cleanup_free_ char *a = vmr_cpuset_format(&g->cpuset);
			_cleanup_free_ char *b = vmr_cpuset_format(&o->cpuset);

			_cleanup_free_ char *where =
			    g->host ? xasprintf("host '%s'", g->host) : xstrdup("the primary host");

			return flag_fail(err, idx, vm,
					 "cpuset '%s' of guest '%s' overlaps cpuset '%s' "
					 "of guest '%s' (--vm #%zu) on %s: CPU %ld is in both",
					 a, g->name, b, o->name, o->flag, where, cpu);
		}
		/* PCI addresses are per host: a device is used once, a PF only for VFs */
		for (size_t j = 0; j < g->nnics; j++) {
			const struct vmr_define_nic *n = &g->nics[j];

			if (n->kind == VMR_NIC_MACVTAP)
				continue;
			for (size_t k = 0; k < o->nnics; k++) {
				const struct vmr_define_nic *m = &o->nics[k];
				char buf[13];

				if (m->kind == VMR_NIC_MACVTAP ||
				    !vmr_pci_equal(&n->pci, &m->pci) ||
				    (n->kind == VMR_NIC_VF && m->kind == VMR_NIC_VF))
					continue;
				return flag_fail(err, idx, vm,
						 "PCI device '%s' of netif '%s' is already "
						 "used by netif '%s' of guest '%s' (--vm #%zu)%s",
						 vmr_pci_format(&n->pci, buf), n->name, m->name,
						 o->name, o->flag,
						 n->kind != m->kind
						     ? ": a passed-through device cannot "
						       "also provide VFs"
						     : "");
			}
		}
	}
	/* within the guest too */
	for (size_t j = 0; j < g->nnics; j++)
		for (size_t k = 0; k < j; k++) {
			const struct vmr_define_nic *n = &g->nics[j], *m = &g->nics[k];
			char buf[13];

			if (n->kind == VMR_NIC_MACVTAP || m->kind == VMR_NIC_MACVTAP ||
			    !vmr_pci_equal(&n->pci, &m->pci) ||
			    (n->kind == VMR_NIC_VF && m->kind == VMR_NIC_VF))
				continue;
			return flag_fail(err, idx, vm,
					 "PCI device '%s' of netif '%s' is already used "
					 "by netif '%s' of guest '%s'",
					 vmr_pci_format(&n->pci, buf), n->name, m->name, g->name);
		}
	return 0;
}

static size_t network_find(const struct vmr_define *d, const char *name)
{
	for (size_t i = 0; i < d->networks.n; i++)
		if (streq(d->networks.v[i], name))
			return i;
	return (size_t)-1;
}

/* Give each netif its /24 and the guest its host octet, then the MACs. */
static int guest_addresses(struct vmr_define *d, struct vmr_define_guest *g, size_t idx,
			   const char *vm, const char *ip_space, struct vmr_error **err)
{
	size_t max = (size_t)1 << (24 - d->space_prefix);
	struct vmr_mac ctrl_mac;

	g->octet = VMR_DEFINE_FIRST_GUEST_OCTET + (unsigned)d->nguests;
	if (g->octet > VMR_DEFINE_LAST_GUEST_OCTET)
		return flag_fail(err, idx, vm,
				 "too many guests: guest '%s' would be number %zu, at "
				 "most %u fit in a /24",
				 g->name, d->nguests + 1,
				 VMR_DEFINE_LAST_GUEST_OCTET - VMR_DEFINE_FIRST_GUEST_OCTET + 1);
	for (size_t i = 0; i < g->nnics; i++) {
		struct vmr_define_nic *n = &g->nics[i];
		size_t net = network_find(d, n->name);

		if (net == (size_t)-1) {
			if (d->networks.n >= max)
				return flag_fail(err, idx, vm,
						 "too many networks: netif '%s' would need "
						 "/24 number %zu of --ip-space '%s', which has %zu "
						 "(at most %zu netif names, '%s' is reserved)",
						 n->name, d->networks.n + 1, ip_space, max, max - 1,
						 VMR_DEFINE_RESERVED_NET);
			net = d->networks.n;
			vmr_strvec_push(&d->networks, n->name);
		}
		n->net = net;
		n->ip = net_address(d, net, g->octet);
		if (n->kind != VMR_NIC_PCI)
			vmr_mac_from_ipv4(n->ip, &n->mac);
	}
	/* passthrough MACs come from the user and could repeat, or be the ctrlif's */
	vmr_mac_from_ipv4(d->ctrlif_ip, &ctrl_mac);
	for (size_t i = 0; i < g->nnics; i++) {
		const struct vmr_define_nic *n = &g->nics[i];

		if (vmr_mac_equal(&n->mac, &ctrl_mac)) {
			char buf[18];

			return flag_fail(err, idx, vm,
					 "guest MAC '%s' of netif '%s' is already used by the "
					 "ctrlif",
					 vmr_mac_format(&n->mac, buf), n->name);
		}

		for (size_t j = 0; j <= d->nguests; j++) {
			const struct vmr_define_guest *o = j < d->nguests ? &d->guests[j] : g;
			size_t end = j < d->nguests ? o->nnics : i;

			for (size_t k = 0; k < end; k++) {
				char buf[18];

				if (!vmr_mac_equal(&n->mac, &o->nics[k].mac))
					continue;
				return flag_fail(err, idx, vm,
						 "guest MAC '%s' of netif '%s' is already "
						 "used by netif '%s' of guest '%s'",
						 vmr_mac_format(&n->mac, buf), n->name,
						 o->nics[k].name, o->name);
			}
		}
	}
	return 0;
}

static int vm_parse(struct vmr_define *d, struct vmr_define_guest *g, size_t idx, const char *vm,
		    const char *ip_space, struct vmr_error **err)
{
	struct vmr_strvec parts = VMR_STRVEC_INIT;
	int r;

	g->flag = idx;
	split_vbar(vm, &parts);
	if (parts.n != 3) {
		r = flag_fail(err, idx, vm,
			      "expected 3 parts 'NAME | HOST(CPUSET) | NETIFS' "
			      "separated by '|', got %zu",
			      parts.n);
		goto out;
	}
	g->name = xstrdup(parts.v[0]);
	if (!vmr_guest_name_valid(g->name)) {
		r = flag_fail(err, idx, vm,
			      "invalid guest name '%s': expected a lowercase letter "
			      "followed by up to 30 lowercase letters or digits",
			      g->name);
		goto out;
	}
	r = placement_parse(g, parts.v[1], idx, vm, err);
	if (r < 0)
		goto out;
	r = nics_parse(g, parts.v[2], idx, vm, err);
	if (r < 0)
		goto out;
	r = guest_check_others(d, g, idx, vm, err);
	if (r < 0)
		goto out;
	r = guest_addresses(d, g, idx, vm, ip_space, err);
out:
	vmr_strvec_clear(&parts);
	return r;
}

int vmr_define_build(const struct vmr_define_opts *opts, struct vmr_define **ret,
		     struct vmr_error **err)
{
	_cleanup_(define_freep) struct vmr_define *d = xcalloc(1, sizeof(*d));
	const char *ip_space = opts->ip_space ? opts->ip_space : VMR_DEFINE_IP_SPACE;
	size_t alloc = 0;
	int r;

	r = ip_space_parse(d, ip_space, err);
	if (r < 0)
		return r;
	if (!opts->ctrlif)
		return vmr_error_usage(err, "--ctrlif is required (the MAC address or name of the "
					    "primary host's netif that reaches the guests)");
	if (host_netif_parse(opts->ctrlif, &d->ctrlif) < 0)
		return vmr_error_usage(err,
				       "--ctrlif '%s': expected a unicast MAC address or an "
				       "interface name",
				       opts->ctrlif);
	d->ctrlif_ip = net_address(d, 0, VMR_DEFINE_CTRLIF_OCTET);
	r = defaults_check(d, &opts->defaults, err);
	if (r < 0)
		return r;
	if (opts->nvms == 0)
		return vmr_error_usage(err, "at least one --vm is required");
	for (size_t i = 0; i < opts->nssh_keys; i++)
		vmr_strvec_push(&d->ssh_keys, opts->ssh_keys[i]);

	vmr_strvec_push(&d->networks, VMR_DEFINE_CTRL_NET);
	vmr_strvec_push(&d->networks, VMR_DEFINE_RESERVED_NET);
	for (size_t i = 0; i < opts->nvms; i++) {
		struct vmr_define_guest g = {0};

		r = vm_parse(d, &g, i + 1, opts->vms[i], ip_space, err);
		if (r < 0) {
			guest_clear(&g);
			return r;
		}
		XGROW(d->guests, alloc, d->nguests + 1);
		d->guests[d->nguests++] = g;
		if (g.host) {
			bool seen = false;

			for (size_t h = 0; h < d->hosts.n; h++)
				seen = seen || streq(d->hosts.v[h], g.host);
			if (!seen)
				vmr_strvec_push(&d->hosts, g.host);
		}
	}
	*ret = TAKE_PTR(d);
	return 0;
}

const struct vmr_define_guest *vmr_define_guest(const struct vmr_define *d, const char *name)
{
	for (size_t i = 0; i < d->nguests; i++)
		if (streq(d->guests[i].name, name))
			return &d->guests[i];
	return NULL;
}

const struct vmr_define_nic *vmr_define_guest_nic(const struct vmr_define_guest *g,
						  const char *name)
{
	for (size_t i = 0; i < g->nnics; i++)
		if (streq(g->nics[i].name, name))
			return &g->nics[i];
	return NULL;
}

/* --- emitting ----------------------------------------------------------- */

struct emitter {
	yaml_emitter_t e;
	bool failed;
};

static void emit(struct emitter *em, yaml_event_t *ev, int ok)
{
	if (!ok) {
		em->failed = true;
		return;
	}
	if (em->failed) {
		yaml_event_delete(ev); /* not handed to the emitter, still ours */
		return;
	}
	if (!yaml_emitter_emit(&em->e, ev))
		em->failed = true;
}

/*
 * Plain scalars that a YAML 1.1 reader (PyYAML, js-yaml) would turn into
 * something other than a string: booleans, nulls, numbers, sexagesimals.
 * vmrun's own loader reads text, but the file is also for other tools.
 */
static bool looks_typed(const char *s)
{
	static const char *const words[] = {
	    "y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", "",
	};
	char *end;

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return true;
	errno = 0;
	(void)strtod(s, &end);
	if (end != s && *end == '\0')
		return true;
	return strchr(s, ':') && strspn(s, "0123456789:_+-.") == strlen(s);
}

enum scalar_style { STR, QUOTED, RAW };

static void scalar(struct emitter *em, const char *s, enum scalar_style st)
{
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	yaml_event_t ev;

	if (st == QUOTED || (st == STR && looks_typed(s)))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	else if (st == RAW)
		style = YAML_PLAIN_SCALAR_STYLE;
	emit(em, &ev,
	     yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
					  style));
}

static void map_start(struct emitter *em)
{
	yaml_event_t ev;

	emit(em, &ev,
	     yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

static void map_end(struct emitter *em)
{
	yaml_event_t ev;

	emit(em, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void key_str(struct emitter *em, const char *k, const char *v, enum scalar_style st)
{
	scalar(em, k, STR);
	scalar(em, v, st);
}

static void emit_nic(struct emitter *em, const struct vmr_define_nic *n)
{
	char mac[18], ip[INET_ADDRSTRLEN], pci[13];
	_cleanup_free_ char *cidr = NULL;

	inet_ntop(AF_INET, &n->ip, ip, sizeof(ip));
	cidr = xasprintf("%s/24", ip);
	map_start(em);
	key_str(em, "name", n->name, STR);
	key_str(em, "mac", vmr_mac_format(&n->mac, mac), QUOTED);
	key_str(em, "ip", cidr, STR);
	switch (n->kind) {
	case VMR_NIC_PCI:
		key_str(em, "pci", vmr_pci_format(&n->pci, pci), QUOTED);
		break;
	case VMR_NIC_VF:
		key_str(em, "vf", vmr_pci_format(&n->pci, pci), QUOTED);
		break;
	default:
		key_str(em, "macvtap", n->parent, strchr(n->parent, ':') ? QUOTED : STR);
		break;
	}
	map_end(em);
}

static void emit_guest(struct emitter *em, const struct vmr_define_guest *g)
{
	_cleanup_free_ char *cpus = vmr_cpuset_format(&g->cpuset);
	yaml_event_t ev;

	scalar(em, g->name, STR);
	map_start(em);
	if (g->host)
		key_str(em, "host", g->host, STR);
	key_str(em, "cpuset", cpus, QUOTED);
	scalar(em, "nics", STR);
	emit(em, &ev,
	     yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
	for (size_t i = 0; i < g->nnics; i++)
		emit_nic(em, &g->nics[i]);
	emit(em, &ev, yaml_sequence_end_event_initialize(&ev));
	map_end(em);
}

static int write_buf(void *data, unsigned char *buffer, size_t size)
{
	vmr_buf_add(data, buffer, size);
	return 1;
}

int vmr_define_emit(const struct vmr_define *d, struct vmr_buf *out, struct vmr_error **err)
{
	struct emitter em = {0};
	char ip[INET_ADDRSTRLEN];
	_cleanup_free_ char *ctrl = NULL;
	yaml_event_t ev;

	if (!yaml_emitter_initialize(&em.e))
		return vmr_error_set(err, ENOMEM, "initialize the YAML emitter");
	yaml_emitter_set_output(&em.e, write_buf, out);
	yaml_emitter_set_unicode(&em.e, 1);
	yaml_emitter_set_indent(&em.e, 2);
	yaml_emitter_set_width(&em.e, -1); /* never fold long values */

	emit(&em, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(&em, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	map_start(&em);
	key_str(&em, "version", "1", RAW);

	scalar(&em, "defaults", STR);
	map_start(&em);
	key_str(&em, "memory", d->memory, STR);
	key_str(&em, "accel", d->accel, STR);
	key_str(&em, "cpu", d->cpu, STR);
	key_str(&em, "cpu_isolation", d->cpu_isolation ? "true" : "false", RAW);
	if (d->image)
		key_str(&em, "image", d->image, STR);
	if (d->ssh_keys.n > 0) {
		scalar(&em, "cloud_init", STR);
		map_start(&em);
		scalar(&em, "ssh_authorized_keys", STR);
		emit(&em, &ev,
		     yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							  YAML_BLOCK_SEQUENCE_STYLE));
		for (size_t i = 0; i < d->ssh_keys.n; i++)
			scalar(&em, d->ssh_keys.v[i], STR);
		emit(&em, &ev, yaml_sequence_end_event_initialize(&ev));
		map_end(&em);
	}
	map_end(&em);

	if (d->hosts.n > 0) {
		scalar(&em, "hosts", STR);
		map_start(&em);
		for (size_t i = 0; i < d->hosts.n; i++) {
			scalar(&em, d->hosts.v[i], STR);
			map_start(&em);
			key_str(&em, "address", d->hosts.v[i], STR);
			map_end(&em);
		}
		map_end(&em);
	}

	inet_ntop(AF_INET, &d->ctrlif_ip, ip, sizeof(ip));
	ctrl = xasprintf("%s/24", ip);
	scalar(&em, "ctrlif", STR);
	map_start(&em);
	key_str(&em, "parent", d->ctrlif, strchr(d->ctrlif, ':') ? QUOTED : STR);
	key_str(&em, "address", ctrl, STR);
	map_end(&em);

	scalar(&em, "guests", STR);
	map_start(&em);
	for (size_t i = 0; i < d->nguests; i++)
		emit_guest(&em, &d->guests[i]);
	map_end(&em);

	map_end(&em);
	emit(&em, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(&em, &ev, yaml_stream_end_event_initialize(&ev));
	if (!em.failed && !yaml_emitter_flush(&em.e))
		em.failed = true;
	if (em.failed) {
		int r = vmr_error_set(err, 0, "emit the topology YAML: %s",
				      em.e.problem ? em.e.problem
						   : "a value is not UTF-8, or out of memory");

		yaml_emitter_delete(&em.e);
		return r;
	}
	yaml_emitter_delete(&em.e);
	return 0;
}
