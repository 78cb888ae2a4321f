#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the fuzz targets (config_parser_fuzz, md_reader_fuzz, genl_decode_fuzz,
# events2_parse_fuzz, nbd_protocol_fuzz, wire_decode_fuzz) with clang + libFuzzer + ASan + UBSan in their own build
# dir and fuzzes each for a bounded time. Exits non-zero when libFuzzer finds
# a crash, a leak, a timeout (hang) or a sanitizer report; the reproducer is
# left in $BUILD_DIR/<prefix>fuzz-artifacts/ (replay: $BUILD_DIR/tests/<target> FILE).
# Env: FUZZ_SECONDS (default 60; MD_, GENL_, EVENTS2_, NBD_, WIRE_FUZZ_SECONDS per target),
# BUILD_DIR (default build-fuzz), FUZZ_JOBS (default 1, config parser only),
# FUZZ_PARALLEL (targets fuzzed at once, default nproc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
BUILD_DIR=${BUILD_DIR:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
if ! command -v clang++ >/dev/null; then
  echo "run_fuzz: clang++ not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDRBD_FUZZ=ON -DDRBD_BENCH=OFF >/dev/null
seeds=$(mktemp -d)
logs=$(mktemp -d)
trap 'rm -rf "$seeds" "$logs"' EXIT
bash "$here/make_seed_corpus.sh" "$seeds"

# The six targets are built first in one go, then fuzzed FUZZ_PARALLEL at a
# time (default: the number of CPUs), each on one core, their output printed
# in order once all have run.
targets=(config_parser_fuzz md_reader_fuzz genl_decode_fuzz events2_parse_fuzz nbd_protocol_fuzz
  wire_decode_fuzz)
cmake --build "$BUILD_DIR" --target "${targets[@]}"
par=${FUZZ_PARALLEL:-$(nproc)}
order=()

# fuzz NAME LABEL SECONDS PREFIX SEEDS [LIBFUZZER_FLAGS...]: fuzzes tests/NAME
# in the background for SECONDS from SEEDS (read only); new inputs go to
# $BUILD_DIR/PREFIXfuzz-corpus (kept between runs), reproducers to
# $BUILD_DIR/PREFIXfuzz-artifacts/. Its output and exit code land in $logs.
fuzz() {
  local name=$1 label=$2 seconds=$3 prefix=$4 seed_dir=$5
  shift 5
  local work="$BUILD_DIR/${prefix}fuzz-corpus" art="$BUILD_DIR/${prefix}fuzz-artifacts/"
  mkdir -p "$work" "$art"
  while (($(jobs -rp | wc -l) >= par)); do wait -n || true; done
  order+=("$name")
  (
    set +e
    "$BUILD_DIR/tests/$name" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
      -artifact_prefix="$art" -print_final_stats=1 "$@" "$work" "$seed_dir" 2>&1 |
      grep -v -E '^#[0-9]+.*(NEW|REDUCE|pulse)' | tail -n 40
    local rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
      echo "run_fuzz: $name exited $rc; reproducers in $art:"
      ls -l "$art"
    else
      echo "run_fuzz: $label: no crash in ${seconds}s"
    fi
    echo "$rc" >"$logs/$name.rc"
  ) >"$logs/$name.log" 2>&1 &
}

parallel=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then parallel=(-fork="$FUZZ_JOBS"); fi
# The drbd.conf parser.
fuzz config_parser_fuzz "config parser" "$FUZZ_SECONDS" "" "$seeds" \
  -max_len=16384 -dict="$here/drbdconf.dict" "${parallel[@]}"
# The metadata reader (superblock, activity log, bitmap, dump-md text).
fuzz md_reader_fuzz "md reader" "${MD_FUZZ_SECONDS:-$FUZZ_SECONDS}" md- "$repo/tests/md/fuzz_seeds"
# The genl decoders (lib/genl: DRBD family messages, nlctrl, NLMSG_ERROR).
fuzz genl_decode_fuzz "genl decoder" "${GENL_FUZZ_SECONDS:-$FUZZ_SECONDS}" genl- \
  "$repo/tests/fuzz/genl_seeds"
# The events2 line parser (lib/events), from the checked-in captures.
fuzz events2_parse_fuzz "events2 parser" "${EVENTS2_FUZZ_SECONDS:-$FUZZ_SECONDS}" events2- \
  "$repo/lib/events/testdata" -dict="$here/events2.dict"
# drbd-simd's NBD server codec (sim/nbd: handshake options and requests).
fuzz nbd_protocol_fuzz "nbd protocol" "${NBD_FUZZ_SECONDS:-$FUZZ_SECONDS}" nbd- \
  "$repo/sim/nbd/fuzz_seeds"
# drbd-simd's peer protocol decoder (sim/proto: frames in random chunks, round trips).
fuzz wire_decode_fuzz "peer protocol" "${WIRE_FUZZ_SECONDS:-$FUZZ_SECONDS}" wire- \
  "$repo/sim/proto/fuzz_seeds"
wait
failed=0
for name in "${order[@]}"; do
  cat "$logs/$name.log"
  if [ "$(cat "$logs/$name.rc" 2>/dev/null || echo 1)" != 0 ]; then failed=1; fi
done
exit "$failed"
