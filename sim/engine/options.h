// SPDX-License-Identifier: GPL-2.0-or-later
// The options of one engine object (resource options, disk options, net
// options, peer-device options): values as the genl request carries them
// (numbers in the kernel's units, booleans 0/1, enums as kernel numbers,
// strings verbatim), keyed by the drbd.conf word. Absent options read as the
// option table's default (lib/spec/options.def); defaults are never typed
// here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "lib/config/options.h"

namespace drbd::engine {

using OptionValue = std::variant<int64_t, std::string>;

class OptionSet {
 public:
  explicit OptionSet(cfg::OptContext ctx) : ctx_(ctx) {}

  // The value, or the table default if unset (0 / "" for names the table
  // does not know in this context).
  int64_t Int(std::string_view name) const;
  bool Bool(std::string_view name) const { return Int(name) != 0; }
  std::string Str(std::string_view name) const;

  void Set(std::string name, OptionValue v) { values_[std::move(name)] = std::move(v); }
  bool Has(std::string_view name) const { return values_.find(std::string(name)) != values_.end(); }

  // The options after a *-options change request: with set_defaults every
  // option not in `change` returns to its default; otherwise it keeps its
  // current value.
  OptionSet Changed(const OptionSet& change, bool set_defaults) const;

  const std::map<std::string, OptionValue>& values() const { return values_; }
  cfg::OptContext context() const { return ctx_; }

 private:
  cfg::OptContext ctx_;
  std::map<std::string, OptionValue> values_;
};

}  // namespace drbd::engine
