/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmrun host up|down TOPOLOGY [HOST]: the host-level setup guests need
 * before they start (the vmctrl interface on the primary host, SR-IOV VFs)
 * and its undo.  The changes are journaled in STATE/host-NAME/journal.jsonl
 * (NAME: the host given, else "local"); `down` replays that journal, and
 * `up` replays what a previous `up` left before setting up again.
 * STATE/host-NAME/ready exists while the host is set up (vmrun health);
 * STATE/host-NAME/host.lock keeps a second `vmrun host` off the host while
 * one runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/fsutil.h"
#include "lib/journal.h"
#include "lib/util.h"
#include "net/net.h"

static void usage(FILE *f)
{
	fputs("usage: vmrun host up [--foreground] TOPOLOGY [HOST]\n"
	      "       vmrun host down TOPOLOGY [HOST]\n\n"
	      "Set up (or undo) what the guests placed on HOST need from the host:\n"
	      "the 'vmctrl' interface of the topology's ctrlif (on the primary host)\n"
	      "and the SR-IOV VFs of their 'vf' NICs (sriov_numvfs, VF MAC, VLAN,\n"
	      "trust and spoofchk, bound to vfio-pci).  HOST defaults to the primary\n"
	      "host (or this machine when the topology names no hosts).\n\n"
	      "  -H, --host NAME    the host (same as the HOST argument)\n"
	      "  -f, --foreground   after setting up, wait for SIGTERM/SIGINT, then undo\n"
	      "  -h, --help         show this help\n\n"
	      "Changes are journaled in STATE/host-NAME/journal.jsonl; `down` restores\n"
	      "the host from it.\n\n"
	      "exit status: 0 done, 1 runtime failure (the host is restored as far as\n"
	      "possible), 2 bad usage or invalid topology (nothing changed)\n",
	      f);
}

/*
 * One `vmrun host` at a time per host: a `down` (or a second `up`) while
 * `up --foreground` runs would replay the journal under it.  The lock is
 * STATE/host-NAME/host.lock (not "lock": that marks a guest's directory),
 * held until the process exits.
 */
