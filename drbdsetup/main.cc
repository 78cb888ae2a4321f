// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup: talks generic netlink to the DRBD module or to drbd-simd.
// The genl layer and commands are issue #4; until then every command fails
// with exit code 20 and says so, as drbd-utils does when it cannot reach
// the module.
#include <cstdio>
#include <cstring>

#include "lib/base/exit_codes.h"

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "-V") == 0)) {
    std::printf("DRBDADM_API_VERSION=2\nDRBD_CP_VERSION=0.1.0\n");
    return 0;
  }
  std::fprintf(stderr,
               "drbdsetup: this build has no generic-netlink transport yet (drbd-cp issue #4);"
               " cannot reach the DRBD module or drbd-simd\n");
  return drbd::ToInt(drbd::ExitCode::kExecError);
}
