// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm: DRBD administration from drbd.conf. All logic is in drbdadm_lib.
// The program links mimalloc (drbdadm/CMakeLists.txt) as its allocator.
#include <malloc.h>

#include <iostream>
#include <string>
#include <vector>

#include "drbdadm/drbdadm.h"

int main(int argc, char** argv) {
  // A short-lived process that builds one large model: grow the heap in big
  // steps, keep large blocks (growing queues) on the heap where freed ones
  // are reused, and never hand memory back before exit.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  std::ios::sync_with_stdio(false);
  // Like stdio: stdout stays buffered while stderr is written, so output
  // interleaves in a 2>&1 pipe exactly as drbd-utils' does.
  std::cerr.tie(nullptr);
  std::vector<std::string> args(argv, argv + argc);
  int rc = drbd::adm::RunDrbdadm(args, std::cout, std::cerr, /*free_state=*/false);
  std::cout.flush();
  return rc;
}
