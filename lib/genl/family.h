// SPDX-License-Identifier: GPL-2.0-or-later
// The DRBD generic-netlink family as data: constants of the family and its
// headers, and descriptors for every attribute set (TLA), attribute and
// command, all expanded from lib/spec/genl.def (the only place numbers are
// written). Codec, transports, drbdsetup, drbd-simd and the reference
// generator read the API through this header.
// See docs/formats/genl.md.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace drbd::genl {

// ---- Family and header constants (docs/formats/genl.md §1) ----
inline constexpr std::string_view kFamilyName = "drbd";
inline constexpr uint8_t kFamilyVersion = 2;      // genlmsghdr.version, DRBD 9
inline constexpr uint8_t kFamilyVersion84 = 1;    // mainline DRBD 8.4
inline constexpr uint32_t kUserHdrSize = 8;       // sizeof(struct drbd_genlmsghdr)
inline constexpr std::string_view kEventsGroup = "events";
inline constexpr uint32_t kMinorNone = 0xFFFFFFFFu;  // drbd_genlmsghdr.minor "not by minor"
// drbd_genlmsghdr.flags bit: reset absent options to their defaults.
inline constexpr uint32_t kFlagSetDefaults = 1;

// Wire type bits. The DRBD mandatory bit equals NLA_F_NET_BYTEORDER.
inline constexpr uint16_t kNlaNested = 1u << 15;     // NLA_F_NESTED
inline constexpr uint16_t kNlaMandatory = 1u << 14;  // DRBD_GENLA_F_MANDATORY
inline constexpr uint16_t kNlaTypeMask = 0x3FFF;

// Which kernel API a row belongs to.
enum Dialect : uint8_t { k9 = 1, k84 = 2 };

enum class AttrType : uint8_t {
  kU32,   // NLA_U32, 4 bytes host order
  kS32,   // NLA_U32 on the wire, two's complement
  kU64,   // NLA_U64, 8 bytes host order (may follow a type-0 pad attribute)
  kFlag,  // NLA_U8, one byte 0/1 (not NLA_FLAG: false is sent explicitly)
  kStr,   // NLA_NUL_STRING, NUL-terminated
  kBin,   // NLA_BINARY, raw bytes
};
std::string_view AttrTypeName(AttrType t);  // "u32", "s32", "u64", "flag", "string", "binary"

// Attribute flags (table column `flags`). The first three are DRBD_F_*
// (never on the wire); kMand marks fields whose type carried bit 14 until
// 2026-04; kDef marks fields with a default.
enum AttrFlag : uint32_t {
  kReq = 1,        // DRBD_F_REQUIRED
  kSens = 2,       // DRBD_F_SENSITIVE
  kInv = 4,        // DRBD_F_INVARIANT
  kMand = 0x4000,  // DRBD_GENLA_F_MANDATORY (historical)
  kDef = 0x10000,  // __*_field_def
};
// "RISM" letters of kReq/kInv/kSens/kMand, "" for none: the ABI listings' spelling.
std::string AttrFlagLetters(uint32_t flags);

// Top-level attribute sets; the value is the TLA number (DRBD_NLA_*).
enum class Set : uint16_t {
#define DRBD_GENL_SET(id, tla, tla_name, struct_name, dialects) k##id = tla,
#define DRBD_GENL_ATTR(set, field, nr, type, flags, max_len, def, dialects)
#define DRBD_GENL_CMD(id, nr, name, kind, prep, dialects)
#define DRBD_GENL_CMD_TLA(cmd, set, need)
#include "lib/spec/genl.def"
#undef DRBD_GENL_SET
#undef DRBD_GENL_ATTR
#undef DRBD_GENL_CMD
#undef DRBD_GENL_CMD_TLA
};

enum class CmdKind : uint8_t { kDoit, kDump, kNotify };
std::string_view CmdKindName(CmdKind k);  // "doit", "dump", "notify"

// Kernel prepare flags (DRBD_ADM_*), what a doit needs to exist.
enum PrepFlag : uint32_t {
  kNeedMinor = 1,
  kNeedResource = 2,
  kNeedConnection = 4,
  kNeedPeerDevice = 8,
  kNeedPeerNode = 16,
  kIgnoreVersion = 32,
};
// "minor+resource", "-" for none: the ABI listings' spelling.
std::string PrepareFlagsText(uint32_t prep);

