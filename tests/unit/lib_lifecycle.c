/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pure parts of the lifecycle verbs: console line matching and the
 * guest agent's messages (lib/runtime/ready.c), Docker's restart rules and
 * backoff (restart.c), the plan diff (plandesc.c), the Prometheus text
 * (metrics.c), the exporter's --listen, the control requests they add
 * (control.c), the clone's disk names and snapshot names, /proc stat lines.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "lib/runtime/clone.h"
#include "lib/runtime/control.h"
#include "lib/runtime/exporter.h"
#include "lib/runtime/metrics.h"
#include "lib/runtime/plandesc.h"
#include "lib/runtime/procstat.h"
#include "lib/runtime/ready.h"
#include "lib/runtime/restart.h"
#include "lib/runtime/snapshot.h"
#include "tests/lib/tap.h"

static bool feed(struct vmr_ready_lines *l, const char *s)
{
	return vmr_ready_lines_feed(l, s, strlen(s));
}

static void test_lines(void)
{
	struct vmr_ready_lines l;
	struct vmr_error *e = NULL;

	ok(vmr_ready_lines_init(&l, "a[(", &e) < 0 && e && e->status == VMR_EXIT_USAGE,
	   "a bad regex is a usage error");
	vmr_error_free(e);
	e = NULL;
	ok(vmr_ready_lines_init(&l, "^vmrun-testguest: booted$", &e) == 0, "compile a regex");
	ok(!feed(&l, "vmrun-testguest: nic eth0\r\nvmrun-testguest: boo"), "no match yet");
	is_str(l.last, "vmrun-testguest: boo", "the line being written is the last seen");
	ok(feed(&l, "ted\r\n"), "a line split over two reads matches once complete");
	ok(!feed(&l, "vmrun-testguest: booted\n"), "a match is reported once");
	vmr_ready_lines_rearm(&l);
	ok(feed(&l, "\x1b[?7l\x1b[2Jvmrun-testguest: booted\r\n"),
	   "escape sequences are dropped before matching (after a reboot: rearmed)");
	vmr_ready_lines_free(&l);

	ok(vmr_ready_lines_init(&l, "login: ?$", NULL) == 0, "a prompt regex");
	ok(feed(&l, "\r\ndebian login: "), "a prompt without a newline matches");
	vmr_ready_lines_free(&l);

	ok(vmr_ready_lines_init(&l, NULL, NULL) == 0 && !feed(&l, "x\n") && streq(l.last, "x"),
	   "no regex: lines are only collected");
	{
		char big[VMR_READY_LINE_MAX + 100];

		memset(big, 'y', sizeof(big));
		feed(&l, "");
		vmr_ready_lines_feed(&l, big, sizeof(big));
		ok(strlen(l.last) == VMR_READY_LINE_MAX, "a long line is cut at %d bytes",
		   VMR_READY_LINE_MAX);
	}
	vmr_ready_lines_free(&l);
}

static void test_agent(void)
{
	_cleanup_free_ char *req = vmr_agent_request("guest-ping", NULL, 7);
	json_t *ret = NULL;
	char *error = NULL;
	uint64_t id = 0;

	is_str(req, "{\"execute\":\"guest-ping\",\"id\":7}\n", "an agent request line");
	ok(vmr_agent_reply_parse("{\"return\": {}, \"id\": 7}", 23, &id, &ret, &error) == 1 &&
	       id == 7 && json_is_object(ret) && !error,
	   "a reply with its id");
	json_decref(ret);
	ok(vmr_agent_reply_parse("\xff{\"return\": 3}", 14, &id, &ret, &error) == 1 && id == 0 &&
	       json_integer_value(ret) == 3,
	   "a delimiter byte before a reply; no id is 0");
	json_decref(ret);
	ok(vmr_agent_reply_parse("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"x\"}, "
				 "\"id\": 2}",
				 61, &id, &ret, &error) == 1 &&
	       id == 2 && !ret && streq(error, "CommandNotFound: x"),
	   "an error reply");
	free(error);
	ok(vmr_agent_reply_parse("hello", 5, &id, &ret, &error) == 0, "noise is not a reply");
	ok(vmr_agent_reply_parse("{\"x\": 1}", 8, &id, &ret, &error) == 0,
	   "an object without return or error is not a reply");
}

