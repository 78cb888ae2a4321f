// SPDX-License-Identifier: GPL-2.0-or-later
// The receiver's pauses over the deterministic world (engine_congestion.cc).
// max-buffers: a Secondary whose disk is slow waits 100 ms before a peer
// write that finds max-buffers pages in use, so at most that many 4 KiB
// pages are written at once and a protocol C Primary's writes slow down,
// without loss. Write ordering: under flush the receiver reads the next
// epoch only once the previous one is flushed (receive_Barrier waits), under
// none it reads on; a BARRIER_ACK means the epoch survives a crash of the
// peer's disk that loses every unflushed write.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::kSec;
using sim::Node;
using sim::World;

constexpr uint64_t kBlock = 4096;
constexpr uint64_t kRegionA = 1ull << 20;  // first epoch's writes
constexpr uint64_t kRegionB = 2ull << 20;  // second epoch's writes

class Receiver : public ::testing::Test {
 protected:
  Receiver() : a(world, "a"), b(world, "b") {}

  void Up(sim::PairOptions o) {
    ASSERT_EQ(sim::UpPair(world, a, b, o), "");
    h = sim::PrimaryWriter(a);
    ASSERT_NE(h, 0u);
    world.RunFor(kSec);
  }

  // `n` 4 KiB writes at `base` issued together; with `run`, runs the world
  // until all completed and returns how many failed (-1: not all done).
  int Burst(uint64_t base, int n, uint8_t seed, bool run = true) {
    for (int i = 0; i < n; ++i) {
      a.engine.IoWrite(h, base + static_cast<uint64_t>(i) * kBlock,
                       sim::Pattern(kBlock, static_cast<uint8_t>(seed + i)), false, [this](int e) {
                         ++done_;
                         failed_ += e != 0;
                       });
    }
    if (!run) return 0;
    const int want = done_ + n;
    for (int i = 0; i < 1000000 && done_ < want; ++i) {
      if (!world.Step()) break;
    }
    return done_ >= want ? failed_ : -1;
  }

  bool SameData(uint64_t from, uint64_t len) {
    auto x = world.DiskBytes("/a/disk");
    auto y = world.DiskBytes("/b/disk");
    return x && y &&
           std::equal(x->begin() + static_cast<long>(from), x->begin() + static_cast<long>(from + len),
                      y->begin() + static_cast<long>(from));
  }

  // ap-in-flight of a's connection to b, sectors.
  uint64_t ApInFlight() {
    for (const events::Notification& note : a.engine.InitialState("r0")) {
      if (const auto* c = std::get_if<events::Connection>(&note.object); c && c->stats) {
        return c->stats->ap_in_flight.value_or(0);
      }
    }
    return ~uint64_t{0};
  }

  World world;
  Node a;
  Node b;
  uint64_t h = 0;
  int done_ = 0;
  int failed_ = 0;
};

// The most writes of b's data area in flight at once, for a disk whose
// writes take `latency` (each counted from when its bytes landed).
uint64_t PeakInFlight(const std::vector<uint64_t>& landed, uint64_t latency) {
  uint64_t peak = 0;
  for (size_t i = 0; i < landed.size(); ++i) {
    uint64_t n = 0;
    for (size_t j = 0; j <= i; ++j) n += landed[j] + latency > landed[i];
    peak = std::max(peak, n);
  }
  return peak;
}

struct BuffersRun {
  uint64_t peak = 0;
  uint64_t elapsed_ns = 0;
  int failed = -1;
  bool same = false;
};

BuffersRun RunWithMaxBuffers(int64_t max_buffers) {
  World world;
  Node a(world, "a");
  Node b(world, "b");
  sim::PairOptions o;
  o.net.Set("max-buffers", max_buffers);
  BuffersRun out;
  if (sim::UpPair(world, a, b, o) != "") return out;
  const uint64_t h = sim::PrimaryWriter(a);
  if (h == 0) return out;
  world.RunFor(kSec);
  constexpr uint64_t kLatency = kSec / 20;  // 50 ms per write
  world.SetDiskWriteLatency("/b/disk", kLatency);
  std::vector<uint64_t> landed;
  world.SetWriteHook("/b/disk", [&](uint64_t offset, uint64_t) {
    if (offset >= kRegionA && offset < kRegionB) landed.push_back(world.now_ns());
  });
  const uint64_t start = world.now_ns();
  int done = 0, failed = 0;
  constexpr int kWrites = 128;
  for (int i = 0; i < kWrites; ++i) {
    a.engine.IoWrite(h, kRegionA + static_cast<uint64_t>(i) * kBlock,
                     sim::Pattern(kBlock, static_cast<uint8_t>(i)), false, [&](int e) {
                       ++done;
                       failed += e != 0;
                     });
  }
  for (int i = 0; i < 1000000 && done < kWrites; ++i) {
    if (!world.Step()) break;
  }
  out.elapsed_ns = world.now_ns() - start;
  out.failed = done == kWrites ? failed : -1;
  out.peak = PeakInFlight(landed, kLatency);
  world.SetWriteHook("/b/disk", {});
  auto x = world.DiskBytes("/a/disk");
  auto y = world.DiskBytes("/b/disk");
  out.same = std::equal(x->begin() + static_cast<long>(kRegionA),
                        x->begin() + static_cast<long>(kRegionA + kWrites * kBlock),
                        y->begin() + static_cast<long>(kRegionA));
  return out;
}

