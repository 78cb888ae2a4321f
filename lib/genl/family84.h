// SPDX-License-Identifier: GPL-2.0-or-later
// The DRBD 8.4 dialect of the "drbd" genl family (mainline module, genl
// version 1) as data: descriptors for every 8.4 attribute set, attribute and
// command, expanded from lib/spec/genl84.def (the only place 8.4 numbers are
// written), plus the module-version probe that picks the dialect the way
// drbd-utils does. Descriptor types are those of lib/genl/family.h, so the
// codec reads either table (EncodeOptions/DecodeOptions::dialect).
// See docs/formats/genl.md and /work/shared/spec/genl.md (8.4 notes).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "lib/genl/family.h"

namespace drbd::genl::v84 {

inline constexpr uint8_t kFamilyVersion = kFamilyVersion84;  // genlmsghdr.version

// 8.4 sets by TLA number. Values equal genl::Set values where 9 has the
// same set; kStateInfo (8) exists only here.
enum class Set84 : uint16_t {
#define DRBD84_SET(id, tla, tla_name, struct_name) k##id = tla,
#define DRBD84_ATTR(set, field, nr, type, flags, max_len, def)
#define DRBD84_CMD(id, nr, name, kind, prep)
#define DRBD84_CMD_TLA(cmd, set, need)
#include "lib/spec/genl84.def"
#undef DRBD84_SET
#undef DRBD84_ATTR
#undef DRBD84_CMD
#undef DRBD84_CMD_TLA
};
constexpr Set ToSet(Set84 s) { return static_cast<Set>(s); }
// DRBD_NLA_STATE_INFO: a genl::Set value the DRBD 9 table does not have.
inline constexpr Set kStateInfo = ToSet(Set84::kStateInfo);

// attr::<field> for every 8.4 field: v84::attr::resync_rate is
// {DiskConf, 8, kU32}; v84::attr::assume_uptodate {SetRoleParms, 1, kFlag}.
namespace attr {
#define DRBD84_SET(id, tla, tla_name, struct_name)
#define DRBD84_ATTR(set, field, nr, type, flags, max_len, def) \
  inline constexpr AttrKey field{ToSet(Set84::k##set), nr, AttrType::type};
#define DRBD84_CMD(id, nr, name, kind, prep)
#define DRBD84_CMD_TLA(cmd, set, need)
#include "lib/spec/genl84.def"
#undef DRBD84_SET
#undef DRBD84_ATTR
#undef DRBD84_CMD
#undef DRBD84_CMD_TLA
}  // namespace attr

// All 8.4 rows, in table order; descriptors carry dialects == k84.
std::span<const SetDesc> AllSets();
std::span<const CmdDesc> AllCmds();
std::span<const AttrDesc> AllAttrs();

// Lookups in the 8.4 table; nullptr when 8.4 has no such number or name.
const SetDesc* FindSet(uint16_t tla);
const AttrDesc* FindAttr(Set s, uint16_t nr);
const AttrDesc* FindAttr(std::string_view field_name);
const CmdDesc* FindCmd(uint8_t nr);
const CmdDesc* FindCmd(std::string_view name);

// Highest 8.4 TLA number (the family's maxattr, 24).
uint16_t MaxTla();

// The ABI listing pinned by tests/golden/genl84_abi.txt: one line per set,
// field and command.
std::string AbiText();

// ---- Which module is loaded ----

// A DRBD module version "8.4.11" as drbd-utils parses it (major.minor.sub,
// trailing text ignored); code = major<<16 | minor<<8 | sub.
struct ModuleVersion {
  int major = 0;
  int minor = 0;
  int sublevel = 0;
  uint32_t code() const { return (major << 16) | (minor << 8) | sublevel; }
  bool Is84() const { return major == 8 && minor == 4; }
  bool operator==(const ModuleVersion&) const = default;
};

// Parses "8.4.11" (drbd-utils' version_from_str: three dot-separated
// numbers, anything after the third ignored). nullopt when it does not.
std::optional<ModuleVersion> ParseVersion(std::string_view s);

// Finds "version: X" in /proc/drbd text (first token after "version:").
std::optional<ModuleVersion> ParseProcDrbd(std::string_view text);

// Where the probe looks; tests point these at temp files.
struct ProbePaths {
  std::string proc_drbd = "/proc/drbd";
  std::string sys_version = "/sys/module/drbd/version";
};

// The loaded module's version, in drbd-utils' order: the environment
// variable DRBD_DRIVER_VERSION_OVERRIDE if it parses, else /proc/drbd, else
// /sys/module/drbd/version (where drbd-utils would ask modinfo, which reads
// the module file, not the loaded module). nullopt when no module is
// loaded and no override is set.
std::optional<ModuleVersion> ProbeModuleVersion(const ProbePaths& paths = {});

// True when the probe finds an 8.4 module: the tools then speak genl
// version 1 with this table.
bool ModuleIs84(const ProbePaths& paths = {});

}  // namespace drbd::genl::v84
