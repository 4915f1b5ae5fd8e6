#!/usr/bin/env bash
# Per-guest disk preparation: vmrun's qcow2 overlay + cloud-init seed
# (`vmrun image prep`) against 5gdeploy's full copy of the base image
# (`install base.qcow2 vm.qcow2`), for a 1 GiB base, side by side in one run.
# Prints the median of N runs of each and their ratio.
#
#   bench/image-prep.sh [N]        (default N=7; BENCH_DIR, default /var/tmp)
#
# The copy is measured as 5gdeploy runs it, into the page cache without a
# sync, which favours the copy; vmrun fsyncs the seed it writes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
VMRUN=${VMRUN:-$top/${BUILD:-build}/vmrun}
n=${1:-7}
[ -x "$VMRUN" ] || { echo "bench: build vmrun first (make)" >&2; exit 1; }

dir=$(mktemp -d "${BENCH_DIR:-/var/tmp}/vmrun-bench-image.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
unset SUDO_USER
export HOME=$dir/home
mkdir -p "$HOME/.ssh"
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBench bench@host" >"$HOME/.ssh/id_ed25519.pub"
printf '[vmrun]\nstate_dir = %s/state\nimage_dir = %s/images\n' "$dir" "$dir" >vmrun.conf

# a 1 GiB base with every cluster allocated, like a real OS image's data
qemu-img create -q -f qcow2 base.qcow2 1G
qemu-io -f qcow2 -c 'write -P 0x5a 0 1G' base.qcow2 >/dev/null
cat >topo.yaml <<'YAML'
version: 1
guests:
  a:
    memory: 4G
    accel: tcg
    cpu_isolation: true
    image: base.qcow2
    nics:
      - {name: vmctrl, user: true, mac: "52:de:ac:19:a0:03", ip: 172.25.160.3/24}
      - {name: n6, user: true, mac: "52:de:ac:19:a2:03", ip: 172.25.162.3/24, gateway: 172.25.162.1}
      - {name: n3, user: true, mac: "52:de:ac:19:a3:03", ip: 172.25.163.3/24}
    cloud_init: {hostname: vm-a, password: "0000"}
YAML

ns() { date +%s%N; }
prep() {
	rm -rf images state
	local t0
	t0=$(ns)
	"$VMRUN" --config "$dir/vmrun.conf" image prep topo.yaml >/dev/null
	echo $(($(ns) - t0))
}
copy() {
	rm -f vm.qcow2
	local t0
	t0=$(ns)
	install base.qcow2 vm.qcow2
	echo $(($(ns) - t0))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# warm both paths (page cache, qemu-img binary), then alternate the order
prep >/dev/null
copy >/dev/null
p=() c=()
for i in $(seq "$n"); do
	if [ $((i % 2)) = 1 ]; then p+=("$(prep)"); c+=("$(copy)"); else c+=("$(copy)"); p+=("$(prep)"); fi
done
pm=$(printf '%s\n' "${p[@]}" | median)
cm=$(printf '%s\n' "${c[@]}" | median)
asize=$(qemu-img info -U --output=json images/a/root.qcow2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["actual-size"])')
printf 'base: 1 GiB qcow2, fully allocated; N=%s; %s\n' "$n" "$(nproc) CPUs, $(uname -r)"
awk -v pm="$pm" -v cm="$cm" -v as="$asize" -v cs="$(stat -c %s base.qcow2)" 'BEGIN {
	printf "%-44s %10s\n", "per guest", "median ms"
	printf "%-44s %10.1f\n", "vmrun image prep (overlay + seed)", pm / 1e6
	printf "%-44s %10.1f\n", "5gdeploy: install base.qcow2 vm.qcow2", cm / 1e6
	printf "ratio copy/prep: %.1fx; disk used per guest: %d bytes (overlay) vs %d (copy)\n", cm / pm, as, cs
}'
