#!/usr/bin/env bash
# A two-host test bed on one machine, for trying (and testing) a multi-host
# lab deployed with compose.sh from a "workstation" (docs/compose.md).
#
#   examples/lab2/bed.sh start DIR    build the bed; DIR must not exist
#   examples/lab2/bed.sh stop DIR     tear it down (whatever start got to)
#   . DIR/env                         PATH and DOCKER_HOST of the workstation
#
# What start makes, all of it owned by DIR and torn down by stop:
#   - hosts h1 and h2: one network namespace each (NS from DIR/bed.env), and
#     in it a mount namespace (a tmpfs on /run, a private /etc/docker) that
#     holds the host's own dockerd (data-root, exec-root, pidfile and socket
#     under DIR/hN/) and its own sshd listening on the host address; the sshd
#     sets DOCKER_HOST (and a HOME of its own) for its sessions, so `docker -H ssh://ADDR` (the
#     remote `docker system dial-stdio`) reaches that host's engine;
#   - the host addresses 10.213.0.1 (h1) and 10.213.0.2 (h2) on ctl0, one end
#     each of the veth pair that is the vmctrl network (h1's end has MAC
#     02:00:00:00:00:02, h2's 02:00:00:00:00:03: the macvtap parents of
#     5gdeploy's README); a second veth pair wire0 is the lab wire n6
#     (02:00:00:00:06:02 and 02:00:00:00:06:03);
#   - a root key (DIR/key) that both sshds accept, their host keys in
#     DIR/known_hosts, and DIR/ssh_config: ssh reaches each host address
#     through its namespace (ProxyCommand nsenter ... socat), so the machine's
#     own network namespace gets no link, address or route;
#   - DIR/bin/ssh, which runs ssh with DIR/ssh_config: first on PATH, it is
#     the ssh that docker, docker-compose and compose.sh use;
#   - the workstation's engine: one more private dockerd, in the machine's
#     network namespace (for apt in `compose.sh build`) but in a mount
#     namespace of its own, with --bridge=none and no iptables rules.
#     DIR/env points DOCKER_HOST at it.
#
# The machine's own dockerd, if one runs, is not used.  Needs root, dockerd,
# docker, sshd (openssh-server), socat, nsenter and unshare (make deps).
set -u
LAB2_ADDR=(10.213.0.1 10.213.0.2)
LAB2_CTL_MAC=(02:00:00:00:00:02 02:00:00:00:00:03)
LAB2_WIRE_MAC=(02:00:00:00:06:02 02:00:00:00:06:03)

bed_die() {
	echo "lab2 bed: error: $*" >&2
	exit 1
}

