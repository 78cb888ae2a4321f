// SPDX-License-Identifier: GPL-2.0-or-later
// Parsing of the agent's OCF_RESKEY_* parameters; see params.h.
#include "lib/ocf/params.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

#include "lib/base/strings.h"

namespace drbd::ocf {

std::string_view ExitName(Exit e) {
  switch (e) {
#define DRBD_OCF_EXIT(name, number, text) \
  case Exit::name:                        \
    return text;
#include "lib/ocf/exit_codes.def"
#undef DRBD_OCF_EXIT
  }
  return "OCF_ERR_GENERIC";
}

std::optional<bool> ParseOcfBool(std::string_view s) {
  for (std::string_view t : {"yes", "true", "on", "1"})
    if (EqualsIgnoreCase(s, t)) return true;
  for (std::string_view f : {"no", "false", "off", "0"})
    if (EqualsIgnoreCase(s, f)) return false;
  return std::nullopt;
}

namespace {

std::optional<int64_t> ParseNonNegative(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::vector<std::string_view> SplitWords(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) words.push_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

}  // namespace

std::optional<ScoreLadder> ParseScoreLadder(std::string_view s, std::string* why) {
  std::vector<std::string_view> words = SplitWords(s);
  if (words.size() != 4) {
    *why = fmt::format("expected 4 scores, got {}", words.size());
    return std::nullopt;
  }
  int64_t v[4];
  for (size_t i = 0; i < 4; ++i) {
    std::optional<int64_t> n = ParseNonNegative(words[i]);
    if (!n) {
      *why = fmt::format("'{}' is not a non-negative integer", words[i]);
      return std::nullopt;
    }
    if (i > 0 && *n < v[i - 1]) {
      *why = fmt::format("scores must not decrease ({} after {})", *n, v[i - 1]);
      return std::nullopt;
    }
    v[i] = *n;
  }
  return ScoreLadder{v[0], v[1], v[2], v[3]};
}

bool ParseParams(const EnvLookup& env, Params* out, ParamError* error) {
  Params p;
  for (const ParamSpec& spec : kParamSpecs) {
    std::optional<std::string> raw = env("OCF_RESKEY_" + std::string(spec.name));
    if (raw && raw->empty()) raw.reset();
    if (!raw && spec.required) {
      *error = {Exit::kErrConfigured, fmt::format("required parameter {} is not set", spec.name)};
      return false;
    }
    std::string value = raw ? *raw : std::string(spec.default_value);
    auto bad = [&](std::string_view why) {
      *error = {Exit::kErrConfigured, fmt::format("parameter {}: '{}' {}", spec.name, value, why)};
      return false;
    };
    std::optional<bool> b;
    if (spec.type == ParamType::kBoolean) {
      b = ParseOcfBool(value);
      if (!b) return bad("is not a boolean (yes/no, true/false, on/off, 1/0)");
    }
    switch (spec.id) {
      case ParamId::kDrbdResource:
        p.drbd_resource = value;
        break;
      case ParamId::kDrbdconf:
        p.drbdconf = value;
        break;
      case ParamId::kAdjustMasterScore: {
        std::string why;
        std::optional<ScoreLadder> ladder = ParseScoreLadder(value, &why);
        if (!ladder) return bad(fmt::format("is not a score ladder: {}", why));
        p.adjust_master_score = *ladder;
        break;
      }
      case ParamId::kStopOutdatesSecondary:
        p.stop_outdates_secondary = *b;
        break;
      case ParamId::kIgnoreMissingNotifications:
        p.ignore_missing_notifications = *b;
        break;
      case ParamId::kWfcTimeout: {
        std::optional<int64_t> n = ParseNonNegative(value);
        if (!n) return bad("is not a non-negative integer");
        p.wfc_timeout = *n;
        break;
      }
      case ParamId::kRemoveMasterScoreIfPeerPrimary:
        if (EqualsIgnoreCase(value, "unexpected")) {
          p.remove_master_score_if_peer_primary = RemoveIfPeerPrimary::kOnlyIfUnexpected;
        } else if (std::optional<bool> v = ParseOcfBool(value)) {
          p.remove_master_score_if_peer_primary =
              *v ? RemoveIfPeerPrimary::kAlways : RemoveIfPeerPrimary::kNever;
        } else {
          return bad("is not a boolean or 'unexpected'");
        }
        break;
      case ParamId::kFailPromoteEarlyIfPeerPrimary:
        p.fail_promote_early_if_peer_primary = *b;
        break;
      case ParamId::kUnfenceIfAllUptodate:
        p.unfence_if_all_uptodate = *b;
        break;
      case ParamId::kUnfenceExtraArgs:
        p.unfence_extra_args = value;
        break;
      case ParamId::kRequireDrbdModuleVersionGe:
        p.require_drbd_module_version_ge = value;
        break;
      case ParamId::kRequireDrbdModuleVersionLt:
        p.require_drbd_module_version_lt = value;
        break;
      case ParamId::kConnectOnlyAfterPromote:
        p.connect_only_after_promote = *b;
        break;
    }
  }
  *out = std::move(p);
  return true;
}

}  // namespace drbd::ocf
