// SPDX-License-Identifier: GPL-2.0-or-later
// Cluster-wide state changes: the kernel's two-phase commit
// (drbd_state.c change_cluster_wide_state, drbd_receiver.c
// process_twopc / nested_twopc_request), reduced to what decides weak
// nodes. The initiator sends TWOPC_PREPARE to its connected peers; each
// node forwards it once to its other connected peers and answers when its
// own peers did, adding itself to the reachable nodes, and when it is
// Primary with access to UpToDate data, itself to the Primaries and the
// nodes it is not connected to to the weak nodes. The initiator then
// floods TWOPC_COMMIT with the collected masks. At the commit a node that
// sees a Primary it is not directly connected to outdates its disks
// (__outdate_myself, from far_away_change and do_twopc_after_lost_peer);
// a lost-peer change that finds no such Primary brings the disks a lost
// Primary left Consistent back to UpToDate. Unlike the kernel the local
// change is not held back until the commit: a promotion is done first and
// its weak nodes go Outdated when the commit reaches them (docs/compat.md).
// Here too: the resync a node offers its peers when it becomes stable
// (AfterUnstable), which brings an Outdated weak node back.
#include <fmt/format.h>

#include <algorithm>

#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace {

uint64_t Norm(uint64_t uuid) { return uuid & ~kUuidPrimaryBit; }

}  // namespace

uint64_t Engine::DirectlyReachable(const Resource& r) const {
  uint64_t m = NodeBit(r.node_id);
  for (const auto& [peer, c] : r.connections) {
    if (c.cstate == ConnState::kConnected) m |= NodeBit(peer);
  }
  return m;
}

void Engine::StartTwoPc(Resource& r, TwoPcKind kind, const std::vector<uint32_t>& consistent) {
  const auto self = static_cast<uint32_t>(r.node_id);
  Resource::TwoPc t;
  // Change ids only grow, also across a restart of this node: the other
  // nodes remember the last one they saw from it.
  t.tid = std::max(r.twopc_last_tid + 1, env_.clock->NowNs());
  r.twopc_last_tid = t.tid;
  // The kernel runs one cluster-wide change at a time; a newer one takes
  // over what a running one still owes (its Consistent volumes).
  if (auto it = r.twopc.find(self); it != r.twopc.end()) {
    t.lost_peer = it->second.lost_peer;
    t.consistent = it->second.consistent;
  }
  t.lost_peer = t.lost_peer || kind == TwoPcKind::kLostPeer;
  t.tag = t.lost_peer ? "lost-peer" : "primary";
  for (uint32_t vol : consistent) {
    if (std::find(t.consistent.begin(), t.consistent.end(), vol) == t.consistent.end())
      t.consistent.push_back(vol);
  }
  r.twopc_prepared[self] = t.tid;
  for (auto& [peer, c] : r.connections) {
    Session* s = SessionOf(c);
    if (!s || !s->up) continue;
    Send(*s, proto::TwoPcPrepare{self, t.tid});
    t.pending.insert(peer);
  }
  if (t.pending.empty()) {
    // No peer connected: a local change, not a cluster-wide one.
    r.twopc.erase(self);
    if (t.lost_peer) TwoPcApply(r, 0, 0, t.tag, true, t.consistent);
    return;
  }
  r.twopc[self] = std::move(t);
  TwoPcMaybeDone(r, self);
}

