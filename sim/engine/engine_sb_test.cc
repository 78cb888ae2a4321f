// SPDX-License-Identifier: GPL-2.0-or-later
// Split brain: the after-sb policy table as a pure function (the rows of
// docs/split-brain-policies.md), and two engines in the deterministic
// world that both write while apart and reconnect under each policy:
// who discards, the resync of both sides' changes, StandAlone on both when
// unresolved, manual recovery with --discard-my-data, call-pri-lost-after-sb
// and rr-conflict.
#include "sim/engine/engine_sb.h"

#include <gtest/gtest.h>

#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sb::Asb;
using sb::Outcome;
using sim::kSec;
using sim::Node;
using sim::Pattern;
using sim::World;

sb::Input Policies(Asb p0, Asb p1 = Asb::kDisconnect, Asb p2 = Asb::kDisconnect) {
  sb::Input in;
  in.after_sb_0p = static_cast<int>(p0);
  in.after_sb_1p = static_cast<int>(p1);
  in.after_sb_2p = static_cast<int>(p2);
  return in;
}

TEST(AfterSbPolicy, ZeroPrimariesFollowTheKernelTable) {
  sb::Input in = Policies(Asb::kDiscardLeastChg);
  in.ch_self = 80, in.ch_peer = 300;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kTarget);
  in.ch_self = 301;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kSource);
  in.ch_self = 300;  // a tie: the RESOLVE_CONFLICTS holder discards
  in.resolve_conflicts = true;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kTarget);
  in.resolve_conflicts = false;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kSource);

  in = Policies(Asb::kDiscardZeroChg);
  in.ch_self = 5, in.ch_peer = 7;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kDisconnect);
  in.ch_self = 0;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kTarget);
  in.ch_self = 5, in.ch_peer = 0;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kSource);

  in = Policies(Asb::kDiscardYoungerPri);
  in.self_pri = false, in.peer_pri = true, in.ch_self = 500, in.ch_peer = 1;
  sb::Decision d = sb::Recover(in);
  EXPECT_EQ(d.outcome, Outcome::kTarget);  // younger, although it wrote more
  EXPECT_TRUE(d.log.empty());
  in = Policies(Asb::kDiscardOlderPri);
  in.self_pri = false, in.peer_pri = true;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kSource);

  EXPECT_EQ(sb::Recover(Policies(Asb::kDisconnect)).outcome, Outcome::kDisconnect);
  EXPECT_EQ(sb::Recover(Policies(Asb::kDiscardLocal)).outcome, Outcome::kTarget);
  EXPECT_EQ(sb::Recover(Policies(Asb::kDiscardRemote)).outcome, Outcome::kSource);
}

TEST(AfterSbPolicy, YoungerPrimaryFallsBackToLeastChangesWithTheKernelsWarning) {
  sb::Input in = Policies(Asb::kDiscardYoungerPri);
  in.ch_self = 256, in.ch_peer = 512;  // capture 07b: both bits clear
  sb::Decision d = sb::Recover(in);
  EXPECT_EQ(d.outcome, Outcome::kTarget);
  ASSERT_EQ(d.log.size(), 1u);
  EXPECT_EQ(d.log[0],
            "Discard younger/older primary did not find a decision\n"
            "Using discard-least-changes instead");
}

TEST(AfterSbPolicy, OnePrimaryPolicies) {
  sb::Input in = Policies(Asb::kDiscardOlderPri, Asb::kConsensus);
  in.self_primary = true, in.self_pri = true;                // the older primary, still Primary
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kDisconnect);  // 0pri would discard the Primary
  in.after_sb_0p = static_cast<int>(Asb::kDiscardYoungerPri);
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kSource);

  in = Policies(Asb::kDisconnect, Asb::kDiscardSecondary);
  in.peer_primary = true;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kTarget);
  in.peer_primary = false, in.self_primary = true;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kSource);

  in = Policies(Asb::kDiscardLeastChg, Asb::kViolently);
  in.self_primary = true, in.ch_self = 1, in.ch_peer = 9;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kTarget);  // even the Primary

  in.after_sb_1p = static_cast<int>(Asb::kCallHelper);
  sb::Decision d = sb::Recover(in);
  EXPECT_EQ(d.outcome, Outcome::kTarget);
  EXPECT_TRUE(d.demote);
  in.self_primary = false, in.peer_primary = true;
  d = sb::Recover(in);
  EXPECT_EQ(d.outcome, Outcome::kTarget);
  EXPECT_FALSE(d.demote);  // a Secondary has nothing to give up

  // A 0pri-only value in the 1pri slot reaches the kernel as a
  // configuration error: no decision.
  in = Policies(Asb::kDiscardLeastChg, Asb::kDiscardLocal);
  in.self_primary = true;
  d = sb::Recover(in);
  EXPECT_EQ(d.outcome, Outcome::kDisconnect);
  EXPECT_EQ(d.log, std::vector<std::string>{"Configuration error."});
}

