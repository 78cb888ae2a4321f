// SPDX-License-Identifier: GPL-2.0-or-later
// The marks two Secondaries keep toward each other come off once both hold
// the same data (engine_io.cc HoldersByResync, engine_resync.cc
// SweepPeersInSync). The kernel's peer acks name only the nodes a write
// reached and its PEERS_IN_SYNC relay covers only the blocks a resync
// moved, so in both cases below it leaves marks between Secondaries with
// identical data, shown by `drbdadm status` as out-of-sync for good
// (simd_soak --nodes 3 --seed 0xcc694ce0; docs/compat.md).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/engine/three_nodes_fixture.h"
#include "sim/world/node.h"
#include "sim/world/world.h"

namespace drbd::engine {
namespace {

using sim::kSec;

class SecondaryMarks : public ThreeNodes {
 protected:
  // The first MiB of the node's data (past it, metadata differs by node).
  std::vector<uint8_t> Disk(int node) {
    auto bytes = world.DiskBytes("/" + std::string(1, static_cast<char>('a' + node)) + "/disk");
    if (!bytes || bytes->size() < kData) return {};
    return {bytes->begin(), bytes->begin() + kData};
  }
  static constexpr ptrdiff_t kData = 1 << 20;
  uint64_t Marks(int from, int to) {
    return N(from).engine.OutOfSyncBlocks("r0", static_cast<uint32_t>(to), 0).value_or(99999);
  }
  // A ping-timeout of 30 s between nodes `x` and `y`: a held stream goes
  // unnoticed for that long.
  void Patient(int x, int y) {
    engine::OptionSet patient(cfg::OptContext::kNetOptions);
    patient.Set("ping-timeout", int64_t{300});
    ASSERT_EQ(N(x).engine.NetOptions(N(x).Peer("r0", static_cast<uint32_t>(y)), patient, false).ret,
              Ret::kNoError);
    ASSERT_EQ(N(y).engine.NetOptions(N(y).Peer("r0", static_cast<uint32_t>(x)), patient, false).ret,
              Ret::kNoError);
  }
  // Every replica holds a's data and no node marks anything toward another.
  void ExpectSameDataNoMarks() {
    EXPECT_EQ(Disk(1), Disk(0));
    EXPECT_EQ(Disk(2), Disk(0));
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        if (i != j) {
          EXPECT_EQ(Marks(i, j), 0u) << i << " toward " << j;
        }
      }
    }
  }
  // a writes a first version of block 5, which b gets, then a second one
  // that is held on its way to b (a cut off one way from b); `done` gets
  // the second write's result.
  void TwoVersionsSecondHeld(int& done) {
    ASSERT_EQ(sim::WriteAndRun(world, N(0), handle, 5 * 4096, sim::Pattern(4096, 1)), 0);
    world.PartitionOneWay(Host(0), Host(1), true);
    N(0).engine.IoWrite(handle, 5 * 4096, sim::Pattern(4096, 2), false,
                        [&done](int e) { done = e; });
    world.RunFor(kSec / 10);
  }
  // Steps until `pred` holds; false if it never does.
  template <typename Pred>
  bool StepUntil(Pred pred) {
    for (int i = 0; i < 2000000; ++i) {
      if (pred()) return true;
      if (!world.Step()) return false;
    }
    return pred();
  }
};

TEST_F(SecondaryMarks, APeerAckNamesTheNodeThatTookTheWriteByResync) {
  UpMeshWithWriter();
  Patient(0, 2);  // c's acks are held for a while below
  world.Partition(Host(0), Host(1), true);
  world.RunFor(30 * kSec);
  ASSERT_NE(N(0).engine.ConnStateOf("r0", 1), ConnState::kConnected);
  // a writes while b is away (the first write after the loss also makes
  // a new current UUID); the next reaches c, whose ack is held.
  ASSERT_EQ(sim::WriteAndRun(world, N(0), handle, 16384, sim::Pattern(4096, 6)), 0);
  world.PartitionOneWay(Host(2), Host(0), true);
  int done = -1;
  N(0).engine.IoWrite(handle, 8192, sim::Pattern(4096, 7), false, [&done](int e) { done = e; });
  world.RunFor(kSec / 20);
  // b comes back and takes the block by resync before the write completes.
  world.Partition(Host(0), Host(1), false);
  ASSERT_TRUE(StepUntil([&] {
    return N(1).engine.ReplStateOf("r0", 0, 0) == ReplState::kEstablished &&
           N(1).engine.DiskStateOf(0) == DiskState::kUpToDate && Marks(0, 1) == 0;
  }));
  ASSERT_EQ(done, -1);
  // c's ack gets through; a's peer ack tells c that b has the block.
  world.PartitionOneWay(Host(2), Host(0), false);
  world.RunFor(5 * kSec);
  ASSERT_EQ(done, 0);
  ExpectSameDataNoMarks();
}

