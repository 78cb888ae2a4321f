// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm's own live path for a DRBD 8.4 module (drbdadm/live84.h): what it
// runs, in which order, and how failures combine, as drbdadm-84 does it
// (user/v84/drbdadm_main.c: staged up/adjust, adm_generic_b's drbdmeta
// fallback, adm_outdate). The helpers are stand-in scripts (-s/-m) that
// log their arguments and fail where a test says.
#include "drbdadm/live84.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

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

constexpr const char* kConfig = R"(resource r0 {
  disk { al-extents 3001; }
  device /dev/drbd0; disk /dev/loop0; meta-disk internal;
  on node-a { address 127.0.0.1:7788; }
  on peer-r0 { address 127.0.0.1:7789; }
}
resource r1 {
  device /dev/drbd1; disk /dev/loop1; meta-disk internal;
  on node-a { address 127.0.0.1:7789; }
  on peer-r1 { address 127.0.0.1:7788; }
}
)";

struct AdmRun {
  std::string out;
  std::string err;  // without the __DRBD_NODE__ notice
  int rc;
  std::string log;  // the helpers' command lines, one a line
};

class Live84Test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("live84_test." + std::to_string(getpid()));
    fs::create_directories(dir_);
    config_ = Write("drbd.conf", kConfig);
    // Logs its arguments; exits $K84_RC when they contain $K84_FAIL.
    const std::string script =
        "#!/bin/sh\n"
        "echo \"$(basename \"$0\") $*\" >> \"$K84_LOG\"\n"
        "[ -n \"$K84_FAIL\" ] && case \" $* \" in *\" $K84_FAIL \"*) echo \"failing: $*\" >&2; "
        "exit $K84_RC;; esac\n"
        "exit 0\n";
    for (const char* name : {"drbdsetup", "drbdmeta"}) {
      std::string p = Write(name, script);
      chmod(p.c_str(), 0755);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  // drbdadm -s FAKE -m FAKE -c CONFIG ARGS... as node-a with an 8.4.11
  // module; helpers matching `fail` exit `rc`.
  AdmRun Run(const std::vector<std::string>& args, const std::string& fail = "", int rc = 0,
             const std::string& fake_show = "") {
    const std::string log = (dir_ / "log").string();
    fs::remove(log);
    setenv("__DRBD_NODE__", "node-a", 1);
    setenv("DRBD_DRIVER_VERSION_OVERRIDE", "8.4.11", 1);
    setenv("K84_LOG", log.c_str(), 1);
    setenv("K84_FAIL", fail.c_str(), 1);
    setenv("K84_RC", std::to_string(rc).c_str(), 1);
    if (!fake_show.empty()) setenv("FAKE_DRBDSETUP_SHOW", fake_show.c_str(), 1);
    std::vector<std::string> argv{"drbdadm",
                                  "-s",
                                  (dir_ / "drbdsetup").string(),
                                  "-m",
                                  (dir_ / "drbdmeta").string(),
                                  "-c",
                                  config_};
    argv.insert(argv.end(), args.begin(), args.end());
    std::ostringstream out, err;
    int code = RunDrbdadm(argv, out, err);
    for (const char* v : {"__DRBD_NODE__", "DRBD_DRIVER_VERSION_OVERRIDE", "K84_LOG", "K84_FAIL",
                          "K84_RC", "FAKE_DRBDSETUP_SHOW"}) {
      unsetenv(v);
    }
    std::string e = err.str();
    const std::string notice =
        "\n   found __DRBD_NODE__ in environment\n   PRETENDING that I am >>node-a<<\n\n";
    if (e.compare(0, notice.size(), notice) == 0) e.erase(0, notice.size());
    std::ifstream in(log);
    std::string logged((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return {out.str(), e, code, logged};
  }

  fs::path dir_;
  std::string config_;
};

TEST_F(Live84Test, UpRunsStageByStageThroughOurHelpers) {
  AdmRun r = Run({"up", "r0", "r1"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.log,
            "drbdsetup new-resource r0\n"
            "drbdsetup new-minor r0 0 0\n"
            "drbdsetup new-resource r1\n"
            "drbdsetup new-minor r1 1 0\n"
            "drbdmeta 0 v08 /dev/loop0 internal apply-al\n"
            "drbdsetup attach 0 /dev/loop0 /dev/loop0 internal --al-extents=3001\n"
            "drbdmeta 1 v08 /dev/loop1 internal apply-al\n"
            "drbdsetup attach 1 /dev/loop1 /dev/loop1 internal\n"
            "drbdsetup connect r0 ipv4:127.0.0.1:7788 ipv4:127.0.0.1:7789\n"
            "drbdsetup connect r1 ipv4:127.0.0.1:7789 ipv4:127.0.0.1:7788\n");
}

TEST_F(Live84Test, FailedStageEndsTheRunWithOne) {
  // drbdadm-84 run_deferred_cmds(): the stage still runs for the other
  // resources, later stages do not run at all.
  AdmRun r = Run({"up", "r0", "r1"}, "new-minor r0", 10);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.log,
            "drbdsetup new-resource r0\n"
            "drbdsetup new-minor r0 0 0\n"
            "drbdsetup new-resource r1\n"
            "drbdsetup new-minor r1 1 0\n");
}

TEST_F(Live84Test, FailedPrerequisiteSkipsTheResourceInItsStage) {
  AdmRun r = Run({"up", "r0", "r1"}, "new-resource r0", 10);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.log,
            "drbdsetup new-resource r0\n"
            "drbdsetup new-resource r1\n"
            "drbdsetup new-minor r1 1 0\n");
  EXPECT_NE(r.err.find("drbdadm: new-minor r0: skipped due to earlier error\n"),
            std::string::npos)
      << r.err;
}

TEST_F(Live84Test, InvalidateFallsBackToDrbdmetaWhenTheMinorIsUnknown) {
  AdmRun r = Run({"invalidate", "r0"}, "invalidate", 10);
  // drbdsetup fails with 10 (no such minor): drbdmeta is asked instead,
  // and fails the same way here.
  EXPECT_EQ(r.log,
            "drbdsetup invalidate 0\n"
            "drbdmeta 0 v08 /dev/loop0 internal invalidate\n");
  EXPECT_EQ(r.rc, 10);
  // drbdsetup's complaint is held back when drbdmeta takes over.
  EXPECT_EQ(r.err.find("failing: invalidate 0"), std::string::npos) << r.err;
}

TEST_F(Live84Test, InvalidateStateChangeRefusalIsReportedAsIs) {
  AdmRun r = Run({"invalidate", "r0"}, "0", 11);
  EXPECT_EQ(r.rc, 11);
  EXPECT_EQ(r.log, "drbdsetup invalidate 0\n");
  EXPECT_NE(r.err.find("failing: invalidate 0\n"), std::string::npos) << r.err;
}

TEST_F(Live84Test, OutdateOfAPrimaryStops) {
  AdmRun r = Run({"outdate", "r0"}, "outdate", 17);
  EXPECT_EQ(r.rc, 17);
  EXPECT_EQ(r.log, "drbdsetup outdate 0\n");
}

TEST_F(Live84Test, OutdateOfAnInconsistentDiskTriesDrbdmeta) {
  // 5 from drbdsetup: maybe diskless; drbdmeta outdates the metadata.
  AdmRun r = Run({"outdate", "r0"}, "0", 5);
  EXPECT_EQ(r.log,
            "drbdsetup outdate 0\n"
            "drbdmeta 0 v08 /dev/loop0 internal outdate\n");
  EXPECT_EQ(r.rc, 5);
}

TEST_F(Live84Test, PrimaryPassesBackendOptionsAndTheKernelsCode) {
  AdmRun r = Run({"primary", "--force", "r1"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.log, "drbdsetup primary 1 --force\n");
  r = Run({"primary", "r0"}, "primary", 11);
  EXPECT_EQ(r.rc, 11);
}

TEST_F(Live84Test, HelperExitOfTwentyEndsTheRun) {
  // call_cmd(EXIT_ON_FAIL): r1 is not tried after r0's 20.
  AdmRun r = Run({"secondary", "all"}, "secondary", 20);
  EXPECT_EQ(r.rc, 20);
  EXPECT_EQ(r.log, "drbdsetup secondary 0\n");
}

TEST_F(Live84Test, AdjustChangesOnlyWhatDiffers) {
  // r0 runs as configured but for al-extents; r1 runs with another peer.
  std::string show = Write("show.txt", R"(resource r0 {
    options {
    }
    net {
    }
    _remote_host {
        address			ipv4 127.0.0.1:7789;
    }
    _this_host {
        address			ipv4 127.0.0.1:7788;
        volume 0 {
            device			minor 0;
            disk			"/dev/loop0";
            meta-disk			internal;
        }
    }
}
)");
  AdmRun r = Run({"adjust", "r0"}, "", 0, show);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.log, "drbdsetup disk-options 0 --set-defaults --al-extents=3001\n");
  // Not running at all: the whole resource is set up.
  r = Run({"-d", "adjust", "r1"}, "", 0, show);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out,
            "drbdsetup-84 new-resource r1\n"
            "drbdsetup-84 new-minor r1 1 0\n"
            "drbdmeta 1 v08 /dev/loop1 internal apply-al\n"
            "drbdsetup-84 attach 1 /dev/loop1 /dev/loop1 internal\n"
            "drbdsetup-84 connect r1 ipv4:127.0.0.1:7789 ipv4:127.0.0.1:7788\n");
}

