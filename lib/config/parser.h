// SPDX-License-Identifier: GPL-2.0-or-later
// The drbd.conf parser: text (with includes) → Config. Also parses the text
// `drbdsetup show` prints, which `drbdadm adjust` compares with the config.
// Grammar and messages follow drbd-utils 9.22; see docs/reference/config.md.
#pragma once

#include <istream>
#include <iterator>
#include <list>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "lib/config/ast.h"
#include "lib/config/diag.h"

namespace drbd::cfg {

struct ParseRequest {
  // Path as given by -c (relative paths allowed), or "-" for standard input.
  std::string config_file;
  // Stream to read when config_file is "-" (nullptr: std::cin).
  std::istream* stdin_stream = nullptr;
  // Loaded module version for require-drbd-module-version-* ("9.2.0").
  std::string module_version = "9.2.0";
  // Local node name (drbd-utils `hostname`): device-name checks apply only to
  // this host's sections. Empty: LocalNodeName().
  std::string hostname;
  // drbdadm -v count: with verbose > 0 an include pattern matching nothing
  // is reported ("FILE:LINE: no match for include pattern 'P'.").
  int verbose = 0;
};

// Parses the configuration into cfg (appending resources; a second call with
// another file, as for --config-to-test, adds to the same Config).
// Non-fatal errors clear cfg.valid; fatal ones are emitted to diag and
// throw FatalConfigError (callers turn it into the exit code).
void ParseConfig(const ParseRequest& req, Config& cfg, DiagSink& diag);

// Parses `drbdsetup show` output (PARSE_FOR_ADJUST mode): resources with
// `_this_host`, `_remote_host`, `_peer_node_id`, `_is_standalone`, etc.
// source_name is used in messages.
std::list<Resource> ParseDrbdsetupShow(std::string_view text, std::string_view source_name,
                                       Config& cfg, DiagSink& diag);

// drbd-utils hostnames_equal(): case-insensitive; if both names contain a
// dot they must match fully, else only up to the first dot.
bool HostnamesEqual(std::string_view a, std::string_view b);
bool HostnameInList(std::string_view name, const Names& names);

// Records `key` for uniqueness (drbd-utils check_uniq_file_line). Returns
// true if new; otherwise reports the conflict with both locations (clearing
// cfg.valid; exits when drbd-utils exits) and returns false.
bool CheckUniq(Config& cfg, DiagSink& diag, std::string_view file, int line, std::string_view what,
               std::string_view key);

// CheckUniq with the key formatted from fmt and args into a stack buffer:
// no heap string per key (there are about 17 keys per resource).
template <typename... Args>
bool CheckUniqFormat(Config& cfg, DiagSink& diag, std::string_view file, int line,
                     std::string_view what, fmt::format_string<Args...> fmt, Args&&... args) {
  fmt::memory_buffer key;
  fmt::format_to(fmt::appender(key), fmt, std::forward<Args>(args)...);
  return CheckUniq(cfg, diag, file, line, what, std::string_view(key.data(), key.size()));
}

}  // namespace drbd::cfg
