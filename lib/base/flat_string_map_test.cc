// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/base/flat_string_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace drbd {
namespace {

TEST(FlatStringMap, FirstInsertWinsAndLaterOnesReportIt) {
  FlatStringMap<int> m;
  auto [v1, added1] = m.TryEmplace("device-minor:alpha:0", 3);
  EXPECT_TRUE(added1);
  EXPECT_EQ(*v1, 3);
  auto [v2, added2] = m.TryEmplace("device-minor:alpha:0", 7);
  EXPECT_FALSE(added2);
  EXPECT_EQ(*v2, 3);
  EXPECT_EQ(m.size(), 1u);
  ASSERT_NE(m.Find("device-minor:alpha:0"), nullptr);
  EXPECT_EQ(m.Find("device-minor:alpha:1"), nullptr);
}

TEST(FlatStringMap, EmptyKeyAndPrefixesAreDistinctKeys) {
  FlatStringMap<int> m;
  EXPECT_EQ(m.Find(""), nullptr);
  EXPECT_TRUE(m.TryEmplace("", 1).second);
  EXPECT_TRUE(m.TryEmplace("a", 2).second);
  EXPECT_TRUE(m.TryEmplace("ab", 3).second);
  EXPECT_EQ(*m.Find(""), 1);
  EXPECT_EQ(*m.Find("a"), 2);
  EXPECT_EQ(*m.Find("ab"), 3);
}

// Agrees with std::map over many keys, through growth, reserve and clear.
TEST(FlatStringMap, MatchesStdMapThroughGrowth) {
  std::mt19937 rng(7);
  FlatStringMap<int> m;
  std::map<std::string, int> ref;
  m.Reserve(10);
  for (int i = 0; i < 20000; ++i) {
    std::string key = "k" + std::to_string(rng() % 15000);
    auto [v, added] = m.TryEmplace(key, i);
    auto [it, ref_added] = ref.emplace(key, i);
    ASSERT_EQ(added, ref_added) << key;
    ASSERT_EQ(*v, it->second) << key;
  }
  EXPECT_EQ(m.size(), ref.size());
  for (const auto& [k, v] : ref) ASSERT_EQ(*m.Find(k), v);
  m.Clear();
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.Find(ref.begin()->first), nullptr);
  EXPECT_TRUE(m.TryEmplace(ref.begin()->first, 1).second);
}

}  // namespace
}  // namespace drbd
