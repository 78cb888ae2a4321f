#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ocf-tester (Debian resource-agents) against the drbd OCF agent
(bindir/ocf-drbd) on a node of a two-node drbd-simd cluster
(simd_harness.py): issue #8's acceptance point.

ocf-tester runs meta-data (validated with xmllint against ra-api-1.dtd),
validate-all, monitor, the probe, start, notify, promote/demote in every
order it checks, stop, restart and the repeated start/stop, and compares
each exit code with the OCF rules. It is a shell script: the agent inherits
its environment, so the node's identity (DRBD_SIM_SOCKET, __DRBD_NODE__) and
the tool overrides (DRBD_CP_DRBDADM, DRBD_CP_DRBDSETUP) reach the agent and,
through it, drbdadm and drbdsetup. No Pacemaker runs here: crm_attribute is
either missing or has no CIB, which the agent logs and otherwise ignores.

The peer (beta) stays up and Connected throughout, and both disks start
UpToDate, so the agent's node (alpha) can be promoted after every start.
Skips (77) when ocf-tester is not installed."""

import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simd_harness import (Cluster, expect, main, role, disk_state, up_all,  # noqa: E402
                          wait_connected)

RES = "r0"


def check():
    if not shutil.which("ocf-tester"):
        return "ocf-tester not installed (Debian package resource-agents)"
    return None


def install_agent(c):
    """Copies the agent where ocf-tester's permission check (it runs
    `meta-data` as user nobody when we are root) can reach it: the
    cluster directory is made traversable, the agent 0755."""
    os.chmod(c.dir, 0o711)
    agent_dir = os.path.join(c.dir, "agent")
    os.makedirs(agent_dir, mode=0o755, exist_ok=True)
    os.chmod(agent_dir, 0o755)
    agent = os.path.join(agent_dir, "drbd")
    shutil.copy(c.bin("ocf-drbd"), agent)
    os.chmod(agent, 0o755)
    return agent


def ocf_tester(c, node, agent, res):
    env = node.env()
    env["DRBD_CP_DRBDADM"] = c.bin("drbdadm")
    env["DRBD_CP_DRBDSETUP"] = c.bin("drbdsetup")
    env.pop("OCF_ROOT", None)
    cmd = ["ocf-tester", "-n", f"ms_{res}", "-o", f"drbd_resource={res}",
           "-o", f"drbdconf={c.conf}", agent]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if c.verbose:
        print(f"[{node.name}] {' '.join(cmd)} -> {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def t_ocf_tester_passes(args):
    if not os.access(os.path.join(args.bindir, "ocf-drbd"), os.X_OK):
        raise AssertionError(f"ocf-drbd not built in {args.bindir}")
    with Cluster(args, ["alpha", "beta"]) as c:
        c.start()
        c.write_config([{"name": RES, "volumes": [0], "nodes": ["alpha", "beta"]}])
        a, b = c.nodes
        up_all(c, RES)
        wait_connected(c, RES)
        # Skip the initial sync: both UpToDate, so alpha may be promoted.
        a.adm("new-current-uuid", "--clear-bitmap", f"{RES}/0")
        c.wait("beta UpToDate", lambda: disk_state(b, RES) == "UpToDate")
        # ocf-tester starts from a stopped resource on alpha.
        a.adm("down", RES)
        agent = install_agent(c)

        p = ocf_tester(c, a, agent, RES)
        out = p.stdout + p.stderr
        expect(p.returncode == 0 and f"{agent} passed all tests" in p.stdout,
               f"ocf-tester exited {p.returncode}:\n{out}")
        expect("* rc=" not in out, f"ocf-tester reported a failed check:\n{out}")

        # The promotions reached the peer (ocf-tester promotes three times
        # from Secondary), and ocf-tester ends with the resource stopped.
        with open(b.log) as f:
            promoted = f.read().count("peer( Secondary -> Primary )")
        expect(promoted >= 3, f"beta saw alpha become Primary {promoted} times, expected 3")
        expect(a.setup("events2", "--now", RES, check=False).stdout.strip() in ("", "exists -"),
               f"{RES} still exists on alpha after ocf-tester")
        expect(role(b, RES) == "Secondary", "beta is not Secondary")
        expect(disk_state(b, RES) == "UpToDate", "beta is not UpToDate")

        # The control: a resource drbdadm does not know fails validation,
        # which ocf-tester reports and exits non-zero on.
        p = ocf_tester(c, a, agent, "nosuch")
        expect(p.returncode != 0 and "Validation failed" in p.stdout + p.stderr,
               f"ocf-tester accepted an unknown resource (exit {p.returncode}):\n"
               f"{p.stdout}{p.stderr}")


if __name__ == "__main__":
    sys.exit(main(__doc__, [t_ocf_tester_passes], check))