# bed_pidfile_kill FILE: TERM the process FILE names (one this bed started),
# KILL it after 30 s; quiet when it is gone
bed_pidfile_kill() {
	local pid i
	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	[ -n "$pid" ] && [ -e "/proc/$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 150; i++)); do [ -e "/proc/$pid" ] || return 0; sleep 0.2; done
	kill -KILL "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do [ -e "/proc/$pid" ] || return 0; sleep 0.1; done
}

# bed_holder DIR NETNS|-: a process holding a new mount namespace (tmpfs on
# /run, DIR/etc-docker on /etc/docker) in NETNS (- for the machine's)
bed_holder() {
	local d=$1 ns=$2 pid i
	local -a enter=()
	mkdir -p "$d/etc-docker"
	[ "$ns" = - ] || enter=(nsenter "--net=/run/netns/$ns")
	rm -f "$d/holder.pid"
	# shellcheck disable=SC2016 # expanded by the inner sh
	setsid "${enter[@]}" unshare -m --propagation private sh -c \
		'mount -t tmpfs -o mode=0755 tmpfs /run && mount --bind "$1" /etc/docker &&
		echo $$ >"$2.new" && mv "$2.new" "$2" && exec sleep infinity' \
		sh "$d/etc-docker" "$d/holder.pid" </dev/null >/dev/null 2>&1 &
	for ((i = 0; i < 100; i++)); do
		if [ -s "$d/holder.pid" ]; then
			pid=$(cat "$d/holder.pid")
			[ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && return 0
		fi
		sleep 0.05
	done
	bed_die "the mount namespace holder for $d does not start"
}

# bed_in DIR CMD...: run CMD in the namespaces of DIR's holder
bed_in() {
	local d=$1
	shift
	nsenter -t "$(cat "$d/holder.pid")" -m -n -- "$@"
}

# bed_dockerd DIR: start DIR's private dockerd in its holder; 0 once it answers
bed_dockerd() {
	local d=$1 i pid
	mkdir -p "$d/data" "$d/exec"
	setsid nsenter -t "$(cat "$d/holder.pid")" -m -n -- dockerd --data-root "$d/data" \
		--exec-root "$d/exec" --pidfile "$d/dockerd.pid" -H "unix://$d/docker.sock" \
		--bridge=none --iptables=false --ip6tables=false </dev/null >>"$d/dockerd.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 120; i++)); do
		docker -H "unix://$d/docker.sock" info >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || [ -s "$d/dockerd.pid" ] || break
		sleep 0.5
	done
	tail -5 "$d/dockerd.log" | sed 's/^/lab2 bed: dockerd: /' >&2
	bed_die "the dockerd of $d does not start"
}

bed_start() {
	local dir=$1 id ns i h addr
	[ "$(id -u)" = 0 ] || bed_die "needs root"
	for tool in dockerd docker sshd socat nsenter unshare ssh-keygen ip; do
		command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
			bed_die "$tool is not installed (make deps)"
	done
	[ ! -e "$dir" ] || bed_die "'$dir' exists"
	mkdir -p "$dir" || exit 1
	dir=$(cd "$dir" && pwd)
	chmod 0700 "$dir"
	id=$$
	echo "NS=(vmrl2-$id-h1 vmrl2-$id-h2)" >"$dir/bed.env"
	ssh-keygen -q -t ed25519 -N '' -C "vmrun lab2 bed" -f "$dir/key" || exit 1
	cp "$dir/key.pub" "$dir/authorized_keys"
	: >"$dir/known_hosts"
	mkdir -p "$dir/bin"
	{
		echo '#!/bin/sh'
		echo '# the lab2 bed: ssh to its hosts through their namespaces'
		printf 'exec %q -F %q "$@"\n' "$(command -v ssh)" "$dir/ssh_config"
	} >"$dir/bin/ssh"
	chmod 0755 "$dir/bin/ssh"
	{
		echo "# the lab2 bed ($dir): source it"
		# shellcheck disable=SC2016 # $PATH is for the shell that sources env
		printf 'export PATH=%q:"$PATH"\n' "$dir/bin"
		printf 'export DOCKER_HOST=%q\n' "unix://$dir/ws/docker.sock"
	} >"$dir/env"
	: >"$dir/ssh_config"

	for i in 0 1; do
		h=$dir/h$((i + 1)) ns=vmrl2-$id-h$((i + 1)) addr=${LAB2_ADDR[$i]}
		mkdir -p "$h"
		ip netns add "$ns" || bed_die "cannot create network namespace $ns"
		ip -n "$ns" link set lo up
		cat >>"$dir/ssh_config" <<-EOF
			Host $addr
			  ProxyCommand nsenter --net=/run/netns/$ns socat - TCP:%h:%p,connect-timeout=30
		EOF
	done
	cat >>"$dir/ssh_config" <<-EOF
		Host 10.213.0.*
		  User root
		  IdentityFile $dir/key
		  IdentitiesOnly yes
		  UserKnownHostsFile $dir/known_hosts
		  StrictHostKeyChecking yes
		  BatchMode yes
	EOF
	# shellcheck source=/dev/null
	. "$dir/bed.env"
	# the vmctrl network and the lab wire, each end in its namespace
	if ! ip link add ctl0 netns "${NS[0]}" address "${LAB2_CTL_MAC[0]}" type veth \
		peer name ctl0 netns "${NS[1]}" address "${LAB2_CTL_MAC[1]}" ||
		! ip link add wire0 netns "${NS[0]}" address "${LAB2_WIRE_MAC[0]}" type veth \
			peer name wire0 netns "${NS[1]}" address "${LAB2_WIRE_MAC[1]}"; then
		bed_die "cannot create the veth pairs"
	fi
	for i in 0 1; do
		if ! ip -n "${NS[$i]}" addr add "${LAB2_ADDR[$i]}/24" dev ctl0 ||
			! ip -n "${NS[$i]}" link set ctl0 up || ! ip -n "${NS[$i]}" link set wire0 up; then
			bed_die "cannot configure ${NS[$i]}"
		fi
	done

	for i in 0 1; do
		h=$dir/h$((i + 1)) addr=${LAB2_ADDR[$i]}
		bed_holder "$h" "${NS[$i]}"
		bed_dockerd "$h"
		ssh-keygen -q -t ed25519 -N '' -f "$h/host_key" || exit 1
		echo "$addr $(cut -d' ' -f1-2 "$h/host_key.pub")" >>"$dir/known_hosts"
		cat >"$h/sshd_config" <<-EOF
			# the lab2 bed's host h$((i + 1))
			ListenAddress $addr
			HostKey $h/host_key
			PidFile $h/sshd.pid
			AuthorizedKeysFile $dir/authorized_keys
			PermitRootLogin prohibit-password
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			UsePAM no
			StrictModes no
			# the bed's DIR is under /tmp, which StrictModes refuses
			# this host's engine, and a home of its own (not the machine's root's
			# dotfiles and ~/.docker)
			SetEnv DOCKER_HOST=unix://$h/docker.sock HOME=$h/home
			Subsystem sftp internal-sftp
			# "Accepted publickey" per connection, "Starting session" per command
			LogLevel VERBOSE
		EOF
		mkdir -p "$h/home"
		bed_in "$h" mkdir -p /run/sshd
		setsid nsenter -t "$(cat "$h/holder.pid")" -m -n -- "$(command -v sshd || echo /usr/sbin/sshd)" \
			-D -f "$h/sshd_config" -E "$h/sshd.log" </dev/null >/dev/null 2>&1 &
	done
	# the workstation's engine
	mkdir -p "$dir/ws"
	bed_holder "$dir/ws" -
	bed_dockerd "$dir/ws"
	for addr in "${LAB2_ADDR[@]}"; do
		for ((i = 0; i < 100; i++)); do
			"$dir/bin/ssh" -o ConnectTimeout=5 "$addr" true 2>/dev/null && break
			sleep 0.1
		done
		"$dir/bin/ssh" -o ConnectTimeout=5 "$addr" docker version -f '{{.Server.Version}}' >/dev/null ||
			bed_die "ssh to $addr does not reach its docker engine"
	done
}

bed_stop() {
	local dir=$1 d
	[ -f "$dir/bed.env" ] || return 0
	# shellcheck source=/dev/null
	. "$dir/bed.env"
	for d in "$dir/ws" "$dir/h1" "$dir/h2"; do
		[ -d "$d" ] || continue
		bed_pidfile_kill "$d/sshd.pid"
		if [ -S "$d/docker.sock" ]; then
			# a container left running would keep its shim (and QEMU) after dockerd
			docker -H "unix://$d/docker.sock" ps -aq 2>/dev/null |
				xargs -r docker -H "unix://$d/docker.sock" rm -f >/dev/null 2>&1
		fi
		bed_pidfile_kill "$d/dockerd.pid"
		bed_pidfile_kill "$d/holder.pid"
	done
	for d in "${NS[@]}"; do
		[ -e "/run/netns/$d" ] && ip netns del "$d"
	done
	rm -rf "$dir"
}

case ${1:-} in
start)
	[ $# = 2 ] || bed_die "usage: bed.sh start DIR"
	bed_start "$2"
	;;
stop)
	[ $# = 2 ] || bed_die "usage: bed.sh stop DIR"
	bed_stop "$2"
	;;
*)
	echo "usage: examples/lab2/bed.sh start|stop DIR" >&2
	exit 2
	;;
esac
