#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Differential test of our drbdmeta against drbd-utils' (the oracle) on
# sparse image files: create-md by each tool must give byte-identical
# metadata areas, each tool must read the other's metadata with identical
# dump-md (apart from the date line), show-gi, get-gi and dstate output, and
# apply-al must replay the same AL transaction to the same bitmap.
# Usage: diff_oracle.sh OUR_DRBDMETA [ORACLE_DRBDMETA] [quick]
# Exit 0 when all cases agree; 77 (skip) when the oracle is missing.
set -u
ours=${1:?usage: $0 OUR_DRBDMETA [ORACLE] [quick]}
oracle=${2:-/usr/sbin/drbdmeta}
mode=${3:-full}
[ -x "$oracle" ] || { echo "oracle $oracle not found, skipping"; exit 77; }
# Both drbdmeta implementations keep /var/lib/drbd/drbd-minor--1.lkbd, and
# v08 create-md reads it back: other tests (differential84's drbdadm-84,
# people) touching it at the same time changed our output. Where we may,
# rerun in a private mount namespace with a private /var/lib/drbd.
if [ -z "${MD_DIFF_PRIVATE:-}" ] && [ "$(id -u)" = 0 ] &&
   unshare -m --propagation private true 2>/dev/null; then
  private=$(mktemp -d /tmp/md-diff-lk.XXXXXX)
  MD_DIFF_PRIVATE=$private unshare -m --propagation private \
    sh -c 'mount --bind "$0" /var/lib/drbd && exec "$@"' "$private" bash "$0" "$@"
  rc=$?
  rm -rf "$private"
  exit $rc
fi
work=$(mktemp -d /tmp/md-diff.XXXXXX)
trap 'rm -rf "$work"' EXIT
export TZ=UTC LC_ALL=C
fail=0
cases=0

# dump-md's date line, wherever it is.
datere='s/^# [0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9:]\{8\} [-+][0-9]\{4\} \[[0-9]*\]$/# DATE/'
# dump-md's "# host> argv..." line: the program name may differ.
hostre='s/^\(# [^ >]*>\) [^ ]*/\1 drbdmeta/'
note() { echo "FAIL: $*"; fail=$((fail + 1)); }

here=$(cd "$(dirname "$0")" && pwd)
same_bytes() { python3 "$here/cmp_sparse.py" "$1" "$2" >/dev/null; }

