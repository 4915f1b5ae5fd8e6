#!/usr/bin/env bash
# The Kubernetes manifests of `vmrun kube`, run by `podman kube play`
# (make check-deep, or make check-ecosystem; minutes): the image is the one `vmrun compose`
# writes the Dockerfile of, built by podman from this tree; a test guest
# (TCG, no NIC) boots in its pod, podman's health of the vm container turns
# healthy (the liveness probe vmrun kube wrote: its supervisor answers), the
# readiness probe's command says the guest is ready, and `podman kube down` stops it with
# the ACPI power button (the guest's console says it powers off, vmrun
# records exit status 0), then the host setup pod is taken down.
#
# Podman 4.3 (Debian 12) has no DaemonSet: the host setup runs as the pod a
# DaemonSet controller makes of its template (the test writes it from
# host-HOST.yaml).  Without systemd as PID 1 podman runs no periodic
# health checks: the test runs `podman healthcheck run`, which runs the
# container's check and records its result.  crun refuses this machine's
# hybrid cgroup layout: podman uses runc (through a wrapper that keeps the
# rlimits it asks for within reach where root lacks CAP_SYS_RESOURCE).  Podman's storage is private
# (~/.cache/vmrun/podman, kept: images are cached), its run root, temporary
# directory and network configuration are under a temporary directory.
# What podman still writes to system paths (the blob info cache under
# /var/lib/containers, runc's state under /run) and every mount it makes
# stay in a private mount namespace: the test runs in one, with /var/lib
# and /run overlaid by directories of its temporary directory, so the
# machine is as it was afterwards, even when a container outlives the test.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
if [ "$(id -u)" = 0 ] && [ -z "${ECO_KUBE_PRIVATE:-}" ] && command -v unshare >/dev/null; then
	exec unshare -m --propagation private env ECO_KUBE_PRIVATE=1 bash "$0" "$@"
fi
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/ecosystem/lib.bash
. tests/ecosystem/lib.bash
BUILD=${BUILD:-build}
VMRUN=${VMRUN:-$top/$BUILD/vmrun}
TESTGUEST=$top/$BUILD/testguest
work=$(mktemp -d /tmp/vmrt-kube.XXXXXX)
state=$work/state
overlaid=()
if [ -n "${ECO_KUBE_PRIVATE:-}" ]; then
	for d in /var/lib /run; do
		o=$work/overlay${d//\//_}
		mkdir -p "$o/upper" "$o/work"
		mount -t overlay overlay -o "lowerdir=$d,upperdir=$o/upper,workdir=$o/work" "$d" &&
			overlaid+=("$d")
	done
fi
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
# runc, with the OCI config's rlimits clamped to this process's hard limits:
# podman asks for 1048576 processes and files, and raising a hard limit
# needs CAP_SYS_RESOURCE, which root lacks in some sandboxes (this one)
runtime=runc
if [ $((0x$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) >> 24 & 1)) = 0 ]; then
	runtime=$work/runc
	cat >"$runtime" <<'EOF'
