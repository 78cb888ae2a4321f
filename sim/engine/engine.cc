// SPDX-License-Identifier: GPL-2.0-or-later
// Engine control requests, the state-change machinery (capture, validate,
// apply, notify) and attach/detach through the metadata library. The
// validation order and return codes follow the kernel's drbd_nl.c and
// drbd_state.c (facts in /work/shared/spec/genl.md); networking lives in
// engine_net.cc.
#include "sim/engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "lib/md/superblock.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace {

using events::NotifyType;

constexpr std::string_view kNameErrorStrict =
    "invalid name (strict_names=1 allows only [0-9A-Za-z+._-])";

void PutNameError(Reply& reply, Ret r) {
  if (r == Ret::kErrInvalidRequest) reply.info.emplace_back(kNameErrorStrict);
  if (r == Ret::kErrMandatoryTag) reply.info.emplace_back("name missing");
  if (r == Ret::kErrAlreadyExists) reply.info.emplace_back("name already exists");
}

std::string_view Word(Role r) { return events::ToString(r); }
std::string_view Word(DiskState d) { return events::ToString(d); }
std::string_view Word(ConnState c) { return events::ToString(c); }
std::string_view Word(ReplState r) { return events::ToString(r); }

// Ends a request with `r`, and `text` for the reply's info when given.
void Fail(Reply& reply, Ret r, std::string_view text = {}) {
  reply.ret = r;
  if (!text.empty()) reply.info.emplace_back(text);
}

bool IsVerify(ReplState r) { return r == ReplState::kVerifyS || r == ReplState::kVerifyT; }

// The kernel's resync-susp( ... ) words in a state change line: "no", or
// the reasons ("user,peer,after dependency").
std::string ResyncSuspWords(bool user, bool peer, bool dep) {
  std::string s;
  if (user) s += "user,";
  if (peer) s += "peer,";
  if (dep) s += "after dependency,";
  if (s.empty()) return "no";
  s.pop_back();
  return s;
}

}  // namespace

Ret CheckName(const std::string& name) {
  if (name.empty()) return Ret::kErrMandatoryTag;
  if (name == "all") return Ret::kErrInvalidRequest;
  for (unsigned char c : name) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '+' || c == '-' || c == '.' || c == '_';
    if (!ok) return Ret::kErrInvalidRequest;
  }
  return Ret::kNoError;
}

std::string PrettySize(uint64_t kb) {
  static constexpr char kUnits[] = {'K', 'M', 'G', 'T', 'P', 'E'};
  size_t base = 0;
  while (kb >= 10000 && base < sizeof(kUnits) - 1) {
    kb = (kb >> 10) + ((kb & (1u << 9)) ? 1 : 0);
    ++base;
  }
  return fmt::format("{} {}B", kb, kUnits[base]);
}

// ---------------------------------------------------------------------------
// Construction and lookup

Engine::Engine(std::string node_name, sim::Env env) : node_name_(std::move(node_name)), env_(env) {}

Engine::~Engine() {
  for (auto& [name, r] : resources_) {
    for (auto& [peer, c] : r->connections) StopNetworking(*r, c);
  }
  for (auto& [key, l] : listeners_) env_.net->StopListening(l.id);
  if (graveyard_timer_) env_.clock->CancelTimer(graveyard_timer_);
  if (uuid_waiters_timer_) env_.clock->CancelTimer(uuid_waiters_timer_);
  for (auto& [id, s] : sessions_) {
    if (s->handshake_timer) env_.clock->CancelTimer(s->handshake_timer);
    if (s->rx_pages_timer) env_.clock->CancelTimer(s->rx_pages_timer);
  }
  sessions_.clear();
  graveyard_.clear();
}

Engine::Resource* Engine::FindResource(const std::string& name) {
  auto it = resources_.find(name);
  return it == resources_.end() ? nullptr : it->second.get();
}

const Engine::Resource* Engine::FindResource(const std::string& name) const {
  auto it = resources_.find(name);
  return it == resources_.end() ? nullptr : it->second.get();
}

Engine::Resource* Engine::ResourceOfMinor(uint32_t minor) {
  auto it = minors_.find(minor);
  return it == minors_.end() ? nullptr : FindResource(it->second.first);
}

Engine::Device* Engine::FindMinor(uint32_t minor) {
  auto it = minors_.find(minor);
  if (it == minors_.end()) return nullptr;
  Resource* r = FindResource(it->second.first);
  if (r == nullptr) return nullptr;
  auto d = r->devices.find(it->second.second);
  return d == r->devices.end() ? nullptr : &d->second;
}

Engine::Connection* Engine::FindConnection(const std::string& res, uint32_t peer,
                                           Resource** res_out) {
  Resource* r = FindResource(res);
  if (r == nullptr) return nullptr;
  auto it = r->connections.find(peer);
  if (it == r->connections.end()) return nullptr;
  if (res_out) *res_out = r;
  return &it->second;
}

const Engine::Connection* Engine::FindConnection(const std::string& res, uint32_t peer) const {
  return const_cast<Engine*>(this)->FindConnection(res, peer);
}

const Engine::PeerDevice* Engine::FindPeerDevice(const std::string& res, uint32_t peer,
                                                 uint32_t vol) const {
  const Connection* c = FindConnection(res, peer);
  if (c == nullptr) return nullptr;
  auto it = c->peer_devices.find(vol);
  return it == c->peer_devices.end() ? nullptr : &it->second;
}

const Engine::Device* Engine::FindMinor(uint32_t minor) const {
  return const_cast<Engine*>(this)->FindMinor(minor);
}

// drbd_adm_prepare: resolve the addressed objects in the kernel's order.
Ret Engine::Prepare(const Ctx& ctx, unsigned flags, Reply& reply, Resolved& out) {
  if (flags & kNeedPeerDevice) flags |= kNeedConnection;
  if (flags & kNeedConnection) flags |= kNeedPeerNode;
  if (flags & kNeedPeerNode) flags |= kNeedResource;

  out = Resolved{};
  if (!ctx.resource.empty()) out.res = FindResource(ctx.resource);
  out.dev = FindMinor(ctx.minor);
  Resource* dev_res = out.dev ? ResourceOfMinor(ctx.minor) : nullptr;

  auto fail = [&](Ret r, std::string text) {
    reply.info.push_back(std::move(text));
    return r;
  };
  if (!out.dev && (flags & kNeedMinor)) return fail(Ret::kErrMinorInvalid, "unknown minor");
  if (!out.res && (flags & kNeedResource)) {
    return fail(ctx.resource.empty() ? Ret::kErrInvalidRequest : Ret::kErrResNotKnown,
                "unknown resource");
  }
  if (ctx.peer_node_id) {
    uint32_t peer = *ctx.peer_node_id;
    if (peer >= kNodeIdMax) return fail(Ret::kErrInvalidRequest, "peer node id out of range");
    if (!out.res) return fail(Ret::kErrInvalidRequest, "peer node id given without a resource");
    if (static_cast<int64_t>(peer) == out.res->node_id) {
      return fail(Ret::kErrInvalidRequest, "peer node id cannot be my own node id");
    }
    auto it = out.res->connections.find(peer);
    if (it != out.res->connections.end()) out.conn = &it->second;
  } else if (flags & kNeedPeerNode) {
    return fail(Ret::kErrInvalidRequest, "peer node id missing");
  }
  if ((flags & kNeedConnection) && !out.conn)
    return fail(Ret::kErrInvalidRequest, "unknown connection");
  if (flags & kNeedPeerDevice) {
    if (ctx.volume) {
      auto it = out.conn->peer_devices.find(*ctx.volume);
      if (it != out.conn->peer_devices.end()) out.pd = &it->second;
    }
    if (!out.pd) return fail(Ret::kErrInvalidRequest, "unknown volume");
    if (!out.dev) {
      auto d = out.res->devices.find(out.pd->volume);
      if (d != out.res->devices.end()) {
        out.dev = &d->second;
        dev_res = out.res;
      }
    }
  }
  if (out.dev && out.res && dev_res != out.res) {
    return fail(Ret::kErrInvalidRequest, "minor exists in different resource");
  }
  if (out.dev && ctx.volume && *ctx.volume != out.dev->volume) {
    return fail(Ret::kErrInvalidRequest, "minor exists as different volume");
  }
  if (out.dev && out.pd && out.pd->volume != out.dev->volume) {
    return fail(Ret::kErrInvalidRequest, "peer_device->device != device");
  }
  if (!out.res) out.res = dev_res;
  return Ret::kNoError;
}

// ---------------------------------------------------------------------------
// State machinery

Engine::ResState Engine::Capture(const Resource& r) const {
  ResState s;
  s.role = r.role;
  s.susp_user = r.susp_user;
  s.susp_quorum = r.susp_quorum;
  for (const auto& [vol, d] : r.devices) {
    s.disk[vol] = d.disk;
    s.quorum[vol] = d.have_quorum;
  }
  for (const auto& [peer, c] : r.connections) {
    ResState::Conn& sc = s.conns[peer];
    sc.cstate = c.cstate;
    sc.peer_role = c.peer_role;
    for (const auto& [vol, pd] : c.peer_devices) {
      sc.pd[vol] = ResState::Pd{pd.repl,      pd.peer_disk,   pd.susp_user,
                                pd.susp_peer, pd.peer_client, pd.susp_dep,
                                pd.susp_other_c};
    }
  }
  return s;
}

// is_valid_transition: limits even "hard" changes.
Ret Engine::ValidateHard(const Resource& r, const ResState& o, const ResState& n) const {
  (void)r;
  for (const auto& [peer, nc] : n.conns) {
    auto it = o.conns.find(peer);
    if (it == o.conns.end()) continue;
    ConnState oc = it->second.cstate, ncs = nc.cstate;
    if (oc == ncs) continue;
    if (oc == ConnState::kStandAlone && ncs == ConnState::kDisconnecting)
      return Ret::kSsAlreadyStandalone;
    if (oc == ConnState::kStandAlone && ncs != ConnState::kUnconnected)
      return Ret::kSsNeedConnection;
    if (oc >= ConnState::kTimeout && oc <= ConnState::kTearDown && ncs != ConnState::kUnconnected &&
        ncs != ConnState::kDisconnecting) {
      return Ret::kSsInTransientState;
    }
    if (oc == ConnState::kDisconnecting && ncs != ConnState::kStandAlone)
      return Ret::kSsInTransientState;
  }
  for (const auto& [vol, nd] : n.disk) {
    auto it = o.disk.find(vol);
    if (it == o.disk.end()) continue;
    if ((nd == DiskState::kFailed || nd == DiskState::kDetaching) &&
        it->second == DiskState::kDiskless) {
      return Ret::kSsIsDiskless;
    }
  }
  return Ret::kSsSuccess;
}

