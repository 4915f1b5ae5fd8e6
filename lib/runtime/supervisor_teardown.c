/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's teardown, on every way out: QEMU killed if startup did
 * not finish, the console drained, pending control requests answered, the
 * sockets removed, the journal replayed, status.json's last word, the lock
 * released last.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include "lib/base/fault.h"
#include "lib/runtime/reclaim.h"
#include "lib/runtime/supervisor_internal.h"

int sup_teardown(struct sup *s, struct vmr_error **err)
{
	int r = 0;

	if (s->qemu_pid > 0 && !s->qemu_exited) {
		/* startup did not finish: nothing in the guest to save */
		kill(s->qemu_pid, SIGKILL);
		while (waitpid(s->qemu_pid, &s->qemu_wstatus, 0) < 0 && errno == EINTR)
			;
		s->qemu_exited = true;
	}
	sup_reap(s);
	/* after QEMU, which holds their sockets */
	sup_helpers_stop(s);
	if (s->have_console) {
		run_console_drain(&s->con, 1000);
		run_console_close(&s->con);
		s->have_console = false;
	}
	/* pending control requests are answered (with an error) from here */
	sup_health_end(s);
	vmr_qmp_free(s->qmp);
	s->qmp = NULL;
	sup_health_free(s);
	for (size_t i = 0; i < s->nctl; i++)
		(void)run_outq_flush(&s->ctl[i]->out, s->ctl[i]->fd, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (s->nctl > 0)
		sup_ctl_drop(s, s->nctl - 1);
	if (s->ctl_listen >= 0)
		close(s->ctl_listen);
	s->ctl_listen = -1;
	vmr_helpers_relays_free(&s->helpers);
	if (s->fds)
		sup_close_child_fds(s);

	if (s->dir.path) {
		vmr_reclaim_runtime_files(&s->dir);
	}
	vmr_fault_point("teardown");
	if (s->journal && vmr_journal_count(s->journal) > 0) {
		r = vmr_journal_replay(s->journal, (void *)s->cfg, err);
		if (r < 0) {
			vmr_error_wrap(err, "guest '%s': undo host changes", s->g->name);
			s->exit_status = VMR_EXIT_FAILURE;
		}
	}
	s->finished = true;
	/* only with the lock: otherwise status.json is another supervisor's */
	if (s->dir.path)
		(void)sup_write_status(s, NULL);
	vmr_journal_close(s->journal);
	s->journal = NULL;
	run_caplog_close(&s->events);
	/* last: a waiting `vmrun down` returns once the lock is free */
	vmr_statedir_release(&s->dir);
	return r;
}

void sup_free(struct sup *s)
{
	if (s->have_plan)
		vmr_plan_free(&s->plan);
	free(s->fds);
	free(s->vcpus);
	free(s->shutdown_reason);
	for (size_t i = 0; i < s->helpers.n; i++)
		free(s->helpers.v[i].name);
	free(s->helpers.v);
	vmr_helpers_relays_free(&s->helpers);
	if (s->have_user)
		vmr_spawn_user_free(&s->user);
	if (s->have_caps)
		vmr_caps_drop_free(&s->caps);
	vmr_mountns_free(&s->mounts);
	if (s->have_cg_limits)
		vmr_cgroup_limits_free(&s->cg_limits);
	if (s->have_cg)
		vmr_cgroup_close(&s->cg);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->sigs_blocked)
		sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
}
