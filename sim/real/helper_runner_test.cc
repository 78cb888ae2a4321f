// SPDX-License-Identifier: GPL-2.0-or-later
// ProcessHelpers on real child processes: argv {program, handler,
// resource}, exactly the given environment plus the extra variables, the
// raw wait status of the exit, a start failure as a negative errno, and the
// timeout killing a hung helper.
#include "sim/real/helper_runner.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace drbd::real {
namespace {

class HelperRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/helper-runner-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  // A helper script with `body`; returns its path.
  std::string Script(const std::string& body) {
    std::string path = dir_ + "/helper.sh";
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0755);
    return path;
  }
  // Runs one call and the loop until it answers (or 10 s pass).
  std::optional<int> RunOne(ProcessHelpers& h, const sim::HelperCall& call) {
    std::optional<int> got;
    h.Run(call, [&](int status) { got = status; });
    for (int i = 0; i < 1000 && !got; ++i) io_.run_for(std::chrono::milliseconds(10));
    return got;
  }
  std::string Read(const std::string& name) {
    std::ifstream f(dir_ + "/" + name);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  asio::io_context io_;
  std::string dir_;
  std::vector<std::string> log_;
};

TEST_F(HelperRunnerTest, RunsProgramHandlerResourceWithExactlyTheGivenEnvironment) {
  std::string prog = Script("echo \"$0 $*\" > \"$OUT/argv\"; env | sort > \"$OUT/env\"; exit 3");
  ProcessHelpers h(io_, prog, {"OUT=" + dir_}, 0, [&](std::string l) { log_.push_back(l); });
  sim::HelperCall call{"fence-peer", "r0", {"HOME=/", "DRBD_PEER_NODE_ID=1"}};
  EXPECT_EQ(RunOne(h, call), 3 << 8);
  EXPECT_EQ(Read("argv"), prog + " fence-peer r0\n");
  // /bin/sh may add PWD (and dash nothing else): everything else is ours.
  std::string env = Read("env");
  EXPECT_NE(env.find("DRBD_PEER_NODE_ID=1\n"), std::string::npos) << env;
  EXPECT_NE(env.find("HOME=/\n"), std::string::npos) << env;
  EXPECT_EQ(env.find("PATH=/usr/local"), std::string::npos) << env;
  EXPECT_EQ(env.find("GTEST"), std::string::npos) << env;
}

TEST_F(HelperRunnerTest, MissingProgramAnswersWithANegativeErrno) {
  ProcessHelpers h(io_, dir_ + "/nope", {}, 0, [&](std::string l) { log_.push_back(l); });
  EXPECT_EQ(RunOne(h, {"disconnected", "r0", {}}), -ENOENT);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("cannot start"), std::string::npos);
}

TEST_F(HelperRunnerTest, TimeoutKillsAHungHelper) {
  std::string prog = Script("sleep 30");
  ProcessHelpers h(io_, prog, {}, 200, [&](std::string l) { log_.push_back(l); });
  std::optional<int> got = RunOne(h, {"fence-peer", "r0", {"PATH=/bin:/usr/bin"}});
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(WIFSIGNALED(*got) && WTERMSIG(*got) == SIGKILL) << *got;
  ASSERT_FALSE(log_.empty());
  EXPECT_NE(log_[0].find("timed out after 200 ms"), std::string::npos) << log_[0];
}

}  // namespace
}  // namespace drbd::real
