/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest cloned: its entry, its disks from a snapshot (lib/runtime/clone.h). */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "images/images.h"
#include "lib/base/buf.h"
#include "lib/base/fsutil.h"
#include "lib/base/util.h"
#include "lib/base/yamlout.h"
#include "lib/devices/devices.h"
#include "lib/model/yamltree.h"
#include "lib/runtime/clone.h"
#include "lib/runtime/guestinfo.h"
#include "lib/runtime/guestplan.h"
#include "lib/runtime/plandesc.h"
#include "lib/runtime/snapshot.h"

/* source in base as a whole word: at its ends, or next to one of "-_." */
static const char *name_token(const char *base, const char *source)
{
	size_t n = strlen(source);

	for (const char *hit = strstr(base, source); hit; hit = strstr(hit + 1, source)) {
		bool start = hit == base || strchr("-_.", hit[-1]);
		bool end = !hit[n] || strchr("-_.", hit[n]);

		if (start && end)
			return hit;
	}
	return NULL;
}

char *vmr_clone_disk_name(const char *path, const char *source, const char *name)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dirlen = (size_t)(base - path);
	const char *hit = name_token(base, source);
	struct vmr_buf b = VMR_BUF_INIT;

	vmr_buf_add(&b, path, dirlen);
	if (hit) {
		vmr_buf_add(&b, base, (size_t)(hit - base));
		vmr_buf_adds(&b, name);
		vmr_buf_adds(&b, hit + strlen(source));
	} else {
		vmr_buf_addf(&b, "%s-%s", name, base);
	}
	return vmr_buf_detach(&b);
}

/* What the entry's emitter changes on its way. */
struct emit {
	const struct vmr_clone_opts *o;
	const struct vmr_guest *src; /* the source in the model */
	struct vmr_yamlout y;
	bool disks_done, nics_done, cpuset_done;
};

static void scalar(struct emit *e, const char *value, bool plain)
{
	yaml_event_t ev;

	vmr_yamlout_event(&e->y, &ev,
			  yaml_scalar_event_initialize(
			      &ev, NULL, NULL, (yaml_char_t *)value, (int)strlen(value), 1, 1,
			      plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE),
			  "scalar");
}

/* A node as written (plain scalars stay plain, quoted ones quoted). */
static void node(struct emit *e, const struct vmr_ynode *n)
{
	switch (n->type) {
	case VMR_YNODE_SCALAR:
		scalar(e, n->value, n->plain);
		break;
	case VMR_YNODE_MAP:
		vmr_yamlout_map_start(&e->y);
		for (size_t i = 0; i < n->n; i++) {
			if (n->pairs[i].skip)
				continue;
			node(e, n->pairs[i].key);
			node(e, n->pairs[i].value);
		}
		vmr_yamlout_map_end(&e->y);
		break;
	case VMR_YNODE_SEQ: {
		bool flow = true;

		for (size_t i = 0; i < n->n; i++)
			flow = flow && n->items[i]->type == VMR_YNODE_SCALAR;
		vmr_yamlout_seq_start(&e->y, flow);
		for (size_t i = 0; i < n->n; i++)
			node(e, n->items[i]);
		vmr_yamlout_seq_end(&e->y);
		break;
	}
	}
}

/* --ip NIC=VALUE for nic, or NULL. */
static const char *ip_for(const struct vmr_clone_opts *o, const char *nic)
{
	for (size_t i = 0; o->ips && i < o->ips->n; i++) {
		const char *eq = strchr(o->ips->v[i], '=');

		if (eq && (size_t)(eq - o->ips->v[i]) == strlen(nic) &&
		    strncmp(o->ips->v[i], nic, strlen(nic)) == 0)
			return eq + 1;
	}
	return NULL;
}

