// SPDX-License-Identifier: GPL-2.0-or-later
// Token rules of the drbd.conf language. Each candidate rule is measured at
// the current position; the longest match wins and ties go to the rule that
// drbd-utils lists first (keywords, module version, IPv4, IPv6, number,
// quoted string, word, then the error rules and the catch-all byte).
#include "lib/config/lexer.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace drbd::cfg {
namespace {

struct Keyword {
  std::string_view text;
  Tok tok;
};

// Reserved words. A word is a keyword only when the whole word matches.
constexpr std::array kKeywords = {
    Keyword{"on", Tok::kOn},
    Keyword{"stacked-on-top-of", Tok::kStacked},
    Keyword{"floating", Tok::kFloating},
    Keyword{"no", Tok::kNo},
    Keyword{"net", Tok::kNet},
    Keyword{"yes", Tok::kYes},
    Keyword{"ask", Tok::kAsk},
    Keyword{"via", Tok::kVia},
    Keyword{"skip", Tok::kSkip},
    Keyword{"require-drbd-module-version-eq", Tok::kModuleEq},
    Keyword{"require-drbd-module-version-ne", Tok::kModuleNe},
    Keyword{"require-drbd-module-version-gt", Tok::kModuleGt},
    Keyword{"require-drbd-module-version-ge", Tok::kModuleGe},
    Keyword{"require-drbd-module-version-lt", Tok::kModuleLt},
    Keyword{"require-drbd-module-version-le", Tok::kModuleLe},
    Keyword{"disk", Tok::kDisk},
    Keyword{"host", Tok::kHost},
    Keyword{"hosts", Tok::kHosts},
    Keyword{"port", Tok::kPort},
    Keyword{"proxy", Tok::kProxy},
    Keyword{"minor", Tok::kMinor},
    Keyword{"inside", Tok::kInside},
    Keyword{"volume", Tok::kVolume},
    Keyword{"cmd-timeout-short", Tok::kCmdTimeoutShort},
    Keyword{"cmd-timeout-medium", Tok::kCmdTimeoutMedium},
    Keyword{"cmd-timeout-long", Tok::kCmdTimeoutLong},
    Keyword{"syncer", Tok::kSyncer},
    Keyword{"device", Tok::kDevice},
    Keyword{"global", Tok::kGlobal},
    Keyword{"common", Tok::kCommon},
    Keyword{"options", Tok::kOptions},
    Keyword{"outside", Tok::kOutside},
    Keyword{"address", Tok::kAddress},
    Keyword{"startup", Tok::kStartup},
    Keyword{"include", Tok::kInclude},
    Keyword{"handlers", Tok::kHandlers},
    Keyword{"connection", Tok::kConnection},
    Keyword{"outside-address", Tok::kOutsideAddress},
    Keyword{"connection-mesh", Tok::kConnectionMesh},
    Keyword{"minor-count", Tok::kMinorCount},
    Keyword{"disable-ip-verification", Tok::kDisableIpVerification},
    Keyword{"udev-always-use-vnr", Tok::kUdevAlwaysUseVnr},
    Keyword{"dialog-refresh", Tok::kDialogRefresh},
    Keyword{"resource", Tok::kResource},
    Keyword{"meta-disk", Tok::kMetaDisk},
    Keyword{"flexible-meta-disk", Tok::kFlexMetaDisk},
    Keyword{"node-id", Tok::kNodeId},
    Keyword{"usage-count", Tok::kUsageCount},
    Keyword{"_this_host", Tok::kThisHost},
    Keyword{"_remote_host", Tok::kRemoteHost},
    Keyword{"_peer_node_id", Tok::kPeerNodeId},
    Keyword{"_is_standalone", Tok::kIsStandalone},
    Keyword{"template-file", Tok::kTemplateFile},
    Keyword{"path", Tok::kPath},
    Keyword{"tiebreaker", Tok::kTiebreaker},
    Keyword{"sci", Tok::kSci},
    Keyword{"ssocks", Tok::kSsocks},
    Keyword{"sdp", Tok::kSdp},
    Keyword{"ipv4", Tok::kIpv4},
    Keyword{"ipv6", Tok::kIpv6},
};

constexpr size_t kMaxWord = 128;
constexpr size_t kMaxQuotedUnits = 255;

// Character classes, one table lookup per byte.
enum : uint8_t { kWordBit = 1, kDigitBit = 2, kHexBit = 4, kBlankBit = 8 };

constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t b = 0;
    const bool lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z';
    const bool digit = c >= '0' && c <= '9';
    if (lower || upper || digit || c == '/' || c == '.' || c == '_' || c == '-') b |= kWordBit;
    if (digit) b |= kDigitBit;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) b |= kHexBit;
    if (c == ' ' || c == '\t' || c == '\r') b |= kBlankBit;
    t[static_cast<size_t>(c)] = b;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClasses = MakeClasses();

