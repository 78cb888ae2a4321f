// SPDX-License-Identifier: GPL-2.0-or-later
// The config-file registry in /var/run/drbd: after a successful new-resource
// or new-minor, drbdadm links drbd-resource-NAME.conf / drbd-minor-N.conf to
// the config file it used, so that handlers started by the kernel (which run
// `drbdadm fence-peer r0` without -c) find the same file (drbd-utils
// registry.c).
#pragma once

#include <optional>
#include <ostream>
#include <string>

namespace drbd::adm {

// The directory holding the links (drbd-utils DRBD_RUN_DIR).
inline constexpr const char* kDrbdRunDir = "/var/run/drbd";

// Links are only written for absolute paths outside the run directory.
// Failures are reported on err; the return value tells success.
bool RegisterMinor(int minor, const std::string& path, std::ostream& err);
bool RegisterResource(const std::string& name, const std::string& path, std::ostream& err);

// The registered config file, or nullopt.
std::optional<std::string> LookupMinor(int minor);
std::optional<std::string> LookupResource(const std::string& name);

}  // namespace drbd::adm
