// SPDX-License-Identifier: GPL-2.0-or-later
// Usermode helpers and fencing in the deterministic world: which handlers
// run when, with the kernel's argv/environment (pinned against the
// umh-calls.txt of the 9.2.18 captures), the events2 call/response
// notifications, the fence-peer exit codes and their effect on the peer's
// disk state, and IO frozen under resource-and-stonith until fence-peer
// answers.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <tuple>

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

constexpr uint64_t kMs = 1000000;

class Helpers : public ::testing::Test {
 protected:
  Helpers() : ha(world), hb(world), a(world, "a", &ha), b(world, "b", &hb) {}

  // r0 on a (node 0) and b (node 1), connected; `fencing` 0..2.
  void Up(int64_t fencing = 0, bool skip_initial_sync = true) {
    sim::PairOptions o;
    o.net.Set("fencing", fencing);
    o.skip_initial_sync = skip_initial_sync;
    ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  }
  // a Primary with a write open; returns the handle.
  uint64_t PrimaryWriter() {
    const uint64_t h = sim::PrimaryWriter(a);
    EXPECT_NE(h, 0u);
    return h;
  }
  void Cut(bool cut) { world.Partition("10.0.0.1", "10.0.0.2", cut); }
  // Helper notifications of `n` (call or response) for handler `name`.
  static std::vector<events::Helper> Notes(const Node& n, const std::string& name) {
    std::vector<events::Helper> out;
    for (const events::Notification& x : n.sink.notes) {
      if (const auto* h = std::get_if<events::Helper>(&x.object); h && h->name == name) {
        out.push_back(*h);
      }
    }
    return out;
  }
  static bool SuspFen(const Node& n) {
    for (const events::Notification& x : n.engine.InitialState("r0", true)) {
      if (const auto* r = std::get_if<events::Resource>(&x.object)) return r->info.susp.fencing;
    }
    return false;
  }

  World world;
  ScriptedHelpers ha;
  ScriptedHelpers hb;
  Node a;
  Node b;
};

TEST_F(Helpers, ResyncHandlersGetTheKernelsArgvAndEnvironment) {
  Up(0, false);
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  world.RunFor(30 * kSec);
  ASSERT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(ha.Names(), (std::vector<std::string>{"before-resync-source"}));
  EXPECT_EQ(hb.Names(), (std::vector<std::string>{"before-resync-target", "after-resync-target"}));
  // Order and contents as drbd_khelper builds them (umh-calls.txt of the
  // captures shows the same set, sorted).
  const sim::HelperCall& c = hb.calls().at(0).call;
  EXPECT_EQ(c.resource, "r0");
  EXPECT_EQ(c.env, (std::vector<std::string>{
                       "HOME=/", "TERM=linux", "PATH=/sbin:/usr/sbin:/bin:/usr/bin", "DRBD_MINOR=0",
                       "DRBD_VOLUME=0", "DRBD_BACKING_DEV=/b/disk", "DRBD_MY_ADDRESS=10.0.0.2",
                       "DRBD_MY_AF=ipv4", "DRBD_PEER_ADDRESS=10.0.0.1", "DRBD_PEER_AF=ipv4",
                       "DRBD_PEER_NODE_ID=0", "DRBD_CSTATE=Connected"}));
  EXPECT_TRUE(
      b.sink.LogContains("drbd r0/0 drbd0 a: helper command: /sbin/drbdadm before-resync-target"));
  EXPECT_TRUE(b.sink.LogContains(
      "drbd r0/0 drbd0 a: helper command: /sbin/drbdadm after-resync-target exit code 0"));
  // events2: "call helper name:r0 peer-node-id:0 conn-name:a volume:0
  // minor:0 helper:before-resync-target", then the response with status.
  std::vector<events::Helper> n = Notes(b, "before-resync-target");
  ASSERT_EQ(n.size(), 2u);
  EXPECT_FALSE(n[0].response);
  EXPECT_TRUE(n[1].response);
  EXPECT_EQ(n[0].resource, "r0");
  EXPECT_EQ(n[0].peer_node_id, 0u);
  EXPECT_EQ(n[0].conn_name, "a");
  EXPECT_EQ(n[0].volume, 0u);
  EXPECT_EQ(n[0].minor, 0u);
  EXPECT_EQ(n[1].status, 0u);
}

