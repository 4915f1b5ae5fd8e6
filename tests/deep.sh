#!/usr/bin/env bash
# `make check-deep`: everything too slow for `make check`, step by step,
# each step a tests/run.sh (its suites in parallel, the machine compared
# before and after) or one program, with its log in build/deep-logs/:
#
#   asan      the ASan+UBSan build (build/asan): every unit test, the bad
#             input, golden, define, net, images and compose suites, the
#             fuzz corpus replay and the integration suites, against
#             build/asan/vmrun (compose_docker.sh excepted: the vmrun in its
#             image is built inside the image, from source)
#   valgrind  every unit test of the normal build under valgrind
#   faults    every fault case (tests/faults/deep.sh, docs/reliability.md),
#             against the ASan builds (build/asan/fault/vmrun with the fault
#             points, build/asan/vmrun)
#   nokvm     the golden and integration suites again, in a mount namespace
#             where /dev/kvm and /dev/vhost-net do not exist
#   nullkvm   and where /dev/kvm is /dev/null: it opens, makes no VM
#             (tests/lib/devns.sh); the suites must skip or use TCG by
#             vmrun's own probe
#   suites    the long suites of tests/deep/*.sh (real guests booted for
#             minutes, real backends: dpdk-testpmd, a Debian cloud-init
#             guest, UEFI, secure boot, watchdog, media, the two-host lab,
#             packaging); not a default step: `make check-long` runs it
#   soak      bench/soak.sh 50
#   lint      shellcheck -x -S warning over every shell script
#   fuzz      every fuzz target for FUZZ_SECONDS (default 60) under
#             libFuzzer (clang, build/fuzz), in the background meanwhile,
#             at a lower priority
#
# The last line is "N passed, N failed, N skipped" over all steps.
#   STEPS="asan faults" tests/deep.sh   only these steps
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
logs=build/deep-logs
mkdir -p "$logs"
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
steps=${STEPS:-asan valgrind faults nokvm nullkvm soak lint fuzz}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
start_all=$(date +%s)
passed=0 failed=0 skipped=0

want() { [[ " $steps " == *" $1 "* ]]; }

# tally NAME LOG RC SECS: add a step's counts (from tests/run.sh's last
# line, or its exit status) and print its line
tally() {
	local name=$1 log=$2 rc=$3 secs=$4 last p=0 f=0 s=0 status
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$log" | tail -1)
	if [ -n "$last" ]; then
		read -r p _ f _ s _ <<<"${last//,/}"
	elif [ "$rc" = 77 ]; then
		s=1
	elif [ "$rc" = 0 ]; then
		p=1
	fi
	[ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "$f" = 0 ] && f=1
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	status=PASS
	[ "$f" -gt 0 ] && status=FAIL
	printf '%-4s %-10s %5d passed %3d failed %3d skipped (%ds)  %s\n' "$status" "$name" "$p" "$f" "$s" "$secs" "$log"
	if [ "$f" -gt 0 ]; then
		grep -E '^(FAIL|not ok)|^    ' "$log" | grep -v '# TODO' | head -40 | sed 's/^/    /'
		tail -3 "$log" | sed 's/^/    | /'
	fi
	grep -E '^ *known bug: ' "$log" | sed 's/^ */    /' | head -10
}

# step NAME COMMAND...: run it, log in $logs/NAME.log
step() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	"$@" >"$logs/$name.log" 2>&1
	rc=$?
	tally "$name" "$logs/$name.log" "$rc" "$(($(date +%s) - t0))"
}

# build NAME COMMAND...: a build step; its failure counts as one
build() {
	local name=$1
	shift
	if ! "$@" >"$logs/build-$name.log" 2>&1; then
		echo "FAIL build-$name ($logs/build-$name.log)"
		tail -15 "$logs/build-$name.log" | sed 's/^/    | /'
		failed=$((failed + 1))
		return 1
	fi
}

