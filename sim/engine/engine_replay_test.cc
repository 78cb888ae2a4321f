// SPDX-License-Identifier: GPL-2.0-or-later
// Behaviours the replay of the DRBD 9.2.18 capture scenarios pinned
// (tests/integration/simd_scenarios.py), checked on the deterministic
// world: a Primary writing beside a detached peer makes a new current UUID
// and the re-attached disk resyncs just those blocks (13); a disk attached
// while StandAlone after its peer exposed newer data comes up Outdated
// (13b); the sent/received statistics restart with each connection and a
// local disconnect takes the path down before StandAlone (01, 03); the
// peer's STABLE UUID flag reaches may_promote (12a); show-gi's "connected"
// stays on disk until a graceful disconnect (03, 13b); a finished
// SyncTarget keeps no bits toward its source (11).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <variant>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::kSec;
using sim::Node;
using sim::World;

class Replayed : public ::testing::Test {
 protected:
  Replayed() : a(world, "a"), b(world, "b") {}

  // Both UpToDate and connected (new-current-uuid --clear-bitmap), a fast
  // fixed resync rate.
  void Up() {
    sim::PairOptions o;
    o.peer_device.Set("resync-rate", int64_t{100000});
    o.peer_device.Set("c-plan-ahead", int64_t{0});
    o.set_peer_device = true;
    o.skip_initial_sync = true;
    ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  }
  void WriteOnA(uint64_t off, size_t len) {
    int err = 0;
    uint64_t h = a.engine.OpenDevice(0, &err);
    ASSERT_EQ(err, 0);
    std::vector<uint8_t> data(len);
    for (size_t i = 0; i < len; ++i) data[i] = static_cast<uint8_t>(i * 7 + 1);
    ASSERT_EQ(sim::WriteAndRun(world, a, h, off, std::move(data)), 0);
    a.engine.CloseDevice(h);
  }
  void RunUntilEstablished() {
    for (int i = 0; i < 60 && (a.engine.ReplStateOf("r0", 1, 0) != ReplState::kEstablished ||
                               b.engine.DiskStateOf(0) != DiskState::kUpToDate);
         ++i) {
      world.RunFor(kSec);
    }
  }
  bool DataEqual() {
    uint64_t size = a.engine.DeviceBytes(0).value();
    auto x = world.DiskBytes("/a/disk"), y = world.DiskBytes("/b/disk");
    return std::equal(x->begin(), x->begin() + static_cast<ptrdiff_t>(size), y->begin());
  }
  // The statistics of the last peer-device notification `n` emitted.
  static std::optional<events::PeerDeviceStatistics> LastStats(const Node& n) {
    for (auto it = n.sink.notes.rbegin(); it != n.sink.notes.rend(); ++it) {
      if (const auto* pd = std::get_if<events::PeerDevice>(&it->object); pd && pd->stats) {
        return pd->stats;
      }
    }
    return std::nullopt;
  }

  // peer_dev_flags of `n`'s peer device as a dump (show-gi) reports them.
  static uint32_t PeerFlags(const Node& n) {
    uint32_t flags = 0;
    for (const events::Notification& note : n.engine.InitialState()) {
      if (const auto* pd = std::get_if<events::PeerDevice>(&note.object); pd && pd->stats) {
        flags = pd->stats->flags;
      }
    }
    return flags;
  }

  World world;
  Node a;
  Node b;
};

TEST_F(Replayed, WriteBesideADetachedPeerMakesANewUuidAndReattachResyncsIt) {
  Up();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  const uint64_t before = a.engine.CurrentUuidOf(0).value();
  ASSERT_EQ(b.engine.Detach(b.Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kDiskless);
  WriteOnA(4 << 20, 2 << 20);
  world.RunFor(kSec);  // the new UUID reaches b
  EXPECT_NE(a.engine.CurrentUuidOf(0).value() & ~1ull, before & ~1ull);
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), 512u);
  EXPECT_TRUE(b.sink.LogContains("receiver updated UUIDs to exposed data uuid:"));
  // Attach while connected: a sync handshake on the live connection.
  ASSERT_EQ(b.Attach(0, "/b/disk").ret, Ret::kNoError);
  RunUntilEstablished();
  EXPECT_TRUE(a.sink.LogContains("uuid_compare()=source-use-bitmap by rule=bitmap-self"));
  EXPECT_TRUE(b.sink.LogContains("uuid_compare()=target-use-bitmap by rule=bitmap-peer"));
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0), 2u << 20);
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_TRUE(DataEqual());
}

TEST_F(Replayed, AttachWhileStandAloneAfterThePeerWroteComesUpOutdated) {
  Up();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(b.engine.Detach(b.Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  WriteOnA(4 << 20, 2 << 20);
  world.RunFor(kSec);
  ASSERT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  ASSERT_EQ(b.Attach(0, "/b/disk").ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kOutdated);
  ASSERT_EQ(b.Connect("r0", 0), Ret::kSsSuccess);
  RunUntilEstablished();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0), 2u << 20);
  EXPECT_TRUE(DataEqual());
}

