// SPDX-License-Identifier: GPL-2.0-or-later
// invalidate and invalidate-remote with --reset-bitmap=no over the
// deterministic world (DRBD 9.1+): after an online verify marked blocks
// that differ, the resync they start passes WFBitMapT / WFBitMapS (the
// bitmap exchange) and sends only the marked blocks, where the default
// (reset the bitmap) sends every block; sync-from-peer-node-id picks the
// source.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::kSec;
using sim::Node;
using sim::World;

constexpr uint64_t kBlock = 4096;

class InvalidateBitmap : public ::testing::Test {
 protected:
  InvalidateBitmap() : a(world, "a"), b(world, "b") {}

  // The pair, UpToDate and connected; blocks `bad` of b's backing data
  // changed behind DRBD and found by a verify from a: both sides hold them
  // marked while Established.
  void UpWithMarks() {
    ASSERT_EQ(sim::UpPair(world, a, b, sim::VerifyPairOptions()), "");
    sim::CorruptBlocks(world, "/b/disk", bad);
    ASSERT_EQ(a.engine.StartVerify(a.PeerVol("r0", 1, 0), std::nullopt, std::nullopt).ret,
              Ret::kSsSuccess);
    world.RunFor(5 * kSec);
    ASSERT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
    ASSERT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), bad.size());
    ASSERT_EQ(b.engine.OutOfSyncBlocks("r0", 0, 0), bad.size());
    ASSERT_FALSE(DataEqual());
    a.sink.Clear();
    b.sink.Clear();
  }
  bool DataEqual() {
    uint64_t size = a.engine.DeviceBytes(0).value();
    auto x = world.DiskBytes("/a/disk"), y = world.DiskBytes("/b/disk");
    return std::equal(x->begin(), x->begin() + static_cast<ptrdiff_t>(size), y->begin());
  }
  void ExpectInSync() {
    EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
    EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kEstablished);
    EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kUpToDate);
    EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
    EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), 0u);
    EXPECT_EQ(b.engine.OutOfSyncBlocks("r0", 0, 0), 0u);
    EXPECT_TRUE(DataEqual());
  }

  const std::vector<uint64_t> bad = {3, 700, 4000};
  World world;
  Node a;
  Node b;
};

TEST_F(InvalidateBitmap, InvalidateWithoutResetSyncsOnlyTheMarkedBlocks) {
  UpWithMarks();
  const uint64_t before = a.engine.ResyncBytesSent("r0", 1, 0).value();
  ASSERT_EQ(b.engine.Invalidate(b.Minor(0), false, std::nullopt).ret, Ret::kSsSuccess);
  EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kWFBitMapT);
  EXPECT_TRUE(b.sink.LogContains("repl( Established -> WFBitMapT ) [invalidate]"));
  world.RunFor(3 * kSec);
  EXPECT_TRUE(a.sink.LogContains("repl( Established -> WFBitMapS ) [remote]"));
  EXPECT_TRUE(a.sink.LogContains("Began resync as SyncSource (will sync 12 KB [3 bits set])."));
  ExpectInSync();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0).value() - before, bad.size() * kBlock);
}

TEST_F(InvalidateBitmap, InvalidateRemoteWithoutResetSyncsOnlyTheMarkedBlocks) {
  UpWithMarks();
  const uint64_t before = a.engine.ResyncBytesSent("r0", 1, 0).value();
  ASSERT_EQ(a.engine.InvalidateRemote(a.PeerVol("r0", 1, 0), false).ret, Ret::kSsSuccess);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kWFBitMapS);
  EXPECT_TRUE(a.sink.LogContains("repl( Established -> WFBitMapS ) [invalidate-remote]"));
  world.RunFor(3 * kSec);
  EXPECT_TRUE(b.sink.LogContains("repl( Established -> WFBitMapT ) [remote]"));
  ExpectInSync();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0).value() - before, bad.size() * kBlock);
}

TEST_F(InvalidateBitmap, DefaultResetSyncsEveryBlock) {
  UpWithMarks();
  const uint64_t before = a.engine.ResyncBytesSent("r0", 1, 0).value();
  ASSERT_EQ(b.engine.Invalidate(b.Minor(0), true, std::nullopt).ret, Ret::kSsSuccess);
  EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kStartingSyncT);
  world.RunFor(5 * kSec);
  ExpectInSync();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0).value() - before, a.engine.DeviceBytes(0).value());
}

TEST_F(InvalidateBitmap, EmptyBitmapsFinishAtOnce) {
  sim::PairOptions o;
  ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  ASSERT_EQ(b.engine.Invalidate(b.Minor(0), false, std::nullopt).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  EXPECT_TRUE(a.sink.LogContains("Began resync as SyncSource (will sync 0 KB [0 bits set])."));
  ExpectInSync();
}

TEST_F(InvalidateBitmap, RefusedWhileDisconnectedOrResyncing) {
  sim::PairOptions o;
  ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  // sync-from-peer-node-id names the only peer: no fallback to a local
  // invalidate when it is away.
  ASSERT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_EQ(b.engine.Invalidate(b.Minor(0), false, 0u).ret, Ret::kSsNeedConnection);
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(a.engine.InvalidateRemote(a.PeerVol("r0", 1, 0), false).ret, Ret::kSsNeedConnection);
}

}  // namespace
}  // namespace drbd::engine
