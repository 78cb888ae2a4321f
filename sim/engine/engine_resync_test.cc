// SPDX-License-Identifier: GPL-2.0-or-later
// Resync over the deterministic world: a peer that missed writes gets only
// the marked blocks back on reconnect (bitmap-based sync, counted), the
// initial full sync after `primary --force` and the one invalidate-remote
// asks for make the backing data equal, the fixed resync-rate throttles,
// and an application write during a resync is not overwritten by older
// resync data.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::Ip4;
using sim::kDiskBytes;
using sim::kSec;
using sim::Node;
using sim::Pattern;
using sim::World;

class Resync : public ::testing::Test {
 protected:
  Resync() : a(world, "a"), b(world, "b") {}

  // r0 on a (node 0) and b (node 1), both attached and connected with
  // `rate_kib` as fixed resync-rate (c-plan-ahead 0). `skip_initial`: new-current-uuid
  // --clear-bitmap, so both start UpToDate; otherwise both Inconsistent.
  void Up(bool skip_initial, int64_t rate_kib) {
    sim::PairOptions o;
    o.peer_device.Set("resync-rate", rate_kib);
    o.peer_device.Set("c-plan-ahead", int64_t{0});  // the fixed rate
    o.set_peer_device = true;
    o.skip_initial_sync = skip_initial;
    ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  }
  int Write(Node& n, uint64_t h, uint64_t off, std::vector<uint8_t> data) {
    return sim::WriteAndRun(world, n, h, off, std::move(data));
  }

  // The data areas (what DRBD replicates) of both backing files are equal.
  bool DataEqual() {
    uint64_t size = a.engine.DeviceBytes(0).value();
    auto x = world.DiskBytes("/a/disk"), y = world.DiskBytes("/b/disk");
    return std::equal(x->begin(), x->begin() + static_cast<ptrdiff_t>(size), y->begin());
  }
  std::vector<uint8_t> Backing(const std::string& path, uint64_t off, size_t len) {
    auto bytes = world.DiskBytes(path);
    return std::vector<uint8_t>(bytes->begin() + static_cast<ptrdiff_t>(off),
                                bytes->begin() + static_cast<ptrdiff_t>(off + len));
  }
  void ExpectInSync() {
    EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
    EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kEstablished);
    EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kUpToDate);
    EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
    EXPECT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kUpToDate);
    EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), 0u);
    EXPECT_EQ(a.engine.CurrentUuidOf(0).value() & ~1ull, b.engine.CurrentUuidOf(0).value() & ~1ull);
  }

  World world;
  Node a;
  Node b;
};

TEST_F(Resync, ReconnectSendsOnlyTheBlocksWrittenWhileAway) {
  Up(true, 250);
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  int err = 0;
  uint64_t h = a.engine.OpenDevice(0, &err);
  ASSERT_NE(h, 0u);
  uint64_t written = 0;
  for (auto [off, len] : std::vector<std::pair<uint64_t, size_t>>{
           {0, 12288}, {1 << 20, 8192}, {4 << 20, 65536}, {20 << 20, 4096}}) {
    ASSERT_EQ(Write(a, h, off, Pattern(len, static_cast<uint8_t>(off >> 12))), 0);
    written += len;
  }
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), written / 4096);
  EXPECT_FALSE(DataEqual());
  a.sink.Clear();
  b.sink.Clear();
  ASSERT_EQ(b.Connect("r0", 0), Ret::kSsSuccess);
  world.RunFor(5 * kSec);
  EXPECT_TRUE(a.sink.LogContains("uuid_compare()=source-use-bitmap by rule=bitmap-self"));
  EXPECT_TRUE(a.sink.LogContains(
      "drbd r0/0 drbd0 b: Began resync as SyncSource (will sync 88 KB [22 bits set])."));
  ExpectInSync();
  // The transitions and tags of 03-disconnect-resync/dmesg-drbd.txt.
  EXPECT_TRUE(a.sink.LogContains(
      "drbd r0/0 drbd0 b: pdsk( Inconsistent -> UpToDate ) repl( SyncSource -> Established ) "
      "[resync-finished]"));
  EXPECT_TRUE(
      b.sink.LogContains("drbd r0/0 drbd0: disk( Inconsistent -> UpToDate ) [resync-finished]"));
  EXPECT_TRUE(
      b.sink.LogContains("drbd r0/0 drbd0 a: Resync done (total 1 sec; paused 0 sec; 88 K/sec)"));
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0), written);
  EXPECT_LE(static_cast<double>(*a.engine.ResyncBytesSent("r0", 1, 0)), 1.05 * written);
  EXPECT_TRUE(DataEqual());

  // Connected again with equal UUIDs: no sync, nothing more sent.
  ASSERT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  ASSERT_EQ(b.Connect("r0", 0), Ret::kSsSuccess);
  world.RunFor(2 * kSec);
  ExpectInSync();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0), written);
}

