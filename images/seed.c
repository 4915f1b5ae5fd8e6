/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cloud-init NoCloud seed files: meta-data, user-data (#cloud-config,
 * merged with the user's own) and network-config v2, written with
 * lib/yamlout.h (libyaml's emitter).  Pure: the caller reads files and keys.
 */
#include <crypt.h> /* the types; the functions come through dlopen */
#include <jansson.h>
#include <stdio.h>
#include <yaml.h>

#include "images/images.h"
#include "images/isofs.h"
#include "lib/base/dlib.h"
#include "lib/base/netaddr.h"
#include "lib/base/util.h"
#include "lib/base/yamlout.h"

/* Bounds on the user's user-data so an alias bomb cannot blow up the merge. */
#define USER_DATA_MAX_NODES 100000
#define USER_DATA_MAX_DEPTH 64

/* 5gdeploy's guest CPU isolation (util/cpuset.ts): systemd on vCPU 0, containers on the rest. */
static const struct {
	const char *unit, *section, *cpus;
} isolation[] = {
    {"init.scope", "Scope", "0"},
    {"service", "Service", "0"},
    {"user.slice", "Slice", "0"},
    {"docker-.scope", "Scope", "1-127"},
};

/* the writer, and whether the user's document hit the node or depth bound */
struct emitter {
	struct vmr_yamlout y;
	bool too_big;
	size_t nodes; /* user nodes copied, against USER_DATA_MAX_NODES */
};

static void str(struct emitter *em, const char *s)
{
	vmr_yamlout_str(&em->y, s);
}

static void map_start(struct emitter *em)
{
	vmr_yamlout_map_start(&em->y);
}

static void map_end(struct emitter *em)
{
	vmr_yamlout_map_end(&em->y);
}

static void seq_start(struct emitter *em)
{
	vmr_yamlout_seq_start(&em->y, false);
}

static void seq_end(struct emitter *em)
{
	vmr_yamlout_seq_end(&em->y);
}

static void kv(struct emitter *em, const char *k, const char *v)
{
	vmr_yamlout_kv_str(&em->y, k, v);
}

static void emitter_open(struct emitter *em, struct vmr_buf *out)
{
	*em = (struct emitter){0};
	vmr_yamlout_init(&em->y, out);
}

/* ---- the user's #cloud-config ---------------------------------------- */

static bool default_tag(const yaml_node_t *n)
{
	const char *tag = (const char *)n->tag;

	switch (n->type) {
	case YAML_SCALAR_NODE:
		return streq(tag, YAML_DEFAULT_SCALAR_TAG);
	case YAML_SEQUENCE_NODE:
		return streq(tag, YAML_DEFAULT_SEQUENCE_TAG);
	case YAML_MAPPING_NODE:
		return streq(tag, YAML_DEFAULT_MAPPING_TAG);
	default:
		return true;
	}
}

/* Copy node n of the user's document, aliases expanded (within bounds). */
static void copy_node(struct emitter *em, yaml_document_t *doc, yaml_node_t *n, int depth)
{
	yaml_char_t *tag;
	int implicit;
	yaml_event_t ev;

	if (em->y.problem)
		return;
	if (++em->nodes > USER_DATA_MAX_NODES || depth > USER_DATA_MAX_DEPTH) {
		em->too_big = true;
		vmr_yamlout_fail(&em->y, "too many nodes or too deep");
		return;
	}
	implicit = default_tag(n);
	tag = implicit ? NULL : n->tag;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		vmr_yamlout_event(&em->y, &ev,
				  yaml_scalar_event_initialize(&ev, NULL, tag, n->data.scalar.value,
							       (int)n->data.scalar.length, implicit,
							       implicit, n->data.scalar.style),
				  "scalar");
		break;
	case YAML_SEQUENCE_NODE:
		vmr_yamlout_event(&em->y, &ev,
				  yaml_sequence_start_event_initialize(&ev, NULL, tag, implicit,
								       n->data.sequence.style),
				  "sequence start");
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++)
			copy_node(em, doc, yaml_document_get_node(doc, *i), depth + 1);
		seq_end(em);
		break;
	case YAML_MAPPING_NODE:
		vmr_yamlout_event(&em->y, &ev,
				  yaml_mapping_start_event_initialize(&ev, NULL, tag, implicit,
								      n->data.mapping.style),
				  "mapping start");
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			copy_node(em, doc, yaml_document_get_node(doc, p->key), depth + 1);
			copy_node(em, doc, yaml_document_get_node(doc, p->value), depth + 1);
		}
		map_end(em);
		break;
	default:
		vmr_yamlout_fail(&em->y, "empty node");
	}
}

