#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Differential test: our drbdadm for a DRBD 8.4 module against drbd-utils'
(which hands the invocation to /lib/drbd/drbdadm-84).

Both run with DRBD_DRIVER_VERSION_OVERRIDE=8.4.11 and __DRBD_NODE__ set to
the first `on` host of each corpus config. Compared: stdout and the exit
code of
- the `-d` plans of the verbs drbdadm/plan84.h implements, on all resources,
  on the first one by name, by volume and with backend options; where
  drbdadm-84 rejects a config we must exit with the same code (the message
  differs: see docs/compat.md "DRBD 8.4 modules");
- `-d adjust` against running configurations (adjust/*.res + *.show);
- `help`, general and per command.
Exit 77 (skipped) when the oracle is missing.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

ORACLE = "/usr/sbin/drbdadm"
LEGACY = "/lib/drbd/drbdadm-84"
VERBS = ["up", "down", "primary", "secondary", "create-md", "attach", "detach",
         "connect", "disconnect", "resize", "adjust", "invalidate", "invalidate-remote",
         "verify", "pause-sync", "resume-sync", "suspend-io", "resume-io",
         "new-current-uuid", "outdate", "role", "cstate", "dstate", "show-gi", "get-gi",
         "apply-al", "dump-md", "wait-connect", "disk-options", "net-options",
         "resource-options", "status"]
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


def adjust_cases(ours):
    """adjust against a running configuration: tests/differential84/adjust/
    NAME.res with NAME.show, what an 8.4 module's `drbdsetup show` printed.
    drbdadm-84 reads it from a stand-in drbdsetup-84 (-s), ours from
    FAKE_DRBDSETUP_SHOW; the stand-in's directory is cut from the oracle's
    lines."""
    failures = []
    compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        fake = os.path.join(tmp, "drbdsetup-84")
        with open(fake, "w") as f:
            f.write('#!/bin/sh\n[ "$1" = show ] && cat "$K84_SHOW"\nexit 0\n')
        os.chmod(fake, 0o755)
        for cfg in sorted(glob.glob(os.path.join(HERE, "adjust", "*.res"))):
            show = cfg[:-4] + ".show"
            host = first_host(cfg)
            for target in ("all", first_resource(cfg)):
                env = dict(os.environ, DRBD_DRIVER_VERSION_OVERRIDE="8.4.11",
                           __DRBD_NODE__=host, LC_ALL="C", K84_SHOW=show)
                env.pop("DRBD_SIM_SOCKET", None)
                o = subprocess.run([ORACLE, "-s", fake, "-c", cfg, "-d", "adjust", target],
                                   env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                   text=True, timeout=60)
                env["FAKE_DRBDSETUP_SHOW"] = show
                u = subprocess.run([ours, "-c", cfg, "-d", "adjust", target], env=env,
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                   timeout=60)
                oout = o.stdout.replace(tmp + "/", "")
                compared += 1
                if (u.returncode, u.stdout) != (o.returncode, oout):
                    failures.append(f"adjust {os.path.basename(cfg)} {target}: exit "
                                    f"{u.returncode} vs {o.returncode}\n--- ours\n{u.stdout}"
                                    f"{u.stderr}--- oracle\n{oout}")
    return compared, failures


def help_cases(ours):
    """`help` (general and per command) as drbdadm-84 prints it."""
    failures = []
    env = dict(os.environ, DRBD_DRIVER_VERSION_OVERRIDE="8.4.11", LC_ALL="C")
    env.pop("DRBD_SIM_SOCKET", None)
    cases = [[], ["help"], ["--help"]] + [["help", v] for v in (
        "attach", "disk-options", "detach", "connect", "net-options", "disconnect",
        "resource-options", "primary", "new-current-uuid", "up", "adjust")]
    for args in cases:
        o = subprocess.run([ORACLE] + args, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
        u = subprocess.run([ours] + args, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
        if (u.returncode, u.stdout) != (o.returncode, o.stdout):
            failures.append(f"{' '.join(args) or '(no command)'}: exit {u.returncode} vs "
                            f"{o.returncode}\n--- ours\n{u.stdout}--- oracle\n{o.stdout}")
    return len(cases), failures


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
    for check in (adjust_cases, help_cases):
        n, more = check(args.ours)
        compared += n
        failures += more
    for f in failures:
        print("FAIL", f)
    print(f"{compared} plans compared, {rejected} rejections checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
