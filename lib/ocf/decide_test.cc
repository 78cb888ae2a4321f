// SPDX-License-Identifier: GPL-2.0-or-later
// The agent's rules, one table row per rule: summaries from built
// snapshots, monitor results, the promotion-score ladder with its
// peer-primary and diskless-client rules, and promote/demote decisions.
#include "lib/ocf/decide.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace drbd::ocf {
namespace {

using events::DiskState;
using events::Role;
using events::Tristate;

// One peer: its role and one peer-disk state per volume.
struct Peer {
  Role role = Role::kSecondary;
  std::vector<DiskState> disks;
  bool client = false;
};

events::ResourceSnapshot Snap(Role role, std::vector<DiskState> disks, std::vector<Peer> peers,
                              bool quorum = true, bool client = false) {
  events::ResourceSnapshot s;
  s.resource.name = "r0";
  s.resource.info.role = role;
  for (uint32_t v = 0; v < disks.size(); ++v) {
    events::Device d;
    d.resource = "r0";
    d.volume = v;
    d.info.disk_state = disks[v];
    d.info.has_quorum = quorum;
    d.info.intentional_diskless = client ? Tristate::kYes : Tristate::kNo;
    s.devices.push_back(d);
  }
  uint32_t id = 1;
  for (const Peer& p : peers) {
    events::ConnectionSnapshot c;
    c.connection.resource = "r0";
    c.connection.peer_node_id = id;
    c.connection.info.peer_role = p.role;
    for (uint32_t v = 0; v < p.disks.size(); ++v) {
      events::PeerDevice pd;
      pd.resource = "r0";
      pd.peer_node_id = id;
      pd.volume = v;
      pd.info.peer_disk_state = p.disks[v];
      pd.info.peer_intentional_diskless = p.client ? Tristate::kYes : Tristate::kNo;
      c.peer_devices.push_back(pd);
    }
    s.connections.push_back(c);
    ++id;
  }
  return s;
}

constexpr auto U = DiskState::kUpToDate;
constexpr auto C = DiskState::kConsistent;
constexpr auto I = DiskState::kInconsistent;
constexpr auto O = DiskState::kOutdated;
constexpr auto DU = DiskState::kDUnknown;
constexpr auto DL = DiskState::kDiskless;
constexpr auto AT = DiskState::kAttaching;
constexpr auto F = DiskState::kFailed;
constexpr auto P = Role::kPrimary;
constexpr auto S = Role::kSecondary;

TEST(OcfSummarize, MissingResourceIsNotConfigured) {
  EXPECT_EQ(Summarize(nullptr), StateSummary{});
  events::ResourceSnapshot no_devices;
  no_devices.resource.info.role = S;
  EXPECT_FALSE(Summarize(&no_devices).configured);
}

TEST(OcfSummarize, PeerFlags) {
  auto s = Snap(S, {U, U}, {{P, {U, U}}, {S, {U, I}}, {S, {U, DU}}});
  StateSummary sum = Summarize(&s);
  EXPECT_TRUE(sum.configured);
  EXPECT_TRUE(sum.some_peer_primary);
  EXPECT_TRUE(sum.some_peer_all_up_to_date);
  EXPECT_TRUE(sum.some_peer_not_all_up_to_date);
  EXPECT_TRUE(sum.pdsk_any_unknown);
  EXPECT_FALSE(sum.pdsk_all_up_to_date);
  EXPECT_TRUE(sum.disk_all_up_to_date);
}

TEST(OcfSummarize, DisklessPeerIsNotJudged) {
  auto s = Snap(S, {U}, {{S, {DL}, /*client=*/true}});
  StateSummary sum = Summarize(&s);
  EXPECT_FALSE(sum.some_peer_all_up_to_date);
  EXPECT_FALSE(sum.some_peer_not_all_up_to_date);
  EXPECT_FALSE(sum.pdsk_any_unknown);
}

struct MonitorCase {
  std::string name;
  std::optional<events::ResourceSnapshot> snap;
  Exit want;
};

TEST(OcfMonitor, ResultPerState) {
  const std::vector<MonitorCase> cases = {
      {"absent", std::nullopt, Exit::kNotRunning},
      {"secondary", Snap(S, {U}, {{S, {U}}}), Exit::kSuccess},
      {"secondary-inconsistent", Snap(S, {I}, {{S, {U}}}), Exit::kSuccess},
      {"primary", Snap(P, {U}, {{S, {U}}}), Exit::kRunningPromoted},
      {"primary-detached-peer-uptodate", Snap(P, {DL}, {{S, {U}}}), Exit::kRunningPromoted},
      {"primary-failed-disk-no-peer", Snap(P, {F}, {{S, {DU}}}), Exit::kFailedPromoted},
      {"primary-diskless-peer-outdated", Snap(P, {DL}, {{S, {O}}}), Exit::kFailedPromoted},
      {"primary-client-peer-uptodate", Snap(P, {DL}, {{S, {U}}}, true, true),
       Exit::kRunningPromoted},
  };
  for (const MonitorCase& c : cases) {
    StateSummary s = Summarize(c.snap ? &*c.snap : nullptr);
    EXPECT_EQ(MonitorResult(s), c.want) << c.name << ": " << ExitName(MonitorResult(s));
  }
}

struct ScoreCase {
  std::string name;
  events::ResourceSnapshot snap;
  ScoreDecision::Kind kind;
  int64_t score;
  std::string rule;
};

TEST(OcfPromotionScore, DefaultLadder) {
  using K = ScoreDecision::Kind;
  const std::vector<ScoreCase> cases = {
      {"no-quorum", Snap(S, {U}, {{S, {U}}}, /*quorum=*/false), K::kRemove, 0, "no-quorum"},
      {"primary-uptodate", Snap(P, {U}, {{S, {U}}}), K::kSet, 10000, "primary-uptodate"},
      {"primary-uptodate-peer-gone", Snap(P, {U}, {{S, {DU}}}), K::kSet, 10000, "primary-uptodate"},
      {"secondary-uptodate-connected", Snap(S, {U}, {{S, {U}}}), K::kSet, 10000,
       "uptodate-peers-known"},
      {"secondary-uptodate-peer-inconsistent", Snap(S, {U}, {{S, {I}}}), K::kSet, 10000,
       "uptodate-peers-known"},
      {"secondary-uptodate-alone", Snap(S, {U}, {}), K::kSet, 10000, "uptodate-peers-known"},
      {"secondary-uptodate-peer-unknown", Snap(S, {U}, {{S, {DU}}}), K::kSet, 1000,
       "uptodate-peer-unknown"},
      {"secondary-uptodate-one-of-two-unknown", Snap(S, {U, U}, {{S, {U, DU}}}), K::kSet, 1000,
       "uptodate-peer-unknown"},
      {"inconsistent-peer-uptodate", Snap(S, {I}, {{S, {U}}}), K::kSet, 10, "peer-uptodate"},
      {"outdated-peer-uptodate", Snap(S, {O}, {{P, {U}}}), K::kSet, 10, "peer-uptodate"},
      {"attaching", Snap(S, {AT}, {{S, {DU}}}), K::kLeave, 0, "transitional"},
      {"consistent", Snap(S, {C}, {{S, {DU}}}), K::kRemove, 0, "consistent"},
      {"inconsistent-alone", Snap(S, {I}, {{S, {DU}}}), K::kRemove, 0, "no-good-data"},
      {"both-inconsistent", Snap(S, {I}, {{S, {I}}}), K::kRemove, 0, "no-good-data"},
      {"outdated-alone", Snap(S, {O}, {}), K::kRemove, 0, "no-good-data"},
      {"one-volume-inconsistent", Snap(S, {U, I}, {{S, {DU, DU}}}), K::kRemove, 0, "no-good-data"},
      {"client-primary-peer-uptodate", Snap(P, {DL}, {{S, {U}}}, true, true), K::kSet, 9999,
       "client-primary-with-uptodate-peer"},
      {"client-all-peers-uptodate", Snap(S, {DL}, {{S, {U}}, {S, {U}}}, true, true), K::kSet, 9999,
       "client-all-peers-uptodate"},
      {"client-some-peer-uptodate", Snap(S, {DL}, {{S, {U}}, {S, {O}}}, true, true), K::kSet, 999,
       "client-some-peer-uptodate"},
      {"client-no-good-peer", Snap(S, {DL}, {{S, {DU}}}, true, true), K::kRemove, 0,
       "client-without-uptodate-peer"},
      {"peer-primary-default-keeps-score", Snap(S, {U}, {{P, {U}}}), K::kSet, 10000,
       "uptodate-peers-known"},
  };
  Params p;
  for (const ScoreCase& c : cases) {
    StateSummary s = Summarize(&c.snap);
    ScoreDecision d = PromotionScore(s, p, ClusterView{});
    EXPECT_EQ(d.kind, c.kind) << c.name;
    EXPECT_EQ(d.score, c.score) << c.name;
    EXPECT_EQ(d.rule, c.rule) << c.name;
    EXPECT_FALSE(d.unfence) << c.name;
  }
}

TEST(OcfPromotionScore, CustomLadderAndConsistentScore) {
  Params p;
  p.adjust_master_score = {5, 50, 500, 5000};
  auto consistent = Snap(S, {C}, {{S, {DU}}});
  StateSummary s = Summarize(&consistent);
  EXPECT_EQ(PromotionScore(s, p, {}),
            (ScoreDecision{ScoreDecision::Kind::kSet, 5, false, "consistent"}));
  auto unknown = Snap(S, {U}, {{S, {DU}}});
  s = Summarize(&unknown);
  EXPECT_EQ(PromotionScore(s, p, {}).score, 500);
}

struct PeerPrimaryCase {
  std::string name;
  RemoveIfPeerPrimary mode;
  ClusterView view;
  ScoreDecision::Kind want;
};

TEST(OcfPromotionScore, RemoveIfPeerPrimary) {
  using K = ScoreDecision::Kind;
  auto snap = Snap(S, {U}, {{P, {U}}});
  StateSummary s = Summarize(&snap);
  const std::vector<PeerPrimaryCase> cases = {
      {"never", RemoveIfPeerPrimary::kNever, {}, K::kSet},
      {"always", RemoveIfPeerPrimary::kAlways, {true, 1}, K::kRemove},
      {"unexpected-unknown-to-pacemaker",
       RemoveIfPeerPrimary::kOnlyIfUnexpected,
       {false, 1},
       K::kRemove},
      {"unexpected-known-to-pacemaker", RemoveIfPeerPrimary::kOnlyIfUnexpected, {true, 1}, K::kSet},
      {"unexpected-dual-primary", RemoveIfPeerPrimary::kOnlyIfUnexpected, {false, 2}, K::kSet},
  };
  for (const PeerPrimaryCase& c : cases) {
    Params p;
    p.remove_master_score_if_peer_primary = c.mode;
    EXPECT_EQ(PromotionScore(s, p, c.view).kind, c.want) << c.name;
  }
  // A Primary peer without good data does not cost us the score.
  Params always;
  always.remove_master_score_if_peer_primary = RemoveIfPeerPrimary::kAlways;
  auto sick = Snap(S, {U}, {{P, {O}}});
  StateSummary sick_sum = Summarize(&sick);
  EXPECT_EQ(PromotionScore(sick_sum, always, {}).kind, K::kSet);
  // Nor does it when we are Primary ourselves.
  auto both = Snap(P, {U}, {{P, {U}}});
  StateSummary both_sum = Summarize(&both);
  EXPECT_EQ(PromotionScore(both_sum, always, {}).score, 10000);
}

TEST(OcfPromotionScore, UnfenceOnlyWhenPrimaryAndAllUpToDate) {
  Params p;
  p.unfence_if_all_uptodate = true;
  auto all = Snap(P, {U}, {{S, {U}}});
  StateSummary s = Summarize(&all);
  EXPECT_TRUE(PromotionScore(s, p, {}).unfence);
  auto peer_syncing = Snap(P, {U}, {{S, {I}}});
  s = Summarize(&peer_syncing);
  EXPECT_FALSE(PromotionScore(s, p, {}).unfence);
  auto secondary = Snap(S, {U}, {{S, {U}}});
  s = Summarize(&secondary);
  EXPECT_FALSE(PromotionScore(s, p, {}).unfence);
  Params off;
  s = Summarize(&all);
  EXPECT_FALSE(PromotionScore(s, off, {}).unfence);
}

TEST(OcfPromote, Decisions) {
  using K = PromoteDecision::Kind;
  Params p;
  StateSummary none = Summarize(nullptr);
  EXPECT_EQ(DecidePromote(none, p, {}, false).kind, K::kRefuse);
  EXPECT_EQ(DecidePromote(none, p, {}, false).code, Exit::kErrGeneric);

  auto primary = Snap(P, {U}, {{S, {U}}});
  StateSummary sp = Summarize(&primary);
  EXPECT_EQ(DecidePromote(sp, p, {}, false).kind, K::kAlreadyPromoted);

  auto peer_primary = Snap(S, {U}, {{P, {U}}});
  StateSummary spp = Summarize(&peer_primary);
  // First try always proceeds: DRBD may not have noticed the Primary died.
  EXPECT_EQ(DecidePromote(spp, p, {}, false).kind, K::kProceed);
  EXPECT_FALSE(DecidePromote(spp, p, {}, false).warn_peer_primary);
  // A retry proceeds with a warning by default, fails early when asked.
  EXPECT_EQ(DecidePromote(spp, p, {}, true).kind, K::kProceed);
  EXPECT_TRUE(DecidePromote(spp, p, {}, true).warn_peer_primary);
  Params early;
  early.fail_promote_early_if_peer_primary = true;
  EXPECT_EQ(DecidePromote(spp, early, {}, true).kind, K::kRefuse);
  // Pacemaker knows that Primary, or two may be promoted: no special case.
  EXPECT_EQ(DecidePromote(spp, early, {true, 1}, true).kind, K::kProceed);
  EXPECT_EQ(DecidePromote(spp, early, {false, 2}, true).kind, K::kProceed);
}

TEST(OcfDemote, Decisions) {
  StateSummary none = Summarize(nullptr);
  EXPECT_EQ(DecideDemote(none), DemoteDecision::kNotRunning);
  auto primary = Snap(P, {U}, {});
  StateSummary sp = Summarize(&primary);
  EXPECT_EQ(DecideDemote(sp), DemoteDecision::kProceed);
  auto secondary = Snap(S, {U}, {});
  StateSummary ss = Summarize(&secondary);
  EXPECT_EQ(DecideDemote(ss), DemoteDecision::kAlreadyUnpromoted);
}

}  // namespace
}  // namespace drbd::ocf