bool IsWordChar(unsigned char c) { return (kClasses[c] & kWordBit) != 0; }
bool IsDigit(unsigned char c) { return (kClasses[c] & kDigitBit) != 0; }
bool IsHex(unsigned char c) { return (kClasses[c] & kHexBit) != 0; }

// The IPv6 rule is matched on sets of possible end positions, which keeps
// its optional and repeated groups exact without backtracking. A set holds
// offsets from the rule's start: the longest form (six groups, '::', six
// groups, '%' and a 128-byte zone word) ends 193 bytes in, so 256 bits hold
// every offset the rule can reach.
class Ends {
 public:
  static constexpr size_t kCapacity = 256;
  void Add(size_t k) {
    if (k < kCapacity) bits_[k >> 6] |= uint64_t{1} << (k & 63);
  }
  bool empty() const { return (bits_[0] | bits_[1] | bits_[2] | bits_[3]) == 0; }
  Ends& operator|=(const Ends& o) {
    for (size_t i = 0; i < bits_.size(); ++i) bits_[i] |= o.bits_[i];
    return *this;
  }
  // Calls f(k) for every offset k in the set.
  template <typename F>
  void ForEach(F f) const {
    for (size_t w = 0; w < bits_.size(); ++w) {
      for (uint64_t b = bits_[w]; b != 0; b &= b - 1)
        f(w * 64 + static_cast<size_t>(std::countr_zero(b)));
    }
  }
  // The largest offset; 0 for the empty set.
  size_t Max() const {
    for (size_t w = bits_.size(); w-- > 0;) {
      if (bits_[w] != 0) return w * 64 + 63 - static_cast<size_t>(std::countl_zero(bits_[w]));
    }
    return 0;
  }

 private:
  std::array<uint64_t, 4> bits_{};
};

class Matcher {
 public:
  // Offsets are counted from start within s.
  Matcher(std::string_view s, size_t start) : s_(s), start_(start) {}

  bool Has(size_t k) const { return start_ + k < s_.size(); }
  unsigned char At(size_t k) const {
    return Has(k) ? static_cast<unsigned char>(s_[start_ + k]) : 0;
  }

  Ends Hex4(const Ends& in) const {
    Ends out;
    in.ForEach([&](size_t p) {
      for (size_t k = 1; k <= 4 && Has(p + k - 1) && IsHex(At(p + k - 1)); ++k) out.Add(p + k);
    });
    return out;
  }
  Ends Lit(const Ends& in, char c) const {
    Ends out;
    in.ForEach([&](size_t p) {
      if (Has(p) && At(p) == static_cast<unsigned char>(c)) out.Add(p + 1);
    });
    return out;
  }
  static Ends Union(Ends a, const Ends& b) { return a |= b; }
  Ends Digits(const Ends& in, size_t lo, size_t hi) const {
    Ends out;
    in.ForEach([&](size_t p) {
      size_t k = 0;
      while (k < hi && Has(p + k) && IsDigit(At(p + k))) {
        ++k;
        if (k >= lo) out.Add(p + k);
      }
    });
    return out;
  }
  Ends Ipv4(const Ends& in) const {
    Ends e = in;
    for (int i = 0; i < 3; ++i) e = Lit(Digits(e, 1, 3), '.');
    return Digits(e, 1, 3);
  }
  Ends Word(const Ends& in) const {
    Ends out;
    in.ForEach([&](size_t p) {
      for (size_t k = 1; k <= kMaxWord && Has(p + k - 1) && IsWordChar(At(p + k - 1)); ++k) {
        out.Add(p + k);
      }
    });
    return out;
  }

