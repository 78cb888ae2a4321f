// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/config/host.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace drbd::cfg {
namespace {

TEST(LocalNodeName, EnvironmentOverridesUname) {
  setenv("__DRBD_NODE__", "alpha", 1);
  bool from_env = false;
  EXPECT_EQ(LocalNodeName(&from_env), "alpha");
  EXPECT_TRUE(from_env);
  // An empty value is ignored, as by drbd-utils.
  setenv("__DRBD_NODE__", "", 1);
  EXPECT_FALSE(LocalNodeName(&from_env).empty());
  EXPECT_FALSE(from_env);
  unsetenv("__DRBD_NODE__");
  EXPECT_FALSE(LocalNodeName().empty());
}

TEST(LocalNodeName, OverrideNoticeMatchesDrbdUtils) {
  EXPECT_EQ(NodeNameOverrideNotice("alpha"),
            "\n   found __DRBD_NODE__ in environment\n   PRETENDING that I am >>alpha<<\n\n");
}

TEST(HaveIp, UnconfiguredAddressesAreNotLocal) {
  EXPECT_FALSE(HaveIp("ipv4", "192.0.2.213"));
  EXPECT_FALSE(HaveIp("ipv6", "2001:db8::4711"));
  EXPECT_FALSE(HaveIp("ipv6", "not-an-address"));
}

TEST(HaveIp, OtherAddressFamiliesAlwaysMatch) {
  EXPECT_TRUE(HaveIp("ssocks", "192.0.2.213"));
  EXPECT_TRUE(HaveIp("sdp", "192.0.2.213"));
}

}  // namespace
}  // namespace drbd::cfg
