// SPDX-License-Identifier: GPL-2.0-or-later
// OptionSet: per-object option values with table defaults.
#include "sim/engine/options.h"

namespace drbd::engine {

int64_t OptionSet::Int(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it != values_.end()) {
    if (const int64_t* v = std::get_if<int64_t>(&it->second)) return *v;
    return 0;
  }
  const cfg::OptionDef* def = cfg::FindField(cfg::Context(ctx_), name);
  if (def == nullptr || !def->has_default) return 0;
  if (def->type == cfg::OptType::kBoolean) return def->bool_def ? 1 : 0;
  return def->def;
}

std::string OptionSet::Str(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it != values_.end()) {
    if (const std::string* v = std::get_if<std::string>(&it->second)) return *v;
  }
  return "";
}

OptionSet OptionSet::Changed(const OptionSet& change, bool set_defaults) const {
  OptionSet out = set_defaults ? OptionSet(ctx_) : *this;
  for (const auto& [k, v] : change.values_) out.values_[k] = v;
  return out;
}

}  // namespace drbd::engine
