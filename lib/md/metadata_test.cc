// SPDX-License-Identifier: GPL-2.0-or-later
// Metadata operations on an in-memory device, including crash safety: a
// write that fails at every possible index leaves the old or the new state.
#include "lib/md/metadata.h"

#include <gtest/gtest.h>

#include <cstring>

namespace drbd::md {
namespace {

constexpr uint64_t kSize = 8ull << 20;
const Placement kV09Internal{Format::kV09, kIndexFlexInternal};

Superblock Fresh(uint32_t peers, uint64_t size = kSize) {
  Superblock sb = NewSuperblock(Format::kV09, peers, 1, 8);
  EXPECT_TRUE(InitOffsets(sb, kIndexFlexInternal, size).ok());
  return sb;
}

// State as seen by a reader: nullopt when no valid superblock.
std::optional<Superblock> ReadState(MemDevice& dev, const Placement& p = kV09Internal) {
  MemDevice copy(dev.data());
  Found f;
  EXPECT_TRUE(ReadSuperblock(copy, p, &f).ok());
  if (f.kind != Found::Kind::kValid) return std::nullopt;
  return f.sb;
}

TEST(Metadata, CreateThenRead) {
  MemDevice dev(kSize);
  ASSERT_TRUE(CreateMetadata(dev, kV09Internal, Fresh(2), false).ok());
  Found f;
  ASSERT_TRUE(ReadSuperblock(dev, kV09Internal, &f).ok());
  ASSERT_EQ(f.kind, Found::Kind::kValid);
  EXPECT_EQ(f.sb, Fresh(2));
  EXPECT_EQ(f.layout.md_offset, kSize - 4096);
  EXPECT_EQ(f.bm_bytes, 0u);
}

TEST(Metadata, WrongVersionAndTruncatedDeviceAreRefusedWithoutWrites) {
  MemDevice dev(kSize);
  ASSERT_TRUE(CreateMetadata(dev, kV09Internal, Fresh(1), false).ok());
  const std::vector<uint8_t> before = dev.data();
  Found f;
  ASSERT_TRUE(ReadSuperblock(dev, {Format::kV08, kIndexFlexInternal}, &f).ok());
  EXPECT_EQ(f.kind, Found::Kind::kNoMagic);
  // Cut to its first half, the device no longer ends with the superblock.
  MemDevice truncated(std::vector<uint8_t>(before.begin(), before.begin() + (4 << 20)));
  ASSERT_TRUE(ReadSuperblock(truncated, kV09Internal, &f).ok());
  EXPECT_EQ(f.kind, Found::Kind::kNoMagic);
  // The superblock alone at the end of a device of another size: refused.
  std::vector<uint8_t> moved(16 << 20, 0);
  std::copy(before.end() - 4096, before.end(), moved.end() - 4096);
  MemDevice grown(moved);
  ASSERT_TRUE(ReadSuperblock(grown, {Format::kV09, kIndexFlexInternal}, &f).ok());
  EXPECT_EQ(f.kind, Found::Kind::kValid);  // 8 and 16 MiB need the same 4 KiB bitmap
  std::vector<uint8_t> big(200 << 20, 0);
  std::copy(before.end() - 4096, before.end(), big.end() - 4096);
  MemDevice grown_more(std::move(big));
  ASSERT_TRUE(ReadSuperblock(grown_more, kV09Internal, &f).ok());
  EXPECT_EQ(f.kind, Found::Kind::kInvalid);
  EXPECT_EQ(f.message, "strange bm_offset -72 (expected: -80)");
  MemDevice tiny(std::vector<uint8_t>(before.begin(), before.begin() + 4096));
  Status s = ReadSuperblock(tiny, kV09Internal, &f);
  EXPECT_EQ(s.message(), "device is only 4096 bytes. That's not enough.");
  EXPECT_EQ(dev.data(), before);
}

TEST(Metadata, CreateIsCrashSafeAtEveryWrite) {
  // Old state: valid metadata with a distinctive UUID. New: fresh create.
  MemDevice base(kSize);
  Superblock old_sb = Fresh(2);
  old_sb.current_uuid = 0x1234567890abcdefull;
  ASSERT_TRUE(CreateMetadata(base, kV09Internal, old_sb, false).ok());
  MemDevice probe(base.data());
  ASSERT_TRUE(CreateMetadata(probe, kV09Internal, Fresh(2), false).ok());
  const int64_t writes = probe.writes();
  ASSERT_GE(writes, 3);
  for (int64_t crash = 0; crash <= writes; ++crash) {
    MemDevice dev(base.data());
    dev.set_fail_from_write(crash);
    const Status s = CreateMetadata(dev, kV09Internal, Fresh(2), false);
    EXPECT_EQ(s.ok(), crash == writes);
    const std::optional<Superblock> got = ReadState(dev);
    ASSERT_TRUE(got.has_value()) << "crash at write " << crash;
    EXPECT_TRUE(*got == old_sb || *got == Fresh(2)) << "crash at write " << crash;
    EXPECT_EQ(*got == Fresh(2), crash == writes);
  }
}

TEST(Metadata, WriteSuperblockIsAllOrNothing) {
  MemDevice base(kSize);
  ASSERT_TRUE(CreateMetadata(base, kV09Internal, Fresh(1), false).ok());
  Superblock next = Fresh(1);
  next.flags |= kMdfConsistent | kMdfWasUpToDate;
  for (int64_t crash = 0; crash <= 1; ++crash) {
    MemDevice dev(base.data());
    dev.set_fail_from_write(crash);
    EXPECT_EQ(WriteSuperblock(dev, kV09Internal, next).ok(), crash == 1);
    EXPECT_EQ(*ReadState(dev), crash == 1 ? next : Fresh(1));
  }
}

TEST(Metadata, RefusesToWriteInvalidSuperblock) {
  MemDevice dev(kSize);
  ASSERT_TRUE(CreateMetadata(dev, kV09Internal, Fresh(1), false).ok());
  const std::vector<uint8_t> before = dev.data();
  Superblock bad = Fresh(1);
  bad.max_peers = 40;
  EXPECT_FALSE(WriteSuperblock(dev, kV09Internal, bad).ok());
  EXPECT_FALSE(CreateMetadata(dev, kV09Internal, bad, false).ok());
  EXPECT_EQ(dev.data(), before);
}

// A Primary crashed with hot extents in the AL; apply-al must end with the
// bits set and the superblock clean, and re-running after a crash at any
// write reaches the same final state.
TEST(Metadata, ApplyAlIsRestartableAfterCrashAtEveryWrite) {
  MemDevice base(kSize);
  Superblock sb = Fresh(2);
  sb.effective_size = 8000;
  sb.flags = kMdfPrimaryInd | kMdfConsistent;
  ASSERT_TRUE(CreateMetadata(base, kV09Internal, sb, false).ok());
  const Layout layout = ComputeLayout(sb, kIndexFlexInternal, kSize);
  AlTransaction tr;
  tr.magic = kAlMagic;
  tr.tr_number = 0;
  tr.n_updates = 1;
  tr.context_size = 257;
  tr.update_slot_nr.fill(0xffff);
  tr.update_extent_nr.fill(kLcFree);
  tr.context.fill(kLcFree);
  tr.update_slot_nr[0] = 0;
  tr.update_extent_nr[0] = 0;
  const auto block = EncodeAlTransaction(tr);
  std::memcpy(base.data().data() + layout.al_offset, block.data(), block.size());

  MemDevice done(base.data());
  ApplyAlResult r;
  ASSERT_TRUE(ApplyAl(done, kV09Internal, &r).ok());
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.added_bits, 2u * 128 * 8);
  EXPECT_EQ(done.data()[layout.bm_offset], 0xff);
  EXPECT_EQ(done.data()[layout.bm_offset + 255], 0xff);
  EXPECT_EQ(done.data()[layout.bm_offset + 256], 0);
  const Superblock final_sb = *ReadState(done);
  EXPECT_TRUE(final_sb.flags & kMdfAlClean);
  EXPECT_TRUE(final_sb.flags & kMdfPrimaryInd);

  for (int64_t crash = 0; crash < done.writes(); ++crash) {
    MemDevice dev(base.data());
    dev.set_fail_from_write(crash);
    EXPECT_FALSE(ApplyAl(dev, kV09Internal, &r).ok());
    const Superblock mid = *ReadState(dev);
    EXPECT_TRUE(mid == sb || mid == final_sb) << "crash at write " << crash;
    MemDevice again(dev.data());
    ASSERT_TRUE(ApplyAl(again, kV09Internal, &r).ok()) << "crash at write " << crash;
    EXPECT_EQ(again.data(), done.data()) << "crash at write " << crash;
  }
}

}  // namespace
}  // namespace drbd::md
