// SPDX-License-Identifier: GPL-2.0-or-later
// Two- and three-engine scenarios over the deterministic world: the
// connection state machine, cram-hmac-alg authentication, role and disk
// exchange and the replication state the UUID comparison selects. Event
// sequences follow /work/shared/spec/captures/drbd-9.2.18/99-events2-live.txt.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/proto/wire.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::Ip4;
using sim::kDiskBytes;
using sim::kSec;
using sim::Node;
using sim::World;

class TwoNodes : public ::testing::Test {
 protected:
  TwoNodes() : a(world, "a"), b(world, "b") {}

  // r0 on a (node 0, 10.0.0.1) and b (node 1, 10.0.0.2), minor 0 each,
  // attached to fresh metadata unless `attach` is false.
  void Configure(const OptionSet& net_a = OptionSet(cfg::OptContext::kNewPeer),
                 const OptionSet& net_b = OptionSet(cfg::OptContext::kNewPeer),
                 bool attach = true) {
    ASSERT_EQ(a.NewResource("r0", 0), Ret::kNoError);
    ASSERT_EQ(b.NewResource("r0", 1), Ret::kNoError);
    ASSERT_EQ(a.NewMinor("r0", 0, 0), Ret::kNoError);
    ASSERT_EQ(b.NewMinor("r0", 0, 0), Ret::kNoError);
    ASSERT_EQ(a.NewPeer("r0", 1, "b", net_a), Ret::kNoError);
    ASSERT_EQ(b.NewPeer("r0", 0, "a", net_b), Ret::kNoError);
    ASSERT_EQ(a.NewPath("r0", 1, Ip4("10.0.0.1", 7788), Ip4("10.0.0.2", 7788)), Ret::kNoError);
    ASSERT_EQ(b.NewPath("r0", 0, Ip4("10.0.0.2", 7788), Ip4("10.0.0.1", 7788)), Ret::kNoError);
    if (attach) {
      ASSERT_TRUE(sim::MakeMetadata(world, "/a/disk", kDiskBytes));
      ASSERT_TRUE(sim::MakeMetadata(world, "/b/disk", kDiskBytes));
      ASSERT_EQ(a.Attach(0, "/a/disk").ret, Ret::kNoError);
      ASSERT_EQ(b.Attach(0, "/b/disk").ret, Ret::kNoError);
    }
  }
  // The fixed default resync-rate (c-plan-ahead 0) on both sides: a full
  // sync of the 32 MiB disk is still running a second later.
  void FixedRate() {
    OptionSet fixed(cfg::OptContext::kPeerDeviceOptions);
    fixed.Set("c-plan-ahead", int64_t{0});
    ASSERT_EQ(a.engine.PeerDeviceOptions(a.PeerVol("r0", 1, 0), fixed, false).ret, Ret::kNoError);
    ASSERT_EQ(b.engine.PeerDeviceOptions(b.PeerVol("r0", 0, 0), fixed, false).ret, Ret::kNoError);
  }
  void ConnectBoth() {
    ASSERT_EQ(a.Connect("r0", 1), Ret::kSsSuccess);
    ASSERT_EQ(b.Connect("r0", 0), Ret::kSsSuccess);
    world.RunFor(kSec);
  }
  // a starts the data generation without a resync (new-current-uuid
  // --clear-bitmap): both sides UpToDate.
  void SkipInitialSync() {
    ASSERT_EQ(a.engine.NewCurrentUuid(a.Minor(0), true).ret, Ret::kNoError);
    world.RunFor(kSec);
  }
  void PromoteA() {
    ASSERT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsSuccess);
    world.RunFor(kSec);
  }
  bool Connected() {
    return a.engine.ConnStateOf("r0", 1) == ConnState::kConnected &&
           b.engine.ConnStateOf("r0", 0) == ConnState::kConnected;
  }
  static OptionSet Auth(const std::string& secret) {
    OptionSet o(cfg::OptContext::kNewPeer);
    o.Set("cram-hmac-alg", std::string("sha1"));
    o.Set("shared-secret", secret);
    return o;
  }
  static std::vector<std::string> Matching(const std::vector<std::string>& lines,
                                           const std::string& what) {
    std::vector<std::string> out;
    for (const auto& l : lines) {
      if (l.find(what) != std::string::npos) out.push_back(l);
    }
    return out;
  }

  World world;
  Node a;
  Node b;
};

