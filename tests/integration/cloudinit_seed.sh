#!/usr/bin/env bash
# The fast proof that real cloud-init applies vmrun's seed (the slow one boots
# a Debian guest: tests/deep/cloudinit_debian.sh, `make check-deep`): Debian
# 12's cloud-init package, unpacked (never installed), runs its own modules
# on the seed goldens of tests/images/golden/seed/ (tests/images/run.sh checks
# that vmrun writes exactly these) under Debian's python3, as nobody, with
# every command it would run recorded and every file it writes kept in a
# temporary directory (tests/integration/cloudinit_seed.py):
#   - user-data passes cloud-init's schema;
#   - the seed has the password only as its SHA-512 crypt, and root and the
#     image's default user both get it (chpasswd -e), not expired;
#   - password SSH is on, root may use it (PermitRootLogin yes read first);
#   - manage_etc_hosts writes 127.0.1.1 HOSTNAME;
#   - accept-ra false and link-local [] reach netplan, except with ipv6_auto.
# The same harness on the seed vmrun wrote before issue 11 must fail.
# cloud-init's .deb comes from the Debian guest's debootstrap cache or from
# `apt-get download`; skips with the reason when there is none.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
what="Debian's cloud-init code applies vmrun's seed"
skip_all() {
	skip "$1" "$what"
	done_testing
	exit 0
}

py=/usr/bin/python3
[ -x "$py" ] || skip_all "no Debian python3 ($py)"
for m in yaml:python3-yaml jinja2:python3-jinja2 jsonschema:python3-jsonschema \
	jsonpatch:python3-jsonpatch configobj:python3-configobj requests:python3-requests; do
	"$py" -c "import ${m%%:*}" 2>/dev/null || skip_all "$py has no ${m%%:*} module (${m##*:}; make deps)"
done

T=$(mktemp -d /tmp/vmrt-ciseed.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 0755 "$T"
cache=${VMRUN_DEBOOTSTRAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrun/debootstrap-bookworm}
debs=${XDG_CACHE_HOME:-$HOME/.cache}/vmrun/cloud-init-deb
shopt -s nullglob
found=("$cache"/apt/cloud-init_*_all.deb "$debs"/cloud-init_*_all.deb)
if [ ${#found[@]} -eq 0 ]; then
	mkdir -p "$debs" && (cd "$debs" && timeout 120 apt-get -q download cloud-init) >"$T/dl" 2>&1
	found=("$debs"/cloud-init_*_all.deb)
	[ ${#found[@]} -gt 0 ] || skip_all "no cloud-init .deb: apt-get download cloud-init failed: $(tail -1 "$T/dl")"
fi
shopt -u nullglob
deb=${found[-1]}
dpkg-deb -x "$deb" "$T/ci" || skip_all "cannot unpack $deb"
mkdir "$T/w" "$T/w2" "$T/old"
as=()
if [ "$(id -u)" -eq 0 ]; then
	chown 65534:65534 "$T/w" "$T/w2"
	as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
seed=tests/images/golden/seed

"${as[@]}" "$py" tests/integration/cloudinit_seed.py "$seed" "$T/ci" "$T/w" >"$T/out" 2>&1
r=$?
ok $r "$what ($(basename "$deb"), $(grep -c '^ok' "$T/out") checks)"
grep -v '^ok\|^1\.\.' "$T/out" | sed 's/^/#   /'

# the harness can fail: the seed before issue 11 (root alone in
# chpasswd.users, so cloud-init ignored `password` for the default user; no
# manage_etc_hosts; no accept-ra/link-local)
cp "$seed/meta-data" "$T/old/"
"$py" - "$seed" "$T/old" <<'PY'
import sys, yaml
src, dst = sys.argv[1:3]
ud = yaml.safe_load(open(f"{src}/user-data"))
ud["chpasswd"] = {"expire": False, "users": [{"name": "root", "password": ud["password"], "type": "text"}]}
ud.pop("users", None)
ud.pop("manage_etc_hosts", None)
open(f"{dst}/user-data", "w").write("#cloud-config\n" + yaml.safe_dump(ud))
nc = yaml.safe_load(open(f"{src}/network-config"))
for e in nc["ethernets"].values():
    e.pop("accept-ra", None)
    e.pop("link-local", None)
yaml.safe_dump(nc, open(f"{dst}/network-config", "w"))
PY
chmod -R a+rX "$T/old"
"${as[@]}" "$py" tests/integration/cloudinit_seed.py "$T/old" "$T/ci" "$T/w2" >"$T/old.out" 2>&1
is $? 1 "the harness fails on the seed before issue 11 ($(grep -c '^not ok' "$T/old.out") failed checks)"
for c in "default user (debian) the password" "127.0.1.1" "n6: accept-ra false"; do
	grep -q "^not ok .*$c" "$T/old.out"
	ok $? "... among them: $c"
done

done_testing