  // ((H:){0,5}H)? : H? : (H(:H){0,5})? (%WORD)?  |  ::ffff:IPV4
  // Returns the length of the longest match at start, 0 if none.
  size_t Ipv6() const {
    Ends s;
    s.Add(0);
    // Optional leading group list.
    Ends lead = s;
    {
      Ends reps = s;
      Ends acc;
      for (int i = 0; i <= 5; ++i) {
        acc = Union(acc, Hex4(reps));
        reps = Lit(Hex4(reps), ':');
        if (reps.empty()) break;
      }
      lead = Union(lead, acc);
    }
    Ends e = Lit(lead, ':');
    e = Union(e, Hex4(e));
    e = Lit(e, ':');
    {
      Ends tail = Hex4(e);
      Ends all = tail;
      for (int i = 0; i < 5 && !tail.empty(); ++i) {
        tail = Hex4(Lit(tail, ':'));
        all = Union(all, tail);
      }
      e = Union(e, all);
    }
    e = Union(e, Word(Lit(e, '%')));
    size_t best = e.Max();

    Ends f = Lit(Lit(s, ':'), ':');
    for (int i = 0; i < 4; ++i) {
      Ends n;
      f.ForEach([&](size_t p) {
        if (Has(p) && (At(p) == 'f' || At(p) == 'F')) n.Add(p + 1);
      });
      f = n;
    }
    f = Ipv4(Lit(f, ':'));
    return std::max(best, f.Max());
  }

 private:
  std::string_view s_;
  size_t start_;
};

// The length of the run of digits (or word characters) in s from p.
size_t DigitRun(std::string_view s, size_t p) {
  size_t q = p;
  while (q < s.size() && IsDigit(static_cast<unsigned char>(s[q]))) ++q;
  return q - p;
}
size_t WordRun(std::string_view s, size_t p) {
  size_t q = p;
  while (q < s.size() && IsWordChar(static_cast<unsigned char>(s[q]))) ++q;
  return q - p;
}

// The first position at or after p that holds no blank (' ', '\t', '\r').
// Indentation comes in runs of spaces: eight are compared at once.
size_t SkipBlanks(std::string_view s, size_t p) {
  const size_t n = s.size();
  constexpr uint64_t kEightSpaces = 0x2020202020202020ULL;
  while (p + 8 <= n) {
    uint64_t v;
    std::memcpy(&v, s.data() + p, 8);
    if (v != kEightSpaces) break;
    p += 8;
  }
  while (p < n && (kClasses[static_cast<unsigned char>(s[p])] & kBlankBit) != 0) ++p;
  return p;
}

// The IPv4 rule (1-3 digits, '.', three times, then 1-3 digits) from p: the
// length of its longest match, 0 if none. Every group but the last must be
// its whole digit run, since a '.' has to follow it; the last takes up to 3.
size_t Ipv4Length(std::string_view s, size_t p) {
  size_t q = p;
  for (int i = 0; i < 3; ++i) {
    const size_t run = DigitRun(s, q);
    if (run < 1 || run > 3 || q + run >= s.size() || s[q + run] != '.') return 0;
    q += run + 1;
  }
  const size_t run = DigitRun(s, q);
  if (run < 1) return 0;
  return q + std::min<size_t>(run, 3) - p;
}

// Every IPv6 form has two ':' within its leading run of hex digits and
// colons (`H:...:H`, `::`, `::ffff:`); without them (a lone ':' before a
// port, a word) no IPv6 address starts at p.
bool TwoColonsAhead(std::string_view s, size_t p) {
  int colons = 0;
  for (size_t q = p; q < s.size() && (IsHex(static_cast<unsigned char>(s[q])) || s[q] == ':');
       ++q) {
    if (s[q] == ':' && ++colons == 2) return true;
  }
  return false;
}

constexpr size_t kMaxKeyword = 32;

