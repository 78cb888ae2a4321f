// SPDX-License-Identifier: GPL-2.0-or-later
// The drbd.conf tokenizer. It reproduces the token rules of drbd-utils 9.22
// (longest match, ties going to the earlier rule): reserved keywords, numbers
// with an optional unit suffix, IPv4/IPv6 addresses, kernel module versions,
// bare words of at most 128 characters and double-quoted strings of at most
// 255 characters with backslash escapes. Over-long words/strings and strings
// cut by a newline come back as error tokens, so the parser decides (as
// drbd-utils does) whether they are fatal. See docs/reference/config.md.
#pragma once

#include <string>
#include <string_view>

namespace drbd::cfg {

// Token kinds. Single-character punctuation uses its character code; the
// named kinds keep drbd-utils' numbering because its "(TK %d)" parse errors
// print it.
enum class Tok : int {
  kEof = 0,
  kLBrace = '{',
  kRBrace = '}',
  kSemicolon = ';',
  kLBracket = '[',
  kRBracket = ']',
  kColon = ':',
  kGlobal = 258,
  kResource,
  kOn,
  kStacked,
  kNet,
  kDisk,
  kSkip,
  kSyncer,
  kStartup,
  kDisableIpVerification,
  kDialogRefresh,
  kProtocol,  // never produced: `protocol` is a plain word
  kHandlers,
  kCommon,
  kAddress,
  kDevice,
  kMinor,
  kMetaDisk,
  kFlexMetaDisk,
  kNodeId,
  kMinorCount,
  kIpAddr,
  kInteger,
  kString,
  kElse,
  kUsageCount,
  kAsk,
  kYes,
  kNo,
  kThisHost,
  kRemoteHost,
  kPeerNodeId,
  kIsStandalone,
  kProxy,
  kInside,
  kOutside,
  kMemlimit,  // never produced
  kErrStringTooLong,
  kErrDqstringTooLong,
  kErrDqstring,
  kSci,
  kSdp,
  kSsocks,
  kIpv4,
  kIpv6,
  kIpAddr6,
  kInclude,
  kBwlimit,  // never produced
  kFloating,
  kVolume,
  kCmdTimeoutShort,
  kCmdTimeoutMedium,
  kCmdTimeoutLong,
  kOptions,
  kConnection,
  kHost,
  kPort,
  kConnectionMesh,
  kHosts,
  kVia,
  kTemplateFile,
  kPath,
  kUdevAlwaysUseVnr,
  kModuleEq,
  kModuleNe,
  kModuleGt,
  kModuleGe,
  kModuleLt,
  kModuleLe,
  kKmodVers,
  // Keywords of drbd-utils after 9.22. They sit after 9.22's last token so
  // that the token numbers 9.22 prints in "(TK n)" errors stay unchanged.
  kOutsideAddress,  // `host X address A via outside-address B;` (NAT)
  kTiebreaker,      // `tiebreaker yes|no;` in a volume
};

constexpr int TokNumber(Tok t) { return static_cast<int>(t); }

struct Token {
  Tok kind = Tok::kEof;
  // The matched text. Double-quoted strings come unescaped (quotes and
  // backslashes removed); error tokens keep their raw text. Text is cut at
  // an embedded NUL byte, as drbd-utils' C strings are.
  std::string text;
  int line = 1;  // 1-based line of the token's first character
  int col = 1;   // 1-based byte column of the token's first character
};

// Splits one file's text into tokens. The input must outlive the lexer.
// Never fails: unknown bytes come back as Tok::kElse, and kEof repeats
// once the end is reached.
class Lexer {
 public:
  // first_line: the line counter's start (drbd-utils keeps counting across
  // the files of `--config-to-test`).
  explicit Lexer(std::string_view input, int first_line = 1) : in_(input), line_(first_line) {}

  Token Next();

  // The line counter after the last token (drbd-utils' `line`).
  int line() const { return line_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int line_;
};

// A printable name for a token kind, for our own messages ("'{'", "word",
// "end of file", or the keyword).
std::string TokenDescription(const Token& t);

// The keyword text for a keyword kind ("connection-mesh"); empty if the
// kind is not a keyword.
std::string_view KeywordText(Tok t);

}  // namespace drbd::cfg
