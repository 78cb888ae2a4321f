#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's demo (scripts/demo.sh) as a test, on the programs of this
# build: it must succeed, read back on bravo what alpha wrote, finish within
# a minute and leave no process and no directory of its own behind.
#   tests/integration/demo_test.sh BINDIR
set -uo pipefail
bindir=$1
root="$(dirname "$0")/../.."
command -v nbdcopy >/dev/null || { echo "SKIP: nbdcopy (libnbd-bin) missing"; exit 77; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
DEMO_BINDIR=$bindir timeout 120 bash "$root/scripts/demo.sh" >"$out" 2>&1
rc=$?
elapsed=$(($(date +%s) - start))
fail() { echo "FAIL: $*"; echo "--- demo output ---"; cat "$out"; exit 1; }
[ "$rc" -eq 0 ] || fail "demo exited with $rc"
grep -q "read on bravo are identical to what was written on alpha" "$out" ||
  fail "no read-back confirmation"
grep -q "all taken down again" "$out" || fail "the demo did not finish"
[ "$elapsed" -le 60 ] || fail "took ${elapsed} s, the README promises under a minute"
work=$(grep -o '/tmp/drbd-cp-demo\.[A-Za-z0-9]*' "$out" | head -1)
[ -n "$work" ] || fail "no work directory in the output"
sleep 0.5
if pgrep -f "$work" >/dev/null; then
  pgrep -af "$work"
  fail "processes of $work still running"
fi
[ ! -e "$work" ] || fail "$work left behind"
echo "PASS: demo in ${elapsed} s, nothing left running"
