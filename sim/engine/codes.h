// SPDX-License-Identifier: GPL-2.0-or-later
// The reply codes the engine returns for control requests: the kernel's
// enum drbd_ret_code (>= 100) and enum drbd_state_rv (<= 4) share one
// number space in drbd_genlmsghdr.ret_code (/work/shared/spec/genl.md §9,
// §10); both come from lib/spec/drbd_codes.def.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace drbd::engine {

enum class Ret : int {
#define DRBD_RET_CODE(id, name, nr, text) id = nr,
#define DRBD_STATE_RV(id, name, nr, text) id = nr,
#include "lib/spec/drbd_codes.def"
#undef DRBD_RET_CODE
#undef DRBD_STATE_RV
};

constexpr int ToInt(Ret r) { return static_cast<int>(r); }

// True for NO_ERROR and SS_SUCCESS..SS_CW_NO_NEED.
constexpr bool IsSuccess(Ret r) {
  int v = ToInt(r);
  return v == ToInt(Ret::kNoError) || (v >= 1 && v <= 4);
}

// The kernel's C name ("ERR_RES_NOT_KNOWN", "SS_TWO_PRIMARIES").
std::string_view RetName(Ret r);

// A control request's reply: drbd_genlmsghdr.ret_code plus the
// DRBD_NLA_CFG_REPLY info texts the kernel attaches.
struct Reply {
  Ret ret = Ret::kNoError;
  std::vector<std::string> info;  // one info_text each, kernel wording
};

}  // namespace drbd::engine
