// SPDX-License-Identifier: GPL-2.0-or-later
// The bitmap and activity log on the real metadata, over the deterministic
// world: AL transactions a Primary writes (readable by drbdmeta's replay),
// LRU eviction writing the evicted extent's bitmap pages first, bits of an
// absent peer on disk after a clean down and loaded again at attach, and
// crash recovery (the node dropped and re-created on the same disks): the
// AL's extents marked out of sync and resynced to the peer.
#include "sim/engine/engine_md.h"

#include <gtest/gtest.h>

#include <memory>

#include "lib/md/al.h"
#include "lib/md/bitmap.h"
#include "lib/md/metadata.h"
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

constexpr uint64_t kExtent = 4ull << 20;
constexpr uint64_t kBitsPerExtent = kExtent / 4096;

// What drbdmeta would find on a world disk (internal v09 metadata).
struct OnDisk {
  md::Superblock sb;
  md::Layout layout;
  std::vector<uint8_t> bytes;

  static OnDisk Read(World& w, const std::string& path) {
    OnDisk o;
    o.bytes = *w.DiskBytes(path);
    md::MemDevice dev(o.bytes);
    md::Found f;
    EXPECT_TRUE(md::ReadSuperblock(dev, md::Placement{}, &f).ok());
    EXPECT_EQ(f.kind, md::Found::Kind::kValid) << f.message;
    o.sb = f.sb;
    o.layout = f.layout;
    return o;
  }
  md::AlReplay Replay() const {
    const uint64_t n = uint64_t{sb.al_stripes} * sb.al_stripe_size_4k * md::kAlBlockBytes;
    std::span<const uint8_t> area(bytes.data() + layout.al_offset, n);
    return md::ReplayAl(area, sb.al_stripes, sb.al_stripe_size_4k);
  }
  bool Bit(uint32_t slot, uint64_t block) {
    std::span<uint8_t> bm(bytes.data() + layout.bm_offset, 4096);
    return md::BitmapView(bm, sb.max_peers).Get(slot, block);
  }
  uint64_t BitsSet(uint32_t slot) {
    std::span<uint8_t> bm(bytes.data() + layout.bm_offset, 4096);
    return md::BitmapView(bm, sb.max_peers).CountSlot(slot);
  }
};

class MdTest : public ::testing::Test {
 protected:
  MdTest() : a(std::make_unique<Node>(world, "a")), b(std::make_unique<Node>(world, "b")) {}

  // A fixed, fast resync rate, so resync times do not depend on the
  // controller.
  static engine::OptionSet FastResync() {
    engine::OptionSet o(cfg::OptContext::kPeerDeviceOptions);
    o.Set("resync-rate", int64_t{100 << 10});
    o.Set("c-plan-ahead", int64_t{0});
    return o;
  }
  void SetUpPair() {
    sim::PairOptions o;
    o.peer_device = FastResync();
    o.set_peer_device = true;
    ASSERT_EQ(sim::UpPair(world, *a, *b, o), "");
  }
  // Brings `n` up again on its existing disk (as after a restart): the
  // resource, minor, peer and path, attach, connect.
  void Restart(std::unique_ptr<Node>& n, const std::string& name, int node_id,
               bool connect = true) {
    n = std::make_unique<Node>(world, name);
    sim::PairOptions o;
    o.peer_device = FastResync();
    o.set_peer_device = true;
    ASSERT_EQ(sim::RejoinPair(*n, node_id, o, connect), "");
  }
  uint64_t OpenWrite(Node& n) {
    int err = 0;
    uint64_t h = n.engine.OpenDevice(0, &err);
    EXPECT_NE(h, 0u) << err;
    return h;
  }
  events::DeviceStatistics Stats(Node& n) {
    for (const events::Notification& note : n.engine.InitialState()) {
      if (auto* d = std::get_if<events::Device>(&note.object)) return d->stats.value();
    }
    ADD_FAILURE() << "no device";
    return {};
  }
  std::vector<uint8_t> Data(const std::string& path, uint64_t off, uint64_t len) {
    auto bytes = world.DiskBytes(path);
    return std::vector<uint8_t>(bytes->begin() + static_cast<ptrdiff_t>(off),
                                bytes->begin() + static_cast<ptrdiff_t>(off + len));
  }