// __is_valid_soft_transition: what a voluntary change may not do.
Ret Engine::ValidateSoft(const Resource& r, const ResState& o, const ResState& n) const {
  if (o.role == Role::kPrimary && n.role == Role::kSecondary && HasWriter(r)) {
    return Ret::kSsDeviceInUse;
  }
  if (o.role != Role::kPrimary && n.role == Role::kPrimary) {
    for (const auto& [peer, c] : r.connections) {
      if (c.net.Bool("allow-two-primaries")) continue;
      if (n.conns.at(peer).peer_role == Role::kPrimary) return Ret::kSsTwoPrimaries;
    }
  }
  for (const auto& [peer, nc] : n.conns) {
    const ResState::Conn& oc = o.conns.at(peer);
    if (nc.cstate == ConnState::kDisconnecting && oc.cstate == ConnState::kStandAlone) {
      return Ret::kSsAlreadyStandalone;
    }
    if (nc.cstate == ConnState::kConnecting && oc.cstate < ConnState::kUnconnected) {
      return Ret::kSsNoNetConfig;
    }
    if (nc.cstate == ConnState::kDisconnecting && oc.cstate == ConnState::kUnconnected) {
      return Ret::kSsInTransientState;
    }
    bool two_primaries = r.connections.at(peer).net.Bool("allow-two-primaries");
    if (nc.peer_role == Role::kPrimary && oc.peer_role != Role::kPrimary && !two_primaries &&
        o.role == Role::kPrimary) {
      return Ret::kSsTwoPrimaries;
    }
  }
  for (const auto& [vol, d] : r.devices) {
    DiskState od = o.disk.at(vol), nd = n.disk.at(vol);
    if (nd > DiskState::kAttaching && od == DiskState::kDiskless) return Ret::kSsIsDiskless;
    if (nd == DiskState::kOutdated && od < DiskState::kOutdated && od != DiskState::kAttaching &&
        od != DiskState::kNegotiating) {
      bool allow = false;
      for (const auto& [peer, nc] : n.conns) {
        auto it = nc.pd.find(vol);
        if (it == nc.pd.end()) continue;
        if (IsSyncTarget(o.conns.at(peer).pd.at(vol).repl) &&
            it->second.repl == ReplState::kEstablished) {
          allow = true;
        }
      }
      if (!allow) return Ret::kSsLowerThanOutdated;
    }
    // drbd_data_accessible for OLD and NEW. (A copy of the volume number:
    // clang 14 cannot capture a structured binding in a lambda yet.)
    const auto this_vol = vol;
    auto accessible = [&](const ResState& s) {
      if (s.disk.at(this_vol) == DiskState::kUpToDate) return true;
      for (const auto& [peer, sc] : s.conns) {
        if (!r.connections.at(peer).net.Bool("allow-remote-read")) continue;
        auto it = sc.pd.find(this_vol);
        if (it != sc.pd.end() && it->second.peer_disk == DiskState::kUpToDate) return true;
      }
      return false;
    };
    bool acc_old = accessible(o), acc_new = accessible(n);
    if (!(o.role == Role::kPrimary && !acc_old) && (n.role == Role::kPrimary && !acc_new)) {
      return Ret::kSsNoUpToDateDisk;
    }
    // No promotion without quorum, no graceful change that loses it.
    auto quorum_of = [&](const ResState& s) {
      auto q = s.quorum.find(this_vol);
      return q == s.quorum.end() || q->second;
    };
    if ((o.role == Role::kSecondary || quorum_of(o)) && n.role == Role::kPrimary && !quorum_of(n)) {
      return Ret::kSsNoQuorum;
    }
    for (const auto& [peer, nc] : n.conns) {
      auto it = nc.pd.find(vol);
      if (it == nc.pd.end()) continue;
      const ResState::Pd& npd = it->second;
      const ResState::Pd& opd = o.conns.at(peer).pd.at(vol);
      const Connection& c = r.connections.at(peer);
      int64_t fencing = c.net.Int("fencing");
      auto nop = [](Role role, ReplState repl, DiskState pdsk) {
        return role == Role::kPrimary && repl < ReplState::kEstablished &&
               !(pdsk <= DiskState::kOutdated);
      };
      if (fencing >= 1 && !nop(o.role, opd.repl, opd.peer_disk) &&
          nop(n.role, npd.repl, npd.peer_disk)) {
        return Ret::kSsPrimaryNop;
      }
      if (!(opd.repl > ReplState::kEstablished && od < DiskState::kInconsistent) &&
          (npd.repl > ReplState::kEstablished && nd < DiskState::kInconsistent)) {
        return Ret::kSsNoLocalDisk;
      }
      if (!(opd.repl > ReplState::kEstablished && opd.peer_disk < DiskState::kInconsistent) &&
          (npd.repl > ReplState::kEstablished && npd.peer_disk < DiskState::kInconsistent)) {
        return Ret::kSsNoRemoteDisk;
      }
      if (od > DiskState::kOutdated && nd == DiskState::kOutdated) {
        // local_disk_may_be_outdated
        bool may = true;
        if (n.role == Role::kPrimary) {
          may = false;
        } else {
          for (const auto& [p2, nc2] : n.conns) {
            auto p = nc2.pd.find(vol);
            if (p != nc2.pd.end() && nc2.peer_role == Role::kPrimary &&
                p->second.repl > ReplState::kOff) {
              may = false;
            }
          }
          // Unless this disk is about to be a sync target of some peer.
          for (const auto& [p2, nc2] : n.conns) {
            auto p = nc2.pd.find(vol);
            if (p == nc2.pd.end()) continue;
            const ReplState rs = p->second.repl;
            if (rs == ReplState::kWFBitMapT || rs == ReplState::kStartingSyncT ||
                IsSyncTarget(rs)) {
              may = true;
            }
          }
        }
        if (!may) return Ret::kSsConnectedOutdates;
      }
      if (!IsVerify(opd.repl) && IsVerify(npd.repl) && c.net.Str("verify-alg").empty()) {
        return Ret::kSsNoVerifyAlg;
      }
      if (IsSyncSource(opd.repl) && npd.repl == ReplState::kWFBitMapS) return Ret::kSsResyncRunning;
      if (IsSyncTarget(opd.repl) && npd.repl == ReplState::kWFBitMapT) return Ret::kSsResyncRunning;
      if (npd.repl != opd.repl &&
          (npd.repl == ReplState::kStartingSyncT || npd.repl == ReplState::kStartingSyncS) &&
          opd.repl > ReplState::kEstablished) {
        return Ret::kSsResyncRunning;
      }
      if (IsVerify(npd.repl) && opd.repl < ReplState::kEstablished) return Ret::kSsNeedConnection;
      if (IsVerify(npd.repl) && npd.repl != opd.repl && opd.repl > ReplState::kEstablished) {
        return Ret::kSsResyncRunning;
      }
      if ((npd.repl == ReplState::kStartingSyncS || npd.repl == ReplState::kStartingSyncT) &&
          opd.repl < ReplState::kEstablished) {
        return Ret::kSsNeedConnection;
      }
    }
  }
  return Ret::kSsSuccess;
}

Ret Engine::Change(Resource& r, const ResState& asked, bool hard, const std::string& tag) {
  ResState o = Capture(r);
  ResState n = asked;
  SanitizeQuorum(r, n);  // quorum follows from the rest of the new state
  SelectSyncTarget(r, o, n);  // one resync source at a time (engine_peer_ack.cc)
  SanitizeResyncSusp(r, o, n);
  if (o == n) return Ret::kSsNothingToDo;
  Ret rv = ValidateHard(r, o, n);
  if (rv != Ret::kSsSuccess) return rv;
  if (!hard) {
    rv = ValidateSoft(r, o, n);
    if (rv != Ret::kSsSuccess) return rv;
  }
  Apply(r, n);
  Notify(r, o, n, tag);
  // Connection history the later steps read: reconnects (a fence-peer
  // answer from before the last reconnect is stale) and was_connected (the
  // RECONNECT flag of the next handshake).
  for (auto& [peer, c] : r.connections) {
    auto oit = o.conns.find(peer);
    auto nit = n.conns.find(peer);
    if (oit == o.conns.end() || nit == n.conns.end()) continue;
    const bool was = oit->second.cstate == ConnState::kConnected;
    const bool is = nit->second.cstate == ConnState::kConnected;
    if (!was && is) ++c.reconnects;
    if (was && nit->second.cstate < ConnState::kConnected) c.was_connected = true;
  }
  // A disk that became UpToDate holds the data itself: the UUID exposed
  // without it is done with (KeepExposedWhileInconsistent).
  // Nor is it on a demoted Primary that has a disk attached
  // (KeepExposedWhileInconsistent keeps it for a Primary only).
  for (auto& [vol, d] : r.devices) {
    if ((o.disk.at(vol) != DiskState::kUpToDate && n.disk.at(vol) == DiskState::kUpToDate) ||
        (o.role == Role::kPrimary && n.role != Role::kPrimary && d.data &&
         n.disk.at(vol) != DiskState::kNegotiating)) {
      d.exposed_uuid = 0;
    }
  }
  // lost_contact_to_peer_data on a Primary without an UpToDate disk (none,
  // or a replaced one still Negotiating or Inconsistent) whose data is
  // still reachable: its next write asks for a new data generation
  // (NEW_CUR_UUID; a Primary with an UpToDate disk rotates at that write
  // instead).
  for (auto& [vol, d] : r.devices) {
    if (!d.NewUuidWithoutDisk() || n.role != Role::kPrimary) continue;  // (after Apply)
    bool lost = false;
    // Up-to-date data reachable before the change or after it (drbd 9.2.19,
    // 1eac40e06): a diskless Primary that loses the peer holding its only
    // up-to-date copy has none reachable afterwards, and still owes a new
    // generation for the writes that go on once data is reachable again.
    bool accessible = o.disk.at(vol) == DiskState::kUpToDate;
    for (const auto& [peer, nc] : n.conns) {
      auto oit = o.conns.find(peer);
      auto npit = nc.pd.find(vol);
      if (npit == nc.pd.end()) continue;
      const DiskState ns = npit->second.peer_disk;
      if (ns == DiskState::kUpToDate) accessible = true;
      if (oit == o.conns.end() || !oit->second.pd.count(vol)) continue;
      const DiskState os = oit->second.pd.at(vol).peer_disk;
      if (os == DiskState::kUpToDate) accessible = true;
      auto has_data = [](DiskState s) {
        return s >= DiskState::kInconsistent && s != DiskState::kDUnknown &&
               s != DiskState::kOutdated;
      };
      if (has_data(os) && !has_data(ns)) lost = true;
    }
    if (lost && accessible) d.new_cur_uuid = true;
  }
  HelpersStateChanged(r, o, n, tag);
  QuorumStateChanged(r, o, n);
  SyncResyncRuns(r);
  MdStateChanged(r);
  bool local_changed = o.role != n.role || o.disk != n.disk;
  // The peers see this side's pause-sync and resync-after flags (peer_isp).
  for (const auto& [peer, nc] : n.conns) {
    auto oit = o.conns.find(peer);
    for (const auto& [vol, npd] : nc.pd) {
      if (oit == o.conns.end() || !oit->second.pd.count(vol)) continue;
      const ResState::Pd& opd = oit->second.pd.at(vol);
      if (opd.susp_user != npd.susp_user || opd.susp_dep != npd.susp_dep ||
          opd.susp_other_c != npd.susp_other_c) {
        local_changed = true;
      }
    }
  }
  if (local_changed) {
    BroadcastState(r);
    ReevaluateRepl(r);
  }
  AfterUnstable(r, o, n);  // engine_twopc.cc
  return Ret::kSsSuccess;
}

void Engine::Apply(Resource& r, const ResState& n) {
  r.role = n.role;
  r.susp_user = n.susp_user;
  r.susp_quorum = n.susp_quorum;
  for (auto& [vol, d] : r.devices) {
    d.disk = n.disk.at(vol);
    if (auto q = n.quorum.find(vol); q != n.quorum.end()) d.have_quorum = q->second;
  }
  for (auto& [peer, c] : r.connections) {
    const ResState::Conn& nc = n.conns.at(peer);
    c.cstate = nc.cstate;
    c.peer_role = nc.peer_role;
    for (auto& [vol, pd] : c.peer_devices) {
      const ResState::Pd& npd = nc.pd.at(vol);
      pd.repl = npd.repl;
      pd.peer_disk = npd.peer_disk;
      pd.susp_user = npd.susp_user;
      pd.susp_peer = npd.susp_peer;
      pd.susp_dep = npd.susp_dep;
      pd.susp_other_c = npd.susp_other_c;
      pd.peer_client = npd.peer_client;
    }
  }
}

