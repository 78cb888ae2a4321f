// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm: DRBD administration from drbd.conf. All logic is in drbdadm_lib.
#include <iostream>
#include <string>
#include <vector>

#include "drbdadm/drbdadm.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  // Like stdio: stdout stays buffered while stderr is written, so output
  // interleaves in a 2>&1 pipe exactly as drbd-utils' does.
  std::cerr.tie(nullptr);
  std::vector<std::string> args(argv, argv + argc);
  int rc = drbd::adm::RunDrbdadm(args, std::cout, std::cerr);
  std::cout.flush();
  return rc;
}
