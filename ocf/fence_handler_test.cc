// SPDX-License-Identifier: GPL-2.0-or-later
// The fencing handlers against a fake cibadmin (recorded CIB documents from
// lib/ocf/testdata) and a scripted drbdsetup: the commands each call runs
// and DRBD's exit codes, including idempotence (a second fence call finds
// the constraint and changes nothing).
#include "ocf/fence_handler.h"

#include <gtest/gtest.h>

#include <chrono>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace drbd::ocf {
namespace {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path().parent_path() / "lib" / "ocf" /
                   "testdata" / name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr char kPrimaryPeerLost[] =
    "exists resource name:r0 role:Primary suspended:no\n"
    "exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connecting role:Unknown\n"
    "exists device name:r0 volume:0 minor:0 disk:UpToDate client:no quorum:yes\n"
    "exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:Off "
    "peer-disk:DUnknown peer-client:no\n"
    "exists -\n";
constexpr char kPrimaryAllUpToDate[] =
    "exists resource name:r0 role:Primary suspended:no\n"
    "exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connected "
    "role:Secondary\n"
    "exists device name:r0 volume:0 minor:0 disk:UpToDate client:no quorum:yes\n"
    "exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:Established "
    "peer-disk:UpToDate peer-client:no\n"
    "exists -\n";

// cibadmin --query answers with `cib`; a successful --create/--replace
// stores the constraint so the next query returns the CIB with it.
class FakeCluster : public Runner {
 public:
  std::string cib;
  std::string state;
  int create_rc = 0;
  std::vector<std::string> calls;

  // The handlers never wait.
  std::chrono::milliseconds Now() override { return std::chrono::milliseconds(0); }
  void Sleep(std::chrono::milliseconds) override { ADD_FAILURE() << "unexpected Sleep"; }

