// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup: talks generic netlink to the DRBD module or to drbd-simd. All
// logic is in drbdsetup_lib.
#include <iostream>
#include <string>
#include <vector>

#include "drbdsetup/drbdsetup.h"
#include "lib/base/tool_note.h"

// Lets drbdadm run this program's commands in-process (lib/base/tool_note.h).
DRBD_TOOL_NOTE("drbdsetup");

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::cerr.tie(nullptr);
  std::vector<std::string> args(argv, argv + argc);
  int rc = drbd::setup::RunDrbdsetup(args, std::cout, std::cerr);
  std::cout.flush();
  return rc;
}
