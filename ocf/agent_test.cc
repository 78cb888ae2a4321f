// SPDX-License-Identifier: GPL-2.0-or-later
// The agent's actions against a recording runner that plays a scripted
// DRBD: which commands each action runs and what it returns.
#include "ocf/agent.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace drbd::ocf {
namespace {

constexpr char kSecondaryUpToDate[] =
    "exists resource name:r0 role:Secondary suspended:no\n"
    "exists connection name:r0 peer-node-id:1 conn-name:b connection:Connected role:Secondary\n"
    "exists device name:r0 volume:0 minor:0 disk:UpToDate client:no quorum:yes\n"
    "exists peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:Established "
    "peer-disk:UpToDate peer-client:no\n"
    "exists -\n";
constexpr char kPrimaryUpToDate[] =
    "exists resource name:r0 role:Primary suspended:no\n"
    "exists connection name:r0 peer-node-id:1 conn-name:b connection:Connected role:Secondary\n"
    "exists device name:r0 volume:0 minor:0 disk:UpToDate client:no quorum:yes\n"
    "exists peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:Established "
    "peer-disk:UpToDate peer-client:no\n"
    "exists -\n";
constexpr char kSecondaryPeerPrimary[] =
    "exists resource name:r0 role:Secondary suspended:no\n"
    "exists connection name:r0 peer-node-id:1 conn-name:b connection:Connected role:Primary\n"
    "exists device name:r0 volume:0 minor:0 disk:UpToDate client:no quorum:yes\n"
    "exists peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:Established "
    "peer-disk:UpToDate peer-client:no\n"
    "exists -\n";
constexpr char kNothing[] = "exists -\n";

// Each events2 call returns the next scripted state (the last one repeats);
// every other command is recorded and returns its scripted code (0).
// Time is virtual: only Sleep advances it.
class FakeRunner : public Runner {
 public:
  std::chrono::milliseconds now{0};
  std::vector<std::chrono::milliseconds> sleeps;
  std::chrono::milliseconds Now() override { return now; }
  void Sleep(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    now += d;
  }
  std::deque<std::string> states;
  std::map<std::string, int> codes;            // "drbdadm primary" or "crm_attribute" → exit code
  std::map<std::string, std::string> outputs;  // "drbdadm dump-xml" → its stdout
  std::vector<std::string> calls;

