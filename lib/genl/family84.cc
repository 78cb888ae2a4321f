// SPDX-License-Identifier: GPL-2.0-or-later
// Descriptor arrays expanded from lib/spec/genl84.def, their lookups and
// compile-time checks, the ABI listing, and the module-version probe.
#include "lib/genl/family84.h"

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lib/genl/table_rows.h"

namespace drbd::genl::v84 {
namespace {

constexpr bool kRequired = true;
constexpr bool kOptional = false;
using CmdKind::kDoit;
using CmdKind::kDump;
using CmdKind::kNotify;

#define DRBD84_SET(id, tla, tla_name, struct_name)
#define DRBD84_ATTR(set, field, nr, type, flags, max_len, def) \
  AttrDesc{ToSet(Set84::k##set), #field, nr, AttrType::type, flags, max_len, def, k84},
#define DRBD84_CMD(id, nr, name, kind, prep)
#define DRBD84_CMD_TLA(cmd, set, need)
constexpr AttrDesc kAttrs[] = {
#include "lib/spec/genl84.def"
};
#undef DRBD84_ATTR
#define DRBD84_ATTR(set, field, nr, type, flags, max_len, def)

using rows::CmdRow;
using rows::SetRow;
using rows::TlaRow;
#undef DRBD84_CMD_TLA
#define DRBD84_CMD_TLA(cmd, set, need) TlaRow{Cmd::k##cmd, CmdTla{ToSet(Set84::k##set), need}},
constexpr TlaRow kCmdTlas[] = {
#include "lib/spec/genl84.def"
};
#undef DRBD84_CMD_TLA
#define DRBD84_CMD_TLA(cmd, set, need)

#undef DRBD84_SET
#define DRBD84_SET(id, tla, tla_name, struct_name) \
  SetRow{ToSet(Set84::k##id), tla, tla_name, struct_name, k84},
constexpr SetRow kSetRows[] = {
#include "lib/spec/genl84.def"
};
#undef DRBD84_SET
#define DRBD84_SET(id, tla, tla_name, struct_name)

#undef DRBD84_CMD
#define DRBD84_CMD(id, nr, name, kind, prep) CmdRow{Cmd::k##id, nr, name, kind, prep, k84},
constexpr CmdRow kCmdRows[] = {
#include "lib/spec/genl84.def"
};
#undef DRBD84_SET
#undef DRBD84_ATTR
#undef DRBD84_CMD
#undef DRBD84_CMD_TLA

// ---- Table guards ----
static_assert(rows::SetsAscending(kSetRows), "genl84.def: TLA numbers must be unique and ascending");
static_assert(rows::CmdsAscending(kCmdRows),
              "genl84.def: command numbers must be unique and ascending");

// A command id names the same number in both tables (8.4 numbers are a
// subset of the 9 numbering).
constexpr bool CmdIdsMatchNumbers() {
  for (const CmdRow& c : kCmdRows)
    if (static_cast<uint8_t>(c.id) != c.nr) return false;
  return true;
}
static_assert(CmdIdsMatchNumbers(), "genl84.def: command id and number disagree with genl.def");
static_assert(rows::AttrsGrouped(kAttrs, kSetRows),
              "genl84.def: attributes must be grouped by set, numbers ascending");
static_assert(rows::NamesUnique(kAttrs), "genl84.def: field names must be unique");
static_assert(rows::DefaultsConsistent(kAttrs),
              "genl84.def: default / max_len column inconsistent with type");
static_assert(rows::CmdTlasKnown(kCmdTlas, kSetRows, kCmdRows),
              "genl84.def: CMD_TLA row names an unknown command or set");

const auto& GetTables() { return rows::BuiltTables<kSetRows, kCmdRows, kCmdTlas, kAttrs>(); }

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::span<const SetDesc> AllSets() { return GetTables().sets; }
std::span<const CmdDesc> AllCmds() { return GetTables().cmds; }
std::span<const AttrDesc> AllAttrs() { return kAttrs; }

const SetDesc* FindSet(uint16_t tla) { return rows::FindSetIn(AllSets(), tla); }

const AttrDesc* FindAttr(Set s, uint16_t nr) { return rows::FindAttrIn(AllSets(), s, nr); }

const AttrDesc* FindAttr(std::string_view field_name) {
  return rows::FindAttrNamed(kAttrs, field_name);
}

const CmdDesc* FindCmd(uint8_t nr) { return rows::FindCmdIn(AllCmds(), nr); }

const CmdDesc* FindCmd(std::string_view name) { return rows::FindCmdNamed(AllCmds(), name); }

uint16_t MaxTla() { return AllSets().back().tla; }

std::string AbiText() {
  std::string out;
  out += "# ABI of the DRBD 8.4 generic-netlink family (mainline module), from\n";
  out += "# lib/spec/genl84.def. A diff here changes the kernel ABI: review it;\n";
  out += "# UPDATE_GOLDEN=1 genl_test --gtest_filter='Genl84*' rewrites it.\n";
  out += fmt::format("family {} version {} hdrsize {} maxattr {} group {}\n", kFamilyName,
                     kFamilyVersion, kUserHdrSize, MaxTla(), kEventsGroup);
  out += "# set TLA NAME struct\n# attr TLA.NR field type max_len flags default\n";
  for (const SetDesc& s : AllSets()) {
    out += fmt::format("set {} {} {}\n", s.tla, s.tla_name, s.struct_name);
    for (const AttrDesc& a : s.attrs) {
      std::string def = "-";
      if (a.flags & kDef) def = a.type == AttrType::kStr ? "\"\"" : std::to_string(a.def);
      out += fmt::format("attr {}.{} {} {} {} {} {}\n", s.tla, a.nr, a.name, AttrTypeName(a.type),
                         a.max_len, AttrFlagLetters(a.flags).empty() ? "-" : AttrFlagLetters(a.flags), def);
    }
  }
  out += "# cmd NR NAME kind prepare tlas(!=required ?=optional)\n";
  for (const CmdDesc& c : AllCmds()) {
    std::string tlas;
    for (const CmdTla& t : c.tlas) {
      std::string_view n = FindSet(static_cast<uint16_t>(t.set))->tla_name;
      n.remove_prefix(std::string_view("DRBD_NLA_").size());
      tlas += fmt::format("{}{}{}", tlas.empty() ? "" : ",", n, t.required ? "!" : "?");
    }
    out += fmt::format("cmd {} {} {} {} {}\n", c.nr, c.name, CmdKindName(c.kind), PrepareFlagsText(c.prep),
                       tlas.empty() ? "-" : tlas);
  }
  return out;
}

// ---- Module version ----

std::optional<ModuleVersion> ParseVersion(std::string_view s) {
  auto number = [&](size_t& i, int& out) {
    size_t start = i;
    long v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 9) v = v * 10 + (s[i++] - '0');
    out = static_cast<int>(v);
    return i > start;
  };
  ModuleVersion v;
  size_t i = 0;
  if (!number(i, v.major) || i >= s.size() || s[i++] != '.') return std::nullopt;
  if (!number(i, v.minor) || i >= s.size() || s[i++] != '.') return std::nullopt;
  number(i, v.sublevel);  // "8.4." gives sublevel 0, as strtol does
  if (v.code() == 0) return std::nullopt;
  return v;
}

std::optional<ModuleVersion> ParseProcDrbd(std::string_view text) {
  size_t pos = 0;
  for (;;) {
    pos = text.find("version:", pos);
    if (pos == std::string_view::npos) return std::nullopt;
    // A token of its own: at the start or after white space.
    if (pos == 0 || text[pos - 1] == ' ' || text[pos - 1] == '\n' || text[pos - 1] == '\t') break;
    pos += 8;
  }
  size_t i = pos + 8;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  size_t end = i;
  while (end < text.size() && text[end] != ' ' && text[end] != '\n' && text[end] != '\t') ++end;
  return ParseVersion(text.substr(i, end - i));
}

std::optional<ModuleVersion> ProbeModuleVersion(const ProbePaths& paths) {
  if (const char* env = std::getenv("DRBD_DRIVER_VERSION_OVERRIDE")) {
    if (std::optional<ModuleVersion> v = ParseVersion(env)) return v;
  }
  if (std::optional<std::string> t = ReadSmallFile(paths.proc_drbd)) {
    if (std::optional<ModuleVersion> v = ParseProcDrbd(*t)) return v;
  }
  if (std::optional<std::string> t = ReadSmallFile(paths.sys_version)) {
    std::string_view sv = *t;
    while (!sv.empty() && (sv.back() == '\n' || sv.back() == ' ')) sv.remove_suffix(1);
    if (std::optional<ModuleVersion> v = ParseVersion(sv)) return v;
  }
  return std::nullopt;
}

bool ModuleIs84(const ProbePaths& paths) {
  std::optional<ModuleVersion> v = ProbeModuleVersion(paths);
  return v && v->Is84();
}

}  // namespace drbd::genl::v84
