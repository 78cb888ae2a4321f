// SPDX-License-Identifier: GPL-2.0-or-later
// Fault injection over the deterministic world: "Data write" faults on the
// Primary's minor fail its local writes as a disk would; with on-io-error
// detach the disk goes Failed -> Diskless and the writes (and later reads)
// are served by the UpToDate peer; with call-local-io-error the
// local-io-error handler runs; fault_devs limits faults to its minors;
// "Data read" faults detach and retry the read at the peer; a zero rate
// never faults. Meta-data write faults detach even under pass_on (the
// superblock and an activity-log transaction), a Meta-data read fault
// fails the attach, a Resync read fault detaches the SyncSource, an EE
// allocation fault is a protocol error on the receiver, and receive
// corruption is written as corrupted unless data-integrity-alg catches it.
// A write that reached only an Inconsistent peer fails.
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

// Beyond the kernel (drbd_req_complete takes any replica's success): a
// write that reached no UpToDate disk, only the failed local one and a
// SyncTarget's Inconsistent one, fails; nothing could serve it back.
TEST_F(Faults, AWriteOnlyAnInconsistentPeerTookFails) {
  Up(1);
  ASSERT_EQ(b.engine.PauseSync(b.PeerVol("r0", 0, 0)).ret, Ret::kNoError);
  ASSERT_EQ(b.engine.Invalidate(b.Minor(0)).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(b.engine.DiskStateOf(0), DiskState::kInconsistent);
  a.engine.SetFaults({1u << Engine::kFaultDtWr, 100, 0});
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 0, sim::Pattern(4096, 3)), EIO);
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kDiskless);
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 4096, sim::Pattern(4096, 4)), EIO);
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

TEST_F(Faults, MetaDataWriteFaultDetachesEvenUnderPassOn) {
  Up(0);  // pass_on: a metadata error detaches all the same
  a.engine.SetFaults({1u << Engine::kFaultMdWr, 100, 0});
  // Losing the peer updates the superblock (its flags and UUIDs).
  ASSERT_EQ(a.engine.Disconnect(a.Peer("r0", 1), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: ***Simulating Meta-data write failure"))
      << testing::PrintToString(a.sink.log);
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: meta data update failed!"));
  EXPECT_TRUE(a.sink.LogContains("disk( UpToDate -> Failed ) [local-io-error]"));
  EXPECT_TRUE(a.sink.LogContains("Local IO failed in drbd_md_write. Detaching..."));
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kDiskless);
}

TEST_F(Faults, ActivityLogWriteFaultDetachesAndThePeerHasTheWrite) {
  Up(2);
  a.engine.SetFaults({1u << Engine::kFaultMdWr, 100, 0});
  // A write in an extent not yet in the activity log: a transaction first.
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 20ull << 20, sim::Pattern(4096, 7)), 0);
  world.RunFor(kSec);
  EXPECT_TRUE(a.sink.LogContains("***Simulating Meta-data write failure"))
      << testing::PrintToString(a.sink.log);
  EXPECT_TRUE(a.sink.LogContains("Local IO failed in __al_write_transaction. Detaching..."));
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kDiskless);
  auto got = Read(20ull << 20, 4096);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, sim::Pattern(4096, 7));
}

TEST_F(Faults, MetaDataReadFaultFailsTheAttach) {
  ASSERT_EQ(sim::UpPair(world, a, b), "");
  ASSERT_EQ(b.engine.Detach(b.Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  b.engine.SetFaults({1u << Engine::kFaultMdRd, 100, 0});
  EXPECT_EQ(b.Attach(0, "/b/disk").ret, Ret::kErrIoMdDisk);
  EXPECT_TRUE(b.sink.LogContains("drbd r0/0 drbd0: ***Simulating Meta-data read failure"))
      << testing::PrintToString(b.sink.log);
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kDiskless);
  b.engine.SetFaults({});
  EXPECT_EQ(b.Attach(0, "/b/disk").ret, Ret::kNoError);
}

TEST_F(Faults, ResyncReadFaultDetachesTheSyncSource) {
  ASSERT_EQ(sim::UpPair(world, a, b), "");
  a.engine.SetFaults({1u << Engine::kFaultRsRd, 100, 0});
  ASSERT_EQ(b.engine.Invalidate(b.Minor(0)).ret, Ret::kSsSuccess);
  world.RunFor(3 * kSec);
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: ***Simulating Resync read failure"))
      << testing::PrintToString(a.sink.log);
  EXPECT_TRUE(a.sink.LogContains("Local IO failed in drbd_endio_read_sec_final. Detaching..."));
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kDiskless);
  EXPECT_NE(b.engine.DiskStateOf(0), DiskState::kUpToDate);  // nothing to sync from
}

TEST_F(Faults, PeerRequestAllocationFaultIsAProtocolError) {
  Up(2);
  b.engine.SetFaults({1u << Engine::kFaultAlEe, 100, 0});
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 0, sim::Pattern(4096, 2)), 0);
  EXPECT_TRUE(b.sink.LogContains("drbd r0/0 drbd0: ***Simulating EE allocation failure"))
      << testing::PrintToString(b.sink.log);
  EXPECT_TRUE(b.sink.LogContains("drbd r0 a: error receiving Data, e: -5 l: 4096!"));
  EXPECT_TRUE(b.sink.LogContains("conn( Connected -> ProtocolError )"));
  // The write the peer never took is out of sync on the Primary.
  world.RunFor(kSec / 10);
  EXPECT_GE(a.engine.OutOfSyncBlocks("r0", 1, 0).value_or(0), 1u);
}

TEST_F(Faults, ReceiveCorruptionIsWrittenUnlessADataIntegrityDigestCatchesIt) {
  Up(2);
  b.engine.SetFaults({1u << Engine::kFaultReceive, 100, 0});
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 8192, sim::Pattern(4096, 4)), 0);
  world.RunFor(kSec / 10);
  EXPECT_TRUE(b.sink.LogContains("drbd r0/0 drbd0: ***Simulating receive data corruption failure"))
      << testing::PrintToString(b.sink.log);
  EXPECT_TRUE(b.sink.LogContains("drbd r0/0 drbd0: Fault injection: Corrupting data on receive, "
                                 "sector 16"));
  auto bytes = world.DiskBytes("/b/disk");
  std::vector<uint8_t> want = sim::Pattern(4096, 4);
  std::vector<uint8_t> on_b(bytes->begin() + 8192, bytes->begin() + 8192 + 4096);
  EXPECT_NE(on_b, want);
  for (size_t i = 0; i < 8; ++i) want[i] = static_cast<uint8_t>(~want[i]);
  EXPECT_EQ(on_b, want);  // the first word flipped, nothing else
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnected);
}

TEST_F(Faults, ReceiveCorruptionWithDataIntegrityAlgIsAProtocolError) {
  sim::PairOptions o;
  o.net.Set("data-integrity-alg", std::string("crc32c"));
  ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  h = sim::PrimaryWriter(a);
  ASSERT_NE(h, 0u);
  world.RunFor(kSec);
  b.engine.SetFaults({1u << Engine::kFaultReceive, 100, 0});
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 8192, sim::Pattern(4096, 4)), 0);
  EXPECT_TRUE(b.sink.LogContains("drbd r0/0 drbd0: Digest integrity check FAILED: 16s +4096"))
      << testing::PrintToString(b.sink.log);
  EXPECT_TRUE(b.sink.LogContains("drbd r0 a: error receiving Data, e: -22 l: 4096!"));
  EXPECT_TRUE(b.sink.LogContains("conn( Connected -> ProtocolError )"));
}

}  // namespace
}  // namespace drbd::engine
