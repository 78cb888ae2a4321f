#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside the kernel-harness guest (../shared/kernel-harness/run-vm.sh)
# with OUR drbdadm, drbdsetup and drbdmeta only: two DRBD 8.4 resources in
# one mainline kernel replicating over 127.0.0.1, driven by drbdadm from
# /etc/drbd.conf as the harness's guest-smoke-84.sh does with drbd-utils'
# drbdadm-84. Exit 0 = pass; every failed check prints "FAIL: ..." and
# exits 1.
set -u
DRBDADM=${DRBDADM:-/usr/local/bin/drbdadm}
DRBDSETUP=${DRBDSETUP:-/usr/local/bin/drbdsetup}
DRBDMETA=${DRBDMETA:-/usr/local/bin/drbdmeta}
SIZE_MB=${K84_SIZE_MB:-32}
H=$(uname -n)

fail() { echo "FAIL: $*"; cat /proc/drbd 2>/dev/null; dmesg | grep -i drbd | tail -30; exit 1; }
run() { echo "+ $*"; "$@" || fail "rc=$? from: $*"; }
expect() {  # expect WHAT EXPECTED CMD...
  what=$1; want=$2; shift 2
  got=$("$@" 2>&1); rc=$?
  [ "$rc" = 0 ] && [ "$got" = "$want" ] || fail "$what: got '$got' (rc=$rc), want '$want'"
  echo "    $what: $(echo "$got" | head -1)"
}
expect_rc() {  # expect_rc WHAT RC CMD...: exit code RC, output shown
  what=$1; want=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  [ "$rc" = "$want" ] || fail "$what: rc=$rc, want $want ($out)"
  echo "    $what (rc=$rc): $out"
}
wait_proc() {  # wait_proc PATTERN_COUNT PATTERN SECONDS
  n=$1; pat=$2; secs=$3; i=0
  while [ "$(grep -c "$pat" /proc/drbd)" -lt "$n" ]; do
    i=$((i + 1)); [ $i -gt $((secs * 10)) ] && fail "timeout waiting for $n x '$pat'"
    sleep 0.1
  done
}
conf() {  # conf EXTRA_R0_DISK_OPTIONS EXTRA_R0_NET_OPTIONS
  cat > /etc/drbd.conf <<EOF
global { usage-count no; }
common { net { protocol C; } disk { c-plan-ahead 0; resync-rate 100M; } }
resource r0 {
  disk { $1 }
  net { $2 }
  on $H     { device /dev/drbd0 minor 0; disk /dev/loop0; meta-disk internal; address ipv4 127.0.0.1:7788; }
  on peer-r0 { device /dev/drbd0 minor 0; disk /dev/loop0; meta-disk internal; address ipv4 127.0.0.1:7789; }
}
resource r1 {
  on $H     { device /dev/drbd1 minor 1; disk /dev/loop1; meta-disk internal; address ipv4 127.0.0.1:7789; }
  on peer-r1 { device /dev/drbd1 minor 1; disk /dev/loop1; meta-disk internal; address ipv4 127.0.0.1:7788; }
}
EOF
}

echo "=== no module loaded: drbd-utils' message and exit code"
conf "" ""
out=$($DRBDSETUP role 0 2>&1); rc=$?
want="Could not stat /proc/drbd: No such file or directory
Make sure that the DRBD kernel module is installed and can be loaded!"
[ "$rc" = 20 ] && [ "$out" = "$want" ] || fail "drbdsetup without module: rc=$rc '$out'"
echo "    drbdsetup role 0 (rc=$rc): $(echo "$out" | head -1)"

echo "=== load drbd"
modprobe drbd usermode_helper=/bin/true || fail "modprobe drbd"
head -1 /proc/drbd | grep -q "^version: 8.4" || fail "not an 8.4 module: $(head -1 /proc/drbd)"

echo "=== backing devices"
for n in 0 1; do
  truncate -s ${SIZE_MB}M /tmp/d$n.img
  losetup /dev/loop$n /tmp/d$n.img || fail "losetup loop$n"
done

echo "=== drbdadm -d: the plans drbd-utils' drbdadm-84 printed in the same scenario"
# ../shared/spec/captures/drbd-8.4.11/console-drbdadm-84.txt (paths aside;
# its config had no disk options).
$DRBDADM -d create-md r0 r1 > /tmp/plan.txt 2>&1 || fail "-d create-md: $(cat /tmp/plan.txt)"
printf '%s\n' "drbdmeta 0 v08 /dev/loop0 internal create-md" \
  "drbdmeta 1 v08 /dev/loop1 internal create-md" > /tmp/want.txt
