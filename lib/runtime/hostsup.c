/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host-level setup and its undo (lib/runtime/hostsup.h). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>

#include "lib/base/fsutil.h"
#include "lib/base/statedir.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/runtime/hostsup.h"
#include "net/net.h"

int vmr_hostsup_undo(struct vmr_hostsup *h, struct vmr_error **err)
{
	(void)unlink(h->ready);
	if (vmr_journal_replay(h->journal, (void *)h->cfg, err) < 0)
		return vmr_error_wrap(err, "undo the host setup");
	return 0;
}

int vmr_hostsup_open(const struct vmr_config *cfg, const char *host, struct vmr_hostsup *ret,
		     struct vmr_error **err)
{
	struct vmr_hostsup h = {.cfg = cfg, .lock_fd = -1};
	_cleanup_free_ char *lock = NULL, *jpath = NULL;
	pid_t holder = 0;
	int r;

	h.host = xstrdup(host);
	h.name = xstrdup(host ? host : "local");
	h.dir = xasprintf("%s/host-%s", cfg->state_dir, h.name);
	h.ready = xasprintf("%s/ready", h.dir);
	lock = xasprintf("%s/host.lock", h.dir);
	jpath = xasprintf("%s/journal.jsonl", h.dir);
	vmr_net_register_undo();
	r = vmr_mkdir_p(h.dir, 0700);
	if (r < 0) {
		vmr_error_set(err, -r, "create state directory '%s'", h.dir);
		goto fail;
	}
	/*
	 * One `vmrun host` at a time per host: a `down` (or a second `up`)
	 * while `up --foreground` runs would replay the journal under it.
	 */
	r = vmr_lockfile_take(lock, 0, &h.lock_fd, &holder);
	if (r == -EBUSY && holder > 0)
		r = vmr_error_set(err, EBUSY,
				  "host '%s' is in the hands of another 'vmrun host' (pid %d)",
				  h.name, (int)holder);
	else if (r == -EBUSY)
		r = vmr_error_set(err, EBUSY, "host '%s' is in the hands of another 'vmrun host'",
				  h.name);
	else if (r < 0)
		r = vmr_error_set(err, -r, "lock '%s'", lock);
	if (r < 0)
		goto fail;
	r = vmr_journal_open(jpath, &h.journal, err);
	if (r < 0)
		goto fail;
	r = vmr_hostsup_undo(&h, err);
	if (r < 0)
		goto fail;
	*ret = h;
	return 0;
fail:
	vmr_hostsup_close(&h);
	return r;
}

int vmr_hostsup_up(struct vmr_hostsup *h, const struct vmr_topology *t, struct vmr_error **err)
{
	struct vmr_hostsetup needs = {0};
	int fd, r;

	vmr_hostsetup_collect(&needs, t, h->host);
	r = vmr_net_host_up(h->cfg, t, h->host, needs.vfs, needs.nvfs, h->journal, err);
	vmr_hostsetup_free(&needs);
	if (r >= 0) {
		fd = open(h->ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
		else
			r = vmr_error_set(err, errno, "create '%s'", h->ready);
	}
	if (r < 0) {
		struct vmr_error *e = NULL;

		/* the setup rolled itself back; this empties the journal */
		if (vmr_hostsup_undo(h, &e) < 0) {
			_cleanup_free_ char *text = vmr_error_text(e);

			vmr_error_hint(err, "also: %s", text);
			vmr_error_free(e);
		}
	}
	return r;
}

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

void vmr_hostsup_block_signals(void)
{
	sigset_t set;

	stop_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int vmr_hostsup_wait_signal(void)
{
	sigset_t set;
	int sig = 0;

	stop_signals(&set);
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}

void vmr_hostsup_close(struct vmr_hostsup *h)
{
	vmr_journal_close(h->journal);
	h->journal = NULL;
	if (h->lock_fd >= 0)
		close(h->lock_fd);
	h->lock_fd = -1;
	free(h->host);
	free(h->name);
	free(h->dir);
	free(h->ready);
	h->host = h->name = h->dir = h->ready = NULL;
}
