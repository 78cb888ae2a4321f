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
  kNetOptions,         // new-peer / net-options; `net { }`
  kShowNetOptions,     // net options as `drbdsetup show` prints them (+ _name etc.)
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
};

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
  std::string_view unit;              // "1/10 seconds", "bytes", ...
  int genl_attr = -1;                 // genl attribute number, -1 if none
  std::string_view doc;               // one line
};

struct ContextDef {
  OptContext id;
  std::string_view name;  // "net-options"
  std::span<const OptionDef* const> fields;
};

const ContextDef& Context(OptContext id);

// Looks up `name` in ctx. For booleans, a `no-` prefix is stripped and
// reported through *no_prefix (so `no-tcp-cork` finds tcp-cork). Returns
// nullptr if unknown.
const OptionDef* FindField(const ContextDef& ctx, std::string_view name,
                           bool* no_prefix = nullptr);

// Validates value text for this option, as drbd-utils 9.22 does.
CheckCode CheckValue(const OptionDef& opt, std::string_view value);

// Whether `value` equals the option's default (after unit conversion).
bool IsDefault(const OptionDef& opt, std::string_view value);

// Whether two value texts mean the same (8k == 8192, protocol c == C).
bool IsEqual(const OptionDef& opt, std::string_view a, std::string_view b);

// Parses a number with optional K/M/G/s suffix relative to `scale`
// (drbd-utils new_strtoll semantics). nullopt if not a number.
std::optional<uint64_t> ParseScaled(std::string_view text, char scale);

// The default value as drbdsetup prints it (e.g. "C", "yes", "1237").
std::string DefaultText(const OptionDef& opt);

// All rows, in table order (for docs generation and table checks).
std::span<const OptionDef> AllOptions();

}  // namespace drbd::cfg