static void test_restart(void)
{
	struct vmr_restart_end e = {.status = 137, .ran = true, .duration_ms = 500};
	const char *why;
	uint64_t d = 0;
	unsigned n;

	ok(vmr_restart_decide(VMR_RESTART_ON_FAILURE, 0, 0, &e, &d, &why) && d == 100,
	   "on-failure after a kill: first delay 100 ms");
	ok(vmr_restart_decide(VMR_RESTART_ON_FAILURE, 0, 1, &e, &d, &why) && d == 200,
	   "then 200 ms");
	ok(vmr_restart_decide(VMR_RESTART_ON_FAILURE, 0, 2, &e, &d, &why) && d == 400,
	   "then 400 ms (doubling)");
	for (n = 3; n < 30; n++)
		vmr_restart_decide(VMR_RESTART_ON_FAILURE, 0, n, &e, &d, &why);
	is_int((long long)d, 60000, "the delay stops at a minute");
	e.duration_ms = 10000;
	ok(vmr_restart_decide(VMR_RESTART_ON_FAILURE, 0, n, &e, &d, &why) && d == 100,
	   "a run of 10 s resets the delay to 100 ms");
	e.status = 0;
	ok(!vmr_restart_decide(VMR_RESTART_ON_FAILURE, 0, 1, &e, &d, &why) &&
	       streq(why, "exit status 0"),
	   "on-failure: not after a poweroff (0)");
	ok(vmr_restart_decide(VMR_RESTART_ALWAYS, 0, 1, &e, &d, &why), "always: after a poweroff");
	e.status = 3;
	ok(!vmr_restart_decide(VMR_RESTART_ON_FAILURE, 2, 2, &e, &d, &why) &&
	       strstr(why, "maximum"),
	   "on-failure:2: not a third time");
	ok(vmr_restart_decide(VMR_RESTART_ON_FAILURE, 2, 1, &e, &d, &why),
	   "on-failure:2: a second time");
	e.stop_cause = "request";
	ok(!vmr_restart_decide(VMR_RESTART_ALWAYS, 0, 1, &e, &d, &why),
	   "never after a stop asked from outside (vmrun stop, kill, a signal)");
	e.stop_cause = NULL;
	e.status = VMR_EXIT_USAGE;
	ok(!vmr_restart_decide(VMR_RESTART_ALWAYS, 0, 1, &e, &d, &why),
	   "never after invalid input");
	e.status = 1;
	e.ran = false;
	ok(!vmr_restart_decide(VMR_RESTART_ALWAYS, 0, 0, &e, &d, &why) &&
	       streq(why, "the first start failed"),
	   "a first start that fails is reported, not retried");
	ok(vmr_restart_decide(VMR_RESTART_ALWAYS, 0, 1, &e, &d, &why),
	   "a later start that fails is retried");
	ok(!vmr_restart_decide(VMR_RESTART_NO, 0, 1, &e, &d, &why), "restart: no");
}

static void test_diff(void)
{
	const char *a[] = {"qemu", "-m", "512M", "-smp", "1"};
	const char *b[] = {"qemu", "-m", "1024M", "-smp", "1", "-device", "x"};
	struct vmr_strvec out = VMR_STRVEC_INIT;
	size_t n;

	n = vmr_lines_diff(a, 5, b, 7, false, &out);
	is_int((long long)n, 4, "4 lines differ");
	ok(out.n == 4 && streq(out.v[0], "-512M") && streq(out.v[1], "+1024M") &&
	       streq(out.v[2], "+-device") && streq(out.v[3], "+x"),
	   "removed before added, in order");
	vmr_strvec_clear(&out);
	n = vmr_lines_diff(a, 5, a, 5, true, &out);
	ok(n == 0 && out.n == 5 && streq(out.v[0], " qemu"), "no change; context lines");
	vmr_strvec_clear(&out);
}

