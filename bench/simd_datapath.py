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
              of both. Both sides write new files (sparse backing files,
              blocks allocated by the writes); "overwrite" rows repeat
              protocol C and the baseline over files written in full
              before (as a block device or an LV is: no allocation).
  latency     4 KiB writes with FUA through the export (protocol C), one at
              a time over the first 16 MiB (written once before): p50 /
              p99; baseline: 4 KiB pwrite + fdatasync over a 16 MiB local
              file written once before, alternating with the NBD writes.
              Measured twice: with the CPUs as they are, and with a nice-19
              busy loop per CPU (Spinners) so that neither side pays a
              halted vCPU's wake-up (milliseconds in a VM) instead of its
              flush. Then, with the peer disconnected, 4 KiB writes with
              and without FUA through the export: what the NBD round trip
              and the engine cost without replication.
  resync      a full sync (invalidate-remote) of the whole device, fixed
              rate (c-plan-ahead 0, resync-rate 8 GiB/s) and the dynamic
              controller (c-plan-ahead 20, c-max-rate 4 GiB/s), timed from
              the request to beta UpToDate (seen on beta's events2 stream);
              baseline: the same bytes copied from one file to another
              over a loopback TCP socket.

Layouts (--layouts, each measured in the same run, one after the other):
  same   both nodes' backing files, and both baseline files, in --dir (one
         device: here one virtio disk, where two concurrent fdatasyncs
         take 1.6-1.7x one, so the two nodes' flushes collide as no two
         real nodes' would)
  tmpfs  beta's backing file, the two-file baseline's second file and the
         TCP copy's destination on tmpfs (/dev/shm): a second device whose
         fdatasync is free (~2 us)
  loop   the same on ext4 on a loop device backed by a file in /dev/shm (a
         second block device with its own queue, journal and flushes, but a
         RAM-fast one); needs root (losetup, mkfs.ext4, mount)
alpha's backing file, the latency baseline's file and the TCP copy's
source stay in --dir in every layout, so the comparison stays like for
like: each side of it writes the same devices.

Throughput and resync lines also give the CPU time (user + system) both
drbd-simd daemons used per GiB, which the machine's load disturbs less
than wall-clock speed.

Prints one line per measurement and the ratios issue #5 sets goals for
(protocol C >= 0.8x the two-file writes, 4 KiB p50 <= 1.5x a local
fdatasync, resync >= 0.8x the copy). Never asserts on times.

Run: bench/simd_datapath.py --bindir build/bin [--dir /dev/shm] [--mib 256]
     [--quick] [--only throughput,latency,resync] [--layouts same,tmpfs,loop]
Needs python3-libnbd (import nbd); exit 77 (skip) without it.
"""

import argparse
import contextlib
import mmap
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

class PeerImage:
    """beta's backing file in args.peer_dir (the layout's second device), as
    a symlink from the cluster's directory, where the harness looks for it;
    removed with the cluster."""

    def __init__(self, args, cluster):
        self.path = None
        if args.peer_dir != args.dir:
            fd, self.path = tempfile.mkstemp(prefix="drbd-cp-bench-beta-", dir=args.peer_dir)
            os.close(fd)
            os.symlink(self.path, os.path.join(cluster.dir, "beta-v0.img"))

    def remove(self):
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)


class BenchCluster(Cluster):
    def __init__(self, args, names):
        super().__init__(args, names)
        self.peer_image = PeerImage(args, self)

    def stop(self):
        super().stop()
        self.peer_image.remove()


def fill(path, mib):
    """Writes mib MiB of zeroes over path, makes them durable and drops
    them from the page cache: later writes overwrite allocated blocks, as
    on a block device or an LV."""
    with open(path, "r+b" if os.path.exists(path) else "wb") as f:
        zero = bytes(CHUNK)
        for _ in range(mib):
            f.write(zero)
        f.flush()
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def up(args, protocol="C", disk_opts="", size_mib=None, overwrite=False):
    """A two-node cluster with r0 up, both UpToDate, alpha Primary; beta's
    backing file on the layout's device (args.peer_dir). With `overwrite`
    both backing files are written in full first (fill)."""
    c = BenchCluster(args, ["alpha", "beta"])
    size = size_mib or args.mib + 16  # room for internal metadata
    for n in c.nodes:
        path = os.path.join(c.dir, f"{n.name}-v0.img")
        if os.path.islink(path):  # on the second device: sized here
            os.truncate(path, size << 20)
        c.image(n, 0, size_mb=size)
        if overwrite:
            fill(os.path.realpath(path), size)
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


def nbd_throughput(args, protocol, qd, overwrite=False):
    with up(args, protocol, overwrite=overwrite) as c:
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


def two_file_throughput(args, overwrite=False):
    """The first file in --dir, the second on the layout's peer device;
    with `overwrite` both written in full first (fill)."""
    d = tempfile.mkdtemp(prefix="drbd-cp-bench-", dir=args.dir)
    d2 = tempfile.mkdtemp(prefix="drbd-cp-bench-", dir=args.peer_dir)
    paths = [os.path.join(d, "f0"), os.path.join(d2, "f1")]
    if overwrite:
        for p in paths:
            fill(p, args.mib)
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
        os.rmdir(d2)


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
    shared machine's load hits both alike; with `spin`, inside Spinners.
    Then the same with the peer disconnected (alpha writes alone), and
    4 KiB writes without FUA alone: what the NBD round trip and the
    engine cost without replication, and without a flush at all.
    Returns percentiles of (local, protocol C, local, alone FUA, alone)."""
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
            series = [[] for _ in range(5)]

            def local(i):
                os.pwrite(fd, buf, (i % 4096) * 4096)
                os.fdatasync(fd)

            def nbd_write(flags):
                return lambda i: h.pwrite(buf, (i % 4096) * 4096, flags)

            with Spinners() if spin else contextlib.nullcontext():
                for phase in ((0, local), (1, nbd_write(nbd.CMD_FLAG_FUA))), \
                             ((2, local), (3, nbd_write(nbd.CMD_FLAG_FUA)), (4, nbd_write(0))):
                    if phase[0][0] == 2:  # alone: the peer disconnected
                        c.nodes[0].adm("disconnect", "r0")
                        h.pwrite(buf, 0, nbd.CMD_FLAG_FUA)  # the new current UUID
                    for i in range(args.ops):
                        for k, op in phase:
                            t0 = time.perf_counter()
                            op(i)
                            series[k].append(time.perf_counter() - t0)
            h.shutdown()
        return [percentiles(s) for s in series]
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


