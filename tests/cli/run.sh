#!/usr/bin/env bash
# The command line every verb shares (cmd/opts.c): for each verb `vmrun --help`
# lists, and each sub-verb its --help lists,
#   - --help exits 0 and prints "usage: vmrun VERB" first, lines of at most
#     80 columns, nothing on stderr;
#   - an unknown option exits 2 with exactly one line naming it and
#     "vmrun: see 'vmrun VERB --help'", nothing on stdout;
#   - a wrong number of arguments exits 2 with exactly one
#     "vmrun: error: VERB: ..." line and the same see-help line;
# and the shared value checks, -H/--host, abbreviations and main's own
# messages.  Every check fails before the verb touches anything.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"
VMRUN=${VMRUN:-$top/${BUILD:-build}/vmrun}
if [ ! -x "$VMRUN" ]; then
	ok 1 "$VMRUN is built"
	done_testing
	exit 1
fi
tmp=$(mktemp -d /tmp/vmrt-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
st=$tmp/state
mkdir -p "$st"

# v ARGS...: vmrun with a state directory of our own; $RC, $tmp/out, $tmp/err
v() {
	"$VMRUN" --state-dir "$st" "$@" >"$tmp/out" 2>"$tmp/err"
	RC=$?
}

# wrong_count VERB: arguments that are too few or too many for it, or "-"
# when it takes any number (every verb must be listed here)
wrong_count() {
	case $1 in
	run | up | down | stop | kill | console | validate | image | host | "image prep" | \
		"host up" | "host down" | reboot | pause | resume | inspect | snapshot | disk | \
		"snapshot list" | clone | restart | rm | vnc | media) echo "" ;;
	qmp | args | "image import" | "snapshot create" | "snapshot revert" | \
		"snapshot delete" | "disk grow") echo "a" ;;
	exporter) echo "extra" ;;
	stats) echo "-" ;;
	define | devices) echo "extra" ;;
	health) echo "a b" ;;
	compose | kube) echo "-o $tmp/never a b" ;;
	ps | probe) echo "-" ;;
	*) echo "?" ;;
	esac
}

# the names a parent's --help lists under "verbs:" or "commands:"
listed() {
	sed -n '/^\(verbs\|commands\):$/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'
}

"$VMRUN" --help >"$tmp/main" 2>&1
is "$?" 0 "vmrun --help exits 0"
mapfile -t verbs < <(listed <"$tmp/main")
ok "$([ "${#verbs[@]}" -ge 15 ] && echo 0 || echo 1)" "vmrun --help lists the verbs (${#verbs[@]})"
all=()
for verb in "${verbs[@]}"; do
	all+=("$verb")
	"$VMRUN" "$verb" --help 2>/dev/null | listed >"$tmp/subs"
	while read -r sub; do all+=("$verb $sub"); done <"$tmp/subs"
done

for verb in "${all[@]}"; do
	# shellcheck disable=SC2086 # a sub-verb is two words
	set -- $verb
	v "$@" --help
	is "$RC" 0 "$verb --help exits 0"
	is "$(head -1 "$tmp/out" | grep -c "^usage: vmrun $verb ")" 1 "$verb --help: usage: vmrun $verb"
	is "$(wc -c <"$tmp/err")" 0 "$verb --help: nothing on stderr"
	is "$(awk 'length($0) > 80' "$tmp/out" | wc -l)" 0 "$verb --help: no line over 80 columns"
	grep -q '^  -h, --help ' "$tmp/out"
	ok $? "$verb --help: lists -h, --help"
	grep -q '^exit status: ' "$tmp/out"
	ok $? "$verb --help: says the exit status"

	v "$@" --no-such-option
	is "$RC" 2 "$verb --no-such-option exits 2"
	is "$(cat "$tmp/err")" "vmrun $verb: unrecognized option '--no-such-option'
vmrun: see 'vmrun $verb --help'" "$verb --no-such-option: one line naming it, then the see-help line"
	is "$(wc -c <"$tmp/out")" 0 "$verb --no-such-option: nothing on stdout"

	args=$(wrong_count "$verb")
	case $args in
	"?") ok 1 "$verb: wrong_count in tests/cli/run.sh knows the verb" ;;
	-) ;;
	*)
		# shellcheck disable=SC2086 # the arguments are words
		v "$@" $args
		is "$RC" 2 "$verb ${args:-(no arguments)}: exit 2"
		is "$(grep -c "^vmrun: error: $verb: \(missing\|unexpected argument\) " "$tmp/err")" 1 \
			"$verb ${args:-(no arguments)}: one 'vmrun: error: $verb:' line"
		is "$(sed -n 2p "$tmp/err")" "vmrun: see 'vmrun $verb --help'" \
			"$verb ${args:-(no arguments)}: then the see-help line"
		is "$(wc -l <"$tmp/err")" 2 "$verb ${args:-(no arguments)}: nothing more"
		;;
	esac
done