// notify_state_change order: resource, connections, devices, peer devices;
// NOTIFY_CONTINUES on all but the last. Log lines as the kernel prints them.
void Engine::Notify(const Resource& r, const ResState& o, const ResState& n,
                    const std::string& tag) {
  std::vector<events::Notification> out;
  const std::string suffix = tag.empty() ? "" : " [" + tag + "]";
  if (o.role != n.role || o.susp_user != n.susp_user || o.susp_quorum != n.susp_quorum) {
    out.push_back(ResourceNote(r, NotifyType::kChange));
    if (o.role != n.role) {
      Log(fmt::format("{}: role( {} -> {} ){}", Prefix(r), Word(o.role), Word(n.role), suffix));
    }
    if (o.susp_user != n.susp_user || o.susp_quorum != n.susp_quorum) {
      // The kernel's suspend flags in its order: user, fencing, quorum.
      const bool fen = IoFrozen(r);
      auto flags = [fen](const ResState& s) {
        std::string f;
        if (s.susp_user) f += "user,";
        if (fen) f += "fencing,";
        if (s.susp_quorum) f += "quorum,";
        if (f.empty()) return std::string("no");
        f.pop_back();
        return f;
      };
      Log(fmt::format("{}: susp-io( {} -> {} ){}", Prefix(r), flags(o), flags(n), suffix));
    }
  }
  for (const auto& [peer, c] : r.connections) {
    const ResState::Conn& oc = o.conns.at(peer);
    const ResState::Conn& nc = n.conns.at(peer);
    if (oc.cstate == nc.cstate && oc.peer_role == nc.peer_role) continue;
    out.push_back(ConnectionNote(r, c, NotifyType::kChange));
    std::string line = Prefix(r, c) + ":";
    if (oc.cstate != nc.cstate)
      line += fmt::format(" conn( {} -> {} )", Word(oc.cstate), Word(nc.cstate));
    if (oc.peer_role != nc.peer_role) {
      line += fmt::format(" peer( {} -> {} )", Word(oc.peer_role), Word(nc.peer_role));
    }
    Log(line + suffix);
  }
  for (const auto& [vol, d] : r.devices) {
    auto oq = o.quorum.find(vol), nq = n.quorum.find(vol);
    const bool quorum_changed =
        oq != o.quorum.end() && nq != n.quorum.end() && oq->second != nq->second;
    if (o.disk.at(vol) == n.disk.at(vol) && !quorum_changed) continue;
    out.push_back(DeviceNote(r, d, NotifyType::kChange));
    std::string line = Prefix(r, d) + ":";
    if (o.disk.at(vol) != n.disk.at(vol))
      line += fmt::format(" disk( {} -> {} )", Word(o.disk.at(vol)), Word(n.disk.at(vol)));
    if (quorum_changed) {
      line += fmt::format(" quorum( {} -> {} )", oq->second ? "yes" : "no",
                          nq->second ? "yes" : "no");
    }
    Log(line + suffix);
  }
  for (const auto& [peer, c] : r.connections) {
    for (const auto& [vol, pd] : c.peer_devices) {
      const ResState::Pd& opd = o.conns.at(peer).pd.at(vol);
      const ResState::Pd& npd = n.conns.at(peer).pd.at(vol);
      if (opd == npd) continue;
      out.push_back(PeerDeviceNote(r, c, pd, NotifyType::kChange));
      const std::string head = Prefix(r, r.devices.at(vol), c) + ":";
      std::string line = head;
      if (opd.peer_disk != npd.peer_disk) {
        line += fmt::format(" pdsk( {} -> {} )", Word(opd.peer_disk), Word(npd.peer_disk));
      }
      if (opd.repl != npd.repl)
        line += fmt::format(" repl( {} -> {} )", Word(opd.repl), Word(npd.repl));
      const std::string osusp = ResyncSuspWords(opd.susp_user, opd.susp_peer,
                                                   opd.susp_dep || opd.susp_other_c);
      const std::string nsusp = ResyncSuspWords(npd.susp_user, npd.susp_peer,
                                                   npd.susp_dep || npd.susp_other_c);
      // Printed when the resync starts or stops being suspended, not when
      // only its reasons change.
      if ((osusp == "no") != (nsusp == "no")) {
        line += fmt::format(" resync-susp( {} -> {} )", osusp, nsusp);
      }
      if (line != head) Log(line + suffix);  // the kernel prints no empty change
    }
  }
  EmitChain(std::move(out));
}

// ---------------------------------------------------------------------------
// Notifications and logging

events::Notification Engine::ResourceNote(const Resource& r, NotifyType t) const {
  events::Resource o;
  o.name = r.name;
  o.node_id = static_cast<uint32_t>(r.node_id);
  o.info.role = r.role;
  o.info.susp.user = r.susp_user;
  o.info.susp.fencing = IoFrozen(r);
  o.info.susp.quorum = r.susp_quorum;
  o.stats = events::ResourceStatistics{WriteOrderingOf(r)};
  return events::Notification{t, false, o};
}

events::Notification Engine::DeviceNote(const Resource& r, const Device& d, NotifyType t) const {
  events::Device o;
  o.resource = r.name;
  o.volume = d.volume;
  o.minor = d.minor;
  o.info.disk_state = d.disk;
  o.info.intentional_diskless =
      d.intentional_diskless ? events::Tristate::kYes : events::Tristate::kNo;
  o.info.has_quorum = d.have_quorum;
  o.info.backing_dev = d.disk == DiskState::kDiskless || d.disk == DiskState::kDetaching ||
                               d.disk == DiskState::kAttaching
                           ? ""
                           : d.backing_dev;
  o.info.is_open = OpenCount(d.minor) > 0 ? events::Tristate::kYes : events::Tristate::kNo;
  // device_statistics; al-writes / bm-writes count since the attach.
  events::DeviceStatistics st;
  st.size = DeviceBytes(d.minor).value_or(0) / 512;
  st.read = d.read_sectors;
  st.written = d.written_sectors;
  st.upper_pending = d.upper_pending;
  st.lower_pending = d.lower_pending;
  if (d.md_state) {
    st.al_writes = d.md_state->al_writes;
    st.bm_writes = d.md_state->bm_writes;
  }
  if (d.data) {
    st.current_uuid = d.sb.current_uuid;
    st.disk_flags = GiFlags(r, d);
    // The whole history array, as the kernel sends it (show-gi prints two).
    st.history_uuids.assign(d.sb.history_uuids.begin(), d.sb.history_uuids.end());
  }
  o.stats = st;
  return events::Notification{t, false, o};
}

events::Notification Engine::ConnectionNote(const Resource& r, const Connection& c,
                                            NotifyType t) const {
  events::Connection o;
  o.resource = r.name;
  o.peer_node_id = c.peer_node_id;
  o.name = c.name;
  o.info.conn_state = c.cstate;
  o.info.peer_role = c.peer_role;
  o.stats = ConnectionStatsOf(r, c);
  return events::Notification{t, false, o};
}

events::Notification Engine::PeerDeviceNote(const Resource& r, const Connection& c,
                                            const PeerDevice& pd, NotifyType t) const {
  events::PeerDevice o;
  o.resource = r.name;
  o.peer_node_id = c.peer_node_id;
  o.conn_name = c.name;
  o.volume = pd.volume;
  o.info.repl_state = pd.repl;
  o.info.peer_disk_state = pd.peer_disk;
  o.info.resync_susp.user = pd.susp_user;
  o.info.resync_susp.peer = pd.susp_peer;
  // resync_susp_comb_dep: resync-after and connection dependencies.
  o.info.resync_susp.dependency = pd.susp_dep || pd.susp_other_c;
  o.info.peer_intentional_diskless =
      pd.peer_client ? events::Tristate::kYes : events::Tristate::kNo;
  // peer_device_statistics, as far as the data path counts them.
  events::PeerDeviceStatistics st;
  st.sent = pd.sent_bytes / 512;
  st.received = pd.received_bytes / 512;
  st.out_of_sync = pd.oos_count * 8;
  // The flags of the peer's last UUID record (drbdsetup derives may_promote
  // from their STABLE bit).
  st.uuid_flags = pd.peer.uuid_flags;
  if (auto dit = r.devices.find(pd.volume);
      dit != r.devices.end() && dit->second.data && c.peer_node_id < md::kPeersMax) {
    st.bitmap_uuid = dit->second.sb.peers[c.peer_node_id].bitmap_uuid;
    // peer_dev_flags as show-gi prints them in the captures: the on-disk
    // ones (connected is kept there), peer outdated or inconsistent while
    // connected, a disk seen there.
    uint32_t f = dit->second.sb.peers[c.peer_node_id].flags;
    if (c.cstate == ConnState::kConnected) {
      f = (f & ~uint32_t{md::kPeerOutdated}) | md::kPeerConnected;
      if (pd.peer_disk == DiskState::kInconsistent || pd.peer_disk == DiskState::kOutdated) {
        f |= md::kPeerOutdated;
      }
    }
    if (pd.peer_disk_seen) f |= md::kPeerDeviceSeen;
    st.flags = f;
  }
  st.rs_total = 0;
  if (pd.rs_gen || pd.rs_target) {
    st.rs_total = pd.rs_total * 8;
    st.rs_dt_start_ms = (env_.clock->NowNs() - pd.rs_start_ns) / 1000000;
  }
  if (pd.rs_target) st.out_of_sync = (pd.rs_total - std::min(pd.rs_received, pd.rs_total)) * 8;
  // A just-created disk holds nothing its peers have: all of it is out of
  // sync until a sync or a skipped one (captures: 32728 before any sync).
  if (auto dit = r.devices.find(pd.volume); dit != r.devices.end() && !pd.rs_gen && !pd.rs_target) {
    const Device& dev = dit->second;
    if (dev.data && (dev.sb.current_uuid & ~kUuidPrimaryBit) == md::kUuidJustCreated) {
      st.out_of_sync = (dev.size_sectors + 7) / 8 * 8;
    }
  }
  o.stats = st;
  return events::Notification{t, false, o};
}

events::Notification Engine::PathNote(const Resource& r, const Connection& c, const Path& p,
                                      NotifyType t) const {
  events::Path o;
  o.resource = r.name;
  o.peer_node_id = c.peer_node_id;
  o.conn_name = c.name;
  o.local = p.local;
  o.peer = p.peer;
  o.established = p.established;
  return events::Notification{t, false, o};
}

void Engine::Emit(const events::Notification& n) {
  if (env_.events) env_.events->OnEvent(n);
}

void Engine::Log(const std::string& line) {
  if (env_.events) env_.events->OnLog(line);
}

std::string Engine::Prefix(const Resource& r) const { return "drbd " + r.name; }
std::string Engine::Prefix(const Resource& r, const Device& d) const {
  return fmt::format("drbd {}/{} drbd{}", r.name, d.volume, d.minor);
}
std::string Engine::Prefix(const Resource& r, const Connection& c) const {
  return fmt::format("drbd {} {}", r.name, c.name);
}
std::string Engine::Prefix(const Resource& r, const Device& d, const Connection& c) const {
  return fmt::format("drbd {}/{} drbd{} {}", r.name, d.volume, d.minor, c.name);
}

