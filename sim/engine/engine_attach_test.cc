// SPDX-License-Identifier: GPL-2.0-or-later
// Attach while connected, and a skipped initial sync with three nodes, over
// the deterministic world. drbd_adm_attach puts a disk attached beside
// connected peers into Negotiating: the peer runs the sync handshake for it
// and the attaching side follows that one decision (receive_state,
// drbd_attach_handshake, sanitize_state's negotiation_result). A node that
// takes over a skipped initial sync (__receive_uuids) clears its bitmaps
// and starts no resync toward a third just-created node, which takes the
// same UUID (scenarios resync-after-detach, skip-initial-sync-three-node).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/world/node.h"
#include "sim/world/world.h"

namespace drbd::engine {
namespace {

using sim::kSec;
using sim::Node;
using sim::Pattern;
using sim::World;

constexpr uint64_t kBlock = 4096;

// Whether `n` reported `what` (an events2 field, e.g. "disk:Negotiating")
// in a change of the object `kind` ("device", "peer-device").
bool Reported(const Node& n, const std::string& kind, const std::string& what) {
  for (const std::string& line : n.sink.Lines()) {
    if (line.starts_with("change " + kind + " ") &&
        line.find(" " + what + " ") != std::string::npos) {
      return true;
    }
    if (line.starts_with("change " + kind + " ") && line.ends_with(" " + what)) return true;
  }
  return false;
}

class AttachConnected : public ::testing::Test {
 protected:
  AttachConnected()
      : a(std::make_unique<Node>(world, "a")), b(std::make_unique<Node>(world, "b")) {}

  static sim::PairOptions Options() { return sim::FixedRatePairOptions(); }

