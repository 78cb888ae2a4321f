// SPDX-License-Identifier: GPL-2.0-or-later
// The OCF resource agent's parameters (lib/ocf/params.def) and their
// parsing from the OCF_RESKEY_* environment Pacemaker passes, plus the OCF
// exit codes (lib/ocf/exit_codes.def). Parsing never reads the process
// environment itself: callers hand in a lookup, so tests are hermetic.
// See docs/ocf-agent.md.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace drbd::ocf {

enum class Exit : int {
#define DRBD_OCF_EXIT(name, number, text) name = number,
#include "lib/ocf/exit_codes.def"
#undef DRBD_OCF_EXIT
};

// "OCF_SUCCESS", "OCF_RUNNING_PROMOTED", …
std::string_view ExitName(Exit e);

enum class ParamType { kString, kBoolean, kInteger };

enum class ParamId {
#define DRBD_OCF_PARAM(id, name, type, def, required, unique, reloadable, shortdesc, longdesc) id,
#include "lib/ocf/params.def"
#undef DRBD_OCF_PARAM
};

// One row of params.def.
struct ParamSpec {
  ParamId id;
  std::string_view name;  // "drbd_resource"; env key is OCF_RESKEY_<name>
  ParamType type;
  std::string_view default_value;  // "" = no default
  bool required;
  bool unique;
  bool reloadable;  // meta-data reloadable="1": a change is applied by reload-agent
  std::string_view shortdesc;
  std::string_view longdesc;
};

inline constexpr ParamSpec kParamSpecs[] = {
#define DRBD_OCF_PARAM(id, name, type, def, required, unique, reloadable, shortdesc, longdesc) \
  {ParamId::id, name, ParamType::type, def, required, unique, reloadable, shortdesc, longdesc},
#include "lib/ocf/params.def"
#undef DRBD_OCF_PARAM
};

// remove_master_score_if_peer_primary: a boolean or the word "unexpected".
enum class RemoveIfPeerPrimary { kNever, kAlways, kOnlyIfUnexpected };

// The adjust_master_score ladder, non-decreasing.
struct ScoreLadder {
  int64_t only_consistent = 0;         // local disks Consistent, nothing better known
  int64_t only_remote = 10;            // a peer has all disks UpToDate, we do not
  int64_t local_ok = 1000;             // local UpToDate, some peer disk unknown
  int64_t as_good_as_it_gets = 10000;  // local UpToDate and peers known, or Primary
  friend bool operator==(const ScoreLadder&, const ScoreLadder&) = default;
};

// Parsed parameters with the table's defaults filled in.
struct Params {
  std::string drbd_resource;
  std::string drbdconf;
  ScoreLadder adjust_master_score;
  bool stop_outdates_secondary = false;
  bool ignore_missing_notifications = false;
  int64_t wfc_timeout = 5;  // seconds
  RemoveIfPeerPrimary remove_master_score_if_peer_primary = RemoveIfPeerPrimary::kNever;
  bool fail_promote_early_if_peer_primary = false;
  bool unfence_if_all_uptodate = false;
  std::string unfence_extra_args;
  std::string require_drbd_module_version_ge;  // "8.0.0"
  std::string require_drbd_module_version_lt;  // "10.0.0"
  bool connect_only_after_promote = false;
};

// Why parameters were rejected: the OCF code to exit with and a one-line
// message for the log and exit reason, e.g. "parameter wfc_timeout: 'x' is
// not an integer".
struct ParamError {
  Exit code = Exit::kErrConfigured;
  std::string message;
};

// Returns the value of an environment variable or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& key)>;

// Reads every parameter from OCF_RESKEY_<name>. A missing required
// parameter is OCF_ERR_CONFIGURED; a malformed value (boolean not one of
// yes/no/true/false/on/off/1/0, integer not a non-negative number, ladder
// not four non-decreasing non-negative integers) is OCF_ERR_CONFIGURED.
// Unset or empty values take the table default.
bool ParseParams(const EnvLookup& env, Params* out, ParamError* error);

// OCF boolean words (case-insensitive). nullopt: not a boolean.
std::optional<bool> ParseOcfBool(std::string_view s);

// "0 10 1000 10000" → ladder; nullopt with *why set on error.
std::optional<ScoreLadder> ParseScoreLadder(std::string_view s, std::string* why);

}  // namespace drbd::ocf
