// SPDX-License-Identifier: GPL-2.0-or-later
// Fault injection over the deterministic world: "Data write" faults on the
// Primary's minor fail its local writes as a disk would; with on-io-error
// detach the disk goes Failed -> Diskless and the writes (and later reads)
// are served by the UpToDate peer; with call-local-io-error the
// local-io-error handler runs; fault_devs limits faults to its minors;
// "Data read" faults detach and retry the read at the peer; a zero rate
// never faults.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "sim/engine/engine.h"
#include "sim/world/helpers.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::kSec;
using sim::Node;
using sim::World;

class Faults : public ::testing::Test {
 protected:
  Faults() : helpers(world), a(world, "a", &helpers), b(world, "b") {}

  // The pair with on-io-error `policy` on a (0 pass_on, 1
  // call-local-io-error, 2 detach); a Primary with a writer open.
  void Up(int64_t policy) {
    ASSERT_EQ(sim::UpPair(world, a, b), "");
    OptionSet disk(cfg::OptContext::kAttach);
    disk.Set("on-io-error", policy);
    ASSERT_EQ(a.engine.DiskOptions(a.Minor(0), disk, false).ret, Ret::kNoError);
    h = sim::PrimaryWriter(a);
    ASSERT_NE(h, 0u);
    world.RunFor(kSec);
    a.sink.Clear();
  }

  std::optional<std::vector<uint8_t>> Read(uint64_t off, uint32_t len) {
    std::optional<std::vector<uint8_t>> got;
    bool done = false;
    a.engine.IoRead(h, off, len, [&](int e, std::vector<uint8_t> data) {
      done = true;
      if (e == 0) got = std::move(data);
    });
    for (int i = 0; i < 100000 && !done; ++i) {
      if (!world.Step()) break;
    }
    return got;
  }

  World world;
  sim::ScriptedHelpers helpers;
  Node a;
  Node b;
  uint64_t h = 0;
};

TEST_F(Faults, DataWriteFaultDetachesAndThePeerServesIo) {
  Up(1);  // call-local-io-error
  a.engine.SetFaults({1u << Engine::kFaultDtWr, 100, 0});
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 0, sim::Pattern(8192, 3)), 0);  // the peer has it
  world.RunFor(kSec);
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: ***Simulating Data write failure"))
      << testing::PrintToString(a.sink.log);
  EXPECT_TRUE(a.sink.LogContains("disk( UpToDate -> Failed ) [local-io-error]"));
  EXPECT_TRUE(a.sink.LogContains("Local IO failed in drbd_request_endio. Detaching..."));
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kDiskless);
  EXPECT_TRUE(helpers.Last("local-io-error").has_value());
  EXPECT_EQ(a.engine.FaultCount(), 1u);
  // Diskless now: writes and reads go through the peer.
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 8192, sim::Pattern(4096, 9)), 0);
  auto got = Read(0, 12288);
  ASSERT_TRUE(got.has_value());
  std::vector<uint8_t> want = sim::Pattern(8192, 3);
  auto tail = sim::Pattern(4096, 9);
  want.insert(want.end(), tail.begin(), tail.end());
  EXPECT_EQ(*got, want);
  EXPECT_EQ(a.engine.FaultCount(), 1u);  // no local disk left to fault
}

TEST_F(Faults, PassOnReturnsTheErrorAndKeepsTheDisk) {
  Up(0);
  a.engine.SetFaults({1u << Engine::kFaultDtRd, 100, 0});
  EXPECT_FALSE(Read(0, 4096).has_value());
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: ***Simulating Data read failure"));
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kUpToDate);
}

TEST_F(Faults, DataReadFaultDetachesAndRetriesAtThePeer) {
  Up(2);  // detach
  ASSERT_EQ(sim::WriteAndRun(world, a, h, 0, sim::Pattern(4096, 5)), 0);
  a.engine.SetFaults({1u << Engine::kFaultDtRd, 100, 0});
  auto got = Read(0, 4096);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, sim::Pattern(4096, 5));
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kDiskless);
  EXPECT_FALSE(helpers.Last("local-io-error").has_value());  // detach calls no handler
}

TEST_F(Faults, FaultDevsAndRateSelectWhatFails) {
  Up(2);
  a.engine.SetFaults({1u << Engine::kFaultDtWr, 100, 1u << 3});  // minor 3 only
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 0, sim::Pattern(4096, 1)), 0);
  a.engine.SetFaults({1u << Engine::kFaultDtRd, 100, 0});  // another type
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 0, sim::Pattern(4096, 1)), 0);
  a.engine.SetFaults({1u << Engine::kFaultDtWr, 0, 0});  // rate 0
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 0, sim::Pattern(4096, 1)), 0);
  world.RunFor(kSec);
  EXPECT_EQ(a.engine.FaultCount(), 0u);
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kUpToDate);
  // Half the writes fail at 50 %, about.
  a.engine.SetFaults({1u << Engine::kFaultDtWr, 50, 1u << 0});
  OptionSet disk(cfg::OptContext::kAttach);
  disk.Set("on-io-error", int64_t{0});  // pass_on: keep the disk, count
  ASSERT_EQ(a.engine.DiskOptions(a.Minor(0), disk, false).ret, Ret::kNoError);
  for (int i = 0; i < 200; ++i) sim::WriteAndRun(world, a, h, 0, sim::Pattern(4096, 1));
  EXPECT_GT(a.engine.FaultCount(), 60u);
  EXPECT_LT(a.engine.FaultCount(), 140u);
}

TEST_F(Faults, ResyncWriteFaultDetachesTheSyncTarget) {
  ASSERT_EQ(sim::UpPair(world, a, b), "");
  OptionSet disk(cfg::OptContext::kAttach);
  disk.Set("on-io-error", int64_t{2});
  ASSERT_EQ(b.engine.DiskOptions(b.Minor(0), disk, false).ret, Ret::kNoError);
  b.engine.SetFaults({1u << Engine::kFaultRsWr, 100, 0});
  ASSERT_EQ(b.engine.Invalidate(b.Minor(0)).ret, Ret::kSsSuccess);
  world.RunFor(3 * kSec);
  EXPECT_TRUE(b.sink.LogContains("drbd r0/0 drbd0: ***Simulating Resync write failure"));
  EXPECT_TRUE(b.sink.LogContains("Local IO failed in drbd_peer_request_endio. Detaching..."));
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kDiskless);
}

}  // namespace
}  // namespace drbd::engine
