#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usermode helpers of drbd-simd on real processes (issue #6): each node runs
with --usermode-helper pointing at a wrapper that execs our drbdadm on the
cluster's drbd.conf (as the module runs /sbin/drbdadm HANDLER RESOURCE), and
every handler in the .res is a small shell script that logs its argv and the
DRBD_* environment to a file. Checked: which handlers run, with the
environment the kernel passes (umh-calls.txt of the 9.2.18 captures) plus
what drbdadm adds (DRBD_RESOURCE, DRBD_CONF), the events2 `call helper` /
`response helper` lines, fence-peer's exit code under `fencing
resource-and-stonith` (IO suspended until it answers, the peer's disk
Outdated after exit code 7) and unfence-peer once the fenced peer resynced.
"""

import os
import signal
import subprocess
import sys
import time

from simd_harness import Cluster, all_in_sync, expect, main, up_all, wait_connected

HANDLERS = ("before-resync-target", "before-resync-source", "after-resync-target",
            "fence-peer", "unfence-peer", "disconnected", "split-brain", "initial-split-brain")

# The handler script: one record per call in DIR/calls.NODE (closed by an
# "=== end" line and appended in one write, so neither a reader nor a helper
# running at the same time sees a half-written record), then the exit
# code the test put in DIR/exit.HANDLER.NODE (default 0). While
# DIR/hold.HANDLER.NODE exists it waits (at most 30 s) before answering.
LOG_SH = r"""#!/bin/sh
dir=$(dirname "$0")
node=$__DRBD_NODE__
rec=$(echo "=== $* node=$node"; env | grep -E '^(DRBD_|UP_TO_DATE_NODES=)' | sort)
printf '%s\n=== end\n' "$rec" >> "$dir/calls.$node"
i=0
while [ -e "$dir/hold.$1.$node" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
code=0
[ -e "$dir/exit.$1.$node" ] && code=$(cat "$dir/exit.$1.$node")
exit $code
"""


class Events:
    """`drbdsetup events2 r0` of NODE, running in the background."""

    def __init__(self, node):
        self.path = os.path.join(node.cluster.dir, f"events2.{node.name}")
        self.proc = subprocess.Popen([node.cluster.bin("drbdsetup"), "events2", "r0"],
                                     env=node.env(), stdout=open(self.path, "w"),
                                     stderr=subprocess.STDOUT)

    def lines(self):
        """The lines, without a leading timestamp if there is one."""
        with open(self.path) as f:
            return [l.split(" ", 1)[1] if l[:1].isdigit() else l for l in f.read().splitlines()]

    def helper_lines(self):
        return [l for l in self.lines() if l.startswith(("call helper ", "response helper "))]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)


def suspended(node):
    """The `suspended:` value of NODE's r0 resource line in events2 --now."""
    for line in node.events_now("r0").splitlines():
        if line.startswith("exists resource "):
            return next(kv.split(":", 1)[1] for kv in line.split() if kv.startswith("suspended:"))
    return None


def setup(args, net=""):
    c = Cluster(args, ["alpha", "beta"])
    log_sh = c.script("log.sh", LOG_SH)
    c.drbdadm_helper("--helper-timeout", "60000")
    for n in c.nodes:
        c.image(n, 0, size_mb=16)
    c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"], "net": net,
                     "disk": "c-plan-ahead 0; resync-rate 100M;"}])
    c.add_handlers("r0", {h: f"{log_sh} {h}" for h in HANDLERS})
    return c


def calls(c, node):
    """The complete handler records of NODE: [(argv, {var: value})]."""
    path = os.path.join(c.dir, f"calls.{node}")
    out, rec = [], None
    if not os.path.exists(path):
        return out
    for line in open(path).read().splitlines():
        if line == "=== end":
            if rec is not None:
                out.append(rec)
            rec = None
        elif line.startswith("=== "):
            rec = (line[4:].split(" node=")[0].split(), {})
        elif rec is not None and "=" in line:
            k, v = line.split("=", 1)
            rec[1][k] = v
    return out


def named(c, node, handler):
    return [env for argv, env in calls(c, node) if argv and argv[0] == handler]


def t_resync_handlers_env_and_events(args):
    with setup(args) as c:
        c.start()
        a, b = c.nodes
        ev = [Events(n) for n in c.nodes]
        try:
            for e in ev:
                c.wait("events2 subscribed", lambda e=e: "exists -" in e.lines())
            up_all(c, "r0")
            wait_connected(c, "r0")
            a.adm("primary", "--force", "r0")
            c.wait("initial sync done", lambda: all_in_sync(c), timeout=60)
            c.wait("after-resync-target logged", lambda: named(c, "beta", "after-resync-target"))
            time.sleep(0.3)  # the response lines follow the handler's exit
        finally:
            for e in ev:
                e.stop()
        # Handlers and their environment (kernel's + drbdadm's).
        t = named(c, "beta", "before-resync-target")
        expect(len(t) == 1, f"beta before-resync-target calls: {calls(c, 'beta')}")
        env = t[0]
        want = {"DRBD_RESOURCE": "r0", "DRBD_MINOR": "0", "DRBD_VOLUME": "0",
                "DRBD_PEER_NODE_ID": "0", "DRBD_CSTATE": "Connected", "DRBD_MY_AF": "ipv4",
                "DRBD_PEER_AF": "ipv4", "DRBD_MY_ADDRESS": "127.0.0.1",
                "DRBD_PEER_ADDRESS": "127.0.0.1", "DRBD_CONF": c.conf,
                "DRBD_BACKING_DEV": b.disks[0]}
        for k, v in want.items():
            expect(env.get(k) == v, f"before-resync-target {k}={env.get(k)!r}, want {v!r}")
        expect(named(c, "alpha", "before-resync-source"), "no before-resync-source on alpha")
        expect(not named(c, "alpha", "fence-peer"), "fence-peer without fencing")
        # events2: call/response pairs, as the captures print them.
        call = ("call helper name:r0 peer-node-id:0 conn-name:alpha volume:0 minor:0 "
                "helper:before-resync-target")
        resp = call.replace("call ", "response ", 1) + " status:0"
        got = ev[1].helper_lines()
        expect(call in got and resp in got, f"beta's helper lines: {got}")
        expect(got.index(call) < got.index(resp), f"response before call: {got}")
        expect(any(l.endswith("helper:after-resync-target status:0") for l in got),
               f"no after-resync-target response: {got}")
        for n in c.nodes:
            n.adm("down", "r0")
        expect(named(c, "alpha", "disconnected"), "no disconnected handler on down")


def t_stonith_fence_peer_freezes_io_then_outdates(args):
    with setup(args, net="fencing resource-and-stonith;") as c:
        c.start()
        a, b = c.nodes
        up_all(c, "r0")
        wait_connected(c, "r0")
        a.setup("new-current-uuid", "--clear-bitmap", "0")
        c.wait("all UpToDate", lambda: all_in_sync(c))
        a.adm("primary", "r0")
        unfenced = len(named(c, "alpha", "unfence-peer"))  # the first UpToDate pair ran one
        hold = os.path.join(c.dir, "hold.fence-peer.alpha")
        open(hold, "w").close()
        with open(os.path.join(c.dir, "exit.fence-peer.alpha"), "w") as f:
            f.write("7\n")
        ev = Events(a)
        try:
            c.wait("events2 subscribed", lambda: "exists -" in ev.lines())
            b.proc.send_signal(signal.SIGKILL)  # beta vanishes
            b.proc.wait()
            c.wait("fence-peer called", lambda: named(c, "alpha", "fence-peer"), timeout=30)
            now = a.events_now("r0")
            expect(suspended(a) == "fencing", f"IO not frozen while fence-peer runs:\n{now}")
            env = named(c, "alpha", "fence-peer")[0]
            expect(env.get("DRBD_PEER_NODE_ID") == "1" and env.get("DRBD_MINOR_0") == "0",
                   f"fence-peer env: {env}")
            expect(env.get("UP_TO_DATE_NODES") == "0x00000001", f"fence-peer env: {env}")
            os.unlink(hold)
            c.wait("IO thawed", lambda: suspended(a) == "no", timeout=30)
            now = a.events_now("r0")
            expect("peer-disk:Outdated" in now, f"peer not Outdated after exit code 7:\n{now}")
            time.sleep(0.3)
        finally:
            ev.stop()
        got = ev.helper_lines()
        expect("call helper name:r0 peer-node-id:1 conn-name:beta helper:fence-peer" in got,
               f"alpha's helper lines: {got}")
        expect("response helper name:r0 peer-node-id:1 conn-name:beta helper:fence-peer "
               "status:1792" in got, f"alpha's helper lines: {got}")
        # beta returns, resyncs, and alpha unfences it.
        os.unlink(b.sock)  # left behind by the kill
        b.start()
        b.adm("up", "r0")
        c.wait("resynced", lambda: all_in_sync(c), timeout=60)
        c.wait("unfence-peer", lambda: len(named(c, "alpha", "unfence-peer")) > unfenced,
               timeout=30)
        a.adm("secondary", "r0")
        for n in c.nodes:
            n.adm("down", "r0")


TESTS = [t_resync_handlers_env_and_events, t_stonith_fence_peer_freezes_io_then_outdates]

if __name__ == "__main__":
    sys.exit(main(__doc__, TESTS))
