/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cloud-init seed files: contents read back with libyaml's parser (not
 * compared as our own strings), user-data merging, and when the
 * instance-id changes.
 */
#include <crypt.h>
#include <dlfcn.h>
#include <stdio.h>
#include <yaml.h>

#include "images/images.h"
#include "lib/devices/devices.h"
#include "lib/base/util.h"
#include "tests/lib/tap.h"

/* crypt_r() as vmrun gets it (dlopen: the tests do not link libcrypt either) */
static bool crypt_matches(const char *pw, const char *hash)
{
	char *(*fn)(const char *, const char *, struct crypt_data *);
	void *h = dlopen("libcrypt.so.1", RTLD_NOW | RTLD_LOCAL);
	struct crypt_data *cd;
	bool ok;

	if (!h)
		return false;
	*(void **)&fn = dlsym(h, "crypt_r");
	cd = xcalloc(1, sizeof(*cd));
	ok = fn && hash && streq(fn(pw, hash, cd), hash);
	free(cd);
	dlclose(h);
	return ok;
}

static struct vmr_topology *load(const char *yaml)
{
	struct vmr_diags d = {0};
	struct vmr_topology *t = NULL;

	if (vmr_topology_load_buffer("test.yaml", yaml, strlen(yaml), vmr_device_kinds(), &t, &d) <
	    0) {
		for (size_t i = 0; i < d.n; i++)
			tap_diag("%u:%u: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
		t = NULL;
	}
	vmr_diags_clear(&d);
	return t;
}

/* ---- a tiny reader over libyaml's document model ---- */

struct doc {
	yaml_document_t d;
	bool ok;
};

static void doc_load(struct doc *doc, const char *text)
{
	yaml_parser_t p;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	doc->ok = yaml_parser_load(&p, &doc->d) && yaml_document_get_root_node(&doc->d);
	yaml_parser_delete(&p);
}

static void doc_free(struct doc *doc)
{
	yaml_document_delete(&doc->d);
}

/* Follow a path of mapping keys ("ethernets", "n6", "match", ...); NULL-terminated. */
static yaml_node_t *get(struct doc *doc, yaml_node_t *n, ...)
{
	va_list ap;
	const char *k;

	if (!n)
		n = yaml_document_get_root_node(&doc->d);
	va_start(ap, n);
	while (n && (k = va_arg(ap, const char *))) {
		yaml_node_t *found = NULL;

		if (n->type != YAML_MAPPING_NODE)
			break;
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *key = yaml_document_get_node(&doc->d, p->key);
			if (key->type == YAML_SCALAR_NODE &&
			    streq((char *)key->data.scalar.value, k))
				found = yaml_document_get_node(&doc->d, p->value);
		}
		n = found;
	}
	va_end(ap);
	return n;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static size_t seq_len(yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE
		   ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
		   : 0;
}

static yaml_node_t *item(struct doc *doc, yaml_node_t *n, size_t i)
{
	if (i >= seq_len(n))
		return NULL;
	return yaml_document_get_node(&doc->d, n->data.sequence.items.start[i]);
}

static struct vmr_seed build(const char *yaml, const char *user_data, const struct vmr_strvec *keys,
			     int *ret)
{
	struct vmr_topology *t = load(yaml);
	struct vmr_seed s = {0};
	struct vmr_error *err = NULL;
	struct vmr_seed_input in = {
	    .user_data = user_data, .user_data_path = "ud.yaml", .keys = keys};

	*ret = -100;
	if (!t)
		return s;
	*ret = vmr_seed_build(&t->guests[0], &in, &s, &err);
	if (*ret < 0) {
		_cleanup_free_ char *text = vmr_error_text(err);
		tap_diag("seed: %s (status %d)", text, err->status);
		*ret = -err->status;
	}
	vmr_error_free(err);
	vmr_topology_free(t);
	return s;
}

#define BASE                                                                                       \
	"version: 1\n"                                                                             \
	"guests:\n"                                                                                \
	"  vm1:\n"                                                                                 \
	"    memory: 512M\n"                                                                       \
	"    accel: tcg\n"                                                                         \
	"    nics:\n"                                                                              \
	"      - {name: n6, user: true, mac: '52:54:00:aa:00:01', ip: 10.0.6.5/24, gateway: "      \
	"10.0.6.1}\n"                                                                              \
	"      - {name: \"on\", user: true, mac: '52:54:00:aa:00:02', ipv6_auto: true}\n"          \
	"      - {name: n3, pci: '0000:1a:00.1', mac: 'A4:BF:01:CC:75:97', ip: 'fd00::3/64'}\n"    \
	"      - {name: n9, vf: '0000:3b:00.0', mac: '52:de:ac:19:a0:09', ip: 172.25.169.3/24}\n"  \
	"      - {name: nx, pci: '0000:1a:00.2'}\n"

static void test_network_config(void)
{
	struct vmr_strvec keys = VMR_STRVEC_INIT;
	struct vmr_seed s;
	struct doc d;
	int r;

	s = build(BASE "    cloud_init: true\n", NULL, &keys, &r);
	if (!is_int(r, 0, "seed of a guest with five NICs builds"))
		return;
	doc_load(&d, s.network_config);
	ok(d.ok, "network-config parses as YAML");
	is_str(scalar(get(&d, NULL, "version", NULL)), "2", "version 2");

	yaml_node_t *eth = get(&d, NULL, "ethernets", NULL);
	is_str(scalar(get(&d, eth, "n6", "match", "macaddress", NULL)), "52:54:00:aa:00:01",
	       "n6 matched by its MAC");
	is_str(scalar(get(&d, eth, "n6", "set-name", NULL)), "n6", "n6 set-name");
	is_str(scalar(get(&d, eth, "n6", "dhcp4", NULL)), "false", "static n6: no DHCPv4");
	is_str(scalar(item(&d, get(&d, eth, "n6", "addresses", NULL), 0)), "10.0.6.5/24",
	       "n6 address");
	yaml_node_t *route = item(&d, get(&d, eth, "n6", "routes", NULL), 0);
	is_str(scalar(get(&d, route, "to", NULL)), "0.0.0.0/0", "default route");
	is_str(scalar(get(&d, route, "via", NULL)), "10.0.6.1", "via the gateway");

	is_str(scalar(get(&d, eth, "on", "set-name", NULL)), "on",
	       "a NIC named 'on' keeps its name");
	is_str(scalar(get(&d, eth, "on", "dhcp4", NULL)), "true", "no ip: DHCP");
	ok(get(&d, eth, "on", "addresses", NULL) == NULL, "no ip: no addresses");
	/* 5gdeploy's netplan: no router adverts, no link-local on lab netifs */
	is_str(scalar(get(&d, eth, "n6", "accept-ra", NULL)), "false", "n6: accept-ra false");
	yaml_node_t *ll = get(&d, eth, "n6", "link-local", NULL);
	ok(ll && ll->type == YAML_SEQUENCE_NODE && seq_len(ll) == 0, "n6: link-local []");
	is_str(scalar(get(&d, eth, "n9", "accept-ra", NULL)), "false", "VF n9: accept-ra false");
	ok(get(&d, eth, "on", "accept-ra", NULL) == NULL &&
	       get(&d, eth, "on", "link-local", NULL) == NULL,
	   "ipv6_auto: true leaves router adverts and link-local to the guest's defaults");

	is_str(scalar(get(&d, eth, "n3", "match", "macaddress", NULL)), "a4:bf:01:cc:75:97",
	       "passthrough NIC matched by its (lowercased) host MAC");
	is_str(scalar(item(&d, get(&d, eth, "n3", "addresses", NULL), 0)), "fd00::3/64",
	       "IPv6 address");
	is_str(scalar(get(&d, eth, "n9", "match", "macaddress", NULL)), "52:de:ac:19:a0:09",
	       "VF NIC included");
	ok(get(&d, eth, "nx", NULL) == NULL, "passthrough NIC without mac: left out");
	doc_free(&d);

	/*
	 * YAML 1.1 readers (PyYAML in cloud-init) take 52:54:00:12:34:56 for a
	 * base-60 number and on for true: such values must be quoted.
	 */
	ok(strstr(s.network_config, "\"52:54:00:aa:00:01\"") != NULL, "MACs are quoted");
	ok(strstr(s.network_config, "\"on\":") != NULL, "a NIC named 'on' is quoted");

	doc_load(&d, s.meta_data);
	ok(startswith(scalar(get(&d, NULL, "instance-id", NULL)) ?: "", "iid-"),
	   "meta-data instance-id");
	is_str(scalar(get(&d, NULL, "instance-id", NULL)), s.instance_id,
	       "instance-id as returned");
	is_str(scalar(get(&d, NULL, "local-hostname", NULL)), "vm1",
	       "hostname defaults to the guest name");
	doc_free(&d);
	vmr_seed_free(&s);
}

static void test_user_data(void)
{
	struct vmr_strvec keys = VMR_STRVEC_INIT;
	struct vmr_seed s;
	struct doc d;
	int r;

	vmr_strvec_push(&keys, "ssh-ed25519 AAAAinvoker me@host");

	/* no topology keys: the invoking user's */
	s = build(BASE "    cloud_init: {hostname: web1}\n", NULL, &keys, &r);
	is_int(r, 0, "seed without user_data");
	ok(startswith(s.user_data, "#cloud-config\n"), "user-data starts with #cloud-config");
	doc_load(&d, s.user_data);
	is_str(scalar(item(&d, get(&d, NULL, "ssh_authorized_keys", NULL), 0)),
	       "ssh-ed25519 AAAAinvoker me@host", "invoking user's key");
	ok(get(&d, NULL, "chpasswd", NULL) == NULL, "no password: no chpasswd");
	ok(get(&d, NULL, "users", NULL) == NULL, "no password: no users");
	is_str(scalar(get(&d, NULL, "manage_etc_hosts", NULL)), "true",
	       "manage_etc_hosts without a password too");
	ok(get(&d, NULL, "write_files", NULL) == NULL, "no cpu_isolation: no drop-ins");
	doc_free(&d);
	doc_load(&d, s.meta_data);
	is_str(scalar(get(&d, NULL, "local-hostname", NULL)), "web1", "cloud_init.hostname");
	doc_free(&d);
	vmr_seed_free(&s);

	/* topology keys win; password; cpu isolation; the user's file merged */
	s = build(BASE "    cpu_isolation: true\n"
		       "    cloud_init:\n"
		       "      user_data: ud.yaml\n"
		       "      password: '0000'\n"
		       "      ssh_authorized_keys: ['ssh-rsa AAAAtopo t@x']\n",
		  "#cloud-config\n"
		  "packages: [htop]\n"
		  "ssh_authorized_keys:\n  - ssh-rsa AAAAuser u@x\n"
		  "write_files:\n  - {path: /etc/foo, content: bar}\n"
		  "ssh_pwauth: false\n"
		  "timezone: &tz Europe/Paris\n"
		  "tz2: *tz\n",
		  &keys, &r);
	if (!is_int(r, 0, "seed with user_data, password, keys, cpu isolation"))
		return;
	doc_load(&d, s.user_data);
	ok(d.ok, "user-data parses as YAML");
	yaml_node_t *k = get(&d, NULL, "ssh_authorized_keys", NULL);
	is_int((long long)seq_len(k), 2, "user's and topology's keys, not the invoker's");
	is_str(scalar(item(&d, k, 0)), "ssh-rsa AAAAuser u@x", "user's key first");
	is_str(scalar(item(&d, k, 1)), "ssh-rsa AAAAtopo t@x", "then the topology's");
	is_str(scalar(item(&d, get(&d, NULL, "packages", NULL), 0)), "htop", "user's keys kept");
	is_str(scalar(get(&d, NULL, "ssh_pwauth", NULL)), "false", "user's scalar wins over ours");
	is_str(scalar(get(&d, NULL, "tz2", NULL)), "Europe/Paris", "alias expanded");
	yaml_node_t *wf = get(&d, NULL, "write_files", NULL);
	is_int((long long)seq_len(wf), 6,
	       "user's file plus four CPU isolation drop-ins and sshd's root login");
	is_str(scalar(get(&d, item(&d, wf, 0), "path", NULL)), "/etc/foo", "user's file first");
	static const char *const want[][2] = {
	    {"/etc/systemd/system/init.scope.d/cpuset.conf", "[Scope]\nAllowedCPUs=0\n"},
	    {"/etc/systemd/system/service.d/cpuset.conf", "[Service]\nAllowedCPUs=0\n"},
	    {"/etc/systemd/system/user.slice.d/cpuset.conf", "[Slice]\nAllowedCPUs=0\n"},
	    {"/etc/systemd/system/docker-.scope.d/cpuset.conf", "[Scope]\nAllowedCPUs=1-127\n"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		yaml_node_t *f = item(&d, wf, i + 1);
		is_str(scalar(get(&d, f, "path", NULL)), want[i][0], "drop-in %zu path", i);
		is_str(scalar(get(&d, f, "content", NULL)), want[i][1], "drop-in %zu content", i);
	}
	is_str(scalar(get(&d, item(&d, wf, 5), "path", NULL)),
	       "/etc/ssh/sshd_config.d/10-vmrun-root-login.conf", "sshd drop-in path");
	is_str(scalar(get(&d, item(&d, wf, 5), "content", NULL)), "PermitRootLogin yes\n",
	       "password SSH login for root too");
	/* cloud-init 22.4 ignores `password` when chpasswd lists users: it must not */
	ok(get(&d, NULL, "chpasswd", "users", NULL) == NULL &&
	       get(&d, NULL, "chpasswd", "list", NULL) == NULL,
	   "chpasswd lists no users (else the top-level password is ignored)");
	is_str(scalar(get(&d, NULL, "chpasswd", "expire", NULL)), "false",
	       "password does not expire");
	const char *hash = scalar(get(&d, NULL, "password", NULL));
	ok(hash && startswith(hash, "$6$") && crypt_matches("0000", hash),
	   "password for the default user (cloud-init's name for it): SHA-512 crypt of it (%s)",
	   hash ? hash : "none");
	_cleanup_free_ char *hash_copy = xstrdup(hash);
	yaml_node_t *us = get(&d, NULL, "users", NULL);
	is_int((long long)seq_len(us), 2, "users: the default user and root");
	is_str(scalar(item(&d, us, 0)), "default", "the image's default user is kept");
	yaml_node_t *u = item(&d, us, 1);
	is_str(scalar(get(&d, u, "name", NULL)), "root", "password for root");
	is_str(scalar(get(&d, u, "hashed_passwd", NULL)), hash_copy, "root's: the same hash");
	ok(get(&d, u, "plain_text_passwd", NULL) == NULL, "no plain_text_passwd");
	is_str(scalar(get(&d, u, "lock_passwd", NULL)), "false", "root not locked");
	is_str(scalar(get(&d, NULL, "manage_etc_hosts", NULL)), "true",
	       "the hostname resolves (/etc/hosts)");
	is_str(scalar(get(&d, NULL, "disable_root", NULL)), "false", "root may log in (5gdeploy)");
	doc_free(&d);
	ok(!strstr(s.user_data, ": \"0000\"") && !strstr(s.user_data, ": 0000"),
	   "the password itself is nowhere in user-data");
	vmr_seed_free(&s);

	/* the hash is the same at every build (a stable instance id), another guest's salt differs
	 */
	{
		struct vmr_seed a =
		    build(BASE "    cloud_init: {password: s3cret-pw}\n", NULL, &keys, &r);
		struct vmr_seed b =
		    build(BASE "    cloud_init: {password: s3cret-pw}\n", NULL, &keys, &r);
		struct vmr_seed c =
		    build(BASE "    cloud_init: {password: s3cret-pw, hostname: other}\n", NULL,
			  &keys, &r);
		struct vmr_seed h =
		    build(BASE "    cloud_init: {password: '$6$abcdefgh$0123456789abcdefXYZ'}\n",
			  NULL, &keys, &r);

		ok(a.user_data && b.user_data && streq(a.user_data, b.user_data) &&
		       streq(a.instance_id, b.instance_id),
		   "the same password gives the same seed and instance id");
		ok(a.user_data && !strstr(a.user_data, "s3cret-pw"), "the password is not in it");
		ok(c.user_data && !streq(a.user_data, c.user_data),
		   "another hostname, another salt");
		ok(h.user_data &&
		       strstr(h.user_data, "password: $6$abcdefgh$0123456789abcdefXYZ\n") &&
		       strstr(h.user_data, "hashed_passwd: $6$abcdefgh$0123456789abcdefXYZ\n"),
		   "a hash given as the password is used as it is");
		vmr_seed_free(&a);
		vmr_seed_free(&b);
		vmr_seed_free(&c);
		vmr_seed_free(&h);
	}

	/* the user's own users list: kept, root's entry appended, no default added */
	s = build(BASE "    cloud_init:\n"
		       "      user_data: ud.yaml\n"
		       "      password: pw\n",
		  "#cloud-config\nusers:\n  - {name: alice, shell: /bin/bash}\n", &keys, &r);
	is_int(r, 0, "seed with the user's users list");
	doc_load(&d, s.user_data);
	yaml_node_t *ul = get(&d, NULL, "users", NULL);
	is_int((long long)seq_len(ul), 2, "users: the user's entry, then root's");
	is_str(scalar(get(&d, item(&d, ul, 0), "name", NULL)), "alice", "the user's entry first");
	is_str(scalar(get(&d, item(&d, ul, 1), "name", NULL)), "root", "then root's password");
	doc_free(&d);
	vmr_seed_free(&s);

	/* bad user data: usage errors */
	s = build(BASE "    cloud_init: {user_data: ud.yaml}\n", "#!/bin/sh\necho hi\n", &keys, &r);
	is_int(r, -VMR_EXIT_USAGE, "a shell script as user_data: usage error");
	vmr_seed_free(&s);
	s = build(BASE "    cloud_init: {user_data: ud.yaml}\n", "#cloud-config\na: [1, 2\n", &keys,
		  &r);
	is_int(r, -VMR_EXIT_USAGE, "invalid YAML in user_data: usage error");
	vmr_seed_free(&s);
	s = build(BASE "    cloud_init: {user_data: ud.yaml}\n", "#cloud-config\n- a\n- b\n", &keys,
		  &r);
	is_int(r, -VMR_EXIT_USAGE, "a list as user_data: usage error");
	vmr_seed_free(&s);
	s = build(BASE "    cloud_init: {user_data: ud.yaml}\n",
		  "#cloud-config\n"
		  "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		  "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
		  &keys, &r);
	is_int(r, -VMR_EXIT_USAGE, "an alias bomb in user_data is refused (usage error)");
	vmr_seed_free(&s);
	s = build(BASE "    cloud_init: {user_data: ud.yaml}\n", "#cloud-config\n", &keys, &r);
	is_int(r, 0, "an empty #cloud-config is fine");
	vmr_seed_free(&s);
	vmr_strvec_clear(&keys);
}

/* yaml with the first "from" replaced by "to" (caller frees) */
static char *subst(const char *yaml, const char *from, const char *to)
{
	const char *at = strstr(yaml, from);

	if (!at)
		return xstrdup(yaml);
	return xasprintf("%.*s%s%s", (int)(at - yaml), yaml, to, at + strlen(from));
}

static char *iid(const char *yaml)
{
	struct vmr_strvec keys = VMR_STRVEC_INIT;
	struct vmr_seed s;
	int r;
	char *id;

	vmr_strvec_push(&keys, "ssh-ed25519 AAAAk k@x");
	s = build(yaml, NULL, &keys, &r);
	id = r == 0 ? xstrdup(s.instance_id) : xstrdup("(failed)");
	vmr_seed_free(&s);
	vmr_strvec_clear(&keys);
	return id;
}

static void test_instance_id(void)
{
	_cleanup_free_ char *a = iid(BASE "    cloud_init: true\n");
	_cleanup_free_ char *a2 = iid(BASE "    cloud_init: true\n");
	_cleanup_free_ char *memyaml = subst(BASE "    cloud_init: true\n", "512M", "1G");
	_cleanup_free_ char *mem = iid(memyaml);
	_cleanup_free_ char *host = iid(BASE "    cloud_init: {hostname: other}\n");
	_cleanup_free_ char *ip = iid(BASE "      - {name: n7, user: true, ip: 10.0.7.5/24}\n"
					   "    cloud_init: true\n");
	_cleanup_free_ char *stop = iid(BASE "    cloud_init: true\n    stop_timeout: 3\n");
	_cleanup_free_ char *iso = iid(BASE "    cloud_init: true\n    cpu_isolation: true\n");

	ok(startswith(a, "iid-") && strlen(a) == 4 + 32, "instance-id is iid- and 32 hex digits");
	is_str(a2, a, "same configuration, same instance-id");
	ok(!streq(mem, a), "memory changed: new instance-id");
	ok(!streq(host, a), "hostname changed: new instance-id");
	ok(!streq(ip, a), "NIC added: new instance-id");
	ok(!streq(iso, a), "cpu_isolation changed: new instance-id");
	is_str(stop, a, "stop_timeout (host side only): same instance-id");
}

int main(void)
{
	test_network_config();
	test_user_data();
	test_instance_id();
	return tap_done();
}