/* One NIC's map: its written MAC re-derived for the new name, its ip as --ip says. */
static void nic_map(struct emit *e, const struct vmr_ynode *n)
{
	const struct vmr_ynode *name = vmr_ymap_get(n, "name");
	const char *ip = name && name->type == VMR_YNODE_SCALAR ? ip_for(e->o, name->value) : NULL;
	bool ip_done = false;

	vmr_yamlout_map_start(&e->y);
	for (size_t i = 0; i < n->n; i++) {
		const struct vmr_ypair *p = &n->pairs[i];

		if (p->skip)
			continue;
		if (streq(p->key->value, "mac") && name) {
			struct vmr_mac mac;
			char buf[18];

			vmr_mac_derive(e->o->name, name->value, &mac);
			vmr_yamlout_kv_quoted(&e->y, "mac", vmr_mac_format(&mac, buf));
			continue;
		}
		if (streq(p->key->value, "ip") && ip) {
			ip_done = true;
			if (!streq(ip, "none"))
				vmr_yamlout_kv_str(&e->y, "ip", ip);
			continue;
		}
		if (streq(p->key->value, "gateway") && ip && streq(ip, "none"))
			continue;
		node(e, p->key);
		node(e, p->value);
	}
	if (ip && !ip_done && !streq(ip, "none"))
		vmr_yamlout_kv_str(&e->y, "ip", ip);
	vmr_yamlout_map_end(&e->y);
}

static void nics(struct emit *e, const struct vmr_ynode *seq)
{
	vmr_yamlout_str(&e->y, "nics");
	vmr_yamlout_seq_start(&e->y, false);
	for (size_t i = 0; i < seq->n; i++) {
		if (seq->items[i]->type == VMR_YNODE_MAP)
			nic_map(e, seq->items[i]);
		else
			node(e, seq->items[i]);
	}
	vmr_yamlout_seq_end(&e->y);
	e->nics_done = true;
}

/* Whether disk i of the source is copied (its file renamed in the entry). */
static bool disk_copied(const struct vmr_guest *g, size_t i)
{
	const struct vmr_disk *d = &g->disks[i];

	return i < g->ndisks && !d->cdrom && !d->readonly &&
	       vmr_disk_effective_format(d) == VMR_FORMAT_QCOW2;
}

static void disks(struct emit *e, const struct vmr_ynode *seq)
{
	vmr_yamlout_str(&e->y, "disks");
	vmr_yamlout_seq_start(&e->y, false);
	for (size_t i = 0; i < seq->n; i++) {
		const struct vmr_ynode *d = seq->items[i];

		if (d->type != VMR_YNODE_MAP || !disk_copied(e->src, i)) {
			node(e, d);
			continue;
		}
		vmr_yamlout_map_start(&e->y);
		for (size_t k = 0; k < d->n; k++) {
			const struct vmr_ypair *p = &d->pairs[k];

			if (p->skip)
				continue;
			if (streq(p->key->value, "file") && p->value->type == VMR_YNODE_SCALAR) {
				_cleanup_free_ char *f =
				    vmr_clone_disk_name(p->value->value, e->o->source, e->o->name);

				vmr_yamlout_kv_str(&e->y, "file", f);
				continue;
			}
			node(e, p->key);
			node(e, p->value);
		}
		vmr_yamlout_map_end(&e->y);
	}
	vmr_yamlout_seq_end(&e->y);
	e->disks_done = true;
}

/* cloud_init's map with the hostname made the new guest's */
static void cloud_init(struct emit *e, const struct vmr_ynode *n)
{
	if (n->type != VMR_YNODE_MAP) {
		node(e, n);
		return;
	}
	vmr_yamlout_map_start(&e->y);
	for (size_t i = 0; i < n->n; i++) {
		if (n->pairs[i].skip)
			continue;
		if (streq(n->pairs[i].key->value, "hostname")) {
			vmr_yamlout_kv_str(&e->y, "hostname", e->o->name);
			continue;
		}
		node(e, n->pairs[i].key);
		node(e, n->pairs[i].value);
	}
	vmr_yamlout_map_end(&e->y);
}

/* NEW: {...}: the source's own keys changed as above, then what defaults gave that must change */
static int emit_entry(struct emit *e, const struct vmr_ynode *own, const struct vmr_ynode *defs,
		      struct vmr_buf *out, struct vmr_error **err)
{
	const struct vmr_ynode *n;

