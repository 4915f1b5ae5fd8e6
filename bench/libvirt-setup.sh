#!/usr/bin/env bash
# Install and start a minimal libvirt for bench/startup.sh's comparison, on a
# Debian 12 machine without systemd (a CI box or a container).  Installs only
# the QEMU driver and virsh (no default network: nothing on the host's
# interfaces changes), creates the users the packages' systemd units would,
# and starts virtlogd and libvirtd in the background.  Run as root.
set -eu
export DEBIAN_FRONTEND=noninteractive
if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null; then
	apt-get install -y -q --no-install-recommends \
		libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
fi
getent group kvm >/dev/null || groupadd -r kvm
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
id libvirt-qemu >/dev/null 2>&1 ||
	useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
mkdir -p /var/log/libvirt /run/libvirt /var/lib/libvirt/qemu /var/cache/libvirt
# QEMU as root, as vmrun runs it without qemu_user: the same privileges
grep -q '^user = "root"' /etc/libvirt/qemu.conf 2>/dev/null ||
	printf 'user = "root"\ngroup = "root"\n' >>/etc/libvirt/qemu.conf
pgrep -x virtlogd >/dev/null || virtlogd -d
pgrep -x libvirtd >/dev/null || libvirtd -d
for _ in $(seq 50); do
	virsh -q -c qemu:///system version >/dev/null 2>&1 && { echo "libvirt: ready"; exit 0; }
	sleep 0.2
done
echo "libvirt: libvirtd does not answer (see /var/log/libvirt/libvirtd.log)" >&2
exit 1
