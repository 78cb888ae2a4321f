#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Corrupted-superblock differential test of our drbdmeta against drbd-utils'
# (the oracle). For v09 and v08 metadata, internal and flex-external, each
# byte of the superblock is flipped in turn and every command that reads the
# superblock is run by both tools on the same image path, from the same
# image bytes and the same last-known-bdev file. Exit code, stdout, stderr,
# the image bytes afterwards and the last-known-bdev file must be identical.
# Independently of the oracle, ours must leave the image byte-unchanged
# whenever it fails, and always for the read-only commands.
# Also covered: truncated devices (the superblock cut off, the device shrunk
# below the metadata, below the minimum size) and the wrong format version.
#
# Usage: flip_oracle.py OUR_DRBDMETA [ORACLE] [quick|full]
# Exit 0 when all cases agree, 1 on failures, 77 when the oracle is missing.
# Uses /var/lib/drbd/drbd-minor--1.lkbd (as both tools do for minor "-"):
# run it alone (ctest RESOURCE_LOCK var_lib_drbd); the file is restored.
import hashlib
import os
import re
import subprocess
import sys
import tempfile

OURS = sys.argv[1] if len(sys.argv) > 1 else sys.exit("usage: flip_oracle.py OURS [ORACLE] [quick|full]")
ORACLE = sys.argv[2] if len(sys.argv) > 2 else "/usr/sbin/drbdmeta"
MODE = sys.argv[3] if len(sys.argv) > 3 else "full"
if not os.access(ORACLE, os.X_OK):
    print(f"oracle {ORACLE} not found, skipping")
    sys.exit(77)

LK = "/var/lib/drbd/drbd-minor--1.lkbd"

# Other tests (and people) use /var/lib/drbd at the same time; where we may,
# rerun ourselves in a private mount namespace with our own /var/lib/drbd.
if os.environ.get("MD_FLIP_PRIVATE") is None and os.geteuid() == 0:
    private = tempfile.mkdtemp(prefix="md-flip-lk.")
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], stderr=subprocess.DEVNULL)
    if probe.returncode == 0:
        rc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                             'mount --bind "$0" /var/lib/drbd && exec "$@"', private, sys.executable] + sys.argv,
                            env=dict(os.environ, MD_FLIP_PRIVATE=private)).returncode
        subprocess.run(["rm", "-rf", private])
        sys.exit(rc)
    os.rmdir(private)
ENV = dict(os.environ, LC_ALL="C", TZ="UTC")
DATE_RE = re.compile(rb"^# \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [-+]\d{4} \[\d+\]$", re.M)
HOST_RE = re.compile(rb"^(# [^ >]*>) [^ ]*", re.M)

# Commands that only read the metadata: ours must never change the image.
READ_ONLY = {"dump-md", "get-gi", "show-gi", "dstate", "read-dev-uuid", "check-resize"}

failures = 0
cases = 0
silent_refusals = 0
oracle_crashes = 0


def fail(msg):
    global failures
    failures += 1
    if failures <= 60:
        print("FAIL:", msg)


