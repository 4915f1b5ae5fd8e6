/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/define.c: 5gdeploy --vm parsing, address allocation, checks, YAML. */
#include <arpa/inet.h>
#include <stdio.h>
#include <yaml.h>

#include "lib/model/define.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

#define README_A "a | 192.168.60.2(10-19) | vmctrl@02:00:00:00:00:02,n6@02:00:00:00:06:02"
#define README_B "b | 192.168.60.3(10-19) | vmctrl@02:00:00:00:00:03,n6@02:00:00:00:06:03"
#define README_C "c | 192.168.60.3(20-29) | vmctrl@02:00:00:00:00:03,n6@02:00:00:00:06:03"

/* Build from --vm values; returns NULL and sets *err on failure. */
static struct vmr_define *build(const char *const *vms, size_t n, const char *ip_space,
				struct vmr_error **err)
{
	struct vmr_define_opts o = {
	    .vms = vms, .nvms = n, .ctrlif = "02:00:00:00:00:01", .ip_space = ip_space};
	struct vmr_define *d = NULL;

	vmr_define_defaults_init(&o.defaults);
	if (vmr_define_build(&o, &d, err) < 0)
		return NULL;
	return d;
}

static const char *ip_of(const struct vmr_define_nic *n, char buf[static INET_ADDRSTRLEN])
{
	if (!n)
		return "(no such nic)";
	return inet_ntop(AF_INET, &n->ip, buf, INET_ADDRSTRLEN);
}

static const char *mac_of(const struct vmr_define_nic *n, char buf[static 18])
{
	if (!n)
		return "(no such nic)";
	return vmr_mac_format(&n->mac, buf);
}

static const struct vmr_define_nic *nic(const struct vmr_define *d, const char *guest,
					const char *name)
{
	const struct vmr_define_guest *g = d ? vmr_define_guest(d, guest) : NULL;

	return g ? vmr_define_guest_nic(g, name) : NULL;
}

static void test_readme(void)
{
	const char *vms[] = {README_A, README_B, README_C};
	struct vmr_error *err = NULL;
	struct vmr_define *d = build(vms, 3, NULL, &err);
	char ip[INET_ADDRSTRLEN], mac[18];
	const struct vmr_define_guest *a;

	ok(d != NULL, "README example builds%s%s", err ? ": " : "", err ? err->msg : "");
	if (!d) {
		vmr_error_free(err);
		return;
	}
	is_str(ip_of(nic(d, "a", "vmctrl"), ip), "172.25.160.3", "a vmctrl .160.3");
	is_str(ip_of(nic(d, "a", "n6"), ip), "172.25.162.3", "a n6 .162.3 (.161 is vmbuild)");
	is_str(ip_of(nic(d, "b", "vmctrl"), ip), "172.25.160.4", "b vmctrl .160.4");
	is_str(ip_of(nic(d, "b", "n6"), ip), "172.25.162.4", "b n6 .162.4");
	is_str(ip_of(nic(d, "c", "vmctrl"), ip), "172.25.160.5", "c vmctrl .160.5");
	is_str(ip_of(nic(d, "c", "n6"), ip), "172.25.162.5", "c n6 .162.5");
	is_str(mac_of(nic(d, "a", "vmctrl"), mac), "52:de:ac:19:a0:03", "a vmctrl MAC is ip2mac");
	is_str(mac_of(nic(d, "a", "n6"), mac), "52:de:ac:19:a2:03", "a n6 MAC is ip2mac");
	is_str(mac_of(nic(d, "c", "n6"), mac), "52:de:ac:19:a2:05", "c n6 MAC is ip2mac");
	is_str(inet_ntop(AF_INET, &d->ctrlif_ip, ip, sizeof(ip)), "172.25.160.1", "ctrlif .160.1");
	is_str(d->ctrlif, "02:00:00:00:00:01", "ctrlif parent");
	is_int((long long)d->networks.n, 3, "three /24s: vmctrl, vmbuild, n6");
	is_str(d->networks.n > 1 ? d->networks.v[1] : NULL, "vmbuild", "second /24 reserved");
	is_int((long long)d->hosts.n, 2, "two distinct hosts");
	is_str(d->hosts.n > 1 ? d->hosts.v[1] : NULL, "192.168.60.3", "hosts in first appearance");
	a = vmr_define_guest(d, "a");
	is_int(a ? (long long)a->cpuset.n : -1, 10, "a has 10 CPUs");
	is_str(a ? a->host : NULL, "192.168.60.2", "a placed on 192.168.60.2");
	is_int(nic(d, "a", "n6") ? (long long)nic(d, "a", "n6")->kind : -1, VMR_DEFINE_MACVTAP,
	       "n6 is macvtap");
	is_str(nic(d, "b", "n6") ? nic(d, "b", "n6")->parent : NULL, "02:00:00:00:06:03",
	       "macvtap parent by MAC");
	is_str(d->cpu, "host,-vmx,-svm", "nested virtualization off by default");
	is_str(d->memory, "4G", "5gdeploy's 4096 MiB");
	vmr_define_free(d);
}

