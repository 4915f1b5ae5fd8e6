/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Topology loading of good files: defaults, derived values, positions. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/devices/devices.h"
#include "lib/base/buf.h"
#include "lib/model/topology.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

static struct vmr_topology *load(const char *text, struct vmr_diags *d)
{
	struct vmr_topology *t = NULL;

	if (vmr_topology_load_buffer("t.yaml", text, strlen(text), vmr_device_kinds(), &t, d) < 0) {
		for (size_t i = 0; i < d->n; i++)
			tap_diag("%u:%u: %s", d->v[i].line, d->v[i].col, d->v[i].msg);
		return NULL;
	}
	return t;
}

/* the comments number the lines of the file */
/* clang-format off */
/* A device as JSON (vmr_device_json), and its fields. */
static json_t *dev_json(const struct vmr_device *d)
{
	static json_t *last;

	json_decref(last);
	last = d->ops ? vmr_device_json(d, false) : json_object();
	return last;
}

/* d is of kind and, unless value is NULL, its selecting key's value is value. */
static bool dev_is(const struct vmr_device *d, const char *kind, const char *value)
{
	json_t *j = dev_json(d);

	return streq(json_string_value(json_object_get(j, "kind")), kind) &&
	       (!value || streq(json_string_value(json_object_get(j, "value")), value));
}

static const char *dev_str(const struct vmr_device *d, const char *key)
{
	return json_string_value(json_object_get(dev_json(d), key));
}

static long long dev_int(const struct vmr_device *d, const char *key)
{
	return json_integer_value(json_object_get(dev_json(d), key));
}

static bool dev_bool(const struct vmr_device *d, const char *key)
{
	return json_is_true(json_object_get(dev_json(d), key));
}

/* The selecting value as compact JSON text (a static buffer). */
static const char *dev_value(const struct vmr_device *d)
{
	static char buf[512];
	char *t = json_dumps(json_object_get(dev_json(d), "value"), JSON_ENCODE_ANY);

	snprintf(buf, sizeof(buf), "%s", t ? t : "(none)");
	free(t);
	return buf;
}

static const char full[] =
	"version: 1\n"                                         /* 1 */
	"defaults:\n"                                          /* 2 */
	"  memory: 1G\n"                                       /* 3 */
	"  accel: tcg\n"                                       /* 4 */
	"  vcpus: 2\n"                                         /* 5 */
	"  nics:\n"                                            /* 6 */
	"    - {name: vmctrl, bridge: br0}\n"                  /* 7 */
	"hosts:\n"                                             /* 8 */
	"  h1: {address: 10.0.0.1, primary: true, reserved_cpus: \"0-1\"}\n" /* 9 */
	"  192.168.1.2: {}\n"                                  /* 10 */
	"ctrlif: {parent: \"02:00:00:00:00:01\", address: 172.25.160.1/24}\n" /* 11 */
	"guests:\n"                                            /* 12 */
	"  a:\n"                                               /* 13 */
	"    cpuset: \"2-5\"\n"                                /* 14 */
	"    memory: 512\n"                                    /* 15 */
	"    nics:\n"                                          /* 16 */
	"      - name: vmctrl\n"                               /* 17 */
	"        macvtap: eth1\n"                              /* 18 */
	"        mode: passthru\n"                             /* 19 */
	"        ip: 172.25.160.3/24\n"                        /* 20 */
	"        gateway: 172.25.160.1\n"                      /* 21 */
	"        vlan: 100\n"                                  /* 22 */
	"        mtu: 9000\n"                                  /* 23 */
	"        queues: 4\n"                                  /* 24 */
	"      - {name: n3, vf: \"0000:1a:00.0\", trust: true, spoofchk: false, vlan: 7}\n" /* 25 */
	"      - {name: n6, pci: \"0000:1b:00.1\", mac: \"02:AA:bb:cc:dd:ee\", force: true}\n" /* 26 */
	"      - {name: u, user: {forward: [\"tcp:2222:22\", \"udp:127.0.0.1:5353:10.0.2.15:53\"]}}\n" /* 27 */
	"      - {name: u2, user: true}\n"                     /* 28 */
	"      - {name: t, macvtap: \"02:00:00:00:00:09\"}\n"  /* 29 */
	"    disks:\n"                                         /* 30 */
	"      - {file: a.qcow2, backing: base.qcow2, size: 20G, bus: nvme, cache: none, aio: io_uring}\n" /* 31 */
	"      - {file: data.img, readonly: true}\n"           /* 32 */
	"      - {cdrom: seed.iso}\n"                          /* 33 */
	"    cloud_init:\n"                                    /* 34 */
	"      ssh_authorized_keys: [\"ssh-ed25519 AAAA x\"]\n" /* 35 */
	"      password: null\n"                               /* 36 */
	"      hostname: web-1.lab\n"                          /* 37 */
	"    qemu_args: [\"-device\", \"virtio-rng-pci\"]\n"   /* 38 */
	"  b:\n"                                               /* 39 */
	"    host: 192.168.1.2\n"                              /* 40 */
	"    cpuset: \"2-5\"\n"                                /* 41 */
	"    kernel: /boot/vmlinuz\n"                          /* 42 */
	"    initrd: /boot/initrd\n"                           /* 43 */
	"    append: console=ttyS0\n"                          /* 44 */
	"    stop_timeout: 30\n"                               /* 45 */
	"    cpu_isolation: true\n"                            /* 46 */
	"    machine: pc\n"                                    /* 47 */
	"    cpu: max\n"                                       /* 48 */
	"  c: ~\n";                                            /* 49 */

