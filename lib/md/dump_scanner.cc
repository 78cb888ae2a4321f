// SPDX-License-Identifier: GPL-2.0-or-later
// dump-md text tokenizer.
#include "lib/md/dump_scanner.h"

#include <cstdlib>
#include <cstdio>

namespace drbd::md {

namespace {

struct Keyword {
  const char* text;
  int token;
};
// In rule order.
constexpr Keyword kKeywords[] = {
    {"gc", kTkGc},
    {"bm", kTkBm},
    {"uuid", kTkUuid},
    {"version", kTkVersion},
    {"la-size-sect", kTkLaSize},
    {"bm-byte-per-bit", kTkBmBytePerBit},
    {"device-uuid", kTkDeviceUuid},
    {"times", kTkTimes},
    {"flags", kTkFlags},
    {"al-stripes", kTkAlStripes},
    {"al-stripe-size-4k", kTkAlStripeSize4k},
    {"la-peer-max-bio-size", kTkLaBioSize},
    {"node-id", kTkNodeId},
    {"current-uuid", kTkCurrentUuid},
    {"bitmap", kTkBitmap},
    {"bitmap-uuid", kTkBitmapUuid},
    {"bitmap-dagtag", kTkBitmapDagtag},
    {"history-uuids", kTkHistoryUuids},
    {"peer", kTkPeer},
    {"hash", kTkHash},
    {"max-peers", kTkMaxPeers},
    {"bitmap-index", kTkBitmapIndex},
};

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) {
  return c == '-' || c == '_' || IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

int DumpScanner::Next(std::string* diag) {
  // Whitespace and comments.
  for (;;) {
    if (pos_ >= text_.size()) return kTkEof;
    const char c = text_[pos_];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (c == '\n') ++line_;
      ++pos_;
      continue;
    }
    if (c == '#') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      continue;
    }
    break;
  }
  const std::string_view s = text_.substr(pos_);
  auto at = [&](size_t i) { return i < s.size() ? s[i] : '\0'; };

  // Candidate lengths per rule, in rule order; the longest wins, the first
  // rule wins a tie.
  enum Rule { kOp, kString, kU64, kU32, kNum, kKeyword, kInvalidString, kEmptyString, kInvalidHex, kNumTooLong,
              kInvalidToken, kInvalidChar };
  size_t best_len = 0;
  int best_rule = -1;
  int best_kw = -1;
  auto offer = [&](int rule, size_t len, int kw = -1) {
    if (len > best_len) {
      best_len = len;
      best_rule = rule;
      best_kw = kw;
    }
  };
  const char c0 = s[0];
  if (c0 == '{' || c0 == '}' || c0 == ';' || c0 == '[' || c0 == ']') offer(kOp, 1);
  size_t quoted = 0;  // chars after an opening quote before '"', CR, LF or end
  if (c0 == '"') {
    while (quoted < 21 && at(1 + quoted) != '"' && at(1 + quoted) != '\r' && at(1 + quoted) != '\n' &&
           1 + quoted < s.size()) {
      ++quoted;
    }
    if (quoted >= 1 && quoted <= 20 && at(1 + quoted) == '"') offer(kString, quoted + 2);
  }
  size_t hex = 0;
  const bool is_0x = c0 == '0' && at(1) == 'x';
  if (is_0x) {
    while (hex < 18 && IsHex(at(2 + hex))) ++hex;
    if (hex >= 16) offer(kU64, 18);
    if (hex >= 8) offer(kU32, 10);
  }
  const size_t sign = c0 == '-' ? 1 : 0;
  size_t digits = 0;
  while (digits < 21 && IsDigit(at(sign + digits))) ++digits;
  if (digits >= 1) offer(kNum, sign + std::min<size_t>(digits, 19));
  for (int k = 0; k < static_cast<int>(std::size(kKeywords)); ++k) {
    const std::string_view kw = kKeywords[k].text;
    if (s.substr(0, kw.size()) == kw) offer(kKeyword, kw.size(), k);
  }
  if (c0 == '"') {
    if (quoted >= 1) offer(kInvalidString, 1 + std::min<size_t>(quoted, 20));
    offer(kEmptyString, at(1) == '"' ? 2 : 1);
  }
  if (is_0x) offer(kInvalidHex, 2 + std::min<size_t>(hex, 17));
  if (digits >= 20) offer(kNumTooLong, sign + 20);
  size_t word = 0;
  while (word < 100 && IsWordChar(at(word))) ++word;
  offer(kInvalidToken, word);
  if (!IsWordChar(c0) && c0 != ' ' && c0 != '\t' && c0 != '\r' && c0 != '\n' && c0 != '"' && c0 != ';' &&
      c0 != '{' && c0 != '}') {
    offer(kInvalidChar, 1);
  }
  if (best_rule < 0) offer(kInvalidChar, 1);

