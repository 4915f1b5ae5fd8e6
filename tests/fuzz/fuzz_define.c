/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for `vmrun define`: bytes -> flags -> vmr_define_build
 * -> vmr_define_emit -> vmr_topology_load_buffer.
 *
 * The input is split at newlines.  A line "--ctrlif=X", "--ip-space=X",
 * "--image=X", "--memory=X", "--cpu=X" or "--accel=X" sets that flag (the
 * last one wins); "--ssh-key=LINE" adds LINE as the text of a key file;
 * every other line is one --vm value.  Without --ctrlif the README's MAC
 * is used, so most inputs reach the --vm parser.
 *
 * Properties (a violation traps):
 * - a rejected command line is a usage error (exit status 2) whose message
 *   names the flag, and nothing is returned;
 * - an accepted one always emits, and the topology it emits is accepted
 *   by the loader with no diagnostic: define never writes a file that
 *   `vmrun validate` would refuse;
 * - the loaded model carries what define decided: the same guests in the
 *   same order, placements, cpusets, NIC names, kinds, MACs and addresses,
 *   and in every guest the defaults (memory, accel, cpu, cpu isolation,
 *   an absolute image path, the ssh keys).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/devices/devices.h"
#include "lib/base/buf.h"
#include "lib/model/define.h"
#include "lib/base/strvec.h"
#include "lib/model/topology.h"
#include "lib/base/util.h"

#define MAX_VMS 300 /* a little past the 252 guests one /24 holds */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static void check_rejected(const struct vmr_define *d, int r, const struct vmr_error *err)
{
	CHECK(r < 0);
	CHECK(d == NULL);
	CHECK(err && err->msg && *err->msg);
	CHECK(err->status == VMR_EXIT_USAGE);
	/* every message starts with the flag it is about */
	CHECK(startswith(err->msg, "--") || startswith(err->msg, "at least one --vm"));
}

static void check_nic(const struct vmr_define_nic *dn, const struct vmr_nic *tn)
{
	static const char *const kinds[] = {
	    [VMR_DEFINE_MACVTAP] = "macvtap", [VMR_DEFINE_PCI] = "pci", [VMR_DEFINE_VF] = "vf"};
	json_t *att;
	const char *kind, *value;
	char pci[13];

	CHECK(streq(dn->name, tn->name));
	CHECK(tn->mac_given && vmr_mac_equal(&dn->mac, &tn->mac));
	CHECK(tn->has_ip && tn->ip.family == AF_INET && tn->ip.prefix == 24);
	CHECK(tn->ip.addr.v4.s_addr == dn->ip.s_addr);
	/* the attachment as the model describes it: {"kind": ..., "value": ...} */
	CHECK(tn->att.ops != NULL);
	att = vmr_device_json(&tn->att, false);
	kind = json_string_value(json_object_get(att, "kind"));
	value = json_string_value(json_object_get(att, "value"));
	CHECK(kind && value && streq(kind, kinds[dn->kind]));
	if (dn->kind == VMR_DEFINE_MACVTAP)
		CHECK(streq(dn->parent, value));
	else
		CHECK(streq(vmr_pci_format(&dn->pci, pci), value));
	json_decref(att);
}

static void check_defaults(const struct vmr_define *d, const struct vmr_guest *tg)
{
	const struct vmr_strvec *keys = &tg->cloud_init.ssh_authorized_keys;
	uint64_t memory;

	CHECK(vmr_size_parse(d->memory, 1u << 20, &memory) == 0 && tg->memory == memory);
	CHECK(streq(vmr_accel_name(tg->accel), d->accel));
	CHECK(streq(tg->cpu, d->cpu));
	CHECK(tg->cpu_isolation == d->cpu_isolation);
	/* a relative path is resolved against the topology's directory */
	if (d->image && d->image[0] == '/')
		CHECK(streq(tg->image, d->image));
	CHECK(keys->n == d->ssh_keys.n);
	for (size_t i = 0; i < keys->n; i++)
		CHECK(streq(keys->v[i], d->ssh_keys.v[i]));
}