TEST_F(Helpers, DisconnectedHandlerGetsPerVolumeVariables) {
  Up();
  Cut(true);
  world.RunFor(kSec);
  std::optional<size_t> i = ha.Last("disconnected");
  ASSERT_TRUE(i.has_value());
  const ScriptedHelpers::Call& c = ha.calls()[*i];
  EXPECT_EQ(c.Env("DRBD_MINOR_0"), "0");
  EXPECT_EQ(c.Env("DRBD_BACKING_DEV_0"), "/a/disk");
  EXPECT_EQ(c.Env("DRBD_VOLUME"), std::nullopt);
  EXPECT_EQ(c.Env("DRBD_PEER_NODE_ID"), "1");
  EXPECT_NE(c.Env("DRBD_CSTATE"), "Connected");
  // A connection helper: no volume/minor in the notification.
  std::vector<events::Helper> n = Notes(a, "disconnected");
  ASSERT_FALSE(n.empty());
  EXPECT_FALSE(n[0].volume.has_value());
  EXPECT_EQ(n[0].conn_name, "b");
  // No fencing configured: no fence-peer.
  EXPECT_FALSE(ha.Last("fence-peer").has_value());
}

TEST_F(Helpers, DisabledHelpersSendNoNotifications) {
  World w;
  Node x(w, "x"), y(w, "y");
  ASSERT_EQ(sim::UpPair(w, x, y), "");
  w.Partition("10.0.0.1", "10.0.0.2", true);
  w.RunFor(kSec);
  for (const events::Notification& n : x.sink.notes) {
    EXPECT_FALSE(std::holds_alternative<events::Helper>(n.object));
  }
}

TEST_F(Helpers, FencePeerOnLossWhilePrimaryOutdatesThePeer) {
  Up(1);  // resource-only
  PrimaryWriter();
  ha.Script("fence-peer", 4);
  Cut(true);
  world.RunFor(kSec);
  std::optional<size_t> i = ha.Last("fence-peer");
  ASSERT_TRUE(i.has_value());
  const ScriptedHelpers::Call& c = ha.calls()[*i];
  EXPECT_EQ(c.call.resource, "r0");
  EXPECT_EQ(c.Env("DRBD_PEER_NODE_ID"), "1");
  EXPECT_EQ(c.Env("DRBD_MINOR_0"), "0");
  // Only this node is known UpToDate now that the peer is unknown.
  EXPECT_EQ(c.Env("UP_TO_DATE_NODES"), "0x00000001");
  EXPECT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kOutdated);
  EXPECT_TRUE(a.sink.LogContains("drbd r0 b: fence-peer helper returned 4 (peer was fenced)"));
  EXPECT_FALSE(SuspFen(a));  // resource-only never freezes IO
  // The Secondary does not fence.
  EXPECT_FALSE(hb.Last("fence-peer").has_value());
}

TEST_F(Helpers, FencePeerExitCodesSetThePeerDiskState) {
  struct Case {
    int code;
    DiskState pdsk;
    const char* text;
  };
  for (const Case& k : {Case{3, DiskState::kInconsistent, "peer is inconsistent or worse"},
                        Case{5, DiskState::kOutdated, "peer is unreachable, assumed to be dead"},
                        Case{7, DiskState::kOutdated, "peer was stonithed"}}) {
    SCOPED_TRACE(k.code);
    World w;
    ScriptedHelpers hx(w);
    Node x(w, "x", &hx), y(w, "y");
    sim::PairOptions o;
    o.net.Set("fencing", int64_t{2});
    ASSERT_EQ(sim::UpPair(w, x, y, o), "");
    ASSERT_EQ(x.engine.Primary(x.Res("r0"), false).ret, Ret::kSsSuccess);
    hx.Script("fence-peer", k.code);
    w.Partition("10.0.0.1", "10.0.0.2", true);
    w.RunFor(kSec);
    EXPECT_EQ(x.engine.PeerDiskOf("r0", 1, 0), k.pdsk);
    EXPECT_TRUE(x.sink.LogContains("fence-peer helper returned " + std::to_string(k.code) + " (" +
                                   k.text + ")"));
  }
}

