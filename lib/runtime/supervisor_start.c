/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's startup, up to a running guest: the checks that change
 * nothing (plan, preflight, files), the lock, the reclaim of a dead run,
 * images and the devices' host setup, QEMU's sockets and spawn, the QMP
 * handshake, pinning and `cont`.  Sequential and synchronous; every wait
 * serves signals and has a deadline.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "images/images.h"
#include "lib/base/fault.h"
#include "lib/base/notify.h"
#include "lib/devices/devices.h"
#include "lib/runtime/guestplan.h"
#include "lib/runtime/plandesc.h"
#include "lib/runtime/preflight.h"
#include "lib/runtime/reclaim.h"
#include "lib/runtime/sandbox.h"
#include "lib/runtime/supervisor_internal.h"
#include "net/net.h"

static int sup_signals(struct sup *s, struct vmr_error **err)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &s->oldmask) < 0)
		return vmr_error_set(err, errno, "block signals");
	s->sigs_blocked = true;
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0)
		return vmr_error_set(err, errno, "signalfd");
	/* a console reader going away must not kill the supervisor */
	sigaction(SIGPIPE, &ign, NULL);
	/* QEMU's orphans come to us even when we are not PID 1 */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	return 0;
}

/*
 * QEMU's privilege drop (docs/security.md), prepared here so that the
 * forked child cannot fail for a reason knowable before any host change.
 */
static int sup_caps_prepare(struct sup *s, enum vmr_accel accel, struct vmr_error **err)
{
	_cleanup_free_ char *kvm = NULL;
	struct vmr_caps_drop_opts o = {0};
	int r;

	if (s->have_user) {
		o.change_ids = true;
		o.uid = s->user.uid;
		o.gid = s->user.gid;
		o.groups = s->user.groups;
		o.ngroups = s->user.ngroups;
		if (accel == VMR_ACCEL_KVM) {
			kvm = xasprintf("%s/kvm", s->cfg->dev_root);
			o.device = kvm;
		}
		/* VFIO pins all guest memory; libvirt allows memory + 1 GiB */
		if (s->plan.grants.vfio)
			o.memlock = s->g->memory + (UINT64_C(1) << 30);
	} else if (!vmr_caps_any_permitted()) {
		/*
		 * An unprivileged supervisor has nothing to take from a QEMU
		 * that stays its uid: NoNewPrivs, which spawn always sets,
		 * keeps it without capabilities.
		 */
		return 0;
	}
	r = vmr_caps_drop_prepare(&o, &s->caps, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", s->g->name);
	s->have_caps = true;
	return 0;
}

/*
 * The plan: the guest and the host facts known before any change (fd
 * numbering), the same as `vmrun args` prints.
 */
static int sup_plan(struct sup *s, struct vmr_error **err)
{
	const struct vmr_guest *g = s->g;
	struct vmr_guest_plan_opts po = {.topo_path = s->o->topo_path, .vhost = -1};
	_cleanup_free_ char *warning = NULL;
	int r;

	r = vmr_guest_plan(s->cfg, s->o->topo, g, &po, &s->plan, &warning, err);
	if (r < 0)
		return r;
	s->have_plan = true;
	if (warning)
		sup_log(s, VMR_LOG_WARNING, "guest '%s': %s", g->name, warning);
	s->nfds = s->plan.nfds;
	s->fds = xcalloc((size_t)s->nfds, sizeof(int));
	for (int i = 0; i < s->nfds; i++)
		s->fds[i] = -1;
	return 0;
}

/*
 * The files QEMU opens by name and nothing in vmrun makes (kernel,
 * initrd): a missing one is a mistake in the topology, reported before
 * anything changes rather than by QEMU once the host is set up.
 */
static int sup_check_files(struct sup *s, struct vmr_error **err)
{
	const struct {
		const char *what, *path;
	} files[] = {
	    {"kernel", s->g->kernel},
	    {"initrd", s->g->initrd},
	};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *path = NULL;

		if (!files[i].path)
			continue;
		path = vmr_plan_path(&s->plan, files[i].path);
		if (access(path, R_OK) == 0)
			continue;
		/* a usage error prints no errno text: the reason goes in the message */
		return vmr_error_usage(err, "guest '%s': %s '%s': %s", s->g->name, files[i].what,
				       path, strerror(errno));
	}
	return 0;
}