TEST(ReceiverBuffers, ASlowPeerDiskKeepsAtMostMaxBuffersPagesInFlight) {
  const BuffersRun run = RunWithMaxBuffers(32);
  EXPECT_EQ(run.failed, 0);
  EXPECT_TRUE(run.same);
  EXPECT_LE(run.peak, 32u);
  EXPECT_GE(run.peak, 30u);
  // 128 writes in batches of 32: three 100 ms waits of the receiver, and
  // protocol C waits for each.
  EXPECT_GE(run.elapsed_ns, 3 * kSec / 10);
}

TEST(ReceiverBuffers, ALargePoolTakesEveryWriteAtOnce) {
  const BuffersRun run = RunWithMaxBuffers(1000);
  EXPECT_EQ(run.failed, 0);
  EXPECT_TRUE(run.same);
  EXPECT_EQ(run.peak, 128u);
  EXPECT_LT(run.elapsed_ns, kSec / 10);
}

// Two epochs back to back toward a peer whose writes take 20 ms; for each
// write of the second epoch, how many writes of b's disk were unflushed
// beside the second epoch's own.
std::vector<size_t> SecondEpochSeesUnflushed(World& world, Node& b,
                                             const std::function<int(uint64_t, int, uint8_t, bool)>&
                                                 burst) {
  world.SetDiskWriteLatency("/b/disk", kSec / 50);
  std::vector<size_t> others;
  size_t second = 0;
  world.SetWriteHook("/b/disk", [&](uint64_t offset, uint64_t) {
    if (offset < kRegionB || offset >= kRegionB + (1ull << 20)) return;
    ++second;
    others.push_back(world.UnflushedWrites("/b/disk") - second);
  });
  burst(kRegionA, 8, 1, false);
  world.RunFor(kSec / 1000);  // the first epoch's BARRIER is out
  EXPECT_EQ(burst(kRegionB, 8, 50, true), 0);
  world.RunFor(kSec);
  world.SetWriteHook("/b/disk", {});
  (void)b;
  return others;
}

TEST_F(Receiver, UnderFlushTheNextEpochIsWrittenOnlyOnceTheLastIsDurable) {
  sim::PairOptions o;
  o.net.Set("protocol", int64_t{1});
  Up(o);
  std::vector<size_t> others = SecondEpochSeesUnflushed(
      world, b, [this](uint64_t base, int n, uint8_t seed, bool run) {
        return Burst(base, n, seed, run);
      });
  ASSERT_EQ(others.size(), 8u);
  for (size_t n : others) EXPECT_EQ(n, 0u) << testing::PrintToString(others);
  EXPECT_TRUE(SameData(kRegionA, 1ull << 20));
  EXPECT_TRUE(SameData(kRegionB, 1ull << 20));
}

TEST_F(Receiver, UnderNoneTheReceiverReadsOn) {
  sim::PairOptions o;
  o.net.Set("protocol", int64_t{1});
  Up(o);
  OptionSet disk(cfg::OptContext::kDiskOptions);
  disk.Set("disk-flushes", false);
  disk.Set("disk-drain", false);
  ASSERT_EQ(b.engine.DiskOptions(b.Minor(0), disk, false).ret, Ret::kNoError);
  std::vector<size_t> others = SecondEpochSeesUnflushed(
      world, b, [this](uint64_t base, int n, uint8_t seed, bool run) {
        return Burst(base, n, seed, run);
      });
  ASSERT_EQ(others.size(), 8u);
  EXPECT_GE(others.front(), 8u) << testing::PrintToString(others);  // epoch 1 not flushed
  EXPECT_TRUE(SameData(kRegionA, 1ull << 20));
  EXPECT_TRUE(SameData(kRegionB, 1ull << 20));
}

TEST_F(Receiver, ABarrierAckedEpochSurvivesACrashThatLosesUnflushedWrites) {
  sim::PairOptions o;
  o.net.Set("protocol", int64_t{1});
  Up(o);
  world.SetDiskWriteLatency("/b/disk", kSec / 100);
  for (int round = 0; round < 4; ++round) {
    ASSERT_EQ(Burst(kRegionA + static_cast<uint64_t>(round) * 64 * kBlock, 16,
                    static_cast<uint8_t>(round * 16)),
              0);
    world.RunFor(kSec / 1000);
  }
  // Every epoch barrier-acked, and not a moment longer.
  for (int i = 0; i < 1000000 && ApInFlight() != 0; ++i) {
    if (!world.Step()) break;
  }
  ASSERT_EQ(ApInFlight(), 0u);
  world.CrashDisk("/b/disk", World::CrashMode::kLoseUnflushed);
  EXPECT_TRUE(SameData(kRegionA, 4 * 64 * kBlock));
}

}  // namespace
}  // namespace drbd::engine
