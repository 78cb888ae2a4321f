// SPDX-License-Identifier: GPL-2.0-or-later
// Quorum in the deterministic world with three fully meshed nodes: the
// kernel's calc_quorum counting (a partitioned node loses quorum, the two
// others keep it; outdated peers leave the voters), the device
// `quorum( yes -> no )` log line and events2 field, promotion refused with
// SS_NO_QUORUM and the kernel's state error text, on-no-quorum io-error
// failing IO and suspend-io parking it (susp-io quorum) until quorum
// returns on reconnect, and the quorum-lost handler of a Primary. A
// diskless Primary beside a peer back on older data (DisklessPrimary.*). Also
// on-io-error with a world disk that returns EIO (two nodes): detach and
// call-local-io-error take the disk away (the latter running the
// local-io-error handler) while writes go on through the peer; pass_on
// keeps the disk.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/world/helpers.h"
#include "sim/world/node.h"
#include "sim/world/world.h"

namespace drbd::engine {
namespace {

using sim::kSec;
using sim::Node;
using sim::ScriptedHelpers;
using sim::World;

// on-no-quorum values (options.def on_no_data numbering).
constexpr int64_t kIoError = 0;
constexpr int64_t kSuspendIo = 1;
constexpr int64_t kMajority = 1024;

std::string Host(int i) { return "10.0.0." + std::to_string(i + 1); }

class Quorum : public ::testing::Test {
 protected:
  Quorum() {
    for (int i = 0; i < 3; ++i) {
      helpers.push_back(std::make_unique<ScriptedHelpers>(world));
      nodes.push_back(std::make_unique<Node>(world, std::string(1, static_cast<char>('a' + i)),
                                             helpers.back().get()));
    }
  }
  Node& N(int i) { return *nodes[static_cast<size_t>(i)]; }

  // r0 on a, b, c (node ids 0..2), each attached, all connected, all
  // UpToDate (initial sync skipped). `quorum` 0 = off.
  // `client_c`: c is an intentional diskless client (new-minor --diskless,
  // the `bitmap` peer-device option off toward it on a and b).
  void Up(int64_t quorum, int64_t on_no_quorum, bool client_c = false) {
    sim::MeshOptions mesh;
    mesh.res.Set("quorum", quorum);
    mesh.res.Set("on-no-quorum", on_no_quorum);
    mesh.client = client_c ? 2 : -1;
    ASSERT_EQ(sim::UpMesh(world, {&N(0), &N(1), &N(2)}, mesh), "");
    world.RunFor(2 * kSec);
    if (client_c) {
      // The initial sync a -> b (clear-bitmap needs every peer just created).
      OptionSet fast(cfg::OptContext::kPeerDeviceOptions);
      fast.Set("c-plan-ahead", 0);
      fast.Set("resync-rate", 4000000);
      ASSERT_EQ(N(0).engine.PeerDeviceOptions(N(0).PeerVol("r0", 1, 0), fast, false).ret,
                Ret::kNoError);
      ASSERT_EQ(N(0).engine.Primary(N(0).Res("r0"), true).ret, Ret::kSsSuccess);
      world.RunFor(30 * kSec);
      ASSERT_EQ(N(0).engine.Secondary(N(0).Res("r0"), false).ret, Ret::kSsSuccess);
    } else {
      ASSERT_EQ(N(0).engine.NewCurrentUuid(N(0).Minor(0), true).ret, Ret::kNoError);
    }
    world.RunFor(2 * kSec);
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        if (j == i) continue;
        ASSERT_EQ(N(i).engine.ConnStateOf("r0", static_cast<uint32_t>(j)), ConnState::kConnected)
            << i << "->" << j;
      }
      ASSERT_EQ(N(i).engine.DiskStateOf(0),
                client_c && i == 2 ? DiskState::kDiskless : DiskState::kUpToDate)
          << i;
      ASSERT_EQ(N(i).engine.HasQuorum(0), true) << i;
    }
    for (int i = 0; i < 3; ++i) N(i).sink.Clear();
  }
  // Cuts (or heals) node `i` off from both others, and lets the pings notice.
  void Isolate(int i, bool cut) {
    for (int j = 0; j < 3; ++j) {
      if (j != i) world.Partition(Host(i), Host(j), cut);
    }
    world.RunFor(30 * kSec);
  }
  // A write open on node `i` (after making it Primary); the handle.
  uint64_t Writer(int i) {
    const uint64_t h = sim::PrimaryWriter(N(i));
    EXPECT_NE(h, 0u);
    return h;
  }
  // Calls of handler `name` (not responses) on node `i`.
  size_t HelperCalls(int i, const std::string& name) {
    size_t k = 0;
    for (const events::Notification& x : N(i).sink.notes) {
      if (const auto* h = std::get_if<events::Helper>(&x.object);
          h && h->name == name && !h->response) {
        ++k;
      }
    }
    return k;
  }
  // has_quorum in the last device notification of node `i`.
  std::optional<bool> LastNotedQuorum(int i) {
    std::optional<bool> q;
    for (const events::Notification& x : N(i).sink.notes) {
      if (const auto* d = std::get_if<events::Device>(&x.object)) q = d->info.has_quorum;
    }
    return q;
  }

  World world;
  std::vector<std::unique_ptr<ScriptedHelpers>> helpers;
  std::vector<std::unique_ptr<Node>> nodes;
};

TEST_F(Quorum, OffKeepsQuorumWhenIsolated) {
  Up(0, kSuspendIo);
  Isolate(2, true);
  EXPECT_EQ(N(2).engine.HasQuorum(0), true);
  EXPECT_EQ(N(2).engine.Primary(N(2).Res("r0"), false).ret, Ret::kSsSuccess);
}

TEST_F(Quorum, IsolatedNodeLosesItTheOthersKeepIt) {
  Up(kMajority, kIoError);
  Isolate(2, true);
  EXPECT_EQ(N(2).engine.HasQuorum(0), false);
  EXPECT_EQ(N(0).engine.HasQuorum(0), true);
  EXPECT_EQ(N(1).engine.HasQuorum(0), true);
  EXPECT_TRUE(N(2).sink.LogContains("drbd r0/0 drbd0: quorum( yes -> no )"));
  EXPECT_EQ(LastNotedQuorum(2), false);
  EXPECT_FALSE(N(0).sink.LogContains("quorum( yes -> no )"));
  // Reconnected: quorum is back.
  Isolate(2, false);
  EXPECT_EQ(N(2).engine.ConnStateOf("r0", 0), ConnState::kConnected);
  EXPECT_EQ(N(2).engine.HasQuorum(0), true);
  EXPECT_TRUE(N(2).sink.LogContains("drbd r0/0 drbd0: quorum( no -> yes )"));
  EXPECT_EQ(LastNotedQuorum(2), true);
}

TEST_F(Quorum, PromotionWithoutQuorumIsRefusedWithTheKernelText) {
  Up(kMajority, kIoError);
  Isolate(2, true);
  Reply r = N(2).engine.Primary(N(2).Res("r0"), false);
  EXPECT_EQ(r.ret, Ret::kSsNoQuorum);
  EXPECT_EQ(r.info, std::vector<std::string>{"1 of 3 nodes visible, need 2 for quorum"});
  EXPECT_EQ(N(2).engine.ResourceRole("r0"), Role::kSecondary);
  // --force does not override quorum.
  EXPECT_EQ(N(2).engine.Primary(N(2).Res("r0"), true).ret, Ret::kSsNoQuorum);
  // The majority side still promotes.
  EXPECT_EQ(N(0).engine.Primary(N(0).Res("r0"), false).ret, Ret::kSsSuccess);
}