static void test_attachments(void)
{
	const char *vms[] = {
	    "a | (0-1) | vmctrl@enp26s0f1,n3@A4:BF:01:CC:75:97+PCI=0000:1A:00.1,"
	    "n4@vf+pci=0000:1b:00.0,N5@VF+pci=0000:1b:00.0",
	    "b | (2) | vmctrl@enp26s0f1,n4@VF+pci=0000:1b:00.0",
	};
	struct vmr_error *err = NULL;
	struct vmr_define *d = build(vms, 2, NULL, &err);
	const struct vmr_define_nic *n;
	char buf[18], pci[13], ip[INET_ADDRSTRLEN];

	ok(d != NULL, "passthrough, VFs sharing a PF, ifname parent%s%s", err ? ": " : "",
	   err ? err->msg : "");
	if (!d) {
		vmr_error_free(err);
		return;
	}
	n = nic(d, "a", "vmctrl");
	is_str(n ? n->parent : NULL, "enp26s0f1", "macvtap parent by ifname");
	n = nic(d, "a", "n3");
	is_int(n ? (long long)n->kind : -1, VMR_DEFINE_PCI, "MAC+pci is passthrough");
	is_str(mac_of(n, buf), "a4:bf:01:cc:75:97",
	       "passthrough guest MAC is the host MAC lowercased");
	is_str(n ? vmr_pci_format(&n->pci, pci) : NULL, "0000:1a:00.1", "PCI address lowercased");
	is_str(ip_of(n, ip), "172.25.162.3", "passthrough still gets its address");
	n = nic(d, "a", "n5");
	is_int(n ? (long long)n->kind : -1, VMR_DEFINE_VF,
	       "VF+pci is SR-IOV; name lowercased like 5gdeploy");
	is_str(mac_of(n, buf), "52:de:ac:19:a4:03", "VF guest MAC is ip2mac");
	is_str(mac_of(nic(d, "b", "n4"), buf), "52:de:ac:19:a3:04", "b's VF on the same PF");
	vmr_define_free(d);
}

static void test_pci_per_host(void)
{
	const char *vms[] = {
	    "a | h1(1) | vmctrl@eth1,n3@02:00:00:00:00:09+pci=0000:1a:00.1",
	    "b | h2(1) | vmctrl@eth1,n3@02:00:00:00:00:0a+pci=0000:1a:00.1",
	};
	struct vmr_error *err = NULL;
	struct vmr_define *d = build(vms, 2, NULL, &err);

	/* identical servers have identical PCI addresses; so do their CPU numbers */
	ok(d != NULL, "the same PCI address and cpuset on two hosts%s%s", err ? ": " : "",
	   err ? err->msg : "");
	vmr_define_free(d);
	vmr_error_free(err);
}

