// SPDX-License-Identifier: GPL-2.0-or-later
// Parameter parsing from a fake OCF_RESKEY_* environment: defaults from the
// table, every type, and the whole error messages.
#include "lib/ocf/params.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace drbd::ocf {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& key) -> std::optional<std::string> {
    auto it = vars.find(key);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(OcfParams, DefaultsComeFromTheTable) {
  Params p;
  ParamError e;
  ASSERT_TRUE(ParseParams(FakeEnv({{"OCF_RESKEY_drbd_resource", "r0"}}), &p, &e)) << e.message;
  EXPECT_EQ(p.drbd_resource, "r0");
  EXPECT_EQ(p.drbdconf, "/etc/drbd.conf");
  EXPECT_EQ(p.adjust_master_score, (ScoreLadder{0, 10, 1000, 10000}));
  EXPECT_FALSE(p.stop_outdates_secondary);
  EXPECT_FALSE(p.ignore_missing_notifications);
  EXPECT_EQ(p.wfc_timeout, 5);
  EXPECT_EQ(p.remove_master_score_if_peer_primary, RemoveIfPeerPrimary::kNever);
  EXPECT_FALSE(p.fail_promote_early_if_peer_primary);
  EXPECT_FALSE(p.unfence_if_all_uptodate);
  EXPECT_EQ(p.unfence_extra_args,
            "--quiet --flock-required --flock-timeout 0 --unfence-only-if-owner-match");
  EXPECT_EQ(p.require_drbd_module_version_ge, "8.0.0");
  EXPECT_EQ(p.require_drbd_module_version_lt, "10.0.0");
  EXPECT_FALSE(p.connect_only_after_promote);
}

TEST(OcfParams, TableHasDrbdOcfNamesOnce) {
  std::set<std::string_view> names;
  for (const ParamSpec& s : kParamSpecs) EXPECT_TRUE(names.insert(s.name).second) << s.name;
  const std::set<std::string_view> want = {"drbd_resource",
                                           "drbdconf",
                                           "adjust_master_score",
                                           "stop_outdates_secondary",
                                           "ignore_missing_notifications",
                                           "wfc_timeout",
                                           "remove_master_score_if_peer_primary",
                                           "fail_promote_early_if_peer_primary",
                                           "unfence_if_all_uptodate",
                                           "unfence_extra_args",
                                           "require_drbd_module_version_ge",
                                           "require_drbd_module_version_lt",
                                           "connect_only_after_promote"};
  EXPECT_EQ(names, want);
}

TEST(OcfParams, OnlyResourceAndConfigNeedARestart) {
  // Every other parameter only steers the agent, so a change is applied by
  // reload-agent; a different resource or drbd.conf is another instance.
  for (const ParamSpec& p : kParamSpecs) {
    bool restart = p.name == "drbd_resource" || p.name == "drbdconf";
    EXPECT_EQ(p.reloadable, !restart) << p.name;
  }
}

TEST(OcfParams, ParsesGivenValues) {
  Params p;
  ParamError e;
  ASSERT_TRUE(ParseParams(FakeEnv({{"OCF_RESKEY_drbd_resource", "data"},
                                   {"OCF_RESKEY_drbdconf", "/etc/drbd-cp.conf"},
                                   {"OCF_RESKEY_adjust_master_score", " 5  10 100   100 "},
                                   {"OCF_RESKEY_stop_outdates_secondary", "YES"},
                                   {"OCF_RESKEY_wfc_timeout", "0"},
                                   {"OCF_RESKEY_remove_master_score_if_peer_primary", "unexpected"},
                                   {"OCF_RESKEY_fail_promote_early_if_peer_primary", "on"},
                                   {"OCF_RESKEY_unfence_if_all_uptodate", "1"},
                                   {"OCF_RESKEY_connect_only_after_promote", "True"}}),
                          &p, &e))
      << e.message;
  EXPECT_EQ(p.drbdconf, "/etc/drbd-cp.conf");
  EXPECT_EQ(p.adjust_master_score, (ScoreLadder{5, 10, 100, 100}));
  EXPECT_TRUE(p.stop_outdates_secondary);
  EXPECT_EQ(p.wfc_timeout, 0);
  EXPECT_EQ(p.remove_master_score_if_peer_primary, RemoveIfPeerPrimary::kOnlyIfUnexpected);
  EXPECT_TRUE(p.fail_promote_early_if_peer_primary);
  EXPECT_TRUE(p.unfence_if_all_uptodate);
  EXPECT_TRUE(p.connect_only_after_promote);
}

