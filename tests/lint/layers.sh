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

# layer_of PATH: its level in lv (lowest first; peers share a level) and its
# folder in lfolder, both empty outside the layers.  It sets variables rather
# than printing them: a command substitution per include was a fork each,
# most of this script's time.
layer_of() {
	case $1 in
	lib/base/*) lv=0 lfolder=lib/base ;;
	lib/model/*) lv=1 lfolder=lib/model ;;
	lib/plan/*) lv=2 lfolder=lib/plan ;;
	qmp/*) lv=3 lfolder=qmp ;;
	net/*) lv=3 lfolder=net ;;
	images/*) lv=3 lfolder=images ;;
	lib/devices/*) lv=4 lfolder=lib/devices ;;
	lib/runtime/*) lv=5 lfolder=lib/runtime ;;
	compose/*) lv=6 lfolder=compose ;;
	cmd/*) lv=7 lfolder=cmd ;;
	*) lv='' lfolder='' ;;
	esac
}

bad=()
unknown=()
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
mapfile -t files < <(find lib qmp net images compose cmd -name '*.[ch]' | sort)
for f in "${files[@]}"; do
	layer_of "$f"
	[ -n "$lv" ] || unknown+=("$f")
done
# every include of every file, in one grep: FILE:LINE:#include "X"
while IFS=: read -r f ln inc; do
	layer_of "$f"
	[ -n "$lv" ] || continue
	lf=$lv folder=$lfolder
	# X_internal.h is part of module X (its private interface)
	mod=${f%.*}
	mod=${mod%_internal}
	inc=${inc#*\"}
	inc=${inc%\"*}
	layer_of "$inc"
	li=$lv ifolder=$lfolder
	if [ -z "$li" ]; then
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
done < <(grep -Hn '^#include "' -- "${files[@]}")

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
