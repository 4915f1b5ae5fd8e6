#!/usr/bin/env bash
# `watchdog:` with real QEMU under TCG: the generic-kernel test guest (the
# cloud kernel has no i6300esb driver) arms the watchdog at boot and never
# feeds it (vmrun.watchdog=1, a 5 s heartbeat).
# - action reset (the topology's): QEMU's WATCHDOG and RESET events, the
#   guest boots again;
# - action poweroff (set over QMP meanwhile, to spare a third boot; the
#   topology's poweroff is in the goldens): QEMU exits and `vmrun run` ends
#   with status 6.
# In `make check-deep`: two boots of the generic kernel and two watchdog
# timeouts take a minute or more under TCG; tests/integration/guestdev.sh
# proves the supervisor's side with a fake QEMU.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash
unset VMRUN_QEMU
BOOT=240

GENERIC=$top/${BUILD:-build}/testguest-generic
[ -d "$GENERIC" ] || GENERIC=$top/build/testguest-generic
if [ ! -f "$GENERIC/vmlinuz" ] || [ ! -f "$GENERIC/initrd.img" ]; then
	skip "no generic-kernel test guest in $GENERIC (run make testguest-generic)" \
		"watchdog suite"
	done_testing
	exit
fi

# wtopo ACTION: guest w with the watchdog armed at boot
wtopo() {
	cat >"$T/w.yaml" <<EOF
version: 1
guests:
  w:
    accel: tcg
    memory: 256M
    kernel: $GENERIC/vmlinuz
    initrd: $GENERIC/initrd.img
    append: console=ttyS0 quiet vmrun.watchdog=1
    watchdog: {action: $1}
EOF
}

# --- reset, then poweroff: one guest, the action changed while it reboots
wtopo reset
run_start r "$T/w.yaml" w
run_wait_ready r w "$BOOT"
ok $? "guest with a watchdog is ready"
grep -qx -- "watchdog=reset" <(tr '\0' '\n' <"/proc/$(qemu_pid w)/cmdline")
ok $? "QEMU runs with -action watchdog=reset"
run_wait_grep "$T/r.out" "vmrun-testguest: watchdog watchdog0 i6300ESB timer" "$BOOT"
ok $? "the guest sees the i6300esb"
run_wait_grep "$T/r.out" "vmrun-testguest: watchdog armed" "$BOOT"
ok $? "and arms it"
run_wait_grep "$STATE/w/events.jsonl" '"event":"WATCHDOG","data":{"action":"reset"' 120
ok $? "QEMU reports WATCHDOG, action reset"
run_wait_grep "$STATE/w/events.jsonl" '"event":"RESET","data":{"guest":true,"reason":"guest-reset"}' 30
ok $? "and resets the guest"
# the guest arms it again as it boots: this time it powers off
"$VMRUN" --state-dir "$STATE" qmp w watchdog-set-action '{"action": "poweroff"}' >/dev/null
ok $? "the action becomes poweroff (QMP watchdog-set-action)"
grep -q "guest 'w': the watchdog fired (action reset)" "$T/r.err"
ok $? "the supervisor logs the reset"
for ((i = 0; i < BOOT * 20; i++)); do
	[ "$(grep -ac 'vmrun-testguest: booted' "$T/r.out")" -ge 2 ] && break
	kill -0 "${RUN_PID[r]}" 2>/dev/null || break
	sleep 0.05
done
[ "$(grep -ac 'vmrun-testguest: booted' "$T/r.out")" -ge 2 ]
ok $? "the guest boots again"
run_wait_exit r "$((BOOT + 120))"
is "$RC" 6 "the watchdog powers the guest off: exit status 6"
grep -q '"event":"WATCHDOG","data":{"action":"poweroff"' "$STATE/w/events.jsonl"
ok $? "after QEMU's WATCHDOG event, action poweroff"
grep -q "guest 'w': QEMU exited with status 0, exit status 6" "$T/r.err"
ok $? "the supervisor says how it ended"
is "$(json_get "$STATE/w/status.json" 'j["exit_status"]')" 6 "status.json records exit status 6"
torn_down w
ok $? "torn down"

done_testing
