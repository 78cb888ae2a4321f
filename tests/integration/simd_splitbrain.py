#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Split-brain policy matrix on real drbd-simd processes (drbd-cp issue #6).

Two drbd-simd nodes, a (node-id 0) and b (node-id 1), host one resource per
case, all driven at once by our drbdadm so the matrix runs in parallel.
Each case: initial full sync after `primary --force` on a; a stays Primary
through the split or is demoted first (bit 0 of its bitmap UUID: the
older primary); the link breaks (`disconnect --force` on a, `disconnect`
on b, as the 9.2.18 captures 07-10 do); a and b write while apart (a wrote
more, a wrote less, or b was promoted and wrote nothing); the roles at the
reconnect are set (none, a, both); both connect. The outcome (who
discards and that the resync covers both sides' changes, or StandAlone)
is checked against expected(), which restates the tables of
docs/split-brain-policies.md (written from the kernel's rules); after a
recovery the replicas are byte-identical and hold the survivor's writes.
Unresolved cases are then recovered by hand (`connect --discard-my-data`
on the victim) and checked the same way.

Needs nbdsh (libnbd-bin, python3-libnbd) for the writes; exit 77 (skip)
without it. Run: simd_splitbrain.py --bindir build/bin [-k NAME] [-v].
"""

import os
import subprocess
import sys
import time

from simd_harness import Cluster, Failure, expect, free_port, main
from simd_nbd import NBDSH, nbd_clients

IMG_MB = 8
A_OFF, B_OFF = 0, 4 << 20  # where a and b write, bytes
MORE, LESS = 512, 256      # 4 KiB blocks


_PORTS = set()


def unique_port():
    """A free port not handed out before in this run (free_port() alone may
    return the same one twice)."""
    while True:
        p = free_port()
        if p not in _PORTS:
            _PORTS.add(p)
            return p


class Case:
    def __init__(self, idx, p0, p1="disconnect", p2="disconnect", a_older=False,
                 writes=(MORE, LESS), roles="", b_writes_nothing=False, rr="disconnect"):
        self.res = f"r{idx}"
        self.minor = idx
        self.p0, self.p1, self.p2, self.rr = p0, p1, p2, rr
        self.a_older = a_older          # a Primary from --force through the split
        self.wa, self.wb = writes
        self.roles = roles              # Primaries at the reconnect: "", "a", "ab"
        self.b_nothing = b_writes_nothing
        if b_writes_nothing:
            self.wb = 0
        self.ports = (unique_port(), unique_port())

    def name(self):
        w = "b-nothing" if self.b_nothing else ("a-more" if self.wa > self.wb else "a-less")
        return (f"{self.res} 0pri={self.p0} 1pri={self.p1} 2pri={self.p2} rr={self.rr} "
                f"older={'a' if self.a_older else '-'} {w} primaries={self.roles or '-'}")


# ---- the kernel's rules, restated from docs/split-brain-policies.md ---------------------

def asb0(c, me):
    """after-sb-0pri seen from `me` ('a' or 'b'): 'source', 'target' or None."""
    ch = {"a": c.wa, "b": c.wb}
    other = "b" if me == "a" else "a"
    pri = {"a": c.a_older, "b": False}  # bit 0 of the bitmap UUIDs
    tie = "target" if me == "b" else "source"  # b (higher node id) holds RESOLVE_CONFLICTS

    def zero():
        if ch[me] == 0 and ch[other] == 0:
            return tie
        if ch[other] == 0:
            return "source"
        if ch[me] == 0:
            return "target"
        return None

    def least():
        z = zero()
        if z:
            return z
        if ch[me] != ch[other]:
            return "target" if ch[me] < ch[other] else "source"
        return tie

    if c.p0 in ("discard-younger-primary", "discard-older-primary"):
        if pri[me] != pri[other]:
            younger = not pri[me]
            return "target" if younger == (c.p0 == "discard-younger-primary") else "source"
        return least()
    return {"disconnect": lambda: None, "discard-zero-changes": zero,
            "discard-least-changes": least}[c.p0]()


def decide(c, me):
    """What `me` decides: ('source'|'target', demoted) or ('drop', why)."""
    prim = {"a": "a" in c.roles, "b": "b" in c.roles}
    pcount = prim["a"] + prim["b"]
    if pcount == 0:
        r = asb0(c, me)
    elif pcount == 1:
        r0 = asb0(c, me)
        r = {"disconnect": None,
             "consensus": r0 if (r0 == "target") != prim[me] and r0 else None,
             "discard-secondary": "source" if prim[me] else "target",
             "violently-as0p": r0,
             "call-pri-lost-after-sb": r0}[c.p1]
    else:
        r = {"disconnect": None, "violently-as0p": asb0(c, me),
             "call-pri-lost-after-sb": asb0(c, me)}[c.p2]
    if r is None:
        return ("drop", "split-brain")
    demoted = (r == "target" and prim[me] and
               (c.p1 if pcount == 1 else c.p2) == "call-pri-lost-after-sb")
    if r == "target" and prim[me] and not demoted and c.rr != "violently":
        return ("drop", "rr-conflict")
    return (r, demoted)


def expected(c):
    """('sync', survivor, victim) | ('standalone', {node StandAlone: why})."""
    if c.b_nothing:
        # b made no new data generation: no split brain, a's writes go to b.
        if "b" in c.roles and c.rr != "violently":
            return ("standalone", {"b": "rr-conflict"})  # b Primary would become SyncTarget
        return ("sync", "a", "b")
    da, db = decide(c, "a"), decide(c, "b")
    dropped = {n: d[1] for n, d in (("a", da), ("b", db)) if d[0] == "drop"}
    if dropped:
        return ("standalone", dropped)
    expect(da[0] != db[0], f"{c.name()}: both sides decided {da[0]}")
    return ("sync", "a", "b") if da[0] == "source" else ("sync", "b", "a")


# ---- the matrix ---------------------------------------------------------------------------

P0 = ["disconnect", "discard-younger-primary", "discard-older-primary", "discard-zero-changes",
      "discard-least-changes"]
P1 = ["disconnect", "consensus", "discard-secondary", "call-pri-lost-after-sb", "violently-as0p"]
P2 = ["disconnect", "call-pri-lost-after-sb", "violently-as0p"]
VARIANTS = [dict(writes=(MORE, LESS)), dict(writes=(LESS, MORE)), dict(b_writes_nothing=True)]


def matrix():
    cases = []
    for p0 in P0:  # nobody Primary at the reconnect; a the older primary
        for v in VARIANTS:
            cases.append(Case(len(cases), p0, a_older=True, **v))
    for p1 in P1:  # a Primary at the reconnect (and since before the split)
        for v in VARIANTS:
            cases.append(Case(len(cases), "discard-least-changes", p1=p1, a_older=True,
                              roles="a", **v))
    for p2 in P2:  # both Primary (allow-two-primaries), rr-conflict violently
        for v in VARIANTS:
            cases.append(Case(len(cases), "discard-least-changes", p2=p2, a_older=True,
                              roles="ab", rr="violently", **v))
    return cases


def write_config(cl, cases):
    out = ["global { usage-count no; }", ""]
    for c in cases:
        net = (f"after-sb-0pri {c.p0}; after-sb-1pri {c.p1}; after-sb-2pri {c.p2}; "
               f"rr-conflict {c.rr};")
        if c.roles == "ab":
            net += " allow-two-primaries yes;"
        out += [f"resource {c.res} {{", f"    net {{ {net} }}",
                "    disk { c-plan-ahead 0; resync-rate 100M; }"]
        for n, port in zip(cl.nodes, c.ports):
            img = os.path.join(cl.dir, f"{n.name}-{c.res}.img")
            with open(img, "wb") as f:
                f.truncate(IMG_MB << 20)
            out += [f"    on {n.name} {{", f"        node-id {n.node_id};",
                    f"        address 127.0.0.1:{port};",
                    f"        volume 0 {{ device minor {c.minor}; disk {img}; "
                    f"meta-disk internal; }}", "    }"]
        out += ["}", ""]
    with open(cl.conf, "w") as f:
        f.write("\n".join(out))


def pattern(tag, blocks):
    return bytes((tag + i * 7 + (i >> 12)) & 0xff for i in range(blocks * 4096))


def nbd_write(node, minor, off, data, path):
    with open(path, "wb") as f:
        f.write(data)
    p = subprocess.run(NBDSH + ["-u", node.uri(minor), "-c",
                                f"h.pwrite(open({path!r}, 'rb').read(), {off}); h.flush()"],
                       env=node.env(), capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, f"NBD write to {node.name} minor {minor}: {p.stderr}")


def status(node):
    import json
    return {r["name"]: r for r in json.loads(node.setup("status", "all", "--statistics",
                                                          "--json").stdout)}


def summary(st, res):
    r = st[res]
    conn = r["connections"][0] if r["connections"] else {}
    pd = conn.get("peer_devices", [{}])[0] if conn else {}
    return (r["role"], r["devices"][0]["disk-state"], conn.get("connection-state", "StandAlone"),
            pd.get("replication-state"), pd.get("out-of-sync"))


def settled(cl, cases):
    """True once every case is in sync or has a StandAlone side."""
    sa, sb = status(cl.nodes[0]), status(cl.nodes[1])
    for c in cases:
        x, y = summary(sa, c.res), summary(sb, c.res)
        if "StandAlone" in (x[2], y[2]):
            continue
        if not (x[2] == y[2] == "Connected" and x[3] == y[3] == "Established" and
                x[1] == y[1] == "UpToDate" and x[4] == y[4] == 0):
            raise Failure(f"{c.res}: a {x} b {y}")
    return True


def data_of(cl, node, c):
    with open(os.path.join(cl.dir, f"{node.name}-{c.res}.img"), "rb") as f:
        return f.read((IMG_MB - 1) << 20)


def check_sync(cl, c, survivor, what):
    a, b = cl.nodes
    da, db = data_of(cl, a, c), data_of(cl, b, c)
    expect(da == db, f"{c.name()}: {what}: replicas differ")
    pa, pb = pattern(0xa0, c.wa), pattern(0xb0, c.wb)
    a_there = da[A_OFF:A_OFF + len(pa)] == pa
    b_there = da[B_OFF:B_OFF + len(pb)] == pb if c.wb else survivor == "b"
    expect(a_there == (survivor == "a" or c.b_nothing),
           f"{c.name()}: {what}: a's writes {'missing' if not a_there else 'kept'}")
    expect(b_there == (survivor == "b"),
           f"{c.name()}: {what}: b's writes {'missing' if not b_there else 'kept'}")


def run_matrix(args, cases):
    with Cluster(args, ["a", "b"]) as cl:
        a, b = cl.nodes
        calls = os.path.join(cl.dir, "helper-calls")
        helper = os.path.join(cl.dir, "helper.sh")
        with open(helper, "w") as f:
            f.write(f"#!/bin/sh\necho \"$TEST_NODE $1 $2\" >> {calls}\nexit 0\n")
        os.chmod(helper, 0o755)
        for n in (a, b):
            n.extra_args = ["--usermode-helper", helper, "--helper-env", f"TEST_NODE={n.name}"]
        cl.start()
        write_config(cl, cases)
        for c in cases:
            for n in (a, b):
                n.adm("create-md", "--force", c.res)
        for c in cases:
            for n in (a, b):
                n.adm("up", c.res)
        for c in cases:
            cl.wait(f"{c.res} connected", lambda c=c: summary(status(a), c.res)[2] == "Connected")
            a.adm("primary", "--force", c.res)
        cl.wait("initial syncs", lambda: settled(cl, cases), timeout=120)
        blob = os.path.join(cl.dir, "pattern")
        for c in cases:
            if not c.a_older:
                a.adm("secondary", c.res)
            a.adm("disconnect", "--force", c.res)
            b.adm("disconnect", c.res)
        for c in cases:
            a.adm("primary", c.res)
            nbd_write(a, c.minor, A_OFF, pattern(0xa0, c.wa), blob)
            if "a" not in c.roles:
                a.adm("secondary", c.res)
            b.adm("primary", c.res)
            if c.wb:
                nbd_write(b, c.minor, B_OFF, pattern(0xb0, c.wb), blob)
            if "b" not in c.roles:
                b.adm("secondary", c.res)
        for c in cases:
            a.adm("connect", c.res)
            b.adm("connect", c.res)
        cl.wait("handshakes", lambda: settled(cl, cases), timeout=60)
        time.sleep(1)  # a StandAlone side stays so; nothing else may move
        cl.wait("handshakes", lambda: settled(cl, cases), timeout=60)
        sa, sb = status(a), status(b)
        errors = []
        manual = []
        handler_calls = open(calls).read().split("\n") if os.path.exists(calls) else []
        for c in cases:
            want = expected(c)
            got_a, got_b = summary(sa, c.res), summary(sb, c.res)
            try:
                if want[0] == "sync":
                    expect(got_a[2] == got_b[2] == "Connected",
                           f"{c.name()}: want a sync from {want[1]}, have a {got_a} b {got_b}")
                    check_sync(cl, c, want[1], "automatic recovery")
                    log = open((b if want[2] == "b" else a).log, errors="replace").read()
                    if not c.b_nothing:
                        expect("Sync from peer node" in log and
                               f"drbd {c.res}/0 drbd{c.minor} " in log,
                               f"{c.name()}: victim {want[2]} did not log the decision")
                else:
                    standalone = sorted(n for n, g in (("a", got_a), ("b", got_b))
                                        if g[2] == "StandAlone")
                    expect(standalone == sorted(want[1]),
                           f"{c.name()}: want StandAlone on {want[1]}, have a {got_a} b {got_b}")
                    # The split-brain handler runs where the split brain stayed
                    # unresolved, and only there (rr-conflict is no split brain).
                    for n in ("a", "b"):
                        called = f"{n} split-brain {c.res}" in handler_calls
                        expect(called == (want[1].get(n) == "split-brain"),
                               f"{c.name()}: split-brain handler {'' if called else 'not '}"
                               f"called on {n}")
                    manual.append(c)
                if not c.b_nothing:
                    for n in ("a", "b"):
                        expect(f"{n} initial-split-brain {c.res}" in handler_calls,
                               f"{c.name()}: initial-split-brain handler not called on {n}")
            except Failure as e:
                errors.append(str(e))
        # Manual recovery of the unresolved ones: b discards its data.
        for c in manual:
            for n in (a, b):
                n.adm("disconnect", c.res, check=False)
            if "b" in c.roles:
                b.adm("secondary", c.res)
            b.adm("connect", "--discard-my-data", c.res)
            a.adm("connect", c.res)
        if manual:
            cl.wait("manual recoveries", lambda: settled(cl, manual), timeout=60)
        st = status(a)
        for c in manual:
            try:
                expect(summary(st, c.res)[2] == "Connected",
                       f"{c.name()}: --discard-my-data on b: {summary(st, c.res)}")
                check_sync(cl, c, "a", "--discard-my-data on b")
            except Failure as e:
                errors.append(str(e))
        if errors:
            raise Failure(f"{len(errors)} of {len(cases)} cases wrong:\n  " + "\n  ".join(errors))
        print(f"  {len(cases)} cases, {len(manual)} recovered by --discard-my-data")


def t_policy_matrix(args):
    run_matrix(args, matrix())


if __name__ == "__main__":
    sys.exit(main(__doc__, [t_policy_matrix], check=nbd_clients))