TEST_F(Resync, ForcedPrimaryFullSyncMakesThePeerEqual) {
  Up(false, 1 << 20);  // 1 GiB/s: as fast as the world moves
  auto x = world.DiskBytes("/a/disk");
  std::vector<uint8_t> mark = Pattern(8192, 77);
  std::copy(mark.begin(), mark.end(), x->begin() + (3 << 20));  // data from before DRBD
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  world.RunFor(5 * kSec);
  ExpectInSync();
  uint64_t size = a.engine.DeviceBytes(0).value();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0), size);
  EXPECT_TRUE(DataEqual());
  EXPECT_EQ(Backing("/b/disk", 3 << 20, mark.size()), mark);
  EXPECT_TRUE(b.sink.LogContains("drbd r0/0 drbd0 a: repl( SyncTarget -> Established ) "));
}

// The statistics objects of `n`'s initial state (the last of each kind).
template <typename T>
std::optional<T> Find(Node& n) {
  std::optional<T> out;
  for (const events::Notification& note : n.engine.InitialState()) {
    if (auto* o = std::get_if<T>(&note.object)) out = *o;
  }
  return out;
}

TEST_F(Resync, ResyncIsReadOnTheSourceAndWrittenOnTheTarget) {
  Up(false, 1000);  // KiB/s
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  // Mid-run: resync data is on the wire (within a rate turn of now), no
  // application data.
  const uint64_t t0 = world.now_ns();
  auto cs = Find<events::Connection>(a).value().stats.value();
  for (int i = 0; i < 100000 && cs.rs_in_flight.value_or(0) == 0 && world.Step(); ++i) {
    cs = Find<events::Connection>(a).value().stats.value();
  }
  EXPECT_LT(world.now_ns(), t0 + kSec / 10);  // one rate turn
  EXPECT_EQ(cs.ap_in_flight, 0u);
  EXPECT_GT(cs.rs_in_flight.value(), 0u);
  EXPECT_LE(cs.rs_in_flight.value(), a.engine.ResyncBytesSent("r0", 1, 0).value() / 512);
  OptionSet fast(cfg::OptContext::kPeerDeviceOptions);
  fast.Set("resync-rate", int64_t{1} << 20);
  ASSERT_EQ(a.engine.PeerDeviceOptions(a.PeerVol("r0", 1, 0), fast, false).ret, Ret::kNoError);
  world.RunFor(10 * kSec);
  ExpectInSync();
  const uint64_t sectors = a.engine.DeviceBytes(0).value() / 512;
  auto sa = Find<events::Device>(a).value().stats.value();
  auto sb = Find<events::Device>(b).value().stats.value();
  EXPECT_EQ(sa.read, sectors);
  EXPECT_EQ(sa.written, 0u);
  EXPECT_EQ(sb.written, sectors);
  EXPECT_EQ(sb.read, 0u);
  EXPECT_EQ(sa.size, sectors);
  EXPECT_EQ(sb.lower_pending, 0u);
  EXPECT_EQ(Find<events::Connection>(a).value().stats.value().rs_in_flight, 0u);
}

TEST_F(Resync, ResyncRateThrottlesTheFullSync) {
  Up(false, 1000);  // KiB/s
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  world.RunFor(2 * kSec);
  uint64_t sent = a.engine.ResyncBytesSent("r0", 1, 0).value();
  EXPECT_GE(sent, 1800u * 1024);
  EXPECT_LE(sent, 2200u * 1024);
  EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kSyncTarget);
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kInconsistent);
  // The statistics status and events2 print (out-of-sync, done).
  std::optional<events::PeerDeviceStatistics> st;
  for (const events::Notification& n : a.engine.InitialState("r0")) {
    if (auto* p = std::get_if<events::PeerDevice>(&n.object)) st = p->stats;
  }
  ASSERT_TRUE(st);
  uint64_t size = a.engine.DeviceBytes(0).value();
  EXPECT_EQ(st->rs_total, size / 512);
  EXPECT_EQ(st->sent, sent / 512);
  EXPECT_EQ(st->out_of_sync, a.engine.OutOfSyncBlocks("r0", 1, 0).value() * 8);
  EXPECT_GT(st->out_of_sync, 0u);
  EXPECT_LT(st->out_of_sync, size / 512);
  // The run started when the bitmap exchange's round trip (world latency)
  // ended, just after the promotion.
  EXPECT_EQ(st->rs_dt_start_ms, 1999u);
  // The target knows the run too (RESYNC_START) and counts what arrived.
  EXPECT_TRUE(b.sink.LogContains("drbd r0/0 drbd0 a: Began resync as SyncTarget (will sync " +
                                 std::to_string(size / 1024) + " KB [" +
                                 std::to_string(size / 4096) + " bits set])."));
  std::optional<events::PeerDeviceStatistics> tst;
  for (const events::Notification& n : b.engine.InitialState("r0")) {
    if (auto* p = std::get_if<events::PeerDevice>(&n.object)) tst = p->stats;
  }
  ASSERT_TRUE(tst);
  EXPECT_EQ(tst->rs_total, size / 512);
  EXPECT_GT(tst->received, 0u);
  EXPECT_LE(tst->received, sent / 512);  // some blocks are still on the wire
  EXPECT_EQ(tst->out_of_sync, size / 512 - tst->received);
}

