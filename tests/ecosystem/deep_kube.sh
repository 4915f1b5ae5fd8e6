#!/usr/bin/env bash
# The Kubernetes manifests of `vmrun kube`, run by `podman kube play`
# (make check-ecosystem; minutes): the image is the one `vmrun compose`
# writes the Dockerfile of, built by podman from this tree; a test guest
# (TCG, no NIC) boots in its pod, podman's health of the vm container turns
# healthy (the probe vmrun kube wrote), and `podman kube down` stops it with
# the ACPI power button (the guest's console says it powers off, vmrun
# records exit status 0), then the host setup pod is taken down.
#
# Podman 4.3 (Debian 12) has no DaemonSet: the host setup runs as the pod a
# DaemonSet controller makes of its template (the test writes it from
# host-HOST.yaml).  Without systemd as PID 1 podman runs no periodic
# health checks: the test runs `podman healthcheck run`, which runs the
# container's check and records its result.  crun refuses this machine's
# hybrid cgroup layout: podman uses runc.  Podman's storage is private
# (~/.cache/vmrun/podman, kept: images are cached), its run root and
# network configuration are under a temporary directory.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/ecosystem/lib.bash
. tests/ecosystem/lib.bash
BUILD=${BUILD:-build}
VMRUN=${VMRUN:-$top/$BUILD/vmrun}
TESTGUEST=$top/$BUILD/testguest
work=$(mktemp -d /tmp/vmrt-kube.XXXXXX)
state=$work/state
g=kube$$
image=localhost/vmrun-test:latest
export CONTAINERS_STORAGE_CONF=$work/storage.conf CONTAINERS_CONF=$work/containers.conf
mkdir -p "$ECO_CACHE/podman/storage" "$work/networks"
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$ECO_CACHE/podman/storage"
runroot = "$work/run"
EOF
cat >"$CONTAINERS_CONF" <<EOF
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_config_dir = "$work/networks"
EOF

played=()
cleanup() {
	local f
	for f in "${played[@]}"; do podman kube down "$f" >/dev/null 2>&1; done
	rm -rf "/var/lib/vmrun/volumes/$g"
	rmdir /var/lib/vmrun/volumes /var/lib/vmrun 2>/dev/null
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
skip_all() {
	skip "$1" "vmrun kube under podman kube play"
	done_testing
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root"
for tool in podman runc python3; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (make deps)"
done
[ -f "$TESTGUEST/vmlinuz" ] || skip_all "no test guest in $TESTGUEST (make testguest)"
podman info >"$work/info" 2>&1 || { sed 's/^/# /' "$work/info" | tail -5; skip_all "podman does not work here"; }

# ---- the image: compose's Dockerfile, built by podman ----
if ! podman image exists docker.io/library/debian:bookworm-slim; then
	fresh_root "$work/base" && tar -C "$work/base" -c . |
		podman import - docker.io/library/debian:bookworm-slim >/dev/null 2>&1
	ok $? "base image debian:bookworm-slim from debootstrap" || { done_testing; exit 1; }
	rm -rf "$work/base"
fi
cat >"$work/topology.yaml" <<EOF
version: 1
guests:
  $g:
    accel: tcg
    memory: 128M
    cpuset: "0"
    stop_timeout: 20
    kernel: $TESTGUEST/vmlinuz
    initrd: $TESTGUEST/initrd.img
    append: console=ttyS0 quiet
EOF
"$VMRUN" --state-dir "$state" compose "$work/topology.yaml" -o "$work/ctx" --image "$image" \
	--source "$top" >"$work/compose.log" 2>&1
ok $? "vmrun compose writes the Dockerfile" || sed 's/^/#   /' "$work/compose.log"
podman build --network host -t "$image" -f "$work/ctx/Dockerfile" \
	--build-arg VMRUN_VERSION="$("$VMRUN" --version | cut -d' ' -f2)" "$top" >"$work/build.log" 2>&1
ok $? "podman builds the image vmrun compose's Dockerfile describes" ||
	{ tail -15 "$work/build.log" | sed 's/^/#   /'; done_testing; exit 1; }

# ---- the manifests ----
"$VMRUN" --state-dir "$state" kube "$work/topology.yaml" -o "$work/k8s" --image "$image" >"$work/kube.log" 2>&1
ok $? "vmrun kube writes the manifests" || sed 's/^/#   /' "$work/kube.log"
# the pod a DaemonSet controller would make on this node
python3 - "$work/k8s/host-local.yaml" "$work/host-pod.yaml" <<'PY'
import sys, yaml
ds = yaml.safe_load(open(sys.argv[1]))
pod = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": ds["metadata"]["name"] + "-node",
                    "labels": ds["spec"]["template"]["metadata"]["labels"]},
       "spec": ds["spec"]["template"]["spec"]}
