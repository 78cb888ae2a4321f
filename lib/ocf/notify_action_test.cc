// SPDX-License-Identifier: GPL-2.0-or-later
// Notification handling: the variables Pacemaker 2.1 passes and what the
// agent does for each pre/post operation (drbd.ocf's rules).
#include "lib/ocf/notify_action.h"

#include <gtest/gtest.h>

#include <map>

namespace drbd::ocf {
namespace {

EnvLookup MapEnv(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

NotifyInfo Notify(const std::string& type, const std::string& op,
                  std::map<std::string, std::string> more = {}) {
  more["OCF_RESKEY_CRM_meta_notify_type"] = type;
  more["OCF_RESKEY_CRM_meta_notify_operation"] = op;
  return ReadNotify(MapEnv(more));
}

StateSummary Secondary() {
  StateSummary s;
  s.configured = true;
  s.disk_all_up_to_date = true;
  s.disk_all_consistent = true;
  return s;
}

Params R0(bool stop_outdates = false) {
  Params p;
  p.drbd_resource = "r0";
  p.stop_outdates_secondary = stop_outdates;
  return p;
}

TEST(NotifyInfo, ReadsPromotedNamesFromNewOrLegacyVariables) {
  NotifyInfo n = Notify("post", "promote",
                        {{"OCF_RESKEY_CRM_meta_notify_promoted_uname", "alpha "},
                         {"OCF_RESKEY_CRM_meta_notify_master_uname", "stale"},
                         {"OCF_RESKEY_CRM_meta_notify_stop_uname", " beta gamma"}});
  EXPECT_EQ(n.promoted, (std::vector<std::string>{"alpha"}));
  EXPECT_EQ(n.stop, (std::vector<std::string>{"beta", "gamma"}));
  NotifyInfo legacy =
      Notify("post", "promote", {{"OCF_RESKEY_CRM_meta_notify_master_uname", "alpha"}});
  EXPECT_EQ(legacy.promoted, (std::vector<std::string>{"alpha"}));
  EXPECT_TRUE(ViewFromNotify(legacy, "beta", 1).pacemaker_knows_promoted_peer);
  EXPECT_FALSE(ViewFromNotify(legacy, "ALPHA", 1).pacemaker_knows_promoted_peer);
}

TEST(NotifyDecide, PreStartAdjustsOnly) {
  NotifyPlan p = DecideNotify(Notify("pre", "start"), Secondary(), R0(), "alpha");
  EXPECT_TRUE(p.adjust);
  EXPECT_FALSE(p.rescore);
}

TEST(NotifyDecide, PostStartAdjustsAndRescores) {
  NotifyPlan p = DecideNotify(Notify("post", "start"), Secondary(), R0(), "alpha");
  EXPECT_TRUE(p.adjust);
  EXPECT_TRUE(p.rescore);
  Params only_after = R0();
  only_after.connect_only_after_promote = true;
  EXPECT_FALSE(DecideNotify(Notify("post", "start"), Secondary(), only_after, "alpha").adjust);
}

TEST(NotifyDecide, PostOfEveryOperationRescores) {
  for (const char* op : {"stop", "promote", "demote"}) {
    NotifyPlan p = DecideNotify(Notify("post", op), Secondary(), R0(), "alpha");
    EXPECT_FALSE(p.adjust) << op;
    EXPECT_TRUE(p.rescore) << op;
    EXPECT_FALSE(p.outdate_self) << op;
    NotifyPlan pre = DecideNotify(Notify("pre", op), Secondary(), R0(), "alpha");
    EXPECT_FALSE(pre.adjust || pre.rescore || pre.outdate_self) << op;
  }
}

TEST(NotifyDecide, NotRunningDoesNothing) {
  NotifyPlan p = DecideNotify(Notify("post", "start"), StateSummary{}, R0(), "alpha");
  EXPECT_FALSE(p.adjust || p.rescore || p.outdate_self);
}

TEST(NotifyDecide, CutOffFromPromotedPeerOutdatesWhenAsked) {
  StateSummary s = Secondary();
  s.pdsk_any_unknown = true;
  NotifyInfo n = Notify("post", "promote", {{"OCF_RESKEY_CRM_meta_notify_promoted_uname", "beta"}});
  EXPECT_FALSE(DecideNotify(n, s, R0(false), "alpha").outdate_self);
  NotifyPlan p = DecideNotify(n, s, R0(true), "alpha");
  EXPECT_TRUE(p.outdate_self);
  EXPECT_EQ(p.log, "outdating r0: according to Pacemaker's notification, 'beta' is still promoted");
  // The Promoted node is being stopped: its name is stale.
  NotifyInfo stopping = Notify("post", "stop",
                               {{"OCF_RESKEY_CRM_meta_notify_promoted_uname", "beta"},
                                {"OCF_RESKEY_CRM_meta_notify_stop_uname", "beta"}});
  EXPECT_FALSE(DecideNotify(stopping, s, R0(true), "alpha").outdate_self);
  // Only ourselves Promoted: nothing to outdate for.
  NotifyInfo self =
      Notify("post", "promote", {{"OCF_RESKEY_CRM_meta_notify_promoted_uname", "Alpha"}});
  EXPECT_FALSE(DecideNotify(self, s, R0(true), "alpha").outdate_self);
}

TEST(NotifyDecide, BothPrimaryCutOffIsLoggedNotOutdated) {
  StateSummary s = Secondary();
  s.pdsk_any_unknown = true;
  s.primary = true;
  NotifyInfo n =
      Notify("post", "promote", {{"OCF_RESKEY_CRM_meta_notify_promoted_uname", "alpha beta"}});
  NotifyPlan p = DecideNotify(n, s, R0(true), "alpha");
  EXPECT_FALSE(p.outdate_self);
  EXPECT_EQ(p.log,
            "resource internal SPLIT BRAIN: both alpha and beta are Primary for r0, but the "
            "replication link is down!");
}

}  // namespace
}  // namespace drbd::ocf
