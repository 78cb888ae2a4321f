// SPDX-License-Identifier: GPL-2.0-or-later
// resync-after over the deterministic world: two resources r0 (minor 0)
// and r1 (minor 1) between nodes a and b, r1 configured to resync after
// minor 0. r1's resync waits (PausedSyncS / PausedSyncT,
// resync-suspended:dependency, and peer on the other side) while r0
// resyncs and runs once r0 is done; the kernel's dependency checks
// (ERR_RESYNC_AFTER, ERR_RESYNC_AFTER_CYCLE) on attach and disk-options.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::Ip4;
using sim::kSec;
using sim::Node;
using sim::World;

constexpr uint64_t kSmallDisk = 4ull << 20;

class ResyncAfter : public ::testing::Test {
 protected:
  ResyncAfter() : a(world, "a"), b(world, "b") {}

  // Resource `res` with minor `minor` on both nodes, attached to fresh
  // metadata with disk options `disk`, connected on `port` with a fixed
  // resync-rate of 1 MiB/s (a 4 MiB full sync takes about 4 s).
  void AddResource(const std::string& res, uint32_t minor, uint16_t port,
                   const OptionSet& disk = OptionSet(cfg::OptContext::kAttach)) {
    OptionSet pdo(cfg::OptContext::kPeerDeviceOptions);
    pdo.Set("resync-rate", int64_t{1024});
    pdo.Set("c-plan-ahead", int64_t{0});
    for (int i = 0; i < 2; ++i) {
      Node& n = i == 0 ? a : b;
      const std::string me = i == 0 ? "10.0.0.1" : "10.0.0.2";
      const std::string other = i == 0 ? "10.0.0.2" : "10.0.0.1";
      const uint32_t peer = i == 0 ? 1 : 0;
      const std::string path = fmt::format("/{}/{}", i == 0 ? "a" : "b", res);
      ASSERT_EQ(n.NewResource(res, i), Ret::kNoError);
      ASSERT_EQ(n.NewMinor(res, minor, 0), Ret::kNoError);
      ASSERT_EQ(n.NewPeer(res, peer, i == 0 ? "b" : "a"), Ret::kNoError);
      ASSERT_EQ(n.NewPath(res, peer, Ip4(me, port), Ip4(other, port)), Ret::kNoError);
      ASSERT_TRUE(sim::MakeMetadata(world, path, kSmallDisk));
      ASSERT_EQ(Attach(n, minor, path, disk), Ret::kNoError);
      ASSERT_EQ(n.engine.PeerDeviceOptions(n.PeerVol(res, peer, 0), pdo, false).ret, Ret::kNoError);
    }
  }
  Ret Attach(Node& n, uint32_t minor, const std::string& path, const OptionSet& disk) {
    DiskConf conf;
    conf.backing_dev = path;
    conf.meta_dev = path;
    conf.opts = disk;
    std::optional<Reply> got;
    n.engine.Attach(n.Minor(minor), conf, [&](Reply r) { got = std::move(r); });
    for (int i = 0; i < 1000 && !got; ++i) world.Step();
    return got ? got->ret : Ret::kSsUnknownError;
  }
  static OptionSet After(int64_t minor) {
    OptionSet o(cfg::OptContext::kAttach);
    o.Set("resync-after", minor);
    return o;
  }
  // Connects both resources and makes a Primary of both with --force: two
  // full syncs a -> b become due at once.
  void ConnectAndForcePrimary() {
    for (const char* res : {"r0", "r1"}) {
      ASSERT_EQ(a.Connect(res, 1), Ret::kSsSuccess);
      ASSERT_EQ(b.Connect(res, 0), Ret::kSsSuccess);
    }
    world.RunFor(kSec);
    ASSERT_EQ(a.engine.ConnStateOf("r1", 1), ConnState::kConnected);
    for (const char* res : {"r0", "r1"}) {
      ASSERT_EQ(a.engine.Primary(a.Res(res), true).ret, Ret::kSsSuccess);
    }
    world.RunFor(kSec / 2);
  }
  // The last events2 line of a's or b's peer device of `res`.
  static std::string LastPeerDeviceLine(const Node& n, const std::string& res) {
    std::string last;
    for (const std::string& l : n.sink.Lines()) {
      if (l.find("peer-device name:" + res + " ") != std::string::npos) last = l;
    }
    return last;
  }
  bool DataEqual(const std::string& res) {
    auto x = world.DiskBytes("/a/" + res), y = world.DiskBytes("/b/" + res);
    const uint64_t size = a.engine.DeviceBytes(res == "r0" ? 0 : 1).value();
    return std::equal(x->begin(), x->begin() + static_cast<ptrdiff_t>(size), y->begin());
  }

  World world;
  Node a, b;
};

