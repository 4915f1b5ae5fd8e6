#!/usr/bin/env bash
# Real cloud-init applies vmrun's seed: a Debian 12 guest built from Debian's
# packages (images/debguest/build.sh: cloud-init 22.4, netplan over
# systemd-networkd, openssh-server; cached in ~/.cache/vmrun/debguest), booted
# by `vmrun run` under TCG inside a network namespace of our own, checked over
# ssh from that namespace:
#   - root@<vmctrl address> with the topology's key, as 5gdeploy's --use-vm
#     assumes, and the default user (debian) with the same key;
#   - the hostname, and that it resolves through /etc/hosts (manage_etc_hosts;
#     sudo does not complain "unable to resolve host");
#   - static addresses on the NICs matched by MAC and renamed;
#   - no router adverts and no link-local address on lab NICs, both kept on
#     the NIC with ipv6_auto: true;
#   - cloud_init.password for root and for the default user, by password SSH
#     login (what `password:` promises, docs/images.md);
#   - the macvtaps' parent, down before, raised by vmrun and down again after.
#
# Long (a few minutes: the guest boots under TCG, cloud-init is Python; the
# first image build takes longer), so in `make check-deep`, not `make check`,
# whose fast proof is tests/images/cloudinit_code.sh (cloud-init's own code on
# the seed, no guest).  VMRUN_DEEP_BOOT_TIMEOUT (default 1200 s) bounds the
# wait for ssh on a loaded machine.  Skips with the reason where the image
# cannot be built (no debootstrap, no Debian mirror) or there is no ssh client.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/integration/run_lib.bash
. tests/integration/run_lib.bash
what="real cloud-init applies the seed (Debian 12 guest)"

for c in ssh ssh-keygen debootstrap mkfs.ext4 qemu-img; do
	if ! command -v "$c" >/dev/null; then
		skip "'$c' is not installed (make deps)" "$what"
		done_testing
		exit 0
	fi
done
ns=vmrt-ci-$$
if [ "$(id -u)" -ne 0 ] || ! ip netns add "$ns" 2>/dev/null; then
	skip "needs root and a network namespace" "$what"
	done_testing
	exit 0
fi
ci_cleanup() {
	run_cleanup
	ip netns del "$ns" 2>/dev/null
}
trap ci_cleanup EXIT
unset VMRUN_QEMU

img=${VMRUN_DEBGUEST:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrun/debguest}
if ! nice -n 10 images/debguest/build.sh "$img" >"$T/build.log" 2>&1; then
	skip "cannot build the Debian guest: $(grep 'error:' "$T/build.log" | tail -1)" "$what"
	done_testing
	exit 0
fi
ok 0 "Debian guest image in $img ($(tail -1 "$T/build.log"))"

ip -n "$ns" link add c0 type veth peer name c1 &&
	ip -n "$ns" link set c1 up &&
	ip -n "$ns" addr add 10.79.0.1/24 dev c1 &&
	ip -n "$ns" addr add 10.79.6.1/24 dev c1 &&
	ip -n "$ns" addr add 10.79.9.1/24 dev c1
ok $? "namespace $ns: veth c0 (down, the macvtaps' parent) and c1 (the test's side)"

ssh-keygen -q -t ed25519 -N '' -C vmrun-test -f "$T/key"
pw='vmrun-Pw-4711'
printf '#!/bin/sh\necho %s\n' "$pw" >"$T/askpass"
chmod 0700 "$T/askpass"
cat >"$T/deb.yaml" <<EOF
version: 1
guests:
  deb:
    accel: tcg
    vcpus: 2
    memory: 1G
    kernel: $img/vmlinuz
    initrd: $img/initrd.img
    append: root=/dev/vda ro console=ttyS0
    stop_timeout: 300
    disks:
      - {file: $T/root.qcow2, backing: $img/root.qcow2}
    nics:
      - {name: vmctrl, mac: "52:54:00:79:00:03", ip: 10.79.0.3/24, macvtap: c0}
      - {name: n6, mac: "52:54:00:79:06:03", ip: 10.79.6.3/24, macvtap: c0}
      - {name: n9, mac: "52:54:00:79:09:03", ip: 10.79.9.3/24, macvtap: c0, ipv6_auto: true}
    cloud_init:
      hostname: deb1
      password: "$pw"
      ssh_authorized_keys: ["$(cat "$T/key.pub")"]
EOF

: >"$T/deb.out"
: >"$T/deb.err"
ip netns exec "$ns" "$VMRUN" --state-dir "$STATE" run "$T/deb.yaml" deb >>"$T/deb.out" 2>>"$T/deb.err" &
RUN_PID["deb"]=$!
run_wait_ready deb deb 120
r=$?
ok $r "vmrun run: the guest runs"
[ $r -ne 0 ] && sed 's/^/# /' "$T/deb.err"
ip -n "$ns" -o link show dev c0 | grep -q '[<,]UP[,>]'
ok $? "the macvtaps' parent c0 was raised"

sshopt=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
	-o ConnectTimeout=30)
