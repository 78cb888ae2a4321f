#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside the kernel-harness guest (../shared/kernel-harness/run-vm.sh)
# with OUR drbdsetup and drbdmeta only: two DRBD 8.4 resources in one
# mainline kernel replicating over 127.0.0.1, as the harness's
# guest-smoke-84.sh does with drbd-utils. Exit 0 = pass; every failed
# check prints "FAIL: ..." and exits 1.
set -u
DRBDSETUP=${DRBDSETUP:-/usr/local/bin/drbdsetup}
DRBDMETA=${DRBDMETA:-/usr/local/bin/drbdmeta}
SIZE_MB=${K84_SIZE_MB:-32}

fail() { echo "FAIL: $*"; cat /proc/drbd 2>/dev/null; dmesg | grep -i drbd | tail -30; exit 1; }
run() { echo "+ $*"; "$@" || fail "rc=$? from: $*"; }
expect() {  # expect WHAT EXPECTED CMD...
  what=$1; want=$2; shift 2
  got=$("$@" 2>&1); rc=$?
  [ "$rc" = 0 ] && [ "$got" = "$want" ] || fail "$what: got '$got' (rc=$rc), want '$want'"
  echo "    $what: $got"
}
wait_proc() {  # wait_proc PATTERN_COUNT PATTERN SECONDS
  n=$1; pat=$2; secs=$3; i=0
  while [ "$(grep -c "$pat" /proc/drbd)" -lt "$n" ]; do
    i=$((i + 1)); [ $i -gt $((secs * 10)) ] && fail "timeout waiting for $n x '$pat'"
    sleep 0.1
  done
}

echo "=== load drbd"
modprobe drbd usermode_helper=/bin/true || fail "modprobe drbd"
head -1 /proc/drbd | grep -q "^version: 8.4" || fail "not an 8.4 module: $(head -1 /proc/drbd)"

echo "=== backing devices"
for n in 0 1; do
  truncate -s ${SIZE_MB}M /tmp/d$n.img
  losetup /dev/loop$n /tmp/d$n.img || fail "losetup loop$n"
done

echo "=== our drbdmeta: v08 internal metadata"
for n in 0 1; do run $DRBDMETA --force $n v08 /dev/loop$n internal create-md; done

echo "=== our drbdsetup: new-resource / new-minor / attach / connect"
for n in 0 1; do
  run $DRBDSETUP new-resource r$n
  run $DRBDSETUP new-minor r$n $n 0
  run $DRBDSETUP attach $n /dev/loop$n /dev/loop$n internal
done
expect "dstate 0 after attach" "Inconsistent/DUnknown" $DRBDSETUP dstate 0
# Resync options before connect: an 8.4 module adopts the peer's resync-rate
# and c-* settings in the handshake (P_SYNC_PARAM), so options set on one
# side while the other connects can be overwritten by the other's defaults.
for n in 0 1; do run $DRBDSETUP disk-options $n --c-plan-ahead=0 --resync-rate=100M; done
run $DRBDSETUP connect r0 ipv4:127.0.0.1:7788 ipv4:127.0.0.1:7789 --protocol=C
run $DRBDSETUP connect r1 ipv4:127.0.0.1:7789 ipv4:127.0.0.1:7788 --protocol=C
wait_proc 2 "cs:Connected" 30
expect "cstate 0" "Connected" $DRBDSETUP cstate 0
expect "role 1" "Secondary/Secondary" $DRBDSETUP role 1

echo "=== initial sync: primary --overwrite-data-of-peer"
run $DRBDSETUP primary 0 --overwrite-data-of-peer
wait_proc 2 "ds:UpToDate/UpToDate" 300
expect "role 0" "Primary/Secondary" $DRBDSETUP role 0
expect "dstate 1" "UpToDate/UpToDate" $DRBDSETUP dstate 1

echo "=== status and events2 as drbd-utils' drbdsetup-84 printed them at this point"
# tests/kernel/expected-*.txt: the real tools' output in the same scenario on
# the same kernel (../shared/spec/captures/drbd-8.4.11/console-drbdsetup-84.txt).
failed=""
for what in status events2; do
  case $what in
    # The reference was printed on the serial console, a tty: coloured,
    # with the escape codes (which count for line wrapping) stripped by the
    # harness. Ours is made to do the same.
    status) $DRBDSETUP status all --verbose --statistics --color=always > /tmp/$what.raw 2>&1
            sed "s/$(printf '\033')\[[0-9;]*m//g" /tmp/$what.raw > /tmp/$what.txt ;;
    events2) $DRBDSETUP events2 all --now --statistics > /tmp/$what.txt 2>&1 ;;
  esac
  rc=$?
  if ! diff -u /guest/files/expected-$what-84.txt /tmp/$what.txt; then
    failed="$failed $what"
  elif [ "$rc" != 0 ]; then
    failed="$failed $what(rc=$rc)"
  else
    echo "    $what: identical to drbdsetup-84"
  fi
