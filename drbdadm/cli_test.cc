// SPDX-License-Identifier: GPL-2.0-or-later
// End-to-end tests of RunDrbdadm against transcripts recorded from the
// drbd-utils 9.22 oracle, plus command-line handling pinned to its messages.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "drbdadm/drbdadm.h"

namespace drbd::adm {
namespace {

namespace fs = std::filesystem;

fs::path TestDataDir() { return fs::path(__FILE__).parent_path() / "testdata" / "cli"; }

struct AdmRun {
  std::string text;  // stdout and stderr, interleaved
  int rc;
};

// Runs drbdadm in-process as host `alpha` (the environment is restored
// afterwards), with the __DRBD_NODE__ notice stripped.
AdmRun RunAdm(const std::vector<std::string>& args) {
  setenv("__DRBD_NODE__", "alpha", 1);
  setenv("DRBD_DRIVER_VERSION_OVERRIDE", "9.2.0", 1);
  setenv("DRBDADM_ERROR_STYLE", "drbd-utils", 1);
  std::vector<std::string> argv{"drbdadm"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::ostringstream ss;
  int rc = RunDrbdadm(argv, ss, ss);
  unsetenv("__DRBD_NODE__");
  unsetenv("DRBD_DRIVER_VERSION_OVERRIDE");
  unsetenv("DRBDADM_ERROR_STYLE");
  std::string text = ss.str();
  const std::string notice =
      "\n   found __DRBD_NODE__ in environment\n   PRETENDING that I am >>alpha<<\n\n";
  if (text.compare(0, notice.size(), notice) == 0) text.erase(0, notice.size());
  return {text, rc};
}

std::vector<std::string> Split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> v;
  for (std::string w; in >> w;) v.push_back(w);
  return v;
}

struct Case {
  std::string args;
  std::string expected;
  int rc = 0;
};

std::vector<Case> ReadTranscript(const fs::path& p) {
  std::ifstream in(p);
  std::vector<Case> cases;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("#")) continue;
    if (line.starts_with("$ drbdadm ")) {
      cases.push_back({line.substr(10), "", 0});
    } else if (line.starts_with("rc=") && !cases.empty()) {
      cases.back().rc = std::stoi(line.substr(3));
    } else if (!cases.empty()) {
      cases.back().expected += line + "\n";
    }
  }
  return cases;
}

TEST(DrbdadmCli, PlansMatchOracleTranscript) {
  std::string conf = (TestDataDir() / "ex1.res").string();
  std::vector<Case> cases = ReadTranscript(TestDataDir() / "ex1.transcript");
  ASSERT_GE(cases.size(), 10u);
  for (const Case& c : cases) {
    std::vector<std::string> args{"-c", conf};
    for (std::string& a : Split(c.args)) args.push_back(a);
    AdmRun r = RunAdm(args);
    // The transcript drops empty lines (usage text has none here).
    std::string got;
    std::istringstream in(r.text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) got += line + "\n";
    }
    EXPECT_EQ(got, c.expected) << "drbdadm " << c.args;
    EXPECT_EQ(r.rc, c.rc) << "drbdadm " << c.args;
  }
}

TEST(DrbdadmCli, UnknownLongOptionIsRejectedLikeGetopt) {
  AdmRun r = RunAdm({"--x", "up", "r0"});
  EXPECT_EQ(r.text, "drbdadm: unrecognized option '--x'\ntry 'drbdadm help'\n");
  EXPECT_EQ(r.rc, 1);
}

TEST(DrbdadmCli, BackendOptionNotTakenByTheCommandIsRejected) {
  std::string conf = (TestDataDir() / "ex1.res").string();
  AdmRun r = RunAdm({"-c", conf, "-d", "--force", "up", "r0"});
  EXPECT_EQ(r.text, "drbdadm: unrecognized option '--force'\ntry 'drbdadm help up'\n");
  EXPECT_EQ(r.rc, 1);
}

TEST(DrbdadmCli, AbbreviatedBackendOptionPicksFirstMatchInTableOrder) {
  std::string conf = (TestDataDir() / "ex1.res").string();
  // --discard-z resolves to --discard-zeroes-if-aligned (attach comes first
  // in the command table), which connect does not take.
  AdmRun r = RunAdm({"-c", conf, "-d", "--discard-z", "connect", "r0"});
  EXPECT_EQ(r.text,
            "drbdadm: unrecognized option '--discard-zeroes-if-aligned'\n"
            "try 'drbdadm help connect'\n");
  EXPECT_EQ(r.rc, 1);
}