TEST_F(Helpers, StonithFreezesIoUntilFencePeerAnswers) {
  Up(2);  // resource-and-stonith
  uint64_t h = PrimaryWriter();
  ha.Hold("fence-peer");
  Cut(true);
  world.RunFor(100 * kMs);
  ASSERT_TRUE(ha.Last("fence-peer").has_value());
  EXPECT_TRUE(SuspFen(a));
  EXPECT_TRUE(a.sink.LogContains("drbd r0: susp-io( no -> fencing )"));
  std::optional<int> got;
  a.engine.IoWrite(h, 0, sim::Pattern(4096, 7), false, [&](int e) { got = e; });
  world.RunFor(5 * kSec);
  EXPECT_FALSE(got.has_value()) << "write completed while IO was frozen";
  ha.Answer(*ha.Last("fence-peer"), 7);
  world.RunFor(kSec);
  EXPECT_EQ(got, 0);
  EXPECT_FALSE(SuspFen(a));
  EXPECT_TRUE(a.sink.LogContains("drbd r0: susp-io( fencing -> no ) [after-fencing]"));
  EXPECT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kOutdated);
}

TEST_F(Helpers, BrokenFencePeerLeavesIoFrozenUntilResumeIo) {
  Up(2);
  uint64_t h = PrimaryWriter();
  ha.Script("fence-peer", 1);
  Cut(true);
  world.RunFor(kSec);
  EXPECT_TRUE(a.sink.LogContains("drbd r0 b: fence-peer helper broken, returned 1"));
  EXPECT_TRUE(SuspFen(a));
  std::optional<int> got;
  a.engine.IoWrite(h, 0, sim::Pattern(4096, 3), false, [&](int e) { got = e; });
  world.RunFor(kSec);
  EXPECT_FALSE(got.has_value());
  a.engine.ResumeIo(a.Res("r0"));
  world.RunFor(kSec);
  EXPECT_EQ(got, 0);
  EXPECT_FALSE(SuspFen(a));
}

TEST_F(Helpers, UnfencePeerAfterTheFencedPeerResyncs) {
  Up(1);
  uint64_t h = PrimaryWriter();
  ha.Script("fence-peer", 4);
  Cut(true);
  world.RunFor(kSec);
  ASSERT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kOutdated);
  ASSERT_EQ(sim::WriteAndRun(world, a, h, 0, sim::Pattern(8192, 1)), 0);
  // (The first connect already made both UpToDate: one unfence-peer then.)
  std::optional<size_t> before = ha.Last("unfence-peer");
  size_t fenced_at = *ha.Last("fence-peer");
  EXPECT_TRUE(!before || *before < fenced_at);
  Cut(false);
  world.RunFor(30 * kSec);
  ASSERT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kUpToDate);
  std::optional<size_t> i = ha.Last("unfence-peer");
  ASSERT_TRUE(i.has_value());
  EXPECT_GT(*i, fenced_at);
  EXPECT_EQ(ha.calls()[*i].Env("DRBD_CSTATE"), "Connected");
  EXPECT_TRUE(ha.calls()[*i].Env("UP_TO_DATE_NODES").has_value());
  // The resync ran between the two: b was the target.
  EXPECT_TRUE(hb.Last("after-resync-target").has_value());
}

TEST_F(Helpers, FailingBeforeResyncTargetDropsTheConnection) {
  hb.Script("before-resync-target", 1);
  Up(0, false);
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  EXPECT_TRUE(b.sink.LogContains(
      "drbd r0/0 drbd0: before-resync-target handler returned 1, dropping connection."));
  EXPECT_EQ(b.engine.ConnStateOf("r0", 0), ConnState::kStandAlone);
}

TEST_F(Helpers, PromotingWithAnUnknownPeerRunsFencePeerFirst) {
  Up(1);
  Cut(true);
  world.RunFor(kSec);
  ASSERT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kDUnknown);
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsPrimaryNop);
  ha.Script("fence-peer", 5);
  std::optional<Reply> got;
  a.engine.PrimaryFenced(a.Res("r0"), false, [&](Reply r) { got = r; });
  world.RunFor(kSec);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->ret, Ret::kSsSuccess);
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kPrimary);
  EXPECT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kOutdated);
  EXPECT_TRUE(
      a.sink.LogContains("fence-peer helper returned 5 (peer is unreachable, assumed to be dead)"));
}