TEST_F(SecondaryMarks, APrimarysFinishedResyncClearsTheMarksBetweenTwoSecondaries) {
  UpMeshWithWriter();
  // c away from a (not from b) while a writes 16 blocks.
  world.Partition(Host(0), Host(2), true);
  world.RunFor(30 * kSec);
  for (uint64_t b = 0; b < 16; ++b) {
    ASSERT_EQ(sim::WriteAndRun(world, N(0), handle, b * 4096, sim::Pattern(4096, 30)), 0);
  }
  // b takes the whole device again from a; a cannot vouch for c, so b marks
  // every block toward c.
  ASSERT_EQ(N(1).engine.Invalidate(N(1).Minor(0), true, 0u).ret, Ret::kSsSuccess);
  world.RunFor(30 * kSec);
  ASSERT_EQ(N(1).engine.DiskStateOf(0), DiskState::kUpToDate);
  ASSERT_GT(Marks(1, 2), 16u);
  // c resyncs the 16 blocks from a. The relay for those blocks alone left
  // the rest marked at b toward c.
  world.Partition(Host(0), Host(2), false);
  world.RunFor(30 * kSec);
  ASSERT_EQ(N(2).engine.DiskStateOf(0), DiskState::kUpToDate);
  ExpectSameDataNoMarks();
}

// Marks lost too: a Secondary resyncing a third node tells the Primary
// (PEERS_IN_SYNC) that the third node now holds its data, over a block
// whose newer version the Primary still has in flight to it. The Primary's
// mark toward the third node stays there (HandlePeersInSync).
TEST_F(SecondaryMarks, APeersInSyncLeavesTheBlocksOfAWriteInFlight) {
  UpMeshWithWriter();
  Patient(0, 1);
  // c away from a; b gets a's first version of block 5, a marks it toward c.
  world.Partition(Host(0), Host(2), true);
  world.RunFor(30 * kSec);
  int done = -1;
  TwoVersionsSecondHeld(done);
  // c takes from b what b marked toward it (block 5, by a's peer ack); b
  // is in sync with a as far as b knows, so its PEERS_IN_SYNC names a and c.
  ASSERT_EQ(N(2).engine.Invalidate(N(2).Minor(0), false, 1u).ret, Ret::kSsSuccess);
  // (c stays Inconsistent: b, beside a Primary, is an unstable source.)
  ASSERT_TRUE(StepUntil([&] { return N(2).sink.LogContains("drbd r0/0 drbd0 b: Resync done"); }));
  ASSERT_EQ(done, -1);
  EXPECT_EQ(N(0).engine.BlockOutOfSync("r0", 2, 0, 5), true);
  // Healed, the write completes and c takes the second version from a.
  world.PartitionOneWay(Host(0), Host(1), false);
  world.Partition(Host(0), Host(2), false);
  world.RunFor(60 * kSec);
  EXPECT_EQ(done, 0);
  ExpectSameDataNoMarks();
}

// Not about marks left over but about marks lost, found on the way
// (ResyncSawPeerWrite): a Secondary resyncing a third node must not count a
// block as delivered when the Primary's write to it reached the Secondary
// after the block went out, unless the write reached the third node too.
TEST_F(SecondaryMarks, AResyncBlockOlderThanAPrimarysWriteIsSentAgain) {
  UpMeshWithWriter();
  Patient(0, 1);
  // c away; b gets a's first version of block 5, c will take it from b.
  world.Partition(Host(0), Host(2), true);
  world.Partition(Host(1), Host(2), true);
  world.RunFor(30 * kSec);
  // c is not connected to a, so only a marks the second version toward c.
  int done = -1;
  TwoVersionsSecondHeld(done);
  // c comes back to b. The moment b's copy of block 5 (the first version)
  // lands on c, a's second version reaches b.
  bool released = false;
  world.SetWriteHook("/c/disk", [&](uint64_t offset, uint64_t len) {
    if (!released && offset <= 5 * 4096 && 6 * 4096 <= offset + len) {
      released = true;
      world.PartitionOneWay(Host(0), Host(1), false);
    }
  });
  world.Partition(Host(1), Host(2), false);
  world.RunFor(30 * kSec);
  ASSERT_TRUE(released);
  ASSERT_EQ(done, 0);
  world.SetWriteHook("/c/disk", {});
  // c back to a too; everything settles.
  world.Partition(Host(0), Host(2), false);
  world.RunFor(60 * kSec);
  for (int i = 0; i < 3; ++i) {
    const std::vector<uint8_t> disk = Disk(i);
    ASSERT_EQ(disk.size(), static_cast<size_t>(kData)) << i;
    EXPECT_EQ(std::vector<uint8_t>(disk.begin() + 5 * 4096, disk.begin() + 6 * 4096),
              sim::Pattern(4096, 2))
        << i;
  }
  EXPECT_EQ(N(2).engine.DiskStateOf(0), DiskState::kUpToDate);
}

}  // namespace
}  // namespace drbd::engine
