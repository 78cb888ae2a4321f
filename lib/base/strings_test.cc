// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/base/strings.h"

#include <gtest/gtest.h>

namespace drbd {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(EditDistance("ping-int", "ping-int"), 0u);
  EXPECT_EQ(EditDistance("ping-intt", "ping-int"), 1u);
  EXPECT_EQ(EditDistance("pnig-int", "ping-int"), 2u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

}  // namespace
}  // namespace drbd
