// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdsetup show` for a mainline 8.4 module, as drbdsetup-84 prints it
// (one _this_host / _remote_host pair per resource, options of the
// option contexts of lib/spec/options84.def, defaults left out unless
// --show-defaults).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "lib/genl/client.h"

namespace drbd::setup {

// The text for the GET_STATUS replies `replies` (8.4 table), in order.
std::string FormatShow84(const std::vector<genl::Message>& replies, bool show_defaults);

// args: "show" [minor|resource|all] [--show-defaults]. client: 8.4 client.
int Show84(genl::Client& client, const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err);

}  // namespace drbd::setup