yaml.safe_dump(pod, open(sys.argv[2], "w"), sort_keys=False)
PY
ok $? "the host setup's pod from the DaemonSet's template"

podman kube play --configmap "$work/k8s/topology-configmap.yaml" "$work/host-pod.yaml" >"$work/play-host.log" 2>&1
ok $? "podman kube play: the host setup" || sed 's/^/#   /' "$work/play-host.log"
played+=("$work/host-pod.yaml")
for _ in $(seq 30); do [ -e "$state/host-local/ready" ] && break; sleep 1; done
[ -e "$state/host-local/ready" ]
ok $? "the host setup is ready (vmrun host up in its container)"

podman kube play --configmap "$work/k8s/topology-configmap.yaml" "$work/k8s/pod-$g.yaml" >"$work/play.log" 2>&1
ok $? "podman kube play: the guest's pod (init containers wait-host and prep, then vm)" ||
	sed 's/^/#   /' "$work/play.log"
played+=("$work/k8s/pod-$g.yaml")
ctr=vm-$g-vm
running() { [ "$(podman inspect -f '{{.State.Running}}' "$ctr" 2>/dev/null)" = true ]; }
for _ in $(seq 60); do running && break; sleep 1; done
running
ok $? "the vm container runs" || podman logs "$ctr" 2>&1 | tail -10 | sed 's/^/#   /'
is "$(podman inspect -f '{{.Path}} {{join .Args " "}}' "$ctr" 2>/dev/null)" \
	"vmrun run /vmrun/topology.yaml $g" "vmrun is the container's process"
is "$(podman inspect -f '{{.Config.StopTimeout}}' "$ctr" 2>/dev/null)" 25 \
	"its stop timeout is terminationGracePeriodSeconds (stop_timeout 20 + 5)"
hc=$(podman inspect -f '{{if .Config.Healthcheck}}{{join .Config.Healthcheck.Test " "}}{{end}}' "$ctr" 2>/dev/null)
is "$hc" "CMD vmrun health $g" "podman took the probe of vmrun kube as the container's healthcheck"
for _ in $(seq 60); do
	grep -q 'vmrun-testguest: booted' "$state/$g/console.log" 2>/dev/null && break
	running || break
	sleep 1
done
grep -q 'vmrun-testguest: booted' "$state/$g/console.log" 2>/dev/null
ok $? "the guest boots in its pod (its console in the state directory)"
podman healthcheck run "$ctr" >"$work/hc.log" 2>&1
ok $? "podman healthcheck run: healthy" || sed 's/^/#   /' "$work/hc.log"
is "$(podman inspect -f '{{.State.Health.Status}}' "$ctr" 2>/dev/null)" healthy "the container's health is healthy"

podman kube down "$work/k8s/pod-$g.yaml" >"$work/down.log" 2>&1
ok $? "podman kube down: the guest's pod" || sed 's/^/#   /' "$work/down.log"
grep -q 'vmrun-testguest: powering off' "$state/$g/console.log" 2>/dev/null
ok $? "the guest powered off through ACPI"
"$VMRUN" --state-dir "$state" ps --all --json >"$work/ps.json" 2>/dev/null
is "$(python3 -c 'import json,sys; print([g["exit_status"] for g in json.load(open(sys.argv[1]))])' "$work/ps.json" 2>/dev/null)" \
	"[0]" "vmrun recorded exit status 0 (the guest powered off)"
podman kube down "$work/host-pod.yaml" >>"$work/down.log" 2>&1
ok $? "podman kube down: the host setup"
[ ! -e "$state/host-local/ready" ]
ok $? "the host setup was undone"
played=()
is "$(podman ps -a --filter "label=vmrun/guest=$g" -q | wc -l)" 0 "no container left"
done_testing
