#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end benchmark: our drbdadm and the drbd-utils 9.22 oracle side by
# side on generated configs with N = 100, 1000, 10000 resources (two or three
# nodes each, 1-3 volumes, meshes, explicit paths; tests/integration/gen_configs.py
# --resources N), timing `drbdadm -c F -d up all` and `drbdadm -c F dump all`
# with hyperfine. Writes the results with the method into docs/bench.md.
#
# With valgrind installed it also counts the instructions of `-d up all`
# (callgrind) at N = 1000 and 10000: unlike wall time, that count does not
# depend on what else the machine is doing. A "## Status" section already at
# the end of the output file is kept (it is written by hand from the figures).
#
# Usage: bench/parse_plan.sh [--quick] [--no-callgrind] [--ours BIN] [--oracle BIN] [--out FILE]
#   --quick: N=100 only, 3 runs, no docs update (the ctest "bench" smoke run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
ours=$repo/build/bin/drbdadm
oracle=/usr/sbin/drbdadm
out=$repo/docs/bench.md
quick=0
callgrind=1
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --no-callgrind) callgrind=0 ;;
    --ours) ours=$2; shift ;;
    --oracle) oracle=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--no-callgrind] [--ours BIN] [--oracle BIN] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
for b in "$ours" "$oracle"; do
  [ -x "$b" ] || { echo "SKIP: $b not there"; exit 77; }
done
command -v hyperfine >/dev/null || { echo "SKIP: hyperfine not installed"; exit 77; }

sizes=(100 1000 10000)
runs=(10 10 5)
if ((quick)); then sizes=(100); runs=(3); callgrind=0; fi
command -v valgrind >/dev/null || callgrind=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Same environment for both: act as node alpha, no module probe, no tty.
export __DRBD_NODE__=alpha DRBD_DRIVER_VERSION_OVERRIDE=9.2.0
mkdir -p "$work/bin-ours" "$work/bin-oracle"
ln -s "$(readlink -f "$ours")" "$work/bin-ours/drbdadm"
ln -s "$(readlink -f "$oracle")" "$work/bin-oracle/drbdadm"

load=$(cut -d' ' -f1-3 /proc/loadavg)
results=$work/results.md
: >"$results"
for i in "${!sizes[@]}"; do
  n=${sizes[$i]}
  cfg=$work/n$n
  python3 "$repo/tests/integration/gen_configs.py" --out "$cfg" --resources "$n" --seed 1 >/dev/null
  # Both must accept the config and agree on the plan, or the timing is meaningless.
  for impl in ours oracle; do
    if ! (cd "$cfg" && "$work/bin-$impl/drbdadm" -c drbd.conf -d up all </dev/null >"$work/$impl.up" 2>/dev/null); then
      echo "bench: $impl drbdadm rejects the N=$n config" >&2
    fi
  done
  same=yes
  if ! cmp -s "$work/ours.up" "$work/oracle.up"; then
    # The documented differences from 9.22 (docs/compat.md: repair-md lines,
    # floating peer names) taken out as tests/integration/oracle_diff.py does.
    same=$(python3 - "$repo/tests/integration" "$work/ours.up" "$work/oracle.up" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import oracle_diff
ours = oracle_diff.normalise(open(sys.argv[2], "rb").read())
oracle = oracle_diff.normalise_oracle(open(sys.argv[3], "rb").read())
print("yes, after the documented newer-upstream differences" if ours == oracle else "no")
PY
)
  fi
  echo "### N = $n resources ($(wc -c <"$cfg/drbd.conf") bytes, plans identical: $same)" >>"$results"
  echo >>"$results"
  (cd "$cfg" && hyperfine -N --warmup 1 --runs "${runs[$i]}" --ignore-failure --style basic \
      --export-markdown "$work/h.md" --export-json "$work/h.json" \
      -n "ours -d up all" "$work/bin-ours/drbdadm -c drbd.conf -d up all" \
      -n "oracle -d up all" "$work/bin-oracle/drbdadm -c drbd.conf -d up all" \
      -n "ours dump all" "$work/bin-ours/drbdadm -c drbd.conf dump all" \
      -n "oracle dump all" "$work/bin-oracle/drbdadm -c drbd.conf dump all" </dev/null)
  cat "$work/h.md" >>"$results"
  echo >>"$results"
  # CPU time (user + system) per run: less sensitive than wall time to other
  # processes competing for the CPUs.
  python3 - "$work/h.json" >>"$results" <<'PY'
import json, sys
rs = json.load(open(sys.argv[1]))["results"]
cpu = {r["command"]: r["user"] + r["system"] for r in rs}
print("| Command | User [ms] | System [ms] | User+System [ms] | vs oracle |")
print("|:---|---:|---:|---:|---:|")
for r in rs:
    name = r["command"]
    other = name.replace("ours", "oracle")
    rel = "%.2f" % (cpu[name] / cpu[other]) if other in cpu else ""
    print("| `%s` | %.1f | %.1f | %.1f | %s |" % (name, r["user"] * 1e3, r["system"] * 1e3,
                                                  cpu[name] * 1e3, rel))
print()
PY
done