std::vector<events::Notification> Engine::InitialState(const std::string& only,
                                                       bool resources_only) const {
  std::vector<events::Notification> out;
  auto first = only.empty() ? resources_.begin() : resources_.find(only);
  auto last = only.empty() || first == resources_.end() ? resources_.end() : std::next(first);
  for (auto it = first; it != last; ++it) {
    const Resource* r = it->second.get();
    out.push_back(ResourceNote(*r, NotifyType::kExists));
    if (resources_only) continue;
    for (const auto& [vol, d] : r->devices) out.push_back(DeviceNote(*r, d, NotifyType::kExists));
    for (const auto& [peer, c] : r->connections)
      out.push_back(ConnectionNote(*r, c, NotifyType::kExists));
    for (const auto& [peer, c] : r->connections) {
      for (const auto& [vol, pd] : c.peer_devices) {
        out.push_back(PeerDeviceNote(*r, c, pd, NotifyType::kExists));
      }
    }
    for (const auto& [peer, c] : r->connections) {
      for (const Path& p : c.paths) out.push_back(PathNote(*r, c, p, NotifyType::kExists));
    }
  }
  return out;
}

Reply Engine::Serve(const Ctx& ctx, unsigned flags,
                    const std::function<void(Reply&, Resolved&)>& body) {
  Reply reply;
  Resolved rs;
  reply.ret = Prepare(ctx, flags, reply, rs);
  if (reply.ret == Ret::kNoError) body(reply, rs);
  return reply;
}

void Engine::EmitChain(std::vector<events::Notification> notes) {
  for (size_t i = 0; i < notes.size(); ++i) {
    notes[i].continues = i + 1 < notes.size();
    Emit(notes[i]);
  }
}

Engine::Session* Engine::SessionOf(const Connection& c) {
  auto it = sessions_.find(c.session);
  return it == sessions_.end() ? nullptr : it->second.get();
}

// ---------------------------------------------------------------------------
// Resources

Reply Engine::NewResource(const Ctx& ctx, int64_t node_id, const OptionSet& res_opts) {
  return Serve(ctx, 0, [&](Reply& reply, Resolved& rs) {
    if (node_id < 0) return Fail(reply, Ret::kErrMandatoryTag, "required attribute missing");
    if (rs.res) return;  // exists already: the kernel answers NO_ERROR
    reply.ret = CheckName(ctx.resource);
    if (reply.ret != Ret::kNoError) {
      PutNameError(reply, reply.ret);
      return;
    }
    if (node_id >= kNodeIdMax) return Fail(reply, Ret::kErrInvalidRequest);
    auto r = std::make_unique<Resource>();
    r->name = ctx.resource;
    r->node_id = static_cast<int32_t>(node_id);
    r->opts = OptionSet(cfg::OptContext::kResourceOptions).Changed(res_opts, false);
    Log(fmt::format("drbd {}: Starting worker thread (node-id {})", r->name, node_id));
    Resource& ref = *r;
    resources_[ctx.resource] = std::move(r);
    Emit(ResourceNote(ref, NotifyType::kCreate));
  });
}

Ret Engine::DeleteResource(const std::string& name) {
  Resource* r = FindResource(name);
  if (r == nullptr) return Ret::kErrResNotKnown;
  if (!r->connections.empty()) return Ret::kErrNetConfigured;
  if (!r->devices.empty()) return Ret::kErrResInUse;
  events::Notification n = ResourceNote(*r, NotifyType::kDestroy);
  resources_.erase(name);
  Emit(n);
  return Ret::kNoError;
}

Reply Engine::DelResource(const Ctx& ctx) {
  return Serve(ctx, kNeedResource,
               [&](Reply& reply, Resolved& rs) { reply.ret = DeleteResource(rs.res->name); });
}

Reply Engine::ResourceOptions(const Ctx& ctx, const OptionSet& change, bool set_defaults) {
  return Serve(ctx, kNeedResource, [&](Reply&, Resolved& rs) {
    rs.res->opts = rs.res->opts.Changed(change, set_defaults);
    // CS_FORCE_RECALC: quorum settings take effect at once.
    Change(*rs.res, Capture(*rs.res), true, "");
  });
}

// ---------------------------------------------------------------------------
// Minors

events::Notification Engine::AddPeerDevice(Resource& r, Connection& c, Device& d) {
  PeerDevice pd;
  pd.volume = d.volume;
  auto it = c.peer_devices.emplace(d.volume, std::move(pd)).first;
  MdAssignSlot(r, c, d);
  return PeerDeviceNote(r, c, it->second, NotifyType::kCreate);
}

Reply Engine::NewMinor(const Ctx& ctx, uint32_t block_size, bool intentional_diskless) {
  return Serve(ctx, kNeedResource, [&](Reply& reply, Resolved& rs) {
    if (ctx.minor > kMinorMask) {
      return Fail(reply, Ret::kErrInvalidRequest, "requested minor out of range");
    }
    uint32_t volume = ctx.volume.value_or(~0u);
    if (volume > kVolumeMax) {
      return Fail(reply, Ret::kErrInvalidRequest, "requested volume id out of range");
    }
    if (block_size != 512 && block_size != 1024 && block_size != 2048 && block_size != 4096)
      return Fail(reply, Ret::kErrInvalidRequest, "block_size not 512, 1024, 2048, or 4096");
    if (rs.dev) return;  // same minor, same volume, same resource: nothing to do
    if (FindMinor(ctx.minor) != nullptr || rs.res->devices.count(volume)) {
      return Fail(reply, Ret::kErrMinorOrVolumeExists);
    }
    Resource& r = *rs.res;
    Device& d = r.devices[volume];
    d.minor = ctx.minor;
    d.volume = volume;
    d.intentional_diskless = intentional_diskless;
    minors_[ctx.minor] = {r.name, volume};
    std::vector<events::Notification> out;
    out.push_back(DeviceNote(r, d, NotifyType::kCreate));
    for (auto& [peer, c] : r.connections) {
      out.push_back(AddPeerDevice(r, c, d));
    }
    EmitChain(std::move(out));
  });
}

Ret Engine::DeleteMinor(Resource& r, uint32_t volume) {
  Device& d = r.devices.at(volume);
  if (d.disk != DiskState::kDiskless) return Ret::kErrMinorConfigured;
  ResState n = Capture(r);
  for (auto& [peer, c] : n.conns) c.pd.at(volume).repl = ReplState::kOff;
  Change(r, n, true, "del-minor");
  std::vector<events::Notification> out;
  for (auto& [peer, c] : r.connections) {
    out.push_back(PeerDeviceNote(r, c, c.peer_devices.at(volume), NotifyType::kDestroy));
    c.peer_devices.erase(volume);
  }
  out.push_back(DeviceNote(r, d, NotifyType::kDestroy));
  // Writes still held for a new UUID (Device::bump_held) fail.
  for (Device::HeldWrite& w : std::exchange(d.bump_held, {})) {
    env_.clock->StartTimer(0, [done = std::move(w.done)] { done(EIO); });
  }
  minors_.erase(d.minor);
  r.devices.erase(volume);
  EmitChain(std::move(out));
  BroadcastState(r);
  return Ret::kNoError;
}

Reply Engine::DelMinor(const Ctx& ctx) {
  return Serve(ctx, kNeedMinor, [&](Reply& reply, Resolved& rs) {
    reply.ret = DeleteMinor(*rs.res, rs.dev->volume);
  });
}

// ---------------------------------------------------------------------------
// Attach / detach

DiskState Engine::DiskStateFromMd(const Device& d) const {
  if (!(d.sb.flags & md::kMdfConsistent)) return DiskState::kInconsistent;
  if (!(d.sb.flags & md::kMdfWasUpToDate)) return DiskState::kOutdated;
  // may_be_up_to_date: with fencing recorded toward a peer that was not
  // outdated, the data may be stale until that peer is seen again.
  for (int node = 0; node < md::kPeersMax; ++node) {
    if (node == d.sb.node_id) continue;
    const md::PeerRecord& p = d.sb.peers[node];
    if (!(p.flags & md::kNodeExists) && p.bitmap_index < 0) continue;
    if (!(p.flags & md::kPeerFencing)) continue;
    if (p.flags & md::kPeerOutdated) continue;
    return DiskState::kConsistent;
  }
  return DiskState::kUpToDate;
}

void Engine::Attach(const Ctx& ctx, const DiskConf& conf, std::function<void(Reply)> done) {
  // The reply goes out here unless the metadata read took it over.
  bool started = false;
  Reply early = Serve(ctx, kNeedMinor, [&](Reply& reply, Resolved& rs) {
    if (conf.meta_dev_idx < kMetaIdxFlexInt) return Fail(reply, Ret::kErrMdIdxInvalid);
    if (Ret ra = CheckResyncAfter(rs.dev->minor, conf.opts.Int("resync-after"));
        ra != Ret::kNoError) {
      return Fail(reply, ra);
    }
    int err = 0;
    std::shared_ptr<sim::Disk> data(env_.disks->Open(conf.backing_dev, &err));
    if (!data) {
      reply.ret = Ret::kErrOpenDisk;
      Log(fmt::format("{}: open(\"{}\") failed with {}", Prefix(*rs.res, *rs.dev), conf.backing_dev,
                      -err));
      return;
    }
    std::shared_ptr<sim::Disk> meta = data;
    if (conf.meta_dev != conf.backing_dev) {
      meta = std::shared_ptr<sim::Disk>(env_.disks->Open(conf.meta_dev, &err));
      if (!meta) {
        reply.ret = Ret::kErrOpenMdDisk;
        Log(fmt::format("{}: open(\"{}\") failed with {}", Prefix(*rs.res, *rs.dev), conf.meta_dev,
                        -err));
        return;
      }
    }
    bool internal = conf.meta_dev_idx == kMetaIdxInternal || conf.meta_dev_idx == kMetaIdxFlexInt;
    if ((conf.meta_dev == conf.backing_dev) != internal) return Fail(reply, Ret::kErrMdIdxInvalid);
    Device& d = *rs.dev;
    Resource& r = *rs.res;
    if (d.disk > DiskState::kDiskless) return Fail(reply, Ret::kErrDiskConfigured);
    ResState n = Capture(r);
    n.disk[d.volume] = DiskState::kAttaching;
    Ret rv = Change(r, n, false, "attach");
    if (rv != Ret::kSsSuccess) return Fail(reply, rv);
    d.data = data;
    d.meta = meta;
    d.meta_idx = internal ? kMetaIdxFlexInt : conf.meta_dev_idx;
    d.md_offset = md::SuperblockOffset(d.meta_idx, meta->SizeBytes());
    d.attach_gen = next_attach_gen_++;
    uint64_t gen = d.attach_gen;
    std::string res = r.name;
    uint32_t minor = d.minor;
    meta->Read(d.md_offset, md::kSuperblockBytes,
               [this, res, minor, gen, conf, done](bool ok, std::vector<uint8_t> bytes) {
                 FinishAttach(res, minor, gen, conf, ok, std::move(bytes), done);
               });
    started = true;
  });
  if (!started) done(std::move(early));
}

Engine::Device* Engine::AttachingDevice(const std::string& res, uint32_t minor, uint64_t gen,
                                        const std::function<void(Reply)>& done, Resource** r) {
  *r = FindResource(res);
  Device* d = FindMinor(minor);
  if (*r != nullptr && d != nullptr && d->attach_gen == gen && d->disk == DiskState::kAttaching) {
    return d;
  }
  Reply reply;
  reply.ret = Ret::kErrIoMdDisk;
  reply.info.emplace_back("attach interrupted");
  done(std::move(reply));
  return nullptr;
}