/* Checks that change nothing on the host: invalid input fails here with status 2. */
static int sup_validate(struct sup *s, struct vmr_error **err)
{
	const struct vmr_guest *g = s->g;
	int r;

	r = sup_plan(s, err);
	if (r < 0)
		return r;
	if (g->has_cpuset && vmr_pin_check_available(&g->cpuset, err) < 0) {
		_cleanup_free_ char *cs = vmr_cpuset_format(&g->cpuset);

		return vmr_error_wrap(err, "guest '%s': cpuset '%s'", g->name, cs);
	}
	if (s->plan.emulator_cpus && vmr_pin_check_available(s->plan.emulator_cpus, err) < 0) {
		_cleanup_free_ char *cs = vmr_cpuset_format(s->plan.emulator_cpus);

		return vmr_error_wrap(err, "guest '%s': emulator_cpus '%s'", g->name, cs);
	}
	if (s->plan.iothread_cpus && vmr_pin_check_available(s->plan.iothread_cpus, err) < 0) {
		_cleanup_free_ char *cs = vmr_cpuset_format(s->plan.iothread_cpus);

		return vmr_error_wrap(err, "guest '%s': iothread_cpus '%s'", g->name, cs);
	}
	if (s->cfg->qemu_user) {
		r = vmr_spawn_user_lookup(s->cfg->qemu_user, &s->user, err);
		if (r < 0)
			return vmr_error_wrap(err, "qemu_user");
		s->have_user = true;
		if (s->cfg->qemu_user_fallback)
			sup_log(s, VMR_LOG_WARNING,
				"guest '%s': QEMU runs as '%s': there is no system user '%s' "
				"(make install, the Debian package and the container image create "
				"it)",
				g->name, s->cfg->qemu_user, VMR_CONFIG_QEMU_USER);
	}
	r = vmr_caps_preflight(s->cfg, &s->plan, err);
	if (r < 0)
		return r;
	r = vmr_guest_preflight(s->cfg, &s->plan, err);
	if (r < 0)
		return r;
	r = sup_caps_prepare(s, s->plan.facts.accel, err);
	if (r < 0)
		return r;
	r = sup_isolate_check(s, err);
	if (r < 0)
		return r;
	r = sup_check_files(s, err);
	if (r < 0)
		return r;
	/* what QEMU still opens by name, as the user it runs as */
	if (s->have_user && s->user.uid != 0)
		return vmr_qemu_files_preflight(&s->plan, s->cfg->qemu_user, &s->user, err);
	return 0;
}

/*
 * The files vmrun made for the guest (overlays, blank disks, the seed, the
 * UEFI variables), opened here with the access mode QEMU asks of their fd
 * sets and passed as fds: QEMU, whatever its uid, never opens them by
 * name, so they stay the supervisor's and QEMU needs no way into the state
 * or image directories (docs/security.md).  A block device given as a
 * disk is opened the same way.
 */
