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


if __name__ == "__main__":
    sys.exit(main(__doc__, [t_agent_lifecycle]))
