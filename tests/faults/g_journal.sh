#!/usr/bin/env bash
# Fault group "journal": what a dead supervisor's journal may look like
# (docs/supervisor.md, "The undo journal").  A fake QEMU with a macvtap NIC
# in a network namespace of our own; the supervisor is killed at
# host-setup, so its journal holds the macvtap, then the journal is
# damaged:
#   - a last line without its newline (the writer died mid-record): dropped,
#     the rest replayed, the guest starts;
#   - a complete line that is no JSON: nothing starts (exit 1, one error
#     naming the file and line), nothing is touched, `down` says the same;
#   - an entry of a type no handler knows: kept, the start fails (exit 1,
#     one error), the others are undone;
# and in the last two cases the guest stays listed by `vmrun ps` as stale,
# since its journal still holds host changes.
set -u
cd "$(dirname "$0")/../.." || exit 1
FAULTS_GROUP="journal: a damaged journal"
# shellcheck source=tests/faults/lib.bash
. tests/faults/lib.bash
faults_need root fault python3 netns macvtap
export VMRUN_QEMU=$FAKEQEMU
faults_baseline

TOPO=$T/g.yaml
topo_fake "$TOPO" g 2 -- '{name: n0, macvtap: p0, mac: "52:54:00:66:06:01"}'
J=$STATE/g/journal.jsonl

# killed NAME: a supervisor killed at host-setup: its macvtap and entry stay
killed() {
	fstart "$1" "host-setup=die" "$TOPO" g
	fwait_exit "$1" 30
	is "$RC" 137 "$1: the supervisor was killed at host-setup"
	is "$(wc -l <"$J")" 1 "$1: its journal holds the macvtap"
}

# listed_stale NAME: `vmrun ps` lists the guest as stale
listed_stale() {
	local out
	out=$(v ps 2>/dev/null | awk '$1 == "g" { print $2 }')
	is "$out" stale "$1: ps lists the guest as stale, its journal holding changes"
}

v() { in_ns "$VMRUN" --state-dir "$STATE" "$@"; }

# --- a half-written last line
killed partial
printf '{"type":"net.link","ifname":"vm-5254' >>"$J"
fstart partial-run "" "$TOPO" g
wait_ready partial-run g 30
ok $? "partial: the next run drops the half line and starts" || sed 's/^/# /' "$T/partial-run.err"
grep -q "undid 1 host change" "$T/partial-run.err"
ok $? "partial: it undid the one complete entry"
kill -TERM "${RUN_PID[partial-run]}"
fwait_exit partial-run 30
is "$RC" 0 "partial: the guest stops cleanly"
faults_clean partial

# --- a corrupt complete line
if [ "$FAULTS_QUICK" != 1 ]; then
	killed corrupt
	printf 'not json\n' >>"$J"
	fstart corrupt-run "" "$TOPO" g
	fwait_exit corrupt-run 30
	is "$RC" 1 "corrupt: the next run refuses to start"
	grep -q "^vmrun: error: journal '$J' line 2: " "$T/corrupt-run.err"
	ok $? "corrupt: naming the journal and the line" || sed 's/^/# /' "$T/corrupt-run.err"
	is "$(errors "$T/corrupt-run.err")" 1 "corrupt: exactly one error line"
	ip -n "$NS" link show vm-525400660601 >/dev/null 2>&1
	ok $? "corrupt: nothing was undone by guesswork (the macvtap is still there)"
	out=$(v down "$TOPO" 2>&1)
	is "$?" 1 "corrupt: down fails too"
	is "$(grep -c '^vmrun: error:' <<<"$out")" 1 "corrupt: with one error"
	listed_stale corrupt
	# dealt with by hand, as the hint says
	ip -n "$NS" link del vm-525400660601
	: >"$J"
	faults_clean corrupt
fi

# --- an entry no handler knows
killed unknown
printf '{"type":"frobnicate.thing"}\n' >>"$J"
fstart unknown-run "" "$TOPO" g
fwait_exit unknown-run 30
is "$RC" 1 "unknown: the next run fails"
grep -q "^vmrun: error: .*unknown type 'frobnicate.thing'" "$T/unknown-run.err"
ok $? "unknown: naming the type" || sed 's/^/# /' "$T/unknown-run.err"
is "$(errors "$T/unknown-run.err")" 1 "unknown: exactly one error line"
ip -n "$NS" link show vm-525400660601 >/dev/null 2>&1
ok $((!$?)) "unknown: the entries it knows were undone (the macvtap is gone)"
is "$(cat "$J")" '{"type":"frobnicate.thing"}' "unknown: only the unknown entry is kept"
listed_stale unknown
: >"$J"
faults_clean unknown

done_testing
