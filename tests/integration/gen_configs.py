#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Seeded generator of drbd.conf configurations, valid and invalid.

Each generated case is a directory holding `drbd.conf` (the file given to
`drbdadm -c`) and, for some seeds, included files under `drbd.d/`. The same
seed always gives the same bytes, so a failing case is reproduced with
`gen_configs.py --seed S --out DIR`.

Coverage: 2-3 hosts, implicit and explicit volumes, per-host volumes,
diskless volumes, internal/external/flexible meta data, every device form,
explicit connections with host lines or path blocks, connection-mesh,
floating peers, IPv6 addresses, common/global sections, options of every
section with random in-range values, 8.4 forms (resource-level protocol,
no node-ids with two hosts, flexible-meta-disk, startup/handlers), include
files, and (for invalid cases) one injected error: misspelt keyword,
duplicate minor / node-id / resource, out-of-range or malformed value,
missing semicolon or brace, unknown host, reused address.

The first `on` host of every case is `alpha`; the differential harness
makes it the local host and puts its addresses on lo.

Usage:
  gen_configs.py --out DIR --seed S [--count N]        N cases, seeds S..S+N-1
  gen_configs.py --out DIR --resources N --valid-only   one big valid config (benchmark)
"""
import argparse
import os
import random
import re
import sys

HOSTS = ["alpha", "bravo", "charlie"]

# (name, kind, spec) kind: int (lo, hi, suffixes allowed?), enum (values), bool, str
DISK_OPTS = [
    ("on-io-error", "enum", ["pass_on", "call-local-io-error", "detach"]),
    ("disk-barrier", "bool", None),
    ("disk-flushes", "bool", None),
    ("md-flushes", "bool", None),
    ("al-extents", "int", (67, 65534)),
    ("al-updates", "bool", None),
    ("disk-timeout", "int", (0, 6000)),
    ("read-balancing", "enum", ["prefer-local", "prefer-remote", "round-robin",
                                "least-pending", "when-congested-remote", "32K-striping"]),
    ("rs-discard-granularity", "int", (0, 1048576)),
    ("discard-zeroes-if-aligned", "bool", None),
]
PEER_DEVICE_OPTS = [
    ("resync-rate", "rate", (1, 8388608)),
    ("c-plan-ahead", "int", (0, 300)),
    ("c-delay-target", "int", (1, 100)),
    ("c-fill-target", "int", (0, 1048576)),
    ("c-max-rate", "rate", (0, 4194304)),
    ("c-min-rate", "rate", (0, 4194304)),
]
NET_OPTS = [
    ("protocol", "enum", ["A", "B", "C"]),
    ("timeout", "int", (1, 600)),
    ("max-epoch-size", "int", (1, 20000)),
    ("connect-int", "int", (1, 120)),
    ("ping-int", "int", (1, 120)),
    ("sndbuf-size", "int", (0, 10485760)),
    ("ko-count", "int", (0, 200)),
    ("allow-two-primaries", "bool", None),
    ("cram-hmac-alg", "enum", ["sha1", "sha256"]),
    ("shared-secret", "str", None),
    ("verify-alg", "enum", ["crc32c", "sha1", "md5"]),
    ("csums-alg", "enum", ["crc32c", "sha1"]),
    ("after-sb-0pri", "enum", ["disconnect", "discard-younger-primary", "discard-zero-changes",
                               "discard-least-changes"]),
    ("after-sb-1pri", "enum", ["disconnect", "consensus", "discard-secondary"]),
    ("after-sb-2pri", "enum", ["disconnect", "call-pri-lost-after-sb"]),
    ("rr-conflict", "enum", ["disconnect", "call-pri-lost", "retry-connect"]),
    ("ping-timeout", "int", (1, 300)),
    ("tcp-cork", "bool", None),
    ("on-congestion", "enum", ["block", "pull-ahead", "disconnect"]),
    ("congestion-fill", "int", (0, 20971520)),
    ("fencing", "enum", ["dont-care", "resource-only", "resource-and-stonith"]),
    ("max-buffers", "int", (32, 131072)),
    ("use-rle", "bool", None),
]
RES_OPTS = [
    ("on-no-data-accessible", "enum", ["io-error", "suspend-io"]),
    ("auto-promote", "bool", None),
    ("peer-ack-window", "int", (2048, 204800)),
    ("peer-ack-delay", "int", (1, 10000)),
    ("twopc-timeout", "int", (50, 600)),
    ("auto-promote-timeout", "int", (0, 600)),
    ("quorum", "enum", ["off", "majority", "all", "2"]),
    ("on-no-quorum", "enum", ["io-error", "suspend-io"]),
    ("cpu-mask", "enum", ["0", "1", "ff"]),
]
STARTUP_OPTS = [
    ("wfc-timeout", "int", (0, 300000)),
    ("degr-wfc-timeout", "int", (0, 300000)),
    ("outdated-wfc-timeout", "int", (0, 300000)),
    ("wait-after-sb", "bool", None),
]
HANDLERS = [
    ("split-brain", '"/usr/lib/drbd/notify-split-brain.sh root"'),
    ("fence-peer", '"/usr/lib/drbd/crm-fence-peer.9.sh"'),
    ("after-resync-target", '"/usr/lib/drbd/crm-unfence-peer.9.sh"'),
    ("pri-lost-after-sb", '"/usr/lib/drbd/notify-pri-lost-after-sb.sh; echo b > /proc/sysrq-trigger"'),
    ("local-io-error", "/usr/lib/drbd/notify-io-error.sh"),
]
MISSPELLINGS = {
    "resource": "resourse", "address": "adress", "meta-disk": "meta_disk", "device": "devcie",
    "protocol": "protcol", "node-id": "nodeid", "volume": "volumn", "connection": "conection",
    "max-buffers": "max-buffer", "resync-rate": "resync_rate", "net": "nett", "on": "onn",
}


class Gen:
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.seed = seed
        self.used_opts = set()  # option names used in common/resource sections

    def pick(self, seq):
        return self.rnd.choice(seq)

    def chance(self, p):
        return self.rnd.random() < p

    def value(self, kind, spec, bad=False):
        r = self.rnd
        if kind in ("int", "rate"):
            lo, hi = spec
            if bad:
                return self.pick([str(hi + 1 + r.randrange(1000)), "12abc", "-5" if lo > 0 else str(hi * 10 + 7)])
            v = r.randint(lo, min(hi, lo + 5000)) if self.chance(0.7) else r.randint(lo, hi)
            if kind == "rate" and v >= 1024 and self.chance(0.5):
                return "%dM" % max(1, min(v // 1024, hi // 1024)) if hi >= 1024 else str(v)
            return str(v)
        if kind == "enum":
            return "bogus-value" if bad else self.pick(spec)
        if kind == "bool":
            return "maybe" if bad else self.pick(["yes", "no"])
        if kind == "str":
            return ("x" * 70) if bad else self.pick(["s3cr3t", '"my secret"', "Shared-Secret_1"])
        raise ValueError(kind)

    def opts_block(self, indent, name, table, n, bad_one=False, inner=False, exclude=()):
        """An option section. inner: below resource level (volume, connection,
        mesh); it then avoids options set in common/resource sections, since
        drbd-utils calls two inherited values "ambiguous inheritance"."""
        pad = "    " * indent
        table = [o for o in table if o[0] not in exclude]
        if inner:
            table = [o for o in table if o[0] not in self.used_opts]
        chosen = self.rnd.sample(table, min(n, len(table)))
        if not inner:
            self.used_opts.update(o[0] for o in chosen)
        lines = []
        for i, (opt, kind, spec) in enumerate(chosen):
            bad = bad_one and i == 0
            if kind == "bool" and not bad and self.chance(0.3):
                lines.append("%s    %s%s;" % (pad, "" if self.chance(0.7) else "no-", opt))
                continue
            lines.append("%s    %s %s;" % (pad, opt, self.value(kind, spec, bad)))
        return "%s%s {\n%s\n%s}\n" % (pad, name, "\n".join(lines), pad) if lines else "%s%s { }\n" % (pad, name)


def device_stmt(g, minor):
    form = g.rnd.randrange(4)
    if form == 0:
        return "device /dev/drbd%d;" % minor
    if form == 1:
        return "device minor %d;" % minor
    if form == 2:
        return "device /dev/drbd%d minor %d;" % (minor, minor)
    return "device drbd%d;" % minor


def meta_stmt(g, name, vnr):
    form = g.rnd.randrange(5)
    if form <= 1:
        return "meta-disk internal;"
    if form == 2:
        return "meta-disk /dev/vg0/%s-md%d;" % (name, vnr)
    if form == 3:
        return "meta-disk /dev/vg0/%s-meta [%d];" % (name, vnr)
    return "flexible-meta-disk internal;"


def gen_resource(g, idx, minor_base, net_base, ctx):
    """Returns the text of one resource. ctx collects facts for error injection."""
    name = "r%d" % idx if g.chance(0.8) else "data_%d" % idx
    g.used_opts = set(ctx.get("common_opts", ()))
    nhosts = 3 if g.chance(0.4) else 2
    hosts = HOSTS[:nhosts]
    port = 7789 + idx
    ipv6 = g.chance(0.12)
    nvol = g.pick([1, 1, 2, 2, 3])
    implicit = nvol == 1 and g.chance(0.4)
    style84 = nhosts == 2 and g.chance(0.2)
    floating = nhosts == 2 and not style84 and g.chance(0.1)
    diskless = None
    if nhosts == 3 and g.chance(0.3):
        diskless = "charlie"
    per_host_volumes = g.chance(0.25) and diskless is None
    minors = [minor_base + v for v in range(nvol)]
    ctx.setdefault("minors", []).extend(minors)

    def addr(h):
        hi = HOSTS.index(h) + 1
        if ipv6:
            return "ipv6 [fd00:%x::%d]:%d" % (net_base, hi, port)
        af = "ipv4 " if g.chance(0.3) else ""
        return "%s10.%d.%d.%d:%d" % (af, net_base // 256, net_base % 256, hi, port)

    out = ["resource %s {" % (name if g.chance(0.9) else '"%s"' % name)]
    if style84 and g.chance(0.7):
        out.append("    protocol %s;" % g.pick("ABC"))
        g.used_opts.add("protocol")
    if g.chance(0.4):
        out.append(g.opts_block(1, "options", RES_OPTS, g.rnd.randint(1, 3)).rstrip("\n"))
    if g.chance(0.5):
        out.append(g.opts_block(1, "net", NET_OPTS, g.rnd.randint(1, 4),
                                exclude=("protocol",) if "protocol" in g.used_opts else ()).rstrip("\n"))
    if g.chance(0.4):
        out.append(g.opts_block(1, "disk", DISK_OPTS + PEER_DEVICE_OPTS, g.rnd.randint(1, 3)).rstrip("\n"))
    if g.chance(0.2):
        out.append(g.opts_block(1, "startup", STARTUP_OPTS, g.rnd.randint(1, 2)).rstrip("\n"))
    if g.chance(0.2):
        h = g.rnd.sample(HANDLERS, g.rnd.randint(1, 2))
        out.append("    handlers {\n%s\n    }" % "\n".join("        %s %s;" % kv for kv in h))

    def vol_body(indent, v, host=None):
        pad = "    " * indent
        lines = [pad + device_stmt(g, minors[v])]
        if host is not None and host == diskless:
            lines.append(pad + "disk none;")
        else:
            lines.append(pad + "disk /dev/vg0/%s_%d;" % (name, v))
            lines.append(pad + meta_stmt(g, name, v))
        if not implicit and g.chance(0.15):
            lines.append(g.opts_block(indent, "disk", DISK_OPTS, 1, inner=True).rstrip("\n"))
        return lines

    if not per_host_volumes:
        if implicit:
            out += vol_body(1, 0)
        else:
            for v in range(nvol):
                out.append("    volume %d {" % v)
                out += vol_body(2, v)
                out.append("    }")
    host_lines = []
    for hi, h in enumerate(hosts):
        if floating and h == "bravo":
            host_lines.append("    floating %s {" % addr(h))
        else:
            if g.chance(0.08):
                host_lines.append("    on %s %s-alt {" % (h, h))
            else:
                host_lines.append("    on %s {" % h)
        if not style84:
            host_lines.append("        node-id %d;" % hi)
        if not (floating and h == "bravo"):
            host_lines.append("        address %s;" % addr(h))
        if per_host_volumes:
            if implicit:
                host_lines += vol_body(2, 0, h)
            else:
                for v in range(nvol):
                    host_lines.append("        volume %d {" % v)
                    host_lines += vol_body(3, v, h)
                    host_lines.append("        }")
        elif diskless == h:
            if implicit:
                host_lines.append("        disk none;")
            else:
                for v in range(nvol):
                    host_lines.append("        volume %d {\n            disk none;\n        }" % v)
        host_lines.append("    }")
    out += host_lines
    if nhosts == 3:
        mode = g.pick(["mesh", "mesh", "conn-host", "conn-path", "none"])
        if mode == "mesh":
            out.append("    connection-mesh {\n        hosts %s;" % " ".join(hosts))
            if g.chance(0.4):
                out.append(g.opts_block(2, "net", NET_OPTS, 2, inner=True).rstrip("\n"))
            out.append("    }")
        elif mode in ("conn-host", "conn-path"):
            for a, b in [(0, 1), (0, 2), (1, 2)]:
                out.append("    connection {")
                if mode == "conn-host":
                    if g.chance(0.3):  # per-connection port override
                        out.append("        host %s port %d;" % (hosts[a], port + 20000))
                        out.append("        host %s port %d;" % (hosts[b], port + 20000))
                    else:
                        out.append("        host %s;" % hosts[a])
                        out.append("        host %s;" % hosts[b])
                else:
                    out.append("        path {")
                    out.append("            host %s address %s;" % (hosts[a], addr(hosts[a])))
                    out.append("            host %s address %s;" % (hosts[b], addr(hosts[b])))
                    out.append("        }")
                if g.chance(0.3):
                    out.append(g.opts_block(2, "net", NET_OPTS, 1, inner=True).rstrip("\n"))
                if g.chance(0.2):
                    out.append(g.opts_block(2, "disk", PEER_DEVICE_OPTS, 1, inner=True).rstrip("\n"))
                elif not implicit and g.chance(0.15):
                    out.append("        volume 0 {")
                    out.append(g.opts_block(3, "disk", PEER_DEVICE_OPTS, 1, inner=True).rstrip("\n"))
                    out.append("        }")
                out.append("    }")
    ctx.setdefault("resources", []).append(name)
    out.append("}")
    return "\n".join(out) + "\n"


def gen_global_common(g):
    parts = []
    if g.chance(0.7):
        lines = ["    usage-count %s;" % g.pick(["yes", "no", "ask"])]
        if g.chance(0.3):
            lines.append("    minor-count %d;" % g.rnd.randint(1, 255))
        if g.chance(0.3):
            lines.append("    dialog-refresh %d;" % g.rnd.randint(0, 600))
        if g.chance(0.15):
            lines.append("    udev-always-use-vnr;")
        parts.append("global {\n%s\n}\n" % "\n".join(lines))
    if g.chance(0.7):
        body = []
        if g.chance(0.6):
            body.append(g.opts_block(1, "net", NET_OPTS, g.rnd.randint(1, 4)).rstrip("\n"))
        if g.chance(0.5):
            body.append(g.opts_block(1, "disk", DISK_OPTS + PEER_DEVICE_OPTS, g.rnd.randint(1, 3)).rstrip("\n"))
        if g.chance(0.3):
            body.append(g.opts_block(1, "options", RES_OPTS, 1).rstrip("\n"))
        if g.chance(0.3):
            body.append(g.opts_block(1, "startup", STARTUP_OPTS, 1).rstrip("\n"))
        parts.append("common {\n%s\n}\n" % "\n".join(body))
    return "\n".join(parts)


def inject_error(g, files, ctx):
    """Applies one error to the file set; returns a short description."""
    names = [f for f in files if f.endswith(".res") or f == "drbd.conf"]
    target = g.pick([f for f in names if "resource" in files[f]] or names)
    text = files[target]
    kind = g.pick(["misspell", "dup-minor", "dup-node-id", "range", "semicolon", "brace",
                   "unknown-host", "dup-resource", "bad-enum", "bad-bool", "dup-address",
                   "node-id-range", "port-range", "include-missing"])
    if kind == "misspell":
        cands = [k for k in MISSPELLINGS if (" %s " % k) in text or ("%s {" % k) in text or ("\n%s " % k) in text]
        if cands:
            k = g.pick(cands)
            needle = (" %s " % k) if (" %s " % k) in text else (("%s {" % k) if ("%s {" % k) in text else ("\n%s " % k))
            files[target] = text.replace(needle, needle.replace(k, MISSPELLINGS[k]), 1)
            return "misspelt %s" % k
        kind = "semicolon"
    if kind == "dup-minor" and len(ctx.get("minors", [])) >= 1:
        m = ctx["minors"][0]
        files[target] = text.replace("resource ", "resource dupminor {\n    on alpha { node-id 0; address 10.99.0.1:7000; device minor %d; disk /dev/vg0/dup; meta-disk internal; }\n    on bravo { node-id 1; address 10.99.0.2:7000; device minor %d; disk /dev/vg0/dup; meta-disk internal; }\n}\nresource " % (m, m), 1)
        return "duplicate minor %d" % m
    if kind == "dup-node-id" and "node-id 1;" in text:
        files[target] = text.replace("node-id 1;", "node-id 0;", 1)
        return "duplicate node-id"
    if kind == "dup-resource" and ctx.get("resources"):
        r = ctx["resources"][0]
        files[target] = text + "resource %s {\n    on alpha { node-id 0; address 10.98.0.1:7000; device minor 999; disk /dev/vg0/x; meta-disk internal; }\n    on bravo { node-id 1; address 10.98.0.2:7000; device minor 999; disk /dev/vg0/x; meta-disk internal; }\n}\n" % r
        return "duplicate resource %s" % r
    if kind == "unknown-host" and "connection-mesh" in text:
        files[target] = text.replace("hosts alpha", "hosts alpha delta", 1)
        return "unknown host in mesh"
    if kind == "dup-address" and "address " in text:
        i = text.find("address ")
        j = text.find(";", i)
        a = text[i:j]
        k = text.find("address ", j)
        if k > 0:
            l2 = text.find(";", k)
            files[target] = text[:k] + a + text[l2:]
            return "same address twice"
    if kind == "node-id-range" and "node-id 0;" in text:
        files[target] = text.replace("node-id 0;", "node-id 33;", 1)
        return "node-id out of range"
    if kind == "port-range" and ":7" in text:
        files[target] = text.replace(":7", ":9999", 1)  # :7789 -> :9999789
        return "port out of range"
    if kind == "include-missing":
        files["drbd.conf"] = files["drbd.conf"] + 'include "does-not-exist.res";\n'
        return "missing include"
    if kind in ("range", "bad-enum", "bad-bool"):
        table = {"range": [o for o in NET_OPTS + DISK_OPTS if o[1] == "int"],
                 "bad-enum": [o for o in NET_OPTS + DISK_OPTS if o[1] == "enum"],
                 "bad-bool": [o for o in NET_OPTS + DISK_OPTS if o[1] == "bool"]}[kind]
        opt, k, spec = g.pick(table)
        section = "disk" if (opt, k, spec) in DISK_OPTS else "net"
        pos = text.find("resource ")
        brace = text.find("{", pos)
        files[target] = text[:brace + 1] + "\n    %s { %s %s; }" % (section, opt, g.value(k, spec, bad=True)) + text[brace + 1:]
        return "bad value for %s" % opt
    if kind == "brace":
        i = text.rfind("}")
        files[target] = text[:i] + text[i + 1:]
        return "missing closing brace"
    # missing semicolon
    semis = [i for i, c in enumerate(text) if c == ";"]
    if semis:
        i = g.pick(semis)
        files[target] = text[:i] + text[i + 1:]
        return "missing semicolon"
    files[target] = text + "resource {\n"
    return "truncated"


MUTATION_TOKENS = ["{", "}", ";", '"', "on", "resource", "volume", "device", "disk", "net", "minor",
                   "node-id", "address", "connection", "path", "host", "0", "-1", "99999999", "none",
                   "internal", "10.0.0.1:7789", "ipv6", "[fd00::1]:7789", "yes", "skip", "include",
                   "common", "global", "floating", "connection-mesh", "hosts", "\\", "#", "\n"]
_SPLIT = re.compile(r'(\s+|"(?:[^"\\\n]|\\.)*"|[{};])')


def mutate(g, files):
    """1-3 random token-level edits of one file (delete, duplicate, swap,
    replace, insert): inputs that stress the scanner and parser error paths."""
    target = g.pick(sorted(files))
    parts = [p for p in _SPLIT.split(files[target]) if p]
    idx = [i for i, p in enumerate(parts) if not p.isspace()]
    done = []
    for _ in range(g.rnd.randint(1, 3)):
        if not idx:
            break
        i = g.pick(idx)
        op = g.pick(["delete", "duplicate", "swap", "replace", "insert"])
        if op == "delete":
            parts[i] = ""
        elif op == "duplicate":
            parts[i] = parts[i] + " " + parts[i]
        elif op == "swap":
            j = idx[min(idx.index(i) + 1, len(idx) - 1)]
            parts[i], parts[j] = parts[j], parts[i]
        elif op == "replace":
            parts[i] = g.pick(MUTATION_TOKENS)
        else:
            parts[i] = g.pick(MUTATION_TOKENS) + " " + parts[i]
        done.append(op)
    files[target] = "".join(parts)
    return "mutated %s (%s)" % (target, ", ".join(done))


def generate_case(seed, resources=None, valid=None):
    """Returns (files: {relpath: text}, description). valid=None: chosen by seed."""
    g = Gen(seed)
    if valid is None:
        valid = g.chance(0.6)
    n = resources if resources is not None else g.rnd.randint(1, 4)
    ctx = {}
    files = {}
    # Benchmark configs: IP verification off, so `dump all` runs without the
    # N local addresses.
    gc = (gen_global_common(g) if resources is None
          else "global {\n    usage-count no;\n    disable-ip-verification;\n}\n")
    ctx["common_opts"] = set(g.used_opts)
    res_texts = []
    for i in range(n):
        res_texts.append(gen_resource(g, i, minor_base=i * 4, net_base=1 + i % 60000, ctx=ctx))
    use_include = resources is None and g.chance(0.4)
    if use_include:
        files["drbd.d/global_common.conf"] = gc
        for i, t in enumerate(res_texts):
            files["drbd.d/res%02d.res" % i] = t
        files["drbd.conf"] = ('# generated by gen_configs.py seed %d\ninclude "drbd.d/global_common.conf";\n'
                              'include "drbd.d/*.res";\n' % seed)
    else:
        files["drbd.conf"] = "# generated by gen_configs.py seed %d\n%s\n%s" % (seed, gc, "\n".join(res_texts))
    if resources is None and g.chance(0.12):
        files["drbd.conf"] += ("skip resource retired {\n    on alpha { node-id 0; address 10.250.0.1:7000; }\n"
                               "    # anything goes in here { ; \n}\n")
    if resources is None and g.chance(0.1):
        op, ver = g.pick([("ge", "9.0.0"), ("eq", "9.2.0"), ("ne", "8.4.11"), ("le", "9.2.0")])
        files["drbd.conf"] = "require-drbd-module-version-%s %s;\n" % (op, ver) + files["drbd.conf"]
    desc = "valid"
    if not valid:
        if g.chance(0.35):
            desc = "invalid: " + mutate(g, files)
        else:
            desc = "invalid: " + inject_error(g, files, ctx)
    return files, desc


def write_case(outdir, files):
    for rel, text in files.items():
        p = os.path.join(outdir, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=1, help="number of cases (subdirectories seed-S)")
    ap.add_argument("--resources", type=int, help="one config with exactly N resources")
    ap.add_argument("--valid-only", action="store_true")
    a = ap.parse_args()
    if a.resources is not None:
        files, desc = generate_case(a.seed, resources=a.resources, valid=True)
        write_case(a.out, files)
        print("%s: %s" % (a.out, desc))
        return 0
    for s in range(a.seed, a.seed + a.count):
        files, desc = generate_case(s, valid=True if a.valid_only else None)
        d = os.path.join(a.out, "seed-%d" % s)
        write_case(d, files)
        print("%s: %s" % (d, desc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
