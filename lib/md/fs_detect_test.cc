// SPDX-License-Identifier: GPL-2.0-or-later
// Existing-data probes used by create-md.
#include "lib/md/fs_detect.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace drbd::md {
namespace {

TEST(FsDetect, ZeroDeviceIsClean) {
  std::vector<uint8_t> d(kProbeBytes, 0);
  EXPECT_TRUE(ProbeData(d).all_zero);
}

TEST(FsDetect, Ext4SuperblockReportsExt3AndSize) {
  std::vector<uint8_t> d(kProbeBytes, 0);
  d[0x438] = 0x53;
  d[0x439] = 0xef;
  d[0x45c] = 4;                 // has_journal
  d[0x404] = 0x00;              // 0x00010000 blocks
  d[0x406] = 0x01;
  d[0x418] = 2;                 // 4 KiB blocks
  const Probe p = ProbeData(d);
  EXPECT_FALSE(p.all_zero);
  EXPECT_EQ(p.type, "ext3 filesystem");
  EXPECT_EQ(p.blocks, 65536u);
  EXPECT_EQ(p.block_size, 4096u);
}

TEST(FsDetect, SwapIsAlwaysRefusedAndUnknownDataHasNoSize) {
  std::vector<uint8_t> d(kProbeBytes, 0);
  std::memcpy(d.data() + 4096 - 10, "SWAPSPACE2", 10);
  EXPECT_EQ(ProbeData(d).block_size, kRefuseBlockSize);
  std::vector<uint8_t> junk(kProbeBytes, 0);
  junk[12345] = 1;
  const Probe p = ProbeData(junk);
  EXPECT_EQ(p.type, "some data");
  EXPECT_EQ(p.blocks, 0u);
}

}  // namespace
}  // namespace drbd::md
