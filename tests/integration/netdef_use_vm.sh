#!/usr/bin/env bash
# The real 5gdeploy netdef-compose --use-vm=DIR on vmrun's compose output:
# --place and --bridge name vmrun's guests (vm-a, vm-b:n6, ctrlif) and the
# result is the same as with 5gdeploy's own `virt` output
# (tests/compose/5gdeploy-ref/, the annotations netdef-compose reads).
#
# Opt-in: VMRUN_5GDEPLOY=DIR names a usnistgov/5gdeploy checkout whose
# packages are installed (docs/5gdeploy.md, "Checking with netdef-compose"
# gives the commands); without it the test skips.  Needs Node.js and npx.
# Nothing leaves the temporary directory: no Docker, no ssh, no network.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
VMRUN=${VMRUN:-$top/${BUILD:-build}/vmrun}
what="5gdeploy netdef-compose --use-vm resolves vmrun's guests"

g=${VMRUN_5GDEPLOY:-}
if [ -z "$g" ]; then
	skip "VMRUN_5GDEPLOY is not set (a 5gdeploy checkout with its packages, docs/5gdeploy.md)" "$what"
	done_testing
	exit 0
fi
if [ ! -f "$g/netdef-compose/main.ts" ] || [ ! -d "$g/node_modules" ] || ! command -v npx >/dev/null; then
	skip "'$g' is not a 5gdeploy checkout with node_modules, or npx is missing" "$what"
	done_testing
	exit 0
fi

T=$(mktemp -d /tmp/vmrt-netdef.XXXXXX)
trap 'rm -rf "$T"' EXIT
# netdef-compose uses Map.groupBy (Node 21+); older Node gets these two
cat >"$T/polyfill.mjs" <<'EOF'
if (!Map.groupBy) Map.groupBy = (items, fn) => { const m = new Map(); let i = 0; for (const x of items) { const k = fn(x, i++); if (!m.has(k)) m.set(k, []); m.get(k).push(x); } return m; };
if (!Object.groupBy) Object.groupBy = (items, fn) => { const o = Object.create(null); let i = 0; for (const x of items) { const k = fn(x, i++); (o[k] ??= []).push(x); } return o; };
EOF
nd() { # OUT USE_VM_DIR PLACE/BRIDGE FLAGS...
	local out=$1 dir=$2
	shift 2
	(cd "$g" && NODE_OPTIONS="--import $T/polyfill.mjs" npx --no-update-notifier tsx ./netdef-compose/main.ts \
		--netdef="$T/netdef.json" --out="$out" --cp=open5gs --up=open5gs --ran=ueransim \
		--use-vm="$dir" "$@") >"$out.log" 2>&1
}
(cd "$g" && npx --no-update-notifier tsx scenario/20230510/scenario.ts) >"$T/netdef.json" 2>"$T/netdef.err"
ok $? "5gdeploy's scenario 20230510 netdef"

annotations() { # COMPOSE_YML: every service's 5gdeploy.* annotations and cpuset, but random SIM data
	python3 - "$1" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
for k in sorted(c["services"]):
    s = c["services"][k]
    a = s.get("annotations") or {}
    print(k, " ".join(f"{x}={a[x]}" for x in sorted(a) if x.startswith("5gdeploy.") and x != "5gdeploy.ue_supi"), s.get("cpuset"))
PY
}

# case: vmrun topology, reference, flags
run_case() {
	local name=$1 topo=$2 ref=$3
	shift 3
	"$VMRUN" compose "$topo" -o "$T/$name-vmrun" >/dev/null 2>&1
	ok $? "$name: vmrun compose $topo"
	mkdir -p "$T/$name-ref" && cp "$ref" "$T/$name-ref/compose.yml"
	nd "$T/$name-out-vmrun" "$T/$name-vmrun" "$@"
	ok $? "$name: netdef-compose --use-vm=<vmrun compose output> $*"
	sed 's/^/#   /' "$T/$name-out-vmrun.log" | tail -5
	nd "$T/$name-out-ref" "$T/$name-ref" "$@"
	ok $? "$name: netdef-compose --use-vm=<5gdeploy virt output> (the reference)"
	for f in bridge.sh compose.sh; do
		diff -u "$T/$name-out-ref/$f" "$T/$name-out-vmrun/$f" >"$T/d" 2>&1
		ok $? "$name: $f the same as with 5gdeploy's own virt output"
		head -20 "$T/d" | sed 's/^/#   /'
	done
	diff -u <(annotations "$T/$name-out-ref/compose.yml") <(annotations "$T/$name-out-vmrun/compose.yml") >"$T/d" 2>&1
	ok $? "$name: every network function's placement and annotations the same"
	head -20 "$T/d" | sed 's/^/#   /'
}

run_case readme tests/compose/5gdeploy.yaml tests/compose/5gdeploy-ref/readme.yml \
	--place='upf0@vm-a' --place='+(upf1|dn_edge1)@vm-b(2-5)' --place='+(gnb1|ue1000)@vm-c' \
	--bridge='n3 | vx | ctrlif,vm-a,vm-b,vm-c' --bridge='n6 | eth | upf0=vm-a dn_edge1=vm-b:n6'
out=$T/readme-out-vmrun
grep -q 'docker -H ssh://root@172.25.160.3 ' "$out/compose.sh"
ok $? "readme: upf0 placed on vm-a runs over ssh://root@172.25.160.3 (vm-a's vmctrl address)"
grep -q 'for SELFIP in 172.25.160.1 172.25.160.3 172.25.160.4 172.25.160.5; do' "$out/bridge.sh"
ok $? "readme: the vx bridge n3 spans ctrlif, vm-a, vm-b, vm-c by their vmctrl addresses"
grep -q 'pipework --direct-phys mac:52:de:ac:19:a2:04 -i n6 dn_edge1 ' "$out/bridge.sh"
ok $? "readme: the eth bridge n6 finds vm-b:n6 by its MAC"

run_case pci-sriov tests/compose/5gdeploy-sriov.yaml tests/compose/5gdeploy-ref/pci-sriov.yml \
	--place='upf0@vm-upf' --place='gnb1@vm-gnb' \
	--bridge='n3 | eth | upf0=vm-upf gnb1=vm-gnb' --bridge='n6 | vx | ctrlif,vm-upf'
grep -q 'pipework --direct-phys mac:a4:bf:01:cc:75:97 -i n3 upf0 ' "$T/pci-sriov-out-vmrun/bridge.sh"
ok $? "pci-sriov: vm-upf's passthrough n3 resolves to the device's own MAC"

done_testing
