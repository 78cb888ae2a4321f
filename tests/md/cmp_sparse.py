#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Compares two (sparse) image files byte for byte, reading only the ranges
# where either file has data (SEEK_DATA/SEEK_HOLE); holes read as zeros.
# Exit 0 if equal, 1 with the first differing offset otherwise.
import os
import sys


def data_ranges(fd, size):
    off = 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            return
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, end
        off = end


def main():
    a, b = sys.argv[1], sys.argv[2]
    fa, fb = os.open(a, os.O_RDONLY), os.open(b, os.O_RDONLY)
    sa, sb = os.fstat(fa).st_size, os.fstat(fb).st_size
    if sa != sb:
        print(f"sizes differ: {sa} != {sb}")
        return 1
    ranges = sorted(list(data_ranges(fa, sa)) + list(data_ranges(fb, sb)))
    for start, end in ranges:
        off = start
        while off < end:
            n = min(end - off, 1 << 22)
            x, y = os.pread(fa, n, off), os.pread(fb, n, off)
            if x != y:
                i = next(k for k in range(n) if x[k] != y[k])
                print(f"first difference at byte {off + i}")
                return 1
            off += n
    return 0


if __name__ == "__main__":
    sys.exit(main())