static void test_metrics(void)
{
	json_t *g = json_loads(
	    "[{\"guest\": \"a\", \"up\": true, \"healthy\": true, \"accel\": \"tcg\", \"restart\": "
	    "\"no\", \"restart_count\": 2, \"started\": 100, \"memory_bytes\": 268435456, "
	    "\"cpu_seconds\": 1.5, \"rss_bytes\": 1000, \"vcpus\": [{\"index\": 0, \"thread\": 9, "
	    "\"cpu_seconds\": 1.25}], \"disks\": [{\"id\": \"disk0\", \"rd_bytes\": 5, "
	    "\"wr_bytes\": 6, \"rd_operations\": 1, \"wr_operations\": 2, \"flush_operations\": "
	    "3}], \"nics\": [{\"name\": \"n1\", \"ifname\": \"vm-x\", \"rx_bytes\": 7, "
	    "\"tx_bytes\": 8}]}, {\"guest\": \"b\\\"q\", \"up\": false, \"healthy\": false, "
	    "\"restart_count\": 9, \"vcpus\": [], \"disks\": [], \"nics\": []}]",
	    0, NULL);
	struct vmr_buf out = VMR_BUF_INIT;
	const char *t;

	vmr_metrics_render(g, &out);
	t = vmr_buf_str(&out);
	ok(strstr(t, "# TYPE vmrun_guest_up gauge\n") &&
	       strstr(t, "vmrun_guest_up{guest=\"a\"} 1\n"),
	   "guest up, with HELP and TYPE");
	ok(strstr(t, "vmrun_guest_up{guest=\"b\\\"q\"} 0\n"), "label values are escaped");
	ok(strstr(t, "vmrun_guest_restarts_total{guest=\"a\"} 2\n") &&
	       !strstr(t, "vmrun_guest_restarts_total{guest=\"b"),
	   "restarts only of guests a supervisor runs");
	ok(strstr(t, "vmrun_vcpu_cpu_seconds_total{guest=\"a\",vcpu=\"0\"} 1.25\n"), "vCPU time");
	ok(strstr(t, "vmrun_qemu_cpu_seconds_total{guest=\"a\"} 1.5\n"), "QEMU's CPU time");
	ok(strstr(t, "vmrun_disk_written_bytes_total{guest=\"a\",disk=\"disk0\"} 6\n") &&
	       strstr(t, "vmrun_disk_flushes_total{guest=\"a\",disk=\"disk0\"} 3\n"),
	   "disk counters");
	ok(strstr(t, "vmrun_host_interface_transmit_bytes_total{guest=\"a\",nic=\"n1\","
		     "interface=\"vm-x\"} 8\n") &&
	       !strstr(t, "receive_packets_total{guest=\"a\""),
	   "NIC counters, only those known");
	ok(strstr(t, "vmrun_guest_info{guest=\"a\",accel=\"tcg\",restart=\"no\"} 1\n"),
	   "the info metric");
	ok(strstr(t, "vmrun_exporter_guests 2\n"), "the number of guests");
	{
		/* every sample's family was declared first: no sample without # TYPE */
		bool fine = true;

		for (const char *l = t; *l; l = strchr(l, '\n') + 1) {
			char name[128];

			if (*l == '#')
				continue;
			if (sscanf(l, "%127[a-z_]", name) == 1) {
				_cleanup_free_ char *decl = xasprintf("# TYPE %s ", name);

				fine = fine && strstr(t, decl) && strstr(t, decl) < l;
			}
		}
		ok(fine, "each family's TYPE comes before its samples");
	}
	vmr_buf_free(&out);
	json_decref(g);
}

static void test_listen(void)
{
	struct sockaddr_storage sa;
	socklen_t len;

	ok(vmr_exporter_parse_listen("127.0.0.1:9177", &sa, &len, NULL) == 0 &&
	       sa.ss_family == AF_INET && ntohs(((struct sockaddr_in *)&sa)->sin_port) == 9177,
	   "listen on an IPv4 address");
	ok(vmr_exporter_parse_listen(":0", &sa, &len, NULL) == 0 &&
	       ((struct sockaddr_in *)&sa)->sin_addr.s_addr == htonl(INADDR_ANY),
	   ":PORT is every IPv4 address");
	ok(vmr_exporter_parse_listen("[::1]:80", &sa, &len, NULL) == 0 && sa.ss_family == AF_INET6,
	   "[IPV6]:PORT");
	ok(vmr_exporter_parse_listen("9177", &sa, &len, NULL) < 0 &&
	       vmr_exporter_parse_listen("localhost:80", &sa, &len, NULL) < 0 &&
	       vmr_exporter_parse_listen("1.2.3.4:70000", &sa, &len, NULL) < 0 &&
	       vmr_exporter_parse_listen("::1:80", &sa, &len, NULL) < 0,
	   "bad --listen values are refused");
}

