// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm as a library: the whole program behind one entry point, so that
// tests and benchmarks can run it in-process.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace drbd::adm {

// Runs drbdadm with argv (argv[0] included), writing to out/err. Returns the
// process exit code. Environment is read through getenv as drbd-utils does.
// free_state = false leaves the run's state (the parsed configuration)
// allocated, for a caller that exits at once.
int RunDrbdadm(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err,
               bool free_state = true);

}  // namespace drbd::adm