TEST_F(TwoNodes, ConnectReachesConnectedEstablished) {
  Configure();
  a.sink.Clear();
  ConnectBoth();
  ASSERT_TRUE(Connected());
  EXPECT_EQ(a.engine.PeerRoleOf("r0", 1), Role::kSecondary);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
  EXPECT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kInconsistent);
  EXPECT_EQ(b.engine.PeerDiskOf("r0", 0, 0), DiskState::kInconsistent);
  // The capture's sequence for r0: Unconnected, Connecting, path
  // established, Connected with the peer's role, peer device Established.
  EXPECT_EQ(a.sink.Lines(),
            (std::vector<std::string>{
                "change connection name:r0 peer-node-id:1 conn-name:b connection:Unconnected "
                "role:Unknown",
                "change connection name:r0 peer-node-id:1 conn-name:b connection:Connecting "
                "role:Unknown",
                "change path name:r0 peer-node-id:1 conn-name:b local:ipv4:10.0.0.1:7788 "
                "peer:ipv4:10.0.0.2:7788 established:yes",
                "change connection name:r0 peer-node-id:1 conn-name:b connection:Connected "
                "role:Secondary",
                "change peer-device name:r0 peer-node-id:1 conn-name:b volume:0 "
                "replication:Established peer-disk:Inconsistent peer-client:no "
                "resync-suspended:no"}));
  EXPECT_TRUE(a.sink.LogContains("uuid_compare()=no-sync by rule=just-created-both"));
  EXPECT_TRUE(a.sink.LogContains(
      "drbd r0 b: conn( Connecting -> Connected ) peer( Unknown -> Secondary ) [connected]"));
  EXPECT_TRUE(
      a.sink.LogContains("drbd r0/0 drbd0 b: pdsk( DUnknown -> Inconsistent ) repl( Off -> "
                         "Established ) [connected]"));
}

TEST_F(TwoNodes, ConnectWorksWhenOnlyOneSideDialsLater) {
  Configure();
  ASSERT_EQ(a.Connect("r0", 1), Ret::kSsSuccess);
  world.RunFor(30 * kSec);  // a dials, is refused, retries every connect-int
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnecting);
  ASSERT_EQ(b.Connect("r0", 0), Ret::kSsSuccess);
  world.RunFor(kSec);
  EXPECT_TRUE(Connected());
}

TEST_F(TwoNodes, SharedSecretAuthenticates) {
  Configure(Auth("s3cr3t"), Auth("s3cr3t"));
  ConnectBoth();
  EXPECT_TRUE(Connected());
  EXPECT_TRUE(a.sink.LogContains("drbd r0 b: Peer authenticated using 20 bytes HMAC"));
  EXPECT_TRUE(b.sink.LogContains("drbd r0 a: Peer authenticated using 20 bytes HMAC"));
}

TEST_F(TwoNodes, WrongSecretIsRefusedAndBothGoStandAlone) {
  Configure(Auth("one"), Auth("two"));
  ConnectBoth();
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kStandAlone);
  EXPECT_EQ(b.engine.ConnStateOf("r0", 0), ConnState::kStandAlone);
  EXPECT_TRUE(a.sink.LogContains("drbd r0 b: Authentication of peer failed"));
  EXPECT_TRUE(b.sink.LogContains("drbd r0 a: Authentication of peer failed"));
  // Never Connected on either side.
  EXPECT_TRUE(Matching(a.sink.Lines(), "connection:Connected").empty());
}

TEST_F(TwoNodes, AuthOnOneSideOnlyNeverConnects) {
  Configure(Auth("x"), OptionSet(cfg::OptContext::kNewPeer));
  ConnectBoth();
  world.RunFor(5 * kSec);
  EXPECT_FALSE(Connected());
  EXPECT_TRUE(a.sink.LogContains("Authentication of peer failed, trying again."));
}

TEST_F(TwoNodes, IncompatibleProtocolGoesStandAlone) {
  OptionSet proto_a(cfg::OptContext::kNewPeer);
  proto_a.Set("protocol", int64_t{1});
  Configure(proto_a, OptionSet(cfg::OptContext::kNewPeer));
  ConnectBoth();
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kStandAlone);
  EXPECT_TRUE(a.sink.LogContains("drbd r0 b: incompatible protocol settings"));
}