static int host_lock(const char *dir, const char *host, int *ret_fd, struct vmr_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/host.lock", dir);
	_cleanup_close_ int fd = -1;
	char line[32];
	int n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return vmr_error_set(err, errno, "open lock '%s'", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		unsigned long long pid = 0;

		if (errno != EWOULDBLOCK)
			return vmr_error_set(err, errno, "lock '%s'", path);
		n = (int)pread(fd, line, sizeof(line) - 1, 0);
		line[n > 0 ? n : 0] = '\0';
		line[strcspn(line, "\n")] = '\0';
		if (parse_uint(line, INT32_MAX, &pid) == 0 && pid > 0)
			return vmr_error_set(
			    err, EBUSY,
			    "host '%s' is in the hands of another 'vmrun host' (pid %llu)", host,
			    pid);
		return vmr_error_set(err, EBUSY,
				     "host '%s' is in the hands of another 'vmrun host'", host);
	}
	n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)n, 0) != n)
		return vmr_error_set(err, errno, "write pid to '%s'", path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* STATE/host-NAME/ready: `vmrun health --host` and the compose healthcheck read it */
static int mark_ready(const char *ready, struct vmr_error **err)
{
	int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return vmr_error_set(err, errno, "create '%s'", ready);
	close(fd);
	return 0;
}

static int replay(struct vmr_journal *j, const struct vmr_config *cfg, const char *ready,
		  struct vmr_error **err)
{
	int r;

	(void)unlink(ready);
	r = vmr_journal_replay(j, (void *)cfg, err);
	if (r < 0)
		return vmr_error_wrap(err, "undo the host setup");
	return 0;
}

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

static int wait_for_stop(void)
{
	sigset_t set;
	int sig = 0;

	stop_signals(&set);
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}

int cmd_host(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct vmr_config cfg = {0};
	struct vmr_topology *t = NULL;
	struct vmr_journal *j = NULL;
	struct vmr_error *err = NULL;
	_cleanup_free_ char *dir = NULL, *jpath = NULL, *ready = NULL;
	const char *host = NULL, *action, *file;
	bool foreground = false, up;
	_cleanup_close_ int lock = -1;
	int c, status, r;

	/* GNU getopt permutes: options may come anywhere */
	while ((c = getopt_long(argc, argv, "H:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'h':
			usage(stdout);
			return VMR_EXIT_OK;
		default:
			usage(stderr);
			return VMR_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return VMR_EXIT_USAGE;
	}
	action = argv[optind++];
	if (!streq(action, "up") && !streq(action, "down")) {
		fprintf(stderr, "vmrun: error: host: unknown action '%s' (up or down)\n", action);
		return VMR_EXIT_USAGE;
	}
	up = streq(action, "up");
	if (optind >= argc || argc - optind > 2 || (host && argc - optind > 1) ||
	    (foreground && !up)) {
		usage(stderr);
		return VMR_EXIT_USAGE;
	}
	file = argv[optind];
	if (foreground) {
		sigset_t set;

		/* from the start: a stop during setup is served once it is done */
		stop_signals(&set);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	if (argc - optind == 2)
		host = argv[optind + 1];

	status = vmr_cli_config(&cfg);
	if (status)
		return status;
	status = vmr_cli_topology(file, &t);
	if (status)
		goto out;
	if (host && !vmr_topology_host(t, host)) {
		vmr_error_usage(&err, "host '%s' is not in the topology '%s'", host, file);
		status = vmr_cli_fail(TAKE_PTR(err));
		goto out;
	}
	dir = xasprintf("%s/host-%s", cfg.state_dir, host ? host : "local");
	jpath = xasprintf("%s/journal.jsonl", dir);
	ready = xasprintf("%s/ready", dir);
	vmr_net_register_undo();
	r = vmr_mkdir_p(dir, 0700);
	if (r < 0)
		vmr_error_set(&err, -r, "create state directory '%s'", dir);
	if (r < 0 || host_lock(dir, host ? host : "local", &lock, &err) < 0 ||
	    vmr_journal_open(jpath, &j, &err) < 0) {
		status = vmr_cli_fail(TAKE_PTR(err));
		goto out;
	}
	/* a previous `up` (maybe killed) is undone first: one setup at a time */
	if (replay(j, &cfg, ready, &err) < 0) {
		status = vmr_cli_fail(TAKE_PTR(err));
		goto out;
	}
	if (!up) {
		printf("host '%s': undone\n", host ? host : "local");
		goto out;
	}
	if (vmr_net_host_up(&cfg, t, host, j, &err) < 0) {
		status = vmr_cli_fail(TAKE_PTR(err));
		/* the setup rolled itself back; this empties the journal */
		if (replay(j, &cfg, ready, &err) < 0)
			vmr_cli_fail(TAKE_PTR(err));
		goto out;
	}
	if (mark_ready(ready, &err) < 0) {
		status = vmr_cli_fail(TAKE_PTR(err));
		if (replay(j, &cfg, ready, &err) < 0)
			vmr_cli_fail(TAKE_PTR(err));
		goto out;
	}
	printf("host '%s': set up (%zu change%s journaled in '%s')\n", host ? host : "local",
	       vmr_journal_count(j), vmr_journal_count(j) == 1 ? "" : "s", jpath);
	fflush(stdout);
	if (foreground) {
		int sig = wait_for_stop();

		if (sig > 0)
			printf("host '%s': %s, undoing the setup\n", host ? host : "local",
			       strsignal(sig));
		if (replay(j, &cfg, ready, &err) < 0)
			status = vmr_cli_fail(TAKE_PTR(err));
	}
out:
	vmr_journal_close(j);
	vmr_topology_free(t);
	vmr_config_free(&cfg);
	return status;
}