TEST(OcfParams, EmptyValueTakesDefault) {
  Params p;
  ParamError e;
  ASSERT_TRUE(ParseParams(
      FakeEnv({{"OCF_RESKEY_drbd_resource", "r0"}, {"OCF_RESKEY_wfc_timeout", ""}}), &p, &e));
  EXPECT_EQ(p.wfc_timeout, 5);
}

TEST(OcfParams, RemoveIfPeerPrimaryTakesBooleans) {
  for (auto [text, want] : std::vector<std::pair<std::string, RemoveIfPeerPrimary>>{
           {"true", RemoveIfPeerPrimary::kAlways},
           {"no", RemoveIfPeerPrimary::kNever},
           {"Unexpected", RemoveIfPeerPrimary::kOnlyIfUnexpected}}) {
    Params p;
    ParamError e;
    ASSERT_TRUE(ParseParams(FakeEnv({{"OCF_RESKEY_drbd_resource", "r0"},
                                     {"OCF_RESKEY_remove_master_score_if_peer_primary", text}}),
                            &p, &e));
    EXPECT_EQ(p.remove_master_score_if_peer_primary, want) << text;
  }
}

struct BadCase {
  std::map<std::string, std::string> env;
  std::string message;
};

TEST(OcfParams, RejectsWithWholeMessages) {
  const std::vector<BadCase> cases = {
      {{}, "required parameter drbd_resource is not set"},
      {{{"OCF_RESKEY_drbd_resource", ""}}, "required parameter drbd_resource is not set"},
      {{{"OCF_RESKEY_drbd_resource", "r0"}, {"OCF_RESKEY_wfc_timeout", "5s"}},
       "parameter wfc_timeout: '5s' is not a non-negative integer"},
      {{{"OCF_RESKEY_drbd_resource", "r0"}, {"OCF_RESKEY_wfc_timeout", "-1"}},
       "parameter wfc_timeout: '-1' is not a non-negative integer"},
      {{{"OCF_RESKEY_drbd_resource", "r0"}, {"OCF_RESKEY_stop_outdates_secondary", "maybe"}},
       "parameter stop_outdates_secondary: 'maybe' is not a boolean (yes/no, true/false, "
       "on/off, 1/0)"},
      {{{"OCF_RESKEY_drbd_resource", "r0"},
        {"OCF_RESKEY_remove_master_score_if_peer_primary", "sometimes"}},
       "parameter remove_master_score_if_peer_primary: 'sometimes' is not a boolean or "
       "'unexpected'"},
      {{{"OCF_RESKEY_drbd_resource", "r0"}, {"OCF_RESKEY_adjust_master_score", "0 10 1000"}},
       "parameter adjust_master_score: '0 10 1000' is not a score ladder: expected 4 scores, "
       "got 3"},
      {{{"OCF_RESKEY_drbd_resource", "r0"}, {"OCF_RESKEY_adjust_master_score", "0 10 x 10000"}},
       "parameter adjust_master_score: '0 10 x 10000' is not a score ladder: 'x' is not a "
       "non-negative integer"},
      {{{"OCF_RESKEY_drbd_resource", "r0"}, {"OCF_RESKEY_adjust_master_score", "0 1000 10 10000"}},
       "parameter adjust_master_score: '0 1000 10 10000' is not a score ladder: scores must "
       "not decrease (10 after 1000)"},
  };
  for (const BadCase& c : cases) {
    Params p;
    ParamError e;
    EXPECT_FALSE(ParseParams(FakeEnv(c.env), &p, &e)) << c.message;
    EXPECT_EQ(e.code, Exit::kErrConfigured) << c.message;
    EXPECT_EQ(e.message, c.message);
  }
}

TEST(OcfExit, NumbersAreTheOcfApi) {
  EXPECT_EQ(static_cast<int>(Exit::kSuccess), 0);
  EXPECT_EQ(static_cast<int>(Exit::kErrConfigured), 6);
  EXPECT_EQ(static_cast<int>(Exit::kNotRunning), 7);
  EXPECT_EQ(static_cast<int>(Exit::kRunningPromoted), 8);
  EXPECT_EQ(static_cast<int>(Exit::kFailedPromoted), 9);
  EXPECT_EQ(ExitName(Exit::kRunningPromoted), "OCF_RUNNING_PROMOTED");
}

}  // namespace
}  // namespace drbd::ocf
