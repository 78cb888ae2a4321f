// SPDX-License-Identifier: GPL-2.0-or-later
// Tokenizer for the dump-md text (the restore-md input), with drbd-utils'
// token rules (longest match, first rule wins a tie) and error wording.
// See docs/formats/metadata-dump.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace drbd::md {

enum DumpToken : int {
  kTkEof = 0,
  // ';' '{' '}' '[' ']' are returned as their character codes.
  kTkString = 258,
  kTkU64,
  kTkU32,
  kTkNum,
  kTkGc,
  kTkBm,
  kTkUuid,
  kTkVersion,
  kTkLaSize,
  kTkBmBytePerBit,
  kTkDeviceUuid,
  kTkTimes,
  kTkFlags,
  kTkInvalid,
  kTkInvalidChar,
  kTkLaBioSize,
  kTkNodeId,
  kTkBitmapIndex,
  kTkCurrentUuid,
  kTkBitmap,
  kTkBitmapUuid,
  kTkBitmapDagtag,
  kTkHistoryUuids,
  kTkPeer,
  kTkHash,
  kTkMaxPeers,
  kTkAlStripes,
  kTkAlStripeSize4k,
};

class DumpScanner {
 public:
  // `text` must outlive the scanner.
  explicit DumpScanner(std::string_view text) : text_(text) {}

  // Next token. For invalid tokens, `diag` receives drbd-utils' message
  // ("line N: unknown token: xyz ...").
  int Next(std::string* diag);

  uint64_t value() const { return value_; }      // numbers (strtoull)
  const std::string& text() const { return txt_; }  // keyword / string text
  unsigned line() const { return line_; }
  size_t pos() const { return pos_; }
  // Restarts scanning at byte `pos` (line numbers keep counting, as flex's
  // yyrestart does).
  void Seek(size_t pos) { pos_ = pos; }

  // drbdmeta's "Parse error in line N: ..." message for `expected` vs the
  // token just returned. `etext` overrides the expectation text.
  std::string ParseError(int expected, int seen, const char* etext = nullptr) const;

 private:
  std::string_view text_;
  size_t pos_ = 0;
  unsigned line_ = 1;
  uint64_t value_ = 0;
  std::string txt_;
};

}  // namespace drbd::md
