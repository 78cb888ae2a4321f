// SPDX-License-Identifier: GPL-2.0-or-later
// dump-md tokenizer: token rules and error texts, pinned against
// drbdmeta 9.22's verify-dump output.
#include "lib/md/dump_scanner.h"

#include <gtest/gtest.h>

namespace drbd::md {
namespace {

// Scans until the first token that is not `expected`; returns the diag text
// plus the parse error drbdmeta prints for it.
std::string FirstError(std::string_view text, std::initializer_list<int> expected) {
  DumpScanner sc(text);
  std::string diag;
  for (int want : expected) {
    const int got = sc.Next(&diag);
    if (got != want) return diag + sc.ParseError(want, got);
  }
  return diag;
}

TEST(DumpScanner, TokensOfADump) {
  DumpScanner sc("# comment\nversion \"v09\";\nmax-peers 2;\nbitmap[0] { 3 times 0x00000000FFFFFFFF; }\n");
  std::string diag;
  EXPECT_EQ(sc.Next(&diag), kTkVersion);
  EXPECT_EQ(sc.Next(&diag), kTkString);
  EXPECT_EQ(sc.text(), "v09");
  EXPECT_EQ(sc.Next(&diag), ';');
  EXPECT_EQ(sc.Next(&diag), kTkMaxPeers);
  EXPECT_EQ(sc.Next(&diag), kTkNum);
  EXPECT_EQ(sc.value(), 2u);
  EXPECT_EQ(sc.Next(&diag), ';');
  EXPECT_EQ(sc.Next(&diag), kTkBitmap);
  EXPECT_EQ(sc.Next(&diag), '[');
  EXPECT_EQ(sc.Next(&diag), kTkNum);
  EXPECT_EQ(sc.Next(&diag), ']');
  EXPECT_EQ(sc.Next(&diag), '{');
  EXPECT_EQ(sc.Next(&diag), kTkNum);
  EXPECT_EQ(sc.Next(&diag), kTkTimes);
  EXPECT_EQ(sc.Next(&diag), kTkU64);
  EXPECT_EQ(sc.value(), 0xFFFFFFFFu);
  EXPECT_EQ(sc.Next(&diag), ';');
  EXPECT_EQ(sc.Next(&diag), '}');
  EXPECT_EQ(sc.Next(&diag), kTkEof);
  EXPECT_EQ(sc.line(), 5u);
  EXPECT_EQ(diag, "");
}

TEST(DumpScanner, LongestMatchAndRuleOrder) {
  std::string diag;
  DumpScanner a("bitmap-index bm-bytes 0x0000000000000001 0x00000001 -1");
  EXPECT_EQ(a.Next(&diag), kTkBitmapIndex);
  EXPECT_EQ(a.Next(&diag), kTkInvalid);  // longer than keyword "bm"
  EXPECT_EQ(a.Next(&diag), kTkU64);
  EXPECT_EQ(a.Next(&diag), kTkU32);
  EXPECT_EQ(a.Next(&diag), kTkNum);
  EXPECT_EQ(a.value(), ~uint64_t{0});
  EXPECT_EQ(diag, "line 1: unknown token: bm-bytes ...\n");
}

// Texts as printed by /usr/sbin/drbdmeta 9.22 verify-dump.
TEST(DumpScanner, ErrorTextsMatchDrbdmeta) {
  EXPECT_EQ(FirstError("version \"v09\"; max-peers 2; node-id 0x1;",
                       {kTkVersion, kTkString, ';', kTkMaxPeers, kTkNum, ';', kTkNodeId, kTkNum}),
            "line 1: invalid hex number (only 8 or 16 hex digits accepted): 0x1 ...\n"
            "Parse error in line 1: number ([0-9], up to 20 digits) expected\n");
  EXPECT_EQ(FirstError("version \"v09\"; max-peers 2; node-id @",
                       {kTkVersion, kTkString, ';', kTkMaxPeers, kTkNum, ';', kTkNodeId, kTkNum}),
            "Parse error in line 1: number ([0-9], up to 20 digits) expected; got invalid input character "
            "'\\x40' [@]\n");
  EXPECT_EQ(FirstError("version \"v09\"; max-peers 2; node-id 12345678901234567890;",
                       {kTkVersion, kTkString, ';', kTkMaxPeers, kTkNum, ';', kTkNodeId, kTkNum}),
            "line 1: number too big: 12345678901234567890 ...\n"
            "Parse error in line 1: number ([0-9], up to 20 digits) expected\n");
  EXPECT_EQ(FirstError("version \"v09\"; max-peers [", {kTkVersion, kTkString, ';', kTkMaxPeers, kTkNum}),
            "Parse error in line 1: number ([0-9], up to 20 digits) expected; got token value 91 (this should "
            "never happen!)\n");
  EXPECT_EQ(FirstError("version \"\"", {kTkVersion, kTkString}),
            "line 1: invalid string: \"\" ...\n"
            "Parse error in line 1: short quoted string (\"..up to 20 characters, no newline..\") expected\n");
  EXPECT_EQ(FirstError("version \"v09\" frob", {kTkVersion, kTkString, ';'}),
            "line 1: unknown token: frob ...\nParse error in line 1: semicolon (;) expected\n");
  EXPECT_EQ(FirstError("version \"v09\"", {kTkVersion, kTkString, ';'}),
            "Parse error in line 1: semicolon (;) expected, but end of file encountered\n");
}

}  // namespace
}  // namespace drbd::md
