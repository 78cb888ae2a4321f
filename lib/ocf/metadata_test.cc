// SPDX-License-Identifier: GPL-2.0-or-later
// The meta-data XML pinned by lib/ocf/testdata/metadata.xml (UPDATE_GOLDEN=1
// rewrites it; review the diff), plus structural checks that do not depend
// on the golden file.
#include "lib/ocf/metadata.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/base/strings.h"
#include "lib/ocf/params.h"

namespace drbd::ocf {
namespace {

std::filesystem::path GoldenPath() {
  return std::filesystem::path(__FILE__).parent_path() / "testdata/metadata.xml";
}

TEST(OcfMetaData, MatchesGoldenFile) {
  std::string now = MetaDataXml();
  if (std::getenv("UPDATE_GOLDEN")) std::ofstream(GoldenPath()) << now;
  std::ifstream in(GoldenPath());
  ASSERT_TRUE(in) << GoldenPath();
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), now) << "meta-data changed; if intended: UPDATE_GOLDEN=1";
}

TEST(OcfMetaData, IsOcf11WithRoleMonitors) {
  std::string x = MetaDataXml();
  EXPECT_NE(x.find("<version>1.1</version>"), std::string::npos);
  EXPECT_NE(x.find("<action name=\"monitor\" timeout=\"20s\" interval=\"10s\" role=\"Promoted\""),
            std::string::npos);
  EXPECT_NE(x.find("<action name=\"monitor\" timeout=\"20s\" interval=\"20s\" role=\"Unpromoted\""),
            std::string::npos);
  for (std::string_view a : {"start", "stop", "promote", "demote", "notify", "reload-agent",
                             "validate-all", "meta-data"})
    EXPECT_NE(x.find("<action name=\"" + std::string(a) + "\""), std::string::npos) << a;
  // The OCF 1.0 role names must not appear.
  EXPECT_EQ(x.find("\"Master\""), std::string::npos);
  EXPECT_EQ(x.find("\"Slave\""), std::string::npos);
}

TEST(OcfMetaData, ActionNamesAreDeclaredInTheDoctype) {
  std::string x = MetaDataXml();
  std::string_view head(x);
  head = head.substr(0, head.find("<resource-agent "));
  EXPECT_EQ(
      head.find("<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\" [\n<!ATTLIST action name ("),
      x.find("<!DOCTYPE"));
  for (const ActionSpec& a : kActions) {
    EXPECT_NE(std::find(std::begin(kDtdActionNames), std::end(kDtdActionNames), a.name),
              std::end(kDtdActionNames))
        << a.name << " is not a ra-api-1.dtd action name";
    std::string_view list = head.substr(head.find("name (") + 5);
    list = list.substr(0, list.find(')') + 1);  // "(start|…|reload-agent)"
    EXPECT_TRUE(list.find("(" + std::string(a.name) + "|") != std::string_view::npos ||
                list.find("|" + std::string(a.name) + "|") != std::string_view::npos ||
                list.find("|" + std::string(a.name) + ")") != std::string_view::npos)
        << a.name;
  }
}

TEST(OcfMetaData, EveryParameterWithItsDefault) {
  std::string x = MetaDataXml();
  for (const ParamSpec& p : kParamSpecs) {
    EXPECT_NE(x.find("<parameter name=\"" + std::string(p.name) + "\""), std::string::npos)
        << p.name;
  }
  EXPECT_NE(x.find("<parameter name=\"drbd_resource\" unique=\"1\" required=\"1\">"),
            std::string::npos);
  EXPECT_NE(x.find("<parameter name=\"drbdconf\">"), std::string::npos);
  EXPECT_NE(x.find("<parameter name=\"adjust_master_score\" reloadable=\"1\">"), std::string::npos);
  EXPECT_NE(x.find("<!ATTLIST parameter reloadable (1|0) #IMPLIED>"), std::string::npos);
  EXPECT_NE(x.find("<content type=\"string\" default=\"0 10 1000 10000\"/>"), std::string::npos);
  EXPECT_NE(x.find("<content type=\"integer\" default=\"5\"/>"), std::string::npos);
}

TEST(OcfMetaData, DocListsEveryParameter) {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "../../docs/ocf-agent.md");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find(ParamsMarkdownTable()), std::string::npos)
      << "docs/ocf-agent.md must contain this table:\n"
      << ParamsMarkdownTable();
}

TEST(OcfMetaData, EscapesXml) {
  EXPECT_EQ(XmlEscape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
}

}  // namespace
}  // namespace drbd::ocf
