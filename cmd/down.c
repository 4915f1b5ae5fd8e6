/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun down TOPOLOGY [GUEST...] [--timeout S]: stop the guests of a
 * topology gracefully and wait until their supervisors have undone their
 * host changes.
 */
#include <poll.h>
#include <stdio.h>
#include <sys/pidfd.h>

#include "cmd/cmd.h"
#include "lib/runtime/control.h"
#include "lib/runtime/reclaim.h"
#include "lib/base/buf.h"
#include "lib/base/util.h"

struct down_opts {
	long long timeout;
	long long parallel;
};

static const struct vmr_cli_opt down_options[] = {
    {"timeout", 't', "S", "seconds to wait for each guest to power off",
     VMR_CLI_SECONDS(struct down_opts, timeout, 0, 86400)},
    {"parallel", 'j', "N", "stop at most N guests at once (default: the online\nCPUs)",
     VMR_CLI_COUNT(struct down_opts, parallel, 1, VMR_CLI_PARALLEL_MAX)},
    {0},
};

const struct vmr_cli_cmd cmd_down_cli = {
    .name = "down",
    .summary = "stop the guests of a topology gracefully and wait",
    .synopsis = "TOPOLOGY [GUEST...] [--timeout S] [--parallel N]",
    .description = "Stop the running guests of TOPOLOGY (or only GUEST...): each supervisor\n"
		   "presses the ACPI power button, waits up to S seconds (default: the guest's\n"
		   "stop_timeout) for the guest to power off, then quits QEMU (SIGKILL if it\n"
		   "does not quit) and undoes its host changes.  Waits for all of that: S +\n"
		   "2 s + 30 s for the teardown at most.  At most N guests stop at once\n"
		   "(--parallel; the next is asked as one is done); each is reported in the\n"
		   "topology's order.  For a guest that is not running, what a killed\n"
		   "supervisor left (its journal, its marked links) is undone.",
    .opts = down_options,
    .arg_names = "TOPOLOGY [GUEST...]",
    .min_args = 1,
    .max_args = VMR_CLI_ANY,
    .exit_status = "0 every guest stopped, 1 a guest did not stop or a request\n"
		   "failed, 2 bad usage or invalid topology",
    .run = cmd_down,
};

/* One guest of `down`: what it came to, printed in topology order. */
struct down_guest {
	const struct vmr_guest *g;
	pid_t pid;	   /* its supervisor, asked to stop */
	int pidfd;	   /* watching it; -1 when done or not asked */
	uint64_t deadline; /* for its teardown */
	int wait_ms;
	bool done;
	int exit_status;       /* < -1: nothing to say as "stopped" */
	struct vmr_buf out;    /* what goes to stdout */
	struct vmr_error *err; /* what goes to stderr */
};

#define DOWN_NOTHING (-2)

/* Ask d's supervisor to stop; done at once when none runs (leftovers undone). */
static void down_ask(const struct vmr_config *cfg, struct down_guest *d, int timeout_s, bool named)
{
	const char *name = d->g->name;
	size_t undone = 0;
	int r;

	d->exit_status = DOWN_NOTHING;
	r = vmr_guest_stop(cfg->state_dir, name, timeout_s, false, &d->pid, &d->err);
	if (r > 0) {
		/* the supervisor's own stop_timeout: the topology may have changed since */
		d->wait_ms =
		    vmr_guest_stop_wait_ms(cfg->state_dir, name, timeout_s, d->g->stop_timeout);
		d->deadline = now_ms() + (uint64_t)d->wait_ms;
		if (d->pid > 0) {
			d->pidfd = pidfd_open(d->pid, 0);
			if (d->pidfd >= 0 || errno == ESRCH)
				return; /* ESRCH: gone already, its status read below */
		}
		/* no pid yet (still starting), or no pidfd: wait for it here */
		(void)vmr_guest_wait_stopped(cfg->state_dir, name, d->pid, d->wait_ms,
					     &d->exit_status, &d->err);
		d->done = true;
		return;
	}
	d->done = true;
	if (r < 0)
		return;
	/* a killed supervisor's leftovers: `down` leaves nothing behind */
	if (vmr_reclaim_guest(cfg, d->g, &undone, &d->err) < 0)
		return;
	if (undone > 0)
		vmr_buf_addf(&d->out,
			     "guest '%s' was not running: undid %zu host change%s its supervisor "
			     "left\n",
			     name, undone, undone == 1 ? "" : "s");
	else if (named)
		vmr_buf_addf(&d->out, "guest '%s' is not running\n", name);
}