static void test_full(void)
{
	struct vmr_diags d = { 0 };
	/* clang-format on */
	struct vmr_topology *t = load(full, &d);
	const struct vmr_guest *a, *b, *c;
	const struct vmr_nic *n;
	struct vmr_mac m;
	char buf[64];

	ok(t != NULL && d.n == 0, "full example loads without diagnostics");
	if (!t)
		return;
	is_int(t->version, 1, "version");
	is_int(t->nhosts, 2, "two hosts");
	ok(vmr_topology_primary(t) == vmr_topology_host(t, "h1"), "h1 is primary");
	is_str(t->hosts[0].address, "10.0.0.1", "host address");
	ok(t->hosts[0].has_reserved && t->hosts[0].reserved.n == 2, "reserved cpus");
	ok(vmr_topology_host(t, "192.168.1.2") && !t->hosts[1].address, "an IP as host name");
	ok(t->ctrlif.present && t->ctrlif.parent_is_mac, "ctrlif parent by MAC");
	is_str(vmr_mac_format(&t->ctrlif.mac, buf), "52:de:ac:19:a0:01", "ctrlif mac = ip2mac");
	is_int(t->ctrlif.pos.line, 11, "ctrlif position");

	is_int(t->nguests, 3, "three guests");
	a = vmr_topology_guest(t, "a");
	b = vmr_topology_guest(t, "b");
	c = vmr_topology_guest(t, "c");
	ok(a && b && c && !vmr_topology_guest(t, "d"), "guest lookup");
	if (!a || !b || !c)
		goto out;
	is_int(a->pos.line, 13, "guest a position line");
	is_int(a->pos.col, 3, "guest a position column");
	ok(a->has_cpuset && a->vcpus == 4, "own cpuset wins over vcpus from defaults");
	is_int(a->cpuset.cpus[0], 2, "vCPU 0 -> CPU 2");
	is_int(a->cpuset_pos.line, 14, "cpuset position");
	ok(a->memory == 512ull << 20, "bare memory is MiB, own value wins");
	ok(a->accel == VMR_ACCEL_TCG, "accel from defaults");
	is_str(a->machine, "q35", "machine default");
	ok(a->cpu == NULL, "cpu default NULL");
	ok(a->stop_timeout == VMR_DEFAULT_STOP_TIMEOUT, "stop_timeout default");
	is_int(a->nnics, 6, "own nics replace the default list");

	n = &a->nics[0];
	ok(dev_is(&n->att, "macvtap", "eth1"), "macvtap by name");
	ok(streq(dev_str(&n->att, "mode"), "passthru") && dev_int(&n->att, "vlan") == 100 &&
	       n->mtu == 9000 && dev_int(&n->att, "queues") == 4,
	   "macvtap mode, vlan, mtu, queues");
	ok(n->has_ip && n->ip.prefix == 24 && streq(n->gateway, "172.25.160.1"), "ip and gateway");
	vmr_mac_derive("a", "vmctrl", &m);
	ok(!n->mac_given && vmr_mac_equal(&n->mac, &m), "derived MAC from guest and nic");
	is_int(n->pos.line, 17, "nic position");
	is_int(n->att.pos.line, 18, "attachment position");
	is_int(n->mac_pos.line, 17, "derived mac points at the nic");

	n = &a->nics[1];
	ok(dev_is(&n->att, "vf", "0000:1a:00.0") && dev_bool(&n->att, "trust") &&
	       !dev_bool(&n->att, "spoofchk") && dev_int(&n->att, "vlan") == 7,
	   "vf with trust, spoofchk, vlan");
	n = &a->nics[2];
	ok(dev_is(&n->att, "pci", "0000:1b:00.1") && dev_bool(&n->att, "force") && n->mac_given,
	   "pci with force and mac");
	is_str(vmr_mac_format(&n->mac, buf), "02:aa:bb:cc:dd:ee", "given mac kept");
	is_int(n->mac_pos.col, 46, "given mac position");
	n = &a->nics[3];
	ok(dev_is(&n->att, "user", NULL), "user");
	is_str(dev_value(&n->att), "[\"tcp::2222-:22\", \"udp:127.0.0.1:5353-10.0.2.15:53\"]",
	       "user with two forwards, addresses kept");
	ok(dev_is(&a->nics[4].att, "user", NULL), "user: true");
	is_str(dev_value(&a->nics[4].att), "[]", "user: true forwards nothing");
	ok(dev_is(&a->nics[5].att, "macvtap", "02:00:00:00:00:09"), "macvtap parent by MAC");

	is_int(a->ndisks, 3, "three disks");
	ok(a->disks[0].size == 20ull << 30 && streq(a->disks[0].bus.ops->name, "nvme") &&
	       a->disks[0].cache == VMR_CACHE_NONE && a->disks[0].aio == VMR_AIO_IO_URING,
	   "disk size, bus, cache, aio");
	ok(vmr_disk_effective_format(&a->disks[0]) == VMR_FORMAT_QCOW2, "backing implies qcow2");
	ok(vmr_disk_effective_format(&a->disks[1]) == VMR_FORMAT_RAW && a->disks[1].readonly,
	   ".img is raw, readonly");
	ok(a->disks[2].cdrom && a->disks[2].readonly && streq(a->disks[2].file, "seed.iso"),
	   "cdrom");
	ok(a->cloud_init.enabled && a->cloud_init.ssh_keys_given &&
	       a->cloud_init.ssh_authorized_keys.n == 1 && !a->cloud_init.password,
	   "cloud_init keys, null password");
	is_str(a->cloud_init.hostname, "web-1.lab", "cloud_init hostname");
	ok(a->qemu_args.n == 2 && streq(a->qemu_args.v[1], "virtio-rng-pci"), "qemu_args");

	ok(streq(b->host, "192.168.1.2") && b->has_cpuset, "b placed on the other host");
	ok(b->vcpus == 4 && b->memory == 1ull << 30, "b: cpuset size, memory from defaults");
	ok(streq(b->kernel, "/boot/vmlinuz") && streq(b->initrd, "/boot/initrd") &&
	       streq(b->append, "console=ttyS0"),
	   "kernel, initrd, append");
	ok(b->stop_timeout == 30 && b->cpu_isolation && streq(b->machine, "pc") &&
	       streq(b->cpu, "max"),
	   "stop_timeout, cpu_isolation, machine, cpu");
	ok(b->cloud_init.enabled, "cpu_isolation turns the seed on");
	is_str(b->cloud_init.hostname, "b", "hostname defaults to the guest name");
	is_int(b->nnics, 1, "b inherits the default nic list");
	vmr_mac_derive("b", "vmctrl", &m);
	ok(b->nnics == 1 && dev_is(&b->nics[0].att, "bridge", "br0") &&
	       vmr_mac_equal(&b->nics[0].mac, &m),
	   "inherited nic gets the guest's own derived MAC");

	ok(c->vcpus == 2 && !c->has_cpuset && c->memory == 1ull << 30, "null guest: all defaults");
	ok(!c->cloud_init.enabled, "no seed without cloud_init, ip or cpu_isolation");
out:
	vmr_topology_free(t);
	vmr_diags_clear(&d);
}

