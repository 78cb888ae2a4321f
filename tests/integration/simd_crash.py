#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The persisted bitmap and activity log of drbd-simd (drbd-cp issue #5),
on live nodes brought up with our drbdadm and written through the
Primary's NBD export by a libnbd workload:

  * kill -9 of the Primary's drbd-simd while a protocol C workload writes
    inside extents 2..4 (8..20 MiB): the metadata left behind is unclean
    with the activity log's hot extents; a restarted drbd-simd and
    `drbdadm up` (whose `drbdmeta apply-al` reports "Marked additional N
    as out-of-sync based on AL.") reconnect and resync exactly those N KiB,
    all within the workload's extents, including the extent of the write
    in flight at the kill, in the kernel's direction: with protocol A the
    crashed Primary pushes them (rule crashed-primary: a block changed on
    its backing file inside that extent, a local write its peer never got,
    reaches the peer); with protocol C the survivor is source (rule
    lost-quorum, source-if-both-failed: that block is undone); the data
    areas end byte-identical;
  * `drbdadm down` of the Secondary while the Primary writes, then `down`
    of the Primary: `drbdmeta dump-md` (ours and /usr/sbin/drbdmeta, same
    text) shows the blocks written while the Secondary was away; after
    `up` on both, only those blocks resync (the Primary's `sent`
    statistic <= 1.05 x their bytes) and the data is identical.

The workload is this script run as `worker` by a python3 that has libnbd's
module (python3-libnbd). Exit 77 (skip) without it.
Run: simd_crash.py --bindir build/bin [-k NAME] [-v] [--keep].
"""

import os
import random
import re
import subprocess
import sys

KiB = 1024
BLOCK = 4096
EXTENT = 4 << 20
IMG_MB = 32
RATE = "resync-rate 100M; c-plan-ahead 0;"
ORACLE_DRBDMETA = "/usr/sbin/drbdmeta"


# ---- the workload (runs in a separate python3 with the nbd module) ----------------

def worker(argv):
    """worker URI SEED COUNT LO HI LOG: COUNT writes (0 = until killed) of
    4..64 KiB at random 4 KiB-aligned offsets in [LO, HI), logging
    `I off len` before and `A` after each acknowledged one."""
    import nbd  # noqa: PLC0415 (only the worker needs libnbd)
    uri, seed, count, lo, hi, log = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), \
        int(argv[4]), argv[5]
    h = nbd.NBD()
    h.connect_uri(uri)
    rnd = random.Random(seed)
    with open(log, "w", buffering=1) as out:
        i = 0
        while count == 0 or i < count:
            n = rnd.randint(1, 16) * BLOCK
            off = lo + rnd.randrange(0, (hi - lo - n) // BLOCK + 1) * BLOCK
            out.write(f"I {off} {n}\n")
            out.flush()
            h.pwrite(rnd.randbytes(n), off)
            out.write("A\n")
            out.flush()
            i += 1
        h.flush()
    h.shutdown()
    return 0


def parse_log(path):
    """(acknowledged writes, the write in flight or None) as (off, len)."""
    acked, pending = [], None
    for line in open(path):
        f = line.split()
        if f[0] == "I":
            pending = (int(f[1]), int(f[2]))
        elif f[0] == "A" and pending:
            acked.append(pending)
            pending = None
    return acked, pending


def blocks_of(writes):
    return {b for off, n in writes for b in range(off // BLOCK, (off + n - 1) // BLOCK + 1)}


# ---- the tests ---------------------------------------------------------------------

from simd_harness import (MiB, Cluster, Failure, all_in_sync, expect,  # noqa: E402
                          kill_during_workload, main, res_stats, up_synced_primary)
from simd_nbd import libnbd_python  # noqa: E402

PY = []  # the python3 with libnbd's module


def run_workload(c, node, seed, count, lo, hi, name):
    log = os.path.join(c.dir, f"{name}.log")
    node.run_cmd(PY + [os.path.abspath(__file__), "worker", node.uri(), str(seed), str(count),
                       str(lo), str(hi), log], timeout=120)
    return parse_log(log)[0]


def peer_device(node):
    conn = res_stats(node)["connections"][0]
    return conn, conn["peer_devices"][0]


def usable_bytes(node):
    return res_stats(node)["devices"][0]["size"] * KiB


def data_area(node, size):
    with open(node.disks[0], "rb") as f:
        return f.read(size)


def expect_identical(c, what):
    size = usable_bytes(c.nodes[0])
    a, b = (data_area(n, size) for n in c.nodes)
    if a != b:
        first = next(i for i in range(0, size, BLOCK) if a[i:i + BLOCK] != b[i:i + BLOCK])
        raise Failure(f"{what}: the data areas differ, first at byte {first}")


def bring_up(c, net=""):
    """r0 on both nodes, initial sync skipped (all-zero images), alpha
    Primary."""
    up_synced_primary(c, IMG_MB, net=net, disk=RATE)


def restart_daemon(node):
    """drbd-simd again on the same socket, NBD directory and images (Node.start
    removes the stale socket)."""
    node.start()


def log_text(node):
    return open(node.log).read()


def kill_primary_resyncs_the_activity_log(args, protocol):
    """The crashed Primary's AL hot area is resynced between it and the
    peer that survived, in the kernel's direction: with protocol A or B
    the crashed Primary pushes it (rule crashed-primary), so its local
    write the peer never got reaches the peer; with protocol C the survivor
    (it carries the RECONNECT flag) is source (rule lost-quorum,
    source-if-both-failed), the crashed node's AL bits merged into the
    exchange, so that write is undone on the crashed node. Either way
    exactly the marked extents move and the replicas end identical."""
    with Cluster(args, ["alpha", "beta"]) as c:
        bring_up(c, net=f"protocol {protocol};")
        a, b = c.nodes
        lo, hi = 2 * EXTENT, 5 * EXTENT
        log = os.path.join(c.dir, "kill.log")
        kill_during_workload(
            c, a, PY + [os.path.abspath(__file__), "worker", a.uri(), "7", "0", str(lo), str(hi),
                        log],
            lambda: os.path.exists(log) and open(log).read().count("A\n") >= 40,
            "40 acknowledged writes")
        acked, pending = parse_log(log)
        last = pending or acked[-1]
        hot = last[0] // EXTENT
        # The crashed node's metadata: unclean, Primary, crashed.
        gi = a.run("drbdmeta", "--force", "-", "v09", a.disks[0], "internal", "get-gi",
                   "--node-id", "1").stdout.split(":")
        expect(gi[6:9] == ["1", "1", "0"],
               f"alpha's flags primary:crashed-primary:al-clean should be 1:1:0, got {gi}")
        # A block of the last write's extent that only the crashed node
        # wrote: the resync must carry it to beta.
        with open(a.disks[0], "r+b") as f:
            f.seek(hot * EXTENT + 17 * BLOCK)
            f.write(b"\xa5" * BLOCK)

        restart_daemon(a)
        up = a.adm("up", "r0")
        m = re.search(r"Marked additional (\d+) (KB|MB) as out-of-sync based on AL\.",
                      up.stdout + up.stderr)
        expect(m, f"drbdadm up should apply the activity log:\n{up.stdout}{up.stderr}")
        marked_kb = int(m.group(1)) << (10 if m.group(2) == "MB" else 0)
        expect(marked_kb % (EXTENT // KiB) == 0 and EXTENT // KiB <= marked_kb <= 3 * EXTENT // KiB,
               f"marked {marked_kb} KB: whole extents within the workload's three expected")
        c.wait("resynced", lambda: all_in_sync(c), timeout=60)
        text = log_text(a)
        if protocol in "AB":
            rule, role, holder = "source-use-bitmap by rule=crashed-primary", "SyncSource", b
        else:
            rule, role, holder = "target-if-both-failed by rule=lost-quorum", "SyncTarget", a
        expect(f"uuid_compare()={rule}" in text,
               f"alpha (crashed Primary, protocol {protocol}) should decide {rule}")
        began = re.search(rf"Began resync as {role} \(will sync (\d+) KB \[(\d+) bits set\]\)",
                          text.split(rule, 1)[1])
        expect(began and int(began.group(1)) == marked_kb,
               f"the resync should cover exactly the {marked_kb} KB the AL marked: "
               f"{began and began.group(0)}")
        with open(holder.disks[0], "rb") as f:
            f.seek(hot * EXTENT + 17 * BLOCK)
            got = f.read(BLOCK)
        if protocol in "AB":
            expect(got == b"\xa5" * BLOCK,
                   f"the extent of the last write ({hot}) was not resynced to beta")
        else:
            expect(got != b"\xa5" * BLOCK,
                   f"alpha's unreplicated write in extent {hot} survived the resync from beta")
        print(f"  protocol {protocol}: {len(acked)} writes acknowledged, "
              f"{1 if pending else 0} in flight; AL marked {marked_kb} KB, resynced "
              f"{began.group(1)} KB as alpha's {role}")
        expect_identical(c, "after the crash resync")
        gi = a.setup("get-gi", "r0", "1", "0").stdout.strip().split(":")
        expect(gi[7] == "0", f"alpha is no crashed Primary after the resync: {gi}")


def dump_md(tool, image):
    p = subprocess.run([tool, "--force", "-", "v09", image, "internal", "dump-md"],
                       capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
    if p.returncode != 0:
        raise Failure(f"{tool} dump-md -> {p.returncode}\n{p.stdout}{p.stderr}")
    # The first lines name the time and the command line.
    return [ln for ln in p.stdout.splitlines() if not re.match(r"# (\d{4}-|\S+> )", ln)]


def t_secondary_down_up_resyncs_only_changes(args):
    with Cluster(args, ["alpha", "beta"]) as c:
        bring_up(c)
        a, b = c.nodes
        run_workload(c, a, 11, 20, 0, 16 * MiB, "before")
        b.adm("down", "r0")
        c.wait("alpha lost beta", lambda: peer_device(a)[0]["connection-state"] != "Connected")
        away = run_workload(c, a, 12, 40, 0, 24 * MiB, "away")
        changed = len(blocks_of(away)) * BLOCK
        oos = peer_device(a)[1]["out-of-sync"] * KiB
        expect(oos == changed, f"alpha marks {oos} bytes toward beta, the writes touched {changed}")
        # A clean down of the Primary: the bits are in the metadata.
        a.adm("secondary", "r0")
        a.adm("down", "r0")
        ours = dump_md(a.cluster.bin("drbdmeta"), a.disks[0])
        expect(f"# bits-set {changed // BLOCK};" in ours,
               f"dump-md should count {changed // BLOCK} bits: "
               f"{[ln for ln in ours if 'bits-set' in ln]}")
        if os.access(ORACLE_DRBDMETA, os.X_OK):
            oracle = dump_md(ORACLE_DRBDMETA, a.disks[0])
            expect(ours == oracle, "our dump-md differs from drbd-utils':\n" + "\n".join(
                f"{x!r} | {y!r}" for x, y in zip(ours, oracle) if x != y))
        a.adm("up", "r0")
        expect(peer_device(a)[1]["out-of-sync"] * KiB == changed,
               "the bits should be loaded again at attach")
        b.adm("up", "r0")
        c.wait("resynced", lambda: all_in_sync(c), timeout=60)
        sent = peer_device(a)[1]["sent"] * KiB
        print(f"  {len(away)} writes while beta was away, {changed} bytes of 4 KiB blocks; "
              f"resync sent {sent}")
        expect(changed <= sent <= 1.05 * changed,
               f"resync sent {sent} bytes for {changed} bytes of changed blocks")
        expect_identical(c, "after the resync")


def t_kill_primary_resyncs_the_activity_log_protocol_c(args):
    kill_primary_resyncs_the_activity_log(args, "C")


def t_kill_primary_resyncs_the_activity_log_protocol_a(args):
    kill_primary_resyncs_the_activity_log(args, "A")


TESTS = [t_kill_primary_resyncs_the_activity_log_protocol_c,
         t_kill_primary_resyncs_the_activity_log_protocol_a,
         t_secondary_down_up_resyncs_only_changes]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        sys.exit(worker(sys.argv[2:]))
    sys.exit(main(__doc__, TESTS, check=lambda: libnbd_python(PY)))