/* d's supervisor exited (or its time is up): its recorded exit status. */
static void down_finish(const struct vmr_config *cfg, struct down_guest *d, bool timed_out)
{
	if (timed_out)
		vmr_error_set(&d->err, ETIMEDOUT, "guest '%s' still running after %d ms",
			      d->g->name, d->wait_ms);
	else /* it has exited: the wait ends at once */
		(void)vmr_guest_wait_stopped(cfg->state_dir, d->g->name, d->pid, 1000,
					     &d->exit_status, &d->err);
	if (d->pidfd >= 0)
		close(d->pidfd);
	d->pidfd = -1;
	d->done = true;
}

/* Print what the finished guests from *next on came to, in order; false on an error. */
static bool down_report(struct down_guest *ds, size_t n, size_t *next)
{
	bool good = true;

	for (; *next < n && ds[*next].done; (*next)++) {
		struct down_guest *d = &ds[*next];

		fputs(vmr_buf_str(&d->out), stdout);
		if (d->err) {
			fflush(stdout);
			vmr_error_print(d->err, stderr);
			good = false;
		} else if (d->exit_status != DOWN_NOTHING) {
			vmr_cli_print_stopped(d->g->name, d->exit_status);
		}
		fflush(stdout);
	}
	return good;
}

VERB(down)
{
	struct down_opts o = {.timeout = -1, .parallel = vmr_cli_parallel_default()};
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ const struct vmr_guest **sel = NULL;
	_cleanup_free_ struct down_guest *ds = NULL;
	_cleanup_free_ struct pollfd *pfd = NULL;
	_cleanup_free_ size_t *idx = NULL;
	struct vmr_cli_args a;
	size_t n = 0, asked = 0, reported = 0;
	int r, status = VMR_EXIT_OK;

	r = vmr_cli_parse(&cmd_down_cli, argc, argv, &o, &a);
	if (r != VMR_CLI_RUN)
		return r;
	r = vmr_cli_config(&cfg);
	if (r)
		return r;
	r = vmr_cli_topology(a.v[0], &t);
	if (r)
		goto out_cfg;
	sel = xcalloc(t->nguests + (size_t)a.n, sizeof(*sel));
	if (a.n > 1) {
		for (int i = 1; i < a.n; i++) {
			const struct vmr_guest *g = vmr_topology_guest(t, a.v[i]);

			if (!g) {
				vmr_error_usage(&err, "guest '%s' not found in '%s'", a.v[i],
						a.v[0]);
				r = vmr_cli_fail(err);
				goto out;
			}
			sel[n++] = g;
		}
	} else {
		/* placement does not matter here: only running guests are stopped */
		for (size_t i = 0; i < t->nguests; i++)
			sel[n++] = &t->guests[i];
	}

	/*
	 * At most --parallel supervisors stopping at once (each powers its
	 * guest off, then tears down); the next is asked as one is done.
	 */
	ds = xcalloc(n + 1, sizeof(*ds));
	pfd = xcalloc(n + 1, sizeof(*pfd));
	idx = xcalloc(n + 1, sizeof(*idx));
	for (size_t i = 0; i < n; i++)
		ds[i] = (struct down_guest){.g = sel[i], .pidfd = -1, .out = VMR_BUF_INIT};
	while (reported < n) {
		size_t np = 0, stopping = 0;
		uint64_t now, wake = 0;
		int left = -1;

		for (size_t i = 0; i < asked; i++)
			stopping += !ds[i].done;
		while (asked < n && stopping < (size_t)o.parallel) {
			down_ask(&cfg, &ds[asked], (int)o.timeout, a.n > 1);
			stopping += !ds[asked].done;
			asked++;
		}
		if (!down_report(ds, n, &reported))
			status = VMR_EXIT_FAILURE;
		now = now_ms();
		for (size_t i = 0; i < asked; i++) {
			if (ds[i].done)
				continue;
			if (ds[i].pidfd < 0 || now >= ds[i].deadline) {
				/* gone before we watched it, or its time is up */
				down_finish(&cfg, &ds[i], ds[i].pidfd >= 0);
				wake = now;
				continue;
			}
			idx[np] = i;
			pfd[np++] = (struct pollfd){.fd = ds[i].pidfd, .events = POLLIN};
			if (!wake || ds[i].deadline < wake)
				wake = ds[i].deadline;
		}
		if (np == 0 || wake <= now)
			continue;
		left = (int)(wake - now);
		r = poll(pfd, np, left);
		if (r < 0 && errno != EINTR) {
			vmr_error_set(&err, errno, "poll");
			r = vmr_cli_fail(err);
			goto out;
		}
		for (size_t k = 0; r > 0 && k < np; k++)
			if (pfd[k].revents)
				down_finish(&cfg, &ds[idx[k]], false);
	}
	r = status;
out:
	for (size_t i = 0; ds && i < n; i++) {
		if (ds[i].pidfd >= 0)
			close(ds[i].pidfd);
		vmr_buf_free(&ds[i].out);
		vmr_error_free(ds[i].err);
	}
	vmr_topology_free(t);
out_cfg:
	vmr_config_free(&cfg);
	return r;
}