TEST_F(Quorum, QuorumAllNeedsEveryNode) {
  Up(1025, kIoError);
  Isolate(2, true);
  EXPECT_EQ(N(0).engine.HasQuorum(0), false);
  Reply r = N(0).engine.Primary(N(0).Res("r0"), false);
  EXPECT_EQ(r.ret, Ret::kSsNoQuorum);
  EXPECT_EQ(r.info, std::vector<std::string>{"2 of 3 nodes visible, need 3 for quorum"});
}

TEST_F(Quorum, MinimumRedundancyCountsUpToDateNodes) {
  Up(kMajority, kIoError);
  OptionSet change(cfg::OptContext::kResourceOptions);
  change.Set("quorum-minimum-redundancy", 3);
  ASSERT_EQ(N(0).engine.ResourceOptions(N(0).Res("r0"), change, false).ret, Ret::kNoError);
  EXPECT_EQ(N(0).engine.HasQuorum(0), true);
  Isolate(2, true);
  EXPECT_EQ(N(0).engine.HasQuorum(0), false);
  Reply r = N(0).engine.Primary(N(0).Res("r0"), false);
  EXPECT_EQ(r.ret, Ret::kSsNoQuorum);
  EXPECT_EQ(r.info, std::vector<std::string>{
                        "2 of 3 nodes up_to_date, need 3 for quorum-minimum-redundancy"});
}

TEST_F(Quorum, IoErrorFailsWritesOnTheMinorityAndCallsQuorumLost) {
  Up(kMajority, kIoError);
  uint64_t h = Writer(2);
  ASSERT_EQ(sim::WriteAndRun(world, N(2), h, 0, sim::Pattern(4096, 1)), 0);
  Isolate(2, true);
  EXPECT_EQ(N(2).engine.HasQuorum(0), false);
  EXPECT_EQ(N(2).engine.SuspendedForQuorum("r0"), false);
  EXPECT_EQ(sim::WriteAndRun(world, N(2), h, 4096, sim::Pattern(4096, 2)), EIO);
  std::optional<int> read_err;
  N(2).engine.IoRead(h, 0, 4096, [&](int e, const std::vector<uint8_t>&) { read_err = e; });
  world.RunFor(kSec);
  EXPECT_EQ(read_err, EIO);
  EXPECT_EQ(HelperCalls(2, "quorum-lost"), 1u);
  EXPECT_TRUE(N(2).sink.LogContains(" quorum-lost"));
  EXPECT_EQ(HelperCalls(0, "quorum-lost"), 0u);
  // Back in the cluster: writes succeed again.
  Isolate(2, false);
  EXPECT_EQ(N(2).engine.HasQuorum(0), true);
  EXPECT_EQ(sim::WriteAndRun(world, N(2), h, 8192, sim::Pattern(4096, 3)), 0);
}

TEST_F(Quorum, SuspendIoParksWritesUntilQuorumReturns) {
  Up(kMajority, kSuspendIo);
  uint64_t h = Writer(2);
  Isolate(2, true);
  EXPECT_EQ(N(2).engine.SuspendedForQuorum("r0"), true);
  EXPECT_TRUE(N(2).sink.LogContains("drbd r0: susp-io( no -> quorum )"));
  bool saw = false;
  for (const events::Notification& x : N(2).sink.notes) {
    if (const auto* r = std::get_if<events::Resource>(&x.object); r && r->info.susp.quorum) {
      saw = true;
    }
  }
  EXPECT_TRUE(saw);
  std::optional<int> got;
  N(2).engine.IoWrite(h, 0, sim::Pattern(4096, 4), false, [&](int e) { got = e; });
  world.RunFor(5 * kSec);
  EXPECT_FALSE(got.has_value());  // parked
  EXPECT_EQ(N(0).engine.SuspendedForQuorum("r0"), false);
  Isolate(2, false);
  EXPECT_EQ(N(2).engine.SuspendedForQuorum("r0"), false);
  EXPECT_TRUE(N(2).sink.LogContains("drbd r0: susp-io( quorum -> no )"));
  world.RunFor(kSec);
  EXPECT_EQ(got, 0);
}

TEST_F(Quorum, SplitBrainResolvesTowardTheSideWithQuorumBeforeAnyPolicy) {
  // Both sides write while apart (quorum still off), then quorum is
  // enabled: c, alone, has none; a and b have it. after-sb-0pri stays
  // `disconnect`, which alone would leave c StandAlone.
  Up(0, kIoError);
  Isolate(2, true);
  uint64_t hc = Writer(2);
  ASSERT_EQ(sim::WriteAndRun(world, N(2), hc, 0, sim::Pattern(4096, 7)), 0);
  uint64_t ha = Writer(0);
  ASSERT_EQ(sim::WriteAndRun(world, N(0), ha, 8192, sim::Pattern(4096, 8)), 0);
  N(2).engine.CloseDevice(hc);
  N(0).engine.CloseDevice(ha);
  world.RunFor(kSec);
  ASSERT_EQ(N(2).engine.Secondary(N(2).Res("r0"), false).ret, Ret::kSsSuccess);
  ASSERT_EQ(N(0).engine.Secondary(N(0).Res("r0"), false).ret, Ret::kSsSuccess);
  OptionSet q(cfg::OptContext::kResourceOptions);
  q.Set("quorum", kMajority);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(N(i).engine.ResourceOptions(N(i).Res("r0"), q, false).ret, Ret::kNoError) << i;
  }
  world.RunFor(kSec);
  ASSERT_EQ(N(2).engine.HasQuorum(0), false);
  ASSERT_EQ(N(0).engine.HasQuorum(0), true);
  for (int i = 0; i < 3; ++i) N(i).sink.Clear();
  // c meets a first (b still cut off): at that handshake c has no quorum,
  // a has (with b).
  world.Partition(Host(2), Host(0), false);
  world.RunFor(30 * kSec);
  EXPECT_TRUE(N(2).sink.LogContains("Split-Brain detected, 0 primaries, automatically solved. "
                                    "Sync from peer node"));
  EXPECT_TRUE(N(0).sink.LogContains("Split-Brain detected, 0 primaries, automatically solved. "
                                    "Sync from this node"));
  EXPECT_FALSE(N(2).sink.LogContains("Split-Brain detected but unresolved"));
  // Then b: c now holds a's data and UUIDs, no split brain is left.
  world.Partition(Host(2), Host(1), false);
  world.RunFor(30 * kSec);
  EXPECT_FALSE(N(2).sink.LogContains("Split-Brain detected but unresolved"));
  EXPECT_FALSE(N(1).sink.LogContains("Split-Brain detected"));
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      if (j == i) continue;
      EXPECT_EQ(N(i).engine.ConnStateOf("r0", static_cast<uint32_t>(j)), ConnState::kConnected)
          << i << "->" << j;
    }
    EXPECT_EQ(N(i).engine.DiskStateOf(0), DiskState::kUpToDate) << i;
  }
  // c took the majority's data: a's write is there, its own is gone.
  auto a = world.DiskBytes("/a/disk");
  auto c = world.DiskBytes("/c/disk");
  ASSERT_TRUE(a && c);
  const std::vector<uint8_t> ca(c->begin(), c->begin() + 16384);
  EXPECT_EQ(ca, std::vector<uint8_t>(a->begin(), a->begin() + 16384));
  EXPECT_EQ(std::vector<uint8_t>(ca.begin() + 8192, ca.begin() + 12288), sim::Pattern(4096, 8));
  EXPECT_NE(std::vector<uint8_t>(ca.begin(), ca.begin() + 4096), sim::Pattern(4096, 7));
}

