// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the metadata reader (lib/md), all in memory.
// The input is first tokenized as dump-md text (restore-md's scanner).
// Then: 1 byte of settings (format, placement), 2 bytes of device size in
// 4 KiB units (bounded to 2 MiB), then 4096 bytes placed as the superblock,
// then bytes placed at the start of the AL and bitmap areas the superblock
// describes. The harness reads, validates, replays the AL, formats the
// bitmap as dump-md does and runs apply-al on the image. Rejections are
// normal; a crash, hang or sanitizer report is a bug.
// Build: see tests/md/CMakeLists.txt (md_reader_fuzz_replay with any
// compiler, md_reader_fuzz with -DDRBD_FUZZ=ON and clang).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "lib/md/al.h"
#include "lib/md/bitmap.h"
#include "lib/md/device.h"
#include "lib/md/dump_scanner.h"
#include "lib/md/metadata.h"
#include "lib/md/superblock.h"

using namespace drbd::md;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The whole input is also dump-md text for the restore-md tokenizer.
  {
    DumpScanner sc(std::string_view(reinterpret_cast<const char*>(data), size));
    std::string diag;
    for (int n = 0; n < 100000; ++n) {
      const int tok = sc.Next(&diag);
      (void)sc.ParseError(kTkNum, tok);
      if (tok == kTkEof) break;
    }
  }
  if (size < 3 + kSuperblockBytes) return 0;
  const uint8_t settings = data[0];
  const Format format = (settings & 1) ? Format::kV08 : Format::kV09;
  const int placements[] = {kIndexFlexInternal, kIndexFlexExternal, 0, kIndexFlexInternal};
  const int index = placements[(settings >> 1) & 3];
  const uint64_t blocks = 17 + (uint64_t{data[1]} | uint64_t{data[2]} << 8) % 496;  // 68 KiB .. 2 MiB
  const uint64_t dev_size = blocks * 4096 + ((settings >> 3) & 7) * 512;
  std::vector<uint8_t> image(dev_size, 0);
  const uint64_t sb_off = SuperblockOffset(index, dev_size);
  if (sb_off + kSuperblockBytes > dev_size) return 0;
  std::memcpy(image.data() + sb_off, data + 3, kSuperblockBytes);
  const uint8_t* rest = data + 3 + kSuperblockBytes;
  const size_t rest_len = size - 3 - kSuperblockBytes;

  // Place the remaining bytes where the (possibly corrupt) superblock says the
  // AL and the bitmap are, clamped to the device.
  const Superblock raw_sb = Decode(format, std::span<const uint8_t, kSuperblockBytes>(data + 3, kSuperblockBytes));
  for (int32_t rel : {raw_sb.al_offset, raw_sb.bm_offset}) {
    const int64_t pos = static_cast<int64_t>(sb_off) + int64_t{rel} * 512;
    if (pos < 0 || static_cast<uint64_t>(pos) >= dev_size) continue;
    const size_t n = std::min<uint64_t>(rest_len, dev_size - static_cast<uint64_t>(pos));
    std::memcpy(image.data() + pos, rest, n);
  }

  MemDevice dev(image);
  const Placement place{format, index};
  Found found;
  if (!ReadSuperblock(dev, place, &found).ok() || found.kind != Found::Kind::kValid) return 0;

  const Superblock& sb = found.sb;
  const uint64_t al_blocks = uint64_t{sb.al_stripes} * sb.al_stripe_size_4k;
  if (al_blocks <= kAlMaxBlocks) {
    std::vector<uint8_t> al;
    if (ReadAl(dev, found.layout, sb, &al).ok()) {
      const AlReplay r = ReplayAl(al, sb.al_stripes, sb.al_stripe_size_4k);
      (void)r;
    }
  }
  if (found.bm_bytes <= (4u << 20)) {
    BitmapReader read = [&](uint64_t off, size_t len, uint8_t* dst) {
      std::memset(dst, 0, len);
      (void)dev.Read(found.layout.bm_offset + off, std::span<uint8_t>(dst, len));
    };
    for (uint32_t s = 0; s < sb.max_peers; ++s) {
      uint64_t bits = 0;
      (void)FormatBitmapSlot(read, found.bm_bytes / 4, sb.max_peers, s, &bits);
    }
  }
  if (al_blocks <= kAlMaxBlocks) {
    ApplyAlResult result;
    (void)ApplyAl(dev, place, &result);
  }
  return 0;
}
