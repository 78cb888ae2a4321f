// SPDX-License-Identifier: GPL-2.0-or-later
// Bitmap interleaving and dump-md text, pinned against drbdmeta 9.22.
#include "lib/md/bitmap.h"

#include <gtest/gtest.h>

#include <cstring>

#include "lib/md/test_util.h"

namespace drbd::md {
namespace {

TEST(BitmapView, InterleavesLittleEndianWordsPerSlot) {
  std::vector<uint8_t> bytes(16, 0);
  BitmapView v(bytes, 2);
  v.Set(0, 0, true);   // slot 0, word 0
  v.Set(1, 32, true);  // slot 1, word 1 -> interleaved word 3
  v.Set(1, 7, true);   // slot 1, word 0 -> interleaved word 1, byte 4
  EXPECT_EQ(bytes[0], 0x01);
  EXPECT_EQ(bytes[4], 0x80);
  EXPECT_EQ(bytes[12], 0x01);
  EXPECT_TRUE(v.Get(1, 32));
  EXPECT_FALSE(v.Get(0, 32));
  EXPECT_EQ(v.CountSlot(1), 2u);
  EXPECT_EQ(v.BitsPerSlot(), 64u);
}

TEST(BitmapDump, MatchesOracleText) {
  const std::vector<uint8_t> bm = testing::ReadHex("v09_100M_2peers_restored.bm.hex");
  ASSERT_EQ(bm.size(), 8192u);
  BitmapReader read = [&](uint64_t off, size_t len, uint8_t* dst) {
    std::memset(dst, 0, len);
    if (off < bm.size()) std::memcpy(dst, bm.data() + off, std::min<size_t>(len, bm.size() - off));
  };
  uint64_t bits = 0;
  std::string text = "# bm-bytes 8192;\n";
  for (uint32_t slot = 0; slot < 2; ++slot) {
    text += "bitmap[" + std::to_string(slot) + "] ";
    text += FormatBitmapSlot(read, bm.size() / 4, 2, slot, &bits);
  }
  text += "# bits-set " + std::to_string(bits) + ";\n";
  EXPECT_EQ(text, testing::ReadText("v09_100M_2peers_restored.dump-tail.txt"));
}

TEST(BitmapDump, EmptyBitmapIsBraces) {
  BitmapReader read = [](uint64_t, size_t, uint8_t*) { FAIL() << "no read expected"; };
  uint64_t bits = 1;
  EXPECT_EQ(FormatBitmapSlot(read, 0, 3, 2, &bits), "{\n}\n");
  EXPECT_EQ(bits, 0u);
}

}  // namespace
}  // namespace drbd::md
