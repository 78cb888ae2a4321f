// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup as a library: the whole program behind one entry point, so that
// tests can run it in-process.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace drbd::setup {

// Runs drbdsetup with argv (argv[0] included), writing to out/err. Returns
// the process exit code. DRBD_SIM_SOCKET selects a drbd-simd node instead of
// the kernel module.
int RunDrbdsetup(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace drbd::setup