void Engine::AttachFailed(Resource& r, Device& d, Ret ret, const std::string& text,
                          const std::function<void(Reply)>& done) {
  Reply reply;
  reply.ret = ret;
  if (!text.empty()) {
    Log(fmt::format("{}: {}", Prefix(r, d), text));
    reply.info.push_back(text);
  }
  ResState n = Capture(r);
  n.disk[d.volume] = DiskState::kDiskless;
  Change(r, n, true, "attach");
  d.data.reset();
  d.meta.reset();
  done(std::move(reply));
}

void Engine::FinishAttach(const std::string& res, uint32_t minor, uint64_t gen,
                          const DiskConf& conf, bool ok, std::vector<uint8_t> bytes,
                          std::function<void(Reply)> done) {
  Resource* r = nullptr;
  Device* d = AttachingDevice(res, minor, gen, done, &r);
  if (d == nullptr) return;
  auto fail = [&](Ret ret, const std::string& text) { AttachFailed(*r, *d, ret, text, done); };
  if (ok && InsertFault(*r, *d, kFaultMdRd)) ok = false;  // engine_faults.cc
  if (!ok || bytes.size() != md::kSuperblockBytes)
    return fail(Ret::kErrIoMdDisk, "meta data read failed");
  uint64_t meta_bytes = d->meta->SizeBytes();
  md::Superblock sb = md::Decode(md::Format::kV09, std::span<const uint8_t, md::kSuperblockBytes>(
                                                       bytes.data(), md::kSuperblockBytes));
  md::Validation v = md::Validate(md::Format::kV09, sb, d->meta_idx, meta_bytes);
  if (!v.magic_ok) {
    md::Superblock old = md::Decode(
        md::Format::kV08,
        std::span<const uint8_t, md::kSuperblockBytes>(bytes.data(), md::kSuperblockBytes));
    if (md::MagicMatches(md::Format::kV08, old.magic)) {
      return fail(Ret::kErrMdInvalid, "Found old meta data magic. Did you \"drbdadm create-md\"?");
    }
    return fail(Ret::kErrMdInvalid, "Meta data magic not found (v09)");
  }
  if (!v.ok) return fail(Ret::kErrMdInvalid, v.message);
  if (sb.node_id != -1 && sb.node_id != r->node_id) {
    return fail(Ret::kErrInvalidRequest,
                fmt::format("Local node id {} differs from local node id {} on device", r->node_id,
                            sb.node_id));
  }
  md::Layout layout = md::ComputeLayout(sb, d->meta_idx, meta_bytes);
  uint64_t usable = d->meta_idx == kMetaIdxFlexInt
                        ? layout.max_usable_sect
                        : std::min<uint64_t>(layout.max_usable_sect, d->data->SizeBytes() >> 9);
  int64_t want = conf.opts.Int("size");
  if (want > 0 && static_cast<uint64_t>(want) > usable) {
    return fail(Ret::kErrDiskTooSmall, "requested size is larger than the backing device");
  }
  d->sb = sb;
  d->sb.node_id = r->node_id;
  d->size_sectors = want > 0 ? static_cast<uint64_t>(want) : usable;
  d->backing_dev = conf.backing_dev;
  d->meta_dev = conf.meta_dev;
  d->conf_meta_idx = conf.meta_dev_idx;
  d->disk_opts = conf.opts;
  // The bitmap and the activity log are read (and an unclean log applied)
  // before the disk state is known.
  MdAttach(*r, *d, [this, res, minor, gen, done](Ret rv, const std::string& text) {
    Resource* r = nullptr;
    Device* d = AttachingDevice(res, minor, gen, done, &r);
    if (d == nullptr) return;
    if (rv != Ret::kNoError) return AttachFailed(*r, *d, rv, text, done);
    Reply reply;
    Log(fmt::format("{}: Method to ensure write ordering: {}", Prefix(*r),
                    events::ToString(WriteOrderingOf(*r))));
    Log(fmt::format("{}: size = {} ({} KB)", Prefix(*r, *d), PrettySize(d->size_sectors >> 1),
                    d->size_sectors >> 1));
    // USE_DEGR_WFC_T: a degraded Primary that crashed waits degr-wfc-timeout.
    for (auto& [peer, c] : r->connections) {
      auto it = c.peer_devices.find(d->volume);
      if (it == c.peer_devices.end()) continue;
      it->second.degr_wfc =
          r->role != Role::kPrimary && (d->sb.flags & md::kMdfPrimaryInd) &&
          !(peer < md::kPeersMax && (d->sb.peers[peer].flags & md::kPeerConnected));
    }
    ResState n = Capture(*r);
    n.disk[d->volume] = DiskStateFromMd(*d);
    // A peer exposed newer data while this device was diskless (13b).
    if (d->exposed_uuid && (d->sb.current_uuid & ~kUuidPrimaryBit) != d->exposed_uuid &&
        n.disk[d->volume] > DiskState::kOutdated) {
      n.disk[d->volume] = DiskState::kOutdated;
    }
    // drbd_adm_attach: with connected peers that have a disk the new disk
    // is Negotiating; each peer runs the sync handshake for it and answers,
    // and the disk state follows their decisions (ResolveNegotiation,
    // engine_net.cc). Deciding here too, on UUIDs the peer may have
    // changed meanwhile, could pick another direction than the peer.
    bool negotiate = false;
    for (auto& [peer, c] : r->connections) {
      Session* s = SessionOf(c);
      auto pit = c.peer_devices.find(d->volume);
      if (c.cstate != ConnState::kConnected || !s || !s->up || pit == c.peer_devices.end()) {
        continue;
      }
      PeerDevice& pd = pit->second;
      pd.neg_result = ReplState::kOff;
      pd.neg_pending = pd.have_peer && pd.peer_disk >= DiskState::kInconsistent &&
                       pd.peer_disk != DiskState::kDUnknown;
      negotiate = negotiate || pd.neg_pending;
    }
    if (negotiate) {
      d->neg_disk = n.disk[d->volume];
      n.disk[d->volume] = DiskState::kNegotiating;
    } else {
      KeepExposedWhileInconsistent(*r, *d, n.disk[d->volume]);
    }
    Change(*r, n, true, "attach");
    Log(fmt::format("{}: attached to current UUID: {:016X}", Prefix(*r, *d), d->sb.current_uuid));
    // Connected peers see the new disk and decide the replication state.
    for (auto& [peer, c] : r->connections) {
      Session* s = SessionOf(c);
      if (!negotiate && c.cstate == ConnState::kConnected && s && s->up) {
        // The new disk meets the peer's data as on a new connection: a
        // sync handshake (capture 13: bitmap-self on the Primary).
        if (auto pit = c.peer_devices.find(d->volume); pit != c.peer_devices.end()) {
          pit->second.have_peer = false;
        }
        ApplyPeerState(*r, c, s->peer_state, false);
      }
    }
    WriteMetadata(*d);
    reply.ret = Ret::kNoError;
    done(std::move(reply));
  });
}

void Engine::WriteMetadata(Device& d, std::function<void()> on_durable) {
  if (!d.meta || MetaWriteFault(d, "drbd_md_write")) {  // engine_faults.cc
    if (on_durable) on_durable();
    return;
  }
  md::Superblock on_disk = d.sb;
  on_disk.flags = MdOnDiskFlags(d);
  md::SuperblockBytes bytes = md::Encode(md::Format::kV09, on_disk);
  std::shared_ptr<sim::Disk> meta = d.meta;
  // Peers' data writes arriving meanwhile wait for it (HoldPeerWrite).
  std::shared_ptr<DeviceMd> md_state = d.md_state;
  if (md_state) ++md_state->sb_in_flight;
  auto durable = [md_state, on_durable = std::move(on_durable)] {
    if (md_state && --md_state->sb_in_flight == 0) ReleaseHeldWrites(*md_state);
    if (on_durable) on_durable();
  };
  // As the kernel's REQ_PREFLUSH | REQ_FUA superblock write: what was
  // written before (resync data a new disk state vouches for) is durable
  // first, the superblock itself right after.
  meta->Flush([meta, offset = d.md_offset, durable,
               sb = std::vector<uint8_t>(bytes.begin(), bytes.end())](bool) mutable {
    meta->Write(offset, std::move(sb), [meta, durable](bool ok) {
      if (!ok) return durable();
      // (`meta` held until the flush completes: a detached disk's last
      // reference, whose completions would be dropped with it.)
      meta->Flush([meta, durable](bool) { durable(); });
    });
  });
}

uint64_t Engine::NewUuid() {
  uint64_t u = 0;
  while ((u & ~uint64_t{kUuidPrimaryBit}) <= md::kUuidJustCreated) u = env_.rng->Next();
  return u & ~uint64_t{kUuidPrimaryBit};
}

Ret Engine::DetachDevice(Resource& r, Device& d, bool force, const std::string& tag) {
  ResState n = Capture(r);
  n.disk[d.volume] = DiskState::kDetaching;
  Ret rv;
  if (force) {
    rv = Change(r, n, true, tag);
    if (rv == Ret::kSsIsDiskless || rv == Ret::kSsNothingToDo) return Ret::kSsSuccess;
  } else {
    rv = Change(r, n, false, tag);
    if (rv == Ret::kSsIsDiskless) return Ret::kSsNothingToDo;
    if (rv != Ret::kSsSuccess) return rv;
  }
  // Detaching -> Diskless once the bitmap and the metadata are written back.
  for (auto& [peer, c] : r.connections) {  // an attach still negotiating ends
    if (auto pit = c.peer_devices.find(d.volume); pit != c.peer_devices.end()) {
      pit->second.neg_pending = false;
      pit->second.neg_result = ReplState::kOff;
      pit->second.neg_demoted = false;
    }
  }
  MdDetach(r, d);
  d.sb.flags &= ~uint32_t{md::kMdfPrimaryInd};
  d.sb.flags |= md::kMdfAlClean;
  // The superblock write starts with a flush: the bitmap and activity-log
  // writes MdDetach issued are durable before it completes.
  ++released_io_->in_flight;
  WriteMetadata(d, [io = released_io_] {
    if (--io->in_flight != 0) return;
    std::vector<std::function<void()>> waiters = std::move(io->waiters);
    io->waiters.clear();
    for (auto& fn : waiters) fn();
  });
  // ensure_exposed_data_uuid (exposable_data_uuid): the data this node
  // exposes without its disk is that of an UpToDate peer, else what the
  // disk held; a peer that connects later on other data is checked
  // against it (ApplyPeerState, engine_net.cc).
  if (d.exposed_uuid == 0) {
    for (const auto& [peer, c] : r.connections) {
      auto pit = c.peer_devices.find(d.volume);
      if (pit == c.peer_devices.end() || pit->second.peer_disk != DiskState::kUpToDate ||
          pit->second.peer.current_uuid == 0) {
        continue;
      }
      d.exposed_uuid = NormUuid(pit->second.peer.current_uuid);
      break;
    }
    const uint64_t own = NormUuid(d.sb.current_uuid);
    if (d.exposed_uuid == 0 && own != md::kUuidJustCreated) d.exposed_uuid = own;
  }
  d.data.reset();
  d.meta.reset();
  d.backing_dev.clear();
  d.meta_dev.clear();
  d.attach_gen = 0;
  ResState n2 = Capture(r);
  n2.disk[d.volume] = DiskState::kDiskless;
  Change(r, n2, true, tag);
  return Ret::kSsSuccess;
}

