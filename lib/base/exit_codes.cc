// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/base/exit_codes.h"

namespace drbd {

std::string_view ExitCodeText(ExitCode c) {
  switch (c) {
#define DRBD_EXIT_CODE(name, number, text) \
  case ExitCode::name:                     \
    return text;
#include "lib/spec/exit_codes.def"
#undef DRBD_EXIT_CODE
  }
  return "unknown exit code";
}

}  // namespace drbd
