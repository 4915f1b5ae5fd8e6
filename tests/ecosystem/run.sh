#!/usr/bin/env bash
# How vmrun fits the system around it, the quick part (docs/packaging.md):
#   - the build: kbuild-style lines, V=1 command lines, --version from git
#     describe;
#   - the manual pages: vmrun(1), one per verb `vmrun --help` lists, vmrun.yaml(5)
#     and vmrun.conf(5), none in git (generated), each rendered by groff -ww
#     and man -l without a warning, every option of a verb in its page;
#   - make install DESTDIR= PREFIX=: every file where it belongs, the
#     configuration file loads and is never overwritten, uninstall;
#   - the systemd units: systemd-analyze verify of the templates with the
#     drop-ins `vmrun systemd` writes (and of a broken one, which it refuses);
#   - bash completion driven through its function with COMP_WORDS and
#     COMP_CWORD: verbs, options, option values, topology guests and hosts,
#     files, running guests and the QMP commands of a running real guest
#     (TCG, no NIC); zsh's script through stubs of its completion builtins.
# The long part (the .deb in a chroot, a booted systemd, podman) is
# tests/deep/eco_*.sh, run by `make check-ecosystem`.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/verbs_lib.bash
. tests/integration/verbs_lib.bash
BUILD=${BUILD:-build}
MAN=$top/$BUILD/man
# a make of our own, not a sub-make of `make check` (its jobserver, its -j)
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory "$@"; }

# ---- the build ----
out=$(mk BUILD="$T/b" "$T/b/obj/cmd/help.o" 2>&1)
is "$out" "  CC      cmd/help.o" "make prints 'CC file.o' for an object"
rm -f "$T/b/obj/cmd/help.o"
out=$(mk V=1 BUILD="$T/b" "$T/b/obj/cmd/help.o" 2>&1)
[[ $out == *" -c -o $T/b/obj/cmd/help.o cmd/help.c"* && $out != *"  CC  "* ]]
ok $? "make V=1 prints the compiler's command line instead"
grep -q "quiet,LD,\$(notdir \$@)" Makefile && grep -q "quiet,AR," Makefile
ok $? "the archive and link rules print AR and LD"
want=$(cat VERSION 2>/dev/null || git describe --tags --always --dirty 2>/dev/null)
is "$("$VMRUN" --version)" "vmrun $want" "vmrun --version is git describe (or VERSION)"

# a release tarball: VERSION decides, not git
mk BUILD="$T/dist" dist >"$T/dist.log" 2>&1
tarball=$(ls "$T/dist"/vmrun-*.tar.gz 2>/dev/null)
ok_tar=1
if [ -n "$tarball" ]; then
	mkdir -p "$T/rel" && tar -C "$T/rel" -xzf "$tarball"
	rel=$(ls -d "$T/rel"/vmrun-*)
	echo "9.9.9-test" >"$rel/VERSION"
	(cd "$rel" && GIT_DIR=/nonexistent env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory BUILD="$T/relb" "$T/relb/gen/version.h") >/dev/null 2>&1
	grep -qx '#define VMR_VERSION "9.9.9-test"' "$T/relb/gen/version.h" 2>/dev/null && ok_tar=0
fi
ok "$ok_tar" "make dist: a tarball with a VERSION file, which the build takes as the version"

# ---- manual pages ----
if [ ! -f "$MAN/vmrun.1" ]; then
	ok 1 "the manual pages are built ($MAN; make man)"