#!/bin/sh
# create: --bundle DIR (DIR/config.json); exec: --process FILE
json= prev=
for a in "$@"; do
	case $prev in --bundle | -b) json=$a/config.json ;; --process | -p) json=$a ;; esac
	case $a in --bundle=*) json=${a#--bundle=}/config.json ;; --process=*) json=${a#--process=} ;; esac
	prev=$a
done
if [ -n "$json" ] && [ -f "$json" ]; then
	python3 - "$json" <<'PY'
import json, resource, sys
cfg = json.load(open(sys.argv[1]))
process = cfg.get("process", cfg)
for rl in process.get("rlimits", []) or []:
    res = getattr(resource, rl["type"], None)
    if res is None:
        continue
    hard = resource.getrlimit(res)[1]
    if hard != resource.RLIM_INFINITY:
        rl["hard"] = min(rl["hard"], hard)
        rl["soft"] = min(rl["soft"], rl["hard"])
json.dump(cfg, open(sys.argv[1], "w"))
PY
fi
exec runc "$@"
EOF
	chmod +x "$runtime"
fi
cat >"$CONTAINERS_CONF" <<EOF
[engine]
runtime = "$runtime"
tmp_dir = "$work/tmp"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_config_dir = "$work/networks"
EOF

played=()
cleanup() {
	local f
	for f in "${played[@]}"; do podman kube down "$f" >/dev/null 2>&1; done
	for d in "${overlaid[@]}"; do umount -l "$d"; done
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
skip_all() {
	skip "$1" "vmrun kube under podman kube play"
	done_testing
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root"
[ "${#overlaid[@]}" = 2 ] ||
	skip_all "cannot keep podman's writes to /var/lib and /run private (unshare, overlay mounts)"
for tool in podman runc python3; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (make deps)"
done
[ -f "$TESTGUEST/vmlinuz" ] || skip_all "no test guest in $TESTGUEST (make testguest)"
podman info >"$work/info" 2>&1 || { sed 's/^/# /' "$work/info" | tail -5; skip_all "podman does not work here"; }

# ---- the image: compose's Dockerfile, built by podman ----
if ! podman image exists docker.io/library/debian:bookworm-slim; then
	fresh_root "$work/base" && tar -C "$work/base" -c . |
		podman import - docker.io/library/debian:bookworm-slim >/dev/null 2>&1
	ok_log $? "base image debian:bookworm-slim from debootstrap" /dev/null || { done_testing; exit 1; }
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
ok_log $? "vmrun compose writes the Dockerfile" "$work/compose.log"
podman build --network host -t "$image" -f "$work/ctx/Dockerfile" \
	--build-arg VMRUN_VERSION="$("$VMRUN" --version | cut -d' ' -f2)" "$top" >"$work/build.log" 2>&1
ok_log $? "podman builds the image vmrun compose's Dockerfile describes" "$work/build.log" || { done_testing; exit 1; }

# ---- the manifests ----
"$VMRUN" --state-dir "$state" kube "$work/topology.yaml" -o "$work/k8s" --image "$image" >"$work/kube.log" 2>&1
ok_log $? "vmrun kube writes the manifests" "$work/kube.log"
# What podman 4.3 lacks, done as a cluster would (docs/compose.md):
#  - no DaemonSet: the pod its controller would make on this node;
#  - configMap volumes ignore subPath (the directory is mounted where the file
#    belongs): the ConfigMap's file bind-mounted as the kubelet does for a
#    subPath, from a copy of its data (hostPath, type File).
# And the guest's node directory (hostPath /var/lib/vmrun/volumes/GUEST) is
# one in the test's temporary directory: the test changes nothing outside it.
python3 - "$work/k8s" "$work" "$g" <<'PY'
import sys, yaml
k8s, work, guest = sys.argv[1:]
cm = yaml.safe_load(open(f"{k8s}/topology-configmap.yaml"))
for key, text in cm["data"].items():
    open(f"{work}/cm-{key}", "w").write(text)

def subpath_to_file(spec):
    cms = {v["name"] for v in spec["volumes"] if "configMap" in v}
    extra = []
    for c in spec.get("initContainers", []) + spec["containers"]:
        for m in c.get("volumeMounts", []):
            if m["name"] in cms and "subPath" in m:
                name = m["name"] + "-" + m["subPath"].replace(".", "-")
                if name not in [v["name"] for v in extra]:
                    extra.append({"name": name, "hostPath": {"path": f"{work}/cm-{m['subPath']}", "type": "File"}})
                m["name"] = name
                del m["subPath"]
    spec["volumes"] = [v for v in spec["volumes"] if "configMap" not in v] + extra

ds = yaml.safe_load(open(f"{k8s}/host-local.yaml"))
host = {"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": ds["metadata"]["name"] + "-node",
                     "labels": ds["spec"]["template"]["metadata"]["labels"]},
        "spec": ds["spec"]["template"]["spec"]}
subpath_to_file(host["spec"])
yaml.safe_dump(host, open(f"{work}/host-pod.yaml", "w"), sort_keys=False)
pod = yaml.safe_load(open(f"{k8s}/pod-{guest}.yaml"))
subpath_to_file(pod["spec"])
# the node directory of the guest's disks, in the test's own directory
for v in pod["spec"]["volumes"]:
    hp = v.get("hostPath", {})
    if hp.get("path") == f"/var/lib/vmrun/volumes/{guest}":
        hp["path"] = f"{work}/volumes/{guest}"
        break
else:
    sys.exit(f"no hostPath /var/lib/vmrun/volumes/{guest} in pod-{guest}.yaml")
yaml.safe_dump(pod, open(f"{work}/pod.yaml", "w"), sort_keys=False)
PY
ok $? "the host setup's pod from the DaemonSet's template; the ConfigMap's file for its subPath; the disks' node directory in the test's"

podman kube play "$work/host-pod.yaml" >"$work/play-host.log" 2>&1
ok_log $? "podman kube play: the host setup" "$work/play-host.log"
played+=("$work/host-pod.yaml")
for _ in $(seq 30); do [ -e "$state/host-local/ready" ] && break; sleep 1; done
[ -e "$state/host-local/ready" ]
ok $? "the host setup is ready (vmrun host up in its container)"

podman kube play "$work/pod.yaml" >"$work/play.log" 2>&1
ok_log $? "podman kube play: the guest's pod (init containers wait-host and prep, then vm)" "$work/play.log"
played+=("$work/pod.yaml")
ctr=vm-$g-vm
running() { [ "$(podman inspect -f '{{.State.Running}}' "$ctr" 2>/dev/null)" = true ]; }
for _ in $(seq 60); do running && break; sleep 1; done
running
ok $? "the vm container runs" || podman logs "$ctr" 2>&1 | tail -10 | sed 's/^/#   /'
is "$(podman inspect -f '{{.Path}} {{join .Args " "}}' "$ctr" 2>/dev/null)" \
	"vmrun run /vmrun/topology.yaml $g" "vmrun is the container's process"
grace=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["spec"]["terminationGracePeriodSeconds"])' "$work/pod.yaml")
is "$grace" 25 "the pod's terminationGracePeriodSeconds is stop_timeout 20 + 5"
diag "podman 4.3 gives the container its own stop timeout: $(podman inspect -f '{{.Config.StopTimeout}}' "$ctr" 2>/dev/null) s"
hc=$(podman inspect -f '{{if .Config.Healthcheck}}{{join .Config.Healthcheck.Test " "}}{{end}}' "$ctr" 2>/dev/null)
is "$hc" "CMD-SHELL vmrun health --live $g || exit 1" "podman took the liveness probe of vmrun kube as the container's healthcheck"
for _ in $(seq 180); do
	grep -q 'vmrun-testguest: booted' "$state/$g/console.log" 2>/dev/null && break
	running || break
	sleep 1
done
grep -q 'vmrun-testguest: booted' "$state/$g/console.log" 2>/dev/null
ok $? "the guest boots in its pod (its console in the state directory)"
podman healthcheck run "$ctr" >"$work/hc.log" 2>&1
ok_log $? "podman healthcheck run: healthy" "$work/hc.log"
is "$(podman inspect -f '{{.State.Health.Status}}' "$ctr" 2>/dev/null)" healthy "the container's health is healthy"
# podman 4.3 runs no readinessProbe: run its command as the kubelet would
ready=$(python3 -c 'import sys, yaml; print(" ".join(yaml.safe_load(open(sys.argv[1]))["spec"]["containers"][0]["readinessProbe"]["exec"]["command"]))' "$work/pod.yaml")
is "$ready" "vmrun health $g" "the readinessProbe is vmrun health GUEST"
# shellcheck disable=SC2086 # the probe's words
podman exec "$ctr" $ready >"$work/ready.log" 2>&1
ok_log $? "the readinessProbe's command in the vm container: $(head -1 "$work/ready.log")" "$work/ready.log"

# podman 4.3's kube down stops pods with a timeout of 0 s (SIGTERM, then
# SIGKILL at once): first the kubelet's way, SIGTERM and the pod's grace
podman pod stop -t "$grace" "vm-$g" >"$work/down.log" 2>&1
ok_log $? "podman pod stop -t terminationGracePeriodSeconds: the guest's pod" "$work/down.log"
podman kube down "$work/pod.yaml" >>"$work/down.log" 2>&1
ok_log $? "podman kube down: the guest's pod" "$work/down.log"
grep -q 'vmrun-testguest: powering off' "$state/$g/console.log" 2>/dev/null
ok $? "the guest powered off through ACPI"
"$VMRUN" --state-dir "$state" ps --all --json >"$work/ps.json" 2>/dev/null
is "$(python3 -c 'import json,sys; print([g["exit_status"] for g in json.load(open(sys.argv[1]))])' "$work/ps.json" 2>/dev/null)" \
	"[0]" "vmrun recorded exit status 0 (the guest powered off)"
hgrace=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["spec"]["terminationGracePeriodSeconds"])' "$work/host-pod.yaml")
podman pod stop -t "$hgrace" vmrun-host-local-node >>"$work/down.log" 2>&1 &&
	podman kube down "$work/host-pod.yaml" >>"$work/down.log" 2>&1
ok_log $? "podman pod stop and kube down: the host setup" "$work/down.log"
[ ! -e "$state/host-local/ready" ]
ok $? "the host setup was undone"
played=()
is "$(podman ps -a --filter "label=vmrun/guest=$g" -q | wc -l)" 0 "no container left"
done_testing
