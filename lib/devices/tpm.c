/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `tpm: true`: a TPM 2.0 (QEMU's tpm-crb) emulated by swtpm, a process of
 * its own that the supervisor watches with QEMU (lib/devices/devices.h,
 * struct vmr_helper): its death stops the guest, and it is stopped after
 * QEMU.  The TPM's state (its endorsement key, NVRAM, PCR banks) belongs
 * to the guest and is kept across runs in IMAGE_DIR/GUEST/tpm/, made by
 * swtpm_setup on the first start.
 *
 * swtpm runs with QEMU's privilege drop.  Its control socket is
 * STATE/GUEST/tpm.sock: vmrun binds it and hands swtpm the listening fd,
 * connects to it at once and hands QEMU the connected fd (the chardev's
 * fd=), so neither needs to reach the other's files and QEMU never waits
 * for swtpm to come up.  swtpm --terminate ends when QEMU closes it.
 */
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "lib/base/buf.h"
#include "lib/base/fsutil.h"
#include "lib/base/spawn.h"
#include "lib/base/unixsock.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/argv.h"

#define TPM_DIR "tpm"			 /* in IMAGE_DIR/GUEST */
#define TPM_STATE_FILE "tpm2-00.permall" /* what swtpm_setup makes */
#define TPM_SOCKET "tpm.sock"		 /* in STATE/GUEST */
#define SETUP_TIMEOUT_MS 60000

static const char *const tpm_kept[] = {TPM_DIR "/", NULL};

static void tpm_plan(const struct vmr_plan *p, struct vmr_plan_dev *pd)
{
	pd->nfds[VMR_FD_DEV] = 1; /* QEMU's end of swtpm's control socket */
}

static int tpm_argv(const struct vmr_plan *p, const struct vmr_plan_dev *pd, struct vmr_argv *b,
		    struct vmr_error **err)
{
	vmr_strvec_push(b->out, "-chardev");
	vmr_strvec_pushf(b->out, "socket,id=tpm0-ctrl,fd=%d", pd->fds[VMR_FD_DEV][0]);
	vmr_argv_push(b, "-tpmdev", "emulator,id=tpm0,chardev=tpm0-ctrl");
	vmr_argv_push_json(
	    b, "-device",
	    json_pack("{s:s, s:s, s:s}", "driver", "tpm-crb", "tpmdev", "tpm0", "id", "tpm0"));
	return 0;
}

static void tpm_grants(const struct vmr_plan *p, const struct vmr_plan_dev *pd,
		       struct vmr_grants *g)
{
	g->guest_dir = true;
}

/* swtpm_setup next to swtpm (caller frees). */
static char *swtpm_setup_path(const struct vmr_config *cfg)
{
	_cleanup_free_ char *dir = xstrdup(cfg->swtpm ? cfg->swtpm : VMR_CONFIG_SWTPM);

	return xasprintf("%s/swtpm_setup", dirname(dir));
}

static int need_program(const char *path, struct vmr_error **err)
{
	if (access(path, X_OK) == 0)
		return 0;
	return vmr_error_set(err, errno,
			     "'%s' (install Debian's swtpm and swtpm-tools, or set "
			     "swtpm in vmrun.conf)",
			     path);
}

static int tpm_preflight(const struct vmr_config *cfg, const struct vmr_plan *p,
			 const struct vmr_plan_dev *pd, struct vmr_error **err)
{
	_cleanup_free_ char *setup = swtpm_setup_path(cfg);
	int r;

	r = need_program(cfg->swtpm ? cfg->swtpm : VMR_CONFIG_SWTPM, err);
	if (r == 0)
		r = need_program(setup, err);
	return r < 0 ? vmr_error_wrap(err, "guest '%s'", p->guest->name) : 0;
}

/*
 * Run argv with the helpers' privilege drop to completion (at most
 * SETUP_TIMEOUT_MS), its output kept for the error message.
 */
static int run_dropped(struct vmr_setup *s, char *const *argv, struct vmr_error **err)
{
	struct vmr_buf out = VMR_BUF_INIT;
	_cleanup_close_ int devnull = -1;
	int pfd[2] = {-1, -1}, st = 0, r;
	uint64_t deadline = now_ms() + SETUP_TIMEOUT_MS;
	struct vmr_spawn sp;
	pid_t pid;

	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		return vmr_error_set(err, errno, "open /dev/null");
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return vmr_error_set(err, errno, "pipe");
	sp = (struct vmr_spawn){
	    .argv = argv,
	    .envp = s->plan->env.v,
	    .stdin_fd = devnull,
	    .stdout_fd = pfd[1],
	    .stderr_fd = pfd[1],
	    .caps = s->caps,
	    .pdeathsig = SIGKILL,
	};
	r = vmr_spawn(&sp, &pid, err);
	close(pfd[1]);
	if (r < 0) {
		close(pfd[0]);
		return r;
	}
	for (;;) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		uint64_t now = now_ms();
		char buf[4096];
		ssize_t n;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			break;
		n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out.len < 65536)
			vmr_buf_add(&out, buf, (size_t)n);
	}
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		vmr_buf_free(&out);
		return 0;
	}
	/* its last line says what went wrong */
	while (out.len && (out.s[out.len - 1] == '\n' || out.s[out.len - 1] == ' '))
		out.s[--out.len] = '\0';
	{
		const char *last = out.len ? strrchr(out.s, '\n') : NULL;

		r = vmr_error_set(err, 0, "'%s' %s: %s", argv[0],
				  WIFEXITED(st) ? "failed" : "was killed",
				  last	    ? last + 1
				  : out.len ? out.s
					    : "no output");
	}
	vmr_buf_free(&out);
	return r;
}

