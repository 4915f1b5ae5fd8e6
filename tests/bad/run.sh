#!/usr/bin/env bash
# Bad-input corpus: every tests/bad/*.yaml must make `vmrun validate` exit 2
# and print, for each directive at the top of the file,
#   # expect: LINE:COL: TEXT   ->  a line "FILE:LINE:COL: error: ...TEXT..."
#   # hint: TEXT               ->  a line "  hint: ...TEXT..."
# and no other error line unless the file also says "# expect-more".
# A case without any expect line fails.  Cases that would be awkward to
# commit (a NUL byte, an oversized file) are generated into a temp dir.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
VMRUN=${VMRUN:-$here/../../build/vmrun}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# NUL byte in the middle of a key
{
	printf '# expect: 4:4: NUL byte in file\n'
	printf 'version: 1\nguests:\n  a\0b: {}\n'
} >"$tmp/nul-byte.yaml"
# one byte over the 256 KiB cap: refused before parsing
{
	printf '# expect: 1:1: file is larger than 262144 bytes\n'
	printf 'version: 1\n'
	head -c 262144 /dev/zero | tr '\0' '#'
	printf '\n'
} >"$tmp/oversize.yaml"

check_case() { # FILE
	local f=$1 out rc=0 want n_expect=0 n_err line text bad=""
	out=$("$VMRUN" validate "$f" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" -ne 2 ]; then
		bad="exit status $rc, want 2"
	fi
	while IFS= read -r line; do
		case $line in
		'# expect: '*)
			want=${line#'# expect: '}
			n_expect=$((n_expect + 1))
			text=${want#*:*: }
			if ! grep -qF -- "$f:${want%%: *}: error: " <<<"$out" ||
				! grep -F -- "$f:${want%%: *}: error: " <<<"$out" | grep -qF -- "$text"; then
				bad="${bad:+$bad; }missing '$f:$want'"
			fi
			;;
		'# hint: '*)
			want=${line#'# hint: '}
			if ! grep -E '^  hint: ' <<<"$out" | grep -qF -- "$want"; then
				bad="${bad:+$bad; }missing hint '$want'"
			fi
			;;
		esac
	done < <(grep -a -E '^# (expect|hint): ' "$f")
	[ "$n_expect" -gt 0 ] || bad="${bad:+$bad; }no '# expect:' line"
	n_err=$(grep -c -E '^[^ ]+:[0-9]+:[0-9]+: error: ' <<<"$out" || true)
	if ! grep -qa '^# expect-more' "$f" && [ "$n_err" -ne "$n_expect" ]; then
		bad="${bad:+$bad; }$n_err error lines, want $n_expect"
	fi
	if [ -n "$bad" ]; then
		ok 1 "$(basename "$f"): $bad"
		sed 's/^/#   /' <<<"$out" | head -20
	else
		ok 0 "$(basename "$f")"
	fi
}

if [ ! -x "$VMRUN" ]; then
	skip "no vmrun binary at $VMRUN (run make first)" "bad-input corpus"
	done_testing
	exit
fi
ncases=0
for f in "$here"/*.yaml "$tmp"/*.yaml; do
	[ -f "$f" ] || continue
	ncases=$((ncases + 1))
	check_case "$f"
done
[ "$ncases" -ge 40 ]
ok $? "corpus has at least 40 cases ($ncases)"

# Whatever validate refuses, args and run refuse the same way: exit 2 and the
# same first error line (all validation is in the model).  run gets a state
# directory of its own that must stay empty: nothing was started.
state="$tmp/state"
mkdir -p "$state"
agree=0 disagree=()
# first_error TEXT: the first line of TEXT with "error: " in fe (in this
# shell: each verb runs once, and nothing else starts a process)
first_error() {
	local line
	fe=''
	while IFS= read -r line; do
		if [[ $line == *'error: '* ]]; then
			fe=$line
			return
		fi
	done <<<"$1"
}
for f in "$here"/*.yaml "$tmp"/*.yaml; do
	[ -f "$f" ] || continue
	vs=0 as=0 rs=0
	out=$("$VMRUN" validate "$f" 2>&1 >/dev/null) || vs=$?
	first_error "$out"
	v=$fe
	out=$("$VMRUN" args "$f" g 2>&1 >/dev/null) || as=$?
	first_error "$out"
	a=$fe
	out=$("$VMRUN" --state-dir "$state" run "$f" g 2>&1 >/dev/null) || rs=$?
	first_error "$out"
	r=$fe
	if [ "$vs" = 2 ] && [ "$as" = 2 ] && [ "$rs" = 2 ] && [ "$v" = "$a" ] && [ "$v" = "$r" ]; then
		agree=$((agree + 1))
	else
		disagree+=("$(basename "$f"): validate $vs '$v'; args $as '$a'; run $rs '$r'")
	fi
done
ok "${#disagree[@]}" "validate, args and run refuse all $agree cases alike (exit 2, same first error)"
for d in "${disagree[@]}"; do diag "$d"; done
[ -z "$(ls -A "$state")" ]
ok $? "run refused them all before making anything"

# every complete example (a yaml block starting with "version: 1") in the
# topology reference must validate: the docs stay true
doc="$here/../../docs/topology.md"
if [ -f "$doc" ]; then
	awk -v dir="$tmp" '
		/^```yaml$/ { inblk = 1; n++; first = 1; next }
		/^```$/ { inblk = 0; next }
		inblk && first { first = 0; keep = ($0 == "version: 1") }
		inblk && keep { print > (dir "/doc-example-" n ".yml") }
	' "$doc"
	for f in "$tmp"/doc-example-*.yml; do
		[ -f "$f" ] || continue
		rc=0
		out=$("$VMRUN" validate "$f" 2>&1) || rc=$?
		ok "$rc" "docs/topology.md example $(basename "$f" .yml | sed 's/doc-example-//') validates"
		if [ "$rc" -ne 0 ]; then grep 'error:' <<<"$out" | sed 's/^/#   /'; fi
	done
fi
done_testing