# main's own options and messages
v
is "$RC" 2 "vmrun without a verb: exit 2"
is "$(head -1 "$tmp/err")" "vmrun: error: missing VERB" "vmrun without a verb: says so"
v nosuch
is "$RC" 2 "an unknown verb: exit 2"
is "$(cat "$tmp/err")" "vmrun: error: unknown verb 'nosuch'
vmrun: see 'vmrun --help'" "an unknown verb: named, then the see-help line"
"$VMRUN" --version >"$tmp/out" 2>&1
is "$?" 0 "vmrun --version exits 0"
grep -q '^vmrun ' "$tmp/out"
ok $? "vmrun --version prints the version"
v image frob
is "$(head -1 "$tmp/err")" "vmrun: error: image: unknown command 'frob' (prep or import)" \
	"an unknown sub-verb: named, with the ones there are"

# --help anywhere; long options spelled out in full
v args a b --help
is "$RC" 0 "--help after the arguments"
v args --acc kvm a b
is "$RC" 2 "an abbreviated option is unknown"
is "$(head -1 "$tmp/err")" "vmrun args: unrecognized option '--acc'" "the abbreviation is named"
v compose --host examples/demo.yaml -o "$tmp/never"
is "$RC" 2 "compose --host is not --host-binary"
[ ! -e "$tmp/never" ]
ok $? "compose: nothing written"

# the shared value checks, one message style
v stop --timeout soon g
is "$RC" 2 "stop --timeout soon: exit 2"
is "$(cat "$tmp/err")" "vmrun: error: stop: invalid --timeout 'soon': want seconds (0-86400)
vmrun: see 'vmrun stop --help'" "stop --timeout soon: the range, then the see-help line"
v up --timeout 0 examples/demo.yaml
is "$(head -1 "$tmp/err")" "vmrun: error: up: invalid --timeout '0': want seconds (1-86400)" \
	"up --timeout 0: out of range"
v args --vhost maybe examples/demo.yaml a
is "$(head -1 "$tmp/err")" "vmrun: error: args: invalid --vhost 'maybe': want on or off" \
	"args --vhost maybe: the choices"
v args --accel hvf examples/demo.yaml a
is "$(head -1 "$tmp/err")" "vmrun: error: args: invalid --accel 'hvf': want auto, kvm or tcg" \
	"args --accel hvf: the choices"
v define --accel hvf --ctrlif eth0 --vm 'a | (1) | vmctrl@eth0'
is "$(head -1 "$tmp/err")" "vmrun: error: define: invalid --accel 'hvf': want auto, kvm or tcg" \
	"define --accel hvf: the same message"
v image import --format vmdk a b
is "$(head -1 "$tmp/err")" "vmrun: error: image import: invalid --format 'vmdk': want qcow2 or raw" \
	"image import --format vmdk: the choices"

# -H, --host [NAME] reads the same in every verb: --host NAME, --host=NAME,
# -H NAME, -HNAME; bare, the verb's default; a HOST argument names it too
mkdir -p "$st/host-h1" "$st/host-local"
: >"$st/host-h1/ready"
for form in "--host h1" "--host=h1" "-H h1" "-Hh1" "h1 --host"; do
	# shellcheck disable=SC2086 # the forms are words
	v health $form
	is "$RC:$(cat "$tmp/out")" "0:host 'h1' is set up" "health $form"
done
v health --host
is "$RC" 1 "health --host: the local machine, not set up"
: >"$st/host-local/ready"
v health --host
is "$RC" 0 "health --host: the local machine, set up"
v health --host h1 h2
is "$(head -1 "$tmp/err")" "vmrun: error: health: --host 'h1' and HOST 'h2': name the host once" \
	"health --host h1 h2: the host named twice"
v host up --host h1 examples/demo.yaml h2
is "$(head -1 "$tmp/err")" "vmrun: error: host up: --host 'h1' and HOST 'h2': name the host once" \
	"host up --host h1 TOPOLOGY h2: the same message"
v up --host h1 examples/demo.yaml a
is "$(head -1 "$tmp/err")" "vmrun: error: up: --host and GUEST exclude each other" \
	"up --host with guest names"
for verb in up "host up" "host down" health; do
	# shellcheck disable=SC2086 # a sub-verb is two words
	"$VMRUN" $verb --help | grep -q '^  -H, --host \[NAME\] '
	ok $? "$verb --help: -H, --host [NAME]"
done

# probe --help describes every feature probe knows
mapfile -t features < <("$VMRUN" --state-dir "$st" probe --json 2>/dev/null |
	sed -n 's/^  "\([a-z-]*\)": {.*/\1/p')
ok "$([ "${#features[@]}" -ge 5 ] && echo 0 || echo 1)" "probe --json names the features"
"$VMRUN" probe --help >"$tmp/out"
for f in "${features[@]}"; do
	grep -q "^  $f  " "$tmp/out"
	ok $? "probe --help describes '$f'"
done

done_testing
