#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The drbd OCF agent as a promotable clone under a real Pacemaker 2.1 +
Corosync 3 cluster (../shared/cluster-harness: each node its own network,
pid, mount and uts namespaces), with one drbd-simd per cluster node
replicating over the harness network. Issue #8's cluster acceptance, two
nodes:

1. the clone starts, both nodes come up Unpromoted; the initial sync is
   skipped (new-current-uuid --clear-bitmap) and one node is promoted;
   4 MiB are written through its device (qemu-io on its NBD export);
2. the Promoted node is killed (SIGKILL of its namespaces: drbd-simd dies
   with it) → the survivor is promoted and reads the 4 MiB back;
3. the node boots again → its drbd-simd is started by the node hook, the
   agent starts it, it resyncs and ends Unpromoted and UpToDate, never
   promoted on the way;
4. the agent's validate-all and start with promoted-max=2 refuse (6) while the
   resource lacks allow-two-primaries;
5. with `allow-two-primaries yes;` (drbdadm adjust) and promoted-max=2 both
   nodes are Promoted, both write, and each reads the other's write.

Three nodes (DRBD `quorum majority`): one Promoted; it is cut off the
network → it loses quorum and is not Primary any more, one of the other two
is promoted; replugged, it ends Unpromoted and UpToDate.