# Interleaved rounds at the largest N: ours and the oracle alternate within
# each round, so a change in machine load hits both sides alike (hyperfine
# above runs each command's repetitions back to back). Per run: wall time,
# user + system CPU time, page faults (GNU time); the table gives medians.
inter=$work/inter.md
: >"$inter"
if ! ((quick)) && [ -x /usr/bin/time ]; then
  n=${sizes[-1]}
  rounds=9
  for ((r = 0; r < rounds; r++)); do
    for impl in ours oracle; do
      (cd "$work/n$n" && /usr/bin/time -f "$impl %e %U %S %R" -a -o "$work/inter.txt" \
          "$work/bin-$impl/drbdadm" -c drbd.conf -d up all </dev/null >/dev/null 2>&1) || true
    done
  done
  python3 - "$work/inter.txt" "$n" "$rounds" >>"$inter" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    parts = line.split()  # skip GNU time's "Command exited with ..." lines
    if len(parts) != 5 or parts[0] not in ("ours", "oracle"):
        continue
    impl, wall, user, system, faults = parts
    runs.setdefault(impl, []).append((float(wall), float(user) + float(system), int(faults)))
med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in runs.items()}
print("| `-d up all`, N = %s | wall [ms] | user+system [ms] | page faults |" % sys.argv[2])
print("|:---|---:|---:|---:|")
for k in ("ours", "oracle"):
    w, c, f = med[k]
    print("| %s (median of %s) | %.0f | %.0f | %d |" % (k, sys.argv[3], w * 1e3, c * 1e3, f))
o, x = med["ours"], med["oracle"]
print("| ours / oracle | %.2f | %.2f | %.2f |" % (o[0] / x[0], o[1] / x[1], o[2] / x[2]))
PY
fi

# Instructions executed (callgrind), -d up all, whole process.
instr=$work/instr.md
: >"$instr"
if ((callgrind)); then
  count() {  # impl n -> instructions
    (cd "$work/n$2" && valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$work/bin-$1/drbdadm" -c drbd.conf -d up all </dev/null 2>&1 >/dev/null |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
  }
  echo "| N | ours [M instr] | oracle [M instr] | ours / oracle |" >>"$instr"
  echo "|---:|---:|---:|---:|" >>"$instr"
  for n in 1000 10000; do
    [ -d "$work/n$n" ] || continue
    o=$(count ours "$n"); x=$(count oracle "$n")
    [ -n "$o" ] && [ -n "$x" ] || continue
    awk -v n="$n" -v o="$o" -v x="$x" \
      'BEGIN { printf "| %d | %.0f | %.0f | %.2f |\n", n, o / 1e6, x / 1e6, o / x }' >>"$instr"
  done
fi

if ((quick)); then
  cat "$results"
  exit 0
fi
# Keep the hand-written status.
status=$work/status.md
: >"$status"
if [ -f "$out" ]; then sed -n '/^## Status/,$p' "$out" >"$status"; fi
{
  echo "# Benchmarks"
  echo
  echo "Generated by \`bench/parse_plan.sh\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs, $(uname -m))."
  echo
  echo "## Method"
  echo
  echo "* Configs: \`tests/integration/gen_configs.py --resources N --seed 1\` — one drbd.conf with N"
  echo "  resources (2 or 3 nodes, 1–3 volumes, common/resource options, meshes and explicit paths),"
  echo "  \`global { disable-ip-verification; }\` so that \`dump all\` needs no local addresses."
  echo "* Commands: \`drbdadm -c drbd.conf -d up all\` (parse, post-process, validate, plan every"
  echo "  resource) and \`drbdadm -c drbd.conf dump all\`, run as node alpha (\`__DRBD_NODE__=alpha\`,"
  echo "  \`DRBD_DRIVER_VERSION_OVERRIDE=9.2.0\`), stdin from /dev/null."
  echo "* ours = \`${ours#"$repo"/}\` (RelWithDebInfo), oracle = Debian drbd-utils 9.22 \`$oracle\`,"
  echo "  both invoked as \`drbdadm\` through a symlink, timed by hyperfine ${runs[*]} runs (N = ${sizes[*]}),"
  echo "  one warm-up run, no shell (\`-N\`). \"plans identical\" compares the two \`-d up all\` outputs"
  echo "  (with the differences from 9.22 that docs/compat.md documents taken out, as oracle_diff.py does)."
  echo "* Interleaved: at the largest N, ${sizes[-1]}, nine rounds of \`-d up all\` in which ours and the oracle"
  echo "  run one after the other (GNU time: wall, user + system, page faults; medians), so that load"
  echo "  changes on the shared machine hit both sides alike."
  echo "* Micro-benchmark of the library path: \`BM_Config_ParsePlan/N\` in \`bench/config_bench.cc\`"
  echo "  (Google Benchmark, built with \`-DDRBD_BENCH=ON\`: \`build/bench/config_bench\`)."
  echo
  echo "* Load average when the run started: $load (the numbers are only comparable within one run)."
  echo
  echo "## Results"
  echo
  cat "$results"
  if [ -s "$inter" ]; then
    echo "### Interleaved, \`-d up all\` at the largest N (/usr/bin/time, ours and oracle alternating)"
    echo
    cat "$inter"
    echo
  fi
  if [ -s "$instr" ]; then
    echo "### Instructions, \`-d up all\` (callgrind, whole process)"
    echo
    cat "$instr"
    echo
  fi
  if [ -s "$status" ]; then
    echo
    cat "$status"
  fi
} >"$out"
echo "bench: wrote $out"
