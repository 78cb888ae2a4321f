// SPDX-License-Identifier: GPL-2.0-or-later
// drbdmeta entry point: see drbdmeta/tool.h.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "drbdmeta/tool.h"
#include "lib/base/tool_note.h"

// Lets drbdadm run this program's commands in-process (lib/base/tool_note.h).
DRBD_TOOL_NOTE("drbdmeta");

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  drbd::meta::Io io;
  io.stdin_is_tty = [] { return isatty(STDIN_FILENO) == 1; };
  io.read_line = []() -> std::optional<std::string> {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  };
  io.flush_out = [](std::string& out) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    out.clear();
  };
  const int rc = drbd::meta::RunDrbdmeta(args, io);
  std::fwrite(io.out.data(), 1, io.out.size(), stdout);
  std::fflush(stdout);
  return rc;
}
