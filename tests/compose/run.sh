#!/usr/bin/env bash
# vmrun compose / vmrun kube: golden files, structure of the generated YAML,
# validation with shellcheck and docker-compose of the output, bad input (exit 2,
# nothing written), and compose.sh against a stub docker that records its
# calls (multi-host order, ssh URIs, upload, ssh GUEST).
#
# Goldens live in tests/compose/golden/CASE/ with the repository path
# replaced by @TOP@; VMRUN_REGENERATE=1 rewrites them (review the diff).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
VMRUN=${VMRUN:-$top/build/vmrun}
golden=tests/compose/golden
tmp=$(mktemp -d /tmp/vmrt-compose.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# case name, topology, global vmrun options, `vmrun compose` options
cases=(
	"demo|examples/demo.yaml||--host-binary"
	"lab|examples/lab.yaml||"
	"single|examples/single.yaml||"
	"5gdeploy|tests/compose/5gdeploy.yaml||"
	"5gdeploy-sriov|tests/compose/5gdeploy-sriov.yaml||"
	"hostdev|tests/compose/hostdev.yaml||"
	"sriov|tests/compose/sriov.yaml|--state-dir /srv/vmrun-state|--image registry.example:5000/vmrun:1.0 --source $top"
	"devices|tests/compose/devices.yaml||"
	"lifecycle|tests/compose/lifecycle.yaml||--exporter 0.0.0.0:9177"
)

normalise() { # FILE -> stdout, the repository path as @TOP@
	sed "s|$top|@TOP@|g" "$1"
}

compare() { # GOT_FILE GOLDEN_FILE WHAT
	if [ "${VMRUN_REGENERATE:-0}" = 1 ]; then
		mkdir -p "$(dirname "$2")"
		normalise "$1" >"$2"
	fi
	if [ ! -f "$2" ]; then
		ok 1 "$3 (no golden $2; VMRUN_REGENERATE=1 writes it)"
		return
	fi
	if diff -u "$2" <(normalise "$1") >"$tmp/diff"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		sed 's/^/#   /' "$tmp/diff" | head -40
	fi
}

have_v1=0
command -v docker-compose >/dev/null && docker-compose version >/dev/null 2>&1 && have_v1=1
have_v2=0
command -v docker >/dev/null && docker compose version >/dev/null 2>&1 && have_v2=1

# The Compose Specification's JSON schema as compose-go (the library of
# Compose v2, `docker compose config`) embeds and validates with: compose-go
# v2.13.0's schema/compose-spec.json (Apache-2.0), kept in this tree;
# checked with python3-jsonschema (draft 2020-12).
schema=$top/tests/compose/compose-spec.json
schema_why=
if ! python3 -c 'from jsonschema import Draft202012Validator' 2>/dev/null; then
	schema='' schema_why="python3 has no jsonschema module with draft 2020-12 (python3-jsonschema)"
fi
schema_check() { # FILE: validate against the Compose Specification
	python3 - "$schema" "$1" <<'PY'
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(open(sys.argv[2]))))
for e in errors:
    print("/".join(str(p) for p in e.path) + ": " + e.message)
sys.exit(1 if errors else 0)
PY
}
if [ -n "$schema" ]; then
	# the schema check can fail: a service key Compose does not know
	printf 'services:\n  a:\n    image: x\n    annotationz: {k: v}\n' >"$tmp/unknown-key.yml"
	schema_check "$tmp/unknown-key.yml" >/dev/null 2>&1
	is $? 1 "the Compose Specification schema refuses an unknown service key"
fi