static void test_minimal(void)
{
	struct vmr_diags d = {0};
	struct vmr_topology *t = load("version: 1\nguests:\n  a: {}\n", &d);

	ok(t && t->nguests == 1, "minimal topology");
	if (t) {
		const struct vmr_guest *g = &t->guests[0];

		ok(g->vcpus == 1 && g->memory == 512ull << 20 && g->accel == VMR_ACCEL_AUTO &&
		       !g->host && g->nnics == 0,
		   "guest defaults: 1 vCPU, 512M, auto");
		ok(!vmr_topology_primary(t), "no primary host");
	}
	vmr_topology_free(t);
	t = load("version: 1\n", &d);
	ok(t && t->nguests == 0, "no guests is valid");
	vmr_topology_free(t);
	vmr_diags_clear(&d);
}

static void test_null(void)
{
	struct vmr_diags d = {0};
	struct vmr_topology *t =
	    load("version: 1\n"
		 "defaults: {kernel: /k, append: x, nics: [{name: a, tap: t0}]}\n"
		 "guests:\n"
		 "  a: {kernel: null, append: ~, nics: ~}\n"
		 "  b:\n"
		 "    nics: [{name: a, tap: t1, mac: ~, vlan: ~, user: }]\n",
		 &d);

	ok(t == NULL && d.n == 1 && strstr(d.v[0].msg, "two attachments 'tap' and 'user'"),
	   "user: with tap is two attachments, a null vlan is no value");
	vmr_diags_clear(&d);
	t = load("version: 1\n"
		 "defaults: {kernel: /k, append: x, nics: [{name: a, tap: t0}]}\n"
		 "guests:\n"
		 "  a: {kernel: null, append: ~, nics: ~}\n"
		 "  b:\n"
		 "    nics: [{name: a, tap: t1, mac: ~, mtu: ~}, {name: u, user: }]\n",
		 &d);
	ok(t != NULL, "nulls load");
	if (t) {
		const struct vmr_guest *a = &t->guests[0], *b = &t->guests[1];
		struct vmr_mac m;

		ok(!a->kernel && !a->append && a->nnics == 0, "a guest's null drops the default");
		vmr_mac_derive("b", "a", &m);
		ok(streq(b->kernel, "/k") && b->nnics == 2 && vmr_mac_equal(&b->nics[0].mac, &m) &&
		       !b->nics[0].mac_given && b->nics[0].mtu == 0,
		   "mac: ~ is the derived MAC");
		ok(dev_is(&b->nics[1].att, "user", NULL), "user: alone attaches user networking");
	}
	vmr_topology_free(t);
	vmr_diags_clear(&d);
}