// A peer that speaks only peer protocol version 1 (16-bit blob lengths,
// docs/formats/peer-protocol.md) is refused at its HELLO, before any blob
// could be misread, with the kernel's words for incompatible dialects.
TEST(PeerVersion, AVersionOnePeerIsRefusedAtItsHello) {
  World world;
  Node a(world, "a");
  ASSERT_EQ(a.NewResource("r0", 0), Ret::kNoError);
  ASSERT_EQ(a.NewMinor("r0", 0, 0), Ret::kNoError);
  ASSERT_EQ(a.NewPeer("r0", 1, "b"), Ret::kNoError);
  ASSERT_EQ(a.NewPath("r0", 1, Ip4("10.0.0.1", 7788), Ip4("10.0.0.2", 7788)), Ret::kNoError);
  // The old peer: it answers each stream a opens with a version-1 HELLO.
  std::vector<std::unique_ptr<sim::Stream>> streams;
  sim::NetError err = sim::NetError::kNone;
  ASSERT_NE(world.net()->Listen(
                Ip4("10.0.0.2", 7788),
                [&streams](std::unique_ptr<sim::Stream> s) {
                  s->Start({});
                  proto::Hello old;
                  old.proto_min = 1;
                  old.proto_max = 1;
                  old.sender_node_id = 1;
                  old.receiver_node_id = 0;
                  old.resource = "r0";
                  s->Send(proto::Encode(old));
                  streams.push_back(std::move(s));
                },
                &err),
            0u);
  ASSERT_EQ(a.Connect("r0", 1), Ret::kSsSuccess);
  world.RunFor(kSec);
  EXPECT_FALSE(streams.empty());
  const std::string want = "incompatible DRBD dialects: I support 2-2, peer supports 1-1";
  EXPECT_TRUE(std::any_of(a.sink.log.begin(), a.sink.log.end(), [&](const std::string& l) {
    return l.find(want) != std::string::npos;
  }));
  EXPECT_NE(a.engine.ConnStateOf("r0", 1), ConnState::kConnected);
}

TEST_F(TwoNodes, ForcedPrimarySelectsSyncSourceAndTarget) {
  Configure();
  FixedRate();
  ConnectBoth();
  ASSERT_TRUE(Connected());
  EXPECT_EQ(a.engine.Primary(a.Res("r0"), false).ret, Ret::kSsNoUpToDateDisk);
  EXPECT_EQ(a.engine.Primary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  EXPECT_EQ(b.engine.PeerRoleOf("r0", 0), Role::kPrimary);
  EXPECT_EQ(b.engine.PeerDiskOf("r0", 0, 0), DiskState::kUpToDate);
  EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kSyncTarget);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncSource);
  EXPECT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kInconsistent);
}

TEST_F(TwoNodes, SecondPrimaryNeedsAllowTwoPrimaries) {
  Configure();
  ConnectBoth();
  SkipInitialSync();
  ASSERT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);  // skipped initial sync
  PromoteA();
  EXPECT_EQ(b.engine.Primary(b.Res("r0"), false).ret, Ret::kSsTwoPrimaries);
  EXPECT_EQ(b.engine.Primary(b.Res("r0"), true).ret, Ret::kSsTwoPrimaries);
}