TEST_F(Quorum, APrimaryThatLostItsPeersOneByOneResyncsFromTheOtherPeersBitmap) {
  // Three nodes, quorum off. a loses c, writes block 0 (b gets it), loses
  // b, writes block 2. a's bitmap toward b starts after block 0, toward c
  // before it. b took a's new current UUID with block 0
  // (drbd_uuid_received_new_current, engine_peer_ack.cc), so a's bitmap
  // UUID toward b is b's current UUID: rule bitmap-self, and b gets block 2
  // and keeps block 0. (Before b took the UUID over, the -other rules
  // found b's current UUID in a's bitmap UUID toward c.)
  Up(0, kIoError);
  world.Partition(Host(0), Host(2), true);
  world.RunFor(30 * kSec);
  uint64_t ha = Writer(0);
  ASSERT_EQ(sim::WriteAndRun(world, N(0), ha, 0, sim::Pattern(4096, 1)), 0);
  world.Partition(Host(0), Host(1), true);
  world.Partition(Host(1), Host(2), true);
  world.RunFor(30 * kSec);
  ASSERT_EQ(sim::WriteAndRun(world, N(0), ha, 8192, sim::Pattern(4096, 2)), 0);
  world.RunFor(30 * kSec);
  for (int i = 0; i < 3; ++i) N(i).sink.Clear();
  world.Partition(Host(0), Host(1), false);  // a meets b again, c stays away
  world.RunFor(60 * kSec);
  EXPECT_TRUE(N(0).sink.LogContains(
      "drbd r0/0 drbd0 b: uuid_compare()=source-use-bitmap by rule=bitmap-self"));
  EXPECT_TRUE(N(1).sink.LogContains(
      "drbd r0/0 drbd0 a: uuid_compare()=target-use-bitmap by rule=bitmap-peer"));
  EXPECT_FALSE(N(0).sink.LogContains("Unrelated data"));
  EXPECT_EQ(N(0).engine.ConnStateOf("r0", 1), ConnState::kConnected);
  EXPECT_EQ(N(1).engine.DiskStateOf(0), DiskState::kUpToDate);
  auto a = world.DiskBytes("/a/disk");
  auto b = world.DiskBytes("/b/disk");
  EXPECT_TRUE(std::equal(a->begin(), a->begin() + 16384, b->begin()));
  EXPECT_EQ(std::vector<uint8_t>(b->begin(), b->begin() + 4096), sim::Pattern(4096, 1));
  EXPECT_EQ(std::vector<uint8_t>(b->begin() + 8192, b->begin() + 12288), sim::Pattern(4096, 2));
}

TEST_F(Quorum, GracefullyOutdatedPeersLeaveTheVoters) {
  Up(kMajority, kIoError);
  uint64_t h = Writer(0);
  world.RunFor(kSec);
  // The Secondaries leave the Primary gracefully: they outdate themselves,
  // so the Primary alone keeps quorum (the last man standing).
  ASSERT_EQ(N(1).engine.Disconnect(N(1).Peer("r0", 0), false).ret, Ret::kNoError);
  ASSERT_EQ(N(2).engine.Disconnect(N(2).Peer("r0", 0), false).ret, Ret::kNoError);
  world.RunFor(2 * kSec);
  EXPECT_EQ(N(0).engine.HasQuorum(0), true);
  EXPECT_EQ(sim::WriteAndRun(world, N(0), h, 0, sim::Pattern(4096, 5)), 0);
}

TEST_F(Quorum, DisklessClientBreaksTheTie) {
  Up(kMajority, kIoError, true);
  bool client_yes = false;
  for (const events::Notification& x : N(2).engine.InitialState("r0")) {
    if (const auto* d = std::get_if<events::Device>(&x.object)) {
      client_yes = d->info.intentional_diskless == events::Tristate::kYes;
    }
  }
  EXPECT_TRUE(client_yes);
  // a is cut off from b and the client c: b keeps quorum through c (two
  // voters, one short, the tiebreaker present), a loses it.
  world.Partition(Host(0), Host(1), true);
  world.Partition(Host(0), Host(2), true);
  world.RunFor(30 * kSec);
  EXPECT_EQ(N(1).engine.HasQuorum(0), true);
  EXPECT_EQ(N(0).engine.HasQuorum(0), false);
  // The client reads and writes through b.
  uint64_t h = Writer(2);
  EXPECT_EQ(sim::WriteAndRun(world, N(2), h, 0, sim::Pattern(4096, 6)), 0);
}

class OnIoError : public ::testing::Test {
 protected:
  OnIoError() : ha(world), hb(world), a(world, "a", &ha), b(world, "b", &hb) {}
  // The pair up with `policy` (on-io-error value) on a, a Primary writer.
  uint64_t Up(int64_t policy) {
    EXPECT_EQ(sim::UpPair(world, a, b), "");
    OptionSet change(cfg::OptContext::kDiskOptions);
    change.Set("on-io-error", policy);
    EXPECT_EQ(a.engine.DiskOptions(a.Minor(0), change, false).ret, Ret::kNoError);
    const uint64_t h = sim::PrimaryWriter(a);
    EXPECT_NE(h, 0u);
    return h;
  }
  size_t Calls(const std::string& name) {
    size_t k = 0;
    for (const events::Notification& x : a.sink.notes) {
      if (const auto* h = std::get_if<events::Helper>(&x.object);
          h && h->name == name && !h->response) {
        ++k;
      }
    }
    return k;
  }
  World world;
  ScriptedHelpers ha, hb;
  Node a, b;
};

TEST_F(OnIoError, DetachDropsTheDiskAndWritesGoOnThroughThePeer) {
  uint64_t h = Up(2);  // detach
  world.SetDiskErrors("/a/disk", false, true);
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 0, sim::Pattern(4096, 7)), 0);
  world.RunFor(kSec);
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kDiskless);
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: disk( UpToDate -> Failed ) [local-io-error]"));
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: Local IO failed in drbd_request_endio. "
                                 "Detaching..."));
  EXPECT_EQ(Calls("local-io-error"), 0u);
  // Diskless Primary: writes and reads are served by b.
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 4096, sim::Pattern(4096, 8)), 0);
  std::optional<std::vector<uint8_t>> got;
  a.engine.IoRead(h, 4096, 4096, [&](int e, std::vector<uint8_t> d) {
    if (e == 0) got = std::move(d);
  });
  world.RunFor(kSec);
  EXPECT_EQ(got, sim::Pattern(4096, 8));
}

TEST_F(OnIoError, CallLocalIoErrorRunsTheHandler) {
  uint64_t h = Up(1);  // call-local-io-error
  world.SetDiskErrors("/a/disk", false, true);
  EXPECT_EQ(sim::WriteAndRun(world, a, h, 0, sim::Pattern(4096, 9)), 0);
  world.RunFor(kSec);
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kDiskless);
  EXPECT_EQ(Calls("local-io-error"), 1u);
  EXPECT_TRUE(a.sink.LogContains("helper command: /sbin/drbdadm local-io-error"));
}

TEST_F(OnIoError, PassOnKeepsTheDisk) {
  uint64_t h = Up(0);  // pass_on
  world.SetDiskErrors("/a/disk", false, true);
  sim::WriteAndRun(world, a, h, 0, sim::Pattern(4096, 10));
  world.RunFor(kSec);
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(Calls("local-io-error"), 0u);
}

// Three-node mechanisms (engine_peer_ack.cc) on the same three-node world.
class PeerAcks : public Quorum {
 protected:
  // a Primary writer; c cut off from a and b; a writes block 0 (pattern 1),
  // which reaches b only. The writer's handle.
  uint64_t WriteBlock0WithoutC() {
    Up(0, kIoError);
    const uint64_t ha = Writer(0);
    world.Partition(Host(0), Host(2), true);
    world.Partition(Host(1), Host(2), true);
    world.RunFor(30 * kSec);
    EXPECT_EQ(sim::WriteAndRun(world, N(0), ha, 0, sim::Pattern(4096, 1)), 0);
    world.RunFor(5 * kSec);
    return ha;
  }
};

