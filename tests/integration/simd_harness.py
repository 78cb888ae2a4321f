# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared pieces of the live drbd-simd integration tests (simd_cluster.py,
simd_nbd.py): a Cluster of drbd-simd nodes on loopback in a temporary
directory, each Node with its genl socket, NBD exports (NODE.nbd/drbdN.nbd,
optionally TCP), backing images and log; a config writer; drbdadm/drbdsetup
runners with that node's identity; waiting; helpers over `status --json`;
and the test runner both scripts' main() use.

A test is a function taking the parsed arguments (bindir, keep, verbose);
it builds its own Cluster and uses it as a context manager, which stops
every node (and prints the tail of each node's log when the test failed).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import traceback

SKIP = 77
MiB = 1 << 20
TOOLS = ("drbd-simd", "drbdadm", "drbdsetup", "drbdmeta")


class Failure(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Failure(msg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, cluster, name, node_id):
        self.cluster = cluster
        self.name = name
        self.node_id = node_id
        self.sock = os.path.join(cluster.dir, f"{name}.sock")
        # Each node its own NBD directory: drbd0.nbd exists once per node.
        self.nbd_dir = os.path.join(cluster.dir, f"{name}.nbd")
        os.makedirs(self.nbd_dir, exist_ok=True)
        self.port = free_port()
        self.nbd_port = free_port() if cluster.nbd_tcp else None
        self.disks = {}  # volume -> image path
        self.proc = None
        self.log = os.path.join(cluster.dir, f"{name}.log")
        self.extra_args = []  # more drbd-simd arguments (e.g. --usermode-helper)
        self.conf = None  # this node's own drbd.conf for drbdadm (None: the cluster's)

    def env(self):
        env = dict(os.environ)
        env["DRBD_SIM_SOCKET"] = self.sock
        env["__DRBD_NODE__"] = self.name
        env["LC_ALL"] = "C"
        env.pop("DRBD_DRIVER_VERSION_OVERRIDE", None)
        return env

    def start(self):
        cmd = [self.cluster.bin("drbd-simd"), "--node", self.name, "--socket", self.sock,
               "--nbd-dir", self.nbd_dir]
        if self.nbd_port:
            cmd += ["--nbd-tcp", f"127.0.0.1:{self.nbd_port}"]
        cmd += self.extra_args
        # A node killed with SIGKILL leaves its socket behind, and the path
        # of a new one exists from bind on, a moment before listen: waiting
        # for the path alone let drbdadm meet "Connection refused"
        # (simd_soak.py --nodes 3 --seed 0x5eed0005). Start waits until a
        # connect succeeds.
        if os.path.lexists(self.sock):
            os.unlink(self.sock)
        self.proc = subprocess.Popen(cmd, stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not self.listening():
            if self.proc.poll() is not None:
                raise Failure(f"drbd-simd {self.name} exited: {open(self.log).read()}")
            if time.time() > deadline:
                raise Failure(f"drbd-simd {self.name} did not listen on {self.sock}")
            time.sleep(0.02)

    def listening(self):
        """Whether the daemon accepts on its socket (it exists from bind on,
        a moment before listen)."""
        if not os.path.exists(self.sock):
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            try:
                s.connect(self.sock)
                return True
            except OSError:
                return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def run_cmd(self, cmd, check=True, timeout=60):
        """Runs any command with this node's identity (DRBD_SIM_SOCKET, __DRBD_NODE__)."""
        p = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=timeout)
        if self.cluster.verbose:
            print(f"[{self.name}] {' '.join(cmd)} -> {p.returncode}\n{p.stdout}{p.stderr}")
        if check and p.returncode != 0:
            raise Failure(f"[{self.name}] {' '.join(cmd)} -> {p.returncode}\n"
                          f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    def run(self, tool, *args, **kw):
        """Runs one of our tools from bindir; drbdadm reads the cluster's config."""
        cmd = [self.cluster.bin(tool)] + list(args)
        if tool == "drbdadm":
            cmd = [cmd[0], "-c", self.conf or self.cluster.conf] + list(args)
        return self.run_cmd(cmd, **kw)

    def adm(self, *args, **kw):
        return self.run("drbdadm", *args, **kw)

    def setup(self, *args, **kw):
        return self.run("drbdsetup", *args, **kw)

    def status_json(self, res="all"):
        return json.loads(self.setup("status", res, "--json").stdout)

    def events_now(self, res="all"):
        return self.setup("events2", "--now", res).stdout

    # NBD exports of the node's minors.
    def export(self, minor=0):
        return os.path.join(self.nbd_dir, f"drbd{minor}.nbd")

    def uri(self, minor=0):
        return f"nbd+unix:///drbd{minor}?socket={self.export(minor)}"

    def tcp_uri(self, minor=0):
        expect(self.nbd_port, "the cluster was made without nbd_tcp")
        return f"nbd://127.0.0.1:{self.nbd_port + minor}/drbd{minor}"


class Cluster:
    def __init__(self, args, names, nbd_tcp=False):
        self.bindir = args.bindir
        self.keep = args.keep
        self.verbose = getattr(args, "verbose", False)
        self.nbd_tcp = nbd_tcp
        self.dir = tempfile.mkdtemp(prefix="drbd-cp-simd-")
        self.conf = os.path.join(self.dir, "drbd.conf")
        self.nodes = [Node(self, n, i) for i, n in enumerate(names)]

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            for n in self.nodes:
                if os.path.exists(n.log):
                    print(f"--- {n.name} log (tail) ---")
                    print("".join(open(n.log).readlines()[-40:]))
        self.stop()
        return False

    def bin(self, tool):
        return os.path.join(self.bindir, tool)

    def node(self, name):
        return next(n for n in self.nodes if n.name == name)

    def image(self, node, volume, size_mb=64):
        path = os.path.join(self.dir, f"{node.name}-v{volume}.img")
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.truncate(size_mb << 20)
        node.disks[volume] = path
        return path

    def write_config(self, resources, path=None, port_of=None):
        """resources: list of dicts {name, volumes: [0,..], nodes: [names],
        net: str, options: str, disk: str, port_base, minor_base}. PATH
        (default the cluster's drbd.conf) is the file written; PORT_OF(name),
        if given, is the port of host NAME's address (instead of port_base +
        the node's port), e.g. a TcpProxy in one node's own view."""
        out = ["global { usage-count no; }", ""]
        for r in resources:
            out.append(f"resource {r['name']} {{")
            if r.get("options"):
                out.append(f"    options {{ {r['options']} }}")
            if r.get("net"):
                out.append(f"    net {{ {r['net']} }}")
            if r.get("disk"):
                out.append(f"    disk {{ {r['disk']} }}")
            for name in r["nodes"]:
                n = self.node(name)
                out.append(f"    on {name} {{")
                out.append(f"        node-id {n.node_id};")
                port = port_of(name) if port_of else r.get("port_base", 0) + n.port
                out.append(f"        address 127.0.0.1:{port};")
                for v in r["volumes"]:
                    minor = r.get("minor_base", 0) + v
                    out.append(f"        volume {v} {{ device minor {minor}; "
                               f"disk {self.image(n, v)}; meta-disk internal; }}")
                out.append("    }")
            if len(r["nodes"]) > 2:
                out.append(f"    connection-mesh {{ hosts {' '.join(r['nodes'])}; }}")
            out.append("}")
            out.append("")
        with open(path or self.conf, "w") as f:
            f.write("\n".join(out))

    def start(self):
        for n in self.nodes:
            n.start()

    def script(self, name, text):
        """An executable file NAME in the cluster's directory; its path."""
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
        return path

    def drbdadm_helper(self, *extra_args):
        """Every node runs its usermode helpers as the module does: through
        our drbdadm on the cluster's config (drbd-simd --usermode-helper),
        with __DRBD_NODE__ set to the node; EXTRA_ARGS go to drbd-simd."""
        umh = self.script("umh.sh",
                          f"#!/bin/sh\nexec {self.bin('drbdadm')} -c {self.conf} \"$@\"\n")
        for n in self.nodes:
            n.extra_args = ["--usermode-helper", umh, "--helper-env",
                            f"__DRBD_NODE__={n.name}", *extra_args]

    def add_handlers(self, res, handlers):
        """A `handlers { NAME "COMMAND"; ... }` section in resource RES of
        the config: HANDLERS maps handler names to commands."""
        body = " ".join(f'{h} "{cmd}";' for h, cmd in handlers.items())
        with open(self.conf) as f:
            text = f.read()
        head = f"resource {res} {{"
        expect(head in text, f"no {head} in {self.conf}")
        with open(self.conf, "w") as f:
            f.write(text.replace(head, f"{head}\n    handlers {{ {body} }}", 1))

    def stop(self):
        for n in self.nodes:
            n.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def wait(self, what, pred, timeout=20):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                last = pred()
                if last:
                    return last
            except (Failure, KeyError, IndexError, ValueError) as e:
                last = e
            time.sleep(0.05)
        raise Failure(f"timed out waiting for {what} (last: {last!r})")


# ---- helpers over status --json ----------------------------------------------------

def connections(status, res):
    for r in status:
        if r["name"] == res:
            return {c["name"]: c for c in r["connections"]}
    return {}


def conn_state(node, res, peer):
    c = connections(node.status_json(res), res).get(peer)
    return c and c["connection-state"]


def role(node, res):
    for r in node.status_json(res):
        if r["name"] == res:
            return r["role"]
    return None


def disk_state(node, res, volume=0):
    for r in node.status_json(res):
        if r["name"] == res:
            return next(d["disk-state"] for d in r["devices"] if d["volume"] == volume)
    return None


def up_all(cluster, res):
    for n in cluster.nodes:
        n.adm("create-md", "--force", res)
    for n in cluster.nodes:
        n.adm("up", res)


def wait_connected(cluster, res, nodes=None):
    nodes = nodes or cluster.nodes
    for n in nodes:
        for peer in nodes:
            if peer is n:
                continue
            cluster.wait(f"{n.name} Connected to {peer.name}",
                         lambda n=n, peer=peer: conn_state(n, res, peer.name) == "Connected")



def res_stats(node, res="r0"):
    """NODE's `drbdsetup status RES --statistics --json` object for RES."""
    return json.loads(node.setup("status", res, "--statistics", "--json").stdout)[0]


def all_in_sync(cluster, nodes=None, res="r0", every_volume=False):
    """Every node UpToDate, and every connection Connected/Established
    toward an UpToDate peer with nothing out of sync (raises Failure saying
    what is not, for Cluster.wait). Volume 0 only, unless EVERY_VOLUME."""
    for n in nodes or cluster.nodes:
        s = res_stats(n, res)
        for d in s["devices"] if every_volume else s["devices"][:1]:
            if d["disk-state"] != "UpToDate":
                vol = f"/{d['volume']}" if every_volume else ""
                raise Failure(f"{n.name}{vol} disk:{d['disk-state']}")
        for conn in s["connections"]:
            for pd in conn["peer_devices"] if every_volume else conn["peer_devices"][:1]:
                if (conn["connection-state"] != "Connected"
                        or pd["replication-state"] != "Established"
                        or pd["peer-disk-state"] != "UpToDate" or pd["out-of-sync"] != 0):
                    vol = f"/{pd['volume']}" if every_volume else ""
                    raise Failure(f"{n.name} {conn['name']}{vol} connection:"
                                  f"{conn['connection-state']} replication:"
                                  f"{pd['replication-state']} peer-disk:"
                                  f"{pd['peer-disk-state']} out-of-sync:{pd['out-of-sync']}")
    return True


def up_synced_primary(cluster, size_mb, net="", disk="", res="r0", handlers=None):
    """RES (volume 0) on every node of CLUSTER on all-zero images of
    SIZE_MB, the initial sync skipped (new-current-uuid --clear-bitmap),
    the first node Primary; HANDLERS as Cluster.add_handlers takes them."""
    cluster.start()
    for n in cluster.nodes:
        cluster.image(n, 0, size_mb=size_mb)
    cluster.write_config([{"name": res, "volumes": [0], "nodes": [n.name for n in cluster.nodes],
                           "net": net, "disk": disk}])
    if handlers:
        cluster.add_handlers(res, handlers)
    up_skip_sync_primary(cluster, res)


def up_skip_sync_primary(cluster, res="r0"):
    """Brings RES up on every node of CLUSTER (configs written), skips the
    initial sync and makes the first node Primary."""
    up_all(cluster, res)
    wait_connected(cluster, res)
    cluster.nodes[0].adm("new-current-uuid", "--clear-bitmap", f"{res}/0")
    cluster.wait("all UpToDate", lambda: all_in_sync(cluster, res=res))
    cluster.nodes[0].adm("primary", res)


def qemu_io(node, *cmds):
    """Runs qemu-io on NODE's NBD export of minor 0 with the -c commands
    CMDS; fails unless every command succeeded. Its output."""
    argv = ["qemu-io", "-f", "raw", node.uri()]
    for cmd in cmds:
        argv += ["-c", cmd]
    p = node.run_cmd(argv, check=False)
    out = p.stdout + p.stderr
    expect(p.returncode == 0 and "failed" not in out, f"qemu-io {cmds}: {p.returncode} {out}")
    return out

def kill_during_workload(cluster, node, worker_argv, ready, what, timeout=60):
    """Runs WORKER_ARGV (a client of NODE's exports, with NODE's environment)
    until READY() holds, then SIGKILLs NODE's drbd-simd mid-workload and
    returns the worker's exit code once it has ended (killed after 30 s)."""
    w = subprocess.Popen(worker_argv, env=node.env(), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        cluster.wait(what, ready, timeout=timeout)
        node.proc.send_signal(signal.SIGKILL)
        node.proc.wait()
        w.wait(30)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    return w.returncode

# ---- network faults ------------------------------------------------------------------

class TcpProxy:
    """A TCP relay from 127.0.0.1:port (picked free) to 127.0.0.1:TARGET,
    run by threads of the test process, for network faults on loopback:

      cut()   stops relaying in both directions: bytes wait in the socket
              buffers as if the packets were lost and retransmitted, closes
              are not passed on, and a new connection is accepted but not
              relayed (its SYN would be retransmitted) until
      heal()  relays again what waited, in order, closes included;
      reset() closes every relayed connection with a reset (RST, as a
              reset mid-message); later connections are relayed as usual.

    A connection the target refuses is closed. close() ends it all."""

    def __init__(self, target):
        self.target = target
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.closed = False
        self.pipes = set()  # relayed (accepted, upstream) socket pairs
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self):
        self.open.clear()

    def heal(self):
        self.open.set()

    def reset(self):
        with self.lock:
            pipes = list(self.pipes)
        for pair in pipes:
            self._drop(pair, rst=True)

    def close(self):
        self.closed = True
        self.open.set()
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()
        self.reset()

    def _accept(self):
        while not self.closed:
            try:
                a, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(a,), daemon=True).start()

    def _wait_open(self):
        while not self.open.wait(0.2):
            pass
        return not self.closed

    def _connect(self, a):
        b = None
        if self._wait_open():
            try:
                b = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                b.settimeout(None)
            except OSError:
                b = None
        if b is None:
            a.close()
            return
        pair = (a, b)
        with self.lock:
            self.pipes.add(pair)
        for s in pair:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=self._pump, args=(a, b, pair), daemon=True).start()
        threading.Thread(target=self._pump, args=(b, a, pair), daemon=True).start()

    def _pump(self, src, dst, pair):
        try:
            while True:
                data = src.recv(1 << 16)
                if not self._wait_open() or not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        self._drop(pair)

    def _drop(self, pair, rst=False):
        with self.lock:
            if pair not in self.pipes:
                return
            self.pipes.discard(pair)
        for s in pair:
            try:
                if rst:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                # Wakes the pump blocked in recv() on it.
                s.shutdown(socket.SHUT_RD if rst else socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


# ---- the runner --------------------------------------------------------------------

def main(doc, tests, check=None, add_args=None):
    """Parses --bindir/-k/--keep/-v (and what ADD_ARGS(parser) adds), skips
    (77) when a tool is not built or `check()` returns a reason, runs the
    tests; exit status 1 if any failed."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bindir", required=True)
    ap.add_argument("-k", default="", help="run only tests whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every command run")
    if add_args:
        add_args(ap)
    args = ap.parse_args()
    for tool in TOOLS:
        if not os.access(os.path.join(args.bindir, tool), os.X_OK):
            print(f"SKIP: {tool} not built in {args.bindir}")
            return SKIP
    reason = check() if check else None
    if reason:
        print(f"SKIP: {reason}")
        return SKIP
    failed = ran = 0
    for t in tests:
        if args.k not in t.__name__:
            continue
        ran += 1
        t0 = time.time()
        try:
            t(args)
            print(f"PASS {t.__name__} ({time.time() - t0:.1f}s)")
        except Exception as e:  # a failure of the test, whatever its kind
            failed += 1
            print(f"FAIL {t.__name__}: {e}")
            if not isinstance(e, Failure):
                traceback.print_exc()
    print(f"{ran - failed} passed, {failed} failed")
    return 1 if failed else 0
