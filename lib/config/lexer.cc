// SPDX-License-Identifier: GPL-2.0-or-later
// Token rules of the drbd.conf language. Each candidate rule is measured at
// the current position; the longest match wins and ties go to the rule that
// drbd-utils lists first (keywords, module version, IPv4, IPv6, number,
// quoted string, word, then the error rules and the catch-all byte).
#include "lib/config/lexer.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

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

bool IsWordChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
         c == '.' || c == '_' || c == '-';
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsHex(unsigned char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Matching helpers work on sets of possible end positions, which keeps the
// IPv6 rule (optional and repeated groups) exact without backtracking.
using Ends = std::vector<size_t>;

void AddEnd(Ends& e, size_t p) {
  if (std::find(e.begin(), e.end(), p) == e.end()) e.push_back(p);
}

class Matcher {
 public:
  explicit Matcher(std::string_view s) : s_(s) {}

  unsigned char At(size_t p) const { return p < s_.size() ? s_[p] : 0; }
  bool Has(size_t p) const { return p < s_.size(); }

  Ends Hex4(const Ends& in) const {
    Ends out;
    for (size_t p : in) {
      for (size_t k = 1; k <= 4 && Has(p + k - 1) && IsHex(At(p + k - 1)); ++k) AddEnd(out, p + k);
    }
    return out;
  }
  Ends Lit(const Ends& in, char c) const {
    Ends out;
    for (size_t p : in) {
      if (Has(p) && At(p) == static_cast<unsigned char>(c)) AddEnd(out, p + 1);
    }
    return out;
  }
  static Ends Union(Ends a, const Ends& b) {
    for (size_t p : b) AddEnd(a, p);
    return a;
  }
  Ends Digits(const Ends& in, size_t lo, size_t hi) const {
    Ends out;
    for (size_t p : in) {
      size_t k = 0;
      while (k < hi && Has(p + k) && IsDigit(At(p + k))) {
        ++k;
        if (k >= lo) AddEnd(out, p + k);
      }
    }
    return out;
  }
  Ends Ipv4(const Ends& in) const {
    Ends e = in;
    for (int i = 0; i < 3; ++i) e = Lit(Digits(e, 1, 3), '.');
    return Digits(e, 1, 3);
  }
  Ends Word(const Ends& in) const {
    Ends out;
    for (size_t p : in) {
      for (size_t k = 1; k <= kMaxWord && Has(p + k - 1) && IsWordChar(At(p + k - 1)); ++k) {
        AddEnd(out, p + k);
      }
    }
    return out;
  }

  // ((H:){0,5}H)? : H? : (H(:H){0,5})? (%WORD)?  |  ::ffff:IPV4
  size_t Ipv6(size_t start) const {
    Ends s{start};
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
    size_t best = 0;
    for (size_t p : e) best = std::max(best, p - start);

    Ends f = Lit(Lit(s, ':'), ':');
    for (int i = 0; i < 4; ++i) {
      Ends n;
      for (size_t p : f) {
        if (Has(p) && (At(p) == 'f' || At(p) == 'F')) AddEnd(n, p + 1);
      }
      f = n;
    }
    f = Ipv4(Lit(f, ':'));
    for (size_t p : f) best = std::max(best, p - start);
    return best;
  }

 private:
  std::string_view s_;
};

size_t RunLength(std::string_view s, size_t p, bool (*pred)(unsigned char)) {
  size_t k = 0;
  while (p + k < s.size() && pred(static_cast<unsigned char>(s[p + k]))) ++k;
  return k;
}

// The IPv4 rule (1-3 digits, '.', three times, then 1-3 digits) from p: the
// length of its longest match, 0 if none. Every group but the last must be
// its whole digit run, since a '.' has to follow it; the last takes up to 3.
size_t Ipv4Length(std::string_view s, size_t p) {
  size_t q = p;
  for (int i = 0; i < 3; ++i) {
    const size_t run = RunLength(s, q, IsDigit);
    if (run < 1 || run > 3 || q + run >= s.size() || s[q + run] != '.') return 0;
    q += run + 1;
  }
  const size_t run = RunLength(s, q, IsDigit);
  if (run < 1) return 0;
  return q + std::min<size_t>(run, 3) - p;
}

// Every IPv6 form has two ':' within its leading run of hex digits and
// colons (`H:...:H`, `::`, `::ffff:`); without them (a lone ':' before a
// port, a word) no IPv6 address starts at p.
bool TwoColonsAhead(std::string_view s, size_t p) {
  int colons = 0;
  for (size_t q = p; q < s.size() && (IsHex(s[q]) || s[q] == ':'); ++q) {
    if (s[q] == ':' && ++colons == 2) return true;
  }
  return false;
}

constexpr size_t kMaxKeyword = 32;
constexpr size_t kMaxSameLength = 16;

constexpr bool KeywordsFitIndex() {
  std::array<size_t, kMaxKeyword + 1> count{};
  for (const Keyword& k : kKeywords) {
    if (k.text.size() > kMaxKeyword || ++count[k.text.size()] > kMaxSameLength) return false;
  }
  return true;
}
static_assert(KeywordsFitIndex(), "raise kMaxKeyword or kMaxSameLength");

// Keywords bucketed by length: a word is compared only with keywords of its
// own length (a handful at most instead of all of them).
class KeywordIndex {
 public:
  KeywordIndex() {
    for (const Keyword& k : kKeywords) {
      Bucket& b = by_len_[k.text.size()];
      b.entries[b.n++] = k;
    }
  }
  Tok Find(std::string_view w) const {
    if (w.empty() || w.size() >= by_len_.size()) return Tok::kEof;
    const Bucket& b = by_len_[w.size()];
    for (size_t i = 0; i < b.n; ++i) {
      const std::string_view k = b.entries[i].text;  // as long as w
      if (k[0] == w[0] && std::memcmp(k.data(), w.data(), w.size()) == 0) return b.entries[i].tok;
    }
    return Tok::kEof;
  }

 private:
  struct Bucket {
    std::array<Keyword, kMaxSameLength> entries{};
    size_t n = 0;
  };
  std::array<Bucket, kMaxKeyword + 1> by_len_{};
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
  Matcher m(in_);
  for (;;) {
    if (pos_ >= in_.size()) {
      return Token{Tok::kEof, "", line_, static_cast<int>(pos_ - line_start_) + 1};
    }
    unsigned char c = in_[pos_];
    if (c == '\n') {
      ++line_;
      ++pos_;
      line_start_ = pos_;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++pos_;
      continue;
    }
    if (c == '#') {
      while (pos_ < in_.size() && in_[pos_] != '\n') ++pos_;
      continue;
    }
    break;
  }

  const size_t p = pos_;
  const unsigned char c = in_[p];
  Token tok;
  tok.line = line_;
  tok.col = static_cast<int>(p - line_start_) + 1;

  // Candidates in rule order; the first longest one wins.
  Tok best = Tok::kElse;
  size_t best_len = 1;
  auto offer = [&](Tok t, size_t len) {
    if (len > best_len || (len == best_len && best == Tok::kElse && t != Tok::kElse)) {
      best = t;
      best_len = len;
    }
  };
  // Keeps rule order for equal lengths: only strictly longer replaces,
  // except that anything replaces the 1-byte catch-all.
  auto offer_ordered = [&](Tok t, size_t len) {
    if (len == 0) return;
    offer(t, len);
  };

  // Fast paths for the two commonest shapes, where the winning rule is known
  // at once. Braces, ';' and brackets start no longer token.
  if (c == '{' || c == '}' || c == ';' || c == '[' || c == ']') {
    tok.kind = static_cast<Tok>(c);
    tok.text.assign(1, static_cast<char>(c));
    pos_ = p + 1;
    return tok;
  }
  const size_t word = RunLength(in_, p, IsWordChar);
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

  if (c == ':') {
    best = Tok::kColon;
    best_len = 1;
  }

  if (word >= 1 && word <= kMaxKeyword) {
    const Tok kw = FindKeyword(in_.substr(p, word));
    if (kw != Tok::kEof) offer_ordered(kw, word);
  }

  // Kernel module version: digits . digits . digits
  {
    size_t d1 = RunLength(in_, p, [](unsigned char x) { return IsDigit(x); });
    if (d1 > 0 && m.At(p + d1) == '.') {
      size_t q = p + d1 + 1;
      size_t d2 = RunLength(in_, q, [](unsigned char x) { return IsDigit(x); });
      if (d2 > 0 && m.At(q + d2) == '.') {
        size_t r = q + d2 + 1;
        size_t d3 = RunLength(in_, r, [](unsigned char x) { return IsDigit(x); });
        if (d3 > 0) offer_ordered(Tok::kKmodVers, r + d3 - p);
      }
    }
  }

  if (IsDigit(c)) offer_ordered(Tok::kIpAddr, Ipv4Length(in_, p));
  if (TwoColonsAhead(in_, p)) offer_ordered(Tok::kIpAddr6, m.Ipv6(p));

  {
    size_t d = RunLength(in_, p, [](unsigned char x) { return IsDigit(x); });
    if (d > 0) {
      size_t len = std::min<size_t>(d, 8);
      unsigned char s = m.At(p + len);
      if (m.Has(p + len) && (s == 'M' || s == 'K' || s == 'G' || s == 's')) ++len;
      offer_ordered(Tok::kInteger, len);
    }
  }

  size_t dq_len = 0, long_dq_len = 0, err_dq_len = 0;
  if (c == '"') {
    size_t q = p + 1;
    size_t units = 0;
    for (;;) {
      if (units == kMaxQuotedUnits) {
        if (m.Has(q) && m.At(q) == '"') {
          dq_len = q + 1 - p;
        }
        if (m.Has(q) && m.At(q) != '\n') long_dq_len = q + 1 - p;
        if (m.Has(q) && (m.At(q) == '\\' || m.At(q) == '\n')) err_dq_len = q + 1 - p;
        break;
      }
      if (!m.Has(q)) break;
      unsigned char x = m.At(q);
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
        if (!m.Has(q + 1) || m.At(q + 1) == '\n') break;
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