	vmr_yamlout_init(&e->y, out);
	vmr_yamlout_map_start(&e->y);
	vmr_yamlout_str(&e->y, e->o->name);
	vmr_yamlout_map_start(&e->y);
	for (size_t i = 0; own && own->type == VMR_YNODE_MAP && i < own->n; i++) {
		const struct vmr_ypair *p = &own->pairs[i];
		const char *k = p->key->value;

		if (p->skip)
			continue;
		if (streq(k, "cpuset") && e->o->cpuset) {
			e->cpuset_done = true;
			if (!streq(e->o->cpuset, "none"))
				vmr_yamlout_kv_str(&e->y, "cpuset", e->o->cpuset);
			continue;
		}
		if (streq(k, "vcpus") && e->o->cpuset && !streq(e->o->cpuset, "none"))
			continue; /* the new cpuset decides the vCPU count */
		if (streq(k, "nics") && p->value->type == VMR_YNODE_SEQ) {
			nics(e, p->value);
			continue;
		}
		if (streq(k, "disks") && p->value->type == VMR_YNODE_SEQ) {
			disks(e, p->value);
			continue;
		}
		if (streq(k, "cloud_init")) {
			node(e, p->key);
			cloud_init(e, p->value);
			continue;
		}
		node(e, p->key);
		node(e, p->value);
	}
	if (e->o->cpuset && !e->cpuset_done && !streq(e->o->cpuset, "none"))
		vmr_yamlout_kv_str(&e->y, "cpuset", e->o->cpuset);
	/* lists from defaults whose items change for the new guest: its own copy */
	if (!e->nics_done && (n = vmr_ymap_get(defs, "nics")) && n->type == VMR_YNODE_SEQ)
		for (size_t i = 0; i < n->n; i++)
			if (vmr_ymap_get(n->items[i], "mac") || (e->o->ips && e->o->ips->n)) {
				nics(e, n);
				break;
			}
	if (!e->disks_done && (n = vmr_ymap_get(defs, "disks")) && n->type == VMR_YNODE_SEQ)
		for (size_t i = 0; i < e->src->ndisks; i++)
			if (disk_copied(e->src, i)) {
				disks(e, n);
				break;
			}
	vmr_yamlout_map_end(&e->y);
	vmr_yamlout_map_end(&e->y);
	return vmr_yamlout_finish(&e->y, "the new guest's entry", err);
}

/*
 * The topology text with entry added to its `guests:` block mapping: after
 * the last line of that block, indented like its entries.
 */
static int insert_entry(const char *text, const struct vmr_ynode *guests, const char *entry,
			char **ret_text, char **ret_entry, struct vmr_error **err)
{
	struct vmr_buf out = VMR_BUF_INIT, ind = VMR_BUF_INIT;
	unsigned col = 0, line = 0, cur = 1;
	const char *p = text, *at = NULL;

	if (!guests || guests->type != VMR_YNODE_MAP || guests->n == 0)
		return vmr_error_usage(err, "the topology's guests are not a mapping");
	col = guests->pairs[0].key->pos.col;
	line = guests->pairs[0].key->pos.line;
	/* a flow mapping ({a: ...}) cannot take a block entry */
	for (const char *q = text; *q; q++) {
		if (cur == line) {
			const char *eol = strchr(q, '\n');
			size_t ll = eol ? (size_t)(eol - q) : strlen(q);

			if (memchr(q, '{', ll) && col > 1 && q[col - 2] == '{')
				return vmr_error_usage(err,
						       "the guests of the topology are a flow "
						       "mapping ({...}): add the entry by hand");
			break;
		}
		if (*q == '\n')
			cur++;
	}
	/* the end of the block: the first later line indented less than its entries */
	cur = 1;
	for (p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		size_t lead = strspn(p, " ");

		if (cur > line && lead < ll && p[lead] != '#' && lead + 1 < col) {
			at = p;
			break;
		}
		p = eol ? eol + 1 : p + ll;
		cur++;
	}
	for (unsigned i = 1; i < col; i++)
		vmr_buf_addc(&ind, ' ');
	/* entry lines, indented */
	{
		struct vmr_buf e = VMR_BUF_INIT;

		for (const char *q = entry; *q;) {
			const char *eol = strchr(q, '\n');
			size_t ll = eol ? (size_t)(eol - q) : strlen(q);

			if (ll)
				vmr_buf_addf(&e, "%s%.*s\n", vmr_buf_str(&ind), (int)ll, q);
			q = eol ? eol + 1 : q + ll;
		}
		*ret_entry = vmr_buf_detach(&e);
	}
	if (!at)
		at = text + strlen(text);
	vmr_buf_add(&out, text, (size_t)(at - text));
	if (out.len && out.s[out.len - 1] != '\n')
		vmr_buf_addc(&out, '\n');
	vmr_buf_adds(&out, *ret_entry);
	vmr_buf_adds(&out, at);
	vmr_buf_free(&ind);
	*ret_text = vmr_buf_detach(&out);
	return 0;
}

