# SPDX-License-Identifier: GPL-2.0-or-later
"""Picks the local host name and addresses for running drbdadm on a config.

Same rule as the corpus runner (/work/shared/corpus/real/run-oracle.py):
H = the first `on` host name (following includes, outside `skip {}` and not
`proxy on`); A = every address given for H in its `on` sections and in
`host H address ...` lines. Configs with only floating hosts use H =
`floatnode` and the first floating address. This is a token scan, not a
parser: it must work on broken configs too.
"""
import glob
import ipaddress
import os
import re

_TOK = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{};]|[^\s{};"]+')
_AF = ("ipv4", "ipv6", "ssocks", "sdp", "sci")


def tokens(path, depth=0, seen=None):
    seen = set() if seen is None else seen
    try:
        real = os.path.realpath(path)
        if real in seen:
            return []
        seen.add(real)
        with open(path, encoding="utf-8", errors="replace") as f:
            txt = f.read()
    except OSError:
        return []
    out = []
    for line in txt.split("\n"):
        s = []
        q = False
        for ch in line:
            if ch == '"':
                q = not q
            if ch == "#" and not q:
                break
            s.append(ch)
        out += _TOK.findall("".join(s))
    res = []
    i = 0
    while i < len(out):
        if out[i] == "include" and i + 2 < len(out) and out[i + 2] == ";" and depth < 5:
            pat = _unq(out[i + 1])
            if not pat.startswith("/"):
                pat = os.path.join(os.path.dirname(path), pat)
            for f in sorted(glob.glob(pat)):
                res += tokens(f, depth + 1, seen)
            i += 3
            continue
        res.append(out[i])
        i += 1
    return res


def _unq(t):
    return t[1:-1] if len(t) >= 2 and t[0] == '"' and t[-1] == '"' else t


def _addr(toks, i):
    j = i + 1
    if j < len(toks) and toks[j] in _AF:
        j += 1
    if j >= len(toks):
        return None
    a = _unq(toks[j])
    if a.startswith("["):
        m = re.match(r"\[([^\]]+)\]", a)
        return m.group(1) if m else None
    if j + 2 < len(toks) and toks[j + 1] == "port":
        return a
    return a.rsplit(":", 1)[0] if ":" in a else a


def _block_end(toks, j):
    d = 0
    while j < len(toks):
        if toks[j] == "{":
            d += 1
        elif toks[j] == "}":
            d -= 1
            if d == 0:
                return j
        j += 1
    return j


def _on_names(toks, i):
    j = i + 1
    names = []
    while j < len(toks) and toks[j] not in ("{", ";", "}"):
        names.append(_unq(toks[j]))
        j += 1
    return names, j


def local_host(toks):
    """Returns (host, [addresses]) for the token list."""
    n = len(toks)
    host = None
    floating = None
    i = 0
    while i < n:
        t = toks[i]
        if t == "skip":
            j = i
            while j < n and toks[j] != "{":
                j += 1
            i = _block_end(toks, j) + 1
            continue
        if t == "on" and (i == 0 or toks[i - 1] != "proxy") and host is None:
            names, j = _on_names(toks, i)
            if names:
                host = names[0]
            i = j
            continue
        if t == "floating" and floating is None and i + 1 < n:
            j = i + 1
            if toks[j] in _AF and j + 1 < n:
                j += 1
            a = _unq(toks[j])
            m = re.match(r"\[([^\]]+)\]", a)
            floating = m.group(1) if m else a.rsplit(":", 1)[0]
        i += 1
    if host is None:
        return ("floatnode", [floating]) if floating else ("nohost", [])
    addrs = []
    i = 0
    while i < n:
        if toks[i] == "on" and (i == 0 or toks[i - 1] != "proxy"):
            names, j = _on_names(toks, i)
            if host in names:
                end = _block_end(toks, j)
                d = 0
                for k in range(j, min(end, n)):
                    if toks[k] == "{":
                        d += 1
                    elif toks[k] == "}":
                        d -= 1
                    elif toks[k] == "address" and d == 1:
                        a = _addr(toks, k)
                        if a and a not in addrs:
                            addrs.append(a)
            i = j
            continue
        if toks[i] == "host" and i + 2 < n and _unq(toks[i + 1]) == host and toks[i + 2] == "address":
            a = _addr(toks, i + 2)
            if a and a not in addrs:
                addrs.append(a)
        i += 1
    return host, addrs


def addr_family(a):
    if not a:
        return None
    try:
        return ipaddress.ip_address(a.split("%")[0]).version
    except ValueError:
        return None


def netns_setup_script(host, addrs):
    """Shell lines that set the host name and put addrs on lo (inside unshare --uts --net)."""
    import shlex
    lines = ["python3 -c 'import socket,sys; socket.sethostname(sys.argv[1])' %s" % shlex.quote(host),
             "ip link set lo up"]
    for a in addrs:
        fam = addr_family(a)
        if fam == 4:
            lines.append("ip addr add %s/32 dev lo" % a)
        elif fam == 6:
            lines.append("ip -6 addr add %s/128 dev lo nodad" % a.split("%")[0])
    return lines
