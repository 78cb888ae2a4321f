// SPDX-License-Identifier: GPL-2.0-or-later
// The option table (lib/spec/options.def) expanded into constexpr arrays, and
// the value semantics drbd-utils 9.22 gives each option type: number parsing
// with unit suffixes, range checks, enum lookup, default and equality tests,
// and the error texts the config parser prints for refused values.
#include "lib/base/strings.h"
#include "lib/config/options.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <vector>

namespace drbd::cfg {
namespace {

using enum OptType;
using enum OptContext;

template <typename... C>
constexpr uint64_t Ctx(C... c) {
  return ((uint64_t{1} << static_cast<int>(c)) | ... | uint64_t{0});
}

// Row flags (the `flags` column of options.def).
constexpr unsigned kSigned = 1u << 0;
constexpr unsigned kQuote = 1u << 1;
constexpr unsigned kOptArg = 1u << 2;
constexpr unsigned kPostparse = 1u << 3;
constexpr unsigned kClamp = 1u << 4;
constexpr unsigned kNoDefault = 1u << 5;
constexpr unsigned kAfter922 = 1u << 6;

// ---- enum maps -------------------------------------------------------------

struct EnumRow {
  std::string_view map;
  EnumValue value;
};

constexpr EnumRow kEnumRows[] = {
#define DRBD_OPTION_ENUM(map, word, value) {#map, {word, value}},
#define DRBD_OPTION(...)
#include "lib/spec/options.def"
#undef DRBD_OPTION
#undef DRBD_OPTION_ENUM
};

constexpr EnumValue kEnumValues[] = {
#define DRBD_OPTION_ENUM(map, word, value) {word, value},
#define DRBD_OPTION(...)
#include "lib/spec/options.def"
#undef DRBD_OPTION
#undef DRBD_OPTION_ENUM
};

constexpr size_t kNumEnumRows = std::size(kEnumRows);

constexpr size_t EnumBegin(std::string_view map) {
  for (size_t i = 0; i < kNumEnumRows; ++i) {
    if (kEnumRows[i].map == map) return i;
  }
  return kNumEnumRows;
}

constexpr size_t EnumCount(std::string_view map) {
  size_t n = 0;
  for (size_t i = EnumBegin(map); i < kNumEnumRows && kEnumRows[i].map == map; ++i) ++n;
  return n;
}

constexpr std::span<const EnumValue> EnumSpan(std::string_view map) {
  if (map.empty()) return {};
  return {kEnumValues + EnumBegin(map), EnumCount(map)};
}

// Every map's rows are contiguous and ascending by value; no map is empty.
constexpr bool EnumMapsWellFormed() {
  for (size_t i = 0; i < kNumEnumRows; ++i) {
    const size_t begin = EnumBegin(kEnumRows[i].map);
    if (i >= begin + EnumCount(kEnumRows[i].map)) return false;  // not contiguous
    if (i > begin && kEnumRows[i - 1].value.value >= kEnumRows[i].value.value) return false;
  }
  return true;
}
static_assert(EnumMapsWellFormed(), "options.def: enum maps must be contiguous and ascending");

// ---- option rows -------------------------------------------------------------

constexpr OptionDef MakeRow(std::string_view name, uint64_t contexts, OptType type, int64_t min,
                            int64_t max, int64_t def, char scale, std::string_view map,
                            unsigned max_len, unsigned flags, std::string_view unit, int genl_attr,
                            std::string_view doc) {
  return OptionDef{
      .name = name,
      .type = type,
      .min = min,
      .max = max,
      .def = def,
      .is_signed = (flags & kSigned) != 0,
      .scale = scale,
      .enums = EnumSpan(map),
      .max_len = max_len,
      .bool_def = (type == kBoolean || type == kFlag) && def != 0,
      .has_default = (flags & kNoDefault) == 0,
      .needs_double_quoting = (flags & kQuote) != 0,
      .argument_is_optional = (flags & kOptArg) != 0,
      .checked_in_postparse = (flags & kPostparse) != 0,
      .implicit_clamp = (flags & kClamp) != 0,
      .after_922 = (flags & kAfter922) != 0,
      .unit = unit,
      .genl_attr = genl_attr,
      .doc = doc,
      .contexts = contexts,
  };
}

constexpr OptionDef kOptions[] = {
#define DRBD_OPTION_ENUM(map, word, value)
#define DRBD_OPTION(name, contexts, type, min, max, def, scale, map, max_len, flags, unit, genl, \
                    doc)                                                                         \
  MakeRow(name, contexts, type, min, max, def, scale, map, max_len, flags, unit, genl, doc),
#include "lib/spec/options.def"
#undef DRBD_OPTION
#undef DRBD_OPTION_ENUM
};

constexpr size_t kNumOptions = std::size(kOptions);

// Whether v lies in [min, max], signed for signed rows and unsigned (as
// drbd-utils compares) otherwise.
constexpr bool InRange(const OptionDef& d, int64_t v) {
  if (d.is_signed) return d.min <= v && v <= d.max;
  return static_cast<uint64_t>(d.min) <= static_cast<uint64_t>(v) &&
         static_cast<uint64_t>(v) <= static_cast<uint64_t>(d.max);
}

constexpr bool EnumHasValue(const OptionDef& d, int64_t v) {
  for (const EnumValue& e : d.enums) {
    if (e.value == v) return true;
  }
  return false;
}

constexpr bool RowsWellFormed() {
  for (const OptionDef& d : kOptions) {
    if (d.contexts == 0) return false;
    switch (d.type) {
      case kNumeric:
        if (!InRange(d, d.def)) return false;
        if (d.scale != '1' && d.scale != 'k' && d.scale != 's') return false;
        break;
      case kEnum:
      case kEnumNoCase:
        if (d.enums.empty() || !EnumHasValue(d, d.def)) return false;
        break;
      case kEnumNum:
        if (d.enums.empty()) return false;
        if (!EnumHasValue(d, d.def) && !(d.min <= d.def && d.def <= d.max)) return false;
        break;
      case kBoolean:
      case kFlag:
        if (d.def != 0 && d.def != 1) return false;
        break;
      case kString:
      case kAny:
        break;
    }
    if ((d.type == kEnum || d.type == kEnumNoCase || d.type == kEnumNum) != !d.enums.empty()) {
      return false;
    }
  }
  return true;
}
static_assert(RowsWellFormed(), "options.def: a default is out of range or a row is malformed");

constexpr bool NamesUniquePerContext() {
  for (size_t i = 0; i < kNumOptions; ++i) {
    for (size_t j = i + 1; j < kNumOptions; ++j) {
      if (kOptions[i].name == kOptions[j].name && (kOptions[i].contexts & kOptions[j].contexts)) {
        return false;
      }
    }
  }
  return true;
}
static_assert(NamesUniquePerContext(), "options.def: a name appears twice in one context");

// ---- contexts ----------------------------------------------------------------

constexpr size_t CountIn(OptContext c) {
  size_t n = 0;
  for (const OptionDef& d : kOptions) n += InContext(d, c) ? 1 : 0;
  return n;
}

template <OptContext C>
constexpr auto MakeFields() {
  std::array<const OptionDef*, CountIn(C)> fields{};
  size_t j = 0;
  for (size_t i = 0; i < kNumOptions; ++i) {
    if (InContext(kOptions[i], C)) fields[j++] = &kOptions[i];
  }
  return fields;
}

#define DRBD_CONTEXT_FIELDS(id) constexpr auto k##id##Fields = MakeFields<OptContext::k##id>();
DRBD_CONTEXT_FIELDS(ResourceOptions)
DRBD_CONTEXT_FIELDS(DiskOptions)
DRBD_CONTEXT_FIELDS(Attach)
DRBD_CONTEXT_FIELDS(NetOptions)
DRBD_CONTEXT_FIELDS(ShowNetOptions)
DRBD_CONTEXT_FIELDS(PeerDeviceOptions)
DRBD_CONTEXT_FIELDS(NewMinor)
DRBD_CONTEXT_FIELDS(Startup)
DRBD_CONTEXT_FIELDS(Handlers)
DRBD_CONTEXT_FIELDS(Proxy)
DRBD_CONTEXT_FIELDS(Path)
DRBD_CONTEXT_FIELDS(Connect)
DRBD_CONTEXT_FIELDS(Disconnect)
DRBD_CONTEXT_FIELDS(Detach)
DRBD_CONTEXT_FIELDS(Primary)
DRBD_CONTEXT_FIELDS(Secondary)
DRBD_CONTEXT_FIELDS(Resize)
DRBD_CONTEXT_FIELDS(NewCurrentUuid)
DRBD_CONTEXT_FIELDS(Verify)
DRBD_CONTEXT_FIELDS(Invalidate)
DRBD_CONTEXT_FIELDS(InvalidatePeer)
DRBD_CONTEXT_FIELDS(CreateMd)
DRBD_CONTEXT_FIELDS(Adjust)
DRBD_CONTEXT_FIELDS(Wildcard)
DRBD_CONTEXT_FIELDS(NewPeer)
DRBD_CONTEXT_FIELDS(Forceable)
DRBD_CONTEXT_FIELDS(InvalidateAdm)
DRBD_CONTEXT_FIELDS(Global)
#undef DRBD_CONTEXT_FIELDS

// Indexed by OptContext.
const ContextDef kContexts[] = {
    {kResourceOptions, "resource-options", kResourceOptionsFields},
    {kDiskOptions, "disk-options", kDiskOptionsFields},
    {kAttach, "attach", kAttachFields},
    {kNetOptions, "net-options", kNetOptionsFields},
    {kShowNetOptions, "show-net-options", kShowNetOptionsFields},
    {kPeerDeviceOptions, "peer-device-options", kPeerDeviceOptionsFields},
    {kNewMinor, "new-minor", kNewMinorFields},
    {kStartup, "startup", kStartupFields},
    {kHandlers, "handlers", kHandlersFields},
    {kProxy, "proxy", kProxyFields},
    {kPath, "new-path", kPathFields},
    {kConnect, "connect", kConnectFields},
    {kDisconnect, "disconnect", kDisconnectFields},
    {kDetach, "detach", kDetachFields},
    {kPrimary, "primary", kPrimaryFields},
    {kSecondary, "secondary", kSecondaryFields},
    {kResize, "resize", kResizeFields},
    {kNewCurrentUuid, "new-current-uuid", kNewCurrentUuidFields},
    {kVerify, "verify", kVerifyFields},
    {kInvalidate, "invalidate", kInvalidateFields},
    {kInvalidatePeer, "invalidate-remote", kInvalidatePeerFields},
    {kCreateMd, "create-md", kCreateMdFields},
    {kAdjust, "adjust", kAdjustFields},
    {kWildcard, "wildcard", kWildcardFields},
    {kNewPeer, "new-peer", kNewPeerFields},
    {kForceable, "forceable", kForceableFields},
    {kInvalidateAdm, "drbdadm-invalidate", kInvalidateAdmFields},
    {kGlobal, "global", kGlobalFields},
};
static_assert(std::size(kContexts) == kNumOptContexts);

// ---- value semantics ----------------------------------------------------------

// C string semantics: the value ends at an embedded NUL.
std::string_view CStr(std::string_view s) {
  const size_t nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}

bool IsCSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

}  // namespace

