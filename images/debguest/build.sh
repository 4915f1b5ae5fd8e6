#!/usr/bin/env bash
# Build a small Debian 12 guest with real cloud-init, for the tests that check
# what cloud-init does with vmrun's seed (tests/deep/cloudinit_debian.sh,
# docs/testguest.md "The Debian guest"): debootstrap from Debian's packages,
# no ifupdown (cloud-init then renders netplan for systemd-networkd, as in
# Debian's cloud images), an ext4 root file system image made without
# mounting anything (mkfs.ext4 -d), and the guest's own kernel and initramfs
# copied out so vmrun boots it with kernel:/initrd:.
#
#   images/debguest/build.sh OUTDIR
#
# Produces OUTDIR/root.qcow2 (the root file system, no partition table: the
# guest mounts /dev/vda), OUTDIR/vmlinuz, OUTDIR/initrd.img and OUTDIR/stamp
# (the package list, mirror and a hash of this script).  Re-running with the
# same stamp does nothing.  Needs root (debootstrap chroots), debootstrap,
# mkfs.ext4 and qemu-img; runs debootstrap in a private mount namespace so
# its /proc and /sys mounts never show on the host.  Environment:
#   VMRUN_DEBIAN_MIRROR   (default http://deb.debian.org/debian)
#   VMRUN_DEBOOTSTRAP_CACHE  downloaded .debs, kept between builds
#                         (default ${XDG_CACHE_HOME:-~/.cache}/vmrun/debootstrap-bookworm)
set -euo pipefail

die() {
	echo "debguest: error: $*" >&2
	exit 1
}

[ $# -eq 1 ] || {
	echo "usage: $0 OUTDIR" >&2
	exit 2
}
out=$1
here=$(cd "$(dirname "$0")" && pwd)
mirror=${VMRUN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${VMRUN_DEBOOTSTRAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrun/debootstrap-bookworm}
# what Debian's cloud images run: cloud-init, netplan over systemd-networkd,
# openssh-server, sudo for the default user; the cloud kernel (virtio, ISO
# 9660 for the seed) with initramfs-tools.  debootstrap lays the base; apt in
# the new root installs the rest (debootstrap's resolver does not follow
# virtual packages such as python3-cryptography's python3-cffi-backend-api-*).
base=systemd-sysv,udev,dbus
packages=(cloud-init netplan.io openssh-server sudo iproute2 linux-image-cloud-amd64
	initramfs-tools e2fsprogs procps iputils-ping locales)
include="$base ${packages[*]}"

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap)"
for c in debootstrap mkfs.ext4 qemu-img unshare; do
	command -v "$c" >/dev/null || die "'$c' is not installed (make deps)"
done

stamp=$(printf 'suite bookworm\nvariant minbase\ninclude %s\nmirror %s\nbuild %s\n' \
	"$include" "$mirror" "$(sha256sum <"$here/build.sh" | cut -d' ' -f1)")
if [ -f "$out/root.qcow2" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] &&
	[ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "debguest: $out is up to date"
	exit 0
fi

mkdir -p "$out" "$cache"
# Two builds at once (two checkouts, parallel CI jobs) share the cache:
# debootstrap and apt are not safe against a second writer, so they queue.
exec {cache_lock}>"$cache/.lock"
flock "$cache_lock"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

echo "debguest: debootstrap bookworm from $mirror (log: $out/debootstrap.log)" >&2
# A private mount namespace: the /proc, /sys and cache mounts die with it.
# Services never start in the new root (policy-rc.d); the downloaded .debs
# are kept in the cache for the next build.
mkdir -p "$cache/apt"
if ! unshare -m --propagation private bash -euc '
	root=$1 cache=$2 mirror=$3 base=$4
	shift 4
	debootstrap --variant=minbase --include="$base" --cache-dir="$cache" bookworm "$root" "$mirror"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount --bind /dev "$root/dev"
	mount --bind "$cache/apt" "$root/var/cache/apt/archives"
	printf "#!/bin/sh\nexit 101\n" >"$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
	DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -q update
	DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -q install -y --no-install-recommends "$@"
	rm -f "$root/usr/sbin/policy-rc.d"
	# en_US.UTF-8, as in Debian cloud images: the locale module of cloud-init sets it
	sed -i "s/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/" "$root/etc/locale.gen"
	chroot "$root" locale-gen
' debguest "$root" "$cache" "$mirror" "$base" "${packages[@]}" >"$out/debootstrap.log" 2>&1; then
	cp "$root/debootstrap/debootstrap.log" "$out/debootstrap-target.log" 2>/dev/null
	tail -5 "$out/debootstrap.log" >&2
	die "debootstrap failed (see $out/debootstrap.log)"
fi

# Only what a cloud image has before its first boot; everything cloud-init
# is tested for (users, passwords, keys, hostname, /etc/hosts, network) is
# left to it.
echo "LABEL=vmrun-root / ext4 errors=remount-ro 0 1" >"$root/etc/fstab"
echo localhost >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n' >"$root/etc/hosts"
: >"$root/etc/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
# boot faster under TCG: nothing here needs the daily apt and man-db jobs
rm -f "$root"/etc/systemd/system/timers.target.wants/*
# the seed is a CD on virtio-scsi; initramfs-tools' default MODULES=most has
# virtio_blk and ext4 for the root
kver=$(basename "$(echo "$root"/lib/modules/*)")
[ -f "$root/boot/vmlinuz-$kver" ] || die "no kernel in the image"
[ -f "$root/boot/initrd.img-$kver" ] || die "no initramfs in the image"
install -m 0644 "$root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
install -m 0644 "$root/boot/initrd.img-$kver" "$tmp/initrd.img"

mkfs.ext4 -q -F -L vmrun-root -d "$root" "$tmp/root.raw" 2G
qemu-img convert -q -f raw -O qcow2 "$tmp/root.raw" "$tmp/root.qcow2"
mv -f "$tmp/vmlinuz" "$out/vmlinuz"
mv -f "$tmp/initrd.img" "$out/initrd.img"
mv -f "$tmp/root.qcow2" "$out/root.qcow2"
printf '%s\n' "$stamp" >"$out/stamp"
echo "debguest: built $out (kernel $kver, $(chroot "$root" dpkg-query -W -f '${Version}' cloud-init 2>/dev/null || echo '?') cloud-init)"