used=()
for c in "${cases[@]}"; do
	IFS='|' read -r name topo gopts opts <<<"$c"
	out=$tmp/$name kout=$tmp/kube-$name
	read -ra global <<<"$gopts"
	read -ra extra <<<"$opts"
	"$VMRUN" "${global[@]}" compose "$topo" -o "$out" "${extra[@]}" >"$tmp/out" 2>&1
	ok $? "$name: vmrun $gopts compose $topo ${opts//$top/@TOP@}"
	"$VMRUN" "${global[@]}" kube "$topo" -o "$kout" >>"$tmp/out" 2>&1
	ok $? "$name: vmrun $gopts kube $topo"
	for f in compose.yml compose.sh Dockerfile; do
		compare "$out/$f" "$golden/$name/$f" "$name: $f matches the golden"
		used+=("$golden/$name/$f")
	done
	cmp -s "$topo" "$out/topology.yaml"
	ok $? "$name: topology.yaml is a copy of the input"
	if [[ $opts == *--host-binary* ]]; then
		cmp -s "$VMRUN" "$out/vmrun" && [ -x "$out/vmrun" ]
		ok $? "$name: --host-binary copies vmrun into the context"
	else
		[ ! -e "$out/vmrun" ]
		ok $? "$name: no binary in the context without --host-binary"
	fi
	sout=$tmp/systemd-$name
	"$VMRUN" "${global[@]}" systemd "$topo" -o "$sout" >>"$tmp/out" 2>&1
	ok $? "$name: vmrun $gopts systemd $topo"
	while IFS= read -r f; do
		rel=${f#"$sout"/}
		compare "$f" "$golden/$name/systemd/$rel" "$name: systemd/$rel matches the golden"
		used+=("$golden/$name/systemd/$rel")
	done < <(find "$sout" -type f | sort)
	for f in "$kout"/*.yaml; do
		compare "$f" "$golden/$name/kube/$(basename "$f")" "$name: kube/$(basename "$f") matches the golden"
		used+=("$golden/$name/kube/$(basename "$f")")
	done

	python3 tests/compose/structure.py compose "$topo" "$out/compose.yml" >"$tmp/s" 2>&1
	ok $? "$name: compose.yml structure ($(grep -c '^ok' "$tmp/s") checks)"
	grep -A3 '^not ok' "$tmp/s" | sed 's/^/#   /'
	python3 tests/compose/structure.py kube "$topo" "$kout" >"$tmp/s" 2>&1
	ok $? "$name: kube manifests structure ($(grep -c '^ok' "$tmp/s") checks)"
	grep -A3 '^not ok' "$tmp/s" | sed 's/^/#   /'

	shellcheck "$out/compose.sh"
	ok $? "$name: compose.sh passes shellcheck"

	# what 5gdeploy's netdef-compose --use-vm=DIR reads from DIR/compose.yml
	ref=
	case $name in
	5gdeploy) ref=tests/compose/5gdeploy-ref/readme.yml ;;
	5gdeploy-sriov) ref=tests/compose/5gdeploy-ref/pci-sriov.yml ;;
	esac
	python3 tests/compose/use_vm.py "$topo" "$out/compose.yml" $ref >"$tmp/s" 2>&1
	ok $? "$name: 5gdeploy's --use-vm reading finds every guest, netif and the ctrlif ($(grep -c '^ok' "$tmp/s") checks${ref:+, against the output of 5gdeploy})"
	grep -A3 '^not ok' "$tmp/s" | sed 's/^/#   /'

	if [ $have_v1 = 1 ]; then
		(cd "$out" && docker-compose -f compose.v1.yml config -q) >"$tmp/v1" 2>&1
		ok $? "$name: docker-compose 1.29 accepts compose.v1.yml"
		sed 's/^/#   /' "$tmp/v1"
	else
		skip "docker-compose is not installed" "$name: docker-compose 1.29 accepts compose.v1.yml"
	fi
	if [ -n "$schema" ]; then
		for f in compose.yml compose.v1.yml; do
			schema_check "$out/$f" >"$tmp/sc" 2>&1
			ok $? "$name: $f conforms to the Compose Specification schema (compose-go v2.13.0)"
			sed 's/^/#   /' "$tmp/sc"
		done
	else
		skip "$schema_why" "$name: compose.yml conforms to the Compose Specification schema"
	fi
	if [ $have_v2 = 1 ]; then
		(cd "$out" && docker compose -f compose.yml config -q) >"$tmp/v2" 2>&1
		ok $? "$name: docker compose v2 accepts compose.yml"
		sed 's/^/#   /' "$tmp/v2"
	else
		skip "no Compose v2 plugin (docker compose) on this machine" "$name: docker compose v2 accepts compose.yml"
	fi
done

# The Kubernetes OpenAPI schemas: the validators of the npm package
# kubernetes-models (generated from the API's OpenAPI spec), installed once
# into the cache with npm; every manifest of every case, and a broken one
# that must fail.
kmodels=${XDG_CACHE_HOME:-$HOME/.cache}/vmrun/kubernetes-models-5.1.0
kube_why=
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	kube_why="node and npm are not installed"
elif [ ! -f "$kmodels/node_modules/kubernetes-models/package.json" ] &&
	! { mkdir -p "$kmodels" && echo '{"private": true}' >"$kmodels/package.json" &&
		(cd "$kmodels" && timeout 300 npm install --silent --no-audit --no-fund --ignore-scripts \
			kubernetes-models@5.1.0 >/dev/null 2>&1); }; then
	kube_why="cannot install kubernetes-models from the npm registry"
fi
kube_schema() { # FILE...: validate every document of the files
	python3 -c '
import json, sys, yaml
print(json.dumps([{"file": f, "doc": d} for f in sys.argv[1:] for d in yaml.safe_load_all(open(f))]))
' "$@" | node tests/compose/kube_schema.mjs "$kmodels/node_modules"
}
if [ -n "$kube_why" ]; then
	skip "$kube_why" "kube manifests conform to the Kubernetes OpenAPI schema"
else
	for d in "$tmp"/kube-*; do
		kube_schema "$d"/*.yaml >"$tmp/ks" 2>&1
		ok $? "${d##*/kube-}: kube manifests conform to the Kubernetes OpenAPI schema ($(grep -c ': ok' "$tmp/ks") objects)"
		grep -v ': ok' "$tmp/ks" | sed 's/^/#   /'
	done
	sed 's/privileged: true/privileged: "yes"/' "$tmp/kube-demo/pod-a.yaml" >"$tmp/bad-pod.yaml"
	kube_schema "$tmp/bad-pod.yaml" >"$tmp/ks" 2>&1
	ok $((!$?)) "the schema check refuses a pod with privileged: \"yes\" (the check can fail)"