integration=()
for s in tests/integration/*.sh; do
	[ "$s" = tests/integration/compose_docker.sh ] || integration+=("$s")
done

# ---- builds ----
asan_ok=0 fuzz_ok=0
if want asan || want faults; then
	build asan make -s -j2 BUILD=build/asan SAN=1 all unit fuzz-replay &&
		ln -sfn ../testguest build/asan/testguest && asan_ok=1
fi
if want faults; then
	build asan-fault make -s -j2 BUILD=build/asan SAN=1 faults || asan_ok=0
fi
if want fuzz; then
	if command -v clang >/dev/null; then
		build fuzz make -s -j2 BUILD=build/fuzz CC=clang SAN=1 CFLAGS=-fsanitize=fuzzer-no-link fuzz-bins &&
			fuzz_ok=1
	else
		echo "SKIP fuzz: clang is not installed (make deps)"
		skipped=$((skipped + 1))
	fi
fi

# ---- fuzzing in the background, one target at a time, niced ----
fuzz_pid=
if [ "$fuzz_ok" = 1 ]; then
	fuzz_t0=$(date +%s)
	BUILD=build/fuzz FUZZ_SECONDS=$FUZZ_SECONDS nice -n 10 tests/fuzz/run.sh >"$logs/fuzz.log" 2>&1 &
	fuzz_pid=$!
fi

# ---- the steps ----
if want asan && [ "$asan_ok" = 1 ]; then
	step asan env VMRUN="$top/build/asan/vmrun" BUILD=build/asan TEST_LOGS="$logs/asan" \
		tests/run.sh build/asan/tests/* tests/bad/run.sh tests/argv/run.sh tests/cli/run.sh tests/define/run.sh \
		tests/net/run.sh tests/images/run.sh tests/compose/run.sh tests/fuzz/replay.sh \
		"${integration[@]}"
fi
if want valgrind; then
	if command -v valgrind >/dev/null; then
		step valgrind env VALGRIND=1 TEST_LOGS="$logs/valgrind" tests/run.sh build/tests/*
	else
		echo "SKIP valgrind: valgrind is not installed (make deps)"
		skipped=$((skipped + 1))
	fi
fi
if want faults && [ "$asan_ok" = 1 ]; then
	step faults env VMRUN="$top/build/asan/vmrun" FVMRUN="$top/build/asan/fault/vmrun" \
		BUILD=build/asan TEST_LOGS="$logs/faults" tests/run.sh tests/faults/deep.sh
fi
if want nokvm; then
	step nokvm env TEST_LOGS="$logs/nokvm" tests/lib/devns.sh hide \
		tests/run.sh tests/argv/run.sh "${integration[@]}"
fi
if want nullkvm; then
	step nullkvm env TEST_LOGS="$logs/nullkvm" tests/lib/devns.sh nullkvm \
		tests/run.sh tests/argv/run.sh "${integration[@]}"
fi
if want suites; then
	deep_suites=(tests/deep/*.sh)
	if [ -f "${deep_suites[0]}" ]; then
		step suites env TEST_LOGS="$logs/suites" tests/run.sh "${deep_suites[@]}"
	fi
fi
if want soak; then
	step soak bench/soak.sh 50
	grep '^soak:' "$logs/soak.log" | sed 's/^/    /'
fi
if want lint; then
	if command -v shellcheck >/dev/null; then
		# shellcheck disable=SC2046 # one word per file
		step lint shellcheck -x -S warning $(git ls-files '*.sh' '*.bash' .ci/run 2>/dev/null ||
			find . -name '*.sh' -o -name '*.bash')
	else
		echo "SKIP lint: shellcheck is not installed (make deps)"
		skipped=$((skipped + 1))
	fi
fi
if [ -n "$fuzz_pid" ]; then
	wait "$fuzz_pid"
	rc=$?
	# tests/fuzz/run.sh prints TAP: count its lines
	p=$(grep -c '^ok ' "$logs/fuzz.log") f=$(grep -c '^not ok ' "$logs/fuzz.log")
	[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
	fuzz_end=$(stat -c %Y "$logs/fuzz.log")
	echo "$p passed, $f failed, 0 skipped" >>"$logs/fuzz.log"
	# its own duration: it ended when its log was last written
	tally fuzz "$logs/fuzz.log" "$rc" "$((fuzz_end - fuzz_t0))"
	grep -E '^(not )?ok ' "$logs/fuzz.log" | sed 's/^/    /'
fi

echo "$passed passed, $failed failed, $skipped skipped in $(($(date +%s) - start_all)) s"
[ "$failed" -eq 0 ]
