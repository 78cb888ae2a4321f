// SPDX-License-Identifier: GPL-2.0-or-later
// The drbdsetup commands that talk to the module (or drbd-simd) once the
// command line is parsed and the family is resolved: config requests,
// down, show, status, role/cstate/dstate, get-gi/show-gi, events2 and the
// wait-* commands. Output and exit codes follow drbd-utils.
#pragma once

#include <ostream>

#include "drbdsetup/cli.h"
#include "lib/genl/client.h"

namespace drbd::setup {

struct RunContext {
  genl::Client& client;
  std::ostream& out;
  std::ostream& err;
  CliEnv env;
  bool stdout_is_tty = false;
};

// Runs inv (objects parsed) and returns the exit code.
int RunCommand(RunContext& rc, Invocation& inv);

}  // namespace drbd::setup
