// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup as a library: the whole program behind one entry point, so that
// tests can run it in-process.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/genl/client.h"

namespace drbd::setup {

// Runs drbdsetup with argv (argv[0] included), writing to out/err. Returns
// the process exit code. DRBD_SIM_SOCKET selects a drbd-simd node instead of
// the kernel module.
int RunDrbdsetup(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

// The same over a given connection to the genl family (test harnesses that
// serve canned replies); no module check then.
using ConnectFn = std::function<genl::Result<std::unique_ptr<genl::Client>>()>;
int RunDrbdsetupWith(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err,
                     const ConnectFn& connect);

// How a caller that is not drbdsetup's own main runs it (drbdadm running
// commands in-process, drbdadm/inproc.h). Unset fields behave as the
// program does.
struct RunOptions {
  // The connection to use; null: genl::Client::Connect().
  ConnectFn connect;
  // Whether the program's checks of the environment run although `connect`
  // is given: "module loaded?" and "an 8.4 module?" (then the 8.4 command
  // set, over its own connection).
  bool check_module = false;
  // What the command believes about its standard output (colour, column
  // width); unset: isatty(STDOUT_FILENO) and its TIOCGWINSZ.
  std::optional<bool> stdout_is_tty;
};
int RunDrbdsetupWithOptions(const std::vector<std::string>& argv, std::ostream& out,
                            std::ostream& err, const RunOptions& options);

}  // namespace drbd::setup