  int Run(const std::vector<std::string>& argv, std::string* out) override {
    std::string line;
    for (const std::string& a : argv) line += (line.empty() ? "" : " ") + a;
    calls.push_back(line);
    if (argv[0] == "drbdsetup") {
      *out = state;
      return 0;
    }
    if (argv[1] == "--query") {
      *out = cib;
      return 0;
    }
    if (argv[1] == "--create" || argv[1] == "--replace") {
      if (create_rc != 0) return create_rc;
      const size_t at = cib.find("<constraints/>");
      if (at != std::string::npos)
        cib.replace(at, 14, "<constraints>" + argv.back() + "</constraints>");
      return 0;
    }
    if (argv[1] == "--delete") {
      const size_t b = cib.find("<constraints>");
      const size_t e = cib.find("</constraints>");
      if (b != std::string::npos && e != std::string::npos)
        cib.replace(b, e + 14 - b, "<constraints/>");
      return 0;
    }
    return 127;
  }
};

EnvLookup Drbd9Env(const std::string& up_to_date_mask) {
  std::map<std::string, std::string> m = {{"DRBD_RESOURCE", "r0"},
                                          {"DRBD_MY_NODE_ID", "0"},
                                          {"DRBD_NODE_ID_0", "alpha"},
                                          {"DRBD_NODE_ID_1", "beta"},
                                          {"DRBD_PEER_NODE_ID", "1"},
                                          {"DRBD_CP_HOSTNAME", "alpha"},
                                          {"UP_TO_DATE_NODES", up_to_date_mask}};
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(FenceHandler, ModeFromProgramName) {
  EXPECT_EQ(FenceModeFromProgramName("/usr/lib/drbd-cp/drbd-cp-fence-peer"), FenceMode::kFence);
  EXPECT_EQ(FenceModeFromProgramName("drbd-cp-unfence-peer"), FenceMode::kUnfence);
}

TEST(FenceHandler, PlacesConstraintOnceAndSecondCallIsIdempotent) {
  FakeCluster c;
  c.cib = ReadTestdata("cib_two_node.xml");
  c.state = kPrimaryPeerLost;
  std::ostringstream log;
  EXPECT_EQ(RunFenceHandler(FenceMode::kFence, {}, Drbd9Env("0x1"), c, log), 4);
  ASSERT_EQ(c.calls.size(), 4U);
  EXPECT_EQ(c.calls[0], "cibadmin --query --local");
  EXPECT_EQ(c.calls[1], "drbdsetup events2 --now r0");
  EXPECT_EQ(c.calls[2],
            "cibadmin --create --scope constraints --xml-text "
            "<rsc_location rsc=\"ms-drbd0\" id=\"drbd-fence-by-handler-r0-ms-drbd0\">\n"
            " <rule role=\"Master\" score=\"-INFINITY\" "
            "id=\"drbd-fence-by-handler-r0-rule-ms-drbd0\">\n"
            "  <expression attribute=\"#uname\" operation=\"ne\" value=\"alpha\" "
            "id=\"drbd-fence-by-handler-r0-expr-0-ms-drbd0\"/>\n"
            " </rule>\n</rsc_location>\n");
  EXPECT_EQ(log.str(),
            "INFO peers are reachable, my disk is UpToDate: placed constraint "
            "'drbd-fence-by-handler-r0-ms-drbd0'\n");

  c.calls.clear();
  std::ostringstream log2;
  EXPECT_EQ(RunFenceHandler(FenceMode::kFence, {}, Drbd9Env("0x1"), c, log2), 4);
  EXPECT_EQ(c.calls,
            (std::vector<std::string>{"cibadmin --query --local", "drbdsetup events2 --now r0",
                                      "drbdsetup events2 --now r0"}));
  EXPECT_EQ(log2.str(),
            "INFO suitable constraint already placed: 'drbd-fence-by-handler-r0-ms-drbd0'\n");
}

TEST(FenceHandler, FailedCibUpdateIsExit1) {
  FakeCluster c;
  c.cib = ReadTestdata("cib_two_node.xml");
  c.state = kPrimaryPeerLost;
  c.create_rc = 105;
  std::ostringstream log;
  EXPECT_EQ(RunFenceHandler(FenceMode::kFence, {}, Drbd9Env("0x1"), c, log), 1);
  EXPECT_EQ(log.str(),
            "WARNING cibadmin --create exited 105\n"
            "WARNING DATA INTEGRITY at RISK: could not place the fencing constraint!\n");
}

TEST(FenceHandler, UnknownResourceInCibIsExit1) {
  FakeCluster c;
  c.cib = ReadTestdata("cib_two_node.xml");
  std::ostringstream log;
  EXPECT_EQ(RunFenceHandler(FenceMode::kFence, {"--resource=r9"}, Drbd9Env("0x1"), c, log), 1);
  EXPECT_EQ(log.str(),
            "WARNING drbd-fencing could not determine the master id of drbd resource r9\n");
}

TEST(FenceHandler, MissingResourceIsExit1) {
  FakeCluster c;
  std::ostringstream log;
  EXPECT_EQ(RunFenceHandler(
                FenceMode::kFence, {}, [](const std::string&) { return std::nullopt; }, c, log),
            1);
  EXPECT_TRUE(c.calls.empty());
}

TEST(UnfenceHandler, RemovesConstraintWhenAllUpToDateThenNothingToDo) {
  FakeCluster c;
  c.cib = ReadTestdata("cib_fenced_constraint.xml");
  c.state = kPrimaryAllUpToDate;
  std::ostringstream log;
  EXPECT_EQ(RunFenceHandler(FenceMode::kUnfence, {}, Drbd9Env("0x3"), c, log), 0);
  ASSERT_EQ(c.calls.size(), 3U);
  EXPECT_EQ(c.calls[2],
            "cibadmin --delete --xml-text "
            "<rsc_location rsc=\"ms-drbd0\" id=\"drbd-fence-by-handler-r0-ms-drbd0\"/>");
  EXPECT_EQ(log.str(), "INFO Removed constraint 'drbd-fence-by-handler-r0-ms-drbd0'\n");
  c.calls.clear();
  std::ostringstream log2;
  EXPECT_EQ(RunFenceHandler(FenceMode::kUnfence, {"--quiet"}, Drbd9Env("0x3"), c, log2), 0);
  EXPECT_EQ(c.calls.size(), 2U);
  EXPECT_EQ(log2.str(), "");
}

TEST(UnfenceHandler, ExtraArgsFromAgentParameterApply) {
  // The agent exports OCF_RESKEY_unfence_extra_args; the handler appends
  // them: --unfence-only-if-owner-match keeps beta from removing alpha's
  // constraint.
  FakeCluster c;
  c.cib = ReadTestdata("cib_fenced_constraint.xml");
  c.state = kPrimaryAllUpToDate;
  std::map<std::string, std::string> m = {
      {"DRBD_RESOURCE", "r0"},
      {"DRBD_MY_NODE_ID", "1"},
      {"DRBD_NODE_ID_0", "alpha"},
      {"DRBD_NODE_ID_1", "beta"},
      {"DRBD_CP_HOSTNAME", "beta"},
      {"UP_TO_DATE_NODES", "0x3"},
      {"OCF_RESKEY_unfence_extra_args",
       "--quiet --flock-required --flock-timeout 0 --unfence-only-if-owner-match"}};
  std::ostringstream log;
  EXPECT_EQ(RunFenceHandler(
                FenceMode::kUnfence, {},
                [m](const std::string& k) -> std::optional<std::string> {
                  auto it = m.find(k);
                  return it == m.end() ? std::nullopt : std::optional<std::string>(it->second);
                },
                c, log),
            0);
  EXPECT_EQ(c.calls.size(), 2U);
  EXPECT_EQ(log.str(), "WARNING Constraint owner does not match, leaving constraint in place.\n");
}

}  // namespace
}  // namespace drbd::ocf
