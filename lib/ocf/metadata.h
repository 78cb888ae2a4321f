// SPDX-License-Identifier: GPL-2.0-or-later
// The agent's OCF 1.1 meta-data XML, generated from lib/ocf/params.def and
// the action list below: what `drbd meta-data` prints and Pacemaker, pcs
// and crm shell read. See docs/ocf-agent.md.
#pragma once

#include <string>
#include <string_view>

namespace drbd::ocf {

// One <action> element. Empty strings and 0 are left out of the XML.
struct ActionSpec {
  std::string_view name;  // "monitor"
  int timeout_s;          // recommended timeout
  int interval_s;         // recommended interval; 0 = not printed
  std::string_view role;  // "Promoted" / "Unpromoted" / ""
  int depth;              // printed for monitor only (-1 = not printed)
};

inline constexpr ActionSpec kActions[] = {
    {"start", 240, 0, "", -1},          {"stop", 100, 0, "", -1},
    {"promote", 90, 0, "", -1},         {"demote", 90, 0, "", -1},
    {"notify", 90, 0, "", -1},          {"monitor", 20, 20, "Unpromoted", 0},
    {"monitor", 20, 10, "Promoted", 0}, {"reload-agent", 30, 0, "", -1},
    {"validate-all", 30, 0, "", -1},    {"meta-data", 5, 0, "", -1},
};

// The action names the meta-data may use: ra-api-1.dtd's enumeration (OCF
// 1.0, as shipped by resource-agents 4.12 and still upstream) plus OCF 1.1's
// reload-agent, which that DTD lacks. The DOCTYPE's internal subset
// redeclares action/name with this list (and declares OCF 1.1's
// parameter/reloadable), so `xmllint --valid` (ocf-tester) checks
// everything else against the unchanged ra-api-1.dtd.
inline constexpr std::string_view kDtdActionNames[] = {
    "start",        "stop",    "recover", "monitor",      "restart", "migrate_to",
    "migrate_from", "promote", "demote",  "notify",       "status",  "reload",
    "meta-data",    "usage",   "methods", "validate-all",
    "reload-agent",  // OCF 1.1
};

// The agent's version as printed in <resource-agent version=…>.
inline constexpr std::string_view kAgentVersion = "1.0";

// The whole meta-data document, newline-terminated.
std::string MetaDataXml();

// The parameter table of docs/ocf-agent.md (a Markdown table, one row per
// params.def row); a unit test checks the doc contains it verbatim.
std::string ParamsMarkdownTable();

}  // namespace drbd::ocf
