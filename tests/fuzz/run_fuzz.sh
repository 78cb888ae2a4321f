#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds config_parser_fuzz with clang + libFuzzer + ASan + UBSan in its own
# build dir and fuzzes for a bounded time. Exits non-zero when libFuzzer finds
# a crash, a leak, a timeout (hang) or a sanitizer report; the reproducer is
# left in $BUILD_DIR/fuzz-artifacts/ (replay: $BUILD_DIR/tests/config_parser_fuzz FILE).
# Env: FUZZ_SECONDS (default 60), BUILD_DIR (default build-fuzz), FUZZ_JOBS (default 1).
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
cmake --build "$BUILD_DIR" --target config_parser_fuzz
seeds=$(mktemp -d)
work="$BUILD_DIR/fuzz-corpus"
art="$BUILD_DIR/fuzz-artifacts/"
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$work" "$art"
bash "$here/make_seed_corpus.sh" "$seeds"
# New inputs go to $work (kept between runs); the seeds are read only.
set +e
parallel=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then parallel=(-fork="$FUZZ_JOBS"); fi
"$BUILD_DIR/tests/config_parser_fuzz" -max_total_time="$FUZZ_SECONDS" -timeout=5 -rss_limit_mb=2048 \
  -max_len=16384 -dict="$here/drbdconf.dict" -artifact_prefix="$art" -print_final_stats=1 \
  "${parallel[@]}" "$work" "$seeds" 2>&1 | grep -v -E '^#[0-9]+.*(NEW|REDUCE|pulse)' | tail -n 40
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
  echo "run_fuzz: libFuzzer exited $rc; reproducers in $art:" >&2
  ls -l "$art" >&2
  exit 1
fi
echo "run_fuzz: no crash in ${FUZZ_SECONDS}s"

# The metadata reader (superblock, activity log, bitmap, dump-md text).
cmake --build "$BUILD_DIR" --target md_reader_fuzz
md_art="$BUILD_DIR/md-fuzz-artifacts/"
md_work="$BUILD_DIR/md-fuzz-corpus"
mkdir -p "$md_art" "$md_work"
set +e
"$BUILD_DIR/tests/md_reader_fuzz" -max_total_time="${MD_FUZZ_SECONDS:-$FUZZ_SECONDS}" -timeout=5 \
  -rss_limit_mb=2048 -artifact_prefix="$md_art" -print_final_stats=1 \
  "$md_work" "$repo/tests/md/fuzz_seeds" 2>&1 | grep -v -E '^#[0-9]+.*(NEW|REDUCE|pulse)' | tail -n 20
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
  echo "run_fuzz: md_reader_fuzz exited $rc; reproducers in $md_art:" >&2
  ls -l "$md_art" >&2
  exit 1
fi
echo "run_fuzz: md reader: no crash in ${MD_FUZZ_SECONDS:-$FUZZ_SECONDS}s"

# The genl decoders (lib/genl: DRBD family messages, nlctrl, NLMSG_ERROR).
cmake --build "$BUILD_DIR" --target genl_decode_fuzz
genl_art="$BUILD_DIR/genl-fuzz-artifacts/"
genl_work="$BUILD_DIR/genl-fuzz-corpus"
mkdir -p "$genl_art" "$genl_work"
set +e
"$BUILD_DIR/tests/genl_decode_fuzz" -max_total_time="${GENL_FUZZ_SECONDS:-$FUZZ_SECONDS}" -timeout=5 \
  -rss_limit_mb=2048 -artifact_prefix="$genl_art" -print_final_stats=1 \
  "$genl_work" "$repo/tests/fuzz/genl_seeds" 2>&1 | grep -v -E '^#[0-9]+.*(NEW|REDUCE|pulse)' | tail -n 20
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
  echo "run_fuzz: genl_decode_fuzz exited $rc; reproducers in $genl_art:" >&2
  ls -l "$genl_art" >&2
  exit 1
fi
echo "run_fuzz: genl decoder: no crash in ${GENL_FUZZ_SECONDS:-$FUZZ_SECONDS}s"
