// SPDX-License-Identifier: GPL-2.0-or-later
// Online verify followed by disconnect/connect over the deterministic world:
// the blocks verify marked are resynced on the reconnect although the
// generation UUIDs are equal (the DRBD documentation's promise; the 9.2.18
// module drops the marks, see docs/compat.md), from the Primary, else from
// the side that ran the verify; without marks an equal-UUID reconnect
// still syncs nothing. Also the end of a resync run both of whose ends
// reached the same UpToDate data another way (3 nodes, skipped initial sync).
#include <gtest/gtest.h>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::kSec;
using sim::Node;
using sim::World;

constexpr uint64_t kBlock = 4096;

class VerifyRepair : public ::testing::Test {
 protected:
  VerifyRepair() : a(world, "a"), b(world, "b") {}

  void Up() {
    ASSERT_EQ(sim::UpPair(world, a, b, sim::VerifyPairOptions()), "");
  }

  // Flips a byte in each of `blocks` of `path`'s data area behind DRBD.
  void Corrupt(const std::string& path, const std::vector<uint64_t>& blocks) {
    sim::CorruptBlocks(world, path, blocks);
  }
  bool DataEqual() {
    uint64_t size = a.engine.DeviceBytes(0).value();
    auto x = world.DiskBytes("/a/disk"), y = world.DiskBytes("/b/disk");
    return std::equal(x->begin(), x->begin() + static_cast<ptrdiff_t>(size), y->begin());
  }
  uint8_t ByteAt(const std::string& path, uint64_t off) { return (*world.DiskBytes(path))[off]; }

  // Verify from `n` toward its peer, to the end.
  void Verify(Node& n, uint32_t peer) {
    ASSERT_EQ(n.engine.StartVerify(n.PeerVol("r0", peer, 0), std::nullopt, std::nullopt).ret,
              Ret::kSsSuccess);
    world.RunFor(5 * kSec);
    ASSERT_EQ(n.engine.ReplStateOf("r0", peer, 0), ReplState::kEstablished);
  }
  // b disconnects from a and connects again.
  void Reconnect() {
    ASSERT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kNoError);
    world.RunFor(kSec);
    ASSERT_EQ(b.Connect("r0", 0), Ret::kSsSuccess);
    world.RunFor(5 * kSec);
  }
  void ExpectInSync() {
    EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
    EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kEstablished);
    EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kUpToDate);
    EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
    EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), 0u);
    EXPECT_EQ(b.engine.OutOfSyncBlocks("r0", 0, 0), 0u);
  }

  World world;
  Node a;
  Node b;
};

TEST_F(VerifyRepair, ReconnectResyncsVerifyMarksFromThePrimary) {
  Up();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  const std::vector<uint64_t> bad = {3, 700, 4000};
  Corrupt("/b/disk", bad);
  const uint8_t good = ByteAt("/a/disk", 700 * kBlock + 100);
  // Started on the Secondary holding the bad copy: the Primary's data wins.
  Verify(b, 0);
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), bad.size());
  EXPECT_EQ(b.engine.OutOfSyncBlocks("r0", 0, 0), bad.size());
  EXPECT_FALSE(DataEqual());
  a.sink.Clear();
  b.sink.Clear();
  Reconnect();
  // Both sides lost this connection before: RECONNECT on both (capture
  // 11-verify: "no-sync by rule=reconnected").
  EXPECT_TRUE(a.sink.LogContains("uuid_compare()=no-sync by rule=reconnected"));
  EXPECT_TRUE(a.sink.LogContains(
      "drbd r0/0 drbd0 b: online verify marked blocks out of sync and the UUIDs are equal: "
      "resync them as SyncSource (bitmap-based)"));
  EXPECT_TRUE(a.sink.LogContains(
      "drbd r0/0 drbd0 b: Began resync as SyncSource (will sync 12 KB [3 bits set])."));
  EXPECT_TRUE(
      b.sink.LogContains("drbd r0/0 drbd0: disk( Inconsistent -> UpToDate ) [resync-finished]"));
  ExpectInSync();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0), bad.size() * kBlock);
  EXPECT_EQ(ByteAt("/b/disk", 700 * kBlock + 100), good);
  EXPECT_TRUE(DataEqual());

  // The marks are consumed: the next reconnect syncs nothing.
  Reconnect();
  ExpectInSync();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0), bad.size() * kBlock);
}

TEST_F(VerifyRepair, WithoutPrimaryTheVerifySourceWins) {
  Up();
  const uint64_t last = a.engine.DeviceBytes(0).value() / kBlock - 1;  // the data area's end
  const std::vector<uint64_t> bad = {0, last};
  Corrupt("/b/disk", bad);
  Verify(a, 1);  // a holds the good copy and runs the verify
  EXPECT_EQ(b.engine.OutOfSyncBlocks("r0", 0, 0), bad.size());
  Reconnect();
  EXPECT_TRUE(a.sink.LogContains("resync them as SyncSource (bitmap-based)"));
  EXPECT_TRUE(b.sink.LogContains("resync them as SyncTarget (bitmap-based)"));
  ExpectInSync();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0), bad.size() * kBlock);
  EXPECT_EQ(b.engine.ResyncBytesSent("r0", 0, 0), 0u);
  EXPECT_TRUE(DataEqual());
}