Reply Engine::Detach(const Ctx& ctx, bool force) {
  return Serve(ctx, kNeedMinor, [&](Reply& reply, Resolved& rs) {
    reply.ret = DetachDevice(*rs.res, *rs.dev, force, "detach");
  });
}

Reply Engine::DiskOptions(const Ctx& ctx, const OptionSet& change, bool set_defaults) {
  return Serve(ctx, kNeedMinor, [&](Reply& reply, Resolved& rs) {
    if (rs.dev->disk <= DiskState::kFailed || !rs.dev->data) return Fail(reply, Ret::kErrNoDisk);
    const events::WriteOrdering before = WriteOrderingOf(*rs.res);
    OptionSet next = rs.dev->disk_opts.Changed(change, set_defaults);
    if (Ret ra = CheckResyncAfter(rs.dev->minor, next.Int("resync-after")); ra != Ret::kNoError) {
      return Fail(reply, ra);
    }
    const bool dep_changed = next.Int("resync-after") != rs.dev->disk_opts.Int("resync-after");
    rs.dev->disk_opts = std::move(next);
    if (dep_changed) ArmResyncAfter();
    if (WriteOrderingOf(*rs.res) != before) {
      Log(fmt::format("{}: Method to ensure write ordering: {}", Prefix(*rs.res),
                      events::ToString(WriteOrderingOf(*rs.res))));
    }
  });
}

// ---------------------------------------------------------------------------
// Peers and paths

namespace {

// check_net_options + alloc_crypto.
Ret CheckNetOptions(const OptionSet& n, Role role, Role peer_role, Reply& reply) {
  constexpr int64_t kProtA = 1, kProtC = 3, kFpStonith = 2, kOcBlock = 0;
  if (!n.Bool("allow-two-primaries") && role == Role::kPrimary && peer_role == Role::kPrimary) {
    return Ret::kErrNeedAllowTwoPri;
  }
  if (n.Bool("allow-two-primaries") && n.Int("protocol") != kProtC) return Ret::kErrNotProtoC;
  if (n.Int("protocol") == kProtA && n.Int("fencing") == kFpStonith)
    return Ret::kErrStonithAndProtA;
  if (n.Int("on-congestion") != kOcBlock && n.Int("protocol") != kProtA)
    return Ret::kErrCongNotProtoA;
  struct Alg {
    const char* opt;
    const char* type;
    Ret err;
  };
  static constexpr Alg kAlgs[] = {{"csums-alg", "csums", Ret::kErrCsumsAlg},
                                  {"verify-alg", "verify", Ret::kErrVerifyAlg},
                                  {"data-integrity-alg", "integrity", Ret::kErrIntegrityAlg}};
  for (const Alg& a : kAlgs) {
    std::string name = n.Str(a.opt);
    // Plain digests (crypto_shash): the HMAC digests plus the CRCs.
    bool known = name == "crc32c" || name == "crc32" || proto::HmacAlgKnown(name);
    if (!name.empty() && !known) {
      reply.info.push_back(fmt::format("failed to allocate {} for {}\n", name, a.type));
      return a.err;
    }
  }
  std::string hmac = n.Str("cram-hmac-alg");
  if (!hmac.empty() && !proto::HmacAlgKnown(hmac)) {
    reply.info.push_back(fmt::format("failed to allocate hmac({}) for hmac\n", hmac));
    return Ret::kErrAuthAlg;
  }
  return Ret::kNoError;
}

}  // namespace

Reply Engine::NewPeer(const Ctx& ctx, const std::string& conn_name, const OptionSet& net) {
  return Serve(ctx, kNeedPeerNode, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    if (rs.conn) return Fail(reply, Ret::kErrInvalidRequest);
    reply.ret = CheckName(conn_name);
    if (reply.ret == Ret::kNoError) {
      for (const auto& [peer, c] : r.connections) {
        if (c.name == conn_name) reply.ret = Ret::kErrAlreadyExists;
      }
    }
    if (reply.ret != Ret::kNoError) {
      PutNameError(reply, reply.ret);
      return;
    }
    OptionSet opts = OptionSet(cfg::OptContext::kNewPeer).Changed(net, false);
    reply.ret = CheckNetOptions(opts, r.role, Role::kUnknown, reply);
    if (reply.ret != Ret::kNoError) return;
    uint32_t peer = *ctx.peer_node_id;
    Connection& c = r.connections[peer];
    c.peer_node_id = peer;
    c.name = conn_name;
    c.net = opts;
    Log(fmt::format("{}: Starting sender thread (peer-node-id {})", Prefix(r, c), peer));
    std::vector<events::Notification> out;
    out.push_back(ConnectionNote(r, c, NotifyType::kCreate));
    for (auto& [vol, d] : r.devices) {
      out.push_back(AddPeerDevice(r, c, d));
    }
    EmitChain(std::move(out));
  });
}

Reply Engine::NewPath(const Ctx& ctx, const Address& local, const Address& peer) {
  return Serve(ctx, kNeedConnection, [&](Reply& reply, Resolved& rs) {
    if (local.host.empty() || peer.host.empty()) {
      return Fail(reply, Ret::kErrInvalidRequest, "connection endpoint(s) missing");
    }
    // check_path_usable: an endpoint may be reused within one resource, never
    // the same pair; across resources neither endpoint may be reused.
    for (const auto& [name, r] : resources_) {
      for (const auto& [pn, c] : r->connections) {
        for (const Path& p : c.paths) {
          bool l = p.local == local, pe = p.peer == peer;
          Ret e = l && pe ? Ret::kErrLocalAndPeerAddr
                  : l     ? Ret::kErrLocalAddr
                  : pe    ? Ret::kErrPeerAddr
                          : Ret::kNoError;
          if (e == Ret::kNoError) continue;
          if (e != Ret::kErrLocalAndPeerAddr && r.get() == rs.res) continue;
          return Fail(reply, e);
        }
      }
    }
    Connection& c = *rs.conn;
    c.paths.push_back(Path{local, peer, false});
    Emit(PathNote(*rs.res, c, c.paths.back(), NotifyType::kCreate));
    if (c.cstate == ConnState::kConnecting) {
      std::string key = sim::AddressToString(local);
      if (std::find(c.listening.begin(), c.listening.end(), key) == c.listening.end()) {
        ListenOn(local);
        c.listening.push_back(key);
      }
    }
  });
}

Reply Engine::DelPath(const Ctx& ctx, const Address& local, const Address& peer) {
  return Serve(ctx, kNeedConnection, [&](Reply& reply, Resolved& rs) {
    Connection& c = *rs.conn;
    if (c.paths.size() == 1 && c.cstate >= ConnState::kConnecting) {
      return Fail(reply, Ret::kErrInvalidRequest,
                  "Can not delete last path, use disconnect first!");
    }
    for (size_t i = 0; i < c.paths.size(); ++i) {
      if (c.paths[i].local != local || c.paths[i].peer != peer) continue;
      events::Notification n = PathNote(*rs.res, c, c.paths[i], NotifyType::kDestroy);
      c.paths.erase(c.paths.begin() + static_cast<long>(i));
      Emit(n);
      return;
    }
    Log(fmt::format("{}: del_path() failed with -2", Prefix(*rs.res, c)));
    Fail(reply, Ret::kErrInvalidRequest, "no such path");
  });
}

Reply Engine::NetOptions(const Ctx& ctx, const OptionSet& change, bool set_defaults) {
  return Serve(ctx, kNeedConnection, [&](Reply& reply, Resolved& rs) {
    OptionSet n = rs.conn->net.Changed(change, set_defaults);
    reply.ret = CheckNetOptions(n, rs.res->role, rs.conn->peer_role, reply);
    if (reply.ret != Ret::kNoError) return;
    rs.conn->net = n;
  });
}

Reply Engine::PeerDeviceOptions(const Ctx& ctx, const OptionSet& change, bool set_defaults) {
  return Serve(ctx, kNeedPeerDevice, [&](Reply&, Resolved& rs) {
    rs.pd->opts = rs.pd->opts.Changed(change, set_defaults);
  });
}

// ---------------------------------------------------------------------------
// Connect / disconnect

Reply Engine::Connect(const Ctx& ctx, bool tentative, bool discard_my_data) {
  return Serve(ctx, kNeedConnection, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    Connection& c = *rs.conn;
    if (c.cstate != ConnState::kStandAlone) return Fail(reply, Ret::kErrNetConfigured);
    if (c.paths.empty()) {
      return Fail(reply, Ret::kErrInvalidRequest, "connection endpoint(s) missing");
    }
    if (discard_my_data && r.role == Role::kPrimary) return Fail(reply, Ret::kErrDiscardImpossible);
    (void)tentative;  // TODO(#4): tentative connects (dry-run handshake) are not simulated yet
    c.discard_my_data = discard_my_data;
    ResState n = Capture(r);
    n.conns.at(c.peer_node_id).cstate = ConnState::kUnconnected;
    reply.ret = Change(r, n, false, "connect");
    if (reply.ret == Ret::kSsSuccess) StartConnecting(r, c);
  });
}

Ret Engine::TryDisconnect(Resource& r, Connection& c, bool force, const std::string& tag) {
  if (c.cstate == ConnState::kStandAlone) return Ret::kSsSuccess;  // SS_ALREADY_STANDALONE
  ResState o = Capture(r);
  ResState n = o;
  ResState::Conn& nc = n.conns.at(c.peer_node_id);
  bool peer_was_primary = nc.peer_role == Role::kPrimary;
  nc.cstate = ConnState::kDisconnecting;
  nc.peer_role = Role::kUnknown;
  for (auto& [vol, pd] : nc.pd) {
    pd.repl = ReplState::kOff;
    pd.peer_disk = DiskState::kDUnknown;
  }
  // A Secondary that leaves a Primary gracefully knows its data will fall
  // behind: it outdates itself (the disconnect's cluster-wide commit:
  // primary_nodes not directly reachable -> __outdate_myself). `disconnect
  // --force` is a local change without that commit.
  if (peer_was_primary && n.role != Role::kPrimary && !(force && tag == "disconnect")) {
    for (auto& [vol, ds] : n.disk) {
      if (ds == DiskState::kUpToDate || ds == DiskState::kConsistent) ds = DiskState::kOutdated;
    }
  }
  Ret rv = Change(r, n, force, tag);
  if (rv == Ret::kSsIsDiskless || rv == Ret::kSsLowerThanOutdated) rv = Change(r, n, true, tag);
  if (rv != Ret::kSsSuccess) return rv;
  for (auto& [vol, ds] : n.disk) {
    Device& d = r.devices.at(vol);
    bool write = false;
    if (ds == DiskState::kOutdated && o.disk.at(vol) != DiskState::kOutdated) {
      d.sb.flags &= ~uint32_t{md::kMdfWasUpToDate};
      write = true;
    }
    if (d.data && c.peer_node_id < md::kPeersMax &&
        (d.sb.peers[c.peer_node_id].flags & md::kPeerConnected)) {
      d.sb.peers[c.peer_node_id].flags &= ~uint32_t{md::kPeerConnected};  // a clean goodbye
      write = true;
    }
    if (write) WriteMetadata(d);
  }
  // `disconnect --force` is a local hard disconnect without a cluster-wide
  // state change: the peer only sees the stream go (BrokenPipe; captures
  // 07-10 "link break").
  const bool hard = force && tag == "disconnect";
  if (Session* s = SessionOf(c); s && s->up && !hard) Send(*s, proto::Disconnect{0});
  StopNetworking(r, c);
  // As on a lost connection: the path goes down between Disconnecting and
  // StandAlone (captures: `established:no` before StandAlone and destroy).
  for (Path& p : c.paths) {
    if (!p.established) continue;
    p.established = false;
    Emit(PathNote(r, c, p, NotifyType::kChange));
  }
  ResState n2 = Capture(r);
  n2.conns.at(c.peer_node_id).cstate = ConnState::kStandAlone;
  Change(r, n2, true, tag);
  TwoPcPeerGone(r, c.peer_node_id);
  return Ret::kSsSuccess;
}

