#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Soak test of drbd-simd on real processes (drbd-cp issue #6): three
drbd-simd nodes on loopback (alpha, beta, gamma; connection mesh; or alpha
and beta with --nodes 2), protocol C, auto-promote off, one volume (or two
with --volumes 2), brought up with our drbdadm, every connection relayed by a TcpProxy of the test
(each node's drbd.conf names its peers at the proxies in front of them),
while a workload writes through the Primary's NBD export for --duration
seconds and a fault schedule drawn from the seed hits the cluster:

  kill-secondary   kill -9 of one or both Secondaries' drbd-simd; restarted
                   and `drbdadm up` after a while (the Primary writes on);
  kill-primary     kill -9 of the Primary mid-write; failover: an UpToDate
                   survivor is promoted with `drbdadm primary`, the workload
                   moves there, the old Primary is restarted, comes up and
                   resyncs;
  partition-node   every link of one node (the Primary too) stops passing
                   bytes for 0.3..8 s (a black hole, not a disconnect), then
                   heals;
  partition-link   the same for one link;
  reset-links      every connection of one node is reset mid-message;
  pause            one node's drbd-simd is stopped (SIGSTOP) for 0.3..4 s.

Only a killed Primary is ever replaced, and only from a state where every
node was connected and in sync, so no fault may cause a split brain (none
is tolerated). After each fault heals, every node must become UpToDate and
Connected/Established with nothing out of sync, and the workload must still
be running. At checkpoints (every 4th fault) and at the end the workload is
stopped and each node's backing data area is compared with the model of the
writes: every acknowledged write's bytes, in order (each 512-byte sector
carries a tag: volume, epoch, write number, sector), where the write in
flight when a Primary was killed may or may not have landed; and all
replicas must be byte-identical. At the end the final Primary's NBD export reads the same.

The workload (this script run as `worker` by a python3 with libnbd's
module) writes 512 B .. 1 MiB at random 512-byte aligned offsets of a
random volume's export, some with FUA, --rate writes a second, logging each
write before it is issued and after it is acknowledged; protocol C
acknowledges a write once it is on every connected peer's backing file,
which a kill -9 of the process does not undo (the page cache survives
it).

A failure prints the seed, a repro line and the fault log, and keeps the
cluster's directory (node logs, workload logs). Exit 77 (skip) without
python3-libnbd.
Run: simd_soak.py --bindir build/bin [--duration 600] [--nodes 3] [--volumes 2] [--seed N]
     [--rate 25] [--faults kill-primary,pause,...] [-v] [--keep].