static void test_two_hosts_same_cpus(void)
{
	struct vmr_diags d = {0};
	struct vmr_topology *t = load("version: 1\n"
				      "hosts: {h1: {primary: true}, h2: {}}\n"
				      "guests:\n"
				      "  a: {cpuset: \"2-5\"}\n"
				      "  b: {host: h2, cpuset: \"2-5\"}\n"
				      "  c: {host: h1, cpuset: \"6-7\"}\n",
				      &d);

	ok(t != NULL, "same CPUs on two different hosts is fine");
	vmr_topology_free(t);
	vmr_diags_clear(&d);

	/* identical servers have identical PCI addresses */
	t = load("version: 1\n"
		 "hosts: {h1: {primary: true}, h2: {}}\n"
		 "guests:\n"
		 "  a: {nics: [{name: n3, pci: \"0000:1a:00.1\"}]}\n"
		 "  b: {host: h2, nics: [{name: n3, pci: \"0000:1a:00.1\"}]}\n",
		 &d);
	ok(t != NULL, "the same PCI address on two different hosts is fine");
	vmr_topology_free(t);
	vmr_diags_clear(&d);
	t = load("version: 1\n"
		 "hosts: {h1: {primary: true}, h2: {}}\n"
		 "guests:\n"
		 "  a: {nics: [{name: n3, pci: \"0000:1a:00.1\"}]}\n"
		 "  b: {host: h1, nics: [{name: n3, vf: \"0000:1a:00.1\"}]}\n",
		 &d);
	ok(t == NULL && d.n == 1,
	   "a device passed through whole and used as a PF on one host fails");
	vmr_topology_free(t);
	vmr_diags_clear(&d);
}