StrtollErr NewStrtoll(std::string_view text, char def_unit, uint64_t* out) {
  int shift;
  switch (def_unit) {
    case 0:
    case 1:
    case '1':
      shift = 0;
      break;
    case 'K':
    case 'k':
      shift = -10;
      break;
    case 's':
      shift = -9;
      break;
    default:
      return StrtollErr::kDefaultUnit;
  }
  std::string_view s = CStr(text);
  if (s.empty()) return StrtollErr::kMissingNumber;

  size_t i = 0;
  while (i < s.size() && IsCSpace(s[i])) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  const size_t digits_begin = i;
  uint64_t v = 0;
  bool overflow = false;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    const unsigned d = static_cast<unsigned>(s[i] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) overflow = true;
    v = v * 10 + d;
  }
  if (i == digits_begin) return StrtollErr::kInvalidNumber;  // sscanf matched nothing
  if (overflow) {
    v = std::numeric_limits<uint64_t>::max();
  } else if (negative) {
    v = uint64_t{0} - v;
  }
  *out = v;
  if (i == s.size()) return StrtollErr::kOk;
  if (s.size() - i > 1) return StrtollErr::kInvalidNumber;  // "%c%c" matched three items

  switch (s[i]) {
    case 'K':
    case 'k':
      shift += 10;
      break;
    case 'M':
    case 'm':
      shift += 20;
      break;
    case 'G':
    case 'g':
      shift += 30;
      break;
    case 's':
      shift += 9;
      break;
    default:
      return StrtollErr::kInvalidUnit;
  }
  if (shift < 0) {
    // Round up to whole default units (e.g. 1s with default unit k = 1).
    const int down = -shift;
    const uint64_t add = (uint64_t{1} << down) - 1;
    *out = (v + add) >> down;  // wraps like the C code for v near 2^64
    return StrtollErr::kOk;
  }
  if (v > (~uint64_t{0} >> shift)) return StrtollErr::kOutOfRange;
  *out = v << shift;
  return StrtollErr::kOk;
}

