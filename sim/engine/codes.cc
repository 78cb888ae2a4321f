// SPDX-License-Identifier: GPL-2.0-or-later
// Names of the engine's reply codes, from lib/spec/drbd_codes.def.
#include "sim/engine/codes.h"

namespace drbd::engine {

std::string_view RetName(Ret r) {
  switch (r) {
#define DRBD_RET_CODE(id, name, nr, text) \
  case Ret::id:                           \
    return name;
#define DRBD_STATE_RV(id, name, nr, text) \
  case Ret::id:                           \
    return name;
#include "lib/spec/drbd_codes.def"
#undef DRBD_RET_CODE
#undef DRBD_STATE_RV
  }
  return "?";
}

}  // namespace drbd::engine
