// SPDX-License-Identifier: GPL-2.0-or-later
// The values of one attribute set as the kernel holds them (struct
// disk_conf, net_conf, res_opts, ...): one value per table field, with the
// kernel's three operations on them, driven by lib/spec/genl.def:
//   set_<struct>_defaults()          Fields::Defaults()
//   <struct>_from_attrs[_for_change]  Fields::Apply()
//   <struct>_to_skb()                 Fields::ToTla()
// drbd-simd keeps its configuration in these and answers requests with the
// kernel's error texts. See docs/formats/genl.md §4.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/genl/codec.h"

namespace drbd::genl {

// How Apply() treats the request (the handler's choice in drbd_nl.c).
enum class ApplyMode {
  kCreate,             // from_attrs: missing R fields fail; I fields may be set
  kChange,             // from_attrs_for_change: I fields must be absent
  kChangeSetDefaults,  // the same after set_defaults (DRBD_GENL_F_SET_DEFAULTS)
};

// Why Apply() failed: the kernel's from_attrs errors. Handlers answer
// ERR_MANDATORY_TAG with FromAttrsErrorText() as CFG_REPLY info_text;
// several handlers accept kNoTla (an optional TLA).
enum class FromAttrsError {
  kOk,
  kNoTla,            // -ENOMSG: the TLA is absent
  kRequiredMissing,  // -ENOMSG: a DRBD_F_REQUIRED field is absent
  kInvariant,        // -EEXIST: a DRBD_F_INVARIANT field in a change request
};

// "required attribute missing" / "can not change invariant setting" (the
// kernel's from_attrs_err_to_txt); "" for kOk.
std::string_view FromAttrsErrorText(FromAttrsError e);

struct ApplyResult {
  FromAttrsError error = FromAttrsError::kOk;
  std::string_view field;  // the offending field's name, "" if none
  bool ok() const { return error == FromAttrsError::kOk; }
};

class Fields {
 public:
  // Every field at its default (kDef) or zero / empty.
  explicit Fields(Set s);
  static Fields Defaults(Set s) { return Fields(s); }

  Set set() const { return set_; }

  // Typed access; REQUIRES: k.set == set() (CHECK-fails otherwise).
  uint32_t U32(AttrKey k) const { return static_cast<uint32_t>(At(k).num); }
  int32_t S32(AttrKey k) const { return At(k).s32(); }
  uint64_t U64(AttrKey k) const { return At(k).num; }
  bool Flag(AttrKey k) const { return At(k).num != 0; }
  std::string_view Str(AttrKey k) const { return At(k).bytes; }  // kStr and kBin
  void SetNum(AttrKey k, uint64_t v);
  void SetStr(AttrKey k, std::string_view v);

  // Resets every field that has a default to it (set_<struct>_defaults:
  // invariant fields included).
  void ResetToDefaults();

  // Applies a request's TLA (nullptr if the request had none). Fields
  // present in tla overwrite, absent ones stay. kChangeSetDefaults first
  // resets to defaults. On error nothing is changed.
  ApplyResult Apply(const Tla* tla, ApplyMode mode);

  // Every field as a TLA, in number order (what the kernel puts into dump
  // replies and events); DRBD_F_SENSITIVE fields only if include_sensitive
  // (the kernel omits them for callers without CAP_SYS_ADMIN).
  Tla ToTla(bool include_sensitive) const;

  bool operator==(const Fields&) const = default;

 private:
  const Attr& At(AttrKey k) const;
  Attr& At(AttrKey k);
  Set set_;
  std::vector<Attr> values_;  // one per field, table order
};

}  // namespace drbd::genl
