#!/usr/bin/env bash
# Memory-safety checks that `make check` runs after the functional suites:
#   1. every unit test, the bad-input corpus and the argv goldens against an
#      ASan+UBSan build (build/asan);
#   2. every unit test under valgrind (definite leaks and invalid accesses);
#   3. a short libFuzzer run of every fuzz target (clang, build/fuzz).
# One TAP line per program.  VMRUN_SANITIZERS=0 skips all three (for quick
# local runs); VMRUN_FUZZ_SECONDS sets the fuzz time per target (default 10).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
cd "$top" || exit 1
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "${VMRUN_SANITIZERS:-1}" = 0 ]; then
	skip "VMRUN_SANITIZERS=0" "asan, valgrind and fuzz runs"
	done_testing
	exit
fi
case $BUILD in
build/asan | build/fuzz)
	skip "already running under $BUILD" "asan, valgrind and fuzz runs"
	done_testing
	exit
	;;
esac

# 1. ASan + UBSan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if make -s -j2 BUILD=build/asan SAN=1 all unit >"$tmp/asan-build.log" 2>&1; then
	for t in build/asan/tests/*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		if "$t" >"$tmp/out" 2>&1 && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/out"; then
			ok 0 "asan: $(basename "$t")"
		else
			ok 1 "asan: $(basename "$t")"
			grep -E 'not ok|Sanitizer|runtime error|#[0-9] ' "$tmp/out" | head -15 | sed 's/^/#   /'
		fi
	done
	for s in tests/bad/run.sh tests/argv/run.sh tests/define/run.sh; do
		if VMRUN="$top/build/asan/vmrun" BUILD=build/asan "$s" >"$tmp/out" 2>&1 &&
			! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/out"; then
			ok 0 "asan: $s"
		else
			ok 1 "asan: $s"
			grep -E 'not ok|Sanitizer|runtime error' "$tmp/out" | head -15 | sed 's/^/#   /'
		fi
	done
else
	ok 1 "asan: build"
	tail -20 "$tmp/asan-build.log" | sed 's/^/#   /'
fi

# 2. valgrind on the unit tests of the normal build
if command -v valgrind >/dev/null; then
	for t in "$BUILD"/tests/*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			--suppressions="$here/valgrind.supp" --trace-children=no "$t" >"$tmp/out" 2>&1; then
			ok 0 "valgrind: $(basename "$t")"
		else
			ok 1 "valgrind: $(basename "$t")"
			grep -E 'not ok|==[0-9]+== [A-Z]|at 0x|by 0x' "$tmp/out" | head -20 | sed 's/^/#   /'
		fi
	done
else
	skip "valgrind is not installed (make deps)" "valgrind runs"
fi

# 3. fuzz smoke
if command -v clang >/dev/null; then
	if make -s -j2 BUILD=build/fuzz CC=clang SAN=1 CFLAGS=-fsanitize=fuzzer-no-link fuzz-bins \
		>"$tmp/fuzz-build.log" 2>&1; then
		BUILD=build/fuzz FUZZ_SECONDS=${VMRUN_FUZZ_SECONDS:-10} tests/fuzz/run.sh >"$tmp/fuzz.log" 2>&1
		while IFS= read -r line; do
			case $line in
			"ok "* | "not ok "*)
				desc=${line#*- }
				case $line in not*) ok 1 "fuzz: $desc" ;; *) ok 0 "fuzz: $desc" ;; esac
				;;
			"#"*) echo "$line" ;;
			esac
		done <"$tmp/fuzz.log"
	else
		ok 1 "fuzz: build"
		tail -20 "$tmp/fuzz-build.log" | sed 's/^/#   /'
	fi
else
	skip "clang is not installed (make deps)" "fuzz runs"
fi
done_testing
