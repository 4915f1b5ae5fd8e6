#!/usr/bin/env bash
# Source-tree rules that `make check` enforces:
#   - the layering (tests/lint/layers.sh) holds, and the checker catches a
#     planted upward include, a peer include and an include cycle;
#   - every C file is formatted as .clang-format says (`make format` fixes).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
cd "$top" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$here/layers.sh" "$top" >"$tmp/layers.out" 2>&1
ok $? "the tree keeps its layers (tests/lint/layers.sh)"
grep -v '^ok\|^1\.\.' "$tmp/layers.out" | sed 's/^/# /'

# plant CASE FILE LINE: a copy of the sources with LINE added to FILE must fail
plant() {
	local what=$1 file=$2 line=$3 copy="$tmp/copy-$RANDOM"
	mkdir -p "$copy"
	cp -r lib qmp net images compose cmd "$copy/"
	printf '%s\n' "$line" >>"$copy/$file"
	if (cd "$copy" && GIT_DIR=/nonexistent "$here/layers.sh" "$copy") >"$tmp/plant.out" 2>&1; then
		ok 1 "layers.sh catches $what"
	else
		ok 0 "layers.sh catches $what"
	fi
	rm -rf "$copy"
}
plant "an upward include" lib/base/util.c '#include "lib/runtime/supervisor.h"'
plant "a peer include" net/nl.c '#include "qmp/qmp.h"'
plant "an include cycle in a folder" lib/model/diag.h '#include "lib/model/topology.h"'

if command -v clang-format >/dev/null; then
	# one clang-format for all files (a start per file was most of this
	# suite's time); it names each file that needs formatting in a
	# "FILE:LINE:COL: error: code should be clang-formatted" line
	git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run -Werror >"$tmp/fmt" 2>&1
	rc=$?
	bad=$(sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' "$tmp/fmt" |
		sort -u)
	[ "$rc" = 0 ] && [ -z "$bad" ]
	ok $? "every C file is clang-formatted (make format)"
	for f in $bad; do diag "not formatted: $f"; done
	if [ "$rc" != 0 ] && [ -z "$bad" ]; then diag "clang-format failed: $(tail -3 "$tmp/fmt")"; fi
else
	skip "clang-format is not installed (make deps)" "every C file is clang-formatted"
fi
done_testing
