#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Live smoke test of the drbd OCF agent (bindir/ocf-drbd) against a
two-node drbd-simd cluster (tests/integration/simd_harness.py): start,
monitor, promotion scores (crm_attribute replaced by a recorder), promote,
demote and stop, with the OCF exit codes Pacemaker would see."""

import os
import sys

sys.dont_write_bytecode = True

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from simd_harness import Cluster, expect, main, role, disk_state, wait_connected  # noqa: E402

OCF_SUCCESS, OCF_ERR_CONFIGURED, OCF_NOT_RUNNING, OCF_RUNNING_PROMOTED = 0, 6, 7, 8


class Agent:
    def __init__(self, cluster, node, res):
        self.c, self.node, self.res = cluster, node, res
        self.scores = os.path.join(cluster.dir, f"{node.name}.scores")
        self.crm = os.path.join(cluster.dir, f"{node.name}-crm_attribute")
        with open(self.crm, "w") as f:
            f.write(f"#!/bin/sh\necho \"$*\" >> {self.scores}\n")
        os.chmod(self.crm, 0o755)

    def __call__(self, action, **extra):
        env = {"OCF_RESKEY_drbd_resource": self.res, "OCF_RESKEY_drbdconf": self.c.conf,
               "DRBD_CP_DRBDADM": self.c.bin("drbdadm"),
               "DRBD_CP_DRBDSETUP": self.c.bin("drbdsetup"), "DRBD_CP_CRM_ATTRIBUTE": self.crm}
        env.update(extra)
        old = os.environ.copy()
        os.environ.update(env)
        try:
            p = self.node.run_cmd([self.c.bin("ocf-drbd"), action], check=False)
        finally:
            os.environ.clear()
            os.environ.update(old)
        self.stderr = p.stderr
        return p.returncode

    def last_score(self):
        with open(self.scores) as f:
            return f.read().splitlines()[-1]


def t_agent_lifecycle(args):
    with Cluster(args, ["alpha", "beta"]) as c:
        c.start()
        c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"]}])
        a, b = c.nodes
        for n in c.nodes:
            n.adm("create-md", "--force", "r0")
        ag = {n.name: Agent(c, n, "r0") for n in c.nodes}
        expect(ag["alpha"]("monitor", OCF_RESKEY_CRM_meta_interval="0") == OCF_NOT_RUNNING,
               "probe of a stopped resource is not OCF_NOT_RUNNING")
        expect(ag["alpha"]("validate-all") == OCF_SUCCESS, "validate-all failed")
        bad = Agent(c, a, "nosuch")
        expect(bad("validate-all") == OCF_ERR_CONFIGURED, "validate-all accepted a bad resource")
        for n in c.nodes:
            expect(ag[n.name]("start") == OCF_SUCCESS, f"start on {n.name} failed")
        wait_connected(c, "r0")
        # Both Inconsistent: no promotion score anywhere.
        expect(ag["alpha"]("monitor") == OCF_SUCCESS, "monitor of Secondary is not 0")
        expect(ag["alpha"].last_score() == "--promotion -D",
               f"Inconsistent node kept a score: {ag['alpha'].last_score()}")
        # Skip the initial sync: both UpToDate, each may be promoted.
        a.adm("new-current-uuid", "--clear-bitmap", "r0/0")
        c.wait("beta UpToDate", lambda: disk_state(b, "r0") == "UpToDate")
        expect(ag["beta"]("monitor") == OCF_SUCCESS, "monitor of UpToDate Secondary is not 0")
        expect(ag["beta"].last_score() == "--promotion -v 10000", ag["beta"].last_score())
        expect(ag["alpha"]("promote") == OCF_SUCCESS, "promote of alpha failed")
        expect(ag["alpha"]("monitor") == OCF_RUNNING_PROMOTED, "monitor of Primary is not 8")
        expect(ag["alpha"].last_score() == "--promotion -v 10000", ag["alpha"].last_score())
        expect(ag["alpha"]("demote") == OCF_SUCCESS, "demote failed")
        expect(role(a, "r0") == "Secondary", "alpha still Primary after demote")
        expect(ag["beta"]("promote") == OCF_SUCCESS, "promote of beta failed")
        expect(ag["beta"]("monitor") == OCF_RUNNING_PROMOTED, "beta monitor is not 8")
        for n in c.nodes:
            expect(ag[n.name]("stop") == OCF_SUCCESS, f"stop on {n.name} failed")
            expect(ag[n.name]("monitor") == OCF_NOT_RUNNING, f"{n.name} still running")


# The clone meta attributes Pacemaker passes for a dual-primary promotable clone.
DUAL = {"OCF_RESKEY_CRM_meta_promoted_max": "2", "OCF_RESKEY_CRM_meta_promoted_node_max": "1",
        "OCF_RESKEY_CRM_meta_clone_max": "2", "OCF_RESKEY_CRM_meta_clone_node_max": "1",
        "OCF_RESKEY_CRM_meta_notify": "true"}


def t_dual_primary(args):
    """promoted-max=2: refused (6) for a resource without allow-two-primaries,
    read from our drbdadm's dump-xml; with it, both nodes start and are
    promoted, with a warning that fencing is not resource-and-stonith."""
    with Cluster(args, ["alpha", "beta"]) as c:
        c.start()
        c.write_config([{"name": "r0", "volumes": [0], "nodes": ["alpha", "beta"]},
                        {"name": "r1", "volumes": [0], "nodes": ["alpha", "beta"],
                         "net": "allow-two-primaries yes;", "port_base": 1, "minor_base": 1}])
        a, b = c.nodes
        single = Agent(c, a, "r0")
        for action in ("validate-all", "start"):
            expect(single(action, **DUAL) == OCF_ERR_CONFIGURED,
                   f"{action} accepted promoted-max=2 without allow-two-primaries")
            expect("ocf-exit-reason:promoted-max=2, but DRBD resource r0 does not allow two "
                   "primaries: set 'allow-two-primaries yes;' in its net section" in single.stderr,
                   single.stderr)
        expect(single("monitor", OCF_RESKEY_CRM_meta_interval="0", **DUAL) == OCF_NOT_RUNNING,
               "probe refused")
        for n in c.nodes:
            n.adm("create-md", "--force", "r1")
        ag = {n.name: Agent(c, n, "r1") for n in c.nodes}
        expect(ag["alpha"]("validate-all", **DUAL) == OCF_SUCCESS, ag["alpha"].stderr)
        expect("WARNING: promoted-max=2 with fencing dont-care" in ag["alpha"].stderr,
               ag["alpha"].stderr)
        for n in c.nodes:
            expect(ag[n.name]("start", **DUAL) == OCF_SUCCESS, f"start on {n.name}")
        wait_connected(c, "r1")
        a.adm("new-current-uuid", "--clear-bitmap", "r1/0")
        c.wait("beta UpToDate", lambda: disk_state(b, "r1") == "UpToDate")
        for n in c.nodes:
            expect(ag[n.name]("promote", **DUAL) == OCF_SUCCESS,
                   f"promote on {n.name}: {ag[n.name].stderr}")
        for n in c.nodes:
            expect(role(n, "r1") == "Primary", f"{n.name} is not Primary")
            expect(ag[n.name]("monitor", **DUAL) == OCF_RUNNING_PROMOTED, f"{n.name} monitor")
        for n in c.nodes:
            expect(ag[n.name]("demote", **DUAL) == OCF_SUCCESS, f"demote on {n.name}")
            expect(ag[n.name]("stop", **DUAL) == OCF_SUCCESS, f"stop on {n.name}")


if __name__ == "__main__":
    sys.exit(main(__doc__, [t_agent_lifecycle, t_dual_primary]))
