#!/usr/bin/env bash
# Run every test suite and print one closing line "N passed, N failed, N skipped".
# Each suite prints TAP; a suite that exits non-zero without a failing
# check counts as one failure.  TESTS=pattern runs only matching suites.
set -u
BUILD=${BUILD:-build}
export BUILD
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export VMRUN="$top/$BUILD/vmrun"
logdir="$BUILD/test-logs"
mkdir -p "$logdir"

suites=()
for t in "$BUILD"/tests/*; do [ -x "$t" ] && [ -f "$t" ] && suites+=("$t"); done
for t in tests/*/run.sh tests/integration/*.sh; do
	[ -f "$t" ] || continue
	case $t in tests/fuzz/*) continue ;; esac
	suites+=("$t")
done

passed=0 failed=0 skipped=0
for s in "${suites[@]}"; do
	if [ -n "${TESTS:-}" ] && [[ $s != *${TESTS}* ]]; then continue; fi
	name=${s//\//_}
	log="$logdir/$name.log"
	start=$(date +%s)
	if [ "${VALGRIND:-0}" = 1 ] && [[ $s == "$BUILD"/tests/* ]] && command -v valgrind >/dev/null; then
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$s" >"$log" 2>&1
	else
		"$s" >"$log" 2>&1
	fi
	rc=$?
	p=$(grep -cE '^ok [0-9]+' "$log" || true)
	sk=$(grep -cE '^ok [0-9]+ .*# SKIP' "$log" || true)
	f=$(grep -cE '^not ok [0-9]+' "$log" || true)
	p=$((p - sk))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $s exited with status $rc" >>"$log"; fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + sk))
	status=PASS; [ "$f" -gt 0 ] && status=FAIL
	printf '%-4s %-50s %3d passed %3d failed %3d skipped (%ds)\n' "$status" "$s" "$p" "$f" "$sk" "$(( $(date +%s) - start ))"
	if [ "$f" -gt 0 ]; then grep -E -A6 '^not ok' "$log" | sed 's/^/    /' | head -60; tail -5 "$log" | sed 's/^/    | /'; fi
	if [ "$sk" -gt 0 ]; then grep -E '# SKIP' "$log" | sed 's/^/    /' | sort -u | head -5; fi
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
