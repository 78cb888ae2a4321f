// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/genl/drbd_codes.h"

#include <gtest/gtest.h>

namespace drbd::genl {
namespace {

TEST(DrbdCodes, NamesAndTexts) {
  EXPECT_EQ(RetCodeName(158), "ERR_RES_NOT_KNOWN");
  EXPECT_EQ(RetCodeText(158), "Unknown resource");
  EXPECT_EQ(RetCodeName(106), "");
  EXPECT_EQ(RetCodeText(106), "Lower device already in use.");
  EXPECT_EQ(RetCodeText(100), "Unknown... maybe API_VERSION mismatch?");
  EXPECT_EQ(RetCodeText(176), "Unknown... maybe API_VERSION mismatch?");
  EXPECT_EQ(StateRvName(-2), "SS_NO_UP_TO_DATE_DISK");
  EXPECT_EQ(StateRvText(-2), "Need access to UpToDate data");
  EXPECT_EQ(StateRvText(-3), "?");
  EXPECT_EQ(StateRvText(-29), "?");
  EXPECT_EQ(StateRvText(1), "?");
  EXPECT_TRUE(IsSuccess(101));
  EXPECT_TRUE(IsSuccess(1));
  EXPECT_TRUE(IsSuccess(4));
  EXPECT_FALSE(IsSuccess(0));
  EXPECT_FALSE(IsSuccess(102));
}

// drbdsetup 9.22 check_error(), case by case.
TEST(DrbdCodes, ReportsRepliesAsDrbdsetup) {
  ReplyReport r = ReportReply("r0", 158, false, {});
  EXPECT_EQ(r.exit_code, 10);
  EXPECT_EQ(r.text, "r0: Failure: (158) Unknown resource\n");

  std::vector<std::string> info = {"some detail"};
  r = ReportReply("r0", -2, true, info);
  EXPECT_EQ(r.exit_code, 17);
  EXPECT_EQ(r.text,
            "r0: State change failed: (-2) Need access to UpToDate data\n"
            "additional info from kernel:\nsome detail\n");

  EXPECT_EQ(ReportReply("r0", -16, false, {}).exit_code, 5);
  EXPECT_EQ(ReportReply("r0", -4, false, {}).exit_code, 16);
  EXPECT_EQ(ReportReply("r0", -10, false, {}).exit_code, 11);
  r = ReportReply("r0", 0, false, {});
  EXPECT_EQ(r.exit_code, 11);
  EXPECT_EQ(r.text, "r0: State change failed: (0)unknown error.\n");
  r = ReportReply("r0", 176, false, {});
  EXPECT_EQ(r.exit_code, 20);
  EXPECT_EQ(r.text, "r0: Error code 176 unknown.\nYou should update the drbd userland tools.\n");
  r = ReportReply("r0", -29, false, {});
  EXPECT_EQ(r.exit_code, 20);

  r = ReportReply("r0", 101, true, info);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.text, "warnings from kernel:\nsome detail\n");
  r = ReportReply("r0", 2, true, info);  // SS_NOTHING_TO_DO: silent, but info follows
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.text, "additional info from kernel:\nsome detail\n");
}

TEST(DrbdCodes, ReportsNetlinkErrorsAsDrbdsetup) {
  ReplyReport r = ReportNetlinkError("r0", 1);
  EXPECT_EQ(r.exit_code, 20);
  EXPECT_EQ(r.text, "r0: Operation not permitted\n");
}

TEST(DrbdCodes, ReportUsesTheLastCfgReply) {
  Message m;
  m.set_ret_code(126);
  m.Add(Set::kCfgReply).PutStr(attr::info_text, "first");
  m.Add(Set::kCfgReply).PutStr(attr::info_text, "second");
  ReplyReport r = ReportReply("0", m);
  EXPECT_EQ(r.exit_code, 10);
  EXPECT_EQ(r.text, "0: Failure: (126) UnknownMandatoryTag\nadditional info from kernel:\nsecond\n");
}

}  // namespace
}  // namespace drbd::genl
