#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Turns freshly created metadata into "crashed Primary" metadata for apply-al
# tests, independently of lib/md: sets la-size-sect and PRIMARY_IND, clears
# AL_CLEAN and writes AL update transactions.
# Usage: make_al.py IMG FMT MD_OFFSET AL_OFFSET LA_SIZE_SECT STRIPES STRIPE_4K TR:SLOT=EXT[,SLOT=EXT...] ...
import struct
import sys


def crc32c(data, crc=0):
    table = crc32c.table
    for b in data:
        crc = table[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc


crc32c.table = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    crc32c.table.append(c)


def transaction(tr_number, updates):
    blk = bytearray(4096)
    struct.pack_into(">IIIHHHH", blk, 0, 0x69cb65a2, tr_number, 0, 0, len(updates), 0, 0)
    for i in range(64):
        slot, ext = updates[i] if i < len(updates) else (0xffff, 0xffffffff)
        struct.pack_into(">H", blk, 36 + 2 * i, slot)
        struct.pack_into(">I", blk, 164 + 4 * i, ext)
    for i in range(919):
        struct.pack_into(">I", blk, 420 + 4 * i, 0xffffffff)
    struct.pack_into(">I", blk, 8, crc32c(bytes(blk)))
    return bytes(blk)


def main():
    img, fmt, md_off, al_off, la, stripes, size = sys.argv[1:8]
    md_off, al_off, la, stripes, size = int(md_off), int(al_off), int(la), int(stripes), int(size)
    with open(img, "r+b") as f:
        f.seek(md_off)
        sb = bytearray(f.read(4096))
        struct.pack_into(">Q", sb, 0, la)
        flags = struct.unpack_from(">I", sb, 0x38)[0]
        flags = (flags | 0x2 | 0x1) & ~0x80
        struct.pack_into(">I", sb, 0x38, flags)
        f.seek(md_off)
        f.write(sb)
        n = stripes * size
        for spec in sys.argv[8:]:
            tr, ups = spec.split(":")
            updates = [tuple(int(x) for x in u.split("=")) for u in ups.split(",")] if ups else []
            t = int(tr) % n
            blk = (t % stripes) * size + t // stripes
            f.seek(al_off + blk * 4096)
            f.write(transaction(int(tr), updates))


if __name__ == "__main__":
    main()
