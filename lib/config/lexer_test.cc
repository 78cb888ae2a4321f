// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/config/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace drbd::cfg {
namespace {

std::vector<Token> Lex(std::string_view in) {
  Lexer lex(in);
  std::vector<Token> out;
  for (int i = 0; i < 10000; ++i) {
    Token t = lex.Next();
    if (t.kind == Tok::kEof) break;
    out.push_back(t);
  }
  return out;
}

std::vector<Tok> Kinds(std::string_view in) {
  std::vector<Tok> out;
  for (const Token& t : Lex(in)) out.push_back(t.kind);
  return out;
}

TEST(Lexer, KeywordsNeedTheWholeWord) {
  EXPECT_EQ(Kinds("on online net network"),
            (std::vector<Tok>{Tok::kOn, Tok::kString, Tok::kNet, Tok::kString}));
  EXPECT_EQ(Kinds("connection connection-mesh hosts host"),
            (std::vector<Tok>{Tok::kConnection, Tok::kConnectionMesh, Tok::kHosts, Tok::kHost}));
}

// Keywords of drbd-utils after 9.22. Their token numbers come after 9.22's
// last one, so the "(TK n)" numbers of 9.22's error messages stay the same.
TEST(Lexer, KeywordsAddedAfter922) {
  EXPECT_EQ(Kinds("tiebreaker outside-address outside tiebreakers"),
            (std::vector<Tok>{Tok::kTiebreaker, Tok::kOutsideAddress, Tok::kOutside,
                              Tok::kString}));
  EXPECT_EQ(TokNumber(Tok::kString), 281);
  EXPECT_GT(TokNumber(Tok::kOutsideAddress), TokNumber(Tok::kKmodVers));
  EXPECT_GT(TokNumber(Tok::kTiebreaker), TokNumber(Tok::kKmodVers));
}

TEST(Lexer, ProtocolIsAPlainWord) { EXPECT_EQ(Kinds("protocol"), std::vector<Tok>{Tok::kString}); }

TEST(Lexer, NumbersTakeOnlyUppercaseUnitsAndAtMostEightDigits) {
  auto t = Lex("100 40M 100k 12345678 123456789 7s");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].kind, Tok::kInteger);
  EXPECT_EQ(t[1].kind, Tok::kInteger);
  EXPECT_EQ(t[2].kind, Tok::kString);  // lowercase k: a word
  EXPECT_EQ(t[3].kind, Tok::kInteger);
  EXPECT_EQ(t[4].kind, Tok::kString);  // nine digits: a word
  EXPECT_EQ(t[5].kind, Tok::kInteger);
}

TEST(Lexer, AddressesAndVersions) {
  auto t = Lex("10.1.1.1:7789 9.2.0 1.2.3.4 10.1.1.1234");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].kind, Tok::kIpAddr);
  EXPECT_EQ(t[0].text, "10.1.1.1");
  EXPECT_EQ(t[1].kind, Tok::kColon);
  EXPECT_EQ(t[2].kind, Tok::kInteger);
  EXPECT_EQ(t[3].kind, Tok::kKmodVers);
  EXPECT_EQ(t[4].kind, Tok::kIpAddr);
  EXPECT_EQ(t[5].kind, Tok::kString);  // longer as a word than as an address
}

TEST(Lexer, Ipv6Forms) {
  auto t = Lex("[fd00::1]:7789 fe80::ec4:7aff:fe78:f3f4%br0 ::ffff:10.1.1.1 ::");
  ASSERT_EQ(t.size(), 8u);
  EXPECT_EQ(t[1].kind, Tok::kIpAddr6);
  EXPECT_EQ(t[1].text, "fd00::1");
  EXPECT_EQ(t[2].kind, Tok::kRBracket);
  EXPECT_EQ(t[4].kind, Tok::kInteger);
  EXPECT_EQ(t[5].kind, Tok::kIpAddr6);
  EXPECT_EQ(t[5].text, "fe80::ec4:7aff:fe78:f3f4%br0");
  EXPECT_EQ(t[6].kind, Tok::kIpAddr6);
  EXPECT_EQ(t[6].text, "::ffff:10.1.1.1");
  EXPECT_EQ(t[7].kind, Tok::kIpAddr6);
}