  int Run(const std::vector<std::string>& argv, std::string* out) override {
    std::string line;
    for (const std::string& a : argv) line += (line.empty() ? "" : " ") + a;
    calls.push_back(line);
    if (argv.size() > 1 && argv[1] == "events2") {
      if (out != nullptr) *out = states.front();
      if (states.size() > 1) states.pop_front();
      return 0;
    }
    std::string key = argv[0] + (argv.size() > 3 ? " " + argv[3] : "");
    if (auto o = outputs.find(key); o != outputs.end() && out != nullptr) *out = o->second;
    auto it = codes.find(key);
    if (it == codes.end()) it = codes.find(argv[0]);  // "crm_attribute": any call
    return it == codes.end() ? 0 : it->second;
  }
};

EnvLookup Env(std::map<std::string, std::string> extra = {}) {
  extra.emplace("OCF_RESKEY_drbd_resource", "r0");
  return [extra](const std::string& k) -> std::optional<std::string> {
    auto it = extra.find(k);
    if (it == extra.end()) return std::nullopt;
    return it->second;
  };
}

struct Outcome {
  Exit exit;
  std::vector<std::string> calls;
  std::string log;
  std::vector<std::chrono::milliseconds> sleeps;
  size_t Count(std::string_view call) const {
    return static_cast<size_t>(std::count(calls.begin(), calls.end(), call));
  }
};

Outcome RunAction(std::string_view action, std::deque<std::string> states,
                  std::map<std::string, int> codes = {}, EnvLookup env = Env()) {
  FakeRunner r;
  r.states = std::move(states);
  r.codes = std::move(codes);
  std::ostringstream out, log;
  Exit e = RunAgent(action, env, r, out, log);
  return {e, r.calls, log.str(), r.sleeps};
}

TEST(OcfAgent, MetaDataNeedsNoParameters) {
  FakeRunner r;
  std::ostringstream out, log;
  EXPECT_EQ(RunAgent(
                "meta-data", [](const std::string&) { return std::nullopt; }, r, out, log),
            Exit::kSuccess);
  EXPECT_NE(out.str().find("<resource-agent name=\"drbd\""), std::string::npos);
  EXPECT_TRUE(r.calls.empty());
}

TEST(OcfAgent, MissingResourceParameterIsConfigError) {
  FakeRunner r;
  std::ostringstream out, log;
  EXPECT_EQ(RunAgent(
                "monitor", [](const std::string&) { return std::nullopt; }, r, out, log),
            Exit::kErrConfigured);
  EXPECT_EQ(log.str(), "ocf-exit-reason:required parameter drbd_resource is not set\n");
}

TEST(OcfAgent, UnknownActionIsUnimplemented) {
  EXPECT_EQ(RunAction("migrate_to", {kNothing}).exit, Exit::kErrUnimplemented);
  EXPECT_EQ(RunAction("", {kNothing}).exit, Exit::kErrArgs);
}

TEST(OcfAgent, MonitorSetsPromotionScore) {
  Outcome o = RunAction("monitor", {kSecondaryUpToDate});
  EXPECT_EQ(o.exit, Exit::kSuccess);
  EXPECT_EQ(o.calls, (std::vector<std::string>{"drbdsetup events2 --now r0",
                                               "crm_attribute --promotion -v 10000"}));
  EXPECT_EQ(RunAction("monitor", {kPrimaryUpToDate}).exit, Exit::kRunningPromoted);
}

TEST(OcfAgent, MissingCrmAttributeDoesNotFailActions) {
  Outcome m = RunAction("monitor", {kSecondaryUpToDate}, {{"crm_attribute", -1}});
  EXPECT_EQ(m.exit, Exit::kSuccess);
  EXPECT_EQ(m.log,
            "drbd(r0): crm_attribute --promotion -v 10000 could not be run; promotion score not "
            "recorded (no Pacemaker cluster?)\n");
  // crm_attribute present but without a CIB (exit 102, CRM_EX_NOT_CONNECTED).
  Outcome p = RunAction("monitor", {kPrimaryUpToDate}, {{"crm_attribute", 102}});
  EXPECT_EQ(p.exit, Exit::kRunningPromoted);
  EXPECT_NE(p.log.find("exited 102; promotion score not recorded"), std::string::npos);
  EXPECT_EQ(RunAction("stop", {kNothing}, {{"crm_attribute", 102}}).exit, Exit::kSuccess);
  EXPECT_EQ(RunAction("start", {kNothing, kSecondaryUpToDate}, {{"crm_attribute", -1}}).exit,
            Exit::kSuccess);
}

TEST(OcfAgent, ReloadAgentRescoresWithNewParameters) {
  Outcome o = RunAction("reload-agent", {kSecondaryUpToDate}, {},
                        Env({{"OCF_RESKEY_adjust_master_score", "0 5 50 500"}}));
  EXPECT_EQ(o.exit, Exit::kSuccess);
  EXPECT_EQ(o.calls, (std::vector<std::string>{"drbdsetup events2 --now r0",
                                               "crm_attribute --promotion -v 500"}));
  Outcome stopped = RunAction("reload-agent", {kNothing});
  EXPECT_EQ(stopped.exit, Exit::kSuccess);
  EXPECT_EQ(stopped.calls, (std::vector<std::string>{"drbdsetup events2 --now r0"}));
}

TEST(OcfAgent, ProbeOfStoppedResourceLeavesScoreAlone) {
  Outcome o = RunAction("monitor", {kNothing}, {}, Env({{"OCF_RESKEY_CRM_meta_interval", "0"}}));
  EXPECT_EQ(o.exit, Exit::kNotRunning);
  EXPECT_EQ(o.calls, (std::vector<std::string>{"drbdsetup events2 --now r0"}));
}

TEST(OcfAgent, StartBringsUpAndScores) {
  Outcome o = RunAction("start", {kNothing, kSecondaryUpToDate});
  EXPECT_EQ(o.exit, Exit::kSuccess);
  EXPECT_EQ(o.calls, (std::vector<std::string>{
                         "drbdadm -c /etc/drbd.conf dump r0", "drbdsetup events2 --now r0",
                         "drbdadm -c /etc/drbd.conf up r0",
                         "drbdsetup wait-connect-resource r0 --wfc-timeout=5 "
                         "--degr-wfc-timeout=5 --outdated-wfc-timeout=5",
                         "drbdsetup events2 --now r0", "crm_attribute --promotion -v 10000"}));
}

TEST(OcfAgent, StartWaitsForPeersOnlyWithWfcTimeout) {
  Outcome none = RunAction("start", {kNothing, kSecondaryUpToDate}, {},
                           Env({{"OCF_RESKEY_wfc_timeout", "0"}}));
  EXPECT_EQ(none.exit, Exit::kSuccess);
  for (const std::string& c : none.calls) EXPECT_EQ(c.find("wait-connect"), std::string::npos) << c;
  // A peer that never comes: logged, the start still succeeds.
  Outcome late = RunAction("start", {kNothing, kSecondaryUpToDate}, {{"drbdsetup", 5}},
                           Env({{"OCF_RESKEY_wfc_timeout", "2"}}));
  EXPECT_EQ(late.exit, Exit::kSuccess);
  EXPECT_NE(late.log.find("drbd(r0): not every peer connected within 2s (drbdsetup "
                          "wait-connect-resource exited 5); continuing\n"),
            std::string::npos)
      << late.log;
}

TEST(OcfAgent, StartWithBadConfigIsConfigError) {
  Outcome o = RunAction("start", {kNothing}, {{"drbdadm dump", 10}});
  EXPECT_EQ(o.exit, Exit::kErrConfigured);
  EXPECT_EQ(o.log, "ocf-exit-reason:drbdadm cannot read resource 'r0' from /etc/drbd.conf\n");
}

TEST(OcfAgent, PromoteRunsPrimary) {
  Outcome o = RunAction("promote", {kSecondaryUpToDate, kPrimaryUpToDate});
  EXPECT_EQ(o.exit, Exit::kSuccess);
  EXPECT_EQ(o.calls[1], "drbdadm -c /etc/drbd.conf primary r0");
}

TEST(OcfAgent, PromoteRefusedByDrbd) {
  Outcome o = RunAction("promote", {kSecondaryUpToDate}, {{"drbdadm primary", 17}});
  EXPECT_EQ(o.exit, Exit::kErrGeneric);
  EXPECT_NE(o.log.find("ocf-exit-reason:DRBD refuses to promote"), std::string::npos);
}

// Right after a failover DRBD can still see the lost Primary connected
// (until its ping timeout) and refuses a second Primary: promote retries once
// a second, as drbd.ocf does.
TEST(OcfAgent, PromoteRetriesWhileDrbdStillSeesAPrimaryPeer) {
  Outcome o = RunAction("promote",
                        {kSecondaryPeerPrimary, kSecondaryPeerPrimary, kSecondaryPeerPrimary,
                         kSecondaryPeerPrimary, kSecondaryUpToDate, kPrimaryUpToDate},
                        {{"drbdadm primary", 11}});
  EXPECT_EQ(o.exit, Exit::kSuccess);
  EXPECT_EQ(o.Count("drbdadm -c /etc/drbd.conf primary r0"), 3u);
  EXPECT_EQ(o.sleeps, (std::vector<std::chrono::milliseconds>(2, std::chrono::seconds(1))));
  EXPECT_NE(o.log.find("WARNING: a peer is Primary but Pacemaker knows of no Promoted peer"),
            std::string::npos);
}

// The retries end a margin before Pacemaker's operation timeout (a tenth,
// at least 2 s), with a reason instead of being killed.
TEST(OcfAgent, PromoteGivesUpBeforeTheOperationTimeout) {
  Outcome o = RunAction("promote", {kSecondaryPeerPrimary}, {{"drbdadm primary", 11}},
                        Env({{"OCF_RESKEY_CRM_meta_timeout", "10000"}}));
  EXPECT_EQ(o.exit, Exit::kErrGeneric);
  EXPECT_EQ(o.Count("drbdadm -c /etc/drbd.conf primary r0"), 9u);
  EXPECT_EQ(o.sleeps.size(), 8u);
  EXPECT_NE(o.log.find("ocf-exit-reason:drbdadm primary did not make the resource Primary (9 "
                       "attempts in 8 s, last exit code 11)"),
            std::string::npos)
      << o.log;
}

TEST(OcfAgent, PromoteFailsEarlyIfAskedWhenAPeerIsPrimary) {
  Outcome o = RunAction("promote", {kSecondaryPeerPrimary}, {{"drbdadm primary", 11}},
                        Env({{"OCF_RESKEY_fail_promote_early_if_peer_primary", "true"}}));
  EXPECT_EQ(o.exit, Exit::kErrGeneric);
  EXPECT_EQ(o.Count("drbdadm -c /etc/drbd.conf primary r0"), 1u);
  EXPECT_NE(o.log.find("(fail_promote_early_if_peer_primary)"), std::string::npos);
}

TEST(OcfAgent, PromoteOfStoppedResourceFails) {
  EXPECT_EQ(RunAction("promote", {kNothing}).exit, Exit::kErrGeneric);
}

TEST(OcfAgent, DemoteAndStop) {
  Outcome d = RunAction("demote", {kPrimaryUpToDate, kSecondaryUpToDate});
  EXPECT_EQ(d.exit, Exit::kSuccess);
  EXPECT_EQ(d.calls[1], "drbdadm -c /etc/drbd.conf secondary r0");
  Outcome s = RunAction("stop", {kPrimaryUpToDate, kNothing});
  EXPECT_EQ(s.exit, Exit::kSuccess);
  EXPECT_EQ(s.calls, (std::vector<std::string>{
                         "drbdsetup events2 --now r0", "drbdadm -c /etc/drbd.conf secondary r0",
                         "drbdadm -c /etc/drbd.conf down r0", "drbdsetup events2 --now r0",
                         "crm_attribute --promotion -D"}));
  EXPECT_EQ(RunAction("stop", {kNothing}).exit, Exit::kSuccess);
}

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path().parent_path() / "lib" / "ocf" /
                   "testdata" / name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Outcome RunWithDump(std::string_view action, std::deque<std::string> states,
                    const std::string& dump_file, EnvLookup env) {
  FakeRunner r;
  r.states = std::move(states);
  r.outputs["drbdadm dump-xml"] = ReadTestdata(dump_file);
  std::ostringstream out, log;
  Exit e = RunAgent(action, env, r, out, log);
  return {e, r.calls, log.str(), r.sleeps};
}

TEST(OcfAgent, DualPrimaryWithoutAllowTwoPrimariesIsRefused) {
  EnvLookup env = Env({{"OCF_RESKEY_CRM_meta_promoted_max", "2"},
                       {"OCF_RESKEY_CRM_meta_clone_max", "2"},
                       {"OCF_RESKEY_CRM_meta_notify", "true"}});
  for (std::string_view action : {"validate-all", "start", "promote"}) {
    Outcome o = RunWithDump(action, {kSecondaryUpToDate}, "dump_xml_single_primary.xml", env);
    EXPECT_EQ(o.exit, Exit::kErrConfigured) << action;
    EXPECT_EQ(o.log,
              "ocf-exit-reason:promoted-max=2, but DRBD resource r0 does not allow two primaries: "
              "set 'allow-two-primaries yes;' in its net section\n")
        << action;
    for (const std::string& c : o.calls) {
      EXPECT_EQ(c.find(" up "), std::string::npos) << c;
      EXPECT_EQ(c.find(" primary "), std::string::npos) << c;
    }
  }
  Outcome ok =
      RunWithDump("validate-all", {kSecondaryUpToDate}, "dump_xml_common_two_primaries.xml", env);
  EXPECT_EQ(ok.exit, Exit::kSuccess) << ok.log;
  EXPECT_EQ(ok.calls, (std::vector<std::string>{"drbdadm -c /etc/drbd.conf dump r0",
                                                "drbdadm -c /etc/drbd.conf dump-xml"}));
  EXPECT_EQ(ok.log, "");
  // Stop is never refused: a resource reconfigured while running can go.
  EXPECT_EQ(RunWithDump("stop", {kNothing}, "dump_xml_single_primary.xml", env).exit,
            Exit::kSuccess);
}

TEST(OcfAgent, NotifyPostPromoteRescoresWithPacemakersView) {
  // beta is Promoted per Pacemaker and we are connected to it: with
  // remove_master_score_if_peer_primary=unexpected the score stays.
  constexpr char kPeerPrimary[] =
      "exists resource name:r0 role:Secondary suspended:no\n"
      "exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connected "
      "role:Primary\n"
      "exists device name:r0 volume:0 minor:0 disk:UpToDate client:no quorum:yes\n"
      "exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 "
      "replication:Established peer-disk:UpToDate peer-client:no\n"
      "exists -\n";
  std::map<std::string, std::string> vars = {
      {"OCF_RESKEY_CRM_meta_notify_type", "post"},
      {"OCF_RESKEY_CRM_meta_notify_operation", "promote"},
      {"OCF_RESKEY_CRM_meta_notify_promoted_uname", "beta"},
      {"OCF_RESKEY_remove_master_score_if_peer_primary", "unexpected"},
      {"DRBD_CP_HOSTNAME", "alpha"}};
  Outcome o = RunAction("notify", {kPeerPrimary}, {}, Env(vars));
  EXPECT_EQ(o.exit, Exit::kSuccess);
  EXPECT_EQ(o.calls,
            (std::vector<std::string>{"drbdsetup events2 --now r0", "drbdsetup events2 --now r0",
                                      "crm_attribute --promotion -v 10000"}));
  vars.erase("OCF_RESKEY_CRM_meta_notify_promoted_uname");
  Outcome unexpected = RunAction("notify", {kPeerPrimary}, {}, Env(vars));
  EXPECT_EQ(unexpected.calls.back(), "crm_attribute --promotion -D");
}

TEST(OcfAgent, NotifyStartAdjusts) {
  Outcome o = RunAction("notify", {kSecondaryUpToDate}, {},
                        Env({{"OCF_RESKEY_CRM_meta_notify_type", "pre"},
                             {"OCF_RESKEY_CRM_meta_notify_operation", "start"}}));
  EXPECT_EQ(o.exit, Exit::kSuccess);
  EXPECT_EQ(o.calls, (std::vector<std::string>{"drbdsetup events2 --now r0",
                                               "drbdadm -c /etc/drbd.conf adjust r0"}));
}

TEST(OcfAgent, NotifyOutdatesWhenCutOffFromPromotedPeer) {
  constexpr char kCutOff[] =
      "exists resource name:r0 role:Secondary suspended:no\n"
      "exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connecting "
      "role:Unknown\n"
      "exists device name:r0 volume:0 minor:0 disk:UpToDate client:no quorum:yes\n"
      "exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:Off "
      "peer-disk:DUnknown peer-client:no\n"
      "exists -\n";
  Outcome o = RunAction("notify", {kCutOff}, {},
                        Env({{"OCF_RESKEY_CRM_meta_notify_type", "post"},
                             {"OCF_RESKEY_CRM_meta_notify_operation", "promote"},
                             {"OCF_RESKEY_CRM_meta_notify_master_uname", "beta"},
                             {"OCF_RESKEY_stop_outdates_secondary", "true"},
                             {"DRBD_CP_HOSTNAME", "alpha"}}));
  EXPECT_EQ(o.exit, Exit::kSuccess);
  EXPECT_EQ(o.calls[1], "drbdadm -c /etc/drbd.conf outdate r0");
  EXPECT_NE(o.log.find("outdating r0"), std::string::npos);
}

TEST(OcfAgent, CloneWithoutNotifyRefusesStartUnlessIgnored) {
  Outcome o = RunAction("start", {kNothing}, {}, Env({{"OCF_RESKEY_CRM_meta_clone_max", "2"}}));
  EXPECT_EQ(o.exit, Exit::kErrConfigured);
  EXPECT_EQ(o.calls, (std::vector<std::string>{"drbdadm -c /etc/drbd.conf dump r0"}));
  EXPECT_EQ(RunAction("start", {kNothing, kSecondaryUpToDate}, {},
                      Env({{"OCF_RESKEY_CRM_meta_clone_max", "2"},
                           {"OCF_RESKEY_ignore_missing_notifications", "true"}}))
                .exit,
            Exit::kSuccess);
}

}  // namespace
}  // namespace drbd::ocf
