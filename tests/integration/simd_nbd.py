#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The drbd-simd data path through its NBD exports with real NBD clients
(drbd-cp issue #5): two drbd-simd nodes on loopback, r0 brought up with
drbdadm, then

  * a write through alpha's export auto-promotes alpha and the close
    auto-demotes it;
  * qemu-io writes a pattern on an explicitly promoted alpha;
  * the kernel's statistics count that data: `status --statistics --json`
    shows at least the bytes written through the export as written on
    alpha and as received from alpha on beta; `events2 --now` shows open:no
    once the clients closed;
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

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys

from simd_harness import MiB, Cluster, expect, main


def status(node):
    return node.status_json("r0")[0]


def role(node):
    return status(node)["role"]


def disk(node):
    return status(node)["devices"][0]["disk-state"]


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


def libnbd_python(py):
    """A `check=` for simd_harness.main in tests whose workers `import nbd`:
    puts into the list PY the python3 that has libnbd's module, or says
    why the test is skipped."""
    py[:] = find_nbdsh()[:1]
    return None if py else "python3-libnbd (the nbd module) not installed"


def nbdsh(node, uri, code, check=True):
    return node.run_cmd(NBDSH + ["-u", uri, "-c", code], check=check)


def write_file(node, uri, path, offset):
    nbdsh(node, uri, f"h.pwrite(open({path!r}, 'rb').read(), {offset}); h.flush()")


def read_file(node, uri, path, offset, length):
    nbdsh(node, uri, f"open({path!r}, 'wb').write(h.pread({length}, {offset}))")
    with open(path, "rb") as f:
        return f.read()


def stats_json(node):
    return json.loads(node.setup("status", "r0", "--statistics", "--json").stdout)[0]


def check_statistics(a, b, nbytes):
    """Written on the Primary and received on its peer, in KiB (the kernel
    also counts resync and metadata traffic, hence at least)."""
    kib = nbytes // 1024
    sa, sb = stats_json(a), stats_json(b)
    dev = sa["devices"][0]
    expect(dev["written"] >= kib, f"alpha written:{dev['written']} < {kib} KiB")
    expect(dev["size"] > 0 and dev["upper-pending"] == 0 and dev["lower-pending"] == 0,
           f"alpha device statistics: {dev}")
    expect(sa["write-ordering"] == "flush", f"write-ordering: {sa['write-ordering']}")
    recv = sb["connections"][0]["peer_devices"][0]["received"]
    expect(recv >= kib, f"beta received:{recv} < {kib} KiB")
    written_b = sb["devices"][0]["written"]
    expect(written_b >= kib, f"beta written:{written_b} < {kib} KiB")
    conn = sa["connections"][0]
    expect(conn.get("ap-in-flight") == 0 and conn.get("rs-in-flight") == 0,
           f"alpha connection statistics: {conn}")
    line = [ln for ln in a.events_now("r0").splitlines() if ln.startswith("exists device")]
    expect(line and " open:no" in line[0], f"alpha's device after the clients closed: {line}")


def sha(b):
    return hashlib.sha256(b).hexdigest()[:16]


def t_write_switch_read(args):
    with Cluster(args, ["alpha", "beta"], nbd_tcp=True) as c:
        write_switch_read(c)


def write_switch_read(c):
    a, b = c.nodes
    c.start()
    c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"]}])
    for n in c.nodes:
        n.adm("create-md", "--force", "r0")
    for n in c.nodes:
        n.adm("up", "r0")
    c.wait("connected", lambda: all(
        status(n)["connections"][0]["connection-state"] == "Connected" for n in c.nodes))
    # Skip the initial sync: both sides UpToDate (the data path does not
    # resync yet).
    a.adm("new-current-uuid", "--clear-bitmap", "r0/0")
    c.wait("both UpToDate", lambda: disk(a) == "UpToDate" and disk(b) == "UpToDate")
    for n in c.nodes:
        expect(os.path.exists(n.export()), f"{n.export()} missing")

    rnd = random.Random(5)
    blob1 = bytes(rnd.getrandbits(8) for _ in range(MiB))
    blob2 = bytes(rnd.getrandbits(8) for _ in range(64 * 1024))
    f1, f2 = os.path.join(c.dir, "blob1"), os.path.join(c.dir, "blob2")
    open(f1, "wb").write(blob1)
    open(f2, "wb").write(blob2)

    # 1. Auto-promote on the first write, auto-demote on close.
    expect(role(a) == "Secondary", "alpha should start Secondary")
    write_file(a, a.uri(), f1, 0)
    write_file(a, a.uri(), f2, 5 * MiB + 4096)
    c.wait("alpha auto-demoted", lambda: role(a) == "Secondary")

    # 2. qemu-io on an explicitly promoted alpha; the close keeps it Primary.
    qemu = shutil.which("qemu-io")
    a.adm("primary", "r0")
    if qemu:
        a.run_cmd(["qemu-io", "-f", "raw", a.uri(), "-c", "write -P 0x5a 8M 1M", "-c", "flush"])
    else:
        pat = os.path.join(c.dir, "pat")
        open(pat, "wb").write(b"\x5a" * MiB)
        write_file(a, a.uri(), pat, 8 * MiB)
    expect(role(a) == "Primary", "explicit primary must survive the client's close")
    check_statistics(a, b, len(blob1) + len(blob2) + MiB)

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
           lambda: status(a)["connections"][0]["peer-role"] == "Primary")
    got1 = read_file(b, b.uri(), os.path.join(c.dir, "r1"), 0, MiB)
    expect(got1 == blob1, f"blob1 differs on beta: {sha(got1)} != {sha(blob1)}")
    got2 = read_file(b, b.tcp_uri(), os.path.join(c.dir, "r2"), 5 * MiB + 4096, len(blob2))
    expect(got2 == blob2, "blob2 differs on beta (TCP export)")
    if qemu:
        b.run_cmd(["qemu-io", "-f", "raw", "-r", b.uri(), "-c", "read -P 0x5a 8M 1M"])
    else:
        got3 = read_file(b, b.uri(), os.path.join(c.dir, "r3"), 8 * MiB, MiB)
        expect(got3 == b"\x5a" * MiB, "pattern differs on beta")
    # nbdcopy and qemu-img see the whole device (usable size, without the
    # internal metadata at the end of the backing file).
    if shutil.which("nbdcopy"):
        whole = os.path.join(c.dir, "whole")
        b.run_cmd(["nbdcopy", b.uri(), whole])
        with open(whole, "rb") as f:
            expect(f.read(MiB) == blob1, "nbdcopy of beta's export differs")
        expect(os.path.getsize(whole) < 64 * MiB, "the export must not include the metadata")
    if shutil.which("qemu-img"):
        info = json.loads(b.run_cmd(["qemu-img", "info", "--output=json", b.uri()]).stdout)
        expect(info["virtual-size"] == os.path.getsize(whole) if shutil.which("nbdcopy")
               else info["virtual-size"] > 0, f"qemu-img info: {info}")
    # The replica's backing file itself (data starts at offset 0).
    with open(b.disks[0], "rb") as f:
        expect(f.read(MiB) == blob1, "beta's backing file differs from what alpha wrote")

    # 5. Alpha's export now refuses an open; the exports go away with down.
    p = nbdsh(a, a.uri(), "h.pread(512, 0)", check=False)
    expect(p.returncode != 0, "alpha's export opened while beta is Primary")
    b.adm("secondary", "r0")
    for n in c.nodes:
        n.adm("down", "r0")
    c.wait("exports removed", lambda: not any(os.path.exists(n.export()) for n in c.nodes))


TESTS = [t_write_switch_read]


def nbd_clients():
    NBDSH[:] = find_nbdsh()
    return None if NBDSH else "nbdsh (libnbd-bin, python3-libnbd) not installed"


if __name__ == "__main__":
    sys.exit(main(__doc__, TESTS, check=nbd_clients))
