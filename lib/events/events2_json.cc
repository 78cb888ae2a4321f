// SPDX-License-Identifier: GPL-2.0-or-later
// events2 lines as JSON objects (docs/formats/events2-json.md).
#include "lib/events/events2_json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "lib/events/text.h"

namespace drbd::events {
namespace {

using Json = nlohmann::ordered_json;

enum class Kind { kString, kInt, kFloat, kBool, kTristate, kList, kAddress };

// The JSON type of each events2 key. Keys not listed stay strings.
Kind KindOf(std::string_view key) {
  static constexpr std::string_view kInts[] = {"volume",
                                               "minor",
                                               "peer-node-id",
                                               "promotion_score",
                                               "status",
                                               "size",
                                               "read",
                                               "written",
                                               "al-writes",
                                               "bm-writes",
                                               "upper-pending",
                                               "lower-pending",
                                               "ap-in-flight",
                                               "rs-in-flight",
                                               "received",
                                               "sent",
                                               "out-of-sync",
                                               "pending",
                                               "unacked",
                                               "rs-total",
                                               "rs-dt-start-ms",
                                               "rs-paused-ms",
                                               "rs-dt0-ms",
                                               "rs-db0-sectors",
                                               "rs-dt1-ms",
                                               "rs-db1-sectors",
                                               "ov-start-sector",
                                               "ov-stop-sector",
                                               "ov-position",
                                               "ov-left",
                                               "ov-skipped",
                                               "rs-failed",
                                               "rs-same-csum"};
  static constexpr std::string_view kFloats[] = {"done", "want", "dbdt", "dbdt0", "dbdt1", "eta"};
  static constexpr std::string_view kBools[] = {
      "force-io-failures", "may_promote", "quorum", "al-suspended",
      "congested",         "established", "tls"};
  static constexpr std::string_view kTristates[] = {"client", "peer-client", "open"};
  static constexpr std::string_view kLists[] = {"suspended", "resync-suspended", "blocked"};
  for (auto k : kInts)
    if (k == key) return Kind::kInt;
  for (auto k : kFloats)
    if (k == key) return Kind::kFloat;
  for (auto k : kBools)
    if (k == key) return Kind::kBool;
  for (auto k : kTristates)
    if (k == key) return Kind::kTristate;
  for (auto k : kLists)
    if (k == key) return Kind::kList;
  if (key == "local" || key == "peer") return Kind::kAddress;
  return Kind::kString;
}

Json Value(std::string_view key, const std::string& v) {
  switch (KindOf(key)) {
    case Kind::kInt: {
      int64_t i = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), i);
      if (ec == std::errc() && p == v.data() + v.size()) return i;
      uint64_t u = 0;
      auto [q, ec2] = std::from_chars(v.data(), v.data() + v.size(), u);
      if (ec2 == std::errc() && q == v.data() + v.size()) return u;
      return v;
    }
    case Kind::kFloat: {
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0') return v;
      if (!std::isfinite(d)) return nullptr;  // eta:nan
      return d;
    }
    case Kind::kBool:
      if (v == "yes") return true;
      if (v == "no") return false;
      return v;
    case Kind::kTristate:
      if (v == "yes") return true;
      if (v == "no") return false;
      if (v == "unknown") return nullptr;
      return v;
    case Kind::kList: {
      Json a = Json::array();
      if (v == "no") return a;
      size_t pos = 0;
      while (pos <= v.size()) {
        size_t c = v.find(',', pos);
        if (c == std::string::npos) c = v.size();
        a.push_back(v.substr(pos, c - pos));
        pos = c + 1;
      }
      return a;
    }
    case Kind::kAddress: {
      auto a = ParseAddress(v);
      if (!a) return v;
      std::string text = ToString(*a);
      Json o = Json::object();
      o["family"] = text.substr(0, text.find(':'));
      o["address"] = a->host;
      o["port"] = a->port;
      return o;
    }
    case Kind::kString:
      break;
  }
  return v;
}

// Names and unknown values are bytes from the kernel or the text; invalid
// UTF-8 becomes U+FFFD so that the line is always valid JSON.
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

std::string ToJsonLine(const Events2Line& line) {
  Json j = Json::object();
  j["v"] = kEvents2JsonVersion;
  if (!line.timestamp.empty()) j["timestamp"] = line.timestamp;
  switch (line.type) {
    case Events2Line::Type::kSkipped:
      j["action"] = "skipped";
      j["count"] = line.skipped;
      return Dump(j);
    case Events2Line::Type::kEndOfInitialState:
      j["action"] = "exists";
      j["object"] = "-";
      return Dump(j);
    default:
      break;
  }
  j["action"] = ToString(line.action);
  j["object"] = ToString(line.object);
  // Identity keys, then the printed fields, via the text form of the line
  // (so that both notations always carry the same keys).
  std::string text = FormatEvents2Line(line);
  std::string_view rest = text;
  if (!line.timestamp.empty()) rest.remove_prefix(line.timestamp.size() + 1);
  // Skip "action object".
  for (int i = 0; i < 2; ++i) {
    size_t sp = rest.find(' ');
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
  }
  Json old = Json::object();
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    std::string_view tok = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    size_t colon = tok.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key(tok.substr(0, colon));
    std::string value(tok.substr(colon + 1));
    // --diff "old->new" (identity keys never have one; addresses contain no
    // "->").
    size_t arrow = KindOf(key) == Kind::kAddress ? std::string::npos : value.find("->");
    if (arrow != std::string::npos) {
      old[key] = Value(key, value.substr(0, arrow));
      value.erase(0, arrow + 2);
    }
    j[key] = Value(key, value);
  }
  if (!old.empty()) j["old"] = std::move(old);
  return Dump(j);
}

}  // namespace drbd::events
