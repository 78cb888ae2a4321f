// SPDX-License-Identifier: GPL-2.0-or-later
#include "drbdadm/small_alloc.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

namespace drbd::adm {
namespace {

TEST(SmallAlloc, BlocksAreAlignedDistinctAndWritable) {
  std::vector<void*> blocks;
  std::set<uintptr_t> seen;
  for (size_t n = 0; n <= kSmallAllocMax; n += 7) {
    void* p = SmallAlloc(n);
    ASSERT_NE(p, nullptr) << n;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u) << n;
    EXPECT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(p)).second) << n;
    std::memset(p, 0xab, n);
    blocks.push_back(p);
  }
  for (void* p : blocks) EXPECT_TRUE(SmallFree(p));
}

TEST(SmallAlloc, DeclinesLargeBlocks) { EXPECT_EQ(SmallAlloc(kSmallAllocMax + 1), nullptr); }

TEST(SmallAlloc, ReusesAFreedBlockOfTheSameClass) {
  void* a = SmallAlloc(40);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(SmallFree(a));
  EXPECT_EQ(SmallAlloc(48), a);  // 33..48 bytes share a class
  EXPECT_TRUE(SmallFree(a));
}

TEST(SmallAlloc, BlocksOfOneClassDoNotOverlap) {
  std::vector<char*> blocks;
  for (int i = 0; i < 10000; ++i) {  // several chunks' worth
    auto* p = static_cast<char*>(SmallAlloc(100));
    ASSERT_NE(p, nullptr);
    std::memset(p, static_cast<int>(i & 0xff), 100);
    blocks.push_back(p);
  }
  for (int i = 0; i < 10000; ++i) {
    const char* p = blocks[static_cast<size_t>(i)];
    for (int k = 0; k < 100; ++k) ASSERT_EQ(p[k], static_cast<char>(i & 0xff)) << i;
  }
  for (char* p : blocks) EXPECT_TRUE(SmallFree(p));
}

TEST(SmallAlloc, LeavesOtherPointersAlone) {
  EXPECT_FALSE(SmallFree(nullptr));
  void* m = std::malloc(32);
  EXPECT_FALSE(SmallFree(m));
  std::free(m);
  int local = 0;
  EXPECT_FALSE(SmallFree(&local));
}

}  // namespace
}  // namespace drbd::adm
