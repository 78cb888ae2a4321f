#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Differential test: our drbdadm against the drbd-utils 9.22 oracle, live.

For every config (the repo's config/ and tests/ configs, the real-world
corpus, generated configs, and corpus entries with random token edits) both binaries run in ONE private UTS+net
namespace per config (`unshare --uts --net`, host name = the config's first
`on` host, its addresses on lo, as the corpus runner does), with
DRBD_DRIVER_VERSION_OVERRIDE=9.2.0, stdin from /dev/null and stdout to a file
(no tty: no IP verification), and an empty FAKE_DRBDSETUP_SHOW:

    dump all | -d up all | -d down all | -d adjust all

A config passes when, for every command, both exit codes are in the same
class (0 = accept, non-zero = reject) and stdout is byte-identical after
normalisation. Normalisation is limited to what the issue allows:
  * `drbdmeta MINOR v0N ... repair-md` lines (printed by drbd-utils after
    9.22; our default may follow HEAD) are removed;
  * the oracle's floating-peer names (`--_name=ADDR:PORT`) are mapped to the
    newer form drbd-cp prints (`ADDR_PORT`, see normalise_oracle);
  * a config 9.22 rejects only because it stops at a keyword newer
    drbd-utils knows (rows marked "after 9.22" in docs/reference/config.md)
    and we accept is reported as "newer syntax", not compared;
  * 9.22's drbd-proxy-ctl lines are mapped to the newer form (no `del
    connection` before `add connection`, `--memlimit=` on add, `-c` before
    the closing `set plugin ... END`);
  * in `-d adjust` output, runs of peer-device-options lines are compared
    in sorted order (newer adjust orders them by volume, 9.22 by peer);
  * a config with DRBD 8.4 placements newer drbd-utils reads and 9.22
    rejects (peer-device options such as `rate`/`c-*` in `syncer { }`,
    `fencing` in a resource-level `disk { }`) is given to the oracle as a
    copy with exactly those statements moved to where 9.22 takes them
    (newer_84_rewrite; the copy's paths are mapped back), which makes 9.22
    produce what newer drbd-utils does for the original; the configs
    concerned are listed at the end of the run (51 with the default seeds:
    41 corpus entries, the rest mutated ones; see docs/compat.md);
  * nothing else (both sides run in the same directory, so absolute paths
    agree; the recorded corpus files use @CORPUS@, substituted for the
    cross-check only).
The oracle's live output is also cross-checked against the recorded corpus
outputs (expected/*.dump, *.up and EXPECTED.tsv): a mismatch means the
sandbox differs from the one the corpus was recorded in.

Needs root (unshare). Exits 77 (ctest: skipped) with a message otherwise.
Prints a diff per failing config and a final line `N passed, N failed`.

Examples:
  tests/integration/oracle_diff.py                      # build/bin/drbdadm vs /usr/sbin/drbdadm
  tests/integration/oracle_diff.py --ours /usr/sbin/drbdadm   # harness self-check
  tests/integration/oracle_diff.py --only corpus --filter 002-
  tests/integration/oracle_diff.py --only generated --seed 1234 --generated 1 --no-fresh
"""
import argparse
import concurrent.futures
import difflib
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import confhosts  # noqa: E402
import gen_configs  # noqa: E402

# shared/ sits beside the repository (CI clones it that way); DRBD_SHARED overrides.
# realpath: drbdadm prints canonical paths, so the corpus placeholder must match them.
SHARED = os.path.realpath(os.environ.get("DRBD_SHARED") or os.path.join(REPO, "..", "shared"))
DEFAULT_CORPUS = os.path.join(SHARED, "corpus", "real")
COMMANDS = [("dump", ["dump", "all"]), ("up", ["-d", "up", "all"]),
            ("down", ["-d", "down", "all"]), ("adjust", ["-d", "adjust", "all"])]
REPAIR_MD = re.compile(rb"^drbdmeta \S+ v0\d \S+ \S+ repair-md\n", re.M)
SKIP = 77


def abnormal(rc):
    """timeout(1)'s 124-127, a signal (sh reports 128+N), or no result at all:
    never an acceptable way to reject a config."""
    return rc < 0 or 124 <= rc <= 127 or rc >= 128


# drbd-utils after 9.22 names a floating peer (its implicit `--_name`) by
# `ADDR:PORT` with every byte outside [0-9A-Za-z+-._] turned into `_`; 9.22
# used `ADDR:PORT` (IPv4) or `ipv6 [ADDR]:PORT` verbatim. drbd-cp follows the
# newer form (docs/compat.md), so the oracle's names are mapped to it.
FLOATING_NAME = re.compile(rb"--_name=((?:\\.|[^\s\\])+)")
FLOATING_922 = re.compile(rb"^(?:(\d{1,3}(?:\.\d{1,3}){3})|ipv6 \[([^\]]+)\]):(\d+)$")


def _floating_name_to_newer(m):
    raw = re.sub(rb"\\(.)", rb"\1", m.group(1))  # undo drbdadm's shell escaping
    f = FLOATING_922.match(raw)
    if not f:
        return m.group(0)
    addr = f.group(1) or f.group(2)
    return b"--_name=" + re.sub(rb"[^0-9A-Za-z+\-._]", b"_", addr + b":" + f.group(3))


def normalise(b):
    return REPAIR_MD.sub(b"", b)


def newer_keywords():
    """Keywords drbd-utils learnt after 9.22, from the option table (the
    generated reference marks those rows) plus the newer grammar words."""
    kws = {b"tiebreaker", b"outside-address", b"_cstate"}
    ref = os.path.join(REPO, "docs", "reference", "config.md")
    with open(ref, "rb") as f:
        for line in f:
            m = re.match(rb"^\| `([a-z0-9-]+)` .*after 9\.22", line)
            if m:
                kws.add(m.group(1))
    return kws


NEWER_KEYWORDS = newer_keywords()
ORACLE_GOT = re.compile(rb"but got '([^']*)'")


def newer_syntax_rejection(err):
    """The newer keyword 9.22 choked on, if that is why it rejected."""
    m = ORACLE_GOT.search(err)
    if m and m.group(1) in NEWER_KEYWORDS:
        return m.group(1).decode()
    return None


PROXY_DEL = re.compile(rb"^drbd-proxy-ctl -c del\\ connection\\ (\S+)$")
PROXY_ADD = re.compile(rb"^drbd-proxy-ctl -c add\\ connection\\ (\S+?)\\ ")
PROXY_MEMLIMIT = re.compile(rb"^drbd-proxy-ctl -c set\\ memlimit\\ (\S+?)\\ (\S+?) ")
PROXY_PLUGIN_END = re.compile(rb"(?<!-c) (set\\ plugin\\ \S+?\\ \d+\\ END)$")


def _proxy_to_newer(lines):
    """9.22's drbd-proxy-ctl lines in the form newer drbd-utils prints them:
    no `del connection` before adding a connection the proxy does not know,
    `--memlimit=` on `add connection`, and `-c` before the closing
    `set plugin ... END`."""
    added = {m.group(1) for m in map(PROXY_ADD.match, lines) if m}
    memlimit = {m.group(1): m.group(2) for m in map(PROXY_MEMLIMIT.match, lines) if m}
    out = []
    for line in lines:
        m = PROXY_DEL.match(line)
        if m and m.group(1) in added:
            continue
        m = PROXY_ADD.match(line)
        if m and m.group(1) in memlimit and b"--memlimit=" not in line:
            line += b"\\ --memlimit=" + memlimit[m.group(1)]
        if line.startswith(b"drbd-proxy-ctl "):
            line = PROXY_PLUGIN_END.sub(rb" -c \1", line)
        out.append(line)
    return out


def _sort_peer_device_runs(lines):
    """Newer drbd-utils' adjust orders the peer-device-options of a resource
    by volume, 9.22 by connection: compare each run of them as a set."""
    out, run = [], []
    for line in lines + [b""]:
        if line.startswith(b"drbdsetup peer-device-options "):
            run.append(line)
            continue
        out.extend(sorted(run))
        run = []
        out.append(line)
    return out[:-1]


def normalise_adjust(b):
    return b"\n".join(_sort_peer_device_runs(b.split(b"\n")))


def normalise_oracle(b):
    """What newer upstream (and drbd-cp) prints where 9.22 differs."""
    b = FLOATING_NAME.sub(_floating_name_to_newer, normalise(b))
    return b"\n".join(_proxy_to_newer(b.split(b"\n")))


# drbd-utils after 9.22 reads two DRBD 8.4 placements 9.22 rejects:
#   * in a resource-level (or common) `syncer { }`, the peer-device options
#     (`rate` = `resync-rate`, `c-plan-ahead`, `c-delay-target`,
#     `c-fill-target`, `c-max-rate`, `c-min-rate`) go to the resource's
#     peer-device options, exactly as if written in its `disk { }`;
#   * `fencing` in a resource-level (or common) `disk { }` goes to the
#     resource's net options, exactly as if written in its `net { }`.
# drbd-cp follows the newer reading. To compare such a config with 9.22, the
# oracle runs on a copy where only those statements are moved to where 9.22
# takes them (newer_84_rewrite): into the resource's existing `disk { }` /
# `net { }` (at its start if the source section came first, at its end
# otherwise, so the option order is the one newer drbd-utils builds), or into
# a new section right after the source section. Newlines are kept, so line
# numbers in the output do not move. Nothing else is rewritten.
SYNCER_PD_OPTIONS = {b"resync-rate", b"c-plan-ahead", b"c-delay-target", b"c-fill-target",
                     b"c-max-rate", b"c-min-rate"}
_CONF_TOKEN = re.compile(rb'\s+|#[^\n]*|"(?:\\.|[^"\\\n])*"|[{};]|[^\s{};"#]+|.', re.S)


def _conf_tokens(text):
    return [(m.start(), m.end()) for m in _CONF_TOKEN.finditer(text)
            if not text[m.start():m.end()].isspace() and not text.startswith(b"#", m.start())]


def _conf_blocks(text, toks):
    """The top-level blocks as nested frames {kw, open, close, stmts, children}
    (token indices), or None if the braces do not balance."""
    top, stack, stmt_start = [], [], 0
    for i, (a, b) in enumerate(toks):
        t = text[a:b]
        if t == b"{":
            frame = {"kw": text[toks[stmt_start][0]:toks[stmt_start][1]] if stmt_start < i else b"",
                     "open": i, "close": None, "stmts": [], "children": []}
            (stack[-1]["children"] if stack else top).append(frame)
            stack.append(frame)
            stmt_start = i + 1
        elif t == b"}":
            if not stack:
                return None
            stack.pop()["close"] = i
            stmt_start = i + 1
        elif t == b";":
            if stack:
                stack[-1]["stmts"].append((stmt_start, i))
            stmt_start = i + 1
    return None if stack else top


def newer_84_rewrite(text):
    """text with the 8.4 placements newer drbd-utils accepts moved to where
    9.22 accepts them (see above); returns (new text, number of moved
    statements)."""
    toks = _conf_tokens(text)
    top = _conf_blocks(text, toks)
    if top is None:
        return text, 0
    edits = []  # (offset, bytes to delete, bytes to insert)
    moved = 0

    def stmt_text(s, e, rename=None):
        body = text[toks[s][0]:toks[e][1]].replace(b"\n", b" ")
        if rename:
            body = rename + body[toks[s][1] - toks[s][0]:]
        return body

    def blank(s, e):
        a, b = toks[s][0], toks[e][1]
        edits.append((a, b - a, bytes(c if c == 0x0A else 0x20 for c in text[a:b])))

    def move(src, stmts, kw, target):
        if target is None:
            at = toks[src["close"]][1]
            edits.append((at, 0, b" " + kw + b" { " + b" ".join(stmts) + b" }"))
        elif src["open"] < target["open"]:
            edits.append((toks[target["open"]][1], 0, b" " + b" ".join(stmts)))
        else:
            edits.append((toks[target["close"]][0], 0, b" ".join(stmts) + b" "))

    for block in top:
        if block["kw"] not in (b"resource", b"common"):
            continue
        sections = {}
        for child in block["children"]:
            # a section opens with `KEYWORD {` (not `on NAME {`, `volume N {`)
            kw_tok = toks[child["open"] - 1]
            if text[kw_tok[0]:kw_tok[1]] == child["kw"]:
                sections.setdefault(child["kw"], child)
        syncer, disk, net = sections.get(b"syncer"), sections.get(b"disk"), sections.get(b"net")
        if syncer is not None:
            pd = []
            for s, e in syncer["stmts"]:
                name = text[toks[s][0]:toks[s][1]]
                alias = b"resync-rate" if name == b"rate" else name
                if alias in SYNCER_PD_OPTIONS:
                    pd.append(stmt_text(s, e, alias if alias != name else None))
                    blank(s, e)
            if pd:
                move(syncer, pd, b"disk", disk)
                moved += len(pd)
        if disk is not None:
            fencing = []
            for s, e in disk["stmts"]:
                if text[toks[s][0]:toks[s][1]] == b"fencing":
                    fencing.append(stmt_text(s, e))
                    blank(s, e)
            if fencing:
                move(disk, fencing, b"net", net)
                moved += len(fencing)
    if not moved:
        return text, 0
    out = text
    for at, n, ins in sorted(edits, key=lambda x: x[0], reverse=True):
        out = out[:at] + ins + out[at + n:]
    return out, moved


def newer_84_tree(case, dest):
    """Copies the files of case (its first path component under case.cwd)
    to dest with newer_84_rewrite applied; returns the number of moved
    statements (0: nothing to rewrite, dest unused)."""
    top = case.cfg.split("/")[0]
    src = os.path.join(case.cwd, top)
    files = []
    if os.path.isdir(src):
        for root, _, fs in os.walk(src):
            files += [os.path.relpath(os.path.join(root, f), case.cwd) for f in fs]
    else:
        files = [top]
    moved = 0
    out = {}
    for rel in files:
        try:
            text = open(os.path.join(case.cwd, rel), "rb").read()
        except OSError:
            continue
        new, n = newer_84_rewrite(text)
        moved += n
        out[rel] = new
    if moved:
        for rel, text in out.items():
            p = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(text)
    return moved


class Case:
    def __init__(self, label, cwd, cfg, recorded=None):
        self.label = label        # shown in reports
        self.cwd = cwd            # directory drbdadm runs in
        self.cfg = cfg            # -c argument, relative to cwd
        self.recorded = recorded  # (corpus_dir, entry) for the cross-check, or None


def repo_cases():
    cases = []
    cfgdir = os.path.join(REPO, "config")
    if os.path.isfile(os.path.join(cfgdir, "drbd.conf")):
        cases.append(Case("config/drbd.conf", cfgdir, "drbd.conf"))
    # config/ and tests/, plus the configs the unit tests keep in testdata/
    for sub in ("config/drbd.d", "tests", "lib/config/testdata", "drbdadm/testdata"):
        base = os.path.join(REPO, sub)
        for root, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in ("fuzz",))
            for f in sorted(files):
                if f.endswith((".res", ".conf")):
                    rel = os.path.relpath(os.path.join(root, f), REPO)
                    cases.append(Case(rel, root, f))
    return cases


def corpus_cases(corpus):
    cases = []
    if not os.path.isdir(corpus):
        return cases
    for e in sorted(os.listdir(corpus)):
        p = os.path.join(corpus, e)
        if not re.match(r"^\d{3}-", e):
            continue
        if os.path.isdir(p) and os.path.isfile(os.path.join(p, "drbd.conf")):
            m = e + "/drbd.conf"
        elif e.endswith(".res"):
            m = e
        else:
            continue
        cases.append(Case("corpus/" + m, corpus, m, recorded=(corpus, m)))
    return cases


def generated_cases(workdir, seeds):
    cases = []
    for s in seeds:
        files, desc = gen_configs.generate_case(s)
        d = os.path.join(workdir, "seed-%d" % s)
        gen_configs.write_case(d, files)
        cases.append(Case("generated/seed-%d (%s)" % (s, desc), d, "drbd.conf"))
    return cases


def mutated_corpus_cases(workdir, corpus, seeds):
    """Corpus entries with 1-3 random token edits (gen_configs.mutate): the
    real-world variety pushed through the scanner and parser error paths."""
    entries = corpus_cases(corpus)
    cases = []
    if not entries:
        return cases
    for s in seeds:
        g = gen_configs.Gen(s)
        src = g.pick(entries)
        top = src.cfg.split("/")[0]
        d = os.path.join(workdir, "mut-%d" % s)
        files = {}
        if os.path.isdir(os.path.join(corpus, top)):
            for root, _, fs in os.walk(os.path.join(corpus, top)):
                for f in fs:
                    full = os.path.join(root, f)
                    with open(full, encoding="utf-8", errors="surrogateescape") as fh:
                        files[os.path.relpath(full, corpus)] = fh.read()
        else:
            with open(os.path.join(corpus, top), encoding="utf-8", errors="surrogateescape") as fh:
                files[top] = fh.read()
        desc = gen_configs.mutate(g, files)
        for rel, text in files.items():
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w", encoding="utf-8", errors="surrogateescape") as fh:
                fh.write(text)
        cases.append(Case("mutated/seed-%d (%s: %s)" % (s, src.cfg, desc), d, src.cfg))
    return cases


def run_case(case, impls, empty_show, extra_env, timeout, cwds=None):
    """Runs every command with every implementation inside one namespace
    (in case.cwd, or in cwds[impl] where given)."""
    toks = confhosts.tokens(os.path.join(case.cwd, case.cfg))
    host, addrs = confhosts.local_host(toks)
    tmp = tempfile.mkdtemp(prefix="drbddiff.")
    try:
        script = [l + " 2>/dev/null" for l in confhosts.netns_setup_script(host, addrs)]
        for impl, binary in impls.items():
            script.append("cd %s || exit 99" % shlex.quote((cwds or {}).get(impl, case.cwd)))
            bindir = os.path.join(tmp, impl + "-bin")
            os.makedirs(bindir)
            os.symlink(binary, os.path.join(bindir, "drbdadm"))
            env = ["DRBD_DRIVER_VERSION_OVERRIDE=9.2.0", "FAKE_DRBDSETUP_SHOW=" + shlex.quote(empty_show),
                   "PATH=" + shlex.quote(bindir) + ":/usr/sbin:/usr/bin:/sbin:/bin"]
            env += [k + "=" + shlex.quote(v) for k, v in extra_env.get(impl, {}).items()]
            for name, args in COMMANDS:
                o = os.path.join(tmp, "%s.%s" % (impl, name))
                script.append("env -u __DRBD_NODE__ %s timeout %d drbdadm -c %s %s >%s.out 2>%s.err </dev/null; echo $? >%s.rc"
                              % (" ".join(env), timeout, shlex.quote(case.cfg), " ".join(args), o, o, o))
        p = subprocess.run(["unshare", "--uts", "--net", "sh", "-c", "\n".join(script)],
                           capture_output=True, timeout=timeout * 10 + 60)
        res = {"host": host, "addrs": addrs, "ns_rc": p.returncode, "ns_err": p.stderr}
        for impl in impls:
            for name, _ in COMMANDS:
                o = os.path.join(tmp, "%s.%s" % (impl, name))
                try:
                    rc = int(open(o + ".rc").read().strip())
                    out = open(o + ".out", "rb").read()
                    err = open(o + ".err", "rb").read()
                except (OSError, ValueError):
                    rc, out, err = -1, b"", b"(harness: no result)"
                res[(impl, name)] = (rc, out, err)
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def short_diff(a, b, la, lb, limit):
    lines = list(difflib.unified_diff(a.decode("utf-8", "replace").splitlines(True),
                                      b.decode("utf-8", "replace").splitlines(True), la, lb, n=2))
    if len(lines) > limit:
        lines = lines[:limit] + ["... (%d more diff lines)\n" % (len(lines) - limit)]
    return "".join(l if l.endswith("\n") else l + "\n\\ No newline at end of file\n" for l in lines)


def load_expected_tsv(corpus):
    rows = {}
    p = os.path.join(corpus, "EXPECTED.tsv")
    if os.path.isfile(p):
        for line in open(p, encoding="utf-8").read().splitlines()[1:]:
            f = line.split("\t")
            if len(f) >= 4:
                rows[f[0]] = (f[2], f[3])
    return rows


def cross_check(case, res, expected_rows):
    """Oracle live output vs the recorded corpus files. Returns a list of problems."""
    corpus, entry = case.recorded
    probs = []
    row = expected_rows.get(entry)
    for name, idx in (("dump", 0), ("up", 1)):
        rc, out, _ = res[("oracle", name)]
        out = out.replace(os.path.abspath(corpus).encode(), b"@CORPUS@")
        if row and str(rc) != row[idx]:
            probs.append("%s: live oracle exit %d, recorded %s" % (name, rc, row[idx]))
        rec = os.path.join(corpus, "expected", entry + "." + name)
        if os.path.isfile(rec):
            want = open(rec, "rb").read()
            if want != out:
                probs.append("%s: live oracle stdout differs from %s\n%s" % (
                    name, rec, short_diff(want, out, "recorded", "live-oracle", 20)))
    return probs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", default=os.path.join(REPO, "build", "bin", "drbdadm"),
                    help="our drbdadm (default: build/bin/drbdadm)")
    ap.add_argument("--oracle", default="/usr/sbin/drbdadm", help="drbd-utils 9.22 drbdadm")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--only", action="append", choices=["repo", "corpus", "generated", "mutated"],
                    help="restrict to these config sources (repeatable)")
    ap.add_argument("--filter", action="append", default=[], help="only configs whose label contains this")
    ap.add_argument("--generated", type=int, default=40, help="number of fixed-seed generated configs")
    ap.add_argument("--mutated", type=int, default=30, help="number of mutated corpus entries")
    ap.add_argument("--seed", type=int, default=1, help="first fixed seed (generated and mutated)")
    ap.add_argument("--no-fresh", action="store_true", help="do not add one fresh random seed")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=30, help="per drbdadm invocation, seconds")
    ap.add_argument("--compare-stderr", action="store_true",
                    help="also require identical stderr (ours runs with DRBDADM_ERROR_STYLE=drbd-utils)")
    ap.add_argument("--strict-rc", action="store_true", help="require identical exit codes, not only the class")
    ap.add_argument("--no-cross-check", action="store_true", help="skip the recorded-corpus cross-check")
    ap.add_argument("--diff-lines", type=int, default=40, help="max diff lines shown per command")
    ap.add_argument("--quiet", action="store_true", help="print only failures and the summary")
    a = ap.parse_args()
    a.corpus = os.path.realpath(a.corpus)  # drbdadm prints canonical paths

    if os.geteuid() != 0:
        print("SKIP: oracle_diff needs root for 'unshare --uts --net' (CI runs as root)")
        return SKIP
    if subprocess.run(["unshare", "--uts", "--net", "true"], capture_output=True).returncode != 0:
        print("SKIP: 'unshare --uts --net' does not work here (container without CAP_SYS_ADMIN?)")
        return SKIP
    for what, b in (("ours", a.ours), ("oracle", a.oracle)):
        if not os.access(b, os.X_OK):
            print("SKIP: %s drbdadm %s is not there (build first / apt-get install drbd-utils)" % (what, b))
            return SKIP
    ours = os.path.abspath(a.ours)
    self_check = os.path.realpath(ours) == os.path.realpath(a.oracle)
    oracle = os.path.abspath(a.oracle)

    sources = a.only or ["repo", "corpus", "generated", "mutated"]
    work = tempfile.mkdtemp(prefix="drbddiff-work.")
    empty_show = os.path.join(work, "empty-drbdsetup-show.txt")
    open(empty_show, "w").close()
    cases = []
    if "repo" in sources:
        cases += repo_cases()
    if "corpus" in sources:
        cc = corpus_cases(a.corpus)
        if not cc:
            print("note: corpus %s not found; skipping it" % a.corpus)
        cases += cc
    if "generated" in sources:
        seeds = list(range(a.seed, a.seed + a.generated))
        if not a.no_fresh:
            fresh = random.SystemRandom().randrange(10**6, 10**9)
            seeds.append(fresh)
            print("fresh generator seed: %d (reproduce: %s --only generated --seed %d --generated 1 --no-fresh)"
                  % (fresh, sys.argv[0], fresh))
        cases += generated_cases(os.path.join(work, "gen"), seeds)
    if "mutated" in sources:
        seeds = list(range(a.seed, a.seed + a.mutated))
        if not a.no_fresh:
            fresh = random.SystemRandom().randrange(10**6, 10**9)
            seeds.append(fresh)
            print("fresh mutation seed: %d (reproduce: %s --only mutated --seed %d --mutated 1 --no-fresh)"
                  % (fresh, sys.argv[0], fresh))
        cases += mutated_corpus_cases(os.path.join(work, "mut"), a.corpus, seeds)
    if a.filter:
        cases = [c for c in cases if any(f in c.label for f in a.filter)]

    impls = {"ours": ours, "oracle": oracle}
    extra_env = {"ours": {"DRBDADM_ERROR_STYLE": "drbd-utils"}}
    expected_rows = load_expected_tsv(a.corpus)
    t0 = time.time()
    passed = failed = 0
    cross_bad = 0
    cmd_fail = {name: 0 for name, _ in COMMANDS}
    rc_notes = 0
    newer_notes = []
    failed_labels = []
    rewritten = {}  # label -> copy the oracle ran on in newer_84_rewrite form
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        futs = []
        for i, c in enumerate(cases):
            dest = os.path.join(work, "newer84", str(i))
            if not self_check and newer_84_tree(c, dest):
                rewritten[c.label] = dest
                futs.append(ex.submit(run_case, c, dict(impls, oracle84=oracle), empty_show, extra_env,
                                      a.timeout, {"oracle84": dest}))
            else:
                futs.append(ex.submit(run_case, c, impls, empty_show, extra_env, a.timeout))
        for case, fut in zip(cases, futs):
            try:
                res = fut.result()
            except Exception as e:  # harness problem: count as failure, keep going
                failed += 1
                failed_labels.append(case.label)
                print("FAIL %s: harness error %r" % (case.label, e))
                continue
            report = []
            for name, args in COMMANDS:
                orc, oout, oerr = res[("ours", name)]
                if ("oracle84", name) in res:
                    # the oracle's run on the 9.22-placement copy stands for
                    # newer drbd-utils; its paths are mapped back
                    xrc, xout, xerr = res[("oracle84", name)]
                    dest = os.path.realpath(rewritten[case.label])
                    xout = xout.replace(dest.encode(), os.path.realpath(case.cwd).encode())
                else:
                    xrc, xout, xerr = res[("oracle", name)]
                # In the harness self-check "ours" is the oracle too.
                oout_n = normalise_oracle(oout) if self_check else normalise(oout)
                xout_n = normalise_oracle(xout)
                if name == "adjust":
                    oout_n, xout_n = normalise_adjust(oout_n), normalise_adjust(xout_n)
                probs = []
                newer_kw = newer_syntax_rejection(xerr) if (xrc != 0 and orc == 0) else None
                if newer_kw:
                    # 9.22 stops at a keyword only newer drbd-utils knows; we accept
                    # it as newer upstream does. Nothing of 9.22's to compare with.
                    newer_notes.append("%s: %s: oracle 9.22 rejects newer keyword '%s'" % (
                        case.label, name, newer_kw))
                    continue
                if abnormal(orc) and orc != xrc:
                    probs.append("ours %s (exit %d); oracle exit %d" % (
                        "timed out" if orc == 124 else "crashed or could not run", orc, xrc))
                elif (orc == 0) != (xrc == 0) or (a.strict_rc and orc != xrc):
                    probs.append("exit code: ours %d, oracle %d" % (orc, xrc))
                elif orc != xrc:
                    rc_notes += 1
                if oout_n != xout_n:
                    probs.append("stdout differs:\n" + short_diff(xout_n, oout_n, "oracle", "ours", a.diff_lines))
                if a.compare_stderr and oerr != xerr:
                    probs.append("stderr differs:\n" + short_diff(xerr, oerr, "oracle", "ours", a.diff_lines))
                if probs:
                    cmd_fail[name] += 1
                    report.append("  $ drbdadm -c %s %s\n" % (case.cfg, " ".join(args)) +
                                  "".join("    " + l + "\n" for p in probs for l in p.rstrip("\n").split("\n")))
                    if orc != 0 and oerr:
                        report.append("    ours stderr: %s\n" % oerr.decode("utf-8", "replace").strip()[:300])
                    if xrc != 0 and xerr:
                        report.append("    oracle stderr: %s\n" % xerr.decode("utf-8", "replace").strip()[:300])
            if case.recorded and not a.no_cross_check:
                cp = cross_check(case, res, expected_rows)
                if cp:
                    cross_bad += 1
                    report.append("  recorded-corpus cross-check (sandbox problem, not ours):\n" +
                                  "".join("    " + l + "\n" for p in cp for l in p.rstrip("\n").split("\n")))
            if report:
                failed += 1
                failed_labels.append(case.label)
                print("FAIL %s   [host %s, lo %s]" % (case.label, res["host"], ",".join(res["addrs"]) or "-"))
                print("".join(report), end="")
                sys.stdout.flush()
            else:
                passed += 1
                if not a.quiet:
                    print("ok   %s" % case.label)
    shutil.rmtree(work, ignore_errors=True)
    print("per command failures: " + ", ".join("%s %d" % kv for kv in cmd_fail.items()) +
          "; exit codes same class but different value: %d; recorded cross-check mismatches: %d" % (rc_notes, cross_bad))
    for n in newer_notes:
        print("newer syntax (not comparable with 9.22): " + n)
    if rewritten:
        print("compared with the oracle on a copy with DRBD 8.4 syncer/fencing placements moved "
              "(newer_84_rewrite, docs/compat.md): %d configs: %s" % (len(rewritten), " ".join(
                  l.split(" ")[0] for l in sorted(rewritten))))
    print("ours=%s oracle=%s, %d configs in %.1fs" % (ours, oracle, len(cases), time.time() - t0))
    if failed_labels:
        print("failed: " + " ".join(l.split(" ")[0] for l in failed_labels))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
