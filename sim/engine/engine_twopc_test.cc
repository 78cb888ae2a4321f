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
#include "sim/world/node.h"
#include "sim/world/world.h"

namespace drbd::engine {
namespace {

using sim::kSec;
using sim::Node;
using sim::World;

std::string Host(int i) { return "10.0.0." + std::to_string(i + 1); }

class WeakNodes : public ::testing::Test {
 protected:
  WeakNodes() {
    for (int i = 0; i < 3; ++i) {
      nodes.push_back(std::make_unique<Node>(world, std::string(1, static_cast<char>('a' + i))));
    }
  }
  Node& N(int i) { return *nodes[static_cast<size_t>(i)]; }

  // r0 on a, b, c (node ids 0..2), attached, fully meshed and connected,
  // UpToDate (initial sync skipped).
  void Up() {
    ASSERT_EQ(sim::UpMesh(world, {&N(0), &N(1), &N(2)}), "");
    world.RunFor(2 * kSec);
    ASSERT_EQ(N(0).engine.NewCurrentUuid(N(0).Minor(0), true).ret, Ret::kNoError);
    world.RunFor(2 * kSec);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(N(i).engine.DiskStateOf(0), DiskState::kUpToDate) << i;
  }
  // drbdsetup disconnect on both ends of i-j.
  void Disconnect(int i, int j) {
    ASSERT_EQ(N(i).engine.Disconnect(N(i).Peer("r0", static_cast<uint32_t>(j)), false).ret,
              Ret::kNoError);
    ASSERT_EQ(N(j).engine.Disconnect(N(j).Peer("r0", static_cast<uint32_t>(i)), false).ret,
              Ret::kNoError);
    world.RunFor(1 * kSec);
  }

  World world;
  std::vector<std::unique_ptr<Node>> nodes;
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

}  // namespace
}  // namespace drbd::engine
