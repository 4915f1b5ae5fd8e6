# shellcheck shell=bash
# What the tests must leave as they found it: source this file, then
#   hoststate_snapshot FILE     record the machine's state
# and compare two snapshots with diff.  Tests work only in the namespaces,
# temporary directories and containers they create, so nothing here may
# change across a test run: device nodes in /dev, files in /etc and /run,
# the network namespaces, the root namespace's links, and the mounts.
# Recorded without times or sizes that change on their own (/dev/pts, the
# atime of a file read, a log growing), and without dockerd's own state
# (/etc/docker/key.json, /run/docker*, /run/containerd, its overlay mounts under
# /var/lib/docker):
# the Docker tests start a dockerd when none runs, and a dockerd starting
# removes what a killed one left behind; that is the daemon's bookkeeping,
# not a change a test made (containers the tests create are theirs to remove,
# and they do, by name).

hoststate_snapshot() { # hoststate_snapshot FILE
	{
		echo "## /dev (type mode owner name; not pts, shm or mqueue contents)"
		find /dev -xdev \( -path /dev/pts -o -path /dev/shm -o -path /dev/mqueue \) -prune -o \
			-printf '%y %m %u:%g %p\n' 2>/dev/null | sort
		echo "## /etc (type mode name, and the content of regular files)"
		# dockerd's identity key, made by the first dockerd a Docker test starts
		find /etc -xdev -path /etc/docker/key.json -prune -o -printf '%y %m %p\n' 2>/dev/null | sort
		find /etc -xdev -path /etc/docker/key.json -prune -o -type f -readable -print0 2>/dev/null |
			sort -z | xargs -0 -r md5sum 2>/dev/null
		echo "## /run (type name, three levels)"
		find /run -xdev -maxdepth 3 \( -path '/run/user/*' -o -path /run/utmp \
			-o -path '/run/docker*' -o -path /run/containerd \) -prune -o \
			-printf '%y %p\n' 2>/dev/null | sort
		echo "## network namespaces"
		ip netns list 2>/dev/null | sort
		echo "## links of this namespace (name kind master mtu)"
		ip -d -o link show 2>/dev/null | awk '{
			name = $2; sub(/@.*/, "", name); sub(/:$/, "", name)
			kind = "-"; master = "-"; mtu = "-"
			for (i = 3; i <= NF; i++) {
				if ($i == "mtu") mtu = $(i + 1)
				if ($i == "master") master = $(i + 1)
				if ($i == "link/ether" || $i == "link/loopback" || $i == "link/none") continue
			}
			if ($0 ~ / macvtap /) kind = "macvtap"; else if ($0 ~ / veth /) kind = "veth"
			else if ($0 ~ / bridge /) kind = "bridge"; else if ($0 ~ / tun /) kind = "tun"
			print name, kind, master, mtu }' | sort
		echo "## mounts (target fstype source)"
		findmnt -rn -o TARGET,FSTYPE,SOURCE 2>/dev/null |
			grep -Ev '^(/var/lib/docker|/run/docker|/run/containerd)/' | sort
	} >"$1"
}

# Directories tools make on first use and never remove: `ip netns add` makes
# /run/netns (and bind-mounts it on itself, shared), util-linux's mount makes
# /run/mount (the lock of its utab).  A machine that had none gets them from
# the first test that makes a namespace; they are the tests' doing, so the
# tests take them away again once they are empty:
#   absent=$(hoststate_byproducts)   before the tests
#   hoststate_tidy $absent           after them
hoststate_byproducts() {
	local d
	for d in /run/netns /run/mount; do [ -e "$d" ] || echo "$d"; done
}

hoststate_tidy() { # hoststate_tidy DIR...
	local d
	for d in "$@"; do
		[ -d "$d" ] && [ -z "$(ls -A "$d")" ] || continue
		while mountpoint -q "$d"; do umount "$d" || break; done
		rmdir "$d" 2>/dev/null || true
	done
}
