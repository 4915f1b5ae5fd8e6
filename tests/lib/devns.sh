#!/usr/bin/env bash
# Run a command where the machine's KVM is not what it is, in a mount
# namespace of its own (nothing outside changes):
#
#   tests/lib/devns.sh hide COMMAND...      /dev/kvm and /dev/vhost-net absent
#   tests/lib/devns.sh nullkvm COMMAND...   /dev/kvm is /dev/null: it opens,
#                                           but KVM_CREATE_VM fails (ENOTTY)
#
# /dev becomes a tmpfs rebuilt from bind mounts of every other entry of the
# real /dev (directories recursively, so /dev/pts and /dev/shm work;
# symlinks copied; /dev/ptmx a link to pts/ptmx, as in a container, since
# a bound ptmx finds no devpts).  Device nodes the kernel makes later (a
# macvtap's /dev/tapN) do not appear in it: vmrun then makes them in the
# guest's state directory, as in a container; nor do the tapN of other
# macvtaps that exist meanwhile.  Exit status: COMMAND's, or 125 when
# the namespace cannot be set up.
set -u
if [ "${VMR_DEVNS_INSIDE:-}" != 1 ]; then
	[ $# -ge 2 ] || { echo "usage: $0 hide|nullkvm COMMAND..." >&2; exit 2; }
	VMR_DEVNS_INSIDE=1 exec unshare -m --propagation private "$0" "$@"
fi
unset VMR_DEVNS_INSIDE
mode=$1
shift
case $mode in
hide) drop=" kvm vhost-net " ;;
nullkvm) drop=" kvm " ;;
*) echo "devns: unknown mode '$mode'" >&2; exit 2 ;;
esac

new=$(mktemp -d /tmp/vmrt-dev.XXXXXX) || exit 125
fail() {
	echo "devns: $*" >&2
	umount -R "$new" 2>/dev/null
	rmdir "$new" 2>/dev/null
	exit 125
}
mount -t tmpfs -o mode=0755,size=1m tmpfs "$new" || fail "mount a tmpfs on $new"
for e in /dev/* /dev/.[!.]*; do
	[ -e "$e" ] || [ -L "$e" ] || continue
	name=${e#/dev/}
	case $drop in *" $name "*) continue ;; esac
	case $name in tap[0-9]*) continue ;; ptmx)
		ln -s pts/ptmx "$new/ptmx" || fail "link ptmx"
		continue
		;;
	esac
	if [ -L "$e" ]; then
		cp -P "$e" "$new/$name" || fail "copy the link $e"
	elif [ -d "$e" ]; then
		{ mkdir "$new/$name" && mount --rbind "$e" "$new/$name"; } || fail "bind $e"
	else
		{ : >"$new/$name" && mount --bind "$e" "$new/$name"; } || fail "bind $e"
	fi
done
if [ "$mode" = nullkvm ]; then
	{ : >"$new/kvm" && mount --bind /dev/null "$new/kvm"; } || fail "bind /dev/null on kvm"
fi
mount --move "$new" /dev || fail "move the new /dev in place"
rmdir "$new"
"$@"
