#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Data-path acceptance of drbd-cp issue #5 on live drbd-simd nodes
(loopback, brought up with our drbdadm, written through the Primary's NBD
export by a libnbd workload):

  * integrity: seeded random writes (512 B .. 1 MiB at random 512-byte
    aligned offsets) on the Primary leave the data area of every node's
    backing file byte-identical to the model of those writes (sha256 of
    the usable size; the internal metadata after it is not compared), for
    protocols A, B and C with 2 and 3 nodes;
  * a peer that was disconnected while the Primary wrote 4 KiB-aligned
    blocks gets only those blocks back on reconnect: the Primary's
    peer-device statistic `sent` (data sent to that peer on the current
    connection, in KiB in `status --statistics --json`; only the resync
    sends data after the reconnect, as no client writes then) is at most
    1.05x the bytes of the 4 KiB blocks written while it was away, and the
    data is identical after;
  * protocol C: kill -9 of the Primary's drbd-simd mid-workload; every
    write the client saw acknowledged (the workload logs each before and
    after it is issued) is on the surviving peer's backing file, checked
    against the final content the acked writes give each region (in order;
    the one write in flight at the kill is excluded);
  * verify -> reconnect repair: blocks corrupted behind DRBD's back on a
    Secondary's backing file are found by `drbdadm verify` (out-of-sync in
    the statistics of both nodes), and `drbdadm disconnect` + `connect`
    resyncs exactly those blocks (drbd-simd does what the DRBD
    documentation promises; the 9.2.18 module drops the marks, see
    docs/compat.md).