static const char *scalar_text(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Parse the user's file: a #cloud-config whose document is a mapping (or empty). */
static int user_data_load(const struct vmr_seed_input *in, yaml_document_t *doc, bool *loaded,
			  struct vmr_error **err)
{
	const char *name = in->user_data_path ? in->user_data_path : "user_data";
	yaml_parser_t parser;
	yaml_node_t *root;
	int r = 0;

	*loaded = false;
	if (!in->user_data)
		return 0;
	if (!startswith(in->user_data, "#cloud-config") ||
	    !strchr(" \t\r\n", in->user_data[strlen("#cloud-config")] ?: '\n'))
		return vmr_error_usage(err,
				       "user_data '%s': not a #cloud-config file "
				       "(its first line must be '#cloud-config')",
				       name);
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)in->user_data,
				     strlen(in->user_data));
	if (!yaml_parser_load(&parser, doc)) {
		r = vmr_error_usage(err, "user_data '%s':%zu:%zu: %s", name,
				    parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				    parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		return r;
	}
	yaml_parser_delete(&parser);
	*loaded = true;
	root = yaml_document_get_root_node(doc);
	if (root && root->type != YAML_MAPPING_NODE) {
		yaml_document_delete(doc);
		*loaded = false;
		return vmr_error_usage(
		    err, "user_data '%s': expected a mapping of cloud-config keys", name);
	}
	return 0;
}

/*
 * Keys vmrun writes, in this order; the user's value wins for the scalar
 * and mapping ones, the user's items come first in the lists.
 */
enum our_key {
	K_DISABLE_ROOT,
	K_SSH_KEYS,
	K_PASSWORD,
	K_CHPASSWD,
	K_USERS,
	K_SSH_PWAUTH,
	K_MANAGE_ETC_HOSTS,
	K_WRITE_FILES,
	K_N
};
static const char *const our_keys[K_N] = {
    [K_DISABLE_ROOT] = "disable_root",
    [K_SSH_KEYS] = "ssh_authorized_keys",
    [K_PASSWORD] = "password",
    [K_CHPASSWD] = "chpasswd",
    [K_USERS] = "users",
    [K_SSH_PWAUTH] = "ssh_pwauth",
    [K_MANAGE_ETC_HOSTS] = "manage_etc_hosts",
    [K_WRITE_FILES] = "write_files",
};

/* lists: the user's items, then ours */
static bool our_list(enum our_key k)
{
	return k == K_SSH_KEYS || k == K_USERS || k == K_WRITE_FILES;
}

/*
 * sshd takes the first value it reads (sshd_config(5)); Debian's sshd_config
 * includes the sshd_config.d directory first, where cloud-init's ssh_pwauth writes
 * 50-cloud-init.conf.  This one sorts before it.
 */
#define SSHD_ROOT_LOGIN "/etc/ssh/sshd_config.d/10-vmrun-root-login.conf"

struct user_data_ctx {
	const struct vmr_guest *g;
	const struct vmr_strvec *keys;
	const char *pw_hash; /* crypt(3) of cloud_init.password, or NULL */
};

static void write_file(struct emitter *em, const char *path, const char *content)
{
	map_start(em);
	kv(em, "path", path);
	str(em, "content");
	vmr_yamlout_literal(&em->y, content, strlen(content));
	map_end(em);
}