// Keywords in an open-addressing hash table keyed by length, first and last
// byte: a word costs one hash and, mostly, one comparison.
class KeywordIndex {
 public:
  KeywordIndex() {
    for (const Keyword& k : kKeywords) {
      size_t i = Slot(k.text);
      while (slots_[i] != nullptr) i = (i + 1) % kSlots;
      slots_[i] = &k;
    }
  }
  Tok Find(std::string_view w) const {
    if (w.empty()) return Tok::kEof;
    for (size_t i = Slot(w);; i = (i + 1) % kSlots) {
      const Keyword* k = slots_[i];
      if (k == nullptr) return Tok::kEof;
      if (k->text.size() == w.size() && std::memcmp(k->text.data(), w.data(), w.size()) == 0) {
        return k->tok;
      }
    }
  }

 private:
  static constexpr size_t kSlots = 256;  // a power of two, > 3x the keywords
  static_assert(kKeywords.size() * 3 < kSlots);
  static size_t Slot(std::string_view w) {
    return (w.size() * 31 + static_cast<unsigned char>(w.front()) * 7 +
            static_cast<unsigned char>(w.back())) %
           kSlots;
  }
  std::array<const Keyword*, kSlots> slots_{};
};

// The keyword kind of a whole word, or Tok::kEof if it is not a keyword.
Tok FindKeyword(std::string_view w) {
  static const KeywordIndex index;
  return index.Find(w);
}

std::string CutAtNul(std::string_view s) {
  size_t z = s.find('\0');
  return std::string(z == std::string_view::npos ? s : s.substr(0, z));
}

// Removes the quotes and backslash escapes of a matched quoted string.
std::string Unescape(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '"') continue;
    if (c == '\\') {
      ++i;
      if (i >= raw.size()) break;
      c = raw[i];
    }
    if (c == '\0') break;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string_view KeywordText(Tok t) {
  for (const Keyword& k : kKeywords) {
    if (k.tok == t) return k.text;
  }
  return {};
}

std::string TokenDescription(const Token& t) {
  switch (t.kind) {
    case Tok::kEof:
      return "end of file";
    case Tok::kErrStringTooLong:
      return "over-long word";
    case Tok::kErrDqstringTooLong:
      return "over-long quoted string";
    case Tok::kErrDqstring:
      return "unterminated quoted string";
    default:
      break;
  }
  std::string s = "'";
  s += t.text.size() > 40 ? t.text.substr(0, 40) + "..." : t.text;
  s += "'";
  return s;
}

