/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the topology loader: bytes -> vmr_topology_load_buffer
 * -> free.  Beyond ASan/UBSan findings it checks the loader's contract:
 * failure always comes with diagnostics that carry a position, success
 * with none, and a loaded model is internally consistent.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "lib/devices/devices.h"
#include "lib/model/topology.h"
#include "lib/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_model(const struct vmr_topology *t)
{
	for (size_t i = 0; i < t->nguests; i++) {
		const struct vmr_guest *g = &t->guests[i];
		char *cs;

		if (vmr_topology_guest(t, g->name) != g || !g->vcpus || !g->machine)
			abort();
		if (g->has_cpuset) {
			struct vmr_cpuset back = {0};

			if (g->vcpus != g->cpuset.n)
				abort();
			cs = vmr_cpuset_format(&g->cpuset);
			if (vmr_cpuset_parse(cs, &back, NULL, NULL) < 0 || back.n != g->cpuset.n)
				abort();
			vmr_cpuset_free(&back);
			free(cs);
		}
		for (size_t j = 0; j < g->nnics; j++) {
			const struct vmr_nic *n = &g->nics[j];
			json_t *att, *q;

			if (!n->name || vmr_mac_is_multicast(&n->mac) || !n->att.ops)
				abort();
			/* a tap-backed kind's queues (its keys as the model describes them) */
			att = vmr_device_json(&n->att, false);
			q = json_object_get(att, "queues");
			if (q && (!json_is_integer(q) || json_integer_value(q) < 1 ||
				  json_integer_value(q) > 16))
				abort();
			json_decref(att);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmr_diags d = {0};
	struct vmr_topology *t = NULL;
	int r;

	r = vmr_topology_load_buffer("fuzz.yaml", (const char *)data, size, vmr_device_kinds(), &t,
				     &d);
	if (r == 0) {
		if (!t || d.n)
			abort();
		check_model(t);
	} else {
		if (t || d.n == 0)
			abort();
		for (size_t i = 0; i < d.n; i++)
			if (!d.v[i].line || !d.v[i].col || !d.v[i].msg)
				abort();
	}
	vmr_topology_free(t);
	vmr_diags_clear(&d);
	return 0;
}
