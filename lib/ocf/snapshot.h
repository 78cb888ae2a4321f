// SPDX-License-Identifier: GPL-2.0-or-later
// Builds one resource's state snapshot from the text of `drbdsetup events2
// --now <res>` (machine-readable key:value lines, never `status` text), for
// the decisions in lib/ocf/decide.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/events/model.h"

namespace drbd::ocf {

// Reads the `exists` lines up to "exists -" and collects the objects of
// `resource`. *out is nullopt when the resource does not appear. Returns
// false with *error set when a line does not parse.
bool SnapshotFromEvents2Now(std::string_view text, std::string_view resource,
                            std::optional<events::ResourceSnapshot>* out, std::string* error);

}  // namespace drbd::ocf
