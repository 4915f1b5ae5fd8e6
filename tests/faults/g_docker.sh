#!/usr/bin/env bash
# Fault group "docker": a guest whose supervisor is PID 1 of a container
# (docs/supervisor.md), under `docker stop`, `docker kill` and a restart of
# dockerd.  Slow: `make check-deep` only (tests/faults/deep.sh).
#
# Nothing of the machine's Docker is used or changed: a private dockerd
# runs in the group's network namespace and in a mount namespace of its
# own (a tmpfs on /run, so its containerd's shim sockets stay there too),
# with its own --data-root, --exec-root, --pidfile and socket under the
# group's temporary directory, --bridge=none and no iptables rules.
#
# The image needs no network and no debootstrap: a root of a few
# directories and symlinks (bin -> usr/bin, ...) with /etc/passwd, /etc/group
# and /etc/ld.so.cache, imported with `docker import`; the container gets
# the machine's /usr read-only (vmrun's libraries, QEMU and its firmware)
# and the vmrun under test at /vmrun/bin/vmrun.  The container is what
# `vmrun compose` writes for a macvtap guest: network_mode host (here the
# group's namespace), cap_drop ALL + NET_ADMIN, MKNOD, SETPCAP,
# no-new-privileges, `c *:* rwm`, its cpuset; the guest's state directory
# is the group's $STATE/GUEST, so the journal is read from here.
#
# Skipped, with the reason, where dockerd cannot start.
set -u
cd "$(dirname "$0")/../.." || exit 1
FAULTS_GROUP="docker: docker stop, docker kill, dockerd restart"
# shellcheck source=tests/faults/lib.bash
. tests/faults/lib.bash
faults_need root testguest netns macvtap
for tool in dockerd docker nsenter; do
	command -v "$tool" >/dev/null || faults_skip_all "$tool is not installed"
done
unset VMRUN_QEMU
G=dk$$
DK=$T/docker
D=(docker -H "unix://$DK/docker.sock")
DOCKERD_PID=
DHOLD=

docker_cleanup() {
	local i
	if [ -n "$DOCKERD_PID" ] && [ -e "/proc/$DOCKERD_PID" ]; then
		"${D[@]}" ps -aq 2>/dev/null | xargs -r "${D[@]}" rm -f >/dev/null 2>&1
		kill -TERM "$DOCKERD_PID" 2>/dev/null
		for ((i = 0; i < 150; i++)); do [ -e "/proc/$DOCKERD_PID" ] || break; sleep 0.2; done
		kill -KILL "$DOCKERD_PID" 2>/dev/null
	fi
	[ -n "$DHOLD" ] && kill -KILL "$DHOLD" 2>/dev/null
	faults_cleanup
}
trap docker_cleanup EXIT

# what must not run after a case: the guest's QEMU and supervisor (dockerd,
# its containerd and the holder of its mount namespace stay)
faults_procs() {
	pgrep -f -- "-name $G," || true
	pgrep -f -- "/vmrun/topology.yaml $G" || true
}

# ---- a private dockerd ----
mkdir -p "$DK/data" "$DK/exec"
# the mount namespace: entered from the network namespace without `ip netns
# exec`, which would mount a new /sys and hide the cgroup hierarchies
# shellcheck disable=SC2016 # the inner sh expands nothing of ours
nsenter --net="/run/netns/$NS" unshare -m --propagation private \
	sh -c 'mount -t tmpfs -o mode=0755 tmpfs /run && exec sleep 100000' &
DHOLD=$!

# dockerd_start [OPTION...]: start the private dockerd; 0 once it answers
dockerd_start() {
	local i
	nsenter -t "$DHOLD" -m -n -- dockerd --data-root "$DK/data" --exec-root "$DK/exec" \
		--pidfile "$DK/dockerd.pid" -H "unix://$DK/docker.sock" --bridge=none \
		--iptables=false --ip6tables=false "$@" >>"$DK/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	for ((i = 0; i < 120; i++)); do
		"${D[@]}" info >/dev/null 2>&1 && return 0
		kill -0 "$DOCKERD_PID" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}

