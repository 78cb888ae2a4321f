#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs dependencies, builds, and runs every test:
#   1. ctest in build/ with all labels: unit, golden, differential (live
#      drbd-utils 9.22 oracle), peer (drbd-utils' tests/v9), fuzz (seed
#      replay), bench (smoke);
#   2. an ASan+UBSan build (build-asan/) running the unit, golden and fuzz
#      replay tests;
#   3. a bounded libFuzzer run (tests/fuzz/run_fuzz.sh, clang, build-fuzz/);
#   4. clang-tidy (scripts/clang-tidy.sh, .clang-tidy) over the non-test
#      sources with build/'s compile commands: about 9 CPU-minutes, so ~5
#      minutes with TIDY_JOBS=2 on 2 cores.
# Exits non-zero if any step fails; every step runs even after a failure.
# Env: FUZZ_SECONDS (default 60), SKIP_SANITIZE=1, SKIP_FUZZ=1, SKIP_TIDY=1,
#      TIDY_JOBS (default 2), CTEST_JOBS (default 2),
#      BUILD_DIR (build), ASAN_BUILD_DIR (build-asan), FUZZ_BUILD_DIR (build-fuzz).
# Tests that need root (unshare) or the oracle report "skipped" when absent.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${CTEST_JOBS:-2}
build=${BUILD_DIR:-build}
asan=${ASAN_BUILD_DIR:-build-asan}
fuzz=${FUZZ_BUILD_DIR:-build-fuzz}
failed=()
step() {
  local name=$1
  shift
  echo
  echo "=== $name: $*"
  local t0=$SECONDS
  if "$@"; then
    echo "=== $name: ok ($((SECONDS - t0))s)"
  else
    echo "=== $name: FAILED ($((SECONDS - t0))s)"
    failed+=("$name")
  fi
}

step deps bash scripts/install-deps.sh || exit 1
step build env BUILD_DIR="$build" bash scripts/build.sh
if [[ " ${failed[*]-} " == *" build "* ]]; then
  echo "test.sh: the build failed; not running tests"
  exit 1
fi
step ctest ctest --test-dir "$build" --output-on-failure -j "$jobs"

if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  # GCC 12 reports impossible -Wrestrict overlaps in inlined std::string code
  # once -fsanitize=address is on (GCC bug 105329); keep it a warning there.
  step asan-build env BUILD_DIR="$asan" bash scripts/build.sh -DDRBD_SANITIZE=ON -DDRBD_BENCH=OFF \
    -DCMAKE_CXX_FLAGS=-Wno-error=restrict
  if [[ " ${failed[*]-} " != *" asan-build "* ]]; then
    step asan-ctest env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir "$asan" --output-on-failure -j "$jobs" -L 'unit|golden|fuzz'
  fi
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  step fuzz env BUILD_DIR="$fuzz" FUZZ_SECONDS="${FUZZ_SECONDS:-60}" bash tests/fuzz/run_fuzz.sh
fi

if [ "${SKIP_TIDY:-0}" != 1 ]; then
  step clang-tidy env TIDY_JOBS="${TIDY_JOBS:-2}" bash scripts/clang-tidy.sh "$build"
fi

echo
if ((${#failed[@]})); then
  echo "test.sh: FAILED steps: ${failed[*]}"
  exit 1
fi
echo "test.sh: all steps passed"