else
	mapfile -t verbs < <("$VMRUN" --help | sed -n '/^verbs:$/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
	ok "$([ "${#verbs[@]}" -ge 15 ] && echo 0 || echo 1)" "vmrun --help lists ${#verbs[@]} verbs"
	pages=("$MAN/vmrun.1" "$MAN/vmrun.yaml.5" "$MAN/vmrun.conf.5")
	missing=
	for v in "${verbs[@]}"; do
		[ -f "$MAN/vmrun-$v.1" ] || missing+=" $v"
		pages+=("$MAN/vmrun-$v.1")
	done
	is "$missing" "" "a page vmrun-VERB.1 for every verb"
	is "$(ls "$MAN" | wc -l)" "${#pages[@]}" "no other page"
	is "$(git ls-files '*.[15]' | wc -l)" 0 "no manual page is kept in git (all are generated)"
	for p in "${pages[@]}"; do
		n=${p##*/}
		w=$(LC_ALL=C.UTF-8 groff -ww -t -man -Tutf8 -z "$p" 2>&1)
		is "$w" "" "$n: groff -ww -t -man renders it without a warning"
		w=$(MANROFFOPT=-ww MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$p" 2>&1 >"$T/page.txt")
		is "$w" "" "$n: man -l renders it without a warning"
		lexgrog "$p" >/dev/null 2>&1
		ok $? "$n: its NAME section parses for whatis (lexgrog)"
	done
	# every option of each verb's table is in its page, and the exit status
	for v in "${verbs[@]}"; do
		MANWIDTH=200 man -l "$MAN/vmrun-$v.1" 2>/dev/null >"$T/page.txt"
		missing=
		for o in $("$VMRUN" "$v" --help | grep -oE '^  (-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
			grep -q -- "$o" "$T/page.txt" || missing+=" $o"
		done
		grep -q '^EXIT STATUS' "$T/page.txt" || missing+=" EXIT-STATUS"
		is "$missing" "" "vmrun-$v(1) has every option of vmrun $v --help and the exit status"
	done
	MANWIDTH=200 man -l "$MAN/vmrun.yaml.5" 2>/dev/null >"$T/page.txt"
	missing=
	for k in $(sed -n 's/^### \([a-z_]*\).*/\1/p' docs/topology.md); do
		grep -q "^   $k" "$T/page.txt" || missing+=" $k"
	done
	is "$missing" "" "vmrun.yaml(5) has a section for every key section of docs/topology.md"
	"$VMRUN" help --man run | cmp -s - "$MAN/vmrun-run.1"
	ok $? "vmrun help --man run prints the installed page"
fi

# ---- make install ----
dest=$T/root
mk BUILD="$BUILD" install DESTDIR="$dest" PREFIX=/usr >"$T/install.log" 2>&1
ok $? "make install DESTDIR=... PREFIX=/usr" || sed 's/^/#   /' "$T/install.log" | tail -5
missing=
for f in usr/bin/vmrun usr/share/man/man1/vmrun.1 usr/share/man/man1/vmrun-run.1 \
	usr/share/man/man5/vmrun.yaml.5 usr/share/man/man5/vmrun.conf.5 \
	usr/share/bash-completion/completions/vmrun usr/share/zsh/site-functions/_vmrun \
	usr/lib/systemd/system/vmrun@.service usr/lib/systemd/system/vmrun-host@.service \
	usr/lib/sysusers.d/vmrun.conf usr/share/doc/vmrun/README.md usr/share/doc/vmrun/topology.md \
	usr/share/doc/vmrun/examples/lab.yaml etc/vmrun/vmrun.conf; do
	[ -f "$dest/$f" ] || missing+=" $f"
done
is "$missing" "" "install puts the binary, pages, completion, units, sysusers, docs, examples, config"
grep -q '^ExecStart=/usr/bin/vmrun run ${VMRUN_TOPOLOGY} %i$' "$dest/usr/lib/systemd/system/vmrun@.service"
ok $? "the installed unit runs the installed binary"
"$dest/usr/bin/vmrun" --config "$dest/etc/vmrun/vmrun.conf" validate -q examples/lab.yaml
ok $? "the installed /etc/vmrun/vmrun.conf loads (every key commented: the defaults)"
echo "; mine" >>"$dest/etc/vmrun/vmrun.conf"
mk BUILD="$BUILD" install DESTDIR="$dest" PREFIX=/usr >/dev/null 2>&1
grep -q '^; mine$' "$dest/etc/vmrun/vmrun.conf"
ok $? "a second install leaves the configuration file alone"
mk BUILD="$BUILD" uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null 2>&1
is "$(cd "$dest" && find . -type f | sort | tr '\n' ' ')" "./etc/vmrun/vmrun.conf " \
	"make uninstall removes everything but the configuration"

# ---- systemd units ----
if ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze is not installed (make deps)" "systemd-analyze verify of the units"
else
	root=$T/sysroot
	mkdir -p "$root/lib/systemd" "$root/etc/systemd"
	# systemd's own units (the targets ours order against), then ours
	cp -a /lib/systemd/system "$root/lib/systemd/"
	mk BUILD="$BUILD" install DESTDIR="$root" PREFIX=/usr \
		SYSTEMDUNITDIR=/lib/systemd/system >/dev/null 2>&1
	"$VMRUN" systemd examples/lab.yaml -o "$root/etc/systemd/system" >/dev/null
	ok $? "vmrun systemd examples/lab.yaml writes the units"
	# verify fails on hard errors only and logs bad settings: both count.
	# It writes /run/systemd/systemd-units-load (whatever --root says): as
	# root it runs in a mount namespace of its own with /run overlaid by a
	# directory of the test's, so the machine's /run stays as it was
	verify() {
		if [ "$(id -u)" = 0 ]; then
			mkdir -p "$T/run-upper" "$T/run-work"
			MANPATH=$root/usr/share/man unshare -m --propagation private sh -c '
				mount -t overlay overlay -o "lowerdir=/run,upperdir=$1,workdir=$2" /run &&
					shift 2 && exec systemd-analyze verify "$@"' sh \
				"$T/run-upper" "$T/run-work" --root="$root" "$@" >"$T/verify" 2>&1
		else
			MANPATH=$root/usr/share/man systemd-analyze verify --root="$root" "$@" >"$T/verify" 2>&1
		fi && [ ! -s "$T/verify" ]
	}
	verify vmrun@cp.service vmrun-host@lab1.service vmrun-lab.target
	ok $? "systemd-analyze verify: vmrun@cp, vmrun-host@lab1, vmrun-lab.target" || sed 's/^/#   /' "$T/verify"
	"$VMRUN" systemd examples/demo.yaml -o "$root/etc/systemd/system" >/dev/null &&
		verify vmrun@a.service vmrun@b.service vmrun-demo.target
	ok $? "systemd-analyze verify: the demo's units" || sed 's/^/#   /' "$T/verify"
	grep -qx 'TimeoutStopSec=10' "$root/etc/systemd/system/vmrun@a.service.d/50-vmrun.conf"
	ok $? "vmrun@a: TimeoutStopSec is its stop_timeout 5 + 5"
	printf '[Service]\nKillMode=bogus\n' >"$root/etc/systemd/system/vmrun@a.service.d/60-bad.conf"
	verify vmrun@a.service
	ok $((!$?)) "systemd-analyze verify refuses a broken drop-in (the check can fail)"
	grep -qi "kill mode" "$T/verify"
	ok $? "... and names the bad setting"
fi

# ---- podman-compose: why `vmrun compose` has no podman engine ----
# What Debian's podman-compose does with vmrun's compose.yml, from its own
# --dry-run (the podman commands it would run): each check is one reason
# docs/compose.md gives; a podman-compose that fixes one fails its check.
if ! command -v podman-compose >/dev/null; then
	skip "podman-compose is not installed (make deps)" "podman-compose and vmrun's compose.yml"
else
	# the state directory under $T: podman-compose makes the host side of
	# every bind mount, even with --dry-run
	"$VMRUN" --state-dir "$T/state" compose examples/demo.yaml -o "$T/pc" --host-binary >/dev/null
	# its --dry-run still creates networks and volumes: a podman that only
	# says yes, so that nothing is created
	printf '#!/bin/sh\nexit 0\n' >"$T/podman-stub" && chmod +x "$T/podman-stub"
	(cd "$T/pc" && timeout 60 podman-compose --podman-path "$T/podman-stub" --dry-run \
		-f compose.yml up -d) >"$T/pc.out" 2>&1
	grep '^[^ ]* run --name=pc_vm_a_1 ' "$T/pc.out" >"$T/pc.vm_a"
	ok $? "podman-compose --dry-run up -d turns vm_a into a podman run command"
	grep -q -- '--network host .*--net pc_default ' "$T/pc.vm_a"
	ok $? "podman-compose: network_mode host is overridden by its default network (--net after --network host)"
	! grep -q -- '--device-cgroup-rule' "$T/pc.vm_a"
	ok $? "podman-compose: device_cgroup_rules is dropped (macvtap tap nodes cannot be opened)"
	! grep -qE -- '--cpuset-cpus|--stop-timeout' "$T/pc.vm_a"
	ok $? "podman-compose: cpuset and stop_grace_period are dropped (podman stop kills after 10 s)"
	grep -q -- "--healthcheck-command /bin/sh -c vmrun' 'health' 'a " "$T/pc.vm_a"
	ok $? "podman-compose: the exec-form healthcheck becomes a mis-quoted shell command"
	grep -c ' run --name=pc_vm_a_1 \| run --name=pc_vmprep_a_1 ' "$T/pc.out" >"$T/pc.n"
	[ "$(cat "$T/pc.n")" = 2 ] && ! grep -q ' wait \| healthcheck run ' "$T/pc.out"
	ok $? "podman-compose: depends_on conditions are ignored (vm_a is started without waiting for vmprep_a)"
fi

# ---- bash completion ----
# comp LINE...: COMP_WORDS from the words (the last one is the word under the
# cursor), then _vmrun; prints COMPREPLY sorted, one line
comp() {
	bash -c '
		source completion/vmrun.bash
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_vmrun
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
	' bash "$@"
}
PATH=$top/$BUILD:$PATH
export PATH
verbs_line=$(printf '%s\n' "${verbs[@]}" | sort | tr '\n' ' ')
is "$(comp vmrun "")" "$verbs_line" "bash: vmrun <TAB> lists the verbs"
is "$(comp vmrun ru)" "run " "bash: vmrun ru<TAB>"
is "$(comp vmrun --st)" "--state-dir " "bash: a global option"
is "$(comp vmrun run -)" "--events --help --no-restart --no-seccomp " "bash: vmrun run -<TAB>: its options"
is "$(comp vmrun run examples/demo.yaml "")" "a b " "bash: vmrun run TOPOLOGY <TAB>: the topology's guests"
is "$(comp vmrun args examples/lab.yaml "")" "cp gnb upf " "bash: vmrun args lab.yaml <TAB>"
is "$(comp vmrun host up examples/lab.yaml "")" "lab1 lab2 " "bash: vmrun host up TOPOLOGY <TAB>: its hosts"
is "$(comp vmrun args examples/demo.yaml a --accel "")" "auto kvm tcg " "bash: --accel <TAB>: its choices"
is "$(comp vmrun args examples/demo.yaml a --accel = t)" "tcg " "bash: --accel=t<TAB>"
is "$(comp vmrun validate examples/de)" "examples/demo.yaml " "bash: vmrun validate <TAB>: YAML files"
is "$(comp vmrun validate exa)" "examples " "bash: vmrun validate <TAB>: and directories"
is "$(comp vmrun image import tests/compose/st)" "tests/compose/structure.py tests/compose/stub " "bash: image import <TAB>: any file"
is "$(comp vmrun compose examples/demo.yaml -o "$T/ro")" "$T/root " "bash: compose -o <TAB>: directories"
is "$(comp vmrun image "")" "import prep " "bash: vmrun image <TAB>: its commands"
is "$(comp vmrun image import -)" "--force --format --help " "bash: a sub-verb's options"
is "$(comp vmrun probe v)" "vhost-net vlan " "bash: vmrun probe <TAB>: the features"
is "$(comp vmrun help image "")" "import prep " "bash: vmrun help image <TAB>"

need_testguest "completion of running guests and QMP commands"
cat >"$T/g.yaml" <<YAML
version: 1
guests:
  cg$$:
    accel: tcg
    memory: 128M
    cpuset: "0"
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet
    disks: [{file: $T/cg.qcow2, size: 16M}] # vmrun keeps it and passes it as an fd
  idle$$:
    accel: tcg
    memory: 128M
    cpuset: "1"
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
YAML
qemu-img create -q -f qcow2 "$T/cg.qcow2" 16M
v up "$T/g.yaml" "cg$$" >"$T/up.out" 2>&1
ok $? "a real guest runs (vmrun up, TCG, no NIC)" || sed 's/^/#   /' "$T/up.out"
mkdir -p "$STATE/gone$$" && : >"$STATE/gone$$/lock"
is "$(comp vmrun --state-dir "$STATE" stop "")" "cg$$ " "bash: vmrun stop <TAB>: the running guest only"
is "$(comp vmrun --state-dir="$STATE" console c)" "cg$$ " "bash: console c<TAB> (--state-dir=DIR)"
is "$(comp vmrun --state-dir "$STATE" ps "")" "cg$$ gone$$ " "bash: vmrun ps <TAB>: every guest of the state directory"
got=$(comp vmrun --state-dir "$STATE" qmp "cg$$" query-st)
[[ " $got " == *" query-status "* && " $got " == *" query-stats "* && $got != *" qmp_capabilities "* ]]
ok $? "bash: vmrun qmp GUEST query-st<TAB>: the guest's QMP commands ($got)"
n=$(comp vmrun --state-dir "$STATE" qmp "cg$$" "" | wc -w)
ok "$([ "$n" -ge 100 ] && echo 0 || echo 1)" "bash: vmrun qmp GUEST <TAB>: all $n commands of query-commands"
is "$(comp vmrun --state-dir "$STATE" qmp "idle$$" "")" "" "bash: qmp on a guest that does not run: nothing"

# ---- health --live: kube's livenessProbe ----
# alive whatever the guest's readiness (paused here), not when the
# supervisor stops answering (stopped with SIGSTOP here)
v pause "cg$$" >/dev/null 2>&1
v health "cg$$" >/dev/null 2>&1
is "$?" 1 "health: a paused guest is not ready (the readinessProbe)"
v health --live "cg$$" >"$T/live.out" 2>&1
rc=$?
sup=$(sed -n 's/^\([0-9][0-9]*\).*/\1/p' "$STATE/cg$$/lock" | head -1)
is "$rc:$(cat "$T/live.out")" "0:guest 'cg$$' is alive (supervisor pid $sup)" \
	"health --live: its supervisor is alive (the livenessProbe does not restart a paused guest)"
v resume "cg$$" >/dev/null 2>&1
rc=0
if [ -n "$sup" ]; then
	kill -STOP "$sup"
	v health --live "cg$$" >"$T/live.out" 2>&1
	rc=$?
	kill -CONT "$sup"
fi
is "$rc" 1 "health --live: a supervisor that does not answer is not alive"
grep -q "guest 'cg$$': its supervisor (pid $sup) does not answer" "$T/live.out"
ok $? "... saying so ($(head -1 "$T/live.out"))"
v health --live "idle$$" >"$T/live.out" 2>&1
is "$?:$(cat "$T/live.out")" "1:vmrun: error: guest 'idle$$' has no supervisor running" "health --live: a guest without supervisor"
for _ in $(seq 50); do v health "cg$$" >/dev/null 2>&1 && break; sleep 0.1; done
v health "cg$$" >/dev/null 2>&1
is "$?" 0 "health: ready again after resume"

is "$(comp vmrun --state-dir "$STATE" reboot "")" "cg$$ " "bash: vmrun reboot <TAB>: the running guest only"
is "$(comp vmrun --state-dir "$STATE" inspect "")" "cg$$ gone$$ " "bash: vmrun inspect <TAB>: stopped guests too"
is "$(comp vmrun --state-dir "$STATE" snapshot list "")" "cg$$ gone$$ " "bash: vmrun snapshot list <TAB>: stopped guests too"
is "$(comp vmrun --state-dir "$STATE" disk grow "cg$$" "")" "disk0 " "bash: vmrun disk grow GUEST <TAB>: its disks"
v snapshot create "cg$$" s1 >"$T/snap.out" 2>&1
ok $? "a snapshot of the running guest (vmrun snapshot create)" || sed 's/^/#   /' "$T/snap.out"
is "$(comp vmrun --state-dir "$STATE" snapshot revert "cg$$" "")" "s1 " "bash: vmrun snapshot revert GUEST <TAB>: its snapshots"

# ---- zsh completion, through stubs of _describe and _files ----
if ! command -v zsh >/dev/null; then
	skip "zsh is not installed (make deps)" "zsh completion"
else
	zcomp() { # CURRENT WORD...: what _vmrun hands to _describe (or _files)
		local cur=$1
		shift
		zsh -f -c '
			_describe() { local -a a; a=("${(@P)${@[-1]}}"); print -rl -- "${a[@]%%:*}" }
			_files() { print -r -- "_files $*" }
			compset() { return 0 }
			words=("${@:2}"); CURRENT=$1
			source completion/_vmrun
		' zsh "$cur" "$@" | sort | tr '\n' ' '
	}
	is "$(zcomp 3 vmrun run -)" "--events --help --no-restart --no-seccomp " "zsh: vmrun run -<TAB>"
	is "$(zcomp 5 vmrun --state-dir "$STATE" stop "")" "cg$$ " "zsh: vmrun stop <TAB>: the running guest"
	is "$(zcomp 3 vmrun validate "")" "_files -g *.(yaml|yml) " "zsh: vmrun validate <TAB>: YAML files"
	got=$(zcomp 6 vmrun --state-dir "$STATE" qmp "cg$$" query-sta)
	is "$got" "query-stats query-stats-schemas query-status " "zsh: qmp GUEST query-sta<TAB>"
fi

v stop "cg$$" >/dev/null 2>&1
is "$(comp vmrun --state-dir "$STATE" snapshot delete "cg$$" "")" "s1 " "bash: snapshot delete GUEST <TAB>: a stopped guest's snapshots (its disks)"
is "$(comp vmrun --state-dir "$STATE" reboot "")" "" "bash: vmrun reboot <TAB>: nothing once it stopped"
done_testing