run_case() {  # size peers placement(internal|flex-external|0) fmt [extra create args]
  local size=$1 peers=$2 place=$3 fmt=$4; shift 4
  local o="$work/o.img" m="$work/m.img" t
  rm -f "$o" "$m" "$work"/*.out
  truncate -s "$size" "$o"; truncate -s "$size" "$m"
  local pa=$peers; [ "$fmt" = v08 ] && pa=
  cases=$((cases + 1))
  local id="$fmt size=$size peers=$peers $place $*"
  "$oracle" --force - $fmt "$o" $place create-md $pa "$@" >"$work/oc.out" 2>&1; local orc=$?
  "$ours" --force - $fmt "$m" $place create-md $pa "$@" >"$work/mc.out" 2>&1; local mrc=$?
  [ $orc = $mrc ] || note "$id: create-md exit $orc vs $mrc"
  sed -i "s#$o#IMG#g" "$work/oc.out"; sed -i "s#$m#IMG#g" "$work/mc.out"
  cmp -s "$work/oc.out" "$work/mc.out" || note "$id: create-md output differs"
  same_bytes "$o" "$m" || note "$id: metadata bytes differ"
  [ $orc = 0 ] || return
  local nid=(); [ "$fmt" = v09 ] && nid=(--node-id=1)
  for img in "$o" "$m"; do
    for tool in oracle ours; do
      local bin=$oracle; [ $tool = ours ] && bin=$ours
      "$bin" --force - $fmt "$img" $place dump-md 2>/dev/null | sed -e "$datere" -e "$hostre" -e "s#$img#IMG#" >"$work/$tool.dump"
      "$bin" --force - $fmt "$img" $place show-gi "${nid[@]}" >"$work/$tool.show" 2>/dev/null
      "$bin" --force - $fmt "$img" $place get-gi "${nid[@]}" >"$work/$tool.get" 2>/dev/null
      "$bin" --force - $fmt "$img" $place dstate >"$work/$tool.dstate" 2>/dev/null
    done
    for k in dump show get dstate; do
      cmp -s "$work/oracle.$k" "$work/ours.$k" || note "$id: $k of $(basename "$img") differs"
    done
  done
}

# apply-al: metadata created by one tool, a crashed-Primary AL written by
# make_al.py, then each tool's apply-al on its own copy; bitmap, AL,
# superblock and messages must be identical.
al_case() {  # size peers place fmt creator stripes stripe_kB transactions...
  local size=$1 peers=$2 place=$3 fmt=$4 creator=$5 stripes=$6 skb=$7; shift 7
  local o="$work/ao.img" m="$work/am.img"
  rm -f "$o" "$m"; truncate -s "$size" "$o"
  local pa=$peers; [ "$fmt" = v08 ] && pa=
  local cbin=$oracle; [ "$creator" = ours ] && cbin=$ours
  cases=$((cases + 1))
  local id="apply-al $fmt size=$size peers=$peers $place by $creator stripes=$stripes x ${skb}k $*"
  "$cbin" --force - $fmt "$o" $place create-md $pa --al-stripes=$stripes --al-stripe-size-kB=$skb >/dev/null 2>&1 ||
    { note "$id: create-md failed"; return; }
  local dump; dump=$("$oracle" --force - $fmt "$o" $place dump-md 2>/dev/null)
  local mdo alo bmo
  mdo=$(sed -n 's/^# md_offset //p' <<<"$dump"); alo=$(sed -n 's/^# al_offset //p' <<<"$dump")
  bmo=$(sed -n 's/^# bm_offset //p' <<<"$dump")
  local la=$(( (mdo < bmo ? mdo : bmo) / 512 ))
  [ "$place" != internal ] && la=$(( size_bytes_la ))
  python3 "$here/make_al.py" "$o" $fmt "$mdo" "$alo" "$la" "$stripes" $((skb / 4)) "$@"
  cp --sparse=always "$o" "$m"
  "$oracle" --force - $fmt "$o" $place apply-al >"$work/oa.out" 2>&1; local orc=$?
  "$ours" --force - $fmt "$m" $place apply-al >"$work/ma.out" 2>&1; local mrc=$?
  [ $orc = $mrc ] || note "$id: exit $orc vs $mrc"
  sed -i "s#$o#IMG#g" "$work/oa.out"; sed -i "s#$m#IMG#g" "$work/ma.out"
  cmp -s "$work/oa.out" "$work/ma.out" || { note "$id: apply-al output differs"; diff "$work/oa.out" "$work/ma.out" | head -5; }
  same_bytes "$o" "$m" || note "$id: bytes after apply-al differ"
  for tool in oracle ours; do
    local bin=$oracle; [ $tool = ours ] && bin=$ours
    "$bin" --force - $fmt "$o" $place dump-md 2>/dev/null | sed -e "$datere" -e "$hostre" -e "s#$o#IMG#" >"$work/$tool.dump"
  done
  cmp -s "$work/oracle.dump" "$work/ours.dump" || note "$id: dump-md after apply-al differs"
}

# A sequence of commands run by each tool on its own image; outputs, exit
# codes and image bytes must agree after every step.
seq_case() {  # size fmt place create-args -- "cmd args" ...
  local size=$1 fmt=$2 place=$3; shift 3
  local o="$work/so.img" m="$work/sm.img" step
  rm -f "$o" "$m"; truncate -s "$size" "$o"; truncate -s "$size" "$m"
  for step in "$@"; do
    cases=$((cases + 1))
    local f=$fmt  # a step "@v09 ..." runs with another format
    if [[ $step == @v0?\ * ]]; then f=${step:1:3}; step=${step:5}; fi
    # shellcheck disable=SC2086
    "$oracle" --force - $f "$o" $place $step >"$work/so.out" 2>&1; local orc=$?
    # shellcheck disable=SC2086
    "$ours" --force - $f "$m" $place $step >"$work/sm.out" 2>&1; local mrc=$?
    sed -i -e "s#$o#IMG#g" -e "$datere" -e "$hostre" "$work/so.out"
    sed -i -e "s#$m#IMG#g" -e "$datere" -e "$hostre" "$work/sm.out"
    local id="seq $fmt $size $place: $step"
    [ $orc = $mrc ] || note "$id: exit $orc vs $mrc"
    cmp -s "$work/so.out" "$work/sm.out" || { note "$id: output differs"; diff "$work/so.out" "$work/sm.out" | head -6; }
    same_bytes "$o" "$m" || note "$id: bytes differ"
  done
}

# restore-md / verify-dump of one dump text by each tool on its own freshly
# created image; outputs, exit codes and bytes must agree.
restore_case() {  # size fmt place max_peers dumpfile [extra options]
  local size=$1 fmt=$2 place=$3 peers=$4 dumpf=$5; shift 5
  local o="$work/ro.img" m="$work/rm.img"
  rm -f "$o" "$m"; truncate -s "$size" "$o"; truncate -s "$size" "$m"
  local pa=$peers; [ "$fmt" = v08 ] && pa=
  "$oracle" --force - $fmt "$o" $place create-md $pa >/dev/null 2>&1
  "$ours" --force - $fmt "$m" $place create-md $pa >/dev/null 2>&1
  local cmd
  local cmds="verify-dump restore-md dump-md"
  # drbdmeta 9.22's verify-dump crashes (SIGSEGV) on bitmaps larger than its
  # 32 MiB buffer; ours parses them. Such cases skip the comparison.
  [ "${skip_verify:-0}" = 1 ] && cmds="restore-md dump-md"
  for cmd in $cmds; do
    cases=$((cases + 1))
    local arg="$dumpf"; [ $cmd = dump-md ] && arg=
    "$oracle" --force "$@" - $fmt "$o" $place $cmd $arg >"$work/ro.out" 2>&1; local orc=$?
    "$ours" --force "$@" - $fmt "$m" $place $cmd $arg >"$work/rm.out" 2>&1; local mrc=$?
    sed -i -e "s#$o#IMG#g" -e "$datere" -e "$hostre" "$work/ro.out"
    sed -i -e "s#$m#IMG#g" -e "$datere" -e "$hostre" "$work/rm.out"
    local id="$cmd $(basename "$dumpf") $fmt $size $place $*"
    [ $orc = $mrc ] || note "$id: exit $orc vs $mrc"
    cmp -s "$work/ro.out" "$work/rm.out" || { note "$id: output differs"; diff "$work/ro.out" "$work/rm.out" | head -6; }
    same_bytes "$o" "$m" || note "$id: bytes differ"
  done
}

# Dumps to restore: real ones with bitmaps, then broken variants.
make_dumps() {
  local d="$work/dumps" img="$work/dump.img"
  mkdir -p "$d"; rm -f "$img"; truncate -s 100M "$img"
  "$oracle" --force - v09 "$img" internal create-md 2 >/dev/null 2>&1
  "$oracle" --force - v09 "$img" internal dump-md 2>/dev/null >"$d/base.txt"
  python3 - "$d" <<'PY'
import sys
d = sys.argv[1]
base = open(d + "/base.txt").read()
head = base[:base.index("bitmap[0]")].replace("la-size-sect 0;", "la-size-sect 204712;")
def bm(words, tail):
    return "{\n   " + " ".join(w + ";" for w in words) + tail + "\n}\n"
w0 = ["0x0000000000000001", "0xFFFFFFFFFFFFFFFF", "0x8000000000000000", "0x0123456789ABCDEF"] + ["0xFFFFFFFFFFFFFFFF"] * 40
w1 = ["0x0123456789ABCDEF"] * 4 + ["0x0000000000000000"] * 20 + ["0xDEADBEEF00000000"]
ok = head + "bitmap[0] " + bm(w0, " 10 times 0xAAAAAAAAAAAAAAAA;") + "bitmap[1] " + bm(w1, " 500 times 0x5555555555555555;") + "# bits-set 0;\n"
open(d + "/bitmaps.txt", "w").write(ok)
open(d + "/uneven.txt", "w").write(head + "bitmap[0] " + bm(w0, "") + "bitmap[1] " + bm(w1[:3], "") )
open(d + "/toolong.txt", "w").write(head + "bitmap[0] " + bm([], " 9000 times 0xFFFFFFFFFFFFFFFF;") + "bitmap[1] " + bm([], " 9000 times 0x1;".replace("0x1", "0x0000000000000001")))
open(d + "/huge-la.txt", "w").write(ok.replace("la-size-sect 204712;", "la-size-sect 99999999999;"))
bad = {
    "v08-for-v09": base.replace('version "v09"', 'version "v08"'),
    "badhex": base.replace("current-uuid 0x0000000000000004;", "current-uuid 0x00000004;"),
    "longhex": base.replace("current-uuid 0x0000000000000004;", "current-uuid 0x00000000000000004;"),
    "dupslot": base.replace("peer[1] {", "peer[0] {"),
    "slotrange": base.replace("peer[1] {", "peer[40] {"),
    "trailing": ok + "junk\n",
    "missing-semicolon": base.replace("node-id -1;", "node-id -1"),
    "badchar": base.replace("node-id -1;", "node-id -1;\n@"),
    "bpb": base.replace("bm-byte-per-bit 4096;", "bm-byte-per-bit 5000;"),
    "bigbpb": ok.replace("bm-byte-per-bit 4096;", "bm-byte-per-bit 65536;"),
    "wrongslot": ok.replace("bitmap[1]", "bitmap[3]"),
    "bracket": base.replace("peer[1] {", "peer[1] ]"),
    "longnum": base.replace("node-id -1;", "node-id 123456789012345678901;"),
    "nonum": base.replace("node-id -1;", "node-id abc;"),
    "string": base.replace('version "v09"', 'version "v09v09v09v09v09v09v09"'),
    "empty": "",
    "stripes": ok.replace("al-stripes 1;", "al-stripes 2;"),
    "nodeid": base.replace("node-id -1;", "node-id 3;"),
    "maxpeers": base.replace("max-peers 2;", "max-peers 3;"),
}
for k, v in bad.items():
    open(d + "/" + k + ".txt", "w").write(v)
PY
}

# create-md over existing data (file systems, swap, unknown bytes): both
# tools must print the same findings and refuse or proceed alike.
data_case() {  # size kind(ext4-small|ext4-full|swap|junk) place
  local size=$1 kind=$2 place=$3 o="$work/do.img" m="$work/dm.img"
  rm -f "$o"; truncate -s "$size" "$o"
  case $kind in
    ext4-small) mkfs.ext4 -q -F "$o" 1024 >/dev/null 2>&1 || return ;;
    ext4-full) mkfs.ext4 -q -F "$o" >/dev/null 2>&1 || return ;;
    swap) mkswap "$o" >/dev/null 2>&1 || return ;;
    junk) printf 'hello' | dd of="$o" bs=1 seek=5000 conv=notrunc status=none ;;
  esac
  cp --sparse=always "$o" "$m"
  cases=$((cases + 1))
  "$oracle" --force - v09 "$o" $place create-md 1 >"$work/do.out" 2>&1; local orc=$?
  "$ours" --force - v09 "$m" $place create-md 1 >"$work/dm.out" 2>&1; local mrc=$?
  sed -i "s#$o#IMG#g" "$work/do.out"; sed -i "s#$m#IMG#g" "$work/dm.out"
  local id="create-md over $kind $size $place"
  [ $orc = $mrc ] || note "$id: exit $orc vs $mrc"
  cmp -s "$work/do.out" "$work/dm.out" || { note "$id: output differs"; diff "$work/do.out" "$work/dm.out" | head -6; }
  same_bytes "$o" "$m" || note "$id: bytes differ"
}

sizes="1M 64M 100M 1G 10G 1T"
peers="1 2 7 31"
[ "$mode" = quick ] && { sizes="1M 100M 1G"; peers="1 2 7"; }
for s in $sizes; do
  for p in $peers; do
    run_case $s $p internal v09
    run_case $s $p flex-external v09
  done
  run_case $s 1 internal v08
  run_case $s 1 flex-external v08
done
run_case 300M 1 1 v09
run_case 300M 1 1 v08
run_case 1G 2 internal v09 --al-stripes=4 --al-stripe-size-kB=64
run_case 1G 2 internal v09 --al-stripe-size-kB=1M
run_case 1G 2 internal v09 --peer-max-bio-size=1M
run_case 60K 1 internal v09
run_case 100M 32 internal v09
run_case 100M 0 internal v09

gi9="--node-id=1 get-gi"
seq_case 100M v09 internal "create-md 3" "$gi9" "set-gi --node-id=1 1111222233334444:AAAABBBBCCCCDDDD:5555666677778888:9999000011112222:1:1:1:0:1:0:0:1:1:0:0:1" \
  "$gi9" "--node-id=1 show-gi" "dstate" "outdate" "dstate" "invalidate" "dstate" "outdate" \
  "write-dev-uuid 0123456789ABCDEF" "read-dev-uuid" "--node-id=2 forget-peer" "--node-id=1 forget-peer" \
  "dump-md" "set-gi --node-id=0 :::" "set-gi --node-id=0 x:y" "set-gi --node-id=0 ::::2" "apply-al" "dump-md" \
  "create-md 2" "dump-md" "wipe-md" "wipe-md" "dump-md" "dstate" "get-gi --node-id=0"
seq_case 100M v08 internal "create-md" "get-gi" "show-gi" \
  "set-gi 1111222233334444:AAAABBBBCCCCDDDD:5555666677778888:9999000011112222:1:1:1:1:1:1:1" "show-gi" "dstate" \
  "--node-id=3 get-gi" "outdate" "invalidate" "show-gi" "dump-md" "apply-al" "dump-md"
# v08 -> v09 conversion by create-md, and v09 -> v08.
seq_case 64M v08 internal "create-md" "set-gi 1111222233334444:AAAABBBBCCCCDDDD:5555666677778888::1:1:0:1:1:1:0" \
  "@v09 create-md 4" "@v09 dump-md" "@v09 set-gi --node-id=0 :ABCD000000000000" "create-md" "dump-md"
seq_case 64M v08 flex-external "create-md" "@v09 create-md 1" "@v09 dump-md" "@v09 get-gi --node-id=0"
seq_case 64M v09 flex-external "create-md 2" "create-md 2" "create-md 5 --peer-max-bio-size=128k" "dump-md" "wipe-md" "dump-md"
seq_case 64M v09 internal "create-md 1" "--al-stripes=2 create-md 1" "create-md 1 --al-stripes=2 --al-stripe-size-kB=32" "dump-md"
seq_case 1M v09 internal "--node-id=40 get-gi" "--peer-max-bio-size=2M create-md 1" "--peer-max-bio-size=1k dump-md" \
  "--al-stripes=1 dump-md" "--initialize-bitmap=bogus create-md 1" "--initialize-bitmap=skip create-md 1" "dump-md" \
  "--initialize-bitmap=pwrite create-md 1" "create-md abc" "create-md 1k" "create-md -1"
# -v (missing magics, last-known-bdev info), -vv (I/O traces with
# drbdmeta's tags, layouts), -vvv/-vvvv (superblock hexdumps), -v x11 (every
# buffer) and --dry-run (skipped writes).
seq_case 100M v09 internal "create-md 2" "-vv create-md 2" "-vvv get-gi --node-id=1" "-v dstate" "--dry-run outdate" \
  "-vv --dry-run create-md 2" "--dry-run wipe-md" "-vvvv outdate" "-vvvvvvvvvvv apply-al" "--dry-run invalidate" \
  "-vv check-resize" "-vvvvvvvvvvv --dry-run create-md 3" "-v wipe-md" "-v dump-md" "-vv get-gi --node-id=0"
seq_case 64M v08 flex-external "-v create-md" "-vv create-md" "-vvvv show-gi" "--dry-run outdate" "-vv outdate" \
  "@v09 -vv create-md 2" "@v09 -vvvvvvvvvvv dstate"
for k in ext4-small ext4-full swap junk; do
  data_case 64M $k internal
  data_case 64M $k flex-external
done
make_dumps
for f in "$work"/dumps/*.txt; do
  restore_case 100M v09 internal 2 "$f"
done
restore_case 100M v09 internal 2 "$work/dumps/bitmaps.txt" --al-stripes=2
restore_case 100M v09 internal 7 "$work/dumps/bitmaps.txt"
restore_case 100M v09 internal 2 "$work/dumps/bitmaps.txt" -vv
restore_case 100M v09 internal 2 "$work/dumps/stripes.txt" -vv --dry-run
restore_case 64M v09 flex-external 1 "$work/dumps/bitmaps.txt"
restore_case 100M v08 internal 1 "$work/dumps/v08-for-v09.txt"
if [ "$mode" = full ]; then
  # A 64 MiB two-slot bitmap: restore-md and dump-md cross drbdmeta's 32 MiB
  # I/O windows.
  rm -f "$work/dump.img"; truncate -s 1T "$work/dump.img"
  "$oracle" --force - v09 "$work/dump.img" internal create-md 2 >/dev/null 2>&1
  "$oracle" --force - v09 "$work/dump.img" internal dump-md 2>/dev/null >"$work/big-base.txt"
  python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
s = open(w + "/big-base.txt").read().replace("la-size-sect 0;", "la-size-sect 2147352504;")
head = s[:s.index("bitmap[0]")]
b0 = ("{\n 0x0000000000000001; 4194300 times 0x0000000000000000; 0xFFFFFFFF00000000; 0x1234567812345678;"
      " 3 times 0xFFFFFFFFFFFFFFFF; 10 times 0x0000000000000000;\n}\n")
b1 = "{\n 4194310 times 0xFFFFFFFFFFFFFFFF; 0x0000000000000002;\n}\n"
open(w + "/dumps-big.txt", "w").write(head + "bitmap[0] " + b0 + "bitmap[1] " + b1)
PY
  skip_verify=1 restore_case 1T v09 internal 2 "$work/dumps-big.txt"
fi
size_bytes_la=100000
for creator in oracle ours; do
  al_case 100M 2 internal v09 $creator 1 32 0:0=0 1:1=5,2=24 2:0=7
  al_case 100M 7 internal v09 $creator 4 64 0:0=1 1:1=3 2:2=11 3:3=12 4:0=2 5:4=40
  al_case 1G 1 internal v08 $creator 1 32 6:0=100 7:1=200 8:2=255
  al_case 64M 3 flex-external v09 $creator 1 32 0:0=0,1=1,2=2
  al_case 100M 2 internal v09 $creator 1 32 0:0=9999
done

echo "$cases cases, $fail failures"
[ $fail = 0 ]