"""

import hashlib
import os
import random
import re
import signal
import struct
import subprocess
import sys
import threading
import time

from simd_harness import (Cluster, Failure, TcpProxy, all_in_sync, conn_state, disk_state,
                          expect, main, res_stats, up_all, wait_connected)

KiB = 1024
SECTOR = 512
IMG_MB = 32
MAGIC = b"SOAK"
RES = "r0"
NET = "protocol C; ping-int 2; connect-int 1;"
DISK = "resync-rate 100M; c-plan-ahead 0;"
OPTIONS = "auto-promote no;"
SYNC_TIMEOUT = 120  # seconds for a healed cluster to be in sync again


# ---- the workload (runs in a separate python3 with the nbd module) ----------------

TAG = "<4sHHII"  # MAGIC, volume, epoch, write number, sector number


def payload(seed, epoch, i, off, n, vol=0):
    """The bytes of write I of workload epoch EPOCH (to volume VOL):
    random, each 512-byte sector starting with its TAG."""
    data = bytearray(random.Random(f"{seed}:{epoch}:{i}").randbytes(n))
    s0 = off // SECTOR
    for k in range(n // SECTOR):
        struct.pack_into(TAG, data, k * SECTOR, MAGIC, vol, epoch, i, s0 + k)
    return bytes(data)


def tag_of(sector):
    magic, vol, epoch, i, s = struct.unpack_from(TAG, sector)
    if magic != MAGIC:
        return "untagged (zeros)" if not any(sector) else "untagged data"
    return f"{f'volume {vol} ' if vol else ''}epoch {epoch} write {i} (sector {s})"


def plan(rnd, size):
    """One write: (offset, length), 512 B .. 1 MiB log-uniform, 512-byte
    aligned."""
    n = max(SECTOR, int(2 ** rnd.uniform(9, 20)) // SECTOR * SECTOR)
    return rnd.randrange(0, (size - n) // SECTOR + 1) * SECTOR, n


def worker(argv):
    """worker URI[,URI..] SEED EPOCH RATE LOG STOP: writes (to the export
    of a volume drawn at random each time) until the file STOP exists
    (then flushes and writes `F`) or an error ends it, logging `I i vol
    off len` before and `A i` after each acknowledged write."""
    import nbd  # noqa: PLC0415 (only the worker needs libnbd)
    uris, seed, epoch, rate, log, stop = argv[0].split(","), int(argv[1]), int(argv[2]), \
        float(argv[3]), argv[4], argv[5]
    hs = []
    for uri in uris:
        h = nbd.NBD()
        h.connect_uri(uri)
        hs.append(h)
    rnd = random.Random(f"{seed}:{epoch}")
    with open(log, "w", buffering=1) as out:
        i = 0
        due = time.monotonic()
        while not os.path.exists(stop):
            vol = rnd.randrange(len(hs))
            h = hs[vol]
            off, n = plan(rnd, h.get_size())
            flags = nbd.CMD_FLAG_FUA if h.can_fua() and rnd.random() < 0.125 else 0
            data = payload(seed, epoch, i, off, n, vol)
            out.write(f"I {i} {vol} {off} {n}\n")
            out.flush()
            h.pwrite(data, off, flags)
            out.write(f"A {i}\n")
            out.flush()
            i += 1
            if rate > 0:
                due += 1 / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    due = time.monotonic()
        for h in hs:
            h.flush()
        out.write("F\n")
    for h in hs:
        h.shutdown()
    return 0


# ---- the model of the writes ------------------------------------------------------

class Epoch:
    """One workload process on one Primary: its log, parsed when done into
    the acknowledged writes and those never acknowledged, (i, vol, off,
    len) in order."""

    def __init__(self, number, node, log):
        self.number, self.node, self.log = number, node, log
        self.acked, self.pending, self.finished = [], [], False

    def parse(self):
        issued, self.acked = {}, []
        for line in open(self.log):
            f = line.split()
            if f[0] == "I":
                issued[int(f[1])] = (int(f[2]), int(f[3]), int(f[4]))
            elif f[0] == "A" and int(f[1]) in issued:
                i = int(f[1])
                self.acked.append((i,) + issued.pop(i))
            elif f[0] == "F":
                self.finished = True
        self.pending = [(i,) + w for i, w in issued.items()]
        return self


def build_model(seed, epochs, size, vol=0):
    """(expected bytes of volume VOL, {sector: [alternative contents]}):
    every acknowledged write applied in order; a sector last written by a
    write never acknowledged may also hold that write's bytes."""
    writes = []
    for e in epochs:
        writes += sorted([(e.number, i, off, n, True) for i, v, off, n in e.acked if v == vol] +
                         [(e.number, i, off, n, False) for i, v, off, n in e.pending if v == vol],
                         key=lambda w: w[1])
    model = bytearray(size)
    known = bytearray(size // SECTOR)
    alts = {}
    for epoch, i, off, n, acked in reversed(writes):
        s0, s1 = off // SECTOR, min((off + n) // SECTOR, len(known))
        if known.find(0, s0, s1) < 0:
            continue
        data = payload(seed, epoch, i, off, n, vol)
        a = known.find(0, s0, s1)
        while a >= 0:
            b = known.find(1, a, s1)
            b = s1 if b < 0 else b
            chunk = data[(a - s0) * SECTOR:(b - s0) * SECTOR]
            if acked:
                model[a * SECTOR:b * SECTOR] = chunk
                known[a:b] = b"\x01" * (b - a)
            else:
                for k in range(a, b):
                    alts.setdefault(k, []).append(chunk[(k - a) * SECTOR:(k - a + 1) * SECTOR])
            a = known.find(0, b, s1) if b < s1 else -1
    return model, alts


def mismatches(actual, model, alts, limit=5):
    """Sectors of ACTUAL that are neither the model's nor an allowed
    alternative: [(offset, expected tag, found tag)], at most LIMIT."""
    bad = []
    step = 1 << 20
    for base in range(0, len(model), step):
        if actual[base:base + step] == model[base:base + step]:
            continue
        for x in range(base, min(base + step, len(model)), SECTOR):
            got = actual[x:x + SECTOR]
            if got == model[x:x + SECTOR] or got in alts.get(x // SECTOR, ()):
                continue
            bad.append((x, tag_of(model[x:x + SECTOR]), tag_of(got)))
            if len(bad) >= limit:
                return bad
    return bad


# ---- the soak ----------------------------------------------------------------------

PY = []  # the python3 with libnbd's module


class Soak:
    """One soak run on cluster C: the proxies, the workload epochs, the
    fault schedule drawn from SEED, the fault log and the checks."""

    def __init__(self, args, c, seed):
        self.args, self.c, self.seed = args, c, seed
        self.rnd = random.Random(seed)
        self.t0 = time.time()
        self.faults = []  # the fault log
        self.counts = {}
        self.epochs = []
        self.worker = None
        self.minor = 500 + os.getpid() % 400 * 2  # lkbd files of its own (no lock)
        self.volumes = args.volumes
        self.primary = c.nodes[0]
        self.proxies = {(x.name, y.name): TcpProxy(y.port)
                        for x in c.nodes for y in c.nodes if x is not y}
        self.stopped = set()  # nodes under SIGSTOP

    # -- log --
    def note(self, text):
        line = f"[{time.time() - self.t0:7.1f}s] {text}"
        self.faults.append(line)
        print("  " + line, flush=True)

    def repro(self):
        a = self.args
        faults = f" --faults {a.faults}" if a.faults else ""
        return (f"repro: DRBD_TEST_SEED={self.seed:#x} simd_soak.py --bindir {a.bindir} "
                f"--nodes {a.nodes} --volumes {a.volumes} --duration {a.duration} "
                f"--rate {a.rate}{faults} (timing is real: the fault order replays, the "
                f"interleaving may not)")

    # -- cluster --
    def bring_up(self):
        c = self.c
        c.start()
        res = {"name": RES, "volumes": list(range(self.volumes)),
               "nodes": [n.name for n in c.nodes], "net": NET,
               "disk": DISK, "options": OPTIONS, "minor_base": self.minor}
        for n in c.nodes:
            for v in range(self.volumes):
                c.image(n, v, size_mb=IMG_MB)
        for x in c.nodes:
            x.conf = os.path.join(c.dir, f"drbd.{x.name}.conf")
            c.write_config([res], path=x.conf, port_of=lambda name, x=x: x.port if name == x.name
                           else self.proxies[(x.name, name)].port)
        up_all(c, RES)
        wait_connected(c, RES)
        for v in range(self.volumes):
            c.nodes[0].adm("new-current-uuid", "--clear-bitmap", f"{RES}/{v}")
        c.wait("all UpToDate", lambda: all_in_sync(c, res=RES, every_volume=True))
        self.primary.adm("primary", RES)

    def secondaries(self):
        return [n for n in self.c.nodes if n is not self.primary]

    def links(self, node):
        return [p for (x, y), p in self.proxies.items() if node.name in (x, y)]

    def kill(self, node):
        node.proc.send_signal(signal.SIGKILL)
        node.proc.wait()

    def restart(self, node):
        node.start()  # a stale socket goes first (Node.start)
        node.adm("up", RES)

    def wait_in_sync(self, what):
        """Every node UpToDate, Connected/Established to every peer with
        nothing out of sync, twice a second apart (a reset may be noticed
        late). A StandAlone connection fails at once: nothing in this soak
        disconnects on purpose, so only a split brain or unrelated data
        (the handshake's verdict, quoted from the logs) leads there."""
        for _ in range(2):
            deadline = time.time() + SYNC_TIMEOUT
            while True:
                try:
                    all_in_sync(self.c, res=RES, every_volume=True)
                    break
                except (Failure, KeyError, IndexError, ValueError) as e:
                    if "connection:StandAlone" in str(e):
                        raise Failure(f"{what}: {e}; handshakes: {self.verdicts()[-4:]}")
                    if time.time() > deadline:
                        self.diagnose()
                        raise Failure(f"{what}: not in sync after {SYNC_TIMEOUT}s: {e}")
                time.sleep(0.1)
            time.sleep(1)

    def diagnose(self):
        """What the links look like when the cluster did not settle: each
        proxy's state and the TCP sockets on its ports, to tell a stuck
        relay from a stuck engine."""
        print(f"  diagnose: {threading.active_count()} threads in the test process")
        for (x, y), p in self.proxies.items():
            print(f"  proxy {x}->{y} port {p.port} -> {p.target}: "
                  f"{'open' if p.open.is_set() else 'CUT'}, {len(p.pipes)} relayed pairs")
        ports = {str(p.port) for p in self.proxies.values()} | \
                {str(p.target) for p in self.proxies.values()}
        out = subprocess.run(["ss", "-tanpi"], capture_output=True, text=True).stdout
        for ln in out.splitlines():
            if any(f":{port} " in ln for port in ports):
                print("   ", ln.strip())

    def verdicts(self):
        """The handshakes that ended in a split brain or unrelated data."""
        return [f"{n.name}: {ln.strip()}" for n in self.c.nodes for ln in open(n.log)
                if re.search(r"uuid_compare\(\)=(split-brain|unrelated)", ln)]

    # -- workload --
    def start_workload(self):
        e = Epoch(len(self.epochs), self.primary,
                  os.path.join(self.c.dir, f"workload-{len(self.epochs)}.log"))
        self.epochs.append(e)
        self.stop_file = e.log + ".stop"
        p = self.primary
        self.worker = subprocess.Popen(
            PY + [os.path.abspath(__file__), "worker",
                  ",".join(p.uri(self.minor + v) for v in range(self.volumes)), str(self.seed),
                  str(e.number), str(self.args.rate), e.log, self.stop_file],
            env=p.env(), stdout=subprocess.DEVNULL, stderr=open(e.log + ".err", "w"))

    def acked_now(self):
        e = self.epochs[-1]
        try:
            return open(e.log).read().count("\nA ")
        except OSError:
            return 0

    def expect_workload_alive(self, what):
        if self.worker.poll() is not None:
            e = self.epochs[-1]
            raise Failure(f"{what}: the workload on {e.node.name} ended "
                          f"(exit {self.worker.returncode}): {open(e.log + '.err').read()[-2000:]}")

    def stop_workload(self):
        open(self.stop_file, "w").close()
        try:
            rc = self.worker.wait(60)
        except subprocess.TimeoutExpired:
            self.worker.kill()
            raise Failure("the workload did not stop within 60 s (writes hang)")
        e = self.epochs[-1].parse()
        expect(rc == 0 and e.finished, f"the workload on {e.node.name} failed (exit {rc}): "
               f"{open(e.log + '.err').read()[-2000:]}")

    def workload_died(self):
        """After its Primary was killed: the worker ends on the error."""
        try:
            self.worker.wait(30)
        except subprocess.TimeoutExpired:
            self.worker.kill()
            self.worker.wait()
        return self.epochs[-1].parse()

    # -- faults --
    def f_kill_secondary(self):
        victims = self.secondaries()
        if self.rnd.random() < 0.7:
            victims = [self.rnd.choice(victims)]
        away = self.rnd.uniform(0.5, 5)
        self.note(f"kill-secondary {' '.join(v.name for v in victims)}, restart after {away:.1f}s")
        for v in victims:
            self.kill(v)
        time.sleep(away)
        for v in victims:
            self.restart(v)

    def f_kill_primary(self):
        old = self.primary
        survivors = self.secondaries()
        new = self.rnd.choice(survivors)
        away = self.rnd.uniform(1, 5)
        self.note(f"kill-primary {old.name}, fail over to {new.name}, restart {old.name} after "
                  f"{away:.1f}s")
        # Only a survivor connected at the kill has every acknowledged write
        # (no fencing here): a spurious disconnect just before would make
        # the failover itself lose writes. Its log shows that connection
        # end after the kill.
        marks = {s.name: os.path.getsize(s.log) for s in survivors}
        self.kill(old)
        e = self.workload_died()
        self.note(f"  epoch {e.number}: {len(e.acked)} writes acknowledged, "
                  f"{len(e.pending)} in flight at the kill")
        current = []
        for s in survivors:
            self.c.wait(f"{s.name} lost {old.name}",
                        lambda s=s: conn_state(s, RES, old.name) != "Connected")
            with open(s.log, "rb") as f:
                f.seek(marks[s.name])
                if f" {old.name}: conn( Connected -> ".encode() not in f.read():
                    continue
            # UpToDate, or soon: the survivors' reconciliation resync
            # (writes in flight at the kill that reached only the other
            # survivor) makes one of them a SyncTarget for a moment, as in
            # DRBD 9. Sampled at once, that moment failed the soak (seed
            # 0xbc09dbd5, where two reconnects stretched it).
            for v in range(self.volumes):
                self.c.wait(f"survivor {s.name} volume {v} UpToDate after the Primary's crash",
                            lambda s=s, v=v: disk_state(s, RES, v) == "UpToDate",
                            timeout=SYNC_TIMEOUT)
            current.append(s)
        if not current:
            self.note(f"  no survivor was connected at the kill: {old.name} stays Primary")
            time.sleep(away)
            self.restart(old)
            old.adm("primary", RES)
            self.start_workload()
            return
        if new not in current:
            new = current[0]
            self.note(f"  {new.name} takes over instead (the other was not connected)")
        new.adm("primary", RES)
        self.primary = new
        self.start_workload()
        time.sleep(away)
        self.restart(old)

    def cut_for_a_while(self, what, links):
        """Cuts LINKS for 0.3 to 8 s (drawn from the seed), noted as WHAT."""
        t = self.rnd.choice([self.rnd.uniform(0.3, 1.5), self.rnd.uniform(1.5, 8)])
        self.note(f"{what} for {t:.1f}s")
        for p in links:
            p.cut()
        time.sleep(t)
        for p in links:
            p.heal()

    def f_partition_node(self):
        v = self.rnd.choice(self.c.nodes)
        self.cut_for_a_while(
            f"partition-node {v.name}{' (Primary)' if v is self.primary else ''}", self.links(v))

    def f_partition_link(self):
        x, y = self.rnd.sample(self.c.nodes, 2)
        self.cut_for_a_while(f"partition-link {x.name}-{y.name}",
                             [self.proxies[(x.name, y.name)], self.proxies[(y.name, x.name)]])

    def f_reset_links(self):
        v = self.rnd.choice(self.c.nodes)
        self.note(f"reset-links of {v.name}")
        for p in self.links(v):
            p.reset()

    def f_pause(self):
        v = self.rnd.choice(self.c.nodes)
        t = self.rnd.uniform(0.3, 4)
        self.note(f"pause {v.name} for {t:.1f}s")
        v.proc.send_signal(signal.SIGSTOP)
        self.stopped.add(v)
        time.sleep(t)
        v.proc.send_signal(signal.SIGCONT)
        self.stopped.discard(v)

    FAULTS = [("kill-secondary", f_kill_secondary, 3), ("kill-primary", f_kill_primary, 2),
              ("partition-node", f_partition_node, 3), ("partition-link", f_partition_link, 2),
              ("reset-links", f_reset_links, 1), ("pause", f_pause, 1)]

    # -- checks --
    def verify(self, what, nbd_too=False):
        """Workload stopped, cluster in sync: every node's data area is the
        model of the writes, and all are identical."""
        c = self.c
        for v in range(self.volumes):
            size = res_stats(self.primary, RES)["devices"][v]["size"] * KiB
            model, alts = build_model(self.seed, self.epochs, size, v)
            images = {}
            for n in c.nodes:
                with open(n.disks[v], "rb") as f:
                    images[f"{n.name}/{v}"] = f.read(size)
            if nbd_too:
                back = os.path.join(c.dir, "readback")
                uri = self.primary.uri(self.minor + v)
                self.primary.run_cmd(PY + ["-m", "nbd", "-u", uri, "-c",
                                           f"f = open({back!r}, 'wb')\n"
                                           f"for o in range(0, {size}, 4 << 20):\n"
                                           f"    f.write(h.pread(min(4 << 20, {size} - o), o))\n"])
                with open(back, "rb") as f:
                    images[f"{self.primary.name}/{v} (NBD)"] = f.read()
            for name, img in images.items():
                bad = mismatches(img, model, alts)
                expect(not bad, f"{what}: {name}'s data differs from the acknowledged writes "
                       f"(offset, expected, found): {bad}")
            sums = {name: hashlib.sha256(img).hexdigest()[:16] for name, img in images.items()}
            expect(len(set(sums.values())) == 1, f"{what}: the replicas differ: {sums}")
        acked = sum(len(e.acked) for e in self.epochs)
        self.note(f"{what}: {acked} acknowledged writes in {len(self.epochs)} epochs verified on "
                  f"{len(images) * self.volumes} images ({len(alts)} sectors of volume "
                  f"{self.volumes - 1} by writes in flight at a kill either way)")
        return acked

    def resyncs(self):
        """(KiB resynced, resyncs, full resyncs) from the SyncSources' logs."""
        total = count = full = 0
        size = res_stats(self.primary, RES)["devices"][0]["size"]
        for n in self.c.nodes:
            for m in re.finditer(r"Began resync as SyncSource \(will sync (\d+) KB",
                                 open(n.log).read()):
                total += int(m.group(1))
                count += 1
                full += int(m.group(1)) >= size
        return total, count, full

    # -- the run --
    def run(self):
        self.bring_up()
        self.start_workload()
        chosen = [f for f in self.FAULTS
                  if not self.args.faults or f[0] in self.args.faults.split(",")]
        expect(chosen, f"--faults names none of {[f[0] for f in self.FAULTS]}")
        names = [f[0] for f in chosen]
        weights = [f[2] for f in chosen]
        end = self.t0 + self.args.duration
        done = 0
        while time.time() < end:
            time.sleep(self.rnd.uniform(0.5, 2))  # the workload alone
            kind = self.rnd.choices(names, weights)[0]
            fn = next(f[1] for f in self.FAULTS if f[0] == kind)
            before = self.acked_now()
            fn(self)
            self.wait_in_sync(f"after {kind}")
            self.expect_workload_alive(f"after {kind}")
            self.counts[kind] = self.counts.get(kind, 0) + 1
            done += 1
            self.note(f"  healed, in sync; {self.acked_now() - before} writes acknowledged "
                      f"meanwhile on {self.primary.name}" if kind != "kill-primary" else
                      "  healed, in sync")
            sb = self.verdicts()
            expect(not sb, f"split brain or unrelated data after {kind}: {sb[:4]}")
            if done % 4 == 0:
                self.stop_workload()
                self.wait_in_sync("checkpoint")
                self.verify(f"checkpoint {done // 4}")
                self.start_workload()
        self.stop_workload()
        self.wait_in_sync("the end")
        acked = self.verify("final", nbd_too=True)
        written = sum(n for e in self.epochs for _, _, _, n in e.acked)
        kb, count, full = self.resyncs()
        print(f"  soak: {time.time() - self.t0:.0f}s, {done} faults "
              f"({', '.join(f'{k} {v}' for k, v in sorted(self.counts.items()))}); "
              f"{acked} acknowledged writes ({written / (1 << 20):.1f} MiB) verified on "
              f"{len(self.c.nodes)} replicas; {count} resyncs ({full} of them full), {kb} KiB",
              flush=True)

    def close(self):
        for v in list(self.stopped):
            v.proc.send_signal(signal.SIGCONT)
        if self.worker and self.worker.poll() is None:
            self.worker.kill()
            self.worker.wait()
        for p in self.proxies.values():
            p.close()


def test_seed(args):
    env = os.environ.get("DRBD_TEST_SEED")
    if args.seed is not None:
        return int(args.seed, 0)
    return int(env, 0) if env else random.SystemRandom().randrange(1 << 32)


def t_soak(args):
    seed = test_seed(args)
    print(f"soak: seed {seed:#x}, {args.nodes} nodes, {args.volumes} volume(s), "
          f"{args.duration}s, {args.rate} writes/s",
          flush=True)
    with Cluster(args, ["alpha", "beta", "gamma"][:args.nodes]) as c:
        s = Soak(args, c, seed)
        try:
            s.run()
        except BaseException:
            c.keep = True
            print(f"soak FAILED with seed {seed:#x}; {s.repro()}\nfault log:\n  " +
                  "\n  ".join(s.faults) + f"\nnode and workload logs kept in {c.dir}", flush=True)
            raise
        finally:
            s.close()


def add_args(ap):
    ap.add_argument("--duration", type=float, default=600, help="seconds of faults (600)")
    ap.add_argument("--rate", type=float, default=25, help="workload writes a second (25)")
    ap.add_argument("--seed", default=None, help="the fault schedule's seed (DRBD_TEST_SEED)")
    ap.add_argument("--volumes", type=int, default=1, choices=(1, 2), help="volumes (1)")
    ap.add_argument("--nodes", type=int, default=3, choices=(2, 3), help="cluster size (3)")
    ap.add_argument("--faults", default="", help="comma-separated fault kinds to draw from "
                    "(default all)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        sys.exit(worker(sys.argv[2:]))
    from simd_nbd import libnbd_python  # noqa: PLC0415
    sys.exit(main(__doc__, [t_soak], check=lambda: libnbd_python(PY), add_args=add_args))
