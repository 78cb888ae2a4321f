// SPDX-License-Identifier: GPL-2.0-or-later
#include "drbdadm/runner.h"

#include <gtest/gtest.h>

#include <sstream>

namespace drbd::adm {
namespace {

TEST(ShellEscape, EscapesEverythingOutsideTheCleanSet) {
  EXPECT_EQ(ShellEscape("ipv4:10.1.1.1:7789"), "ipv4:10.1.1.1:7789");
  EXPECT_EQ(ShellEscape("ipv6:[fd00::1]:7799"), "ipv6:\\[fd00::1\\]:7799");
  EXPECT_EQ(ShellEscape("--shared-secret=a b"), "--shared-secret=a\\ b");
  EXPECT_EQ(ShellEscape("x'y\"z$"), "x\\'y\\\"z\\$");
  EXPECT_EQ(ShellEscape("%+-./=@_"), "%+-./=@_");
}

TEST(ShellEscape, CapsOutputLikeTheFixedBuffer) {
  std::string s(2000, 'a');
  EXPECT_EQ(ShellEscape(s).size(), 1022u);
  std::string spaces(2000, ' ');
  EXPECT_EQ(ShellEscape(spaces).size(), 1022u);
}

TEST(ShellEscape, CleanTextAtTheCapBoundary) {
  EXPECT_EQ(ShellEscape(std::string(1022, 'a')), std::string(1022, 'a'));
  EXPECT_EQ(ShellEscape(std::string(1023, 'a')), std::string(1022, 'a'));
  // An escape that starts just below the cap still gets its byte.
  EXPECT_EQ(ShellEscape(std::string(1021, 'a') + " b"), std::string(1021, 'a') + "\\ ");
  EXPECT_EQ(ShellEscape(""), "");
}

TEST(AppendShellEscaped, AppendsAndCapsEachArgumentOnItsOwn) {
  std::string out = "drbdsetup ";
  AppendShellEscaped(out, "a b");
  EXPECT_EQ(out, "drbdsetup a\\ b");
  std::string big(2000, 'x');
  out = "prefix ";
  AppendShellEscaped(out, big);
  EXPECT_EQ(out.size(), 7u + 1022u);
}

TEST(RunCommand, DryRunPrintsEscapedArgvAndShellVariable) {
  AdmState st;
  std::ostringstream out, err;
  st.out = &out;
  st.err = &err;
  st.dry_run = true;
  st.sh_varname = "RES";
  std::string res = "r 0";
  EXPECT_EQ(RunCommand(st, {"drbdsetup", "new-path", "r 0", "ipv6:[::1]:7"}, kSleepsShort, &res),
            0);
  EXPECT_EQ(out.str(), "RES=r\\ 0\ndrbdsetup new-path r\\ 0 ipv6:\\[::1\\]:7\n");
  EXPECT_EQ(err.str(), "");
}

TEST(RunCommand, ReportsFailingHelperWithItsExitCode) {
  AdmState st;
  std::ostringstream out, err;
  st.out = &out;
  st.err = &err;
  EXPECT_EQ(RunCommand(st, {"/bin/sh", "-c", "exit 11"}, kSleepsShort, nullptr), 11);
  EXPECT_EQ(err.str(), "Command '/bin/sh -c exit 11' terminated with exit code 11\n");
  err.str("");
  EXPECT_EQ(RunCommand(st, {"/bin/sh", "-c", "exit 5"}, kSleepsShort, nullptr), 5);
  EXPECT_EQ(err.str(), "");
}

TEST(RunCommand, CaptureStderrCollectsChildOutput) {
  AdmState st;
  std::ostringstream out, err;
  st.out = &out;
  st.err = &err;
  std::string captured;
  EXPECT_EQ(
      RunCommandCaptureStderr(st, {"/bin/sh", "-c", "echo oops >&2; exit 17"}, nullptr, &captured),
      17);
  EXPECT_EQ(captured, "oops\n");
}

TEST(RunCommand, TimeoutEndsTheRunWithExitCode20) {
  AdmState st;
  std::ostringstream out, err;
  st.out = &out;
  st.err = &err;
  st.config.globals.cmd_timeout_short = 1;
  try {
    RunCommand(st, {"/bin/sleep", "5"}, kSleepsShort, nullptr);
    FAIL() << "no timeout";
  } catch (const AdmExit& e) {
    EXPECT_EQ(e.code, 20);
  }
  EXPECT_EQ(err.str(), "Command '/bin/sleep 5' did not terminate within 1 seconds\n");
}

}  // namespace
}  // namespace drbd::adm
