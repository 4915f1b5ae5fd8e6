#!/usr/bin/python3
"""Debian's cloud-init 22.4 code on vmrun's seed, without a guest (TAP).

    cloudinit_seed.py SEED_DIR CLOUD_INIT_ROOT TMP

SEED_DIR holds meta-data, user-data and network-config as vmrun writes them;
CLOUD_INIT_ROOT is the cloud-init .deb unpacked (with python3-configobj);
TMP a scratch directory.  The modules run as in the guest, except that every
command they would run (chpasswd, passwd, useradd) is recorded instead, the
hosts file, sshd's configuration and the netplan file are written under TMP,
and any other file write fails the test.  Run as an unprivileged user.
"""
import collections
import glob
import logging
import os
import sys
import warnings

import yaml

seed_dir, ci_root, tmp = sys.argv[1:4]
sys.path.insert(0, os.path.join(ci_root, "usr/lib/python3/dist-packages"))

from cloudinit import subp, util, ssh_util, helpers, distros  # noqa: E402
from cloudinit.config import schema, cc_set_passwords, cc_update_etc_hosts  # noqa: E402
from cloudinit.distros import ug_util  # noqa: E402
from cloudinit.net import network_state, netplan  # noqa: E402

logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
LOG = logging.getLogger("cloudinit_seed")
n = 0
failed = 0


def check(cond, what, detail=None):
    global n, failed
    n += 1
    print(f"{'ok' if cond else 'not ok'} {n} - {what}")
    if not cond:
        failed += 1
        if detail is not None:
            for line in str(detail).splitlines():
                print(f"#   {line}")
    return cond


def load(name):
    with open(os.path.join(seed_dir, name)) as f:
        return yaml.safe_load(f)


# ---- guard: nothing outside TMP is written, no command runs -------------------
def inside(path):
    p, top = os.path.abspath(path), os.path.abspath(tmp)
    return p == top or p.startswith(top + os.sep)


def guarded(fn):
    def wrapper(path, *a, **kw):
        if not inside(path):
            raise AssertionError(f"cloud-init would write {path} on this machine")
        return fn(path, *a, **kw)

    return wrapper


for name in ("write_file", "append_file", "ensure_dir", "del_file"):
    setattr(util, name, guarded(getattr(util, name)))
calls = []


def fake_subp(args, data=None, **kw):
    calls.append((list(args), data))
    return subp.SubpResult("", "")


subp.subp = fake_subp
subp.which = lambda prog, **kw: "/usr/bin/" + prog

md, ud, nc = load("meta-data"), load("user-data"), load("network-config")
with open(os.path.join(seed_dir, "user-data")) as f:
    check(f.readline().rstrip() == "#cloud-config", "user-data is a #cloud-config")

# ---- user-data against cloud-init's own schema --------------------------------
try:
    schema.validate_cloudconfig_schema(ud, schema.get_schema(), strict=True)
    check(True, "user-data conforms to cloud-init 22.4's schema")
except schema.SchemaValidationError as e:
    check(False, "user-data conforms to cloud-init 22.4's schema", e)

# the image's /etc/cloud/cloud.cfg under the user-data, as cloud-init merges them
with open(os.path.join(ci_root, "etc/cloud/cloud.cfg")) as f:
    sys_cfg = yaml.safe_load(f)
cfg = util.mergemanydict([ud, sys_cfg])
paths = helpers.Paths(
    {"cloud_dir": os.path.join(tmp, "cloud"),
     "templates_dir": os.path.join(ci_root, "etc/cloud/templates")})
distro = distros.fetch("debian")("debian", cfg["system_info"], paths)
distro.hosts_fn = os.path.join(tmp, "hosts")
default_name = cfg["system_info"]["default_user"]["name"]
password = ud.get("password")
check(password is not None, "the seed has a password (the golden guest sets one)")
# the golden guest's password is 0000: the seed carries its SHA-512 crypt, never the password
with warnings.catch_warnings():  # crypt: deprecated in 3.11 (Debian 12's), still there
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # noqa: E402
check(isinstance(password, str) and password.startswith("$6$")
      and crypt.crypt("0000", password) == password,
      "the password is in the seed as its SHA-512 crypt only", password)

# ---- users-groups: root's password, the default user kept ---------------------
users, _ = ug_util.normalize_users_groups(cfg, distro)
default, _ = ug_util.extract_default(users)
check(default == default_name, f"the image's default user ({default_name}) is still created",
      users)
calls.clear()
for name, ucfg in users.items():
    if name == "root":  # exists: cc_users_groups only sets its password and lock
        distro.create_user(name, **ucfg)
