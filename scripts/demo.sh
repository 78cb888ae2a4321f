#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs dependencies, builds, validates the sample cluster configuration
# config/drbd.conf (+ config/drbd.d/*.res) and prints, for each node of the
# sample cluster, what `drbdadm up` would run there (`-d`: dry run, nothing
# is executed, no DRBD module needed). Then it runs a live three-node cluster
# of drbd-simd processes on loopback, driven only by drbdadm with a config
# file: metadata, up, connect, promotion, status and events2, down.
# DEMO_BINDIR=DIR (the ctest `demo`): use the programs in DIR as they are,
# without installing or building.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DEMO_BINDIR:-}" ]; then
  bash scripts/install-deps.sh
  bash scripts/build.sh
  DEMO_BINDIR="$PWD/${BUILD_DIR:-build}/bin"
fi
# Run it through PATH: like drbd-utils, drbdadm called by a path prints the
# drbdsetup/drbdmeta next to it with that path.
export PATH="$DEMO_BINDIR:$PATH"
drbdadm=drbdadm
conf=config/drbd.conf
export DRBD_DRIVER_VERSION_OVERRIDE=9.2.0   # do not probe for a loaded kernel module

echo
echo "### Resources in $conf (drbdadm sh-resources):"
__DRBD_NODE__=alpha "$drbdadm" -c "$conf" sh-resources </dev/null 2>/dev/null | sed 's/^/    /'
for node in alpha bravo charlie; do
  echo
  echo "### __DRBD_NODE__=$node drbdadm -c $conf -d up all"
  # __DRBD_NODE__ makes drbdadm act as that node; its note goes to stderr.
  if ! __DRBD_NODE__=$node "$drbdadm" -c "$conf" -d up all </dev/null 2>/tmp/drbd-demo.$$.err; then
    echo "demo: drbdadm rejected $conf on $node:" >&2
    cat /tmp/drbd-demo.$$.err >&2
    rm -f /tmp/drbd-demo.$$.err
    exit 1
  fi
  rm -f /tmp/drbd-demo.$$.err
done
echo
echo "demo: $conf is valid on alpha, bravo and charlie"

# ---- a live simulated cluster -------------------------------------------------------
work=$(mktemp -d /tmp/drbd-cp-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
nodes=(alpha bravo charlie)
port=$((20000 + RANDOM % 20000))
{
  echo "global { usage-count no; }"
  echo "resource demo {"
  echo "  net { cram-hmac-alg sha256; shared-secret \"demo-secret\"; }"
  # A fixed resync rate, so that the initial sync of 64 MiB is seen and done in seconds.
  echo "  disk { c-plan-ahead 0; resync-rate 16M; }"
  for i in 0 1 2; do
    n=${nodes[$i]}
    truncate -s 64M "$work/$n.img"
    echo "  on $n { node-id $i; address 127.0.0.1:$((port + i)); volume 0 { device minor 0;"
    echo "         disk $work/$n.img; meta-disk internal; } }"
  done
  echo "  connection-mesh { hosts alpha bravo charlie; }"
  echo "}"
} >"$work/demo.res"
on() {  # on NODE CMD...: run with that node's drbd-simd and identity
  local n=$1
  shift
  DRBD_SIM_SOCKET="$work/$n.sock" __DRBD_NODE__=$n "$@" 2> >(grep -v -e 'found __DRBD_NODE__' \
    -e 'PRETENDING that I am' -e '^$' >&2)
}
for n in "${nodes[@]}"; do
  mkdir -p "$work/$n"  # the node's NBD exports: $work/NODE/drbdN.nbd
  drbd-simd --node "$n" --socket "$work/$n.sock" --nbd-dir "$work/$n" --quiet &
  pids+=($!)
done
# Up once its socket answers (the path exists from bind on, a moment
# before the daemon listens).
answers() { [ -S "$1" ] && DRBD_SIM_SOCKET="$1" drbdsetup status >/dev/null 2>&1; }
for i in 0 1 2; do  # each node's socket, or why it is missing
  for _ in $(seq 200); do
    answers "$work/${nodes[$i]}.sock" || ! kill -0 "${pids[$i]}" 2>/dev/null && break
    sleep 0.05
  done
  if ! answers "$work/${nodes[$i]}.sock"; then
    echo "demo: drbd-simd for ${nodes[$i]} did not start (see above)" >&2
    exit 1
  fi
done
echo
echo "### A live three-node cluster: one drbd-simd process per node (config: $work/demo.res)"
for n in "${nodes[@]}"; do
  on "$n" drbdadm -c "$work/demo.res" create-md --force demo >/dev/null
  on "$n" drbdadm -c "$work/demo.res" up demo
done
for n in "${nodes[@]}"; do
  on "$n" drbdsetup wait-connect-resource demo --wfc-timeout=20 || true
done
on alpha drbdadm -c "$work/demo.res" primary --force demo
sleep 0.5
echo
echo "### alpha: drbdadm status demo (the initial sync from alpha to its peers)"
on alpha drbdadm -c "$work/demo.res" status demo
# Data through the block device: 8 MiB written on alpha through its NBD export.
head -c $((8 << 20)) /dev/urandom >"$work/pattern"
nbd() { echo "nbd+unix:///?socket=$work/$1/drbd0.nbd"; }
nbdcopy "$work/pattern" "$(nbd alpha)"
echo
echo "### wrote 8 MiB through alpha's NBD export $work/alpha/drbd0.nbd (sha256 $(sha256sum <"$work/pattern" | cut -c1-16)...)"
for _ in $(seq 100); do  # until the peers are in sync
  on alpha drbdadm -c "$work/demo.res" status demo | grep -q -e 'Sync' -e 'Inconsistent' || break
  sleep 0.1
done
echo "### alpha: drbdadm status demo"
on alpha drbdadm -c "$work/demo.res" status demo
echo "### switch the Primary to bravo and read the data back from bravo's export"
on alpha drbdadm -c "$work/demo.res" secondary demo
on bravo drbdadm -c "$work/demo.res" primary demo
nbdcopy "$(nbd bravo)" "$work/readback"
if cmp -n $((8 << 20)) "$work/pattern" "$work/readback"; then
  echo "demo: the 8 MiB read on bravo are identical to what was written on alpha"
else
  echo "demo: FAILED: bravo's data differs from what was written on alpha" >&2
  exit 1
fi
on bravo drbdadm -c "$work/demo.res" status demo
echo "### bravo: drbdsetup events2 --now demo"
on bravo drbdsetup events2 --now demo
echo
echo "### charlie: drbdsetup status --json demo"
on charlie drbdsetup status --json demo
for n in "${nodes[@]}"; do on "$n" drbdadm -c "$work/demo.res" down demo; done
echo "demo: three drbd-simd nodes connected, data written on alpha read back on bravo, all taken down again"
