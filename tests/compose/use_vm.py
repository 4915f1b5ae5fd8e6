#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Read a vmrun compose.yml the way 5gdeploy's `netdef-compose --use-vm=DIR` does.

usage: use_vm.py TOPOLOGY COMPOSE_YML [5GDEPLOY_REFERENCE_YML]

The functions below follow 5gdeploy (usnistgov/5gdeploy c842a50):
compose/compose.ts `annotate`, `listByAnnotation`, `getIP`, `getIPMAC`,
`ip2mac`, and virt/middleware.ts `iterVm` and the bridge resolvers
(`vm-NAME[:NET]` for eth bridges, `ctrlif` and `vm-NAME` for vx bridges,
`--place X@vm-NAME` as ssh URI root@IP).  Each guest of the topology (read
with PyYAML, independently of vmrun) must be found with every netif's IPv4
address and MAC, and the ctrlif with its address.  With a reference (what
5gdeploy's own `virt` wrote, tests/compose/5gdeploy-ref/), every annotation
5gdeploy wrote on vm_* and virt_ctrlif must have the same value in vmrun's
file, and the cpusets the same CPUs in the same order.

Prints TAP lines without numbers ("ok - ..."), like structure.py.
"""
import ipaddress
import re
import sys

import yaml

PREFIX = "5gdeploy."
failures = 0


def check(cond, what, detail=None):
    global failures
    if cond:
        print(f"ok - {what}")
    else:
        failures += 1
        print(f"not ok - {what}")
        if detail is not None:
            print(f"#   {detail}")


class Invariant(Exception):
    """tiny-invariant's failure, as 5gdeploy's assert() raises it."""


def invariant(cond, msg):
    if not cond:
        raise Invariant(msg)


# ---- compose/compose.ts -----------------------------------------------------

def annotate(s, key):
    return (s.get("annotations") or {}).get(PREFIX + key)


def list_by_annotation(c, key, predicate=lambda v: True):
    return [s for s in c["services"].values()
            if (s.get("annotations") or {}).get(PREFIX + key) is not None
            and predicate((s.get("annotations") or {})[PREFIX + key])]


def ip2mac(ip):
    b = ipaddress.IPv4Address(ip).packed  # ip2long: throws "Invalid IP" on "a.b.c.d/24"
    return "52:de:" + ":".join(f"{x:02x}" for x in b)


def get_ip(c, ct, net=None):
    net = net or ct
    s = c["services"].get(ct)
    invariant(s, f"service {ct} missing")
    ip = annotate(s, f"ip_{net}")
    invariant(ip, f"netif {s.get('container_name')}:{net} missing")
    return ip


def get_ipmac(c, ct, net):
    ip = get_ip(c, ct, net)
    mac = annotate(c["services"][ct], f"mac_{net}") or ip2mac(ip)
    return ip, mac


# ---- virt/middleware.ts -----------------------------------------------------

def iter_vm(c):
    for s in list_by_annotation(c, "vmname"):
        yield s, annotate(s, "vmname")


def use_vm(c):
    """The ssh URIs --place gets for vm-NAME (middleware.ts lines 46-50)."""
    ssh_uri = {}
    for s, name in iter_vm(c):
        ip = annotate(s, "ip_vmctrl")
        invariant(ip, f"netif {s.get('container_name')}:vmctrl missing")
        ssh_uri[f"vm-{name}"] = f"root@{ip}"
    return ssh_uri


def resolve_vx(c, ref):
    if ref == "ctrlif":
        return get_ip(c, "virt_ctrlif", "vmctrl")
    if ref.startswith("vm-"):
        return get_ip(c, f"vm_{ref[3:]}", "vmctrl")
    return None


def resolve_eth(c, net, ref):
    if ref.startswith("vm-"):
        vmname, _, netif = ref[3:].partition(":")
        _, mac = get_ipmac(c, f"vm_{vmname}", netif or net)
        # compose/bridge.ts: the eth bridge insists on a MAC
        invariant(re.fullmatch(r"(?:[\da-f]{2}:){5}[\da-f]{2}", mac, re.I), "bad MAC address")
        return mac.lower()
    return None


# ---- the checks --------------------------------------------------------------

def expand(cpuset):
    """5gdeploy's parseCpuset: items in the written order, ranges ascending."""
    out = []
    for part in str(cpuset).split(","):
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def main():
    topo = yaml.safe_load(open(sys.argv[1]))
    c = yaml.safe_load(open(sys.argv[2]))
    ref = yaml.safe_load(open(sys.argv[3])) if len(sys.argv) > 3 else None
    guests = topo.get("guests") or {}

    try:
        uris = use_vm(c)
        check(True, "--use-vm reads every vmname service (each has ip_vmctrl)")
    except Invariant as e:
        check(False, "--use-vm reads every vmname service", str(e))
        uris = {}
    names = sorted(name for _, name in iter_vm(c))
    # 5gdeploy reaches a VM as root@VMCTRL: only guests with a vmctrl IPv4 address are VMs
    vms = sorted(name for name, g in guests.items()
                 if any(n.get("name") == "vmctrl" and "ip" in n and ":" not in n["ip"]
                        for n in (g or {}).get("nics") or []))
    check(names == vms, f"iterVm finds exactly the guests with a vmctrl address {vms}",
          f"found {names}")
    vmprep = [k for k, s in c["services"].items() if annotate(s, "vmname") is not None
              and not k.startswith("vm_")]
    check(not vmprep, "vmname only on vm_NAME services", vmprep)

    for name, g in guests.items():
        nics = (g or {}).get("nics") or []
        vmctrl = next((n for n in nics if n.get("name") == "vmctrl"), None)
        if vmctrl and "ip" in vmctrl:
            want = vmctrl["ip"].split("/")[0]
            check(uris.get(f"vm-{name}") == f"root@{want}",
                  f"--place X@vm-{name} becomes ssh URI root@{want}", uris.get(f"vm-{name}"))
            try:
                check(resolve_vx(c, f"vm-{name}") == want, f"vx bridge vm-{name} -> {want}")
            except Invariant as e:
                check(False, f"vx bridge vm-{name}", str(e))
        for n in nics:
            net, ip = n["name"], n.get("ip")
            if not ip or ":" in ip.split("/")[0]:
                continue
            want_ip = ip.split("/")[0]
            try:
                got_ip, _ = get_ipmac(c, f"vm_{name}", net)
                check(got_ip == want_ip, f"vm_{name} ip_{net} = {want_ip} (bare IPv4)", got_ip)
            except (Invariant, ValueError) as e:
                check(False, f"vm_{name} ip_{net}", str(e))
                continue
            if "mac" in n:
                try:
                    mac = resolve_eth(c, net, f"vm-{name}:{net}")
                    check(mac == n["mac"].lower(), f"eth bridge vm-{name}:{net} -> {n['mac']}", mac)
                except (Invariant, ValueError) as e:
                    check(False, f"eth bridge vm-{name}:{net}", str(e))

    ctrl = (topo.get("ctrlif") or {}).get("address")
    if ctrl:
        try:
            got = resolve_vx(c, "ctrlif")
            check(got == ctrl.split("/")[0], f"vx bridge ctrlif -> {ctrl.split('/')[0]}", got)
        except Invariant as e:
            check(False, "vx bridge ctrlif", str(e))

    if ref:
        for key, rs in ref["services"].items():
            s = c["services"].get(key)
            check(s is not None, f"reference: vmrun has service {key}")
            if s is None:
                continue
            mine = s.get("annotations") or {}
            for k, v in (rs.get("annotations") or {}).items():
                check(mine.get(k) == v, f"reference: {key} {k} = {v!r} as 5gdeploy wrote",
                      f"vmrun: {mine.get(k)!r}")
            if "cpuset" in rs:
                check(expand(s.get("cpuset")) == expand(rs["cpuset"]),
                      f"reference: {key} cpuset {rs['cpuset']} (same CPUs, same order)",
                      f"vmrun: {s.get('cpuset')}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