void Engine::DeleteConnection(Resource& r, uint32_t peer_node_id) {
  Connection& c = r.connections.at(peer_node_id);
  StopNetworking(r, c);
  SetFencingSuspend(r, c, false, "del-peer");  // parked IO must not outlive it
  std::vector<events::Notification> out;
  for (const Path& p : c.paths) out.push_back(PathNote(r, c, p, NotifyType::kDestroy));
  out.push_back(ConnectionNote(r, c, NotifyType::kDestroy));
  Log(fmt::format("{}: Terminating sender thread", Prefix(r, c)));
  // The peer's bitmap slot outlives it: its bits go to disk first.
  for (auto& [vol, d] : r.devices) MdFlushBitmap(r, d, 0, ~uint64_t{0});
  r.connections.erase(peer_node_id);
  for (const auto& n : out) Emit(n);
}

Reply Engine::Disconnect(const Ctx& ctx, bool force) {
  return Serve(ctx, kNeedConnection, [&](Reply& reply, Resolved& rs) {
    Ret rv = TryDisconnect(*rs.res, *rs.conn, force, "disconnect");
    reply.ret = IsSuccess(rv) ? Ret::kNoError : rv;
  });
}

Reply Engine::DelPeer(const Ctx& ctx, bool force) {
  return Serve(ctx, kNeedConnection, [&](Reply& reply, Resolved& rs) {
    Ret rv = TryDisconnect(*rs.res, *rs.conn, force, "del-peer");
    if (IsSuccess(rv)) DeleteConnection(*rs.res, rs.conn->peer_node_id);
    reply.ret = IsSuccess(rv) ? Ret::kNoError : rv;
  });
}

// ---------------------------------------------------------------------------
// Roles

Reply Engine::Primary(const Ctx& ctx, bool force) {
  return Serve(ctx, kNeedResource, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    // An explicit primary is remembered: the last close does not demote it.
    const std::string tag = role_tag_.empty() ? "primary" : role_tag_;
    if (role_tag_.empty()) r.explicit_primary = true;
    ResState n = Capture(r);
    n.role = Role::kPrimary;
    Ret rv = Change(r, n, false, tag);
    std::vector<uint32_t> forced;
    if (rv == Ret::kSsNoUpToDateDisk && force) {
      // CS_FP_LOCAL_UP_TO_DATE: consider a disk UpToDate that is at least
      // Inconsistent and has no UpToDate peer.
      for (auto& [vol, ds] : n.disk) {
        bool peer_uptodate = false;
        for (const auto& [peer, c] : n.conns) {
          auto it = c.pd.find(vol);
          if (it != c.pd.end() && it->second.peer_disk == DiskState::kUpToDate)
            peer_uptodate = true;
        }
        if (ds >= DiskState::kInconsistent && ds < DiskState::kUpToDate && !peer_uptodate) {
          ds = DiskState::kUpToDate;
          forced.push_back(vol);
        }
      }
      rv = Change(r, n, false, tag);
    }
    if (rv == Ret::kSsPrimaryNop && force) {
      // CS_FP_OUTDATE_PEERS: pretend unreachable peers were fenced.
      Log(fmt::format("{}: Forced into split brain situation!", Prefix(r)));
      for (auto& [peer, c] : n.conns) {
        for (auto& [vol, pd] : c.pd) {
          if (pd.peer_disk == DiskState::kDUnknown) pd.peer_disk = DiskState::kOutdated;
        }
      }
      rv = Change(r, n, false, tag);
    }
    if (rv == Ret::kSsSuccess) {
      if (!forced.empty())
        Log(fmt::format("{}: Forced to consider local data as UpToDate!", Prefix(r)));
      for (auto& [vol, d] : r.devices) {
        if (!d.data) {
          d.new_cur_uuid = true;  // NEW_CUR_UUID: the peers store it (engine_io.cc)
          continue;
        }
        bool was_forced = std::find(forced.begin(), forced.end(), vol) != forced.end();
        uint64_t cur = d.sb.current_uuid & ~kUuidPrimaryBit;
        // drbd_uuid_new_current makes a local current UUID only on UpToDate
        // data: a fresh disk promoted beside an UpToDate peer keeps its
        // just-created UUID until its resync brings the peer's (a UUID of
        // its own there, without history, met that peer later as unrelated
        // data: detsim --nodes=2 --seed=0xe74154f564d6c4a6).
        if (was_forced ||
            ((cur == 0 || cur == md::kUuidJustCreated) && d.disk == DiskState::kUpToDate)) {
          // Bit 0 marks a UUID made by a Primary (show-gi in the captures).
          d.sb.current_uuid = NewUuid() | kUuidPrimaryBit;
          Log(fmt::format("{}: new current UUID: {:016X}", Prefix(r, d), d.sb.current_uuid));
        }
        // finish_state_change keeps MDF_CONSISTENT / MDF_WAS_UP_TO_DATE as
        // the disk state says: a Primary that is a SyncTarget (Inconsistent,
        // its data through the peer) must not come back from a crash
        // UpToDate (detsim seed 0x5694d913deb212ca).
        d.sb.flags |= md::kMdfPrimaryInd;
        if (d.disk > DiskState::kInconsistent) d.sb.flags |= md::kMdfConsistent;
        if (d.disk > DiskState::kOutdated) d.sb.flags |= md::kMdfWasUpToDate;
        // finish_state_change: Secondary -> Primary sets NEW_CUR_UUID.
        d.new_cur_uuid = true;
        WriteMetadata(d);
      }
      BroadcastState(r);
      // The promotion's cluster-wide change: its commit outdates the weak
      // nodes, those not directly connected to this node (engine_twopc.cc).
      // Connected to every configured peer, this node leaves none weak.
      bool all_connected = true;
      for (const auto& [peer, c] : r.connections)
        all_connected = all_connected && c.cstate == ConnState::kConnected;
      if (!all_connected) StartTwoPc(r, TwoPcKind::kPromote);
    }
    if (r.role != Role::kPrimary) r.explicit_primary = false;
    if (rv == Ret::kSsNoQuorum) {
      ResState q = Capture(r);
      q.role = Role::kPrimary;
      SanitizeQuorum(r, q);
      std::string text = NoQuorumText(r, q);
      if (!text.empty()) {
        Log(fmt::format("{}: {}", Prefix(r), text));
        reply.info.push_back(text);
      }
    }
    reply.ret = rv;
  });
}

Reply Engine::Secondary(const Ctx& ctx, bool force) {
  return Serve(ctx, kNeedResource, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    const std::string tag = role_tag_.empty() ? "secondary" : role_tag_;
    ResState n = Capture(r);
    n.role = Role::kSecondary;
    reply.ret = Change(r, n, false, tag);
    if (reply.ret == Ret::kSsDeviceInUse && force) {
      // CS_FS_IGN_OPENERS: the writers keep the device; their IO fails.
      Log(fmt::format("{}: forced demotion", Prefix(r)));
      reply.ret = Change(r, n, true, tag);
    }
    if (r.role != Role::kPrimary) r.explicit_primary = false;
    if (reply.ret == Ret::kSsSuccess) {
      for (auto& [vol, d] : r.devices) {
        if (!d.data) continue;
        d.sb.flags &= ~uint32_t{md::kMdfPrimaryInd};
        d.sb.current_uuid &= ~kUuidPrimaryBit;  // demotion clears it; promotion does not set it
        WriteMetadata(d);
      }
    }
  });
}

Reply Engine::Down(const Ctx& ctx) {
  return Serve(ctx, kNeedResource, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    ResState n = Capture(r);
    n.role = Role::kSecondary;
    Ret rv = Change(r, n, false, "down");
    if (!IsSuccess(rv)) return Fail(reply, rv, "failed to demote");
    std::vector<uint32_t> peers;
    for (const auto& [peer, c] : r.connections) peers.push_back(peer);
    for (uint32_t peer : peers) {
      Connection& c = r.connections.at(peer);
      rv = Ret::kSsSuccess;
      if (c.cstate > ConnState::kStandAlone) rv = TryDisconnect(r, c, false, "down");
      if (!IsSuccess(rv)) return Fail(reply, rv);
      DeleteConnection(r, peer);
    }
    std::vector<uint32_t> vols;
    for (const auto& [vol, d] : r.devices) vols.push_back(vol);
    for (uint32_t vol : vols) {
      rv = DetachDevice(r, r.devices.at(vol), false, "down");
      Ret del = DeleteMinor(r, vol);
      if (!IsSuccess(rv)) return Fail(reply, rv, "failed to detach");
      if (del != Ret::kNoError) return Fail(reply, del, "failed to delete volume");
    }
    reply.ret = DeleteResource(r.name);
  });
}

// ---------------------------------------------------------------------------
// UUIDs and disk state requests

Reply Engine::NewCurrentUuid(const Ctx& ctx, bool clear_bitmap) {
  return Serve(ctx, kNeedMinor, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    Device& d = *rs.dev;
    if (!d.data || d.disk < DiskState::kInconsistent) return Fail(reply, Ret::kErrNoDisk);
    // should_skip_initial_sync: both sides just created and connected.
    std::vector<uint32_t> skip;
    for (auto& [peer, c] : r.connections) {
      PeerDevice& pd = c.peer_devices.at(d.volume);
      uint64_t mine = d.sb.current_uuid & ~kUuidPrimaryBit;
      uint64_t theirs = pd.peer.current_uuid & ~kUuidPrimaryBit;
      bool just_created = pd.repl == ReplState::kEstablished && mine == md::kUuidJustCreated &&
                          pd.have_peer && theirs == md::kUuidJustCreated;
      if (clear_bitmap && just_created) {
        if (pd.peer_disk >= DiskState::kInconsistent) skip.push_back(peer);
      } else if (pd.repl != ReplState::kOff)
        return Fail(reply, Ret::kErrConnected);
    }
    // Rotate the current UUID into history; a fresh one becomes current.
    if (!clear_bitmap && (d.sb.current_uuid & ~kUuidPrimaryBit) != md::kUuidJustCreated) {
      ShiftIntoHistory(d.sb, d.sb.current_uuid & ~kUuidPrimaryBit);
    }
    d.sb.current_uuid = NewUuid() | (r.role == Role::kPrimary ? kUuidPrimaryBit : 0);
    Log(fmt::format("{}: new current UUID: {:016X}", Prefix(r, d), d.sb.current_uuid));
    if (clear_bitmap) {
      for (md::PeerRecord& p : d.sb.peers) p.bitmap_uuid = 0;
      d.sb.flags |= md::kMdfConsistent | md::kMdfWasUpToDate;
      ResState n = Capture(r);
      n.disk[d.volume] = DiskState::kUpToDate;
      for (uint32_t peer : skip) {
        Log(fmt::format("{}: Preparing to skip initial sync",
                        Prefix(r, d, r.connections.at(peer))));
        n.conns.at(peer).pd.at(d.volume).peer_disk = DiskState::kUpToDate;
        r.connections.at(peer).peer_devices.at(d.volume).send_skip = true;
      }
      Change(r, n, true, "new-c-uuid");
    }
    WriteMetadata(d);
    BroadcastState(r);
  });
}