TEST(AfterSbPolicy, TwoPrimaryPolicies) {
  sb::Input in = Policies(Asb::kDiscardLeastChg, Asb::kDisconnect, Asb::kDisconnect);
  in.self_primary = in.peer_primary = true;
  in.ch_self = 1, in.ch_peer = 2;
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kDisconnect);
  in.after_sb_2p = static_cast<int>(Asb::kViolently);
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kTarget);
  in.after_sb_2p = static_cast<int>(Asb::kCallHelper);
  EXPECT_TRUE(sb::Recover(in).demote);
  in.ch_self = 3;
  EXPECT_FALSE(sb::Recover(in).demote);
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kSource);
  in.after_sb_2p = static_cast<int>(Asb::kViolently);
  in.after_sb_0p = static_cast<int>(Asb::kDisconnect);  // consults a 0pri of disconnect
  EXPECT_EQ(sb::Recover(in).outcome, Outcome::kDisconnect);
}

// ---------------------------------------------------------------------------
// Two engines in the world.

class SplitBrain : public ::testing::Test {
 protected:
  SplitBrain() : a(world, "a"), b(world, "b") {}

  void Up(Asb p0, Asb p1 = Asb::kDisconnect, Asb p2 = Asb::kDisconnect, bool two_primaries = false,
          Asb rr = Asb::kDisconnect) {
    sim::PairOptions o;
    o.net.Set("after-sb-0pri", static_cast<int64_t>(p0));
    o.net.Set("after-sb-1pri", static_cast<int64_t>(p1));
    o.net.Set("after-sb-2pri", static_cast<int64_t>(p2));
    o.net.Set("rr-conflict", static_cast<int64_t>(rr));
    if (two_primaries) o.net.Set("allow-two-primaries", int64_t{1});
    o.peer_device.Set("resync-rate", int64_t{100000});
    o.peer_device.Set("c-plan-ahead", int64_t{0});
    o.set_peer_device = true;
    ASSERT_EQ(sim::UpPair(world, a, b, o), "");
  }

  // Writes `blocks` 4 KiB blocks of pattern `seed` at `off` as Primary.
  void WriteAs(Node& n, uint64_t off, uint64_t blocks, uint8_t seed, bool stay_primary) {
    ASSERT_EQ(n.engine.Primary(n.Res("r0"), false).ret, Ret::kSsSuccess);
    int err = 0;
    uint64_t h = n.engine.OpenDevice(0, &err);
    ASSERT_NE(h, 0u);
    ASSERT_EQ(sim::WriteAndRun(world, n, h, off, Pattern(blocks * 4096, seed)), 0);
    n.engine.CloseDevice(h);
    world.RunFor(kSec / 10);
    if (!stay_primary) {
      ASSERT_EQ(n.engine.Secondary(n.Res("r0"), false).ret, Ret::kSsSuccess);
    }
  }

  // Both disconnect gracefully as Secondaries; a writes `a_blocks` at 0,
  // b `b_blocks` at 16 MiB (capture "both write while apart").
  void Diverge(uint64_t a_blocks, uint64_t b_blocks, bool a_stays = false, bool b_stays = false) {
    ASSERT_EQ(a.engine.Disconnect(a.Peer("r0", 1), false).ret, Ret::kNoError);
    ASSERT_EQ(b.engine.Disconnect(b.Peer("r0", 0), false).ret, Ret::kNoError);
    world.RunFor(kSec);
    if (a_blocks) WriteAs(a, 0, a_blocks, 0xa0, a_stays);
    if (b_blocks) WriteAs(b, 16 << 20, b_blocks, 0xb0, b_stays);
  }

