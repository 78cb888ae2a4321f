#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# drbdadm against a live drbd-simd node, as whole processes: `up all`,
# `adjust all` with no change and with one option changed, and `status all`,
# for N = 1, 100 and 1000 resources (one volume each, a peer that is not
# running, internal metadata on sparse files). Timed with hyperfine; prints a
# markdown section (method + tables + per-resource summary) on stdout, for
# docs/bench.md. Goal (issue #4): adjust at N = 1000 in at most 5 ms per
# resource.
#
# The build directory is first in PATH, as in an installation where drbdadm,
# drbdsetup and drbdmeta sit side by side (drbdmeta looks up drbdsetup in
# PATH). drbdadm runs our drbdsetup/drbdmeta in-process (docs/design/drbdadm.md);
# with --compare-max M, every N <= M is timed a second time with
# DRBDADM_EXEC_HELPERS=1 (one process per helper command, as before).
#
# Usage: bench/simd_ops.sh [--bindir DIR] [--sizes "1 100 1000"] [--runs N]
#                          [--up-runs N] [--compare-max M]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bindir=$repo/build/bin
sizes="1 100 1000"
runs=5
up_runs=3
compare_max=0
while (($#)); do
  case $1 in
    --bindir) bindir=$2; shift ;;
    --sizes) sizes=$2; shift ;;
    --runs) runs=$2; shift ;;
    --up-runs) up_runs=$2; shift ;;
    --compare-max) compare_max=$2; shift ;;
    *) echo "usage: $0 [--bindir DIR] [--sizes LIST] [--runs N] [--up-runs N] [--compare-max M]" >&2; exit 2 ;;
  esac
  shift
done
bindir=$(cd "$bindir" && pwd)
for t in drbd-simd drbdadm drbdsetup drbdmeta; do
  [ -x "$bindir/$t" ] || { echo "SKIP: $bindir/$t not built"; exit 77; }
done
command -v hyperfine >/dev/null || { echo "SKIP: hyperfine not installed"; exit 77; }

work=$(mktemp -d)
cleanup() {
  if [ -s "$work/simd.pid" ]; then
    kill "$(cat "$work/simd.pid")" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

export PATH=$bindir:$PATH
export __DRBD_NODE__=alpha DRBD_SIM_SOCKET=$work/alpha.sock
unset DRBDADM_EXEC_HELPERS
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

# (Re)starts the daemon; its pid is kept in $work/simd.pid (used by the
# hyperfine --prepare script too, so no process is found by name).
cat >"$work/restart.sh" <<EOF
#!/bin/sh
if [ -s "$work/simd.pid" ]; then
  pid=\$(cat "$work/simd.pid")
  kill "\$pid" 2>/dev/null
  while kill -0 "\$pid" 2>/dev/null; do sleep 0.02; done
fi
rm -f "$DRBD_SIM_SOCKET"
"$bindir/drbd-simd" --node alpha --socket "$DRBD_SIM_SOCKET" --quiet >/dev/null 2>&1 &
echo \$! >"$work/simd.pid"
while [ ! -S "$DRBD_SIM_SOCKET" ]; do sleep 0.02; done
EOF
chmod +x "$work/restart.sh"

stop_simd() {
  if [ -s "$work/simd.pid" ]; then
    local pid
    pid=$(cat "$work/simd.pid")
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
    : >"$work/simd.pid"
  fi
}

# hyperfine JSON -> "| N | command | mean ms | ms per resource |" rows.
summary_rows() {  # n json...
  local n=$1
  shift
  python3 - "$n" "$@" <<'EOF'
import json, sys
n = int(sys.argv[1])
for path in sys.argv[2:]:
    for r in json.load(open(path))["results"]:
        mean = r["mean"] * 1000
        print(f"| {n} | {r['command']} | {mean:.1f} | {mean / n:.2f} |")
EOF
}

# Times up all / adjust / status for n resources; mode "" or "exec".
run_size() {  # n mode
  local n=$1 mode=$2 sfx="" envp=()
  if [ "$mode" = exec ]; then
    sfx=" [exec]"
    envp=(env DRBDADM_EXEC_HELPERS=1)
  fi
  local cmdp="${envp[*]:+${envp[*]} }$adm -c $work/drbd.conf"
  write_config "$n" 10
  hyperfine -N --style basic --time-unit millisecond --runs "$up_runs" \
    --export-markdown "$work/up$mode.md" --export-json "$work/up$mode.json" \
    --prepare "$work/restart.sh" -n "up all$sfx" "$cmdp up all" >/dev/null
  "$work/restart.sh"
  "$adm" -c "$work/drbd.conf" up all >/dev/null 2>&1
  hyperfine -N --style basic --time-unit millisecond --runs "$runs" --warmup 1 \
    --export-markdown "$work/rest$mode.md" --export-json "$work/rest$mode.json" \
    -n "adjust all (no change)$sfx" "$cmdp adjust all" \
    -n "status all$sfx" "$cmdp status all" >/dev/null
  cp "$work/drbd.conf" "$work/drbd.conf.10"
  write_config "$n" 11
  cp "$work/drbd.conf" "$work/drbd.conf.11"
  cp "$work/drbd.conf.10" "$work/drbd.conf"
  cat >"$work/flip.sh" <<EOF
#!/bin/sh
# alternate ping-int 10 <-> 11 so that every timed adjust has one change
if grep -q "ping-int 10" "$work/drbd.conf"; then cp "$work/drbd.conf.11" "$work/drbd.conf"; else cp "$work/drbd.conf.10" "$work/drbd.conf"; fi
EOF
  chmod +x "$work/flip.sh"
  hyperfine -N --style basic --time-unit millisecond --runs "$runs" \
    --export-markdown "$work/change$mode.md" --export-json "$work/change$mode.json" \
    --prepare "$work/flip.sh" -n "adjust all (ping-int changed)$sfx" "$cmdp adjust all" >/dev/null
  stop_simd
  cat "$work/up$mode.md"
  tail -n +3 "$work/rest$mode.md"
  tail -n +3 "$work/change$mode.md"
  summary_rows "$n" "$work/up$mode.json" "$work/rest$mode.json" "$work/change$mode.json" \
    >>"$work/summary.md"
}

echo "## drbdadm against drbd-simd (bench/simd_ops.sh)"
echo
echo "Generated on $(date -u +%Y-%m-%d) ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at the start)."
echo "One drbd-simd node (alpha), N resources with one volume and an absent peer, internal"
echo "metadata on sparse 8 MiB files; hyperfine, $runs runs with one warm-up ($up_runs runs for"
echo "\`up all\`, each on a fresh daemon: the \`--prepare\` step restarts it and is not timed)."
echo "drbdadm runs drbdsetup/drbdmeta in-process; rows marked [exec] ran with"
echo "DRBDADM_EXEC_HELPERS=1 (a process per helper command)."
echo
: >"$work/summary.md"
for n in $sizes; do
  for ((i = 0; i < n; i++)); do truncate -s 8M "$work/a$i.img"; done
  write_config "$n" 10
  "$adm" -c "$work/drbd.conf" create-md --force all >/dev/null 2>&1 </dev/null || true
  echo "### N = $n"
  echo
  run_size "$n" ""
  if ((n <= compare_max)); then
    echo
    run_size "$n" exec
  fi
  echo
done
echo "### Per resource"
echo
echo "| N | Command | Mean [ms] | Per resource [ms] |"
echo "|---:|:---|---:|---:|"
cat "$work/summary.md"
