// SPDX-License-Identifier: GPL-2.0-or-later
// The resync controller: its arithmetic turn by turn (fixed rate, the
// dynamic controller's start, c-max-rate bound, fill target, early turns,
// the c-min-rate throttle), then whole runs over the deterministic world:
// the dynamic controller converges toward c-max-rate on an idle link,
// c-min-rate slows the resync while the application writes, c-plan-ahead 0
// keeps the fixed resync-rate.
#include "sim/engine/resync_controller.h"

#include <gtest/gtest.h>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

constexpr uint64_t kMs = 1000000;

ResyncConf Defaults() { return ResyncConf::From(OptionSet(cfg::OptContext::kPeerDeviceOptions)); }

TEST(ResyncConf, DefaultsComeFromTheOptionTable) {
  ResyncConf c = Defaults();
  EXPECT_EQ(c.resync_rate_kib, 250u);
  EXPECT_EQ(c.plan_ahead, 20u);
  EXPECT_EQ(c.fill_target_sect, 100u);
  EXPECT_EQ(c.delay_target, 10u);
  EXPECT_EQ(c.max_rate_kib, 102400u);
  EXPECT_EQ(c.min_rate_kib, 250u);
}

TEST(ResyncController, FixedRateTurnIsATenthOfResyncRate) {
  ResyncConf c = Defaults();
  c.plan_ahead = 0;
  c.resync_rate_kib = 1000;
  ResyncController rc;
  rc.Reset(c, 0, 1000, 0);
  EXPECT_FALSE(rc.dynamic());
  EXPECT_EQ(rc.Turn(100 * kMs), 25u * 8);  // 25 blocks of 4 KiB
  EXPECT_EQ(rc.sync_rate_kib(), 1000u);
  EXPECT_EQ(rc.EarlyTurn(101 * kMs), std::nullopt);
}

TEST(ResyncController, DynamicStartPlansResyncRateOverTheHorizon) {
  ResyncController rc;
  rc.Reset(Defaults(), 0, 1000, 0);
  // want = 250 KiB/s * 2 / 10 * 20 steps = 1000 sectors; a twentieth now,
  // rounded down to whole 4 KiB blocks.
  EXPECT_EQ(rc.Turn(0), 48u);
  rc.Requested(48);
  // The next turn: the planned share again, plus what came back.
  rc.CameIn(48);
  uint64_t second = rc.Turn(100 * kMs);
  EXPECT_GE(second, 48u);
}

TEST(ResyncController, TurnNeverExceedsCMaxRate) {
  ResyncConf c = Defaults();
  c.max_rate_kib = 1000;  // 200 sectors per 100 ms
  ResyncController rc;
  rc.Reset(c, 0, 100000, 0);
  uint64_t now = 0;
  for (int i = 0; i < 50; ++i) {
    uint64_t s = rc.Turn(now);
    EXPECT_LE(s, 200u) << "turn " << i;
    rc.Requested(s);
    rc.CameIn(s);  // every reply back within a millisecond
    now += kMs;
  }
}

TEST(ResyncController, FillTargetIsWhatStaysInFlight) {
  // A link whose replies take three turns: the controller settles where
  // c-fill-target sectors are in flight.
  ResyncController rc;
  rc.Reset(Defaults(), 0, 1000000, 0);
  std::vector<uint64_t> wire;  // requests per turn, oldest first
  uint64_t now = 0;
  for (int i = 0; i < 400; ++i) {
    if (wire.size() == 3) {
      rc.CameIn(wire.front());
      wire.erase(wire.begin());
    }
    uint64_t s = rc.Turn(now);
    rc.Requested(s);
    wire.push_back(s);
    now += 100 * kMs;
    // Requests are whole 4 KiB blocks: within four blocks of the target.
    if (i >= 300) {
      EXPECT_GE(rc.in_flight(), 100 - 32) << "turn " << i;
      EXPECT_LE(rc.in_flight(), 100 + 32) << "turn " << i;
    }
  }
}

TEST(ResyncController, EarlyTurnWhenEverythingCameBackFast) {
  ResyncController rc;
  rc.Reset(Defaults(), 0, 1000000, 0);
  uint64_t s = rc.Turn(0);
  rc.Requested(s);
  EXPECT_EQ(rc.EarlyTurn(kMs), std::nullopt);  // nothing back yet
  rc.CameIn(s - 8);
  EXPECT_EQ(rc.EarlyTurn(kMs), std::nullopt);  // not all of it
  rc.CameIn(8);
  EXPECT_EQ(rc.EarlyTurn(kMs), 0u);  // far below c-max-rate: at once

  // Near c-max-rate the next turn waits for the pace of 1 MiB requests.
  ResyncConf c = Defaults();
  c.max_rate_kib = 20480;  // 20 MiB/s: 1 MiB every 50 ms
  rc.Reset(c, 0, 1000000, 0);
  rc.Requested(2048);  // 1 MiB: not clearly too little
  rc.CameIn(2048);
  EXPECT_EQ(rc.EarlyTurn(10 * kMs), 40 * kMs);
  EXPECT_EQ(rc.EarlyTurn(60 * kMs), 0u);
  c.max_rate_kib = 10240;  // 10 MiB/s: the regular turn comes first
  rc.SetConf(c);
  EXPECT_EQ(rc.EarlyTurn(10 * kMs), std::nullopt);
}

