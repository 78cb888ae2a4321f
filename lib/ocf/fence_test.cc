// SPDX-License-Identifier: GPL-2.0-or-later
// Fencing handler decisions over recorded CIB documents
// (lib/ocf/testdata/cib_*.xml, Pacemaker 2.1.5 / schema pacemaker-3.9
// shapes) and the constraint text crm-fence-peer.9.sh builds.
#include "lib/ocf/fence.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace drbd::ocf {
namespace {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "testdata" / name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

EnvLookup MapEnv(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

// drbdadm's environment for a fence-peer call on alpha (node 0) after
// losing beta (node 1): only alpha has UpToDate data.
FenceEnv AlphaLostBeta() {
  FenceEnv env;
  std::string error;
  EXPECT_TRUE(ParseFenceEnv(MapEnv({{"DRBD_RESOURCE", "r0"},
                                    {"DRBD_MY_NODE_ID", "0"},
                                    {"UP_TO_DATE_NODES", "0x00000001"},
                                    {"DRBD_NODE_ID_0", "alpha"},
                                    {"DRBD_NODE_ID_1", "beta"},
                                    {"DRBD_PEER_NODE_ID", "1"}}),
                            &env, &error))
      << error;
  return env;
}

StateSummary LocalUpToDatePeerUnknown() {
  StateSummary s;
  s.configured = true;
  s.primary = true;
  s.disk_all_up_to_date = true;
  s.disk_all_consistent = true;
  s.pdsk_any_unknown = true;
  return s;
}

struct Fixture {
  FenceEnv env;
  NodeLists lists;
  CibFacts cib;
  LocationConstraint wanted;
};

Fixture Load(const std::string& cib_file, const FenceEnv& env) {
  Fixture s;
  s.env = env;
  std::string error;
  EXPECT_TRUE(SetupNodeLists(env, "alpha", &s.lists, &error)) << error;
  const std::string prefix = FullIdPrefix("drbd-fence-by-handler", "r0");
  EXPECT_TRUE(ParseCib(ReadTestdata(cib_file), "r0", "", prefix, &s.cib, &error)) << error;
  s.wanted = NewConstraint(prefix, s.cib.master_id, "Master", s.lists);
  return s;
}

TEST(FenceEnv, ReadsDrbd9HandlerVariables) {
  FenceEnv env = AlphaLostBeta();
  EXPECT_EQ(env.resource, "r0");
  EXPECT_EQ(env.my_node_id, 0);
  EXPECT_EQ(env.up_to_date_nodes, 1U);
  EXPECT_EQ(env.node_names, (std::map<int, std::string>{{0, "alpha"}, {1, "beta"}}));
}

TEST(FenceEnv, RejectsMalformedMask) {
  FenceEnv env;
  std::string error;
  EXPECT_FALSE(
      ParseFenceEnv(MapEnv({{"DRBD_RESOURCE", "r0"}, {"UP_TO_DATE_NODES", "5"}}), &env, &error));
  EXPECT_EQ(error, "unexpected input UP_TO_DATE_NODES=5, expected 0x... hex mask");
}

TEST(FenceArgs, AcceptsTheScriptsOptionsAndIgnoresTimingOnes) {
  FenceOptions o;
  std::string error;
  ASSERT_TRUE(ParseFenceArgs(
      {"--quiet", "--flock-required", "--flock-timeout", "0", "--unfence-only-if-owner-match",
       "--timeout=30", "-i", "ms-x", "--role=Promoted", "--id-prefix", "fence-r0"},
      &o, &error))
      << error;
  EXPECT_TRUE(o.quiet);
  EXPECT_TRUE(o.unfence_only_if_owner_match);
  EXPECT_EQ(o.master_id, "ms-x");
  EXPECT_EQ(o.role, "Promoted");
  EXPECT_EQ(o.id_prefix, "fence-r0");
  EXPECT_FALSE(ParseFenceArgs({"--bogus"}, &o, &error));
  EXPECT_EQ(error, "unknown option '--bogus'");
  EXPECT_FALSE(ParseFenceArgs({"--fencing-attribute=site"}, &o, &error));
}

TEST(FenceNodeLists, SplitsNodesByUpToDateMask) {
  Fixture s = Load("cib_two_node.xml", AlphaLostBeta());
  EXPECT_EQ(s.lists.include, (std::map<int, std::string>{{0, "alpha"}}));
  EXPECT_EQ(s.lists.exclude, (std::map<int, std::string>{{1, "beta"}}));
  NodeLists lists;
  std::string error;
  FenceEnv env = AlphaLostBeta();
  env.up_to_date_nodes = 2;
  EXPECT_FALSE(SetupNodeLists(env, "alpha", &lists, &error));
  EXPECT_EQ(error, "I (0) am not a member of the UP_TO_DATE_NODES set myself");
}

TEST(FenceConstraint, TextIsTheScriptsShape) {
  Fixture s = Load("cib_two_node.xml", AlphaLostBeta());
  EXPECT_EQ(ConstraintXml(s.wanted),
            "<rsc_location rsc=\"ms-drbd0\" id=\"drbd-fence-by-handler-r0-ms-drbd0\">\n"
            " <rule role=\"Master\" score=\"-INFINITY\" "
            "id=\"drbd-fence-by-handler-r0-rule-ms-drbd0\">\n"
            "  <expression attribute=\"#uname\" operation=\"ne\" value=\"alpha\" "
            "id=\"drbd-fence-by-handler-r0-expr-0-ms-drbd0\"/>\n"
            " </rule>\n"
            "</rsc_location>\n");
  EXPECT_EQ(ConstraintDeleteXml(s.wanted),
            "<rsc_location rsc=\"ms-drbd0\" id=\"drbd-fence-by-handler-r0-ms-drbd0\"/>");
  EXPECT_EQ(FullIdPrefix("my-prefix-r0", "r0"), "my-prefix-r0");
}

TEST(FenceCib, FindsThePromotableCloneOfTheResource) {
  Fixture s = Load("cib_two_node.xml", AlphaLostBeta());
  EXPECT_EQ(s.cib.master_id, "ms-drbd0");
  EXPECT_TRUE(s.cib.have_quorum);
  EXPECT_FALSE(s.cib.constraint);
  EXPECT_EQ(s.cib.node_states.at("beta"), PeerState::kReachable);
  CibFacts other;
  std::string error;
  ASSERT_TRUE(ParseCib(ReadTestdata("cib_two_node.xml"), "r1", "", "p-r1", &other, &error));
  EXPECT_EQ(other.master_id, "ms-drbd1");
  ASSERT_TRUE(ParseCib(ReadTestdata("cib_two_node.xml"), "r9", "", "p-r9", &other, &error));
  EXPECT_EQ(other.master_id, "");
  EXPECT_FALSE(ParseCib("Signon to CIB failed", "r0", "", "p", &other, &error));
  EXPECT_EQ(error, "cibadmin output is not XML");
}

TEST(FenceCib, ReadsTheScriptsConstraintAndNodeStates) {
  Fixture s = Load("cib_fenced_constraint.xml", AlphaLostBeta());
  ASSERT_TRUE(s.cib.constraint);
  EXPECT_EQ(s.cib.constraint->rule_id, "drbd-fence-by-handler-r0-rule-ms-drbd0");
  EXPECT_TRUE(EquivalentConstraints(*s.cib.constraint, s.wanted));
  EXPECT_TRUE(ConstraintRejects(*s.cib.constraint, "beta"));
  EXPECT_FALSE(ConstraintRejects(*s.cib.constraint, "alpha"));
  EXPECT_EQ(s.cib.node_states.at("beta"), PeerState::kFenced);
  Fixture lost = Load("cib_peer_lost.xml", AlphaLostBeta());
  EXPECT_EQ(lost.cib.node_states.at("beta"), PeerState::kUnreachable);
}

TEST(FenceConstraint, EquivalenceIgnoresIdsOrderAndRoleSpelling) {
  Fixture s = Load("cib_two_node.xml", AlphaLostBeta());
  LocationConstraint other = s.wanted;
  other.role = "Promoted";
  other.expressions[0].id = "x";
  EXPECT_TRUE(EquivalentConstraints(other, s.wanted));
  other.expressions.push_back({"#uname", "ne", "beta", "y"});
  EXPECT_FALSE(EquivalentConstraints(other, s.wanted));
}

TEST(FenceDecide, PeerReachableAndLocalUpToDatePlacesConstraintExit4) {
  Fixture s = Load("cib_two_node.xml", AlphaLostBeta());
  FenceDecision d =
      DecideFence(LocalUpToDatePeerUnknown(), s.cib, s.wanted, s.lists, "alpha", FenceOptions{});
  EXPECT_EQ(d.action, FenceDecision::Action::kCreate);
  EXPECT_EQ(d.exit, FenceExit::kPeerFenced);
  EXPECT_EQ(d.message,
            "INFO peers are reachable, my disk is UpToDate: placed constraint "
            "'drbd-fence-by-handler-r0-ms-drbd0'");
}

TEST(FenceDecide, SecondCallFindsConstraintAndDoesNothing) {
  Fixture s = Load("cib_fenced_constraint.xml", AlphaLostBeta());
  FenceDecision d =
      DecideFence(LocalUpToDatePeerUnknown(), s.cib, s.wanted, s.lists, "alpha", FenceOptions{});
  EXPECT_EQ(d.action, FenceDecision::Action::kNone);
  EXPECT_EQ(d.exit, FenceExit::kPeerFenced);
  EXPECT_EQ(d.message,
            "INFO suitable constraint already placed: 'drbd-fence-by-handler-r0-ms-drbd0'");
}

TEST(FenceDecide, PeerCleanlyDownGivesExit7) {
  Fixture s = Load("cib_fenced_constraint.xml", AlphaLostBeta());
  s.cib.constraint.reset();
  FenceDecision d =
      DecideFence(LocalUpToDatePeerUnknown(), s.cib, s.wanted, s.lists, "alpha", FenceOptions{});
  EXPECT_EQ(d.action, FenceDecision::Action::kCreate);
  EXPECT_EQ(d.exit, FenceExit::kPeerStonithed);
}

TEST(FenceDecide, PeerUncleanLocalUpToDatePlacesAnywaysExit5) {
  Fixture s = Load("cib_peer_lost.xml", AlphaLostBeta());
  FenceDecision d =
      DecideFence(LocalUpToDatePeerUnknown(), s.cib, s.wanted, s.lists, "alpha", FenceOptions{});
  EXPECT_EQ(d.action, FenceDecision::Action::kCreate);
  EXPECT_EQ(d.exit, FenceExit::kPeerUnreachable);
}

TEST(FenceDecide, PeerUncleanLocalOnlyConsistentPlacesNothingExit5) {
  Fixture s = Load("cib_peer_lost.xml", AlphaLostBeta());
  StateSummary local = LocalUpToDatePeerUnknown();
  local.disk_all_up_to_date = false;
  FenceDecision d = DecideFence(local, s.cib, s.wanted, s.lists, "alpha", FenceOptions{});
  EXPECT_EQ(d.action, FenceDecision::Action::kNone);
  EXPECT_EQ(d.exit, FenceExit::kPeerUnreachable);
  FenceOptions forced;
  forced.unreachable_peer_is_outdated = true;
  d = DecideFence(local, s.cib, s.wanted, s.lists, "alpha", forced);
  EXPECT_EQ(d.action, FenceDecision::Action::kCreate);
  EXPECT_EQ(d.exit, FenceExit::kPeerUnreachable);
}

TEST(FenceDecide, AllPeerDisksUpToDatePlacesNothingExit1) {
  Fixture s = Load("cib_two_node.xml", AlphaLostBeta());
  StateSummary local = LocalUpToDatePeerUnknown();
  local.pdsk_all_up_to_date = true;
  FenceDecision d = DecideFence(local, s.cib, s.wanted, s.lists, "alpha", FenceOptions{});
  EXPECT_EQ(d.action, FenceDecision::Action::kNone);
  EXPECT_EQ(d.exit, FenceExit::kGenericError);
}

TEST(FenceDecide, ConstraintRejectingMeIsLeftAloneExit1) {
  // beta was fenced by alpha earlier; now beta's handler runs.
  Fixture s = Load("cib_fenced_constraint.xml", AlphaLostBeta());
  NodeLists beta_lists{{{1, "beta"}}, {{0, "alpha"}}};
  LocationConstraint wanted =
      NewConstraint(FullIdPrefix("drbd-fence-by-handler", "r0"), "ms-drbd0", "Master", beta_lists);
  FenceDecision d =
      DecideFence(LocalUpToDatePeerUnknown(), s.cib, wanted, beta_lists, "beta", FenceOptions{});
  EXPECT_EQ(d.action, FenceDecision::Action::kNone);
  EXPECT_EQ(d.exit, FenceExit::kGenericError);
}

TEST(FenceDecide, UnconfiguredResourcePlacesNothing) {
  Fixture s = Load("cib_two_node.xml", AlphaLostBeta());
  FenceDecision d = DecideFence(StateSummary{}, s.cib, s.wanted, s.lists, "alpha", FenceOptions{});
  EXPECT_EQ(d.action, FenceDecision::Action::kNone);
  EXPECT_EQ(d.exit, FenceExit::kGenericError);
}

TEST(UnfenceDecide, RemovesConstraintOnceAllUpToDate) {
  FenceEnv env = AlphaLostBeta();
  env.up_to_date_nodes = 3;
  Fixture s = Load("cib_fenced_constraint.xml", env);
  StateSummary local = LocalUpToDatePeerUnknown();
  local.pdsk_any_unknown = false;
  local.pdsk_all_up_to_date = true;
  UnfenceDecision d = DecideUnfence(local, s.cib, s.wanted, s.lists, "alpha", FenceOptions{});
  EXPECT_EQ(d.action, UnfenceDecision::Action::kRemove);
  EXPECT_EQ(d.message, "INFO Removed constraint 'drbd-fence-by-handler-r0-ms-drbd0'");
}

TEST(UnfenceDecide, NoConstraintIsNothingToDo) {
  FenceEnv env = AlphaLostBeta();
  env.up_to_date_nodes = 3;
  Fixture s = Load("cib_two_node.xml", env);
  UnfenceDecision d =
      DecideUnfence(LocalUpToDatePeerUnknown(), s.cib, s.wanted, s.lists, "alpha", FenceOptions{});
  EXPECT_EQ(d.action, UnfenceDecision::Action::kNone);
  EXPECT_EQ(d.message, "No constraint in place, nothing to do.");
  FenceOptions quiet;
  quiet.quiet = true;
  EXPECT_EQ(
      DecideUnfence(LocalUpToDatePeerUnknown(), s.cib, s.wanted, s.lists, "alpha", quiet).message,
      "");
}

TEST(UnfenceDecide, OwnerMismatchLeavesConstraint) {
  Fixture s = Load("cib_fenced_constraint.xml", AlphaLostBeta());
  StateSummary local = LocalUpToDatePeerUnknown();
  local.pdsk_all_up_to_date = true;
  FenceOptions o;
  o.unfence_only_if_owner_match = true;
  UnfenceDecision d = DecideUnfence(local, s.cib, s.wanted, s.lists, "beta", o);
  EXPECT_EQ(d.action, UnfenceDecision::Action::kNone);
  EXPECT_EQ(d.message, "WARNING Constraint owner does not match, leaving constraint in place.");
}

TEST(UnfenceDecide, PartlyResyncedNarrowsConstraint) {
  // Three nodes: alpha fenced beta and gamma; beta is UpToDate again.
  FenceEnv env = AlphaLostBeta();
  env.node_names[2] = "gamma";
  env.up_to_date_nodes = 3;
  Fixture s = Load("cib_fenced_constraint.xml", env);
  StateSummary local = LocalUpToDatePeerUnknown();
  UnfenceDecision d = DecideUnfence(local, s.cib, s.wanted, s.lists, "alpha", FenceOptions{});
  EXPECT_EQ(d.action, UnfenceDecision::Action::kReplace);
  EXPECT_EQ(s.wanted.expressions.size(), 2U);
}

// Recorded with cibadmin --query --local on a real Pacemaker 2.1.5 +
// Corosync 3 cluster (../shared/cluster-harness, nodes node1 and node2, the
// clone created with target-role=Stopped), before and after node2 was
// killed (no STONITH configured).
TEST(FenceCib, RealPacemaker215Documents) {
  CibFacts online;
  std::string error;
  const std::string prefix = FullIdPrefix("drbd-fence-by-handler", "r0");
  ASSERT_TRUE(
      ParseCib(ReadTestdata("cib_pcmk215_both_online.xml"), "r0", "", prefix, &online, &error))
      << error;
  EXPECT_EQ(online.master_id, "ms-drbd0");
  EXPECT_TRUE(online.have_quorum);
  EXPECT_EQ(online.node_states,
            (std::map<std::string, PeerState>{{"node1", PeerState::kReachable},
                                              {"node2", PeerState::kReachable}}));
  CibFacts killed;
  ASSERT_TRUE(
      ParseCib(ReadTestdata("cib_pcmk215_peer_killed.xml"), "r0", "", prefix, &killed, &error))
      << error;
  EXPECT_EQ(killed.node_states.at("node1"), PeerState::kReachable);
  EXPECT_EQ(killed.node_states.at("node2"), PeerState::kUnreachable);

  FenceEnv env;
  ASSERT_TRUE(ParseFenceEnv(MapEnv({{"DRBD_RESOURCE", "r0"},
                                    {"DRBD_MY_NODE_ID", "0"},
                                    {"UP_TO_DATE_NODES", "0x1"},
                                    {"DRBD_NODE_ID_0", "node1"},
                                    {"DRBD_NODE_ID_1", "node2"}}),
                            &env, &error));
  NodeLists lists;
  ASSERT_TRUE(SetupNodeLists(env, "node1", &lists, &error));
  LocationConstraint wanted = NewConstraint(prefix, "ms-drbd0", "Master", lists);
  EXPECT_EQ(DecideFence(LocalUpToDatePeerUnknown(), online, wanted, lists, "node1", {}).exit,
            FenceExit::kPeerFenced);
  FenceDecision d = DecideFence(LocalUpToDatePeerUnknown(), killed, wanted, lists, "node1", {});
  EXPECT_EQ(d.action, FenceDecision::Action::kCreate);
  EXPECT_EQ(d.exit, FenceExit::kPeerUnreachable);
}

}  // namespace
}  // namespace drbd::ocf
