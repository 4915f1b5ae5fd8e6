/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Undo what a dead supervisor left (lib/reclaim.h). */
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

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

void vmr_reclaim_runtime_files(const struct vmr_statedir *dir)
{
	static const char *const files[] = {"ready",	   "healthy",	  "agent.sock",
					    "qmp.sock",	   "serial.sock", "console.sock",
					    "control.sock"};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *path = vmr_statedir_file(dir, files[i]);

		(void)unlink(path);
	}
}

/*
 * status.json of a supervisor that died mid-run still says what it was
 * doing: record that the guest ended (no exit status: nobody saw it) and
 * that nothing of it is left, so ps says exited, not stale or running.
 */
static void mark_exited(const struct vmr_statedir *dir)
{
	_cleanup_free_ char *path = vmr_statedir_file(dir, "status.json");
	_cleanup_free_ char *text = NULL, *out = NULL;
	json_t *st;
	const char *state;

	if (read_file(path, 1 << 20, &text, NULL) < 0)
		return;
	st = json_loads(text, 0, NULL);
	state = json_string_value(json_object_get(st, "state"));
	if (json_is_object(st) && (!state || !streq(state, "exited"))) {
		json_object_set_new(st, "state", json_string("exited"));
		json_object_set_new(st, "qemu_state", json_null());
		json_object_set_new(st, "reclaimed", json_true());
		json_object_del(st, "exit_status");
		out = json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (out) {
			_cleanup_free_ char *line = xasprintf("%s\n", out);

			(void)write_file_atomic(path, line, strlen(line), 0644);
		}
	}
	json_decref(st);
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
	r = vmr_statedir_lock(cfg->state_dir, g->name, &dir, &e);
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
	if (r >= 0) {
		vmr_reclaim_runtime_files(&dir);
		mark_exited(&dir);
	}
	vmr_statedir_release(&dir);
	return r < 0 ? r : 1;
}
