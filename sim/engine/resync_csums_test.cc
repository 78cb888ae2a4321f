// SPDX-License-Identifier: GPL-2.0-or-later
// Checksum-based resync (csums-alg) over the deterministic world: a full
// sync (invalidate-remote) between replicas that differ in three blocks
// sends only those three blocks' data, both sides log the kernel's "had
// equal checksums" line, and the replicas end equal; without csums-alg the
// same sync sends every block.
#include <gtest/gtest.h>

#include <string>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

constexpr uint64_t kBlock = 4096;

class CsumsResync : public ::testing::Test {
 protected:
  CsumsResync() : a(world, "a"), b(world, "b") {}

  // Both UpToDate and equal; `csums` sets csums-alg on both connections.
  void Up(bool csums) {
    sim::PairOptions o;
    if (csums) o.net.Set("csums-alg", std::string("crc32c"));
    o.peer_device.Set("c-max-rate", int64_t{1} << 20);
    o.set_peer_device = true;
    ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  }
  bool DataEqual() {
    uint64_t size = a.engine.DeviceBytes(0).value();
    auto x = world.DiskBytes("/a/disk"), y = world.DiskBytes("/b/disk");
    return std::equal(x->begin(), x->begin() + static_cast<ptrdiff_t>(size), y->begin());
  }
  // Damages three blocks of b's data behind DRBD's back, then asks a full
  // sync toward b and runs it to the end.
  void DamageAndInvalidateRemote() {
    auto y = world.DiskBytes("/b/disk");
    for (uint64_t blk : {uint64_t{1}, uint64_t{100}, uint64_t{5000}}) {
      (*y)[blk * kBlock + 7] ^= 0x5a;
    }
    ASSERT_FALSE(DataEqual());
    ASSERT_EQ(a.engine.InvalidateRemote(a.PeerVol("r0", 1, 0)).ret, Ret::kSsSuccess);
    world.RunFor(5 * sim::kSec);
    EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
    EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
    EXPECT_TRUE(DataEqual());
  }

  sim::World world;
  sim::Node a;
  sim::Node b;
};

TEST_F(CsumsResync, OnlyDifferingBlocksAreSent) {
  Up(true);
  DamageAndInvalidateRemote();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0), 3 * kBlock);
  const uint64_t total = a.engine.DeviceBytes(0).value() / kBlock;
  const std::string line =
      std::to_string((total - 3) * 100 / total) +
      " % had equal checksums, eliminated: " + std::to_string((total - 3) * 4) +
      "K; transferred 12K total " + std::to_string(total * 4) + "K";
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0 b: " + line)) << line;
  EXPECT_TRUE(b.sink.LogContains("drbd r0/0 drbd0 a: " + line)) << line;
}

TEST_F(CsumsResync, WithoutCsumsAlgEveryBlockIsSent) {
  Up(false);
  DamageAndInvalidateRemote();
  EXPECT_EQ(a.engine.ResyncBytesSent("r0", 1, 0), a.engine.DeviceBytes(0).value());
  EXPECT_FALSE(a.sink.LogContains("had equal checksums"));
}

}  // namespace
}  // namespace drbd::engine
