// SPDX-License-Identifier: GPL-2.0-or-later
// Activity-log codec and replay.
#include "lib/md/al.h"

#include <gtest/gtest.h>

#include <cstring>

#include "lib/md/endian.h"
#include "lib/md/format.h"

namespace drbd::md {
namespace {

TEST(Crc32c, KnownVectors) {
  // RFC 3720 B.4: 32 bytes of zeros -> 0x8a9136aa with the standard
  // ~0 seed and final xor; the raw (seed 0, no xor) form is used on disk.
  std::array<uint8_t, 32> zeros{};
  EXPECT_EQ(~Crc32c(~0u, zeros), 0x8a9136aau);
  const uint8_t digits[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ(~Crc32c(~0u, digits), 0xe3069283u);
}

TEST(AlTransaction, InitializedBlockMatchesOracle) {
  // First 12 bytes of every AL block drbdmeta 9.22 create-md writes.
  const auto b = InitializedAlBlock();
  const uint8_t want[] = {0x69, 0xcb, 0x65, 0xa2, 0, 0, 0, 0, 0x70, 0x9c, 0xc6, 0x51, 0xff, 0xff};
  EXPECT_EQ(std::memcmp(b.data(), want, sizeof want), 0);
  EXPECT_TRUE(DecodeAlTransaction(b).valid);
  EXPECT_EQ(DecodeAlTransaction(b).transaction_type, kAlTrInitialized);
}

AlTransaction Update(uint32_t tr_number, std::vector<std::pair<uint16_t, uint32_t>> updates) {
  AlTransaction tr;
  tr.magic = kAlMagic;
  tr.tr_number = tr_number;
  tr.transaction_type = kAlTrUpdate;
  tr.context_size = 0;  // no context window: only the updates count
  tr.update_slot_nr.fill(0xffff);
  tr.update_extent_nr.fill(kLcFree);
  tr.context.fill(kLcFree);
  tr.n_updates = static_cast<uint16_t>(updates.size());
  for (size_t i = 0; i < updates.size(); ++i) {
    tr.update_slot_nr[i] = updates[i].first;
    tr.update_extent_nr[i] = updates[i].second;
  }
  return tr;
}

TEST(AlTransaction, RoundTripAndCrcDetectsEveryFlippedByte) {
  const auto block = EncodeAlTransaction(Update(7, {{0, 3}, {1, 9}}));
  const AlTransaction tr = DecodeAlTransaction(block);
  ASSERT_TRUE(tr.valid);
  EXPECT_EQ(tr.tr_number, 7u);
  EXPECT_EQ(tr.update_extent_nr[1], 9u);
  for (size_t i = 0; i < block.size(); ++i) {
    auto bad = block;
    bad[i] ^= 0x01;
    EXPECT_FALSE(DecodeAlTransaction(bad).valid) << "byte " << i;
  }
}

TEST(AlPlacement, StripedRing) {
  // 1 stripe: identity modulo the ring size.
  EXPECT_EQ(AlBlockOfTransaction(9, 1, 8), 1u);
  // 4 stripes of 2 blocks: t=0..7 -> 0,2,4,6,1,3,5,7.
  const uint32_t want[] = {0, 2, 4, 6, 1, 3, 5, 7};
  for (uint32_t t = 0; t < 8; ++t) EXPECT_EQ(AlBlockOfTransaction(t, 4, 2), want[t]);
}

std::vector<uint8_t> Area(uint32_t blocks) {
  std::vector<uint8_t> a(blocks * kAlBlockBytes);
  const auto init = InitializedAlBlock();
  for (uint32_t b = 0; b < blocks; ++b) std::memcpy(a.data() + b * kAlBlockBytes, init.data(), kAlBlockBytes);
  return a;
}

void Put(std::vector<uint8_t>& area, uint32_t stripes, uint32_t size, const AlTransaction& tr) {
  const auto block = EncodeAlTransaction(tr);
  std::memcpy(area.data() + AlBlockOfTransaction(tr.tr_number, stripes, size) * kAlBlockBytes, block.data(),
              kAlBlockBytes);
}

TEST(AlReplay, CleanLogHasNothingToDo) {
  EXPECT_EQ(ReplayAl(Area(8), 1, 8).result, 0);
}

TEST(AlReplay, NewestTransactionWinsAcrossWrap) {
  auto area = Area(8);
  // Transactions 6..10 wrap around the 8-block ring; slot 0 is rewritten.
  Put(area, 1, 8, Update(6, {{0, 100}}));
  Put(area, 1, 8, Update(7, {{1, 200}}));
  Put(area, 1, 8, Update(8, {{0, 300}}));
  const AlReplay r = ReplayAl(area, 1, 8);
  EXPECT_EQ(r.result, 3);
  EXPECT_EQ(r.hot_extents, (std::vector<uint32_t>{200, 300}));
}

TEST(AlReplay, UninitializedLogIsNoData) {
  std::vector<uint8_t> zeros(8 * kAlBlockBytes);
  const AlReplay r = ReplayAl(zeros, 1, 8);
  EXPECT_EQ(r.result, AlReplay::kNoData);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], "No usable activity log found. Do you need to create-md?");
}

TEST(AlReplay, CorruptBlocksAreCounted) {
  auto area = Area(8);
  area[3 * kAlBlockBytes + 100] ^= 1;
  area[5 * kAlBlockBytes + 100] ^= 1;
  const AlReplay r = ReplayAl(area, 1, 8);
  EXPECT_EQ(r.result, AlReplay::kInvalid);
  EXPECT_EQ(r.messages[0], "2 corrupt AL transactions found");
}

TEST(AlApply, SetsAllPeerSlotsOfAnExtent) {
  // 2 peers: extent 1 covers bytes 256..511 of the interleaved bitmap.
  std::vector<uint8_t> bm(4096, 0);
  bm[256] = 0x0f;
  std::vector<std::string> msgs;
  const std::vector<uint32_t> hot = {1, 99};
  EXPECT_EQ(ApplyHotExtents(bm, 2, hot, &msgs), 256u * 8 - 4);
  EXPECT_EQ(bm[255], 0);
  EXPECT_EQ(bm[256], 0xff);
  EXPECT_EQ(bm[511], 0xff);
  EXPECT_EQ(bm[512], 0);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0], "extent 99 beyond end of bitmap! (25344 >= 4096)");
}

}  // namespace
}  // namespace drbd::md
