// SPDX-License-Identifier: GPL-2.0-or-later
// Helper execution for drbdadm: dry-run printing, then drbd-cp's own
// drbdsetup/drbdmeta in-process (drbdadm/inproc.h) or anything else by
// fork/exec with the cmd-timeout-* limits.
#include "drbdadm/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <ostream>
#include <sstream>

#include "drbdadm/inproc.h"

namespace drbd::adm {

namespace {

// Bytes drbd-utils' shell_escape() passes through: [%+\-./0-9:=@A-Z_a-z].
constexpr std::array<bool, 256> MakeCleanTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (char c : std::string_view("%+-./:=@_")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kShellClean = MakeCleanTable();

}  // namespace

void AppendShellEscaped(std::string& out, std::string_view s) {
  // drbd-utils writes into a 1024-byte buffer and stops before the last two
  // bytes (room for an escape and the terminator).
  constexpr size_t kMax = 1024 - 2;
  // Fast path: nothing to escape and short enough to need no cap.
  size_t i = 0;
  while (i < s.size() && kShellClean[static_cast<unsigned char>(s[i])]) ++i;
  if (i == s.size() && s.size() <= kMax) {
    out.append(s);
    return;
  }
  size_t written = 0;  // bytes of this argument's escaped form so far
  for (char c : s) {
    if (written >= kMax) break;
    if (!kShellClean[static_cast<unsigned char>(c)]) {
      out += '\\';
      ++written;
    }
    out += c;
    ++written;
  }
}

std::string ShellEscape(std::string_view s) {
  std::string out;
  AppendShellEscaped(out, s);
  return out;
}

namespace {

// Builds the whole text in one buffer and hands it to the stream once.
void PrintCommand(AdmState& st, const std::vector<std::string>& argv, const std::string* res_name) {
  std::string line;
  line.reserve(128);
  if (!st.sh_varname.empty() && !argv.empty()) {
    line += st.sh_varname;
    line += '=';
    if (res_name) AppendShellEscaped(line, *res_name);
    line += '\n';
  }
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i) line += ' ';
    AppendShellEscaped(line, argv[i]);
  }
  line += '\n';
  st.out->write(line.data(), static_cast<std::streamsize>(line.size()));
}

unsigned TimeoutFor(const AdmState& st, int flags) {
  switch (flags & kSleepsMask) {
    case kSleepsShort:
      return st.config.globals.cmd_timeout_short;
    case kSleepsLong:
      return st.config.globals.cmd_timeout_medium;
    case kSleepsVeryLong:
      return st.config.globals.cmd_timeout_long;
    default:
      return 0;
  }
}

double NowSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Child {
  pid_t pid = -1;
  int stderr_fd = -1;  // read end when stderr is captured
};

// capture_fd: STDOUT_FILENO or STDERR_FILENO to collect that stream, or -1.
Child Spawn(const std::vector<std::string>& argv, int capture_fd, bool suppress_stderr) {
  Child child;
  int fds[2] = {-1, -1};
  bool capture = capture_fd >= 0;
  if (capture && pipe2(fds, O_CLOEXEC) < 0) throw AdmExit{ToInt(ExitCode::kExecError)};
  pid_t pid = fork();
  if (pid < 0) throw AdmExit{ToInt(ExitCode::kExecError)};
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // helpers do not outlive drbdadm
    if (capture) dup2(fds[1], capture_fd);
    if (suppress_stderr) {
      int null_fd = open("/dev/null", O_WRONLY);
      if (null_fd >= 0) dup2(null_fd, STDERR_FILENO);
    }
    std::vector<char*> cargv;
    cargv.reserve(argv.size() + 1);
    for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    if (!argv.empty()) execvp(cargv[0], cargv.data());
    static const char kMsg[] = "Can not exec\n";
    ssize_t ignored = write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    (void)ignored;
    _exit(20);
  }
  child.pid = pid;
  if (capture) {
    close(fds[1]);
    child.stderr_fd = fds[0];
  }
  return child;
}

