# shellcheck shell=bash
# QEMU runs as the default qemu_user (the system user vmrun, or nobody where
# there is none) and opens the test guest's kernel and initrd by name.  A
# checkout only its owner may enter (a /root or mktemp -d clone) is out of
# that user's reach: qemuuser_testguest DIR prints a directory holding the
# test guest where it can read them -- TESTGUEST itself when it can, else
# DIR/testguest with copies (hard links when DIR is on the same file system).
# Needs setpriv (util-linux) to look as that user; without it, or not root,
# TESTGUEST as it is.  Tests never create the user.
qemuuser_testguest() {
	local dir=$1 uid f
	uid=$(id -u vmrun 2>/dev/null || echo 65534)
	if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null ||
		[ ! -f "$TESTGUEST/vmlinuz" ] || [ ! -f "$TESTGUEST/initrd.img" ] ||
		setpriv --reuid="$uid" --regid="$uid" --clear-groups \
			test -r "$TESTGUEST/vmlinuz" -a -r "$TESTGUEST/initrd.img" 2>/dev/null; then
		echo "$TESTGUEST"
		return 0
	fi
	mkdir -p "$dir/testguest" && chmod a+x "$dir" && chmod 0755 "$dir/testguest" || return 1
	for f in vmlinuz initrd.img; do
		ln -f "$TESTGUEST/$f" "$dir/testguest/$f" 2>/dev/null ||
			cp -f "$TESTGUEST/$f" "$dir/testguest/$f" || return 1
	done
	echo "$dir/testguest"
}