fi

# vmrun systemd --host: another host's units (a name that is an address)
sout=$tmp/systemd-5gdeploy-h2
"$VMRUN" systemd tests/compose/5gdeploy.yaml --host 192.168.60.2 -o "$sout" >"$tmp/out" 2>&1
ok $? "5gdeploy: vmrun systemd --host 192.168.60.2"
while IFS= read -r f; do
	rel=${f#"$sout"/}
	compare "$f" "$golden/5gdeploy/systemd-192.168.60.2/$rel" "5gdeploy: systemd --host 192.168.60.2: $rel matches the golden"
	used+=("$golden/5gdeploy/systemd-192.168.60.2/$rel")
done < <(find "$sout" -type f | sort)
"$VMRUN" systemd tests/compose/5gdeploy.yaml --host nosuch -o "$tmp/never" >"$tmp/out" 2>&1
is "$?" 2 "vmrun systemd --host with an unknown host exits 2"
[ ! -e "$tmp/never" ]
ok $? "... and writes nothing"

# the reader can fail: compose.v1.yml has no annotations, so 5gdeploy finds no guest
python3 tests/compose/use_vm.py tests/compose/5gdeploy.yaml "$tmp/5gdeploy/compose.v1.yml" >"$tmp/s" 2>&1
is $? 1 "5gdeploy's --use-vm reading finds nothing without annotations (compose.v1.yml)"
if [ $have_v1 = 1 ]; then
	(cd "$tmp/5gdeploy" && docker-compose -f compose.yml config -q) >"$tmp/v1" 2>&1
	grep -q "Unsupported config option for services.vm_a: 'annotations'" "$tmp/v1"
	ok $? "docker-compose 1.29 refuses compose.yml's annotations (why compose.v1.yml exists)"
fi

# every golden file is produced by some case (libvirt's rule: no stale goldens)
stale=0
while IFS= read -r f; do
	found=0
	for u in "${used[@]}"; do [ "$u" = "$f" ] && found=1 && break; done
	[ $found = 1 ] || { stale=1; diag "unused golden $f"; }
done < <(find "$golden" -type f | sort)
ok $stale "every golden file belongs to a case"

# ---- bad input: exit 2, nothing written ----

bad() { # WHAT EXPECTED_STDERR_PATTERN YAML
	printf '%s\n' "$3" >"$tmp/bad.yaml"
	rm -rf "$tmp/badout"
	"$VMRUN" compose "$tmp/bad.yaml" -o "$tmp/badout" >"$tmp/bad.out" 2>"$tmp/bad.err"
	is "$?" 2 "$1: exit status 2"
	[ ! -e "$tmp/badout" ]
	ok $? "$1: nothing written"
	if grep -q -- "$2" "$tmp/bad.err"; then
		ok 0 "$1: error names it ($2)"
	else
		ok 1 "$1: error names it ($2)"
		sed 's/^/#   /' "$tmp/bad.err"
	fi
	"$VMRUN" kube "$tmp/bad.yaml" -o "$tmp/badout" >/dev/null 2>&1
	is "$?" 2 "$1: vmrun kube exits 2 too"
	"$VMRUN" systemd "$tmp/bad.yaml" -o "$tmp/badout" >/dev/null 2>&1
	is "$?" 2 "$1: vmrun systemd exits 2 too"
	[ ! -e "$tmp/badout" ]
	ok $? "$1: kube and systemd wrote nothing"
}

bad "overlapping cpusets on one host" "guest 'b'.*cpuset.*guest 'a'" \
	'version: 1
hosts: {h1: {primary: true}}
guests:
  a: {cpuset: "2-3", nics: [{name: n, user: {}}]}
  b: {cpuset: "3-4", nics: [{name: n, user: {}}]}'
bad "reserved CPU" "guest 'a'.*cpuset.*CPU 0.*reserved" \
	'version: 1
hosts: {h1: {primary: true, reserved_cpus: "0"}}
guests:
  a: {cpuset: "0-1"}'
bad "unknown host" "guest 'a'.*unknown host 'h9'" \
	'version: 1
hosts: {h1: {primary: true}}
guests:
  a: {host: h9}'
bad "host service names collide" "host 'a.b'.*service name 'host_a_b'.*host 'a-b'" \
	'version: 1
hosts: {a-b: {primary: true}, a.b: {}}
guests:
  g: {host: a.b}'
bad "a non-primary host named local" "host 'local'.*reserved for the local machine" \
	'version: 1
hosts: {local: {}}
guests:
  g: {}'

"$VMRUN" compose examples/demo.yaml >/dev/null 2>"$tmp/err"
is "$?" 2 "compose without -o: usage error"
is "$(head -1 "$tmp/err")" "vmrun: error: compose: missing --output DIR" "compose without -o: says so"
"$VMRUN" compose examples/demo.yaml -o "$tmp/x" --host-binary --source "$top" >/dev/null 2>"$tmp/err"
is "$?" 2 "--host-binary with --source: usage error"
[ ! -e "$tmp/x" ]
ok $? "usage errors write nothing"
"$VMRUN" --state-dir relative compose examples/demo.yaml -o "$tmp/x" >/dev/null 2>&1
is "$?" 2 "a relative --state-dir: usage error"
"$VMRUN" compose --help | grep -q 'usage: vmrun compose'
ok $? "vmrun compose --help"
"$VMRUN" kube --help | grep -q 'usage: vmrun kube'
ok $? "vmrun kube --help"

# ---- vmrun health (the containers' healthcheck) on a state directory of our own ----

st=$tmp/state
mkdir -p "$st/g1" "$st/host-h1" "$st/host-local"
"$VMRUN" --state-dir "$st" health g1 >/dev/null 2>"$tmp/h.err"
is "$?" 1 "health: no supervisor holds the lock: unhealthy"
grep -q "guest 'g1' has no supervisor running" "$tmp/h.err"
ok $? "health: says so"
: >"$st/g1/ready"
"$VMRUN" --state-dir "$st" health g1 >/dev/null 2>&1
is "$?" 1 "health: a ready file left by a dead supervisor is not enough"
flock "$st/g1/lock" sleep 60 &
holder=$!
: >"$st/g1/healthy"
for _ in $(seq 50); do "$VMRUN" --state-dir "$st" health g1 >/dev/null 2>&1 && break; sleep 0.1; done
"$VMRUN" --state-dir "$st" health g1 >"$tmp/h.out" 2>&1
is "$?" 0 "health: lock held, running and ready: healthy"
rm "$st/g1/healthy"
"$VMRUN" --state-dir "$st" health g1 >/dev/null 2>"$tmp/h.err"
is "$?" 1 "health: lock held and running, not ready (ready_when not met): unhealthy"
grep -q "guest 'g1' is not ready yet" "$tmp/h.err"
ok $? "health: says it is not ready yet"
rm "$st/g1/ready"
"$VMRUN" --state-dir "$st" health g1 >/dev/null 2>"$tmp/h.err"
is "$?" 1 "health: lock held but not ready (not pinned yet): unhealthy"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
"$VMRUN" --state-dir "$st" health --host h1 >/dev/null 2>&1
is "$?" 1 "health --host: not set up yet"
: >"$st/host-h1/ready"
"$VMRUN" --state-dir "$st" health --host h1 >/dev/null 2>&1
is "$?" 0 "health --host h1: set up"
: >"$st/host-local/ready"
"$VMRUN" --state-dir "$st" health --host >/dev/null 2>&1
is "$?" 0 "health --host without a name: the local machine"
"$VMRUN" health >/dev/null 2>"$tmp/h.err"
is "$?" 2 "health without a guest: usage"
is "$(head -1 "$tmp/h.err")" "vmrun: error: health: missing GUEST (or --host [HOST])" \
	"health without a guest: says what it wants"

# ---- compose.sh against a stub docker ----

stub=$top/tests/compose/stub
export STUB_LOG=$tmp/calls
run_sh() { # DIR ARGS... (PATH with the stubs first)
	: >"$STUB_LOG"
	PATH="$stub:$PATH" "$1/compose.sh" "${@:2}" >"$tmp/sh.out" 2>"$tmp/sh.err"
}
# the recorded calls: the context directory as DIR, the options compose.sh's
# ssh adds to every call (connect timeout, the shared connection) left out
calls() {
	sed -e "s|$1|DIR|g" -e 's/ -o ConnectTimeout=[0-9]* -o ServerAliveInterval=10 -o ServerAliveCountMax=3//' \
		-e 's| -o ControlMaster=auto -o ControlPath=/tmp/vmrun-compose\.[A-Za-z0-9]*/ssh/%C -o ControlPersist=60||' \
		-e 's|/tmp/vmrun-compose\.[A-Za-z0-9]*/|TMP/|g' "$STUB_LOG"
}
ctx_inspect=$(printf '%q' "docker context inspect --format '{{.Endpoints.docker.Host}}'")
# the calls without the checks that come first (ssh HOST, image inspect)
work_calls() { calls "$1" | grep -vF -e ' image inspect ' -e " $ctx_inspect <"; }
expect() { # WHAT WANT (calls, one per line) DIR
	is "$(work_calls "$3")" "$2" "$1"
}
# expect_steps WHAT DIR STEP...: the calls are the STEPs' lines, one step
# after the other, in any order within a step (the hosts run at once)
expect_steps() {
	local what=$1 dir=$2 s got want n=0 lines
	shift 2
	mapfile -t lines < <(work_calls "$dir")
	got="" want=""
	for s in "$@"; do
		local c
		c=$(printf '%s\n' "$s" | wc -l)
		got+=$(printf '%s\n' "${lines[@]:$n:$c}" | sort)$'\n--\n'
		want+=$(printf '%s\n' "$s" | sort)$'\n--\n'
		n=$((n + c))
	done
	[ "$n" = "${#lines[@]}" ] || got+=$(printf '%s\n' "${lines[@]:$n}")
	is "$got" "$want" "$what"
}

lab=$tmp/lab
export STUB_V2=1
run_sh "$lab" up
ok $? "lab: compose.sh up (Compose v2)"
expect_steps "lab up: host services first (primary locally, lab2 over ssh), then the guests; the hosts of a step at once" "$lab" \
"docker compose -p lab -f DIR/compose.yml up -d host_lab1
docker -H ssh://192.168.60.3 compose -p lab -f DIR/compose.yml up -d host_lab2" \
"docker compose -p lab -f DIR/compose.yml up -d vm_cp
docker -H ssh://192.168.60.3 compose -p lab -f DIR/compose.yml up -d vm_upf vm_gnb"
is "$(calls "$lab" | grep -cF -e 'image inspect' -e " $ctx_inspect <")" 3 \
	"lab up: first ssh to lab2 (asking for its engine), and the image checked on both hosts"
is "$(calls "$lab" | head -3 | sort | tr '\n' '|')" \
	"docker -H ssh://192.168.60.3 image inspect -f \\{\\{.Id\\}\\} vmrun:latest|docker image inspect -f \\{\\{.Id\\}\\} vmrun:latest|ssh 192.168.60.3 $ctx_inspect <0 bytes>|" \
	"lab up: the checks come before anything starts"
grep -q -x "compose.sh: host 'lab2': starting its host service" "$tmp/sh.err" &&
	grep -q -x "compose.sh: host 'lab1': starting its guests" "$tmp/sh.err"
ok $? "lab up: says which host it works on"
grep -q -x "compose.sh: starting its guests: done on 2 host(s) in [0-9.]* s" "$tmp/sh.err"
ok $? "lab up: and how long each step took"
ssh_line=$(grep -m1 '^ssh ' "$STUB_LOG")
[[ $ssh_line == "ssh -o ConnectTimeout=10 -o ServerAliveInterval=10 -o ServerAliveCountMax=3 -o ControlMaster=auto -o ControlPath=/tmp/vmrun-compose."*"/ssh/%C -o ControlPersist=60 192.168.60.3 $ctx_inspect <0 bytes>" ]]
ok $? "lab up: ssh with a connect timeout and one shared connection per host" || diag "$ssh_line"
is "$(find /tmp -maxdepth 1 -name 'vmrun-compose.*' -newer "$STUB_LOG" 2>/dev/null | wc -l)" 0 \
	"lab up: its temporary directory (the ssh sockets) is gone afterwards"

: >"$STUB_LOG"
VMRUN_SSH_MUX=0 VMRUN_SSH_TIMEOUT=3 PATH="$stub:$PATH" "$lab/compose.sh" up >/dev/null 2>&1
is "$(grep -m1 '^ssh ' "$STUB_LOG")" \
	"ssh -o ConnectTimeout=3 -o ServerAliveInterval=10 -o ServerAliveCountMax=3 192.168.60.3 $ctx_inspect <0 bytes>" \
	"VMRUN_SSH_MUX=0, VMRUN_SSH_TIMEOUT=3: no shared connection, a 3 s timeout"
STUB_SSH_ENGINE=unix:///var/run/docker.sock run_sh "$lab" up
expect_steps "lab up: lab2's engine socket forwarded over the shared connection, every docker call through it" "$lab" \
"ssh -O forward -L TMP/ssh/1.sock:/var/run/docker.sock 192.168.60.3 <0 bytes>" \
"docker compose -p lab -f DIR/compose.yml up -d host_lab1
docker -H unix://TMP/ssh/1.sock compose -p lab -f DIR/compose.yml up -d host_lab2" \
"docker compose -p lab -f DIR/compose.yml up -d vm_cp
docker -H unix://TMP/ssh/1.sock compose -p lab -f DIR/compose.yml up -d vm_upf vm_gnb"
STUB_SSH_ENGINE=tcp://10.0.0.1:2375 run_sh "$lab" up
calls "$lab" | grep -q -e '-O forward' -e 'unix://'
ok $((!$?)) "lab up: an engine that is not a unix socket: ssh://, nothing forwarded"
VMRUN_SSH_MUX=0 STUB_SSH_ENGINE=unix:///var/run/docker.sock run_sh "$lab" up
calls "$lab" | grep -q -e '-O forward' -e 'unix://'
ok $((!$?)) "lab up: VMRUN_SSH_MUX=0: nothing forwarded"
VMRUN_SSH_TIMEOUT=soon run_sh "$lab" up
is "$?" 1 "VMRUN_SSH_TIMEOUT must be a number"

VMRUN_COMPOSE_JOBS=1 run_sh "$lab" up
expect "VMRUN_COMPOSE_JOBS=1: one host after the other, in host order" \
"docker compose -p lab -f DIR/compose.yml up -d host_lab1
docker -H ssh://192.168.60.3 compose -p lab -f DIR/compose.yml up -d host_lab2
docker compose -p lab -f DIR/compose.yml up -d vm_cp
docker -H ssh://192.168.60.3 compose -p lab -f DIR/compose.yml up -d vm_upf vm_gnb" "$lab"

run_sh "$lab" down
ok $? "lab: compose.sh down"
expect_steps "lab down: every guest stops before any host service goes" "$lab" \
"docker -H ssh://192.168.60.3 compose -p lab -f DIR/compose.yml stop vm_upf vm_gnb
docker compose -p lab -f DIR/compose.yml stop vm_cp" \
"docker -H ssh://192.168.60.3 compose -p lab -f DIR/compose.yml down --remove-orphans
docker compose -p lab -f DIR/compose.yml down --remove-orphans"

run_sh "$lab" down -v
expect_steps "lab down -v removes the volumes too" "$lab" \
"docker -H ssh://192.168.60.3 compose -p lab -f DIR/compose.yml stop vm_upf vm_gnb
docker compose -p lab -f DIR/compose.yml stop vm_cp" \
"docker -H ssh://192.168.60.3 compose -p lab -f DIR/compose.yml down --remove-orphans --volumes
docker compose -p lab -f DIR/compose.yml down --remove-orphans --volumes"

# ---- failures: named by host, with the tool's own error, nothing after them ----
STUB_NO_IMAGE=ssh://192.168.60.3 run_sh "$lab" up
is "$?" 1 "lab up with the image missing on lab2 fails"
is "$(tail -1 "$tmp/sh.err")" \
	"compose.sh: error: host 'lab2': checking ssh and the image failed (exit status 1): image 'vmrun:latest' is missing on host 'lab2': run ./compose.sh build (and upload)" \
	"lab up: the error names the host and the image"
[ -z "$(work_calls "$lab")" ]
ok $? "lab up: nothing started when an image is missing"

STUB_SSH_FAIL=192.168.60.3 run_sh "$lab" up
is "$?" 1 "lab up with lab2 unreachable fails"
is "$(tail -1 "$tmp/sh.err")" \
	"compose.sh: error: host 'lab2': checking ssh and the image failed (exit status 1): ssh 192.168.60.3: ssh: connect to host 192.168.60.3 port 22: Connection timed out" \
	"lab up: an unreachable host is reported with ssh's own error, not as a missing image"
[ -z "$(work_calls "$lab")" ]
ok $? "lab up: nothing started when a host is unreachable"

STUB_DOWN=ssh://192.168.60.3 run_sh "$lab" up
grep -q "^compose.sh: error: host 'lab2': .*: docker: error during connect" "$tmp/sh.err"
ok $? "lab up: an engine that does not answer is reported with docker's error"

STUB_FAIL=local:up run_sh "$lab" up
is "$?" 1 "lab up: a host service that fails to start fails up"
is "$(tail -1 "$tmp/sh.err")" \
	"compose.sh: error: host 'lab1': starting its host service failed (exit status 1): ERROR: for up: something broke on local" \
	"lab up: the error names the host and repeats its last line"
grep -q "^lab1: ERROR: for up: something broke on local" "$tmp/sh.err"
ok $? "lab up: the host's output is shown, each line prefixed with the host"
work_calls "$lab" | grep -q 'up -d vm_'
ok $((!$?)) "lab up: no guest starts after a failed step"

STUB_FAIL=ssh://192.168.60.3:stop run_sh "$lab" down
is "$?" 1 "lab down: a guest that fails to stop fails down"
work_calls "$lab" | grep -q ' down '
ok $((!$?)) "lab down: no host service is removed after a failed stop"

# ---- every host over ssh: compose.sh on a machine outside the lab ----
VMRUN_COMPOSE_HOST=none run_sh "$lab" up
ok $? "VMRUN_COMPOSE_HOST=none: up"
expect_steps "VMRUN_COMPOSE_HOST=none: the primary host over ssh too" "$lab" \
"docker -H ssh://192.168.60.2 compose -p lab -f DIR/compose.yml up -d host_lab1
docker -H ssh://192.168.60.3 compose -p lab -f DIR/compose.yml up -d host_lab2" \
"docker -H ssh://192.168.60.2 compose -p lab -f DIR/compose.yml up -d vm_cp
docker -H ssh://192.168.60.3 compose -p lab -f DIR/compose.yml up -d vm_upf vm_gnb"
VMRUN_COMPOSE_HOST=lab2 run_sh "$lab" ps
grep -q '^docker ps ' "$STUB_LOG" && grep -q '^docker -H ssh://192.168.60.2 ps ' "$STUB_LOG"
ok $? "VMRUN_COMPOSE_HOST=lab2: lab2 locally, lab1 over ssh"
VMRUN_COMPOSE_HOST=lab9 run_sh "$lab" up
is "$?" 1 "VMRUN_COMPOSE_HOST: an unknown host fails"
grep -q "VMRUN_COMPOSE_HOST: 'lab9' is not a host of this lab (lab1 lab2, or none)" "$tmp/sh.err"
ok $? "VMRUN_COMPOSE_HOST: the error lists the hosts"

# ---- ps: one table, every host's service and guests ----
printf '%s\t%s\t%s\n' local host_lab1 'Up 2 minutes (healthy)' local vm_cp 'Up 1 minute (healthy)' \
	local vmprep_cp 'Exited (0) 1 minute ago' ssh://192.168.60.3 host_lab2 'Up 2 minutes (healthy)' \
	ssh://192.168.60.3 vm_upf 'Exited (0) 5 seconds ago' >"$tmp/ps"
STUB_PS=$tmp/ps run_sh "$lab" ps
ok $? "lab ps"
is "$(cat "$tmp/sh.out")" "HOST  SERVICE               STATUS
lab1  host_lab1             Up 2 minutes (healthy)
lab1  vm_cp                 Up 1 minute (healthy)
lab2  host_lab2             Up 2 minutes (healthy)
lab2  vm_upf                Exited (0) 5 seconds ago
lab2  vm_gnb                not created" "lab ps: every guest of every host, also the stopped and the missing"
is "$(calls "$lab" | grep ' ps ' | sort)" \
	"docker -H ssh://192.168.60.3 ps -a --filter label=com.docker.compose.project=lab --format $(printf '%q' '{{.Label "com.docker.compose.service"}}	{{.Status}}')
docker ps -a --filter label=com.docker.compose.project=lab --format $(printf '%q' '{{.Label "com.docker.compose.service"}}	{{.Status}}')" \
	"lab ps: one docker ps per host, by the project's label"
STUB_PS=$tmp/ps STUB_SSH_FAIL=192.168.60.3 run_sh "$lab" ps
is "$?" 1 "lab ps with lab2 unreachable: status 1"
is "$(tail -1 "$tmp/sh.out")" \
	"lab2  -                     unreachable: ssh 192.168.60.3: ssh: connect to host 192.168.60.3 port 22: Connection timed out" \
	"lab ps: the unreachable host is a row with ssh's error; the others are listed"
STUB_PS=$tmp/ps STUB_SSH_ENGINE=unix:///run/docker.sock run_sh "$lab" ps
is "$(wc -l <"$tmp/sh.out")" 6 "lab ps through a forwarded socket: the same table"

run_sh "$lab" upload
ok $? "lab: compose.sh upload"
dirq=$(printf '%q' "$lab")
expect "lab upload: image shipped to lab2 only, then the context to the same path" \
"docker save vmrun:latest
docker -H ssh://192.168.60.3 load <13 bytes>
ssh 192.168.60.3 $(printf '%q' "mkdir -p $dirq && tar -C $dirq -xf -" | sed "s|$lab|DIR|g") <$(tar -C "$lab" -cf - compose.yml compose.v1.yml compose.sh topology.yaml | wc -c) bytes>" "$lab"
STUB_REMOTE_ID=sha256:new run_sh "$lab" upload
[ "$(calls "$lab" | grep -c -e '^docker save' -e ' load ')" = 0 ]
ok $? "lab upload: an image already there is not shipped again"
VMRUN_COMPOSE_HOST=none STUB_REMOTE_ID=sha256:new run_sh "$lab" upload
is "$(calls "$lab" | grep -c -e '^ssh 192.168.60.[23] mkdir')" 2 \
	"VMRUN_COMPOSE_HOST=none: upload copies the context to the primary host too"

run_sh "$lab" logs gnb --tail 5
expect "lab logs GUEST: on the guest's host" \
"docker -H ssh://192.168.60.3 compose -p lab -f DIR/compose.yml logs --tail 5 vm_gnb" "$lab"

run_sh "$lab" ssh upf uptime
expect "lab ssh GUEST: to its vmctrl address as root" "ssh root@172.25.160.4 uptime <0 bytes>" "$lab"
: >"$STUB_LOG"
VMRUN_SSH_USER=debian PATH="$stub:$PATH" "$lab/compose.sh" ssh cp </dev/null >/dev/null 2>&1
expect "ssh honours VMRUN_SSH_USER" "ssh debian@172.25.160.3 <0 bytes>" "$lab"
run_sh "$lab" ssh nosuch
is "$?" 1 "ssh to an unknown guest fails"
grep -q "unknown guest 'nosuch'" "$tmp/sh.err"
ok $? "ssh: the error names the guest"
run_sh "$lab" frobnicate
is "$?" 2 "compose.sh with an unknown command: usage, status 2"

run_sh "$tmp/demo" build
expect "demo build (--host-binary): the context is the compose directory" \
"docker build --network host --force-rm -t vmrun:latest -f DIR/Dockerfile DIR" "$tmp/demo"
run_sh "$tmp/lab" build
is "$?" 1 "build without a source tree fails"
grep -q "give the vmrun source tree" "$tmp/sh.err"
ok $? "build: the error says what to give"
run_sh "$tmp/sriov" build
expect "build with --source: the source tree is the context" \
"docker build --network host --force-rm -t registry.example:5000/vmrun:1.0 -f DIR/Dockerfile $top" "$tmp/sriov"

# three physical hosts and docker-compose 1.29 (no v2 plugin)
g5=$tmp/5gdeploy
export STUB_V2=0
run_sh "$g5" up
ok $? "5gdeploy: compose.sh up (docker-compose v1)"
expect_steps "5gdeploy up: the local host (ctrlif) and both remote hosts over ssh, then the guests (v1 reads compose.v1.yml)" "$g5" \
"docker-compose -p 5gdeploy -f DIR/compose.v1.yml up -d host_local
docker-compose -H ssh://192.168.60.2 -p 5gdeploy -f DIR/compose.v1.yml up -d host_192_168_60_2
docker-compose -H ssh://192.168.60.3 -p 5gdeploy -f DIR/compose.v1.yml up -d host_192_168_60_3" \
"docker-compose -H ssh://192.168.60.2 -p 5gdeploy -f DIR/compose.v1.yml up -d vm_a
docker-compose -H ssh://192.168.60.3 -p 5gdeploy -f DIR/compose.v1.yml up -d vm_b vm_c"
run_sh "$g5" down
expect_steps "5gdeploy down: guests on every host, then the host services" "$g5" \
"docker-compose -H ssh://192.168.60.3 -p 5gdeploy -f DIR/compose.v1.yml stop vm_b vm_c
docker-compose -H ssh://192.168.60.2 -p 5gdeploy -f DIR/compose.v1.yml stop vm_a" \
"docker-compose -H ssh://192.168.60.3 -p 5gdeploy -f DIR/compose.v1.yml down --remove-orphans
docker-compose -H ssh://192.168.60.2 -p 5gdeploy -f DIR/compose.v1.yml down --remove-orphans
docker-compose -p 5gdeploy -f DIR/compose.v1.yml down --remove-orphans"
VMRUN_COMPOSE_HOST=none run_sh "$g5" up
is "$?" 1 "5gdeploy: VMRUN_COMPOSE_HOST=none with no primary host fails"
grep -q "host 'local' is the machine that runs compose.sh" "$tmp/sh.err"
ok $? "5gdeploy: says why (the implicit local host is this machine)"
run_sh "$g5" ssh c hostname -f
expect "5gdeploy ssh c: 5gdeploy's vmctrl address" "ssh root@172.25.160.5 hostname -f <0 bytes>" "$g5"

# the project name: the directory's, normalised as Compose does, or COMPOSE_PROJECT_NAME
cp -r "$lab" "$tmp/My.Lab_2"
run_sh "$tmp/My.Lab_2" logs
grep -q ' -p mylab_2 ' "$STUB_LOG"
ok $? "project name: the directory's name, lowercased, only [a-z0-9_-]"
COMPOSE_PROJECT_NAME=other run_sh "$lab" logs
grep -q ' -p other ' "$STUB_LOG"
ok $? "project name: COMPOSE_PROJECT_NAME wins"

done_testing