static void test_order_and_splitting(void)
{
	const char *vms[] = {
	    "a|(0)|vmctrl@eth1",
	    "b |(1)|  n6@eth2 , vmctrl@eth1,n3@eth3",
	    "c\t|  10.0.0.9(1)|n3@eth3,vmctrl@eth1",
	};
	struct vmr_error *err = NULL;
	struct vmr_define *d = build(vms, 3, "10.1.37.5/16", &err);
	char ip[INET_ADDRSTRLEN];

	ok(d != NULL, "splitting without ' | ', blanks around items%s%s", err ? ": " : "",
	   err ? err->msg : "");
	if (!d) {
		vmr_error_free(err);
		return;
	}
	is_str(ip_of(nic(d, "b", "n6"), ip), "10.1.2.4", "n6 first seen in b: third /24, b is .4");
	is_str(ip_of(nic(d, "b", "n3"), ip), "10.1.3.4", "n3 next /24");
	is_str(ip_of(nic(d, "c", "n3"), ip), "10.1.3.5", "host octet is global, not per network");
	is_str(ip_of(nic(d, "a", "vmctrl"), ip), "10.1.0.3", "ip-space host bits ignored");
	ok(vmr_define_guest(d, "a") && !vmr_define_guest(d, "a")->host, "empty HOST: primary host");
	is_int((long long)d->hosts.n, 1, "only named hosts are listed");
	vmr_define_free(d);
}

/* n distinct netif names (vmctrl + n-1 others) in one guest */
static struct vmr_define *build_names(size_t n, const char *ip_space, struct vmr_error **err)
{
	struct vmr_buf b = VMR_BUF_INIT;
	struct vmr_define *d;
	const char *vms[1];

	vmr_buf_adds(&b, "a | (0) | vmctrl@eth0");
	for (size_t i = 1; i < n; i++)
		vmr_buf_addf(&b, ",n%zu@eth%zu", i, i);
	vms[0] = vmr_buf_str(&b);
	d = build(vms, 1, ip_space, err);
	vmr_buf_free(&b);
	return d;
}

static void test_limits(void)
{
	struct vmr_error *err = NULL;
	struct vmr_define *d;
	char ip[INET_ADDRSTRLEN];

	d = build_names(15, NULL, &err);
	ok(d != NULL, "15 names fit in a /20");
	is_str(ip_of(nic(d, "a", "n14"), ip), "172.25.175.3", "the 15th name gets the last /24");
	vmr_define_free(d);
	vmr_error_clear(&err);
	d = build_names(16, NULL, &err);
	ok(!d && err && strstr(err->msg, "too many networks") && strstr(err->msg, "'n15'"),
	   "16 names rejected: %s", err ? err->msg : "(accepted)");
	is_int(err ? err->status : -1, VMR_EXIT_USAGE, "usage status");
	vmr_error_clear(&err);
	d = build_names(31, "172.25.160.0/19", &err);
	ok(d != NULL, "31 names fit in a /19");
	is_str(ip_of(nic(d, "a", "n30"), ip), "172.25.191.3", "last /24 of the /19");
	vmr_define_free(d);
	vmr_error_clear(&err);
	d = build_names(32, "172.25.160.0/19", &err);
	ok(!d && err && strstr(err->msg, "too many networks"), "32 names rejected in a /19");
	vmr_error_clear(&err);
	d = build_names(2, "172.25.160.0/21", &err);
	ok(!d && err && strstr(err->msg, "/20 or larger"), "a /21 ip-space is rejected: %s",
	   err ? err->msg : "(accepted)");
	vmr_error_clear(&err);
}

