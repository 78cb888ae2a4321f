// SPDX-License-Identifier: GPL-2.0-or-later
// Option values as the kernel carries them, and their place in genl: the one
// point where the option table (lib/spec/options.def) meets the genl table
// (lib/spec/genl.def). An option row names its genl attribute by number
// within the set its context travels in (net-options -> NET_CONF, ...).
// drbdsetup encodes requests and reads `show` data with it; drbd-simd reads
// requests and answers dumps with it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/config/options.h"
#include "lib/genl/codec.h"

namespace drbd::notify {

// One option's value, converted as drbd-utils' field put functions convert
// command-line text.
struct FieldValue {
  const cfg::OptionDef* field = nullptr;
  uint64_t number = 0;  // numbers (scaled to the field's unit), booleans 0/1, enum values
  std::string text;     // strings; the raw argument for everything
};

// The values of one option section, in any order.
using OptionValues = std::vector<FieldValue>;

// The option values of context ctx carried by `tla` (a request, reply or
// event): one FieldValue per attribute that has an option row in ctx (the
// last occurrence wins).
OptionValues ValuesFromTla(const genl::Tla& tla, cfg::OptContext ctx);

// Puts every value into tla under its row's attribute number; rows without
// an attribute in tla's set are skipped.
void PutValues(genl::Tla& tla, const std::vector<FieldValue>& values);

// drbd-utils' text for a value ("4096s", "yes", "C"; strings unquoted), as
// `show` prints it and as drbd.conf would spell it.
std::string FieldText(const FieldValue& v);

// Every field of ctx at its default value (drbd-simd's initial options).
OptionValues DefaultValues(cfg::OptContext ctx);

}  // namespace drbd::notify
