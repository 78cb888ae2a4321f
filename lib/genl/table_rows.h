// SPDX-License-Identifier: GPL-2.0-or-later
// What the DRBD 9 (lib/spec/genl.def) and DRBD 8.4 (lib/spec/genl84.def)
// families have in common once their .def rows are expanded: the
// compile-time checks of a table (numbers unique and ascending, attributes
// grouped by set, defaults consistent with types, command rows naming known
// sets), the one-time build of SetDesc/CmdDesc descriptors from the rows,
// and the lookups over descriptors. Each family's .cc expands its rows into
// SetRow/CmdRow/TlaRow arrays of the shapes below and instantiates these.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "lib/genl/family.h"

namespace drbd::genl::rows {

// Row shapes the .def files expand into.
struct SetRow {
  Set id;
  uint16_t tla;
  std::string_view tla_name;
  std::string_view struct_name;
  uint8_t dialects;
};
struct CmdRow {
  Cmd id;
  uint8_t nr;
  std::string_view name;
  CmdKind kind;
  uint32_t prep;
  uint8_t dialects;
};
struct TlaRow {
  Cmd cmd;
  CmdTla tla;
};

// ---- compile-time checks ------------------------------------------------------

template <size_t N>
constexpr bool SetsAscending(const SetRow (&sets)[N]) {
  for (size_t i = 1; i < N; ++i)
    if (sets[i].tla <= sets[i - 1].tla) return false;
  return true;
}

template <size_t N>
constexpr bool CmdsAscending(const CmdRow (&cmds)[N]) {
  for (size_t i = 1; i < N; ++i)
    if (cmds[i].nr <= cmds[i - 1].nr) return false;
  return true;
}

template <size_t N>
constexpr int SetIndex(const SetRow (&sets)[N], Set s) {
  for (size_t i = 0; i < N; ++i)
    if (sets[i].id == s) return static_cast<int>(i);
  return -1;
}

// The attributes of one set are contiguous, sets appear in set order, and
// numbers ascend within a set (so they are unique) below the type bits.
template <size_t NA, size_t NS>
constexpr bool AttrsGrouped(const AttrDesc (&attrs)[NA], const SetRow (&sets)[NS]) {
  int prev_set = -1;
  int prev_nr = 0;
  for (const AttrDesc& a : attrs) {
    int si = SetIndex(sets, a.set);
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

template <size_t N>
constexpr bool NamesUnique(const AttrDesc (&attrs)[N]) {
  for (size_t i = 0; i < N; ++i)
    for (size_t j = i + 1; j < N; ++j)
      if (attrs[i].name == attrs[j].name) return false;
  return true;
}

// The default and max_len columns fit the type: a default only with kDef,
// flags default to 0 or 1, strings and binaries have no numeric default,
// only strings and binaries have a length, and binaries always do.
template <size_t N>
constexpr bool DefaultsConsistent(const AttrDesc (&attrs)[N]) {
  for (const AttrDesc& a : attrs) {
    const bool bytes = a.type == AttrType::kStr || a.type == AttrType::kBin;
    if (!(a.flags & kDef) && a.def != 0) return false;
    if (a.type == AttrType::kFlag && a.def != 0 && a.def != 1) return false;
    if (bytes && a.def != 0) return false;
    if (!bytes && a.max_len != 0) return false;
    if (a.type == AttrType::kBin && a.max_len == 0) return false;
  }
  return true;
}

template <size_t NT, size_t NS, size_t NC>
constexpr bool CmdTlasKnown(const TlaRow (&tlas)[NT], const SetRow (&sets)[NS],
                            const CmdRow (&cmds)[NC]) {
  for (const TlaRow& r : tlas) {
    if (SetIndex(sets, r.tla.set) < 0) return false;
    bool found = false;
    for (const CmdRow& c : cmds) found = found || c.id == r.cmd;
    if (!found) return false;
  }
  return true;
}

// ---- descriptors built from the rows ----------------------------------------------

// Built in place, once (commands point into `flat_tlas`, sets into the
// attribute array): keep it in a function-local static.
template <size_t NS, size_t NC, size_t NT>
struct Tables {
  std::array<SetDesc, NS> sets{};
  std::array<CmdDesc, NC> cmds{};
  std::array<CmdTla, NT> flat_tlas{};
};

template <size_t NS, size_t NC, size_t NT, size_t NA>
void Build(Tables<NS, NC, NT>& t, const SetRow (&sets)[NS], const CmdRow (&cmds)[NC],
           const TlaRow (&tlas)[NT], const AttrDesc (&attrs)[NA]) {
  for (size_t i = 0; i < NS; ++i) {
    const SetRow& s = sets[i];
    size_t first = 0;
    while (first < NA && attrs[first].set != s.id) ++first;
    size_t last = first;
    while (last < NA && attrs[last].set == s.id) ++last;
    std::span<const AttrDesc> mine(attrs + first, last - first);
    uint16_t max_nr = mine.empty() ? 0 : mine.back().nr;
    t.sets[i] = SetDesc{s.id, s.tla, s.tla_name, s.struct_name, s.dialects, mine, max_nr};
  }
  for (size_t k = 0; k < NT; ++k) t.flat_tlas[k] = tlas[k].tla;
  for (size_t i = 0; i < NC; ++i) {
    const CmdRow& c = cmds[i];
    size_t first = 0;
    while (first < NT && tlas[first].cmd != c.id) ++first;
    size_t last = first;
    while (last < NT && tlas[last].cmd == c.id) ++last;
    std::span<const CmdTla> mine(t.flat_tlas.data() + first, last - first);
    t.cmds[i] = CmdDesc{c.id, c.nr, c.name, c.kind, c.prep, c.dialects, mine};
  }
}

// The descriptors of one family, built on first use. Instantiated with the
// family's row arrays.
template <const auto& kSets, const auto& kCmds, const auto& kTlas, const auto& kAttrs>
const auto& BuiltTables() {
  static Tables<std::size(kSets), std::size(kCmds), std::size(kTlas)> t;
  static const bool kBuilt = (Build(t, kSets, kCmds, kTlas, kAttrs), true);
  (void)kBuilt;
  return t;
}

// ---- lookups (lib/genl/table_rows.cc) --------------------------------------------------

const SetDesc* FindSetIn(std::span<const SetDesc> sets, uint16_t tla);
const AttrDesc* FindAttrIn(std::span<const SetDesc> sets, Set s, uint16_t nr);
const AttrDesc* FindAttrNamed(std::span<const AttrDesc> attrs, std::string_view field_name);
const CmdDesc* FindCmdIn(std::span<const CmdDesc> cmds, uint8_t nr);
const CmdDesc* FindCmdNamed(std::span<const CmdDesc> cmds, std::string_view name);

}  // namespace drbd::genl::rows