static void test_control(void)
{
	struct vmr_ctl_request r;
	char *why = NULL;
	static const char *const bad[] = {
	    "{\"health\": 1}",
	    "{\"health\": {\"wait\": 1}}",
	    "{\"reboot\": {\"timeout\": -1}}",
	    "{\"agent\": {}}",
	    "{\"agent\": {\"execute\": \"x\", \"arguments\": []}}",
	};

	ok(vmr_ctl_parse("{\"health\": null}", 16, &r, &why) == 0 && r.kind == VMR_CTL_HEALTH &&
	       !r.wait,
	   "health");
	vmr_ctl_request_free(&r);
	ok(vmr_ctl_parse("{\"health\": {\"wait\": true}}", 26, &r, &why) == 0 && r.wait,
	   "health with wait");
	vmr_ctl_request_free(&r);
	ok(vmr_ctl_parse("{\"reboot\": {\"timeout\": 5}}", 26, &r, &why) == 0 &&
	       r.kind == VMR_CTL_REBOOT && r.timeout == 5,
	   "reboot with a timeout");
	vmr_ctl_request_free(&r);
	ok(vmr_ctl_parse("{\"stats\": null}", 15, &r, &why) == 0 && r.kind == VMR_CTL_STATS,
	   "stats");
	vmr_ctl_request_free(&r);
	ok(vmr_ctl_parse("{\"agent\": {\"execute\": \"guest-ping\"}}", 36, &r, &why) == 0 &&
	       r.kind == VMR_CTL_AGENT && streq(r.execute, "guest-ping"),
	   "agent");
	vmr_ctl_request_free(&r);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ok(vmr_ctl_parse(bad[i], strlen(bad[i]), &r, &why) == -EINVAL && why &&
		       startswith(why, "invalid request"),
		   "refused: %s", bad[i]);
		free(why);
		why = NULL;
	}
}

static void test_names(void)
{
	_cleanup_free_ char *a = vmr_clone_disk_name("data/a-disk.qcow2", "a", "b");
	_cleanup_free_ char *b = vmr_clone_disk_name("x.qcow2", "web", "web2");
	_cleanup_free_ char *c = vmr_clone_disk_name("/srv/web-root.qcow2", "web", "api");
	_cleanup_free_ char *d = vmr_clone_disk_name("data-d.qcow2", "d", "e");
	_cleanup_free_ char *f = vmr_clone_disk_name("dd.qcow2", "d", "e");

	is_str(a, "data/b-disk.qcow2", "the source's name in the base name becomes the clone's");
	is_str(b, "web2-x.qcow2", "else the clone's name comes first");
	is_str(c, "/srv/api-root.qcow2", "absolute paths keep their directory");
	is_str(d, "data-e.qcow2", "the name as a word, not inside another");
	is_str(f, "e-dd.qcow2", "not a word: prefixed");
	ok(!vmr_snapshot_name_problem("before-upgrade.1"), "a snapshot name");
	ok(vmr_snapshot_name_problem("") && vmr_snapshot_name_problem("-x") &&
	       vmr_snapshot_name_problem("12") && vmr_snapshot_name_problem("a b") &&
	       vmr_snapshot_name_problem(
		   "0123456789012345678901234567890123456789012345678901234567890123456789"),
	   "bad snapshot names: empty, leading '-', all digits, a space, too long");
}