static void test_errors_api(void)
{
	struct vmr_diags d = {0};
	struct vmr_topology *t = NULL;
	static const char bad[] = "version: 1\n"
				  "defaults: {accel: kvn}\n"
				  "guests:\n"
				  "  b: {memory: 1Q}\n"
				  "  a: {vcpus: 0}\n"
				  "  c: {}\n";
	_cleanup_free_ char *big = xmalloc(VMR_TOPOLOGY_MAX_BYTES + 2);
	int r;

	r = vmr_topology_load_buffer("x.yaml", bad, strlen(bad), vmr_device_kinds(), &t, &d);
	ok(r == -EINVAL && t == NULL, "invalid input is -EINVAL, no model");
	is_int(d.n, 3, "every error reported, the defaults one once");
	if (d.n == 3) {
		ok(d.v[0].line == 2 && d.v[1].line == 4 && d.v[2].line == 5, "sorted by position");
		is_str(d.v[0].file, "x.yaml", "diag names the file");
		is_int(d.v[1].col, 15, "diag column");
		is_str(d.v[0].hint, "did you mean 'kvm'?", "enum hint");
	}
	vmr_diags_clear(&d);
	ok(d.n == 0 && d.v == NULL, "diags cleared");

	memset(big, ' ', VMR_TOPOLOGY_MAX_BYTES + 1);
	r = vmr_topology_load_buffer("big.yaml", big, VMR_TOPOLOGY_MAX_BYTES + 1,
				     vmr_device_kinds(), &t, &d);
	ok(r == -EINVAL && d.n == 1 && d.v[0].line == 1, "oversize buffer refused");
	vmr_diags_clear(&d);

	r = vmr_topology_load("/nonexistent/vmrun.yaml", vmr_device_kinds(), &t, &d);
	ok(r == -ENOENT && d.n == 1 && d.v[0].line == 0, "missing file: -ENOENT, one diag");
	vmr_diags_clear(&d);

	{
		struct vmr_buf b = VMR_BUF_INIT;

		vmr_buf_adds(&b, "version: 1\nguests:\n");
		for (int i = 0; i < 150; i++)
			vmr_buf_addf(&b, "  g%d: {memory: %dQ}\n", i, i);
		r = vmr_topology_load_buffer("many.yaml", b.s, b.len, vmr_device_kinds(), &t, &d);
		ok(r == -EINVAL && d.n == 101, "100 diagnostics and a last line (%zu)", d.n);
		if (d.n == 101) {
			is_str(d.v[100].msg, "too many errors, 50 more not shown",
			       "count of the rest");
			ok(d.v[99].line == 102 && d.v[100].line == 102, "the count comes last");
		}
		vmr_buf_free(&b);
		vmr_diags_clear(&d);
	}

	vmr_diags_add(&d, "f", 1, 2, NULL, "m %d", 1);
	vmr_diags_add(&d, "f", 1, 2, NULL, "m %d", 1);
	vmr_diags_add(&d, "f", 1, 3, NULL, "m %d", 1);
	is_int(d.n, 2, "identical diagnostics kept once");
	vmr_diags_clear(&d);
}

