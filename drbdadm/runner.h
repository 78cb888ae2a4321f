// SPDX-License-Identifier: GPL-2.0-or-later
// Running the helper programs drbdadm drives (drbdsetup, drbdmeta,
// drbd-proxy-ctl, handler scripts): the dry-run printer with drbd-utils'
// shell escaping, and fork/exec with the cmd-timeout-* limits. drbd-cp's
// own drbdsetup and drbdmeta run in-process instead, with the same output,
// exit codes and limits (drbdadm/inproc.h, docs/design/drbdadm.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "drbdadm/adm.h"

namespace drbd::adm {

// drbd-utils shell_escape(): every byte outside [%+\-./0-9:=@A-Z_a-z] gets a
// backslash. Output is capped like drbd-utils' 1024-byte static buffer.
std::string ShellEscape(std::string_view s);

// ShellEscape(s) appended to out (no temporary string).
void AppendShellEscaped(std::string& out, std::string_view s);

// Flags for RunCommand (drbd-utils m__system flags, same bit values).
enum RunFlags : int {
  kSleepsFinite = 1,
  kSleepsShort = 2 + 1,     // cmd-timeout-short
  kSleepsLong = 4 + 1,      // cmd-timeout-medium
  kSleepsVeryLong = 8 + 1,  // cmd-timeout-long
  kSleepsMask = 15,
  kSleepsForever = 4,
  kSuppressStderr = 0x10,
  kDontReportFailed = 0x80,
};

// Prints argv (dry-run or verbose) and, unless dry-run, runs it and waits.
// Returns the exit status (0 for dry-run), 0x100 on timeout (after which
// drbdadm exits 20, as drbd-utils does: thrown as AdmExit).
// res_name: printed for --sh-varname; may be nullptr.
int RunCommand(AdmState& st, const std::vector<std::string>& argv, int flags,
               const std::string* res_name);

// Like RunCommand, but the child's stderr is collected into *captured
// (drbd-utils RETURN_STDERR_FD). Never reports failures itself.
int RunCommandCaptureStderr(AdmState& st, const std::vector<std::string>& argv,
                            const std::string* res_name, std::string* captured);

// Runs argv silently (never printed, not even for -v; nothing in dry-run)
// and collects its standard output into *captured (up to 4 KiB).
int RunCommandCaptureStdout(AdmState& st, const std::vector<std::string>& argv, int flags,
                            std::string* captured);

// Thrown to end the drbdadm run with an exit code (drbd-utils exit()).
struct AdmExit {
  int code;
};

}  // namespace drbd::adm
