// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/base/crc32c.h"

#include <gtest/gtest.h>

namespace drbd {
namespace {

// The standard CRC32C check value: "123456789" with ~0 in and out.
TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(~Crc32c(0xFFFFFFFFu, std::string_view("123456789")), 0xE3069283u);
}

TEST(Crc32c, ByteAndStringFormsAgreeAndContinue) {
  const uint8_t bytes[] = {'a', 'b', 'c', 'd'};
  uint32_t whole = Crc32c(0x1a656f21u, std::span<const uint8_t>(bytes));
  uint32_t split = Crc32c(Crc32c(0x1a656f21u, std::string_view("ab")), std::string_view("cd"));
  EXPECT_EQ(whole, split);
}

}  // namespace
}  // namespace drbd
