// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdsetup status` for a mainline 8.4 module, as drbdsetup-84 prints it.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "lib/genl/client.h"

namespace drbd::setup {

// args: "status" [resource|all] [--verbose] [--statistics] [--color[=..]].
// client must be an 8.4 client with the 8.4 -> 9 rewrite installed
// (genl::v84::RewriteTo9). --color as drbdsetup (auto: when stdout is a
// tty).
// Returns the exit code (10: no such resource, 20: netlink failure).
int Status84(genl::Client& client, const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err, int columns);

}  // namespace drbd::setup
