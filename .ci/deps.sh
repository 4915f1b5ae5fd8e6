#!/usr/bin/env bash
# Install the Debian packages vmrun's build, tests and demo need; skip those present.
# Run as root on Debian 12.  VMRUN_DEPS_EXTRA adds packages.
set -euo pipefail
pkgs=(
	# build
	build-essential pkg-config clang
	libyaml-dev libjansson-dev libnl-3-dev libnl-route-3-dev libmnl-dev
	libseccomp-dev libcap-dev libiniparser-dev libpci-dev libisofs-dev
	libmicrohttpd-dev libcrypt-dev
	# runtime
	qemu-system-x86 qemu-utils iproute2 kmod
	# guest devices: UEFI firmware (firmware: uefi), the TPM emulator (tpm: true)
	ovmf swtpm swtpm-tools
	# test guest (kernel is downloaded as a .deb, not installed)
	busybox-static cpio
	# tests
	valgrind genisoimage shellcheck python3 python3-yaml python3-jsonschema procps util-linux
	curl python3-prometheus-client
	# vhost-user tests: dpdk-testpmd is in dpdk-dev, not dpdk (issue 12)
	dpdk-dev
	# tests of the guest devices: VNC clients, the secure boot ESP (mtools, mkfs.vfat)
	gvncviewer vncsnapshot mtools dosfstools openssl
	# container tests (compose)
	docker.io docker-compose debootstrap
	# manual pages, shell completion, systemd units (tests/ecosystem)
	pandoc groff-base man-db zsh bash-completion systemd systemd-container
	# the Debian package (make deb) and its tests
	debhelper dpkg-dev lintian fakeroot
	# podman: kube play and podman-compose (tests/ecosystem)
	podman podman-compose crun runc netavark aardvark-dns fuse-overlayfs catatonit uidmap
	# the Debian cloud-init guest (images/debguest, make check-deep) and cloud-init's
	# own code on the seed (tests/integration/cloudinit_seed.sh: what its .deb depends on)
	e2fsprogs openssh-client python3-jinja2 python3-jsonpatch python3-configobj python3-requests
	# compose.sh reaches other hosts over ssh; docker-compose 1.29 imports
	# paramiko for any ssh:// host (docker-compose -H ssh://... by hand)
	python3-paramiko
	# the two-host test bed (examples/lab2): an sshd per host namespace
	openssh-server socat
)
[ -n "${VMRUN_DEPS_EXTRA:-}" ] && read -ra extra <<<"$VMRUN_DEPS_EXTRA" && pkgs+=("${extra[@]}")
missing=()
for p in "${pkgs[@]}"; do
	case $p in \#*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
# the system user QEMU runs as by default (make demo is often the first run)
"$(dirname "$0")/vmrun-user.sh"
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: error: installing packages needs root (apt-get)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
