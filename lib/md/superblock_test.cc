// SPDX-License-Identifier: GPL-2.0-or-later
// Superblock codec, sizing and validation, pinned against metadata written
// by drbd-utils 9.22's drbdmeta (testdata/).
#include "lib/md/superblock.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "lib/md/test_util.h"

namespace drbd::md {
namespace {

SuperblockBytes Fixture(const std::string& name) {
  const std::vector<uint8_t> v = testing::ReadHex(name);
  EXPECT_EQ(v.size(), kSuperblockBytes);
  SuperblockBytes out{};
  std::copy_n(v.begin(), std::min<size_t>(v.size(), out.size()), out.begin());
  return out;
}

TEST(Superblock, DecodesOracleV09) {
  const Superblock sb = Decode(Format::kV09, Fixture("v09_100M_2peers_restored.sb.hex"));
  EXPECT_EQ(sb.magic, kMagic09);
  EXPECT_EQ(sb.effective_size, 204712u);
  EXPECT_EQ(sb.current_uuid, kUuidJustCreated);
  EXPECT_EQ(sb.flags, kMdfAlClean);
  EXPECT_EQ(sb.md_size_sect, 88u);
  EXPECT_EQ(sb.al_offset, -64);
  EXPECT_EQ(sb.bm_offset, -80);
  EXPECT_EQ(sb.al_nr_extents, 257u);
  EXPECT_EQ(sb.bm_bytes_per_bit, 4096u);
  EXPECT_EQ(sb.max_peers, 2u);
  EXPECT_EQ(sb.node_id, -1);
  EXPECT_EQ(sb.al_stripes, 1u);
  EXPECT_EQ(sb.al_stripe_size_4k, 8u);
  for (const PeerRecord& p : sb.peers) EXPECT_EQ(p.bitmap_index, -1);
  EXPECT_TRUE(Validate(Format::kV09, sb, kIndexFlexInternal, 100ull << 20).ok);
}

TEST(Superblock, RoundTripsOracleBytesExactly) {
  for (const char* name : {"v09_100M_2peers_restored.sb.hex", "v09_1G_7peers_al4x64k.sb.hex"}) {
    const SuperblockBytes raw = Fixture(name);
    EXPECT_EQ(Encode(Format::kV09, Decode(Format::kV09, raw)), raw) << name;
  }
  const SuperblockBytes v08 = Fixture("v08_100M_created.sb.hex");
  EXPECT_EQ(Encode(Format::kV08, Decode(Format::kV08, v08)), v08);
}

TEST(Superblock, NewSuperblockMatchesOracleCreateMd) {
  Superblock sb = NewSuperblock(Format::kV09, 7, 4, 16);
  ASSERT_TRUE(InitOffsets(sb, kIndexFlexInternal, 1ull << 30).ok());
  EXPECT_EQ(Encode(Format::kV09, sb), Fixture("v09_1G_7peers_al4x64k.sb.hex"));
  Superblock v08 = NewSuperblock(Format::kV08, 1, 1, 8);
  ASSERT_TRUE(InitOffsets(v08, kIndexFlexInternal, 100ull << 20).ok());
  EXPECT_EQ(Encode(Format::kV08, v08), Fixture("v08_100M_created.sb.hex"));
}

TEST(Superblock, V08ReadsAsV08OnlyAndV09AsV09Only) {
  const SuperblockBytes v08 = Fixture("v08_100M_created.sb.hex");
  const Validation as09 = Validate(Format::kV09, Decode(Format::kV09, v08), kIndexFlexInternal, 100ull << 20);
  EXPECT_FALSE(as09.ok);
  EXPECT_FALSE(as09.magic_ok);
  EXPECT_TRUE(Validate(Format::kV08, Decode(Format::kV08, v08), kIndexFlexInternal, 100ull << 20).ok);
}

// Measured md_size_sect (internal, default AL) from docs/formats/metadata-placement.md.
TEST(Superblock, SizingMatchesMeasuredTable) {
  struct Row {
    uint64_t bytes;
    uint32_t peers;
    uint32_t md_size_sect;
    uint64_t bm_offset;
  } rows[] = {
      {1048576, 1, 80, 1007616},           {67108864, 7, 104, 67055616},
      {104857600, 2, 88, 104812544},       {1073741824, 7, 520, 1073475584},
      {10737418240, 2, 1352, 10736726016}, {1099511627776, 7, 458824, 1099276709888},
  };
  for (const Row& r : rows) {
    Superblock sb = NewSuperblock(Format::kV09, r.peers, 1, 8);
    ASSERT_TRUE(InitOffsets(sb, kIndexFlexInternal, r.bytes).ok());
    EXPECT_EQ(sb.md_size_sect, r.md_size_sect) << r.bytes;
    EXPECT_EQ(ComputeLayout(sb, kIndexFlexInternal, r.bytes).bm_offset, r.bm_offset) << r.bytes;
  }
}

TEST(Superblock, ExternalAndIndexedLayouts) {
  Superblock sb = NewSuperblock(Format::kV09, 2, 1, 8);
  ASSERT_TRUE(InitOffsets(sb, kIndexFlexExternal, 64ull << 20).ok());
  Layout l = ComputeLayout(sb, kIndexFlexExternal, 64ull << 20);
  EXPECT_EQ(sb.md_size_sect, 131072u);
  EXPECT_EQ(l.md_offset, 0u);
  EXPECT_EQ(l.al_offset, 4096u);
  EXPECT_EQ(l.bm_offset, 36864u);
  Superblock ix = NewSuperblock(Format::kV09, 1, 1, 8);
  ASSERT_TRUE(InitOffsets(ix, 1, 300ull << 20).ok());
  l = ComputeLayout(ix, 1, 300ull << 20);
  EXPECT_EQ(ix.md_size_sect, 262144u);
  EXPECT_EQ(l.md_offset, 134217728u);
  EXPECT_EQ(l.al_offset, 134221824u);
  EXPECT_EQ(l.bm_offset, 134254592u);
}

// Reserved bytes of the v09 superblock: dropped on read, zero on write
// (drbdmeta 9.22 does the same).
bool IsReservedV09(size_t i) {
  if (i >= 0x10 && i < 0x30) return true;  // members (newer headers) and reserved_u64
  if (i >= 0x68 && i < 0x70) return true;  // reserved_u32[2]
  if (i >= 0x70 && i < 0x470 && (i - 0x70) % 32 >= 24) return true;  // peer reserved_u32[2]
  return i >= 0x570;                                                // padding
}

// Every single-byte corruption is either refused by Validate or decodes to
// a superblock that differs from the original and re-encodes to the
// corrupted bytes (the format has no checksum, so UUID and flag bytes cannot
// be detected); reserved bytes are ignored; nothing crashes.
TEST(Superblock, EveryFlippedByteIsRefusedOrVisible) {
  const SuperblockBytes raw = Fixture("v09_100M_2peers_restored.sb.hex");
  const Superblock orig = Decode(Format::kV09, raw);
  int refused = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    SuperblockBytes bad = raw;
    bad[i] ^= 0xff;
    const Superblock sb = Decode(Format::kV09, bad);
    const Validation v = Validate(Format::kV09, sb, kIndexFlexInternal, 100ull << 20);
    if (!v.ok) {
      EXPECT_FALSE(v.message.empty()) << "byte " << i;
      ++refused;
      continue;
    }
    if (IsReservedV09(i)) {
      EXPECT_EQ(sb, orig) << "byte " << i;
    } else {
      EXPECT_NE(sb, orig) << "byte " << i;
      EXPECT_EQ(Encode(Format::kV09, sb), bad) << "byte " << i;
    }
  }
  // magic (4), md_size (4), al_offset (4), bm_offset (4), bytes_per_bit (4),
  // max_peers (4), node_id (4), al stripes (8) and the bitmap indexes of the
  // two used peer slots (8) are all checked.
  EXPECT_GE(refused, 40);
}

TEST(Superblock, ValidationMessagesUseDrbdmetaWording) {
  Superblock sb = NewSuperblock(Format::kV09, 2, 1, 8);
  ASSERT_TRUE(InitOffsets(sb, kIndexFlexInternal, 100ull << 20).ok());
  Superblock bad = sb;
  bad.al_offset = -8;
  EXPECT_EQ(Validate(Format::kV09, bad, kIndexFlexInternal, 100ull << 20).message,
            "v09 al_offset: expected -64, found -8");
  bad = sb;
  bad.bm_offset = -81;
  EXPECT_EQ(Validate(Format::kV09, bad, kIndexFlexInternal, 100ull << 20).message,
            "strange bm_offset -81 (expected: -80)");
  bad = sb;
  bad.node_id = 40;
  EXPECT_EQ(Validate(Format::kV09, bad, kIndexFlexInternal, 100ull << 20).message,
            "v09 device node-id value 40 out of bounds");
  // The same superblock on a grown device sits at the wrong place.
  EXPECT_FALSE(Validate(Format::kV09, sb, kIndexFlexInternal, 200ull << 20).ok);
}

// drbdmeta 9.22 prints a v09 internal md_size_sect that disagrees with the
// sizing but accepts the superblock (the offsets place the areas); v08
// refuses it.
TEST(Superblock, V09ToleratesOddMdSizeSectWithAWarning) {
  Superblock sb = NewSuperblock(Format::kV09, 2, 1, 8);
  ASSERT_TRUE(InitOffsets(sb, kIndexFlexInternal, 100ull << 20).ok());
  sb.md_size_sect = 175;
  Validation v = Validate(Format::kV09, sb, kIndexFlexInternal, 100ull << 20);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.warning, "strange md_size_sect 175 (expected: 88)");
  Superblock v08 = NewSuperblock(Format::kV08, 1, 1, 8);
  ASSERT_TRUE(InitOffsets(v08, kIndexFlexInternal, 100ull << 20).ok());
  v08.md_size_sect = 175;
  v = Validate(Format::kV08, v08, kIndexFlexInternal, 100ull << 20);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.message, "strange md_size_sect 175 (expected: 80)");
}