diff -u /tmp/want.txt /tmp/plan.txt || fail "-d create-md differs"
$DRBDADM -d up r0 r1 > /tmp/plan.txt 2>&1 || fail "-d up: $(cat /tmp/plan.txt)"
opts="--c-plan-ahead=0 --resync-rate=100M"
printf '%s\n' "drbdsetup-84 new-resource r0" "drbdsetup-84 new-minor r0 0 0" \
  "drbdsetup-84 new-resource r1" "drbdsetup-84 new-minor r1 1 0" \
  "drbdmeta 0 v08 /dev/loop0 internal apply-al" \
  "drbdsetup-84 attach 0 /dev/loop0 /dev/loop0 internal $opts" \
  "drbdmeta 1 v08 /dev/loop1 internal apply-al" \
  "drbdsetup-84 attach 1 /dev/loop1 /dev/loop1 internal $opts" \
  "drbdsetup-84 connect r0 ipv4:127.0.0.1:7788 ipv4:127.0.0.1:7789 --protocol=C" \
  "drbdsetup-84 connect r1 ipv4:127.0.0.1:7789 ipv4:127.0.0.1:7788 --protocol=C" > /tmp/want.txt
diff -u /tmp/want.txt /tmp/plan.txt || fail "-d up differs"
echo "    -d create-md and -d up: identical to drbdadm-84"

echo "=== our drbdadm: create-md (v08), up"
run $DRBDADM create-md --force r0 r1
run $DRBDADM up r0 r1
run $DRBDADM wait-connect r0
wait_proc 2 "cs:Connected" 30
expect "drbdadm cstate r0" "Connected" $DRBDADM cstate r0
expect "drbdadm role r1" "Secondary/Secondary" $DRBDADM role r1
expect "drbdadm dstate r0" "Inconsistent/Inconsistent" $DRBDADM dstate r0
# Nothing differs from the configuration: adjust has nothing to do.
expect "drbdadm -d adjust all (nothing to do)" "" $DRBDADM -d adjust all

echo "=== initial sync: drbdadm primary --force"
run $DRBDADM primary --force r0
run $DRBDADM wait-sync r1
wait_proc 2 "ds:UpToDate/UpToDate" 300
expect "drbdadm role r0" "Primary/Secondary" $DRBDADM role r0
expect "drbdadm dstate r1" "UpToDate/UpToDate" $DRBDADM dstate r1

echo "=== status, events2, show, sh-status as drbd-utils' drbdsetup-84 printed them"
# tests/kernel/expected-*.txt: the real tools' output in the same scenario on
# the same kernel (../shared/spec/captures/drbd-8.4.11/console-drbdsetup-84.txt).
failed=""
for what in status events2 show show-defaults sh-status; do
  case $what in
    # The reference was printed on the serial console, a tty: coloured,
    # with the escape codes (which count for line wrapping) stripped by the
    # harness. Ours is made to do the same.
    status) $DRBDSETUP status all --verbose --statistics --color=always > /tmp/$what.raw 2>&1
            sed "s/$(printf '\033')\[[0-9;]*m//g" /tmp/$what.raw > /tmp/$what.txt ;;
    events2) $DRBDSETUP events2 all --now --statistics > /tmp/$what.txt 2>&1 ;;
    show) $DRBDSETUP show all > /tmp/$what.txt 2>&1 ;;
    show-defaults) $DRBDSETUP show 0 --show-defaults > /tmp/$what.txt 2>&1 ;;
    sh-status) $DRBDSETUP sh-status 0 > /tmp/$what.txt 2>&1 ;;
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
$DRBDADM get-gi r0 > /tmp/get-gi.txt 2>&1
grep -Eq "$uuids" /tmp/get-gi.txt && [ "$(wc -l < /tmp/get-gi.txt)" = 1 ] || failed="$failed get-gi"
# events (8.4 broadcast format) for one second: the current state of each
# minor; the sequence number is this run's. ("Terminated" is timeout's.)
timeout 1 $DRBDSETUP events all > /tmp/events.raw 2>&1
grep -v '^Terminated$' /tmp/events.raw | sed -E 's/^[0-9]+ /SEQ /' > /tmp/events.txt
if diff -u /guest/files/expected-events-84.txt /tmp/events.txt; then echo "    events: identical to drbdsetup-84 (sequence numbers aside)"; else failed="$failed events"; fi
[ -z "$failed" ] || fail "differs from drbdsetup-84:$failed"
# drbdadm's views: sh-status wraps drbdsetup's per volume; status and
# events2 of one resource come from drbdsetup.
$DRBDADM sh-status > /tmp/adm-sh-status.txt 2>&1 || fail "drbdadm sh-status: $(cat /tmp/adm-sh-status.txt)"
grep -q "^_conf_res_name=r1$" /tmp/adm-sh-status.txt && grep -q "^_role=Secondary$" /tmp/adm-sh-status.txt \
  || fail "drbdadm sh-status: $(cat /tmp/adm-sh-status.txt)"