TEST_F(TwoNodes, AllowTwoPrimariesPermitsBoth) {
  OptionSet two(cfg::OptContext::kNewPeer);
  two.Set("allow-two-primaries", int64_t{1});
  Configure(two, two);
  ConnectBoth();
  SkipInitialSync();
  PromoteA();
  EXPECT_EQ(b.engine.Primary(b.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  EXPECT_EQ(a.engine.PeerRoleOf("r0", 1), Role::kPrimary);
  // Clearing allow-two-primaries while both are Primary is refused.
  OptionSet off(cfg::OptContext::kNetOptions);
  off.Set("allow-two-primaries", int64_t{0});
  EXPECT_EQ(a.engine.NetOptions(a.Peer("r0", 1), off, false).ret, Ret::kErrNeedAllowTwoPri);
}

TEST_F(TwoNodes, DisklessPrimaryUsesPeersUpToDateData) {
  Configure();
  ConnectBoth();
  SkipInitialSync();
  ASSERT_EQ(b.engine.Detach(b.Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  EXPECT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kDiskless);
  EXPECT_EQ(b.engine.Primary(b.Res("r0"), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  // Disconnecting would cut the diskless Primary off its data.
  EXPECT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kSsNoUpToDateDisk);
  EXPECT_EQ(b.engine.Disconnect(b.Peer("r0", 0), true).ret, Ret::kNoError);
}

TEST_F(TwoNodes, DisconnectGoesStandAloneAndPeerReconnects) {
  Configure();
  ConnectBoth();
  ASSERT_TRUE(Connected());
  a.sink.Clear();
  b.sink.Clear();
  EXPECT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_EQ(b.engine.ConnStateOf("r0", 0), ConnState::kStandAlone);
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnecting);
  // The capture: the peer sees TearDown, then Unconnected, Connecting.
  EXPECT_EQ(
      Matching(a.sink.Lines(), "change connection"),
      (std::vector<std::string>{
          "change connection name:r0 peer-node-id:1 conn-name:b connection:TearDown role:Unknown",
          "change connection name:r0 peer-node-id:1 conn-name:b connection:Unconnected "
          "role:Unknown",
          "change connection name:r0 peer-node-id:1 conn-name:b connection:Connecting "
          "role:Unknown"}));
  EXPECT_EQ(Matching(b.sink.Lines(), "change connection"),
            (std::vector<std::string>{"change connection name:r0 peer-node-id:0 conn-name:a "
                                      "connection:Disconnecting role:Unknown",
                                      "change connection name:r0 peer-node-id:0 conn-name:a "
                                      "connection:StandAlone role:Unknown"}));
  ASSERT_EQ(b.Connect("r0", 0), Ret::kSsSuccess);
  world.RunFor(kSec);
  EXPECT_TRUE(Connected());
}

TEST_F(TwoNodes, SecondaryLeavingAPrimaryOutdatesItself) {
  Configure();
  ConnectBoth();
  SkipInitialSync();
  PromoteA();
  EXPECT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kNoError);
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kOutdated);
}

TEST_F(TwoNodes, NetworkFailureRetriesAndReconnects) {
  Configure();
  ConnectBoth();
  ASSERT_TRUE(Connected());
  a.sink.Clear();
  world.Partition("10.0.0.1", "10.0.0.2", true);
  world.RunFor(kSec);
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnecting);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kOff);
  EXPECT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kDUnknown);
  EXPECT_EQ(Matching(a.sink.Lines(), "change connection")[0],
            "change connection name:r0 peer-node-id:1 conn-name:b connection:NetworkFailure "
            "role:Unknown");
  EXPECT_EQ(
      Matching(a.sink.Lines(), "change path"),
      std::vector<std::string>{"change path name:r0 peer-node-id:1 conn-name:b "
                               "local:ipv4:10.0.0.1:7788 peer:ipv4:10.0.0.2:7788 established:no"});
  world.Partition("10.0.0.1", "10.0.0.2", false);
  world.RunFor(20 * kSec);
  EXPECT_TRUE(Connected());
}

// The live soak's proxy cut (tests/integration/simd_soak.py, issue #6,
// detsim seed 0xed7dbd5cb69ab8c5 with partition-stall): pings fail, both
// sides dial into the stalled link and their handshake streams sit there,
// connected but silent, while the connect-int retry ticks past them. The
// link heals and is cut at once: the handshake streams die by their peers'
// hands, not by the handshake timeout. Both sides must dial again (the
// kernel's receiver starts conn_connect over); they stayed Connecting for
// ever, with no stream and no timer left.
TEST_F(TwoNodes, HandshakeStreamsLostAfterAStallAreDialledAgain) {
  OptionSet net(cfg::OptContext::kNewPeer);
  net.Set("ping-int", int64_t{1});
  net.Set("ping-timeout", int64_t{5});  // 0.5 s; the handshake timeout 5 s
  net.Set("connect-int", int64_t{2});
  Configure(net, net);
  ConnectBoth();
  ASSERT_TRUE(Connected());
  world.PartitionStall("10.0.0.1", "10.0.0.2", true);
  // Pings fail within ~1.5 s; the handshake streams are dialled then, and
  // the retry (2 s later) finds them still pending.
  world.RunFor(5 * kSec);
  ASSERT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnecting);
  ASSERT_EQ(b.engine.ConnStateOf("r0", 0), ConnState::kConnecting);
  world.PartitionStall("10.0.0.1", "10.0.0.2", false);
  world.Partition("10.0.0.1", "10.0.0.2", true);
  world.RunFor(kSec / 2);
  world.Partition("10.0.0.1", "10.0.0.2", false);
  world.RunFor(10 * kSec);
  EXPECT_TRUE(Connected());
}