TEST_F(Replayed, StatisticsRestartWithEachConnectionAndThePathGoesDownFirst) {
  Up();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  WriteOnA(0, 1 << 20);
  world.RunFor(kSec);
  ASSERT_EQ(a.engine.Secondary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  a.sink.Clear();
  ASSERT_EQ(a.engine.Disconnect(a.Peer("r0", 1), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  // A dump, as `status` reads them: 0 once the connection is gone (it was
  // 2048 sectors while connected).
  std::optional<events::PeerDeviceStatistics> dumped;
  for (const events::Notification& n : a.engine.InitialState()) {
    if (const auto* pd = std::get_if<events::PeerDevice>(&n.object); pd && pd->stats) {
      dumped = pd->stats;
    }
  }
  ASSERT_TRUE(dumped);
  EXPECT_EQ(dumped->sent, 0u);
  std::vector<std::string> lines = a.sink.Lines();
  auto path_down = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.starts_with("change path") && l.ends_with("established:no");
  });
  auto standalone = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("connection:StandAlone") != std::string::npos;
  });
  ASSERT_NE(path_down, lines.end());
  ASSERT_NE(standalone, lines.end());
  EXPECT_LT(path_down - lines.begin(), standalone - lines.begin());
}

TEST_F(Replayed, ConnectedFlagStaysOnDiskUntilAGracefulDisconnect) {
  Up();
  EXPECT_TRUE(PeerFlags(b) & md::kPeerConnected);
  EXPECT_TRUE(PeerFlags(b) & md::kPeerDeviceSeen);
  // 13b: detached, then disconnected while diskless: the disk still says
  // connected when it comes back.
  ASSERT_EQ(b.engine.Detach(b.Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  ASSERT_EQ(b.Attach(0, "/b/disk").ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_TRUE(PeerFlags(b) & md::kPeerConnected);
  // a saw b leave (TearDown) with its disk attached: cleared there.
  EXPECT_FALSE(PeerFlags(a) & md::kPeerConnected);
  EXPECT_TRUE(PeerFlags(a) & md::kPeerDeviceSeen);
}

TEST_F(Replayed, JustCreatedDisksAreAllOutOfSyncUntilTheInitialSync) {
  sim::PairOptions o;
  o.skip_initial_sync = false;
  ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  auto out_of_sync = [](const Node& n) {
    uint64_t v = ~uint64_t{0};
    for (const events::Notification& note : n.engine.InitialState()) {
      if (const auto* pd = std::get_if<events::PeerDevice>(&note.object); pd && pd->stats) {
        v = pd->stats->out_of_sync;
      }
    }
    return v;
  };
  const uint64_t sectors = a.engine.DeviceBytes(0).value() / 512;
  EXPECT_EQ(out_of_sync(a), sectors);  // status: out-of-sync:32728 (KiB)
  EXPECT_EQ(out_of_sync(b), sectors);
  ASSERT_EQ(a.engine.NewCurrentUuid(a.Minor(0), true).ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_EQ(out_of_sync(a), 0u);
  EXPECT_EQ(out_of_sync(b), 0u);
}

TEST_F(Replayed, PeerStableFlagReachesThePeerDeviceStatistics) {
  Up();
  world.RunFor(kSec);
  ASSERT_TRUE(LastStats(b));
  EXPECT_TRUE(LastStats(b)->uuid_flags & events::kUuidFlagStable);
}

TEST_F(Replayed, FinishedSyncTargetKeepsNoBitsTowardItsSource) {
  sim::PairOptions o;
  o.peer_device.Set("resync-rate", int64_t{100000});
  o.peer_device.Set("c-plan-ahead", int64_t{0});
  o.set_peer_device = true;
  o.skip_initial_sync = true;
  o.net.Set("verify-alg", std::string("crc32c"));
  ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  // Three blocks of b differ behind DRBD's back; verify marks them on both.
  auto bytes = world.DiskBytes("/b/disk");
  for (uint64_t blk : {256u, 1282u, 5120u}) bytes->at(blk * 4096) ^= 0xff;
  ASSERT_EQ(a.engine.StartVerify(a.PeerVol("r0", 1, 0), std::nullopt, std::nullopt).ret,
            Ret::kSsSuccess);
  for (int i = 0; i < 30 && a.engine.ReplStateOf("r0", 1, 0) != ReplState::kEstablished; ++i) {
    world.RunFor(kSec);
  }
  ASSERT_EQ(b.engine.OutOfSyncBlocks("r0", 0, 0), 3u);
  ASSERT_EQ(b.engine.Invalidate(b.Minor(0)).ret, Ret::kSsSuccess);
  RunUntilEstablished();
  EXPECT_EQ(b.engine.OutOfSyncBlocks("r0", 0, 0), 0u);
  EXPECT_TRUE(DataEqual());
}

}  // namespace
}  // namespace drbd::engine
