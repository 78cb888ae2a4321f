// SPDX-License-Identifier: GPL-2.0-or-later
// Dual-primary and clone meta checks. The dump-xml fixtures in
// lib/ocf/testdata are drbd-utils 9.22's `drbdadm dump-xml` output (ours is
// byte-identical) for common-, resource- and connection-level options.
#include "lib/ocf/clone_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace drbd::ocf {
namespace {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "testdata" / name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

DrbdConfFacts Facts(const std::string& file, const std::string& res) {
  DrbdConfFacts f;
  std::string error;
  EXPECT_TRUE(ParseDumpXml(ReadTestdata(file), res, &f, &error)) << error;
  return f;
}

CloneMeta Meta(std::map<std::string, std::string> m) {
  return ReadCloneMeta([m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  });
}

Params R0() {
  Params p;
  p.drbd_resource = "r0";
  return p;
}

TEST(DumpXml, CommonAllowTwoPrimariesApplies) {
  DrbdConfFacts f = Facts("dump_xml_common_two_primaries.xml", "r0");
  EXPECT_TRUE(f.allow_two_primaries);
  EXPECT_EQ(f.fencing, "resource-and-stonith");
}

TEST(DumpXml, ResourceAndConnectionLevelsOverrideCommon) {
  EXPECT_FALSE(Facts("dump_xml_common_two_primaries.xml", "r1").allow_two_primaries);
  DrbdConfFacts r2 = Facts("dump_xml_common_two_primaries.xml", "r2");
  EXPECT_FALSE(r2.allow_two_primaries);
  EXPECT_EQ(r2.fencing, "resource-only");
  DrbdConfFacts single = Facts("dump_xml_single_primary.xml", "r0");
  EXPECT_FALSE(single.allow_two_primaries);
  EXPECT_EQ(single.fencing, "resource-only");
}

TEST(DumpXml, UnknownResourceIsAnError) {
  DrbdConfFacts f;
  std::string error;
  EXPECT_FALSE(ParseDumpXml(ReadTestdata("dump_xml_single_primary.xml"), "r7", &f, &error));
  EXPECT_EQ(error, "drbdadm dump-xml has no resource 'r7'");
}

TEST(CloneCheck, PromotedMax2WithoutAllowTwoPrimariesIsConfigError) {
  CloneMeta m = Meta({{"OCF_RESKEY_CRM_meta_promoted_max", "2"},
                      {"OCF_RESKEY_CRM_meta_clone_max", "2"},
                      {"OCF_RESKEY_CRM_meta_notify", "true"}});
  ASSERT_TRUE(NeedsDrbdConfFacts(m));
  DrbdConfFacts f = Facts("dump_xml_single_primary.xml", "r0");
  for (std::string_view action : {"validate-all", "start", "promote"}) {
    CloneCheck c = CheckClone(action, m, R0(), &f);
    EXPECT_EQ(c.code, Exit::kErrConfigured) << action;
    EXPECT_EQ(c.message,
              "promoted-max=2, but DRBD resource r0 does not allow two primaries: set "
              "'allow-two-primaries yes;' in its net section");
  }
  EXPECT_EQ(CheckClone("stop", m, R0(), &f).code, Exit::kSuccess);
  EXPECT_EQ(CheckClone("monitor", m, R0(), &f).code, Exit::kSuccess);
}

TEST(CloneCheck, LegacyMasterMaxCountsToo) {
  CloneMeta m = Meta({{"OCF_RESKEY_CRM_meta_master_max", "2"}});
  DrbdConfFacts f = Facts("dump_xml_single_primary.xml", "r0");
  EXPECT_EQ(CheckClone("validate-all", m, R0(), &f).code, Exit::kErrConfigured);
}

TEST(CloneCheck, PromotedMax2WithAllowTwoPrimariesPasses) {
  CloneMeta m = Meta({{"OCF_RESKEY_CRM_meta_promoted_max", "2"},
                      {"OCF_RESKEY_CRM_meta_promoted_node_max", "1"},
                      {"OCF_RESKEY_CRM_meta_clone_node_max", "1"},
                      {"OCF_RESKEY_CRM_meta_clone_max", "2"},
                      {"OCF_RESKEY_CRM_meta_notify", "true"}});
  DrbdConfFacts f = Facts("dump_xml_common_two_primaries.xml", "r0");
  CloneCheck c = CheckClone("start", m, R0(), &f);
  EXPECT_EQ(c.code, Exit::kSuccess) << c.message;
  EXPECT_TRUE(c.warnings.empty());
}

TEST(CloneCheck, DualPrimaryWithoutResourceAndStonithWarns) {
  CloneMeta m = Meta({{"OCF_RESKEY_CRM_meta_promoted_max", "2"}});
  DrbdConfFacts f;
  f.allow_two_primaries = true;
  f.fencing = "resource-only";
  CloneCheck c = CheckClone("validate-all", m, R0(), &f);
  EXPECT_EQ(c.code, Exit::kSuccess);
  ASSERT_EQ(c.warnings.size(), 1U);
  EXPECT_EQ(c.warnings[0],
            "promoted-max=2 with fencing resource-only: dual-primary needs 'fencing "
            "resource-and-stonith;' in the net section of r0 (and STONITH) to be safe from data "
            "divergence");
}

TEST(CloneCheck, OneInstancePerNode) {
  CloneCheck c =
      CheckClone("start", Meta({{"OCF_RESKEY_CRM_meta_clone_node_max", "2"}}), R0(), nullptr);
  EXPECT_EQ(c.code, Exit::kErrConfigured);
  EXPECT_EQ(c.message, "meta parameter misconfigured, expected clone-node-max = 1, but found 2.");
  c = CheckClone("validate-all", Meta({{"OCF_RESKEY_CRM_meta_master_node_max", "2"}}), R0(),
                 nullptr);
  EXPECT_EQ(c.message,
            "meta parameter misconfigured, expected promoted-node-max = 1, but found 2.");
  c = CheckClone("validate-all", Meta({{"OCF_RESKEY_CRM_meta_promoted_max", "3"}}), R0(), nullptr);
  EXPECT_EQ(c.message, "meta parameter misconfigured, expected promoted-max <= 2, but found 3.");
  DrbdConfFacts f = Facts("dump_xml_common_two_primaries.xml", "r0");
  c = CheckClone(
      "validate-all",
      Meta({{"OCF_RESKEY_CRM_meta_promoted_max", "2"}, {"OCF_RESKEY_CRM_meta_clone_max", "3"}}),
      R0(), &f);
  EXPECT_EQ(c.message, "meta parameter misconfigured, expected clone-max <= 2, but found 3.");
}

TEST(CloneCheck, CloneWithoutNotifyIsRefusedUnlessIgnored) {
  CloneMeta m = Meta({{"OCF_RESKEY_CRM_meta_clone_max", "2"}});
  CloneCheck c = CheckClone("start", m, R0(), nullptr);
  EXPECT_EQ(c.code, Exit::kErrConfigured);
  EXPECT_EQ(c.message,
            "you really should enable notify when using this RA (or set "
            "ignore_missing_notifications=true)");
  Params ignore = R0();
  ignore.ignore_missing_notifications = true;
  EXPECT_EQ(CheckClone("start", m, ignore, nullptr).code, Exit::kSuccess);
  EXPECT_EQ(CheckClone("validate-all", m, R0(), nullptr).code, Exit::kSuccess);
  EXPECT_EQ(CheckClone("start",
                       Meta({{"OCF_RESKEY_CRM_meta_clone_max", "2"},
                             {"OCF_RESKEY_CRM_meta_notify_start_uname", ""}}),
                       R0(), nullptr)
                .code,
            Exit::kSuccess);
  // Not a clone (ocf-tester, a manual run): no notifications to expect.
  EXPECT_EQ(CheckClone("start", Meta({}), R0(), nullptr).code, Exit::kSuccess);
}

}  // namespace
}  // namespace drbd::ocf
