// SPDX-License-Identifier: GPL-2.0-or-later
// The data path over the deterministic world: a Primary's writes land on
// the Secondary's backing bytes, the module's open and write refusals,
// auto-promote / auto-demote, protocol A/B/C completion timing against
// network latency, out-of-sync marking while a peer is away, and a
// diskless Primary reading through its UpToDate peer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>

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

constexpr uint64_t kMs = 1000000;

class DataPath : public ::testing::Test {
 protected:
  DataPath() : a(world, "a"), b(world, "b") {}

  // r0 on a (node 0) and b (node 1), connected, both UpToDate (initial
  // sync skipped). `protocol` 1..3 = A..C; `auto_promote` for both.
  void SetUp2(int64_t protocol = 3, bool auto_promote = true, bool attach_b = true) {
    sim::PairOptions o;
    o.res.Set("auto-promote", auto_promote);
    o.net.Set("protocol", protocol);
    o.attach_b = attach_b;
    ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  }
  uint64_t Open(Node& n, int* err = nullptr) {
    int e = 0;
    uint64_t h = n.engine.OpenDevice(0, &e);
    if (err) *err = e;
    return h;
  }
  // Writes and runs the world until the completion (or 1 s).
  int Write(Node& n, uint64_t h, uint64_t off, std::vector<uint8_t> data, bool fua = false) {
    return sim::WriteAndRun(world, n, h, off, std::move(data), fua);
  }
  std::vector<uint8_t> Backing(const std::string& path, uint64_t off, size_t len) {
    auto bytes = world.DiskBytes(path);
    return std::vector<uint8_t>(bytes->begin() + static_cast<ptrdiff_t>(off),
                                bytes->begin() + static_cast<ptrdiff_t>(off + len));
  }

  World world;
  Node a;
  Node b;
};

TEST_F(DataPath, PrimaryWriteReachesTheSecondarysBackingBytes) {
  SetUp2();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  uint64_t h = Open(a);
  ASSERT_NE(h, 0u);
  auto small = Pattern(4096, 1), big = Pattern(200 * 1024 + 512, 2);  // several chunks
  EXPECT_EQ(Write(a, h, 8192, small), 0);
  EXPECT_EQ(Write(a, h, 1 << 20, big, true), 0);
  world.RunFor(kMs);
  EXPECT_EQ(Backing("/b/disk", 8192, small.size()), small);
  EXPECT_EQ(Backing("/b/disk", 1 << 20, big.size()), big);
  EXPECT_EQ(Backing("/a/disk", 1 << 20, big.size()), big);
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), 0u);

  // Reads come back from the local disk.
  std::optional<std::vector<uint8_t>> read;
  a.engine.IoRead(h, 8192, 4096, [&](int e, std::vector<uint8_t> d) {
    EXPECT_EQ(e, 0);
    read = std::move(d);
  });
  world.RunFor(kMs);
  EXPECT_EQ(read, small);
}

TEST_F(DataPath, WritesStopAtTheUsableSizeSoMetadataIsSafe) {
  SetUp2();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  uint64_t size = a.engine.DeviceBytes(0).value();
  EXPECT_LT(size, kDiskBytes);  // internal metadata sits at the end
  uint64_t h = Open(a);
  // The last extent enters the activity log first (an AL transaction is a
  // metadata write); after that the metadata area must not change.
  EXPECT_EQ(Write(a, h, size - 8192, Pattern(4096, 2)), 0);
  auto md_before = Backing("/a/disk", size, kDiskBytes - size);
  EXPECT_EQ(Write(a, h, size - 4096, Pattern(4096, 3)), 0);
  EXPECT_EQ(Write(a, h, size, Pattern(4096, 4)), EIO);
  EXPECT_EQ(Write(a, h, size - 512, Pattern(1024, 5)), EIO);
  world.RunFor(kMs);
  EXPECT_EQ(Backing("/a/disk", size, kDiskBytes - size), md_before);
}