  World world;
  std::unique_ptr<Node> a;
  std::unique_ptr<Node> b;
};

// ---- ActivityLog bookkeeping ------------------------------------------------

TEST(ActivityLogTest, EvictsTheLeastRecentlyUsedIdleExtent) {
  ActivityLog al(3);
  for (uint32_t e : {10u, 11u, 12u}) {
    std::vector<uint32_t> want{e};
    auto ups = al.Prepare(want);
    ASSERT_EQ(ups.size(), 1u);
    EXPECT_EQ(ups[0].evicted, md::kLcFree);
    uint32_t tr = 0;
    al.Encode(ups, &tr);
    al.Commit(ups);
  }
  al.Pin(10, 10);  // in flight: never a victim
  al.Pin(12, 12);
  al.Unpin(12, 12);  // 12 is now more recent than 11
  std::vector<uint32_t> want{13};
  auto ups = al.Prepare(want);
  ASSERT_EQ(ups.size(), 1u);
  EXPECT_EQ(ups[0].evicted, 11u);
  EXPECT_FALSE(al.Active(13, 13));  // not before the transaction is on disk
  EXPECT_FALSE(al.Active(11, 11));  // leaving
  al.Commit(ups);
  EXPECT_TRUE(al.Active(13, 13));
  EXPECT_EQ(al.ActiveExtents(), (std::vector<uint32_t>{10, 12, 13}));
  // Every slot pinned: nothing can come in.
  al.Pin(12, 13);
  std::vector<uint32_t> more{14};
  EXPECT_TRUE(al.Prepare(more).empty());
}

TEST(ActivityLogTest, TransactionsReplayToTheActiveSetLikeDrbdmeta) {
  // 8-block ring, 5 slots: many transactions wrap the ring, and drbdmeta's
  // replay of the last 8 must give exactly the extents in the log.
  ActivityLog al(5);
  std::vector<uint8_t> ring(8 * md::kAlBlockBytes);
  for (int i = 0; i < 8; ++i) {
    auto init = md::InitializedAlBlock();
    std::copy(init.begin(), init.end(), ring.begin() + i * md::kAlBlockBytes);
  }
  const uint32_t sequence[] = {1, 2, 3, 4, 5, 6, 2, 7, 8, 9, 1, 20, 21, 3, 22, 23, 24};
  for (uint32_t e : sequence) {
    std::vector<uint32_t> want{e};
    auto ups = al.Prepare(want);
    if (ups.empty()) {
      ASSERT_TRUE(al.Active(e, e));
      al.Pin(e, e);
      al.Unpin(e, e);
      continue;
    }
    uint32_t tr = 0;
    auto block = al.Encode(ups, &tr);
    std::copy(block.begin(), block.end(),
              ring.begin() + md::AlBlockOfTransaction(tr, 1, 8) * md::kAlBlockBytes);
    al.Commit(ups);
    md::AlReplay rep = md::ReplayAl(ring, 1, 8);
    ASSERT_GT(rep.result, 0);
    EXPECT_EQ(rep.hot_extents, al.ActiveExtents()) << "after bringing in " << e;
  }
}

// ---- the engine ---------------------------------------------------------------

