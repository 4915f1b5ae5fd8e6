#!/usr/bin/env bash
# Golden tests of the QEMU command line (after libvirt's tests/qemuxmlconftest.c).
#
# Each case is a directory tests/argv/CASE/ holding topology.yaml and, for every
# guest in it, GUEST.args: the expected output of `vmrun args --env` (QEMU's
# whole environment as NAME=VALUE lines, then one argument per line), with the
# checkout's path written as @SRCDIR@.  A guest whose command
# line cannot be built has GUEST.err instead: the expected standard error plus a
# last line "exit status N".  Every examples/NAME.yaml is a case too, with its
# expected files in tests/argv/examples/NAME/.
#
# Options of `vmrun args`: CASE/options (default "--accel tcg --vhost on"),
# then CASE/GUEST.options for that guest only (e.g. --vf NIC=PCI).
#
# A case without topology.yaml, a guest without an expected file, an expected
# or options file for a guest that does not exist, any other file in a case
# directory, and an example without expected files all fail.
#
# Then QEMU itself must accept each .args command line (qemu_accept.py): the
# golden files show the command line is what we meant, this that QEMU agrees.
#
# VMRUN_REGENERATE=1 tests/argv/run.sh rewrites the expected files from the
# current output (and says so); review the diff before committing it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh

VMRUN=${VMRUN:-$top/${BUILD:-build}/vmrun}
regen=${VMRUN_REGENERATE:-0}
default_options="--accel tcg --vhost on"
# the host configuration is part of the output: pin it, ignore the environment
unset VMRUN_QEMU VMRUN_STATE_DIR VMRUN_SYSFS_ROOT VMRUN_DEV_ROOT
conf=tests/argv/vmrun.conf

if [ ! -x "$VMRUN" ]; then
	ok 1 "vmrun binary '$VMRUN' exists (run make first)"
	done_testing
	exit 1
fi

# Guest names of a topology, from `vmrun validate` ("  guest NAME: ...").
guests_of() {
	"$VMRUN" --config "$conf" validate "$1" 2>/dev/null | sed -n 's/^  guest \([a-z][a-z0-9]*\):.*/\1/p'
}

# render OUTFILE TOPOLOGY GUEST OPTIONS...: write what `vmrun args` prints to
# OUTFILE in the form of an expected file; sets kind to "args" or "err".
render() {
	local outfile=$1 topo=$2 guest=$3 errfile rc line
	shift 3
	errfile=$(mktemp)
	# --env: QEMU's environment is part of what run executes
	"$VMRUN" --config "$conf" args "$topo" "$guest" "$@" --env >"$outfile.out" 2>"$errfile"
	rc=$?
	{
		if [ "$rc" -eq 0 ] && [ ! -s "$errfile" ]; then
			kind=args
			while IFS= read -r line; do printf '%s\n' "${line//"$top"/@SRCDIR@}"; done <"$outfile.out"
		else
			kind=err
			while IFS= read -r line; do printf 'stdout: %s\n' "${line//"$top"/@SRCDIR@}"; done <"$outfile.out"
			while IFS= read -r line; do printf '%s\n' "${line//"$top"/@SRCDIR@}"; done <"$errfile"
			printf 'exit status %d\n' "$rc"
		fi
	} >"$outfile"
	rm -f "$errfile" "$outfile.out"
}

# QEMU acceptance: run QEMU (paused, then quit over QMP) with the command line
# of every guest that has an .args file, fds and images provided by
# qemu_accept.py.  Needs root (taps in a scratch netns), python3 and QEMU.
accept_why=
if [ "$regen" = 1 ]; then
	accept_why="regenerating"
elif [ "$(id -u)" != 0 ]; then
	accept_why="needs root for taps in a network namespace"
elif ! command -v qemu-system-x86_64 >/dev/null || ! command -v qemu-img >/dev/null; then
	accept_why="qemu-system-x86_64 or qemu-img not installed"
elif ! command -v python3 >/dev/null; then
	accept_why="python3 not installed"
elif [ ! -c /dev/net/tun ]; then
	accept_why="no /dev/net/tun"
else
	netns=vmrt-argv-$$
	if ! ip netns add "$netns" 2>/dev/null; then
		accept_why="cannot create network namespace $netns"
		netns=
	fi