TEST_F(DataPath, SecondaryRefusesOpenWhilePeerIsPrimaryAndWritesAfterDemotion) {
  SetUp2();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  int err = 0;
  EXPECT_EQ(Open(b, &err), 0u);
  EXPECT_EQ(err, EMEDIUMTYPE);
  // A writer whose resource was demoted underneath it: the write is
  // rejected as drbd_reject_write_early rejects it.
  uint64_t h = Open(a);
  ASSERT_EQ(a.engine.Secondary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(b.engine.Primary(b.Res("r0"), false).ret, Ret::kSsSuccess);  // b takes over
  world.RunFor(kSec);
  a.sink.Clear();
  EXPECT_EQ(Write(a, h, 0, Pattern(512, 6)), EIO);
  EXPECT_TRUE(
      a.sink.LogContains("Auto-promote failed: Multiple primaries not allowed by config (-1)"));
  EXPECT_TRUE(a.sink.LogContains("Rejected WRITE request, not in Primary role."));
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kSecondary);
}

TEST_F(DataPath, WithoutAutoPromoteASecondaryCannotBeOpened) {
  SetUp2(3, false);
  int err = 0;
  EXPECT_EQ(Open(a, &err), 0u);
  EXPECT_EQ(err, EMEDIUMTYPE);
  EXPECT_FALSE(a.engine.DeviceMayWrite(0));
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  EXPECT_NE(Open(a), 0u);
  EXPECT_TRUE(a.engine.DeviceMayWrite(0));
}

TEST_F(DataPath, FirstWriteAutoPromotesAndLastWriterCloseDemotes) {
  SetUp2();
  uint64_t reader = Open(a);
  uint64_t writer = Open(a);
  ASSERT_NE(writer, 0u);
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kSecondary);  // opening alone does not promote
  EXPECT_EQ(a.engine.OpenCount(0), 2u);
  EXPECT_EQ(Write(a, writer, 0, Pattern(4096, 7)), 0);
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kPrimary);
  world.RunFor(kSec);
  EXPECT_EQ(b.engine.PeerRoleOf("r0", 0), Role::kPrimary);
  // b may not be opened while a is Primary.
  int err = 0;
  EXPECT_EQ(Open(b, &err), 0u);
  a.engine.CloseDevice(writer);
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kSecondary);
  a.engine.CloseDevice(reader);
  world.RunFor(kSec);
  uint64_t hb = Open(b);
  ASSERT_NE(hb, 0u);
  std::optional<std::vector<uint8_t>> read;
  b.engine.IoRead(hb, 0, 4096, [&](int, std::vector<uint8_t> d) { read = std::move(d); });
  world.RunFor(kMs);
  EXPECT_EQ(read, Pattern(4096, 7));
}

TEST_F(DataPath, ExplicitPrimaryIsNotDemotedByClose) {
  SetUp2();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  uint64_t h = Open(a);
  EXPECT_EQ(Write(a, h, 0, Pattern(512, 8)), 0);
  a.engine.CloseDevice(h);
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kPrimary);
}

TEST_F(DataPath, ExplicitPrimaryAfterAutoPromoteIsRemembered) {
  SetUp2();
  uint64_t h = Open(a);
  EXPECT_EQ(Write(a, h, 0, Pattern(512, 8)), 0);  // auto-promote
  ASSERT_EQ(a.engine.ResourceRole("r0"), Role::kPrimary);
  EXPECT_TRUE(IsSuccess(a.engine.Primary(a.Res("r0"), false).ret));
  a.engine.CloseDevice(h);
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kPrimary);
  // An explicit secondary clears it: the next auto-promote is demoted again.
  ASSERT_EQ(a.engine.Secondary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  h = Open(a);
  EXPECT_EQ(Write(a, h, 0, Pattern(512, 9)), 0);
  a.engine.CloseDevice(h);
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kSecondary);
}

TEST_F(DataPath, AutoPromoteAndAutoDemoteAreTaggedWithTheOpener) {
  SetUp2();
  int err = 0;
  uint64_t h = a.engine.OpenDevice(0, &err, "mkfs.ext4:4242");
  ASSERT_NE(h, 0u);
  EXPECT_EQ(Write(a, h, 0, Pattern(512, 10)), 0);
  a.engine.CloseDevice(h);
  EXPECT_TRUE(
      a.sink.LogContains("drbd r0: role( Secondary -> Primary ) [mkfs.ext4:4242 auto-promote]"));
  EXPECT_TRUE(
      a.sink.LogContains("drbd r0: role( Primary -> Secondary ) [mkfs.ext4:4242 auto-demote]"));
}

