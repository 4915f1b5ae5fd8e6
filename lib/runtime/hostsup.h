/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMR_HOSTSUP_H
#define VMR_HOSTSUP_H

/*
 * The host-level setup behind `vmrun host up|down` (docs/networking.md):
 * what the guests placed on a host need before they start (the vmctrl
 * interface on the primary host, SR-IOV VFs), made through the journal
 * STATE/host-NAME/journal.jsonl and undone by replaying it.
 * STATE/host-NAME/ready exists while the host is set up (`vmrun health
 * --host`); STATE/host-NAME/host.lock keeps a second `vmrun host` off the
 * host while one runs (not "lock": that marks a guest's directory).
 */

#include "lib/base/error.h"
#include "lib/base/journal.h"
#include "lib/model/config.h"
#include "lib/model/topology.h"

struct vmr_hostsup {
	const struct vmr_config *cfg;
	char *host;  /* the host given; NULL: the primary host (or this machine) */
	char *name;  /* host, or "local" */
	char *dir;   /* STATE/host-NAME */
	char *ready; /* STATE/host-NAME/ready */
	int lock_fd;
	struct vmr_journal *journal;
};

/*
 * Lock host (NULL: "local") and open its journal; then undo what a
 * previous `up` (maybe killed) left, so one setup is in force at a time.
 * Free with vmr_hostsup_close().
 */
int vmr_hostsup_open(const struct vmr_config *cfg, const char *host, struct vmr_hostsup *ret,
		     struct vmr_error **err);

/*
 * Set the host up for the guests of t placed on it and mark it ready.  On
 * failure what was done is undone (the journal ends empty) and the error
 * returned.
 */
int vmr_hostsup_up(struct vmr_hostsup *h, const struct vmr_topology *t, struct vmr_error **err);

/* Undo the setup: replay the journal, remove the ready mark. */
int vmr_hostsup_undo(struct vmr_hostsup *h, struct vmr_error **err);

/*
 * `host up --foreground`: block SIGTERM and SIGINT now (a stop during the
 * setup is served once it is done) ...
 */
void vmr_hostsup_block_signals(void);
/* ... and wait for one of them; returns the signal. */
int vmr_hostsup_wait_signal(void);

/* Release the lock and the journal (nothing is undone). */
void vmr_hostsup_close(struct vmr_hostsup *h);

#endif