def run(binary, args, check=False):
    p = subprocess.run([binary, "--force", "-"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, env=ENV)
    if check and p.returncode != 0:
        sys.exit(f"setup failed: {binary} {args}: {p.stderr.decode(errors='replace')}")
    return p


def norm(b):
    return HOST_RE.sub(rb"\1 drbdmeta", DATE_RE.sub(b"# DATE", b))


def read_lk():
    try:
        with open(LK, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def write_lk(content):
    if content is None:
        try:
            os.unlink(LK)
        except FileNotFoundError:
            pass
    else:
        with open(LK, "wb") as f:
            f.write(content)


def put_image(path, data):
    with open(path, "r+b" if os.path.exists(path) else "wb") as f:
        f.truncate(len(data))
        f.seek(0)
        f.write(data)


def get_image(path):
    with open(path, "rb") as f:
        return f.read()


def one_tool(binary, img, data, lk, args):
    put_image(img, data)
    write_lk(lk)
    p = run(binary, args)
    after = get_image(img)
    return p.returncode, norm(p.stdout), norm(p.stderr), hashlib.sha256(after).hexdigest(), read_lk(), after


def compare(case_id, img, data, lk, args, cmd):
    """Runs `args` with both tools from the same state; returns ours' rc."""
    global cases, silent_refusals
    cases += 1
    o = one_tool(ORACLE, img, data, lk, args)
    m = one_tool(OURS, img, data, lk, args)
    names = ("exit code", "stdout", "stderr", "image bytes", "last-known-bdev file")
    if o[0] < 0:
        # drbdmeta 9.22 aborts (ASSERT) on some values it does not validate,
        # e.g. a bm_bytes_per_bit that is not a power of two. Ours refuses.
        global oracle_crashes
        oracle_crashes += 1
        # create-md and wipe-md take an invalid superblock as "no metadata".
        if cmd not in ("create-md", "wipe-md") and (m[0] == 0 or not m[2]):
            fail(f"{case_id} {cmd}: the oracle crashed (signal {-o[0]}); ours did not refuse with a message")
        names = ()
    for k, name in enumerate(names):
        if o[k] != m[k]:
            detail = ""
            if k in (1, 2):
                detail = f": oracle {o[k][-300:]!r} ours {m[k][-300:]!r}"
            elif k == 0:
                detail = f": {o[0]} vs {m[0]}; oracle stderr {o[2][-200:]!r}, ours {m[2][-200:]!r}"
            fail(f"{case_id} {cmd}: {name} differs{detail}")
    unchanged = m[5] == data
    if cmd in READ_ONLY and not unchanged:
        fail(f"{case_id} {cmd}: read-only command changed the image")
    if m[0] != 0 and not unchanged:
        fail(f"{case_id} {cmd}: failed (exit {m[0]}) but changed the image")
    if m[0] != 0 and not m[2].replace(b"ioctl(md_fd, BLKSSZGET) returned -1, assuming hard_sect_size is 512 Byte\n", b""):
        silent_refusals += 1
    return m[0]


def commands(fmt, peers, quick):
    nid = ["--node-id=1"] if fmt == "v09" else []
    cmds = [["dump-md"], ["get-gi"] + nid, ["dstate"], ["outdate"], ["apply-al"]]
    if quick:
        return cmds
    cmds += [["show-gi"] + nid, ["read-dev-uuid"], ["check-resize"], ["invalidate"],
             ["write-dev-uuid", "0123456789ABCDEF"], ["set-gi"] + nid + ["::AAAABBBBCCCCDDDD"], ["wipe-md"],
             ["create-md"] + ([str(peers)] if fmt == "v09" else [])]
    if fmt == "v09":
        cmds.append(["forget-peer", "--node-id=1"])
    return cmds


def setup(work, fmt, place, size, peers):
    """Metadata with non-trivial contents, written by the oracle."""
    img = os.path.join(work, "img")
    if os.path.exists(img):
        os.unlink(img)
    with open(img, "wb") as f:
        f.truncate(size)
    pa = [str(peers)] if fmt == "v09" else []
    run(ORACLE, [fmt, img, place, "create-md"] + pa, check=True)
    if fmt == "v09":
        dump = run(ORACLE, [fmt, img, place, "dump-md"], check=True).stdout.decode()
        dump = dump.replace("node-id -1;", "node-id 0;", 1)
        dump = re.sub(r"(peer\[1\] \{\s*bitmap-index) -1;", r"\1 0;", dump)
        dump = dump.replace("la-size-sect 0;", "la-size-sect 1024;")
        dump = dump.replace("flags 0x00000080;", "flags 0x00000091;", 1)
        dump = re.sub(r"(bitmap\[0\] \{\s*)[^}]*", r"\g<1>0x00000000000000F1; 0x8000000000000000;\n", dump)
        path = os.path.join(work, "dump.txt")
        with open(path, "w") as f:
            f.write(dump)
        run(ORACLE, [fmt, img, place, "restore-md", path], check=True)
        run(ORACLE, [fmt, img, place, "set-gi", "--node-id=1",
                     "1111222233334444:AAAABBBBCCCCDDDD:5555666677778888:9999000011112222:1:1:1:0:1:0:0:1:1:0:0:1"],
            check=True)
    else:
        run(ORACLE, [fmt, img, place, "set-gi",
                     "1111222233334444:AAAABBBBCCCCDDDD:5555666677778888:9999000011112222:1:1:1:0:1:1:0"],
            check=True)
    run(ORACLE, [fmt, img, place, "write-dev-uuid", "FEDCBA9876543210"], check=True)
    dump = run(ORACLE, [fmt, img, place, "dump-md"], check=True).stdout.decode()
    md_offset = int(re.search(r"^# md_offset (\d+)$", dump, re.M).group(1))
    return img, get_image(img), read_lk(), md_offset


def flip_offsets(fmt, quick):
    if fmt == "v09":
        struct = 0x570
        quick_set = list(range(0, 0xb0)) + list(range(0x470, 0x480)) + [0x570, 0x800, 0xfff]
    else:
        struct = 0x60
        quick_set = list(range(0, 0x60)) + [0x60, 0x800, 0xfff]
    if quick:
        return [(i, 0xff) for i in quick_set]
    offs = [(i, 0xff) for i in range(struct)] + [(i, 0xff) for i in range(struct, 4096, 61)] + [(4095, 0xff)]
    # Low-bit flips of the header: the checked values off by one.
    offs += [(i, 0x01) for i in range(0, 0x70 if fmt == "v09" else 0x60)]
    return offs


def sweep(work, fmt, place, size, peers, quick):
    img, base, lk, md_offset = setup(work, fmt, place, size, peers)
    cmds = commands(fmt, peers, quick)
    # Unflipped: everything agrees too.
    for args in cmds:
        compare(f"{fmt} {place} clean", img, base, lk, [fmt, img, place] + args, args[0])
    for off, mask in flip_offsets(fmt, quick):
        data = bytearray(base)
        data[md_offset + off] ^= mask
        data = bytes(data)
        for args in cmds:
            compare(f"{fmt} {place} byte 0x{off:03x}^0x{mask:02x}", img, data, lk, [fmt, img, place] + args,
                    args[0])


def truncations(work, fmt, place, size, peers, quick):
    img, base, lk, md_offset = setup(work, fmt, place, size, peers)
    cmds = commands(fmt, peers, quick)
    cuts = {
        "cut-superblock": base[:md_offset + 2048] if md_offset + 2048 < len(base) else base[:2048],
        "shrunk-by-4k": base[:len(base) - 4096],
        "shrunk-by-512": base[:len(base) - 512],
        "half": base[:len(base) // 2],
        "below-minimum": base[:4096],
        "empty": b"",
    }
    for name, data in cuts.items():
        for args in cmds:
            compare(f"{fmt} {place} truncated {name}", img, data, lk, [fmt, img, place] + args, args[0])
    other = "v08" if fmt == "v09" else "v09"
    for args in commands(other, peers, quick):
        if args[0] == "create-md":
            continue  # converts between versions: covered by diff_oracle.sh
        compare(f"{fmt} {place} read as {other}", img, base, lk, [other, img, place] + args, args[0])
    # v06 (DRBD 0.6) and v07 (DRBD 0.7) metadata: 9.22 still reads them; we
    # refuse them with a clear error and touch nothing.
    for ver in ("v07", "v06"):
        global cases
        cases += 1
        m = one_tool(OURS, img, base, lk, [ver, img, place, "dump-md"])
        if m[0] != 20 or b"is not supported" not in m[2] or m[5] != base:
            fail(f"{fmt} {place} as {ver}: not refused cleanly: exit {m[0]}, {m[2]!r}")


def main():
    quick = MODE == "quick"
    saved_lk = read_lk()
    # Thousands of runs, most ending in fsync: on tmpfs when there is one.
    work = tempfile.mkdtemp(prefix="md-flip.", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        configs = [("v09", "internal", 1 << 20, 2), ("v09", "flex-external", 1 << 20, 2),
                   ("v08", "internal", 1 << 20, 1), ("v08", "flex-external", 1 << 20, 1)]
        for fmt, place, size, peers in configs:
            sweep(work, fmt, place, size, peers, quick)
            truncations(work, fmt, place, size, peers, quick)
            print(f"{fmt} {place}: {cases} cases so far, {failures} failures", file=sys.stderr, flush=True)
    finally:
        write_lk(saved_lk)
        subprocess.run(["rm", "-rf", work])
    print(f"{cases} cases, {failures} failures ({silent_refusals} refusals without a message, as the oracle;"
          f" {oracle_crashes} where the oracle crashed and ours refused)")
    sys.exit(1 if failures else 0)


main()