Reply Engine::Outdate(const Ctx& ctx) {
  return Serve(ctx, kNeedMinor, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    Device& d = *rs.dev;
    ResState n = Capture(r);
    n.disk[d.volume] = DiskState::kOutdated;
    reply.ret = Change(r, n, false, "outdate");
    if (reply.ret == Ret::kSsSuccess) {
      d.sb.flags &= ~uint32_t{md::kMdfWasUpToDate};
      WriteMetadata(d);
    }
  });
}

Reply Engine::Invalidate(const Ctx& ctx, bool reset_bitmap, std::optional<uint32_t> sync_from) {
  return Serve(ctx, kNeedMinor, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    Device& d = *rs.dev;
    if (!d.data || d.disk < DiskState::kInconsistent) return Fail(reply, Ret::kErrNoDisk);
    // A node id without a connection is no choice (drbd_connection_by_node_id).
    if (sync_from && !r.connections.count(*sync_from)) sync_from.reset();
    ResState n = Capture(r);
    Ret rv = Ret::kSsNeedConnection;
    // invalidate_resync: become StartingSyncT of the first connected peer
    // (engine_bitmap.cc); its RESYNC_START makes this side SyncTarget.
    for (auto& [peer, c] : n.conns) {
      if (sync_from && peer != *sync_from) continue;
      ResState::Pd& pd = c.pd.at(d.volume);
      if (pd.repl < ReplState::kEstablished) continue;
      if (pd.repl > ReplState::kEstablished) {
        rv = Ret::kSsResyncRunning;
        continue;
      }
      if (pd.peer_disk != DiskState::kUpToDate) {
        rv = Ret::kSsNoUpToDateDisk;
        continue;
      }
      ResState t = n;
      ResState::Pd& tpd = t.conns.at(peer).pd.at(d.volume);
      // --reset-bitmap=no: WFBitMapT, the marked blocks only (engine_bitmap.cc).
      tpd.repl = reset_bitmap ? ReplState::kStartingSyncT : ReplState::kWFBitMapT;
      BitmapPhaseDisks(tpd.repl, &t.disk[d.volume], &tpd.peer_disk);
      rv = Change(r, t, false, "invalidate");
      if (rv == Ret::kSsSuccess) {
        Connection& conn = r.connections.at(peer);
        if (Session* s = SessionOf(conn)) {
          Send(*s, LocalState(r, peer));
          Send(*s, proto::ResyncRequest{d.volume, true, !reset_bitmap});
        }
        break;
      }
    }
    if (rv == Ret::kSsNeedConnection && !sync_from) {
      // invalidate_no_resync
      ResState t = Capture(r);
      t.disk[d.volume] = DiskState::kInconsistent;
      rv = Change(r, t, false, "invalidate");
    }
    if (IsSuccess(rv)) {
      d.sb.flags &= ~uint32_t{md::kMdfConsistent | md::kMdfWasUpToDate};
      WriteMetadata(d);
    }
    reply.ret = rv;
  });
}

Reply Engine::InvalidateRemote(const Ctx& ctx, bool reset_bitmap) {
  return Serve(ctx, kNeedPeerDevice, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    Device& d = *rs.dev;
    if (!d.data || d.disk < DiskState::kInconsistent) return Fail(reply, Ret::kErrNoDisk);
    Connection& c = *rs.conn;
    ResState n = Capture(r);
    ResState::Pd& pd = n.conns.at(c.peer_node_id).pd.at(d.volume);
    if (!reset_bitmap) {
      // --reset-bitmap=no: WFBitMapS, the marked blocks only (engine_bitmap.cc).
      if (pd.repl < ReplState::kEstablished) return Fail(reply, Ret::kSsNeedConnection);
      if (pd.repl > ReplState::kEstablished) return Fail(reply, Ret::kSsResyncRunning);
      if (d.disk != DiskState::kUpToDate) return Fail(reply, Ret::kSsNoUpToDateDisk);
      pd.repl = ReplState::kWFBitMapS;
      BitmapPhaseDisks(pd.repl, &n.disk[d.volume], &pd.peer_disk);
      rs.pd->rs_use_bitmap = true;  // no MarkAll: the bits as they are
      reply.ret = Change(r, n, false, "invalidate-remote");
      if (reply.ret != Ret::kSsSuccess) {
        rs.pd->rs_use_bitmap = false;
      } else if (Session* s = SessionOf(c)) {
        Send(*s, proto::ResyncRequest{d.volume, false, true});
      }
      return;
    }
    if (pd.repl < ReplState::kEstablished) {
      if (r.role == Role::kPrimary) {
        // The peer gets a full resync when it connects.
        pd.peer_disk = DiskState::kInconsistent;
        reply.ret = Change(r, n, false, "invalidate-remote");
      } else {
        reply.ret = Ret::kSsNeedConnection;
      }
      return;
    }
    if (pd.repl > ReplState::kEstablished) return Fail(reply, Ret::kSsResyncRunning);
    if (d.disk != DiskState::kUpToDate) return Fail(reply, Ret::kSsNoUpToDateDisk);
    // StartingSyncS until the peer confirms as StartingSyncT
    // (engine_bitmap.cc).
    pd.repl = ReplState::kStartingSyncS;
    BitmapPhaseDisks(pd.repl, &n.disk[d.volume], &pd.peer_disk);
    reply.ret = Change(r, n, false, "invalidate-remote");
    if (reply.ret == Ret::kSsSuccess) {
      if (Session* s = SessionOf(c)) Send(*s, proto::ResyncRequest{d.volume, false});
    }
  });
}

Reply Engine::PauseSync(const Ctx& ctx) {
  return Serve(ctx, kNeedPeerDevice, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    ResState n = Capture(r);
    ResState::Pd& pd = n.conns.at(rs.conn->peer_node_id).pd.at(rs.pd->volume);
    pd.susp_user = true;
    if (pd.repl == ReplState::kSyncSource) pd.repl = ReplState::kPausedSyncS;
    if (pd.repl == ReplState::kSyncTarget) pd.repl = ReplState::kPausedSyncT;
    if (Change(r, n, false, "pause-sync") == Ret::kSsNothingToDo) reply.ret = Ret::kErrPauseIsSet;
  });
}

Reply Engine::ResumeSync(const Ctx& ctx) {
  return Serve(ctx, kNeedPeerDevice, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    ResState n = Capture(r);
    ResState::Pd& pd = n.conns.at(rs.conn->peer_node_id).pd.at(rs.pd->volume);
    pd.susp_user = false;
    if (!pd.susp_peer) {
      if (pd.repl == ReplState::kPausedSyncS) pd.repl = ReplState::kSyncSource;
      if (pd.repl == ReplState::kPausedSyncT) pd.repl = ReplState::kSyncTarget;
    }
    if (Change(r, n, false, "resume-sync") == Ret::kSsNothingToDo) {
      bool paused =
          rs.pd->repl == ReplState::kPausedSyncS || rs.pd->repl == ReplState::kPausedSyncT;
      reply.ret = paused && rs.pd->susp_peer ? Ret::kErrPicPeerDep : Ret::kErrPauseIsClear;
    }
  });
}

Reply Engine::SuspendIo(const Ctx& ctx) { return SetSuspUser(ctx, true, "suspend-io"); }

Reply Engine::ResumeIo(const Ctx& ctx) {
  // resume-io also ends a fencing freeze.
  if (Resource* r = FindResource(ctx.resource)) {
    for (auto& [peer, c] : r->connections) SetFencingSuspend(*r, c, false, "resume-io");
  }
  return SetSuspUser(ctx, false, "resume-io");
}

Reply Engine::SetSuspUser(const Ctx& ctx, bool on, const std::string& tag) {
  return Serve(ctx, kNeedMinor, [&](Reply& reply, Resolved& rs) {
    ResState n = Capture(*rs.res);
    n.susp_user = on;
    reply.ret = Change(*rs.res, n, false, tag);
  });
}

// ---------------------------------------------------------------------------
// Views

std::optional<Role> Engine::ResourceRole(const std::string& res) const {
  const Resource* r = FindResource(res);
  if (!r) return std::nullopt;
  return r->role;
}

std::optional<DiskState> Engine::DiskStateOf(uint32_t minor) const {
  const Device* d = FindMinor(minor);
  if (!d) return std::nullopt;
  return d->disk;
}

std::optional<uint64_t> Engine::CurrentUuidOf(uint32_t minor) const {
  const Device* d = FindMinor(minor);
  if (!d || !d->data) return std::nullopt;
  return d->sb.current_uuid;
}

std::optional<Engine::ResourceConfig> Engine::ResourceConfigOf(const std::string& res) const {
  const Resource* r = FindResource(res);
  if (!r) return std::nullopt;
  return ResourceConfig{r->node_id, r->opts};
}

std::optional<Engine::DeviceConfig> Engine::DeviceConfigOf(uint32_t minor) const {
  const Device* d = FindMinor(minor);
  if (!d) return std::nullopt;
  DeviceConfig c;
  c.attached = d->data != nullptr && !d->backing_dev.empty();
  c.backing_dev = d->backing_dev;
  c.meta_dev = d->meta_dev;
  c.meta_dev_idx = d->conf_meta_idx;
  c.opts = d->disk_opts;
  return c;
}

std::optional<Engine::ConnectionConfig> Engine::ConnectionConfigOf(const std::string& res,
                                                                   uint32_t peer) const {
  const Connection* c = FindConnection(res, peer);
  if (!c) return std::nullopt;
  ConnectionConfig out;
  out.name = c->name;
  out.net = c->net;
  for (const Path& p : c->paths) out.paths.emplace_back(p.local, p.peer);
  return out;
}

std::optional<OptionSet> Engine::PeerDeviceOptionsOf(const std::string& res, uint32_t peer,
                                                     uint32_t vol) const {
  const PeerDevice* pd = FindPeerDevice(res, peer, vol);
  if (!pd) return std::nullopt;
  return pd->opts;
}

std::optional<uint32_t> Engine::MinorOf(const std::string& res, uint32_t vol) const {
  const Resource* r = FindResource(res);
  if (!r || !r->devices.count(vol)) return std::nullopt;
  return r->devices.at(vol).minor;
}

std::vector<std::string> Engine::ResourceNames() const {
  std::vector<std::string> out;
  for (const auto& [name, r] : resources_) out.push_back(name);
  return out;
}

std::optional<ConnState> Engine::ConnStateOf(const std::string& res, uint32_t peer) const {
  const Connection* c = FindConnection(res, peer);
  if (!c) return std::nullopt;
  return c->cstate;
}

std::optional<Role> Engine::PeerRoleOf(const std::string& res, uint32_t peer) const {
  const Connection* c = FindConnection(res, peer);
  if (!c) return std::nullopt;
  return c->peer_role;
}

std::optional<ReplState> Engine::ReplStateOf(const std::string& res, uint32_t peer,
                                             uint32_t vol) const {
  const PeerDevice* pd = FindPeerDevice(res, peer, vol);
  if (!pd) return std::nullopt;
  return pd->repl;
}

std::optional<DiskState> Engine::PeerDiskOf(const std::string& res, uint32_t peer,
                                            uint32_t vol) const {
  const PeerDevice* pd = FindPeerDevice(res, peer, vol);
  if (!pd) return std::nullopt;
  return pd->peer_disk;
}

}  // namespace drbd::engine
