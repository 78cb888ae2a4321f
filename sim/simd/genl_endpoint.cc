// SPDX-License-Identifier: GPL-2.0-or-later
// GenlEndpoint: netlink datagrams in, engine calls, netlink datagrams out.
// Request layouts: /work/shared/spec/genl.md §5, §8; the socket protocol:
// docs/formats/genl-unix-socket.md.
#include "sim/simd/genl_endpoint.h"

#include <cerrno>

#include "lib/config/options.h"
#include "lib/genl/ctrl.h"
#include "lib/genl/family.h"
#include "lib/genl/transport.h"
#include "lib/notify/notify.h"

namespace drbd::simd {
namespace {

using engine::OptionSet;
using engine::Ret;
using genl::Cmd;
using genl::Set;

constexpr size_t kDumpDatagramBytes = 16384;

// A TLA's fields as engine options, mapped through the option table's
// genl attribute numbers (lib/spec/options.def).
OptionSet ToOptions(const genl::Tla* tla, cfg::OptContext ctx) {
  OptionSet out(ctx);
  if (tla == nullptr) return out;
  const cfg::ContextDef& c = cfg::Context(ctx);
  for (const genl::Attr& a : tla->attrs) {
    for (const cfg::OptionDef* def : c.fields) {
      if (def->genl_attr != a.nr) continue;
      switch (a.type) {
        case genl::AttrType::kStr:
        case genl::AttrType::kBin:
          out.Set(std::string(def->name), a.bytes);
          break;
        case genl::AttrType::kS32:
          out.Set(std::string(def->name), int64_t{a.s32()});
          break;
        case genl::AttrType::kFlag:
          out.Set(std::string(def->name), int64_t{a.flag() ? 1 : 0});
          break;
        case genl::AttrType::kU32:
        case genl::AttrType::kU64:
          out.Set(std::string(def->name), static_cast<int64_t>(a.num));
          break;
      }
      break;
    }
  }
  return out;
}

bool Flag(const genl::Message& m, Set s, genl::AttrKey k) {
  const genl::Tla* t = m.Find(s);
  return t && t->GetFlag(k).value_or(false);
}

// Puts every field of `t`'s set that the option table maps in context
// `ctx`, with its current value (the table default when unset), as the
// kernel's *_to_skb puts every field (empty strings too).
void PutOptions(genl::Tla& t, const OptionSet& o, cfg::OptContext ctx) {
  const cfg::ContextDef& c = cfg::Context(ctx);
  for (const genl::AttrDesc& a : genl::GetSet(t.set).attrs) {
    if (!(a.dialects & genl::k9)) continue;
    const cfg::OptionDef* def = nullptr;
    for (const cfg::OptionDef* d : c.fields) {
      if (d->genl_attr == a.nr) def = d;
    }
    if (def == nullptr) continue;
    if (a.type == genl::AttrType::kStr) {
      t.PutStr(a.key(), o.Str(def->name));
    } else if (a.type != genl::AttrType::kBin) {
      t.PutNum(a.key(), static_cast<uint64_t>(o.Int(def->name)));
    }
  }
}

std::span<const uint8_t> AsBytes(const std::string& s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

engine::Reply Fail(Ret r, std::string text) {
  engine::Reply reply;
  reply.ret = r;
  if (!text.empty()) reply.info.push_back(std::move(text));
  return reply;
}

// Replies and events are encoded as the kernel encodes them (no mandatory
// bits, no NLA_F_NESTED; docs/formats/genl.md).
std::vector<uint8_t> EncodeOrEmpty(const genl::Message& m) {
  auto bytes = genl::Encode(m, genl::kKernelStyle);
  return bytes.ok() ? std::move(bytes).value() : std::vector<uint8_t>{};
}

template <typename T>
bool Holds(const events::Notification& n) {
  return std::holds_alternative<T>(n.object);
}

// The object kind each get-* dump lists.
struct DumpKind {
  Cmd cmd;
  bool (*lists)(const events::Notification&);
};
constexpr DumpKind kDumpKinds[] = {
    {Cmd::kGetResources, Holds<events::Resource>},
    {Cmd::kGetDevices, Holds<events::Device>},
    {Cmd::kGetConnections, Holds<events::Connection>},
    {Cmd::kGetPeerDevices, Holds<events::PeerDevice>},
    {Cmd::kGetPaths, Holds<events::Path>},
};

// Whether a dump of `cmd` carries `n`: get-initial-state carries all.
bool DumpLists(Cmd cmd, const events::Notification& n) {
  if (cmd == Cmd::kGetInitialState) return true;
  for (const DumpKind& k : kDumpKinds) {
    if (k.cmd == cmd) return k.lists(n);
  }
  return false;
}

// Requests that carry nothing beyond their addressing.
struct PlainRequest {
  Cmd cmd;
  engine::Reply (engine::Engine::*run)(const engine::Ctx&);
};
constexpr PlainRequest kPlainRequests[] = {
    {Cmd::kDelResource, &engine::Engine::DelResource},
    {Cmd::kDelMinor, &engine::Engine::DelMinor},
    {Cmd::kDown, &engine::Engine::Down},
    {Cmd::kOutdate, &engine::Engine::Outdate},
    {Cmd::kPauseSync, &engine::Engine::PauseSync},
    {Cmd::kResumeSync, &engine::Engine::ResumeSync},
    {Cmd::kSuspendIo, &engine::Engine::SuspendIo},
    {Cmd::kResumeIo, &engine::Engine::ResumeIo},
};

// Requests whose one parameter is a flag.
struct FlagRequest {
  Cmd cmd;
  genl::AttrKey flag;
  engine::Reply (engine::Engine::*run)(const engine::Ctx&, bool);
};
constexpr FlagRequest kFlagRequests[] = {
    {Cmd::kDetach, genl::attr::force_detach, &engine::Engine::Detach},
    {Cmd::kDelPeer, genl::attr::force_disconnect, &engine::Engine::DelPeer},
    {Cmd::kDisconnect, genl::attr::force_disconnect, &engine::Engine::Disconnect},
    {Cmd::kPrimary, genl::attr::force, &engine::Engine::Primary},
    {Cmd::kSecondary, genl::attr::force, &engine::Engine::Secondary},
    {Cmd::kNewCUuid, genl::attr::clear_bm, &engine::Engine::NewCurrentUuid},
};

// Option changes: the set the options come in and their context.
struct OptionsRequest {
  Cmd cmd;
  Set set;
  cfg::OptContext context;
  engine::Reply (engine::Engine::*run)(const engine::Ctx&, const OptionSet&, bool);
};
constexpr OptionsRequest kOptionsRequests[] = {
    {Cmd::kResourceOpts, Set::kResourceOpts, cfg::OptContext::kResourceOptions,
     &engine::Engine::ResourceOptions},
    {Cmd::kChgDiskOpts, Set::kDiskConf, cfg::OptContext::kAttach, &engine::Engine::DiskOptions},
    {Cmd::kChgNetOpts, Set::kNetConf, cfg::OptContext::kNetOptions, &engine::Engine::NetOptions},
    {Cmd::kChgPeerDeviceOpts, Set::kPeerDeviceOpts, cfg::OptContext::kPeerDeviceOptions,
     &engine::Engine::PeerDeviceOptions},
};

}  // namespace

void GenlEndpoint::OnDatagram(uint64_t client, std::span<const uint8_t> datagram,
                              const SendFn& send) {
  auto frames = genl::Split(datagram);
  if (!frames.ok()) return;  // nothing to answer to
  for (const genl::Frame& f : *frames) {
    if (f.hdr.type == genl::kSimMembershipType) {
      auto m = genl::DecodeMembership(f.bytes);
      int32_t err = -EINVAL;
      if (m.ok()) {
        err = m->group == kEventsGroupId ? 0 : -ENOENT;
        if (err == 0 && m->op == genl::kSimAddMembership) subscribers_[client] = send;
        if (err == 0 && m->op == genl::kSimDropMembership) subscribers_.erase(client);
      }
      send(genl::EncodeNlError(f.hdr, err));
    } else if (f.hdr.type == genl::kGenlIdCtrl) {
      auto name = genl::DecodeGetFamily(f.bytes);
      if (name.ok() && *name == genl::kFamilyName) {
        send(genl::EncodeNewFamily(genl::DrbdFamilyInfo(kFamilyId, kEventsGroupId), f.hdr.seq,
                                   f.hdr.pid));
      } else {
        send(genl::EncodeNlError(f.bytes, -ENOENT));
      }
    } else if (f.hdr.type == kFamilyId) {
      HandleFamilyMessage(f, send);
    } else {
      send(genl::EncodeNlError(f.bytes, -ENOENT));
    }
  }
}

void GenlEndpoint::HandleFamilyMessage(const genl::Frame& f, const SendFn& send) {
  genl::DecodeOptions opt;
  opt.family_id = kFamilyId;
  auto decoded = genl::Decode(f.bytes, opt);
  if (!decoded.ok()) {
    send(genl::EncodeNlError(f.bytes, -EINVAL));
    return;
  }
  const genl::Message& req = *decoded;
  const genl::CmdDesc* desc = genl::FindCmd(req.cmd);
  if (desc == nullptr || desc->kind == genl::CmdKind::kNotify) {
    send(genl::EncodeNlError(f.bytes, -EOPNOTSUPP));
    return;
  }
  if (desc->kind == genl::CmdKind::kDump) return HandleDump(req, send);
  if (req.version != genl::kFamilyVersion && !(desc->prep & genl::kIgnoreVersion)) {
    send(genl::EncodeNlError(f.bytes, -EINVAL));
    return;
  }
  engine::Ctx ctx;
  ctx.minor = req.minor;
  if (const genl::Tla* c = req.Find(Set::kCfgContext)) {
    ctx.resource = std::string(c->GetStr(genl::attr::ctx_resource_name).value_or(""));
    if (auto v = c->GetU32(genl::attr::ctx_volume)) ctx.volume = *v;
    if (auto p = c->GetU32(genl::attr::ctx_peer_node_id)) ctx.peer_node_id = *p;
  }
  std::vector<uint8_t> raw(f.bytes.begin(), f.bytes.end());
  bool deferred = false;
  engine::Reply reply = Dispatch(req, ctx, send, raw, &deferred);
  if (deferred) return;
  const Cmd cmd = static_cast<Cmd>(req.cmd);
  if (cmd == Cmd::kDisconnect || cmd == Cmd::kDelPeer || cmd == Cmd::kDown) {
    // Answered once the disconnected handlers they started have exited,
    // and (down) the metadata of the disks it let go of is durable.
    engine_->AfterDisconnectedHandlers(ctx.resource, [this, req, reply, send] {
      engine_->AfterReleasedDisksDurable([this, req, reply, send] {
        SendReply(req, reply, send);
      });
    });
    return;
  }
  if (cmd == Cmd::kDetach) {
    engine_->AfterReleasedDisksDurable([this, req, reply, send] { SendReply(req, reply, send); });
    return;
  }
  SendReply(req, reply, send);
}

void GenlEndpoint::SendReply(const genl::Message& req, const engine::Reply& reply,
                             const SendFn& send) {
  genl::Message m = genl::MakeReply(req, engine::ToInt(reply.ret));
  for (const std::string& text : reply.info)
    m.Add(Set::kCfgReply).PutStr(genl::attr::info_text, text);
  send(EncodeOrEmpty(m));
}

engine::Reply GenlEndpoint::Dispatch(const genl::Message& req, const engine::Ctx& ctx,
                                     const SendFn& send,
                                     const std::vector<uint8_t>& raw, bool* deferred) {
  (void)raw;
  engine::Engine& e = *engine_;
  const bool set_defaults = (req.flags & genl::kFlagSetDefaults) != 0;
  const Cmd cmd = static_cast<Cmd>(req.cmd);
  for (const PlainRequest& r : kPlainRequests) {
    if (r.cmd == cmd) return (e.*r.run)(ctx);
  }
  if (cmd == Cmd::kPrimary) {  // may wait for fence-peer, as the kernel's does
    *deferred = true;
    e.PrimaryFenced(ctx, Flag(req, genl::attr::force.set, genl::attr::force),
                    [this, req, send](const engine::Reply& r) { SendReply(req, r, send); });
    return {};
  }
  for (const FlagRequest& r : kFlagRequests) {
    if (r.cmd == cmd) return (e.*r.run)(ctx, Flag(req, r.flag.set, r.flag));
  }
  for (const OptionsRequest& r : kOptionsRequests) {
    if (r.cmd == cmd) return (e.*r.run)(ctx, ToOptions(req.Find(r.set), r.context), set_defaults);
  }
  switch (cmd) {
    case Cmd::kNewResource: {
      const genl::Tla* t = req.Find(Set::kResourceOpts);
      int64_t node_id = -1;
      if (t) {
        if (auto n = t->GetU32(genl::attr::node_id)) node_id = *n;
      }
      return e.NewResource(ctx, node_id, ToOptions(t, cfg::OptContext::kResourceOptions));
    }
    case Cmd::kNewMinor: {
      uint32_t block_size = 512;
      bool intentional_diskless = false;
      if (const genl::Tla* t = req.Find(Set::kDeviceConf)) {
        block_size = t->GetU32(genl::attr::block_size).value_or(512);
        intentional_diskless = t->GetFlag(genl::attr::intentional_diskless).value_or(false);
      }
      return e.NewMinor(ctx, block_size, intentional_diskless);
    }
    case Cmd::kAttach: {
      const genl::Tla* t = req.Find(Set::kDiskConf);
      if (!t || !t->Find(genl::attr::backing_dev) || !t->Find(genl::attr::meta_dev) ||
          !t->Find(genl::attr::meta_dev_idx)) {
        return Fail(Ret::kErrMandatoryTag, "required attribute missing");
      }
      engine::DiskConf conf;
      conf.backing_dev = std::string(t->GetStr(genl::attr::backing_dev).value_or(""));
      conf.meta_dev = std::string(t->GetStr(genl::attr::meta_dev).value_or(""));
      conf.meta_dev_idx = t->GetS32(genl::attr::meta_dev_idx).value_or(engine::kMetaIdxFlexInt);
      conf.opts = ToOptions(t, cfg::OptContext::kAttach);
      *deferred = true;
      e.Attach(ctx, conf,
               [this, req, send](const engine::Reply& r) { SendReply(req, r, send); });
      return {};
    }
    case Cmd::kNewPeer: {
      const genl::Tla* t = req.Find(Set::kNetConf);
      std::string name = t ? std::string(t->GetStr(genl::attr::name).value_or("")) : "";
      return e.NewPeer(ctx, name, ToOptions(t, cfg::OptContext::kNewPeer));
    }
    case Cmd::kNewPath:
    case Cmd::kDelPath: {
      const genl::Tla* t = req.Find(Set::kPathParms);
      std::optional<events::Address> local, peer;
      if (t) {
        if (auto a = t->GetStr(genl::attr::my_addr)) local = notify::AddressFromSockaddr(*a);
        if (auto a = t->GetStr(genl::attr::peer_addr)) peer = notify::AddressFromSockaddr(*a);
      }
      if (!local || !peer) {
        // Validate the addressing first, as the kernel's prepare step does.
        engine::Reply probe = e.NetOptions(ctx, OptionSet(cfg::OptContext::kNetOptions), false);
        if (probe.ret != Ret::kNoError) return probe;
        return Fail(Ret::kErrInvalidRequest, "connection endpoint(s) missing");
      }
      return cmd == Cmd::kNewPath ? e.NewPath(ctx, *local, *peer) : e.DelPath(ctx, *local, *peer);
    }
    case Cmd::kConnect:
      return e.Connect(ctx, Flag(req, Set::kConnectParms, genl::attr::tentative),
                       Flag(req, Set::kConnectParms, genl::attr::discard_my_data));
    case Cmd::kInvalidate: {
      // Absent attributes keep the kernel's defaults (reset the bitmap,
      // any peer).
      bool reset_bitmap = true;
      std::optional<uint32_t> sync_from;
      if (const genl::Tla* t = req.Find(Set::kInvalidateParms)) {
        reset_bitmap = t->GetFlag(genl::attr::reset_bitmap).value_or(true);
        const int32_t from = t->GetS32(genl::attr::sync_from_peer_node_id).value_or(-1);
        if (from >= 0) sync_from = static_cast<uint32_t>(from);
      }
      return e.Invalidate(ctx, reset_bitmap, sync_from);
    }
    case Cmd::kInvalPeer: {
      bool reset_bitmap = true;
      if (const genl::Tla* t = req.Find(Set::kInvalPeerParams)) {
        reset_bitmap = t->GetFlag(genl::attr::p_reset_bitmap).value_or(true);
      }
      return e.InvalidateRemote(ctx, reset_bitmap);
    }
    case Cmd::kResize: {
      engine::Engine::ResizeParms p;
      if (const genl::Tla* t = req.Find(Set::kResizeParms)) {
        p.size = t->GetU64(genl::attr::resize_size).value_or(0);
        p.assume_peer_has_space = t->GetFlag(genl::attr::resize_force).value_or(false);
        p.assume_clean = t->GetFlag(genl::attr::no_resync).value_or(false);
        if (auto v = t->GetU32(genl::attr::al_stripes)) p.al_stripes = *v;
        if (auto v = t->GetU32(genl::attr::al_stripe_size)) p.al_stripe_size_kb = *v;
      }
      return e.Resize(ctx, p);
    }
    case Cmd::kStartOv: {
      std::optional<uint64_t> start, stop;
      if (const genl::Tla* t = req.Find(Set::kStartOvParms)) {
        if (auto v = t->GetU64(genl::attr::ov_start_sector)) start = *v;
        if (auto v = t->GetU64(genl::attr::ov_stop_sector)) stop = *v;
      }
      return e.StartVerify(ctx, start, stop);
    }
    case Cmd::kForgetPeer: {
      // A present set without the attribute leaves the kernel's zeroed
      // parameter (node id 0).
      std::optional<int32_t> node_id;
      if (const genl::Tla* t = req.Find(Set::kForgetPeerParms)) {
        node_id = t->GetS32(genl::attr::forget_peer_node_id).value_or(0);
      }
      return e.ForgetPeer(ctx, node_id);
    }
    case Cmd::kRenameResource: {
      std::optional<std::string> name;
      if (const genl::Tla* t = req.Find(Set::kRenameResourceParms)) {
        name = std::string(t->GetStr(genl::attr::new_resource_name).value_or(""));
      }
      return e.RenameResource(ctx, name);
    }
    case Cmd::kGetTimeoutType: {
      uint32_t type = 0;
      engine::Reply r = e.GetTimeoutType(ctx, &type);
      if (r.ret != Ret::kNoError) return r;
      *deferred = true;
      genl::Message m = genl::MakeReply(req, engine::ToInt(r.ret));
      m.Get(Set::kTimeoutParms).PutU32(genl::attr::timeout_type, type);
      send(EncodeOrEmpty(m));
      return r;
    }
    default:
      return Fail(Ret::kErrPacketNr, "");
  }
}

void GenlEndpoint::HandleDump(const genl::Message& req, const SendFn& send) {
  std::string filter;
  if (const genl::Tla* c = req.Find(Set::kCfgContext)) {
    filter = std::string(c->GetStr(genl::attr::ctx_resource_name).value_or(""));
  }
  const Cmd cmd = static_cast<Cmd>(req.cmd);
  std::vector<uint8_t> out;
  auto append = [&](genl::Message m) {
    genl::Message head = genl::MakeReply(req, engine::ToInt(Ret::kNoError));
    m.nl = head.nl;
    m.set_ret_code(engine::ToInt(Ret::kNoError));
    auto bytes = EncodeOrEmpty(m);
    // Like the kernel, fill datagrams up to a bound and start the next
    // (a SEQPACKET packet cannot exceed the socket buffer).
    if (!out.empty() && out.size() + bytes.size() > kDumpDatagramBytes) {
      send(std::move(out));
      out.clear();
    }
    out.insert(out.end(), bytes.begin(), bytes.end());
  };
  bool filtered = cmd != Cmd::kGetResources && cmd != Cmd::kGetInitialState && !filter.empty();
  if (filtered) {
    if (!engine_->ResourceRole(filter)) {
      genl::Message m = genl::MakeReply(req, engine::ToInt(Ret::kErrResNotKnown));
      auto bytes = EncodeOrEmpty(m);
      out.insert(out.end(), bytes.begin(), bytes.end());
      send(std::move(out));
      send(genl::EncodeDone(req.nl.seq, req.nl.pid));
      return;
    }
  }
  std::vector<events::Notification> all =
      engine_->InitialState(filtered ? filter : "", cmd == Cmd::kGetResources);
  for (events::Notification& n : all) {
    if (!DumpLists(cmd, n)) continue;
    if (cmd == Cmd::kGetInitialState) {
      append(notify::EncodeNotification(n));
      continue;
    }
    genl::Message m = notify::EncodeDumpReply(cmd, n);
    AddConfig(n, m);
    append(std::move(m));
  }
  if (cmd == Cmd::kGetInitialState) {
    events::Notification done;
    done.type = events::NotifyType::kExists;
    done.object = events::InitialStateDone{};
    append(notify::EncodeNotification(done));
  }
  // NLMSG_DONE goes in a packet of its own, as the kernel sends it:
  // drbd-utils stops reading a dump packet at its first message of
  // another kind and would miss a DONE behind the replies.
  if (!out.empty()) send(std::move(out));
  send(genl::EncodeDone(req.nl.seq, req.nl.pid));
}

void GenlEndpoint::AddConfig(const events::Notification& n, genl::Message& m) {
  const engine::Engine& e = *engine_;
  if (const auto* r = std::get_if<events::Resource>(&n.object)) {
    auto cfg = e.ResourceConfigOf(r->name);
    if (!cfg) return;
    genl::Tla& t = m.Get(Set::kResourceOpts);
    PutOptions(t, cfg->opts, cfg::OptContext::kResourceOptions);
    t.PutU32(genl::attr::node_id, static_cast<uint32_t>(cfg->node_id));
  } else if (const auto* d = std::get_if<events::Device>(&n.object)) {
    auto cfg = e.DeviceConfigOf(d->minor);
    if (!cfg) return;
    m.minor = d->minor;
    if (cfg->attached) {
      genl::Tla& t = m.Get(Set::kDiskConf);
      t.PutStr(genl::attr::backing_dev, cfg->backing_dev)
          .PutStr(genl::attr::meta_dev, cfg->meta_dev)
          .PutS32(genl::attr::meta_dev_idx, cfg->meta_dev_idx);
      PutOptions(t, cfg->opts, cfg::OptContext::kAttach);
    }
    PutOptions(m.Get(Set::kDeviceConf), OptionSet(cfg::OptContext::kNewMinor),
               cfg::OptContext::kNewMinor);
  } else if (const auto* c = std::get_if<events::Connection>(&n.object)) {
    auto cfg = e.ConnectionConfigOf(c->resource, c->peer_node_id);
    if (!cfg) return;
    genl::Tla& t = m.Get(Set::kNetConf);
    PutOptions(t, cfg->net, cfg::OptContext::kShowNetOptions);
    std::erase_if(t.attrs, [](const genl::Attr& a) { return a.nr == genl::attr::name.nr; });
    t.PutStr(genl::attr::name, cfg->name);
    if (!cfg->paths.empty()) {
      genl::Tla& p = m.Get(Set::kPathParms);
      for (const auto& [local, peer] : cfg->paths) {
        std::string l = notify::SockaddrFromAddress(local), r = notify::SockaddrFromAddress(peer);
        p.PutBin(genl::attr::my_addr, AsBytes(l)).PutBin(genl::attr::peer_addr, AsBytes(r));
      }
    }
  } else if (const auto* p = std::get_if<events::PeerDevice>(&n.object)) {
    auto opts = e.PeerDeviceOptionsOf(p->resource, p->peer_node_id, p->volume);
    if (!opts) return;
    PutOptions(m.Get(Set::kPeerDeviceOpts), *opts, cfg::OptContext::kPeerDeviceOptions);
  }
}

void GenlEndpoint::Publish(const events::Notification& n) {
  if (subscribers_.empty()) return;
  genl::Message m = notify::EncodeNotification(n);
  m.nl.type = kFamilyId;
  m.nl.seq = ++event_seq_;
  m.nl.pid = 0;
  m.set_ret_code(engine::ToInt(Ret::kNoError));
  auto bytes = EncodeOrEmpty(m);
  if (bytes.empty()) return;
  for (auto& [client, send] : subscribers_) send(bytes);
}

}  // namespace drbd::simd
