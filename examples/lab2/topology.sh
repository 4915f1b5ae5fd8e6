#!/usr/bin/env bash
# The lab of the two-host bed (examples/lab2/bed.sh): the three guests of
# 5gdeploy's virt README, converted with `vmrun define`, on the bed's hosts
# (a on h1 = 10.213.0.1, b and c on h2 = 10.213.0.2) and under TCG, then
# edited for the bed:
#   - h1 is the primary host: it holds the ctrlif (vmctrl, 172.25.160.1 on
#     h1's end of the vmctrl veth pair), so the workstation running
#     compose.sh needs no interface of its own in the lab;
#   - the guests boot the test guest (docs/testguest.md) instead of a Debian
#     image, with 256 MiB; a pings b and c on n6 and on vmctrl, and the ctrlif.
#
#   examples/lab2/topology.sh OUT.yaml [VMRUN [TESTGUEST_DIR]]
set -eu
out=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
vmrun=${2:-$top/${BUILD:-build}/vmrun}
tg=${3:-$top/${BUILD:-build}/testguest}
tg=$(cd "$tg" && pwd)

"$vmrun" define \
	--vm='a | 10.213.0.1(0) | vmctrl@02:00:00:00:00:02,n6@02:00:00:00:06:02' \
	--vm='b | 10.213.0.2(0) | vmctrl@02:00:00:00:00:03,n6@02:00:00:00:06:03' \
	--vm='c | 10.213.0.2(1) | vmctrl@02:00:00:00:00:03,n6@02:00:00:00:06:03' \
	--ctrlif=02:00:00:00:00:02 --accel tcg --memory 256M -o "$out.define"

python3 - "$out.define" "$out" "$tg" <<'PY'
import sys, yaml
src, dst, tg = sys.argv[1:]
t = yaml.safe_load(open(src))
t["hosts"]["10.213.0.1"]["primary"] = True
d = t["defaults"]
d.pop("image", None)
d.update(kernel=tg + "/vmlinuz", initrd=tg + "/initrd.img", stop_timeout=5)
ping = " ".join("vmrun.ping=" + ip for ip in
                ("172.25.162.4", "172.25.162.5", "172.25.160.4", "172.25.160.5", "172.25.160.1"))
for name, g in t["guests"].items():
    # TCG guests on a busy 2-core machine can take minutes to boot: a waits
    g["append"] = "console=ttyS0 quiet" + (" vmrun.pingwait=600 " + ping if name == "a" else "")
with open(dst, "w") as f:
    f.write("# examples/lab2/topology.sh: 5gdeploy's README lab on the two-host bed\n")
    yaml.safe_dump(t, f, sort_keys=False)
PY
rm -f "$out.define"
"$vmrun" validate "$out" >/dev/null