TEST_F(Helpers, PromotionIsRefusedWhenFencePeerSaysThePeerIsPrimary) {
  Up(1);
  Cut(true);
  world.RunFor(kSec);
  ha.Script("fence-peer", 6);
  std::optional<Reply> got;
  a.engine.PrimaryFenced(a.Res("r0"), false, [&](Reply r) { got = r; });
  world.RunFor(kSec);
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(IsSuccess(got->ret));
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kSecondary);
  EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kOutdated);
  EXPECT_TRUE(a.sink.LogContains("drbd r0 b: Peer is primary, outdating myself."));
}

TEST_F(Helpers, Ipv6AddressesArePrintedAsTheKernelsPI6) {
  // r0 between [fd00::1] and [fd00::2] (the kernel's %pI6: eight 4-digit groups).
  auto ip6 = [](const std::string& host) {
    sim::Address x;
    x.family = sim::Address::Family::kIpv6;
    x.host = host;
    x.port = 7788;
    return x;
  };
  for (auto [n, me, peer, name] : {std::tuple{&a, 0u, 1u, "b"}, std::tuple{&b, 1u, 0u, "a"}}) {
    ASSERT_EQ(n->NewResource("r0", me), Ret::kNoError);
    ASSERT_EQ(n->NewMinor("r0", 0, 0), Ret::kNoError);
    ASSERT_EQ(n->NewPeer("r0", peer, name), Ret::kNoError);
    std::string mine = me == 0 ? "fd00::1" : "fd00::2";
    std::string theirs = me == 0 ? "fd00::2" : "fd00::1";
    ASSERT_EQ(n->NewPath("r0", peer, ip6(mine), ip6(theirs)), Ret::kNoError);
    std::string disk = me == 0 ? "/a/disk" : "/b/disk";
    ASSERT_TRUE(sim::MakeMetadata(world, disk, sim::kDiskBytes));
    ASSERT_EQ(n->Attach(0, disk).ret, Ret::kNoError);
    ASSERT_EQ(n->Connect("r0", peer), Ret::kSsSuccess);
  }
  world.RunFor(kSec);
  ASSERT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnected);
  world.Partition("fd00::1", "fd00::2", true);
  world.RunFor(kSec);
  std::optional<size_t> i = ha.Last("disconnected");
  ASSERT_TRUE(i.has_value());
  EXPECT_EQ(ha.calls()[*i].Env("DRBD_MY_ADDRESS"), "fd00:0000:0000:0000:0000:0000:0000:0001");
  EXPECT_EQ(ha.calls()[*i].Env("DRBD_MY_AF"), "ipv6");
  EXPECT_EQ(ha.calls()[*i].Env("DRBD_PEER_ADDRESS"), "fd00:0000:0000:0000:0000:0000:0000:0002");
}

TEST_F(Helpers, VerifyThatFoundBlocksOutOfSyncCallsOutOfSyncOnBothSides) {
  sim::PairOptions o;
  o.net.Set("verify-alg", std::string("crc32c"));
  ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  auto bytes = world.DiskBytes("/b/disk");
  (*bytes)[5 * 4096 + 7] ^= 0x5a;  // behind DRBD's back
  ASSERT_EQ(a.engine.StartVerify(a.PeerVol("r0", 1, 0), std::nullopt, std::nullopt).ret,
            Ret::kSsSuccess);
  world.RunFor(10 * kSec);
  ASSERT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
  std::optional<size_t> i = ha.Last("out-of-sync");
  ASSERT_TRUE(i.has_value());
  EXPECT_EQ(ha.calls()[*i].Env("DRBD_MINOR"), "0");
  EXPECT_EQ(ha.calls()[*i].Env("DRBD_CSTATE"), "Connected");
  EXPECT_TRUE(hb.Last("out-of-sync").has_value());
}

}  // namespace
}  // namespace drbd::engine