TEST_F(ResyncAfter, DependentResyncWaitsUntilItsDependencyFinished) {
  AddResource("r0", 0, 7788);
  AddResource("r1", 1, 7789, After(0));
  ConnectAndForcePrimary();

  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncSource);
  EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kSyncTarget);
  EXPECT_EQ(a.engine.ReplStateOf("r1", 1, 0), ReplState::kPausedSyncS);
  EXPECT_EQ(b.engine.ReplStateOf("r1", 0, 0), ReplState::kPausedSyncT);
  EXPECT_NE(LastPeerDeviceLine(a, "r1").find("replication:PausedSyncS"), std::string::npos);
  EXPECT_NE(LastPeerDeviceLine(a, "r1").find("resync-suspended:peer,dependency"), std::string::npos)
      << LastPeerDeviceLine(a, "r1");
  EXPECT_NE(LastPeerDeviceLine(b, "r1").find("resync-suspended:peer,dependency"), std::string::npos)
      << LastPeerDeviceLine(b, "r1");
  EXPECT_NE(LastPeerDeviceLine(a, "r0").find("resync-suspended:no"), std::string::npos);
  EXPECT_TRUE(a.sink.LogContains("Began resync as PausedSyncS (will sync 4"));
  EXPECT_TRUE(a.sink.LogContains("resync-susp( no -> "));
  // Nothing of r1 moves while r0 resyncs.
  EXPECT_EQ(a.engine.ResyncBytesSent("r1", 1, 0), 0u);
  const uint64_t r1_blocks = a.engine.OutOfSyncBlocks("r1", 1, 0).value();
  EXPECT_GT(r1_blocks, 0u);

  world.RunFor(2 * kSec);
  EXPECT_EQ(a.engine.ReplStateOf("r1", 1, 0), ReplState::kPausedSyncS);
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r1", 1, 0), r1_blocks);

  // r0 finishes after about 4 s; then r1 runs.
  world.RunFor(4 * kSec);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
  EXPECT_EQ(a.engine.ReplStateOf("r1", 1, 0), ReplState::kSyncSource);
  EXPECT_EQ(b.engine.ReplStateOf("r1", 0, 0), ReplState::kSyncTarget);
  EXPECT_NE(LastPeerDeviceLine(a, "r1").find("resync-suspended:no"), std::string::npos);

  world.RunFor(6 * kSec);
  EXPECT_EQ(a.engine.ReplStateOf("r1", 1, 0), ReplState::kEstablished);
  EXPECT_EQ(b.engine.DiskStateOf(1), DiskState::kUpToDate);
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_TRUE(DataEqual("r0"));
  EXPECT_TRUE(DataEqual("r1"));
  EXPECT_TRUE(a.sink.LogContains(
      "drbd r1/0 drbd1 b: repl( PausedSyncS -> SyncSource ) resync-susp( after dependency -> no ) "
      "[resync-after]"));
  EXPECT_TRUE(a.sink.LogContains("drbd r1/0 drbd1 b: Syncer continues."));
  // The wait counts as paused time, as the kernel's rs_paused.
  EXPECT_TRUE(a.sink.LogContains("drbd r1/0 drbd1 b: Resync done (total 6 sec; paused 3 sec;"));
}

TEST_F(ResyncAfter, IndependentResourcesResyncTogether) {
  AddResource("r0", 0, 7788);
  AddResource("r1", 1, 7789);
  ConnectAndForcePrimary();
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncSource);
  EXPECT_EQ(a.engine.ReplStateOf("r1", 1, 0), ReplState::kSyncSource);
}

TEST_F(ResyncAfter, DiskOptionsDependencyPausesARunningResync) {
  AddResource("r0", 0, 7788);
  AddResource("r1", 1, 7789);
  ConnectAndForcePrimary();
  ASSERT_EQ(a.engine.ReplStateOf("r1", 1, 0), ReplState::kSyncSource);
  // drbd_resync_after_changed: r1 now waits for r0 on a, and b follows.
  ASSERT_EQ(a.engine.DiskOptions(a.Minor(1), After(0), false).ret, Ret::kNoError);
  world.RunFor(kSec / 10);
  EXPECT_EQ(a.engine.ReplStateOf("r1", 1, 0), ReplState::kPausedSyncS);
  EXPECT_EQ(b.engine.ReplStateOf("r1", 0, 0), ReplState::kPausedSyncT);
  EXPECT_NE(LastPeerDeviceLine(a, "r1").find("resync-suspended:dependency"), std::string::npos);
  EXPECT_NE(LastPeerDeviceLine(b, "r1").find("resync-suspended:peer"), std::string::npos);
  // And runs again when the dependency is dropped.
  ASSERT_EQ(a.engine.DiskOptions(a.Minor(1), After(-1), false).ret, Ret::kNoError);
  world.RunFor(kSec / 10);
  EXPECT_EQ(a.engine.ReplStateOf("r1", 1, 0), ReplState::kSyncSource);
  EXPECT_EQ(b.engine.ReplStateOf("r1", 0, 0), ReplState::kSyncTarget);
}

TEST_F(ResyncAfter, CyclesAndNegativeMinorsAreRejected) {
  AddResource("r0", 0, 7788);
  AddResource("r1", 1, 7789, After(0));
  // 0 -> 1 -> 0.
  EXPECT_EQ(a.engine.DiskOptions(a.Minor(0), After(1), false).ret, Ret::kErrResyncAfterCycle);
  // Itself.
  EXPECT_EQ(a.engine.DiskOptions(a.Minor(0), After(0), false).ret, Ret::kErrResyncAfterCycle);
  EXPECT_EQ(a.engine.DiskOptions(a.Minor(0), After(-2), false).ret, Ret::kErrResyncAfter);
  // A minor that does not exist may be depended on.
  EXPECT_EQ(a.engine.DiskOptions(a.Minor(0), After(7), false).ret, Ret::kNoError);
  EXPECT_EQ(a.engine.DeviceConfigOf(0)->opts.Int("resync-after"), 7);
  // Attach checks it too: minor 2 after 1 is fine, a minor of its own is not.
  ASSERT_EQ(a.NewResource("r2", 0), Ret::kNoError);
  ASSERT_EQ(a.NewMinor("r2", 2, 0), Ret::kNoError);
  ASSERT_TRUE(sim::MakeMetadata(world, "/a/r2", kSmallDisk));
  EXPECT_EQ(Attach(a, 2, "/a/r2", After(2)), Ret::kErrResyncAfterCycle);
  EXPECT_EQ(a.engine.DiskStateOf(2), DiskState::kDiskless);
  EXPECT_EQ(Attach(a, 2, "/a/r2", After(1)), Ret::kNoError);
}

}  // namespace
}  // namespace drbd::engine