Token Lexer::Next() {
  const size_t n = in_.size();
  for (;;) {
    pos_ = SkipBlanks(in_, pos_);
    if (pos_ >= n) {
      return Token{Tok::kEof, "", line_, static_cast<int>(pos_ - line_start_) + 1};
    }
    const char c = in_[pos_];
    if (c == '\n') {
      ++line_;
      ++pos_;
      line_start_ = pos_;
      continue;
    }
    if (c == '#') {
      const void* nl = std::memchr(in_.data() + pos_, '\n', n - pos_);
      pos_ = nl == nullptr ? n : static_cast<size_t>(static_cast<const char*>(nl) - in_.data());
      continue;
    }
    break;
  }

  const size_t p = pos_;
  const unsigned char c = in_[p];
  Token tok;
  tok.line = line_;
  tok.col = static_cast<int>(p - line_start_) + 1;

  // Fast paths for the two commonest shapes, where the winning rule is known
  // at once. Braces, ';' and brackets start no longer token.
  if (c == '{' || c == '}' || c == ';' || c == '[' || c == ']') {
    tok.kind = static_cast<Tok>(c);
    tok.text.assign(1, static_cast<char>(c));
    pos_ = p + 1;
    return tok;
  }
  const size_t word = WordRun(in_, p);
  // A word starting with a non-digit: no number, version or IPv4 address can
  // start here, and no IPv6 address unless two ':' follow within the run of
  // hex digits and colons. Then it is a keyword, a word, or too long.
  if (word >= 1 && !IsDigit(c) && !(IsHex(c) && TwoColonsAhead(in_, p))) {
    if (word > kMaxWord) {
      tok.kind = Tok::kErrStringTooLong;
      tok.text.assign(in_.substr(p, kMaxWord + 1));
      pos_ = p + kMaxWord + 1;
      return tok;
    }
    const std::string_view w = in_.substr(p, word);
    const Tok kw = word <= kMaxKeyword ? FindKeyword(w) : Tok::kEof;
    tok.kind = kw != Tok::kEof ? kw : Tok::kString;
    tok.text.assign(w);
    pos_ = p + word;
    return tok;
  }

  auto has = [&](size_t q) { return q < n; };
  auto at = [&](size_t q) -> unsigned char {
    return q < n ? static_cast<unsigned char>(in_[q]) : 0;
  };

  // Candidates in rule order; the first longest one wins.
  Tok best = Tok::kElse;
  size_t best_len = 1;
  // Keeps rule order for equal lengths: only strictly longer replaces,
  // except that anything replaces the 1-byte catch-all.
  auto offer_ordered = [&](Tok t, size_t len) {
    if (len == 0) return;
    if (len > best_len || (len == best_len && best == Tok::kElse && t != Tok::kElse)) {
      best = t;
      best_len = len;
    }
  };

  if (c == ':') {
    best = Tok::kColon;
    best_len = 1;
  }

  if (word >= 1 && word <= kMaxKeyword) {
    const Tok kw = FindKeyword(in_.substr(p, word));
    if (kw != Tok::kEof) offer_ordered(kw, word);
  }

  // Kernel module version: digits . digits . digits
  const size_t d1 = DigitRun(in_, p);
  if (d1 > 0 && at(p + d1) == '.') {
    size_t q = p + d1 + 1;
    size_t d2 = DigitRun(in_, q);
    if (d2 > 0 && at(q + d2) == '.') {
      size_t r = q + d2 + 1;
      size_t d3 = DigitRun(in_, r);
      if (d3 > 0) offer_ordered(Tok::kKmodVers, r + d3 - p);
    }
  }

  if (d1 > 0) offer_ordered(Tok::kIpAddr, Ipv4Length(in_, p));
  if (TwoColonsAhead(in_, p)) offer_ordered(Tok::kIpAddr6, Matcher(in_, p).Ipv6());

  if (d1 > 0) {
    size_t len = std::min<size_t>(d1, 8);
    unsigned char s = at(p + len);
    if (has(p + len) && (s == 'M' || s == 'K' || s == 'G' || s == 's')) ++len;
    offer_ordered(Tok::kInteger, len);
  }

  size_t dq_len = 0, long_dq_len = 0, err_dq_len = 0;
  if (c == '"') {
    size_t q = p + 1;
    size_t units = 0;
    for (;;) {
      if (units == kMaxQuotedUnits) {
        if (has(q) && at(q) == '"') {
          dq_len = q + 1 - p;
        }
        if (has(q) && at(q) != '\n') long_dq_len = q + 1 - p;
        if (has(q) && (at(q) == '\\' || at(q) == '\n')) err_dq_len = q + 1 - p;
        break;
      }
      if (!has(q)) break;
      unsigned char x = at(q);
      if (x == '"') {
        dq_len = q + 1 - p;
        break;
      }
      if (x == '\n') {
        err_dq_len = q + 1 - p;
        break;
      }
      if (x == '\\') {
        err_dq_len = q + 1 - p;
        if (!has(q + 1) || at(q + 1) == '\n') break;
        q += 2;
      } else {
        q += 1;
      }
      ++units;
    }
  }
  offer_ordered(Tok::kString, dq_len);  // quoted string
  if (word >= 1) offer_ordered(Tok::kString, std::min(word, kMaxWord));
  if (word > kMaxWord) offer_ordered(Tok::kErrStringTooLong, kMaxWord + 1);
  offer_ordered(Tok::kErrDqstringTooLong, long_dq_len);
  offer_ordered(Tok::kErrDqstring, err_dq_len);

  std::string_view raw = in_.substr(p, best_len);
  tok.kind = best;
  if (best == Tok::kString && c == '"') {
    tok.text = Unescape(raw);
  } else {
    tok.text = CutAtNul(raw);
  }
  pos_ = p + best_len;
  return tok;
}

}  // namespace drbd::cfg