check(calls == [(["chpasswd", "-e"], f"root:{password}")],
      "users-groups sets root's password from the hash (chpasswd -e) and does not lock root",
      calls)

# ---- set-passwords: the default user's password, not expired; ssh_pwauth ------
sshd = os.path.join(tmp, "sshd_config")
os.makedirs(sshd + ".d")
with open(sshd, "w") as f:  # Debian 12's sshd_config starts so
    f.write(f"Include {sshd}.d/*.conf\n#PermitRootLogin prohibit-password\n")
real_update = ssh_util.update_ssh_config
cc_set_passwords.update_ssh_config = lambda updates, fname=None: real_update(updates, sshd)
calls.clear()
Cloud = collections.namedtuple("Cloud", "distro")
cc_set_passwords.handle("set_passwords", cfg, Cloud(distro), LOG, [])
chpasswd = [(a, d.strip()) for a, d in calls if a[0] == "chpasswd"]
check(chpasswd == [(["chpasswd", "-e"], f"{default_name}:{password}")],
      f"set-passwords gives the default user ({default_name}) the password, as a hash", calls)
check(not [a for a, _ in calls if a[:2] == ["passwd", "--expire"]],
      "and does not expire it (chpasswd.expire: false)", calls)
# sshd takes the first value of each keyword, reading its drop-ins in order
drop_ins = {os.path.basename(p): open(p).read()
            for p in glob.glob(os.path.join(sshd + ".d", "*.conf"))}
for wf in ud.get("write_files", []):
    if os.path.dirname(wf["path"]) == "/etc/ssh/sshd_config.d":
        drop_ins[os.path.basename(wf["path"])] = wf["content"]
first = {}
for name in sorted(drop_ins):
    for line in drop_ins[name].splitlines():
        k, _, v = line.strip().partition(" ")
        if k and not k.startswith("#"):
            first.setdefault(k.lower(), v.strip())
check(first.get("passwordauthentication") == "yes",
      "ssh_pwauth: cloud-init's drop-in turns password authentication on", drop_ins)
check(first.get("permitrootlogin") == "yes",
      "root may log in with the password (PermitRootLogin yes, read first)", drop_ins)
check(ud.get("disable_root") is False and ud.get("ssh_authorized_keys"),
      "root gets the keys as they are (disable_root: false), as 5gdeploy's --use-vm assumes")

# ---- update-etc-hosts: the hostname resolves ----------------------------------
Hn = collections.namedtuple("Hn", "hostname is_default")


class HostsCloud:
    def __init__(self):
        self.distro = distro

    def get_template_filename(self, name):
        return os.path.join(ci_root, "etc/cloud/templates", name + ".tmpl")

    def get_hostname(self, fqdn=False, metadata_only=False):
        return Hn(md["local-hostname"], False)


cc_update_etc_hosts.handle("update_etc_hosts", cfg, HostsCloud(), LOG, [])
hosts = open(distro.hosts_fn).read() if os.path.exists(distro.hosts_fn) else ""
entries = [line.split() for line in hosts.splitlines() if line and not line.startswith("#")]
h = md["local-hostname"]
check(["127.0.1.1", h, h] in entries, f"manage_etc_hosts: /etc/hosts has 127.0.1.1 {h}", hosts)
check(any(e[:2] == ["127.0.0.1", "localhost"] for e in entries),
      "and localhost still resolves", hosts)

# ---- network-config through the netplan renderer ------------------------------
renderer = netplan.Renderer({"netplan_path": "50-cloud-init.yaml", "postcmds": False})
ns = network_state.parse_net_config_data(nc, renderer=renderer)
renderer.render_network_state(ns, target=tmp)
with open(os.path.join(tmp, "50-cloud-init.yaml")) as f:
    eths = yaml.safe_load(f)["network"]["ethernets"]
check(set(eths) == set(nc["ethernets"]), "netplan gets every NIC", sorted(eths))
# the golden guest (tests/images/run.sh): mgmt has ipv6_auto: true
for name, want in nc["ethernets"].items():
    got = eths[name]
    if name == "mgmt":
        check("accept-ra" not in got and "link-local" not in got,
              f"{name}: netplan's defaults (router adverts, link-local) kept", got)
    else:
        check(got.get("accept-ra") is False and got.get("link-local") == [],
              f"{name}: accept-ra false, link-local [] reach netplan", got)
    check(got.get("match", {}).get("macaddress") == want["match"]["macaddress"]
          and got.get("set-name") == name, f"{name}: matched by MAC, renamed", got)

print(f"1..{n}")
sys.exit(1 if failed else 0)