bool Engine::HandleTwoPcMessage(Resource& r, Connection& c, const proto::Message& m) {
  const auto self = static_cast<uint32_t>(r.node_id);
  const uint32_t from = c.peer_node_id;
  if (const auto* p = std::get_if<proto::TwoPcPrepare>(&m)) {
    auto seen = r.twopc_prepared.find(p->initiator);
    if (p->initiator == self || (seen != r.twopc_prepared.end() && seen->second == p->tid)) {
      // Reached on another way already: that way answers for this node.
      if (Session* s = SessionOf(c); s && s->up) Send(*s, proto::TwoPcReply{p->initiator, p->tid});
      return true;
    }
    r.twopc_prepared[p->initiator] = p->tid;
    Resource::TwoPc t;
    t.tid = p->tid;
    t.parent = from;
    for (auto& [peer, pc] : r.connections) {
      if (peer == from || peer == p->initiator) continue;
      Session* s = SessionOf(pc);
      if (!s || !s->up) continue;
      Send(*s, proto::TwoPcPrepare{p->initiator, p->tid});
      t.pending.insert(peer);
    }
    r.twopc[p->initiator] = std::move(t);
    TwoPcMaybeDone(r, p->initiator);
    return true;
  }
  if (const auto* p = std::get_if<proto::TwoPcReply>(&m)) {
    auto it = r.twopc.find(p->initiator);
    if (it == r.twopc.end() || it->second.tid != p->tid || !it->second.pending.erase(from)) {
      return true;
    }
    it->second.reachable_nodes |= p->reachable_nodes;
    it->second.primary_nodes |= p->primary_nodes;
    it->second.weak_nodes |= p->weak_nodes;
    TwoPcMaybeDone(r, p->initiator);
    return true;
  }
  if (const auto* p = std::get_if<proto::TwoPcCommit>(&m)) {
    auto seen = r.twopc_committed.find(p->initiator);
    if (p->initiator == self || (seen != r.twopc_committed.end() && seen->second == p->tid)) {
      return true;
    }
    r.twopc_committed[p->initiator] = p->tid;
    if (auto it = r.twopc.find(p->initiator); it != r.twopc.end() && it->second.tid == p->tid) {
      r.twopc.erase(it);
    }
    for (auto& [peer, pc] : r.connections) {
      if (peer == from || peer == p->initiator) continue;
      Session* s = SessionOf(pc);
      if (s && s->up) Send(*s, *p);
    }
    TwoPcApply(r, p->primary_nodes, p->weak_nodes, "far-away", false, {});
    return true;
  }
  return false;
}

void Engine::TwoPcPeerGone(Resource& r, uint32_t peer) {
  std::vector<uint32_t> check;
  for (auto it = r.twopc.begin(); it != r.twopc.end();) {
    // The node a change came through is gone: the kernel aborts it there;
    // its initiator learns of the loss on its own side.
    if (it->second.parent == peer) {
      it = r.twopc.erase(it);
      continue;
    }
    if (it->second.pending.erase(peer)) check.push_back(it->first);
    ++it;
  }
  for (uint32_t initiator : check) TwoPcMaybeDone(r, initiator);
}

void Engine::TwoPcMaybeDone(Resource& r, uint32_t initiator) {
  auto it = r.twopc.find(initiator);
  if (it == r.twopc.end() || !it->second.pending.empty()) return;
  Resource::TwoPc t = std::move(it->second);
  r.twopc.erase(it);
  // This node's own part, as it is now (the kernel's reply to a prepare).
  t.reachable_nodes |= NodeBit(r.node_id);
  if (r.role == Role::kPrimary) {
    t.primary_nodes |= NodeBit(r.node_id);
    // drbd_res_data_accessible: an UpToDate disk here or at a peer.
    bool accessible = false;
    for (const auto& [vol, d] : r.devices) accessible = accessible || d.disk == DiskState::kUpToDate;
    for (const auto& [peer, c] : r.connections) {
      for (const auto& [vol, pd] : c.peer_devices)
        accessible = accessible || pd.peer_disk == DiskState::kUpToDate;
    }
    if (accessible) t.weak_nodes |= ~DirectlyReachable(r);
  }
  if (t.parent) {
    auto cit = r.connections.find(*t.parent);
    Session* s = cit == r.connections.end() ? nullptr : SessionOf(cit->second);
    if (s && s->up) {
      Send(*s, proto::TwoPcReply{initiator, t.tid, t.reachable_nodes, t.primary_nodes,
                                 t.weak_nodes});
    }
    return;
  }
  Log(fmt::format("{}: State change {}: primary_nodes={:X}, weak_nodes={:X}", Prefix(r),
                  t.tid & 0xffffffffu, t.primary_nodes, t.weak_nodes));
  r.twopc_committed[initiator] = t.tid;
  const proto::TwoPcCommit commit{initiator, t.tid, t.reachable_nodes, t.primary_nodes,
                                  t.weak_nodes};
  for (auto& [peer, c] : r.connections) {
    Session* s = SessionOf(c);
    if (s && s->up) Send(*s, commit);
  }
  TwoPcApply(r, t.primary_nodes, t.weak_nodes, t.tag, t.lost_peer, t.consistent);
}

