/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The baseline for bench/startup.sh: the least a program must do to get the
 * same guest running with its vCPUs pinned, written without any of vmrun's
 * code.  It executes the QEMU argv `vmrun args` printed (QMP and console
 * as listening sockets passed as fds 3 and 4, exactly as vmrun passes
 * them), with the process confined to the cpuset, then over QMP: greeting,
 * qmp_capabilities, query-cpus-fast, sched_setaffinity of vCPU i to the
 * i-th CPU, cont.  Then it prints "running" and keeps QEMU alive until its
 * stdin closes, when it kills QEMU.
 *
 *   startup_direct ARGV-FILE CPU[,CPU...] SOCKET-DIR
 *   startup_direct ARGV-FILE - SOCKET-DIR       (unpinned: for bench/scale.sh)
 *
 * No validation, no state directory, no journal, no console copying:
 * everything vmrun does beyond this is what bench/startup.sh measures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "startup_direct: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int unix_socket(const char *path, int *ret_conn)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int l, c;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
		die(path);
	/* waits in the backlog until QEMU accepts: no race, no retry */
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(path);
	*ret_conn = c;
	return l;
}

static char rbuf[1 << 20];
static size_t rlen;

/* The next QMP message that is not an event. */
static json_t *qmp_read(int fd)
{
	for (;;) {
		char *nl = memchr(rbuf, '\n', rlen);
		ssize_t n;

		if (nl) {
			json_t *j = json_loadb(rbuf, (size_t)(nl - rbuf), 0, NULL);

			rlen -= (size_t)(nl - rbuf) + 1;
			memmove(rbuf, nl + 1, rlen);
			if (j && json_object_get(j, "event")) {
				json_decref(j);
				continue;
			}
			if (!j) {
				fprintf(stderr, "startup_direct: bad QMP message\n");
				exit(1);
			}
			return j;
		}
		if (rlen == sizeof(rbuf)) {
			fprintf(stderr, "startup_direct: QMP message too long\n");
			exit(1);
		}
		n = read(fd, rbuf + rlen, sizeof(rbuf) - rlen);
		if (n <= 0) {
			fprintf(stderr, "startup_direct: QMP closed\n");
			exit(1);
		}
		rlen += (size_t)n;
	}
}

static json_t *qmp_cmd(int fd, const char *cmd)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "{\"execute\": \"%s\"}\n", cmd);
	json_t *r, *ret;

	if (write(fd, line, (size_t)n) != n)
		die("write QMP");
	r = qmp_read(fd);
	ret = json_object_get(r, "return");
	if (!ret) {
		fprintf(stderr, "startup_direct: %s failed\n", cmd);
		exit(1);
	}
	json_incref(ret);
	json_decref(r);
	return ret;
}

int main(int argc, char **argv)
{
	char *qargv[256], *line = NULL, *path;
	size_t cap = 0, nargs = 0;
	int cpus[256], ncpus = 0, qmp, con, lq, lc, st;
	cpu_set_t all;
	FILE *f;
	pid_t pid;
	json_t *vcpus, *v;
	size_t i;

	if (argc != 4) {
		fprintf(stderr, "usage: startup_direct ARGV-FILE CPU[,CPU...] SOCKET-DIR\n");
		return 2;
	}
	f = fopen(argv[1], "re");
	if (!f)
		die(argv[1]);
	while (nargs < 255 && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		qargv[nargs++] = strdup(line);
	}
	qargv[nargs] = NULL;
	fclose(f);
	CPU_ZERO(&all);
	for (char *s = strcmp(argv[2], "-") ? strtok(argv[2], ",") : NULL; s && ncpus < 256;
	     s = strtok(NULL, ",")) {
		cpus[ncpus] = atoi(s);
		CPU_SET(cpus[ncpus], &all);
		ncpus++;
	}

	if (asprintf(&path, "%s/qmp.sock", argv[3]) < 0)
		die("asprintf");
	lq = unix_socket(path, &qmp);
	if (asprintf(&path, "%s/console.sock", argv[3]) < 0)
		die("asprintf");
	lc = unix_socket(path, &con);

	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* fds 3 and 4 as in the argv (moved out of the way first: the
		 * sockets may already be 3 or 4); dup2 clears close-on-exec */
		lq = fcntl(lq, F_DUPFD_CLOEXEC, 10);
		lc = fcntl(lc, F_DUPFD_CLOEXEC, 10);
		if (lq < 0 || lc < 0 || dup2(lq, 3) < 0 || dup2(lc, 4) < 0)
			_exit(126);
		if (ncpus > 0 && sched_setaffinity(0, sizeof(all), &all) < 0)
			_exit(126);
		execv(qargv[0], qargv);
		_exit(127);
	}
	close(lq);
	close(lc);

	json_decref(qmp_read(qmp)); /* greeting */
	json_decref(qmp_cmd(qmp, "qmp_capabilities"));
	vcpus = qmp_cmd(qmp, "query-cpus-fast");
	json_array_foreach(vcpus, i, v)
	{
		int idx = (int)json_integer_value(json_object_get(v, "cpu-index"));
		pid_t tid = (pid_t)json_integer_value(json_object_get(v, "thread-id"));
		cpu_set_t one;

		if (idx < 0 || idx >= ncpus)
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpus[idx], &one);
		if (sched_setaffinity(tid, sizeof(one), &one) < 0)
			die("pin vCPU");
	}
	json_decref(vcpus);
	json_decref(qmp_cmd(qmp, "cont"));
	printf("running %d\n", (int)pid);
	fflush(stdout);

	/* keep QEMU up while the caller measures; stdin EOF ends it */
	while (read(0, rbuf, sizeof(rbuf)) > 0)
		;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(qmp);
	close(con);
	return 0;
}