echo "    drbdadm sh-status: $(grep -c _sh_status_process /tmp/adm-sh-status.txt) volumes"
$DRBDADM status r0 > /tmp/adm-status.txt 2>&1 || fail "drbdadm status r0: $(cat /tmp/adm-status.txt)"
head -1 /tmp/adm-status.txt | grep -q "^r0 role:Primary" || fail "drbdadm status r0: $(cat /tmp/adm-status.txt)"
echo "    drbdadm status r0: $(head -1 /tmp/adm-status.txt)"

echo "=== pattern write on drbd0, role switch, read back on drbd1"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=2 status=none
dd if=/tmp/pattern of=/dev/drbd0 bs=1M oflag=direct conv=fsync status=none || fail "write drbd0"
run $DRBDADM secondary r0
run $DRBDADM primary r1
want=$(sha256sum < /tmp/pattern | cut -d' ' -f1)
got=$(dd if=/dev/drbd1 bs=1M count=2 iflag=direct status=none | sha256sum | cut -d' ' -f1)
[ "$want" = "$got" ] || fail "drbd1 read back $got, wrote $want"
echo "    MATCH $got"
expect "drbdadm role r1 after switch" "Primary/Secondary" $DRBDADM role r1

echo "=== adjust after an option change applies only that change"
$DRBDSETUP show 0 --show-defaults > /tmp/before.txt || fail "show before"
conf "al-extents 3001;" ""
expect "drbdadm -d adjust r0" \
  "drbdsetup-84 disk-options 0 --set-defaults --al-extents=3001 $opts" $DRBDADM -d adjust r0
run $DRBDADM adjust r0
$DRBDSETUP show 0 --show-defaults > /tmp/after.txt || fail "show after"
changed=$(diff -U0 /tmp/before.txt /tmp/after.txt | grep -v '^@@' | grep -v '^---' | grep -v '^+++')
want="-$(grep 'al-extents' /tmp/before.txt)
+$(printf '                al-extents      \t3001;')"
[ "$changed" = "$want" ] || fail "adjust changed more than al-extents: $changed"
echo "    only al-extents changed"
conf "al-extents 3001;" "max-buffers 4000;"
expect "drbdadm -d adjust all (net option)" \
  "drbdsetup-84 net-options ipv4:127.0.0.1:7788 ipv4:127.0.0.1:7789 --set-defaults --protocol=C --max-buffers=4000" \
  $DRBDADM -d adjust all
run $DRBDADM adjust all
expect "drbdadm -d adjust all after adjust" "" $DRBDADM -d adjust all
$DRBDSETUP show r0 | grep -Eq "max-buffers[[:space:]]+4000;" || fail "max-buffers not applied: $($DRBDSETUP show r0)"
expect "cstate r0 after net-options" "Connected" $DRBDADM cstate r0

echo "=== resize: the kernel's size, then check-resize records the backing device"
run $DRBDADM resize r1
lkbd=$(cat /var/lib/drbd/drbd-minor-1.lkbd 2>&1)
[ "$lkbd" = "$((SIZE_MB * 1024 * 1024))	/dev/loop1" ] || fail "drbd-minor-1.lkbd: '$lkbd'"
echo "    drbd-minor-1.lkbd: $lkbd"

echo "=== refusals: kernel codes and 8.4 limits"
expect_rc "drbdadm primary r0 while r1 is Primary" 11 $DRBDADM primary r0
expect_rc "drbdsetup new-peer" 20 $DRBDSETUP new-peer r0 1

echo "=== disconnect, wait-* timeouts, connect"
run $DRBDADM disconnect r0
expect "drbdadm cstate r0 after disconnect" "StandAlone" $DRBDADM cstate r0
# StandAlone ends a wait at once (no --wait-after-sb); the peer's
# WFConnection waits until the timeout: exit 5.
run $DRBDADM wait-connect r0
expect_rc "drbdsetup wait-connect 1 --wfc-timeout=1 (peer gone)" 5 $DRBDSETUP wait-connect 1 --wfc-timeout=1
run $DRBDADM connect r0
run $DRBDADM wait-connect r0
run $DRBDADM wait-sync r0
expect "drbdadm cstate r1 after connect" "Connected" $DRBDADM cstate r1

echo "=== down leaves no minor"
run $DRBDADM secondary r1
run $DRBDADM down r0 r1
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
