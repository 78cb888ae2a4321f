// SPDX-License-Identifier: GPL-2.0-or-later
// Descriptor arrays expanded from lib/spec/genl.def, their lookups, and the
// compile-time checks of the table (numbers unique and ordered, every field
// in a declared set).
#include "lib/genl/family.h"

#include <array>
#include <cstdlib>
#include <string>
#include <utility>

#include "lib/genl/table_rows.h"

namespace drbd::genl {
namespace {

// Sets are declared in the descriptor order the .def gives; attributes are
// grouped per set in the same order.
#define DRBD_GENL_SET(id, tla, tla_name, struct_name, dialects)
#define DRBD_GENL_ATTR(set, field, nr, type, flags, max_len, def, dialects) \
  AttrDesc{Set::k##set, #field, nr, AttrType::type, flags, max_len, def, dialects},
#define DRBD_GENL_CMD(id, nr, name, kind, prep, dialects)
#define DRBD_GENL_CMD_TLA(cmd, set, need)
constexpr AttrDesc kAttrs[] = {
#include "lib/spec/genl.def"
};
#undef DRBD_GENL_ATTR
#define DRBD_GENL_ATTR(set, field, nr, type, flags, max_len, def, dialects)

#undef DRBD_GENL_CMD_TLA
#define DRBD_GENL_CMD_TLA(cmd, set, need) \
  TlaRow{Cmd::k##cmd, CmdTla{Set::k##set, need == kRequired}},
constexpr bool kRequired = true;
constexpr bool kOptional = false;
using rows::CmdRow;
using rows::SetRow;
using rows::TlaRow;
constexpr TlaRow kCmdTlas[] = {
#include "lib/spec/genl.def"
};
#undef DRBD_GENL_CMD_TLA
#define DRBD_GENL_CMD_TLA(cmd, set, need)

#undef DRBD_GENL_SET
#define DRBD_GENL_SET(id, tla, tla_name, struct_name, dialects) \
  SetRow{Set::k##id, tla, tla_name, struct_name, dialects},
constexpr SetRow kSetRows[] = {
#include "lib/spec/genl.def"
};
#undef DRBD_GENL_SET
#define DRBD_GENL_SET(id, tla, tla_name, struct_name, dialects)

using CmdKind::kDoit;
using CmdKind::kDump;
using CmdKind::kNotify;
#undef DRBD_GENL_CMD
#define DRBD_GENL_CMD(id, nr, name, kind, prep, dialects) \
  CmdRow{Cmd::k##id, nr, name, kind, prep, dialects},
constexpr CmdRow kCmdRows[] = {
#include "lib/spec/genl.def"
};
#undef DRBD_GENL_SET
#undef DRBD_GENL_ATTR
#undef DRBD_GENL_CMD
#undef DRBD_GENL_CMD_TLA

// ---- Table guards ----
static_assert(rows::SetsAscending(kSetRows), "genl.def: TLA numbers must be unique and ascending");
static_assert(rows::CmdsAscending(kCmdRows),
              "genl.def: command numbers must be unique and ascending");
static_assert(rows::AttrsGrouped(kAttrs, kSetRows),
              "genl.def: attributes must be grouped by set, numbers ascending");
static_assert(rows::NamesUnique(kAttrs), "genl.def: DRBD 9 field names must be unique (T_<field>)");
static_assert(rows::DefaultsConsistent(kAttrs),
              "genl.def: default / max_len column inconsistent with type");
static_assert(rows::CmdTlasKnown(kCmdTlas, kSetRows, kCmdRows),
              "genl.def: CMD_TLA row names an unknown command or set");

const auto& GetTables() { return rows::BuiltTables<kSetRows, kCmdRows, kCmdTlas, kAttrs>(); }

}  // namespace

std::string_view AttrTypeName(AttrType t) {
  switch (t) {
    case AttrType::kU32: return "u32";
    case AttrType::kS32: return "s32";
    case AttrType::kU64: return "u64";
    case AttrType::kFlag: return "flag";
    case AttrType::kStr: return "string";
    case AttrType::kBin: return "binary";
  }
  return "?";
}

std::string AttrFlagLetters(uint32_t f) {
  std::string s;
  if (f & kReq) s += 'R';
  if (f & kInv) s += 'I';
  if (f & kSens) s += 'S';
  if (f & kMand) s += 'M';
  return s;
}

std::string_view CmdKindName(CmdKind k) {
  switch (k) {
    case CmdKind::kDoit: return "doit";
    case CmdKind::kDump: return "dump";
    case CmdKind::kNotify: return "notify";
  }
  return "?";
}

std::string PrepareFlagsText(uint32_t p) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kNeedMinor, "minor"},           {kNeedResource, "resource"},
      {kNeedConnection, "connection"}, {kNeedPeerDevice, "peer-device"},
      {kNeedPeerNode, "peer-node"},    {kIgnoreVersion, "ignore-version"},
  };
  std::string s;
  for (const auto& [bit, name] : kNames) {
    if (!(p & bit)) continue;
    if (!s.empty()) s += '+';
    s += name;
  }
  return s.empty() ? "-" : s;
}

std::span<const SetDesc> AllSets() { return GetTables().sets; }
std::span<const CmdDesc> AllCmds() { return GetTables().cmds; }
std::span<const AttrDesc> AllAttrs() { return kAttrs; }

const SetDesc* FindSet(uint16_t tla) { return rows::FindSetIn(AllSets(), tla); }

const SetDesc& GetSet(Set s) {
  const SetDesc* d = FindSet(static_cast<uint16_t>(s));
  if (!d) std::abort();  // Set values come from the table
  return *d;
}

const AttrDesc* FindAttr(Set s, uint16_t nr) { return rows::FindAttrIn(AllSets(), s, nr); }

const AttrDesc* FindAttr(std::string_view field_name) {
  return rows::FindAttrNamed(kAttrs, field_name);
}

const AttrDesc& GetAttr(AttrKey k) {
  const AttrDesc* a = FindAttr(k.set, k.nr);
  if (!a) std::abort();  // keys come from genl::attr
  return *a;
}

const CmdDesc* FindCmd(uint8_t nr) { return rows::FindCmdIn(AllCmds(), nr); }

const CmdDesc* FindCmd(std::string_view name) { return rows::FindCmdNamed(AllCmds(), name); }

const CmdDesc& GetCmd(Cmd c) {
  const CmdDesc* d = FindCmd(static_cast<uint8_t>(c));
  if (!d) std::abort();
  return *d;
}

uint16_t MaxTla() {
  uint16_t m = 0;
  for (const SetDesc& s : AllSets())
    if (s.dialects & k9) m = s.tla > m ? s.tla : m;
  return m;
}

}  // namespace drbd::genl