fi
# kvm cases start KVM guests (paused): skipped where vmrun's own probe says
# KVM cannot run them (no /dev/kvm, one that opens but makes no VM, kvm_pvm)
kvm_why=
if ! kvm_why=$("$VMRUN" --config "$conf" probe kvm 2>&1); then kvm_why=${kvm_why#kvm: no: }; else kvm_why=; fi

accept() { # accept NAME TOPOLOGY GUEST OPTIONS...
	local name=$1 topo=$2 guest=$3 accel=tcg work rc
	shift 3
	case " $* " in *" --accel kvm "*) accel=kvm ;; esac
	if [ -n "$accept_why" ]; then
		skip "$accept_why" "$name/$guest: qemu accepts the command line"
		return
	fi
	if [ "$accel" = kvm ] && [ -n "$kvm_why" ]; then
		skip "$kvm_why" "$name/$guest: qemu accepts the command line"
		return
	fi
	work=$(mktemp -d /var/tmp/vmrt-argv.XXXXXX)
	# vhost off: /dev/vhost-net is not always there, and the fds are the same kind
	"$VMRUN" --config "$conf" args "$topo" "$guest" "$@" --vhost off >"$work/args" 2>"$work/err" &&
		ip netns exec "$netns" python3 tests/argv/qemu_accept.py "$work" <"$work/args" >"$work/out" 2>&1
	rc=$?
	if [ "$rc" = 77 ]; then
		# a piece the command line needs is missing here (qemu_accept.py says which)
		skip "$(sed -n 's/^skip: //p' "$work/out")" "$name/$guest: qemu accepts the command line"
	else
		ok $rc "$name/$guest: qemu accepts the command line ($accel)"
		sed 's/^/# /' "$work/err" "$work/out"
	fi
	rm -rf "$work"
}

# check_case NAME TOPOLOGY EXPECTED_DIR
check_case() {
	local name=$1 topo=$2 dir=$3 guests g f base opts want
	if [ ! -f "$topo" ]; then
		ok 1 "$name: has $topo"
		return
	fi
	guests=$(guests_of "$topo")
	if [ -z "$guests" ]; then
		ok 1 "$name: $topo validates and has guests"
		"$VMRUN" --config "$conf" validate "$topo" 2>&1 | sed 's/^/# /'
		return
	fi
	[ "$regen" = 1 ] && mkdir -p "$dir"

	# every file in the case directory must be used
	for f in "$dir"/*; do
		[ -e "$f" ] || continue
		base=${f##*/}
		case $base in
		topology.yaml | options) continue ;;
		*.args | *.err | *.options)
			g=${base%.*}
			if ! grep -qx "$g" <<<"$guests"; then
				ok 1 "$name: '$base' is for guest '$g', which $topo does not have"
			fi
			;;
		*) ok 1 "$name: stray file '$f'" ;;
		esac
	done

	for g in $guests; do
		opts=$default_options
		[ -f "$dir/options" ] && opts=$(cat "$dir/options")
		[ -f "$dir/$g.options" ] && opts="$opts $(cat "$dir/$g.options")"
		# shellcheck disable=SC2086
		render "$tmp/got" "$topo" "$g" $opts
		if [ "$regen" = 1 ]; then
			rm -f "$dir/$g.args" "$dir/$g.err"
			cp "$tmp/got" "$dir/$g.$kind"
			ok 0 "$name/$g: regenerated $dir/$g.$kind"
			diag "wrote $dir/$g.$kind"
			continue
		fi
		if [ -f "$dir/$g.args" ] && [ -f "$dir/$g.err" ]; then
			ok 1 "$name/$g: both $g.args and $g.err exist"
			continue
		fi
		if [ -f "$dir/$g.args" ]; then
			want=$dir/$g.args
		elif [ -f "$dir/$g.err" ]; then
			want=$dir/$g.err
		else
			ok 1 "$name/$g: expected output $dir/$g.args missing (VMRUN_REGENERATE=1 writes it)"
			continue
		fi
		if cmp -s "$want" "$tmp/got"; then
			ok 0 "$name/$g: matches $want"
		else
			ok 1 "$name/$g: differs from $want"
			diff -u "$want" "$tmp/got" | sed 's/^/# /'
		fi
		# shellcheck disable=SC2086
		[ "$want" = "$dir/$g.args" ] && accept "$name" "$topo" "$g" $opts
	done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${netns:-}" ] && ip netns del "$netns"' EXIT

for d in tests/argv/*/; do
	d=${d%/}
	case=${d##*/}
	[ "$case" = examples ] && continue
	check_case "$case" "$d/topology.yaml" "$d"
done

for ex in examples/*.yaml; do
	[ -f "$ex" ] || continue
	name=${ex##*/}
	name=${name%.yaml}
	check_case "examples/$name" "$ex" "tests/argv/examples/$name"
done
for d in tests/argv/examples/*/; do
	[ -d "$d" ] || continue
	d=${d%/}
	[ -f "examples/${d##*/}.yaml" ] || ok 1 "stray expected directory '$d' (no examples/${d##*/}.yaml)"
done

[ "$regen" = 1 ] && diag "expected files regenerated: review them with git diff before committing"
done_testing
