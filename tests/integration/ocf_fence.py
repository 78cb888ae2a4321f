#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The fencing handlers (bindir/drbd-cp-fence-peer, drbd-cp-unfence-peer)
called the way DRBD calls them: `drbdadm fence-peer r0` / `drbdadm
unfence-peer r0` run the handler lines of the resource's handlers section,
with drbdadm's environment (DRBD_RESOURCE, DRBD_NODE_ID_<n>,
DRBD_MY_NODE_ID) plus the module's UP_TO_DATE_NODES and DRBD_PEER_NODE_ID,
on a two-node drbd-simd cluster (simd_harness.py). The handlers read the
node's live state through drbdsetup events2 and a CIB kept by a fake
cibadmin (a file; --query/--create/--replace/--delete by element id) that
starts as lib/ocf/testdata/cib_two_node.xml (Pacemaker 2.1.5 shapes).

Checks: with the peer still UpToDate the handler places nothing (exit 1);
after the peer goes away it places crm-fence-peer.9.sh's constraint (exit
4, both nodes online per the CIB), and a second call finds it and changes
nothing (exit 4, CIB byte-identical); once the peer is back and UpToDate,
unfence-peer removes it (exit 0) and a second unfence is a no-op."""

import os
import shutil
import sys

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from simd_harness import (Cluster, expect, main, disk_state, wait_connected,  # noqa: E402
                          connections)

RES = "r0"
CIB_FIXTURE = os.path.join(HERE, "..", "..", "lib", "ocf", "testdata", "cib_two_node.xml")

FAKE_CIBADMIN = r'''#!/usr/bin/env python3
import sys, xml.etree.ElementTree as ET
CIB = %(cib)r
args = sys.argv[1:]
tree = ET.parse(CIB)
cons = tree.getroot().find("configuration/constraints")
with open(CIB + ".log", "a") as log:
    log.write(" ".join(args) + "\n")
if args[:2] == ["--query", "--local"]:
    sys.stdout.write(open(CIB).read())
    sys.exit(0)
x = ET.fromstring(args[args.index("--xml-text") + 1])
old = [c for c in cons if c.get("id") == x.get("id")]
if args[0] == "--create":
    if old:
        sys.exit(76)  # CRM_EX_EXISTS
    cons.append(x)
elif args[0] == "--replace":
    if not old:
        sys.exit(105)  # CRM_EX_NOSUCH
    cons.remove(old[0])
    cons.append(x)
elif args[0] == "--delete":
    if not old:
        sys.exit(0)
    cons.remove(old[0])
else:
    sys.exit(64)
tree.write(CIB)
'''


def constraint_xml():
    return ('<rsc_location rsc="ms-drbd0" id="drbd-fence-by-handler-r0-ms-drbd0">\n'
            ' <rule role="Master" score="-INFINITY" id="drbd-fence-by-handler-r0-rule-ms-drbd0">\n'
            '  <expression attribute="#uname" operation="ne" value="alpha" '
            'id="drbd-fence-by-handler-r0-expr-0-ms-drbd0"/>\n'
            ' </rule>\n</rsc_location>\n')


def handler(c, node, action, up_to_date_mask):
    """`drbdadm <action> r0` on `node`, with the variables the module adds."""
    extra = {"UP_TO_DATE_NODES": up_to_date_mask, "DRBD_PEER_NODE_ID": "1",
             "DRBD_CP_CIBADMIN": c.cibadmin, "DRBD_CP_DRBDSETUP": c.bin("drbdsetup"),
             "DRBD_CP_HOSTNAME": node.name}
    old = os.environ.copy()
    os.environ.update(extra)
    try:
        return node.adm(action, RES, check=False)
    finally:
        os.environ.clear()
        os.environ.update(old)


def cib_text(c):
    with open(c.cib) as f:
        return f.read()


def t_fence_and_unfence_through_drbdadm(args):
    with Cluster(args, ["alpha", "beta"]) as c:
        c.cib = os.path.join(c.dir, "cib.xml")
        shutil.copy(CIB_FIXTURE, c.cib)
        c.cibadmin = os.path.join(c.dir, "cibadmin")
        with open(c.cibadmin, "w") as f:
            f.write(FAKE_CIBADMIN % {"cib": c.cib})
        os.chmod(c.cibadmin, 0o755)
        c.start()
        c.write_config([{"name": RES, "volumes": [0], "nodes": ["alpha", "beta"]}])
        with open(c.conf) as f:
            conf = f.read()
        conf = conf.replace(
            f"resource {RES} {{",
            f"resource {RES} {{\n    handlers {{ fence-peer \"{c.bin('drbd-cp-fence-peer')}\"; "
            f"unfence-peer \"{c.bin('drbd-cp-unfence-peer')}\"; }}", 1)
        with open(c.conf, "w") as f:
            f.write(conf)
        a, b = c.nodes
        for n in c.nodes:
            n.adm("create-md", "--force", RES)
        for n in c.nodes:
            n.adm("up", RES)
        wait_connected(c, RES)
        a.adm("new-current-uuid", "--clear-bitmap", f"{RES}/0")
        c.wait("beta UpToDate", lambda: disk_state(b, RES) == "UpToDate")
        a.adm("primary", RES)

        p = handler(c, a, "fence-peer", "0x3")
        expect(p.returncode == 1, f"fence-peer with an UpToDate peer exited {p.returncode}: "
               f"{p.stderr}")
        expect("All peer disks are UpToDate! Did not place the constraint." in p.stderr, p.stderr)
        expect("<rsc_location" not in cib_text(c), "a constraint was placed")

        b.adm("down", RES)
        c.wait("alpha lost beta",
               lambda: connections(a.status_json(RES), RES).get("beta", {}).get(
                   "connection-state") != "Connected")
        p = handler(c, a, "fence-peer", "0x1")
        expect(p.returncode == 4, f"fence-peer exited {p.returncode}: {p.stderr}")
        expect("placed constraint 'drbd-fence-by-handler-r0-ms-drbd0'" in p.stderr, p.stderr)
        log = open(c.cib + ".log").read()
        expect(f"--create --scope constraints --xml-text {constraint_xml()}" in log, log)
        before = cib_text(c)
        expect('id="drbd-fence-by-handler-r0-ms-drbd0"' in before, before)

        p = handler(c, a, "fence-peer", "0x1")
        expect(p.returncode == 4, f"second fence-peer exited {p.returncode}: {p.stderr}")
        expect("suitable constraint already placed" in p.stderr, p.stderr)
        expect(cib_text(c) == before, "the second fence-peer changed the CIB")

        b.adm("up", RES)
        wait_connected(c, RES)
        c.wait("beta UpToDate again", lambda: disk_state(b, RES) == "UpToDate")
        c.wait("alpha sees beta UpToDate",
               lambda: "peer-disk:UpToDate" in a.events_now(RES))
        p = handler(c, a, "unfence-peer", "0x3")
        expect(p.returncode == 0, f"unfence-peer exited {p.returncode}: {p.stderr}")
        expect("Removed constraint 'drbd-fence-by-handler-r0-ms-drbd0'" in p.stderr, p.stderr)
        expect("<rsc_location" not in cib_text(c), cib_text(c))
        p = handler(c, a, "unfence-peer", "0x3")
        expect(p.returncode == 0 and "No constraint in place, nothing to do." in p.stderr,
               f"second unfence-peer: {p.returncode} {p.stderr}")


def check():
    return None


if __name__ == "__main__":
    sys.exit(main(__doc__, [t_fence_and_unfence_through_drbdadm], check))