TEST_F(PeerAcks, SecondaryTakesThePrimarysNewUuidAndMarksWhatTheThirdNodeMissed) {
  // c is cut off; a writes block 0, which reaches b only. b takes a's new
  // current UUID, its old one becoming its bitmap UUID toward c (weak), and
  // a's PEER_ACK (reached a and b) marks block 0 out of sync toward c.
  // Then a goes away and b meets c: b is the source by rule bitmap-self
  // and c gets block 0 (with equal UUIDs, c would stay UpToDate without
  // it: detsim seed 0x3).
  ASSERT_NO_FATAL_FAILURE(WriteBlock0WithoutC());
  EXPECT_TRUE(N(1).sink.LogContains("drbd r0/0 drbd0 a: received new current UUID: "));
  EXPECT_EQ(N(1).engine.BlockOutOfSync("r0", 2, 0, 0), std::optional<bool>(true));
  EXPECT_EQ(N(1).engine.BlockOutOfSync("r0", 0, 0, 0), std::optional<bool>(false));
  world.Partition(Host(0), Host(1), true);
  world.RunFor(30 * kSec);
  world.Partition(Host(1), Host(2), false);
  world.RunFor(60 * kSec);
  EXPECT_TRUE(
      N(1).sink.LogContains("drbd r0/0 drbd0 c: uuid_compare()=source-use-bitmap by rule=bitmap-self"));
  EXPECT_EQ(N(2).engine.DiskStateOf(0), DiskState::kUpToDate);
  auto c = world.DiskBytes("/c/disk");
  ASSERT_TRUE(c);
  EXPECT_EQ(std::vector<uint8_t>(c->begin(), c->begin() + 4096), sim::Pattern(4096, 1));
}

TEST_F(PeerAcks, AForcedDisconnectMarksTheUnackedPeerWritesTowardTheOthers) {
  // a writes block 0; b gets it but its answers to a are held back, so no
  // PEER_ACK comes. b then drops a with `disconnect --force`:
  // conn_disconnect -> cleanup_unacked_peer_requests marks the block out
  // of sync toward every node but a, c included (scenario
  // quorum-failover-reconnect, where c lost b that way).
  Up(0, kIoError);
  const uint64_t ha = Writer(0);
  world.PartitionOneWay(Host(1), Host(0), true);
  int got = -1;
  N(0).engine.IoWrite(ha, 0, sim::Pattern(4096, 1), false, [&](int e) { got = e; });
  world.RunFor(kSec / 10);
  EXPECT_EQ(N(1).engine.BlockOutOfSync("r0", 2, 0, 0), std::optional<bool>(false));
  ASSERT_EQ(N(1).engine.Disconnect(N(1).Peer("r0", 0), true).ret, Ret::kNoError);
  EXPECT_EQ(N(1).engine.BlockOutOfSync("r0", 2, 0, 0), std::optional<bool>(true));
  world.PartitionOneWay(Host(1), Host(0), false);
  world.RunFor(30 * kSec);
  EXPECT_EQ(got, 0);
}

TEST_F(PeerAcks, AResyncFromASecondaryOfALivePrimaryLeavesTheTargetInconsistent) {
  // As above, but b meets c while a (Primary) is still connected to b: b
  // is not stable (UUID_FLAG_STABLE clear), so the resync it runs toward c
  // ends "unstable" and c stays Inconsistent (drbd_resync_finished without
  // was_resync_stable) instead of UpToDate beside writes it misses; once c
  // reaches a, it syncs from a and is UpToDate with every block.
  uint64_t ha = 0;
  ASSERT_NO_FATAL_FAILURE(ha = WriteBlock0WithoutC());
  world.Partition(Host(1), Host(2), false);
  world.RunFor(30 * kSec);
  ASSERT_EQ(sim::WriteAndRun(world, N(0), ha, 8192, sim::Pattern(4096, 2)), 0);
  world.RunFor(5 * kSec);
  EXPECT_TRUE(N(2).sink.LogContains("drbd r0/0 drbd0 b: Peer was unstable during resync"));
  EXPECT_EQ(N(2).engine.DiskStateOf(0), DiskState::kInconsistent);
  world.Partition(Host(0), Host(2), false);
  world.RunFor(60 * kSec);
  EXPECT_EQ(N(2).engine.DiskStateOf(0), DiskState::kUpToDate);
  auto c = world.DiskBytes("/c/disk");
  ASSERT_TRUE(c);
  EXPECT_EQ(std::vector<uint8_t>(c->begin(), c->begin() + 4096), sim::Pattern(4096, 1));
  EXPECT_EQ(std::vector<uint8_t>(c->begin() + 8192, c->begin() + 12288), sim::Pattern(4096, 2));
}

TEST_F(PeerAcks, ASyncTargetTakesOverItsSourcesBitmapUuidsTowardAThirdNode) {
  // c is cut off while a writes block 0 (b takes a's new UUID U1); then b
  // is cut off too and a writes block 1 (U2). c meets a alone and resyncs
  // from it. drbd_uuid_resync_finished: c takes a's bitmap UUID toward b
  // (U1) into its history and keeps a bitmap UUID toward b (its own
  // current of the run's start), since a keeps one toward b. When b and c
  // meet (a still away from b), c is the source by rule history-peer
  // instead of both finding split brain by rule history-both (detsim
  // --nodes=3 --seed=0x8702a1f2984a11bb).
  uint64_t ha = 0;
  ASSERT_NO_FATAL_FAILURE(ha = WriteBlock0WithoutC());
  world.Partition(Host(0), Host(1), true);
  world.RunFor(30 * kSec);
  ASSERT_EQ(sim::WriteAndRun(world, N(0), ha, 4096, sim::Pattern(4096, 2)), 0);
  world.RunFor(5 * kSec);
  world.Partition(Host(0), Host(2), false);
  world.RunFor(60 * kSec);
  ASSERT_EQ(N(2).engine.DiskStateOf(0), DiskState::kUpToDate);
  world.Partition(Host(1), Host(2), false);
  world.RunFor(60 * kSec);
  EXPECT_FALSE(N(1).sink.LogContains("Split-Brain detected"));
  EXPECT_FALSE(N(2).sink.LogContains("Split-Brain detected"));
  EXPECT_TRUE(N(2).sink.LogContains(
      "drbd r0/0 drbd0 b: uuid_compare()=source-set-bitmap by rule=history-self"));
  // c is connected to the Primary: not a stable source, b stays
  // Inconsistent until it meets a.
  EXPECT_EQ(N(1).engine.DiskStateOf(0), DiskState::kInconsistent);
  world.Partition(Host(0), Host(1), false);
  world.RunFor(60 * kSec);
  EXPECT_EQ(N(1).engine.DiskStateOf(0), DiskState::kUpToDate);
  auto b = world.DiskBytes("/b/disk");
  ASSERT_TRUE(b);
  EXPECT_EQ(std::vector<uint8_t>(b->begin(), b->begin() + 4096), sim::Pattern(4096, 1));
  EXPECT_EQ(std::vector<uint8_t>(b->begin() + 4096, b->begin() + 8192), sim::Pattern(4096, 2));
}

TEST_F(PeerAcks, APrimaryTellsItsPeersANewCurrentUuidOnlyOnceItIsDurable) {
  // c is cut off from a; a's first write makes a new current UUID. Its
  // superblock write is slow: b hears of the UUID only after that write
  // completed (__new_current_uuid_prepare syncs the metadata before
  // __new_current_uuid_send), so a crash during it cannot leave b on a UUID
  // that a never stored (detsim --nodes=3 --seed=0x9dc7866e4d278b6c).
  Up(0, kIoError);
  const uint64_t ha = Writer(0);
  world.Partition(Host(0), Host(2), true);
  world.RunFor(30 * kSec);
  world.SetDiskWriteLatency("/a/disk", 2 * kSec);
  int err = -1;
  N(0).engine.IoWrite(ha, 0, sim::Pattern(4096, 1), true, [&](int e) { err = e; });
  world.RunFor(kSec);
  EXPECT_TRUE(N(0).sink.LogContains("drbd r0/0 drbd0: new current UUID: "));
  EXPECT_FALSE(N(1).sink.LogContains("received new current UUID"));
  world.RunFor(10 * kSec);
  EXPECT_TRUE(N(1).sink.LogContains("drbd r0/0 drbd0 a: received new current UUID: "));
  EXPECT_EQ(err, 0);
}