/* The first other NIC of the topology with one of g's addresses. */
static int address_clash(const struct vmr_topology *t, const struct vmr_guest *g,
			 struct vmr_error **err)
{
	for (size_t i = 0; i < g->nnics; i++) {
		const struct vmr_nic *a = &g->nics[i];

		if (!a->has_ip)
			continue;
		for (size_t k = 0; k < t->nguests; k++) {
			const struct vmr_guest *o = &t->guests[k];

			if (o == g)
				continue;
			for (size_t m = 0; m < o->nnics; m++) {
				const struct vmr_nic *b = &o->nics[m];
				char buf[64];

				if (!b->has_ip || a->ip.family != b->ip.family ||
				    memcmp(&a->ip.addr, &b->ip.addr,
					   a->ip.family == AF_INET ? 4 : 16) != 0)
					continue;
				vmr_error_usage(err,
						"guest '%s' nic '%s' would have address %s, which "
						"guest '%s' nic '%s' has",
						g->name, a->name, vmr_cidr_format(&a->ip, buf),
						o->name, b->name);
				vmr_error_hint(err,
					       "give it another with --ip %s=ADDRESS/PREFIX "
					       "(or --ip %s=none)",
					       a->name, a->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int load_new(const char *name, const char *text, struct vmr_topology **ret,
		    struct vmr_error **err)
{
	struct vmr_diags diags = {0};
	int r;

	r = vmr_topology_load_buffer(name, text, strlen(text), vmr_device_kinds(), ret, &diags);
	if (r < 0) {
		const struct vmr_diag *d = diags.n ? &diags.v[0] : NULL;

		r = vmr_error_usage(err, "the clone's entry makes the topology invalid: %s",
				    d ? d->msg : "(no detail)");
		if (d && d->hint)
			vmr_error_hint(err, "%s", d->hint);
		else if (diags.n > 1)
			vmr_error_hint(err, "%zu problems; see `vmrun validate` on the -o output",
				       diags.n);
	}
	vmr_diags_clear(&diags);
	return r;
}

static json_t *disk_by_id(json_t *disks, const char *id)
{
	size_t k;
	json_t *d;

	json_array_foreach(disks, k, d)
	{
		if (streq(json_string_value(json_object_get(d, "id")), id))
			return d;
	}
	return NULL;
}

int vmr_clone(const struct vmr_clone_opts *o, struct vmr_clone_result *ret, struct vmr_error **err)
{
	const struct vmr_config *cfg = o->cfg;
	struct vmr_clone_result res = {.disks = VMR_STRVEC_INIT, .files = VMR_STRVEC_INIT};
	struct vmr_diags diags = {0};
	struct vmr_yreport rep = {.file = o->topo_path, .diags = &diags};
	struct vmr_topology *t = NULL, *nt = NULL;
	struct vmr_ynode *root = NULL;
	struct vmr_guest_info info = {.lock = {.lock_fd = -1}};
	struct vmr_strvec made = VMR_STRVEC_INIT;
	_cleanup_free_ char *text = NULL, *qemu_img = NULL, *snap = NULL;
	_cleanup_free_ char *real = NULL, *name_for_load = NULL;
	json_t *src_disks = NULL, *new_disks = NULL, *snap_disks = NULL, *d;
	const struct vmr_guest *src, *ng;
	struct vmr_buf eb = VMR_BUF_INIT;
	struct emit e = {.o = o};
	bool snapped = false;
	size_t k;
	int r;

	if (!vmr_guest_name_valid(o->name))
		return vmr_error_usage(
		    err, "invalid guest name '%s' (expected [a-z][a-z0-9]{0,30})", o->name);
	for (size_t i = 0; o->ips && i < o->ips->n; i++) {
		const char *eq = strchr(o->ips->v[i], '=');

		if (!eq || eq == o->ips->v[i])
			return vmr_error_usage(
			    err, "--ip '%s': want NIC=ADDRESS/PREFIX or NIC=none", o->ips->v[i]);
	}
	real = realpath(o->topo_path, NULL);
	if (!real)
		return vmr_error_set(err, errno, "resolve '%s'", o->topo_path);
	if (o->out_path) {
		/* relative paths in the topology resolve from its directory */
		_cleanup_free_ char *od = xstrdup(o->out_path), *sd = xstrdup(real);
		_cleanup_free_ char *odr = realpath(dirname(od), NULL);

		if (!odr || !streq(odr, dirname(sd)))
			return vmr_error_usage(
			    err,
			    "-o '%s' is not in the directory of '%s', from which "
			    "its relative paths resolve",
			    o->out_path, o->topo_path);
	}
	r = read_file(real, VMR_TOPOLOGY_MAX_BYTES, &text, NULL);
	if (r < 0)
		return vmr_error_set(err, -r, "read '%s'", o->topo_path);
	r = vmr_topology_load(real, vmr_device_kinds(), &t, &diags);
	if (r < 0) {
		r = vmr_error_usage(err, "topology '%s' is not valid (see `vmrun validate %s`)",
				    o->topo_path, o->topo_path);
		goto out;
	}
	src = vmr_topology_guest(t, o->source);
	if (!src) {
		r = vmr_error_usage(err, "guest '%s' not found in '%s'", o->source, o->topo_path);
		goto out;
	}
	if (vmr_topology_guest(t, o->name)) {
		r = vmr_error_usage(err, "guest '%s' exists in '%s' already", o->name,
				    o->topo_path);
		goto out;
	}
	for (size_t i = 0; o->ips && i < o->ips->n; i++) {
		_cleanup_free_ char *nic = xstrndup(o->ips->v[i], strcspn(o->ips->v[i], "="));
		bool found = false;

		for (size_t m = 0; m < src->nnics; m++)
			found = found || streq(src->nics[m].name, nic);
		if (!found) {
			r = vmr_error_usage(err, "--ip '%s': guest '%s' has no nic '%s'",
					    o->ips->v[i], o->source, nic);
			goto out;
		}
	}
	r = vmr_ytree_parse(text, strlen(text), &rep, &root);
	if (r < 0) {
		r = vmr_error_usage(err, "parse '%s'", o->topo_path);
		goto out;
	}
	e.src = src;
	r = emit_entry(&e, vmr_ymap_get(vmr_ymap_get(root, "guests"), o->source),
		       vmr_ymap_get(root, "defaults"), &eb, err);
	if (r < 0)
		goto out;
	r = insert_entry(text, vmr_ymap_get(root, "guests"), vmr_buf_str(&eb), &res.topology,
			 &res.entry, err);
	if (r < 0)
		goto out;
	name_for_load = xstrdup(o->out_path ? o->out_path : real);
	r = load_new(name_for_load, res.topology, &nt, err);
	if (r < 0)
		goto out;
	ng = vmr_topology_guest(nt, o->name);
	r = address_clash(nt, ng, err);
	if (r < 0)
		goto out;

	/* the source's disks (what runs, or the topology's), the new ones */
	r = vmr_guest_info_get(cfg, o->source, real, true, &info, err);
	if (r < 0)
		goto out;
	r = vmr_snapshot_disks(cfg->state_dir, &info, info.running, &snap_disks, err);
	if (r < 0)
		goto out;
	src_disks = vmr_guest_disks_json(cfg, t, src, real, err);
	new_disks = src_disks ? vmr_guest_disks_json(cfg, nt, ng, real, err) : NULL;
	if (!new_disks) {
		r = -EINVAL;
		goto out;
	}
	json_array_foreach(snap_disks, k, d)
	{
		const char *id = json_string_value(json_object_get(d, "id"));
		json_t *nd = disk_by_id(new_disks, id);
		const char *dst = json_string_value(json_object_get(nd, "file"));
		struct stat st;

		if (!dst || streq(dst, json_string_value(json_object_get(d, "file")))) {
			r = vmr_error_usage(err,
					    "disk %s of guest '%s': no file of its own for the "
					    "clone",
					    id, o->source);
			goto out;
		}
		if (lstat(dst, &st) == 0) {
			r = vmr_error_usage(
			    err, "'%s' exists: the clone's disk %s would replace it", dst, id);
			vmr_error_hint(err, "remove it, or clone to another name");
			goto out;
		}
		vmr_strvec_pushf(&res.disks, "%s %s -> %s", id,
				 json_string_value(json_object_get(d, "file")), dst);
	}
	if (o->dry_run)
		goto done;

	r = vmr_image_qemu_img(cfg, &qemu_img, err);
	if (r < 0)
		goto out;
	snap = xasprintf("vmrun-clone-%s", o->name);
	r = vmr_snapshot_info_do(cfg, &info, VMR_SNAPSHOT_CREATE, snap, NULL, err);
	if (r < 0)
		goto out;
	snapped = true;
	json_array_foreach(snap_disks, k, d)
	{
		const char *id = json_string_value(json_object_get(d, "id"));
		const char *src_file = json_string_value(json_object_get(d, "file"));
		const char *backing = json_string_value(json_object_get(d, "backing"));
		const char *dst =
		    json_string_value(json_object_get(disk_by_id(new_disks, id), "file"));
		struct vmr_image_info bi = {0};
		_cleanup_free_ char *dir = xstrdup(dst);

		r = vmr_mkdir_p(dirname(dir), 0755);
		if (r < 0) {
			r = vmr_error_set(err, -r, "create the directory of '%s'", dst);
			goto out;
		}
		if (backing && vmr_image_info_get(qemu_img, backing, &bi, err) < 0) {
			r = -1;
			goto out;
		}
		r = vmr_image_from_snapshot(qemu_img, src_file, snap, dst, backing, bi.format, err);
		vmr_image_info_free(&bi);
		if (r < 0)
			goto out;
		vmr_strvec_push(&made, dst);
	}
done:
	r = 0;
out:
	if (snapped) {
		struct vmr_error *e2 = NULL;

		/* the snapshot was only the clone's source: it goes, also on failure */
		/* the clone is whole: a snapshot left in the source is only worth a word */
		if (vmr_snapshot_info_do(cfg, &info, VMR_SNAPSHOT_DELETE, snap, NULL, &e2) < 0) {
			_cleanup_free_ char *why = vmr_error_text(e2);

			res.warning = xasprintf("guest '%s' keeps the snapshot '%s' it was cloned "
						"from (%s): `vmrun snapshot delete %s %s`",
						o->source, snap, why, o->source, snap);
			vmr_error_free(e2);
		}
	}
	if (r < 0)
		for (size_t i = 0; i < made.n; i++)
			(void)unlink(made.v[i]);
	else
		for (size_t i = 0; i < made.n; i++)
			vmr_strvec_push(&res.files, made.v[i]);
	vmr_strvec_clear(&made);
	vmr_guest_info_free(&info);
	json_decref(src_disks);
	json_decref(new_disks);
	json_decref(snap_disks);
	vmr_buf_free(&eb);
	vmr_ynode_free(root);
	vmr_diags_clear(&diags);
	vmr_topology_free(nt);
	vmr_topology_free(t);
	if (r < 0) {
		vmr_clone_result_free(&res);
		return r;
	}
	*ret = res;
	return 0;
}

void vmr_clone_result_free(struct vmr_clone_result *r)
{
	free(r->warning);
	free(r->entry);
	free(r->topology);
	vmr_strvec_clear(&r->disks);
	vmr_strvec_clear(&r->files);
	*r = (struct vmr_clone_result){.disks = VMR_STRVEC_INIT, .files = VMR_STRVEC_INIT};
}
