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

#include "lib/base/buf.h"
#include "lib/model/define.h"
#include "lib/base/util.h"
#include "lib/base/yamlout.h"

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

/* UTF-8 text without control characters (tab allowed when tab is true). */
static bool text_valid_tab(const char *s, bool tab)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && !(tab && *p == '\t')) || *p == 0x7f)
			return false;
	/* the topology is read back with libyaml, which refuses more than its emitter */
	return vmr_yamlout_utf8_valid(s, strlen(s));
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

/* A host's own address: neither a group address nor all zeros. */
static bool mac_unicast(const struct vmr_mac *mac)
{
	return !vmr_mac_is_multicast(mac) && !vmr_mac_is_zero(mac);
}

/* A host netif given as MAC (kept in canonical lowercase) or as interface name. */
static int host_netif_parse(const char *s, char **ret)
{
	struct vmr_mac mac;

	if (vmr_mac_parse(s, &mac) == 0) {
		char buf[18];

		if (!mac_unicast(&mac))
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

/*
 * HOSTIF, what follows the '@' of netif item: IFNAME or MAC (a macvtap),
 * MAC+pci=PCI (the device passed through) or VF+pci=PF (an SR-IOV VF).
 * Sets the kind of n and its parent, pci and host MAC.
 */
static int nic_hostif_parse(struct vmr_define_nic *n, const char *hostif, const char *item,
			    const char *guest, size_t idx, const char *vm, struct vmr_error **err)
{
	const char *plus = strcasestr(hostif, "+pci="), *pci;
	_cleanup_free_ char *left = NULL;

	if (!plus && is_vf(hostif)) {
		flag_fail(err, idx, vm,
			  "netif '%s' of guest '%s': '%s' needs '+pci=PF' (the "
			  "PCI address of the SR-IOV physical function)",
			  item, guest, hostif);
		vmr_error_hint(err, "write '%s@VF+pci=0000:1a:00.0'", n->name);
		return -EINVAL;
	}
	if (!plus) {
		n->kind = VMR_DEFINE_MACVTAP;
		if (host_netif_parse(hostif, &n->parent) < 0)
			return flag_fail(err, idx, vm,
					 "invalid host netif '%s' in netif '%s': "
					 "expected a unicast MAC address or an interface name",
					 hostif, item);
		return 0;
	}

	left = xstrndup(hostif, (size_t)(plus - hostif));
	pci = plus + strlen("+pci=");
	if (vmr_pci_parse(pci, &n->pci) < 0)
		return flag_fail(err, idx, vm,
				 "invalid PCI address '%s' in netif '%s': expected "
				 "the full form DDDD:BB:SS.F (like 0000:1a:00.1)",
				 pci, item);
	if (is_vf(left)) {
		n->kind = VMR_DEFINE_VF;
		return 0;
	}
	if (vmr_mac_parse(left, &n->mac) < 0)
		return flag_fail(err, idx, vm,
				 "invalid netif '%s': '+pci=' must follow the host "
				 "MAC address (passthrough) or 'VF' (SR-IOV), not '%s'",
				 item, left);
	if (!mac_unicast(&n->mac))
		return flag_fail(err, idx, vm,
				 "host MAC '%s' in netif '%s' is not a unicast address", left,
				 item);
	n->kind = VMR_DEFINE_PCI;
	return 0;
}

/* One netif item, already stripped: NAME@HOSTIF.  On failure n may be half set. */
static int nic_parse(struct vmr_define_nic *n, const char *item, size_t idx, const char *vm,
		     const char *guest, struct vmr_error **err)
{
	const char *at = strchr(item, '@');

	if (!at || strchr(at + 1, '@'))
		return flag_fail(err, idx, vm,
				 "invalid netif '%s': expected GUESTIF@HOSTIF with "
				 "exactly one '@'",
				 item);
	n->name = xstrndup(item, (size_t)(at - item));
	for (char *p = n->name; *p; p++)
		*p = (char)tolower((unsigned char)*p); /* 5gdeploy lowercases it */
	if (!vmr_nic_name_valid(n->name))
		return flag_fail(err, idx, vm,
				 "invalid netif name '%s' in '%s': expected a letter "
				 "followed by up to 14 letters or digits",
				 n->name, item);
	if (streq(n->name, VMR_DEFINE_RESERVED_NET))
		return flag_fail(err, idx, vm,
				 "netif name '%s' in '%s' is reserved (5gdeploy's "
				 "image build network)",
				 n->name, item);
	return nic_hostif_parse(n, at + 1, item, guest, idx, vm, err);
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

/* Whether n and m cannot both use their PCI device: only VFs share one (their PF). */
static bool pci_clash(const struct vmr_define_nic *n, const struct vmr_define_nic *m)
{
	if (n->kind == VMR_DEFINE_MACVTAP || m->kind == VMR_DEFINE_MACVTAP)
		return false;
	return vmr_pci_equal(&n->pci, &m->pci) &&
	       !(n->kind == VMR_DEFINE_VF && m->kind == VMR_DEFINE_VF);
}

/* The PCI devices of g against those of o, which is on the same host or is g itself. */
static int guest_check_pci(const struct vmr_define_guest *g, const struct vmr_define_guest *o,
			   size_t idx, const char *vm, struct vmr_error **err)
{
	for (size_t j = 0; j < g->nnics; j++) {
		const struct vmr_define_nic *n = &g->nics[j];
		/* within g, each pair once */
		size_t end = o == g ? j : o->nnics;

		for (size_t k = 0; k < end; k++) {
			const struct vmr_define_nic *m = &o->nics[k];
			_cleanup_free_ char *flag = NULL;
			char buf[13];

			if (!pci_clash(n, m))
				continue;
			flag = o == g ? xstrdup("") : xasprintf(" (--vm #%zu)", o->flag);
			return flag_fail(err, idx, vm,
					 "PCI device '%s' of netif '%s' is already used by netif "
					 "'%s' of guest '%s'%s%s",
					 vmr_pci_format(&n->pci, buf), n->name, m->name, o->name,
					 flag,
					 n->kind != m->kind ? ": a passed-through device cannot "
							      "also provide VFs"
							    : "");
		}
	}
	return 0;
}

/* Checks against the guests already accepted, and of g's own netifs. */
static int guest_check_others(const struct vmr_define *d, const struct vmr_define_guest *g,
			      size_t idx, const char *vm, struct vmr_error **err)
{
	for (size_t i = 0; i < d->nguests; i++) {
		const struct vmr_define_guest *o = &d->guests[i];
		long cpu;
		int r;

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
		r = guest_check_pci(g, o, idx, vm, err);
		if (r < 0)
			return r;
	}
	return guest_check_pci(g, g, idx, vm, err);
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
		if (n->kind != VMR_DEFINE_PCI)
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

/* "key: ADDRESS/24" */
static void emit_cidr24(struct vmr_yamlout *y, const char *key, struct in_addr a)
{
	char ip[INET_ADDRSTRLEN];
	_cleanup_free_ char *cidr = NULL;

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	cidr = xasprintf("%s/24", ip);
	vmr_yamlout_kv_str(y, key, cidr);
}

/* A host netif: a MAC is always quoted, like the guest MACs next to it. */
static void emit_host_netif(struct vmr_yamlout *y, const char *key, const char *netif)
{
	if (strchr(netif, ':'))
		vmr_yamlout_kv_quoted(y, key, netif);
	else
		vmr_yamlout_kv_str(y, key, netif);
}

static void emit_nic(struct vmr_yamlout *y, const struct vmr_define_nic *n)
{
	char mac[18], pci[13];

	vmr_yamlout_map_start(y);
	vmr_yamlout_kv_str(y, "name", n->name);
	vmr_yamlout_kv_quoted(y, "mac", vmr_mac_format(&n->mac, mac));
	emit_cidr24(y, "ip", n->ip);
	switch (n->kind) {
	case VMR_DEFINE_PCI:
		vmr_yamlout_kv_quoted(y, "pci", vmr_pci_format(&n->pci, pci));
		break;
	case VMR_DEFINE_VF:
		vmr_yamlout_kv_quoted(y, "vf", vmr_pci_format(&n->pci, pci));
		break;
	default:
		emit_host_netif(y, "macvtap", n->parent);
		break;
	}
	vmr_yamlout_map_end(y);
}

static void emit_guest(struct vmr_yamlout *y, const struct vmr_define_guest *g)
{
	_cleanup_free_ char *cpus = vmr_cpuset_format(&g->cpuset);

	vmr_yamlout_str(y, g->name);
	vmr_yamlout_map_start(y);
	if (g->host)
		vmr_yamlout_kv_str(y, "host", g->host);
	vmr_yamlout_kv_quoted(y, "cpuset", cpus);
	vmr_yamlout_str(y, "nics");
	vmr_yamlout_seq_start(y, false);
	for (size_t i = 0; i < g->nnics; i++)
		emit_nic(y, &g->nics[i]);
	vmr_yamlout_seq_end(y);
	vmr_yamlout_map_end(y);
}

static void emit_defaults(struct vmr_yamlout *y, const struct vmr_define *d)
{
	vmr_yamlout_str(y, "defaults");
	vmr_yamlout_map_start(y);
	vmr_yamlout_kv_str(y, "memory", d->memory);
	vmr_yamlout_kv_str(y, "accel", d->accel);
	vmr_yamlout_kv_str(y, "cpu", d->cpu);
	vmr_yamlout_kv_bool(y, "cpu_isolation", d->cpu_isolation);
	if (d->image)
		vmr_yamlout_kv_str(y, "image", d->image);
	if (d->ssh_keys.n > 0) {
		vmr_yamlout_str(y, "cloud_init");
		vmr_yamlout_map_start(y);
		vmr_yamlout_str(y, "ssh_authorized_keys");
		vmr_yamlout_seq_start(y, false);
		for (size_t i = 0; i < d->ssh_keys.n; i++)
			vmr_yamlout_str(y, d->ssh_keys.v[i]);
		vmr_yamlout_seq_end(y);
		vmr_yamlout_map_end(y);
	}
	vmr_yamlout_map_end(y);
}

int vmr_define_emit(const struct vmr_define *d, struct vmr_buf *out, struct vmr_error **err)
{
	struct vmr_yamlout y;

	vmr_yamlout_init(&y, out);
	vmr_yamlout_map_start(&y);
	vmr_yamlout_kv_int(&y, "version", 1);
	emit_defaults(&y, d);

	if (d->hosts.n > 0) {
		vmr_yamlout_str(&y, "hosts");
		vmr_yamlout_map_start(&y);
		for (size_t i = 0; i < d->hosts.n; i++) {
			vmr_yamlout_str(&y, d->hosts.v[i]);
			vmr_yamlout_map_start(&y);
			vmr_yamlout_kv_str(&y, "address", d->hosts.v[i]);
			vmr_yamlout_map_end(&y);
		}
		vmr_yamlout_map_end(&y);
	}

	vmr_yamlout_str(&y, "ctrlif");
	vmr_yamlout_map_start(&y);
	emit_host_netif(&y, "parent", d->ctrlif);
	emit_cidr24(&y, "address", d->ctrlif_ip);
	vmr_yamlout_map_end(&y);

	vmr_yamlout_str(&y, "guests");
	vmr_yamlout_map_start(&y);
	for (size_t i = 0; i < d->nguests; i++)
		emit_guest(&y, &d->guests[i]);
	vmr_yamlout_map_end(&y);

	vmr_yamlout_map_end(&y);
	return vmr_yamlout_finish(&y, "the topology", err);
}
