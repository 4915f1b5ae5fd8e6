# shellcheck shell=bash
# Helpers of the long ecosystem tests (tests/deep/eco_*.sh): source it
# after tests/lib/tap.sh, with $top set to the top of the tree.
# shellcheck disable=SC2154 # top: set by the suite that sources this file
#
# fresh_root DIR: a fresh Debian 12 minbase tree in DIR, from a debootstrap
# made once and kept as a tarball in ~/.cache/vmrun (the mirror is the one
# compose_docker.sh uses).  Returns non-zero (with the log's tail as TAP
# comments) when debootstrap fails.
ECO_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/vmrun
ECO_MIRROR=${VMRUN_DEBIAN_MIRROR:-http://deb.debian.org/debian}

fresh_root() {
	local dir=$1 tarball=$ECO_CACHE/rootfs-bookworm-minbase.tar
	mkdir -p "$ECO_CACHE" "$dir"
	if [ ! -f "$tarball" ]; then
		local tmp
		tmp=$(mktemp -d "$ECO_CACHE/rootfs.XXXXXX")
		if ! debootstrap --variant=minbase bookworm "$tmp/root" "$ECO_MIRROR" >"$tmp/log" 2>&1; then
			tail -5 "$tmp/log" | sed 's/^/# debootstrap: /'
			rm -rf "$tmp"
			return 1
		fi
		tar -C "$tmp/root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
		rm -rf "$tmp"
	fi
	tar -C "$dir" -xf "$tarball"
	# the host's suites (its packages were built against them), no expiry check
	# (the mirror may be a dated snapshot)
	cat >"$dir/etc/apt/sources.list" <<EOF
deb $ECO_MIRROR bookworm main
deb $ECO_MIRROR bookworm-updates main
deb ${ECO_MIRROR%/debian}/debian-security bookworm-security main
EOF
	printf 'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\n' \
		>"$dir/etc/apt/apt.conf.d/90vmrun-test"
	cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null
	return 0
}

# in_root DIR COMMAND...: run COMMAND chrooted in DIR, in a mount namespace of
# its own with /proc, /dev and /sys mounted and the apt archive cache bound
# to ~/.cache/vmrun/$ECO_APT (kept between runs; one per suite: apt locks
# it, and the suites run at the same time); nothing is mounted on the host's
# side
ECO_APT=${ECO_APT:-apt-archives}
in_root() {
	local dir=$1
	shift
	mkdir -p "$ECO_CACHE/$ECO_APT/partial"
	unshare -m --propagation private sh -c '
		d=$1; c=$2; shift 2
		mount -t proc proc "$d/proc" && mount --rbind /dev "$d/dev" &&
			mount -t sysfs sysfs "$d/sys" &&
			mount --bind "$c" "$d/var/cache/apt/archives" &&
			exec chroot "$d" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
				DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root "$@"
	' sh "$dir" "$ECO_CACHE/$ECO_APT" "$@"
}

# eco_deb LOG: the Debian package: DEB when it names one, else make deb,
# once for the tree's version: the suites of check-deep run at the same time
# and share it (under a lock)
eco_deb() {
	if [ -n "${DEB:-}" ]; then
		echo "$DEB"
		return
	fi
	local b=$top/${BUILD:-build} v
	v=$(cat VERSION 2>/dev/null || git describe --tags --always --dirty)
	mkdir -p "$b"
	(
		flock 9
		[ "$(cat "$b/deb/src/VERSION" 2>/dev/null)" = "$v" ] && ls "$b"/deb/vmrun_*.deb >/dev/null 2>&1 &&
			exit 0
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory BUILD="${BUILD:-build}" deb
	) 9>"$b/deb.lock" >"$1" 2>&1 || return 1
	ls "$b"/deb/vmrun_*.deb 2>/dev/null | head -1
}

# ok_log STATUS WHAT LOG: ok, and on failure the end of LOG as comments;
# returns STATUS
ok_log() {
	ok "$1" "$2"
	[ "$1" -eq 0 ] || tail -15 "$3" | sed 's/^/#   /'
	return "$1"
}
