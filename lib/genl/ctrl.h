// SPDX-License-Identifier: GPL-2.0-or-later
// The nlctrl exchange that resolves a generic-netlink family by name:
// CTRL_CMD_GETFAMILY request -> CTRL_CMD_NEWFAMILY reply with the family's
// id, name, version, header size, maxattr, operations and multicast groups.
// Both directions are encoded and decoded here, so drbdsetup (client) and
// drbd-simd (which answers the lookup on its Unix socket exactly as the
// kernel's nlctrl does) share one code path.
// See docs/formats/genl.md §6.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/genl/status.h"

namespace drbd::genl {

// linux/genetlink.h numbers.
inline constexpr uint8_t kCtrlCmdNewFamily = 1;
inline constexpr uint8_t kCtrlCmdGetFamily = 3;
inline constexpr uint8_t kCtrlVersion = 2;
inline constexpr uint16_t kCtrlAttrFamilyId = 1;     // u16
inline constexpr uint16_t kCtrlAttrFamilyName = 2;   // string
inline constexpr uint16_t kCtrlAttrVersion = 3;      // u32
inline constexpr uint16_t kCtrlAttrHdrSize = 4;      // u32
inline constexpr uint16_t kCtrlAttrMaxAttr = 5;      // u32
inline constexpr uint16_t kCtrlAttrOps = 6;          // nest of nests {id u32, flags u32}
inline constexpr uint16_t kCtrlAttrMcastGroups = 7;  // nest of nests {name, id u32}
inline constexpr uint16_t kCtrlAttrOpId = 1;
inline constexpr uint16_t kCtrlAttrOpFlags = 2;
inline constexpr uint16_t kCtrlAttrMcastGrpName = 1;
inline constexpr uint16_t kCtrlAttrMcastGrpId = 2;
// Operation flags reported in CTRL_ATTR_OP_FLAGS.
inline constexpr uint32_t kGenlAdminPerm = 0x01;
inline constexpr uint32_t kGenlCmdCapDo = 0x02;
inline constexpr uint32_t kGenlCmdCapDump = 0x04;
inline constexpr uint32_t kGenlCmdCapHasPol = 0x08;

struct CtrlOp {
  uint32_t id = 0;     // genlmsghdr.cmd
  uint32_t flags = 0;  // kGenl* bits
  bool operator==(const CtrlOp&) const = default;
};

struct McastGroup {
  std::string name;
  uint32_t id = 0;
  bool operator==(const McastGroup&) const = default;
};

// What CTRL_CMD_NEWFAMILY says about a family.
struct FamilyInfo {
  uint16_t id = 0;
  std::string name;
  uint32_t version = 0;
  uint32_t hdrsize = 0;
  uint32_t maxattr = 0;
  std::vector<CtrlOp> ops;
  std::vector<McastGroup> groups;

  std::optional<uint32_t> GroupId(std::string_view group) const;
  // Whether the family implements command `cmd` (drbd-utils' genl_op_known).
  bool HasOp(uint32_t cmd) const;
  bool operator==(const FamilyInfo&) const = default;
};

// CTRL_CMD_GETFAMILY for `name` (type GENL_ID_CTRL, NLM_F_REQUEST).
std::vector<uint8_t> EncodeGetFamily(std::string_view name, uint32_t seq, uint32_t pid);

// Server side: the family name a CTRL_CMD_GETFAMILY asks for. kMalformed
// if bytes are not a GETFAMILY request with a family name.
Result<std::string> DecodeGetFamily(std::span<const uint8_t> bytes);

// Server side: the CTRL_CMD_NEWFAMILY reply for `info` (type GENL_ID_CTRL,
// version 2, seq/pid as given).
std::vector<uint8_t> EncodeNewFamily(const FamilyInfo& info, uint32_t seq, uint32_t pid);

// Client side: decodes a CTRL_CMD_NEWFAMILY reply. kMalformed if it is
// not one or lacks the family id.
Result<FamilyInfo> DecodeNewFamily(std::span<const uint8_t> bytes);

// The DRBD 9 family as the kernel registers it, from lib/spec/genl.def:
// name "drbd", version 2, hdrsize 8, maxattr 34, one op per doit/dump
// command (doit: ADMIN_PERM|CAP_DO|CAP_HASPOL; dump: CAP_DUMP|CAP_HASPOL),
// and the "events" group with `events_group_id`.
FamilyInfo DrbdFamilyInfo(uint16_t family_id, uint32_t events_group_id);

}  // namespace drbd::genl
