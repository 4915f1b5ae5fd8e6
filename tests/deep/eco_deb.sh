#!/usr/bin/env bash
# The Debian package end to end (make check-deep, or make check-ecosystem; several minutes):
# `make deb` builds vmrun_*.deb with dpkg-buildpackage and lintian finds no
# error; a fresh Debian 12 minbase chroot (debootstrap) installs it with apt
# (pulling QEMU), has the system user vmrun, /etc/vmrun/vmrun.conf as a
# conffile, the pages, completion and units; `vmrun --version` prints the
# version of the tree, `vmrun validate` accepts an installed example; then
# apt-get purge removes it all.  The chroot lives in a temporary directory;
# its mounts are in a private mount namespace.  DEB=FILE tests that package
# instead of building one.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/ecosystem/lib.bash
. tests/ecosystem/lib.bash
ECO_APT=apt-deb
work=$(mktemp -d /tmp/vmrt-deb.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT

if [ "$(id -u)" != 0 ]; then
	skip "needs root (chroot, debootstrap)" "the Debian package in a fresh chroot"
	done_testing
	exit
fi
for tool in debootstrap unshare dpkg-buildpackage lintian; do
	if ! command -v "$tool" >/dev/null; then
		skip "$tool is not installed (make deps)" "the Debian package in a fresh chroot"
		done_testing
		exit
	fi
done

deb=$(eco_deb "$work/deb.log")
ok_log $? "make deb builds the package and lintian finds no error" "$work/deb.log" || { done_testing; exit 1; }
diag "package: ${deb#"$top/"}"
[ -z "${DEB:-}" ] && sed -n 's/^  lintian: /# lintian: /p' "$work/deb.log"
lintian --fail-on error "$deb" >"$work/lintian" 2>/dev/null
ok_log $? "lintian: no error" "$work/lintian"
# the version make deb gave the package's tree (the tree's, when it built)
version=$(cat "${BUILD:-build}/deb/src/VERSION" 2>/dev/null || cat VERSION 2>/dev/null ||
	git describe --tags --always --dirty)
dpkg-deb -c "$deb" >"$work/contents"
missing=
for f in ./usr/bin/vmrun ./usr/share/man/man1/vmrun.1.gz ./usr/share/man/man1/vmrun-run.1.gz \
	./usr/share/man/man5/vmrun.yaml.5.gz ./usr/share/man/man5/vmrun.conf.5.gz \
	./usr/share/bash-completion/completions/vmrun ./usr/share/zsh/vendor-completions/_vmrun \
	./lib/systemd/system/vmrun@.service ./lib/systemd/system/vmrun-host@.service \
	./usr/share/doc/vmrun/examples/lab.yaml ./etc/vmrun/vmrun.conf; do
	grep -q " $f\$" "$work/contents" || missing+=" $f"
done
is "$missing" "" "the package has the binary, pages, completion, units, examples, vmrun.conf"

root=$work/root
fresh_root "$root"
ok_log $? "a fresh Debian 12 minbase tree (debootstrap)" /dev/null || { done_testing; exit 1; }
cp "$deb" "$root/tmp/vmrun.deb"
in_root "$root" apt-get -q update >"$work/apt.log" 2>&1 &&
	in_root "$root" apt-get -q -y install /tmp/vmrun.deb >>"$work/apt.log" 2>&1
ok_log $? "apt-get install ./vmrun_*.deb in the chroot (with its dependencies)" "$work/apt.log"
is "$(in_root "$root" vmrun --version 2>&1)" "vmrun $version" "vmrun --version: the tree's version"
in_root "$root" vmrun validate /usr/share/doc/vmrun/examples/lab.yaml >"$work/validate" 2>&1
ok_log $? "vmrun validate /usr/share/doc/vmrun/examples/lab.yaml" "$work/validate"
in_root "$root" vmrun validate /usr/share/doc/vmrun/examples/demo.yaml >"$work/validate" 2>&1
ok_log $? "vmrun validate /usr/share/doc/vmrun/examples/demo.yaml" "$work/validate"
user=$(in_root "$root" getent passwd vmrun)
uid=$(echo "$user" | cut -d: -f3)
[ -n "$uid" ] && [ "$uid" -lt 1000 ] && [[ $user == *:/nonexistent:/usr/sbin/nologin ]]
ok $? "postinst created the system user vmrun ($user)"
in_root "$root" getent group vmrun >/dev/null
ok $? "... and its group"
in_root "$root" dpkg-query -W -f='${Conffiles}\n' vmrun | grep -q '^ /etc/vmrun/vmrun.conf '
ok $? "/etc/vmrun/vmrun.conf is a conffile"
in_root "$root" vmrun --config /etc/vmrun/vmrun.conf validate -q /usr/share/doc/vmrun/examples/lab.yaml
ok $? "the installed vmrun.conf loads"
in_root "$root" sh -c 'vmrun help --man run | grep -q "^.SH SYNOPSIS"'
ok $? "vmrun help --man works in the chroot"
in_root "$root" dpkg --configure -a >/dev/null 2>&1 && in_root "$root" apt-get -q -y install --reinstall /tmp/vmrun.deb >>"$work/apt.log" 2>&1
ok $? "a second install (postinst with the user already there)"

in_root "$root" apt-get -q -y purge vmrun >"$work/purge.log" 2>&1
ok_log $? "apt-get purge vmrun" "$work/purge.log"
left=
for f in usr/bin/vmrun etc/vmrun lib/systemd/system/vmrun@.service usr/share/man/man1/vmrun.1.gz \
	usr/share/doc/vmrun; do
	[ -e "$root/$f" ] && left+=" $f"
done
is "$left" "" "purge leaves no file of the package (the user stays, as Debian keeps system users)"
done_testing
