// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdsetup events2 --json` (an addition to drbd-utils): each events2 line
// as one JSON object on one line, with typed values (numbers, booleans,
// lists, address objects) under the same key names, in the same order. The
// text line stays the single source of which fields are printed; this only
// changes the notation. Schema and version history:
// docs/formats/events2-json.md.
#pragma once

#include <string>

#include "lib/events/parser.h"

namespace drbd::events {

// Bump on any incompatible change; adding keys is compatible.
inline constexpr int kEvents2JsonVersion = 1;

// One JSON object, no trailing newline. Unknown keys become strings.
std::string ToJsonLine(const Events2Line& line);

}  // namespace drbd::events
