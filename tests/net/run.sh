#!/usr/bin/env bash
# `vmrun host up|down` in network namespaces this test creates (vmrt-net-PID
# and its peer vmrt-net-PID-b, joined by a veth pair): the vmctrl interface
# on the ctrlif parent found by MAC, its address and permanent neighbour
# entries, traffic through it, the journal that `down` and a second `up`
# replay, the foreground mode and its lock, a foreign vmctrl left alone, a missing parent,
# and the namespace's link list exactly as before after each undo.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh

VMRUN=${VMRUN:-$top/${BUILD:-build}/vmrun}
unset VMRUN_STATE_DIR VMRUN_SYSFS_ROOT VMRUN_DEV_ROOT
ns=vmrt-net-$$
peer=vmrt-net-$$-b
tmp=$(mktemp -d /tmp/vmrt-net-XXXXXX)
conf=$tmp/vmrun.conf
state=$tmp/state

cleanup() {
	ip netns del "$ns" 2>/dev/null
	ip netns del "$peer" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	skip "needs root and iproute2 for network namespaces" "host up/down"
	done_testing
	exit 0
fi
if [ ! -x "$VMRUN" ]; then
	ok 1 "vmrun binary '$VMRUN' exists (run make first)"
	done_testing
	exit 1
fi

printf '[vmrun]\nstate_dir = %s\n' "$state" >"$conf"
in_ns() { ip netns exec "$ns" "$@"; }
vmrun() { in_ns "$VMRUN" --config "$conf" "$@"; }
links() { ip -n "$ns" -o link show | sed -E 's/^[0-9]+: ([^:@]+).*/\1/' | sort | tr '\n' ' '; }
ping1() { in_ns busybox ping -c 1 -W 2 "$1" >/dev/null 2>&1; }

ip netns add "$ns" && ip netns add "$peer" &&
	ip -n "$ns" link add v0 address 02:00:00:00:00:01 type veth peer name v1 netns "$peer" &&
	ip -n "$ns" link set v0 up && ip -n "$peer" link set v1 up &&
	ip -n "$peer" addr add 172.25.160.9/24 dev v1
ok $? "namespaces $ns and $peer joined by a veth pair"

cat >"$tmp/topo.yaml" <<'EOF'
version: 1
ctrlif: {parent: "02:00:00:00:00:01", address: 172.25.160.1/24}
guests:
  a:
    accel: tcg
    nics: [{name: vmctrl, macvtap: v0, ip: 172.25.160.3/24, mac: "52:de:ac:19:a0:03"}]
  b:
    accel: tcg
    nics: [{name: vmctrl, macvtap: v0, ip: 172.25.160.4/24, mac: "52:de:ac:19:a0:04"}]
EOF

base=$(links)
out=$(vmrun host up "$tmp/topo.yaml" 2>&1)
ok $? "host up succeeds ($out)"
detail=$(ip -n "$ns" -d link show vmctrl 2>&1)
case $detail in *"macvtap mode bridge"*) r=0 ;; *) r=1 ;; esac
ok $r "vmctrl is a macvtap in bridge mode"
case $detail in *"link/ether 52:de:ac:19:a0:01 "*) r=0 ;; *) r=1 ;; esac
ok $r "vmctrl has ip2mac of the ctrlif address"
case $detail in *"vmctrl@v0"*) r=0 ;; *) r=1 ;; esac
ok $r "vmctrl hangs off v0, the link with the ctrlif MAC"
case $detail in *"alias vmrun:host-local:vmctrl"*) r=0 ;; *) r=1 ;; esac
ok $r "vmctrl carries the owner mark"
is "$(ip -n "$ns" -o -4 addr show dev vmctrl | awk '{print $4}')" "172.25.160.1/24" "vmctrl has the ctrlif address"
is "$(ip -n "$ns" neigh show dev vmctrl nud permanent | sed 's/ *$//' | sort | tr '\n' ';')" \
	"172.25.160.3 lladdr 52:de:ac:19:a0:03 PERMANENT;172.25.160.4 lladdr 52:de:ac:19:a0:04 PERMANENT;" \
	"permanent neighbour entries for every guest's vmctrl"
ping1 172.25.160.9
ok $? "the host reaches the control network through vmctrl"
vmrun health --host >/dev/null 2>&1
ok $? "health --host says the host is set up"

