// SPDX-License-Identifier: GPL-2.0-or-later
// Option table <-> genl table (see request.h).
#include "drbdsetup/request.h"

#include <fmt/format.h>

namespace drbd::setup {
namespace {

const genl::SetDesc* SetByName(std::string_view tla_name) {
  for (const genl::SetDesc& s : genl::AllSets()) {
    if (s.tla_name == tla_name) return &s;
  }
  return nullptr;
}

const genl::AttrDesc* AttrByName(const genl::SetDesc& set, std::string_view name) {
  for (const genl::AttrDesc& a : set.attrs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

void PutArg(genl::Tla& tla, const genl::AttrDesc& a, const ArgValue& v) {
  switch (v.arg->conv) {
    case ArgConv::kBlockDev:
    case ArgConv::kString:
      tla.PutStr(a.key(), v.text);
      break;
    case ArgConv::kAddress:
      tla.PutBin(a.key(), std::span(reinterpret_cast<const uint8_t*>(v.sockaddr.data()),
                                    v.sockaddr.size()));
      break;
    case ArgConv::kMdIndex:
    case ArgConv::kU32:
      tla.PutNum(a.key(), v.number);
      break;
  }
}

}  // namespace

const genl::CmdDesc* GenlCommand(const Command& cmd) {
  if (cmd.genl_cmd.empty()) return nullptr;
  return genl::FindCmd(fmt::format("DRBD_ADM_{}", cmd.genl_cmd));
}

std::optional<genl::Set> PayloadSet(const Command& cmd) {
  if (cmd.payload.empty()) return std::nullopt;
  const genl::SetDesc* s = SetByName(fmt::format("DRBD_NLA_{}", cmd.payload));
  if (s == nullptr) return std::nullopt;
  return s->id;
}

genl::Result<genl::Message> BuildRequest(const Invocation& inv) {
  const Command& cmd = *inv.cmd;
  const genl::CmdDesc* gc = GenlCommand(cmd);
  if (gc == nullptr) {
    return genl::Error{genl::ErrorCode::kEncode,
                       fmt::format("{}: no genl command DRBD_ADM_{}", cmd.name, cmd.genl_cmd)};
  }
  genl::Message m = genl::MakeRequest(gc->id);
  if (inv.context & kMinor) m.minor = inv.minor;
  if (inv.context & ~static_cast<uint32_t>(kMinor)) {
    genl::Tla& ctx = m.Get(genl::Set::kCfgContext);
    if (inv.context & kResource) ctx.PutStr(genl::attr::ctx_resource_name, inv.resource);
    if (inv.context & kPeerNodeId) ctx.PutU32(genl::attr::ctx_peer_node_id, inv.peer_node_id);
    if (inv.context & kVolume) ctx.PutU32(genl::attr::ctx_volume, inv.volume);
  }
  if (inv.set_defaults) m.flags |= genl::kFlagSetDefaults;
  std::optional<genl::Set> payload = PayloadSet(cmd);
  if (!inv.fields.empty() || !inv.extra.empty()) {
    if (!payload) {
      return genl::Error{genl::ErrorCode::kEncode,
                         fmt::format("{}: options given but no payload set", cmd.name)};
    }
    genl::Tla& tla = m.Get(*payload);
    for (const FieldValue& v : inv.fields) {
      if (v.field->genl_attr < 0 ||
          genl::FindAttr(*payload, static_cast<uint16_t>(v.field->genl_attr)) == nullptr) {
        return genl::Error{genl::ErrorCode::kEncode,
                           fmt::format("{}: option --{} has no attribute in {}", cmd.name,
                                       v.field->name, cmd.payload)};
      }
    }
    PutValues(tla, inv.fields);
    for (const ArgValue& v : inv.extra) {
      const genl::AttrDesc* a = AttrByName(genl::GetSet(*payload), v.arg->attr);
      if (a == nullptr) {
        return genl::Error{genl::ErrorCode::kEncode,
                           fmt::format("{}: argument {} has no attribute {} in {}", cmd.name,
                                       v.arg->name, v.arg->attr, cmd.payload)};
      }
      PutArg(tla, *a, v);
    }
  }
  return m;
}

}  // namespace drbd::setup
