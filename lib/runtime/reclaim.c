/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Undo what a dead supervisor left (lib/reclaim.h). */
#include <sys/stat.h>

#include "lib/runtime/reclaim.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "net/net.h"

int vmr_reclaim_locked(const struct vmr_config *cfg, const struct vmr_guest *g,
		       const struct vmr_statedir *dir, bool strict,
		       struct vmr_journal **ret_journal, size_t *ret_undone, struct vmr_error **err)
{
	_cleanup_free_ char *jpath = vmr_statedir_file(dir, "journal.jsonl");
	struct vmr_journal *j = NULL;
	struct vmr_net_owned *owned = NULL;
	size_t n, nowned = 0;
	int r;

	vmr_net_register_undo();
	vmr_devices_register_undo();
	r = vmr_journal_open(jpath, &j, err);
	if (r < 0)
		return r;
	n = vmr_journal_count(j);
	if (n > 0) {
		r = vmr_journal_replay(j, (void *)cfg, err);
		if (r < 0) {
			vmr_journal_close(j);
			return vmr_error_wrap(err, "guest '%s': undo the previous run", g->name);
		}
	}
	vmr_devices_owned(g, &owned, &nowned);
	r = vmr_net_reclaim(cfg, g->name, owned, nowned, strict, err);
	vmr_devices_owned_free(owned, nowned);
	if (r < 0) {
		vmr_journal_close(j);
		return r;
	}
	if (ret_undone)
		*ret_undone = n;
	if (ret_journal)
		*ret_journal = j;
	else
		vmr_journal_close(j);
	return 0;
}

int vmr_reclaim_guest(const struct vmr_config *cfg, const struct vmr_guest *g, size_t *ret_undone,
		      struct vmr_error **err)
{
	_cleanup_free_ char *path = vmr_statedir_path(cfg->state_dir, g->name, NULL);
	struct vmr_statedir dir = {.lock_fd = -1};
	struct vmr_error *e = NULL;
	struct stat st;
	int r;

	/* a guest that never ran here: nothing to undo, and no directory to make */
	if (stat(path, &st) < 0)
		return 0;
	r = vmr_statedir_lock(cfg->state_dir, g->name, (gid_t)-1, &dir, &e);
	if (r == -EBUSY) {
		vmr_error_free(e);
		return 0;
	}
	if (r < 0) {
		if (err)
			*err = e;
		else
			vmr_error_free(e);
		return r;
	}
	r = vmr_reclaim_locked(cfg, g, &dir, false, NULL, ret_undone, err);
	vmr_statedir_release(&dir);
	return r < 0 ? r : 1;
}