// The stall alone, healed after the handshake timeouts fired inside it:
// the stale streams' HELLOs and closes arrive in a burst, in order.
TEST_F(TwoNodes, ConnectsAfterAStallHeals) {
  OptionSet net(cfg::OptContext::kNewPeer);
  net.Set("ping-int", int64_t{1});
  net.Set("ping-timeout", int64_t{5});
  net.Set("connect-int", int64_t{2});
  Configure(net, net);
  ConnectBoth();
  ASSERT_TRUE(Connected());
  world.PartitionStall("10.0.0.1", "10.0.0.2", true);
  world.RunFor(7 * kSec);
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnecting);
  world.PartitionStall("10.0.0.1", "10.0.0.2", false);
  world.RunFor(10 * kSec);
  EXPECT_TRUE(Connected());
}

TEST_F(TwoNodes, PingTimeoutWhenThePeerStopsAnswering) {
  Configure();
  ConnectBoth();
  ASSERT_TRUE(Connected());
  // Half-open link: b's stream silently stalls (latency far above the ping timeout).
  world.set_latency_ns(60 * kSec);
  world.RunFor(20 * kSec);
  EXPECT_TRUE(a.sink.LogContains("drbd r0 b: PingAck did not arrive in time."));
  EXPECT_NE(a.engine.ConnStateOf("r0", 1), ConnState::kConnected);
}

TEST_F(TwoNodes, UnrelatedDataIsRefused) {
  Configure();
  ASSERT_EQ(a.engine.NewCurrentUuid(a.Minor(0), true).ret, Ret::kNoError);
  ASSERT_EQ(b.engine.NewCurrentUuid(b.Minor(0), true).ret, Ret::kNoError);
  ConnectBoth();
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kStandAlone);
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0 b: Unrelated data, aborting!"));
  EXPECT_TRUE(a.sink.LogContains("uuid_compare()=unrelated-data"));
}

TEST_F(TwoNodes, SplitBrainIsDetectedFromCommonHistory) {
  Configure();
  ConnectBoth();
  SkipInitialSync();
  ASSERT_EQ(a.engine.Disconnect(a.Peer("r0", 1), false).ret, Ret::kNoError);
  ASSERT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kNoError);
  // Both start new data generations while apart.
  ASSERT_EQ(a.engine.NewCurrentUuid(a.Minor(0), false).ret, Ret::kNoError);
  ASSERT_EQ(b.engine.NewCurrentUuid(b.Minor(0), false).ret, Ret::kNoError);
  a.sink.Clear();
  ConnectBoth();
  EXPECT_TRUE(a.sink.LogContains("uuid_compare()=split-brain-disconnect by rule=history-both"));
  EXPECT_TRUE(a.sink.LogContains("Split-Brain detected but unresolved, dropping connection!"));
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kStandAlone);
}

TEST_F(TwoNodes, NewerHistoryMakesTheOtherSideSyncTarget) {
  Configure();
  FixedRate();
  ConnectBoth();
  SkipInitialSync();
  ASSERT_EQ(a.engine.Disconnect(a.Peer("r0", 1), false).ret, Ret::kNoError);
  ASSERT_EQ(a.engine.NewCurrentUuid(a.Minor(0), false).ret, Ret::kNoError);  // only a moves on
  ASSERT_EQ(a.Connect("r0", 1), Ret::kSsSuccess);                            // b kept trying
  world.RunFor(kSec);
  EXPECT_TRUE(Connected());
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncSource);
  EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kSyncTarget);
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kInconsistent);
}

