#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Two- and three-node clusters of drbd-simd on loopback, driven only through
drbdadm with a config file (drbd-cp issue #4 acceptance):

  * up, connect, primary/secondary, disconnect, down;
  * adjust after an edited config: an option change, an added volume, an
    added peer, a removed peer;
  * events2, status (text and JSON) and show checked against the expected
    objects and states;
  * a wrong shared-secret: the connection is refused and says why;
  * primary on both nodes without allow-two-primaries: refused with the
    kernel's error;
  * verify, resize, wait-connect, forget-peer and rename-resource.

Each node is one `drbd-simd --node NAME --socket PATH` process; drbdadm
reaches it with DRBD_SIM_SOCKET=PATH and __DRBD_NODE__=NAME. Backing devices
are sparse files in a temporary directory. Ports are picked free on
127.0.0.1. Run: simd_cluster.py --bindir build/bin [-k PATTERN] [-v].
"""

import os
import re
import subprocess
import sys
import time

from simd_harness import (Cluster, Failure, all_in_sync, connections, conn_state, expect, main,
                          res_stats, role, up_all, wait_connected)


# ---- scenarios -----------------------------------------------------------------------

def t_two_nodes_lifecycle(args):
    with Cluster(args, ["alpha", "beta"]) as c:
        c.start()
        c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"]}])
        up_all(c, "r0")
        a, b = c.nodes
        wait_connected(c, "r0")
        # events2 and status agree on the objects.
        ev = a.events_now("r0")
        for line in ("exists resource name:r0 role:Secondary",
                     "exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connected",
                     "exists device name:r0 volume:0 minor:0",
                     "exists -"):
            expect(line in ev, f"events2 --now lacks {line!r}:\n{ev}")
        st = a.setup("status", "r0").stdout
        expect(st.startswith("r0 role:Secondary\n"), f"status text:\n{st}")
        expect("  beta role:Secondary\n" in st, f"status text:\n{st}")
        js = a.status_json("r0")
        expect(js[0]["node-id"] == 0 and js[0]["devices"][0]["minor"] == 0, f"status json: {js}")
        show = a.setup("show", "r0").stdout
        expect('resource "r0" {' in show and "_peer_node_id 1;" in show and
               "_cstate Connected;" in show, f"show:\n{show}")
        # primary/secondary, and the peer sees the role.
        a.adm("primary", "--force", "r0")
        expect(role(a, "r0") == "Primary", "alpha not Primary")
        c.wait("beta sees alpha Primary",
               lambda: connections(b.status_json("r0"), "r0")["alpha"]["peer-role"] == "Primary")
        a.adm("secondary", "r0")
        expect(role(a, "r0") == "Secondary", "alpha not Secondary")
        # disconnect / connect.
        a.adm("disconnect", "r0")
        expect(conn_state(a, "r0", "beta") == "StandAlone", "alpha not StandAlone")
        a.adm("connect", "r0")
        wait_connected(c, "r0")
        # down leaves nothing behind.
        for n in c.nodes:
            n.adm("down", "r0")
        out = a.setup("status").stdout
        expect(out == "# No currently configured DRBD found.\n", f"after down:\n{out}")


def t_two_primaries_refused(args):
    with Cluster(args, ["alpha", "beta"]) as c:
        c.start()
        c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"]}])
        up_all(c, "r0")
        a, b = c.nodes
        wait_connected(c, "r0")
        a.adm("primary", "--force", "r0")
        p = b.adm("primary", "r0", check=False)
        expect(p.returncode != 0, "second primary without allow-two-primaries succeeded")
        expect("State change failed" in p.stderr or "Failure" in p.stderr,
               f"no kernel error text:\n{p.stderr}")
        expect(role(b, "r0") == "Secondary", "beta became Primary")


def t_wrong_shared_secret(args):
    with Cluster(args, ["alpha", "beta"]) as c:
        c.start()
        c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"],
                         "net": "cram-hmac-alg sha256; shared-secret good;"}])
        a, b = c.nodes
        for n in c.nodes:
            n.adm("create-md", "--force", "r0")
        a.adm("up", "r0")
        # beta gets another secret.
        with open(c.conf) as f:
            text = f.read()
        with open(c.conf, "w") as f:
            f.write(text.replace("shared-secret good;", "shared-secret bad;"))
        b.adm("up", "r0")
        time.sleep(2)
        expect(conn_state(a, "r0", "beta") != "Connected", "connected with a wrong secret")
        # A wait that times out exits 5, as drbd-utils' drbdsetup does.
        p = a.setup("wait-connect-resource", "--wfc-timeout=1", "r0", check=False)
        expect(p.returncode == 5, f"wait-connect timeout: exit {p.returncode}, want 5")
        logs = open(a.log).read() + open(b.log).read()
        expect(re.search(r"(auth|secret|hmac)", logs, re.I), f"no reason logged:\n{logs}")


def t_adjust_after_edits(args):
    with Cluster(args, ["alpha", "beta", "gamma"]) as c:
        c.start()
        c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"]}])
        a, b, g = c.nodes
        for n in (a, b):
            n.adm("create-md", "--force", "r0")
            n.adm("up", "r0")
        wait_connected(c, "r0", [a, b])
        # adjust with no change does nothing.
        p = a.adm("-d", "adjust", "r0")
        expect(p.stdout.strip() == "", f"adjust without change plans:\n{p.stdout}")
        # an option change.
        c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"],
                         "net": "ping-int 7;"}])
        p = a.adm("-d", "adjust", "r0")
        expect("net-options" in p.stdout and "--ping-int=7" in p.stdout, f"plan:\n{p.stdout}")
        a.adm("adjust", "r0")
        show = a.setup("show", "r0").stdout
        expect(re.search(r"ping-int\s+7;", show), f"show after adjust:\n{show}")
        # an added volume.
        c.write_config([{"name": "r0", "volumes": [0, 1], "nodes": ["alpha", "beta"],
                         "net": "ping-int 7;"}])
        for n in (a, b):
            n.adm("create-md", "--force", "r0/1")
            n.adm("adjust", "r0")
        js = a.status_json("r0")
        expect(len(js[0]["devices"]) == 2, f"volume 1 missing: {js}")
        # an added peer (gamma), then it removed again.
        c.write_config([{"name": "r0", "volumes": [0, 1], "nodes": ["alpha", "beta", "gamma"],
                         "net": "ping-int 7;"}])
        g.adm("create-md", "--force", "r0")
        g.adm("up", "r0")
        for n in (a, b):
            n.adm("adjust", "r0")
        wait_connected(c, "r0")
        c.write_config([{"name": "r0", "volumes": [0, 1], "nodes": ["alpha", "beta"],
                         "net": "ping-int 7;"}])
        for n in (a, b):
            n.adm("adjust", "r0")
        conns = connections(a.status_json("r0"), "r0")
        expect(set(conns) == {"beta"}, f"after removing gamma: {sorted(conns)}")


def repl_state(node, res, peer):
    c = connections(node.status_json(res), res).get(peer)
    return c and c["peer_devices"][0]["replication-state"]


def t_maintenance_requests(args):
    """verify, resize, wait-connect, forget-peer and rename-resource."""
    with Cluster(args, ["alpha", "beta"]) as c:
        c.start()
        c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"],
                         "net": "verify-alg crc32c;"}])
        up_all(c, "r0")
        a, b = c.nodes
        wait_connected(c, "r0")
        a.adm("wait-connect", "r0")
        a.adm("new-current-uuid", "--clear-bitmap", "r0/0")
        c.wait("beta UpToDate", lambda: "disk:UpToDate" in b.setup("status", "r0").stdout)
        # verify: VerifyS / VerifyT, then Established again on both sides;
        # three blocks of beta's disk overwritten behind its back are found.
        with open(b.disks[0], "r+b") as f:
            for block in (256, 1282, 5120):
                f.seek(block * 4096)
                f.write(os.urandom(4096))
        a.adm("verify", "r0")
        for n, peer in ((a, "beta"), (b, "alpha")):
            c.wait(f"{n.name} verify done", lambda n=n: "Online verify done" in open(n.log).read())
            c.wait(f"{n.name} Established",
                   lambda n=n, peer=peer: repl_state(n, "r0", peer) == "Established")
        logs = open(a.log).read() + open(b.log).read()
        for word in ("-> VerifyS ) [verify]", "-> VerifyT ) [remote]",
                     "drbd r0/0 drbd0 beta: Online verify found 3 4k blocks out of sync!",
                     "drbd r0/0 drbd0 alpha: Online verify found 3 4k blocks out of sync!"):
            expect(word in logs, f"no {word!r} in the node logs")
        # resize: both backing files grow, alpha resizes, both follow.
        for n in c.nodes:
            with open(n.disks[0], "r+b") as f:
                f.truncate(96 << 20)
        a.adm("resize", "r0")
        for n in c.nodes:
            c.wait(f"{n.name} grew",
                   lambda n=n: "Writing the whole bitmap, size changed and md moved"
                   in open(n.log).read())
        p = a.adm("resize", "--size=200M", "r0", check=False)
        expect(p.returncode != 0 and "Low.dev. smaller than requested" in p.stderr,
               f"resize beyond the disk: {p.returncode}\n{p.stderr}")
        # forget-peer: refused while beta is configured, done once it is gone.
        p = a.setup("forget-peer", "r0", "1", check=False)
        expect(p.returncode == 10, f"forget-peer of a configured peer: {p.returncode} {p.stderr}")
        a.setup("disconnect", "r0", "1")
        a.setup("del-peer", "r0", "1")
        a.adm("forget-peer", "r0:beta")
        # rename-resource: the events2 line, and the resource lives on.
        p = a.setup("rename-resource", "r0", "r0", check=False)
        expect(p.returncode == 10 and "a resource with that name already exists" in p.stderr,
               f"rename to itself: {p.returncode} {p.stderr}")
        ev = subprocess.Popen([c.bin("drbdsetup"), "events2", "all"], env=a.env(),
                              stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)
            a.setup("rename-resource", "r0", "r9")
            time.sleep(0.5)
        finally:
            ev.terminate()
        out = ev.communicate(timeout=10)[0]
        expect("rename resource name:r0 new_name:r9\n" in out, f"events2:\n{out}")
        expect(role(a, "r9") == "Secondary", "r9 unknown after the rename")
        a.setup("down", "r9")
        b.adm("down", "r0")
        # After down, the grown metadata is where drbdmeta looks for it.
        md = a.adm("dump-md", "r0").stdout
        la = int(re.search(r"la-size-sect (\d+);", md).group(1))
        expect(la > (64 << 11), f"la-size-sect {la} after growing to 96 MiB:\n{md}")


def t_resync_after(args):
    """r1 (`resync-after r0`, converted to minor 0 by drbdadm) waits while
    r0 does its initial sync: PausedSyncS with resync-suspended dependency
    (and peer, from beta's own dependency), then runs once r0 is done."""
    with Cluster(args, ["alpha", "beta"]) as c:
        c.start()
        for n in c.nodes:
            c.image(n, 0, size_mb=8)
            c.image(n, 1, size_mb=8)
        rate = "resync-rate 2048; c-plan-ahead 0;"
        c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"], "disk": rate},
                        {"name": "r1", "volumes": [1], "nodes": ["alpha", "beta"],
                         "port_base": 1000, "disk": rate + " resync-after r0;"}])
        for res in ("r0", "r1"):
            up_all(c, res)
            wait_connected(c, res)
        a, b = c.nodes
        a.adm("primary", "--force", "r0")
        a.adm("primary", "--force", "r1")

        def r1_waits():
            st = res_stats(a, "r1")["connections"][0]["peer_devices"][0]
            r0 = res_stats(a, "r0")["connections"][0]["peer_devices"][0]
            if r0["replication-state"] != "SyncSource":
                raise Failure(f"r0 {r0['replication-state']}")
            if st["replication-state"] != "PausedSyncS":
                raise Failure(f"r1 {st['replication-state']}")
            return True
        c.wait("r1 waits for r0", r1_waits, timeout=10)
        out = a.setup("status", "r1").stdout
        expect("replication:PausedSyncS" in out and "resync-suspended:peer,dependency" in out,
               f"status r1 while r0 syncs:\n{out}")
        c.wait("r0 in sync", lambda: all_in_sync(c, res="r0"), timeout=30)
        c.wait("r1 in sync", lambda: all_in_sync(c, res="r1"), timeout=30)


TESTS = [t_two_nodes_lifecycle, t_two_primaries_refused, t_wrong_shared_secret,
         t_adjust_after_edits, t_maintenance_requests, t_resync_after]


if __name__ == "__main__":
    sys.exit(main(__doc__, TESTS))
