# shellcheck shell=bash
# shellcheck disable=SC2154 # top, T, TESTGUEST, real_home: set by run.sh
# The test guest (docs/testguest.md), sourced by tests/images/run.sh: its build
# is cached, it configures addresses, pings, and powers off on the ACPI
# power button (or ignores it with vmrun.noacpi=1).

tg_qmp() { # tg_qmp SOCKET CONSOLE MARKER: wait for MARKER, system_powerdown, report
	python3 - "$1" "$2" "$3" <<'PY'
import json, select, socket, sys, time
sock, console, marker = sys.argv[1], sys.argv[2], sys.argv[3].encode()
deadline = time.time() + 120
while time.time() < deadline:
    try:
        if marker in open(console, "rb").read():
            break
    except FileNotFoundError:
        pass
    time.sleep(0.2)
else:
    print("timeout waiting for " + sys.argv[3]); sys.exit(1)
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
buf = b""
def messages(seconds):
    """QMP messages until EOF or `seconds` without one."""
    global buf
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield json.loads(line)
        if not select.select([s], [], [], seconds)[0]:
            return
        data = s.recv(65536)
        if not data:
            return
        buf += data
def send(cmd):
    s.sendall((json.dumps({"execute": cmd}) + "\n").encode())
next(messages(10))  # the greeting
send("qmp_capabilities"); send("system_powerdown")
events = []
for m in messages(8):
    if "event" in m:
        events.append(m["event"] + (":" + str(m["data"].get("reason")) if "data" in m else ""))
if "SHUTDOWN:guest-shutdown" not in events:
    send("query-status")
    for m in messages(10):
        if isinstance(m.get("return"), dict) and "status" in m["return"]:
            events.append("status:" + m["return"]["status"]); break
    send("quit")
print(" ".join(events))
PY
}

tg_boot() { # tg_boot NAME APPEND: boot in the background with QMP on NAME.sock
	rm -f "$T/$1.sock" "$T/$1.log"
	timeout 150 qemu-system-x86_64 -accel tcg,thread=multi -machine q35 -m 256 -nodefaults \
		-nographic -serial "file:$T/$1.log" -monitor none \
		-qmp "unix:$T/$1.sock,server=on,wait=off" \
		-kernel "$TESTGUEST/vmlinuz" -initrd "$TESTGUEST/initrd.img" -append "console=ttyS0 quiet $2" \
		-netdev user,id=n0 -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56 </dev/null \
		>"$T/$1.qemu" 2>&1 &
}

if ! need qemu-system-x86_64 || [ ! -f "$TESTGUEST/initrd.img" ]; then
	skip "no qemu-system-x86_64 or no test guest in $TESTGUEST (make testguest)" "test guest"
else
	if need apt-cache && apt-cache policy busybox-static 2>/dev/null | grep -q 'Candidate: [0-9]'; then
		before=$(stat -c '%Y %s' "$TESTGUEST/vmlinuz" "$TESTGUEST/initrd.img")
		msg=$(HOME=$real_home "$top/images/testguest/build.sh" "$TESTGUEST" 2>&1)
		is "$?" "0" "test guest build re-run exits 0"
		ok "$(echo "$msg" | grep -q 'is up to date'; echo $?)" "unchanged inputs: nothing rebuilt ($msg)"
		is "$(stat -c '%Y %s' "$TESTGUEST/vmlinuz" "$TESTGUEST/initrd.img")" "$before" \
			"unchanged inputs: vmlinuz and initrd.img untouched"
	else
		skip "apt has no package lists here" "test guest build cache"
	fi

	tg_boot acpi "printk.time=1 vmrun.ip=52:54:00:12:34:56,10.0.2.15/24 vmrun.ping=10.0.2.2,2"
	qpid=$!
	events=$(tg_qmp "$T/acpi.sock" "$T/acpi.log" "vmrun-testguest: ping ")
	wait "$qpid"
	is "$?" "0" "test guest: QEMU exits 0 after system_powerdown"
	ok "$([[ $events == *SHUTDOWN:guest-shutdown* ]]; echo $?)" "test guest: guest-initiated shutdown ($events)"
	log=$(tr -d '\r' <"$T/acpi.log" | grep -a -o 'vmrun-testguest: .*')
	ok "$(echo "$log" | grep -qx 'vmrun-testguest: nic eth0 52:54:00:12:34:56'; echo $?)" "test guest lists its NIC"
	ok "$(echo "$log" | grep -qx 'vmrun-testguest: ip eth0 10.0.2.15/24'; echo $?)" "vmrun.ip configures the NIC with that MAC"
	ok "$(echo "$log" | grep -qx 'vmrun-testguest: ping 10.0.2.2 ok'; echo $?)" "vmrun.ping reaches the peer"
	ok "$(echo "$log" | grep -qx 'vmrun-testguest: powering off'; echo $?)" "power button: 'powering off'"
	# the guest's own timestamps of a stop, for bench/stoplat.sh
	ok "$(tr -d '\r' <"$T/acpi.log" | grep -aEq '^\[ *[0-9]+\.[0-9]{6}\] vmrun-testguest: power button$'; echo $?)" \
		"power button: a line with the kernel's timestamp (printk.time=1)"
	ok "$(tr -d '\r' <"$T/acpi.log" | grep -aEq '^\[ *[0-9]+\.[0-9]{6}\] reboot: Power down$'; echo $?)" \
		"power off: the kernel's last line with its timestamp"
	while IFS= read -r l; do echo "# $l"; done <<<"$log"

	tg_boot noacpi "vmrun.noacpi=1"
	qpid=$!
	events=$(tg_qmp "$T/noacpi.sock" "$T/noacpi.log" "vmrun-testguest: booted")
	wait "$qpid"
	ok "$([[ $events == *status:running* && $events != *guest-shutdown* ]]; echo $?)" \
		"vmrun.noacpi=1: the power button is ignored ($events)"
	ok "$(grep -aq 'vmrun-testguest: ignoring the power button' "$T/noacpi.log"; echo $?)" \
		"vmrun.noacpi=1: says so"
fi
