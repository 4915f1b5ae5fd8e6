#!/usr/bin/env bash
# vmrun define: golden topologies, rejected flags, and the 5gdeploy README example.
#
# Each case is a directory tests/define/<case>/ holding
#   flags          the arguments after `vmrun define`, one per line (no shell quoting)
#   expected.yaml  the exact standard output; the run must succeed and the
#                  output must pass `vmrun validate`
# or
#   expected.err   lines that must each appear in standard error; the run
#                  must exit 2 and print nothing on standard output
#   *.pub          public key files the flags name (--ssh-key)
# Paths in flags are relative to the top of the repository.  Any other file
# in a case directory is an error.  REGEN=1 rewrites the
# expected.yaml files from the current output (review the diff).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# shellcheck disable=SC1091
. "$top/tests/lib/tap.sh"
VMRUN=${VMRUN:-$top/build/vmrun}
if [ ! -x "$VMRUN" ]; then
	ok 1 "$VMRUN is built"
	done_testing
	exit 1
fi
here=$top/tests/define
tmp=$(mktemp -d /tmp/vmrt-define.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# cases without --image take it from this config, never from the host's
conf=$tmp/vmrun.conf
printf '[vmrun]\nimage_dir = /srv/vmrun-images\n' >"$conf"

define() { "$VMRUN" --config "$conf" define "$@"; }
has_verb() { "$VMRUN" --help 2>/dev/null | grep -qE "^  $1 "; }

validate_ok=0
has_verb validate || validate_ok=1

for case in "$here"/*/; do
	name=$(basename "$case")
	for f in "$case"* "$case".[!.]*; do
		[ -e "$f" ] || continue
		case $(basename "$f") in
		flags | expected.yaml | expected.err | *.pub) ;;
		*) ok 1 "$name: stray file $(basename "$f")" ;;
		esac
	done
	if [ ! -f "$case/flags" ]; then
		ok 1 "$name: no flags file"
		continue
	fi
	if [ -f "$case/expected.yaml" ] && [ -f "$case/expected.err" ]; then
		ok 1 "$name: both expected.yaml and expected.err"
		continue
	fi
	args=()
	while IFS= read -r line || [ -n "$line" ]; do
		[ -n "$line" ] && args+=("$line")
	done <"$case/flags"
	define "${args[@]}" >"$tmp/out" 2>"$tmp/err"
	rc=$?

	if [ -f "$case/expected.err" ]; then
		is "$rc" 2 "$name: rejected with exit status 2"
		ok "$([ -s "$tmp/out" ] && echo 1 || echo 0)" "$name: nothing on standard output"
		while IFS= read -r want || [ -n "$want" ]; do
			[ -n "$want" ] || continue
			if grep -qF -- "$want" "$tmp/err"; then
				ok 0 "$name: says '$want'"
			else
				ok 1 "$name: says '$want'"
				sed 's/^/#   stderr: /' "$tmp/err"
			fi
		done <"$case/expected.err"
		continue
	fi

	if [ ! -f "$case/expected.yaml" ] && [ "${REGEN:-0}" != 1 ]; then
		ok 1 "$name: no expected.yaml or expected.err (REGEN=1 creates expected.yaml)"
		continue
	fi
	is "$rc" 0 "$name: accepted"
	[ "$rc" -eq 0 ] || sed 's/^/#   stderr: /' "$tmp/err"
	if [ "${REGEN:-0}" = 1 ]; then
		cp "$tmp/out" "$case/expected.yaml"
		diag "$name: expected.yaml regenerated"
	fi
	if diff -u "$case/expected.yaml" "$tmp/out" >"$tmp/diff"; then
		ok 0 "$name: output matches expected.yaml"
	else
		ok 1 "$name: output matches expected.yaml"
		sed 's/^/#   /' "$tmp/diff" | head -40
	fi
	if [ "$validate_ok" -ne 0 ]; then
		skip "this vmrun has no validate verb" "$name: vmrun validate accepts it"
	else
		"$VMRUN" validate "$tmp/out" >"$tmp/vout" 2>&1
		vrc=$?
		is "$vrc" 0 "$name: vmrun validate accepts it"
		[ "$vrc" -eq 0 ] || sed 's/^/#   validate: /' "$tmp/vout"
	fi
done

# -o writes the same text as standard output, atomically, to a file
mapfile -t args <"$here/readme/flags"
define "${args[@]}" -o "$tmp/readme.yaml" >"$tmp/out" 2>"$tmp/err"
is "$?" 0 "-o FILE succeeds"
ok "$([ -s "$tmp/out" ] && echo 1 || echo 0)" "-o FILE: nothing on standard output"
cmp -s "$tmp/readme.yaml" "$here/readme/expected.yaml"
ok $? "-o FILE holds the expected topology"

# --image replaces the config's image directory
define "${args[@]}" --image /x/base.qcow2 | grep -qx '  image: /x/base.qcow2'
ok $? "--image sets defaults.image"

# --help and stray arguments
define --help | grep -q -- '--ctrlif'
ok $? "define --help documents --ctrlif"
define --ctrlif eth1 --vm 'a | (1) | vmctrl@eth1' extra >/dev/null 2>"$tmp/err"
is "$?" 2 "a stray argument is a usage error"
grep -q "unexpected argument 'extra'" "$tmp/err"
ok $? "the stray argument is named"

# 5gdeploy's README example: validates, and `args` shows what 5gdeploy ran
if ! has_verb args; then
	skip "this vmrun has no args verb yet" "README example: args for guest a"
else
	"$VMRUN" args "$tmp/readme.yaml" a >"$tmp/args" 2>"$tmp/err"
	rc=$?
	is "$rc" 0 "README example: vmrun args OUT a succeeds"
	[ "$rc" -eq 0 ] || sed 's/^/#   stderr: /' "$tmp/err"
	grep -A1 -x -- '-smp' "$tmp/args" | tail -n1 | grep -qE '^(cpus=)?10(,|$)|"cpus": ?10[,}]'
	ok $? "README example: guest a has 10 vCPUs (-smp 10)"
	grep -qF 'mac=52:de:ac:19:a0:03' "$tmp/args" || grep -qF '"mac":"52:de:ac:19:a0:03"' "$tmp/args"
	ok $? "README example: vmctrl NIC with MAC 52:de:ac:19:a0:03"
	grep -qF 'mac=52:de:ac:19:a2:03' "$tmp/args" || grep -qF '"mac":"52:de:ac:19:a2:03"' "$tmp/args"
	ok $? "README example: n6 NIC with MAC 52:de:ac:19:a2:03"
fi

done_testing
