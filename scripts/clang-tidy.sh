#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs clang-tidy (.clang-tidy at the top) over the project's sources with the
# compile commands of a build directory. Test, fuzz and benchmark sources are
# left out (their shapes are gtest's/libFuzzer's).
# Exits non-zero on any finding.
#   scripts/clang-tidy.sh [BUILD_DIR] [FILE...]     (default: build, all sources)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
if [ ! -f "$build/compile_commands.json" ]; then
  echo "clang-tidy.sh: $build/compile_commands.json missing: build first" >&2
  exit 1
fi
if (($#)); then
  files=("$@")
else
  # Tracked files and new ones not yet added (but not ignored ones).
  mapfile -t files < <(git ls-files --cached --others --exclude-standard \
                         'lib/*.cc' 'drbdadm/*.cc' 'drbdsetup/*.cc' 'drbdmeta/*.cc' \
                         'tools/*.cc' 'ocf/*.cc' 'sim/*.cc' 'tests/replay/*.cc' |
                         grep -v -E '_(test|fuzz|bench)\.cc$' | sort -u)
fi
jobs=${TIDY_JOBS:-2}
log=$(mktemp)
errlog=$(mktemp)
printf '%s\n' "${files[@]}" |
  xargs -P "$jobs" -n 4 clang-tidy -p "$build" --quiet 2>"$errlog" |
  tee "$log" | grep -E '(warning|error):'
status=${PIPESTATUS[1]}
n=$(grep -c -E '(warning|error):' "$log")
# A crash or a file missing from compile_commands.json fails the run without
# a finding on stdout: show why.
if [ "$status" -ne 0 ] && [ "$n" -eq 0 ]; then
  grep -v -E '^[0-9]+ warnings?( and [0-9]+ errors?)? generated\.$' "$errlog" | tail -n 20 >&2
fi
rm -f "$log" "$errlog"
echo "clang-tidy.sh: ${#files[@]} files, $n findings"
[ "$n" -eq 0 ] && [ "$status" -eq 0 ]