/* Our items of a list key (appended after the user's). */
static void our_items(struct emitter *em, const struct user_data_ctx *c, enum our_key k)
{
	const char *pw = c->pw_hash;

	if (k == K_SSH_KEYS) {
		for (size_t i = 0; i < c->keys->n; i++)
			str(em, c->keys->v[i]);
	} else if (k == K_USERS && pw) {
		/*
		 * root's password: chpasswd.users would do it, but cloud-init
		 * then ignores the top-level `password` (the default user's,
		 * whose name only the image knows).  users-groups sets a
		 * hashed_passwd of a user that exists (cc_users_groups).
		 */
		map_start(em);
		kv(em, "name", "root");
		vmr_yamlout_kv_bool(&em->y, "lock_passwd", false);
		kv(em, "hashed_passwd", pw);
		map_end(em);
	} else if (k == K_WRITE_FILES) {
		for (size_t i = 0; c->g->cpu_isolation && i < ARRAY_SIZE(isolation); i++) {
			_cleanup_free_ char *path =
			    xasprintf("/etc/systemd/system/%s.d/cpuset.conf", isolation[i].unit);
			_cleanup_free_ char *content = xasprintf(
			    "[%s]\nAllowedCPUs=%s\n", isolation[i].section, isolation[i].cpus);

			write_file(em, path, content);
		}
		/* password SSH login for root too (sshd's default: prohibit-password) */
		if (pw)
			write_file(em, SSHD_ROOT_LOGIN, "PermitRootLogin yes\n");
	}
}

static bool our_has(const struct user_data_ctx *c, enum our_key k)
{
	switch (k) {
	case K_DISABLE_ROOT:
		return c->keys->n > 0 || c->g->cloud_init.password;
	case K_SSH_KEYS:
		return c->keys->n > 0;
	case K_PASSWORD:
	case K_CHPASSWD:
	case K_USERS:
	case K_SSH_PWAUTH:
		return c->g->cloud_init.password != NULL;
	case K_MANAGE_ETC_HOSTS:
		return true;
	case K_WRITE_FILES:
		return c->g->cpu_isolation || c->g->cloud_init.password;
	default:
		return false;
	}
}

static void our_value(struct emitter *em, const struct user_data_ctx *c, enum our_key k)
{
	switch (k) {
	case K_DISABLE_ROOT:
		/* 5gdeploy logs in as root: keys and password are for root too */
		vmr_yamlout_bool(&em->y, false);
		break;
	case K_SSH_PWAUTH:
		vmr_yamlout_bool(&em->y, true);
		break;
	case K_MANAGE_ETC_HOSTS:
		/* /etc/hosts from cloud-init's template: the hostname resolves (127.0.1.1) */
		vmr_yamlout_bool(&em->y, true);
		break;
	case K_PASSWORD:
		/* the distribution's default user (debian, ubuntu...), by cloud-init's name for it
		 */
		str(em, c->pw_hash);
		break;
	case K_CHPASSWD:
		/*
		 * No `users` or `list` here: with either, cloud-init 22.4
		 * ignores the top-level password (cc_set_passwords).
		 */
		map_start(em);
		str(em, "expire");
		vmr_yamlout_bool(&em->y, false);
		map_end(em);
		break;
	case K_USERS:
		/* `users` replaces cloud.cfg's list: keep its default user */
		seq_start(em);
		str(em, "default");
		our_items(em, c, k);
		seq_end(em);
		break;
	case K_SSH_KEYS:
	case K_WRITE_FILES:
		seq_start(em);
		our_items(em, c, k);
		seq_end(em);
		break;
	default:
		break;
	}
}

/*
 * A crypt(3) string cloud-init takes as a hash rather than a password:
 * its cc_set_passwords pattern, \$(1|2a|2y|5|6)(\$.+){2} without ':'.
 */
static bool is_crypt_hash(const char *s)
{
	static const char *const ids[] = {"$1$", "$2a$", "$2y$", "$5$", "$6$"};
	const char *rest = NULL, *dollar;

	for (size_t i = 0; i < ARRAY_SIZE(ids) && !rest; i++)
		if (startswith(s, ids[i]))
			rest = s + strlen(ids[i]);
	if (!rest || strpbrk(s, ": \t\r\n"))
		return false;
	dollar = strchr(rest, '$');
	return dollar && dollar > rest && dollar[1] != '\0';
}

/*
 * 16 bytes from the guest's name and hostname (two FNV-1a 64-bit hashes,
 * NUL-separated input): a salt needs to differ between guests, not to be
 * secret or unpredictable.
 */