namespace {

// enum_string_to_int(): the kernel number of `word`, or nullopt.
std::optional<int> EnumLookup(const OptionDef& opt, std::string_view word, bool nocase) {
  const std::string_view w = CStr(word);
  for (const EnumValue& e : opt.enums) {
    if (nocase ? std::equal(w.begin(), w.end(), e.name.begin(), e.name.end(),
                            [](char a, char b) {
                              return std::tolower(static_cast<unsigned char>(a)) ==
                                     std::tolower(static_cast<unsigned char>(b));
                            })
               : w == e.name) {
      return e.value;
    }
  }
  return std::nullopt;
}

// boolean_string_to_int(): 1 yes (or no value), 0 no, -1 otherwise.
int BoolValue(std::string_view value) {
  const std::string_view v = CStr(value);
  if (value.empty() || v == "yes") return 1;
  if (v == "no") return 0;
  return -1;
}

// enum_num_to_int(): a symbol's number, or the number (truncated to int as the
// C code does), or nullopt for text that is neither.
struct EnumNumValue {
  bool symbolic = false;
  int value = -1;
};
std::optional<EnumNumValue> EnumNumLookup(const OptionDef& opt, std::string_view text) {
  const std::string_view t = CStr(text);
  for (const EnumValue& e : opt.enums) {
    if (t == e.name) return EnumNumValue{true, e.value};
  }
  uint64_t l = 0;
  if (NewStrtoll(t, 1, &l) != StrtollErr::kOk) return std::nullopt;
  return EnumNumValue{false, static_cast<int32_t>(static_cast<uint32_t>(l))};
}

// m_strtoll() as drbd-utils' is_default/is_equal use it (signed view).
std::optional<int64_t> NumericValue(const OptionDef& opt, std::string_view text) {
  uint64_t l = 0;
  if (NewStrtoll(text, opt.scale, &l) != StrtollErr::kOk) return std::nullopt;
  return static_cast<int64_t>(l);
}

bool EqualNoCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string ScaleSuffix(char scale) { return scale == '1' ? "" : std::string(1, scale); }

std::string_view TypeWord(OptType t) {
  switch (t) {
    case kBoolean:
      return "yes or no";
    case kFlag:
      return "yes or no";
    case kNumeric:
      return "a number";
    case kEnum:
    case kEnumNoCase:
      return "one of the listed words";
    case kEnumNum:
      return "a word or a number";
    case kString:
      return "a string";
    case kAny:
      return "a value";
  }
  return "a value";
}


}  // namespace

