#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Differential test: our drbdadm's `-d` plans for a DRBD 8.4 module against
drbd-utils' (which hands the invocation to /lib/drbd/drbdadm-84).

Both run with DRBD_DRIVER_VERSION_OVERRIDE=8.4.11 and __DRBD_NODE__ set to
the first `on` host of each corpus config, for the verbs drbdadm/plan84.h
implements, on all resources, on the first one by name, by volume and with
backend options. Compared: stdout and the exit code. Where drbdadm-84
rejects a config we must exit with the same code (the message differs: see
docs/compat.md "DRBD 8.4 modules"). Exit 77 (skipped) when the oracle is
missing.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

ORACLE = "/usr/sbin/drbdadm"
LEGACY = "/lib/drbd/drbdadm-84"
VERBS = ["up", "down", "primary", "secondary", "create-md", "attach", "detach",
         "connect", "disconnect", "resize"]
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = [os.path.join(HERE, "configs"), "/work/shared/corpus/real"]
# Where we differ from drbdadm-84 on purpose (docs/compat.md "DRBD 8.4
# modules"): config -> what we do instead. A listed config that stops
# differing fails the test, so the list stays true.
KNOWN = {
    # drbdadm-84 plans `connect r0 ADDR N/A` for a third host; we refuse
    # with one line (exit 10): 8.4 replicates to one peer.
    "02-three-hosts.res": "refused",
    # fencing written in net { } (DRBD 9 style): drbdadm-84 rejects the
    # file, we plan it as the 8.4 disk option it is.
    "095-puppet-efoft-flexible-two-primaries.res": "accepted",
}


def first_host(path):
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"\s*on\s+([A-Za-z0-9._-]+)", line)
            if m:
                return m.group(1)
    return "none"


def first_resource(path):
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r'\s*resource\s+"?([A-Za-z0-9._-]+)', line)
            if m:
                return m.group(1)
    return None


def run(binary, cfg, host, verb, target="all"):
    env = dict(os.environ, DRBD_DRIVER_VERSION_OVERRIDE="8.4.11", __DRBD_NODE__=host,
               LC_ALL="C")
    env.pop("DRBD_SIM_SOCKET", None)
    p = subprocess.run([binary, "-c", cfg, "-d", verb] + target.split(), env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       errors="replace", timeout=60)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if not (os.access(ORACLE, os.X_OK) and os.access(LEGACY, os.X_OK)):
        print("SKIP: drbd-utils with drbdadm-84 not installed")
        return 77
    configs = []
    for d in CORPUS:
        configs += sorted(glob.glob(os.path.join(d, "*.res")))
    if not configs:
        print("SKIP: no configs")
        return 77
    compared = rejected = 0
    failures = []
    for cfg in configs:
        host = first_host(cfg)
        base = os.path.basename(cfg)
        res = first_resource(cfg)
        runs = [(verb, "all") for verb in VERBS]
        if res:
            runs += [("up", res), ("primary", res + "/0"), ("down", res + "/0"),
                     ("attach", res + "/0"), ("connect", res),
                     ("primary", "--force " + res), ("attach", "--size=10G " + res),
                     ("create-md", "--force " + res + "/0"),
                     ("connect", "--discard-my-data " + res)]
        differs = False
        for verb, target in runs:
            orc, oout, _ = run(ORACLE, cfg, host, verb, target)
            urc, uout, uerr = run(args.ours, cfg, host, verb, target)
            name = f"{base} {verb} {target}"
            if base in KNOWN:
                if (urc, uout) != (orc, oout):
                    differs = True
                    if KNOWN[base] == "refused" and urc != 10:
                        failures.append(f"{name}: expected a refusal (exit 10), got {urc}")
                    if KNOWN[base] == "accepted" and urc != 0:
                        failures.append(f"{name}: expected a plan (exit 0), got {urc}")
                continue
            if orc != 0:
                rejected += 1
                if urc != orc:
                    failures.append(f"{name}: drbdadm-84 exits {orc}, we exit {urc}")
                continue
            compared += 1
            if urc != orc or uout != oout:
                failures.append(f"{name}: exit {urc} vs {orc}\n--- ours\n{uout}{uerr}--- oracle\n{oout}")
            elif args.verbose:
                print(f"ok {name}")
        if base in KNOWN and not differs:
            failures.append(f"{base}: listed in KNOWN but now matches drbdadm-84: remove it")
    for f in failures:
        print("FAIL", f)
    print(f"{compared} plans compared, {rejected} rejections checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
