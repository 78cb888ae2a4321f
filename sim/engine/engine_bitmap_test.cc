// SPDX-License-Identifier: GPL-2.0-or-later
// The bitmap exchange before a resync over the deterministic world, pinned
// to the state changes of the 9.2.18 captures (03: a reconnect passes
// WFBitMapS/WFBitMapT with the target Outdated; 12a/12b: invalidate and
// invalidate-remote pass StartingSyncT/StartingSyncS; 01: the initial sync
// of a just-created peer), and online-verify marks that survive a restart
// of either side between the verify and the reconnect.
#include <gtest/gtest.h>

#include <memory>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::Ip4;
using sim::kSec;
using sim::Node;
using sim::Pattern;
using sim::World;

constexpr uint64_t kBlock = 4096;

class BitmapExchange : public ::testing::Test {
 protected:
  BitmapExchange() : a(std::make_unique<Node>(world, "a")), b(std::make_unique<Node>(world, "b")) {}

  static OptionSet FastResync() {
    OptionSet o(cfg::OptContext::kPeerDeviceOptions);
    o.Set("resync-rate", int64_t{1} << 20);
    o.Set("c-plan-ahead", int64_t{0});
    return o;
  }
  static OptionSet Net() {
    OptionSet o(cfg::OptContext::kNewPeer);
    o.Set("verify-alg", std::string("crc32c"));
    return o;
  }
  void Up(bool skip_initial_sync = true) {
    sim::PairOptions o;
    o.net = Net();
    o.peer_device = FastResync();
    o.set_peer_device = true;
    o.skip_initial_sync = skip_initial_sync;
    ASSERT_EQ(sim::UpPair(world, *a, *b, o), "");
  }
  // Brings `n` up again on its existing disk, as after a restart.
  void Restart(std::unique_ptr<Node>& n, const std::string& name, int node_id) {
    n = std::make_unique<Node>(world, name);
    sim::PairOptions o;
    o.net = Net();
    o.peer_device = FastResync();
    o.set_peer_device = true;
    ASSERT_EQ(sim::RejoinPair(*n, node_id, o), "");
  }
  void ExpectInSync() {
    EXPECT_EQ(a->engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
    EXPECT_EQ(b->engine.ReplStateOf("r0", 0, 0), ReplState::kEstablished);
    EXPECT_EQ(a->engine.DiskStateOf(0), DiskState::kUpToDate);
    EXPECT_EQ(b->engine.DiskStateOf(0), DiskState::kUpToDate);
    EXPECT_EQ(a->engine.OutOfSyncBlocks("r0", 1, 0), 0u);
    EXPECT_EQ(b->engine.OutOfSyncBlocks("r0", 0, 0), 0u);
  }
  bool DataEqual() {
    uint64_t size = a->engine.DeviceBytes(0).value();
    auto x = world.DiskBytes("/a/disk"), y = world.DiskBytes("/b/disk");
    return std::equal(x->begin(), x->begin() + static_cast<ptrdiff_t>(size), y->begin());
  }
  void Corrupt(const std::string& path, const std::vector<uint64_t>& blocks) {
    auto bytes = world.DiskBytes(path);
    for (uint64_t blk : blocks) (*bytes)[blk * kBlock + 100] ^= 0xa5;
  }
  void Verify(Node& n, uint32_t peer) {
    ASSERT_EQ(n.engine.StartVerify(n.PeerVol("r0", peer, 0), std::nullopt, std::nullopt).ret,
              Ret::kSsSuccess);
    world.RunFor(5 * kSec);
    ASSERT_EQ(n.engine.ReplStateOf("r0", peer, 0), ReplState::kEstablished);
  }

  static events::DeviceStatistics Stats(Node& n) {
    for (const events::Notification& note : n.engine.InitialState()) {
      if (auto* d = std::get_if<events::Device>(&note.object)) return d->stats.value();
    }
    ADD_FAILURE() << "no device";
    return {};
  }
  static events::PeerDeviceStatistics PdStats(Node& n) {
    for (const events::Notification& note : n.engine.InitialState()) {
      if (auto* p = std::get_if<events::PeerDevice>(&note.object)) return p->stats.value();
    }
    ADD_FAILURE() << "no peer device";
    return {};
  }

  World world;
  std::unique_ptr<Node> a;
  std::unique_ptr<Node> b;
};

TEST_F(BitmapExchange, ReconnectPassesWFBitMapWithTheTargetOutdated) {
  Up();
  ASSERT_EQ(a->engine.Primary(a->Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  // The Primary disconnects, as in capture 03 (the Secondary stays UpToDate).
  ASSERT_EQ(a->engine.Disconnect(a->Peer("r0", 1), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  int err = 0;
  uint64_t h = a->engine.OpenDevice(0, &err);
  ASSERT_NE(h, 0u) << err;
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, 64 * kBlock, Pattern(3 * kBlock, 7)), 0);
  a->sink.Clear();
  b->sink.Clear();
  ASSERT_EQ(a->Connect("r0", 1), Ret::kSsSuccess);
  world.RunFor(5 * kSec);
  // Capture 03's order of changes on each side.
  const std::vector<std::string> src = {
      "drbd r0/0 drbd0 b: uuid_compare()=source-use-bitmap by rule=bitmap-self",
      "drbd r0/0 drbd0 b: pdsk( DUnknown -> Consistent ) repl( Off -> WFBitMapS ) [connected]",
      "drbd r0/0 drbd0 b: pdsk( Consistent -> Outdated ) [peer-state]",
      "drbd r0/0 drbd0 b: pdsk( Outdated -> Inconsistent ) repl( WFBitMapS -> SyncSource ) "
      "[receive-bitmap]",
      "drbd r0/0 drbd0 b: Began resync as SyncSource (will sync 12 KB [3 bits set]).",
  };
  const std::vector<std::string> tgt = {
      "drbd r0/0 drbd0 a: uuid_compare()=target-use-bitmap by rule=bitmap-peer",
      "drbd r0/0 drbd0: disk( UpToDate -> Outdated )",
      "drbd r0/0 drbd0 a: pdsk( DUnknown -> UpToDate ) repl( Off -> WFBitMapT )",
      "drbd r0/0 drbd0: disk( Outdated -> Inconsistent ) [receive-bitmap]",
      "drbd r0/0 drbd0 a: repl( WFBitMapT -> SyncTarget ) [receive-bitmap]",
      "drbd r0/0 drbd0: disk( Inconsistent -> UpToDate ) [resync-finished]",
  };
  for (const auto& [node, lines] : {std::pair{a.get(), src}, std::pair{b.get(), tgt}}) {
    size_t at = 0;
    for (const std::string& want : lines) {
      while (at < node->sink.log.size() && node->sink.log[at].find(want) == std::string::npos)
        ++at;
      if (at < node->sink.log.size()) continue;
      std::string all;
      for (const std::string& l : node->sink.log) all += l + "\n";
      ADD_FAILURE() << "missing, or out of order: " << want << "\nlog:\n" << all;
      break;
    }
  }
  ExpectInSync();
  EXPECT_EQ(a->engine.ResyncBytesSent("r0", 1, 0), 3 * kBlock);
  EXPECT_TRUE(DataEqual());
  a->engine.CloseDevice(h);
}

TEST_F(BitmapExchange, InitialSyncGivesTheJustCreatedPeerABitmapUuid) {
  Up(/*skip_initial_sync=*/false);
  ASSERT_EQ(a->engine.Primary(a->Res("r0"), true).ret, Ret::kSsSuccess);
  // Both run the live handshake of capture 01, then the exchange.
  world.RunFor(kSec / 100);
  EXPECT_TRUE(a->sink.LogContains(
      "drbd r0/0 drbd0 b: uuid_compare()=source-set-bitmap by rule=just-created-peer"));
  EXPECT_TRUE(b->sink.LogContains(
      "drbd r0/0 drbd0 a: uuid_compare()=target-set-bitmap by rule=just-created-self"));
  EXPECT_TRUE(a->sink.LogContains("repl( Established -> WFBitMapS )"));
  EXPECT_TRUE(b->sink.LogContains("repl( Established -> WFBitMapT )"));
  world.RunFor(10 * kSec);
  ExpectInSync();
  EXPECT_TRUE(DataEqual());
  // The target took the source's UUID, and the bitmap UUID made for it is
  // its history; the source keeps neither (capture 01: U1+:0:0:0 /
  // U1:0:x:0).
  const uint64_t ua = Stats(*a).current_uuid & ~uint64_t{1};
  const events::DeviceStatistics sb = Stats(*b);
  EXPECT_EQ(sb.current_uuid, ua);
  ASSERT_FALSE(sb.history_uuids.empty());
  EXPECT_NE(sb.history_uuids[0], 0u);
  EXPECT_NE(sb.history_uuids[0], ua);
  EXPECT_EQ(PdStats(*a).bitmap_uuid, 0u);
  EXPECT_EQ(Stats(*a).history_uuids[0], 0u);
}

TEST_F(BitmapExchange, InvalidatePassesStartingSync) {
  Up();
  a->sink.Clear();
  b->sink.Clear();
  ASSERT_EQ(b->engine.Invalidate(b->Minor(0)).ret, Ret::kSsSuccess);
  world.RunFor(10 * kSec);
  EXPECT_TRUE(b->sink.LogContains("drbd r0/0 drbd0: disk( UpToDate -> Outdated ) [invalidate]"));
  EXPECT_TRUE(b->sink.LogContains("repl( Established -> StartingSyncT ) [invalidate]"));
  EXPECT_TRUE(a->sink.LogContains("uuid_compare()=no-sync by rule=both-off"));
  EXPECT_TRUE(a->sink.LogContains("pdsk( UpToDate -> Outdated ) [peer-state]"));
  EXPECT_TRUE(a->sink.LogContains("repl( Established -> StartingSyncS ) [remote]"));
  EXPECT_TRUE(a->sink.LogContains(
      "pdsk( Outdated -> Inconsistent ) repl( StartingSyncS -> SyncSource ) [start-sync]"));
  EXPECT_TRUE(b->sink.LogContains("disk( Outdated -> Inconsistent ) [start-sync]"));
  EXPECT_TRUE(b->sink.LogContains("repl( StartingSyncT -> SyncTarget ) [start-sync]"));
  ExpectInSync();
  EXPECT_EQ(a->engine.ResyncBytesSent("r0", 1, 0), a->engine.DeviceBytes(0).value());
}

TEST_F(BitmapExchange, InvalidateRemotePassesStartingSync) {
  Up();
  a->sink.Clear();
  b->sink.Clear();
  ASSERT_EQ(a->engine.InvalidateRemote(a->PeerVol("r0", 1, 0)).ret, Ret::kSsSuccess);
  world.RunFor(10 * kSec);
  EXPECT_TRUE(a->sink.LogContains(
      "pdsk( UpToDate -> Consistent ) repl( Established -> StartingSyncS ) [invalidate-remote]"));
  EXPECT_TRUE(b->sink.LogContains("repl( Established -> StartingSyncT ) [remote]"));
  EXPECT_TRUE(a->sink.LogContains("pdsk( Consistent -> Outdated ) [peer-state]"));
  EXPECT_TRUE(a->sink.LogContains("repl( StartingSyncS -> SyncSource ) [start-sync]"));
  EXPECT_TRUE(b->sink.LogContains("repl( StartingSyncT -> SyncTarget ) [start-sync]"));
  ExpectInSync();
  EXPECT_EQ(a->engine.ResyncBytesSent("r0", 1, 0), a->engine.DeviceBytes(0).value());
}

// Verify marks survive a restart of either side before the reconnect: the
// side that remembers the verify tells the other in its STATE, and the
// marks are in both on-disk bitmaps.
class VerifyMarksAcrossRestart : public BitmapExchange,
                                 public ::testing::WithParamInterface<bool> {};

TEST_P(VerifyMarksAcrossRestart, ResyncFromTheVerifySource) {
  const bool restart_source = GetParam();
  Up();
  const std::vector<uint64_t> bad = {5, 900, 6000};
  Corrupt("/b/disk", bad);
  Verify(*a, 1);  // a holds the good copy and runs the verify
  EXPECT_EQ(a->engine.OutOfSyncBlocks("r0", 1, 0), bad.size());
  EXPECT_EQ(b->engine.OutOfSyncBlocks("r0", 0, 0), bad.size());
  world.RunFor(2 * kSec);  // the marks reach the disks
  EXPECT_FALSE(DataEqual());
  // kill -9 of one side, then both connect again.
  if (restart_source) {
    a.reset();
  } else {
    b.reset();
  }
  world.RunFor(kSec);
  if (restart_source) {
    Restart(a, "a", 0);
  } else {
    Restart(b, "b", 1);
  }
  world.RunFor(15 * kSec);  // the survivor redials every connect-int
  EXPECT_TRUE(a->sink.LogContains("resync them as SyncSource (bitmap-based)"));
  EXPECT_TRUE(b->sink.LogContains("resync them as SyncTarget (bitmap-based)"));
  ExpectInSync();
  EXPECT_EQ(a->engine.ResyncBytesSent("r0", 1, 0), bad.size() * kBlock);
  EXPECT_TRUE(DataEqual());
}

INSTANTIATE_TEST_SUITE_P(EitherSide, VerifyMarksAcrossRestart, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Source" : "Target"; });

}  // namespace
}  // namespace drbd::engine
