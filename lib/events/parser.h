// SPDX-License-Identifier: GPL-2.0-or-later
// A parser for drbd-utils' `events2` lines (any of --statistics, --full,
// --diff, --timestamps; colour codes are stripped): each line becomes a
// typed model object (lib/events/model.h). A change line names only the
// fields that changed, so the parser tracks every object it has seen and a
// change updates the tracked copy; the Notification it returns is the whole
// object after the change. Unknown keys are kept verbatim and counted,
// never an error (events2 is append-only; docs/formats/events2.md). Used by
// the OCF agent, the dashboard and the tests.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/events/model.h"

namespace drbd::events {

struct Events2Line {
  enum class Type {
    kObject,             // exists/create/change/destroy of an object, or rename
    kHelper,             // call/response helper
    kEndOfInitialState,  // "exists -"
    kSkipped,            // "- skipped N" (drbd-utils <= 9.27)
  };
  struct Field {
    std::string key;
    std::string value;                     // new value, colour codes removed
    std::optional<std::string> old_value;  // --diff "old->new"
    bool known = true;                     // false: key unknown to us
  };

  Type type = Type::kObject;
  std::string timestamp;  // "2026-…+01:00" without the space; "" if none
  NotifyType action = NotifyType::kExists;
  ObjectKind object = ObjectKind::kResource;
  // The object after this line: identity + tracked info/statistics.
  Notification notification;
  // Every key:value after the identity keys, in line order.
  std::vector<Field> fields;
  int32_t skipped = 0;  // kSkipped (negative when events came out of order)
};

class Events2Parser {
 public:
  // Parses one line (with or without the trailing newline). On a malformed
  // line returns false and sets *error (e.g. "line 3: bad value 'x' for
  // key 'disk'") without changing the tracked state.
  bool Parse(std::string_view line, Events2Line* out, std::string* error);

  // Keys seen that the parser does not know (summed over all lines).
  size_t unknown_keys() const { return unknown_keys_; }
  size_t lines() const { return lines_; }

 private:
  std::map<std::string, Notification> objects_;  // by identity text
  size_t unknown_keys_ = 0;
  size_t lines_ = 0;
};

// Prints a parsed line back from its typed values (plus the verbatim text of
// unknown keys and of values drbdsetup derives: done, dbdt*, eta, want,
// may_promote, promotion_score). For lines drbd-utils printed, the result
// equals the original line without colour codes.
std::string FormatEvents2Line(const Events2Line& line);

// Removes ANSI "ESC[…m" sequences.
std::string StripColor(std::string_view s);

}  // namespace drbd::events
