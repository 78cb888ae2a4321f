// SPDX-License-Identifier: GPL-2.0-or-later
// The reconciliation resync (engine_peer_ack.cc, 9.2.18's P_PEER_DAGTAG):
// two Secondaries that lose their Primary exchange the dagtag of the last
// write each received from it; the one that got more becomes the source over
// both sides' bits, and on equal dagtags both drop their bits toward each
// other. Without it the writes the Primary had sent to one Secondary only
// stayed there, marked, on equal current UUIDs that no handshake resyncs.
// Also here: resync data from one Secondary to another that the Primary's
// write made stale is refused until that write reached the source.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/engine/three_nodes_fixture.h"
#include "sim/world/node.h"
#include "sim/world/world.h"

namespace drbd::engine {
namespace {

using sim::kSec;

class Reconcile : public ThreeNodes {
 protected:
  // UpMesh, then a Primary with the device open and one block written.
  void Up() {
    UpMeshWithWriter();
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
    // Said once on each side, though each also hears the other's decision.
    EXPECT_EQ(std::count_if(N(i).sink.log.begin(), N(i).sink.log.end(),
                            [](const std::string& line) {
                              return line.find("No reconciliation resync even though 'a' "
                                               "disappeared. (o=0)") != std::string::npos;
                            }),
              1)
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

TEST_F(Reconcile, RefusedResyncDataIsReadAgainOnlyAfterThePrimarysWriteReachedTheSource) {
  Up();
  // c away while a writes every other block of the first 8 MiB: c's
  // resync will carry 1024 blocks, one per DATA (runs are adjacent blocks).
  world.Partition(Host(0), Host(2), true);
  world.Partition(Host(1), Host(2), true);
  world.RunFor(15 * kSec);
  for (uint64_t b = 0; b < 2048; b += 2) {
    ASSERT_EQ(sim::WriteAndRun(world, N(0), handle, b * 4096, sim::Pattern(4096, 10)), 0);
  }
  // Slow runs toward c (100 KiB/s: about 40 s for 4 MiB).
  engine::OptionSet slow(cfg::OptContext::kPeerDeviceOptions);
  slow.Set("resync-rate", int64_t{100});  // KiB/s
  slow.Set("c-plan-ahead", int64_t{0});
  for (int src : {0, 1}) {
    ASSERT_EQ(N(src).engine.PeerDeviceOptions(N(src).PeerVol("r0", 2, 0), slow, false).ret,
              Ret::kNoError);
  }
  // c resyncs from b first; then a is back too, its run waits.
  world.Partition(Host(1), Host(2), false);
  for (int i = 0; i < 200000 && N(2).engine.ReplStateOf("r0", 1, 0) != ReplState::kSyncTarget;
       ++i) {
    ASSERT_TRUE(world.Step());
  }
  world.Partition(Host(0), Host(2), false);
  for (int i = 0; i < 200000 && N(2).engine.ConnStateOf("r0", 0) != ConnState::kConnected; ++i) {
    ASSERT_TRUE(world.Step());
  }
  ASSERT_EQ(N(2).engine.ReplStateOf("r0", 1, 0), ReplState::kSyncTarget);
  // Near the end of b's run, a's next write, to a block the run sends in
  // about 0.2 s, reaches c but not yet b: a's stream to b is held for 2 s
  // (ping-timeout 3 s on that link, so nobody notices), during which b's
  // run sends the block as b has it, c refuses it, and the run comes round
  // to it again.
  engine::OptionSet patient(cfg::OptContext::kNetOptions);
  patient.Set("ping-timeout", int64_t{30});
  ASSERT_EQ(N(0).engine.NetOptions(N(0).Peer("r0", 1), patient, false).ret, Ret::kNoError);
  ASSERT_EQ(N(1).engine.NetOptions(N(1).Peer("r0", 0), patient, false).ret, Ret::kNoError);
  uint64_t left = 1024;
  for (int i = 0; i < 2000000 && left > 15; ++i) {
    ASSERT_TRUE(world.Step());
    left = N(1).engine.OutOfSyncBlocks("r0", 2, 0).value_or(0);
  }
  ASSERT_EQ(N(2).engine.ReplStateOf("r0", 1, 0), ReplState::kSyncTarget);
  const uint64_t block = 2 * (1024 - left + 5);
  const uint64_t at = block * 4096 + 512;
  world.PartitionOneWay(Host(0), Host(1), true);
  N(0).engine.IoWrite(handle, at, sim::Pattern(1024, 20), false, [](int) {});
  world.RunFor(kSec / 50);
  const std::vector<uint8_t> at_c = Block(2, block * 4096);
  ASSERT_EQ(std::vector<uint8_t>(at_c.begin() + 512, at_c.begin() + 1536), sim::Pattern(1024, 20));
  EXPECT_NE(Block(1, block * 4096), at_c);
  world.RunFor(2 * kSec);
  // Meanwhile b's run sent the block as b has it, without the write, and c
  // refused it; b must read it again only once it has the write.
  world.PartitionOneWay(Host(0), Host(1), false);
  world.RunFor(60 * kSec);
  EXPECT_EQ(N(1).engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(N(2).engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(Block(1, block * 4096), Block(0, block * 4096));
  EXPECT_EQ(Block(2, block * 4096), Block(0, block * 4096));
}

}  // namespace
}  // namespace drbd::engine
