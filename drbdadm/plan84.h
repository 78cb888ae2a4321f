// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm's dry-run (`-d`) plans for a DRBD 8.4 kernel module: the command
// lines drbd-utils' drbdadm-84 prints (`drbdsetup-84 new-resource r0`,
// `new-minor r0 0 0`, `attach 0 DISK META IDX --opts`, `connect r0 A B
// --opts`, ...) built from the parsed configuration. Options come from the
// configuration filtered and ordered as drbdadm-84 orders them (section
// order, `common` and resource-level inheritance prepend), and only those
// the 8.4 option table (lib/spec/options84.def) knows. A configuration that
// needs DRBD 9 (node-id, several peers, connection/mesh sections, v9-only
// options) gets one line naming what and what to do instead. See
// docs/compat.md "DRBD 8.4 modules".
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "lib/config/ast.h"

namespace drbd::adm {

// Checks, on the configuration as parsed (before cfg::PostParse), that a
// DRBD 8.4 module can run every resource in it: no node-id, no
// connection-mesh, at most two hosts and one connection per resource, only
// options the 8.4 table knows. Prints one line naming the first obstacle and
// what to do instead, and returns 10 (config invalid); 0 when all is fine.
int CheckConfig84(const cfg::Config& config, const std::string& module_version, std::ostream& err);

// True for the verbs Plan84 implements (up, down, primary, secondary,
// create-md, attach, detach, connect, disconnect, resize).
bool IsPlan84Verb(std::string_view verb);

// Prints the `-d` plan of `verb` for the named resources ("all" or none:
// every resource of this host) to `out`, in drbdadm-84's stage order (all
// new-resource/new-minor lines, then attaches, then connects). Errors go to
// `err` as one line each. Returns the exit code: 0, or 1 for an unknown
// resource.
// `backend_options` ("--force", "--size=10G") end each line of verbs other
// than up. `module_version` ("8.4.11") only names the module in messages.
// REQUIRES: cfg post-processed (cfg::PostParse, cfg::ExpandCommon).
int Plan84(const cfg::Config& config, std::string_view verb, const std::vector<std::string>& names,
           const std::vector<std::string>& backend_options, const std::string& module_version,
           std::ostream& out, std::ostream& err);

}  // namespace drbd::adm