static void test_many_guests(void)
{
	struct vmr_strvec v = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	struct vmr_define *d;
	char ip[INET_ADDRSTRLEN];

	for (unsigned i = 0; i < 253; i++)
		vmr_strvec_pushf(&v, "g%u | (%u) | vmctrl@eth0", i, i);
	d = build((const char *const *)v.v, 252, NULL, &err);
	ok(d != NULL, "252 guests: .3 to .254");
	is_str(ip_of(nic(d, "g251", "vmctrl"), ip), "172.25.160.254", "last guest is .254");
	vmr_define_free(d);
	vmr_error_clear(&err);
	d = build((const char *const *)v.v, 253, NULL, &err);
	ok(!d && err && strstr(err->msg, "--vm #253") && strstr(err->msg, "too many guests"),
	   "253rd guest rejected: %s", err ? err->msg : "(accepted)");
	vmr_error_clear(&err);
	vmr_strvec_clear(&v);
}

struct bad {
	const char *vm1, *vm2;
	const char *want; /* substring of the message */
};

static const struct bad bad[] = {
    {"a | (1)", NULL, "--vm #1 'a | (1)': expected 3 parts"},
    {"a | (1) | vmctrl@eth1 | x", NULL, "got 4"},
    {"A | (1) | vmctrl@eth1", NULL, "invalid guest name 'A'"},
    {"a* | (1) | vmctrl@eth1", NULL, "invalid guest name 'a*'"},
    {"1a | (1) | vmctrl@eth1", NULL, "invalid guest name '1a'"},
    {"a | (1) | vmctrl@eth1", "a | (2) | vmctrl@eth1",
     "--vm #2 'a | (2) | vmctrl@eth1': duplicate guest name 'a' (also --vm #1)"},
    {"a | h(1-4) | vmctrl@eth1", "b | h(4-6) | vmctrl@eth1",
     "overlaps cpuset '1-4' of guest 'a' (--vm #1) on host 'h': CPU 4"},
    {"a | (1-4) | vmctrl@eth1", "b | (3) | vmctrl@eth1", "on the primary host: CPU 3"},
    {"a | (1) | vmctrl@eth1,n6@eth2,n6@eth3", NULL, "duplicate netif 'n6' in guest 'a'"},
    {"a | (1) | vmctrl@eth1,N6@eth2,n6@eth3", NULL, "duplicate netif 'n6' in guest 'a'"},
    {"a | (1) | vmctrl@VF", NULL, "'VF' needs '+pci=PF'"},
    {"a | (1) | vmctrl@eth1,n3@02:00:00:00:00:09+pci=1a:00.1", NULL,
     "invalid PCI address '1a:00.1'"},
    {"a | (1) | vmctrl@eth1,n3@VF+pci=0000:1a:00", NULL, "invalid PCI address '0000:1a:00'"},
    {"a | (1) | vmctrl@eth1,n3@eth2+pci=0000:1a:00.1", NULL, "not 'eth2'"},
    {"a | (1) | vmctrl@eth1,n3@02:00:00:00:00:09+pci=0000:1a:00.1",
     "b | (2) | vmctrl@eth1,n3@02:00:00:00:00:0a+pci=0000:1A:00.1",
     "PCI device '0000:1a:00.1' of netif 'n3' is already used by netif 'n3' of guest 'a' (--vm "
     "#1)"},
    {"a | (1) | vmctrl@eth1,n3@02:00:00:00:00:09+pci=0000:1a:00.1",
     "b | (2) | vmctrl@eth1,n4@VF+pci=0000:1a:00.1", "cannot also provide VFs"},
    {"a | (1) | "
     "vmctrl@eth1,n3@02:00:00:00:00:09+pci=0000:1a:00.1,n4@02:00:00:00:00:0a+pci=0000:1a:00.1",
     NULL, "already used by netif 'n3' of guest 'a'"},
    {"a | (1) | vmctrl@eth1,n3@02:00:00:00:00:09+pci=0000:1a:00.1,n4@VF+pci=0000:1a:00.1", NULL,
     "PCI device '0000:1a:00.1' of netif 'n4' is already used by netif 'n3' of guest 'a': a "
     "passed-through device cannot also provide VFs"},
    {"a | (1) | vmctrl@eth1,n3@VF+pci=0000:1a:00.1,n4@VF+pci=0000:1a:00.1",
     "b | (2) | vmctrl@eth1,n4@02:00:00:00:00:0a+pci=0000:1a:00.1",
     "of netif 'n4' is already used by netif 'n3' of guest 'a' (--vm #1): a passed-through"},
    {"a | (1) | vmctrl@eth1,n3@02:00:00:00:00:09+pci=0000:1a:00.1",
     "b | (2) | vmctrl@eth1,n3@02:00:00:00:00:09+pci=0000:1a:00.2",
     "guest MAC '02:00:00:00:00:09'"},
    {"a | (1) | n6@eth1", NULL, "guest 'a' has no 'vmctrl' netif"},
    {"a | 10.0.0.2@x(1-3) | vmctrl@eth1", NULL, "invalid placement '10.0.0.2@x(1-3)'"},
    {"a | (x) | vmctrl@eth1", NULL, "invalid placement '(x)'"},
    {"a | 10.0.0.2 | vmctrl@eth1", NULL, "guest 'a' must have a cpuset"},
    {"a | h() | vmctrl@eth1", NULL, "must have a cpuset"},
    {"a | (5-3) | vmctrl@eth1", NULL, "invalid cpuset '5-3': reversed range '5-3'"},
    {"a | Host(1) | vmctrl@eth1", NULL, "invalid host 'Host'"},
    {"a | (1) | vmctrl", NULL, "invalid netif 'vmctrl': expected GUESTIF@HOSTIF"},
    {"a | (1) | vmctrl@eth1@eth2", NULL, "invalid netif 'vmctrl@eth1@eth2'"},
    {"a | (1) | vmctrl@eth1,", NULL, "empty netif"},
    {"a | (1) | vmctrl@eth1,n_6@eth2", NULL, "invalid netif name 'n_6'"},
    {"a | (1) | vmctrl@eth1,vmbuild@eth2", NULL, "netif name 'vmbuild'"},
    {"a | (1) | vmctrl@02:00:00", NULL, "invalid host netif '02:00:00'"},
    {"a | (1) | vmctrl@01:00:5e:00:00:01", NULL, "invalid host netif '01:00:5e:00:00:01'"},
    {"a | (1) | vmctrl@eth1,n3@01:00:5e:00:00:01+pci=0000:1a:00.1", NULL,
     "is not a unicast address"},
    /* each would make a topology the loader refuses */
    {"a | a..b(1) | vmctrl@eth1", NULL, "invalid host 'a..b'"},
    {"a | 10.0.0.2.(1) | vmctrl@eth1", NULL, "invalid host '10.0.0.2.'"},
    {"a | (1) | vmctrl@eth\x91", NULL, "invalid host netif 'eth\x91'"},
    {"a | (1) | vmctrl@et\x01h", NULL, "invalid host netif"},
    {"a | (0-1024) | vmctrl@eth1", NULL, "cpuset '0-1024' has 1025 CPUs, at most 1024"},
    {"a | (1) | vmctrl@eth1,n3@52:de:ac:19:a0:01+pci=0000:1a:00.1", NULL,
     "guest MAC '52:de:ac:19:a0:01' of netif 'n3' is already used by the ctrlif"},
};