// Commands and notifications; the value is genlmsghdr.cmd.
enum class Cmd : uint8_t {
#define DRBD_GENL_SET(id, tla, tla_name, struct_name, dialects)
#define DRBD_GENL_ATTR(set, field, nr, type, flags, max_len, def, dialects)
#define DRBD_GENL_CMD(id, nr, name, kind, prep, dialects) k##id = nr,
#define DRBD_GENL_CMD_TLA(cmd, set, need)
#include "lib/spec/genl.def"
#undef DRBD_GENL_SET
#undef DRBD_GENL_ATTR
#undef DRBD_GENL_CMD
#undef DRBD_GENL_CMD_TLA
};

// A field of a set, by (set, number): what typed accessors take.
struct AttrKey {
  Set set;
  uint16_t nr;
  AttrType type;
  constexpr bool operator==(const AttrKey&) const = default;
};

// attr::<field> for every DRBD 9 field, named exactly as the kernel does:
// genl::attr::ping_int is {Set::kNetConf, 9, kU32}.
namespace attr {
#define DRBD_GENL_SET(id, tla, tla_name, struct_name, dialects)
#define DRBD_GENL_ATTR(set, field, nr, type, flags, max_len, def, dialects) \
  inline constexpr AttrKey field{Set::k##set, nr, AttrType::type};
#define DRBD_GENL_CMD(id, nr, name, kind, prep, dialects)
#define DRBD_GENL_CMD_TLA(cmd, set, need)
#include "lib/spec/genl.def"
#undef DRBD_GENL_SET
#undef DRBD_GENL_ATTR
#undef DRBD_GENL_CMD
#undef DRBD_GENL_CMD_TLA
}  // namespace attr

struct AttrDesc {
  Set set;
  std::string_view name;  // kernel field name, "ping_int"
  uint16_t nr;
  AttrType type;
  uint32_t flags;         // AttrFlag bits
  uint32_t max_len;       // kStr: buffer incl. NUL (0 = unbounded); kBin: max bytes
  int64_t def;            // default if flags & kDef (u32 0xFFFFFFFF stays positive)
  uint8_t dialects;
  AttrKey key() const { return {set, nr, type}; }
  bool has(AttrFlag f) const { return (flags & f) != 0; }
};

struct SetDesc {
  Set id;
  uint16_t tla;                    // DRBD_NLA_* number
  std::string_view tla_name;       // "DRBD_NLA_NET_CONF"
  std::string_view struct_name;    // "net_conf"
  uint8_t dialects;
  std::span<const AttrDesc> attrs;  // sorted by nr
  uint16_t max_nr;                 // highest attribute number of the set
};

struct CmdTla {
  Set set;
  bool required;
};

struct CmdDesc {
  Cmd id;
  uint8_t nr;
  std::string_view name;  // "DRBD_ADM_NEW_MINOR"
  CmdKind kind;
  uint32_t prep;          // PrepFlag bits
  uint8_t dialects;
  std::span<const CmdTla> tlas;
};

// All rows, in table order (sets by TLA number, commands by number).
std::span<const SetDesc> AllSets();
std::span<const CmdDesc> AllCmds();
std::span<const AttrDesc> AllAttrs();  // grouped by set, sorted by nr

// Lookups; nullptr if the number or name is not in the DRBD 9 table.
const SetDesc* FindSet(uint16_t tla);
const SetDesc& GetSet(Set s);
const AttrDesc* FindAttr(Set s, uint16_t nr);
const AttrDesc* FindAttr(std::string_view field_name);  // "ping_int"
const AttrDesc& GetAttr(AttrKey k);                     // REQUIRES: k from attr::
const CmdDesc* FindCmd(uint8_t nr);
const CmdDesc* FindCmd(std::string_view name);          // "DRBD_ADM_ATTACH"
const CmdDesc& GetCmd(Cmd c);

// Highest TLA number of DRBD 9 (the family's maxattr, 34).
uint16_t MaxTla();

}  // namespace drbd::genl
