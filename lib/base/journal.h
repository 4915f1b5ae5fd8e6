/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_JOURNAL_H
#define VMR_JOURNAL_H

/*
 * The undo journal: every host change (a link created, a driver rebound,
 * sriov_numvfs changed) is recorded here *before* it is made, written and
 * fsynced, as one JSON object per line with a "type" member.  Undo replays
 * the entries in reverse order through the handler registered for each
 * type, then empties the journal.  Because an entry is written before the
 * change, a handler must be idempotent and must check that what it is about
 * to undo is really ours (e.g. the link's MAC and owner mark still match):
 * the change may never have happened, or a foreign object may now hold the
 * name.  A journal left non-empty by a dead supervisor is replayed by the
 * next start of the same guest.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/base/error.h"

struct vmr_journal;

/*
 * Undo one entry.  ctx is what vmr_journal_replay() was given: by
 * convention the host configuration, `const struct vmr_config *` (sysfs and
 * dev roots, state dir).  Return 0 when the change is undone
 * or was never made; negative with *err on failure (replay continues with
 * the other entries and reports the first failure).
 */
typedef int (*vmr_undo_fn)(const json_t *entry, void *ctx, struct vmr_error **err);

/* Register the undo handler for entries whose "type" is type (static string). */
void vmr_journal_register(const char *type, vmr_undo_fn fn);

/*
 * The capabilities undoing one entry needs (bit n: capability n), for the
 * supervisor, which keeps only those once its guest runs (docs/security.md).
 * ctx as for vmr_undo_fn.  May look at the host (a file's owner) but
 * changes nothing.
 */
typedef uint64_t (*vmr_undo_caps_fn)(const json_t *entry, void *ctx);

/*
 * Register what undoing entries of type needs.  A type without one is
 * taken to need every capability: a teardown refused for a capability
 * dropped by mistake would leave the host dirty.
 */
void vmr_journal_register_caps(const char *type, vmr_undo_caps_fn fn);

/*
 * The union of what undoing every entry now in j needs (UINT64_MAX when an
 * entry's type declares nothing).  0 for an empty or NULL journal.
 */
uint64_t vmr_journal_caps(const struct vmr_journal *j, void *ctx);

/* Open (creating, mode 0600) the journal at path; O_CLOEXEC. */
int vmr_journal_open(const char *path, struct vmr_journal **ret, struct vmr_error **err);

/*
 * Append entry (an object with "type"), write and fsync before returning.
 * The entry is borrowed, not stolen: the journal takes a reference of its
 * own, and the caller still owns its reference and must json_decref() it
 * (jansson's *_new convention does not apply).  On failure the partial
 * line is cut off and the change must not be made.
 */
int vmr_journal_record(struct vmr_journal *j, json_t *entry, struct vmr_error **err);

/* Number of entries currently in the journal. */
size_t vmr_journal_count(const struct vmr_journal *j);

/*
 * Undo every entry in reverse order, then truncate the journal (entries
 * whose undo failed are kept, so a later replay tries again).  Entries of an
 * unknown type fail.  Returns 0 or the first failure.
 */
int vmr_journal_replay(struct vmr_journal *j, void *ctx, struct vmr_error **err);

/* Close; NULL is fine.  Does not replay. */
void vmr_journal_close(struct vmr_journal *j);

#endif
