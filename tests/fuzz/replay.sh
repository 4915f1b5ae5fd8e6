#!/usr/bin/env bash
# Replay every fuzz target's corpus (tests/fuzz/corpus/NAME/: the seeds and
# the regressions of past findings) once through its target, built with the
# ordinary compiler and tests/fuzz/replay.c instead of libFuzzer
# ($BUILD/replay/fuzz_NAME, `make fuzz-replay`).  Part of `make check`:
# quick, and no clang needed; under `make check-deep` it runs against the
# ASan+UBSan build too.  One TAP line per target; a target without a
# corpus fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"
cd "$top" || exit 1
BUILD=${BUILD:-build}

for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	bin=$BUILD/replay/$name
	corpus=tests/fuzz/corpus/${name#fuzz_}
	if [ ! -x "$bin" ]; then
		skip "$bin is not built (make fuzz-replay)" "$name: corpus replay"
		continue
	fi
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		ok 1 "$name: has a seed corpus in $corpus"
		continue
	fi
	if out=$("$bin" "$corpus" 2>&1); then
		ok 0 "$name: ${out##*$'\n'} of $corpus"
	else
		ok 1 "$name: replay of $corpus"
		# again, naming each input, to show which one
		"$bin" -v "$corpus" 2>&1 | tail -15 | sed 's/^/#   /'
	fi
done
done_testing