TEST_F(PeerAcks, APrimaryLosingBothPeersBeforeItsNextWriteMakesOneNewCurrentUuid) {
  // a's write is in flight toward b and c when both links stall and go
  // away at one ping timeout each. The kernel sets NEW_CUR_UUID at each loss and makes the new
  // current UUID at the next write, so both peers' bitmap UUIDs are the UUID
  // before it (rotate_current_into_bitmap). Two bumps would leave c's bitmap
  // UUID on one c never saw: back, c would get a copy of b's bitmap instead
  // of its own (detsim --nodes=3 --seed=0x38d889d2b47a5c1d).
  Up(0, kIoError);
  const uint64_t ha = Writer(0);
  world.RunFor(5 * kSec);
  N(0).sink.Clear();
  int err = -1;
  N(0).engine.IoWrite(ha, 0, sim::Pattern(4096, 1), true, [&](int e) { err = e; });
  world.PartitionStall(Host(0), Host(1), true);
  world.PartitionStall(Host(0), Host(2), true);
  world.RunFor(30 * kSec);
  EXPECT_EQ(err, 0);
  const auto bumps = std::count_if(N(0).sink.log.begin(), N(0).sink.log.end(), [](const auto& l) {
    return l.find("drbd r0/0 drbd0: new current UUID: ") != std::string::npos;
  });
  EXPECT_EQ(bumps, 1);
}

TEST_F(PeerAcks, ANewCurrentUuidChecksThePeersFirstSoAPeerThatDiedUnnoticedGetsTheOldOne) {
  // c dies without a word (its streams go silent), then a loses b and
  // writes: the write makes a new current UUID, and drbd_check_peers pings
  // c, which does not answer within ping-timeout and is dropped. The write
  // waits for the check (WRITING_NEW_CUR_UUID), so c's bitmap UUID is the
  // UUID before the bump, as b's: c never saw the new one. Without the
  // check a kept c "in sync" on the new UUID and gave c that UUID when a
  // later ping noticed it (detsim --nodes=3 --seed=0xb21b1c2e1f61a1bc).
  Up(0, kIoError);
  const uint64_t ha = Writer(0);
  world.RunFor(5 * kSec);
  world.SetHostDown(Host(2), true);
  world.Partition(Host(0), Host(1), true);
  world.RunFor(kSec / 10);
  ASSERT_EQ(N(0).engine.ConnStateOf("r0", 1), ConnState::kConnecting);
  ASSERT_EQ(N(0).engine.ConnStateOf("r0", 2), ConnState::kConnected);
  N(0).sink.Clear();
  int err = -1;
  N(0).engine.IoWrite(ha, 0, sim::Pattern(4096, 1), true, [&](int e) { err = e; });
  world.RunFor(kSec / 100);
  EXPECT_EQ(err, -1);  // held while c is asked
  world.RunFor(2 * kSec);
  EXPECT_EQ(err, 0);
  EXPECT_TRUE(N(0).sink.LogContains("drbd r0 c: peer failed to send PingAck in time"));
  std::optional<uint64_t> to_b;
  std::optional<uint64_t> to_c;
  for (const events::Notification& note : N(0).engine.InitialState()) {
    const auto* p = std::get_if<events::PeerDevice>(&note.object);
    if (p == nullptr || !p->stats) continue;
    (p->peer_node_id == 1 ? to_b : to_c) = p->stats->bitmap_uuid;
  }
  ASSERT_TRUE(to_b && to_c);
  EXPECT_NE(*to_b, 0u);
  EXPECT_EQ(*to_c, *to_b);
}

// A diskless Primary (its disk failed, on-io-error detach) and a peer that
// comes back on older data (9.2.18 receive_state's
// diskless_with_peers_different_current_uuids and sanitize_state).
class DisklessPrimary : public Quorum {
 protected:
  // a Primary writer (on-io-error detach) whose disk failed under a write
  // of block 1 (pattern 9) that b and c took; `ha` is the writer's handle.
  void LoseTheDisk(uint64_t& ha) {
    Up(0, kIoError);
    OptionSet detach(cfg::OptContext::kDiskOptions);
    detach.Set("on-io-error", 2);  // detach
    ASSERT_EQ(N(0).engine.DiskOptions(N(0).Minor(0), detach, false).ret, Ret::kNoError);
    ha = Writer(0);
    world.SetDiskErrors("/a/disk", false, true);
    ASSERT_EQ(sim::WriteAndRun(world, N(0), ha, 4096, sim::Pattern(4096, 9)), 0);
    world.RunFor(kSec);
    ASSERT_EQ(N(0).engine.DiskStateOf(0), std::optional(DiskState::kDiskless));
  }
  // c cut off from a and b, unnoticed: a's write of block 0 (pattern 1)
  // waits for c until the ping timeout drops it, then succeeds through b,
  // and a's new current UUID reaches b.
  void WriteWhileCDiesUnnoticed(uint64_t ha) {
    world.Partition(Host(0), Host(2), true);
    world.Partition(Host(1), Host(2), true);
    for (int i = 0; i < 3; ++i) N(i).sink.Clear();
    int err = -1;
    N(0).engine.IoWrite(ha, 0, sim::Pattern(4096, 1), true, [&](int e) { err = e; });
    world.RunFor(30 * kSec);
    EXPECT_EQ(err, 0);
    EXPECT_TRUE(N(0).sink.LogContains("drbd r0/0 drbd0: sending new current UUID: "));
    EXPECT_TRUE(N(1).sink.LogContains("drbd r0/0 drbd0 a: received new current UUID: "));
  }
  // a Primary writer without its disk; c cut off from a (and from b unless
  // `keep_bc`); a writes block 0 (pattern 1) through b, which takes a's new
  // current UUID with c weak. The writer's handle.
  uint64_t WriteWithoutDiskAndWithoutC(bool keep_bc) {
    uint64_t ha = 0;
    LoseTheDisk(ha);
    world.Partition(Host(0), Host(2), true);
    if (!keep_bc) world.Partition(Host(1), Host(2), true);
    world.RunFor(30 * kSec);
    EXPECT_EQ(sim::WriteAndRun(world, N(0), ha, 0, sim::Pattern(4096, 1)), 0);
    world.RunFor(5 * kSec);
    EXPECT_TRUE(N(0).sink.LogContains("drbd r0/0 drbd0: sending new current UUID: "));
    EXPECT_TRUE(N(1).sink.LogContains("drbd r0/0 drbd0 a: received new current UUID: "));
    for (int i = 0; i < 3; ++i) N(i).sink.Clear();
    return ha;
  }
  // a's failed disk replaced by a fresh one (new metadata, just created),
  // not attached yet.
  void ReplaceTheDisk() {
    world.SetDiskErrors("/a/disk", false, false);
    world.CrashDisk("/a/disk", World::CrashMode::kKeep);
    ASSERT_TRUE(sim::MakeMetadata(world, "/a/disk", sim::kDiskBytes, md::kMdfAlClean,
                                  md::kUuidJustCreated, -1, 2));
  }
  void ExpectEveryoneUpToDateWithBlock0(uint8_t pattern) {
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(N(i).engine.DiskStateOf(0), std::optional(DiskState::kUpToDate)) << i;
      EXPECT_EQ(Block0(std::string("/") + static_cast<char>('a' + i) + "/disk"),
                sim::Pattern(4096, pattern))
          << i;
    }
  }
  std::vector<uint8_t> Block0(const std::string& disk) {
    auto bytes = world.DiskBytes(disk);
    EXPECT_TRUE(bytes);
    if (!bytes) return {};
    return std::vector<uint8_t>(bytes->begin(), bytes->begin() + 4096);
  }
};

