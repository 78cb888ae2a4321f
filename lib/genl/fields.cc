// SPDX-License-Identifier: GPL-2.0-or-later
// Fields: the kernel's per-struct defaults / from_attrs / to_skb semantics
// over the genl table.
#include "lib/genl/fields.h"

#include <cstdlib>

namespace drbd::genl {
namespace {

Attr DefaultValue(const AttrDesc& a) {
  Attr v;
  v.nr = a.nr;
  v.type = a.type;
  if (a.flags & kDef) v.num = static_cast<uint64_t>(a.def);
  if (a.type == AttrType::kU32 || a.type == AttrType::kS32) v.num &= 0xFFFFFFFFu;
  return v;
}

}  // namespace

std::string_view FromAttrsErrorText(FromAttrsError e) {
  switch (e) {
    case FromAttrsError::kOk: return "";
    case FromAttrsError::kNoTla:
    case FromAttrsError::kRequiredMissing: return "required attribute missing";
    case FromAttrsError::kInvariant: return "can not change invariant setting";
  }
  return "invalid attribute value";
}

Fields::Fields(Set s) : set_(s) {
  for (const AttrDesc& a : GetSet(s).attrs) values_.push_back(DefaultValue(a));
}

const Attr& Fields::At(AttrKey k) const {
  if (k.set != set_) std::abort();  // a key of another set is a programming error
  for (const Attr& v : values_)
    if (v.nr == k.nr) return v;
  std::abort();
}

Attr& Fields::At(AttrKey k) { return const_cast<Attr&>(static_cast<const Fields*>(this)->At(k)); }

void Fields::SetNum(AttrKey k, uint64_t v) {
  Attr& a = At(k);
  if (a.type == AttrType::kU32 || a.type == AttrType::kS32) v &= 0xFFFFFFFFu;
  if (a.type == AttrType::kFlag) v = v != 0;
  a.num = v;
}

void Fields::SetStr(AttrKey k, std::string_view v) { At(k).bytes = std::string(v); }

void Fields::ResetToDefaults() {
  const SetDesc& sd = GetSet(set_);
  for (size_t i = 0; i < values_.size(); ++i)
    if (sd.attrs[i].flags & kDef) values_[i] = DefaultValue(sd.attrs[i]);
}

ApplyResult Fields::Apply(const Tla* tla, ApplyMode mode) {
  if (!tla) return {FromAttrsError::kNoTla, ""};
  const SetDesc& sd = GetSet(set_);
  Fields next = *this;
  if (mode == ApplyMode::kChangeSetDefaults) next.ResetToDefaults();
  const bool change = mode != ApplyMode::kCreate;
  for (size_t i = 0; i < sd.attrs.size(); ++i) {
    const AttrDesc& d = sd.attrs[i];
    // The last occurrence wins, as nla_parse keeps it.
    const Attr* given = nullptr;
    for (const Attr& a : tla->attrs)
      if (a.nr == d.nr && a.type == d.type) given = &a;
    if (given) {
      if (change && (d.flags & kInv)) return {FromAttrsError::kInvariant, d.name};
      next.values_[i].num = given->num;
      next.values_[i].bytes = given->bytes;
    } else if (change && (d.flags & kInv)) {
      // expected: invariants stay as they are
    } else if (d.flags & kReq) {
      return {FromAttrsError::kRequiredMissing, d.name};
    }
  }
  *this = std::move(next);
  return {};
}

Tla Fields::ToTla(bool include_sensitive) const {
  Tla t{set_, {}};
  const SetDesc& sd = GetSet(set_);
  for (size_t i = 0; i < values_.size(); ++i) {
    if (!include_sensitive && (sd.attrs[i].flags & kSens)) continue;
    t.attrs.push_back(values_[i]);
  }
  return t;
}

}  // namespace drbd::genl
