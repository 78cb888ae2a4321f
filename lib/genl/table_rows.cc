// SPDX-License-Identifier: GPL-2.0-or-later
// Lookups over a family's descriptors (lib/genl/table_rows.h).
#include "lib/genl/table_rows.h"

namespace drbd::genl::rows {

const SetDesc* FindSetIn(std::span<const SetDesc> sets, uint16_t tla) {
  for (const SetDesc& s : sets)
    if (s.tla == tla) return &s;
  return nullptr;
}

const AttrDesc* FindAttrIn(std::span<const SetDesc> sets, Set s, uint16_t nr) {
  const SetDesc* d = FindSetIn(sets, static_cast<uint16_t>(s));
  if (!d) return nullptr;
  for (const AttrDesc& a : d->attrs)
    if (a.nr == nr) return &a;
  return nullptr;
}

const AttrDesc* FindAttrNamed(std::span<const AttrDesc> attrs, std::string_view field_name) {
  for (const AttrDesc& a : attrs)
    if (a.name == field_name) return &a;
  return nullptr;
}

const CmdDesc* FindCmdIn(std::span<const CmdDesc> cmds, uint8_t nr) {
  for (const CmdDesc& c : cmds)
    if (c.nr == nr) return &c;
  return nullptr;
}

const CmdDesc* FindCmdNamed(std::span<const CmdDesc> cmds, std::string_view name) {
  for (const CmdDesc& c : cmds)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace drbd::genl::rows
