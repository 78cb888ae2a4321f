// SPDX-License-Identifier: GPL-2.0-or-later
// Lookups over lib/spec/drbd_codes.def and drbdsetup 9.22's check_error().
#include "lib/genl/drbd_codes.h"

#include <cstring>

#include <fmt/format.h>

namespace drbd::genl {
namespace {

struct Row {
  int32_t nr;
  std::string_view name;
  std::string_view text;
};

constexpr Row kRet[] = {
#define DRBD_RET_CODE(id, name, nr, text) {nr, name, text},
#define DRBD_STATE_RV(id, name, nr, text)
#include "lib/spec/drbd_codes.def"
#undef DRBD_RET_CODE
#undef DRBD_STATE_RV
};

constexpr Row kRv[] = {
#define DRBD_RET_CODE(id, name, nr, text)
#define DRBD_STATE_RV(id, name, nr, text) {nr, name, text},
#include "lib/spec/drbd_codes.def"
#undef DRBD_RET_CODE
#undef DRBD_STATE_RV
};

constexpr bool Ascending() {
  for (size_t i = 1; i < std::size(kRet); ++i)
    if (kRet[i].nr != kRet[i - 1].nr + 1) return false;
  for (size_t i = 1; i < std::size(kRv); ++i)
    if (kRv[i].nr >= kRv[i - 1].nr) return false;
  return true;
}
static_assert(Ascending(), "drbd_codes.def: ret codes contiguous ascending, state rvs descending");

const Row* FindRow(std::span<const Row> rows, int32_t nr) {
  for (const Row& r : rows)
    if (r.nr == nr) return &r;
  return nullptr;
}

}  // namespace

std::string_view RetCodeName(int32_t rc) {
  const Row* r = FindRow(kRet, rc);
  return r ? r->name : std::string_view();
}

std::string_view StateRvName(int32_t rv) {
  const Row* r = FindRow(kRv, rv);
  return r ? r->name : std::string_view();
}

std::string_view RetCodeText(int32_t rc) {
  const Row* r = FindRow(kRet, rc);
  if (!r || rc <= 100 || rc >= kAfterLastErrCode922) return "Unknown... maybe API_VERSION mismatch?";
  return r->text;
}

std::string_view StateRvText(int32_t rv) {
  const Row* r = FindRow(kRv, rv);
  if (!r || rv >= 0 || r->text.empty()) return "?";
  return r->text;
}

bool IsSuccess(int32_t rc) {
  return rc == ToInt(RetCode::kNoError) ||
         (rc >= ToInt(StateRv::kSsSuccess) && rc <= ToInt(StateRv::kSsCwNoNeed));
}

ReplyReport ReportReply(std::string_view objname, int32_t rc, bool has_cfg_reply,
                        std::span<const std::string> info_text) {
  ReplyReport r;
  auto info = [&](std::string_view header) {
    if (!has_cfg_reply) return;
    r.text += header;
    for (const std::string& line : info_text) r.text += line + "\n";
  };
  if (rc == ToInt(RetCode::kNoError) || rc == ToInt(StateRv::kSsSuccess)) {
    info("warnings from kernel:\n");
    return r;
  }
  constexpr int32_t kErrCodeBase = ToInt(RetCode::kErrCodeBase);
  if ((rc >= kAfterLastErrCode922 || rc <= kErrCodeBase) &&
      (rc > ToInt(StateRv::kSsCwNoNeed) || rc <= ToInt(StateRv::kSsAfterLastError))) {
    r.text = fmt::format("{}: Error code {} unknown.\nYou should update the drbd userland tools.\n",
                         objname, rc);
    r.exit_code = 20;
  } else if (rc > kErrCodeBase) {
    r.text = fmt::format("{}: Failure: ({}) {}\n", objname, rc, RetCodeText(rc));
    r.exit_code = 10;
  } else if (rc == ToInt(StateRv::kSsUnknownError)) {
    r.text = fmt::format("{}: State change failed: ({})unknown error.\n", objname, rc);
    r.exit_code = 11;
  } else if (rc > ToInt(StateRv::kSsTwoPrimaries)) {
    // SS_NOTHING_TO_DO, SS_CW_SUCCESS, SS_CW_NO_NEED: success, silently.
  } else {
    r.text = fmt::format("{}: State change failed: ({}) {}\n", objname, rc, StateRvText(rc));
    if (rc == ToInt(StateRv::kSsNoUpToDateDisk))
      r.exit_code = 17;
    else if (rc == ToInt(StateRv::kSsLowerThanOutdated))
      r.exit_code = 5;
    else if (rc == ToInt(StateRv::kSsNoLocalDisk))
      r.exit_code = 16;
    else
      r.exit_code = 11;
  }
  info("additional info from kernel:\n");
  return r;
}

ReplyReport ReportReply(std::string_view objname, const Message& reply) {
  std::vector<const Tla*> replies = reply.FindAll(Set::kCfgReply);
  std::vector<std::string> lines;
  if (!replies.empty()) {
    for (const Attr* a : replies.back()->FindAll(attr::info_text)) lines.emplace_back(a->str());
  }
  return ReportReply(objname, reply.ret_code(), !replies.empty(), lines);
}

ReplyReport ReportNetlinkError(std::string_view objname, int err) {
  return ReplyReport{20, fmt::format("{}: {}\n", objname, std::strerror(err))};
}

}  // namespace drbd::genl
