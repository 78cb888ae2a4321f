// SPDX-License-Identifier: GPL-2.0-or-later
// CTRL_CMD_GETFAMILY / CTRL_CMD_NEWFAMILY encoding (libnl) and decoding.
#include "lib/genl/ctrl.h"

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "lib/genl/codec.h"
#include "lib/genl/family.h"

namespace drbd::genl {
namespace {

Error Malformed(std::string msg) { return Error{ErrorCode::kMalformed, std::move(msg), 0}; }

using MsgPtr = std::unique_ptr<nl_msg, void (*)(nl_msg*)>;

std::vector<uint8_t> Bytes(nl_msg* msg) {
  nlmsghdr* h = nlmsg_hdr(msg);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(h);
  return std::vector<uint8_t>(p, p + h->nlmsg_len);
}

// Reads the genl header of a ctrl message into an aligned copy; returns
// the attribute area. kMalformed unless type GENL_ID_CTRL and cmd `cmd`.
Result<std::vector<uint32_t>> CtrlPayload(std::span<const uint8_t> bytes, uint8_t cmd) {
  Result<NlHeader> h = PeekHeader(bytes);
  if (!h.ok()) return h.error();
  if (h->len > bytes.size() || h->len < kNlmsgHdrLen + kGenlHdrLen) {
    return Malformed(fmt::format("nlctrl message: bad nlmsg_len {} ({} bytes)", h->len, bytes.size()));
  }
  if (h->type != kGenlIdCtrl) {
    return Malformed(fmt::format("type {} is not the nlctrl family ({})", h->type, kGenlIdCtrl));
  }
  if (bytes[kNlmsgHdrLen] != cmd) {
    return Malformed(fmt::format("nlctrl command {}, expected {}", bytes[kNlmsgHdrLen], cmd));
  }
  std::vector<uint32_t> words((h->len + 3) / 4 + 1, 0);
  std::memcpy(words.data(), bytes.data(), h->len);
  return words;
}

std::string_view StrPayload(nlattr* a) {
  const char* p = static_cast<const char*>(nla_data(a));
  size_t n = static_cast<size_t>(nla_len(a));
  const void* nul = std::memchr(p, 0, n);
  return std::string_view(p, nul ? static_cast<const char*>(nul) - p : n);
}

Result<uint32_t> U32Payload(nlattr* a, std::string_view what) {
  if (nla_len(a) < 4) return Malformed(fmt::format("nlctrl {}: needs 4 bytes, got {}", what, nla_len(a)));
  uint32_t v;
  std::memcpy(&v, nla_data(a), 4);
  return v;
}

}  // namespace

std::optional<uint32_t> FamilyInfo::GroupId(std::string_view group) const {
  for (const McastGroup& g : groups)
    if (g.name == group) return g.id;
  return std::nullopt;
}

bool FamilyInfo::HasOp(uint32_t cmd) const {
  for (const CtrlOp& o : ops)
    if (o.id == cmd) return true;
  return false;
}

std::vector<uint8_t> EncodeGetFamily(std::string_view name, uint32_t seq, uint32_t pid) {
  MsgPtr msg(nlmsg_alloc_size(128 + name.size()), nlmsg_free);
  genlmsg_put(msg.get(), pid, seq, kGenlIdCtrl, 0, kNlmFRequest, kCtrlCmdGetFamily, kCtrlVersion);
  std::string n(name);
  nla_put_string(msg.get(), kCtrlAttrFamilyName, n.c_str());
  return Bytes(msg.get());
}

Result<std::string> DecodeGetFamily(std::span<const uint8_t> bytes) {
  Result<std::vector<uint32_t>> w = CtrlPayload(bytes, kCtrlCmdGetFamily);
  if (!w.ok()) return w.error();
  uint8_t* base = reinterpret_cast<uint8_t*>(w->data());
  NlHeader h = *PeekHeader(bytes);
  int rem = static_cast<int>(h.len - kNlmsgHdrLen - kGenlHdrLen);
  nlattr* a;
  for (a = reinterpret_cast<nlattr*>(base + kNlmsgHdrLen + kGenlHdrLen); nla_ok(a, rem);
       a = nla_next(a, &rem)) {
    if (nla_type(a) == kCtrlAttrFamilyName) return std::string(StrPayload(a));
  }
  if (rem > 0) return Malformed("CTRL_CMD_GETFAMILY: trailing bytes");
  return Malformed("CTRL_CMD_GETFAMILY without CTRL_ATTR_FAMILY_NAME");
}

std::vector<uint8_t> EncodeNewFamily(const FamilyInfo& info, uint32_t seq, uint32_t pid) {
  size_t size = 256 + info.name.size() + info.ops.size() * 24;
  for (const McastGroup& g : info.groups) size += 24 + g.name.size();
  MsgPtr msg(nlmsg_alloc_size(size), nlmsg_free);
  genlmsg_put(msg.get(), pid, seq, kGenlIdCtrl, 0, 0, kCtrlCmdNewFamily, kCtrlVersion);
  nla_put_string(msg.get(), kCtrlAttrFamilyName, info.name.c_str());
  nla_put_u16(msg.get(), kCtrlAttrFamilyId, info.id);
  nla_put_u32(msg.get(), kCtrlAttrVersion, info.version);
  nla_put_u32(msg.get(), kCtrlAttrHdrSize, info.hdrsize);
  nla_put_u32(msg.get(), kCtrlAttrMaxAttr, info.maxattr);
  if (!info.ops.empty()) {
    nlattr* ops = nla_nest_start(msg.get(), kCtrlAttrOps);
    ops->nla_type = kCtrlAttrOps;  // the kernel's nlctrl nests carry no NLA_F_NESTED
    for (size_t i = 0; i < info.ops.size(); ++i) {
      nlattr* op = nla_nest_start(msg.get(), static_cast<int>(i + 1));
      op->nla_type = static_cast<uint16_t>(i + 1);
      nla_put_u32(msg.get(), kCtrlAttrOpId, info.ops[i].id);
      nla_put_u32(msg.get(), kCtrlAttrOpFlags, info.ops[i].flags);
      nla_nest_end(msg.get(), op);
    }
    nla_nest_end(msg.get(), ops);
  }
  if (!info.groups.empty()) {
    nlattr* grps = nla_nest_start(msg.get(), kCtrlAttrMcastGroups);
    grps->nla_type = kCtrlAttrMcastGroups;
    for (size_t i = 0; i < info.groups.size(); ++i) {
      nlattr* g = nla_nest_start(msg.get(), static_cast<int>(i + 1));
      g->nla_type = static_cast<uint16_t>(i + 1);
      nla_put_u32(msg.get(), kCtrlAttrMcastGrpId, info.groups[i].id);
      nla_put_string(msg.get(), kCtrlAttrMcastGrpName, info.groups[i].name.c_str());
      nla_nest_end(msg.get(), g);
    }
    nla_nest_end(msg.get(), grps);
  }
  return Bytes(msg.get());
}

Result<FamilyInfo> DecodeNewFamily(std::span<const uint8_t> bytes) {
  Result<std::vector<uint32_t>> w = CtrlPayload(bytes, kCtrlCmdNewFamily);
  if (!w.ok()) return w.error();
  uint8_t* base = reinterpret_cast<uint8_t*>(w->data());
  NlHeader h = *PeekHeader(bytes);
  FamilyInfo f;
  bool have_id = false;
  int rem = static_cast<int>(h.len - kNlmsgHdrLen - kGenlHdrLen);
  nlattr* a;
  for (a = reinterpret_cast<nlattr*>(base + kNlmsgHdrLen + kGenlHdrLen); nla_ok(a, rem);
       a = nla_next(a, &rem)) {
    switch (nla_type(a)) {
      case kCtrlAttrFamilyId: {
        if (nla_len(a) < 2) return Malformed("nlctrl CTRL_ATTR_FAMILY_ID: needs 2 bytes");
        std::memcpy(&f.id, nla_data(a), 2);
        have_id = true;
        break;
      }
      case kCtrlAttrFamilyName:
        f.name = std::string(StrPayload(a));
        break;
      case kCtrlAttrVersion: {
        Result<uint32_t> v = U32Payload(a, "CTRL_ATTR_VERSION");
        if (!v.ok()) return v.error();
        f.version = *v;
        break;
      }
      case kCtrlAttrHdrSize: {
        Result<uint32_t> v = U32Payload(a, "CTRL_ATTR_HDRSIZE");
        if (!v.ok()) return v.error();
        f.hdrsize = *v;
        break;
      }
      case kCtrlAttrMaxAttr: {
        Result<uint32_t> v = U32Payload(a, "CTRL_ATTR_MAXATTR");
        if (!v.ok()) return v.error();
        f.maxattr = *v;
        break;
      }
      case kCtrlAttrOps:
      case kCtrlAttrMcastGroups: {
        bool ops = nla_type(a) == kCtrlAttrOps;
        int rem2 = nla_len(a);
        nlattr* e;
        for (e = static_cast<nlattr*>(nla_data(a)); nla_ok(e, rem2); e = nla_next(e, &rem2)) {
          CtrlOp op;
          McastGroup g;
          int rem3 = nla_len(e);
          nlattr* x;
          for (x = static_cast<nlattr*>(nla_data(e)); nla_ok(x, rem3); x = nla_next(x, &rem3)) {
            int t = nla_type(x);
            if (ops && (t == kCtrlAttrOpId || t == kCtrlAttrOpFlags)) {
              Result<uint32_t> v = U32Payload(x, "CTRL_ATTR_OP");
              if (!v.ok()) return v.error();
              (t == kCtrlAttrOpId ? op.id : op.flags) = *v;
            } else if (!ops && t == kCtrlAttrMcastGrpId) {
              Result<uint32_t> v = U32Payload(x, "CTRL_ATTR_MCAST_GRP_ID");
              if (!v.ok()) return v.error();
              g.id = *v;
            } else if (!ops && t == kCtrlAttrMcastGrpName) {
              g.name = std::string(StrPayload(x));
            }
          }
          if (rem3 > 0) return Malformed("nlctrl: trailing bytes in a nested entry");
          if (ops)
            f.ops.push_back(op);
          else
            f.groups.push_back(std::move(g));
        }
        if (rem2 > 0) return Malformed("nlctrl: trailing bytes in a nested list");
        break;
      }
      default:
        break;  // newer nlctrl attributes (policy, ...) are not needed
    }
  }
  if (rem > 0) return Malformed("CTRL_CMD_NEWFAMILY: trailing bytes");
  if (!have_id) return Malformed("CTRL_CMD_NEWFAMILY without CTRL_ATTR_FAMILY_ID");
  return f;
}

FamilyInfo DrbdFamilyInfo(uint16_t family_id, uint32_t events_group_id) {
  FamilyInfo f;
  f.id = family_id;
  f.name = std::string(kFamilyName);
  f.version = kFamilyVersion;
  f.hdrsize = kUserHdrSize;
  f.maxattr = MaxTla();
  for (const CmdDesc& c : AllCmds()) {
    if (!(c.dialects & k9)) continue;
    if (c.kind == CmdKind::kDoit)
      f.ops.push_back(CtrlOp{c.nr, kGenlAdminPerm | kGenlCmdCapDo | kGenlCmdCapHasPol});
    else if (c.kind == CmdKind::kDump)
      f.ops.push_back(CtrlOp{c.nr, kGenlCmdCapDump | kGenlCmdCapHasPol});
  }
  f.groups.push_back(McastGroup{std::string(kEventsGroup), events_group_id});
  return f;
}

}  // namespace drbd::genl