// A word of hex letters turns into an IPv6 address only when two ':' follow
// within its run of hex digits and colons; one ':' is the port separator.
TEST(Lexer, HexWordsNeedTwoColonsToBeIpv6) {
  auto t = Lex("dead:beef fd00:1::2 cafe::1 bad:1.2.3.4 abc:def:ghi");
  ASSERT_EQ(t.size(), 10u);
  EXPECT_EQ(t[0].kind, Tok::kString);  // dead
  EXPECT_EQ(t[1].kind, Tok::kColon);
  EXPECT_EQ(t[2].kind, Tok::kString);  // beef
  EXPECT_EQ(t[3].kind, Tok::kIpAddr6);
  EXPECT_EQ(t[3].text, "fd00:1::2");
  EXPECT_EQ(t[4].kind, Tok::kIpAddr6);
  EXPECT_EQ(t[4].text, "cafe::1");
  EXPECT_EQ(t[5].kind, Tok::kString);  // bad
  EXPECT_EQ(t[6].kind, Tok::kColon);
  EXPECT_EQ(t[7].kind, Tok::kIpAddr);
  EXPECT_EQ(t[8].kind, Tok::kIpAddr6);  // the rule's H? ':' ends on a colon
  EXPECT_EQ(t[8].text, "abc:def:");
  EXPECT_EQ(t[9].kind, Tok::kString);  // ghi
}

TEST(Lexer, KeywordsAndWordsNextToPunctuation) {
  auto t = Lex("on{alpha}volume;_this_host[x]");
  EXPECT_EQ(Kinds("on{alpha}volume;_this_host[x]"),
            (std::vector<Tok>{Tok::kOn, Tok::kLBrace, Tok::kString, Tok::kRBrace, Tok::kVolume,
                              Tok::kSemicolon, Tok::kThisHost, Tok::kLBracket, Tok::kString,
                              Tok::kRBracket}));
  ASSERT_EQ(t.size(), 10u);
  EXPECT_EQ(t[2].text, "alpha");
  EXPECT_EQ(t[2].col, 4);
  EXPECT_EQ(t[9].text, "]");
}

TEST(Lexer, QuotedStringsAreUnescaped) {
  auto t = Lex(R"("a \"b\" \\c" "on")");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].kind, Tok::kString);
  EXPECT_EQ(t[0].text, R"(a "b" \c)");
  EXPECT_EQ(t[1].kind, Tok::kString);  // quoting turns a keyword into a name
  EXPECT_EQ(t[1].text, "on");
}

TEST(Lexer, LongTokensAreErrorTokens) {
  std::string w128(128, 'a');
  std::string w129(129, 'a');
  EXPECT_EQ(Kinds(w128), std::vector<Tok>{Tok::kString});
  EXPECT_EQ(Lex(w129)[0].kind, Tok::kErrStringTooLong);
  EXPECT_EQ(Lex(w129)[0].text, w129);
  // The error token is 129 bytes; the rest of the word is a word again.
  auto t = Lex(std::string(130, 'z') + " on");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].kind, Tok::kErrStringTooLong);
  EXPECT_EQ(t[1].text, "z");
  EXPECT_EQ(t[2].kind, Tok::kOn);
  std::string q255 = "\"" + std::string(255, 'b') + "\"";
  std::string q256 = "\"" + std::string(256, 'b') + "\"";
  EXPECT_EQ(Kinds(q255), std::vector<Tok>{Tok::kString});
  EXPECT_EQ(Lex(q256)[0].kind, Tok::kErrDqstringTooLong);
}

TEST(Lexer, UnterminatedStringSwallowsTheNewlineWithoutCountingIt) {
  Lexer lex("x \"abc\ny");
  EXPECT_EQ(lex.Next().kind, Tok::kString);
  Token t = lex.Next();
  EXPECT_EQ(t.kind, Tok::kErrDqstring);
  EXPECT_EQ(t.text, "\"abc\n");
  Token y = lex.Next();
  EXPECT_EQ(y.text, "y");
  EXPECT_EQ(y.line, 1);  // drbd-utils does not count that newline
}

TEST(Lexer, QuoteAtEndOfFileIsAStrayByte) {
  auto t = Lex("\"abc");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].kind, Tok::kElse);
  EXPECT_EQ(t[1].text, "abc");
}

TEST(Lexer, CommentsWhitespaceLinesAndColumns) {
  auto t = Lex("# c\n  net { # x\n\tping-int 5; }");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].line, 2);
  EXPECT_EQ(t[0].col, 3);
  EXPECT_EQ(t[2].text, "ping-int");
  EXPECT_EQ(t[2].line, 3);
  EXPECT_EQ(t[2].col, 2);
}

TEST(Lexer, EndOfFileRepeats) {
  Lexer lex("a\n\n");
  lex.Next();
  EXPECT_EQ(lex.Next().kind, Tok::kEof);
  EXPECT_EQ(lex.Next().kind, Tok::kEof);
  EXPECT_EQ(lex.line(), 3);
}

TEST(Lexer, BinaryBytesAreSingleElseTokens) {
  std::string in("\xc2\xa0x\0y", 5);
  auto t = Lex(in);
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[0].kind, Tok::kElse);
  EXPECT_EQ(t[3].kind, Tok::kElse);
  EXPECT_EQ(t[3].text, "");  // NUL cut, as a C string would be
}

}  // namespace
}  // namespace drbd::cfg