static void test_errors(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *vms[] = {bad[i].vm1, bad[i].vm2};
		struct vmr_error *err = NULL;
		struct vmr_define *d = build(vms, bad[i].vm2 ? 2 : 1, NULL, &err);

		ok(!d && err && strstr(err->msg, bad[i].want) && err->status == VMR_EXIT_USAGE,
		   "rejects '%s'%s%s: want '%s', got '%s'", bad[i].vm1, bad[i].vm2 ? " + " : "",
		   bad[i].vm2 ? bad[i].vm2 : "", bad[i].want, err ? err->msg : "(accepted)");
		vmr_define_free(d);
		vmr_error_free(err);
	}
}

static void test_global_errors(void)
{
	const char *vm = "a | (1) | vmctrl@eth1";
	struct vmr_define_opts o = {.vms = &vm, .nvms = 1, .ctrlif = "eth9"};
	struct vmr_error *err = NULL;
	struct vmr_define *d = NULL;
	int r;

	vmr_define_defaults_init(&o.defaults);
	o.ctrlif = "not an ifname";
	/* built before ok(): its message argument reads err */
	r = vmr_define_build(&o, &d, &err);
	ok(r < 0 && strstr(err->msg, "--ctrlif 'not an ifname'"), "bad --ctrlif: %s",
	   err ? err->msg : "(accepted)");
	vmr_error_clear(&err);
	o.ctrlif = NULL;
	ok(vmr_define_build(&o, &d, &err) < 0 && strstr(err->msg, "--ctrlif is required"),
	   "missing --ctrlif");
	vmr_error_clear(&err);
	o.ctrlif = "eth9";
	o.ip_space = "fd00::/48";
	ok(vmr_define_build(&o, &d, &err) < 0 && strstr(err->msg, "--ip-space 'fd00::/48'"),
	   "IPv6 ip-space rejected");
	vmr_error_clear(&err);
	o.ip_space = NULL;
	o.nvms = 0;
	ok(vmr_define_build(&o, &d, &err) < 0 && strstr(err->msg, "at least one --vm"), "no --vm");
	vmr_error_clear(&err);
	o.nvms = 1;
	o.defaults.memory = "4Q";
	ok(vmr_define_build(&o, &d, &err) < 0 && strstr(err->msg, "--memory '4Q'"), "bad --memory");
	vmr_error_clear(&err);
	o.defaults.memory = "8";
	r = vmr_define_build(&o, &d, &err);
	ok(r < 0 && strstr(err->msg, "--memory '8': at least 16M"),
	   "--memory below the loader's minimum: %s", err ? err->msg : "(accepted)");
	vmr_error_clear(&err);
	o.defaults.memory = "2048";
	{
		static const char *const images[] = {"/x/\xff.qcow2", "/x/a\x01.qcow2",
						     "/x/\xed\xa0\x80.qcow2", "/x/\xc0\xaf.qcow2",
						     "/x/\xe2\x82"};

		for (size_t i = 0; i < ARRAY_SIZE(images); i++) {
			o.defaults.image = images[i];
			r = vmr_define_build(&o, &d, &err);
			ok(r < 0 && err && err->status == VMR_EXIT_USAGE &&
			       strstr(err->msg, "--image '"),
			   "--image #%zu: not UTF-8 text, refused: %s", i,
			   err ? err->msg : "(accepted)");
			vmr_error_clear(&err);
		}
		o.defaults.image = "/srv/b\xc3\xa4se \xf0\x9f\x90\xa7.qcow2";
		ok(vmr_define_build(&o, &d, &err) == 0, "--image: UTF-8 and blanks are fine");
		vmr_define_free(d);
		d = NULL;
		o.defaults.image = NULL;
	}
	o.defaults.cpu = "max\x01";
	ok(vmr_define_build(&o, &d, &err) < 0 && strstr(err->msg, "--cpu"),
	   "--cpu with a control character refused");
	vmr_error_clear(&err);
	o.defaults.cpu = NULL;
	o.defaults.accel = "xen";
	ok(vmr_define_build(&o, &d, &err) < 0 && strstr(err->msg, "--accel 'xen'"), "bad --accel");
	vmr_error_clear(&err);
	o.defaults.accel = "tcg";
	ok(vmr_define_build(&o, &d, &err) == 0 && streq(d->cpu, "max,-vmx,-svm"),
	   "tcg: max CPU model, nested virtualization still off");
	vmr_define_free(d);
}

