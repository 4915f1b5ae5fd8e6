#!/bin/sh
# Create the system user vmrun, which QEMU runs as by default (qemu_user,
# docs/security.md), unless it exists: then nothing changes.  Run as root by
# `make install` and `make deps`; the Debian package's postinst and the
# container image (vmrun compose's Dockerfile) do the same.
set -e
getent passwd vmrun >/dev/null && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "vmrun-user: no user 'vmrun' and not root: QEMU will run as nobody" >&2
	exit 0
fi
if command -v adduser >/dev/null; then
	adduser --quiet --system --group --no-create-home --home /nonexistent \
		--gecos "vmrun QEMU user" vmrun
else
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "vmrun QEMU user" vmrun
fi
echo "vmrun-user: created the system user vmrun (QEMU runs as it)"
