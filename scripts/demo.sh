#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs dependencies, builds, validates the sample cluster configuration
# config/drbd.conf (+ config/drbd.d/*.res) and prints, for each node of the
# sample cluster, what `drbdadm up` would run there (`-d`: dry run, nothing
# is executed, no DRBD module needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
# Run it through PATH: like drbd-utils, drbdadm called by a path prints the
# drbdsetup/drbdmeta next to it with that path.
export PATH="$PWD/${BUILD_DIR:-build}/bin:$PATH"
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
