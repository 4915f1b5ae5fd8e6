#!/usr/bin/env bash
# Run test suites and print one closing line "N passed, N failed, N skipped".
#
#   tests/run.sh               the suites of `make check`
#   tests/run.sh SUITE...      these suites (paths, as listed below)
#   TESTS=pattern tests/run.sh only suites whose path contains pattern
#                            (TESTS=unit: the unit test binaries)
#   JOBS=N                     suites run N at a time (default: online CPUs + 1)
#   TEST_LOGS=DIR              where the logs go (default $BUILD/test-logs)
#
# Suites: every unit test binary $BUILD/tests/*, tests/*/run.sh,
# tests/fuzz/replay.sh and tests/integration/*.sh.  The ASan and valgrind
# runs, the long fuzz runs (tests/fuzz/run.sh) and tests/faults/deep.sh
# belong to `make check-deep` (tests/deep.sh).  Each suite prints TAP; a suite that exits non-zero
# without a failing check counts as one failure.  "not ok ... # TODO BUG"
# is a check that a known, reported product bug makes fail: listed, not
# counted as a failure.  Suites run in parallel: each makes its own
# namespaces, state directories and names (suffixed with its pid), so they do
# not meet; tests/lib/serial lists the few that share a machine-wide daemon
# and run one at a time.
#
# Last, the machine must be as the suites found it (tests/lib/hoststate.sh):
# /dev, /etc, /run, network namespaces, links and mounts are compared with
# a snapshot taken before; any difference is a failure.  The registries
# `ip netns add` and mount(8) make on first use (/run/netns, /run/mount) are
# removed again when the machine had none and they are empty.
set -u
# The suites run with Debian root's PATH first, so with the tools `make deps`
# installs: on a machine whose python3 was a version manager's shim (pyenv's
# runs a shell script and a second program before Python: 0.38 s a start
# against 0.03 s) the suites' python3 calls made make check much slower, and
# a shim's Python need not have the Debian modules the tests import.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
BUILD=${BUILD:-build}
export BUILD
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export VMRUN="${VMRUN:-$top/$BUILD/vmrun}"
# shellcheck source=tests/lib/hoststate.sh
. tests/lib/hoststate.sh
logdir="${TEST_LOGS:-$BUILD/test-logs}"
mkdir -p "$logdir"
jobs=${JOBS:-$(($(nproc) + 1))}

suites=()
if [ $# -gt 0 ]; then
	suites=("$@")
else
	for t in "$BUILD"/tests/*; do [ -x "$t" ] && [ -f "$t" ] && suites+=("$t"); done
	for t in tests/*/run.sh tests/fuzz/replay.sh tests/integration/*.sh; do
		[ -f "$t" ] || continue
		case $t in tests/fuzz/run.sh) continue ;; esac
		suites+=("$t")
	done
fi
selected=()
for s in "${suites[@]}"; do
	# the unit test binaries live in $BUILD/tests: TESTS=unit names them all
	if [ -n "${TESTS:-}" ] && [[ $s != *${TESTS}* ]] &&
		! { [ "$TESTS" = unit ] && [[ $s == "$BUILD"/tests/* ]]; }; then continue; fi
	selected+=("$s")
done

# run_suite SUITE: run it, write its log and a result line "P F S SECONDS"
run_suite() {
	local s=$1 name log start rc p sk f td
	name=${s//\//_}
	log="$logdir/$name.log"
	start=$(date +%s)
	if [ "${VALGRIND:-0}" = 1 ] && [[ $s == "$BUILD"/tests/* ]] && command -v valgrind >/dev/null; then
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			--suppressions=tests/sanitizers/valgrind.supp "$s" >"$log" 2>&1
	elif grep -qxF "$s" tests/lib/serial 2>/dev/null; then
		flock "$logdir/serial.lock" "$s" >"$log" 2>&1
	else
		"$s" >"$log" 2>&1
	fi
	rc=$?
	p=$(grep -cE '^ok [0-9]+' "$log")
	sk=$(grep -cE '^ok [0-9]+ .*# SKIP' "$log")
	f=$(grep -E '^not ok [0-9]+' "$log" | grep -cv '# TODO')
	td=$(grep -cE '^not ok [0-9]+ .*# TODO' "$log")
	p=$((p - sk))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $s exited with status $rc" >>"$log"
	fi
	echo "$p $f $sk $(($(date +%s) - start)) $td" >"$log.result"
}

# report SUITE: its line in the summary, and what failed or was skipped
report() {
	local s=$1 log p f sk secs td status
	log="$logdir/${s//\//_}.log"
	read -r p f sk secs td <"$log.result"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + sk)) todos=$((todos + td))
	status=PASS
	[ "$f" -gt 0 ] && status=FAIL
	printf '%-4s %-50s %3d passed %3d failed %3d skipped (%ds)\n' "$status" "$s" "$p" "$f" "$sk" "$secs"
	if [ "$f" -gt 0 ]; then
		grep -E -A6 '^not ok' "$log" | sed 's/^/    /' | head -60
		tail -5 "$log" | sed 's/^/    | /'
	fi
	if [ "$sk" -gt 0 ]; then grep -E '# SKIP' "$log" | sed 's/^/    /' | sort -u | head -5; fi
	if [ "$td" -gt 0 ]; then grep -E '^not ok [0-9]+ .*# TODO' "$log" | sed 's/^/    known bug: /' | head -10; fi
}

before=$(mktemp) after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
absent=""
if [ "$(id -u)" = 0 ]; then
	hoststate_snapshot "$before"
	absent=$(hoststate_byproducts)
fi

passed=0 failed=0 skipped=0 todos=0
declare -A running=()
start_all=$(date +%s)
for s in "${selected[@]}"; do
	rm -f "$logdir/${s//\//_}.log.result"
	while [ "${#running[@]}" -ge "$jobs" ]; do
		wait -n
		for pid in "${!running[@]}"; do
			if ! kill -0 "$pid" 2>/dev/null; then
				report "${running[$pid]}"
				unset "running[$pid]"
			fi
		done
	done
	run_suite "$s" &
	running[$!]=$s
done
wait
for pid in "${!running[@]}"; do report "${running[$pid]}"; done

if [ "$(id -u)" = 0 ]; then
	# the kernel tears a network namespace down asynchronously (cleanup_net
	# runs from a workqueue): the links of a namespace a test just deleted,
	# and the /dev/tapN nodes of its macvtaps, may outlive the test by a
	# moment, so a difference must persist for 10 s to count
	for _ in $(seq 50); do
		# shellcheck disable=SC2086 # a list of paths without spaces
		hoststate_tidy $absent
		hoststate_snapshot "$after"
		diff -q "$before" "$after" >/dev/null && break
		sleep 0.2
	done
	if diff -u "$before" "$after" >"$logdir/hoststate.diff"; then
		echo "PASS the machine is as the tests found it (/dev, /etc, /run, netns, links, mounts)"
		passed=$((passed + 1))
	else
		echo "FAIL the tests changed the machine ($logdir/hoststate.diff):"
		grep -E '^[-+][^-+]' "$logdir/hoststate.diff" | head -40 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
fi
[ "$todos" -gt 0 ] && echo "$todos checks fail on known, reported bugs (TAP TODO, listed above)"
echo "$passed passed, $failed failed, $skipped skipped in $(($(date +%s) - start_all)) s"
[ "$failed" -eq 0 ]
