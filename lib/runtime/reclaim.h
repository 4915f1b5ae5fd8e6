/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_RECLAIM_H
#define VMR_RECLAIM_H

/*
 * Undo what a dead supervisor left of a guest: the host changes in its
 * journal (STATE/GUEST/journal.jsonl), replayed in reverse, then links
 * anywhere in the namespace that carry the guest's owner mark and one of
 * its MACs (a change made after its journal entry was lost with a full
 * disk cannot hide).  The supervisor does this before its own changes;
 * `vmrun down` does it for guests whose supervisor is gone, so that no
 * leftover outlives a `down`.
 */

#include <stddef.h>

#include "lib/model/config.h"
#include "lib/base/error.h"
#include "lib/base/journal.h"
#include "lib/base/statedir.h"
#include "lib/model/topology.h"

/*
 * With dir locked: open its journal, replay what it holds and sweep g's
 * marked links.  strict refuses (EEXIST, touching nothing) when a foreign
 * link holds a name the guest's NICs will need, as a start must.  The
 * journal stays open in *ret_journal (NULL: closed) for the caller's own
 * changes.  *ret_undone (may be NULL) is the number of entries replayed.
 */
int vmr_reclaim_locked(const struct vmr_config *cfg, const struct vmr_guest *g,
		       const struct vmr_statedir *dir, bool strict,
		       struct vmr_journal **ret_journal, size_t *ret_undone,
		       struct vmr_error **err);

/*
 * Remove what says a supervisor serves the guest: `ready` and the QMP,
 * serial, console and control sockets.  For a teardown, and for a reclaim
 * after a supervisor that could not do its own.
 */
void vmr_reclaim_runtime_files(const struct vmr_statedir *dir);

/*
 * For a guest whose supervisor is gone: lock STATE/GUEST, reclaim (not
 * strict), remove its runtime files, record in status.json that the guest
 * exited (state "exited", "reclaimed": true, no exit status), release.
 * Returns 1 with *ret_undone when it did, 0 when there is nothing to do
 * (no state directory) or a supervisor holds the lock (it reclaims for
 * itself), negative on failure.
 */
int vmr_reclaim_guest(const struct vmr_config *cfg, const struct vmr_guest *g, size_t *ret_undone,
		      struct vmr_error **err);

#endif