static void test_names(void)
{
	ok(streq(vmr_accel_name(VMR_ACCEL_TCG), "tcg") &&
	       streq(vmr_disk_cache_name(VMR_CACHE_DIRECTSYNC), "directsync") &&
	       streq(vmr_disk_aio_name(VMR_AIO_NATIVE), "native"),
	   "enum names as written in the file");
}

static void test_name_rules(void)
{
	ok(vmr_guest_name_valid("a") && vmr_guest_name_valid("a234567890123456789012345678901"),
	   "guest names of 1 and 31 characters");
	ok(!vmr_guest_name_valid("a2345678901234567890123456789012") &&
	       !vmr_guest_name_valid("1a") && !vmr_guest_name_valid("A") &&
	       !vmr_guest_name_valid("") && !vmr_guest_name_valid(NULL),
	   "guest names: too long, digit first, uppercase, empty, NULL");
	ok(vmr_nic_name_valid("vmctrl") && !vmr_nic_name_valid("n_6") &&
	       !vmr_nic_name_valid("a234567890123456"),
	   "nic names: letters and digits, at most 15");
	ok(vmr_host_name_valid("192.168.60.2") && vmr_host_name_valid("lab-1.example") &&
	       !vmr_host_name_valid("Lab") && !vmr_host_name_valid("-a"),
	   "host names: lowercase, may start with a digit");
	ok(vmr_host_address_valid("192.168.60.2") && vmr_host_address_valid("Lab-1.example") &&
	       vmr_host_address_valid("fd00::2"),
	   "host addresses: IPv4, DNS name, IPv6");
	ok(!vmr_host_address_valid("a..b") && !vmr_host_address_valid("a.") &&
	       !vmr_host_address_valid("a_b") && !vmr_host_address_valid(NULL),
	   "host addresses: empty label, trailing dot, underscore, NULL");
}

static void test_cpuset_limit(void)
{
	struct vmr_diags d = {0};
	struct vmr_topology *t = load("version: 1\nguests: {a: {cpuset: \"0-1023\"}}\n", &d);

	ok(t && t->guests[0].vcpus == 1024, "a cpuset of 1024 CPUs: 1024 vCPUs");
	vmr_topology_free(t);
	vmr_diags_clear(&d);
	t = load("version: 1\nguests: {a: {cpuset: \"0-1024\"}}\n", &d);
	ok(!t && d.n == 1 && strstr(d.v[0].msg, "at most 1024 vCPUs"), "1025 CPUs refused");
	vmr_topology_free(t);
	vmr_diags_clear(&d);
}