  const std::string tok(s.substr(0, best_len));
  pos_ += best_len;
  auto bad = [&](const char* msg) {
    txt_ = tok;
    if (diag) {
      char head[64];
      std::snprintf(head, sizeof head, "line %u: ", line_);
      *diag += std::string(head) + msg + ": " + tok + " ...\n";
    }
    return kTkInvalid;
  };
  switch (best_rule) {
    case kOp:
      return c0;
    case kString: {
      // Quotes dropped, backslash escapes the next character.
      std::string out;
      for (size_t i = 0; i < tok.size(); ++i) {
        if (tok[i] == '"') continue;
        if (tok[i] == '\\') ++i;
        if (i >= tok.size()) break;
        out += tok[i];
      }
      txt_ = out;
      return kTkString;
    }
    case kU64:
    case kU32:
      value_ = std::strtoull(tok.c_str(), nullptr, 16);
      return best_rule == kU64 ? kTkU64 : kTkU32;
    case kNum:
      value_ = std::strtoull(tok.c_str(), nullptr, 10);
      return kTkNum;
    case kKeyword:
      txt_ = tok;
      return kKeywords[best_kw].token;
    case kInvalidString:
    case kEmptyString:
      return bad("invalid string");
    case kInvalidHex:
      return bad("invalid hex number (only 8 or 16 hex digits accepted)");
    case kNumTooLong:
      return bad("number too big");
    case kInvalidToken:
      return bad("unknown token");
    default:
      txt_ = tok;
      return kTkInvalidChar;
  }
}

std::string DumpScanner::ParseError(int expected, int seen, const char* etext) const {
  if (!etext) {
    switch (expected) {
      case 0: etext = "end of file"; break;
      case ';': etext = "semicolon (;)"; break;
      case '{': etext = "opening brace ({)"; break;
      case '}': etext = "closing brace (})"; break;
      case '[': etext = "opening bracket ([)"; break;
      case ']': etext = "closing bracket (])"; break;
      case kTkBm: etext = "keyword 'bm'"; break;
      case kTkBitmap: etext = "keyword 'bitmap'"; break;
      case kTkBmBytePerBit: etext = "keyword 'bm-byte-per-bit'"; break;
      case kTkDeviceUuid: etext = "keyword 'device-uuid'"; break;
      case kTkFlags: etext = "keyword 'flags'"; break;
      case kTkGc: etext = "keyword 'gc'"; break;
      case kTkLaSize: etext = "keyword 'la-size-sect'"; break;
      case kTkTimes: etext = "keyword 'times'"; break;
      case kTkUuid: etext = "keyword 'uuid'"; break;
      case kTkVersion: etext = "keyword 'version'"; break;
      case kTkNodeId: etext = "keyword 'node-id'"; break;
      case kTkCurrentUuid: etext = "keyword 'current-uuid'"; break;
      case kTkBitmapUuid: etext = "keyword 'bitmap-uuid'"; break;
      case kTkBitmapDagtag: etext = "keyword 'bitmap-dagtag'"; break;
      case kTkPeer: etext = "keyword 'peer'"; break;
      case kTkHash: etext = "keyword 'hash'"; break;
      case kTkMaxPeers: etext = "keyword 'max-peers'"; break;
      case kTkNum: etext = "number ([0-9], up to 20 digits)"; break;
      case kTkString: etext = "short quoted string (\"..up to 20 characters, no newline..\")"; break;
      case kTkU32: etext = "an 8-digit hex number"; break;
      case kTkU64: etext = "a 16-digit hex number"; break;
      default: etext = " invalid/unexpected token!"; break;
    }
  }
  char head[64];
  std::snprintf(head, sizeof head, "Parse error in line %u: ", line_);
  std::string m = std::string(head) + etext + (etext[0] == ' ' ? ":" : " expected");
  char buf[160];
  if (seen == 0) {
    m += ", but end of file encountered\n";
  } else if (seen == kTkInvalidChar) {
    const unsigned char ch = txt_.empty() ? 0 : static_cast<unsigned char>(txt_[0]);
    std::snprintf(buf, sizeof buf, "; got invalid input character '\\x%02x' [%c]\n", ch, ch);
    m += buf;
  } else if (seen == ';' || seen == '{' || seen == '}') {
    m += std::string(", not '") + static_cast<char>(seen) + "'\n";
  } else if (seen == kTkNum || seen == kTkU32 || seen == kTkU64) {
    m += ", not some number\n";
  } else if (seen == kTkInvalid) {
    m += "\n";
  } else if (seen < 258) {
    std::snprintf(buf, sizeof buf, "; got token value %u (this should never happen!)\n", static_cast<unsigned>(seen));
    m += buf;
  } else {
    m += ", not '" + txt_ + "'\n";
  }
  return m;
}

}  // namespace drbd::md