# dockerd_stop: SIGTERM to it, as a service manager stops it; 0 once gone
dockerd_stop() {
	local i
	kill -TERM "$DOCKERD_PID"
	for ((i = 0; i < 300; i++)); do
		[ -e "/proc/$DOCKERD_PID" ] || { wait "$DOCKERD_PID" 2>/dev/null; return 0; }
		sleep 0.2
	done
	return 1
}

for ((i = 0; i < 50; i++)); do
	[ "$(readlink "/proc/$DHOLD/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && break
	sleep 0.02
done
if ! dockerd_start; then
	tail -5 "$DK/dockerd.log" | sed 's/^/# dockerd: /'
	faults_skip_all "a private dockerd does not start here"
fi
ok 0 "a private dockerd runs in $NS, data in $DK"

# ---- the image ----
root=$T/rootfs
mkdir -p "$root"/{usr,etc,tmp,run,var,proc,sys,dev,vmrun/bin}
chmod 1777 "$root/tmp"
for l in bin sbin lib lib64; do ln -s "usr/$l" "$root/$l"; done
cp /etc/passwd /etc/group /etc/ld.so.cache "$root/etc/"
tar -C "$root" -c . | "${D[@]}" import - vmrun-fault:latest >/dev/null
ok $? "image vmrun-fault:latest imported (the machine's /usr is mounted in)"

TOPO=$T/topology.yaml
topo_real "$TOPO" "$G" '{name: n0, macvtap: p0, mac: "52:54:00:66:05:01"}'
sed -i 's/stop_timeout: 1/stop_timeout: 3/' "$TOPO"
mkdir -p "$STATE/$G"
faults_baseline

# crun NAME [OPTION...]: start the guest's container NAME
crun() {
	local name=$1
	shift
	"${D[@]}" run -d --name "$name" --init=false --network host --cap-drop ALL \
		--cap-add NET_ADMIN --cap-add MKNOD --cap-add SETPCAP \
		--security-opt no-new-privileges:true --device-cgroup-rule 'c *:* rwm' \
		--cpuset-cpus 0 "$@" \
		-v /usr:/usr:ro -v "$VMRUN:/vmrun/bin/vmrun:ro" -v "$TOPO:/vmrun/topology.yaml:ro" \
		-v "$STATE/$G:/run/vmrun/$G" -v "$TESTGUEST:$TESTGUEST:ro" \
		vmrun-fault:latest /vmrun/bin/vmrun run /vmrun/topology.yaml "$G" >/dev/null
}

# guest_ready SECONDS: 0 once a supervisor holds the lock and `ready` exists
guest_ready() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		if [ -e "$STATE/$G/ready" ] && ! flock -n -s "$STATE/$G/lock" true 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# supervisor_gone SECONDS: 0 once no supervisor holds the lock
supervisor_gone() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		flock -n -s "$STATE/$G/lock" true 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

exit_code() { "${D[@]}" inspect -f '{{.State.ExitCode}}' "$1" 2>/dev/null; }
logs() { "${D[@]}" logs "$1" 2>&1; }

# started NAME: the container's guest runs, its supervisor is PID 1
started() {
	local name=$1
	guest_ready 120
	ok $? "$name: the guest runs in its container" || logs "$name" | tail -5 | sed 's/^/# /'
	is "$(head -1 "$STATE/$G/lock")" 1 "$name: its supervisor is PID 1 of the container"
}

# --- docker stop: SIGTERM to PID 1; the guest stops, the host is clean
c=vmrf$$-stop
crun "$c"
started stop
"${D[@]}" stop -t 30 "$c" >/dev/null
code=$(exit_code "$c")
[ "$code" = 0 ] || [ "$code" = 143 ]
ok $? "stop: the container exits 0 or 143 (got $code)"
is "$(logs "$c" | grep -c '^vmrun: error:')" 0 "stop: no error in docker logs"
faults_clean stop "$G"
"${D[@]}" rm "$c" >/dev/null

# --- docker kill: SIGKILL to PID 1 takes QEMU along; the macvtap and its
# journal entry stay until the next start of the container reclaims them
c=vmrf$$-kill
crun "$c"
started kill
"${D[@]}" kill "$c" >/dev/null
is "$(exit_code "$c")" 137 "kill: the container exits 137"
wait_no_procs 10
ok $? "kill: QEMU died with the container's PID 1"
is "$(wc -l <"$STATE/$G/journal.jsonl")" 1 "kill: the journal keeps the macvtap"
"${D[@]}" start "$c" >/dev/null
started kill+start
# the killed run's `ready` may still be there when the new supervisor takes the
# lock, and dockerd copies a container's output into its log asynchronously:
# wait for the line rather than read the log once
for ((i = 0; i < 200; i++)); do
	logs "$c" | grep -q "undid 1 host change left by a previous run" && break
	sleep 0.1
done
logs "$c" | grep -q "undid 1 host change left by a previous run"
ok $? "kill+start: the restarted container undid what the killed one left" ||
	logs "$c" | tail -5 | sed 's/^/# /'

"${D[@]}" stop -t 30 "$c" >/dev/null
faults_clean kill+start "$G"
"${D[@]}" rm "$c" >/dev/null

# --- docker kill, then `vmrun down` from outside the container reclaims
c=vmrf$$-kill2
crun "$c"
started kill+down
"${D[@]}" kill "$c" >/dev/null
out=$(in_ns "$VMRUN" --state-dir "$STATE" down "$TOPO" 2>&1)
ok $? "kill+down: vmrun down on the host succeeds" || diag "$out"
[[ $out == *"undid 1 host change"* ]]
ok $? "kill+down: it undid the killed container's macvtap" || diag "$out"
faults_clean kill+down "$G"
"${D[@]}" rm "$c" >/dev/null

# --- dockerd restarts: it stops the container (SIGTERM to PID 1) on its
# way down, and its restart policy brings it back
c=vmrf$$-restart
crun "$c" --restart unless-stopped
started dockerd-restart
dockerd_stop
ok $? "dockerd-restart: dockerd stops"
supervisor_gone 30
ok $? "dockerd-restart: the supervisor stopped with it"
is "$(json_get "$STATE/$G/status.json" 'j["state"]')" exited "dockerd-restart: status.json says exited"
es=$(json_get "$STATE/$G/status.json" 'j.get("exit_status")')
[ "$es" = 0 ] || [ "$es" = 143 ]
ok $? "dockerd-restart: exit status 0 or 143 (got $es)"
faults_clean dockerd-restart "$G"
dockerd_start
ok $? "dockerd-restart: dockerd starts again"
started dockerd-restart+policy
"${D[@]}" stop -t 30 "$c" >/dev/null
faults_clean dockerd-restart+policy "$G"
"${D[@]}" rm "$c" >/dev/null

# --- dockerd restarts with --live-restore: the guest runs on meanwhile
dockerd_stop
dockerd_start --live-restore
ok $? "live-restore: dockerd runs with --live-restore"
c=vmrf$$-live
crun "$c"
started live-restore
sup=$(pgrep -f -- "/vmrun/topology.yaml $G" | head -1)
dockerd_stop
ok $? "live-restore: dockerd stops"
[ -e "$STATE/$G/ready" ] && kill -0 "$sup" 2>/dev/null
ok $? "live-restore: the guest runs on without dockerd"
dockerd_start --live-restore
ok $? "live-restore: dockerd starts again"
"${D[@]}" stop -t 30 "$c" >/dev/null
code=$(exit_code "$c")
[ "$code" = 0 ] || [ "$code" = 143 ]
ok $? "live-restore: docker stop after the restart: exit 0 or 143 (got $code)"
faults_clean live-restore "$G"
"${D[@]}" rm "$c" >/dev/null

done_testing