TEST_F(DisklessPrimary, TakesAStalePeerAsOutdatedAndThePeerItselfAsConsistent) {
  // c comes back to a alone (b still cut off from it): its current UUID is
  // the bitmap UUID b keeps toward it, so its data is older than what a
  // exposes: a takes its disk as Outdated ("Downgrading joining peer's
  // disk"), c downgrades itself from UpToDate to Consistent and stays so
  // beside a (may_return_to_up_to_date). Once c meets b it resyncs block 0
  // and is UpToDate on a's data.
  ASSERT_NO_FATAL_FAILURE(WriteWithoutDiskAndWithoutC(false));
  world.Partition(Host(0), Host(2), false);
  world.RunFor(30 * kSec);
  EXPECT_TRUE(N(0).sink.LogContains(
      "drbd r0/0 drbd0 c: Downgrading joining peer's disk as its data is older"));
  EXPECT_TRUE(N(2).sink.LogContains(
      "drbd r0/0 drbd0 a: Downgrading local disk to D_CONSISTENT since current UUID differs."));
  // (c's next STATE shows its own Consistent: a takes that, not UpToDate.)
  EXPECT_EQ(N(0).engine.ConnStateOf("r0", 2), ConnState::kConnected);
  EXPECT_EQ(N(0).engine.PeerDiskOf("r0", 2, 0), std::optional(DiskState::kConsistent));
  EXPECT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kConsistent));
  EXPECT_NE(Block0("/c/disk"), sim::Pattern(4096, 1));
  world.Partition(Host(1), Host(2), false);
  world.RunFor(60 * kSec);
  EXPECT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kUpToDate));
  EXPECT_EQ(N(0).engine.PeerDiskOf("r0", 2, 0), std::optional(DiskState::kUpToDate));
  EXPECT_EQ(Block0("/c/disk"), sim::Pattern(4096, 1));
}

TEST_F(DisklessPrimary, AStalePeerStillConnectedToAnUpToDateOneGetsResyncedFromIt) {
  // c stays connected to b: weak, Outdated on the old UUID beside it (b
  // does not pass a Primary's UUID on, and nothing resyncs c on that live
  // connection). When c meets a again, on other data than a exposes, it
  // asks b for the resync (drbd_try_to_get_resynced: both run the sync
  // handshake on the live connection) and gets block 0.
  ASSERT_NO_FATAL_FAILURE(WriteWithoutDiskAndWithoutC(true));
  ASSERT_EQ(N(2).engine.ReplStateOf("r0", 1, 0), std::optional(ReplState::kEstablished));
  ASSERT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kOutdated));
  world.RunFor(30 * kSec);
  ASSERT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kOutdated));
  ASSERT_FALSE(N(2).sink.LogContains("drbd r0/0 drbd0 b: drbd_sync_handshake:"));
  world.Partition(Host(0), Host(2), false);
  world.RunFor(30 * kSec);
  EXPECT_TRUE(N(2).sink.LogContains(
      "drbd r0/0 drbd0 b: uuid_compare()=target-use-bitmap by rule=bitmap-peer"));
  EXPECT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kUpToDate));
  EXPECT_EQ(N(0).engine.PeerDiskOf("r0", 2, 0), std::optional(DiskState::kUpToDate));
  EXPECT_EQ(Block0("/c/disk"), sim::Pattern(4096, 1));
}

TEST_F(DisklessPrimary, AGonePeersBitmapUuidsStillShowThatAJoiningPeerIsOlder) {
  // b is gone too when c comes back, but the UUIDs a last had from b still
  // hold c's current UUID as b's bitmap UUID toward c (the kernel keeps a
  // peer's UUIDs past the disconnect): c is older, not refused.
  ASSERT_NO_FATAL_FAILURE(WriteWithoutDiskAndWithoutC(false));
  world.Partition(Host(0), Host(1), true);
  world.RunFor(30 * kSec);
  N(0).sink.Clear();
  world.Partition(Host(0), Host(2), false);
  world.RunFor(30 * kSec);
  EXPECT_TRUE(N(0).sink.LogContains(
      "drbd r0/0 drbd0 c: Downgrading joining peer's disk as its data is older"));
  EXPECT_FALSE(N(0).sink.LogContains("Current UUID of peer does not match my exposed UUID."));
  EXPECT_EQ(N(0).engine.ConnStateOf("r0", 2), ConnState::kConnected);
  EXPECT_NE(N(0).engine.PeerDiskOf("r0", 2, 0), std::optional(DiskState::kUpToDate));
  EXPECT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kConsistent));
}

TEST_F(DisklessPrimary, AReplacedDiskMarksEveryBlockTowardAPeerItHasNotMet) {
  // a's failed disk is replaced (fresh metadata) while c is away: the full
  // sync from b also marks every block toward c (bitmap_mod_after_handshake,
  // "Setting and writing the whole bitmap, fresh node"), block 0 that c
  // lacks among them; when c is back it gets block 0.
  ASSERT_NO_FATAL_FAILURE(WriteWithoutDiskAndWithoutC(false));
  ASSERT_NO_FATAL_FAILURE(ReplaceTheDisk());
  ASSERT_EQ(N(0).Attach(0, "/a/disk").ret, Ret::kNoError);
  world.RunFor(30 * kSec);
  EXPECT_EQ(N(0).engine.DiskStateOf(0), std::optional(DiskState::kUpToDate));
  EXPECT_TRUE(N(0).sink.LogContains(
      "drbd r0/0 drbd0 b: Setting and writing the whole bitmap, fresh node"));
  EXPECT_EQ(N(0).engine.BlockOutOfSync("r0", 2, 0, 0), std::optional<bool>(true));
  EXPECT_EQ(N(0).engine.BlockOutOfSync("r0", 1, 0, 0), std::optional<bool>(false));
  world.Partition(Host(0), Host(2), false);
  world.Partition(Host(1), Host(2), false);
  world.RunFor(60 * kSec);
  EXPECT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kUpToDate));
  EXPECT_EQ(Block0("/c/disk"), sim::Pattern(4096, 1));
}

TEST_F(DisklessPrimary, ALossWithWritesInFlightMakesTheNewUuidBeforeThePeerIsBack) {
  // a, diskless, writes block 0 while c is cut off: the write waits for c
  // until the ping timeout drops it. With a write in flight at the loss, a
  // pings b (drbd_check_peers) and then sends its new current UUID at once,
  // not at its next write, and c may connect again only after that; so c,
  // back before any further write, is older than what a exposes.
  uint64_t ha = 0;
  ASSERT_NO_FATAL_FAILURE(LoseTheDisk(ha));
  ASSERT_NO_FATAL_FAILURE(WriteWhileCDiesUnnoticed(ha));
  world.Partition(Host(0), Host(2), false);
  world.RunFor(30 * kSec);
  EXPECT_TRUE(N(0).sink.LogContains(
      "drbd r0/0 drbd0 c: Downgrading joining peer's disk as its data is older"));
  EXPECT_NE(N(0).engine.PeerDiskOf("r0", 2, 0), std::optional(DiskState::kUpToDate));
  EXPECT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kConsistent));
}