  void ConnectBoth(bool b_discards = false) {
    ASSERT_EQ(a.Connect("r0", 1), Ret::kSsSuccess);
    ASSERT_EQ(b.engine.Connect(b.Peer("r0", 0), false, b_discards).ret, Ret::kSsSuccess);
    world.RunFor(5 * kSec);
  }

  std::vector<uint8_t> Backing(const std::string& path, uint64_t off, size_t len) {
    auto bytes = world.DiskBytes(path);
    return std::vector<uint8_t>(bytes->begin() + static_cast<ptrdiff_t>(off),
                                bytes->begin() + static_cast<ptrdiff_t>(off + len));
  }
  bool DataEqual() {
    uint64_t size = a.engine.DeviceBytes(0).value();
    auto x = world.DiskBytes("/a/disk"), y = world.DiskBytes("/b/disk");
    return std::equal(x->begin(), x->begin() + static_cast<ptrdiff_t>(size), y->begin());
  }
  // `winner`'s pattern is on both disks, the loser's is gone.
  void ExpectSurvivor(bool a_wins, uint64_t a_blocks, uint64_t b_blocks) {
    EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
    EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kEstablished);
    EXPECT_EQ(a.engine.DiskStateOf(0), DiskState::kUpToDate);
    EXPECT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
    EXPECT_TRUE(DataEqual());
    const bool a_there = Backing("/b/disk", 0, a_blocks * 4096) == Pattern(a_blocks * 4096, 0xa0);
    const bool b_there =
        Backing("/a/disk", 16 << 20, b_blocks * 4096) == Pattern(b_blocks * 4096, 0xb0);
    EXPECT_EQ(a_there, a_wins);
    EXPECT_EQ(b_there, !a_wins);
  }
  void ExpectStandAloneBoth() {
    EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kStandAlone);
    EXPECT_EQ(b.engine.ConnStateOf("r0", 0), ConnState::kStandAlone);
    for (Node* n : {&a, &b}) {
      EXPECT_TRUE(
          n->sink.LogContains("uuid_compare()=split-brain-auto-recover by rule=bitmap-both"));
      EXPECT_TRUE(n->sink.LogContains("Split-Brain detected but unresolved, dropping connection!"));
    }
  }

  World world;
  Node a;
  Node b;
};

TEST_F(SplitBrain, DefaultPolicyLeavesBothStandAloneAndDiscardMyDataRecovers) {
  Up(Asb::kDisconnect);
  Diverge(512, 256);
  ConnectBoth();
  ExpectStandAloneBoth();
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0 b: self "));
  // flags: STABLE and, both having been connected before, RECONNECT (as
  // the captures' "flags:120").
  EXPECT_TRUE(a.sink.LogContains(" bits:512 flags:120"));
  EXPECT_TRUE(a.sink.LogContains(" bits:256 flags:120"));
  EXPECT_EQ(a.engine.OutOfSyncBlocks("r0", 1, 0), 512u);
  // Manual recovery: b discards.
  ConnectBoth(true);
  EXPECT_TRUE(b.sink.LogContains(
      "drbd r0/0 drbd0 a: Split-Brain detected, manually solved. Sync from peer node"));
  EXPECT_TRUE(a.sink.LogContains(
      "drbd r0/0 drbd0 b: Split-Brain detected, manually solved. Sync from this node"));
  EXPECT_TRUE(a.sink.LogContains("Began resync as SyncSource (will sync 3072 KB [768 bits set])"));
  ExpectSurvivor(true, 512, 256);
}

TEST_F(SplitBrain, DiscardLeastChangesResyncsTheUnionFromTheBusierSide) {
  Up(Asb::kDiscardLeastChg);
  Diverge(2048, 256);
  ConnectBoth();
  EXPECT_TRUE(b.sink.LogContains(
      "drbd r0/0 drbd0 a: Split-Brain detected, 0 primaries, automatically solved. Sync from "
      "peer node"));
  EXPECT_TRUE(a.sink.LogContains("Began resync as SyncSource (will sync 9216 KB [2304 bits set])"));
  ExpectSurvivor(true, 2048, 256);
}

TEST_F(SplitBrain, DiscardZeroChangesCannotDecideWhenBothWrote) {
  Up(Asb::kDiscardZeroChg);
  Diverge(512, 256);
  ConnectBoth();
  ExpectStandAloneBoth();
}

