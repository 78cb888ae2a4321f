// SPDX-License-Identifier: GPL-2.0-or-later
// Small string helpers shared by the command-line and config front ends.
#pragma once

#include <cstddef>
#include <string_view>

namespace drbd {

// Levenshtein distance (insert, delete, substitute: cost 1 each), for
// "did you mean" suggestions.
size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace drbd