TEST_F(TwoNodes, InvalidateRemoteMakesPeerSyncTarget) {
  Configure();
  FixedRate();
  ConnectBoth();
  SkipInitialSync();
  EXPECT_EQ(a.engine.InvalidateRemote(a.PeerVol("r0", 1, 0)).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncSource);
  EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kSyncTarget);
  EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kInconsistent);
  EXPECT_EQ(a.engine.InvalidateRemote(a.PeerVol("r0", 1, 0)).ret, Ret::kSsResyncRunning);
}

TEST_F(TwoNodes, OutdateWhileConnectedToPrimaryIsRefused) {
  Configure();
  ConnectBoth();
  SkipInitialSync();
  PromoteA();
  EXPECT_EQ(b.engine.Outdate(b.Minor(0)).ret, Ret::kSsConnectedOutdates);
  EXPECT_EQ(a.engine.Outdate(a.Minor(0)).ret, Ret::kSsConnectedOutdates);
}

TEST_F(TwoNodes, NewCurrentUuidWhileConnectedNeedsClearBitmap) {
  Configure();
  ConnectBoth();
  EXPECT_EQ(a.engine.NewCurrentUuid(a.Minor(0), false).ret, Ret::kErrConnected);
}

TEST_F(TwoNodes, DownOnOnePeerLeavesTheOtherConnecting) {
  Configure();
  ConnectBoth();
  EXPECT_EQ(a.engine.Down(a.Res("r0")).ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_EQ(b.engine.ConnStateOf("r0", 0), ConnState::kConnecting);
}

TEST_F(TwoNodes, SameSeedSameTrace) {
  auto run = [](uint64_t seed) {
    World w(seed);
    Node x(w, "x"), y(w, "y");
    EXPECT_EQ(x.NewResource("r0", 0), Ret::kNoError);
    EXPECT_EQ(y.NewResource("r0", 1), Ret::kNoError);
    EXPECT_EQ(x.NewMinor("r0", 0, 0), Ret::kNoError);
    EXPECT_EQ(y.NewMinor("r0", 0, 0), Ret::kNoError);
    EXPECT_TRUE(sim::MakeMetadata(w, "/x", kDiskBytes));
    EXPECT_TRUE(sim::MakeMetadata(w, "/y", kDiskBytes));
    x.Attach(0, "/x");
    y.Attach(0, "/y");
    x.NewPeer("r0", 1, "y", Auth("k"));
    y.NewPeer("r0", 0, "x", Auth("k"));
    x.NewPath("r0", 1, Ip4("1.1.1.1", 1), Ip4("1.1.1.2", 1));
    y.NewPath("r0", 0, Ip4("1.1.1.2", 1), Ip4("1.1.1.1", 1));
    x.Connect("r0", 1);
    y.Connect("r0", 0);
    w.RunFor(kSec);
    x.engine.Primary(x.Res("r0"), true);
    w.RunFor(kSec);
    std::vector<std::string> trace = x.sink.log;
    trace.insert(trace.end(), y.sink.log.begin(), y.sink.log.end());
    return trace;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));  // the new current UUID differs
}

