#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""drbd-simd data-path benchmarks against baselines measured in the same
run (issue #5). A two-node drbd-simd cluster on loopback (alpha Primary,
beta Secondary, r0 brought up with our drbdadm) and, beside it, plain
files in the same directory:

  throughput  1 MiB sequential writes through alpha's NBD export (Unix
              socket, libnbd), protocol C one at a time and --qd (8) in
              flight, protocol A with --qd in flight, ended by a flush;
              baseline: the same writes to two local files, then fdatasync
              of both.
  latency     4 KiB writes with FUA through the export (protocol C), one at
              a time over the first 16 MiB (written once before): p50 /
              p99; baseline: 4 KiB pwrite + fdatasync over a 16 MiB local
              file written once before, alternating with the NBD writes.
              Measured twice: with the CPUs as they are, and with a nice-19
              busy loop per CPU (Spinners) so that neither side pays a
              halted vCPU's wake-up (milliseconds in a VM) instead of its
              flush.
  resync      a full sync (invalidate-remote) of the whole device, fixed
              rate (c-plan-ahead 0, resync-rate 8 GiB/s) and the dynamic
              controller (c-plan-ahead 20, c-max-rate 4 GiB/s), timed from
              the request to beta UpToDate (seen on beta's events2 stream);
              baseline: the same bytes copied from one file to another
              over a loopback TCP socket.

Throughput and resync lines also give the CPU time (user + system) both
drbd-simd daemons used per GiB, which the machine's load disturbs less
than wall-clock speed.

Prints one line per measurement and the ratios issue #5 sets goals for
(protocol C >= 0.8x the two-file writes, 4 KiB p50 <= 1.5x a local
fdatasync, resync >= 0.8x the copy). Never asserts on times.

Run: bench/simd_datapath.py --bindir build/bin [--dir /dev/shm] [--mib 256]
     [--quick] [--only throughput,latency,resync]
Needs python3-libnbd (import nbd); exit 77 (skip) without it.
"""

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from simd_harness import SKIP, TOOLS, Cluster, MiB, disk_state, wait_connected  # noqa: E402

try:
    import nbd
except ImportError:
    nbd = None
    # Debian's python3-libnbd lives in the system python, which need not be
    # the first python3 on PATH.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.access("/usr/bin/python3", os.X_OK) and "DRBD_BENCH_REEXEC" not in os.environ:
        os.environ["DRBD_BENCH_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)

CHUNK = MiB


def payload(n):
    """n bytes that do not compress or repeat within a MiB."""
    return os.urandom(n)


# ---- the cluster -------------------------------------------------------------------

def up(args, protocol="C", disk_opts="", size_mib=None):
    """A two-node cluster with r0 up, both UpToDate, alpha Primary."""
    c = Cluster(args, ["alpha", "beta"])
    size = size_mib or args.mib + 16  # room for internal metadata
    for n in c.nodes:
        c.image(n, 0, size_mb=size)
    c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"],
                     "net": f"protocol {protocol};", "disk": disk_opts}])
    c.start()
    a, b = c.nodes
    for n in c.nodes:
        n.adm("create-md", "--force", "r0")
    for n in c.nodes:
        n.adm("up", "r0")
    wait_connected(c, "r0")
    a.adm("new-current-uuid", "--clear-bitmap", "r0/0")
    c.wait("both UpToDate", lambda: disk_state(a, "r0") == "UpToDate"
           and disk_state(b, "r0") == "UpToDate")
    a.adm("primary", "r0")
    return c


def cpu_seconds(cluster):
    """User + system CPU seconds the cluster's drbd-simd daemons used so far."""
    total = 0
    for n in cluster.nodes:
        with open(f"/proc/{n.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def connect(node):
    h = nbd.NBD()
    h.connect_uri(node.uri())
    return h


# ---- measurements ------------------------------------------------------------------

def write_sequential(h, buf, count, qd):
    """count writes of buf at consecutive offsets, qd of them in flight."""
    if qd <= 1:
        for i in range(count):
            h.pwrite(buf, i * len(buf))
        return
    b = nbd.Buffer.from_bytearray(bytearray(buf))
    pending = []
    i = 0
    while i < count or pending:
        while i < count and len(pending) < qd:
            pending.append(h.aio_pwrite(b, i * len(buf)))
            i += 1
        h.poll(-1)
        pending = [c for c in pending if not h.aio_command_completed(c)]


def nbd_throughput(args, protocol, qd):
    with up(args, protocol) as c:
        h = connect(c.nodes[0])
        buf = payload(CHUNK)
        cpu0 = cpu_seconds(c)
        t0 = time.perf_counter()
        write_sequential(h, buf, args.mib, qd)
        h.flush()
        dt = time.perf_counter() - t0
        cpu = cpu_seconds(c) - cpu0
        h.shutdown()
        return args.mib * CHUNK / dt / MiB, cpu / (args.mib / 1024)


def two_file_throughput(args):
    d = tempfile.mkdtemp(prefix="drbd-cp-bench-", dir=args.dir)
    paths = [os.path.join(d, f"f{i}") for i in range(2)]
    fds = [os.open(p, os.O_RDWR | os.O_CREAT, 0o600) for p in paths]
    try:
        buf = payload(CHUNK)
        t0 = time.perf_counter()
        for i in range(args.mib):
            for fd in fds:
                os.pwrite(fd, buf, i * CHUNK)
        for fd in fds:
            os.fdatasync(fd)
        dt = time.perf_counter() - t0
        return args.mib * CHUNK / dt / MiB
    finally:
        for fd in fds:
            os.close(fd)
        for p in paths:
            os.unlink(p)
        os.rmdir(d)


def percentiles(samples):
    s = sorted(samples)
    return s[len(s) // 2], s[min(len(s) - 1, int(len(s) * 0.99))]


class Spinners:
    """One busy loop per CPU at nice 19 while in the `with` block. In a VM
    an idle vCPU halts, and waking it when a flush completes costs
    milliseconds (here a lone pwrite + fdatasync takes ~3.5 ms with the
    CPUs idle and ~0.15 ms with them kept busy). Spinners keep every vCPU
    running, so that both sides of the latency comparison pay for the
    flush and not for the wake-up; nice 19 leaves the CPU to the bench
    and the daemons whenever they run."""

    def __enter__(self):
        code = "import os\nos.nice(19)\nwhile True: pass\n"
        self.procs = [subprocess.Popen([sys.executable, "-c", code])
                      for _ in range(os.cpu_count() or 1)]
        time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


def latency(args, spin=False):
    """p50/p99 of 4 KiB pwrite + fdatasync of a local file and of 4 KiB FUA
    writes through the export, alternating one and the other so that the
    shared machine's load hits both alike; with `spin`, inside Spinners."""
    d = tempfile.mkdtemp(prefix="drbd-cp-bench-", dir=args.dir)
    path = os.path.join(d, "f")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with up(args, "C", size_mib=64) as c:
            h = connect(c.nodes[0])
            # Overwrites on both sides, not first writes (block allocation).
            h.pwrite(payload(16 * MiB), 0)
            h.flush()
            os.pwrite(fd, payload(16 * MiB), 0)
            os.fdatasync(fd)
            buf = payload(4096)
            local, remote = [], []
            with Spinners() if spin else contextlib.nullcontext():
                for i in range(args.ops):
                    off = (i % 4096) * 4096
                    t0 = time.perf_counter()
                    os.pwrite(fd, buf, off)
                    os.fdatasync(fd)
                    t1 = time.perf_counter()
                    h.pwrite(buf, off, nbd.CMD_FLAG_FUA)
                    t2 = time.perf_counter()
                    local.append(t1 - t0)
                    remote.append(t2 - t1)
            h.shutdown()
        return percentiles(local), percentiles(remote)
    finally:
        os.close(fd)
        os.unlink(path)
        os.rmdir(d)


def resync(args, disk_opts):
    """Seconds and bytes of a full sync of the whole device."""
    with up(args, "C", disk_opts=disk_opts) as c:
        a, b = c.nodes
        h = connect(a)  # data to sync: not zeroes
        buf = payload(CHUNK)
        for i in range(args.mib):
            h.pwrite(buf, i * CHUNK)
        h.flush()
        size = h.get_size()
        h.shutdown()
        # The end is seen on beta's events2 stream (one process, woken by
        # the event), not by polling status (a process spawned every few
        # ms would load the two CPUs the daemons run on).
        ev = subprocess.Popen([c.bin("drbdsetup"), "events2", "r0"], env=b.env(),
                              stdout=subprocess.PIPE, text=True)
        try:
            for line in ev.stdout:  # the initial state, up to the "exists -" line
                if line.startswith("exists -"):
                    break
            cpu0 = cpu_seconds(c)
            t0 = time.perf_counter()
            a.adm("invalidate-remote", "r0")
            timer = threading.Timer(600, ev.kill)
            timer.start()
            synced = False
            for line in ev.stdout:
                if line.startswith("change device ") and " disk:Inconsistent" in line:
                    synced = True
                elif synced and line.startswith("change device ") and " disk:UpToDate" in line:
                    break
            else:
                raise RuntimeError("resync did not finish in 600 s")
            dt = time.perf_counter() - t0
            timer.cancel()
        finally:
            ev.kill()
            ev.wait()
        return size, dt, (cpu_seconds(c) - cpu0) / (size / (1 << 30))


def tcp_copy(args, nbytes):
    """Copies nbytes from one file to another through a loopback TCP socket
    (reader thread -> sendall; receiver -> pwrite); seconds."""
    d = tempfile.mkdtemp(prefix="drbd-cp-bench-", dir=args.dir)
    src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
    with open(src, "wb") as f:
        buf = payload(CHUNK)
        for _ in range(nbytes // CHUNK):
            f.write(buf)
        f.write(buf[:nbytes % CHUNK])
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def send():
        with socket.create_connection(srv.getsockname()) as s, open(src, "rb") as f:
            while True:
                chunk = f.read(CHUNK)
                if not chunk:
                    break
                s.sendall(chunk)

    try:
        t0 = time.perf_counter()
        th = threading.Thread(target=send)
        th.start()
        conn, _ = srv.accept()
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT, 0o600)
        off = 0
        mv = memoryview(bytearray(CHUNK))
        while True:
            n = conn.recv_into(mv)
            if n == 0:
                break
            os.pwrite(fd, mv[:n], off)
            off += n
        os.close(fd)
        conn.close()
        th.join()
        dt = time.perf_counter() - t0
        assert off == nbytes, (off, nbytes)
        return dt
    finally:
        srv.close()
        for p in (src, dst):
            if os.path.exists(p):
                os.unlink(p)
        os.rmdir(d)


# ---- main --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--dir", default=tempfile.gettempdir(),
                    help="where clusters and baseline files live (disk or tmpfs)")
    ap.add_argument("--mib", type=int, default=256, help="MiB written / synced")
    ap.add_argument("--ops", type=int, default=2000, help="4 KiB writes for latency")
    ap.add_argument("--qd", type=int, default=8, help="1 MiB writes in flight (throughput)")
    ap.add_argument("--only", default="throughput,latency,resync")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each measurement; the best is printed")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 16 MiB, 200 writes, one run")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.mib, args.ops, args.repeat = 16, 200, 1
    for tool in TOOLS:
        if not os.access(os.path.join(args.bindir, tool), os.X_OK):
            print(f"SKIP: {tool} not built in {args.bindir}")
            return SKIP
    if nbd is None:
        print("SKIP: python3-libnbd (import nbd) is missing")
        return SKIP
    os.environ["TMPDIR"] = args.dir  # the clusters' directories
    tempfile.tempdir = args.dir
    only = args.only.split(",")
    print(f"# dir {args.dir}; {args.mib} MiB; {args.ops} 4 KiB writes; best of {args.repeat}; "
          f"loadavg {os.getloadavg()[0]:.2f}")
    def best(fn, *a, key=max):
        return key(fn(*a) for _ in range(args.repeat))

    if "throughput" in only:
        base = best(two_file_throughput, args)
        c1, c1cpu = best(nbd_throughput, args, "C", 1)
        c, ccpu = best(nbd_throughput, args, "C", args.qd)
        a, acpu = best(nbd_throughput, args, "A", args.qd)
        print(f"throughput two-files         {base:8.1f} MiB/s")
        print(f"throughput protocol-C qd1    {c1:8.1f} MiB/s  {c1 / base:.2f}x"
              f"  daemons' CPU {c1cpu:.2f} s/GiB")
        print(f"throughput protocol-C qd{args.qd:<4} {c:8.1f} MiB/s  {c / base:.2f}x  (goal >= 0.8x)"
              f"  daemons' CPU {ccpu:.2f} s/GiB")
        print(f"throughput protocol-A qd{args.qd:<4} {a:8.1f} MiB/s  {a / base:.2f}x"
              f"  daemons' CPU {acpu:.2f} s/GiB")
    if "latency" in only:
        # The run with the lowest NBD p50 (its baseline from the same run);
        # CPUs left idle, then kept busy by Spinners (the like-for-like one).
        for spin, what in ((False, "cpus-idle"), (True, "cpus-busy")):
            (lp50, lp99), (np50, np99) = best(latency, args, spin,
                                              key=lambda r: min(r, key=lambda x: x[1]))
            print(f"latency {what} local-fdatasync p50 {lp50 * 1e6:8.0f} us"
                  f"  p99 {lp99 * 1e6:8.0f} us")
            print(f"latency {what} nbd-fua-C       p50 {np50 * 1e6:8.0f} us"
                  f"  p99 {np99 * 1e6:8.0f} us  p50 {np50 / lp50:.2f}x  (goal <= 1.5x)")
    if "resync" in only:
        # Same size each run: the least time wins.
        size, fixed, fcpu = best(resync, args, "c-plan-ahead 0; resync-rate 8G;", key=min)
        _, dyn, dcpu = best(resync, args, "c-plan-ahead 20; c-max-rate 4G;", key=min)
        copy = best(tcp_copy, args, size, key=min)
        mib = size / MiB
        print(f"resync tcp-copy         {mib / copy:8.1f} MiB/s  ({mib:.0f} MiB in {copy:.2f} s)")
        print(f"resync fixed-rate       {mib / fixed:8.1f} MiB/s  {copy / fixed:.2f}x  (goal >= 0.8x)"
              f"  daemons' CPU {fcpu:.2f} s/GiB")
        print(f"resync dynamic          {mib / dyn:8.1f} MiB/s  {copy / dyn:.2f}x"
              f"  daemons' CPU {dcpu:.2f} s/GiB")
    print(f"# loadavg after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