void Engine::TwoPcApply(Resource& r, uint64_t primary_nodes, uint64_t weak_nodes,
                        const std::string& tag, bool lost_peer,
                        const std::vector<uint32_t>& consistent) {
  // A Primary sets weak_nodes to the nodes it is not connected to, which
  // always has bits (unconfigured ids): none set means no Primary with
  // UpToDate data (TWOPC_PRI_INCAPABLE), which outdates nobody.
  const bool pri_incapable = primary_nodes != 0 && weak_nodes == 0;
  const bool weak =
      (primary_nodes & ~DirectlyReachable(r)) != 0 && !pri_incapable && r.role != Role::kPrimary;
  ResState n = Capture(r);
  std::vector<uint32_t> outdated;
  if (weak) {
    for (auto& [vol, ds] : n.disk) {
      if (ds <= DiskState::kOutdated || ds == DiskState::kDUnknown) continue;
      ds = DiskState::kOutdated;
      outdated.push_back(vol);
    }
  } else if (lost_peer) {
    for (uint32_t vol : consistent) {
      auto it = n.disk.find(vol);
      if (it != n.disk.end() && it->second == DiskState::kConsistent &&
          MayReturnToUpToDate(r, r.devices.at(vol), n)) {
        it->second = DiskState::kUpToDate;
      }
    }
  }
  if (!(n == Capture(r))) Change(r, n, true, tag);
  for (uint32_t vol : outdated) {
    Device& d = r.devices.at(vol);
    if (d.disk != DiskState::kOutdated || !d.data) continue;
    d.sb.flags &= ~uint32_t{md::kMdfWasUpToDate};
    WriteMetadata(d);
  }
  if (lost_peer) ScheduleUuidWaiters(r);  // writes held by TwoPcOwesUpToDate
}

// A node promoted while its own twopc_after_lost_peer is under way: in the
// kernel the promotion is a cluster-wide change of its own and is not
// through before that one commits, so no write reaches the disk while it
// is still Consistent (and its first write, with the disk UpToDate, makes
// the new current UUID: rotate_current_into_bitmap needs D_UP_TO_DATE).
bool Engine::TwoPcOwesUpToDate(const Resource& r, const Device& d) const {
  auto it = r.twopc.find(static_cast<uint32_t>(r.node_id));
  if (it == r.twopc.end() || d.disk != DiskState::kConsistent) return false;
  const auto& owed = it->second.consistent;
  return std::find(owed.begin(), owed.end(), d.volume) != owed.end();
}

bool Engine::StableIn(const ResState& s) {
  if (s.role == Role::kPrimary) return true;
  for (const auto& [peer, c] : s.conns) {
    if (c.cstate == ConnState::kConnected && c.peer_role == Role::kPrimary) return false;
  }
  return true;
}

void Engine::AfterUnstable(Resource& r, const ResState& o, const ResState& n) {
  auto sync_target = [](const ResState& s) {
    for (const auto& [peer, c] : s.conns) {
      for (const auto& [vol, pd] : c.pd) {
        if (pd.repl == ReplState::kSyncTarget || pd.repl == ReplState::kPausedSyncT) return true;
      }
    }
    return false;
  };
  const bool stable = StableIn(n);
  if (!stable || (StableIn(o) && !(sync_target(o) && !sync_target(n)))) return;
  for (auto& [peer, c] : r.connections) {
    auto oit = o.conns.find(peer);
    auto nit = n.conns.find(peer);
    Session* s = SessionOf(c);
    if (oit == o.conns.end() || nit == n.conns.end() || !s || !s->up) continue;
    if (oit->second.peer_role == Role::kPrimary) continue;
    proto::State st = LocalState(r, peer);
    bool any = false;
    for (proto::VolumeState& v : st.volumes) {
      auto opd = oit->second.pd.find(v.volume);
      auto npd = nit->second.pd.find(v.volume);
      auto disk = n.disk.find(v.volume);
      if (opd == oit->second.pd.end() || npd == nit->second.pd.end() || disk == n.disk.end())
        continue;
      // A peer with this node's current data and no bits either way would
      // answer with an empty handshake (no-sync): nothing to offer.
      const PeerDevice& pd = c.peer_devices.at(v.volume);
      const bool same = npd->second.peer_disk == DiskState::kUpToDate &&
                        disk->second == DiskState::kUpToDate &&
                        Norm(pd.peer.current_uuid) == Norm(v.current_uuid) &&
                        pd.oos_count == 0 && pd.peer.dirty_bits == 0;
      // Only a stable peer acts on the offer (receive_uuids110).
      const bool peer_stable = (pd.peer.uuid_flags & kUuidFlagStable) != 0;
      if (same || !peer_stable || opd->second.repl == ReplState::kSyncTarget ||
          opd->second.repl == ReplState::kPausedSyncT || npd->second.repl < ReplState::kEstablished ||
          disk->second < DiskState::kOutdated || disk->second == DiskState::kDUnknown ||
          !r.devices.at(v.volume).data) {
        continue;
      }
      v.uuid_flags |= kUuidFlagGotStable;
      any = true;
    }
    if (any) Send(*s, st);
  }
}

}  // namespace drbd::engine