TEST_F(MdTest, PrimaryWritesOneAlTransactionPerNewExtent) {
  SetUpPair();
  uint64_t h = OpenWrite(*a);
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, 0, Pattern(2 << 20, 1)), 0);
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, 4096, Pattern(4096, 2)), 0);  // same extent
  // Capture 39 (2 MiB written at 0 on a 9.2.18 Primary): al-writes:1 there,
  // al-writes:0 on its peer.
  EXPECT_EQ(Stats(*a).al_writes, 1u);
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, kExtent, Pattern(4096, 3)), 0);
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, 3 * kExtent - 4096, Pattern(8192, 4)), 0);  // 2 and 3
  EXPECT_EQ(Stats(*a).al_writes, 3u);
  EXPECT_EQ(Stats(*b).al_writes, 0u);  // a Secondary's replicated writes take none
  OnDisk d = OnDisk::Read(world, "/a/disk");
  EXPECT_FALSE(d.sb.flags & md::kMdfAlClean);
  EXPECT_TRUE(d.sb.flags & md::kMdfPrimaryInd);
  EXPECT_TRUE(d.sb.flags & md::kMdfCrashedPrimary);
  md::AlReplay rep = d.Replay();
  EXPECT_EQ(rep.result, 3);
  EXPECT_EQ(rep.hot_extents, (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(d.sb.peers[1].bitmap_index, 0);  // the peer got the first slot
}

TEST_F(MdTest, EvictionWritesTheEvictedExtentsBitsBeforeTheTransaction) {
  engine::OptionSet disk(cfg::OptContext::kAttach);
  SetUpPair();
  ASSERT_TRUE(IsSuccess(b->engine.Disconnect(b->Peer("r0", 0), false).ret));
  world.RunFor(kSec);
  // A log of 2 extents (reattached with al-extents 2).
  ASSERT_EQ(a->engine.Detach(a->Minor(0), false).ret, Ret::kSsSuccess);
  disk.Set("al-extents", int64_t{2});
  engine::DiskConf conf;
  conf.backing_dev = conf.meta_dev = "/a/disk";
  conf.opts = disk;
  std::optional<Reply> got;
  a->engine.Attach(a->Minor(0), conf, [&](Reply r) { got = r; });
  world.RunFor(kSec);
  ASSERT_EQ(got.value().ret, Ret::kNoError);
  ASSERT_EQ(a->engine.Primary(a->Res("r0"), false).ret, Ret::kSsSuccess);
  uint64_t h = OpenWrite(*a);
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, 4096 * 5, Pattern(4096, 1)), 0);            // extent 0
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, kExtent + 4096 * 7, Pattern(4096, 2)), 0);  // 1
  EXPECT_FALSE(OnDisk::Read(world, "/a/disk").Bit(0, 5));  // not yet written back
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, 2 * kExtent, Pattern(4096, 3)), 0);  // evicts 0
  OnDisk d = OnDisk::Read(world, "/a/disk");
  EXPECT_TRUE(d.Bit(0, 5));
  // Written as one page before the transaction: on this small device the
  // page also holds extent 1, but not the bit the new write set after it.
  EXPECT_TRUE(d.Bit(0, kBitsPerExtent + 7));
  EXPECT_FALSE(d.Bit(0, 2 * kBitsPerExtent));
  EXPECT_EQ(d.Replay().hot_extents, (std::vector<uint32_t>{1, 2}));
  EXPECT_GE(Stats(*a).bm_writes, 1u);
  EXPECT_EQ(Stats(*a).al_writes, 3u);
}