TEST_F(Live84Test, ShStatusWrapsDrbdsetupPerVolume) {
  AdmRun r = Run({"sh-status"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.log, "drbdsetup sh-status 0\ndrbdsetup sh-status 1\n");
  EXPECT_EQ(r.out.substr(0, r.out.find("\n\n\n") + 3),
            "_drbd_version=9.22.0\n_drbd_api=1\n_config_file=" + config_ + "\n\n\n");
  EXPECT_NE(r.out.find("_conf_res_name=r1\n_conf_file_line=" + config_ +
                       ":7\n\n_stacked_on=\n_stacked_on_device=\n_stacked_on_minor=\n"
                       "_conf_volume=0\n"),
            std::string::npos)
      << r.out;
}

TEST_F(Live84Test, WaitSyncIsPerMinorLikeWaitConnect) {
  AdmRun r = Run({"wait-sync", "all"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.log, "drbdsetup wait-sync 0\ndrbdsetup wait-sync 1\n");
}

TEST_F(Live84Test, DumpHasNoNodeIdsForAnEightFourModule) {
  // drbdadm-84's dump has none; DRBD 9's would derive them, and two hosts
  // on 127.0.0.1 hash equally.
  AdmRun r = Run({"dump", "r0"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("on node-a {\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("node-id"), std::string::npos) << r.out;
}

TEST(Live84Verbs, KernelVerbsAreOursOthersAreNot) {
  for (const char* v : {"up", "adjust", "wait-connect", "wait-sync", "status", "sh-status",
                        "invalidate", "outdate"}) {
    EXPECT_TRUE(IsLive84Verb(v)) << v;
  }
  for (const char* v : {"dump", "events2", "wait-con-int"}) {
    EXPECT_FALSE(IsLive84Verb(v)) << v;
  }
  EXPECT_NE(FindCommand84("sh-status"), nullptr);
  EXPECT_EQ(FindCommand84("up"), nullptr);
}

}  // namespace
}  // namespace drbd::adm