static void check_model(const struct vmr_define *d, const struct vmr_topology *t)
{
	CHECK(t->nguests == d->nguests);
	CHECK(t->ctrlif.present && streq(t->ctrlif.parent, d->ctrlif));
	for (size_t i = 0; i < d->nguests; i++) {
		const struct vmr_define_guest *dg = &d->guests[i];
		const struct vmr_guest *tg = &t->guests[i];

		CHECK(streq(dg->name, tg->name));
		CHECK(dg->host ? streq(dg->host, tg->host) : tg->host == NULL);
		CHECK(tg->has_cpuset && tg->cpuset.n == dg->cpuset.n && tg->vcpus == dg->cpuset.n);
		CHECK(memcmp(tg->cpuset.cpus, dg->cpuset.cpus,
			     dg->cpuset.n * sizeof(*dg->cpuset.cpus)) == 0);
		CHECK(tg->nnics == dg->nnics);
		for (size_t j = 0; j < dg->nnics; j++)
			check_nic(&dg->nics[j], &tg->nics[j]);
		check_defaults(d, tg);
	}
}

/* The value of line when it is "NAME=VALUE" (name ends with '='), else NULL. */
static const char *flag_value(const char *line, const char *name)
{
	return startswith(line, name) ? line + strlen(name) : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = xstrndup((const char *)data, size);
	struct vmr_strvec vms = VMR_STRVEC_INIT, keys = VMR_STRVEC_INIT;
	struct vmr_define_opts o = {.ctrlif = "02:00:00:00:00:01"};
	struct vmr_buf yaml = VMR_BUF_INIT;
	struct vmr_diags diags = {0};
	struct vmr_topology *t = NULL;
	struct vmr_define *d = NULL;
	struct vmr_error *err = NULL;
	char *save = NULL;
	int r;

	vmr_define_defaults_init(&o.defaults);
	/* a NUL ends the text, as it ends a command-line argument */
	for (char *line = strtok_r(text, "\n", &save); line && vms.n < MAX_VMS;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *v;

		if ((v = flag_value(line, "--ctrlif=")))
			o.ctrlif = v;
		else if ((v = flag_value(line, "--ip-space=")))
			o.ip_space = v;
		else if ((v = flag_value(line, "--image=")))
			o.defaults.image = v;
		else if ((v = flag_value(line, "--memory=")))
			o.defaults.memory = v;
		else if ((v = flag_value(line, "--cpu=")))
			o.defaults.cpu = v;
		else if ((v = flag_value(line, "--accel=")))
			o.defaults.accel = v;
		else if ((v = flag_value(line, "--ssh-key="))) {
			r = vmr_define_ssh_keys_parse(v, "--ssh-key 'fuzz'", &keys, &err);
			if (r < 0) {
				check_rejected(d, r, err);
				goto out;
			}
		} else
			vmr_strvec_push(&vms, line);
	}
	o.vms = (const char *const *)vms.v;
	o.nvms = vms.n;
	o.ssh_keys = (const char *const *)keys.v;
	o.nssh_keys = keys.n;

	r = vmr_define_build(&o, &d, &err);
	if (r < 0) {
		check_rejected(d, r, err);
		goto out;
	}
	CHECK(r == 0 && d && !err);

	r = vmr_define_emit(d, &yaml, &err);
	CHECK(r == 0 && !err);
	r = vmr_topology_load_buffer("define.yaml", vmr_buf_str(&yaml), yaml.len,
				     vmr_device_kinds(), &t, &diags);
	CHECK(r == 0 && t && diags.n == 0);
	check_model(d, t);
out:
	vmr_topology_free(t);
	vmr_diags_clear(&diags);
	vmr_buf_free(&yaml);
	vmr_define_free(d);
	vmr_error_free(err);
	vmr_strvec_clear(&vms);
	vmr_strvec_clear(&keys);
	return 0;
}
