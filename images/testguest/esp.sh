#!/usr/bin/env bash
# Build an EFI system partition that boots the test guest through Debian's
# signed boot chain, for `secure_boot: true` (docs/testguest.md):
#
#   images/testguest/esp.sh TESTGUEST_DIR OUTDIR
#
# OUTDIR/esp.img: a FAT image (no partition table: OVMF boots it as a
# removable disk) with Debian's shim signed by Microsoft as
# \EFI\BOOT\BOOTX64.EFI, Debian's GRUB signed by Debian next to it, a
# grub.cfg and the test guest's kernel (Debian's cloud kernel, signed by
# Debian) and initramfs.  OUTDIR/esp-unsigned.img is the same with the
# kernel's signature removed (the negative control: shim's verifier must
# refuse it).  shim-signed and grub-efi-amd64-signed are fetched with
# `apt-get download` into the test guest's .deb cache, never installed.
# Needs mtools, dosfstools (mkfs.vfat) and sbsigntool (sbattach).  Reruns
# with the same inputs do nothing (OUTDIR/stamp).
set -euo pipefail

die() { echo "testguest-esp: error: $*" >&2; exit 1; }

[ $# -eq 2 ] || { echo "usage: $0 TESTGUEST_DIR OUTDIR" >&2; exit 2; }
guest=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
cache=${VMRUN_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrun/debs}
if [ ! -f "$guest/vmlinuz" ] || [ ! -f "$guest/initrd.img" ]; then die "no test guest in '$guest'"; fi
for t in mkfs.vfat mcopy mmd sbattach; do
	command -v "$t" >/dev/null || die "'$t' is missing (install mtools, dosfstools, sbsigntool)"
done

candidate() {
	apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" { print $2 }'
}

# deb PKG -> the cached .deb of its candidate version (downloaded once), or
# the newest cached one without apt lists
deb() {
	local pkg=$1 ver f best=''
	ver=$(candidate "$pkg")
	if [ -n "$ver" ]; then
		f="$cache/${pkg}_${ver//:/%3a}_amd64.deb"
		if [ ! -s "$f" ]; then
			mkdir -p "$cache"
			echo "testguest-esp: downloading $pkg $ver" >&2
			(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >/dev/null) ||
				die "apt-get download '$pkg=$ver' failed"
		fi
		[ -s "$f" ] || die "no '$f'"
		echo "$f"
		return
	fi
	for f in "$cache/${pkg}"_*_amd64.deb; do
		[ -f "$f" ] || continue
		if [ -z "$best" ] || dpkg --compare-versions "$(dpkg-deb -f "$f" Version)" gt "$(dpkg-deb -f "$best" Version)"; then best=$f; fi
	done
	[ -n "$best" ] || die "cannot resolve '$pkg' (run apt-get update) and none cached in '$cache'"
	echo "$best"
}

shim=$(deb shim-signed)
grub=$(deb grub-efi-amd64-signed)
stamp=$(printf '%s\n%s\n%s %s\n%s\n' "${shim##*/}" "${grub##*/}" \
	"$(sha256sum <"$guest/vmlinuz" | cut -d' ' -f1)" "$(sha256sum <"$guest/initrd.img" | cut -d' ' -f1)" \
	"$(sha256sum <"$here/esp.sh" | cut -d' ' -f1)")
if [ -f "$out/esp.img" ] && [ -f "$out/esp-unsigned.img" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "testguest-esp: $out is up to date"
	exit 0
fi

mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$shim" | tar -x -C "$tmp" ./usr/lib/shim/shimx64.efi.signed
dpkg-deb --fsys-tarfile "$grub" | tar -x -C "$tmp" ./usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
# Debian's signed GRUB reads $prefix/grub.cfg, its prefix being /EFI/debian
cat >"$tmp/grub.cfg" <<'EOF'
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
linux /vmlinuz console=ttyS0 quiet
initrd /initrd.img
boot
EOF
cp "$guest/vmlinuz" "$tmp/vmlinuz-unsigned"
sbattach --remove "$tmp/vmlinuz-unsigned" >/dev/null 2>&1 ||
	die "sbattach --remove: '$guest/vmlinuz' is not a signed kernel"

export MTOOLS_SKIP_CHECK=1
# esp IMG KERNEL: a 48 MiB FAT holding the boot chain and KERNEL
esp() {
	rm -f "$1"
	mkfs.vfat -C -n ESP "$1" 49152 >/dev/null
	mmd -i "$1" ::/EFI ::/EFI/BOOT ::/EFI/debian
	mcopy -i "$1" "$tmp/usr/lib/shim/shimx64.efi.signed" ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i "$1" "$tmp/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" ::/EFI/BOOT/grubx64.efi
	mcopy -i "$1" "$tmp/grub.cfg" ::/EFI/debian/grub.cfg
	mcopy -i "$1" "$tmp/grub.cfg" ::/EFI/BOOT/grub.cfg
	mcopy -i "$1" "$2" ::/vmlinuz
	mcopy -i "$1" "$guest/initrd.img" ::/initrd.img
}
esp "$tmp/esp.img" "$guest/vmlinuz"
esp "$tmp/esp-unsigned.img" "$tmp/vmlinuz-unsigned"
mv -f "$tmp/esp.img" "$out/esp.img"
mv -f "$tmp/esp-unsigned.img" "$out/esp-unsigned.img"
printf '%s\n' "$stamp" >"$out/stamp"
echo "testguest-esp: built $out/esp.img and esp-unsigned.img (${shim##*/}, ${grub##*/})"
