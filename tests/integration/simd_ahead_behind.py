#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The ahead-behind scenario on live drbd-simd processes (issues #5/#6):
two nodes with protocol A and `on-congestion pull-ahead; congestion-fill
256k;`, every connection relayed by a TcpProxy of the test. The link is
cut while the Primary writes 4 MiB through NBD: the data in flight reaches
congestion-fill, the Primary goes Ahead ("Congestion-fill threshold
reached"), marks further writes out of sync instead of sending them, and
once the link heals and the barrier acks drained what was in flight, it
resyncs what it marked (Ahead -> SyncSource, Behind -> SyncTarget) and both
return to Established with byte-identical data. Also: `on-congestion
disconnect` drops the connection instead (StandAlone), and a reconnect
resyncs the writes. Client: qemu-io.
"""

import hashlib
import os
import shutil
import sys
import time

from simd_harness import (Cluster, TcpProxy, all_in_sync, conn_state, expect, main, qemu_io,
                          up_skip_sync_primary)

MIB = 1 << 20
IMG_MB = 16


def up(c, net):
    proxies = {(x.name, y.name): TcpProxy(y.port) for x in c.nodes for y in c.nodes if x is not y}
    c.start()
    for n in c.nodes:
        c.image(n, 0, size_mb=IMG_MB)
    res = {"name": "r0", "volumes": [0], "nodes": [n.name for n in c.nodes], "net": net,
           "disk": "c-plan-ahead 0; resync-rate 100M;"}
    for x in c.nodes:
        x.conf = os.path.join(c.dir, f"drbd.{x.name}.conf")
        c.write_config([res], path=x.conf, port_of=lambda name, x=x: x.port if name == x.name
                       else proxies[(x.name, name)].port)
    up_skip_sync_primary(c, "r0")
    return proxies


def data_sha(node):
    with open(node.disks[0], "rb") as f:
        return hashlib.sha256(f.read((IMG_MB - 1) * MIB)).hexdigest()  # the data area


def cut(proxies, on):
    for p in proxies.values():
        p.cut() if on else p.heal()


def t_pull_ahead_then_resync(args):
    with Cluster(args, ["alpha", "beta"]) as c:
        alpha, beta = c.nodes
        proxies = up(c, "protocol A; on-congestion pull-ahead; congestion-fill 256k;")
        cut(proxies, True)
        qemu_io(alpha, *[f"write -P {0x20 + i} {i * MIB} {MIB}" for i in range(4)])
        time.sleep(0.3)
        cut(proxies, False)
        c.wait("in sync again", lambda: all_in_sync(c), timeout=30)
        a_log, b_log = open(alpha.log).read(), open(beta.log).read()
        expect("drbd r0/0 drbd0: Congestion-fill threshold reached (" in a_log, "no congestion")
        expect("repl( Established -> Ahead ) [congestion]" in a_log, "alpha never Ahead")
        expect("repl( Ahead -> SyncSource ) [postponed-resync]" in a_log, "no Ahead resync")
        expect("repl( Established -> Behind ) [peer-state]" in b_log, "beta never Behind")
        expect("repl( Behind -> SyncTarget ) [postponed-resync]" in b_log, "no Behind resync")
        expect(data_sha(alpha) == data_sha(beta), "replicas differ")
        for p in proxies.values():
            p.close()


def t_disconnect_on_congestion(args):
    with Cluster(args, ["alpha", "beta"]) as c:
        alpha, beta = c.nodes
        proxies = up(c, "protocol A; on-congestion disconnect; congestion-fill 256k;")
        cut(proxies, True)
        qemu_io(alpha, *[f"write -P {0x40 + i} {i * MIB} {MIB}" for i in range(2)])
        c.wait("alpha StandAlone", lambda: conn_state(alpha, "r0", "beta") == "StandAlone")
        cut(proxies, False)
        expect("conn( Connected -> Disconnecting )" in open(alpha.log).read(), "no disconnect")
        alpha.adm("connect", "r0")
        beta.adm("disconnect", "r0")
        beta.adm("connect", "r0")
        c.wait("in sync again", lambda: all_in_sync(c), timeout=30)
        expect(data_sha(alpha) == data_sha(beta), "replicas differ")
        for p in proxies.values():
            p.close()


def check():
    return None if shutil.which("qemu-io") else "qemu-io (qemu-utils) not installed"


if __name__ == "__main__":
    sys.exit(main(__doc__, [t_pull_ahead_then_resync, t_disconnect_on_congestion], check=check))