TEST_F(DataPath, SecondaryAndDownWhileAWriterHoldsTheDeviceAreDeviceInUse) {
  SetUp2();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  uint64_t reader = Open(a);
  uint64_t writer = Open(a);
  EXPECT_EQ(Write(a, writer, 0, Pattern(512, 11)), 0);
  EXPECT_EQ(a.engine.Secondary(a.Res("r0"), false).ret, Ret::kSsDeviceInUse);
  EXPECT_EQ(ToInt(Ret::kSsDeviceInUse), -12);
  EXPECT_EQ(a.engine.Down(a.Res("r0")).ret, Ret::kSsDeviceInUse);
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kPrimary);
  // A reader alone does not hold the role.
  a.engine.CloseDevice(writer);
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kPrimary);  // explicit primary
  EXPECT_EQ(a.engine.Secondary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  a.engine.CloseDevice(reader);

  // --force demotes under a writer, whose writes then fail.
  writer = Open(a);
  EXPECT_EQ(Write(a, writer, 0, Pattern(512, 12)), 0);
  a.sink.Clear();
  EXPECT_EQ(a.engine.Secondary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  EXPECT_TRUE(a.sink.LogContains("drbd r0: forced demotion"));
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kSecondary);
  EXPECT_EQ(Write(a, writer, 0, Pattern(512, 13)), EIO);
}

// Completion time of one 4 KiB write with `latency` one way.
uint64_t CompletionNs(World& world, Node& n, uint64_t h) {
  uint64_t start = world.now_ns();
  std::optional<uint64_t> at;
  n.engine.IoWrite(h, 0, Pattern(4096, 9), false, [&](int e) {
    EXPECT_EQ(e, 0);
    at = world.now_ns();
  });
  for (int i = 0; i < 100000 && !at; ++i) world.Step();
  return at.value_or(~0ull) - start;
}

TEST_F(DataPath, ProtocolCCompletesOnlyAfterThePeersWriteAck) {
  SetUp2(3);
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  world.set_latency_ns(10 * kMs);
  uint64_t h = Open(a);
  EXPECT_GE(CompletionNs(world, a, h), 20 * kMs);  // DATA there, WRITE_ACK back
  EXPECT_EQ(Backing("/b/disk", 0, 4096), Pattern(4096, 9));
}

TEST_F(DataPath, ProtocolBCompletesAfterTheRecvAck) {
  SetUp2(2);
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  world.set_latency_ns(10 * kMs);
  uint64_t h = Open(a);
  EXPECT_GE(CompletionNs(world, a, h), 20 * kMs);
  world.RunFor(kSec);
  EXPECT_EQ(Backing("/b/disk", 0, 4096), Pattern(4096, 9));
}

TEST_F(DataPath, ProtocolACompletesWithoutWaitingForThePeer) {
  SetUp2(1);
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  world.set_latency_ns(10 * kMs);
  uint64_t h = Open(a);
  EXPECT_LT(CompletionNs(world, a, h), 10 * kMs);
  EXPECT_NE(Backing("/b/disk", 0, 4096), Pattern(4096, 9));  // still on the wire
  world.RunFor(kSec);
  EXPECT_EQ(Backing("/b/disk", 0, 4096), Pattern(4096, 9));
}

TEST_F(DataPath, WritesWhileThePeerIsAwayMarkOutOfSync) {
  SetUp2();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  uint64_t h = Open(a);
  EXPECT_EQ(Write(a, h, 0, Pattern(10 * 1024, 10)), 0);   // blocks 0..2
  EXPECT_EQ(Write(a, h, 4096, Pattern(512, 11)), 0);      // block 1 again
  EXPECT_EQ(Write(a, h, 1 << 20, Pattern(8192, 12)), 0);  // 2 more
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), 5u);
  EXPECT_NE(Backing("/b/disk", 0, 512), Pattern(512, 10));
}

TEST_F(DataPath, ConnectionLossCompletesWaitingWritesAndMarksThem) {
  SetUp2(3);
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  world.set_latency_ns(10 * kMs);
  uint64_t h = Open(a);
  std::optional<int> got;
  a.engine.IoWrite(h, 0, Pattern(4096, 13), false, [&](int e) { got = e; });
  world.RunFor(kMs);
  world.Partition("10.0.0.1", "10.0.0.2", true);
  world.RunFor(kMs);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 0);  // locally written; the peer is marked out of sync
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), 1u);
}

