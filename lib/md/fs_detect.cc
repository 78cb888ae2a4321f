// SPDX-License-Identifier: GPL-2.0-or-later
// Signature probes for create-md's existing-data check.
#include "lib/md/fs_detect.h"

#include <algorithm>
#include <cstring>

#include "lib/md/endian.h"

namespace drbd::md {

namespace {

uint16_t LoadLe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint64_t LoadLe64(const uint8_t* p) { return uint64_t{LoadLe32(p + 4)} << 32 | LoadLe32(p); }
bool Has(const uint8_t* p, const char* s) { return std::memcmp(p, s, std::strlen(s)) == 0; }

}  // namespace

Probe ProbeData(std::span<const uint8_t> data) {
  Probe f;
  const uint8_t* d = data.data();
  f.all_zero = std::all_of(data.begin(), data.begin() + kProbeBytes, [](uint8_t b) { return b == 0; });
  if (f.all_zero) return f;
  if (Has(d + 4096 - 10, "SWAP-SPACE") || Has(d + 4096 - 10, "SWAPSPACE2") ||
      Has(d + 8192 - 10, "SWAP-SPACE") || Has(d + 8192 - 10, "SWAPSPACE2")) {
    f.type = "swap space signature";
    f.blocks = 1;
    f.block_size = kRefuseBlockSize;
  } else if (Has(d + 0x218, "LVM2")) {
    f.type = "LVM2 physical volume signature";
    f.blocks = 1;
    f.block_size = kUnknownSizeBlockSize;
  } else if (LoadLe16(d + 0x438) == 0xEF53) {
    f.type = (d[0x45c] & 4) ? "ext3 filesystem" : "ext2 filesystem";
    f.blocks = LoadLe32(d + 0x404);
    const uint32_t log = LoadLe32(d + 0x418);
    f.block_size = log == 0 ? 1024 : log == 1 ? 2048 : 4096;
  } else if (LoadBe32(d) == 0x58465342) {
    f.type = "xfs filesystem";
    f.block_size = LoadBe32(d + 4);
    f.blocks = LoadBe64(d + 8);
  } else if (Has(d + 0x8000, "JFS1")) {
    f.type = "JFS filesystem";
    f.blocks = LoadLe64(d + 0x8008);
    f.block_size = LoadLe32(d + 0x8018);
  } else if (Has(d + 0x10034, "ReIsErFs") || Has(d + 0x10034, "ReIsEr2Fs")) {
    f.type = "reiser filesystem";
    f.blocks = LoadLe32(d + 0x10000);
    f.block_size = LoadLe16(d + 0x1002c);
  }
  return f;
}

}  // namespace drbd::md
