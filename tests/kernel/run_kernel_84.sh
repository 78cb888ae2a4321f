#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# ctest "kernel_84": boots a Debian kernel with the mainline DRBD 8.4.11
# module under qemu (../shared/kernel-harness/run-vm.sh) and runs
# tests/kernel/guest-84.sh there with OUR drbdadm, drbdsetup and drbdmeta
# only (no drbd-utils in the guest). Exit 77 (skipped) only when qemu is
# missing.
# Usage: run_kernel_84.sh DRBDSETUP DRBDMETA DRBDADM [HARNESS_DIR]
set -u
setup=$1
meta=$2
adm=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
harness=${4:-${DRBD_KERNEL_HARNESS:-$repo/../shared/kernel-harness}}

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  echo "kernel_84: qemu-system-x86_64 missing (scripts/install-deps.sh installs it): skipped"
  exit 77
fi
if [ ! -x "$harness/run-vm.sh" ]; then
  echo "kernel_84: FAIL: no kernel harness at $harness (expected ../shared/kernel-harness next to the repo)"
  exit 1
fi
exec "$harness/run-vm.sh" \
  --bin "$setup:/usr/local/sbin/drbdsetup" \
  --bin "$meta:/usr/local/sbin/drbdmeta" \
  --bin "$adm:/usr/local/sbin/drbdadm" \
  --file "$here/expected-status-84.txt" --file "$here/expected-events2-84.txt" \
  --file "$here/expected-show-gi-84.txt" --file "$here/expected-show-84.txt" \
  --file "$here/expected-show-defaults-84.txt" --file "$here/expected-sh-status-84.txt" \
  --file "$here/expected-events-84.txt" \
  --script "$here/guest-84.sh" --timeout 420
