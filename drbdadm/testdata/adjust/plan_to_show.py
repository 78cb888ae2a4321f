#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turns a `drbdadm -d up` plan into the `drbdsetup show` text of the state
that plan would create, so that `adjust` can be checked against a running
state that matches the configuration (expected plan: empty) and against
mutations of it. Test tool only; values are kept as the plan spells them.

usage: plan_to_show.py < plan > show
"""
import re
import shlex
import sys


def unescape(word):
    return re.sub(r'\\(.)', r'\1', word)


def opts(words):
    out = []
    for w in words:
        if not w.startswith('--'):
            continue
        name, _, value = w[2:].partition('=')
        out.append((name, value))
    return out


def fmt_value(v):
    if re.fullmatch(r'[A-Za-z0-9_.+-]+', v):
        return v
    return '"' + v.replace('\\', '\\\\').replace('"', '\\"') + '"'


def fmt_addr(a):
    af, _, rest = a.partition(':')
    return f'{af} {rest}'


def main():
    res = {}
    order = []
    minors = {}

    def get(name):
        if name not in res:
            res[name] = {'node_id': None, 'options': [], 'vols': {}, 'conns': {}}
            order.append(name)
        return res[name]

    for line in sys.stdin:
        words = [unescape(w) for w in line.split()]
        if len(words) < 2 or not words[0].endswith('drbdsetup'):
            continue
        cmd, args = words[1], words[2:]
        if cmd == 'new-resource':
            r = get(args[0])
            r['node_id'] = args[1]
            r['options'] = opts(args[2:])
        elif cmd == 'new-minor':
            r = get(args[0])
            vnr = int(args[2])
            r['vols'][vnr] = {'minor': args[1], 'disk': None, 'meta': None,
                              'opts': [], 'diskless': '--diskless' in args}
            minors[args[1]] = (args[0], vnr)
        elif cmd == 'new-peer':
            r = get(args[0])
            r['conns'][args[1]] = {'net': opts(args[2:]), 'paths': [], 'pds': {}}
        elif cmd == 'new-path':
            r = get(args[0])
            r['conns'][args[1]]['paths'].append((args[2], args[3]))
        elif cmd == 'peer-device-options':
            r = get(args[0])
            r['conns'][args[1]]['pds'][int(args[2])] = [
                o for o in opts(args[3:]) if o[0] != 'set-defaults']
        elif cmd == 'attach':
            name, vnr = minors[args[0]]
            v = res[name]['vols'][vnr]
            v['disk'] = args[1]
            meta, idx = args[2], args[3]
            if idx == 'internal':
                v['meta'] = 'internal'
            elif idx == 'flexible':
                v['meta'] = f'"{meta}"'
            else:
                v['meta'] = f'"{meta}" [ {idx} ]'
            v['opts'] = opts(args[4:])

    out = []
    for name in order:
        r = res[name]
        out.append(f'resource "{name}" {{')
        if r['options']:
            out.append('    options {')
            out += [f'        {k:<16}\t{fmt_value(v)};' for k, v in r['options']]
            out.append('    }')
        out.append('    _this_host {')
        out.append(f'        node-id\t\t\t{r["node_id"]};')
        for vnr in sorted(r['vols']):
            v = r['vols'][vnr]
            out.append(f'        volume {vnr} {{')
            out.append(f'            device\t\t\tminor {v["minor"]};')
            if v['disk']:
                out.append(f'            disk\t\t\t"{v["disk"]}";')
                out.append(f'            meta-disk\t\t\t{v["meta"]};')
            elif v['diskless']:
                out.append('            disk\t\t\tnone;')
            if v['opts']:
                out.append('            disk {')
                out += [f'                {k:<16}\t{fmt_value(val)};' for k, val in v['opts']]
                out.append('            }')
            out.append('        }')
        out.append('    }')
        for peer, c in r['conns'].items():
            out.append('    connection {')
            out.append(f'        _peer_node_id {peer};')
            for mine, theirs in c['paths']:
                out.append('        path {')
                out.append(f'            _this_host {fmt_addr(mine)};')
                out.append(f'            _remote_host {fmt_addr(theirs)};')
                out.append('        }')
            if c['net']:
                out.append('        net {')
                out += [f'            {k:<16}\t{fmt_value(v)};' for k, v in c['net']]
                out.append('        }')
            for vnr in sorted(c['pds']):
                if not c['pds'][vnr]:
                    continue
                out.append(f'        volume {vnr} {{')
                out.append('            disk {')
                out += [f'                {k:<16}\t{fmt_value(v)};' for k, v in c['pds'][vnr]]
                out.append('            }')
                out.append('        }')
            out.append('    }')
        out.append('}')
    sys.stdout.write('\n'.join(out) + ('\n' if out else ''))


if __name__ == '__main__':
    main()
