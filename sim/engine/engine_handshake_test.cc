// SPDX-License-Identifier: GPL-2.0-or-later
// Handshake recovery after crashes, over the deterministic world: the
// engine bugs fresh drbd-detsim seeds found (docs/design/detsim.md, Limits),
// reduced to the steps that matter. A SyncSource that crashed before it
// heard that its target finished resyncs its bits again
// (drbd_uuid_detect_finished_resyncs: sync-source-missed-finish) instead of
// letting the crashed-Primary rule turn it into the SyncTarget. (The
// handshake's receive timeout is covered by detsim seed 0x909f3c07535e8a8a
// in tests/sim/detsim_test.cc: a silently dead peer needs the simulator's
// per-node network cut.)
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::kSec;
using sim::Node;
using sim::Pattern;
using sim::World;

class HandshakeRecovery : public ::testing::Test {
 protected:
  HandshakeRecovery()
      : a(std::make_unique<Node>(world, "a")), b(std::make_unique<Node>(world, "b")) {}

  static sim::PairOptions Options() { return sim::FixedRatePairOptions(); }
  // The node dies: its host falls silent, its disk keeps what it wrote.
  void Crash(std::unique_ptr<Node>& n, const std::string& host, const std::string& disk,
             World::CrashMode mode = World::CrashMode::kKeep) {
    world.SetHostDown(host, true);
    world.CrashDisk(disk, mode);
    n.reset();
  }
  void Restart(std::unique_ptr<Node>& n, const std::string& host, const std::string& name,
               int node_id, bool connect) {
    world.SetHostDown(host, false);
    n = std::make_unique<Node>(world, name);
    ASSERT_EQ(sim::RejoinPair(*n, node_id, Options(), connect), "");
  }

  // a Primary writes 16 blocks while b is away; b comes back as a's
  // SyncTarget and a crashes during the superblock write that retires its
  // bitmap UUID toward b (the write after the last bit cleared): the
  // ResyncDone it sent still reaches b, which finishes and is UpToDate.
  void CrashTheSourceAsItsRunEnds() {
    ASSERT_EQ(sim::UpPair(world, *a, *b, Options()), "");
    ASSERT_EQ(a->engine.Primary(a->Res("r0"), false).ret, Ret::kSsSuccess);
    int err = 0;
    const uint64_t h = a->engine.OpenDevice(0, &err);
    ASSERT_NE(h, 0u) << err;
    ASSERT_EQ(b->engine.Disconnect(b->Peer("r0", 0), false).ret, Ret::kNoError);
    world.RunFor(kSec);
    for (uint64_t i = 0; i < 16; ++i) {
      ASSERT_EQ(sim::WriteAndRun(world, *a, h, i * 4096, Pattern(4096, static_cast<uint8_t>(i))),
                0);
    }
    ASSERT_GT(a->engine.OutOfSyncBlocks("r0", 1, 0).value(), 0u);
    ASSERT_EQ(b->Connect("r0", 0), Ret::kSsSuccess);
    const uint64_t md_start = a->engine.DeviceBytes(0).value();
    bool armed = false, crash_now = false;
    world.SetWriteHook("/a/disk", [&](uint64_t offset, uint64_t) {
      if (armed && offset >= md_start) crash_now = true;
    });
    for (int i = 0; i < 1000000 && !crash_now; ++i) {
      ASSERT_TRUE(world.Step());
      armed = armed || (a->engine.ReplStateOf("r0", 1, 0) == ReplState::kSyncSource &&
                        a->engine.OutOfSyncBlocks("r0", 1, 0).value() == 0);
    }
    ASSERT_TRUE(crash_now);
    world.SetWriteHook("/a/disk", {});
    Crash(a, "10.0.0.1", "/a/disk", World::CrashMode::kLoseUnflushed);
    for (int i = 0; i < 100 && b->engine.DiskStateOf(0) != DiskState::kUpToDate; ++i) {
      world.RunFor(kSec / 10);
    }
    ASSERT_EQ(b->engine.DiskStateOf(0), DiskState::kUpToDate);
  }

  World world;
  std::unique_ptr<Node> a;
  std::unique_ptr<Node> b;
};

// detsim seed 0xd739af86106e58e8: the Primary a crashed while its
// SyncTarget b received the last resync data; b finished and adopted a's
// current UUID, a kept its bitmap UUID toward b. Equal current UUIDs, a a
// crashed Primary, b with RECONNECT: without the missed-end rule a became
// SyncTarget, and writes a made later beside an Outdated b were dropped.
TEST_F(HandshakeRecovery, ASourceThatMissedTheEndOfItsResyncSyncsAgain) {
  ASSERT_NO_FATAL_FAILURE(CrashTheSourceAsItsRunEnds());
  world.RunFor(5 * kSec);  // b notices, loses its Primary
  Restart(a, "10.0.0.1", "a", 0, true);
  for (int i = 0; i < 30 && a->engine.ConnStateOf("r0", 1) != ConnState::kConnected; ++i) {
    world.RunFor(kSec);
  }
  ASSERT_EQ(a->engine.ConnStateOf("r0", 1), ConnState::kConnected);
  EXPECT_TRUE(a->sink.LogContains("Missed end of resync as sync-source"));
  EXPECT_TRUE(a->sink.LogContains("uuid_compare()=source-use-bitmap by rule=sync-source-missed-finish"));
  EXPECT_TRUE(b->sink.LogContains("uuid_compare()=target-use-bitmap by rule=sync-target-peer-missed-finish"));
}