static void test_forwards(void)
{
	static const char *const good[] = {"tcp:2222:22", "udp:127.0.0.1:5353:53",
					   "tcp:127.0.0.1:2222:10.0.2.15:22"};
	static const char *const bad[] = {"tcp:2222:22:", ":tcp:2222:22", "tcp::2222:22",
					  "tcp:0:22",	  "sctp:1:2",	  "tcp:1:2:3:4:5:6",
					  "tcp:2222",	  "tcp:a.b:1:2"};

	for (size_t i = 0; i < ARRAY_SIZE(good) + ARRAY_SIZE(bad); i++) {
		bool want = i < ARRAY_SIZE(good);
		const char *fw = want ? good[i] : bad[i - ARRAY_SIZE(good)];
		_cleanup_free_ char *text = xasprintf(
		    "version: 1\nguests: {a: {nics: [{name: u, user: {forward: [\"%s\"]}}]}}\n",
		    fw);
		struct vmr_diags d = {0};
		struct vmr_topology *t = NULL;

		vmr_topology_load_buffer("f.yaml", text, strlen(text), vmr_device_kinds(), &t, &d);
		ok((t != NULL) == want, "forward '%s' %s", fw, want ? "accepted" : "refused");
		vmr_topology_free(t);
		vmr_diags_clear(&d);
	}
}

/* the guest's hardware JSON (the instance-id's input) of guest "a" in text */
static char *hw(const char *text)
{
	struct vmr_diags d = {0};
	struct vmr_topology *t = load(text, &d);
	char *s = NULL;

	if (t) {
		json_t *j = vmr_guest_hw_json(vmr_topology_guest(t, "a"));

		s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(j);
	}
	vmr_topology_free(t);
	vmr_diags_clear(&d);
	return s;
}

/* issue 12: memory as a mapping, placement keys; what the guest sees */
static void test_host_side_keys(void)
{
	struct vmr_diags d = {0};
	struct vmr_topology *t;
	char *plain = hw("version: 1\nguests:\n  a: {memory: 1G}\n");
	char *placed = hw("version: 1\nguests:\n  a:\n"
			  "    memory: {size: 1G, hugepages: 2M, numa_node: 0, prealloc: true}\n"
			  "    emulator_cpus: \"0\"\n    iothreads: 2\n    iothread_cpus: \"1\"\n");
	char *bigger = hw("version: 1\nguests:\n  a: {memory: {size: 2G, hugepages: 2M}}\n");

	ok(plain && placed && streq(plain, placed),
	   "hugepages, NUMA node, prealloc and thread placement leave the instance-id alone");
	ok(plain && bigger && !streq(plain, bigger), "the size in the mapping changes it");
	free(plain);
	free(placed);
	free(bigger);

	t = load("version: 1\nguests:\n  a: {memory: {size: 3G, hugepages: 1G}}\n"
		 "  b: {memory: 768M}\n",
		 &d);
	ok(t && vmr_topology_guest(t, "a")->memory == 3ull << 30 &&
	       vmr_topology_guest(t, "a")->ndevices == 1 &&
	       streq(vmr_topology_guest(t, "a")->devices[0].ops->name, "memory"),
	   "memory: {size: 3G, ...}: the guest's size and a memory device");
	ok(t && vmr_topology_guest(t, "b")->memory == 768ull << 20 &&
	       vmr_topology_guest(t, "b")->ndevices == 0,
	   "memory: 768M: the size and no device");
	vmr_topology_free(t);
	vmr_diags_clear(&d);

	/* defaults: a guest inherits the mapping, and its own short form replaces it */
	t = load("version: 1\ndefaults:\n  memory: {size: 1G, hugepages: 2M}\n"
		 "guests:\n  a: {}\n  b: {memory: 2G}\n",
		 &d);
	ok(t && vmr_topology_guest(t, "a")->ndevices == 1 &&
	       vmr_topology_guest(t, "b")->ndevices == 0 &&
	       vmr_topology_guest(t, "b")->memory == 2ull << 30,
	   "defaults' memory mapping: inherited, or replaced by a guest's own size");
	vmr_topology_free(t);
	vmr_diags_clear(&d);
}

int main(void)
{
	test_full();
	test_host_side_keys();
	test_minimal();
	test_null();
	test_two_hosts_same_cpus();
	test_errors_api();
	test_names();
	test_name_rules();
	test_cpuset_limit();
	test_forwards();
	return tap_done();
}
