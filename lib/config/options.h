// SPDX-License-Identifier: GPL-2.0-or-later
// The option vocabulary: every drbd.conf / drbdsetup option with its value
// type, range, default, scale and unit, grouped into the contexts (sets of
// options one command or config section accepts) drbd-utils 9.22 uses.
//
// The rows live in lib/spec/options.def (one row per option, X-macro); this
// header is the only view of them. Parsing, value checking, `dump`,
// `adjust` comparisons, drbdsetup's command-line options (a later issue) and
// docs/reference/config.md are all derived from the same rows.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace drbd::cfg {

enum class OptType {
  kBoolean,     // yes|no; `name;` = yes, `no-name;` = no
  kFlag,        // present or absent; no value (e.g. disable-ip-verification)
  kNumeric,     // integer with optional K/M/G/s suffix, scaled
  kEnum,        // one of a fixed list, case-sensitive
  kEnumNoCase,  // one of a fixed list, case-insensitive (protocol)
  kEnumNum,     // one of a list of words or a number in range (quorum)
  kString,      // free text up to max_len
  kAny,         // drbdadm-only pass-through option: value not checked (create-md's max-peers)
};

// Why a value was refused.
enum class CheckCode {
  kOk,
  kNotAnEnum,
  kNotABool,
  kNotANumber,
  kTooSmall,
  kTooBig,
  kStrTooLong,
  kNotAnEnumNum,
};

// The option contexts, named after the drbdsetup command (or config
// section) that takes them. Values are stable identifiers, not ABI.
enum class OptContext {
  kResourceOptions,    // new-resource / resource-options; `options { }`
  kDiskOptions,        // disk-options; runtime-changeable disk options
  kAttach,             // attach: disk-options + size etc.
  kNetOptions,         // net-options (no `transport`)
  kShowNetOptions,     // `net { }` in drbd.conf and `drbdsetup show`: transport + net-options
  kPeerDeviceOptions,  // peer-device-options; peer-device part of `disk { }`
  kNewMinor,           // new-minor (device options)
  kStartup,            // `startup { }`
  kHandlers,           // `handlers { }`
  kProxy,              // `proxy { }`
  kPath,               // new-path
  kConnect,            // connect
  kDisconnect,
  kDetach,
  kPrimary,
  kSecondary,
  kResize,
  kNewCurrentUuid,
  kVerify,
  kInvalidate,
  kInvalidatePeer,
  kCreateMd,           // drbdmeta create-md options drbdadm passes
  kAdjust,
  kWildcard,
  kNewPeer,            // new-peer: transport (max 63 chars) + net-options
  kForceable,          // commands that only take --force (drbdadm forceable_ctx)
  kInvalidateAdm,      // drbdadm invalidate: force + invalidate
  kGlobal,             // `global { }` (parsed by keyword, listed for docs/checks)
};
inline constexpr int kNumOptContexts = static_cast<int>(OptContext::kGlobal) + 1;

struct EnumValue {
  std::string_view name;
  int value;
};

// One option row.
struct OptionDef {
  std::string_view name;          // "ping-int"
  OptType type;
  // Numeric
  int64_t min = 0;
  int64_t max = 0;
  int64_t def = 0;
  bool is_signed = false;
  char scale = '1';               // '1' plain, 'k' KiB, 's' 512-byte sectors, 'M' MiB
  // Enum / EnumNum: allowed words (in map order) and default index / value
  std::span<const EnumValue> enums;
  // String
  unsigned max_len = 0;
  // Boolean default
  bool bool_def = false;
  bool has_default = true;
  bool needs_double_quoting = false;
  bool argument_is_optional = false;
  bool checked_in_postparse = false;  // resync-after: checked/converted later
  bool implicit_clamp = false;        // al-extents: out of range passes
  // Not in drbd-utils 9.22: added by a later drbd-utils (whose behaviour we
  // follow, see docs/compat.md). 9.22 rejects a config using it.
  bool after_922 = false;
  std::string_view unit;              // "1/10 seconds", "bytes", ...
  int genl_attr = -1;                 // genl attribute number, -1 if none
  std::string_view doc;               // one line
  uint64_t contexts = 0;              // bit (1 << OptContext) per context holding this row
};

struct ContextDef {
  OptContext id;
  std::string_view name;  // "net-options"
  std::span<const OptionDef* const> fields;
};

const ContextDef& Context(OptContext id);

// Looks up `name` in ctx. A `no-` prefix is stripped and reported through
// *no_prefix (so `no-tcp-cork` finds tcp-cork). As in drbd-utils this happens
// for every option, not only booleans (`no-ping-int 5;` is ping-int).
// Returns nullptr if unknown.
const OptionDef* FindField(const ContextDef& ctx, std::string_view name,
                           bool* no_prefix = nullptr);