done
# show: the running configuration, with and without defaults.
for what in show show-defaults; do
  case $what in
    show) $DRBDSETUP show all > /tmp/$what.txt 2>&1 ;;
    show-defaults) $DRBDSETUP show 0 --show-defaults > /tmp/$what.txt 2>&1 ;;
  esac
  rc=$?
  if ! diff -u /guest/files/expected-$what-84.txt /tmp/$what.txt; then
    failed="$failed $what"
  elif [ "$rc" != 0 ]; then
    failed="$failed $what(rc=$rc)"
  else
    echo "    $what: identical to drbdsetup-84"
  fi
done
# show-gi: the same picture, flags and legend; the UUIDs are this run's.
$DRBDSETUP show-gi 0 > /tmp/show-gi.raw 2>&1 || failed="$failed show-gi(rc=$?)"
uuids='^[0-9A-F]{16}:0{16}:[0-9A-F]{16}:[0-9A-F]{16}:1:1:1:1:0:0:0$'
grep -Eq "$uuids" /tmp/show-gi.raw || failed="$failed show-gi-uuids"
sed -r "s/^[0-9A-F]{16}:.*/UUIDS/" /tmp/show-gi.raw > /tmp/show-gi.txt
sed -r "s/^[0-9A-F]{16}:.*/UUIDS/" /guest/files/expected-show-gi-84.txt > /tmp/show-gi.want
if diff -u /tmp/show-gi.want /tmp/show-gi.txt; then echo "    show-gi: identical to drbdsetup-84 (UUIDs aside)"; else failed="$failed show-gi"; fi
$DRBDSETUP get-gi 0 > /tmp/get-gi.txt 2>&1
grep -Eq "$uuids" /tmp/get-gi.txt && [ "$(wc -l < /tmp/get-gi.txt)" = 1 ] || failed="$failed get-gi"
[ -z "$failed" ] || fail "differs from drbdsetup-84:$failed"

echo "=== pattern write on drbd0, role switch, read back on drbd1"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=2 status=none
dd if=/tmp/pattern of=/dev/drbd0 bs=1M oflag=direct conv=fsync status=none || fail "write drbd0"
run $DRBDSETUP secondary 0
run $DRBDSETUP primary 1
want=$(sha256sum < /tmp/pattern | cut -d' ' -f1)
got=$(dd if=/dev/drbd1 bs=1M count=2 iflag=direct status=none | sha256sum | cut -d' ' -f1)
[ "$want" = "$got" ] || fail "drbd1 read back $got, wrote $want"
echo "    MATCH $got"
expect "role 1 after switch" "Primary/Secondary" $DRBDSETUP role 1

echo "=== an option change applies only that change"
$DRBDSETUP show 0 --show-defaults > /tmp/before.txt || fail "show before"
run $DRBDSETUP disk-options 0 --al-extents=3001
$DRBDSETUP show 0 --show-defaults > /tmp/after.txt || fail "show after"
changed=$(diff -U0 /tmp/before.txt /tmp/after.txt | grep -v '^@@' | grep -v '^---' | grep -v '^+++')
want="-$(grep 'al-extents' /tmp/before.txt)
+$(printf '                al-extents      \t3001;')"
[ "$changed" = "$want" ] || fail "disk-options changed more than al-extents: $changed"
echo "    only al-extents changed"

echo "=== refusals: kernel codes and 8.4 limits"
out=$($DRBDSETUP primary 0 2>&1); rc=$?
[ "$rc" = 11 ] || fail "second primary without allow-two-primaries: rc=$rc ($out)"
echo "    $out (rc=$rc)"
out=$($DRBDSETUP new-peer r0 1 2>&1); rc=$?
[ "$rc" != 0 ] || fail "new-peer accepted on 8.4"
echo "    $out (rc=$rc)"

echo "=== down leaves no minor"
run $DRBDSETUP secondary 1
run $DRBDSETUP down r0
run $DRBDSETUP down r1
if grep -q "^ *[0-9]*: cs:" /proc/drbd; then fail "minors left after down"; fi
cat /proc/drbd
rmmod drbd || fail "rmmod drbd"
for n in 0 1; do losetup -d /dev/loop$n; done

echo "=== our drbdmeta reads the metadata the kernel wrote"
losetup /dev/loop0 /tmp/d0.img || fail "losetup"
$DRBDMETA --force 0 v08 /dev/loop0 internal dump-md > /tmp/dump.txt 2>&1 || fail "dump-md: $(cat /tmp/dump.txt)"
grep -q "^version \"v08\";" /tmp/dump.txt || fail "dump-md: $(head -5 /tmp/dump.txt)"
head -8 /tmp/dump.txt
echo "K84 PASS"