// The same, but b, which finished the run, was promoted before a is back.
// The missed-end rule would make the Primary b the target of a again
// (9.2.18: "I shall become SyncTarget, but I am primary!" and StandAlone
// for good, as a still has bits toward b); b holds a's data as of the
// run's end and whatever it writes after, so it is the source over both
// sides' bits instead (detsim --nodes=2 --seed=0x5694d913deb212ca).
TEST_F(HandshakeRecovery, APrimaryThatFinishedTheRunIsTheSourceWhenThePeerMissedItsEnd) {
  ASSERT_NO_FATAL_FAILURE(CrashTheSourceAsItsRunEnds());
  for (int i = 0; i < 60 && b->engine.ConnStateOf("r0", 0) == ConnState::kConnected; ++i) {
    world.RunFor(kSec);
  }
  ASSERT_NE(b->engine.ConnStateOf("r0", 0), ConnState::kConnected);
  ASSERT_EQ(b->engine.Primary(b->Res("r0"), false).ret, Ret::kSsSuccess);
  Restart(a, "10.0.0.1", "a", 0, true);
  world.RunFor(30 * kSec);
  ASSERT_EQ(a->engine.ConnStateOf("r0", 1), ConnState::kConnected);
  EXPECT_TRUE(a->sink.LogContains("Missed end of resync as sync-source"));
  EXPECT_TRUE(b->sink.LogContains(
      "drbd r0/0 drbd0 a: the target of the unfinished resync is Primary now: it is the source"));
  EXPECT_FALSE(b->sink.LogContains("I shall become SyncTarget, but I am primary!"));
  EXPECT_EQ(a->engine.DiskStateOf(0), DiskState::kUpToDate);
  const auto bytes = world.DiskBytes("/a/disk");
  ASSERT_TRUE(bytes);
  for (uint64_t i = 0; i < 16; ++i) {
    const auto want = Pattern(4096, static_cast<uint8_t>(i));
    EXPECT_TRUE(std::equal(want.begin(), want.end(), bytes->begin() + static_cast<long>(i * 4096)))
        << "block " << i;
  }
}

// soak seed 0xa3720f70: a Primary whose peer came back wrote after its
// STATE had gone out and before the handshake was through. The write made
// a new current UUID (its first beside the absent peer), so the Primary
// decided bitmap-self (SyncSource, WFBitMapS) while the peer, holding the
// STATE with the old UUID, decided no-sync: the Primary waited for a bitmap
// for ever. As the kernel holds uuid_sem from sending its UUIDs until the
// connection is established, the write waits for the handshake and then
// goes to the peer like any other.
TEST_F(HandshakeRecovery, AWriteDuringTheHandshakeWaitsForIt) {
  ASSERT_EQ(sim::UpPair(world, *a, *b, Options()), "");
  ASSERT_EQ(a->engine.Primary(a->Res("r0"), false).ret, Ret::kSsSuccess);
  int err = 0;
  const uint64_t h = a->engine.OpenDevice(0, &err);
  ASSERT_NE(h, 0u) << err;
  ASSERT_EQ(sim::WriteAndRun(world, *a, h, 0, Pattern(4096, 1)), 0);
  ASSERT_EQ(b->engine.Disconnect(b->Peer("r0", 0), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  world.set_latency_ns(kSec / 200);  // 5 ms: the handshake takes several steps
  a->sink.Clear();
  ASSERT_EQ(b->Connect("r0", 0), Ret::kSsSuccess);
  for (int i = 0; i < 100000 && !a->sink.LogContains("Handshake to peer 1 successful"); ++i) {
    ASSERT_TRUE(world.Step());
  }
  ASSERT_TRUE(a->sink.LogContains("Handshake to peer 1 successful"));
  ASSERT_NE(a->engine.ConnStateOf("r0", 1), ConnState::kConnected);
  std::optional<int> done;
  a->engine.IoWrite(h, 8192, Pattern(4096, 2), false, [&](int e) { done = e; });
  world.RunFor(3 * kSec);
  ASSERT_EQ(done, std::optional<int>(0));
  EXPECT_EQ(a->engine.ConnStateOf("r0", 1), ConnState::kConnected);
  EXPECT_EQ(a->engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
  EXPECT_EQ(b->engine.ReplStateOf("r0", 0, 0), ReplState::kEstablished);
  EXPECT_EQ(b->engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(a->engine.OutOfSyncBlocks("r0", 1, 0).value(), 0u);
  EXPECT_FALSE(a->sink.LogContains("UUIDs changed during the handshake"));
  auto disk = world.DiskBytes("/b/disk");
  const std::vector<uint8_t> want = Pattern(4096, 2);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), disk->begin() + 8192));
}

}  // namespace
}  // namespace drbd::engine
