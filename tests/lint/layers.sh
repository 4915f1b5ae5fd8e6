#!/usr/bin/env bash
# The layering rule (docs/architecture.md), after libvirt's
# sc_prohibit_cross_inclusion: a file may include headers of its own layer
# and of layers below it, never above, and never of a peer on its level
# (qmp, net and images know nothing of each other).  Within one folder the
# modules (FILE.c + FILE.h) must not include each other in a cycle.
#
#   tests/lint/layers.sh [ROOT]     (default: the checkout)
#
# One TAP line per rule; a violation names the file, line and include.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
root=${1:-$(cd "$here/../.." && pwd)}
cd "$root" || exit 1

# lowest first; peers share a level
layer_of() {
	case $1 in
	lib/base/*) echo "0 lib/base" ;;
	lib/model/*) echo "1 lib/model" ;;
	lib/plan/*) echo "2 lib/plan" ;;
	qmp/*) echo "3 qmp" ;;
	net/*) echo "3 net" ;;
	images/*) echo "3 images" ;;
	lib/devices/*) echo "4 lib/devices" ;;
	lib/runtime/*) echo "5 lib/runtime" ;;
	compose/*) echo "6 compose" ;;
	cmd/*) echo "7 cmd" ;;
	*) echo "" ;;
	esac
}

bad=()
unknown=()
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
while IFS= read -r f; do
	read -r lf folder <<<"$(layer_of "$f")"
	if [ -z "${lf:-}" ]; then
		unknown+=("$f")
		continue
	fi
	# X_internal.h is part of module X (its private interface)
	mod=${f%.*}
	mod=${mod%_internal}
	while IFS=: read -r ln inc; do
		inc=${inc#*\"}
		inc=${inc%\"*}
		read -r li ifolder <<<"$(layer_of "$inc")"
		if [ -z "${li:-}" ]; then
			[ -f "$inc" ] || continue # a system or library header written with quotes
			bad+=("$f:$ln: includes '$inc', which belongs to no layer")
		elif [ "$li" -gt "$lf" ]; then
			bad+=("$f:$ln: includes '$inc' from $ifolder (layer $li), above $folder (layer $lf)")
		elif [ "$li" -eq "$lf" ] && [ "$ifolder" != "$folder" ]; then
			bad+=("$f:$ln: includes '$inc' from its peer $ifolder")
		elif [ "$ifolder" = "$folder" ]; then
			imod=${inc%.*}
			imod=${imod%_internal}
			[ "$imod" != "$mod" ] && echo "$mod $imod" >>"$edges"
		fi
	done < <(grep -n '^#include "' "$f")
done < <(find lib qmp net images compose cmd -name '*.[ch]' | sort)

ok "${#unknown[@]}" "every source file is in a layer folder"
for u in "${unknown[@]}"; do diag "no layer: $u"; done
ok "${#bad[@]}" "no include goes up a layer or across to a peer"
for b in "${bad[@]}"; do diag "$b"; done
# tsort reports a loop on stderr
loops=$(tsort "$edges" 2>&1 >/dev/null)
[ -z "$loops" ]
ok $? "no two modules of a folder include each other in a cycle"
[ -n "$loops" ] && diag "$loops"
done_testing