static void test_ssh_keys(void)
{
	struct vmr_strvec keys = VMR_STRVEC_INIT;
	struct vmr_error *err = NULL;
	int r;

	r = vmr_define_ssh_keys_parse("# comment\n\nssh-ed25519 AAAAC3Nz me@host\r\n"
				      "  sk-ssh-ed25519@openssh.com AAAA x\n",
				      "k", &keys, &err);
	is_int(r, 2, "two keys, comments and blank lines skipped");
	is_str(keys.n > 0 ? keys.v[0] : NULL, "ssh-ed25519 AAAAC3Nz me@host",
	       "CR and blanks stripped");
	r = vmr_define_ssh_keys_parse("ssh-ed25519 A x\n-----BEGIN OPENSSH PRIVATE KEY-----\n",
				      "--ssh-key 'f'", &keys, &err);
	ok(r < 0 && err && strstr(err->msg, "--ssh-key 'f' line 2: not an OpenSSH public key"),
	   "a private key is refused: %s", err ? err->msg : "(accepted)");
	is_int((long long)keys.n, 2, "nothing added on failure");
	vmr_error_clear(&err);
	r = vmr_define_ssh_keys_parse("ssh-ed25519 AAAA j\xf6rg@host\n", "--ssh-key 'l'", &keys,
				      &err);
	ok(r < 0 && err && strstr(err->msg, "--ssh-key 'l' line 1"),
	   "a Latin-1 comment is refused (the topology is UTF-8)");
	vmr_error_clear(&err);
	r = vmr_define_ssh_keys_parse("ssh-ed25519\tAAAA j\xc3\xb6rg@host\n", "--ssh-key 'u'",
				      &keys, &err);
	is_int(r, 1, "a tab between fields and a UTF-8 comment are fine");
	r = vmr_define_ssh_keys_parse("\n# nothing\n", "--ssh-key 'e'", &keys, &err);
	ok(r < 0 && err && strstr(err->msg, "no public key found"), "an empty key file is refused");
	vmr_error_clear(&err);
	vmr_strvec_clear(&keys);
}

