// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdsetup status` (plain, --verbose, --statistics, colour, wrapped to the
// terminal width), `status --json`, and the one-word queries role, cstate,
// dstate, all printed byte for byte as drbd-utils 9.22 prints them from the
// same kernel data. `drbdadm status` is drbdsetup's output paragraph by
// paragraph. See docs/formats/status.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/events/model.h"

namespace drbd::events {

struct StatusOptions {
  int verbose = 0;          // number of --verbose
  bool statistics = false;  // --statistics
  bool color = false;       // --color resolved (always, or auto on a tty)
  bool is_a_tty = false;    // stdout is a terminal (hides client:/peer-client:)
  int columns = 80;         // terminal width; 80 when stdout is not a tty
};

// The text for the given resources (any order: sorted here by name, their
// connections by name, devices and peer devices by volume, as the kernel's
// dumps come). No resources: "# No currently configured DRBD found.\n".
std::string FormatStatus(std::vector<ResourceSnapshot> resources, const StatusOptions& options);

// `status --json`: a JSON array, key order and spacing as drbd-utils 9.22
// (including the stray space after the "connection-state" comma).
std::string FormatStatusJson(std::vector<ResourceSnapshot> resources);

// The whole `drbdsetup status [RES|all] [--json]` command over every
// resource the kernel reported (unfiltered): what goes to stdout and
// stderr and the exit code, as drbd-utils 9.22. The "nothing configured"
// comment is printed only when the kernel has no resource at all (text
// mode); a named resource that does not exist adds "RES: No such
// resource" on stderr and exit code 10.
struct StatusCommandOutput {
  std::string out;
  std::string err;
  int exit_code = 0;
};
StatusCommandOutput RunStatusCommand(std::vector<ResourceSnapshot> all, std::string_view objname,
                                     const StatusOptions& options, bool json);

// `role RES`: "Primary\n".
std::string FormatRole(const ResourceSnapshot& r);
// `cstate RES PEER`: the connection state of the connection to
// `peer_node_id`, or nullopt ("No such connection").
std::optional<std::string> FormatCstate(const ResourceSnapshot& r, uint32_t peer_node_id);
// `dstate MINOR`: "<local>/<peer>/…\n" over the peer devices of that volume
// in connection order, or nullopt ("No such device").
std::optional<std::string> FormatDstate(const ResourceSnapshot& r, uint32_t minor);

}  // namespace drbd::events
