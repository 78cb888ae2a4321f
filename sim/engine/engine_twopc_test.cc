// SPDX-License-Identifier: GPL-2.0-or-later
// Weak nodes in the deterministic world with three nodes (engine_twopc.cc):
// a node not directly connected to the Primary, connected only through a
// Secondary, goes Outdated at the promotion's cluster-wide commit
// (far_away_change / __outdate_myself) and after losing its link to the
// Primary while the Primary is still reachable through a third node
// (twopc_after_lost_peer); it is UpToDate again when the Primary demotes
// (after-unstable resync offer) or reconnects. A Secondary that loses a
// Primary nobody else reaches goes back to UpToDate.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/engine/three_nodes_fixture.h"
#include "sim/world/node.h"
#include "sim/world/world.h"

namespace drbd::engine {
namespace {

using sim::kSec;

class WeakNodes : public ThreeNodes {
 protected:
  void Up() { UpMesh(); }
  // drbdsetup disconnect on both ends of i-j.
  void Disconnect(int i, int j) {
    ASSERT_EQ(N(i).engine.Disconnect(N(i).Peer("r0", static_cast<uint32_t>(j)), false).ret,
              Ret::kNoError);
    ASSERT_EQ(N(j).engine.Disconnect(N(j).Peer("r0", static_cast<uint32_t>(i)), false).ret,
              Ret::kNoError);
    world.RunFor(1 * kSec);
  }
};

TEST_F(WeakNodes, PromotionOutdatesANodeConnectedOnlyThroughASecondary) {
  Up();
  Disconnect(0, 2);
  ASSERT_EQ(N(0).engine.Primary(N(0).Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(2 * kSec);
  EXPECT_EQ(N(1).engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(N(2).engine.DiskStateOf(0), DiskState::kOutdated);
  EXPECT_EQ(N(1).engine.PeerDiskOf("r0", 2, 0), DiskState::kOutdated);
  // The demotion makes b stable: its resync offer brings c back (same data).
  ASSERT_EQ(N(0).engine.Secondary(N(0).Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(2 * kSec);
  EXPECT_EQ(N(2).engine.DiskStateOf(0), DiskState::kUpToDate);
}

TEST_F(WeakNodes, LostLinkToAPrimaryStillReachableThroughAThirdNodeOutdates) {
  Up();
  ASSERT_EQ(N(0).engine.Primary(N(0).Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(1 * kSec);
  EXPECT_EQ(N(1).engine.DiskStateOf(0), DiskState::kUpToDate);
  world.Partition(Host(0), Host(1), true);
  world.RunFor(30 * kSec);
  EXPECT_EQ(N(1).engine.ConnStateOf("r0", 0), ConnState::kConnecting);
  EXPECT_EQ(N(1).engine.DiskStateOf(0), DiskState::kOutdated);
  EXPECT_EQ(N(2).engine.DiskStateOf(0), DiskState::kUpToDate);
  // Connected to the Primary again: the handshake makes b UpToDate.
  world.Partition(Host(0), Host(1), false);
  world.RunFor(30 * kSec);
  EXPECT_EQ(N(1).engine.DiskStateOf(0), DiskState::kUpToDate);
}

TEST_F(WeakNodes, LostPrimaryNobodyReachesLeavesTheSecondariesUpToDate) {
  Up();
  ASSERT_EQ(N(0).engine.Primary(N(0).Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(1 * kSec);
  world.Partition(Host(0), Host(1), true);
  world.Partition(Host(0), Host(2), true);
  world.RunFor(30 * kSec);
  EXPECT_EQ(N(1).engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(N(2).engine.DiskStateOf(0), DiskState::kUpToDate);
}

TEST_F(WeakNodes, APromotionDuringTheLostPeerChangeWritesOnlyOnceUpToDate) {
  // b loses the Primary a (a isolated) while c is still connected: b is
  // Consistent until its twopc_after_lost_peer commits. b is promoted and
  // writes at once, inside that window. In the kernel the promotion waits
  // for the change in flight, so b's first write finds its disk UpToDate and
  // makes a new current UUID, a's bitmap slot taking the old one
  // (rotate_current_into_bitmap). A write on the Consistent disk made none,
  // and a, back, met b on equal UUIDs (scenario quorum-isolate-primary).
  Up();
  const uint64_t ha = sim::PrimaryWriter(N(0));
  ASSERT_NE(ha, 0u);
  ASSERT_EQ(sim::WriteAndRun(world, N(0), ha, 0, sim::Pattern(4096, 1)), 0);
  const uint64_t before = N(1).engine.CurrentUuidOf(0).value_or(0);
  world.SetHostDown(Host(0), true);
  for (int i = 0; i < 100000 && N(1).engine.ConnStateOf("r0", 0) == ConnState::kConnected; ++i) {
    ASSERT_TRUE(world.Step());
  }
  ASSERT_EQ(N(1).engine.DiskStateOf(0), DiskState::kConsistent);
  const uint64_t hb = sim::PrimaryWriter(N(1));
  ASSERT_NE(hb, 0u);
  ASSERT_EQ(sim::WriteAndRun(world, N(1), hb, 8192, sim::Pattern(4096, 2)), 0);
  EXPECT_EQ(N(1).engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_NE(N(1).engine.CurrentUuidOf(0).value_or(0) & ~uint64_t{1}, before & ~uint64_t{1});
  EXPECT_TRUE(N(1).sink.LogContains("drbd r0/0 drbd0: new current UUID: "));
}

}  // namespace
}  // namespace drbd::engine