const ContextDef& Context(OptContext id) { return kContexts[static_cast<int>(id)]; }

const ContextDef* ContextByName(std::string_view name) {
  for (const ContextDef& c : kContexts) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::span<const OptionDef> AllOptions() { return kOptions; }

const OptionDef* FindField(const ContextDef& ctx, std::string_view name, bool* no_prefix) {
  // drbd-utils strips a "no-" prefix before looking up any option, not only
  // booleans; the caller decides what the prefix means.
  bool stripped = false;
  if (name.starts_with("no-")) {
    name.remove_prefix(3);
    stripped = true;
  }
  if (no_prefix != nullptr) *no_prefix = stripped;
  for (const OptionDef* f : ctx.fields) {
    if (f->name == name) return f;
  }
  return nullptr;
}

CheckCode CheckValue(const OptionDef& opt, std::string_view value) {
  switch (opt.type) {
    case kEnum:
      return EnumLookup(opt, value, false) ? CheckCode::kOk : CheckCode::kNotAnEnum;
    case kEnumNoCase:
      return EnumLookup(opt, value, true) ? CheckCode::kOk : CheckCode::kNotAnEnum;
    case kBoolean:
    case kFlag: {
      // A value given as text is never "absent": an empty string is not a bool.
      const std::string_view v = CStr(value);
      return (v == "yes" || v == "no") ? CheckCode::kOk : CheckCode::kNotABool;
    }
    case kNumeric: {
      uint64_t l = 0;
      if (NewStrtoll(value, opt.scale, &l) != StrtollErr::kOk) return CheckCode::kNotANumber;
      // Unsigned comparison, as drbd-utils does (so max -1 = unlimited).
      if (l < static_cast<uint64_t>(opt.min) && !opt.implicit_clamp) return CheckCode::kTooSmall;
      if (l > static_cast<uint64_t>(opt.max) && !opt.implicit_clamp) return CheckCode::kTooBig;
      return CheckCode::kOk;
    }
    case kEnumNum: {
      const std::optional<EnumNumValue> n = EnumNumLookup(opt, value);
      if (!n) return CheckCode::kNotAnEnumNum;
      if (n->symbolic) return CheckCode::kOk;
      if (n->value < opt.min) return CheckCode::kTooSmall;
      if (n->value > opt.max) return CheckCode::kTooBig;
      return CheckCode::kOk;
    }
    case kString:
      if (opt.max_len != 0 && CStr(value).size() >= opt.max_len) return CheckCode::kStrTooLong;
      return CheckCode::kOk;
    case kAny:
      return CheckCode::kOk;
  }
  return CheckCode::kOk;
}

bool IsDefault(const OptionDef& opt, std::string_view value) {
  switch (opt.type) {
    case kEnum:
    case kEnumNoCase: {
      const std::optional<int> n = EnumLookup(opt, value, opt.type == kEnumNoCase);
      return n && *n == opt.def;
    }
    case kBoolean:
    case kFlag:
      return BoolValue(value) == (opt.bool_def ? 1 : 0);
    case kNumeric: {
      const std::optional<int64_t> v = NumericValue(opt, value);
      return v && *v == opt.def;
    }
    case kEnumNum: {
      const std::optional<EnumNumValue> n = EnumNumLookup(opt, value);
      return n && n->value == opt.def;
    }
    case kString:
      return CStr(value).empty();
    case kAny:
      return false;
  }
  return false;
}

bool IsEqual(const OptionDef& opt, std::string_view a, std::string_view b) {
  switch (opt.type) {
    case kEnumNoCase:
      return EqualNoCase(CStr(a), CStr(b));
    case kBoolean:
    case kFlag:
      return BoolValue(a) == BoolValue(b);
    case kNumeric: {
      const std::optional<int64_t> va = NumericValue(opt, a);
      const std::optional<int64_t> vb = NumericValue(opt, b);
      if (va && vb) return *va == *vb;
      return CStr(a) == CStr(b);  // drbd-utils would have exited; compare text
    }
    case kEnum:
    case kEnumNum:
    case kString:
    case kAny:
      return CStr(a) == CStr(b);
  }
  return false;
}

std::optional<uint64_t> ParseScaled(std::string_view text, char scale) {
  uint64_t v = 0;
  if (NewStrtoll(text, scale, &v) != StrtollErr::kOk) return std::nullopt;
  return v;
}

std::string DefaultText(const OptionDef& opt) {
  switch (opt.type) {
    case kEnum:
    case kEnumNoCase:
    case kEnumNum:
      for (const EnumValue& e : opt.enums) {
        if (e.value == opt.def) return std::string(e.name);
      }
      return std::to_string(opt.def);
    case kBoolean:
    case kFlag:
      return opt.bool_def ? "yes" : "no";
    case kNumeric:
      if (opt.is_signed) return std::to_string(opt.def) + ScaleSuffix(opt.scale);
      return std::to_string(static_cast<uint64_t>(opt.def)) + ScaleSuffix(opt.scale);
    case kString:
    case kAny:
      return "";
  }
  return "";
}

std::string AllowedValues(const OptionDef& opt) {
  std::string out;
  for (const EnumValue& e : opt.enums) {
    if (!out.empty()) out += " | ";
    out += e.name;
  }
  return out;
}

std::string FieldNameList(const ContextDef& ctx) {
  std::string out;
  for (const OptionDef* f : ctx.fields) {
    if (!out.empty()) out += " | ";
    out += f->name;
  }
  return out;
}

const OptionDef* SuggestField(const ContextDef& ctx, std::string_view name) {
  const OptionDef* best = nullptr;
  size_t best_dist = std::numeric_limits<size_t>::max();
  for (const OptionDef* f : ctx.fields) {
    const size_t d = EditDistance(name, f->name);
    if (d < best_dist) {
      best_dist = d;
      best = f;
    }
  }
  const size_t limit = std::max<size_t>(1, name.size() / 3);
  return best_dist <= limit ? best : nullptr;
}

std::string CheckErrorCompat(const OptionDef& opt, CheckCode code, std::string_view value,
                             std::string_view file, int line) {
  std::string_view reason;
  switch (code) {
    case CheckCode::kNotAnEnum:
      reason = "not valid";
      break;
    case CheckCode::kNotABool:
      reason = "not 'yes' or 'no'";
      break;
    case CheckCode::kNotANumber:
      reason = "not a number";
      break;
    case CheckCode::kTooSmall:
      reason = "too small";
      break;
    case CheckCode::kTooBig:
      reason = "too big";
      break;
    case CheckCode::kStrTooLong:
      reason = "too long";
      break;
    case CheckCode::kNotAnEnumNum:
      reason = "not valid";
      break;
    case CheckCode::kOk:
      reason = "(null)";
      break;
  }
  const std::string_view v = CStr(value);
  std::string out;
  out += file;
  out += ':';
  out += std::to_string(line);
  out += ": Parse error: while parsing value ('";
  out += v.substr(0, 20);
  if (v.size() > 20) out += "...";
  out += "')\nfor ";
  out += opt.name;
  out += ". Value is ";
  out += reason;
  out += ".\n";
  if (code == CheckCode::kNotAnEnum) {
    out += "Allowed values are: ";
    out += AllowedValues(opt);
    out += '\n';
  } else if (code == CheckCode::kStrTooLong) {
    out += "max len: ";
    out += std::to_string(opt.max_len - 1);
    out += '\n';
  }
  return out;
}

std::string CheckErrorText(const OptionDef& opt, CheckCode code, std::string_view value) {
  const std::string quoted = "'" + std::string(CStr(value)) + "'";
  const std::string unit = opt.unit.empty() ? "" : " (" + std::string(opt.unit) + ")";
  const std::string name(opt.name);
  auto range = [&] {
    if (opt.type == kEnumNum) {
      return AllowedValues(opt) + " or " + std::to_string(opt.min) + ".." + std::to_string(opt.max);
    }
    std::string lo =
        opt.is_signed ? std::to_string(opt.min) : std::to_string(static_cast<uint64_t>(opt.min));
    std::string hi =
        opt.is_signed ? std::to_string(opt.max) : std::to_string(static_cast<uint64_t>(opt.max));
    return lo + ".." + hi + ScaleSuffix(opt.scale);
  };
  switch (code) {
    case CheckCode::kNotAnEnum:
      return "invalid value " + quoted + " for " + name +
             "; expected one of: " + AllowedValues(opt);
    case CheckCode::kNotABool:
      return "invalid value " + quoted + " for " + name + "; expected yes or no";
    case CheckCode::kNotANumber:
      return "invalid value " + quoted + " for " + name +
             "; expected a number with an optional K, M, G or s suffix";
    case CheckCode::kTooSmall:
      return name + " value " + quoted + " is below the range " + range() + unit;
    case CheckCode::kTooBig:
      return name + " value " + quoted + " is above the range " + range() + unit;
    case CheckCode::kStrTooLong:
      return name + " value is " + std::to_string(CStr(value).size()) +
             " characters long; at most " + std::to_string(opt.max_len - 1) + " are allowed";
    case CheckCode::kNotAnEnumNum:
      return "invalid value " + quoted + " for " + name + "; expected " + range();
    case CheckCode::kOk:
      break;
  }
  return "invalid value " + quoted + " for " + name + "; expected " +
         std::string(TypeWord(opt.type));
}

std::optional<std::string> RangeErrorCompat(std::string_view name, std::string_view value,
                                            char scale, uint64_t min, uint64_t max,
                                            std::string_view file, int line) {
  uint64_t r = 0;
  switch (NewStrtoll(value, scale, &r)) {
    case StrtollErr::kOk:
      break;
    case StrtollErr::kDefaultUnit:
      return "unexpected default unit: " + std::to_string(static_cast<int>(scale)) + "\n";
    case StrtollErr::kMissingNumber:
      return std::string("missing number argument\n");
    case StrtollErr::kInvalidNumber:
    case StrtollErr::kInvalidUnit:
      return std::string(CStr(value)) + " is not a valid number\n";
    case StrtollErr::kOutOfRange:
      return std::string(CStr(value)) + ": out of range\n";
  }
  if (min <= r && r <= max) return std::nullopt;
  const std::string unit = ScaleSuffix(scale == 0 || scale == 1 ? '1' : scale);
  std::string out;
  out += file;
  out += ':';
  out += std::to_string(line);
  out += ": ";
  out += name;
  out += ' ';
  out += CStr(value);
  out += " => " + std::to_string(r) + unit + " out of range [" + std::to_string(min) + ".." +
         std::to_string(max) + "]" + unit + ".\n";
  return out;
}

}  // namespace drbd::cfg
