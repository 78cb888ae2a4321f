// SPDX-License-Identifier: GPL-2.0-or-later
// Descriptor arrays expanded from lib/spec/genl.def, their lookups, and the
// compile-time checks of the table (numbers unique and ordered, every field
// in a declared set).
#include "lib/genl/family.h"

#include <array>
#include <cstdlib>

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
struct TlaRow {
  Cmd cmd;
  CmdTla tla;
};
constexpr TlaRow kCmdTlas[] = {
#include "lib/spec/genl.def"
};
#undef DRBD_GENL_CMD_TLA
#define DRBD_GENL_CMD_TLA(cmd, set, need)

struct SetRow {
  Set id;
  uint16_t tla;
  std::string_view tla_name;
  std::string_view struct_name;
  uint8_t dialects;
};
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
struct CmdRow {
  Cmd id;
  uint8_t nr;
  std::string_view name;
  CmdKind kind;
  uint32_t prep;
  uint8_t dialects;
};
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
constexpr bool SetsOrdered() {
  for (size_t i = 1; i < std::size(kSetRows); ++i)
    if (kSetRows[i].tla <= kSetRows[i - 1].tla) return false;
  return true;
}
static_assert(SetsOrdered(), "genl.def: TLA numbers must be unique and ascending");

constexpr bool CmdsOrdered() {
  for (size_t i = 1; i < std::size(kCmdRows); ++i)
    if (kCmdRows[i].nr <= kCmdRows[i - 1].nr) return false;
  return true;
}
static_assert(CmdsOrdered(), "genl.def: command numbers must be unique and ascending");

constexpr int SetIndex(Set s) {
  for (size_t i = 0; i < std::size(kSetRows); ++i)
    if (kSetRows[i].id == s) return static_cast<int>(i);
  return -1;
}

// Attributes of one set are contiguous, sets appear in set order, and
// numbers ascend within a set (so they are unique).
constexpr bool AttrsGrouped() {
  int prev_set = -1;
  int prev_nr = 0;
  for (const AttrDesc& a : kAttrs) {
    int si = SetIndex(a.set);
    if (si < 0 || si < prev_set) return false;
    if (si != prev_set) {
      prev_set = si;
      prev_nr = 0;
    }
    if (a.nr <= prev_nr || a.nr >= 0x3FFF) return false;
    prev_nr = a.nr;
  }
  return true;
}
static_assert(AttrsGrouped(), "genl.def: attributes must be grouped by set, numbers ascending");

constexpr bool NamesUnique() {
  for (size_t i = 0; i < std::size(kAttrs); ++i)
    for (size_t j = i + 1; j < std::size(kAttrs); ++j)
      if (kAttrs[i].name == kAttrs[j].name) return false;
  return true;
}
static_assert(NamesUnique(), "genl.def: DRBD 9 field names must be unique (T_<field>)");

constexpr bool DefaultsConsistent() {
  for (const AttrDesc& a : kAttrs) {
    if (!(a.flags & kDef) && a.def != 0) return false;
    if (a.type == AttrType::kFlag && a.def != 0 && a.def != 1) return false;
    if ((a.type == AttrType::kStr || a.type == AttrType::kBin) && a.def != 0) return false;
    if (a.type != AttrType::kStr && a.type != AttrType::kBin && a.max_len != 0) return false;
    if (a.type == AttrType::kBin && a.max_len == 0) return false;
  }
  return true;
}
static_assert(DefaultsConsistent(), "genl.def: default / max_len column inconsistent with type");

constexpr bool CmdTlasKnown() {
  for (const TlaRow& r : kCmdTlas) {
    if (SetIndex(r.tla.set) < 0) return false;
    bool found = false;
    for (const CmdRow& c : kCmdRows) found = found || c.id == r.cmd;
    if (!found) return false;
  }
  return true;
}
static_assert(CmdTlasKnown(), "genl.def: CMD_TLA row names an unknown command or set");

struct Tables {
  std::array<SetDesc, std::size(kSetRows)> sets;
  std::array<CmdDesc, std::size(kCmdRows)> cmds;
};

const Tables& GetTables() {
  static const Tables t = [] {
    Tables r{};
    for (size_t i = 0; i < std::size(kSetRows); ++i) {
      const SetRow& s = kSetRows[i];
      size_t first = 0;
      while (first < std::size(kAttrs) && kAttrs[first].set != s.id) ++first;
      size_t last = first;
      while (last < std::size(kAttrs) && kAttrs[last].set == s.id) ++last;
      std::span<const AttrDesc> attrs(kAttrs + first, last - first);
      uint16_t max_nr = attrs.empty() ? 0 : attrs.back().nr;
      r.sets[i] = SetDesc{s.id, s.tla, s.tla_name, s.struct_name, s.dialects, attrs, max_nr};
    }
    for (size_t i = 0; i < std::size(kCmdRows); ++i) {
      const CmdRow& c = kCmdRows[i];
      size_t first = 0;
      while (first < std::size(kCmdTlas) && kCmdTlas[first].cmd != c.id) ++first;
      size_t last = first;
      while (last < std::size(kCmdTlas) && kCmdTlas[last].cmd == c.id) ++last;
      // CmdTla rows live inside TlaRow; copy them into a stable array.
      static std::array<CmdTla, std::size(kCmdTlas)> flat = [] {
        std::array<CmdTla, std::size(kCmdTlas)> f{};
        for (size_t k = 0; k < std::size(kCmdTlas); ++k) f[k] = kCmdTlas[k].tla;
        return f;
      }();
      std::span<const CmdTla> tlas(flat.data() + first, last - first);
      r.cmds[i] = CmdDesc{c.id, c.nr, c.name, c.kind, c.prep, c.dialects, tlas};
    }
    return r;
  }();
  return t;
}

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

std::span<const SetDesc> AllSets() { return GetTables().sets; }
std::span<const CmdDesc> AllCmds() { return GetTables().cmds; }
std::span<const AttrDesc> AllAttrs() { return kAttrs; }

const SetDesc* FindSet(uint16_t tla) {
  for (const SetDesc& s : AllSets())
    if (s.tla == tla) return &s;
  return nullptr;
}

const SetDesc& GetSet(Set s) {
  const SetDesc* d = FindSet(static_cast<uint16_t>(s));
  if (!d) std::abort();  // Set values come from the table
  return *d;
}

const AttrDesc* FindAttr(Set s, uint16_t nr) {
  const SetDesc* d = FindSet(static_cast<uint16_t>(s));
  if (!d) return nullptr;
  for (const AttrDesc& a : d->attrs)
    if (a.nr == nr) return &a;
  return nullptr;
}

const AttrDesc* FindAttr(std::string_view field_name) {
  for (const AttrDesc& a : kAttrs)
    if (a.name == field_name) return &a;
  return nullptr;
}

const AttrDesc& GetAttr(AttrKey k) {
  const AttrDesc* a = FindAttr(k.set, k.nr);
  if (!a) std::abort();  // keys come from genl::attr
  return *a;
}

const CmdDesc* FindCmd(uint8_t nr) {
  for (const CmdDesc& c : AllCmds())
    if (c.nr == nr) return &c;
  return nullptr;
}

const CmdDesc* FindCmd(std::string_view name) {
  for (const CmdDesc& c : AllCmds())
    if (c.name == name) return &c;
  return nullptr;
}

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