Fencing (`fencing resource-and-stonith`, drbd-cp's fence handlers, real
STONITH through the harness's fence_harness): node1 Promoted; node2's
cable pulled → node1's drbd-simd calls fence-peer, the constraint appears,
node2 is fenced (rebooted); replugged, node2 resyncs, unfence-peer removes
the constraint, the replicas are byte-identical.

How a node finds its drbd-simd: CH_EXTRA_SBIN puts wrapper drbdadm,
drbdsetup and drbdmeta in front of /usr/sbin inside every node; they export
DRBD_SIM_SOCKET=/run/drbd-simd.sock (the node's private /run) and exec our
tools. The agent itself needs no parameter (docs/pacemaker-guide.md).

Every stage prints `crm_mon -1` and fails on a wrong state. Needs root,
pacemaker and corosync; skips (77) otherwise."""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

SKIP = 77
HARNESS = os.environ.get("CH_HARNESS", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "cluster-harness"))
STATE = "/var/tmp/drbd-cp-ocf-cluster"
ENV = {"CH_STATE": STATE + "/harness", "CH_PREFIX": "dcpo", "CH_NET": "192.168.78"}
RES = "r0"


class Failure(Exception):
    pass


def harness(*args, check=True, capture=True):
    env = dict(os.environ)
    env.update(ENV)
    p = subprocess.run([os.path.join(HARNESS, "cluster.sh")] + list(args), env=env, cwd="/",
                       capture_output=capture, text=True, timeout=300)
    if check and p.returncode != 0:
        raise Failure(f"cluster.sh {' '.join(args)} -> {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def ex(node, *cmd, check=True):
    return harness("exec", node, *cmd, check=check)


def crm_mon(node):
    out = ex(node, "crm_mon", "-1").stdout
    print(out, flush=True)


def roles(node):
    """{node name: role} of the clone's instances, from crm_mon XML."""
    x = ET.fromstring(ex(node, "crm_mon", "-1", "--output-as=xml").stdout)
    out = {}
    for r in x.iter("resource"):
        if r.get("id", "").startswith("drbd0"):
            for n in r.iter("node"):
                out[n.get("name")] = r.get("role")
    return out


def disk(node):
    for line in ex(node, "drbdsetup", "events2", "--now", RES, check=False).stdout.splitlines():
        if line.startswith("exists device "):
            return dict(kv.split(":", 1) for kv in line.split()[2:] if ":" in kv).get("disk")
    return None


def pacemaker_log(node):
    return f"{STATE}/harness/nodes/{node}/log/pacemaker/pacemaker.log"


def simd_log(node):
    return f"{STATE}/{node}/drbd-simd.log"


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def log_since(path, offset):
    try:
        with open(path, errors="replace") as f:
            f.seek(offset)
            return f.read()
    except OSError:
        return ""


def diagnose(nodes):
    """What each node's DRBD and Pacemaker did, printed when a stage fails."""
    for n in nodes:
        print(f"== diagnostics {n}", flush=True)
        p = ex(n, "drbdsetup", "status", "--verbose", RES, check=False)
        print((p.stdout + p.stderr).strip(), flush=True)
        print("-- drbd-simd.log (tail)", flush=True)
        print("".join(log_since(simd_log(n), 0).splitlines(True)[-40:]), flush=True)
        print("-- pacemaker operations", flush=True)
        ops = [l for l in log_since(pacemaker_log(n), 0).splitlines()
               if "Result of" in l or "ocf-exit-reason" in l or "drbd(" in l]
        print("\n".join(ops[-40:]), flush=True)


def in_sync(node):
    """UpToDate, and connected to every peer with replication Established
    and the peer's disk UpToDate: resynced, not merely UpToDate on its own."""
    out = ex(node, "drbdsetup", "events2", "--now", RES, check=False).stdout
    objs = [(w[1], dict(kv.split(":", 1) for kv in w[2:] if ":" in kv))
            for w in (line.split() for line in out.splitlines())
            if len(w) > 1 and w[0] == "exists"]
    devs = [f for kind, f in objs if kind == "device"]
    pds = [f for kind, f in objs if kind == "peer-device"]
    return (bool(devs) and all(d.get("disk") == "UpToDate" for d in devs) and bool(pds) and
            all(p.get("replication") == "Established" and p.get("peer-disk") == "UpToDate"
                for p in pds))


NBD = "nbd+unix:///drbd0?socket=/run/nbd/drbd0.nbd"


def qemu_io(node, *cmds, read_only=False):
    argv = ["qemu-io", "-f", "raw"] + (["-r"] if read_only else []) + [NBD]
    for c in cmds:
        argv += ["-c", c]
    p = ex(node, *argv, check=False)
    if p.returncode != 0 or "failed" in p.stdout + p.stderr:
        raise Failure(f"[{node}] qemu-io {cmds} -> {p.returncode}\n{p.stdout}{p.stderr}")


def wait(what, pred, timeout=90):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pred()
            if last:
                return last
        except (Failure, ET.ParseError, KeyError) as e:
            last = e
        time.sleep(1)
    raise Failure(f"timed out waiting for {what} (last: {last!r})")


def setup(bindir, nodes, options="", net="", handlers=False):
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE + "/sbin")
    os.makedirs(STATE + "/bin")
    os.makedirs(STATE + "/ocf/drbd-cp")
    for t in ("drbdadm", "drbdsetup", "drbdmeta", "drbd-simd", "drbd-cp-fence-peer",
              "drbd-cp-unfence-peer"):
        shutil.copy(os.path.join(bindir, t), os.path.join(STATE, "bin", t))
    for t in ("drbdadm", "drbdsetup", "drbdmeta"):
        w = os.path.join(STATE, "sbin", t)
        with open(w, "w") as f:
            f.write(f"#!/bin/sh\nexport DRBD_SIM_SOCKET=/run/drbd-simd.sock\n"
                    f"exec {STATE}/bin/{t} \"$@\"\n")
        os.chmod(w, 0o755)
    shutil.copy(os.path.join(bindir, "ocf-drbd"), STATE + "/ocf/drbd-cp/drbd")
    os.chmod(STATE + "/ocf/drbd-cp/drbd", 0o755)
    hook = STATE + "/hook"
    with open(hook, "w") as f:
        f.write(f"""#!/bin/sh
# $1 = node name: private /var/lib/drbd, then this node's drbd-simd.
mkdir -p {STATE}/$1/var-lib-drbd /run/nbd
mount --bind {STATE}/$1/var-lib-drbd /var/lib/drbd
setsid {STATE}/bin/drbd-simd --node $1 --socket /run/drbd-simd.sock --nbd-dir /run/nbd \\
    --usermode-helper {STATE}/bin/umh \\
    >> {STATE}/$1/drbd-simd.log 2>&1 < /dev/null &
i=0; while [ ! -S /run/drbd-simd.sock ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
""")
    os.chmod(hook, 0o755)
    # drbd-simd's usermode helper (the kernel's /sbin/drbdadm): our drbdadm
    # with this test's configuration, reaching the node's own drbd-simd.
    with open(STATE + "/bin/umh", "w") as f:
        f.write(f"#!/bin/sh\nexec {STATE}/sbin/drbdadm -c {STATE}/drbd.conf \"$@\"\n")
    os.chmod(STATE + "/bin/umh", 0o755)
    conf = [f"resource {RES} {{", f"    net {{ protocol C;{' ' + net if net else ''} }}"]
    if options:
        conf.append(f"    options {{ {options} }}")
    if handlers:
        conf.append(f"    handlers {{ fence-peer \"{STATE}/bin/drbd-cp-fence-peer\"; "
                    f"unfence-peer \"{STATE}/bin/drbd-cp-unfence-peer\"; }}")
    for i, n in enumerate(nodes):
        os.makedirs(f"{STATE}/{n}/var-lib-drbd", exist_ok=True)
        img = f"{STATE}/{n}/disk.img"
        with open(img, "wb") as f:
            f.truncate(64 << 20)
        conf += [f"    on {n} {{", f"        node-id {i};",
                 f"        address {ENV['CH_NET']}.{i + 1}:7789;",
                 f"        volume 0 {{ device minor 0; disk {img}; meta-disk internal; }}",
                 "    }"]
    if len(nodes) > 2:
        conf.append(f"    connection-mesh {{ hosts {' '.join(nodes)}; }}")
    conf.append("}")
    with open(STATE + "/drbd.conf", "w") as f:
        f.write("\n".join(conf) + "\n")
    ENV.update({"CH_EXTRA_SBIN": STATE + "/sbin", "CH_NODE_HOOK": hook,
                "CH_OCF_ROOT": STATE + "/ocf"})


CLONE = f"""<clone id="ms-drbd0">
  <meta_attributes id="ms-drbd0-meta">
    <nvpair id="ms-drbd0-promotable" name="promotable" value="true"/>
    <nvpair id="ms-drbd0-promoted-max" name="promoted-max" value="1"/>
    <nvpair id="ms-drbd0-notify" name="notify" value="true"/>
  </meta_attributes>
  <primitive id="drbd0" class="ocf" provider="drbd-cp" type="drbd">
    <instance_attributes id="drbd0-ia">
      <nvpair id="drbd0-res" name="drbd_resource" value="{RES}"/>
      <nvpair id="drbd0-conf" name="drbdconf" value="{STATE}/drbd.conf"/>
    </instance_attributes>
    <operations>
      <op id="drbd0-mon-u" name="monitor" interval="5s" role="Unpromoted" timeout="20s"/>
      <op id="drbd0-mon-p" name="monitor" interval="4s" role="Promoted" timeout="20s"/>
      <op id="drbd0-start" name="start" interval="0s" timeout="240s"/>
      <op id="drbd0-stop" name="stop" interval="0s" timeout="100s"/>
      <op id="drbd0-promote" name="promote" interval="0s" timeout="90s"/>
      <op id="drbd0-demote" name="demote" interval="0s" timeout="90s"/>
    </operations>
  </primitive>
</clone>"""


def start_clone(nodes, banner):
    """A fresh cluster of `nodes` with metadata on every node and the clone
    created; waits until every instance is Unpromoted (all Inconsistent: no
    promotion)."""
    harness("down", "--purge", check=False)
    harness("up", str(len(nodes)))
    for n in nodes:
        ex(n, "drbdadm", "-c", STATE + "/drbd.conf", "create-md", "--force", RES)
    ex("node1", "cibadmin", "--create", "--scope", "resources", "--xml-text", CLONE)
    print(banner, flush=True)
    wait("all started", lambda: sorted(roles("node1").values()) == ["Unpromoted"] * len(nodes))


def skip_initial_sync():
    ex("node1", "drbdadm", "-c", STATE + "/drbd.conf", "new-current-uuid", "--clear-bitmap",
       f"{RES}/0")


def run(bindir):
    nodes = ["node1", "node2"]
    setup(bindir, nodes)
    start_clone(nodes, "== stage 1: clone started, both Unpromoted (Inconsistent: no promotion)")
    crm_mon("node1")
    skip_initial_sync()
    wait("one Promoted", lambda: sorted(roles("node1").values()) == ["Promoted", "Unpromoted"])
    crm_mon("node1")
    r = roles("node1")
    promoted = next(n for n, role in r.items() if role == "Promoted")
    survivor = next(n for n in nodes if n != promoted)
    print(f"== stage 1b: 4 MiB written through {promoted}'s device (NBD export)", flush=True)
    qemu_io(promoted, "write -P 0x5a 1M 4M", "flush")
    print(f"== stage 2: kill the Promoted node {promoted}", flush=True)
    harness("kill", promoted)
    wait(f"{survivor} Promoted", lambda: roles(survivor).get(survivor) == "Promoted")
    crm_mon(survivor)
    if disk(survivor) != "UpToDate":
        raise Failure(f"{survivor} is Promoted but its disk is {disk(survivor)}")
    qemu_io(survivor, "read -P 0x5a 1M 4M", read_only=True)
    print(f"== {survivor} has every acknowledged write", flush=True)
    print(f"== stage 3: {promoted} boots again, resyncs, ends Unpromoted and UpToDate", flush=True)
    # "Never promoted on the way" is judged from what was executed: the
    # returning node's Pacemaker log (every promote it runs is logged as
    # "Result of promote operation") and its DRBD's role changes. crm_mon
    # alone cannot tell: until the node's join completes it may still show
    # the status recorded before the kill.
    pm_off, simd_off = log_size(pacemaker_log(promoted)), log_size(simd_log(promoted))
    harness("start", promoted)
    seen_roles = []

    def back():
        role = roles(survivor).get(promoted)
        seen_roles.append(role)
        return role == "Unpromoted" and in_sync(promoted)
    wait(f"{promoted} Unpromoted, resynced and UpToDate", back)
    crm_mon(survivor)
    print(f"   (crm_mon roles of {promoted} while it came back: {seen_roles})", flush=True)
    promotes = [l for l in log_since(pacemaker_log(promoted), pm_off).splitlines()
                if f"promote operation for drbd0 on {promoted}" in l]
    to_primary = [l for l in log_since(simd_log(promoted), simd_off).splitlines()
                  if "role( Secondary -> Primary )" in l]
    if promotes or to_primary:
        raise Failure(f"{promoted} was promoted while coming back:\n" +
                      "\n".join(promotes + to_primary))
    r = roles(survivor)
    if r.get(survivor) != "Promoted" or r.get(promoted) != "Unpromoted":
        raise Failure(f"wrong roles at the end: {r}")

    print("== stage 4: promoted-max=2 without allow-two-primaries: validate-all and start "
          "refuse", flush=True)
    agent_env = ["env", f"OCF_RESKEY_drbd_resource={RES}",
                 f"OCF_RESKEY_drbdconf={STATE}/drbd.conf", "OCF_ROOT=/usr/lib/ocf",
                 "OCF_RESKEY_CRM_meta_promoted_max=2", "OCF_RESKEY_CRM_meta_clone_max=2",
                 "OCF_RESKEY_CRM_meta_notify=true"]
    p = ex(survivor, *agent_env, "/usr/lib/ocf/resource.d/drbd-cp/drbd", "validate-all",
           check=False)
    print(p.stderr.strip(), flush=True)
    if p.returncode != 6 or "allow-two-primaries yes;" not in p.stderr:
        raise Failure(f"validate-all with promoted-max=2: {p.returncode} {p.stderr}")
    # start refuses the same way, before it touches DRBD.
    p = ex(survivor, *agent_env, "/usr/lib/ocf/resource.d/drbd-cp/drbd", "start", check=False)
    if p.returncode != 6 or "allow-two-primaries yes;" not in p.stderr:
        raise Failure(f"start with promoted-max=2: {p.returncode} {p.stderr}")
    print("== stage 5: allow-two-primaries yes; and promoted-max=2: both Promoted, both write",
          flush=True)
    with open(STATE + "/drbd.conf") as f:
        conf = f.read()
    with open(STATE + "/drbd.conf", "w") as f:
        f.write(conf.replace("net { protocol C; }", "net { protocol C; allow-two-primaries yes; }"))
    for n in nodes:
        ex(n, "drbdadm", "-c", STATE + "/drbd.conf", "adjust", RES)
    p = ex(survivor, *agent_env, "/usr/lib/ocf/resource.d/drbd-cp/drbd", "validate-all",
           check=False)
    if p.returncode != 0:
        raise Failure(f"validate-all with allow-two-primaries: {p.returncode} {p.stderr}")
    ex("node1", "crm_resource", "--resource", "ms-drbd0", "--meta", "--set-parameter",
       "promoted-max", "--parameter-value", "2")
    wait("both Promoted", lambda: sorted(roles("node1").values()) == ["Promoted", "Promoted"])
    crm_mon("node1")
    qemu_io("node1", "write -P 0x11 8M 1M", "flush")
    qemu_io("node2", "write -P 0x22 16M 1M", "flush")
    qemu_io("node2", "read -P 0x11 8M 1M", read_only=True)
    qemu_io("node1", "read -P 0x22 16M 1M", read_only=True)
    print("== both wrote, each reads the other's write", flush=True)


def run3(bindir):
    """Three nodes with DRBD quorum majority: one Promoted; the Promoted node
    is cut off the network → it loses quorum (Corosync and DRBD) and is no
    longer Promoted there, one of the two others is promoted; replugged, it
    rejoins Unpromoted and UpToDate."""
    nodes = ["node1", "node2", "node3"]
    setup(bindir, nodes, options="quorum majority; on-no-quorum io-error;")
    start_clone(nodes, "== 3 nodes: clone started, all Unpromoted")
    skip_initial_sync()
    wait("one Promoted",
         lambda: sorted(roles("node1").values()) == ["Promoted", "Unpromoted", "Unpromoted"])
    crm_mon("node1")
    promoted = next(n for n, role in roles("node1").items() if role == "Promoted")
    others = [n for n in nodes if n != promoted]
    print(f"== 3 nodes: {promoted} cut off the network", flush=True)
    harness("netdown", promoted)
    wait(f"one of {others} Promoted",
         lambda: sorted(roles(others[0]).get(n) or "" for n in others) == ["Promoted",
                                                                            "Unpromoted"])
    crm_mon(others[0])
    # Its Pacemaker has no quorum (no-quorum-policy=stop) and stops the
    # instance: DRBD there must not stay Primary.
    wait(f"{promoted} no longer Primary (no quorum)",
         lambda: "role:Primary" not in ex(promoted, "drbdsetup", "events2", "--now", RES,
                                          check=False).stdout)
    print(f"== 3 nodes: {promoted} replugged", flush=True)
    harness("netup", promoted)
    wait(f"{promoted} back Unpromoted and UpToDate",
         lambda: roles(others[0]).get(promoted) == "Unpromoted" and in_sync(promoted),
         timeout=120)
    crm_mon(others[0])
    r = roles(others[0])
    if sorted(r.values()) != ["Promoted", "Unpromoted", "Unpromoted"]:
        raise Failure(f"wrong roles at the end: {r}")


FENCE_ID = "drbd-fence-by-handler-r0-ms-drbd0"


def fence_constraint(node):
    """The fence-peer handler's constraint as the CIB holds it, or None."""
    x = ET.fromstring(ex(node, "cibadmin", "--query", "--scope", "constraints").stdout)
    for c in x.iter("rsc_location"):
        if c.get("id") == FENCE_ID:
            return c
    return None


def helper_lines(node, offset):
    """drbd-simd's log lines about handlers since `offset`."""
    return [l for l in log_since(simd_log(node), offset).splitlines() if "helper" in l]


DATA_BYTES = 65496 * 1024  # the device size drbd-simd reports for the 64 MiB images


def same_data(a, b):
    """The two replicas' data areas (the backing images up to the internal
    metadata) are byte-identical."""
    digests = []
    for n in (a, b):
        h = hashlib.sha256()
        with open(f"{STATE}/{n}/disk.img", "rb") as f:
            left = DATA_BYTES
            while left:
                chunk = f.read(min(left, 1 << 20))
                if not chunk:
                    break
                h.update(chunk)
                left -= len(chunk)
        digests.append(h.hexdigest())
    if digests[0] != digests[1]:
        raise Failure(f"{a} and {b} hold different data: {digests}")
    print(f"== {a} and {b} hold identical data ({digests[0][:16]}...)", flush=True)


def run_fencing(bindir):
    """`fencing resource-and-stonith` with the drbd-cp fence handlers and
    real STONITH (the harness's fence_harness): node1 is Promoted (a
    location preference makes that, and the harness lets node1 win a fence
    race); node2's cable is pulled → node1's DRBD loses the peer, calls
    fence-peer, which places the promotion constraint; Pacemaker fences
    (reboots) node2; the cable is replugged, node2 comes back, resyncs, DRBD
    calls unfence-peer on node1 and the constraint is gone; node2 ends
    Unpromoted and UpToDate, node1 Promoted throughout."""
    nodes = ["node1", "node2"]
    setup(bindir, nodes, net="fencing resource-and-stonith;", handlers=True)
    ENV["CH_FENCING"] = "harness"
    try:
        start_clone(nodes, "== fencing: clone started, both Unpromoted")
        skip_initial_sync()
        # Only now: a location score for the Promoted role counts even where
        # the agent set no promotion score (an Inconsistent node).
        ex("node1", "cibadmin", "--create", "--scope", "constraints", "--xml-text",
           '<rsc_location id="prefer-node1" rsc="ms-drbd0" role="Promoted" node="node1" '
           'score="100"/>')
        wait("node1 Promoted", lambda: roles("node1") == {"node1": "Promoted",
                                                           "node2": "Unpromoted"})
        crm_mon("node1")
        failed = ex("node1", "crm_mon", "-1", "--output-as=xml").stdout
        if "<failures>" in failed or "<failure " in failed:
            raise Failure("failed resource actions before the cut")
        qemu_io("node1", "write -P 0x3c 2M 2M", "flush")
        simd_off = log_size(simd_log("node1"))
        print("== fencing: node2's cable pulled", flush=True)
        harness("netdown", "node2")
        wait("node1's fence-peer constraint", lambda: fence_constraint("node1") is not None)
        hist = wait("node2 fenced", lambda: (lambda out: "successful" in out and out)(
            ex("node1", "stonith_admin", "--history", "node2", check=False).stdout))
        print(hist.strip(), flush=True)
        crm_mon("node1")
        print("\n".join(helper_lines("node1", simd_off)), flush=True)
        if roles("node1").get("node1") != "Promoted":
            raise Failure(f"node1 is not Promoted after fencing its peer: {roles('node1')}")
        # Writes go on once fence-peer has answered (I/O frozen meanwhile).
        qemu_io("node1", "write -P 0x3d 6M 1M", "flush")
        print("== fencing: node2's cable replugged", flush=True)
        harness("netup", "node2")
        harness("start", "node2")
        wait("node2 back Unpromoted and UpToDate",
             lambda: roles("node1").get("node2") == "Unpromoted" and in_sync("node2"),
             timeout=150)
        wait("the constraint removed by unfence-peer",
             lambda: fence_constraint("node1") is None)
        crm_mon("node1")
        lines = helper_lines("node1", simd_off)
        print("\n".join(lines), flush=True)
        # The kernel's log lines: "helper command: <umh> fence-peer" and
        # "... exit code N" when it answered.
        for h in ("fence-peer", "unfence-peer"):
            if not any(re.search(rf"helper command: \S+ {h} exit code \d+", l) for l in lines):
                raise Failure(f"node1's drbd-simd log shows no answered {h} call")
        same_data("node1", "node2")
        r = roles("node1")
        if r != {"node1": "Promoted", "node2": "Unpromoted"}:
            raise Failure(f"wrong roles at the end: {r}")
    finally:
        ENV.pop("CH_FENCING", None)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--keep", action="store_true", help="leave the cluster running")
    ap.add_argument("-k", default="", help="run only the scenarios whose name contains this")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root")
        return SKIP
    for tool in ("pacemakerd", "corosync", "crm_mon", "cibadmin"):
        if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin"):
            print(f"SKIP: {tool} not installed (pacemaker, corosync)")
            return SKIP
    if not os.path.exists(os.path.join(HARNESS, "cluster.sh")):
        print(f"SKIP: no cluster harness at {HARNESS}")
        return SKIP
    for tool in ("drbdadm", "drbdsetup", "drbdmeta", "drbd-simd", "ocf-drbd"):
        if not os.access(os.path.join(args.bindir, tool), os.X_OK):
            print(f"SKIP: {tool} not built in {args.bindir}")
            return SKIP
    rc = 0
    for name, fn in (("two nodes", run), ("three nodes", run3), ("fencing", run_fencing)):
        if args.k not in name:
            continue
        t0 = time.time()
        try:
            fn(args.bindir)
            print(f"PASS ocf_cluster {name} ({time.time() - t0:.0f}s)", flush=True)
        except Failure as e:
            print(f"FAIL ocf_cluster {name}: {e}", flush=True)
            diagnose(["node1", "node2"] + (["node3"] if fn is run3 else []))
            rc = 1
        finally:
            if not args.keep:
                harness("down", check=False)
    return rc


if __name__ == "__main__":
    sys.exit(main())
