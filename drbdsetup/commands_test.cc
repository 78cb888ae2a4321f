// SPDX-License-Identifier: GPL-2.0-or-later
#include "drbdsetup/commands.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace drbd::setup {
namespace {

std::string ReadRecorded(const std::string& name) {
  std::ifstream in(std::string(DRBDSETUP_TESTDATA) + "/help-9.22/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HelpStyle Style922() {
  HelpStyle s;
  s.include_after_922 = false;
  return s;
}

TEST(DrbdsetupHelp, CommandListMatchesDrbdUtils922) {
  EXPECT_EQ(UsageText(Style922()), ReadRecorded("USAGE.txt"));
}

TEST(DrbdsetupHelp, EveryCommandHelpMatchesDrbdUtils922) {
  int compared = 0;
  for (const Command& c : AllCommands()) {
    if (c.Has(kAfter922)) continue;
    EXPECT_EQ(CommandHelp(c, Style922()), ReadRecorded(std::string(c.name) + ".txt")) << c.name;
    ++compared;
  }
  EXPECT_EQ(compared, 46);
}

TEST(DrbdsetupHelp, EveryCommandXmlHelpMatchesDrbdUtils922) {
  for (const Command& c : AllCommands()) {
    if (c.Has(kAfter922)) continue;
    EXPECT_EQ(CommandXmlHelp(c, Style922()), ReadRecorded(std::string(c.name) + ".xml"))
        << c.name;
  }
}

TEST(DrbdsetupHelp, NewerRowsAreListedByDefault) {
  std::string usage = UsageText(HelpStyle{});
  EXPECT_NE(usage.find("    peer-role - Show the current role of a peer.\n"), std::string::npos);
}

TEST(DrbdsetupCommands, ObjectArgumentsInBitOrder) {
  const Command* c = FindCommand("new-minor");
  ASSERT_NE(c, nullptr);
  std::vector<ObjArg> want = {kResource, kMinor, kVolume};
  EXPECT_EQ(ObjectArgs(*c), want);
  EXPECT_EQ(FindCommand("no-such-command"), nullptr);
}

TEST(WrapPrinter, BreaksBeforeAPieceThatWouldPassTheWidth) {
  WrapPrinter w(20);
  w.Print(0, "0123456789");
  w.Print(4, " abcdefghij");  // 21 columns: goes to a new line, indented, space dropped
  w.Print(4, "\n");
  EXPECT_EQ(w.str(), "0123456789\n    abcdefghij\n");
}

}  // namespace
}  // namespace drbd::setup