/* The TPM's state: made by swtpm_setup (an EK, the SHA-256 PCR bank) unless it exists. */
static int tpm_state(struct vmr_setup *s, const char *dir, struct vmr_error **err)
{
	_cleanup_free_ char *file = xasprintf("%s/" TPM_STATE_FILE, dir);
	_cleanup_free_ char *setup = swtpm_setup_path(s->cfg);
	char *argv[] = {setup,
			(char *)"--tpm2",
			(char *)"--tpmstate",
			(char *)dir,
			(char *)"--createek",
			(char *)"--pcr-banks",
			(char *)"sha256",
			(char *)"--not-overwrite",
			NULL};
	int r;

	r = vmr_mkdir_p(s->plan->guest_dir, 0755);
	if (r < 0)
		return vmr_error_set(err, -r, "create '%s'", s->plan->guest_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return vmr_error_set(err, errno, "create '%s'", dir);
	r = vmr_setup_own(s, dir, err);
	if (r < 0)
		return r;
	if (access(file, F_OK) == 0)
		return 0;
	r = run_dropped(s, argv, err);
	if (r < 0)
		return vmr_error_wrap(err, "create the TPM's state in '%s'", dir);
	return 0;
}

static int socket_connect(const char *path, struct vmr_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return vmr_error_set(err, errno, "socket");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* the connection waits in the backlog until swtpm accepts it */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return vmr_error_set(err, errno, "connect to '%s'", path);
	return TAKE_FD(fd);
}

static int tpm_setup(struct vmr_setup *s, struct vmr_plan_dev *pd, struct vmr_error **err)
{
	const struct vmr_plan *p = s->plan;
	const char *swtpm = s->cfg->swtpm ? s->cfg->swtpm : VMR_CONFIG_SWTPM;
	_cleanup_free_ char *dir = xasprintf("%s/" TPM_DIR, p->guest_dir);
	_cleanup_free_ char *sock = xasprintf("%s/" TPM_SOCKET, p->state_dir);
	_cleanup_free_ char *state = xasprintf("dir=%s,mode=0600", dir);
	_cleanup_close_ int lfd = -1, cfd = -1, devnull = -1;
	char *argv[] = {
	    (char *)swtpm, (char *)"socket", (char *)"--tpm2",		 (char *)"--tpmstate",
	    state,	   (char *)"--ctrl", (char *)"type=unixio,fd=3", (char *)"--terminate",
	    NULL};
	struct vmr_spawn sp;
	pid_t pid;
	int r;

	if (!s->helpers)
		return vmr_error_set(err, 0, "swtpm needs a supervisor to watch it");
	r = tpm_state(s, dir, err);
	if (r < 0)
		return r;
	r = vmr_setup_journal_file(s, sock, err);
	if (r < 0)
		return r;
	lfd = vmr_unix_listen(sock, 1, false, err);
	if (lfd < 0)
		return lfd;
	cfd = socket_connect(sock, err);
	if (cfd < 0)
		return cfd;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		return vmr_error_set(err, errno, "open /dev/null");
	sp = (struct vmr_spawn){
	    .argv = argv,
	    .envp = p->env.v,
	    .stdin_fd = devnull,
	    /* its messages go where QEMU's go */
	    .stdout_fd = STDERR_FILENO,
	    .stderr_fd = STDERR_FILENO,
	    .fds = &lfd,
	    .nfds = 1,
	    .caps = s->caps,
	    .pdeathsig = SIGKILL,
	};
	r = vmr_spawn(&sp, &pid, err);
	if (r < 0)
		return r;
	vmr_setup_helper(s, "swtpm", pid);
	vmr_setup_give(s, pd, VMR_FD_DEV, 0, TAKE_FD(cfd));
	return 0;
}

const struct vmr_device_ops vmr_device_tpm = {
    .name = "tpm",
    .cls = VMR_DEVICE_GUEST,
    .summary = "a TPM 2.0 (tpm-crb) emulated by swtpm, its state kept with the guest",
    .kept = tpm_kept,
    .plan = tpm_plan,
    .argv = tpm_argv,
    .grants = tpm_grants,
    .preflight = tpm_preflight,
    .setup = tpm_setup,
};
