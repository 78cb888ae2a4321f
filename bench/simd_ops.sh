#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# drbdadm against a live drbd-simd node, as whole processes: `up all`,
# `adjust all` with no change and with one option changed, and `status all`,
# for N = 1, 100 and 1000 resources (one volume each, a peer that is not
# running, internal metadata on sparse files). Timed with hyperfine; prints a
# markdown section (method + tables) on stdout, for docs/bench.md.
# Goal (issue #4): adjust at N = 1000 in at most 5 ms per resource.
#
# Usage: bench/simd_ops.sh [--bindir DIR] [--sizes "1 100 1000"] [--runs N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bindir=$repo/build/bin
sizes="1 100 1000"
runs=5
while (($#)); do
  case $1 in
    --bindir) bindir=$2; shift ;;
    --sizes) sizes=$2; shift ;;
    --runs) runs=$2; shift ;;
    *) echo "usage: $0 [--bindir DIR] [--sizes LIST] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done
for t in drbd-simd drbdadm drbdsetup drbdmeta; do
  [ -x "$bindir/$t" ] || { echo "SKIP: $bindir/$t not built"; exit 77; }
done
command -v hyperfine >/dev/null || { echo "SKIP: hyperfine not installed"; exit 77; }

work=$(mktemp -d)
simd_pid=
cleanup() {
  [ -n "$simd_pid" ] && kill "$simd_pid" 2>/dev/null && wait "$simd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export __DRBD_NODE__=alpha DRBD_SIM_SOCKET=$work/alpha.sock
adm="$bindir/drbdadm"

# One config with N resources: alpha (us) and beta (never started).
write_config() {  # n ping_int
  local n=$1 ping=$2 i
  {
    echo "global { usage-count no; }"
    echo "common { net { ping-int $ping; } }"
    for ((i = 0; i < n; i++)); do
      cat <<EOF
resource r$i {
  device minor $i;
  meta-disk internal;
  on alpha { node-id 0; address 127.0.0.1:$((20000 + i)); disk $work/a$i.img; }
  on beta  { node-id 1; address 127.0.0.1:$((40000 + i)); disk $work/b$i.img; }
}
EOF
    done
  } >"$work/drbd.conf"
}

start_simd() {
  rm -f "$DRBD_SIM_SOCKET"
  "$bindir/drbd-simd" --node alpha --socket "$DRBD_SIM_SOCKET" --quiet &
  simd_pid=$!
  for _ in $(seq 100); do [ -S "$DRBD_SIM_SOCKET" ] && return 0; sleep 0.05; done
  echo "drbd-simd did not start" >&2
  exit 1
}

stop_simd() {
  kill "$simd_pid" 2>/dev/null || true
  wait "$simd_pid" 2>/dev/null || true
  simd_pid=
}

echo "## drbdadm against drbd-simd (bench/simd_ops.sh)"
echo
echo "Generated on $(date -u +%Y-%m-%d) ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))."
echo "One drbd-simd node (alpha), N resources with one volume and an absent peer, internal"
echo "metadata on sparse 8 MiB files; hyperfine, $runs runs, one warm-up. \`up all\` is timed on a"
echo "fresh daemon each run (the \`--prepare\` step restarts it and is not timed)."
echo
for n in $sizes; do
  for ((i = 0; i < n; i++)); do truncate -s 8M "$work/a$i.img"; done
  write_config "$n" 10
  "$adm" -c "$work/drbd.conf" create-md --force all >/dev/null 2>&1 </dev/null || true
  cat >"$work/restart.sh" <<EOF
#!/bin/sh
pkill -f "drbd-simd --node alpha --socket $DRBD_SIM_SOCKET" ; sleep 0.2
rm -f "$DRBD_SIM_SOCKET"
"$bindir/drbd-simd" --node alpha --socket "$DRBD_SIM_SOCKET" --quiet >/dev/null 2>&1 &
while [ ! -S "$DRBD_SIM_SOCKET" ]; do sleep 0.02; done
EOF
  chmod +x "$work/restart.sh"
  echo "### N = $n"
  echo
  hyperfine -N --style basic --time-unit millisecond --runs "$runs" --export-markdown "$work/up.md" \
    --prepare "$work/restart.sh" -n "up all" "$adm -c $work/drbd.conf up all" >/dev/null
  start_simd
  "$adm" -c "$work/drbd.conf" up all >/dev/null 2>&1
  hyperfine -N --style basic --time-unit millisecond --runs "$runs" --warmup 1 --export-markdown "$work/rest.md" \
    -n "adjust all (no change)" "$adm -c $work/drbd.conf adjust all" \
    -n "status all" "$adm -c $work/drbd.conf status all" >/dev/null
  cp "$work/drbd.conf" "$work/drbd.conf.10"
  write_config "$n" 11
  cp "$work/drbd.conf" "$work/drbd.conf.11"
  cat >"$work/flip.sh" <<EOF
#!/bin/sh
# alternate ping-int 10 <-> 11 so that every timed adjust has one change
if grep -q "ping-int 10" "$work/drbd.conf"; then cp "$work/drbd.conf.11" "$work/drbd.conf"; else cp "$work/drbd.conf.10" "$work/drbd.conf"; fi
EOF
  chmod +x "$work/flip.sh"
  hyperfine -N --style basic --time-unit millisecond --runs "$runs" --export-markdown "$work/change.md" \
    --prepare "$work/flip.sh" -n "adjust all (ping-int changed)" \
    "$adm -c $work/drbd.conf adjust all" >/dev/null
  stop_simd
  cat "$work/up.md"
  tail -n +3 "$work/rest.md"
  tail -n +3 "$work/change.md"
  echo
done