// Waits for the child; collects captured stderr. Returns the exit status,
// 0x100 on timeout (the child is killed), -1 if it died by a signal.
int Wait(Child& child, unsigned timeout, std::string* captured) {
  double deadline = timeout ? NowSeconds() + timeout : 0;
  int status = 0;
  for (;;) {
    if (child.stderr_fd >= 0) {
      pollfd pfd{child.stderr_fd, POLLIN, 0};
      int wait_ms = 50;
      if (poll(&pfd, 1, wait_ms) > 0) {
        char buf[4096];
        ssize_t n = read(child.stderr_fd, buf, sizeof buf);
        if (n > 0) {
          if (captured && captured->size() < 4096) captured->append(buf, static_cast<size_t>(n));
          continue;
        }
        close(child.stderr_fd);
        child.stderr_fd = -1;
      }
    }
    pid_t r = waitpid(child.pid, &status, WNOHANG);
    if (r == child.pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (timeout && NowSeconds() >= deadline) {
      kill(child.pid, SIGKILL);
      waitpid(child.pid, &status, 0);
      if (child.stderr_fd >= 0) close(child.stderr_fd);
      return 0x100;
    }
    if (child.stderr_fd < 0) {
      timespec ts{0, 10 * 1000 * 1000};
      nanosleep(&ts, nullptr);
    }
  }
  if (child.stderr_fd >= 0) close(child.stderr_fd);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -1;
}

}  // namespace

int RunCommand(AdmState& st, const std::vector<std::string>& argv, int flags,
               const std::string* res_name) {
  if (st.dry_run || st.verbose) {
    PrintCommand(st, argv, res_name);
    if (st.dry_run) return 0;
  }
  st.out->flush();
  st.err->flush();
  if (st.adjust_with_progress) flags |= kSuppressStderr;
  unsigned timeout = (flags & kSleepsFinite) ? TimeoutFor(st, flags) : 0;
  int rv;
  if (OwnTool tool = InProcessToolFor(argv); tool != OwnTool::kNone) {
    // The child's stdout and stderr are drbdadm's file descriptors 1 and 2.
    InProcIo io;
    io.out = &std::cout;
    io.err = (flags & kSuppressStderr) ? nullptr : &std::cerr;
    rv = RunInProcess(tool, argv, io, timeout);
  } else {
    Child child = Spawn(argv, -1, (flags & kSuppressStderr) != 0);
    rv = Wait(child, timeout, nullptr);
  }
  if ((flags & kSleepsFinite) && rv >= 10 && !(flags & (kDontReportFailed | kSuppressStderr))) {
    std::ostream& err = *st.err;
    err << "Command '";
    for (size_t i = 0; i < argv.size(); ++i) {
      if (i) err << ' ';
      err << argv[i];
    }
    if (rv == 0x100) {
      err << "' did not terminate within " << timeout << " seconds\n";
      throw AdmExit{ToInt(ExitCode::kExecError)};
    }
    err << "' terminated with exit code " << rv << '\n';
  }
  st.out->flush();
  st.err->flush();
  return rv;
}

int RunCommandCaptureStderr(AdmState& st, const std::vector<std::string>& argv,
                            const std::string* res_name, std::string* captured) {
  if (st.dry_run || st.verbose) {
    PrintCommand(st, argv, res_name);
    if (st.dry_run) return 0;
  }
  st.out->flush();
  st.err->flush();
  if (OwnTool tool = InProcessToolFor(argv); tool != OwnTool::kNone) {
    std::ostringstream err;
    InProcIo io;
    io.out = &std::cout;
    io.err = &err;
    int rv = RunInProcess(tool, argv, io, st.config.globals.cmd_timeout_short);
    if (captured) *captured += err.str();
    return rv;
  }
  Child child = Spawn(argv, STDERR_FILENO, false);
  return Wait(child, st.config.globals.cmd_timeout_short, captured);
}

int RunCommandCaptureStdout(AdmState& st, const std::vector<std::string>& argv, int flags,
                            std::string* captured) {
  if (st.dry_run) return 0;
  st.out->flush();
  st.err->flush();
  unsigned timeout = (flags & kSleepsFinite) ? TimeoutFor(st, flags) : 0;
  if (OwnTool tool = InProcessToolFor(argv); tool != OwnTool::kNone) {
    std::ostringstream out;
    InProcIo io;
    io.out = &out;
    io.err = (flags & kSuppressStderr) ? nullptr : &std::cerr;
    io.stdout_captured = true;
    int rv = RunInProcess(tool, argv, io, timeout);
    if (captured) *captured += out.str().substr(0, 4096);
    return rv;
  }
  Child child = Spawn(argv, STDOUT_FILENO, (flags & kSuppressStderr) != 0);
  return Wait(child, timeout, captured);
}

}  // namespace drbd::adm
