// SPDX-License-Identifier: GPL-2.0-or-later
// The kernel's reply codes (enum drbd_ret_code, enum drbd_state_rv) from
// lib/spec/drbd_codes.def, their names and the texts drbdsetup prints, and
// drbdsetup 9.22's verdict on a reply (stderr text and exit code).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "lib/genl/codec.h"

namespace drbd::genl {

enum class RetCode : int32_t {
#define DRBD_RET_CODE(id, name, nr, text) id = nr,
#define DRBD_STATE_RV(id, name, nr, text)
#include "lib/spec/drbd_codes.def"
#undef DRBD_RET_CODE
#undef DRBD_STATE_RV
};

enum class StateRv : int32_t {
#define DRBD_RET_CODE(id, name, nr, text)
#define DRBD_STATE_RV(id, name, nr, text) id = nr,
#include "lib/spec/drbd_codes.def"
#undef DRBD_RET_CODE
#undef DRBD_STATE_RV
};

constexpr int32_t ToInt(RetCode c) { return static_cast<int32_t>(c); }
constexpr int32_t ToInt(StateRv c) { return static_cast<int32_t>(c); }

// AFTER_LAST_ERR_CODE as drbd-utils 9.22 knows it: codes at or above it
// are "unknown" to drbdsetup 9.22 (176 ERR_PATH_COLLISION is newer).
inline constexpr int32_t kAfterLastErrCode922 = 176;

// "ERR_RES_NOT_KNOWN" / "SS_TWO_PRIMARIES"; "" for unknown or retired.
std::string_view RetCodeName(int32_t rc);
std::string_view StateRvName(int32_t rv);

// drbdsetup's error_to_string(): the text for rc in 101..175, else
// "Unknown... maybe API_VERSION mismatch?".
std::string_view RetCodeText(int32_t rc);

// drbd_set_st_err_str(): the text for -28..-1, else "?".
std::string_view StateRvText(int32_t rv);

// NO_ERROR, or SS_SUCCESS..SS_CW_NO_NEED.
bool IsSuccess(int32_t rc);

// What drbdsetup 9.22 prints to stderr and exits with for a reply.
struct ReplyReport {
  int exit_code = 0;  // 0, 5, 10, 11, 16, 17 or 20
  std::string text;   // stderr output, with newlines; may be empty
};

// drbdsetup 9.22 check_error() for `rc`, object name `objname` (resource,
// minor, ...), and the info_text lines of the reply's LAST CfgReply TLA
// (drbdsetup's nla_parse keeps only the last one); has_cfg_reply says
// whether the reply had a CfgReply TLA at all (it prints the header line
// even when the nest is empty).
ReplyReport ReportReply(std::string_view objname, int32_t rc, bool has_cfg_reply,
                        std::span<const std::string> info_text);

// The same for a decoded reply message.
ReplyReport ReportReply(std::string_view objname, const Message& reply);

// drbdsetup 9.22's verdict when a request is answered with an NLMSG_ERROR
// (err = positive errno, e.g. EPERM without CAP_SYS_ADMIN):
// "<objname>: <strerror>\n", exit code 20.
ReplyReport ReportNetlinkError(std::string_view objname, int err);

}  // namespace drbd::genl