TEST_F(SplitBrain, DiscardYoungerPrimaryFallsBackToLeastChanges) {
  Up(Asb::kDiscardYoungerPri);
  Diverge(256, 512);  // both bits clear: neither was Primary at the split
  ConnectBoth();
  EXPECT_TRUE(a.sink.LogContains("Discard younger/older primary did not find a decision"));
  ExpectSurvivor(false, 256, 512);
}

TEST_F(SplitBrain, DiscardSecondaryKeepsThePrimarysData) {
  Up(Asb::kDisconnect, Asb::kDiscardSecondary);
  Diverge(256, 512, /*a_stays=*/true);
  ConnectBoth();
  EXPECT_TRUE(
      a.sink.LogContains("Split-Brain detected, 1 primaries, automatically solved. Sync "
                         "from this node"));
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kPrimary);
  ExpectSurvivor(true, 256, 512);
}

TEST_F(SplitBrain, ConsensusRefusesToDiscardThePrimary) {
  Up(Asb::kDiscardLeastChg, Asb::kConsensus);
  Diverge(256, 512, /*a_stays=*/true);
  ConnectBoth();
  ExpectStandAloneBoth();
}

TEST_F(SplitBrain, CallPriLostAfterSbDemotesAnUnusedPrimary) {
  Up(Asb::kDiscardLeastChg, Asb::kCallHelper);
  Diverge(256, 512, /*a_stays=*/true);
  ConnectBoth();
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: Successfully gave up primary role."));
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kSecondary);
  ExpectSurvivor(false, 256, 512);
}

TEST_F(SplitBrain, CallPriLostAfterSbKeepsAPrimaryInUseAndDisconnects) {
  Up(Asb::kDiscardLeastChg, Asb::kCallHelper);
  Diverge(256, 512, /*a_stays=*/true);
  int err = 0;
  uint64_t h = a.engine.OpenDevice(0, &err);  // mounted: a writer holds it
  ASSERT_NE(h, 0u);
  ASSERT_EQ(sim::WriteAndRun(world, a, h, 4096, Pattern(4096, 0xa0)), 0);
  ConnectBoth();
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kPrimary);
  EXPECT_FALSE(a.sink.LogContains("Successfully gave up primary role."));
  // Only the loser finds the split brain unresolved; the winner, which
  // wanted to be SyncSource, sees the connection go and keeps trying.
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kStandAlone);
  EXPECT_TRUE(a.sink.LogContains("Split-Brain detected but unresolved, dropping connection!"));
  EXPECT_TRUE(b.sink.LogContains("automatically solved. Sync from this node"));
  EXPECT_EQ(b.engine.ConnStateOf("r0", 0), ConnState::kConnecting);
  a.engine.CloseDevice(h);
}

TEST_F(SplitBrain, ViolentlyMakesThePrimaryTargetOnlyWithRrConflictViolently) {
  Up(Asb::kDiscardLeastChg, Asb::kViolently, Asb::kDisconnect, false, Asb::kDisconnect);
  Diverge(256, 512, /*a_stays=*/true);
  ConnectBoth();
  EXPECT_TRUE(a.sink.LogContains("I shall become SyncTarget, but I am primary!"));
  EXPECT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kStandAlone);
}

TEST_F(SplitBrain, TwoPrimariesViolentlyWithRrConflictViolentlyResyncsThePrimary) {
  Up(Asb::kDiscardLeastChg, Asb::kDisconnect, Asb::kViolently, true, Asb::kViolently);
  Diverge(256, 512, /*a_stays=*/true, /*b_stays=*/true);
  ConnectBoth();
  EXPECT_TRUE(
      a.sink.LogContains("Split-Brain detected, 2 primaries, automatically solved. Sync "
                         "from peer node"));
  EXPECT_TRUE(a.sink.LogContains("Becoming SyncTarget, violating the stable-dataassumption"));
  ExpectSurvivor(false, 256, 512);
}

TEST_F(SplitBrain, TwoPrimariesDisconnectByDefault) {
  Up(Asb::kDiscardLeastChg, Asb::kDisconnect, Asb::kDisconnect, true);
  Diverge(256, 256, true, true);
  ConnectBoth();
  ExpectStandAloneBoth();
  EXPECT_EQ(a.engine.ResourceRole("r0"), Role::kPrimary);
  EXPECT_EQ(b.engine.ResourceRole("r0"), Role::kPrimary);
}

}  // namespace
}  // namespace drbd::engine
