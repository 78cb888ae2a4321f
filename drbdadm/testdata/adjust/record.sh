#!/bin/sh
# Re-records the expected outputs of cases.txt with the installed drbd-utils
# 9.22 drbdadm (the oracle). Run from this directory.
export __DRBD_NODE__=alpha DRBD_DRIVER_VERSION_OVERRIDE=9.2.0
grep -v '^#' cases.txt | while IFS='|' read -r name config show args proxy; do
  # shellcheck disable=SC2086
  PATH=$(pwd)/bin:$PATH FAKE_PROXY_SETTINGS=$proxy FAKE_DRBDSETUP_SHOW=$show \
    drbdadm -c "$config" -d $args </dev/null >"$name.out" 2>"$name.stderr"
  echo $? >"$name.rc"
  # absolute paths of this directory become @DIR@
  grep -v -e '^$' -e '__DRBD_NODE__' -e 'PRETENDING' "$name.stderr" |
    sed "s|$(pwd -P)|@DIR@|g" >"$name.err"
  rm -f "$name.stderr"
done
