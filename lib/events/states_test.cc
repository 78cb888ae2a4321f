// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for the state vocabularies: kernel numbers, printed words, 8.4
// numbering and the flag lists, pinned against genl.md §11 and the words in
// the drbd-9.2.18 captures.
#include "lib/events/states.h"

#include <gtest/gtest.h>

namespace drbd::events {
namespace {

TEST(States, KernelNumbersMatchDrbd9Abi) {
  EXPECT_EQ(static_cast<uint32_t>(Role::kSecondary), 2u);
  EXPECT_EQ(static_cast<uint32_t>(DiskState::kUpToDate), 9u);
  EXPECT_EQ(static_cast<uint32_t>(DiskState::kDUnknown), 7u);
  EXPECT_EQ(static_cast<uint32_t>(ConnState::kConnected), 9u);
  EXPECT_EQ(static_cast<uint32_t>(ReplState::kOff), 9u);
  EXPECT_EQ(static_cast<uint32_t>(ReplState::kBehind), 23u);
  EXPECT_EQ(static_cast<uint32_t>(NotifyType::kRename), 6u);
  EXPECT_EQ(static_cast<uint32_t>(WriteOrdering::kFlush), 2u);
}

TEST(States, PrintsDrbdUtilsWords) {
  EXPECT_EQ(ToString(DiskState::kDUnknown), "DUnknown");
  EXPECT_EQ(ToString(ReplState::kWFBitMapS), "WFBitMapS");
  EXPECT_EQ(ToString(ConnState::kNetworkFailure), "NetworkFailure");
  EXPECT_EQ(ToString(ObjectKind::kPeerDevice), "peer-device");
  EXPECT_EQ(ToString(static_cast<DiskState>(42)), "?");
  EXPECT_EQ(ToString84(ConnState::kConnecting), "WFConnection");
}

TEST(States, ParsesEveryWordBack) {
  for (uint32_t n = 0; n < 30; ++n) {
    auto d = static_cast<DiskState>(n);
    if (IsKnown(d)) {
      EXPECT_EQ(ParseDiskState(ToString(d)), d);
    }
    auto r = static_cast<ReplState>(n);
    if (IsKnown(r)) {
      EXPECT_EQ(ParseReplState(ToString(r)), r);
    }
    auto c = static_cast<ConnState>(n);
    if (IsKnown(c)) {
      EXPECT_EQ(ParseConnState(ToString(c)), c);
    }
  }
  EXPECT_FALSE(ParseDiskState("uptodate"));
  EXPECT_FALSE(ParseRole(""));
}

TEST(States, Maps84Numbering) {
  EXPECT_EQ(DiskStateFrom84(8), DiskState::kUpToDate);
  EXPECT_EQ(DiskStateFrom84(2), DiskState::kFailed);
  EXPECT_EQ(DiskStateFrom84(9), std::nullopt);
  EXPECT_EQ(ConnStateFrom84(8), ConnState::kConnecting);
  EXPECT_EQ(ConnStateFrom84(16), ConnState::kConnected);
  EXPECT_EQ(ReplStateFrom84(9), ReplState::kOff);
  EXPECT_EQ(ReplStateFrom84(10), ReplState::kEstablished);
  EXPECT_EQ(ReplStateFrom84(17), ReplState::kSyncTarget);
}

TEST(States, SuspendFlagListsInFixedOrder) {
  SuspendFlags f;
  EXPECT_EQ(ToString(f), "no");
  f.quorum = true;
  f.user = true;
  EXPECT_EQ(ToString(f), "user,quorum");
  EXPECT_EQ(ParseSuspendFlags("user,quorum"), f);
  EXPECT_FALSE(ParseSuspendFlags("user,bogus"));
  EXPECT_FALSE(ParseSuspendFlags(""));
  ResyncSuspendFlags r;
  r.peer = r.dependency = true;
  r.max_parallel = true;  // not printed by drbd-utils 9.22
  EXPECT_EQ(ToString(r), "peer,dependency");
}

}  // namespace
}  // namespace drbd::events