/* Parse the emitted YAML back with libyaml and collect "path=value" lines. */
static void flatten(const char *yaml, struct vmr_buf *out)
{
	yaml_parser_t p;
	yaml_event_t ev;
	char stack[16][64] = {{0}};
	int depth = 0, kind[16] = {0}; /* 1 map expecting key, 2 map expecting value, 3 seq */
	unsigned seqi[16] = {0};

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml, strlen(yaml));
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			vmr_buf_addf(out, "PARSE ERROR: %s\n", p.problem);
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth > 0 && kind[depth] == 3)
				snprintf(stack[depth], sizeof(stack[0]), "%u", seqi[depth]++);
			if (depth > 0 && kind[depth] == 2)
				kind[depth] = 1;
			depth++;
			kind[depth] = ev.type == YAML_MAPPING_START_EVENT ? 1 : 3;
			seqi[depth] = 0;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
			if (kind[depth] == 1) {
				snprintf(stack[depth], sizeof(stack[0]), "%s",
					 ev.data.scalar.value);
				kind[depth] = 2;
			} else {
				if (kind[depth] == 3)
					snprintf(stack[depth], sizeof(stack[0]), "%u",
						 seqi[depth]++);
				for (int i = 1; i <= depth; i++)
					vmr_buf_addf(out, "%s%s", i > 1 ? "." : "", stack[i]);
				vmr_buf_addf(out, "=%s\n", ev.data.scalar.value);
				if (kind[depth] == 2)
					kind[depth] = 1;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
}

