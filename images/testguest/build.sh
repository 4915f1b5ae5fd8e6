#!/usr/bin/env bash
# Build the vmrun test guest: OUTDIR/vmlinuz and OUTDIR/initrd.img (gzip cpio)
# from Debian packages only -- the kernel of linux-image-cloud-amd64 and
# busybox-static, both fetched with `apt-get download` into a cache, never
# installed on the host.  docs/testguest.md describes the guest.
#
#   images/testguest/build.sh OUTDIR
#
# Re-running with the same package versions, init and build script does
# nothing (OUTDIR/stamp records them).  Environment:
#   VMRUN_DEB_CACHE             where .debs are kept
#                               (default ${XDG_CACHE_HOME:-~/.cache}/vmrun/debs)
#   VMRUN_TESTGUEST_KERNEL_PKG  kernel meta package (linux-image-cloud-amd64)
set -euo pipefail

die() { echo "testguest: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
here=$(cd "$(dirname "$0")" && pwd)
cache=${VMRUN_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrun/debs}
meta=${VMRUN_TESTGUEST_KERNEL_PKG:-linux-image-cloud-amd64}

# Modules the init loads (with their dependencies): virtio NICs and disks,
# the CD-ROM on virtio-scsi or IDE for the cloud-init seed, ISO9660, and the
# ACPI power button with evdev so busybox acpid sees it, and virtio-serial
# (virtio_console) for the guest agent channel.
modules=(virtio_pci virtio_net virtio_blk virtio_scsi scsi_mod sd_mod sr_mod
	cdrom isofs ata_piix button evdev virtio_console)
# Modules taken when the kernel package has them, loaded quietly (they fail
# without their hardware): efivarfs for the UEFI variables, and what only
# Debian's generic kernel has (the cloud kernel has no USB and no i6300esb):
# the USB tablet on xHCI and the i6300esb watchdog.
optional=(efivarfs xhci_pci usbhid hid_generic i6300esb)
# scsi_mod: scan synchronously so disks exist once insmod returns;
# i6300esb: a 5 s heartbeat, so an unfed watchdog fires within ~10 s
declare -A modparams=([scsi_mod]="scan=sync" [i6300esb]="heartbeat=5")

candidate() { # PKG -> candidate version from the local apt lists, or empty
	apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" { print $2 }'
}

# A cached .deb of PKG (newest by version), for when apt has no lists.
cached_deb() {
	local f best='' bestv=''
	for f in "$cache/$1"_*_amd64.deb; do
		[ -f "$f" ] || continue
		local v
		v=$(dpkg-deb -f "$f" Version)
		if [ -z "$bestv" ] || dpkg --compare-versions "$v" gt "$bestv"; then best=$f bestv=$v; fi
	done
	echo "$best"
}

# fetch PKG VERSION -> path of the .deb in the cache
fetch() {
	local pkg=$1 ver=$2 f
	f="$cache/${pkg}_${ver//:/%3a}_amd64.deb"
	if [ ! -s "$f" ]; then
		mkdir -p "$cache"
		echo "testguest: downloading $pkg $ver" >&2
		(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >/dev/null) ||
			die "apt-get download '$pkg=$ver' failed"
		[ -s "$f" ] || die "apt-get download '$pkg=$ver' produced no '$f'"
	fi
	echo "$f"
}

# Resolve the meta package to the real kernel package and its version
# (local apt lists only: nothing is downloaded before the stamp says so).
kpkg=$(apt-cache depends "$meta" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
kdeb='' bdeb=''
if [ -n "$kpkg" ]; then
	kver=$(candidate "$kpkg")
	[ -n "$kver" ] || die "no installable version of '$kpkg'"
	bver=$(candidate busybox-static)
	[ -n "$bver" ] || die "no installable version of 'busybox-static'"
else
	# no apt lists (offline container): use what the cache holds
	bdeb=$(cached_deb busybox-static)
	flavour=${meta#linux-image-}
	for f in "$cache"/linux-image-*-"$flavour"_*_amd64.deb; do
		[ -f "$f" ] || continue
		# linux-image-*-amd64 would also match the cloud kernel's package
		[[ ${f##*/} =~ ^linux-image-[0-9.]+-[0-9]+-${flavour}_ ]] || continue
		if [ -z "$kdeb" ] || dpkg --compare-versions "$(dpkg-deb -f "$f" Version)" gt "$(dpkg-deb -f "$kdeb" Version)"; then kdeb=$f; fi
	done
	if [ -z "$kdeb" ] || [ -z "$bdeb" ]; then
		die "cannot resolve '$meta' (run apt-get update) and no cached .debs in '$cache'"
	fi
	kpkg=$(dpkg-deb -f "$kdeb" Package) kver=$(dpkg-deb -f "$kdeb" Version)
	bver=$(dpkg-deb -f "$bdeb" Version)
fi

stamp=$(printf 'kernel %s %s\nbusybox-static %s\ninit %s\npower-button %s\nbuild %s\n' \
	"$kpkg" "$kver" "$bver" \
	"$(sha256sum <"$here/init" | cut -d' ' -f1)" \
	"$(sha256sum <"$here/power-button" | cut -d' ' -f1)" \
	"$(sha256sum <"$here/build.sh" | cut -d' ' -f1)")
if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "testguest: $out is up to date ($kpkg $kver)"
	exit 0
fi
[ -n "$kdeb" ] || kdeb=$(fetch "$kpkg" "$kver")
[ -n "$bdeb" ] || bdeb=$(fetch busybox-static "$bver")

mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# the kernel package's tree (vmlinuz and modules only)
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' './lib/modules/*'
kdir=$(echo "$tmp"/lib/modules/*)
[ -f "$kdir/modules.order" ] || die "'$kdeb' has no modules.order"
vmlinuz=$(echo "$tmp"/boot/vmlinuz-*)
[ -f "$vmlinuz" ] || die "'$kdeb' has no vmlinuz"

declare -A path=()
while read -r p; do
	n=${p##*/}; n=${n%.ko*}; path[${n//-/_}]=$p
done <"$kdir/modules.order"
declare -A builtin=()
while read -r p; do
	n=${p##*/}; n=${n%.ko*}; builtin[${n//-/_}]=1
done <"$kdir/modules.builtin"

# depth-first: dependencies before the modules that need them
declare -A seen=()
order=()
visit() {
	local m=${1//-/_} d
	[ -n "${seen[$m]:-}" ] && return
	seen[$m]=1
	[ -n "${builtin[$m]:-}" ] && return
	[ -n "${path[$m]:-}" ] || die "module '$m' is neither built in nor in '$kpkg'"
	for d in $(/sbin/modinfo -F depends "$kdir/${path[$m]}" | tr , ' '); do visit "$d"; done
	order+=("$m")
}
for m in "${modules[@]}"; do visit "$m"; done
nrequired=${#order[@]}
for m in "${optional[@]}"; do
	[ -n "${path[$m]:-}" ] || [ -n "${builtin[$m]:-}" ] || continue
	visit "$m"
done

root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,seed,etc/acpi/PWRF,lib/modules}
dpkg-deb --fsys-tarfile "$bdeb" | tar -x -O ./bin/busybox >"$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
for a in $("$root/bin/busybox" --list-full); do
	[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
done
install -m 0755 "$here/init" "$root/init"
install -m 0755 "$here/power-button" "$root/etc/acpi/PWRF/00000080"
: >"$root/lib/modules/load.list"
: >"$root/lib/modules/optional.list"
for i in "${!order[@]}"; do
	m=${order[$i]}
	list=load.list
	[ "$i" -ge "$nrequired" ] && list=optional.list
	cp "$kdir/${path[$m]}" "$root/lib/modules/"
	echo "${path[$m]##*/} ${modparams[$m]:-}" >>"$root/lib/modules/$list"
done
# an initial console for the kernel to open; init copes without one
if [ "$(id -u)" -eq 0 ]; then mknod -m 0600 "$root/dev/console" c 5 1; fi

find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
	gzip -n >"$tmp/initrd.img"
install -m 0644 "$vmlinuz" "$tmp/vmlinuz"
mv -f "$tmp/vmlinuz" "$out/vmlinuz"
mv -f "$tmp/initrd.img" "$out/initrd.img"
printf '%s\n' "$stamp" >"$out/stamp"
echo "testguest: built $out/vmlinuz $out/initrd.img ($kpkg $kver, busybox-static $bver, ${#order[@]} modules)"
