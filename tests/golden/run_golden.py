#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Golden test: our drbdadm against recorded drbd-utils 9.22 outputs.

Two sets of recordings, both made with the oracle in the same sandbox the
differential test uses (tests/integration/oracle_diff.py: one
`unshare --uts --net` per config, host name = first `on` host, its
addresses on lo, DRBD_DRIVER_VERSION_OVERRIDE=9.2.0, no tty, empty
FAKE_DRBDSETUP_SHOW):

  * tests/golden/cases/NAME/drbd.conf with expected/{dump,up,down,adjust}.{out,rc}
    (the case directory's absolute path is stored as @DIR@);
  * the real-world corpus' expected/<entry>.{dump,up} and EXPECTED.tsv
    (its absolute path stored as @CORPUS@).

Unlike the differential test this needs no oracle installed, only root for
unshare (exit 77 = skipped otherwise). Stdout must be byte-identical (after
removing HEAD-only `drbdmeta ... repair-md` lines) and the exit code in the
same class (0 / non-zero) as recorded.

Corpus entries with DRBD 8.4 placements newer drbd-utils reads and 9.22
rejects (`syncer { rate; c-*; }`, `disk { fencing; }`; see
oracle_diff.newer_84_rewrite and docs/compat.md) are checked against
tests/golden/newer84/ENTRY.{dump,up}.{out,rc} instead: the oracle's output
on the rewritten copy, recorded with --record-newer84 (paths as @CORPUS@).

  run_golden.py [--ours BIN]          check
  run_golden.py --record [--oracle BIN] [NAME...]   (re)record tests/golden/cases
  run_golden.py --record-newer84 [--oracle BIN]     (re)record tests/golden/newer84
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import oracle_diff  # noqa: E402

CASES = os.path.join(HERE, "cases")
NEWER84 = os.path.join(HERE, "newer84")


def newer84_base(entry):
    """tests/golden/newer84 file stem for a corpus entry."""
    return os.path.join(NEWER84, entry.replace("/", "__"))


def golden_cases(names):
    out = []
    for n in sorted(os.listdir(CASES)):
        d = os.path.join(CASES, n)
        if os.path.isfile(os.path.join(d, "drbd.conf")) and (not names or n in names):
            out.append(oracle_diff.Case("golden/" + n, d, "drbd.conf"))
    return out


def sandbox_ok():
    if os.geteuid() != 0:
        print("SKIP: run_golden needs root for 'unshare --uts --net' (CI runs as root)")
        return False
    if subprocess.run(["unshare", "--uts", "--net", "true"], capture_output=True).returncode != 0:
        print("SKIP: 'unshare --uts --net' does not work here")
        return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", default=os.path.join(REPO, "build", "bin", "drbdadm"))
    ap.add_argument("--oracle", default="/usr/sbin/drbdadm")
    ap.add_argument("--corpus", default=oracle_diff.DEFAULT_CORPUS)
    ap.add_argument("--record", action="store_true", help="record tests/golden/cases with the oracle")
    ap.add_argument("--record-newer84", action="store_true",
                    help="record tests/golden/newer84 with the oracle on rewritten corpus copies")
    ap.add_argument("--no-corpus", action="store_true")
    ap.add_argument("names", nargs="*", help="only these golden cases")
    a = ap.parse_args()
    a.corpus = os.path.realpath(a.corpus)  # drbdadm prints canonical paths
    if not sandbox_ok():
        return oracle_diff.SKIP
    binary = a.oracle if (a.record or a.record_newer84) else a.ours
    if not os.access(binary, os.X_OK):
        print("SKIP: %s is not there" % binary)
        return oracle_diff.SKIP
    binary = os.path.abspath(binary)
    with tempfile.TemporaryDirectory(prefix="drbdgolden.") as work:
        empty = os.path.join(work, "empty-show.txt")
        open(empty, "w").close()
        impls = {"ours": binary}
        env = {} if a.record else {"ours": {"DRBDADM_ERROR_STYLE": "drbd-utils"}}
        if a.record_newer84:
            os.makedirs(NEWER84, exist_ok=True)
            for i, c in enumerate(oracle_diff.corpus_cases(a.corpus)):
                dest = os.path.join(work, "newer84-%d" % i)
                if not oracle_diff.newer_84_tree(c, dest):
                    continue
                res = oracle_diff.run_case(c, impls, empty, {}, 30, {"ours": dest})
                for name in ("dump", "up"):
                    rc, out, _ = res[("ours", name)]
                    out = out.replace(os.path.realpath(dest).encode(), b"@CORPUS@")
                    with open(newer84_base(c.recorded[1]) + "." + name + ".out", "wb") as f:
                        f.write(out)
                    with open(newer84_base(c.recorded[1]) + "." + name + ".rc", "w") as f:
                        f.write("%d\n" % rc)
                print("recorded newer84 %s: dump=%d up=%d" % (c.label, res[("ours", "dump")][0],
                                                               res[("ours", "up")][0]))
            return 0
        if a.record:
            for c in golden_cases(a.names):
                res = oracle_diff.run_case(c, impls, empty, env, 30)
                exp = os.path.join(c.cwd, "expected")
                os.makedirs(exp, exist_ok=True)
                for name, _ in oracle_diff.COMMANDS:
                    rc, out, err = res[("ours", name)]
                    with open(os.path.join(exp, name + ".out"), "wb") as f:
                        f.write(out.replace(c.cwd.encode(), b"@DIR@"))
                    with open(os.path.join(exp, name + ".rc"), "w") as f:
                        f.write("%d\n" % rc)
                    with open(os.path.join(exp, name + ".err"), "wb") as f:
                        f.write(err.replace(c.cwd.encode(), b"@DIR@"))
                print("recorded %s: %s" % (c.label, " ".join(
                    "%s=%d" % (n, res[("ours", n)][0]) for n, _ in oracle_diff.COMMANDS)))
            return 0

        failed_setup = []
        checks = []  # (case, command, recorded rc, recorded stdout or None, placeholder dir, token)
        recorded_err = {}  # (case label, command) -> recorded stderr (corpus)
        for c in golden_cases(a.names):
            exp = os.path.join(c.cwd, "expected")
            for name, _ in oracle_diff.COMMANDS:
                if os.path.isfile(os.path.join(exp, name + ".rc")):
                    rc = int(open(os.path.join(exp, name + ".rc")).read())
                    out = open(os.path.join(exp, name + ".out"), "rb").read()
                    checks.append((c, name, rc, out, c.cwd, b"@DIR@"))
        if not a.no_corpus and not a.names:
            rows = oracle_diff.load_expected_tsv(a.corpus)
            for i, c in enumerate(oracle_diff.corpus_cases(a.corpus)):
                entry = c.recorded[1]
                if entry not in rows:
                    continue
                if oracle_diff.newer_84_tree(c, os.path.join(work, "newer84-%d" % i)):
                    # recorded from 9.22 on the rewritten copy (newer84/)
                    for name in ("dump", "up"):
                        stem = newer84_base(entry) + "." + name
                        if not os.path.isfile(stem + ".rc"):
                            print("FAIL %s: %s.rc missing (run --record-newer84)" % (c.label, stem))
                            failed_setup.append(c.label)
                            continue
                        rc = int(open(stem + ".rc").read())
                        checks.append((c, name, rc, open(stem + ".out", "rb").read(),
                                       os.path.abspath(a.corpus), b"@CORPUS@"))
                    continue
                for name, idx in (("dump", 0), ("up", 1)):
                    rec = os.path.join(a.corpus, "expected", entry + "." + name)
                    out = open(rec, "rb").read() if os.path.isfile(rec) else None
                    checks.append((c, name, int(rows[entry][idx]), out, os.path.abspath(a.corpus), b"@CORPUS@"))
                    errf = rec + ".stderr"
                    if os.path.isfile(errf):
                        recorded_err[(c.label, name)] = open(errf, "rb").read()
        results = {}
        passed, failed = 0, len(failed_setup)
        newer = []
        for c, name, rc_want, out_want, base, token in checks:
            if c.label not in results:
                results[c.label] = oracle_diff.run_case(c, impls, empty, env, 30)
            rc, out, err = results[c.label][("ours", name)]
            out = oracle_diff.normalise(out.replace(base.encode(), token))
            newer_kw = None
            if rc == 0 and rc_want != 0:
                newer_kw = oracle_diff.newer_syntax_rejection(recorded_err.get((c.label, name), b""))
            if newer_kw:
                # 9.22 stopped at a keyword only newer drbd-utils knows.
                newer.append("%s: %s: 9.22 rejected newer keyword '%s'" % (c.label, name, newer_kw))
                passed += 1
                continue
            if out_want is not None:
                out_want = oracle_diff.normalise_oracle(out_want)
                if name == "adjust":
                    out, out_want = oracle_diff.normalise_adjust(out), oracle_diff.normalise_adjust(out_want)
            probs = []
            if oracle_diff.abnormal(rc) and rc != rc_want:
                probs.append("crashed, timed out or could not run: exit %d, recorded %d" % (rc, rc_want))
            elif (rc == 0) != (rc_want == 0):
                probs.append("exit code %d, recorded %d" % (rc, rc_want))
            want = b"" if out_want is None and rc_want != 0 else out_want
            if want is not None and out != want:
                probs.append("stdout differs:\n" + oracle_diff.short_diff(want, out, "recorded", "ours", 40))
            if probs:
                failed += 1
                print("FAIL %s: drbdadm %s" % (c.label, " ".join(dict(oracle_diff.COMMANDS)[name])))
                for p in probs:
                    print("".join("    " + l + "\n" for l in p.rstrip("\n").split("\n")), end="")
                if rc != 0 and err:
                    print("    ours stderr: " + err.decode("utf-8", "replace").strip()[:300])
            else:
                passed += 1
        for n in newer:
            print("newer syntax (not comparable with 9.22): " + n)
        print("ours=%s" % binary)
        print("%d passed, %d failed" % (passed, failed))
        return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
