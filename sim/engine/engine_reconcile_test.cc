// SPDX-License-Identifier: GPL-2.0-or-later
// The reconciliation resync (engine_peer_ack.cc, 9.2.18's P_PEER_DAGTAG):
// two Secondaries that lose their Primary exchange the dagtag of the last
// write each received from it; the one that got more becomes the source over
// both sides' bits, and on equal dagtags both drop their bits toward each
// other. Without it the writes the Primary had sent to one Secondary only
// stayed there, marked, on equal current UUIDs that no handshake resyncs.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
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

class Reconcile : public ::testing::Test {
 protected:
  Reconcile() {
    for (int i = 0; i < 3; ++i) {
      nodes.push_back(std::make_unique<Node>(world, std::string(1, static_cast<char>('a' + i))));
    }
  }
  Node& N(int i) { return *nodes[static_cast<size_t>(i)]; }

  // r0 on a, b, c, fully meshed, UpToDate, a Primary with the device open.
  void Up() {
    ASSERT_EQ(sim::UpMesh(world, {&N(0), &N(1), &N(2)}), "");
    world.RunFor(2 * kSec);
    ASSERT_EQ(N(0).engine.NewCurrentUuid(N(0).Minor(0), true).ret, Ret::kNoError);
    world.RunFor(2 * kSec);
    handle = sim::PrimaryWriter(N(0));
    ASSERT_NE(handle, 0u);
    ASSERT_EQ(sim::WriteAndRun(world, N(0), handle, 0, sim::Pattern(4096, 1)), 0);
  }
  std::vector<uint8_t> Block(int node, uint64_t offset) {
    auto bytes = world.DiskBytes("/" + std::string(1, static_cast<char>('a' + node)) + "/disk");
    if (!bytes || bytes->size() < offset + 4096) return {};
    return {bytes->begin() + static_cast<ptrdiff_t>(offset),
            bytes->begin() + static_cast<ptrdiff_t>(offset + 4096)};
  }
  // A write from a that reaches b only (a's DATA toward c is cut), then a
  // is gone before the write completes or is peer-acked.
  void WriteOnlyBGetsThenLoseA(uint64_t offset, uint8_t seed) {
    world.PartitionOneWay(Host(0), Host(2), true);
    N(0).engine.IoWrite(handle, offset, sim::Pattern(4096, seed), false, [](int) {});
    world.RunFor(kSec / 20);
    ASSERT_EQ(Block(1, offset), sim::Pattern(4096, seed));
    ASSERT_NE(Block(2, offset), sim::Pattern(4096, seed));
    world.SetHostDown(Host(0), true);
    world.RunFor(30 * kSec);
  }

  World world;
  std::vector<std::unique_ptr<Node>> nodes;
  uint64_t handle = 0;
};

TEST_F(Reconcile, TheSecondaryThatGotMoreWritesResyncsTheOther) {
  Up();
  WriteOnlyBGetsThenLoseA(8192, 2);
  for (int i : {1, 2}) {
    EXPECT_EQ(N(i).engine.DiskStateOf(0), DiskState::kUpToDate) << i;
    EXPECT_EQ(N(i).engine.ReplStateOf("r0", static_cast<uint32_t>(3 - i), 0),
              ReplState::kEstablished)
        << i;
    EXPECT_EQ(N(i).engine.OutOfSyncBlocks("r0", static_cast<uint32_t>(3 - i), 0), 0u) << i;
  }
  EXPECT_EQ(Block(2, 8192), sim::Pattern(4096, 2));
  EXPECT_EQ(Block(1, 0), Block(2, 0));
  EXPECT_TRUE(N(1).sink.LogContains("Reconciliation resync because 'a' disappeared. (o=8)"));
  EXPECT_TRUE(N(2).sink.LogContains("Reconciliation resync because 'a' disappeared. (o=-8)"));
}

TEST_F(Reconcile, EqualDagtagsDropTheBitsWithoutAResync) {
  Up();
  // Both got the write, neither got its peer ack: a is lost before it
  // completes (WRITE_ACKs from b and c are cut).
  world.PartitionOneWay(Host(1), Host(0), true);
  world.PartitionOneWay(Host(2), Host(0), true);
  N(0).engine.IoWrite(handle, 8192, sim::Pattern(4096, 3), false, [](int) {});
  world.RunFor(kSec / 20);
  ASSERT_EQ(Block(1, 8192), sim::Pattern(4096, 3));
  ASSERT_EQ(Block(2, 8192), sim::Pattern(4096, 3));
  world.SetHostDown(Host(0), true);
  world.RunFor(30 * kSec);
  for (int i : {1, 2}) {
    EXPECT_EQ(N(i).engine.DiskStateOf(0), DiskState::kUpToDate) << i;
    EXPECT_EQ(N(i).engine.OutOfSyncBlocks("r0", static_cast<uint32_t>(3 - i), 0), 0u) << i;
    EXPECT_TRUE(N(i).sink.LogContains("No reconciliation resync even though 'a' disappeared. (o=0)"))
        << i;
  }
}

TEST_F(Reconcile, ASecondaryStillConnectedToThePrimaryDoesNotReconcile) {
  Up();
  // Only the link a-c breaks: b still has a, so nothing is reconciled
  // between b and c; c catches up from a when the link is back.
  world.Partition(Host(0), Host(2), true);
  ASSERT_EQ(sim::WriteAndRun(world, N(0), handle, 8192, sim::Pattern(4096, 4)), 0);
  world.RunFor(30 * kSec);
  EXPECT_FALSE(N(1).sink.LogContains("Reconciliation resync because 'a' disappeared."));
  EXPECT_FALSE(N(2).sink.LogContains("Reconciliation resync because 'a' disappeared."));
  world.Partition(Host(0), Host(2), false);
  world.RunFor(30 * kSec);
  EXPECT_EQ(Block(2, 8192), sim::Pattern(4096, 4));
  EXPECT_EQ(N(2).engine.DiskStateOf(0), DiskState::kUpToDate);
}

}  // namespace
}  // namespace drbd::engine
