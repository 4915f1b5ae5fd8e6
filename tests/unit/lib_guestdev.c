/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest devices of lib/devices/ firmware.c, tpm.c, vnc.c, tablet.c
 * and watchdog.c (usb.c: tests/unit/lib_usb.c): what the model accepts
 * and refuses (with positions), their part of QEMU's command line and of
 * the plan (fds, grants), the instance-id's JSON, and the firmware's and
 * VNC's host checks and setup on files in a temporary directory.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

#include "lib/base/buf.h"
#include "lib/base/util.h"
#include "lib/devices/devices.h"
#include "lib/plan/plan.h"
#include "lib/runtime/guestplan.h"
#include "tests/lib/tap.h"

static char tmp[64];
static struct vmr_config cfg;
static struct vmr_topology *topo;

/* Plan guest name of a topology with these guests (YAML under `guests:`). */
static int plan_of(struct vmr_plan *p, const char *guests, const char *name)
{
	_cleanup_free_ char *yaml = xasprintf("version: 1\nguests:\n%s", guests);
	struct vmr_plan_opts po = {.cfg = &cfg, .topo_dir = tmp, .facts = {VMR_ACCEL_TCG, false}};
	struct vmr_diags d = {0};
	struct vmr_error *e = NULL;
	int r;

	vmr_topology_free(topo);
	topo = NULL;
	*p = (struct vmr_plan){0};
	if (vmr_topology_load_buffer("g.yaml", yaml, strlen(yaml), vmr_device_kinds(), &topo, &d) <
	    0) {
		for (size_t i = 0; i < d.n; i++)
			tap_diag("%u:%u: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
		vmr_diags_clear(&d);
		return -1;
	}
	r = vmr_plan_build(topo, vmr_topology_guest(topo, name), &po, p, &e);
	vmr_error_free(e);
	return r;
}

/* The first diagnostic of loading guests, as "LINE:COL: MSG", or "(loaded)". */
static char *refusal(const char *guests)
{
	_cleanup_free_ char *yaml = xasprintf("version: 1\nguests:\n%s", guests);
	struct vmr_topology *t = NULL;
	struct vmr_diags d = {0};
	char *s;

	if (vmr_topology_load_buffer("g.yaml", yaml, strlen(yaml), vmr_device_kinds(), &t, &d) ==
	    0) {
		vmr_topology_free(t);
		return xstrdup("(loaded)");
	}
	s = xasprintf("%u:%u: %s", d.v[0].line, d.v[0].col, d.v[0].msg);
	vmr_diags_clear(&d);
	return s;
}

/* The command line of plan p joined with spaces (caller frees). */
static char *argv_of(const struct vmr_plan *p)
{
	struct vmr_strvec sv = VMR_STRVEC_INIT;
	struct vmr_error *e = NULL;
	struct vmr_buf b = VMR_BUF_INIT;

	if (vmr_argv_build(p, &sv, &e) < 0) {
		vmr_error_free(e);
		return xstrdup("(argv failed)");
	}
	for (size_t i = 0; i < sv.n; i++)
		vmr_buf_addf(&b, "%s%s", i ? " " : "", sv.v[i]);
	vmr_strvec_clear(&sv);
	return vmr_buf_detach(&b);
}

static bool has(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		return true;
	tap_diag("no '%s' in: %s", needle, hay);
	return false;
}

#define REFUSED(guests, want, what)                                                                \
	do {                                                                                       \
		char *s_ = refusal(guests);                                                        \
		is_str(s_, want, what);                                                            \
		free(s_);                                                                          \
	} while (0)

static void test_firmware(void)
{
	struct vmr_plan p;
	char *a;

	ok(plan_of(&p, "  g: {firmware: uefi}\n", "g") == 0, "uefi: plans");
	a = argv_of(&p);
	ok(has(a,
	       "-blockdev {\"driver\":\"file\",\"filename\":\"/fw/OVMF_CODE_4M.fd\",\"node-name\":"
	       "\"fw-code-file\",\"read-only\":true} -blockdev {\"driver\":\"raw\",\"file\":"
	       "\"fw-code-file\",\"node-name\":\"fw-code\",\"read-only\":true}"),
	   "uefi: OVMF's code read-only, on both nodes");
	ok(p.nfiles == 1 && streq(p.files[0].path, "/img/g/uefi-vars.fd") && p.files[0].writable &&
	       streq(p.files[0].opaque, "fw-vars"),
	   "uefi: the guest's own variables in IMAGE_DIR/GUEST, passed read-write");
	{
		_cleanup_free_ char *want =
		    xasprintf("-add-fd fd=%d,set=%d,opaque=fw-vars -blockdev {\"driver\":\"file\","
			      "\"filename\":\"/dev/fdset/%d\",\"node-name\":\"fw-vars-file\"}",
			      p.files[0].fd, p.files[0].fd, p.files[0].fd);

		ok(p.nfiles == 1 && has(a, want), "uefi: the variables as fd set, writable");
	}
	ok(has(a, "-machine pflash0=fw-code,pflash1=fw-vars -"), "uefi: both on the flash");
	ok(!strstr(a, "smm=on") && !strstr(a, "cfi.pflash01"), "uefi: no SMM without secure boot");
	ok(p.grants.guest_dir, "uefi: writes the guest's directory (compose keeps it)");
	free(a);
	vmr_plan_free(&p);

	ok(plan_of(&p, "  g: {firmware: uefi, secure_boot: true, disks: [{file: d.img}]}\n", "g") ==
	       0,
	   "secure boot: plans");
	a = argv_of(&p);
	ok(has(a, "\"filename\":\"/fw/OVMF_CODE_4M.secboot.fd\""), "secure boot: the SMM code");
	ok(p.nfiles == 1 && streq(p.files[0].path, "/img/g/uefi-vars-secboot.fd"),
	   "secure boot: a variable store of its own");
	ok(has(a, "-machine pflash0=fw-code,pflash1=fw-vars,smm=on -global "
		  "driver=cfi.pflash01,property=secure,value=on"),
	   "secure boot: SMM and flash writes from SMM only");
	free(a);
	vmr_plan_free(&p);

	ok(plan_of(&p, "  g: {firmware: bios}\n", "g") == 0, "bios: plans");
	a = argv_of(&p);
	ok(!strstr(a, "fw-code") && !strstr(a, "pflash"), "bios: nothing (SeaBIOS is QEMU's own)");
	ok(!p.grants.guest_dir, "bios: no guest directory");
	free(a);
	vmr_plan_free(&p);

	REFUSED("  g: {firmware: efi}\n",
		"3:17: guest 'g': unknown firmware 'efi' (expected bios or uefi)",
		"firmware: bios or uefi");
	REFUSED("  g: {secure_boot: true}\n",
		"3:20: guest 'g': 'secure_boot' needs 'firmware: uefi'", "secure boot needs uefi");
	REFUSED("  g: {firmware: bios, secure_boot: true}\n",
		"3:36: guest 'g': 'secure_boot' needs 'firmware: uefi'",
		"secure boot needs uefi, not bios");
	REFUSED("  g: {machine: pc, firmware: uefi, secure_boot: true}\n",
		"3:49: guest 'g': 'secure_boot' needs a q35 machine (OVMF's secure boot build runs "
		"in SMM), not 'pc'",
		"secure boot needs q35");
	REFUSED("  g: {kernel: k, firmware: uefi, secure_boot: true}\n",
		"3:47: guest 'g': 'secure_boot' with 'kernel': OVMF starts a kernel QEMU loads "
		"without checking its signature",
		"secure boot refuses a direct kernel, which OVMF does not verify");
	REFUSED("  g: {machine: microvm, firmware: uefi}\n",
		"3:35: guest 'g': firmware 'uefi' needs a pc or q35 machine, not 'microvm'",
		"uefi needs a PC machine");
	REFUSED("  g: {machine: pc, firmware: uefi}\n", "(loaded)", "uefi on pc is fine");
	REFUSED("  g: {firmware: uefi, secure_boot: false}\n", "(loaded)",
		"secure_boot: false is no secure boot");
}

static void test_tpm(void)
{
	struct vmr_plan p;
	char *a;

	ok(plan_of(&p, "  g: {tpm: true, nics: [{name: n, user: {}}]}\n", "g") == 0, "tpm: plans");
	a = argv_of(&p);
	ok(has(a, "-chardev socket,id=tpm0-ctrl,fd=3 -tpmdev emulator,id=tpm0,chardev=tpm0-ctrl "
		  "-device {\"driver\":\"tpm-crb\",\"tpmdev\":\"tpm0\",\"id\":\"tpm0\"}"),
	   "tpm: swtpm's control socket as a connected fd, a TPM 2.0 CRB");
	is_int(p.qmp_fd, 4, "tpm: its fd before QMP's");
	ok(p.grants.guest_dir, "tpm: its state is in the guest's directory");
	free(a);
	vmr_plan_free(&p);
	REFUSED("  g: {tpm: 2}\n", "3:12: guest 'g': 'tpm' must be true or false, not '2'",
		"tpm: a boolean");
}

static void test_vnc(void)
{
	struct vmr_plan p;
	char *a;

	ok(plan_of(&p, "  g: {vnc: true}\n", "g") == 0, "vnc true: plans");
	a = argv_of(&p);
	ok(has(a, "-device {\"driver\":\"VGA\",\"id\":\"video0\"} -vnc none -"),
	   "vnc true: a VGA card and a VNC server without a listener (clients come as fds), "
	   "no password");
	ok(!strstr(a, "vnc.sock"), "vnc true: QEMU gets no path to the socket");
	free(a);
	vmr_plan_free(&p);

	ok(plan_of(&p, "  g: {vnc: {listen: unix, password_file: pw}}\n", "g") == 0,
	   "vnc unix with a password: plans");
	a = argv_of(&p);
	ok(has(a, "-vnc none,password=on -"), "vnc unix: password on, set over QMP");
	free(a);
	vmr_plan_free(&p);

	ok(plan_of(&p, "  g: {vnc: {port: 5907, password_file: pw}}\n", "g") == 0,
	   "vnc port: plans");
	a = argv_of(&p);
	ok(has(a, "-vnc 127.0.0.1:7,password=on"), "vnc port: display 7 on 127.0.0.1, password on");
	ok(!strstr(a, "/pw"), "vnc: the password file is not on argv (QMP sends its content)");
	ok(p.grants.files.n == 1 && streq(p.grants.files.v[0], "pw"),
	   "vnc: password_file is a host file the start reads, as written (compose mounts it)");
	free(a);
	vmr_plan_free(&p);

	ok(plan_of(&p, "  g: {vnc: {listen: \"::1\", port: 5900, password_file: /p}}\n", "g") == 0,
	   "vnc ipv6: plans");
	a = argv_of(&p);
	ok(has(a, "-vnc [::1]:0,password=on"), "vnc ipv6: bracketed");
	free(a);
	vmr_plan_free(&p);

	REFUSED(
	    "  g: {vnc: {port: 5901}}\n",
	    "3:12: guest 'g' vnc: a VNC server on TCP needs 'password_file' (anyone who reaches "
	    "127.0.0.1:5901 could take the guest's console)",
	    "vnc: TCP needs a password");
	REFUSED("  g: {vnc: {listen: localhost, port: 5901, password_file: p}}\n",
		"3:21: guest 'g' vnc: 'listen' must be 'unix' or an IP address, not 'localhost'",
		"vnc: listen is an address");
	REFUSED("  g: {vnc: {listen: unix, port: 5901}}\n",
		"3:33: guest 'g' vnc: 'port' does not apply to listen 'unix'",
		"vnc: no port on a unix socket");
	REFUSED("  g: {vnc: {listen: 0.0.0.0, password_file: p}}\n",
		"3:21: guest 'g' vnc: listen '0.0.0.0' needs a 'port' (5900..65535)",
		"vnc: TCP needs a port");
	REFUSED("  g: {vnc: {port: 80, password_file: p}}\n",
		"3:19: guest 'g' vnc: port '80' out of range (5900..65535)",
		"vnc: ports from 5900 (QEMU takes a display number)");
	REFUSED("  g: {vnc: {passwd: x}}\n", "3:13: guest 'g' vnc: unknown key 'passwd'",
		"vnc: unknown keys");
	REFUSED("  g: {vnc: [1]}\n", "3:12: guest 'g': 'vnc' must be true, false or a mapping",
		"vnc: true, false or a mapping");
	REFUSED("  g: {vnc: false}\n", "(loaded)", "vnc: false");
}

static void test_small(void)
{
	struct vmr_plan p;
	char *a;

	ok(plan_of(&p, "  g: {tablet: true, watchdog: true}\n", "g") == 0,
	   "tablet, watchdog: plan");
	a = argv_of(&p);
	ok(has(a, "-device {\"driver\":\"qemu-xhci\",\"id\":\"xhci\",\"p2\":15,\"p3\":15} -device "
		  "{\"driver\":\"usb-tablet\",\"bus\":\"xhci.0\",\"id\":\"tablet0\"}"),
	   "tablet: a usb-tablet on an xHCI controller");
	ok(has(a, "-device {\"driver\":\"i6300esb\",\"id\":\"watchdog0\"} -action watchdog=reset"),
	   "watchdog true: an i6300esb that resets");
	free(a);
	vmr_plan_free(&p);

	ok(plan_of(&p, "  g: {watchdog: {action: poweroff}}\n", "g") == 0, "watchdog: plans");
	a = argv_of(&p);
	ok(has(a, "-action watchdog=poweroff"), "watchdog: action poweroff");
	free(a);
	vmr_plan_free(&p);

	REFUSED("  g: {watchdog: {action: pause}}\n",
		"3:26: guest 'g' watchdog: unknown action 'pause' (expected reset or poweroff)",
		"watchdog: reset or poweroff");
	REFUSED("  g: {machine: microvm, watchdog: true}\n",
		"3:35: guest 'g': 'watchdog' needs a pc or q35 machine (the i6300esb is PCI), not "
		"'microvm'",
		"watchdog: PCI");
	REFUSED("  g: {tablet: {x: 1}}\n",
		"3:15: guest 'g': 'tablet' must be a single value, not a mapping",
		"tablet: a boolean");
}

/* what a guest contributes to its instance-id, as text (caller frees) */
static char *hw_text(const struct vmr_guest *g)
{
	json_t *hw = vmr_guest_hw_json(g);
	char *s = json_dumps(hw, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(hw);
	return s;
}

/* a guest's devices change its instance-id when the guest sees them */
static void test_instance(void)
{
	struct vmr_plan p;
	char *one, *two;

	plan_of(&p, "  g: {firmware: bios}\n", "g");
	one = hw_text(p.guest);
	vmr_plan_free(&p);
	plan_of(&p, "  g: {firmware: uefi}\n", "g");
	two = hw_text(p.guest);
	vmr_plan_free(&p);
	ok(one && two && !streq(one, two) && strstr(two, "\"firmware\":\"uefi\""),
	   "instance-id: bios and uefi differ");
	free(one);
	free(two);
	plan_of(&p, "  g: {watchdog: {action: reset}}\n", "g");
	one = hw_text(p.guest);
	vmr_plan_free(&p);
	plan_of(&p, "  g: {watchdog: true}\n", "g");
	two = hw_text(p.guest);
	vmr_plan_free(&p);
	ok(one && two && streq(one, two), "instance-id: watchdog true is action reset");
	free(one);
	free(two);
	plan_of(&p, "  g: {vnc: false}\n", "g");
	one = hw_text(p.guest);
	vmr_plan_free(&p);
	plan_of(&p, "  g: {}\n", "g");
	two = hw_text(p.guest);
	vmr_plan_free(&p);
	ok(one && two && streq(one, two), "instance-id: vnc false is no vnc");
	free(one);
	free(two);
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void put(const char *rel, const char *content)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", tmp, rel);

	if (write_file_atomic(path, content, strlen(content), 0600) < 0)
		abort();
}

static char *err_text(struct vmr_error **e)
{
	char *s = *e ? vmr_error_text(*e) : xstrdup("(no error)");

	vmr_error_clear(e);
	return s;
}

/* the firmware's files, its variable store kept across starts, VNC's password file */
static void test_host(void)
{
	struct vmr_plan p;
	struct vmr_error *e = NULL;
	int fds[4] = {-1, -1, -1, -1};
	_cleanup_free_ char *vars = NULL;
	struct stat st1, st2;
	char *s;

	free(cfg.firmware_dir);
	cfg.firmware_dir = xasprintf("%s/ovmf", tmp);
	free(cfg.image_dir);
	cfg.image_dir = xasprintf("%s/img", tmp);
	vars = xasprintf("%s/img/g/uefi-vars.fd", tmp);
	mkdir(cfg.firmware_dir, 0755);
	plan_of(&p, "  g: {firmware: uefi}\n", "g");
	ok(vmr_guest_preflight(&cfg, &p, &e) < 0, "preflight: no OVMF, no start");
	s = err_text(&e);
	ok(strstr(s, "OVMF file '") && strstr(s, "/ovmf/OVMF_CODE_4M.fd' (install Debian's ovmf"),
	   "preflight: names the file and the package: %s", s);
	free(s);
	put("ovmf/OVMF_CODE_4M.fd", "code");
	put("ovmf/OVMF_VARS_4M.fd", "template");
	is_int(vmr_guest_preflight(&cfg, &p, &e), 0, "preflight: OVMF is there");
	vmr_error_clear(&e);
	is_int(vmr_guest_setup(&cfg, NULL, &p, fds, NULL, NULL, &e), 0, "setup: first start");
	vmr_error_clear(&e);
	{
		char *text = NULL;

		ok(read_file(vars, 100, &text, NULL) == 0 && streq(text, "template"),
		   "setup: the variables start as a copy of the template");
		free(text);
	}
	ok(stat(vars, &st1) == 0 && (st1.st_mode & 0777) == 0600, "setup: mode 0600");
	{
		int fd = open(vars, O_WRONLY | O_TRUNC | O_CLOEXEC);

		ok(fd >= 0 && write(fd, "written by OVMF", 15) == 15, "the guest changes them");
		if (fd >= 0)
			close(fd);
	}
	is_int(vmr_guest_setup(&cfg, NULL, &p, fds, NULL, NULL, &e), 0, "setup: the next start");
	vmr_error_clear(&e);
	{
		char *text = NULL;

		ok(read_file(vars, 100, &text, NULL) == 0 && streq(text, "written by OVMF") &&
		       stat(vars, &st2) == 0 && st2.st_ino == st1.st_ino,
		   "setup: keeps the guest's variables");
		free(text);
	}
	vmr_plan_free(&p);

	/* VNC's password: checked before anything changes, with usage status */
	plan_of(&p, "  g: {vnc: {port: 5901, password_file: pw}}\n", "g");
	ok(vmr_guest_preflight(&cfg, &p, &e) < 0 && e && e->status == VMR_EXIT_USAGE,
	   "vnc preflight: a missing password_file is bad input");
	s = err_text(&e);
	ok(strstr(s, "vnc password_file '") && strstr(s, "/pw': No such file"), "%s", s);
	free(s);
	put("pw", "123456789\n");
	ok(vmr_guest_preflight(&cfg, &p, &e) < 0, "vnc preflight: 9 characters are refused");
	s = err_text(&e);
	ok(strstr(s, "the password has 9 characters; VNC takes 1 to 8"), "%s", s);
	free(s);
	put("pw", "\n");
	ok(vmr_guest_preflight(&cfg, &p, &e) < 0, "vnc preflight: an empty password is refused");
	vmr_error_clear(&e);
	put("pw", "s3cret!x\n");
	is_int(vmr_guest_preflight(&cfg, &p, &e), 0, "vnc preflight: 8 characters and a newline");
	vmr_error_clear(&e);
	vmr_plan_free(&p);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/vmrt-gdev-XXXXXX");
	if (!mkdtemp(tmp))
		abort();
	cfg.qemu = xstrdup("/usr/bin/qemu-system-x86_64");
	cfg.state_dir = xstrdup("/st");
	cfg.image_dir = xstrdup("/img");
	cfg.firmware_dir = xstrdup("/fw");
	test_firmware();
	test_tpm();
	test_vnc();
	test_small();
	test_instance();
	test_host();
	vmr_topology_free(topo);
	nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	vmr_config_free(&cfg);
	return tap_done();
}
