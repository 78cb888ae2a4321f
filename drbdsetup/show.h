// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdsetup show` and `show --json`: the running configuration of
// resources, printed from what the kernel (or drbd-simd) reports, in
// drbd-utils' formats. Option sections are printed from the option table:
// every field of the section's context in table order, the kernel's value
// converted as drbd-utils converts it, defaults hidden unless asked for.
// The layout follows drbd-utils >= 9.23 (connections print `_cstate`, JSON
// lists `paths`); see docs/compat.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "drbdsetup/cli.h"

namespace drbd::setup {

// An option section (OptionValues, cli.h) as reported: the values the kernel
// sent. A field of the section's context without a value is printed as not
// supported by the kernel (text) or left out (JSON).

struct ShowPath {
  std::string my_addr;    // struct sockaddr_in/in6 bytes (network byte order)
  std::string peer_addr;
};

struct ShowPeerDevice {
  uint32_t volume = 0;
  std::optional<OptionValues> conf;  // peer_device_conf, if reported
};

struct ShowConnection {
  uint32_t peer_node_id = 0;
  std::string cstate;                 // connection state word ("Connected")
  std::vector<ShowPath> paths;
  std::optional<OptionValues> net;    // net_conf (show-net-options context)
  std::vector<ShowPeerDevice> peer_devices;
};

struct ShowVolume {
  uint32_t volume = 0;
  uint32_t minor = 0;
  std::string backing_dev;            // empty: no disk attached
  std::string meta_dev;
  int32_t meta_dev_idx = -1;          // -1 internal, -2 flexible external, -3 flexible internal
  bool intentional_diskless = false;
  std::optional<OptionValues> disk_conf;    // attach context
  std::optional<OptionValues> device_conf;  // new-minor context
};

struct ShowResource {
  std::string name;
  std::optional<uint32_t> node_id;
  std::optional<OptionValues> res_opts;
  std::vector<ShowVolume> volumes;
  std::vector<ShowConnection> connections;  // sorted by peer node id
};

struct ShowOptions {
  bool show_defaults = false;
  bool json = false;  // JSON always shows defaults, as drbd-utils
};

// The text of `drbdsetup show [--show-defaults] [--json]` for these
// resources (already filtered to the requested one and sorted by name).
std::string FormatShow(const std::vector<ShowResource>& resources, const ShowOptions& opts);

using notify::FieldText;

// "ipv4 10.0.0.1:7788" / "ipv6 [fe80::1]:7788" for a sockaddr, as show prints paths.
std::string AddressText(const std::string& sockaddr);

// drbd-utils double_quote_string(): "..." with \ and " escaped.
std::string DoubleQuote(std::string_view s);

}  // namespace drbd::setup