// The offsets are checked before the sizing values, against an AL size
// computed in wrapping 32-bit arithmetic as drbdmeta does.
TEST(Superblock, OffsetMessagesComeFirstAsInDrbdmeta) {
  Superblock sb = NewSuperblock(Format::kV08, 1, 1, 8);
  ASSERT_TRUE(InitOffsets(sb, kIndexFlexInternal, 1ull << 20).ok());
  sb.al_stripes = 0xff000001;
  EXPECT_EQ(Validate(Format::kV08, sb, kIndexFlexInternal, 1ull << 20).message,
            "v08 al_offset: expected 1073741760, found -64");
  sb = NewSuperblock(Format::kV09, 1, 1, 8);
  ASSERT_TRUE(InitOffsets(sb, kIndexFlexExternal, 1ull << 20).ok());
  sb.bm_bytes_per_bit = 5000;
  EXPECT_EQ(Validate(Format::kV09, sb, kIndexFlexExternal, 1ull << 20).message,
            "v09 bm_bytes_per_bit 5000 is not a power of two >= 4096");
}

TEST(Superblock, TooLargeBitmapIsAnError) {
  Superblock sb = NewSuperblock(Format::kV09, 1, 1, 8);
  sb.bm_bytes_per_bit = 4096;
  // 2^41 sectors = 1 PiB is the limit of the format; beyond the per-slot
  // maximum InitOffsets refuses.
  EXPECT_TRUE(InitOffsets(sb, kIndexFlexInternal, 1ull << 50).ok());
  EXPECT_FALSE(InitOffsets(sb, kIndexFlexInternal, 1ull << 58).ok());
}

}  // namespace
}  // namespace drbd::md
