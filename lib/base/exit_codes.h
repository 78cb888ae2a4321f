// SPDX-License-Identifier: GPL-2.0-or-later
// Process exit codes shared by every program, from lib/spec/exit_codes.def.
#pragma once

#include <string_view>

namespace drbd {

enum class ExitCode : int {
#define DRBD_EXIT_CODE(name, number, text) name = number,
#include "lib/spec/exit_codes.def"
#undef DRBD_EXIT_CODE
};

constexpr int ToInt(ExitCode c) { return static_cast<int>(c); }

// The one-line description of an exit code ("configuration invalid").
std::string_view ExitCodeText(ExitCode c);

}  // namespace drbd