static void salt_bytes(const char *name, const char *hostname, char out[16])
{
	uint64_t h[2] = {14695981039346656037ULL, 14695981039346656037ULL ^ 0x766d72756e};

	for (int k = 0; k < 2; k++) {
		for (const char *p = name;; p++) {
			h[k] = (h[k] ^ (unsigned char)*p) * 1099511628211ULL;
			if (!*p)
				break;
		}
		for (const char *p = hostname;; p++) {
			h[k] = (h[k] ^ (unsigned char)*p) * 1099511628211ULL;
			if (!*p)
				break;
		}
	}
	memcpy(out, &h[0], 8);
	memcpy(out + 8, &h[1], 8);
}

/*
 * libxcrypt's crypt_gensalt_rn() and crypt_r(), loaded when a password is
 * hashed rather than linked: every other vmrun process (and every seed
 * without a password) is spared loading it.
 */
static struct {
	__typeof__(crypt_gensalt_rn) *gensalt_rn;
	__typeof__(crypt_r) *crypt_r;
} crypt_lib;
static const struct vmr_dlib_sym crypt_syms[] = {
    {"crypt_gensalt_rn", (void **)&crypt_lib.gensalt_rn},
    {"crypt_r", (void **)&crypt_lib.crypt_r},
};

static int crypt_lib_load(struct vmr_error **err)
{
	static void *h;

	if (h)
		return 0;
	return vmr_dlib_load_handle("libcrypt.so.1", "a password's hash (Debian package libcrypt1)",
				    crypt_syms, ARRAY_SIZE(crypt_syms), &h, err);
}

/*
 * The password as it goes into the seed: SHA-512 crypt ($6$, libxcrypt's
 * crypt_r), or the user's own hash as given.  The salt comes from the
 * guest's name and hostname (salt_bytes()), not from random bytes: the same
 * password gives the same seed, so the instance id (which hashes the
 * seed) is the same at every start and cloud-init does not redo its
 * per-instance steps (new SSH host keys) each boot; guests of different
 * names get different salts.  *ret is freed by the caller.
 */
static int password_hash(const struct vmr_guest *g, const char *hostname, char **ret,
			 struct vmr_error **err)
{
	const char *pw = g->cloud_init.password;
	_cleanup_free_ struct crypt_data *cd = NULL;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	char rbytes[16];
	const char *h;
	int r;

	if (is_crypt_hash(pw)) {
		*ret = xstrdup(pw);
		return 0;
	}
	r = crypt_lib_load(err);
	if (r < 0)
		return vmr_error_wrap(err, "hash the password of guest '%s'", g->name);
	salt_bytes(g->name, hostname, rbytes);
	if (!crypt_lib.gensalt_rn("$6$", 0, rbytes, (int)sizeof(rbytes), setting, sizeof(setting)))
		return vmr_error_set(err, errno, "hash the password of guest '%s': crypt_gensalt",
				     g->name);
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_lib.crypt_r(pw, setting, cd);
	if (!h || !startswith(h, "$6$")) {
		explicit_bzero(cd, sizeof(*cd));
		return vmr_error_set(err, errno ? errno : EINVAL,
				     "hash the password of guest '%s': crypt", g->name);
	}
	*ret = xstrdup(h);
	explicit_bzero(cd, sizeof(*cd));
	return 0;
}

