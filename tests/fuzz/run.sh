#!/usr/bin/env bash
# Run every built fuzzer ($BUILD/fuzz/fuzz_NAME, see `make fuzz`) for
# $FUZZ_SECONDS with its seeds (tests/fuzz/corpus/NAME/) and dictionary
# (tests/fuzz/NAME.dict, if any).  One TAP line per target.  New inputs go to
# a temporary corpus, not into the repository; crashes are kept in
# $BUILD/fuzz/artifacts/ -- add the fixed ones to the seeds as regressions.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
BUILD=${BUILD:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
art="$BUILD/fuzz/artifacts"
mkdir -p "$art"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

found=0
for bin in "$BUILD"/fuzz/fuzz_*; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
	case $bin in *.d) continue ;; esac
	found=1
	name=$(basename "$bin")
	short=${name#fuzz_}
	seeds="$here/corpus/$short"
	work="$tmp/$short"
	mkdir -p "$work"
	args=(-max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=1024 -max_len=65536
		-print_final_stats=1 -artifact_prefix="$art/$name-")
	[ -f "$here/$short.dict" ] && args+=(-dict="$here/$short.dict")
	dirs=("$work")
	[ -d "$seeds" ] && dirs+=("$seeds")
	log="$tmp/$name.log"
	if "$bin" "${args[@]}" "${dirs[@]}" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		ok 0 "$name: ${execs:-?} runs in ${FUZZ_SECONDS}s, no finding"
	else
		ok 1 "$name: finding (artifacts in $art)"
		grep -E 'ERROR|SUMMARY|artifact|#0 |#1 |#2 |#3 ' "$log" | head -20 | sed 's/^/#   /'
	fi
done
if [ "$found" = 0 ]; then
	skip "no fuzzers in $BUILD/fuzz (build them with make fuzz; needs clang)" "fuzz targets"
fi
done_testing