TEST(ResyncController, MinRateThrottlesOnlyBusyFastResyncs) {
  ResyncController rc;
  rc.Reset(Defaults(), 0, 10000, 0);  // c-min-rate 250 KiB/s
  // 1 s in, 500 blocks done (2000 KiB/s).
  rc.Mark(sim::kSec, 9500);
  EXPECT_FALSE(rc.Throttle(sim::kSec, 0, false, 9500));   // idle device
  EXPECT_FALSE(rc.Throttle(sim::kSec, 64, false, 9500));  // 64 sectors: still idle
  EXPECT_TRUE(rc.Throttle(sim::kSec, 65, false, 9500));   // application I/O
  EXPECT_FALSE(rc.Throttle(sim::kSec, 65, false, 9500));  // nothing new since
  EXPECT_TRUE(rc.Throttle(sim::kSec, 65, true, 9500));    // requests pending
  // Slower than c-min-rate: 50 blocks in 1 s = 200 KiB/s.
  EXPECT_FALSE(rc.Throttle(sim::kSec, 0, true, 9950));
  // No progress at all: never throttled.
  EXPECT_FALSE(rc.Throttle(sim::kSec, 0, true, 10000));
  // c-min-rate 0 turns the throttle off.
  ResyncConf c = Defaults();
  c.min_rate_kib = 0;
  rc.Reset(c, 0, 10000, 0);
  EXPECT_FALSE(rc.Throttle(sim::kSec, 1000, true, 1000));
}

// Whole runs in the world: r0 on a and b, both Inconsistent, then `primary
// --force` on a: a full sync of the 32 MiB disk.
class ResyncRate : public ::testing::Test {
 protected:
  ResyncRate() : a(world, "a"), b(world, "b") {}

  void Up(const OptionSet& pd) {
    sim::PairOptions o;
    o.peer_device = pd;
    o.set_peer_device = true;
    o.skip_initial_sync = false;
    ASSERT_EQ(sim::UpPair(world, a, b, o), "");
    ASSERT_EQ(a.engine.Primary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  }
  uint64_t Sent() { return a.engine.ResyncBytesSent("r0", 1, 0).value(); }

  sim::World world;
  sim::Node a;
  sim::Node b;
};

OptionSet Pd(std::initializer_list<std::pair<const char*, int64_t>> kv) {
  OptionSet o(cfg::OptContext::kPeerDeviceOptions);
  for (auto [k, v] : kv) o.Set(k, v);
  return o;
}

TEST_F(ResyncRate, DynamicControllerConvergesToCMaxRate) {
  Up(Pd({{"c-max-rate", 4096}}));  // 4 MiB/s; resync-rate stays 250 KiB/s
  world.RunFor(2 * sim::kSec);
  uint64_t at2 = Sent();
  world.RunFor(2 * sim::kSec);
  const double rate = static_cast<double>(Sent() - at2) / 2.0;  // bytes/s
  EXPECT_GE(rate, 0.9 * 4096 * 1024);
  EXPECT_LE(rate, 1.1 * 4096 * 1024);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncSource);
}

TEST_F(ResyncRate, DefaultsSyncThirtyTwoMibInAboutASecond) {
  Up(Pd({}));  // c-plan-ahead 20, c-max-rate 100 MiB/s
  world.RunFor(100 * kMs);
  const uint64_t at100 = Sent();
  world.RunFor(150 * kMs);
  // Fast, but paced at c-max-rate after the first window: 15 MiB in 150 ms.
  EXPECT_GE(Sent() - at100, 15u * 1024 * 1024 * 9 / 10);
  EXPECT_LE(Sent() - at100, 15u * 1024 * 1024 * 11 / 10);
  world.RunFor(1250 * kMs);
  EXPECT_EQ(Sent(), a.engine.DeviceBytes(0).value());
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
}

TEST_F(ResyncRate, PlanAheadZeroKeepsTheFixedRate) {
  Up(Pd({{"c-plan-ahead", 0}, {"resync-rate", 1000}}));
  world.RunFor(2 * sim::kSec);
  EXPECT_GE(Sent(), 1800u * 1024);
  EXPECT_LE(Sent(), 2200u * 1024);
}

TEST_F(ResyncRate, CMinRateSlowsTheResyncWhileTheApplicationWrites) {
  // 2 MiB/s allowed (32 MiB take 16 s), 512 KiB/s kept while busy.
  Up(Pd({{"c-max-rate", 2048}, {"c-min-rate", 512}}));
  world.RunFor(2 * sim::kSec);
  const uint64_t idle_start = Sent();
  world.RunFor(4 * sim::kSec);
  const uint64_t idle = Sent() - idle_start;  // 4 s of an idle device
  int err = 0;
  uint64_t h = a.engine.OpenDevice(0, &err);
  ASSERT_NE(h, 0u);
  const uint64_t busy_start = Sent();
  int failed = 0;
  for (int i = 0; i < 800; ++i) {  // 64 KiB every 10 ms, for 8 s
    a.engine.IoWrite(h, (30ull << 20) + (i % 16) * 65536, std::vector<uint8_t>(65536, 7), false,
                     [&failed](int e) { failed += e != 0; });
    world.RunFor(10 * kMs);
  }
  const uint64_t busy = Sent() - busy_start;
  EXPECT_EQ(failed, 0);
  // KiB/s: idle near c-max-rate; busy around c-min-rate (the throttle
  // stops turns while the 3-6 s average is above it), never starved.
  const uint64_t idle_rate = idle / 4 / 1024, busy_rate = busy / 8 / 1024;
  EXPECT_GE(idle_rate, 1800u);
  EXPECT_GE(busy_rate, 512u / 4) << "busy " << busy_rate << " KiB/s";
  EXPECT_LE(busy_rate, 512u * 3 / 2) << "busy " << busy_rate << " KiB/s";
  world.RunFor(20 * sim::kSec);
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
}

}  // namespace
}  // namespace drbd::engine
