// SPDX-License-Identifier: GPL-2.0-or-later
// ko-count over the deterministic world: a peer whose backing disk stops
// completing writes still answers pings, but does not finish the
// Primary's requests; after ko-count x timeout the Primary drops the
// connection (Timeout, the kernel's "Remote failed to finish a request"
// warning) and the write completes locally, marked out of sync. With
// ko-count 0 the connection stays.
#include <gtest/gtest.h>

#include <optional>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::kSec;
using sim::Node;
using sim::World;

class KoCount : public ::testing::Test {
 protected:
  KoCount() : a(world, "a"), b(world, "b") {}

  // The pair with timeout 1 s and `ko` as ko-count; a Primary with a
  // writer open; b's disk then stops completing anything.
  void Up(int64_t ko) {
    sim::PairOptions o;
    o.net.Set("timeout", int64_t{10});
    o.net.Set("ko-count", ko);
    ASSERT_EQ(sim::UpPair(world, a, b, o), "");
    h = sim::PrimaryWriter(a);
    ASSERT_NE(h, 0u);
    world.RunFor(kSec);
    world.CrashDisk("/b/disk", World::CrashMode::kKeep);
  }

  World world;
  Node a;
  Node b;
  uint64_t h = 0;
};

TEST_F(KoCount, PeerThatDoesNotFinishRequestsIsDropped) {
  Up(2);
  std::optional<int> got;
  a.engine.IoWrite(h, 0, sim::Pattern(4096, 1), false, [&](int e) { got = e; });
  world.RunFor(kSec + kSec / 2);
  EXPECT_FALSE(got.has_value());  // protocol C waits for b
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnected);
  world.RunFor(2 * kSec);
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0 b: Remote failed to finish a request within "));
  EXPECT_TRUE(a.sink.LogContains("ms > ko-count (2) * timeout (10 * 0.1s)"));
  EXPECT_TRUE(a.sink.LogContains("drbd r0 b: conn( Connected -> Timeout )"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, 0);
  EXPECT_GE(a.engine.OutOfSyncBlocks("r0", 1, 0).value(), 1u);
}

TEST_F(KoCount, ZeroDisablesTheCheck) {
  Up(0);
  std::optional<int> got;
  a.engine.IoWrite(h, 0, sim::Pattern(4096, 1), false, [&](int e) { got = e; });
  world.RunFor(10 * kSec);
  EXPECT_FALSE(got.has_value());
  EXPECT_FALSE(a.sink.LogContains("Remote failed to finish a request"));
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnected);
}

}  // namespace
}  // namespace drbd::engine
