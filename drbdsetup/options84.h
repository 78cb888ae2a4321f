// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup's options for an 8.4 module, expanded from lib/spec/options84.def
// over the 8.4 genl table: which options a command takes, value parsing
// into genl attributes (units, keywords, yes/no), and the text and
// default test `show` uses.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/genl/codec.h"

namespace drbd::setup::o84 {

enum Ctx : uint16_t {
  kResource = 1,
  kDisk = 2,
  kAttachOnly = 4,
  kNet = 8,
  kConnectOnly = 16,
  kPrimary = 32,
  kDetach = 64,
  kDisconnect = 128,
  kResize = 256,
  kNewCUuid = 512,
  kVerify = 1024,
};
enum class Kind { kEnum, kEnumNoCase, kNumeric, kBoolean, kString, kFlag, kAddress };

struct Opt {
  Ctx ctx;
  std::string_view name;        // "resync-rate"
  const genl::AttrDesc* field;  // the 8.4 field (type, default)
  Kind kind;
  char scale;             // '1', 'k' or 's'
  std::string_view unit;  // show's comment, "" = none
};

// Rows in drbd-utils' order.
std::span<const Opt> All();
// The option `name` among the contexts `ctx_mask`; nullptr if none.
const Opt* Find(uint16_t ctx_mask, std::string_view name);
// Keywords of an enum field by value ("" = not a keyword for it).
std::span<const std::string_view> EnumWords(const Opt& o);

// Appends `--name[=value]` to t. False: value invalid for the option.
bool Put(genl::Tla& t, const Opt& o, std::string_view value, bool bare);
// show's text of a's value: "102400k", "yes", "\"sha1\"", "C", ...
std::string Text(const Opt& o, const genl::Attr& a);
// Whether a's value equals the field's default.
bool IsDefault(const Opt& o, const genl::Attr& a);

}  // namespace drbd::setup::o84