TEST_F(Resync, InvalidateRemoteResyncsEverything) {
  Up(true, 1 << 20);
  auto y = world.DiskBytes("/b/disk");
  std::fill(y->begin() + 4096, y->begin() + 8192, 0xee);  // damage behind DRBD's back
  ASSERT_FALSE(DataEqual());
  ASSERT_EQ(a.engine.InvalidateRemote(a.PeerVol("r0", 1, 0)).ret, Ret::kSsSuccess);
  world.RunFor(5 * kSec);
  ExpectInSync();
  EXPECT_TRUE(DataEqual());
}

TEST_F(Resync, WritesDuringResyncSurvive) {
  Up(false, 4000);  // 32 MiB take about 8 s
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncSource);
  int err = 0;
  uint64_t h = a.engine.OpenDevice(0, &err);
  ASSERT_NE(h, 0u);
  // Behind the resync cursor, ahead of it, and a partial block ahead.
  auto behind = Pattern(8192, 1), ahead = Pattern(16384, 2), partial = Pattern(512, 3);
  ASSERT_EQ(Write(a, h, 4096, behind), 0);
  ASSERT_EQ(Write(a, h, 24 << 20, ahead), 0);
  ASSERT_EQ(Write(a, h, (28 << 20) + 1024, partial), 0);
  // Writes racing the resync reads near the cursor.
  uint64_t sent = a.engine.ResyncBytesSent("r0", 1, 0).value();
  std::vector<uint8_t> racing = Pattern(4096, 4);
  for (int i = 0; i < 8; ++i) {
    a.engine.IoWrite(h, sent + 4096 * i, racing, false, [](int e) { EXPECT_EQ(e, 0); });
    world.RunFor(1000000);
  }
  world.RunFor(15 * kSec);
  ExpectInSync();
  EXPECT_TRUE(DataEqual());
  EXPECT_EQ(Backing("/b/disk", 4096, behind.size()), behind);
  EXPECT_EQ(Backing("/b/disk", 24 << 20, ahead.size()), ahead);
  EXPECT_EQ(Backing("/b/disk", (28 << 20) + 1024, partial.size()), partial);
  // Fully written blocks were not sent again by the resync.
  EXPECT_LT(a.engine.ResyncBytesSent("r0", 1, 0).value(), a.engine.DeviceBytes(0).value());
}

// detsim seed 0x274c22c550f62df7: on a Primary SyncTarget, resync data the
// source read before an application write reached it arrived after that
// write and overwrote it. The target refuses such data; the source sends
// the block again, read after the write.
TEST_F(Resync, PrimarySyncTargetWriteIsNotOverwrittenByOlderResyncData) {
  Up(true, 20000);  // 32 MiB take about 1.6 s
  ASSERT_EQ(a.engine.Invalidate(a.Minor(0)).ret, Ret::kSsSuccess);
  world.RunFor(20000000);
  ASSERT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncTarget);
  world.set_latency_ns(50000000);  // 50 ms each way: resync data on the wire
  world.RunFor(120000000);
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  int err = 0;
  uint64_t h = a.engine.OpenDevice(0, &err);
  ASSERT_NE(h, 0u);
  // Each write lands on blocks the source has just read and sent; the
  // last data written to each block is what it must hold.
  std::map<uint64_t, std::vector<uint8_t>> expect;  // by 4 KiB block
  uint64_t last = b.engine.ResyncBytesSent("r0", 0, 0).value();
  for (int i = 0; i < 8; ++i) {
    // Right after the source sent a new batch.
    for (int t = 0; t < 300 && b.engine.ResyncBytesSent("r0", 0, 0).value() == last; ++t) {
      world.RunFor(1000000);
    }
    uint64_t sent = b.engine.ResyncBytesSent("r0", 0, 0).value();
    ASSERT_GT(sent, last);
    ASSERT_LT(sent, a.engine.DeviceBytes(0).value());
    last = sent;
    uint64_t off = (sent / 4096 - 2) * 4096;
    std::vector<uint8_t> data = Pattern(8192, static_cast<uint8_t>(i + 10));
    expect[off / 4096].assign(data.begin(), data.begin() + 4096);
    expect[off / 4096 + 1].assign(data.begin() + 4096, data.end());
    a.engine.IoWrite(h, off, std::move(data), true, [](int e) { EXPECT_EQ(e, 0); });
  }
  world.RunFor(15 * kSec);
  ExpectInSync();
  EXPECT_TRUE(DataEqual());
  for (const auto& [block, data] : expect) {
    EXPECT_EQ(Backing("/a/disk", block * 4096, data.size()), data) << "block " << block;
  }
}

}  // namespace
}  // namespace drbd::engine
