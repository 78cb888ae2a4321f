// SPDX-License-Identifier: GPL-2.0-or-later
// drbdmeta: DRBD on-disk metadata tool. The metadata library is issue #3;
// until then every command fails with exit code 20 and says so, and nothing
// is read or written.
#include <cstdio>
#include <cstring>

#include "lib/base/exit_codes.h"

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "-V") == 0)) {
    std::printf("DRBD_CP_VERSION=0.1.0\n");
    return 0;
  }
  std::fprintf(stderr,
               "drbdmeta: this build has no metadata support yet (drbd-cp issue #3);"
               " nothing was read or written\n");
  return drbd::ToInt(drbd::ExitCode::kExecError);
}