TEST(ThreeNodes, APrimaryConnectsToTwoPeers) {
  World w;
  Node a(w, "a"), b(w, "b"), c(w, "c");
  Node* nodes[] = {&a, &b, &c};
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(nodes[i]->NewResource("r0", i), Ret::kNoError);
    ASSERT_EQ(nodes[i]->NewMinor("r0", 0, 0), Ret::kNoError);
    std::string disk = "/disk" + std::to_string(i);
    ASSERT_TRUE(sim::MakeMetadata(w, disk, kDiskBytes));
    ASSERT_EQ(nodes[i]->Attach(0, disk).ret, Ret::kNoError);
  }
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      if (i == j) continue;
      ASSERT_EQ(nodes[i]->NewPeer("r0", j, "n" + std::to_string(j)), Ret::kNoError);
      ASSERT_EQ(nodes[i]->NewPath("r0", j, Ip4("10.0.0." + std::to_string(i + 1), 7000 + j),
                                  Ip4("10.0.0." + std::to_string(j + 1), 7000 + i)),
                Ret::kNoError);
      ASSERT_EQ(nodes[i]->Connect("r0", j), Ret::kSsSuccess);
    }
  }
  w.RunFor(kSec);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      if (i != j) {
        EXPECT_EQ(nodes[i]->engine.ConnStateOf("r0", j), ConnState::kConnected) << i << "->" << j;
      }
    }
  }
  OptionSet fixed(cfg::OptContext::kPeerDeviceOptions);  // full syncs still running 1 s later
  fixed.Set("c-plan-ahead", int64_t{0});
  for (uint32_t j : {1u, 2u}) {
    ASSERT_EQ(a.engine.PeerDeviceOptions(a.PeerVol("r0", j, 0), fixed, false).ret, Ret::kNoError);
  }
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  w.RunFor(kSec);
  EXPECT_EQ(b.engine.PeerRoleOf("r0", 0), Role::kPrimary);
  EXPECT_EQ(c.engine.PeerRoleOf("r0", 0), Role::kPrimary);
  EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kSyncTarget);
  EXPECT_EQ(c.engine.ReplStateOf("r0", 0, 0), ReplState::kSyncTarget);
  EXPECT_EQ(b.engine.Primary(b.Res("r0"), true).ret, Ret::kSsTwoPrimaries);
}

}  // namespace
}  // namespace drbd::engine

namespace drbd::engine {
namespace {

// The capture's setup: r0 (node 0) and r1 (node 1) connect although their
// resource names differ; the kernel binds by address and node id.
TEST(Capture, DifferentResourceNamesConnectByAddress) {
  sim::World w;
  sim::Node a(w, "a"), b(w, "b");
  ASSERT_EQ(a.NewResource("r0", 0), Ret::kNoError);
  ASSERT_EQ(b.NewResource("r1", 1), Ret::kNoError);
  ASSERT_EQ(a.NewMinor("r0", 0, 0), Ret::kNoError);
  ASSERT_EQ(b.NewMinor("r1", 1, 0), Ret::kNoError);
  ASSERT_TRUE(sim::MakeMetadata(w, "/dev/loop0", 32ull << 20));
  ASSERT_TRUE(sim::MakeMetadata(w, "/dev/loop1", 32ull << 20));
  ASSERT_EQ(a.Attach(0, "/dev/loop0").ret, Ret::kNoError);
  ASSERT_EQ(b.Attach(1, "/dev/loop1").ret, Ret::kNoError);
  ASSERT_EQ(a.NewPeer("r0", 1, "b0"), Ret::kNoError);
  ASSERT_EQ(b.NewPeer("r1", 0, "a1"), Ret::kNoError);
  ASSERT_EQ(a.NewPath("r0", 1, sim::Ip4("127.0.0.1", 7788), sim::Ip4("127.0.0.1", 7789)),
            Ret::kNoError);
  ASSERT_EQ(b.NewPath("r1", 0, sim::Ip4("127.0.0.1", 7789), sim::Ip4("127.0.0.1", 7788)),
            Ret::kNoError);
  ASSERT_EQ(a.Connect("r0", 1), Ret::kSsSuccess);
  ASSERT_EQ(b.Connect("r1", 0), Ret::kSsSuccess);
  w.RunFor(1000000000ull);
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnected);
  EXPECT_EQ(b.engine.ConnStateOf("r1", 0), ConnState::kConnected);
  OptionSet fixed(cfg::OptContext::kPeerDeviceOptions);  // the fixed default resync-rate
  fixed.Set("c-plan-ahead", int64_t{0});
  ASSERT_EQ(a.engine.PeerDeviceOptions(a.PeerVol("r0", 1, 0), fixed, false).ret, Ret::kNoError);
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  w.RunFor(1000000000ull);
  // 99-events2-live.txt: r1 sees the peer Primary/UpToDate and becomes
  // SyncTarget (at the fixed default resync-rate the full sync is still running
  // after 1 s; engine_resync_test.cc follows it to the end).
  EXPECT_EQ(b.engine.PeerRoleOf("r1", 0), Role::kPrimary);
  EXPECT_EQ(b.engine.PeerDiskOf("r1", 0, 0), DiskState::kUpToDate);
  EXPECT_EQ(b.engine.ReplStateOf("r1", 0, 0), ReplState::kSyncTarget);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncSource);
}

}  // namespace
}  // namespace drbd::engine