/* A disk another guest of the state directory writes: refused, naming that guest. */
static void test_snapshot_shared(void)
{
	static const char reads[] = "{\"disks\": [{\"id\": \"disk1\", \"file\": "
				    "\"/x/data.qcow2\", \"readonly\": true}]}";
	static const char writes[] = "{\"disks\": [{\"id\": \"disk1\", \"file\": "
				     "\"/x/data.qcow2\", \"readonly\": false}]}";
	char dir[] = "/tmp/vmrt-lifecycle.XXXXXX";
	struct vmr_guest_info i = {
	    .name = (char *)"g",
	    .disks = json_loads("[{\"id\": \"disk0\", \"file\": \"/x/data.qcow2\", \"format\": "
				"\"qcow2\", \"readonly\": false, \"cdrom\": false}]",
				0, NULL),
	    .unmigratable = json_array(),
	    .have_record = true,
	};
	struct vmr_error *e = NULL;
	json_t *d = NULL;
	int r;
	_cleanup_free_ char *hdir = NULL, *lock = NULL, *st = NULL;

	if (!ok(mkdtemp(dir) != NULL, "a state directory for the sharing guest"))
		return;
	hdir = xasprintf("%s/h", dir);
	lock = xasprintf("%s/lock", hdir);
	st = xasprintf("%s/status.json", hdir);
	/* guest h: a directory with a lock (it ran here) and its status.json */
	if (!ok(mkdir(hdir, 0700) == 0 && write_file_atomic(lock, "", 0, 0600) == 0 &&
		    write_file_atomic(st, reads, strlen(reads), 0600) == 0,
		"guest h's lock and status.json"))
		return;
	ok(vmr_snapshot_disks(dir, &i, true, &d, &e) == 0 && json_array_size(d) == 1,
	   "a disk another guest only reads: the snapshot may be taken");
	json_decref(d);
	d = NULL;
	r = write_file_atomic(st, writes, strlen(writes), 0600) == 0
		? vmr_snapshot_disks(dir, &i, false, &d, &e)
		: -1;
	ok(r < 0 && e && e->status == VMR_EXIT_USAGE &&
	       strstr(e->msg, "disk disk0 ('/x/data.qcow2') is shared with guest 'h'"),
	   "a disk another guest writes: refused, naming it (%s)", e ? e->msg : "");
	vmr_error_free(e);
	json_decref(i.disks);
	json_decref(i.unmigratable);
	unlink(st);
	unlink(lock);
	rmdir(hdir);
	rmdir(dir);
}

static void test_snapshot_disks(void)
{
	struct vmr_guest_info i = {
	    .name = (char *)"g",
	    .disks = json_loads("[{\"id\": \"root\", \"file\": \"/x/root.qcow2\", \"format\": "
				"\"qcow2\", \"readonly\": false, \"cdrom\": false}, {\"id\": "
				"\"seed\", \"file\": \"/s/seed.iso\", \"format\": \"raw\", "
				"\"readonly\": true, \"cdrom\": true}]",
				0, NULL),
	    .unmigratable = json_loads("[\"nic n1 (pci)\"]", 0, NULL),
	    .have_record = true,
	};
	struct vmr_error *e = NULL;
	json_t *d = NULL;

	ok(vmr_snapshot_disks("/nonexistent", &i, true, &d, &e) < 0 && e &&
	       e->status == VMR_EXIT_USAGE && strstr(e->msg, "nic n1 (pci) cannot have its state"),
	   "a running guest with a vfio NIC: no snapshot (%s)", e ? e->msg : "");
	vmr_error_free(e);
	e = NULL;
	ok(vmr_snapshot_disks("/nonexistent", &i, false, &d, &e) == 0 && json_array_size(d) == 1,
	   "stopped: a disk-only snapshot of the qcow2 disk, the seed left out");
	json_decref(d);
	json_array_append_new(i.disks, json_pack("{s:s, s:s, s:s, s:b, s:b}", "id", "disk0", "file",
						 "/x/data.img", "format", "raw", "readonly", false,
						 "cdrom", false));
	ok(vmr_snapshot_disks("/nonexistent", &i, false, &d, &e) < 0 && e &&
	       strstr(e->msg, "disk disk0 ('/x/data.img') is raw"),
	   "a raw writable disk refuses (%s)", e ? e->msg : "");
	vmr_error_free(e);
	e = NULL;
	json_decref(i.disks);
	json_decref(i.unmigratable);
	test_snapshot_shared();
}

static void test_procstat(void)
{
	unsigned long long t = 0;

	ok(vmr_proc_stat_ticks("123 (CPU 0/TCG) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 3", &t) ==
		   0 &&
	       t == 175,
	   "utime + stime of a thread named with spaces");
	ok(vmr_proc_stat_ticks("1 (a) b) R 1 2 3 4 5 6 7 8 9 10 1 2", &t) == 0 && t == 3,
	   "a ')' in the name");
	ok(vmr_proc_stat_ticks("garbage", &t) == -EINVAL, "garbage");
}

int main(void)
{
	test_lines();
	test_agent();
	test_restart();
	test_diff();
	test_metrics();
	test_listen();
	test_control();
	test_names();
	test_snapshot_disks();
	test_procstat();
	return tap_done();
}