TEST(DrbdadmCli, AbbreviationMatchingOptionsOfDifferentArgKindIsAmbiguous) {
  std::string conf = (TestDataDir() / "ex1.res").string();
  // As drbd-utils HEAD (glibc getopt_long): --disc also matches new-minor's
  // --discard-granularity (required argument); --discard-my-data has the
  // same argument kind as the first match and is not listed.
  AdmRun r = RunAdm({"-c", conf, "-d", "--disc", "connect", "r0"});
  EXPECT_EQ(r.text,
            "drbdadm: option '--disc' is ambiguous; possibilities: "
            "'--discard-zeroes-if-aligned' '--discard-granularity'\n"
            "try 'drbdadm help'\n");
  EXPECT_EQ(r.rc, 1);
}

TEST(DrbdadmCli, ShListAdjustablePrintsResourcesAdjustWouldChange) {
  // drbd-utils >= 9.23: r0 runs exactly as configured, r1 does not run.
  std::string conf = (TestDataDir() / "ex1.res").string();
  std::string show = (TestDataDir().parent_path() / "adjust" / "hx_ex1_same.show").string();
  setenv("FAKE_DRBDSETUP_SHOW", show.c_str(), 1);
  AdmRun r = RunAdm({"-c", conf, "sh-list-adjustable", "all"});
  unsetenv("FAKE_DRBDSETUP_SHOW");
  EXPECT_EQ(r.text, "r1\n");
  EXPECT_EQ(r.rc, 0);
}

TEST(DrbdadmCli, UnknownCommandAndUnknownResource) {
  std::string conf = (TestDataDir() / "ex1.res").string();
  AdmRun r = RunAdm({"-c", conf, "foo", "r0"});
  EXPECT_EQ(r.text, "drbdadm: Unknown command 'foo'\n");
  EXPECT_EQ(r.rc, 1);
  r = RunAdm({"-c", conf, "-d", "up", "nosuch"});
  EXPECT_EQ(r.text, "'nosuch' not defined in your config (for this host).\n");
  EXPECT_EQ(r.rc, 1);
}

TEST(DrbdadmCli, MissingConfigFileExits20) {
  AdmRun r = RunAdm({"-c", "/nonexistent/drbd.conf", "up", "all"});
  EXPECT_EQ(r.text, "Can not open '/nonexistent/drbd.conf'.\n.");
  EXPECT_EQ(r.rc, 20);
}

TEST(DrbdadmCli, ResourceFormsResolve) {
  std::string conf = (TestDataDir() / "ex1.res").string();
  EXPECT_EQ(RunAdm({"-c", conf, "-d", "detach", "minor-11"}).text, "drbdsetup detach 11\n");
  EXPECT_EQ(RunAdm({"-c", conf, "-d", "disconnect", "r1:charlie"}).text,
            "drbdsetup disconnect r1 2\n");
  EXPECT_EQ(RunAdm({"-c", conf, "-d", "pause-sync", "r1:bravo/1"}).text,
            "drbdsetup pause-sync r1 1 1\n");
  AdmRun r = RunAdm({"-c", conf, "-d", "up", "r1/7"});
  EXPECT_EQ(r.text, "Resource 'r1' has no volume 7\n");
  EXPECT_EQ(r.rc, 1);
  // drbd-utils resolves each name three times (two checks, then setup).
  r = RunAdm({"-c", conf, "-d", "connect", "r1:alpha"});
  std::string line = "Host name 'alpha' (from 'r1:alpha') is not a peer, but the local node\n";
  EXPECT_EQ(r.text, line + line + line);
  EXPECT_EQ(r.rc, 1);
}

TEST(DrbdadmCli, HiddenCommandsListsHelperCommandsInTwoColumns) {
  AdmRun r = RunAdm({"hidden-commands"});
  EXPECT_EQ(r.rc, 0);
  // 9.22's entries plus sh-list-adjustable (drbd-utils >= 9.23).
  EXPECT_NE(r.text.find(" sh-ip                               sh-nop"), std::string::npos)
      << r.text;
  EXPECT_NE(r.text.find(" sh-list-adjustable                  sh-resource"), std::string::npos)
      << r.text;
  EXPECT_NE(r.text.find("These commands ought to be used by experts and developers:"),
            std::string::npos);
}

TEST(DrbdadmCli, HelpForCommandListsItsBackendOptions) {
  AdmRun r = RunAdm({"help", "connect"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.text.find("\nOPTIONS FOR connect:\n  --tentative[=...]\n  --discard-my-data[=...]\n"),
            std::string::npos)
      << r.text;
}

}  // namespace
}  // namespace drbd::adm