static int sup_files_open(struct sup *s, struct vmr_error **err)
{
	for (size_t i = 0; i < s->plan.nfiles; i++) {
		const struct vmr_plan_file *f = &s->plan.files[i];
		int fd;

		fd = open(f->path, (f->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return vmr_error_set(err, errno, "open '%s' for QEMU (%s)", f->path,
					     f->writable ? "read-write" : "read-only");
		s->fds[f->fd - 3] = fd;
	}
	return 0;
}

/* Replay what a dead predecessor left, then sweep leftovers that name us. */
static int sup_reclaim(struct sup *s, struct vmr_error **err)
{
	size_t n = 0;
	int r;

	r = vmr_reclaim_locked(s->cfg, s->g, &s->dir, true, &s->journal, &n, err);
	if (r < 0)
		return r;
	if (n > 0)
		sup_log(s, VMR_LOG_INFO,
			"guest '%s': undid %zu host change%s left by a previous run", s->g->name, n,
			n == 1 ? "" : "s");
	/*
	 * Files of a previous run that would mislead a reader; its status
	 * (how it ended) stays as status.json.1 for a `stop` still waiting.
	 */
	vmr_reclaim_runtime_files(&s->dir);
	{
		_cleanup_free_ char *cur = sup_file(s, "status.json");
		_cleanup_free_ char *prev = sup_file(s, "status.json.1");

		if (rename(cur, prev) < 0 && errno != ENOENT)
			(void)unlink(cur);
	}
	return 0;
}

/*
 * Our end of one of QEMU's listening sockets: bind and listen at path,
 * connect at once (the connection waits in the backlog until QEMU
 * accepts), so there is no race and no retry loop.
 */
static int sup_qemu_socket(struct sup *s, const char *name, int child_fd, int *ret_conn,
			   struct vmr_error **err)
{
	_cleanup_free_ char *path = sup_file(s, name);
	int lfd, cfd;

	lfd = run_socket_listen(path, 1, false, err);
	if (lfd < 0)
		return lfd;
	s->fds[child_fd - 3] = lfd;
	cfd = run_socket_connect(path, err);
	if (cfd < 0)
		return cfd;
	*ret_conn = cfd;
	return 0;
}

void sup_close_child_fds(struct sup *s)
{
	for (int i = 0; i < s->nfds; i++) {
		if (s->fds[i] >= 0)
			close(s->fds[i]);
		s->fds[i] = -1;
	}
}

static int sup_spawn(struct sup *s, struct vmr_error **err)
{
	struct vmr_strvec argv = VMR_STRVEC_INIT;
	_cleanup_close_ int devnull = -1;
	struct vmr_spawn sp;
	int r;

	r = vmr_argv_build(&s->plan, &argv, err);
	if (r < 0)
		return r;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0) {
		vmr_strvec_clear(&argv);
		return vmr_error_set(err, errno, "open /dev/null");
	}
	sp = (struct vmr_spawn){
	    .argv = argv.v,
	    .envp = s->plan.env.v,
	    .stdin_fd = devnull,
	    /* QEMU's messages go to our stderr; stdout carries only the console */
	    .stdout_fd = STDERR_FILENO,
	    .stderr_fd = STDERR_FILENO,
	    .fds = s->fds,
	    .nfds = (size_t)s->nfds,
	    .caps = s->have_caps ? &s->caps : NULL,
	    .pdeathsig = SIGKILL,
	    .affinity = s->g->has_cpuset ? &s->g->cpuset : NULL,
	    .cgroup = s->have_cg ? &s->cg : NULL,
	    .mounts = s->private_mounts ? &s->mounts : NULL,
	};
	r = vmr_spawn(&sp, &s->qemu_pid, err);
	if (r >= 0) {
		/* what runs, for `vmrun restart` to compare with the topology later */
		_cleanup_free_ char *path = sup_file(s, VMR_PLAN_FILE);
		json_t *rec = vmr_plan_record(&s->plan, &argv);
		char *text = json_dumps(rec, JSON_INDENT(2));

		if (text)
			(void)write_file_atomic(path, text, strlen(text), 0600);
		free(text);
		json_decref(rec);
	}
	vmr_strvec_clear(&argv);
	if (r < 0)
		return r;
	/* QEMU holds them now; our copies would keep dead links and sockets alive */
	sup_close_child_fds(s);
	if (s->have_cg) {
		/* QEMU is in it: the journal's entries remove it at the end */
		for (int i = 0; i < s->cg.nfds; i++) {
			close(s->cg.procs_fd[i]);
			s->cg.procs_fd[i] = -1;
		}
	}
	return 0;
}

/* After a failed startup step: if QEMU died, say so instead. */
static int sup_startup_failed(struct sup *s, struct vmr_error **err)
{
	uint64_t until = now_ms() + STARTUP_EXIT_WAIT_MS;

	/* a closed monitor means QEMU is exiting: wait for its SIGCHLD */
	sup_reap(s);
	while (!s->qemu_exited && vmr_qmp_closed(s->qmp)) {
		struct pollfd p = {.fd = s->sigfd, .events = POLLIN};
		uint64_t now = now_ms();

		if (now >= until)
			break;
		if (poll(&p, 1, (int)(until - now)) < 0 && errno != EINTR)
			break;
		sup_read_signals(s);
	}
	if (s->qemu_exited) {
		_cleanup_free_ char *how = sup_wstatus_text(s->qemu_wstatus);

		vmr_error_clear(err);
		return vmr_error_set(err, 0, "guest '%s': QEMU %s before the guest was ready",
				     s->g->name, how);
	}
	return vmr_error_wrap(err, "guest '%s'", s->g->name);
}

/*
 * How a startup step that returned r != 0 ends sup_start(): 1 for a stop
 * requested meanwhile, else the failure (QEMU's death, if that was it).
 */
static int sup_start_end(struct sup *s, int r, struct vmr_error **err)
{
	if (r > 0 && !s->qemu_exited)
		return 1;
	return sup_startup_failed(s, err);
}

/*
 * Serve signals and QMP until done(s, arg), so that a SIGTERM or QEMU's
 * death ends a startup wait at once rather than at its deadline (a QEMU
 * whose monitor hangs, or that is stopped, answers nothing).  deadline is
 * a now_ms() value, 0 for none (a command's own deadline completes it).
 * Returns 0 once done, 1 when a stop was requested or QEMU exited, -EPIPE
 * when QMP closed, -ETIMEDOUT at the deadline.
 */
static int sup_start_wait(struct sup *s, bool (*done)(struct sup *s, void *arg), void *arg,
			  uint64_t deadline)
{
	for (;;) {
		struct pollfd p[2] = {
		    {.fd = s->sigfd, .events = POLLIN},
		    {.fd = vmr_qmp_fd(s->qmp), .events = vmr_qmp_poll_events(s->qmp)},
		};
		struct vmr_error *e = NULL;
		int t = vmr_qmp_timeout(s->qmp);
		uint64_t now = now_ms();

		if (done(s, arg))
			return 0;
		if (s->stop_requested || s->qemu_exited)
			return 1;
		if (vmr_qmp_closed(s->qmp))
			return -EPIPE;
		if (deadline) {
			int left;

			if (now >= deadline)
				return -ETIMEDOUT;
			left = (int)(deadline - now);
			if (t < 0 || left < t)
				t = left;
		}
		if (poll(p, 2, t) < 0 && errno != EINTR)
			return -errno;
		if (p[0].revents)
			sup_read_signals(s);
		if (vmr_qmp_process(s->qmp, &e) < 0)
			vmr_error_free(e);
	}
}

static bool qmp_greeted(struct sup *s, _unused_ void *arg)
{
	return vmr_qmp_greeting(s->qmp) != NULL;
}

/* A startup command's completion: on the heap, since a stop may abandon it. */
struct start_call {
	bool done, abandoned;
	int r;
	json_t *ret;
	struct vmr_error *err;
};

static void start_call_done(json_t *ret, int r, _unused_ const char *error_class,
			    struct vmr_error *err, void *userdata)
{
	struct start_call *c = userdata;

	if (c->abandoned) {
		/* from vmr_qmp_free() in teardown: nobody waits any more */
		vmr_error_free(err);
		free(c);
		return;
	}
	c->done = true;
	c->r = r;
	c->ret = json_incref(ret);
	c->err = err;
}

static bool start_call_finished(_unused_ struct sup *s, void *arg)
{
	return ((struct start_call *)arg)->done;
}

/*
 * One QMP command during startup (deadline VMR_SUPERVISOR_START_TIMEOUT_MS),
 * waited for with sup_start_wait().  Returns 0 with a new reference in
 * *ret_return (when not NULL), 1 when a stop came first or QEMU exited,
 * negative with *err.
 */
static int sup_start_call(struct sup *s, const char *cmd, json_t *args, json_t **ret_return,
			  struct vmr_error **err)
{
	struct start_call *c;
	int r;

	/* a stop that came during the previous step: `cont` must not go out */
	sup_read_signals(s);
	if (s->stop_requested || s->qemu_exited)
		return 1;
	c = xcalloc(1, sizeof(*c));
	r = vmr_qmp_send(s->qmp, cmd, args, VMR_SUPERVISOR_START_TIMEOUT_MS, start_call_done, c,
			 NULL, err);
	if (r < 0) {
		free(c);
		return r;
	}
	r = sup_start_wait(s, start_call_finished, c, 0);
	if (!c->done) {
		/* still pending: completed (and freed) when teardown frees QMP */
		c->abandoned = true;
		if (r < 0)
			return vmr_error_set(err, -r, "qmp '%s'", cmd);
		return r;
	}
	r = c->r;
	if (r < 0) {
		if (err && !*err)
			*err = TAKE_PTR(c->err);
	} else if (ret_return) {
		*ret_return = TAKE_PTR(c->ret);
	}
	vmr_error_free(c->err);
	json_decref(c->ret);
	free(c);
	return r;
}

/*
 * QMP's greeting and qmp_capabilities, answering signals meanwhile.
 * Returns 0, 1 (stop requested or QEMU exited), or negative with *err.
 */
static int sup_negotiate(struct sup *s, struct vmr_error **err)
{
	_cleanup_free_ char *name = sup_file(s, "qmp.sock");
	int r;

	r = sup_start_wait(s, qmp_greeted, NULL, now_ms() + VMR_SUPERVISOR_START_TIMEOUT_MS);
	if (r == -ETIMEDOUT)
		return vmr_error_set(err, ETIMEDOUT, "qmp '%s': no greeting within %d ms", name,
				     VMR_SUPERVISOR_START_TIMEOUT_MS);
	if (r == -EPIPE)
		return vmr_error_set(err, 0, "qmp '%s': connection closed before the greeting",
				     name);
	if (r < 0)
		return vmr_error_set(err, -r, "qmp '%s': wait for the greeting", name);
	if (r > 0)
		return r;
	r = sup_start_call(s, "qmp_capabilities", NULL, NULL, err);
	if (r < 0)
		vmr_error_wrap(err, "handshake with '%s'", name);
	return r;
}

/*
 * vCPUs on the cpuset, the iothreads and QEMU's other threads (and
 * vhost-net's workers) where the plan puts them.  Returns 0, 1 (stop
 * requested or QEMU exited), or negative with *err.
 */
static int sup_pin(struct sup *s, struct vmr_error **err)
{
	_cleanup_free_ struct vmr_pin *pins = NULL;
	_cleanup_free_ pid_t *io = NULL;
	const struct vmr_plan *p = &s->plan;
	struct vmr_pin_place pl = {0};
	json_t *ret = NULL;
	int r;

	r = sup_start_call(s, "query-cpus-fast", NULL, &ret, err);
	if (r != 0)
		return r;
	r = vmr_pin_parse(ret, &s->vcpus, &s->nvcpus, err);
	json_decref(ret);
	if (r < 0)
		return r;
	if (!s->g->has_cpuset && !p->emulator_cpus && !p->iothread_cpus)
		return 0;
	if (s->g->has_cpuset) {
		r = vmr_pin_map(s->vcpus, s->nvcpus, &s->g->cpuset, &pins, err);
		if (r < 0)
			return r;
		pl.pins = pins;
		pl.n = s->nvcpus;
		pl.vcpus = &s->g->cpuset;
	}
	if (p->iothreads) {
		r = sup_start_call(s, "query-iothreads", NULL, &ret, err);
		if (r != 0)
			return r;
		r = vmr_pin_parse_iothreads(ret, &io, &pl.nio, err);
		json_decref(ret);
		if (r < 0)
			return r;
		pl.io_tids = io;
	}
	pl.emulator = p->emulator_cpus;
	pl.iothreads = p->iothread_cpus;
	for (size_t i = 0; i < p->ndevs; i++)
		pl.vhost_workers = pl.vhost_workers || p->devs[i].nfds[VMR_FD_VHOST] > 0;
	r = vmr_pin_apply_place(s->qemu_pid, &pl, err);
	if (r < 0)
		return r;
	s->pinned = s->g->has_cpuset;
	return 0;
}

static int sup_prestart_call(void *userdata, const char *cmd, json_t *args, json_t **ret,
			     struct vmr_error **err)
{
	return sup_start_call(userdata, cmd, args, ret, err);
}

/* The devices' QMP commands before the guest runs (the VNC password). */
static int sup_prestart(struct sup *s, struct vmr_error **err)
{
	struct vmr_prestart ps = {
	    .cfg = s->cfg, .plan = &s->plan, .call = sup_prestart_call, .userdata = s};

	return vmr_guest_prestart(&ps, err);
}

/*
 * The capabilities the loop and teardown use, computed from this guest's
 * journal and qemu_user (docs/security.md, "What the supervisor keeps once
 * the guest runs"); every other one leaves the effective, permitted,
 * inheritable, ambient and bounding sets.
 */
static uint64_t sup_caps_needed(struct sup *s)
{
	_cleanup_free_ char *status = sup_file(s, "status.json");
	uint64_t keep = vmr_journal_caps(s->journal, (void *)s->cfg);

	/* QEMU and its helpers (swtpm) run as another uid: SIGTERM, SIGKILL */
	if (s->have_user)
		keep |= VMR_CAP_BIT(CAP_KILL);
	/*
	 * status.json, the logs, the sockets and the journal: the state
	 * directory is ours (0700 or 0710, made by vmr_statedir_lock), unless
	 * a state_dir above it is another user's
	 */
	keep |= vmr_caps_dac_unlink(status);
	return keep;
}

static int sup_caps_keep(struct sup *s, struct vmr_error **err)
{
	_cleanup_free_ char *names = NULL;
	uint64_t kept = 0;
	int r;

	r = vmr_caps_keep_only(sup_caps_needed(s), &kept, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", s->g->name);
	if (r > 0)
		return 0;
	names = vmr_caps_mask_names(kept);
	sup_log(s, VMR_LOG_INFO, "guest '%s': the supervisor keeps %s%s", s->g->name,
		kept ? "only " : "", kept ? names : "no capability");
	return 0;
}

/*
 * Everything up to a running guest.  Returns 0 when the guest runs, 1 when
 * a stop request came first (nothing more is started), negative on failure.
 */
int sup_start(struct sup *s, struct vmr_error **err)
{
	const struct vmr_guest *g = s->g;
	_cleanup_free_ char *ready = NULL, *events = NULL, *conlog = NULL;
	_cleanup_free_ char *consock = NULL, *ctlsock = NULL, *qmpsock = NULL;
	_cleanup_close_ int qmp_conn = -1, serial_conn = -1, con_listen = -1;
	int r;

	r = sup_signals(s, err);
	if (r < 0)
		return r;
	r = sup_validate(s, err);
	if (r < 0)
		return r;
	if (s->o->locked) {
		/* the restart manager holds the lock: its fd is ours too */
		s->dir.path = xstrdup(s->o->locked->path);
		s->dir.lock_fd = -1;
	} else {
		r = vmr_statedir_lock(s->cfg->state_dir, g->name, &s->dir, err);
		if (r < 0)
			return r;
	}
	vmr_net_register_undo();
	vmr_devices_register_undo();
	r = sup_reclaim(s, err);
	if (r < 0)
		return r;
	vmr_fault_point("reclaimed");

	events = sup_file(s, "events.jsonl");
	r = run_caplog_open(&s->events, events, RUN_EVENTS_LOG_CAP, err);
	if (r < 0)
		return r;
	r = vmr_image_prepare(s->cfg, s->o->topo, g, s->dir.path, NULL, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);
	r = vmr_guest_setup(s->cfg, s->journal, &s->plan, s->fds, s->have_caps ? &s->caps : NULL,
			    &s->helpers, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);
	r = sup_files_open(s, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);
	vmr_fault_point("host-setup");

	r = sup_qemu_socket(s, "qmp.sock", s->plan.qmp_fd, &qmp_conn, err);
	if (r < 0)
		return r;
	r = sup_qemu_socket(s, "serial.sock", s->plan.console_fd, &serial_conn, err);
	if (r < 0)
		return r;
	/* taken even on failure */
	r = vmr_qmp_new(TAKE_FD(qmp_conn), &s->qmp);
	if (r < 0)
		return vmr_error_set(err, -r, "set up the QMP client");
	qmpsock = sup_file(s, "qmp.sock");
	vmr_qmp_set_name(s->qmp, qmpsock);
	vmr_qmp_set_event_handler(s->qmp, sup_on_event, s);
	vmr_qmp_set_diag_handler(s->qmp, sup_on_qmp_diag, s);

	consock = sup_file(s, "console.sock");
	con_listen = run_socket_listen(consock, 8, true, err);
	if (con_listen < 0)
		return con_listen;
	conlog = sup_file(s, "console.log");
	/* owns both fds now, even on failure */
	r = run_console_init(&s->con, TAKE_FD(serial_conn), s->o->console_fd, conlog,
			     TAKE_FD(con_listen), err);
	s->have_console = true;
	if (r < 0)
		return r;
	/* every line the guest prints, for ready_when console and cloud-init */
	s->con.on_output = sup_health_console;
	s->con.on_output_userdata = s;
	r = sup_agent_connect(s, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s': guest agent channel", g->name);
	ctlsock = sup_file(s, "control.sock");
	s->ctl_listen = run_socket_listen(ctlsock, 8, true, err);
	if (s->ctl_listen < 0)
		return s->ctl_listen;

	r = sup_isolate_prepare(s, err);
	if (r < 0)
		return r;
	vmr_fault_point("isolated");
	r = sup_spawn(s, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);
	vmr_fault_point("spawned");
	r = sup_write_status(s, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);

	r = sup_negotiate(s, err);
	if (r != 0)
		return sup_start_end(s, r, err);
	vmr_fault_point("greeted");
	r = sup_pin(s, err);
	if (r != 0)
		return sup_start_end(s, r, err);
	vmr_fault_point("pinned");
	r = sup_prestart(s, err);
	if (r != 0)
		return sup_start_end(s, r, err);
	/*
	 * Every host change is made and QEMU runs: from here on the
	 * supervisor only talks QMP, copies the console and undoes the
	 * journal.  Before `cont`, so a filter that fails to load stops a
	 * guest that never ran.  The capabilities first: the filter denies
	 * capset.
	 */
	r = sup_caps_keep(s, err);
	if (r < 0)
		return r;
	if (s->cfg->sandbox) {
		r = vmr_sandbox_supervisor(err);
		if (r < 0)
			return vmr_error_wrap(err, "guest '%s'", g->name);
	}
	r = sup_start_call(s, "cont", NULL, NULL, err);
	if (r != 0)
		return sup_start_end(s, r, err);

	s->phase = PHASE_RUNNING;
	s->ran = true;
	/* ready_when running: ready now, and the one status.json below says so too */
	sup_health_mark_running(s);
	ready = sup_file(s, "ready");
	/* status.json first: a healthcheck that sees `ready` finds the state in it */
	r = sup_write_status(s, err);
	if (r < 0)
		return vmr_error_wrap(err, "guest '%s'", g->name);
	r = write_file_atomic(ready, "", 0, 0644);
	if (r < 0)
		return vmr_error_set(err, -r, "guest '%s': create '%s'", g->name, ready);
	if (s->pinned) {
		_cleanup_free_ char *cs = vmr_cpuset_format(&g->cpuset);

		sup_log(s, VMR_LOG_INFO,
			"guest '%s' running (qemu pid %d, vCPUs pinned to CPU%s %s)", g->name,
			(int)s->qemu_pid, g->cpuset.n == 1 ? "" : "s", cs);
	} else {
		sup_log(s, VMR_LOG_INFO, "guest '%s' running (qemu pid %d, vCPUs not pinned)",
			g->name, (int)s->qemu_pid);
	}
	/*
	 * `vmrun up` (or systemd) learns it here, with no polling; under a
	 * restart manager its pid is the main one
	 */
	if (s->o->manager_pid > 0)
		(void)vmr_notifyf("READY=1\nMAINPID=%d\nSTATUS=running (qemu pid %d)",
				  (int)s->o->manager_pid, (int)s->qemu_pid);
	else
		(void)vmr_notifyf("READY=1\nSTATUS=running (qemu pid %d)", (int)s->qemu_pid);
	sup_health_start(s);
	/*
	 * What startup allocated and freed (QMP replies, argv, the plan's
	 * scratch) goes back to the kernel: freed chunks below the top of the
	 * heap otherwise stay dirty pages of this process for as long as the
	 * guest runs (docs/performance.md, "Supervisor memory")
	 */
	malloc_trim(0);
	vmr_fault_point("running");
	return 0;
}
