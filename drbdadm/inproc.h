// SPDX-License-Identifier: GPL-2.0-or-later
// Running drbdsetup and drbdmeta commands inside drbdadm's process when the
// program drbdadm would exec is drbd-cp's own (its ELF note says so,
// lib/base/tool_note.h): the same argv through the library entry points,
// output where the child's would go, the same exit codes, and one genl
// connection for all drbdsetup commands of a run. Anything else (fakes in
// PATH, drbd-utils' binaries, events2 and wait-* which run until an event
// or a signal, DRBDADM_EXEC_HELPERS=1) is left to fork/exec.
// See docs/design/drbdadm.md, "Helpers in-process".
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace drbd::adm {

// Which of drbd-cp's helper programs a file is.
enum class OwnTool { kNone, kDrbdsetup, kDrbdmeta };

// Identifies the program execvp() would run for `program` (searched in PATH
// when it has no slash) by its drbd-cp ELF note. kNone for anything that is
// not found, not ELF, or carries no note naming a tool drbdadm links.
// The answer for a file is cached by (device, inode, size, mtime).
OwnTool IdentifyTool(const std::string& program);

// The tool argv should run in-process, or kNone to exec it: argv[0] is one
// of ours, helpers in-process are not disabled by DRBDADM_EXEC_HELPERS=1,
// and the command is not one that waits for events (events2, wait-*).
OwnTool InProcessToolFor(const std::vector<std::string>& argv);

// Where an in-process command's output goes. Null streams discard.
struct InProcIo {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // True when the child's stdout would have been a pipe to drbdadm (its
  // output captured): the command then never sees a terminal.
  bool stdout_captured = false;
};

// Returned by RunInProcess when timeout_s passed before the command ended
// (the exec path's status for a killed helper).
inline constexpr int kInProcTimedOut = 0x100;

// Runs argv with `tool`'s library entry point. Returns the exit status as
// waitpid would report it for the child (0..255), kInProcTimedOut when a
// drbdsetup command's genl replies did not arrive within timeout_s seconds
// (0: no limit; the shared connection is then dropped), or -1 if the
// command ended by an exception (a child would have died by a signal).
// Output is flushed to io.out/io.err before returning.
int RunInProcess(OwnTool tool, const std::vector<std::string>& argv, const InProcIo& io,
                 unsigned timeout_s);

// Closes the shared genl connection (the next command opens a new one).
void ResetInProcessConnection();

}  // namespace drbd::adm