// The same with a's failed disk replaced and still Inconsistent (its full
// sync from b paused): a Primary below UpToDate makes its new data
// generation as a diskless one does (drbd_uuid_new_current's branch for a
// device that is not UpToDate), and does not take c, which missed the
// write, as its sync source (beyond 9.2.18, which resyncs an Inconsistent
// Primary from such a peer: detsim --nodes=3 --seed=0x7863e4ebab9a7aad,
// 0xa6f1cdeb133b839a). Once c has met b, everyone ends on a's data.
TEST_F(DisklessPrimary, AnInconsistentPrimaryMakesTheNewUuidAndTakesNoStalePeerAsSource) {
  uint64_t ha = 0;
  ASSERT_NO_FATAL_FAILURE(LoseTheDisk(ha));
  ASSERT_NO_FATAL_FAILURE(ReplaceTheDisk());
  ASSERT_EQ(N(1).engine.PauseSync(N(1).PeerVol("r0", 0, 0)).ret, Ret::kNoError);
  ASSERT_EQ(N(0).Attach(0, "/a/disk").ret, Ret::kNoError);
  world.RunFor(5 * kSec);
  ASSERT_EQ(N(0).engine.DiskStateOf(0), std::optional(DiskState::kInconsistent));
  ASSERT_NO_FATAL_FAILURE(WriteWhileCDiesUnnoticed(ha));
  world.Partition(Host(0), Host(2), false);
  world.RunFor(5 * kSec);
  EXPECT_TRUE(N(0).sink.LogContains(
      "drbd r0/0 drbd0 c: Current UUID of peer does not match my exposed UUID."));
  EXPECT_NE(N(0).engine.ReplStateOf("r0", 2, 0), std::optional(ReplState::kSyncTarget));
  EXPECT_NE(N(0).engine.ReplStateOf("r0", 2, 0), std::optional(ReplState::kPausedSyncT));
  EXPECT_EQ(N(0).engine.DiskStateOf(0), std::optional(DiskState::kInconsistent));
  world.Partition(Host(1), Host(2), false);
  ASSERT_EQ(N(1).engine.ResumeSync(N(1).PeerVol("r0", 0, 0)).ret, Ret::kNoError);
  world.RunFor(20 * kSec);
  ExpectEveryoneUpToDateWithBlock0(1);
}

// a's failed disk is replaced while b, which holds a's last data
// generation, is away: the new disk's full sync must not come from c,
// which missed that generation. a keeps the UUID it exposed while the new
// disk is Inconsistent (beyond 9.2.18, which drops exposed_data_uuid once
// a disk is attached and resyncs from c: detsim --nodes=3
// --seed=0x1cff0ca17e43916f) and takes b as the source once it is back.
TEST_F(DisklessPrimary, AReplacedDiskTakesNoSourceThatMissedTheExposedGeneration) {
  ASSERT_NO_FATAL_FAILURE(WriteWithoutDiskAndWithoutC(false));
  world.Partition(Host(0), Host(1), true);
  world.RunFor(30 * kSec);
  ASSERT_NO_FATAL_FAILURE(ReplaceTheDisk());
  ASSERT_EQ(N(0).Attach(0, "/a/disk").ret, Ret::kNoError);
  world.RunFor(kSec);
  ASSERT_EQ(N(0).engine.DiskStateOf(0), std::optional(DiskState::kInconsistent));
  world.Partition(Host(0), Host(2), false);
  world.RunFor(10 * kSec);
  EXPECT_TRUE(N(0).sink.LogContains(
      "drbd r0/0 drbd0 c: Current UUID of peer does not match my exposed UUID."));
  EXPECT_EQ(N(0).engine.DiskStateOf(0), std::optional(DiskState::kInconsistent));
  EXPECT_NE(Block0("/c/disk"), sim::Pattern(4096, 1));
  world.Partition(Host(0), Host(1), false);
  world.Partition(Host(1), Host(2), false);
  world.RunFor(60 * kSec);
  ExpectEveryoneUpToDateWithBlock0(1);
}

// a, diskless, writes block 0 while c and then b die unnoticed, b after
// it took the write. The loss of c asks for a new UUID, and the ping before
// it (drbd_check_peers) finds b gone too: no UpToDate peer is left to store
// it. The write, held until then (drbd 9.2.19's confirm-before-complete),
// fails with EIO instead of being acknowledged on a generation that would
// not tell c, which missed it, from b (beyond 9.2.18, which completes it;
// detsim --nodes=3 --seed=0x78fdee36333abef2 lost it when c came back and
// gave a replaced disk its data). Its block is marked toward both peers.
TEST_F(DisklessPrimary, AWriteNoPeerCanStoreTheNewUuidForFails) {
  uint64_t ha = 0;
  ASSERT_NO_FATAL_FAILURE(LoseTheDisk(ha));
  world.PartitionStall(Host(0), Host(2), true);
  world.PartitionStall(Host(1), Host(2), true);
  for (int i = 0; i < 3; ++i) N(i).sink.Clear();
  int err = -1;
  N(0).engine.IoWrite(ha, 0, sim::Pattern(4096, 1), true, [&](int e) { err = e; });
  world.RunFor(kSec / 10);
  ASSERT_EQ(Block0("/b/disk"), sim::Pattern(4096, 1));
  world.PartitionStall(Host(0), Host(1), true);
  world.RunFor(30 * kSec);
  EXPECT_EQ(err, EIO);
  EXPECT_FALSE(N(0).sink.LogContains("drbd r0/0 drbd0: sending new current UUID: "));
  EXPECT_EQ(N(0).engine.BlockOutOfSync("r0", 1, 0, 0), std::optional<bool>(true));
  EXPECT_EQ(N(0).engine.BlockOutOfSync("r0", 2, 0, 0), std::optional<bool>(true));
}

// a, diskless, loses b, the only peer with its data (c is cut off from
// it). Up-to-date data was reachable before that loss, so a's next write
// makes a new data generation (drbd 9.2.19, 1eac40e06: 9.2.18 tests the
// state after the loss only, where nothing is reachable). Here c got a's
// data from b meanwhile and is cut off again when a writes through b; the
// new generation is what tells c it missed that write (detsim --nodes=3
// --seed=0x1cff0ca17e43916f).
TEST_F(DisklessPrimary, LosingTheOnlyPeerWithItsDataOwesANewGeneration) {
  uint64_t ha = WriteWithoutDiskAndWithoutC(true);
  world.Partition(Host(0), Host(1), true);
  world.RunFor(30 * kSec);
  // c, Outdated beside b, resyncs from it once the two meet again.
  world.Partition(Host(1), Host(2), true);
  world.RunFor(30 * kSec);
  world.Partition(Host(1), Host(2), false);
  world.RunFor(30 * kSec);
  ASSERT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kUpToDate));
  ASSERT_EQ(Block0("/c/disk"), sim::Pattern(4096, 1));
  world.Partition(Host(1), Host(2), true);
  world.Partition(Host(0), Host(1), false);
  world.RunFor(30 * kSec);
  ASSERT_EQ(N(0).engine.PeerDiskOf("r0", 1, 0), std::optional(DiskState::kUpToDate));
  for (int i = 0; i < 3; ++i) N(i).sink.Clear();
  ASSERT_EQ(sim::WriteAndRun(world, N(0), ha, 0, sim::Pattern(4096, 2)), 0);
  EXPECT_TRUE(N(0).sink.LogContains("drbd r0/0 drbd0: sending new current UUID: "));
  world.Partition(Host(0), Host(2), false);
  world.RunFor(30 * kSec);
  EXPECT_NE(N(0).engine.PeerDiskOf("r0", 2, 0), std::optional(DiskState::kUpToDate));
  world.Partition(Host(1), Host(2), false);
  world.RunFor(60 * kSec);
  EXPECT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kUpToDate));
  EXPECT_EQ(Block0("/b/disk"), sim::Pattern(4096, 2));
  EXPECT_EQ(Block0("/c/disk"), sim::Pattern(4096, 2));
}

