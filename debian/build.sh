#!/usr/bin/env bash
# make deb: build the Debian package from a copy of the files of
# this tree (with a VERSION file, as a release tarball has) in
# $BUILD/deb/src, so that dpkg-buildpackage writes nothing outside
# $BUILD/deb; then check it with lintian (no error allowed).
#   BUILD=build VERSION=... debian/build.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
VERSION=${VERSION:-$(cat VERSION 2>/dev/null || git describe --tags --always --dirty)}
out=$top/$BUILD/deb
for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null || { echo "make deb: $tool is missing (make deps)" >&2; exit 1; }
done
rm -rf "$out"
mkdir -p "$out/src"
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
	# tracked and new files as they are in the work tree, not what .gitignore names
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$out/src"
else
	# a release tarball: every file but the build directory
	tar --exclude="./$BUILD" -cf - . | tar -xf - -C "$out/src"
fi
echo "$VERSION" >"$out/src/VERSION"
echo "  DEB     $BUILD/deb (dpkg-buildpackage -b -us -uc; log: $BUILD/deb/build.log)"
if ! (cd "$out/src" && dpkg-buildpackage -b -us -uc -j"$(nproc)") >"$out/build.log" 2>&1; then
	tail -30 "$out/build.log" >&2
	echo "make deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
fi
deb=$(ls "$out"/vmrun_*.deb)
echo "  LINTIAN ${deb#"$top/"}"
if ! lintian --fail-on error "$deb" >"$out/lintian.log" 2>&1; then
	cat "$out/lintian.log" >&2
	echo "make deb: lintian found errors (log: $out/lintian.log)" >&2
	exit 1
fi
grep -c . "$out/lintian.log" >/dev/null && sed 's/^/  lintian: /' "$out/lintian.log"
echo "${deb#"$top/"}"
