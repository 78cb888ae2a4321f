// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/base/strings.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

namespace drbd {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(EditDistance("ping-int", "ping-int"), 0u);
  EXPECT_EQ(EditDistance("ping-intt", "ping-int"), 1u);
  EXPECT_EQ(EditDistance("pnig-int", "ping-int"), 2u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(EqualsIgnoreCase, FoldsAsciiLettersOnly) {
  EXPECT_TRUE(EqualsIgnoreCase("IPv6", "ipv6"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("ipv4", "ipv6"));
  EXPECT_FALSE(EqualsIgnoreCase("ipv4", "ipv4 "));
  // '@' + 32 is '`' and '[' - 32 is '{': neighbours of the letters stay distinct.
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));
  EXPECT_FALSE(EqualsIgnoreCase("\xc4", "\xe4"));  // no folding beyond ASCII
  static_assert(EqualsIgnoreCase("ABC", "abc"));
}

TEST(ParsePlainIpv6, GroupsAndTheGap) {
  std::array<uint16_t, 8> g{};
  ASSERT_TRUE(ParsePlainIpv6("fd00:1a::2", &g));
  EXPECT_EQ(g, (std::array<uint16_t, 8>{0xfd00, 0x1a, 0, 0, 0, 0, 0, 2}));
  ASSERT_TRUE(ParsePlainIpv6("::", &g));
  EXPECT_EQ(g, (std::array<uint16_t, 8>{}));
  ASSERT_TRUE(ParsePlainIpv6("1:2:3:4:5:6:7:FFFF", &g));
  EXPECT_EQ(g[7], 0xffff);
  EXPECT_FALSE(ParsePlainIpv6("1:2:3:4:5:6:7:8:9", &g));
  EXPECT_FALSE(ParsePlainIpv6("1:2:3:4::5:6:7:8", &g));  // "::" for no group
  EXPECT_FALSE(ParsePlainIpv6("::ffff:10.1.1.1", &g));   // not plain: inet_pton decides
  EXPECT_FALSE(ParsePlainIpv6("fe80::1%eth0", &g));
  EXPECT_FALSE(ParsePlainIpv6("12345::", &g));
  EXPECT_FALSE(ParsePlainIpv6(":1::", &g));
  EXPECT_FALSE(ParsePlainIpv6("1::2:", &g));
}

// Whatever it accepts, inet_pton accepts with the same bytes; of text made
// of hex digits and colons only, it accepts all that inet_pton accepts.
TEST(ParsePlainIpv6, AgreesWithInetPton) {
  std::mt19937 rng(3);
  const std::string alphabet = "0123456789abcdefABCDEF:::::.";
  int accepted = 0;
  for (int n = 0; n < 200000; ++n) {
    std::string s;
    const size_t len = rng() % 24;
    for (size_t k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    if (n % 3 == 0) s = (rng() % 2 ? "::" : "") + s + (rng() % 2 ? "::1" : "");
    std::array<uint16_t, 8> g{};
    const bool ours = ParsePlainIpv6(s, &g);
    struct in6_addr a;
    const bool libc = inet_pton(AF_INET6, s.c_str(), &a) == 1;
    if (ours) {
      ++accepted;
      ASSERT_TRUE(libc) << s;
      for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(g[i], (a.s6_addr[2 * i] << 8) | a.s6_addr[2 * i + 1]) << s;
      }
    } else if (s.find('.') == std::string::npos) {
      ASSERT_FALSE(libc) << s;
    }
  }
  EXPECT_GT(accepted, 1000);
}

TEST(XmlEscape, ReplacesTheFourMarkupCharacters) {
  EXPECT_EQ(XmlEscape(R"(a<b>&"c"'d)"), "a&lt;b&gt;&amp;&quot;c&quot;'d");
  EXPECT_EQ(XmlEscape(""), "");
  EXPECT_EQ(XmlEscape("plain text"), "plain text");
}

}  // namespace
}  // namespace drbd