  World world;
  std::unique_ptr<Node> a;
  std::unique_ptr<Node> b;
};

// Capture 13 (drbd-9.2.18-scenarios/13-detach-attach): the Secondary b
// detaches, the Primary a writes (a new current UUID, the writes marked
// toward b), b attaches again while connected. b's disk is Negotiating
// until a's decision (source-use-bitmap by rule bitmap-self) comes back;
// b follows as SyncTarget and resyncs the marked blocks only. Deciding on
// its own, b used a's UUID from before the writes (no-sync, both-off) while
// a went WFBitMapS, and the run never came.
TEST_F(AttachConnected, TheAttachingSideFollowsThePeersDecision) {
  ASSERT_EQ(sim::UpPair(world, *a, *b, Options()), "");
  const uint64_t h = sim::PrimaryWriter(*a);
  ASSERT_NE(h, 0u);
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_EQ(sim::WriteAndRun(world, *a, h, i * kBlock, Pattern(kBlock, 1)), 0);
  }
  ASSERT_EQ(b->engine.Detach(b->Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(a->engine.PeerDiskOf("r0", 1, 0), DiskState::kDiskless);
  for (uint64_t i = 0; i < 8; ++i) {
    ASSERT_EQ(sim::WriteAndRun(world, *a, h, (300 + i) * kBlock, Pattern(kBlock, 2)), 0);
  }
  ASSERT_EQ(a->engine.OutOfSyncBlocks("r0", 1, 0), 8u);
  b->sink.Clear();
  ASSERT_EQ(b->Attach(0, "/b/disk").ret, Ret::kNoError);
  world.RunFor(5 * kSec);
  EXPECT_TRUE(Reported(*b, "device", "disk:Negotiating"));
  EXPECT_TRUE(Reported(*b, "peer-device", "replication:SyncTarget"));
  EXPECT_TRUE(b->sink.LogContains("will sync 32 KB [8 bits set]"));
  EXPECT_EQ(b->engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(b->engine.ReplStateOf("r0", 0, 0), ReplState::kEstablished);
  EXPECT_EQ(a->engine.PeerDiskOf("r0", 1, 0), DiskState::kUpToDate);
  EXPECT_EQ(a->engine.OutOfSyncBlocks("r0", 1, 0), 0u);
  EXPECT_EQ(b->engine.OutOfSyncBlocks("r0", 0, 0), 0u);
  auto da = world.DiskBytes("/a/disk");
  auto db = world.DiskBytes("/b/disk");
  for (uint64_t blk : {uint64_t{0}, uint64_t{3}, uint64_t{300}, uint64_t{307}}) {
    EXPECT_TRUE(std::equal(da->begin() + static_cast<std::ptrdiff_t>(blk * kBlock),
                           da->begin() + static_cast<std::ptrdiff_t>((blk + 1) * kBlock),
                           db->begin() + static_cast<std::ptrdiff_t>(blk * kBlock)))
        << "block " << blk;
  }
}

// Nothing written while b was away: a decides no-sync and shows b
// UpToDate at once; b leaves Negotiating for UpToDate without a resync.
TEST_F(AttachConnected, NothingMissedNoResync) {
  ASSERT_EQ(sim::UpPair(world, *a, *b, Options()), "");
  ASSERT_EQ(b->engine.Detach(b->Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  b->sink.Clear();
  ASSERT_EQ(b->Attach(0, "/b/disk").ret, Ret::kNoError);
  world.RunFor(2 * kSec);
  EXPECT_TRUE(Reported(*b, "device", "disk:Negotiating"));
  EXPECT_FALSE(Reported(*b, "peer-device", "replication:WFBitMapT"));
  EXPECT_EQ(b->engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(a->engine.PeerDiskOf("r0", 1, 0), DiskState::kUpToDate);
  EXPECT_EQ(a->engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
}

// The connection goes while b negotiates: b takes the disk state its
// metadata gives (sanitize_state: lost connection).
TEST_F(AttachConnected, LostConnectionEndsTheNegotiation) {
  ASSERT_EQ(sim::UpPair(world, *a, *b, Options()), "");
  ASSERT_EQ(b->engine.Detach(b->Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  // a will not answer: its host falls silent.
  world.SetHostDown("10.0.0.1", true);
  ASSERT_EQ(b->Attach(0, "/b/disk").ret, Ret::kNoError);
  EXPECT_EQ(b->engine.DiskStateOf(0), DiskState::kNegotiating);
  world.RunFor(30 * kSec);
  EXPECT_NE(b->engine.ConnStateOf("r0", 0), ConnState::kConnected);
  EXPECT_NE(b->engine.DiskStateOf(0), DiskState::kNegotiating);
  EXPECT_GE(b->engine.DiskStateOf(0), DiskState::kOutdated);
}

// new-current-uuid --clear-bitmap on a beside two just-created peers. b
// takes a's UUID first and was sure c (still just created) needed a full
// sync from it (source-set-bitmap, just-created-peer): the run ended at
// once when c took a's UUID too, but left every bit set on b toward c. The
// kernel runs no handshake between b and c here (no CONSIDER_RESYNC) and
// clears the bitmaps of the adopting node (drbd_bmio_clear_all_n_write).
TEST(SkipInitialSync, ThreeNodesNoResyncAndNoBitsBetweenTheSecondaries) {
  World world;
  std::vector<std::unique_ptr<Node>> nodes;
  nodes.reserve(3);
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(std::make_unique<Node>(world, std::string(1, static_cast<char>('a' + i))));
  }
  ASSERT_EQ(sim::UpMesh(world, {nodes[0].get(), nodes[1].get(), nodes[2].get()}), "");
  world.RunFor(2 * kSec);
  Node& a = *nodes[0];
  ASSERT_EQ(a.engine.NewCurrentUuid(a.Minor(0), true).ret, Ret::kNoError);
  world.RunFor(4 * kSec);
  for (int i = 0; i < 3; ++i) {
    Node& n = *nodes[static_cast<size_t>(i)];
    EXPECT_EQ(n.engine.DiskStateOf(0), DiskState::kUpToDate) << i;
    EXPECT_FALSE(Reported(n, "peer-device", "replication:WFBitMapS")) << i;
    EXPECT_FALSE(n.sink.LogContains("just-created-peer")) << i;
    for (int j = 0; j < 3; ++j) {
      if (j == i) continue;
      EXPECT_EQ(n.engine.OutOfSyncBlocks("r0", static_cast<uint32_t>(j), 0), 0u)
          << i << " toward " << j;
      EXPECT_EQ(n.engine.PeerDiskOf("r0", static_cast<uint32_t>(j), 0), DiskState::kUpToDate)
          << i << " toward " << j;
    }
  }
}

}  // namespace
}  // namespace drbd::engine