static int user_data_build(const struct vmr_guest *g, const struct vmr_seed_input *in,
			   const struct vmr_strvec *keys, char **ret, struct vmr_error **err)
{
	_cleanup_free_ char *pw_hash = NULL;
	struct user_data_ctx c = {.g = g, .keys = keys};
	struct vmr_buf out = VMR_BUF_INIT;
	yaml_document_t doc;
	bool loaded, done[K_N] = {false};
	struct emitter em;
	int r;

	if (g->cloud_init.password) {
		r = password_hash(g, g->cloud_init.hostname ? g->cloud_init.hostname : g->name,
				  &pw_hash, err);
		if (r < 0)
			return r;
		c.pw_hash = pw_hash;
	}
	r = user_data_load(in, &doc, &loaded, err);
	if (r < 0)
		return r;

	vmr_buf_adds(&out, "#cloud-config\n");
	emitter_open(&em, &out);
	map_start(&em);
	yaml_node_t *root = loaded ? yaml_document_get_root_node(&doc) : NULL;
	if (root) {
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *key = yaml_document_get_node(&doc, p->key);
			yaml_node_t *val = yaml_document_get_node(&doc, p->value);
			const char *name = scalar_text(key);
			enum our_key k = K_N;

			for (int i = 0; name && i < K_N; i++)
				if (streq(name, our_keys[i]))
					k = (enum our_key)i;
			copy_node(&em, &doc, key, 1);
			if (k != K_N)
				done[k] = true;
			if (k != K_N && our_has(&c, k) && val->type == YAML_SEQUENCE_NODE &&
			    our_list(k)) {
				/* lists are merged: the user's items, then ours */
				seq_start(&em);
				for (yaml_node_item_t *i = val->data.sequence.items.start;
				     i < val->data.sequence.items.top; i++)
					copy_node(&em, &doc, yaml_document_get_node(&doc, *i), 2);
				our_items(&em, &c, k);
				seq_end(&em);
			} else {
				copy_node(&em, &doc, val, 1);
			}
		}
	}
	for (int k = 0; k < K_N; k++) {
		if (done[k] || !our_has(&c, (enum our_key)k))
			continue;
		str(&em, our_keys[k]);
		our_value(&em, &c, (enum our_key)k);
	}
	map_end(&em);
	if (loaded)
		yaml_document_delete(&doc);
	if (em.too_big) {
		(void)vmr_yamlout_finish(&em.y, "user-data", NULL);
		vmr_buf_free(&out);
		return vmr_error_usage(err,
				       "user_data '%s': more than %d nodes or %d levels once "
				       "aliases are expanded",
				       in->user_data_path ? in->user_data_path : "user_data",
				       USER_DATA_MAX_NODES, USER_DATA_MAX_DEPTH);
	}
	r = vmr_yamlout_finish(&em.y, "user-data", err);
	if (r < 0) {
		vmr_buf_free(&out);
		return r;
	}
	*ret = vmr_buf_detach(&out);
	return 0;
}

/* ---- network-config ---------------------------------------------------- */

/* A passthrough NIC keeps the device's own MAC: without `mac:` it is unknown. */
static bool nic_matchable(const struct vmr_nic *n)
{
	return !(n->att.ops && n->att.ops->mac_from_device) || n->mac_given;
}

static int network_config_build(const struct vmr_guest *g, char **ret, struct vmr_error **err)
{
	struct vmr_buf out = VMR_BUF_INIT;
	struct emitter em;
	char mac[18], cidr[64];

	emitter_open(&em, &out);
	map_start(&em);
	str(&em, "version");
	vmr_yamlout_int(&em.y, 2);
	str(&em, "ethernets");
	map_start(&em);
	for (size_t i = 0; i < g->nnics; i++) {
		const struct vmr_nic *n = &g->nics[i];

		if (!nic_matchable(n))
			continue;
		str(&em, n->name);
		map_start(&em);
		str(&em, "match");
		map_start(&em);
		kv(&em, "macaddress", vmr_mac_format(&n->mac, mac));
		map_end(&em);
		kv(&em, "set-name", n->name);
		if (n->mtu)
			vmr_yamlout_kv_int(&em.y, "mtu", n->mtu);
		/* a static address means no DHCP at all: 5gdeploy's netplan did the same */
		vmr_yamlout_kv_bool(&em.y, "dhcp4", !n->has_ip);
		vmr_yamlout_kv_bool(&em.y, "dhcp6", false);
		if (n->has_ip) {
			str(&em, "addresses");
			seq_start(&em);
			str(&em, vmr_cidr_format(&n->ip, cidr));
			seq_end(&em);
		}
		/*
		 * A lab netif carries what the lab puts on it and nothing else,
		 * as 5gdeploy's netplan has it: no router adverts, no link-local
		 * addresses (IPv4 or IPv6).  `ipv6_auto: true` keeps both.
		 */
		if (!n->ipv6_auto) {
			vmr_yamlout_kv_bool(&em.y, "accept-ra", false);
			str(&em, "link-local");
			vmr_yamlout_seq_start(&em.y, true);
			vmr_yamlout_seq_end(&em.y);
		}
		if (n->gateway) {
			str(&em, "routes");
			seq_start(&em);
			map_start(&em);
			kv(&em, "to", strchr(n->gateway, ':') ? "::/0" : "0.0.0.0/0");
			kv(&em, "via", n->gateway);
			map_end(&em);
			seq_end(&em);
		}
		map_end(&em);
	}
	map_end(&em);
	map_end(&em);
	if (vmr_yamlout_finish(&em.y, "network-config", err) < 0) {
		vmr_buf_free(&out);
		return -1;
	}
	*ret = vmr_buf_detach(&out);
	return 0;
}