// A resync from a source that is itself Inconsistent (b, the target of an
// interrupted run) leaves the target Inconsistent: it takes the source's
// disk state (drbd_resync_finished). a's replaced disk then gets its data
// from c once c is back (detsim --nodes=3 --seed=0x055b64dcfd03cad0: such
// a run made a Primary's new disk UpToDate without the writes b lacked).
TEST_F(Quorum, AnInconsistentSourceLeavesItsTargetInconsistent) {
  Up(0, kIoError);
  world.Partition(Host(0), Host(2), true);
  world.Partition(Host(1), Host(2), true);
  world.RunFor(30 * kSec);
  OptionSet slow(cfg::OptContext::kPeerDeviceOptions);
  slow.Set("c-plan-ahead", 0);
  slow.Set("resync-rate", 2000);  // KiB/s: the device takes seconds
  ASSERT_EQ(N(0).engine.PeerDeviceOptions(N(0).PeerVol("r0", 1, 0), slow, false).ret,
            Ret::kNoError);
  ASSERT_EQ(N(1).engine.Invalidate(N(1).Minor(0)).ret, Ret::kSsSuccess);
  world.RunFor(kSec / 5);
  ASSERT_EQ(N(1).engine.ReplStateOf("r0", 0, 0), std::optional(ReplState::kSyncTarget));
  ASSERT_EQ(N(0).engine.Detach(N(0).Minor(0), true).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(N(1).engine.DiskStateOf(0), std::optional(DiskState::kInconsistent));
  ASSERT_TRUE(sim::MakeMetadata(world, "/a/disk", sim::kDiskBytes, md::kMdfAlClean,
                                md::kUuidJustCreated, -1, 2));
  N(1).sink.Clear();
  ASSERT_EQ(N(0).Attach(0, "/a/disk").ret, Ret::kNoError);
  world.RunFor(10 * kSec);
  EXPECT_TRUE(N(1).sink.LogContains("drbd r0/0 drbd0 a: Began resync as SyncSource"));
  EXPECT_EQ(N(0).engine.DiskStateOf(0), std::optional(DiskState::kInconsistent));
  EXPECT_EQ(N(1).engine.DiskStateOf(0), std::optional(DiskState::kInconsistent));
  EXPECT_EQ(N(1).engine.PeerDiskOf("r0", 0, 0), std::optional(DiskState::kInconsistent));
  world.Partition(Host(0), Host(2), false);
  world.Partition(Host(1), Host(2), false);
  world.RunFor(60 * kSec);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(N(i).engine.DiskStateOf(0), std::optional(DiskState::kUpToDate)) << i;
  }
}

// A Secondary that is SyncTarget of another Secondary while the Primary
// writes (three nodes): resync data the source read before the Primary's
// write reached it arrives at the target after that write and must not
// overwrite it (detsim seed 0x5a8e7f31a0835b6b). The target refuses it;
// the source sends the block again, read after the write.
TEST_F(Quorum, APrimarysWriteIsNotOverwrittenByAnotherSourcesOlderResyncData) {
  Up(0, kIoError);
  OptionSet slow(cfg::OptContext::kPeerDeviceOptions);
  slow.Set("c-plan-ahead", 0);
  slow.Set("resync-rate", 20000);  // KiB/s: the device takes seconds
  ASSERT_EQ(N(1).engine.PeerDeviceOptions(N(1).PeerVol("r0", 2, 0), slow, false).ret,
            Ret::kNoError);
  const uint64_t ha = Writer(0);
  ASSERT_EQ(N(1).engine.InvalidateRemote(N(1).PeerVol("r0", 2, 0)).ret, Ret::kSsSuccess);
  world.RunFor(kSec / 5);
  ASSERT_EQ(N(2).engine.ReplStateOf("r0", 1, 0), std::optional(ReplState::kSyncTarget));
  // 200 ms each way, longer than the 100 ms between the source's batches:
  // b reads its next batch before a's write reaches it.
  world.set_latency_ns(200000000);
  world.RunFor(kSec / 10);
  const uint64_t size = N(0).engine.DeviceBytes(0).value();
  std::map<uint64_t, std::vector<uint8_t>> expect;  // by 4 KiB block
  uint64_t last = N(1).engine.ResyncBytesSent("r0", 2, 0).value();
  for (int i = 0; i < 8; ++i) {
    for (int t = 0; t < 300 && N(1).engine.ResyncBytesSent("r0", 2, 0).value() == last; ++t) {
      world.RunFor(1000000);
    }
    const uint64_t sent = N(1).engine.ResyncBytesSent("r0", 2, 0).value();
    ASSERT_GT(sent, last) << "write " << i << " of a " << size << "-byte device";
    last = sent;
    // Blocks of b's next batch, read before a's write reaches b.
    const uint64_t off = sent + 16 * 4096;
    ASSERT_LT(off + 4096, size);
    std::vector<uint8_t> data = sim::Pattern(4096, static_cast<uint8_t>(i + 20));
    expect[off / 4096] = data;
    N(0).engine.IoWrite(ha, off, std::move(data), false, [](int e) { EXPECT_EQ(e, 0); });
  }
  world.set_latency_ns(100000);
  world.RunFor(60 * kSec);
  ASSERT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kUpToDate));
  ASSERT_EQ(N(2).engine.ReplStateOf("r0", 1, 0), std::optional(ReplState::kEstablished));
  const auto c_disk = world.DiskBytes("/c/disk");
  ASSERT_TRUE(c_disk);
  for (const auto& [block, data] : expect) {
    EXPECT_TRUE(std::equal(data.begin(), data.end(), c_disk->begin() + block * 4096))
        << "block " << block;
  }
}

// invalidate with sync-from-peer-node-id on a Secondary beside a Primary
// (three nodes): c goes Outdated and asks b for the resync; the Primary's
// STATE arriving meanwhile does not bring c's disk back to UpToDate
// (sanitize_state upgrades an Outdated disk on a live connection only when
// the peer's own disk comes up from Outdated). Before, b saw c UpToDate a
// moment after beginning the resync, ended it, and c stayed SyncTarget.
TEST_F(Quorum, InvalidateFromASecondaryBesideAPrimaryResyncsToTheEnd) {
  Up(0, kIoError);
  OptionSet slow(cfg::OptContext::kPeerDeviceOptions);
  slow.Set("c-plan-ahead", 0);
  slow.Set("resync-rate", 20000);  // KiB/s
  ASSERT_EQ(N(1).engine.PeerDeviceOptions(N(1).PeerVol("r0", 2, 0), slow, false).ret,
            Ret::kNoError);
  Writer(0);
  ASSERT_EQ(N(2).engine.Invalidate(N(2).Minor(0), true, 1).ret, Ret::kSsSuccess);
  world.RunFor(kSec / 2);
  EXPECT_EQ(N(1).engine.ReplStateOf("r0", 2, 0), std::optional(ReplState::kSyncSource));
  EXPECT_EQ(N(2).engine.ReplStateOf("r0", 1, 0), std::optional(ReplState::kSyncTarget));
  EXPECT_FALSE(N(2).sink.LogContains("disk( Outdated -> UpToDate )"));
  world.RunFor(60 * kSec);
  EXPECT_EQ(N(2).engine.DiskStateOf(0), std::optional(DiskState::kUpToDate));
  EXPECT_EQ(N(2).engine.ReplStateOf("r0", 1, 0), std::optional(ReplState::kEstablished));
  EXPECT_EQ(N(1).engine.PeerDiskOf("r0", 2, 0), std::optional(DiskState::kUpToDate));
  EXPECT_EQ(N(0).engine.PeerDiskOf("r0", 2, 0), std::optional(DiskState::kUpToDate));
  EXPECT_TRUE(N(2).sink.LogContains("Resync done"));
  const uint64_t sent = N(1).engine.ResyncBytesSent("r0", 2, 0).value();
  EXPECT_EQ(sent, N(0).engine.DeviceBytes(0).value());
}

}  // namespace
}  // namespace drbd::engine
