#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""DRBD quorum on live drbd-simd nodes (issues #5, #6): three nodes with
`quorum majority; on-no-quorum io-error;` brought up by our drbdadm.

  * cut off: alpha and beta disconnect from gamma (a Secondary); gamma
    reports quorum:no in events2 and status, `drbdadm primary` there fails
    with exit code 11 and the kernel's "No quorum" texts, a write through
    gamma's NBD export fails with an I/O error; alpha and beta keep quorum.
    Reconnected, gamma has quorum again and a write there succeeds.
  * peers lost under a Primary: gamma Primary, alpha and beta killed
    (kill -9); gamma loses quorum, its NBD writes fail (io-error, not
    suspended) and the quorum-lost handler runs; alpha and beta restarted
    and brought up again: quorum is back and writes succeed.
  * last man standing: beta and gamma leave the Primary alpha gracefully
    (they outdate themselves); alpha keeps quorum and keeps writing.

Client: qemu-io (qemu-utils); exit 77 (skip) without it.
"""

import os
import shutil
import signal
import sys

from simd_harness import Cluster, all_in_sync, expect, main, up_all, wait_connected

OPTS = "quorum majority; on-no-quorum io-error;"

# A handler that records its argv in DIR/handlers.NODE.
LOG_SH = r"""#!/bin/sh
echo "$* node=$__DRBD_NODE__" >> "$(dirname "$0")/handlers.$__DRBD_NODE__"
exit 0
"""


def quorum_of(node):
    """The quorum: field of NODE's device line in `events2 --now r0`."""
    for line in node.events_now("r0").splitlines():
        if line.startswith("exists device "):
            return next(kv.split(":", 1)[1] for kv in line.split() if kv.startswith("quorum:"))
    return None


def suspended(node):
    for line in node.events_now("r0").splitlines():
        if line.startswith("exists resource "):
            return next(kv.split(":", 1)[1] for kv in line.split() if kv.startswith("suspended:"))
    return None


def qemu_write(node, offset, pattern):
    """Writes 4 KiB of PATTERN at OFFSET through NODE's NBD export with
    qemu-io; returns (ok, output)."""
    p = node.run_cmd(["qemu-io", "-f", "raw", "-c", f"write -P {pattern} {offset} 4k",
                      node.uri()], check=False, timeout=60)
    out = p.stdout + p.stderr
    return p.returncode == 0 and "wrote 4096/4096 bytes" in out, out


def bring_up(args, handlers=False):
    c = Cluster(args, ["alpha", "beta", "gamma"])
    if handlers:
        c.drbdadm_helper()
    c.start()
    for n in c.nodes:
        c.image(n, 0, size_mb=16)
    c.write_config([{"name": "r0", "volumes": [0], "nodes": [n.name for n in c.nodes],
                     "options": OPTS, "disk": "c-plan-ahead 0; resync-rate 1000M;"}])
    if handlers:
        log_sh = c.script("log.sh", LOG_SH)
        c.add_handlers("r0", {"quorum-lost": f"{log_sh} quorum-lost"})
    up_all(c, "r0")
    wait_connected(c, "r0")
    # The initial full sync from alpha (Inconsistent everywhere is still a
    # quorum: three of three present).
    c.nodes[0].adm("primary", "--force", "r0")
    c.wait("all UpToDate", lambda: all_in_sync(c), timeout=60)
    c.nodes[0].adm("secondary", "r0")
    for n in c.nodes:
        c.wait(f"{n.name} quorum:yes", lambda n=n: quorum_of(n) == "yes")
    return c


def t_cut_off_secondary_loses_quorum(args):
    with bring_up(args) as c:
        a, b, g = c.nodes
        a.setup("disconnect", "r0", "2")
        b.setup("disconnect", "r0", "2")
        c.wait("gamma quorum:no", lambda: quorum_of(g) == "no")
        expect(quorum_of(a) == "yes" and quorum_of(b) == "yes", "alpha/beta lost quorum")
        st = g.setup("status", "r0").stdout
        expect("quorum:no" in st, f"status on gamma:\n{st}")
        p = g.adm("primary", "r0", check=False)
        expect(p.returncode == 11, f"primary without quorum -> {p.returncode}\n{p.stderr}")
        expect("State change failed: (-25) No quorum" in p.stderr, p.stderr)
        expect("1 of 3 nodes visible, need 2 for quorum" in p.stderr, p.stderr)
        ok, out = qemu_write(g, 0, "0x5a")
        expect(not ok, f"a write on gamma without quorum succeeded:\n{out}")
        # Reconnected: quorum again, gamma writes (auto-promote).
        a.setup("connect", "r0", "2")
        b.setup("connect", "r0", "2")
        c.wait("gamma quorum:yes", lambda: quorum_of(g) == "yes")
        ok, out = qemu_write(g, 0, "0x5b")
        expect(ok, f"a write on gamma with quorum failed:\n{out}")


def t_primary_losing_its_peers_fails_io(args):
    with bring_up(args, handlers=True) as c:
        a, b, g = c.nodes
        g.adm("primary", "r0")
        ok, out = qemu_write(g, 0, "0x11")
        expect(ok, f"write on the Primary failed:\n{out}")
        for n in (a, b):
            n.proc.send_signal(signal.SIGKILL)
            n.proc.wait()
        c.wait("gamma quorum:no", lambda: quorum_of(g) == "no")
        expect(suspended(g) == "no", f"suspended:{suspended(g)} under on-no-quorum io-error")
        ok, out = qemu_write(g, 4096, "0x22")
        expect(not ok and "Input/output error" in out,
               f"write on gamma without quorum:\n{out}")
        calls = os.path.join(c.dir, "handlers.gamma")
        c.wait("quorum-lost on gamma", lambda: os.path.exists(calls)
               and "quorum-lost node=gamma" in open(calls).read())
        for n in (a, b):
            n.start()  # Node.start removes the stale socket
            n.adm("up", "r0")
        c.wait("gamma quorum:yes", lambda: quorum_of(g) == "yes", timeout=30)
        ok, out = qemu_write(g, 8192, "0x33")
        expect(ok, f"write on gamma after quorum came back failed:\n{out}")


def t_last_man_standing_keeps_quorum(args):
    with bring_up(args) as c:
        a, b, g = c.nodes
        a.adm("primary", "r0")
        c.wait("beta sees alpha Primary",
               lambda: "role:Primary" in b.events_now("r0").replace("peer-role", "x"))
        c.wait("gamma sees alpha Primary",
               lambda: "role:Primary" in g.events_now("r0").replace("peer-role", "x"))
        b.setup("disconnect", "r0", "0")
        g.setup("disconnect", "r0", "0")
        c.wait("alpha alone", lambda: "Connected" not in a.setup("status", "r0").stdout)
        expect(quorum_of(a) == "yes", f"alpha quorum:{quorum_of(a)}")
        ok, out = qemu_write(a, 0, "0x44")
        expect(ok, f"write on the last man standing failed:\n{out}")


def check():
    if not shutil.which("qemu-io"):
        return "qemu-io (qemu-utils) not installed"
    return None


if __name__ == "__main__":
    sys.exit(main(__doc__, [t_cut_off_secondary_loses_quorum, t_primary_losing_its_peers_fails_io,
                            t_last_man_standing_keeps_quorum], check=check))
