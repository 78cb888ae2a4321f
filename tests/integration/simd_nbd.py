#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The drbd-simd data path through its NBD exports with real NBD clients
(drbd-cp issue #5): two drbd-simd nodes on loopback, r0 brought up with
drbdadm, then

  * a write through alpha's export auto-promotes alpha and the close
    auto-demotes it;
  * qemu-io writes a pattern on an explicitly promoted alpha;
  * roles are switched with drbdadm and beta's export (Unix socket and TCP)
    reads everything back byte-identical (nbdsh, qemu-io, nbdcopy; qemu-img
    info sees the usable size); beta's backing file holds the same bytes;
  * alpha's export refuses an open while beta is Primary, as the module
    refuses opening a Secondary whose peer is Primary.

Each node runs `drbd-simd --node NAME --socket PATH --nbd-dir DIR
--nbd-tcp 127.0.0.1:PORT`; clients: nbdsh (libnbd-bin, python3-libnbd),
qemu-io (qemu-utils). Exit 77 (skip) if nbdsh is missing.
Run: simd_nbd.py --bindir build/bin [-v] [--keep].
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

SKIP = 77
MiB = 1 << 20


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expect(cond, msg):
    if not cond:
        raise Failure(msg)


class Node:
    def __init__(self, c, name, node_id):
        self.c = c
        self.name = name
        self.node_id = node_id
        self.sock = os.path.join(c.dir, f"{name}.sock")
        self.nbd_dir = os.path.join(c.dir, f"{name}-nbd")
        os.mkdir(self.nbd_dir)
        self.port = free_port()
        self.nbd_port = free_port()
        self.image = os.path.join(c.dir, f"{name}.img")
        with open(self.image, "wb") as f:
            f.truncate(64 * MiB)
        self.log = os.path.join(c.dir, f"{name}.log")
        self.proc = None

    def export(self, minor=0):
        return os.path.join(self.nbd_dir, f"drbd{minor}.nbd")

    def uri(self, minor=0):
        return f"nbd+unix:///drbd{minor}?socket={self.export(minor)}"

    def tcp_uri(self, minor=0):
        return f"nbd://127.0.0.1:{self.nbd_port + minor}/drbd{minor}"

    def env(self):
        env = dict(os.environ)
        env["DRBD_SIM_SOCKET"] = self.sock
        env["__DRBD_NODE__"] = self.name
        env["LC_ALL"] = "C"
        env.pop("DRBD_DRIVER_VERSION_OVERRIDE", None)
        return env

    def start(self):
        self.proc = subprocess.Popen(
            [self.c.bin("drbd-simd"), "--node", self.name, "--socket", self.sock,
             "--nbd-dir", self.nbd_dir, "--nbd-tcp", f"127.0.0.1:{self.nbd_port}"],
            stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        self.c.wait(f"{self.name} socket", lambda: os.path.exists(self.sock) or
                    self.proc.poll() is not None)
        expect(self.proc.poll() is None, f"drbd-simd {self.name} exited: {open(self.log).read()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def run(self, cmd, check=True, timeout=60):
        p = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=timeout)
        if self.c.verbose:
            print(f"[{self.name}] {' '.join(cmd)} -> {p.returncode}\n{p.stdout}{p.stderr}")
        if check and p.returncode != 0:
            raise Failure(f"[{self.name}] {' '.join(cmd)} -> {p.returncode}\n"
                          f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    def adm(self, *args, **kw):
        return self.run([self.c.bin("drbdadm"), "-c", self.c.conf] + list(args), **kw)

    def status(self):
        out = self.run([self.c.bin("drbdsetup"), "status", "r0", "--json"]).stdout
        return json.loads(out)[0]

    def role(self):
        return self.status()["role"]

    def disk(self):
        return self.status()["devices"][0]["disk-state"]


class Cluster:
    def __init__(self, bindir, verbose, keep):
        self.bindir = bindir
        self.verbose = verbose
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix="drbd-cp-nbd-")
        self.conf = os.path.join(self.dir, "drbd.conf")
        self.nodes = [Node(self, "alpha", 0), Node(self, "beta", 1)]

    def bin(self, tool):
        return os.path.join(self.bindir, tool)

    def write_config(self):
        out = ["global { usage-count no; }", "resource r0 {"]
        for n in self.nodes:
            out += [f"    on {n.name} {{", f"        node-id {n.node_id};",
                    f"        address 127.0.0.1:{n.port};",
                    f"        volume 0 {{ device minor 0; disk {n.image}; meta-disk internal; }}",
                    "    }"]
        out.append("}")
        with open(self.conf, "w") as f:
            f.write("\n".join(out) + "\n")

    def wait(self, what, pred, timeout=20):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                last = pred()
                if last:
                    return last
            except (Failure, KeyError, IndexError, ValueError) as e:
                last = e
            time.sleep(0.05)
        raise Failure(f"timed out waiting for {what} (last: {last!r})")

    def stop(self):
        for n in self.nodes:
            n.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


NBDSH = []  # command prefix that runs nbdsh


def find_nbdsh():
    """nbdsh is `python3 -m nbd`; run that module with a python3 that has it
    (Debian's python3-libnbd), which need not be the first python3 on PATH."""
    if not shutil.which("nbdsh"):
        return []
    for py in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if py and subprocess.run([py, "-c", "import nbd"], capture_output=True).returncode == 0:
            return [py, "-m", "nbd"]
    return []


def nbdsh(node, uri, code, check=True):
    return node.run(NBDSH + ["-u", uri, "-c", code], check=check)


def write_file(node, uri, path, offset):
    nbdsh(node, uri, f"h.pwrite(open({path!r}, 'rb').read(), {offset}); h.flush()")


def read_file(node, uri, path, offset, length):
    nbdsh(node, uri, f"open({path!r}, 'wb').write(h.pread({length}, {offset}))")
    with open(path, "rb") as f:
        return f.read()


def sha(b):
    return hashlib.sha256(b).hexdigest()[:16]


def t_write_switch_read(c):
    a, b = c.nodes
    for n in c.nodes:
        n.start()
    c.write_config()
    for n in c.nodes:
        n.adm("create-md", "--force", "r0")
    for n in c.nodes:
        n.adm("up", "r0")
    c.wait("connected", lambda: all(
        n.status()["connections"][0]["connection-state"] == "Connected" for n in c.nodes))
    # Skip the initial sync: both sides UpToDate (the data path does not
    # resync yet).
    a.adm("new-current-uuid", "--clear-bitmap", "r0/0")
    c.wait("both UpToDate", lambda: a.disk() == "UpToDate" and b.disk() == "UpToDate")
    for n in c.nodes:
        expect(os.path.exists(n.export()), f"{n.export()} missing")

    rnd = random.Random(5)
    blob1 = bytes(rnd.getrandbits(8) for _ in range(MiB))
    blob2 = bytes(rnd.getrandbits(8) for _ in range(64 * 1024))
    f1, f2 = os.path.join(c.dir, "blob1"), os.path.join(c.dir, "blob2")
    open(f1, "wb").write(blob1)
    open(f2, "wb").write(blob2)

    # 1. Auto-promote on the first write, auto-demote on close.
    expect(a.role() == "Secondary", "alpha should start Secondary")
    write_file(a, a.uri(), f1, 0)
    write_file(a, a.uri(), f2, 5 * MiB + 4096)
    c.wait("alpha auto-demoted", lambda: a.role() == "Secondary")

    # 2. qemu-io on an explicitly promoted alpha; the close keeps it Primary.
    qemu = shutil.which("qemu-io")
    a.adm("primary", "r0")
    if qemu:
        a.run(["qemu-io", "-f", "raw", a.uri(), "-c", "write -P 0x5a 8M 1M", "-c", "flush"])
    else:
        pat = os.path.join(c.dir, "pat")
        open(pat, "wb").write(b"\x5a" * MiB)
        write_file(a, a.uri(), pat, 8 * MiB)
    expect(a.role() == "Primary", "explicit primary must survive the client's close")

    # 3. Beta's export is refused while alpha is Primary.
    p = nbdsh(b, b.uri(), "h.pread(512, 0)", check=False)
    expect(p.returncode != 0, "beta's export opened while alpha is Primary")
    expect("NBD_OPT_GO" in p.stderr, f"the GO should be refused: {p.stderr}")
    c.wait("beta logs why", lambda: "open of /dev/drbd0 failed: Wrong medium type"
           in open(b.log).read())

    # 4. Switch roles; read everything back from beta.
    a.adm("secondary", "r0")
    b.adm("primary", "r0")
    c.wait("beta Primary seen by alpha",
           lambda: a.status()["connections"][0]["peer-role"] == "Primary")
    got1 = read_file(b, b.uri(), os.path.join(c.dir, "r1"), 0, MiB)
    expect(got1 == blob1, f"blob1 differs on beta: {sha(got1)} != {sha(blob1)}")
    got2 = read_file(b, b.tcp_uri(), os.path.join(c.dir, "r2"), 5 * MiB + 4096, len(blob2))
    expect(got2 == blob2, "blob2 differs on beta (TCP export)")
    if qemu:
        b.run(["qemu-io", "-f", "raw", "-r", b.uri(), "-c", "read -P 0x5a 8M 1M"])
    else:
        got3 = read_file(b, b.uri(), os.path.join(c.dir, "r3"), 8 * MiB, MiB)
        expect(got3 == b"\x5a" * MiB, "pattern differs on beta")
    # nbdcopy and qemu-img see the whole device (usable size, without the
    # internal metadata at the end of the backing file).
    if shutil.which("nbdcopy"):
        whole = os.path.join(c.dir, "whole")
        b.run(["nbdcopy", b.uri(), whole])
        with open(whole, "rb") as f:
            expect(f.read(MiB) == blob1, "nbdcopy of beta's export differs")
        expect(os.path.getsize(whole) < 64 * MiB, "the export must not include the metadata")
    if shutil.which("qemu-img"):
        info = json.loads(b.run(["qemu-img", "info", "--output=json", b.uri()]).stdout)
        expect(info["virtual-size"] == os.path.getsize(whole) if shutil.which("nbdcopy")
               else info["virtual-size"] > 0, f"qemu-img info: {info}")
    # The replica's backing file itself (data starts at offset 0).
    with open(b.image, "rb") as f:
        expect(f.read(MiB) == blob1, "beta's backing file differs from what alpha wrote")

    # 5. Alpha's export now refuses an open; the exports go away with down.
    p = nbdsh(a, a.uri(), "h.pread(512, 0)", check=False)
    expect(p.returncode != 0, "alpha's export opened while beta is Primary")
    b.adm("secondary", "r0")
    for n in c.nodes:
        n.adm("down", "r0")
    c.wait("exports removed", lambda: not any(os.path.exists(n.export()) for n in c.nodes))


TESTS = [t_write_switch_read]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    NBDSH[:] = find_nbdsh()
    if not NBDSH:
        print("SKIP: nbdsh (libnbd-bin, python3-libnbd) not installed")
        return SKIP
    for tool in ("drbd-simd", "drbdadm", "drbdsetup", "drbdmeta"):
        if not os.path.exists(os.path.join(args.bindir, tool)):
            print(f"SKIP: {tool} not built in {args.bindir}")
            return SKIP
    failed = 0
    for t in TESTS:
        c = Cluster(args.bindir, args.verbose, args.keep)
        try:
            t(c)
            print(f"PASS {t.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}")
            traceback.print_exc()
            for n in c.nodes:
                if os.path.exists(n.log):
                    print(f"--- {n.name} log (tail) ---")
                    print("".join(open(n.log).readlines()[-40:]))
        finally:
            c.stop()
    print(f"{len(TESTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