# ssh's own failures (255: no connection, a banner that came too late on a
# loaded machine) are retried; the command's status is passed on
gssh_to() { # ADDRESS USER COMMAND...: ssh with the key from the namespace
	local a=$1 u=$2 i r
	shift 2
	for i in 1 2 3 4 5; do
		ip netns exec "$ns" ssh "${sshopt[@]}" -o BatchMode=yes -i "$T/key" "$u@$a" "$@"
		r=$?
		[ $r -ne 255 ] && return $r
		sleep $((i * 5))
	done
	return $r
}
gssh() { gssh_to 10.79.0.3 "$@"; }
pwssh() { # USER COMMAND...: ssh with the password only (stderr: $T/pw.err)
	local u=$1 i r
	shift
	for i in 1 2 3 4 5; do
		SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=none \
			ip netns exec "$ns" setsid -w ssh "${sshopt[@]}" -o PubkeyAuthentication=no \
			-o PreferredAuthentications=password,keyboard-interactive \
			-o NumberOfPasswordPrompts=1 "$u@10.79.0.3" "$@" </dev/null 2>"$T/pw.err"
		r=$?
		# a refused password is 255 too: retry only what never got that far
		if [ $r -ne 255 ] || grep -q 'Permission denied' "$T/pw.err"; then
			return $r
		fi
		sleep $((i * 5))
	done
	return $r
}

start=$SECONDS
up=1
while ((SECONDS - start < ${VMRUN_DEEP_BOOT_TIMEOUT:-1200})); do
	if gssh root true 2>/dev/null; then
		up=0
		break
	fi
	kill -0 "${RUN_PID[deb]}" 2>/dev/null || break
	sleep 5
done
ok $up "ssh root@10.79.0.3 (vmctrl) with the topology's key answers after $((SECONDS - start)) s"
if [ $up -ne 0 ]; then
	diag "console (last lines):"
	tail -30 "$STATE/deb/console.log" 2>/dev/null | sed 's/^/#   /'
	done_testing
	exit 1
fi
# ssh comes up before cloud-init's last stage (passwords) is done
gssh root cloud-init status --wait >"$T/status" 2>&1
ok $? "cloud-init finished without errors: $(tr -d '.' <"$T/status" | tr '\n' ' ')"
gssh root 'cloud-init status --long; grep -E "WARNING|ERROR|Traceback|Failed" /var/log/cloud-init.log | tail -20' 2>&1 |
	sed 's/^/#   /'
is "$(gssh root cloud-init query v1.platform 2>/dev/null)" "nocloud" "datasource NoCloud"
is "$(gssh root id -un)" "root" "logged in as root"
is "$(gssh debian id -un 2>&1)" "debian" "the default user (debian) has the key too"

is "$(gssh root hostname)" "deb1" "hostname from the seed"
is "$(gssh root getent hosts deb1 | awk '{print $1}')" "127.0.1.1" \
	"the hostname resolves through /etc/hosts (manage_etc_hosts)"
is "$(gssh debian 'sudo -n true 2>&1')" "" "sudo says nothing about resolving the host"

for n in vmctrl:00 n6:06 n9:09; do
	name=${n%%:*} net=${n##*:}
	is "$(gssh root ip -br -4 addr show dev "$name" | awk '{print $3}')" "10.79.$((10#$net)).3/24" \
		"$name: static address from network-config"
	is "$(gssh root cat "/sys/class/net/$name/address")" "52:54:00:79:$net:03" \
		"$name: matched by MAC and renamed"
done
# systemd-networkd handles router adverts itself (the kernel's accept_ra stays
# 0 on every interface it manages): what counts is the .network file netplan
# generated from cloud-init's network config
netfile() { gssh root "echo x; grep -h -E '^(IPv6AcceptRA|LinkLocalAddressing)=' /run/systemd/network/10-netplan-$1.network" | tr '\n' ' '; }
is "$(netfile n6)" "x LinkLocalAddressing=no IPv6AcceptRA=no " \
	"n6: networkd takes no router adverts, no link-local address (accept-ra: false, link-local: [])"
# netplan 0.106 writes its default link-local [ipv6] out, and no IPv6AcceptRA
# (networkd's default: adverts taken)
is "$(netfile n9)" "x LinkLocalAddressing=ipv6 " \
	"n9 (ipv6_auto: true): netplan's defaults (link-local IPv6, router adverts)"
# "n=COUNT" from the guest: a failed ssh cannot pass for zero addresses
lladdrs() { gssh root "echo n=\$(ip -6 -o addr show dev $1 scope link | wc -l)"; }
is "$(lladdrs n6)" "n=0" "n6: no IPv6 link-local address (link-local: [])"
is "$(lladdrs vmctrl)" "n=0" "vmctrl: no link-local address"
# the link-local address takes DAD's moment
ll=
for _ in 1 2 3 4 5 6; do
	ll=$(lladdrs n9)
	[ "$ll" = n=1 ] && break
	sleep 2
done
is "$ll" "n=1" "n9 (ipv6_auto: true): keeps its link-local address"
is "$(gssh_to 10.79.6.3 root hostname)" "deb1" "the test's namespace reaches n6's address (ssh to 10.79.6.3)"

is "$(gssh root passwd -S root | awk '{print $2}')" "P" "root has a usable password"
is "$(gssh root passwd -S debian | awk '{print $2}')" "P" "the default user has a usable password"
is "$(pwssh root id -un)" "root" "password SSH login as root"
sed 's/^/#   /' "$T/pw.err"
is "$(pwssh debian id -un)" "debian" "password SSH login as the default user"
sed 's/^/#   /' "$T/pw.err"
printf '#!/bin/sh\necho wrong\n' >"$T/askpass"
pwssh root true
grep -q 'Permission denied' "$T/pw.err"
ok $? "a wrong password is refused (Permission denied)"

kill -TERM "${RUN_PID[deb]}"
run_wait_exit deb 330
is "$RC" 0 "SIGTERM: the guest powers off through ACPI, exit 0"
ip -n "$ns" -o link show dev c0 | grep -q '[<,]UP[,>]'
is $? 1 "c0 down again: vmrun had raised it"
is "$(ip -n "$ns" -o link show | grep -c 'vm-')" "0" "no macvtap left"

done_testing
