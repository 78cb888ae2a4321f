// SPDX-License-Identifier: GPL-2.0-or-later
// on-congestion over the deterministic world: a protocol A Primary whose
// writes outrun a slow link (100 ms each way) reaches congestion-fill, goes
// Ahead (its peer Behind), marks and announces further writes instead of
// sending them, and once the barrier acks drained what was in flight it
// resyncs just those blocks (Ahead -> SyncSource, Behind -> SyncTarget) and
// returns to Established with identical data. on-congestion disconnect
// drops the connection instead; block never leaves Established. Also the
// write epochs: a protocol A write is in flight (ap-in-flight) until its
// epoch's BARRIER_ACK, and marked out of sync if the connection goes first.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <variant>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::kSec;
using sim::Node;
using sim::World;

constexpr uint64_t kChunk = 32768;

class Congestion : public ::testing::Test {
 protected:
  Congestion() : a(world, "a"), b(world, "b") {}

  // Protocol A with `oc` as on-congestion and congestion-fill 128 sectors
  // (64 KiB); a Primary with a writer open; then the link slows down.
  void Up(const std::string& oc) {
    sim::PairOptions o;
    o.net.Set("protocol", int64_t{1});
    o.net.Set("on-congestion", oc == "pull-ahead" ? int64_t{1} : oc == "disconnect" ? 2 : 0);
    o.net.Set("congestion-fill", int64_t{128});
    ASSERT_EQ(sim::UpPair(world, a, b, o), "");
    h = sim::PrimaryWriter(a);
    ASSERT_NE(h, 0u);
    world.RunFor(kSec);
    world.set_latency_ns(100000000);  // 100 ms each way
    a.sink.Clear();
    b.sink.Clear();
  }

  // `n` 32 KiB writes from `first_chunk` on, issued together; runs the
  // world until all completed (protocol A: locally). Returns how many failed.
  int Burst(uint64_t first_chunk, int n, uint8_t seed) {
    int done = 0, failed = 0;
    for (int i = 0; i < n; ++i) {
      a.engine.IoWrite(h, (first_chunk + i) * kChunk,
                       sim::Pattern(kChunk, static_cast<uint8_t>(seed + i)), false, [&](int e) {
                         ++done;
                         failed += e != 0;
                       });
    }
    for (int i = 0; i < 100000 && done < n; ++i) {
      if (!world.Step()) break;
    }
    return done == n ? failed : -1;
  }

  bool SameData() {
    auto x = world.DiskBytes("/a/disk");
    auto y = world.DiskBytes("/b/disk");
    const size_t data = 16ull << 20;  // well inside the data area of both
    return x && y && std::equal(x->begin(), x->begin() + data, y->begin());
  }

  World world;
  Node a;
  Node b;
  uint64_t h = 0;
};

TEST_F(Congestion, PullAheadGoesAheadAndBehindThenResyncsWhatWasMarked) {
  Up("pull-ahead");
  ASSERT_EQ(Burst(0, 8, 1), 0);
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: Congestion-fill threshold reached (128 >= 128)"))
      << testing::PrintToString(a.sink.log);
  EXPECT_TRUE(a.sink.LogContains("repl( Established -> Ahead ) [congestion]"))
      << testing::PrintToString(a.sink.log);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kAhead);
  // More writes while Ahead: marked and announced, not sent.
  ASSERT_EQ(Burst(8, 8, 50), 0);
  world.RunFor(kSec / 2);
  EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kBehind);
  EXPECT_TRUE(b.sink.LogContains("repl( Established -> Behind ) [peer-state]"))
      << testing::PrintToString(b.sink.log);
  EXPECT_GE(a.engine.OutOfSyncBlocks("r0", 1, 0).value(), 8 * kChunk / 4096);
  EXPECT_GE(b.engine.OutOfSyncBlocks("r0", 0, 0).value(), 8 * kChunk / 4096);  // OUT_OF_SYNC
  auto has_line = [](const Node& n, const std::string& want) {
    for (const std::string& l : n.sink.Lines()) {
      if (l.find(want) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_line(a, "change peer-device name:r0 peer-node-id:1 conn-name:b volume:0 "
                          "replication:Ahead peer-disk:UpToDate"))
      << testing::PrintToString(a.sink.Lines());
  EXPECT_TRUE(has_line(b, "change peer-device name:r0 peer-node-id:0 conn-name:a volume:0 "
                          "replication:Behind peer-disk:UpToDate"));
  // In flight drained: a second later Ahead -> SyncSource, Behind -> SyncTarget.
  world.RunFor(5 * kSec);
  EXPECT_TRUE(a.sink.LogContains("pdsk( UpToDate -> Inconsistent ) repl( Ahead -> SyncSource ) "
                                 "[postponed-resync]"))
      << testing::PrintToString(a.sink.log);
  EXPECT_TRUE(b.sink.LogContains("disk( UpToDate -> Inconsistent ) [resync-after-behind]"))
      << testing::PrintToString(b.sink.log);
  EXPECT_TRUE(b.sink.LogContains("repl( Behind -> SyncTarget ) [postponed-resync]"));
  EXPECT_TRUE(a.sink.LogContains("Began resync as SyncSource"));
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
  EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kEstablished);
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0).value(), 0u);
  // Only the blocks written while Ahead (and what was in flight) resynced.
  EXPECT_LE(a.engine.ResyncBytesSent("r0", 1, 0).value(), 16 * kChunk);
  EXPECT_GE(a.engine.ResyncBytesSent("r0", 1, 0).value(), 8 * kChunk);
  EXPECT_EQ(a.engine.CurrentUuidOf(0).value() & ~1ull, b.engine.CurrentUuidOf(0).value() & ~1ull);
  EXPECT_TRUE(SameData());
}