TEST_F(MdTest, BitsOfAnAbsentPeerAreOnDiskAfterCleanDownAndLoadedAtAttach) {
  SetUpPair();
  ASSERT_TRUE(IsSuccess(b->engine.Down(b->Res("r0")).ret));
  world.RunFor(kSec);
  uint64_t h = OpenWrite(*a);
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, 0, Pattern(3 * 4096, 1)), 0);
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, 5 * kExtent + 4096, Pattern(4096, 2)), 0);
  // Written back a second later even without a detach.
  world.RunFor(2 * kSec);
  EXPECT_EQ(OnDisk::Read(world, "/a/disk").BitsSet(0), 4u);
  a->engine.CloseDevice(h);
  world.RunFor(kSec);
  ASSERT_TRUE(IsSuccess(a->engine.Down(a->Res("r0")).ret));
  world.RunFor(kSec);
  OnDisk d = OnDisk::Read(world, "/a/disk");
  EXPECT_TRUE(d.sb.flags & md::kMdfAlClean);
  EXPECT_FALSE(d.sb.flags & md::kMdfPrimaryInd);
  EXPECT_FALSE(d.sb.flags & md::kMdfCrashedPrimary);
  EXPECT_EQ(d.Replay().result, 0);  // a clean log: nothing to apply
  EXPECT_EQ(d.BitsSet(0), 4u);
  for (uint64_t blk : {uint64_t{0}, uint64_t{1}, uint64_t{2}, 5 * kBitsPerExtent + 1})
    EXPECT_TRUE(d.Bit(0, blk));
  // Up again: the bits come back, and the reconnect resyncs exactly them.
  Restart(a, "a", 0);
  EXPECT_EQ(a->engine.OutOfSyncBlocks("r0", 1, 0), 4u);
  Restart(b, "b", 1);
  world.RunFor(15 * kSec);  // a redials every connect-int (10 s)
  EXPECT_EQ(a->engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
  EXPECT_EQ(b->engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(a->engine.ResyncBytesSent("r0", 1, 0), 4u * 4096);
  EXPECT_EQ(a->engine.OutOfSyncBlocks("r0", 1, 0), 0u);
  EXPECT_EQ(Data("/b/disk", 0, 3 * 4096), Data("/a/disk", 0, 3 * 4096));
}

TEST_F(MdTest, CrashedPrimaryMarksItsActivityLogAndResyncsIt) {
  SetUpPair();
  uint64_t h = OpenWrite(*a);
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, 0, Pattern(4096, 1)), 0);
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, 2 * kExtent + 8192, Pattern(8192, 2)), 0);
  EXPECT_EQ(a->engine.OutOfSyncBlocks("r0", 1, 0), 0u);  // b has every write
  // A block of the hot area that differs on a's disk only: what a crash
  // between the local write and the peer's leaves behind.
  auto bytes = world.DiskBytes("/a/disk");
  std::fill_n(bytes->begin() + 2 * kExtent + 100 * 4096, 4096, uint8_t{0x5a});
  a.reset();  // kill -9
  world.RunFor(kSec);
  OnDisk d = OnDisk::Read(world, "/a/disk");
  EXPECT_FALSE(d.sb.flags & md::kMdfAlClean);
  EXPECT_TRUE(d.sb.flags & md::kMdfCrashedPrimary);
  EXPECT_EQ(d.Replay().hot_extents, (std::vector<uint32_t>{0, 2}));

  Restart(a, "a", 0, false);
  EXPECT_TRUE(a->sink.LogContains(
      "drbd r0/0 drbd0: Found 2 transactions (2 active extents) in activity log."));
  EXPECT_TRUE(a->sink.LogContains(
      "drbd r0/0 drbd0: Marked additional 8192 KB as out-of-sync based on AL."));
  EXPECT_EQ(a->engine.OutOfSyncBlocks("r0", 1, 0), 2 * kBitsPerExtent);
  OnDisk after = OnDisk::Read(world, "/a/disk");
  EXPECT_EQ(after.BitsSet(0), 2 * kBitsPerExtent);  // every slot, on disk
  EXPECT_EQ(after.Replay().result, 0);              // and a fresh log
  ASSERT_EQ(a->Connect("r0", 1), Ret::kSsSuccess);
  world.RunFor(kSec);
  for (int i = 0; i < 120 && a->engine.ReplStateOf("r0", 1, 0) != ReplState::kEstablished; ++i) {
    world.RunFor(kSec);
  }
  // Protocol C and b survived the crash (its connection carries the
  // kernel's RECONNECT flag): the kernel resyncs the crashed Primary's hot
  // area from the survivor ("if both failed", following no Primary here),
  // the bitmap exchange merging a's AL bits into b's.
  EXPECT_TRUE(a->sink.LogContains("uuid_compare()=target-if-both-failed by rule=lost-quorum"));
  EXPECT_TRUE(b->sink.LogContains("uuid_compare()=source-if-both-failed by rule=lost-quorum"));
  EXPECT_EQ(b->engine.ResyncBytesSent("r0", 0, 0), 2 * kExtent);
  EXPECT_EQ(a->engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
  EXPECT_EQ(a->engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(b->engine.DiskStateOf(0), DiskState::kUpToDate);
  const uint64_t size = a->engine.DeviceBytes(0).value();
  EXPECT_EQ(Data("/a/disk", 0, size), Data("/b/disk", 0, size));
  // No longer a crashed Primary: a second reconnect syncs nothing.
  EXPECT_FALSE(OnDisk::Read(world, "/a/disk").sb.flags & md::kMdfCrashedPrimary);
}

TEST_F(MdTest, VerifyFindingsReachTheBitmapOnBothNodes) {
  sim::PairOptions o;
  o.net.Set("verify-alg", std::string("sha1"));
  ASSERT_EQ(sim::UpPair(world, *a, *b, o), "");
  auto bytes = world.DiskBytes("/b/disk");
  for (uint64_t block : {256, 5120}) (*bytes)[block * 4096 + 17] ^= 0x5a;
  ASSERT_EQ(a->engine.StartVerify(a->PeerVol("r0", 1, 0), std::nullopt, std::nullopt).ret,
            Ret::kSsSuccess);
  world.RunFor(5 * kSec);
  ASSERT_TRUE(a->sink.LogContains("Online verify found 2 4k blocks out of sync!"));
  // Written back without a detach: a kill -9 now would keep them.
  for (const char* disk : {"/a/disk", "/b/disk"}) {
    OnDisk d = OnDisk::Read(world, disk);
    EXPECT_EQ(d.BitsSet(0), 2u) << disk;
    EXPECT_TRUE(d.Bit(0, 256) && d.Bit(0, 5120)) << disk;
  }
  EXPECT_GE(Stats(*a).bm_writes, 1u);
}

TEST_F(MdTest, CleanDownOfThePrimaryLeavesNothingToResync) {
  SetUpPair();
  uint64_t h = OpenWrite(*a);
  EXPECT_EQ(sim::WriteAndRun(world, *a, h, kExtent, Pattern(4096, 1)), 0);
  a->engine.CloseDevice(h);
  world.RunFor(kSec);
  ASSERT_TRUE(IsSuccess(a->engine.Down(a->Res("r0")).ret));
  world.RunFor(kSec);
  Restart(a, "a", 0);
  world.RunFor(3 * kSec);
  EXPECT_EQ(a->engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
  EXPECT_FALSE(a->sink.LogContains("out-of-sync based on AL"));
  EXPECT_FALSE(a->sink.LogContains("Began resync"));
  EXPECT_EQ(a->engine.ResyncBytesSent("r0", 1, 0), 0u);
}

// detsim seeds 0x76223ac578b22c31, 0xf3ac236f13f3772a: a SyncTarget that
// crashed losing its unflushed writes came back UpToDate, without the
// resync data it had acknowledged. Its Inconsistent state and the bitmap
// of the run are on disk before resync data lands, so it comes back
// Inconsistent and the next exchange resyncs what it lost.
TEST_F(MdTest, SyncTargetCrashLosingUnflushedWritesComesBackInconsistent) {
  SetUpPair();
  ASSERT_EQ(b->engine.Disconnect(b->Peer("r0", 0), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  uint64_t h = OpenWrite(*a);
  for (uint64_t i = 0; i < 64; ++i) {
    ASSERT_EQ(sim::WriteAndRun(world, *a, h, i * 65536, Pattern(65536, static_cast<uint8_t>(i))),
              0);
  }
  const uint64_t marked = a->engine.OutOfSyncBlocks("r0", 1, 0).value();
  ASSERT_EQ(marked, 64u * 16);
  engine::OptionSet slow(cfg::OptContext::kPeerDeviceOptions);
  slow.Set("resync-rate", int64_t{4000});  // 100 blocks a turn: 1 s for the run
  ASSERT_EQ(a->engine.PeerDeviceOptions(a->PeerVol("r0", 1, 0), slow, false).ret, Ret::kNoError);
  ASSERT_EQ(b->Connect("r0", 0), Ret::kSsSuccess);
  // Until part of the run is acknowledged.
  for (int i = 0; i < 5000 && a->engine.OutOfSyncBlocks("r0", 1, 0).value() + 100 > marked; ++i) {
    world.RunFor(100000);
  }
  ASSERT_EQ(b->engine.ReplStateOf("r0", 0, 0), ReplState::kSyncTarget);
  ASSERT_LT(a->engine.OutOfSyncBlocks("r0", 1, 0).value(), marked);
  ASSERT_GT(a->engine.OutOfSyncBlocks("r0", 1, 0).value(), 0u);
  world.SetHostDown("10.0.0.2", true);
  world.CrashDisk("/b/disk", World::CrashMode::kLoseUnflushed);
  b.reset();
  world.RunFor(kSec);
  world.SetHostDown("10.0.0.2", false);
  Restart(b, "b", 1, false);
  EXPECT_EQ(b->engine.DiskStateOf(0), DiskState::kInconsistent);
  ASSERT_EQ(b->Connect("r0", 0), Ret::kSsSuccess);
  for (int i = 0; i < 60 && b->engine.DiskStateOf(0) != DiskState::kUpToDate; ++i) {
    world.RunFor(kSec);
  }
  EXPECT_EQ(b->engine.DiskStateOf(0), DiskState::kUpToDate);
  const uint64_t size = a->engine.DeviceBytes(0).value();
  EXPECT_EQ(Data("/a/disk", 0, size), Data("/b/disk", 0, size));
}

// detsim seeds 0xcc20c5ab99623d2d, 0xee77285173bc7562: equal current UUIDs
// after a common power failure, the crashed Primary's disk Inconsistent
// (it crashed again as SyncTarget): the crashed-Primary rule would make it
// SyncSource; the disk states decide instead (disk_states_to_strategy).
TEST_F(MdTest, InconsistentCrashedPrimaryIsNotMadeSyncSource) {
  constexpr uint64_t kUuid = 0x5555000000000000ull;
  ASSERT_TRUE(sim::MakeMetadata(world, "/a/disk", kDiskBytes, md::kMdfCrashedPrimary, kUuid, 0));
  ASSERT_TRUE(sim::MakeMetadata(world, "/b/disk", kDiskBytes,
                                md::kMdfConsistent | md::kMdfWasUpToDate, kUuid, 1));
  auto y = world.DiskBytes("/b/disk");
  std::vector<uint8_t> good = Pattern(8192, 9);
  std::copy(good.begin(), good.end(), y->begin() + 40960);
  Restart(a, "a", 0, false);
  Restart(b, "b", 1, false);
  ASSERT_EQ(a->engine.DiskStateOf(0), DiskState::kInconsistent);
  ASSERT_EQ(b->engine.DiskStateOf(0), DiskState::kUpToDate);
  ASSERT_EQ(a->Connect("r0", 1), Ret::kSsSuccess);
  ASSERT_EQ(b->Connect("r0", 0), Ret::kSsSuccess);
  for (int i = 0; i < 60 && a->engine.DiskStateOf(0) != DiskState::kUpToDate; ++i) {
    world.RunFor(kSec);
  }
  EXPECT_TRUE(a->sink.LogContains("uuid_compare()=source-if-both-failed by rule=both-off"));
  EXPECT_TRUE(a->sink.LogContains(
      "strategy = target-set-bitmap due to disk states. (Inconsistent/UpToDate)"));
  EXPECT_TRUE(b->sink.LogContains(
      "strategy = source-set-bitmap due to disk states. (UpToDate/Inconsistent)"));
  EXPECT_EQ(a->engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(b->engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(Data("/b/disk", 40960, good.size()), good);
  const uint64_t size = a->engine.DeviceBytes(0).value();
  EXPECT_EQ(Data("/a/disk", 0, size), Data("/b/disk", 0, size));
}

}  // namespace
}  // namespace drbd::engine
