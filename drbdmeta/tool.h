// SPDX-License-Identifier: GPL-2.0-or-later
// drbdmeta: the command line of drbd-utils' drbdmeta over lib/md.
// RunDrbdmeta parses argv exactly like drbdmeta 9.22 (getopt_long, options
// may follow the command), runs one command and returns the exit code.
#pragma once

#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace drbd::meta {

// Process environment seam, so tests can run commands in memory.
struct Io {
  // Standard output is collected here and written by the caller at exit
  // (drbdmeta's stdout is block-buffered when not a terminal).
  std::string out;
  // Writes `out` to the real stdout and clears it; null: keep collecting.
  std::function<void(std::string&)> flush_out;
  // Standard error, written immediately.
  std::function<void(const std::string&)> err = [](const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stderr);
  };
  std::function<bool()> stdin_is_tty;
  // One line from stdin, without the newline; nullopt at EOF.
  std::function<std::optional<std::string>()> read_line;
  std::function<std::time_t()> now = [] { return std::time(nullptr); };
  std::string hostname;  // empty: gethostname()
  // Directory for last-known-bdev files; drbd-utils uses /var/lib/drbd.
  std::string var_lib_drbd = "/var/lib/drbd";
  std::string lock_dir = "/var/lock";
  // When false, no "drbdsetup MINOR dstate" probe and no minor lock.
  bool probe_minor = true;
  // Runs a helper instead of fork/exec (drbdadm running drbdmeta
  // in-process, drbdadm/inproc.h): argv is "drbdsetup MINOR dstate", its
  // stdout goes to *out, stderr is discarded; returns the exit status, or
  // nullopt to let drbdmeta fork/exec it as usual. Null: always fork/exec.
  std::function<std::optional<int>(const std::vector<std::string>& argv, std::string* out)>
      run_helper;
  // Crash injection for tests: the metadata writes from this 0-based index
  // on fail with EIO (as if the machine died there); -1: never.
  long long fail_writes_from = -1;
};

// Runs drbdmeta with `args` (args[0] is the program name).
int RunDrbdmeta(const std::vector<std::string>& args, Io& io);

}  // namespace drbd::meta