TEST_F(Congestion, DisconnectDropsTheConnection) {
  Up("disconnect");
  ASSERT_EQ(Burst(0, 8, 1), 0);
  world.RunFor(kSec);
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: Congestion-fill threshold reached (128 >= 128)"));
  EXPECT_TRUE(a.sink.LogContains(
      "drbd r0 b: conn( Connected -> Disconnecting ) peer( Secondary -> Unknown ) [congestion]"))
      << testing::PrintToString(a.sink.log);
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kStandAlone);
  // Protocol A writes not barrier-acked when the connection went are
  // marked out of sync (the kernel's tl_clear).
  EXPECT_GE(a.engine.OutOfSyncBlocks("r0", 1, 0).value(), 1u);
}

TEST_F(Congestion, BlockKeepsReplicating) {
  Up("block");
  ASSERT_EQ(Burst(0, 8, 1), 0);
  world.RunFor(kSec);
  EXPECT_FALSE(a.sink.LogContains("Congestion-fill threshold reached"));
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0).value(), 0u);
  EXPECT_TRUE(SameData());
}

TEST_F(Congestion, WritesSpacedOutStayBelowTheFill) {
  Up("pull-ahead");
  // One 32 KiB write at a time, each epoch acked before the next: never
  // 128 sectors in flight.
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(Burst(static_cast<uint64_t>(i), 1, static_cast<uint8_t>(i)), 0);
    world.RunFor(kSec / 2);
  }
  EXPECT_FALSE(a.sink.LogContains("Congestion-fill threshold reached"));
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
  EXPECT_TRUE(SameData());
}

// ap-in-flight of a's connection to b, sectors (connection statistics).
uint64_t ApInFlight(Node& n) {
  for (const events::Notification& note : n.engine.InitialState("r0")) {
    if (const auto* c = std::get_if<events::Connection>(&note.object); c && c->stats) {
      return c->stats->ap_in_flight.value_or(0);
    }
  }
  return ~uint64_t{0};
}

TEST_F(Congestion, ProtocolAWritesAreInFlightUntilTheBarrierAck) {
  Up("block");
  std::optional<int> got;
  a.engine.IoWrite(h, 0, sim::Pattern(kChunk, 1), false, [&](int e) { got = e; });
  world.RunFor(kSec / 20);  // 50 ms: completed locally, the ack not back
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, 0);
  EXPECT_EQ(ApInFlight(a), kChunk / 512);
  world.RunFor(kSec / 4);  // BARRIER there, BARRIER_ACK back
  EXPECT_EQ(ApInFlight(a), 0u);
}

TEST_F(Congestion, LostProtocolAWritesAreMarkedOutOfSync) {
  Up("block");
  std::optional<int> got;
  a.engine.IoWrite(h, 3 * kChunk, sim::Pattern(kChunk, 1), false, [&](int e) { got = e; });
  world.RunFor(kSec / 20);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(a.engine.Disconnect(a.Peer("r0", 1), true).ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0).value(), kChunk / 4096);
}

TEST_F(Congestion, PullAheadNeedsProtocolA) {
  Node c(world, "c");
  OptionSet net(cfg::OptContext::kNewPeer);
  net.Set("on-congestion", int64_t{1});  // protocol C (default)
  ASSERT_EQ(c.engine.NewResource(c.Res("r0"), 0, OptionSet(cfg::OptContext::kResourceOptions)).ret,
            Ret::kNoError);
  EXPECT_EQ(c.NewPeer("r0", 1, "b", net), Ret::kErrCongNotProtoA);
}

}  // namespace
}  // namespace drbd::engine