static void test_emit(void)
{
	const char *vms[] = {README_A,
			     "d | (3) | vmctrl@eth1,n3@A4:BF:01:CC:75:97+pci=0000:1a:00.1,"
			     "no@VF+pci=0000:1b:00.0"};
	struct vmr_error *err = NULL;
	struct vmr_define *d = build(vms, 2, NULL, &err);
	struct vmr_buf y = VMR_BUF_INIT, flat = VMR_BUF_INIT;

	ok(d && vmr_define_emit(d, &y, &err) == 0, "emit");
	flatten(vmr_buf_str(&y), &flat);
	ok(strstr(vmr_buf_str(&flat), "PARSE ERROR") == NULL, "emitted YAML parses back");
	static const char *const want[] = {
	    "version=1\n",
	    "defaults.memory=4G\n",
	    "defaults.cpu=host,-vmx,-svm\n",
	    "defaults.cpu_isolation=true\n",
	    "hosts.192.168.60.2.address=192.168.60.2\n",
	    "ctrlif.parent=02:00:00:00:00:01\n",
	    "ctrlif.address=172.25.160.1/24\n",
	    "guests.a.host=192.168.60.2\n",
	    "guests.a.cpuset=10-19\n",
	    "guests.a.nics.0.name=vmctrl\n",
	    "guests.a.nics.0.mac=52:de:ac:19:a0:03\n",
	    "guests.a.nics.0.ip=172.25.160.3/24\n",
	    "guests.a.nics.0.macvtap=02:00:00:00:00:02\n",
	    "guests.a.nics.1.mac=52:de:ac:19:a2:03\n",
	    "guests.d.nics.1.pci=0000:1a:00.1\n",
	    "guests.d.nics.1.mac=a4:bf:01:cc:75:97\n",
	    "guests.d.nics.2.name=no\n",
	    "guests.d.nics.2.vf=0000:1b:00.0\n",
	};
	bool all = true;

	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		all &= ok(strstr(vmr_buf_str(&flat), want[i]) != NULL, "emitted %.*s",
			  (int)strlen(want[i]) - 1, want[i]);
	all &= ok(strstr(vmr_buf_str(&y), "name: \"no\"") != NULL,
		  "YAML 1.1 boolean words are quoted");
	all &= ok(strstr(vmr_buf_str(&flat), "guests.d.host") == NULL,
		  "no host key for the primary host");
	/* YAML 1.1's float pattern [-+]?([0-9][0-9_]*)?\.[0-9.]* matches an IPv4 address */
	all &= ok(strstr(vmr_buf_str(&y), "    host: \"192.168.60.2\"\n") != NULL,
		  "a host address is quoted");
	if (!all)
		tap_diag("emitted:\n%s", vmr_buf_str(&y));
	vmr_buf_free(&y);
	vmr_buf_free(&flat);
	vmr_define_free(d);
	vmr_error_free(err);
}

/* What the loader cannot read back is not written, even past vmr_define_build(). */
static void test_emit_not_utf8(void)
{
	const char *vms[] = {README_A};
	struct vmr_error *err = NULL;
	struct vmr_define *d = build(vms, 1, NULL, &err);
	struct vmr_buf y = VMR_BUF_INIT;
	int r = -1;

	if (d) {
		free(d->image);
		/* U+D800: libyaml's emitter would write it as "\ud800", which its reader refuses */
		d->image = xstrdup("/x/\xed\xa0\x80.qcow2");
		r = vmr_define_emit(d, &y, &err);
	}
	ok(r < 0 && err && streq(err->msg, "generate the topology: a value is not UTF-8"),
	   "a surrogate in a value fails the emit: %s", err ? err->msg : "(emitted)");
	vmr_buf_free(&y);
	vmr_define_free(d);
	vmr_error_free(err);
}

int main(void)
{
	test_readme();
	test_attachments();
	test_pci_per_host();
	test_order_and_splitting();
	test_limits();
	test_many_guests();
	test_errors();
	test_global_errors();
	test_ssh_keys();
	test_emit();
	test_emit_not_utf8();
	return tap_done();
}
