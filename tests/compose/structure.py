#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Structure checks of `vmrun compose` / `vmrun kube` output against the topology.

usage: structure.py compose TOPOLOGY COMPOSE_YML
       structure.py kube TOPOLOGY KUBE_DIR

Reads the topology with PyYAML (independently of vmrun's loader) and prints
TAP lines "ok - ..." / "not ok - ..." without numbers; run.sh numbers them.
Exit status 0 when every check passed.
"""
import os
import sys

import yaml

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


def cpus(text):
    """'10-19,22' -> sorted list of ints."""
    out = set()
    for part in str(text).split(","):
        if "-" in part:
            a, b = part.split("-")
            out.update(range(int(a), int(b) + 1))
        else:
            out.add(int(part))
    return sorted(out)


def ordered(text):
    """'7,1-2' -> [7, 1, 2]: the CPUs in the written order (vCPU i on the i-th)."""
    out = []
    for part in str(text).split(","):
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def load_topology(path):
    with open(path) as f:
        t = yaml.safe_load(f)
    defaults = t.get("defaults") or {}
    guests = {}
    for name, g in (t.get("guests") or {}).items():
        merged = dict(defaults)
        merged.update(g or {})
        guests[name] = merged
    hosts = t.get("hosts") or {}
    primary = next((h for h, v in hosts.items() if (v or {}).get("primary")), None)
    return t, guests, hosts, primary


def guest_host(g, primary):
    return g.get("host") or primary or "local"


def nic_kind(n):
    for k in ("macvtap", "bridge", "tap", "user", "pci", "vf"):
        if k in n:
            return k
    return None


def expected_devices(g):
    kinds = {nic_kind(n) for n in g.get("nics") or []}
    devs = set()
    if g.get("accel", "auto") != "tcg":
        devs.add("/dev/kvm")
    if kinds & {"bridge", "tap"}:
        devs.add("/dev/net/tun")
    return devs, kinds


def grace_seconds(text):
    assert str(text).endswith("s"), text
    return int(str(text)[:-1])


def acyclic(graph):
    state = {}

    def visit(n):
        if state.get(n) == 1:
            return False
        if state.get(n) == 2:
            return True
        state[n] = 1
        for m in graph.get(n, ()):
            if not visit(m):
                return False
        state[n] = 2
        return True

    return all(visit(n) for n in graph)


def check_compose(topo_path, compose_path):
    t, guests, hosts, primary = load_topology(topo_path)
    with open(compose_path) as f:
        c = yaml.safe_load(f)
    services = c["services"]
    host_names = set(hosts)
    used = {guest_host(g, primary) for g in guests.values()}
    if not hosts or any(not g.get("host") for g in guests.values()) or t.get("ctrlif"):
        host_names.add(primary or "local")

    def hsvc(h):
        return "host_" + h.replace(".", "_").replace("-", "_")

    want = {hsvc(h) for h in host_names}
    for name in guests:
        want |= {f"vm_{name}", f"vmprep_{name}"}
    if t.get("ctrlif"):
        want.add("virt_ctrlif")
    exporters = {s for s in services if s.startswith("exporter_")}
    if exporters:
        want |= {"exporter_" + hsvc(h)[len("host_"):] for h in host_names}
    check(set(services) == want, "service names: one vm_/vmprep_ per guest, one host_ (and "
          "with --exporter one exporter_) per host, and virt_ctrlif with a ctrlif",
          f"got {sorted(services)}, want {sorted(want)}")
    if t.get("ctrlif"):
        v = services["virt_ctrlif"]
        check(v.get("profiles") == ["5gdeploy"] and v.get("network_mode") == "none"
              and v.get("cap_drop") == ["ALL"] and not v.get("cap_add")
              and all(str(m).endswith(":ro") for m in v.get("volumes") or []),
              "virt_ctrlif: in a profile nothing starts, no network, no capabilities,"
              " read-only mounts")
    for e in sorted(exporters):
        s = services[e]
        cmd = s.get("command") or []
        check(cmd[:3] == ["vmrun", "exporter", "--listen"] and len(cmd) == 4,
              f"{e} runs vmrun exporter in exec form", cmd)
        check(s.get("network_mode") == "host" and s.get("cap_drop") == ["ALL"]
              and not s.get("cap_add") and not s.get("devices") and not s.get("privileged"),
              f"{e}: host network, no capability, no device")
        check(all(v.endswith(":ro") for v in s.get("volumes") or [] if isinstance(v, str)),
              f"{e} mounts the state directory read-only")
    check(used <= host_names, "every guest's host has a host service")

    graph = {s: list((v.get("depends_on") or {}).keys()) for s, v in services.items()}
    check(all(d in services for deps in graph.values() for d in deps),
          "depends_on names only existing services")
    check(acyclic(graph), "depends_on graph is acyclic")
    for name, g in guests.items():
        s = services.get(f"vm_{name}", {})
        deps = s.get("depends_on") or {}
        h = hsvc(guest_host(g, primary))
        check(deps.get(f"vmprep_{name}", {}).get("condition") == "service_completed_successfully"
              and deps.get(h, {}).get("condition") == "service_healthy"
              and len(deps) == 2,
              f"vm_{name} waits for vmprep_{name} (completed) and {h} (healthy) only", deps)
        restart = str(g.get("restart", "no"))
        run = ["vmrun", "run"] + (["--no-restart"] if restart != "no" else [])
        check(s.get("command") == run + ["/vmrun/topology.yaml", name],
              f"vm_{name} runs vmrun run in exec form", s.get("command"))
        check(str(s.get("restart", "no")) == restart,
              f"vm_{name}: Docker's restart policy is the guest's (restart: {restart})",
              s.get("restart"))
        check(services[f"vmprep_{name}"].get("command")
              == ["vmrun", "image", "prep", "/vmrun/topology.yaml", name],
              f"vmprep_{name} runs vmrun image prep")
        check(s.get("network_mode") == "host" and s.get("init") is False
              and not s.get("privileged"),
              f"vm_{name}: host network, vmrun is PID 1, not privileged")
        devs, kinds = expected_devices(g)
        check(set(s.get("devices") or []) == devs, f"vm_{name} devices",
              f"got {s.get('devices')}, want {sorted(devs)}")
        vfio = bool(kinds & {"pci", "vf"}) or bool(g.get("hostdevs"))
        mem = g.get("memory")
        numa = isinstance(mem, dict) and "numa_node" in mem
        mounts = [v for v in s.get("volumes") or [] if isinstance(v, str)]
        check(("/dev/vfio:/dev/vfio" in mounts) == vfio
              and ("memlock" in (s.get("ulimits") or {})) == vfio,
              f"vm_{name}: /dev/vfio and memlock exactly when passing PCI devices through")
        caps = set(s.get("cap_add") or [])
        check(s.get("cap_drop") == ["ALL"]
              and caps <= {"NET_ADMIN", "MKNOD", "SYS_NICE", "SETPCAP"}
              and (("MKNOD" in caps) == ("macvtap" in kinds))
              and (("SYS_NICE" in caps) == numa)
              and (("SETPCAP" in caps) == bool(caps - {"SETPCAP"})),
              f"vm_{name} capabilities", sorted(caps))
        usb = bool(g.get("usb"))
        rules = s.get("device_cgroup_rules")
        check((rules is not None) == (bool(kinds & {"macvtap"}) or vfio or usb),
              f"vm_{name}: device cgroup rule only for macvtap/VFIO/USB nodes")
        if usb and not (kinds & {"macvtap"} or vfio):
            check(rules == ["c 189:* rwm"], f"vm_{name}: USB: the usbfs major only", rules)
        check(("/dev/bus/usb:/dev/bus/usb" in mounts) == usb,
              f"vm_{name}: /dev/bus/usb exactly when passing USB devices through")
        keeps = bool(g.get("image") or g.get("firmware") == "uefi" or g.get("tpm"))
        check((f"vm_{name}:/var/lib/vmrun/images/{name}" in mounts) == keeps,
              f"vm_{name}: IMAGE_DIR/{name} in the volume exactly for a root overlay, UEFI "
              "variables or TPM state")
        pw = (g.get("vnc") or {}).get("password_file") if isinstance(g.get("vnc"), dict) else None
        if pw:
            binds = [v for v in s.get("volumes") or [] if isinstance(v, dict)]
            want_target = pw if pw.startswith("/") else "/vmrun/" + pw
            check(any(v["target"] == want_target and v.get("read_only") for v in binds),
                  f"vm_{name}: the VNC password file is mounted read-only")
        if "cpuset" in g:
            check(ordered(s.get("cpuset")) == ordered(g["cpuset"])
                  and ordered(services[f"vmprep_{name}"].get("cpuset")) == ordered(g["cpuset"]),
                  f"vm_{name} and vmprep_{name} cpuset = the guest's cpuset, in its order")
        stop = g.get("stop_timeout", 7)
        check(grace_seconds(s.get("stop_grace_period")) >= stop + 3,
              f"vm_{name} stop_grace_period covers stop_timeout {stop} plus teardown")
        test = (s.get("healthcheck") or {}).get("test")
        check(test == ["CMD", "vmrun", "health", name], f"vm_{name} healthcheck is exec form",
              test)
        check(f"vm_{name}:/vmrun" in mounts
              and "./topology.yaml:/vmrun/topology.yaml:ro" in mounts,
              f"vm_{name} mounts its volume and the topology")
        labels = s.get("labels") or {}
        check(labels.get("vmrun.guest") == name
              and labels.get("vmrun.host") == guest_host(g, primary), f"vm_{name} labels")
        for n in g.get("nics") or []:
            if "ip" in n:
                check(labels.get(f"vmrun.ip.{n['name']}") == n["ip"],
                      f"vm_{name} label vmrun.ip.{n['name']}")
            if "mac" in n:
                check(labels.get(f"vmrun.mac.{n['name']}") == n["mac"].lower(),
                      f"vm_{name} label vmrun.mac.{n['name']}")
    # compose.v1.yml: the same file without annotations (docker-compose 1.29 refuses them)
    v1_path = os.path.join(os.path.dirname(compose_path), "compose.v1.yml")
    if os.path.basename(compose_path) == "compose.yml" and os.path.exists(v1_path):
        with open(v1_path) as f:
            v1 = yaml.safe_load(f)
        stripped = yaml.safe_load(yaml.safe_dump(c))
        for sv in stripped["services"].values():
            sv.pop("annotations", None)
        check(v1 == stripped, "compose.v1.yml is compose.yml without its annotations")
        check(all("annotations" in services[f"vm_{n}"] for n in guests),
              "every vm_NAME service of compose.yml has annotations")
    for s_name, s in services.items():
        check("vmrun.host" in (s.get("labels") or {}), f"{s_name} is labelled with its host")
        for v in s.get("volumes") or []:
            if isinstance(v, dict):
                check(v.get("type") == "bind" and v["source"].startswith("/")
                      and os.path.isabs(v["target"]), f"{s_name}: file bind {v['target']}")
            elif not v.startswith(("/", "./")):
                vol = v.split(":")[0]
                check(vol in (c.get("volumes") or {}), f"{s_name}: volume {vol} is declared")
    return failures == 0


def check_kube(topo_path, kube_dir):
    t, guests, hosts, primary = load_topology(topo_path)
    docs = {}
    for fn in sorted(os.listdir(kube_dir)):
        with open(os.path.join(kube_dir, fn)) as f:
            docs[fn] = yaml.safe_load(f)
    cm = docs.get("topology-configmap.yaml") or {}
    with open(topo_path) as f:
        check(cm.get("kind") == "ConfigMap" and cm["data"]["topology.yaml"] == f.read(),
              "the ConfigMap holds the topology byte for byte")
    for name, g in guests.items():
        pod = docs.get(f"pod-{name}.yaml")
        check(pod is not None and pod.get("kind") == "Pod", f"pod-{name}.yaml is a Pod")
        if not pod:
            continue
        spec = pod["spec"]
        h = guest_host(g, primary)
        if hosts:
            check(spec.get("nodeSelector") == {"kubernetes.io/hostname": h},
                  f"pod {name} is placed on {h}")
        check(spec.get("hostNetwork") is True, f"pod {name} uses the host network")
        stop = g.get("stop_timeout", 7)
        check(spec.get("terminationGracePeriodSeconds", 0) >= stop + 3,
              f"pod {name} grace period covers stop_timeout")
        vols = {v["name"] for v in spec.get("volumes", [])}
        check(len(vols) == len(spec.get("volumes", [])), f"pod {name}: volume names unique")
        containers = spec.get("initContainers", []) + spec.get("containers", [])
        check([c["name"] for c in containers] == ["wait-host", "prep", "vm"],
              f"pod {name}: wait-host, prep, then vm")
        for c in containers:
            missing = [m["name"] for m in c.get("volumeMounts", []) if m["name"] not in vols]
            check(not missing, f"pod {name} container {c['name']}: mounts name declared volumes",
                  missing)
        vm = spec["containers"][0]
        run = ["vmrun", "run"] + (["--no-restart"] if str(g.get("restart", "no")) != "no" else [])
        check(vm["command"] == run + ["/vmrun/topology.yaml", name],
              f"pod {name} runs vmrun run")
        check(spec.get("restartPolicy") == ("Always" if g.get("restart") == "always"
                                            else "OnFailure"),
              f"pod {name} restartPolicy follows restart", spec.get("restartPolicy"))
        check(vm["readinessProbe"]["exec"]["command"] == ["vmrun", "health", name],
              f"pod {name} readiness probe")
        devs, kinds = expected_devices(g)
        mounted = {m["mountPath"] for m in vm.get("volumeMounts", [])}
        check(devs <= mounted, f"pod {name} mounts its devices", sorted(devs - mounted))
        priv = (vm.get("securityContext") or {}).get("privileged", False)
        check(priv == bool(devs - {"/dev/net/tun"} or kinds & {"macvtap", "pci", "vf"}
                           or g.get("usb")),
              f"pod {name} is privileged exactly when a device needs it")
    for h in hosts or ["local"]:
        ds = docs.get(f"host-{h}.yaml")
        check(ds is not None and ds.get("kind") == "DaemonSet", f"host-{h}.yaml is a DaemonSet")
    return failures == 0


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("compose", "kube"):
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "compose":
        check_compose(sys.argv[2], sys.argv[3])
    else:
        check_kube(sys.argv[2], sys.argv[3])
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
