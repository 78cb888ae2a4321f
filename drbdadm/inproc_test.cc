// SPDX-License-Identifier: GPL-2.0-or-later
#include "drbdadm/inproc.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "drbdadm/runner.h"

namespace drbd::adm {
namespace {

// Sets an environment variable for one scope (nullptr: unset).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

std::string TempDir() {
  char tmpl[] = "/tmp/inproc_test.XXXXXX";
  const char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d ? d : "/tmp";
}

void WriteScript(const std::string& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body;
  chmod(path.c_str(), 0755);
}

struct Outcome {
  int code = -1;
  std::string out, err;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{code " << o.code << ", out \"" << o.out << "\", err \"" << o.err << "\"}";
}

// dump-md's second line is the time of the run ("# 2026-11-23 11:12:27
// +0000 [1795432347]"): a child and an in-process run a moment apart may
// straddle a second. A line of exactly that shape becomes "# <time>";
// anything else is left for the comparison to see.
Outcome WithoutDumpTime(Outcome o) {
  static const std::string head = "# DRBD meta data dump\n# ";
  if (o.out.compare(0, head.size(), head) != 0) return o;
  const size_t end = o.out.find('\n', head.size());
  if (end == std::string::npos) return o;
  // The shape, '9' a digit and '+' a sign, then the epoch's digits and ']'.
  // (Not std::regex: GCC 12 warns maybe-uninitialized in it at -O1 with ASan.)
  static const std::string shape = "9999-99-99 99:99:99 +9999 [";
  const std::string line = o.out.substr(head.size(), end - head.size());
  if (line.size() < shape.size() + 2 || line.back() != ']') return o;
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    const char c = line[i];
    const char want = i < shape.size() ? shape[i] : '9';
    const bool ok = want == '9'   ? std::isdigit(static_cast<unsigned char>(c)) != 0
                    : want == '+' ? c == '+' || c == '-'
                                  : c == want;
    if (!ok) return o;
  }
  o.out.replace(head.size(), end - head.size(), "<time>");
  return o;
}

std::string Drain(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  close(fd);
  return s;
}

// argv as a child process (stdin /dev/null, stdout and stderr pipes).
Outcome Exec(const std::vector<std::string>& argv) {
  int out[2], err[2];
  EXPECT_EQ(pipe(out), 0);
  EXPECT_EQ(pipe(err), 0);
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(out[0]);
    close(err[0]);
    std::vector<char*> cargv;
    for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  Outcome o;
  o.err = Drain(err[0]);  // small outputs: no deadlock on the other pipe
  o.out = Drain(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

Outcome InProcess(const std::vector<std::string>& argv, bool stdout_captured = true) {
  std::ostringstream out, err;
  InProcIo io;
  io.out = &out;
  io.err = &err;
  io.stdout_captured = stdout_captured;
  OwnTool tool = InProcessToolFor(argv);
  EXPECT_NE(tool, OwnTool::kNone) << argv[0];
  Outcome o;
  o.code = RunInProcess(tool, argv, io, 0);
  o.out = out.str();
  o.err = err.str();
  return o;
}

TEST(IdentifyTool, RecognisesOurBuiltHelpersByTheirNote) {
  EXPECT_EQ(IdentifyTool(DRBDSETUP_BIN), OwnTool::kDrbdsetup);
  EXPECT_EQ(IdentifyTool(DRBDMETA_BIN), OwnTool::kDrbdmeta);
}

TEST(IdentifyTool, ForeignProgramsAreNotOurs) {
  EXPECT_EQ(IdentifyTool("/bin/sh"), OwnTool::kNone);
  EXPECT_EQ(IdentifyTool("/nonexistent/drbdsetup"), OwnTool::kNone);
  EXPECT_EQ(IdentifyTool(""), OwnTool::kNone);
  std::string dir = TempDir();
  WriteScript(dir + "/drbdsetup", "exit 0\n");
  EXPECT_EQ(IdentifyTool(dir + "/drbdsetup"), OwnTool::kNone);
  // drbd-utils' own binaries, where installed.
  if (access("/usr/sbin/drbdsetup", X_OK) == 0) {
    EXPECT_EQ(IdentifyTool("/usr/sbin/drbdsetup"), OwnTool::kNone);
  }
}

TEST(IdentifyTool, SearchesPathLikeExecvp) {
  std::string ours = TempDir(), fake = TempDir();
  ASSERT_EQ(symlink(DRBDSETUP_BIN, (ours + "/drbdsetup").c_str()), 0);
  {
    ScopedEnv path("PATH", (ours + ":/bin:/usr/bin").c_str());
    EXPECT_EQ(IdentifyTool("drbdsetup"), OwnTool::kDrbdsetup);
  }
  // A fake earlier in PATH (as drbd-utils' tests substitute one) wins.
  WriteScript(fake + "/drbdsetup", "echo fake\n");
  {
    ScopedEnv path("PATH", (fake + ":" + ours).c_str());
    EXPECT_EQ(IdentifyTool("drbdsetup"), OwnTool::kNone);
  }
  // A file that is not executable is skipped, as execvp skips it.
  chmod((fake + "/drbdsetup").c_str(), 0644);
  {
    ScopedEnv path("PATH", (fake + ":" + ours).c_str());
    EXPECT_EQ(IdentifyTool("drbdsetup"), OwnTool::kDrbdsetup);
  }
}

TEST(InProcessToolFor, WaitingCommandsAndTheSwitchKeepTheExecPath) {
  ScopedEnv off("DRBDADM_EXEC_HELPERS", nullptr);
  EXPECT_EQ(InProcessToolFor({DRBDSETUP_BIN, "status", "r0"}), OwnTool::kDrbdsetup);
  EXPECT_EQ(InProcessToolFor({DRBDMETA_BIN, "0", "v09", "/dev/x", "internal", "apply-al"}),
            OwnTool::kDrbdmeta);
  EXPECT_EQ(InProcessToolFor({DRBDSETUP_BIN, "events2", "--now", "all"}), OwnTool::kNone);
  EXPECT_EQ(InProcessToolFor({DRBDSETUP_BIN, "wait-connect-resource", "r0"}), OwnTool::kNone);
  EXPECT_EQ(InProcessToolFor({"/bin/sh", "-c", "true"}), OwnTool::kNone);
  EXPECT_EQ(InProcessToolFor({}), OwnTool::kNone);
  ScopedEnv on("DRBDADM_EXEC_HELPERS", "1");
  EXPECT_EQ(InProcessToolFor({DRBDSETUP_BIN, "status", "r0"}), OwnTool::kNone);
}

// The same argv through the child and in-process: same exit code, same
// stdout, same stderr (no module here, so the failure paths).
TEST(RunInProcess, DrbdsetupMatchesTheChildProcess) {
  ScopedEnv sim("DRBD_SIM_SOCKET", nullptr);
  const std::vector<std::vector<std::string>> cases = {
      {DRBDSETUP_BIN},
      {DRBDSETUP_BIN, "frobnicate"},
      {DRBDSETUP_BIN, "status"},
      {DRBDSETUP_BIN, "down", "r0"},
      {DRBDSETUP_BIN, "new-resource"},
      {DRBDSETUP_BIN, "net-options", "r0", "1", "--ping-int=500"},
      {DRBDSETUP_BIN, "help", "attach"},
  };
  for (const auto& argv : cases) {
    Outcome child = Exec(argv);
    EXPECT_EQ(InProcess(argv), child) << argv.back();
  }
  {
    // An 8.4 module: the 8.4 command set, in-process as well.
    ScopedEnv v84("DRBD_DRIVER_VERSION_OVERRIDE", "8.4.11");
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {DRBDSETUP_BIN}, {DRBDSETUP_BIN, "status"}, {DRBDSETUP_BIN, "0", "dstate"}}) {
      Outcome child = Exec(argv);
      EXPECT_EQ(InProcess(argv), child) << "8.4 " << argv.back();
    }
  }
  ScopedEnv nowhere("DRBD_SIM_SOCKET", "/nonexistent/simd.sock");
  for (const auto& argv : std::vector<std::vector<std::string>>{{DRBDSETUP_BIN, "status"},
                                                                {DRBDSETUP_BIN, "show", "r0"}}) {
    Outcome child = Exec(argv);
    EXPECT_EQ(child.code, 20);
    EXPECT_EQ(InProcess(argv), child) << argv.back();
  }
}

TEST(RunInProcess, DrbdmetaMatchesTheChildProcess) {
  std::string dir = TempDir();
  std::string img = dir + "/a.img";
  { std::ofstream create_file(img); }
  ASSERT_EQ(truncate(img.c_str(), 8 << 20), 0);
  // Regular files count as devices for drbd-simd; its drbdsetup (asked
  // whether the minor is attached) is not running.
  ScopedEnv sim("DRBD_SIM_SOCKET", (dir + "/none.sock").c_str());
  std::vector<std::string> create = {DRBDMETA_BIN, "--force",  "7",         "v09",
                                     img,          "internal", "create-md", "1"};
  Outcome made = InProcess(create);
  EXPECT_EQ(made.code, 0) << made;
  EXPECT_NE(made.out.find("New drbd meta data block successfully created."), std::string::npos)
      << made;
  const std::vector<std::vector<std::string>> cases = {
      {DRBDMETA_BIN},
      {DRBDMETA_BIN, "7", "v09", img, "internal", "dump-md"},
      {DRBDMETA_BIN, "7", "v09", img, "internal", "read-dev-uuid"},
      {DRBDMETA_BIN, "7", "v09", dir + "/missing.img", "internal", "apply-al"},
      {DRBDMETA_BIN, "7", "v77", img, "internal", "dump-md"},
  };
  for (const auto& argv : cases) {
    Outcome child = WithoutDumpTime(Exec(argv));
    EXPECT_EQ(WithoutDumpTime(InProcess(argv)), child) << argv.back();
  }
}

TEST(RunCommand, InProcessHelperReportsItsExitCodeLikeAChild) {
  ScopedEnv sim("DRBD_SIM_SOCKET", nullptr);
  AdmState st;
  std::ostringstream out, err;
  st.out = &out;
  st.err = &err;
  testing::internal::CaptureStderr();
  int rv = RunCommand(st, {DRBDSETUP_BIN, "status", "r0"}, kSleepsShort, nullptr);
  std::string child_err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rv, 20);
  EXPECT_EQ(child_err,
            "Could not stat /proc/drbd: No such file or directory\n"
            "Make sure that the DRBD kernel module is installed and can be loaded!\n");
  EXPECT_EQ(err.str(), std::string("Command '") + DRBDSETUP_BIN +
                           " status r0' terminated with exit code 20\n");
}

TEST(RunCommand, CaptureStderrOfAnInProcessHelper) {
  ScopedEnv sim("DRBD_SIM_SOCKET", "/nonexistent/simd.sock");
  AdmState st;
  std::ostringstream out, err;
  st.out = &out;
  st.err = &err;
  std::string captured;
  std::vector<std::string> argv = {DRBDSETUP_BIN, "primary", "r0"};
  EXPECT_EQ(RunCommandCaptureStderr(st, argv, nullptr, &captured), 20);
  EXPECT_EQ(captured, Exec(argv).err);
  EXPECT_NE(captured, "");
}

// A daemon that accepts connections and never answers.
struct SilentServer {
  explicit SilentServer(const std::string& path) {
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(listen(fd, 8), 0);
  }
  ~SilentServer() { close(fd); }
  int fd = -1;
};

TEST(RunCommand, InProcessHelperGivenUpAfterTheCommandTimeout) {
  std::string dir = TempDir();
  SilentServer server(dir + "/silent.sock");
  ScopedEnv sim("DRBD_SIM_SOCKET", (dir + "/silent.sock").c_str());
  AdmState st;
  std::ostringstream out, err;
  st.out = &out;
  st.err = &err;
  st.config.globals.cmd_timeout_short = 1;
  testing::internal::CaptureStderr();
  try {
    RunCommand(st, {DRBDSETUP_BIN, "primary", "r0"}, kSleepsShort, nullptr);
    ADD_FAILURE() << "no timeout";
  } catch (const AdmExit& e) {
    EXPECT_EQ(e.code, 20);
  }
  // Nothing from the abandoned command, as from a killed child.
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(err.str(), std::string("Command '") + DRBDSETUP_BIN +
                           " primary r0' did not terminate within 1 seconds\n");
}

// Against a live drbd-simd node when the build has one: `show` captured
// in-process equals the child's, across a shared connection, and a daemon
// that went away is reported in drbdsetup's words.
TEST(RunInProcess, ShowAgainstDrbdSimdMatchesTheChild) {
  if (access(DRBD_SIMD_BIN, X_OK) != 0) GTEST_SKIP() << "drbd-simd not built";
  std::string dir = TempDir();
  std::string sock = dir + "/alpha.sock";
  pid_t pid = fork();
  if (pid == 0) {
    execl(DRBD_SIMD_BIN, DRBD_SIMD_BIN, "--node", "alpha", "--socket", sock.c_str(), "--quiet",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 500 && access(sock.c_str(), F_OK) != 0; ++i) poll(nullptr, 0, 10);
  ScopedEnv sim("DRBD_SIM_SOCKET", sock.c_str());
  ScopedEnv node("__DRBD_NODE__", "alpha");
  EXPECT_EQ(InProcess({DRBDSETUP_BIN, "new-resource", "r0", "0"}).code, 0);
  EXPECT_EQ(InProcess({DRBDSETUP_BIN, "resource-options", "r0", "--auto-promote=no"}).code, 0);
  std::vector<std::string> show = {DRBDSETUP_BIN, "show", "r0"};
  Outcome child = Exec(show);
  EXPECT_EQ(child.code, 0);
  EXPECT_NE(child.out.find("auto-promote"), std::string::npos) << child;
  EXPECT_EQ(InProcess(show), child);
  EXPECT_EQ(InProcess({DRBDSETUP_BIN, "show", "nosuch"}), Exec({DRBDSETUP_BIN, "show", "nosuch"}));
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  unlink(sock.c_str());
  Outcome gone = Exec(show);
  EXPECT_EQ(gone.code, 20);
  EXPECT_EQ(InProcess(show), gone);
  ResetInProcessConnection();
}

}  // namespace
}  // namespace drbd::adm