TEST_F(VerifyRepair, CleanVerifyLeavesAnEqualUuidReconnectWithoutSync) {
  Up();
  Verify(a, 1);
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), 0u);
  a.sink.Clear();
  Reconnect();
  EXPECT_FALSE(a.sink.LogContains("resync them as"));
  EXPECT_FALSE(a.sink.LogContains("Began resync"));
  ExpectInSync();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0), 0u);
}

// Three nodes, initial sync skipped by a: b and c each adopt a's UUID, and
// whichever becomes UpToDate first may start a full sync toward the other;
// once both are UpToDate with the same UUID every run ends and nothing stays
// marked (found by simd_data.py's 3-node integrity tests).
TEST(SkippedInitialSync, ThreeNodesEndInSyncWithNothingMarked) {
  World world;
  Node a(world, "a"), b(world, "b"), c(world, "c");
  Node* nodes[] = {&a, &b, &c};
  const char* names[] = {"a", "b", "c"};
  // b-c resyncs slowly (a full sync would still run for minutes), a's
  // links as fast as the world moves.
  engine::OptionSet slow(cfg::OptContext::kPeerDeviceOptions), fast = slow;
  slow.Set("resync-rate", int64_t{250});
  fast.Set("resync-rate", int64_t{1} << 20);
  for (engine::OptionSet* o : {&slow, &fast}) o->Set("c-plan-ahead", int64_t{0});
  for (uint32_t i = 0; i < 3; ++i) {
    Node& n = *nodes[i];
    ASSERT_EQ(n.NewResource("r0", i), Ret::kNoError);
    ASSERT_EQ(n.NewMinor("r0", 0, 0), Ret::kNoError);
    const std::string disk = std::string("/") + names[i] + "/disk";
    ASSERT_TRUE(sim::MakeMetadata(world, disk, sim::kDiskBytes));
    ASSERT_EQ(n.Attach(0, disk).ret, Ret::kNoError);
    for (uint32_t j = 0; j < 3; ++j) {
      if (j == i) continue;
      ASSERT_EQ(n.NewPeer("r0", j, names[j]), Ret::kNoError);
      // One port per (listener, dialer) pair: 7000 + 10 * lower id + higher id.
      const auto port = static_cast<uint16_t>(7000 + 10 * std::min(i, j) + std::max(i, j));
      ASSERT_EQ(n.NewPath("r0", j, sim::Ip4("10.0.0." + std::to_string(i + 1), port),
                          sim::Ip4("10.0.0." + std::to_string(j + 1), port)),
                Ret::kNoError);
      const engine::OptionSet& pd_opts = i + j == 3 ? slow : fast;  // b-c: 1 + 2
      ASSERT_EQ(n.engine.PeerDeviceOptions(n.PeerVol("r0", j, 0), pd_opts, false).ret,
                Ret::kNoError);
    }
  }
  // a-b first: b adopts a's UUID. Then b-c: b begins a full sync toward
  // the just-created c (just-created-peer); c, connected to a later, gets
  // a's data by a full sync from a, and so the same UpToDate data as b
  // while b's run toward c is still going. (With b-c connected at the
  // skip, b passes the skip on to c and no run starts at all:
  // engine_attach_test.cc.)
  ASSERT_EQ(a.Connect("r0", 1), Ret::kSsSuccess);
  ASSERT_EQ(b.Connect("r0", 0), Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnected);
  ASSERT_EQ(a.engine.NewCurrentUuid(a.Minor(0), true).ret, Ret::kNoError);
  world.RunFor(kSec);
  ASSERT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
  ASSERT_EQ(b.Connect("r0", 2), Ret::kSsSuccess);
  ASSERT_EQ(c.Connect("r0", 1), Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(b.engine.ConnStateOf("r0", 2), ConnState::kConnected);
  ASSERT_EQ(c.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncTarget);
  ASSERT_EQ(a.Connect("r0", 2), Ret::kSsSuccess);
  ASSERT_EQ(c.Connect("r0", 0), Ret::kSsSuccess);
  world.RunFor(3 * kSec);
  // One resync source at a time (drbd_select_sync_target): c keeps b, whose
  // run has less left, and waits PausedSyncT toward a; once b's run ends,
  // c is UpToDate and a's run toward it is cancelled.
  EXPECT_EQ(c.engine.ReplStateOf("r0", 0, 0), ReplState::kPausedSyncT);
  EXPECT_EQ(c.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncTarget);
  world.RunFor(300 * kSec);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(nodes[i]->engine.DiskStateOf(0), DiskState::kUpToDate) << names[i];
    for (uint32_t j = 0; j < 3; ++j) {
      if (j == i) continue;
      EXPECT_EQ(nodes[i]->engine.ReplStateOf("r0", j, 0), ReplState::kEstablished)
          << names[i] << " -> " << names[j];
      EXPECT_EQ(nodes[i]->engine.OutOfSyncBlocks("r0", j, 0), 0u) << names[i] << " -> " << names[j];
    }
  }
}

}  // namespace
}  // namespace drbd::engine