TEST_F(DataPath, DisklessPrimaryReadsAndWritesThroughItsPeer) {
  SetUp2(3, true, true);
  ASSERT_EQ(b.engine.Detach(b.Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(b.engine.Primary(b.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  EXPECT_EQ(b.engine.DeviceBytes(0), a.engine.DeviceBytes(0));
  uint64_t h = Open(b);
  ASSERT_NE(h, 0u);
  auto data = Pattern(100 * 1024, 14);
  EXPECT_EQ(Write(b, h, 4096, data), 0);
  EXPECT_EQ(Backing("/a/disk", 4096, data.size()), data);
  std::optional<std::vector<uint8_t>> read;
  b.engine.IoRead(h, 4096, static_cast<uint32_t>(data.size()), [&](int e, std::vector<uint8_t> d) {
    EXPECT_EQ(e, 0);
    read = std::move(d);
  });
  world.RunFor(kSec);
  EXPECT_EQ(read, data);

  // Cut off from its only data: writes and reads fail with EIO.
  world.Partition("10.0.0.1", "10.0.0.2", true);
  world.RunFor(kMs);
  EXPECT_EQ(Write(b, h, 0, Pattern(512, 15)), EIO);
  std::optional<int> read_err;
  b.engine.IoRead(h, 0, 512, [&](int e, std::vector<uint8_t>) { read_err = e; });
  world.RunFor(kMs);
  EXPECT_EQ(read_err, EIO);
}

// drbd_uuid_new_current without a disk: the first write after the
// promotion makes a new current UUID that the diskless Primary sends and
// its UpToDate peer stores; a second write makes none (no new generation
// is owed), and the peer keeps the one it took.
TEST_F(DataPath, DisklessPrimaryFirstWriteSendsNewCurrentUuid) {
  SetUp2(3, true, true);
  ASSERT_EQ(b.engine.Detach(b.Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(b.engine.Primary(b.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  uint64_t h = Open(b);
  ASSERT_NE(h, 0u);
  EXPECT_FALSE(b.sink.LogContains("sending new current UUID"));
  EXPECT_EQ(Write(b, h, 0, Pattern(4096, 21)), 0);
  world.RunFor(kSec);
  auto count = [](const sim::RecordingSink& sink, std::string_view text) {
    return std::count_if(sink.log.begin(), sink.log.end(),
                         [&](const std::string& l) { return l.find(text) != std::string::npos; });
  };
  EXPECT_EQ(count(b.sink, "sending new current UUID"), 1);
  EXPECT_EQ(count(a.sink, "received new current UUID"), 1);
  EXPECT_EQ(Write(b, h, 8192, Pattern(4096, 22)), 0);
  world.RunFor(kSec);
  EXPECT_EQ(count(b.sink, "sending new current UUID"), 1);
  EXPECT_EQ(count(a.sink, "received new current UUID"), 1);
}

// ---- statistics ------------------------------------------------------------

// The object of type T (device, connection, resource, peer device) in `n`'s
// initial state.
template <typename T>
std::optional<T> Find(Node& n) {
  for (const events::Notification& note : n.engine.InitialState()) {
    if (auto* o = std::get_if<T>(&note.object)) return *o;
  }
  return std::nullopt;
}

TEST_F(DataPath, DeviceStatisticsCountDataInSectorsOnBothNodes) {
  SetUp2();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  auto before_a = Find<events::Device>(a).value().stats.value();
  auto before_b = Find<events::Device>(b).value().stats.value();
  EXPECT_EQ(before_a.size, a.engine.DeviceBytes(0).value() / 512);
  EXPECT_EQ(before_a.al_writes, 0u);
  EXPECT_EQ(before_a.bm_writes, 0u);
  uint64_t h = Open(a);
  ASSERT_NE(h, 0u);
  EXPECT_EQ(Write(a, h, 8192, Pattern(4096, 1)), 0);
  EXPECT_EQ(Write(a, h, 1 << 20, Pattern(200 * 1024 + 512, 2), true), 0);
  std::optional<int> read_err;
  a.engine.IoRead(h, 8192, 4096, [&](int e, std::vector<uint8_t>) { read_err = e; });
  world.RunFor(kMs);
  ASSERT_EQ(read_err, 0);
  const uint64_t written = (4096 + 200 * 1024 + 512) / 512;
  auto sa = Find<events::Device>(a).value().stats.value();
  EXPECT_EQ(sa.written - before_a.written, written);
  EXPECT_EQ(sa.read - before_a.read, 8u);
  EXPECT_EQ(sa.upper_pending, 0u);
  EXPECT_EQ(sa.lower_pending, 0u);
  // The Secondary wrote the replicated data to its own disk, and its peer
  // device counted it as received.
  auto sb = Find<events::Device>(b).value().stats.value();
  EXPECT_EQ(sb.written - before_b.written, written);
  EXPECT_EQ(sb.read, before_b.read);
  auto pd = Find<events::PeerDevice>(b).value().stats.value();
  EXPECT_GE(pd.received, written);
  EXPECT_EQ(Find<events::PeerDevice>(a).value().stats.value().sent, pd.received);
}

TEST_F(DataPath, RequestsInFlightArePendingAndInFlight) {
  SetUp2();
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  uint64_t h = Open(a);
  // Extent 0 enters the activity log first, so the write below is issued
  // at once instead of waiting for an AL transaction.
  ASSERT_EQ(Write(a, h, 16384, Pattern(4096, 2)), 0);
  std::optional<int> got;
  a.engine.IoWrite(h, 0, Pattern(8192, 3), false, [&](int e) { got = e; });
  auto sa = Find<events::Device>(a).value().stats.value();
  EXPECT_EQ(sa.upper_pending, 1u);
  EXPECT_EQ(sa.lower_pending, 1u);
  auto cs = Find<events::Connection>(a).value().stats.value();
  EXPECT_EQ(cs.ap_in_flight, 16u);  // sectors sent, WriteAck not yet back
  EXPECT_EQ(cs.rs_in_flight, 0u);
  world.RunFor(kSec);
  ASSERT_EQ(got, 0);
  sa = Find<events::Device>(a).value().stats.value();
  EXPECT_EQ(sa.upper_pending, 0u);
  EXPECT_EQ(sa.lower_pending, 0u);
  EXPECT_EQ(Find<events::Connection>(a).value().stats.value().ap_in_flight, 0u);
}

TEST_F(DataPath, OpenStateFollowsTheOpenersWithChangeEvents) {
  SetUp2();
  EXPECT_EQ(Find<events::Device>(a).value().info.is_open, events::Tristate::kNo);
  a.sink.Clear();
  uint64_t h1 = Open(a);
  uint64_t h2 = Open(a);
  ASSERT_NE(h1, 0u);
  ASSERT_NE(h2, 0u);
  EXPECT_EQ(Find<events::Device>(a).value().info.is_open, events::Tristate::kYes);
  // Only the first open and the last close change open:.
  auto open_changes = [&] {
    std::vector<events::Tristate> v;
    for (const auto& n : a.sink.notes) {
      if (auto* d = std::get_if<events::Device>(&n.object);
          d && n.type == events::NotifyType::kChange) {
        v.push_back(d->info.is_open);
      }
    }
    return v;
  };
  EXPECT_EQ(open_changes(), std::vector<events::Tristate>{events::Tristate::kYes});
  a.engine.CloseDevice(h1);
  EXPECT_EQ(open_changes().size(), 1u);
  a.engine.CloseDevice(h2);
  EXPECT_EQ(open_changes(),
            (std::vector<events::Tristate>{events::Tristate::kYes, events::Tristate::kNo}));
  EXPECT_EQ(Find<events::Device>(a).value().info.is_open, events::Tristate::kNo);
}

TEST_F(DataPath, WriteOrderingFollowsTheDiskOptions) {
  SetUp2();
  auto wo = [&] { return Find<events::Resource>(a).value().stats.value().write_ordering; };
  EXPECT_EQ(wo(), events::WriteOrdering::kFlush);
  EXPECT_TRUE(a.sink.LogContains("drbd r0: Method to ensure write ordering: flush"));
  OptionSet no_flush(cfg::OptContext::kAttach);
  no_flush.Set("disk-flushes", false);
  ASSERT_EQ(a.engine.DiskOptions(a.Minor(0), no_flush, false).ret, Ret::kNoError);
  EXPECT_EQ(wo(), events::WriteOrdering::kDrain);
  EXPECT_TRUE(a.sink.LogContains("drbd r0: Method to ensure write ordering: drain"));
  OptionSet no_drain(cfg::OptContext::kAttach);
  no_drain.Set("disk-drain", false);
  ASSERT_EQ(a.engine.DiskOptions(a.Minor(0), no_drain, false).ret, Ret::kNoError);
  EXPECT_EQ(wo(), events::WriteOrdering::kNone);
  // The Secondary's own options are untouched.
  EXPECT_EQ(Find<events::Resource>(b).value().stats.value().write_ordering,
            events::WriteOrdering::kFlush);
}

}  // namespace
}  // namespace drbd::engine
