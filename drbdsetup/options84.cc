// SPDX-License-Identifier: GPL-2.0-or-later
// The option rows of lib/spec/options84.def bound to 8.4 genl fields, and
// their value conversions (drbd-utils v84 config_flags.c semantics).
#include "drbdsetup/options84.h"

#include <fmt/format.h>
#include <strings.h>

#include <cstdlib>

#include "lib/genl/family84.h"

namespace drbd::setup::o84 {
namespace {

std::vector<Opt> Build() {
  std::vector<Opt> v;
#define DRBD84_OPT(ctx, name, field, kind, scale, unit) \
  v.push_back(Opt{ctx, name, genl::v84::FindAttr(#field), Kind::kind, scale, unit});
#include "lib/spec/options84.def"
#undef DRBD84_OPT
  return v;
}

uint64_t ScaleBytes(char scale) {
  switch (scale) {
    case 'k':
      return 1024;
    case 's':
      return 512;
    default:
      return 1;
  }
}

// drbd-utils m_strtoll: a number with an optional unit suffix, converted
// to the field's scale.
bool ParseNumber(const Opt& o, std::string_view v, int64_t& out) {
  if (v.empty()) return false;
  size_t i = 0;
  bool neg = v[0] == '-';
  if (neg) ++i;
  size_t start = i;
  uint64_t n = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9')
    n = n * 10 + static_cast<uint64_t>(v[i++] - '0');
  if (i == start) return false;
  if (i < v.size()) {
    if (i + 1 != v.size()) return false;
    uint64_t mult = 0;
    switch (v[i]) {
      case 's':
        mult = 512;
        break;
      case 'k':
      case 'K':
        mult = 1024;
        break;
      case 'm':
      case 'M':
        mult = 1024 * 1024;
        break;
      case 'g':
      case 'G':
        mult = 1024ull * 1024 * 1024;
        break;
      default:
        return false;
    }
    n = n * mult / ScaleBytes(o.scale);
  }
  out = neg ? -static_cast<int64_t>(n) : static_cast<int64_t>(n);
  return true;
}

}  // namespace

std::span<const Opt> All() {
  static const std::vector<Opt> rows = Build();
  return rows;
}

const Opt* Find(uint16_t ctx_mask, std::string_view name) {
  for (const Opt& o : All())
    if ((o.ctx & ctx_mask) && o.name == name) return &o;
  return nullptr;
}

std::span<const std::string_view> EnumWords(const Opt& o) {
  static constexpr std::string_view kIoError[] = {"pass_on", "call-local-io-error", "detach"};
  static constexpr std::string_view kFencing[] = {"dont-care", "resource-only",
                                                  "resource-and-stonith"};
  static constexpr std::string_view kNoData[] = {"io-error", "suspend-io"};
  static constexpr std::string_view kSb0[] = {
      "disconnect",           "discard-younger-primary", "discard-older-primary",
      "discard-zero-changes", "discard-least-changes",   "discard-local",
      "discard-remote"};
  static constexpr std::string_view kSb1[] = {"disconnect",
                                              "",
                                              "",
                                              "",
                                              "",
                                              "",
                                              "",
                                              "consensus",
                                              "discard-secondary",
                                              "call-pri-lost-after-sb",
                                              "violently-as0p"};
  static constexpr std::string_view kSb2[] = {
      "disconnect", "", "", "", "", "", "", "", "", "call-pri-lost-after-sb", "violently-as0p"};
  static constexpr std::string_view kRr[] = {
      "disconnect", "", "", "", "", "", "", "", "", "call-pri-lost", "violently"};
  static constexpr std::string_view kCong[] = {"block", "pull-ahead", "disconnect"};
  static constexpr std::string_view kReadBal[] = {
      "prefer-local",          "prefer-remote", "round-robin",  "least-pending",
      "when-congested-remote", "32K-striping",  "64K-striping", "128K-striping",
      "256K-striping",         "512K-striping", "1M-striping"};
  static constexpr std::string_view kProto[] = {"", "A", "B", "C"};
  std::string_view f = o.field->name;
  if (f == "on_io_error") return kIoError;
  if (f == "fencing") return kFencing;
  if (f == "on_no_data") return kNoData;
  if (f == "after_sb_0p") return kSb0;
  if (f == "after_sb_1p") return kSb1;
  if (f == "after_sb_2p") return kSb2;
  if (f == "rr_conflict") return kRr;
  if (f == "on_congestion") return kCong;
  if (f == "read_balancing") return kReadBal;
  if (f == "wire_protocol") return kProto;
  return {};
}

bool Put(genl::Tla& t, const Opt& o, std::string_view v, bool bare) {
  genl::AttrKey k = o.field->key();
  switch (o.kind) {
    case Kind::kFlag:
    case Kind::kBoolean:
      if ((bare && o.kind == Kind::kFlag) || v == "yes")
        t.PutFlag(k, true);
      else if (v == "no")
        t.PutFlag(k, false);
      else
        return false;
      return true;
    case Kind::kString:
      if (bare) return false;
      t.PutStr(k, v);
      return true;
    case Kind::kAddress:
      return false;  // TODO(#7): alternate addresses
    case Kind::kEnum:
    case Kind::kEnumNoCase: {
      if (bare) return false;
      std::span<const std::string_view> words = EnumWords(o);
      for (size_t i = 0; i < words.size(); ++i) {
        if (words[i].empty()) continue;
        bool eq = o.kind == Kind::kEnum ? words[i] == v
                                        : words[i].size() == v.size() &&
                                              strncasecmp(words[i].data(), v.data(), v.size()) == 0;
        if (eq) {
          t.PutNum(k, i);
          return true;
        }
      }
      return false;
    }
    case Kind::kNumeric: {
      if (bare) return false;
      int64_t n = 0;
      if (!ParseNumber(o, v, n)) return false;
      t.PutNum(k, static_cast<uint64_t>(n));
      return true;
    }
  }
  return false;
}

std::string Text(const Opt& o, const genl::Attr& a) {
  switch (o.kind) {
    case Kind::kFlag:
    case Kind::kBoolean:
      return a.num ? "yes" : "no";
    case Kind::kString:
      return fmt::format("\"{}\"", a.bytes);
    case Kind::kAddress:
      return "";
    case Kind::kEnum:
    case Kind::kEnumNoCase: {
      std::span<const std::string_view> words = EnumWords(o);
      return a.num < words.size() ? std::string(words[a.num]) : std::string("?");
    }
    case Kind::kNumeric: {
      std::string s =
          o.field->type == genl::AttrType::kS32 ? std::to_string(a.s32()) : std::to_string(a.num);
      if (o.scale != '1') s += o.scale;
      return s;
    }
  }
  return "";
}

bool IsDefault(const Opt& o, const genl::Attr& a) {
  switch (o.kind) {
    case Kind::kString:
      return a.bytes.empty();
    case Kind::kAddress:
      return a.bytes.empty();
    default:
      if (o.field->type == genl::AttrType::kS32) return a.s32() == o.field->def;
      return static_cast<int64_t>(a.num) == o.field->def;
  }
}

}  // namespace drbd::setup::o84