out=$(vmrun host up "$tmp/topo.yaml" 2>&1)
ok $? "a second host up succeeds (it replays the first)"
is "$(ip -n "$ns" -o link show | grep -c ' vmctrl@')" "1" "there is still one vmctrl"

vmrun host down "$tmp/topo.yaml" >/dev/null 2>&1
ok $? "host down succeeds"
is "$(links)" "$base" "after host down the link list is as before"
! vmrun health --host >/dev/null 2>&1
ok $? "health --host fails after host down"
vmrun host down "$tmp/topo.yaml" >/dev/null 2>&1
ok $? "a second host down is harmless"

# foreground: set up, wait for SIGTERM, undo
ip netns exec "$ns" "$VMRUN" --config "$conf" host up --foreground "$tmp/topo.yaml" >"$tmp/fg.out" 2>&1 &
fg=$!
for _ in $(seq 50); do [ -e "$state/host-local/ready" ] && break; sleep 0.1; done
[ -e "$state/host-local/ready" ] && ip -n "$ns" link show vmctrl >/dev/null 2>&1
ok $? "host up --foreground sets up and stays"
out=$(vmrun host down "$tmp/topo.yaml" 2>&1)
is "$?" "1" "host down while host up --foreground runs fails"
case $out in *"host 'local' is in the hands of another 'vmrun host' (pid $fg)"*) r=0 ;; *) r=1 ;; esac
ok $r "naming the process that holds the host ($out)"
ip -n "$ns" link show vmctrl >/dev/null 2>&1 && [ -e "$state/host-local/ready" ]
ok $? "and undid nothing"
kill -TERM "$fg"
wait "$fg"
ok $? "it exits 0 on SIGTERM"
is "$(links)" "$base" "and undid the setup"

# a vmctrl vmrun did not make
ip -n "$ns" link add link v0 name vmctrl address 02:00:00:00:00:77 type macvlan
before=$(ip -n "$ns" -d link show vmctrl | head -2)
out=$(vmrun host up "$tmp/topo.yaml" 2>&1)
rc=$?
is "$rc" "1" "host up with a foreign vmctrl fails"
case $out in *"interface 'vmctrl' exists and is not ours"*) r=0 ;; *) r=1 ;; esac
ok $r "saying the interface is not ours ($out)"
is "$(ip -n "$ns" -d link show vmctrl | head -2)" "$before" "the foreign vmctrl is untouched"
vmrun host down "$tmp/topo.yaml" >/dev/null 2>&1
ip -n "$ns" link show vmctrl >/dev/null 2>&1
ok $? "host down leaves the foreign vmctrl alone"
ip -n "$ns" link del vmctrl

# a ctrlif parent that does not exist
sed 's/02:00:00:00:00:01/02:00:00:00:00:99/' "$tmp/topo.yaml" >"$tmp/nopar.yaml"
out=$(vmrun host up "$tmp/nopar.yaml" 2>&1)
is "$?" "1" "host up with a missing ctrlif parent fails"
is "$out" "vmrun: error: ctrlif: host netif not found for '02:00:00:00:00:99': No such device" \
	"the error names the MAC"
is "$(links)" "$base" "nothing was created"

out=$(vmrun host up "$tmp/topo.yaml" nosuchhost 2>&1)
is "$?" "2" "an unknown host is bad usage"

# named hosts: the ctrlif lives on the primary one only
{ printf 'hosts:\n  lab1: {primary: true}\n  lab2: {}\n'; sed 1d "$tmp/topo.yaml"; } |
	sed '1i version: 1' >"$tmp/hosts.yaml"
vmrun host up "$tmp/hosts.yaml" lab2 >/dev/null 2>&1
ok $? "host up for a secondary host succeeds"
is "$(links)" "$base" "and makes no vmctrl there"
[ -e "$state/host-lab2/ready" ]
ok $? "its state is STATE/host-lab2"
vmrun host up "$tmp/hosts.yaml" lab1 >/dev/null 2>&1 && ip -n "$ns" link show vmctrl >/dev/null 2>&1
ok $? "host up for the primary host makes vmctrl"
vmrun host down "$tmp/hosts.yaml" lab1 >/dev/null 2>&1 && vmrun host down "$tmp/hosts.yaml" lab2 >/dev/null 2>&1
ok $? "both hosts down"
is "$(links)" "$base" "the link list is as before"

done_testing