Every random choice comes from a seed printed with the test (DRBD_TEST_SEED
overrides it). The workload is this script run as `worker` by a python3
that has libnbd's module (python3-libnbd). Exit 77 (skip) without it.
Run: simd_data.py --bindir build/bin [-k NAME] [-v] [--keep].
"""

import hashlib
import os
import random
import sys

from simd_harness import (Cluster, Failure, all_in_sync, expect, kill_during_workload, main,
                          res_stats, up_synced_primary)
from simd_nbd import libnbd_python

KiB = 1024
BLOCK = 4096
IMG_MB = 16
RATE = "resync-rate 100M; c-plan-ahead 0;"


# ---- the workload (runs in a separate python3 with the nbd module) ----------------

def payload(seed, i, n):
    """The bytes of write `i` of workload `seed`: a function of both only."""
    return random.Random(f"{seed}:{i}").randbytes(n)


def plan(rnd, size, aligned):
    """One write: (offset, length). Unaligned: 512 B .. 1 MiB, log-uniform,
    512-byte multiples; aligned: 4 KiB .. 64 KiB in whole 4 KiB blocks."""
    if aligned:
        n = rnd.randint(1, 16) * BLOCK
        return rnd.randrange(0, (size - n) // BLOCK + 1) * BLOCK, n
    n = max(512, int(2 ** rnd.uniform(9, 20)) // 512 * 512)
    return rnd.randrange(0, (size - n) // 512 + 1) * 512, n


def worker(argv):
    """worker URI SEED COUNT aligned|any LOG: writes COUNT planned writes
    (COUNT 0 = until killed), logging `I i off len` before and `A i` after
    each one the server acknowledged; the first line is `S size`."""
    import nbd  # noqa: PLC0415 (only the worker needs libnbd)
    uri, seed, count, mode, log = argv[0], int(argv[1]), int(argv[2]), argv[3], argv[4]
    h = nbd.NBD()
    h.connect_uri(uri)
    size = h.get_size()
    rnd = random.Random(seed)
    with open(log, "w", buffering=1) as out:
        out.write(f"S {size}\n")
        i = 0
        while count == 0 or i < count:
            off, n = plan(rnd, size, mode == "aligned")
            out.write(f"I {i} {off} {n}\n")
            out.flush()
            h.pwrite(payload(seed, i, n), off)
            out.write(f"A {i}\n")
            out.flush()
            i += 1
        h.flush()
    h.shutdown()
    return 0


class Log:
    """A parsed workload log: size, the acknowledged writes in order, and
    the writes issued but never acknowledged."""

    def __init__(self, path, seed):
        self.seed = seed
        self.size = 0
        issued, self.acked = {}, []
        for line in open(path):
            f = line.split()
            if f[0] == "S":
                self.size = int(f[1])
            elif f[0] == "I":
                issued[int(f[1])] = (int(f[2]), int(f[3]))
            elif f[0] == "A" and int(f[1]) in issued:
                i = int(f[1])
                self.acked.append((i,) + issued.pop(i))
        self.pending = [(i,) + w for i, w in issued.items()]

    def model(self, base):
        """`base` with every acknowledged write applied in order."""
        m = bytearray(base)
        for i, off, n in self.acked:
            m[off:off + n] = payload(self.seed, i, n)
        return m

    def blocks(self):
        return {b for _, off, n in self.acked
                for b in range(off // BLOCK, (off + n - 1) // BLOCK + 1)}


# ---- the tests ---------------------------------------------------------------------

PY = []  # the python3 with libnbd's module


def test_seed(name):
    env = os.environ.get("DRBD_TEST_SEED")
    seed = int(env, 0) if env else random.SystemRandom().randrange(1 << 32)
    print(f"{name}: seed {seed:#x} (rerun: DRBD_TEST_SEED={seed:#x} simd_data.py -k {name})",
          flush=True)
    return seed


def run_workload(c, node, seed, count, aligned=False, name="w"):
    log = os.path.join(c.dir, f"{name}-{seed:x}.log")
    node.run_cmd(PY + [os.path.abspath(__file__), "worker", node.uri(), str(seed), str(count),
                       "aligned" if aligned else "any", log], timeout=120)
    return Log(log, seed)


def peer_device(node, peer):
    for conn in res_stats(node)["connections"]:
        if conn["name"] == peer.name:
            return conn, conn["peer_devices"][0]
    raise Failure(f"{node.name} has no connection to {peer.name}")


def data_area(node, size):
    with open(node.disks[0], "rb") as f:
        return f.read(size)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def bring_up(c, net="", disk=RATE):
    """r0 on every node of `c`, initial sync skipped (the images are all
    zeros), the first node Primary."""
    up_synced_primary(c, IMG_MB, net=net, disk=disk)


def expect_replicas(c, model, what, nodes=None, timeout=20):
    """The data area of every node in `nodes` equals `model` (protocol A
    may still be moving the last writes: wait for it)."""
    want = sha(model)
    nodes = nodes or c.nodes

    def same():
        got = {n.name: sha(data_area(n, len(model))) for n in nodes}
        return all(v == want for v in got.values()) or None
    try:
        c.wait(what, same, timeout=timeout)
    except Failure:
        got = {n.name: sha(data_area(n, len(model)))[:16] for n in nodes}
        raise Failure(f"{what}: data areas differ from the model {want[:16]}: {got}")


def integrity(args, protocol, names):
    name = f"integrity_{protocol}_{len(names)}"
    seed = test_seed(name)
    with Cluster(args, names) as c:
        bring_up(c, net=f"protocol {protocol};")
        log = run_workload(c, c.nodes[0], seed, 40)
        expect(len(log.acked) == 40 and not log.pending, "the workload did not finish")
        written = sum(n for _, _, n in log.acked)
        model = log.model(bytes(log.size))
        expect_replicas(c, model, f"protocol {protocol}, {len(names)} nodes, "
                        f"{written} bytes in 40 writes")
        c.wait("all UpToDate and in sync", lambda: all_in_sync(c))
        # The Primary's own export reads the model back.
        back = os.path.join(c.dir, "readback")
        c.nodes[0].run_cmd(PY + ["-m", "nbd", "-u", c.nodes[0].uri(), "-c",
                                 f"open({back!r}, 'wb').write(h.pread({log.size}, 0))"])
        with open(back, "rb") as f:
            expect(sha(f.read()) == sha(model), "the Primary's export reads back other data")


def t_integrity_A_2(args):
    integrity(args, "A", ["alpha", "beta"])


def t_integrity_B_2(args):
    integrity(args, "B", ["alpha", "beta"])


def t_integrity_C_2(args):
    integrity(args, "C", ["alpha", "beta"])


def t_integrity_A_3(args):
    integrity(args, "A", ["alpha", "beta", "gamma"])


def t_integrity_B_3(args):
    integrity(args, "B", ["alpha", "beta", "gamma"])


def t_integrity_C_3(args):
    integrity(args, "C", ["alpha", "beta", "gamma"])


def t_resync_only_changes(args):
    seed = test_seed("resync_only_changes")
    with Cluster(args, ["alpha", "beta"]) as c:
        bring_up(c)
        a, b = c.nodes
        first = run_workload(c, a, seed, 20, name="before")
        model = first.model(bytes(first.size))
        expect_replicas(c, model, "before the disconnect")
        b.adm("disconnect", "r0")
        c.wait("alpha lost beta", lambda: peer_device(a, b)[0]["connection-state"] != "Connected")
        away = run_workload(c, a, seed + 1, 60, aligned=True, name="away")
        model = away.model(model)
        changed = len(away.blocks()) * BLOCK
        oos = peer_device(a, b)[1]["out-of-sync"] * KiB
        expect(oos == changed, f"alpha marks {oos} bytes out of sync toward beta, "
               f"the writes touched {changed}")
        b.adm("connect", "r0")
        c.wait("resynced", lambda: all_in_sync(c), timeout=30)
        # `sent` counts per connection (0 from the connect on, as the
        # module's counters in the 9.2.18 captures): with no client writing
        # now, it is the resync's bytes.
        sent = peer_device(a, b)[1]["sent"] * KiB
        print(f"  written while away: {sum(n for _, _, n in away.acked)} bytes in "
              f"{len(away.acked)} writes, {changed} bytes of 4 KiB blocks; resync sent {sent}")
        expect(changed <= sent <= 1.05 * changed,
               f"resync sent {sent} bytes for {changed} bytes of changed blocks")
        expect(f"Began resync as SyncSource (will sync {changed // KiB} KB "
               f"[{changed // BLOCK} bits set])" in open(a.log).read(),
               "alpha's log does not announce a resync of exactly the changed blocks")
        expect_replicas(c, model, "after the resync")


def t_kill_primary_acked_writes(args):
    seed = test_seed("kill_primary_acked_writes")
    with Cluster(args, ["alpha", "beta"]) as c:
        bring_up(c, net="protocol C;")
        a, b = c.nodes
        log = os.path.join(c.dir, "kill.log")
        rc = kill_during_workload(
            c, a, PY + [os.path.abspath(__file__), "worker", a.uri(), str(seed), "0", "any", log],
            lambda: os.path.exists(log) and open(log).read().count("\nA ") >= 60,
            "60 acknowledged writes")
        expect(rc != 0, "the workload should fail once its server is gone")
        got = Log(log, seed)
        expect(len(got.pending) <= 1, f"more than one write in flight: {got.pending}")
        model = got.model(bytes(got.size))
        # Bytes the in-flight write may or may not have reached beta with.
        unknown = bytearray(got.size)
        for _, off, n in got.pending:
            unknown[off:off + n] = b"\x01" * n
        beta = data_area(b, got.size)
        bad = []
        for i, off, n in got.acked:
            for x in range(off, off + n, 512):
                if not unknown[x] and beta[x:x + 512] != model[x:x + 512]:
                    bad.append((i, off, n, x))
                    break
        print(f"  {len(got.acked)} acknowledged writes checked on beta, "
              f"{len(got.pending)} in flight at the kill")
        expect(not bad, f"acknowledged writes missing on beta (write, offset, len, first bad "
               f"sector byte): {bad[:5]}")


def t_verify_then_reconnect_repairs(args):
    seed = test_seed("verify_then_reconnect_repairs")
    with Cluster(args, ["alpha", "beta"]) as c:
        bring_up(c, net="verify-alg crc32c;")
        a, b = c.nodes
        log = run_workload(c, a, seed, 20)
        model = log.model(bytes(log.size))
        expect_replicas(c, model, "before the corruption")
        rnd = random.Random(seed)
        bad = sorted(rnd.sample(range(log.size // BLOCK), 3))
        with open(b.disks[0], "r+b") as f:  # behind DRBD's back
            for blk in bad:
                f.seek(blk * BLOCK)
                f.write(rnd.randbytes(BLOCK))
            f.flush()
            os.fsync(f.fileno())
        a.adm("verify", "r0")
        c.wait("verify done", lambda: all(
            peer_device(n, p)[1]["replication-state"] == "Established"
            for n, p in ((a, b), (b, a))), timeout=30)
        for n, p in ((a, b), (b, a)):
            oos = peer_device(n, p)[1]["out-of-sync"]
            expect(oos == len(bad) * BLOCK // KiB,
                   f"{n.name}: out-of-sync:{oos} KiB after verify, corrupted {len(bad)} blocks")
        events = a.setup("events2", "--now", "--statistics", "r0").stdout
        expect(f"out-of-sync:{len(bad) * BLOCK // KiB}" in events, f"events2: {events}")
        expect(f"Online verify found {len(bad)} 4k blocks out of sync!" in open(a.log).read(),
               "alpha's log has no verify result")
        b.adm("disconnect", "r0")
        b.adm("connect", "r0")
        c.wait("repaired", lambda: all_in_sync(c), timeout=30)
        sent = peer_device(a, b)[1]["sent"] * KiB
        expect(sent == len(bad) * BLOCK, f"the repair sent {sent} bytes for {len(bad)} blocks")
        expect_replicas(c, model, "after the repair")


TESTS = [t_integrity_A_2, t_integrity_B_2, t_integrity_C_2, t_integrity_A_3, t_integrity_B_3,
         t_integrity_C_3, t_resync_only_changes, t_kill_primary_acked_writes,
         t_verify_then_reconnect_repairs]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        sys.exit(worker(sys.argv[2:]))
    sys.exit(main(__doc__, TESTS, check=lambda: libnbd_python(PY)))
