// SPDX-License-Identifier: GPL-2.0-or-later
// From a parsed command line to the genl request drbdsetup sends, and from
// reported option sets back to option values: the one place where the
// option table (lib/spec/options.def) meets the genl table
// (lib/spec/genl.def). Options name their genl attribute by number within
// the command's payload set.
#pragma once

#include <optional>
#include <string>

#include "drbdsetup/cli.h"
#include "lib/genl/codec.h"

namespace drbd::setup {

// The genl command of cmd (nullptr for commands that send none).
const genl::CmdDesc* GenlCommand(const Command& cmd);

// The payload set of cmd, if it has one.
std::optional<genl::Set> PayloadSet(const Command& cmd);

// The request for a config command: header minor, CfgContext (resource,
// peer node id, volume as the command's objects say), the payload with the
// options and extra arguments, DRBD_GENL_F_SET_DEFAULTS. Errors name the
// option that has no genl attribute (a table bug, never user input).
genl::Result<genl::Message> BuildRequest(const Invocation& inv);

using notify::PutValues;
using notify::ValuesFromTla;

}  // namespace drbd::setup
