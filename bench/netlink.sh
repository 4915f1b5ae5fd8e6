#!/usr/bin/env bash
# 16 macvtaps created and brought up, then removed: vmrun's netlink path
# (bench/netlink_bench.c over net/, the same calls vmr_net_macvtap() and the
# undo handler make) against a loop of `ip link` commands (what 5gdeploy's
# scripts run), in one run, in a network namespace of its own.  Both sides
# alternate round by round after one warm-up round each; prints the medians
# and the ratios.  Needs root, `make` first.
#
#   bench/netlink.sh [ROUNDS] [N]      (defaults 9 rounds, 16 macvtaps)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
rounds=${1:-9}
n=${2:-16}
build=${BUILD:-build}
ns=vmrt-bench-$$
bin=$(mktemp /tmp/vmrt-netlink-bench.XXXXXX)
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -f "$bin"
}
trap cleanup EXIT

if [ ! -f "$build/libnet.a" ] || [ ! -f "$build/liblib-base.a" ]; then
	echo "bench: build first (make)" >&2
	exit 1
fi
# shellcheck disable=SC2046 # pkg-config output is a word list
cc -std=gnu11 -O2 -D_GNU_SOURCE -I. $(pkg-config --cflags libnl-3.0 libnl-route-3.0 jansson) \
	-o "$bin" bench/netlink_bench.c "$build/libnet.a" "$build/liblib-model.a" \
	"$build/liblib-base.a" \
	$(pkg-config --libs libnl-3.0 libnl-route-3.0 libmnl jansson libpci yaml-0.1) \
	-liniparser

ip netns add "$ns"
ip -n "$ns" link add v0 type veth peer name v1
ip -n "$ns" link set v0 up
ip -n "$ns" link set v1 up

ms() { echo $(($(date +%s%N) / 1000)); }

# one round of the ip loop: prints "create MS" and "delete MS"
ip_round() {
	local t0 t1 t2 i
	t0=$(ms)
	for ((i = 0; i < n; i++)); do
		ip -n "$ns" link add link v0 name "vmb$i" address "52:de:be:0c:00:$(printf %02x "$i")" \
			type macvtap mode bridge
		ip -n "$ns" link set "vmb$i" up
	done
	t1=$(ms)
	for ((i = 0; i < n; i++)); do
		ip -n "$ns" link del "vmb$i"
	done
	t2=$(ms)
	awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "create %.3f\ndelete %.3f\n", (b-a)/1000, (c-b)/1000 }'
}
vmrun_round() { ip netns exec "$ns" "$bin" v0 "$n" 1; }

ip_round >/dev/null
vmrun_round >/dev/null
out_ip=$(mktemp) out_vm=$(mktemp)
for ((r = 0; r < rounds; r++)); do
	if ((r % 2)); then
		vmrun_round >>"$out_vm"
		ip_round >>"$out_ip"
	else
		ip_round >>"$out_ip"
		vmrun_round >>"$out_vm"
	fi
done

median() { grep "^$1 " "$2" | awk '{print $2}' | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ic=$(median create "$out_ip") id=$(median delete "$out_ip")
vc=$(median create "$out_vm") vd=$(median delete "$out_vm")
rm -f "$out_ip" "$out_vm"
echo "$n macvtaps, median of $rounds rounds (ms)"
printf '%-34s %10s %10s\n' "" create delete
printf '%-34s %10.2f %10.2f\n' "ip link loop (add + set up; del)" "$ic" "$id"
printf '%-34s %10.2f %10.2f\n' "vmrun netlink (create+up, mark)" "$vc" "$vd"
awk -v ic="$ic" -v id="$id" -v vc="$vc" -v vd="$vd" \
	'BEGIN { printf "%-34s %9.1fx %9.1fx\n", "ratio ip / vmrun", ic/vc, id/vd }'