def write_direct(path, nbytes):
    """Writes nbytes of payload to a new file at path with O_DIRECT, as
    drbd-simd writes alpha's backing file (never in the page cache, so a
    reader allocates fresh page-cache pages, as the resync source does;
    evicting pages written through the cache instead hands the reader the
    pages just freed, which in a VM whose memory the host backs on first
    touch is several times cheaper). False where the file system refuses
    O_DIRECT or nbytes is not a multiple of 4 KiB (then nothing is left)."""
    if nbytes % 4096:
        return False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o600)
    except OSError:
        return False
    try:
        buf = mmap.mmap(-1, CHUNK)  # page-aligned
        buf.write(payload(CHUNK))
        off = 0
        while off < nbytes:
            n = min(CHUNK, nbytes - off)
            if os.pwritev(fd, [memoryview(buf)[:n]], off) != n:
                raise OSError("short O_DIRECT write")
            off += n
        os.fsync(fd)
        return True
    except OSError:
        os.unlink(path)
        return False
    finally:
        os.close(fd)


def tcp_copy(args, nbytes, cold=True):
    """Copies nbytes from one file to another through a loopback TCP socket
    (reader thread -> sendall; receiver -> pwrite); seconds. The source in
    --dir (alpha's device), the destination on the peer's. With `cold` the
    source is read from its device, as the resync reads alpha's backing
    file: drbd-simd writes large requests with O_DIRECT (as the module's
    bios bypass the page cache), so none of it is cached, and the source
    file is written the same way (write_direct); without, from the page
    cache it was just written to."""
    d = tempfile.mkdtemp(prefix="drbd-cp-bench-", dir=args.dir)
    d2 = tempfile.mkdtemp(prefix="drbd-cp-bench-", dir=args.peer_dir)
    src, dst = os.path.join(d, "src"), os.path.join(d2, "dst")
    if not (cold and write_direct(src, nbytes)):
        with open(src, "wb") as f:
            buf = payload(CHUNK)
            for _ in range(nbytes // CHUNK):
                f.write(buf)
            f.write(buf[:nbytes % CHUNK])
            if cold:
                f.flush()
                os.fsync(f.fileno())
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
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
        os.rmdir(d2)


# ---- layouts ----------------------------------------------------------------------

@contextlib.contextmanager
def loop_device(mib):
    """ext4 on a loop device backed by a file in /dev/shm, mounted on a
    fresh directory; yields the mount point. Needs root."""
    img = tempfile.mktemp(prefix="drbd-cp-bench-loop-", suffix=".img", dir="/dev/shm")
    mnt = tempfile.mkdtemp(prefix="drbd-cp-bench-loop-")
    dev = None
    mounted = False
    try:
        with open(img, "wb") as f:
            f.truncate(mib << 20)
        dev = subprocess.run(["losetup", "--find", "--show", img], check=True,
                             capture_output=True, text=True).stdout.strip()
        subprocess.run(["mkfs.ext4", "-q", "-F", dev], check=True)
        subprocess.run(["mount", dev, mnt], check=True)
        mounted = True
        yield mnt
    finally:
        if mounted:
            subprocess.run(["umount", mnt], check=False)
        if dev:
            subprocess.run(["losetup", "--detach", dev], check=False)
        os.rmdir(mnt)
        if os.path.exists(img):
            os.unlink(img)


@contextlib.contextmanager
def layout_dir(args, layout):
    """The directory for beta's backing file and the baselines' second
    files in `layout` (see the module's doc)."""
    if layout == "same":
        yield args.dir
    elif layout == "tmpfs":
        yield "/dev/shm"
    elif layout == "loop":
        # beta's image, or a baseline's second file, one at a time.
        with loop_device(2 * args.mib + 256) as mnt:
            yield mnt
    else:
        raise ValueError(f"unknown layout {layout}")


def device_of(path):
    """`df` name of the file system holding `path`."""
    out = subprocess.run(["df", "--output=source,fstype", path], capture_output=True,
                         text=True).stdout.split("\n")
    return " ".join(out[1].split()) if len(out) > 1 else "?"


# ---- main --------------------------------------------------------------------------

def measure(args, only):
    """The sections in `only` for the current layout (args.peer_dir): a
    list of (measurement, figure) rows."""
    rows = []

    def best(fn, *a, key=max):
        return key(fn(*a) for _ in range(args.repeat))

    if "throughput" in only:
        base = best(two_file_throughput, args)
        c1, c1cpu = best(nbd_throughput, args, "C", 1)
        c, ccpu = best(nbd_throughput, args, "C", args.qd)
        a, acpu = best(nbd_throughput, args, "A", args.qd)
        obase = best(two_file_throughput, args, True)
        oc, occpu = best(nbd_throughput, args, "C", args.qd, True)
        rows += [
            ("two files, 1 MiB writes + fdatasync", f"{base:.0f} MiB/s"),
            ("protocol C, qd1", f"{c1 / base:.2f}x ({c1:.0f} MiB/s, {c1cpu:.1f} s/GiB)"),
            (f"protocol C, qd{args.qd} (goal >= 0.8x)",
             f"{c / base:.2f}x ({c:.0f} MiB/s, {ccpu:.1f} s/GiB)"),
            (f"protocol A, qd{args.qd}", f"{a / base:.2f}x ({a:.0f} MiB/s, {acpu:.1f} s/GiB)"),
            ("overwrite: two files, 1 MiB writes + fdatasync", f"{obase:.0f} MiB/s"),
            (f"overwrite: protocol C, qd{args.qd}",
             f"{oc / obase:.2f}x ({oc:.0f} MiB/s, {occpu:.1f} s/GiB)"),
        ]
    if "latency" in only:
        # The run with the lowest NBD p50 (its baseline from the same run);
        # CPUs left idle, then kept busy by Spinners (the like-for-like one).
        for spin, what in ((False, "idle"), (True, "busy")):
            runs = [latency(args, spin) for _ in range(args.repeat)]
            (lp50, lp99), (np50, np99), (l2p50, _), (ap50, ap99), (wp50, wp99) = \
                min(runs, key=lambda r: r[1][0])
            rows += [
                (f"{what}: local 4 KiB pwrite + fdatasync p50 / p99",
                 f"{lp50 * 1e6:.0f} / {lp99 * 1e6:.0f} us"),
                (f"{what}: NBD 4 KiB FUA, protocol C p50 / p99 (goal p50 <= 1.5x)",
                 f"{np50 * 1e6:.0f} / {np99 * 1e6:.0f} us, {np50 / lp50:.2f}x"),
                (f"{what}: NBD 4 KiB FUA, peer disconnected p50 / p99",
                 f"{ap50 * 1e6:.0f} / {ap99 * 1e6:.0f} us, {ap50 / l2p50:.2f}x "
                 f"(local {l2p50 * 1e6:.0f} us)"),
                (f"{what}: NBD 4 KiB write, no FUA, peer disconnected p50 / p99",
                 f"{wp50 * 1e6:.0f} / {wp99 * 1e6:.0f} us"),
            ]
    if "resync" in only:
        # Same size each run: the least time wins.
        size, fixed, fcpu = best(resync, args, "c-plan-ahead 0; resync-rate 8G;", key=min)
        _, dyn, dcpu = best(resync, args, "c-plan-ahead 20; c-max-rate 4G;", key=min)
        copy = best(tcp_copy, args, size, key=min)
        warm = best(tcp_copy, args, size, False, key=min)
        mib = size / MiB
        rows += [
            ("TCP copy file -> file (source read from its device)", f"{mib / copy:.0f} MiB/s"),
            ("TCP copy file -> file (source in the page cache)", f"{mib / warm:.0f} MiB/s"),
            ("resync fixed rate (goal >= 0.8x)",
             f"{copy / fixed:.2f}x ({mib / fixed:.0f} MiB/s, {fcpu:.1f} s/GiB)"),
            ("resync dynamic controller",
             f"{copy / dyn:.2f}x ({mib / dyn:.0f} MiB/s, {dcpu:.1f} s/GiB)"),
        ]
    return rows


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
    ap.add_argument("--layouts", default="same",
                    help="comma list of same, tmpfs, loop: where beta's backing file and "
                         "the baselines' second files live (see above)")
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
    layouts = args.layouts.split(",")
    if "loop" in layouts and os.geteuid() != 0:
        print("SKIP: --layouts loop needs root (losetup, mkfs.ext4, mount)")
        return SKIP
    os.environ["TMPDIR"] = args.dir  # the clusters' directories
    tempfile.tempdir = args.dir
    only = args.only.split(",")
    print(f"# dir {args.dir} ({device_of(args.dir)}); {args.mib} MiB; {args.ops} 4 KiB writes; "
          f"best of {args.repeat}; loadavg {os.getloadavg()[0]:.2f}", flush=True)
    results = {}
    for layout in layouts:
        with layout_dir(args, layout) as peer_dir:
            args.peer_dir = peer_dir
            t0 = time.strftime("%H:%M:%S", time.gmtime())
            load0 = os.getloadavg()[0]
            rows = measure(args, only)
            print(f"# layout {layout}: beta and the second files in {peer_dir} "
                  f"({device_of(peer_dir)}); {t0}-{time.strftime('%H:%M:%S', time.gmtime())} "
                  f"UTC, loadavg {load0:.2f} -> {os.getloadavg()[0]:.2f}", flush=True)
            for name, figure in rows:
                print(f"{layout:6} {name:66} {figure}", flush=True)
            results[layout] = rows
    # Side by side, as a markdown table.
    names = [name for name, _ in results[layouts[0]]]
    print("\n| measurement | " + " | ".join(layouts) + " |")
    print("|:---|" + "---:|" * len(layouts))
    for i, name in enumerate(names):
        print(f"| {name} | " + " | ".join(results[l][i][1] for l in layouts) + " |")
    print(f"# loadavg after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