// Validates value text for this option, as drbd-utils 9.22 does. Numbers
// are compared unsigned against [min, max] (so "-5" is kTooBig), except that
// implicit_clamp rows accept any number; quorum-style options take a word or
// a number (truncated to 32 bits) in range; booleans take exactly yes|no;
// kAny accepts anything. Rows with checked_in_postparse are not meant to be
// checked here (resync-after "-1" would be kTooBig).
CheckCode CheckValue(const OptionDef& opt, std::string_view value);

// Whether `value` equals the option's default (after unit conversion). An
// empty value counts as "yes" for booleans/flags (option given without a
// value); a number that does not parse is never the default.
bool IsDefault(const OptionDef& opt, std::string_view value);

// Whether two value texts mean the same (8k == 8192, protocol c == C,
// "" == yes for booleans). Enums, quorum-style options and strings compare
// text exactly (quorum "off" != "0"), as drbd-utils does.
bool IsEqual(const OptionDef& opt, std::string_view a, std::string_view b);

// Parses a number with optional K/M/G/s suffix relative to `scale`
// (drbd-utils new_strtoll semantics). nullopt if not a number.
std::optional<uint64_t> ParseScaled(std::string_view text, char scale);

// Why NewStrtoll refused a value.
enum class StrtollErr {
  kOk,
  kDefaultUnit,    // def_unit is not 1, k or s
  kMissingNumber,  // empty text
  kInvalidNumber,  // not a number, or trailing garbage
  kInvalidUnit,    // one trailing letter that is not K/M/G/s
  kOutOfRange      // the scaled value does not fit in 64 bits
};

// drbd-utils new_strtoll(): sscanf("%llu%c%c") then a one-letter unit
// (K/M/G/s) relative to the default unit. The number follows strtoull:
// leading white space, an optional sign (a minus negates modulo 2^64),
// saturation at 2^64-1 on overflow.
StrtollErr NewStrtoll(std::string_view text, char def_unit, uint64_t* out);

// The default value as drbdsetup prints it (e.g. "C", "yes", "1237").
std::string DefaultText(const OptionDef& opt);

// All rows, in table order (for docs generation and table checks).
std::span<const OptionDef> AllOptions();

// Whether the row belongs to context c.
constexpr bool InContext(const OptionDef& opt, OptContext c) {
  return (opt.contexts >> static_cast<int>(c)) & 1;
}

// The context named like the drbdsetup command ("net-options"); nullptr if none.
const ContextDef* ContextByName(std::string_view name);

// The words of an enum option joined by " | " in kernel-number order
// ("disconnect | consensus | ..."), as drbd-utils lists them after
// "Allowed values are: ". Empty for non-enum options.
std::string AllowedValues(const OptionDef& opt);

// All field names of ctx joined by " | ", in context order: the list
// drbd-utils prints as "'a | b | c' expected" for an unknown option.
std::string FieldNameList(const ContextDef& ctx);

// The field of ctx whose name is closest to `name` (edit distance, at most
// about a third of the length), for "did you mean"; nullptr if none is close.
const OptionDef* SuggestField(const ContextDef& ctx, std::string_view name);

// drbd-utils' text for a value CheckValue refused (pe_field), complete with
// its "FILE:LINE: " prefix and trailing newline(s), e.g.
//   "r.res:2: Parse error: while parsing value ('1000')\nfor ping-timeout. Value is too big.\n"
// followed by "Allowed values are: a | b\n" for enums or "max len: 63\n" for
// strings. REQUIRES: code != kOk.
std::string CheckErrorCompat(const OptionDef& opt, CheckCode code, std::string_view value,
                             std::string_view file, int line);

// Our GNU-style text for the same refusal (no position prefix), e.g.
//   "ping-timeout value '1000' is above the range 1..300 (1/10 seconds)".
std::string CheckErrorText(const OptionDef& opt, CheckCode code, std::string_view value);

// drbd-utils' m_strtoll_range() message for numbers outside [min, max]
// (node-id, port, minor-count, dialog-refresh, cmd-timeout-*), e.g.
//   "r.res:3: node-id 99 => 99 out of range [0..32].\n"
// nullopt when value parses and lies in range. A value that is not a number
// at all gives drbd-utils' m_strtoll() text ("X is not a valid number\n").
std::optional<std::string> RangeErrorCompat(std::string_view name, std::string_view value,
                                            char scale, uint64_t min, uint64_t max,
                                            std::string_view file, int line);

}  // namespace drbd::cfg