static int meta_data_build(const char *iid, const char *hostname, char **ret,
			   struct vmr_error **err)
{
	struct vmr_buf out = VMR_BUF_INIT;
	struct emitter em;

	emitter_open(&em, &out);
	map_start(&em);
	kv(&em, "instance-id", iid);
	kv(&em, "local-hostname", hostname);
	map_end(&em);
	if (vmr_yamlout_finish(&em.y, "meta-data", err) < 0) {
		vmr_buf_free(&out);
		return -1;
	}
	*ret = vmr_buf_detach(&out);
	return 0;
}

/* ---- instance id --------------------------------------------------------- */

static void md5_add(const struct images_isofs *L, void *ctx, const char *s, size_t n)
{
	while (n > 0) {
		int chunk = n > 65536 ? 65536 : (int)n;

		L->md5_compute(ctx, (char *)s, chunk);
		s += chunk;
		n -= (size_t)chunk;
	}
}

static int instance_id(const struct vmr_guest *g, const char *hostname, const char *user_data,
		       const char *network_config, char **ret, struct vmr_error **err)
{
	const struct images_isofs *L = images_isofs(err);
	json_t *hw;
	_cleanup_free_ char *hwtext = NULL;
	void *ctx = NULL;
	char digest[16];
	struct vmr_buf id = VMR_BUF_INIT;

	/* libisofs's MD5, as the ISO's own checksums */
	if (!L)
		return vmr_error_wrap(err, "hash the configuration of guest '%s'", g->name);
	hw = vmr_guest_hw_json(g);
	hwtext = json_dumps(hw, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(hw);
	if (!hwtext)
		abort();
	if (L->md5_start(&ctx) < 0)
		return vmr_error_set(err, ENOMEM, "hash the configuration of guest '%s'", g->name);
	/* NUL-separated so no field can run into the next */
	md5_add(L, ctx, "vmrun-seed-1", sizeof("vmrun-seed-1"));
	md5_add(L, ctx, hwtext, strlen(hwtext) + 1);
	md5_add(L, ctx, hostname, strlen(hostname) + 1);
	md5_add(L, ctx, user_data, strlen(user_data) + 1);
	md5_add(L, ctx, network_config, strlen(network_config) + 1);
	L->md5_end(&ctx, digest);
	vmr_buf_adds(&id, "iid-");
	for (size_t i = 0; i < sizeof(digest); i++)
		vmr_buf_addf(&id, "%02x", (unsigned char)digest[i]);
	*ret = vmr_buf_detach(&id);
	return 0;
}

int vmr_seed_build(const struct vmr_guest *g, const struct vmr_seed_input *in, struct vmr_seed *ret,
		   struct vmr_error **err)
{
	static const struct vmr_strvec none = VMR_STRVEC_INIT;
	const struct vmr_strvec *keys;
	const char *hostname = g->cloud_init.hostname ? g->cloud_init.hostname : g->name;
	struct vmr_seed s = {0};

	if (g->cloud_init.ssh_keys_given)
		keys = &g->cloud_init.ssh_authorized_keys;
	else
		keys = in->keys ? in->keys : &none;
	if (user_data_build(g, in, keys, &s.user_data, err) < 0 ||
	    network_config_build(g, &s.network_config, err) < 0 ||
	    instance_id(g, hostname, s.user_data, s.network_config, &s.instance_id, err) < 0 ||
	    meta_data_build(s.instance_id, hostname, &s.meta_data, err) < 0) {
		vmr_seed_free(&s);
		return vmr_error_wrap(err, "cloud-init seed of guest '%s'", g->name);
	}
	*ret = s;
	return 0;
}

void vmr_seed_free(struct vmr_seed *s)
{
	if (!s)
		return;
	free(s->instance_id);
	free(s->meta_data);
	free(s->user_data);
	free(s->network_config);
	*s = (struct vmr_seed){0};
}
