// SPDX-License-Identifier: GPL-2.0-or-later
// What keeps three or more nodes consistent beyond what two need: a
// Secondary takes over a connected Primary's new current UUID (with the
// Primary's weak-nodes mask, so that its bitmap UUIDs toward the nodes the
// Primary cannot reach start at the old data generation); PEER_ACK tells
// the Secondaries which nodes a completed write reached, so that each marks
// the blocks out of sync toward the nodes it did not reach (and every write
// not peer-acked when the Primary is lost); and a device resyncs from one
// source at a time. The kernel's drbd_uuid_received_new_current,
// got_peer_ack / apply_unacked_peer_requests and drbd_select_sync_target.
// See docs/design/drbd-simd.md ("Three nodes").
#include <fmt/format.h>

#include <algorithm>

#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {

uint64_t Engine::WeakNodes(const Resource& r, const Device& d) const {
  uint64_t not_weak = 0;
  if (d.disk == DiskState::kUpToDate) not_weak |= NodeBit(static_cast<uint32_t>(r.node_id));
  for (const auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end()) continue;
    const DiskState pdsk = pit->second.peer_disk;
    if (!(pdsk <= DiskState::kFailed || pdsk == DiskState::kDUnknown ||
          pdsk == DiskState::kOutdated)) {
      not_weak |= NodeBit(peer);
    }
  }
  return ~not_weak;
}

void Engine::MaybeTakeNewCurrent(Resource& r, Connection& c, const proto::State& st) {
  if (static_cast<Role>(st.role) != Role::kPrimary) return;
  for (const proto::VolumeState& vs : st.volumes) {
    auto pit = c.peer_devices.find(vs.volume);
    auto dit = r.devices.find(vs.volume);
    if (pit == c.peer_devices.end() || dit == r.devices.end()) continue;
    Device& d = dit->second;
    // receive_current_uuid: only on a live connection (Established or a
    // resync), with UpToDate data here, and for a UUID that differs.
    if (!d.data || d.disk != DiskState::kUpToDate || pit->second.repl < ReplState::kEstablished ||
        vs.current_uuid == 0 || (vs.current_uuid & ~kUuidPrimaryBit) == md::kUuidJustCreated ||
        (vs.current_uuid & ~kUuidPrimaryBit) == (d.sb.current_uuid & ~kUuidPrimaryBit)) {
      continue;
    }
    // The Primary keeps bits toward this node (blocks it knows this node
    // lacks, e.g. from its activity log after a crash) while the
    // connection does not resync them: taking its UUID would hide them
    // from the next handshake. (The kernel takes it; its peers resync such
    // bits by other means.)
    if (vs.dirty_bits != 0 && pit->second.repl == ReplState::kEstablished) continue;
    // The sender counts as weak too: this node's bitmap toward it starts
    // at the old generation if it had none.
    const uint64_t weak = vs.weak_nodes | NodeBit(c.peer_node_id);
    Log(fmt::format("{}: received new current UUID: {:016X} weak_nodes={:016X}", Prefix(r, d, c),
                    vs.current_uuid, weak));
    ReceivedNewCurrent(r, c, d, vs.current_uuid, weak);
  }
}

void Engine::ReceivedNewCurrent(Resource& r, Connection& /*from*/, Device& d, uint64_t val,
                                uint64_t weak_nodes) {
  // A resync (or Behind) toward this node is under way: the new UUID is
  // taken when it ends (the resync's end adopts the source's UUID).
  for (const auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end()) continue;
    const ReplState s = pit->second.repl;
    if (s == ReplState::kSyncTarget || s == ReplState::kPausedSyncT || s == ReplState::kBehind) {
      return;
    }
  }
  md::Superblock& sb = d.sb;
  const uint64_t old_current = sb.current_uuid;
  uint64_t prev = old_current & ~kUuidPrimaryBit;
  if (prev == md::kUuidJustCreated || prev == 0) prev = NewUuid() & ~kUuidPrimaryBit;
  // rotate_current_into_bitmap: peers that are away (disk at most DUnknown
  // in the kernel's order, Negotiating aside) or weak, whose bitmap UUID
  // is unset or the old current one, get the old current UUID.
  if (d.disk == DiskState::kUpToDate) {
    for (const auto& [peer, c] : r.connections) {
      auto pit = c.peer_devices.find(d.volume);
      if (pit == c.peer_devices.end() || peer >= md::kPeersMax) continue;
      auto& pm = sb.peers[peer];
      if (pm.bitmap_uuid != 0 && (pm.bitmap_uuid & ~kUuidPrimaryBit) != prev) continue;
      const DiskState pdsk = pit->second.peer_disk;
      if (pdsk == DiskState::kDiskless && pm.bitmap_index < 0) continue;
      if ((pdsk <= DiskState::kDUnknown && pdsk != DiskState::kNegotiating) ||
          (weak_nodes & NodeBit(peer))) {
        pm.bitmap_uuid = prev;
      }
    }
  }
  // __set_bitmap_slots: nodes connected to the Primary (not weak) for
  // which this node keeps a bitmap UUID hold the new data generation as of
  // now; their bitmap UUID becomes it, the previous one goes to history.
  const uint64_t new_current = val & ~kUuidPrimaryBit;
  for (int node = 0; node < static_cast<int>(sb.peers.size()); ++node) {
    if (node == r.node_id || node >= 64) continue;
    auto& pm = sb.peers[static_cast<size_t>(node)];
    if ((weak_nodes & NodeBit(static_cast<uint32_t>(node))) || pm.bitmap_uuid == 0 ||
        pm.bitmap_index < 0 || pm.bitmap_uuid == new_current) {
      continue;
    }
    const uint64_t previous = pm.bitmap_uuid;
    pm.bitmap_uuid = new_current;
    PushHistory(sb, r.node_id, previous);
  }
  // __drbd_uuid_set_current (a Secondary keeps the primary bit clear),
  // then the old current UUID goes to history even when no bitmap UUID
  // took it, so a later handshake with a node that never saw the new one
  // finds it there.
  sb.current_uuid = new_current;
  PushHistory(sb, r.node_id, old_current);
  WriteMetadata(d);
  BroadcastState(r);
}

void Engine::SendPeerAcks(Resource& r, Device& d,
                          const std::map<uint32_t, std::pair<uint64_t, uint32_t>>& acked,
                          uint64_t mask) {
  for (const auto& [peer, ids] : acked) {
    auto cit = r.connections.find(peer);
    if (cit == r.connections.end()) continue;
    Session* s = SessionOf(cit->second);
    if (!s || !s->up) continue;
    Send(*s, proto::PeerAck{d.volume, ids.first, ids.second, mask});
  }
}

bool Engine::MarkTowardPeers(Resource& r, uint32_t vol, uint32_t except, uint64_t spared,
                             uint64_t offset, uint64_t len) {
  bool marked = false;
  for (auto& [peer, c] : r.connections) {
    if (peer == except || (spared & NodeBit(peer))) continue;
    auto pit = c.peer_devices.find(vol);
    if (pit == c.peer_devices.end()) continue;
    MarkOutOfSyncRange(pit->second.oos_bits, pit->second.oos_count, offset, len);
    marked = true;
  }
  return marked;
}

void Engine::RunAfterPeerAck(Connection& c, uint64_t id) {
  auto [first, last] = c.after_peer_ack.equal_range(id);
  std::vector<std::function<void()>> run;
  for (auto it = first; it != last; ++it) run.push_back(std::move(it->second));
  c.after_peer_ack.erase(first, last);
  for (auto& fn : run) fn();
}

void Engine::NotePeerRequest(Connection& c, uint32_t vol, uint64_t id, uint64_t offset,
                             uint64_t len) {
  c.unacked[id] = Connection::PeerReq{vol, offset, len};
}

void Engine::HandlePeerAck(Resource& r, Connection& c, const proto::PeerAck& m) {
  auto dit = r.devices.find(m.volume);
  bool marked = false;
  for (uint64_t id = m.id; id < m.id + m.chunks; ++id) {
    auto it = c.unacked.find(id);
    if (it == c.unacked.end()) continue;
    const Connection::PeerReq req = it->second;
    c.unacked.erase(it);
    RunAfterPeerAck(c, id);
    // drbd_set_sync with the Primary's own slot left alone: the blocks are
    // out of sync toward every other node the write did not reach, and in
    // sync toward those it reached, where it covers whole blocks, if it
    // reached this node too (not EE_WAS_ERROR). Bits left set there toward
    // a node with the same current UUID were never resynced: two
    // Secondaries that both took a full sync from the Primary while it
    // wrote kept the blocks it wrote meanwhile marked toward each other
    // (simd_soak --nodes 3 --seed 0xc4119f14).
    marked = MarkTowardPeers(r, req.volume, c.peer_node_id, m.mask, req.offset, req.len) || marked;
    if ((m.mask & NodeBit(static_cast<uint32_t>(r.node_id))) != 0) {
      marked = ClearTowardPeers(r, req.volume, c.peer_node_id, m.mask, req.offset, req.len) ||
               marked;
    }
  }
  if (marked && dit != r.devices.end() && dit->second.data) MdArmFlush(dit->second.minor);
}

void Engine::ApplyUnackedPeerRequests(Resource& r, Connection& c) {
  std::set<uint32_t> vols;
  for (const auto& [id, req] : c.unacked) {
    if (MarkTowardPeers(r, req.volume, c.peer_node_id, 0, req.offset, req.len)) {
      vols.insert(req.volume);
    }
  }
  c.unacked.clear();
  // The refusals that waited for those writes go out now: the source reads
  // the blocks again after its own marks (engine_io.cc).
  auto waiting = std::exchange(c.after_peer_ack, {});
  for (auto& [id, fn] : waiting) fn();
  for (uint32_t vol : vols) {
    auto dit = r.devices.find(vol);
    if (dit != r.devices.end() && dit->second.data) MdArmFlush(dit->second.minor);
  }
}

// The reconciliation resync (9.2.18's receive_peer_dagtag). Two
// Secondaries that lose their Primary may each hold writes the other never
// got (those the Primary had not peer-acked yet, marked toward every other
// node by ApplyUnackedPeerRequests). Both received the Primary's writes in
// one order, so the one whose last write from it came later (the higher
// dagtag) holds all the other holds: it becomes the source over both sides'
// bits. On equal dagtags both got the same writes and clear every bit
// toward each other.
//
// The kernel decides on each side alone, on the dagtag the other side sent
// when it lost the Primary; a side still connected to the Primary pings it
// first and blocks until it knows. Here nothing blocks, so the dagtag a
// side decides on may be stale (its sender reconnected to the Primary
// meanwhile and got more writes), and a side may decide while the other
// does not. Hence the decision goes back to the other side with the dagtag
// it was made on (PeerDagtag::decided): that side takes its part if the
// dagtag is still its own and it lost the Primary too, and otherwise drops
// the connection, whose next handshake decides (docs/compat.md).
void Engine::NotifyPeersLostPrimary(Resource& r, Connection& lost) {
  for (auto& [peer, c] : r.connections) {
    if (peer == lost.peer_node_id) continue;
    Session* s = SessionOf(c);
    if (!s || !s->up || c.cstate != ConnState::kConnected) continue;
    bool send = false;
    for (const auto& [vol, pd] : c.peer_devices) {
      auto dit = r.devices.find(vol);
      if (dit == r.devices.end()) continue;
      // Not where one side is diskless.
      send = send || (dit->second.disk >= DiskState::kInconsistent &&
                      pd.peer_disk >= DiskState::kInconsistent);
    }
    if (send) Send(*s, proto::PeerDagtag{lost.peer_node_id, lost.last_dagtag});
  }
  // What peers sent about this node while it still looked connected here.
  for (auto& [peer, c] : r.connections) {
    auto it = c.pending_dagtags.find(lost.peer_node_id);
    if (it == c.pending_dagtags.end()) continue;
    const uint64_t dagtag = it->second;
    c.pending_dagtags.erase(it);
    Reconcile(r, c, lost, dagtag);
  }
}

void Engine::HandlePeerDagtag(Resource& r, Connection& c, const proto::PeerDagtag& m) {
  auto lit = r.connections.find(m.node_id);
  if (m.node_id == c.peer_node_id || lit == r.connections.end()) return;
  Connection& lost = lit->second;
  if (m.decided != proto::PeerDagtag::kLost) return FollowReconcile(r, c, lost, m);
  if (lost.cstate == ConnState::kConnected) {
    // drbd_ping_peer: whether that node is really gone. Its PingAck drops
    // the dagtag; the loss of the connection takes it up.
    c.pending_dagtags[m.node_id] = m.dagtag;
    if (Session* ls = SessionOf(lost); ls && ls->up) {
      Send(*ls, proto::Ping{});
      ArmPingTimeout(r, lost, "PingAck did not arrive in time.");
    }
    return;
  }
  Reconcile(r, c, lost, m.dagtag);
}

std::vector<uint32_t> Engine::ReconcileVolumes(Resource& r, Connection& c) {
  std::vector<uint32_t> vols;
  Session* s = SessionOf(c);
  if (!s || !s->up || c.cstate != ConnState::kConnected) return {};
  for (const auto& [vol, pd] : c.peer_devices) {
    auto dit = r.devices.find(vol);
    if (dit == r.devices.end()) continue;
    const Device& d = dit->second;
    if (pd.repl != ReplState::kEstablished) return {};
    if (!d.data || (d.disk != DiskState::kConsistent && d.disk != DiskState::kUpToDate)) return {};
    if (pd.peer_disk < DiskState::kInconsistent || pd.peer_disk == DiskState::kDUnknown) continue;
    // drbd_uuid_compare must find no resync: between these two the same
    // data generation (a live connection decided anything else already).
    if (NormUuid(d.sb.current_uuid) != NormUuid(pd.peer.current_uuid)) return {};
    vols.push_back(vol);
  }
  return vols;
}

void Engine::Reconcile(Resource& r, Connection& c, Connection& lost, uint64_t peer_dagtag) {
  const std::vector<uint32_t> vols = ReconcileVolumes(r, c);
  if (vols.empty()) return;
  const auto o = static_cast<int64_t>(lost.last_dagtag - peer_dagtag);
  const ReplState to = o > 0   ? ReplState::kWFBitMapS
                       : o < 0 ? ReplState::kWFBitMapT
                               : ReplState::kEstablished;
  if (!ApplyReconcile(r, c, lost, vols, to, o, peer_dagtag)) return;
  using D = proto::PeerDagtag;
  const auto decided = to == ReplState::kWFBitMapS   ? D::kTarget
                       : to == ReplState::kWFBitMapT ? D::kSource
                                                     : D::kEqual;
  if (Session* s = SessionOf(c)) {
    Send(*s, D{lost.peer_node_id, lost.last_dagtag, decided, peer_dagtag});
  }
}

bool Engine::ApplyReconcile(Resource& r, Connection& c, Connection& lost,
                            const std::vector<uint32_t>& vols, ReplState to, int64_t o,
                            uint64_t peer_dagtag) {
  if (to == ReplState::kEstablished) {
    Log(fmt::format("{}: No reconciliation resync even though '{}' disappeared. (o=0)",
                    Prefix(r, c), lost.name));
    for (uint32_t vol : vols) {
      PeerDevice& pd = c.peer_devices.at(vol);
      if (pd.oos_count) ClearOutOfSync(r, r.devices.at(vol), pd);
    }
    return true;
  }
  ResState n = Capture(r);
  for (uint32_t vol : vols) {
    ResState::Pd& npd = n.conns.at(c.peer_node_id).pd.at(vol);
    npd.repl = to;
    BitmapPhaseDisks(to, &n.disk[vol], &npd.peer_disk);
    PeerDevice& pd = c.peer_devices.at(vol);
    pd.rs_use_bitmap = to == ReplState::kWFBitMapS;  // the bits as they are
    pd.rs_full = false;
  }
  if (Change(r, n, true, "receive-peer-dagtag") != Ret::kSsSuccess) {
    for (uint32_t vol : vols) c.peer_devices.at(vol).rs_use_bitmap = false;
    return false;
  }
  Log(fmt::format("{}: Reconciliation resync because '{}' disappeared. (o={})", Prefix(r, c),
                  lost.name, o));
  if (to == ReplState::kWFBitMapT) c.after_reconciliation.emplace(lost.peer_node_id, peer_dagtag);
  return true;
}

void Engine::FollowReconcile(Resource& r, Connection& c, Connection& lost,
                             const proto::PeerDagtag& m) {
  using D = proto::PeerDagtag;
  const ReplState to = m.decided == D::kSource   ? ReplState::kWFBitMapT
                       : m.decided == D::kTarget ? ReplState::kWFBitMapS
                                                 : ReplState::kEstablished;
  // Both sides decided on their own, alike: nothing to follow.
  for (const auto& [vol, pd] : c.peer_devices) {
    if ((to == ReplState::kWFBitMapS && (pd.repl == to || IsSyncSource(pd.repl))) ||
        (to == ReplState::kWFBitMapT && (pd.repl == to || IsSyncTarget(pd.repl)))) {
      return;
    }
  }
  const bool valid = lost.cstate != ConnState::kConnected && lost.last_dagtag == m.peer_dagtag;
  const std::vector<uint32_t> vols = valid ? ReconcileVolumes(r, c) : std::vector<uint32_t>{};
  if (!vols.empty()) {
    // Equal dagtags that this side found equal too already dropped the
    // bits here (and said so once, as the kernel does on each side).
    if (to == ReplState::kEstablished &&
        std::all_of(vols.begin(), vols.end(),
                    [&c](uint32_t vol) { return c.peer_devices.at(vol).oos_count == 0; })) {
      return;
    }
    const auto o = static_cast<int64_t>(lost.last_dagtag - m.dagtag);
    ApplyReconcile(r, c, lost, vols, to, o, m.dagtag);
    return;
  }
  if (to == ReplState::kEstablished) return;  // the peer only dropped its bits
  Log(fmt::format("{}: the peer's reconciliation resync for '{}' does not hold here; reconnecting",
                  Prefix(r, c), lost.name));
  ConnectionLost(r, c, ConnState::kProtocolError, false, "reconcile");
}

void Engine::DropFreshBitmapUuid(Resource& /*r*/, Connection& c, Device& d, PeerDevice& pd) {
  if (!pd.rs_fresh_bm_uuid) return;
  pd.rs_fresh_bm_uuid = false;
  if (!d.data || c.peer_node_id >= md::kPeersMax) return;
  d.sb.peers[c.peer_node_id].bitmap_uuid = 0;
  WriteMetadata(d);
}

void Engine::DetectFinishedResyncs(Resource& r, Connection& c) {
  if (c.cstate != ConnState::kConnected) return;
  bool propagate = false;
  for (auto& [vol, pd] : c.peer_devices) {
    auto dit = r.devices.find(vol);
    if (dit == r.devices.end() || !pd.have_peer) continue;
    Device& d = dit->second;
    // Equal current UUIDs on a connection that is not resyncing, between
    // two UpToDate disks.
    if (!d.data || pd.repl != ReplState::kEstablished || d.disk != DiskState::kUpToDate ||
        pd.peer_disk != DiskState::kUpToDate || pd.peer.current_uuid == 0 ||
        (pd.peer.current_uuid & ~kUuidPrimaryBit) != (d.sb.current_uuid & ~kUuidPrimaryBit)) {
      continue;
    }
    bool changed = false;
    for (int node = 0; node < static_cast<int>(d.sb.peers.size()); ++node) {
      if (node == r.node_id) continue;
      auto& pm = d.sb.peers[static_cast<size_t>(node)];
      if (pm.bitmap_uuid == 0) continue;
      PeerDevice* pd2 = nullptr;
      auto cit = r.connections.find(static_cast<uint32_t>(node));
      if (cit != r.connections.end() && cit->second.peer_devices.count(vol)) {
        pd2 = &cit->second.peer_devices.at(vol);
      }
      // A node this side is resyncing with keeps its slot until that run
      // ends.
      if (pd2 && pd2 != &pd && pd2->repl > ReplState::kEstablished) continue;
      bool peer_has = false;
      for (const auto& [n2, uuid] : pd.peer.bitmap_uuids) {
        if (n2 == node && uuid != 0) peer_has = true;
      }
      if (peer_has) continue;
      // The peer, on this side's data generation, keeps no bitmap UUID
      // toward `node`: that node caught up with this generation (a sync
      // target takes over its source's bitmap UUIDs toward the nodes still
      // behind, TakeOverSourceUuids). Toward the peer itself: it was our
      // sync target and this side missed the end. Toward a third node the
      // slot's UUID goes to history as in the kernel, but its marks stay:
      // the kernel forgets them (forget_bitmap) because P_PEERS_IN_SYNC
      // has already cleared what the node caught up on, which the engine
      // does not send; a mark left over costs a block of resync, a mark
      // dropped that the node still needed loses it.
      const uint64_t previous = pm.bitmap_uuid;
      pm.bitmap_uuid = 0;
      PushHistory(d.sb, r.node_id, previous);
      if (node != static_cast<int>(c.peer_node_id)) {
        Log(fmt::format("{}: Clearing bitmap UUID for node {}", Prefix(r, d), node));
        propagate = true;
      }
      changed = true;
    }
    if (changed) {
      WriteMetadata(d);
      MdArmFlush(d.minor);
    }
  }
  // drbd_propagate_uuids: the other peers hear of it and drop theirs in
  // turn.
  if (propagate) BroadcastState(r, c.peer_node_id);
}

void Engine::FollowCancelledResync(Resource& r, Connection& c, const proto::State& st,
                                   const std::map<uint32_t, uint8_t>& prev_repl) {
  ResState n = Capture(r);
  bool any = false;
  for (const proto::VolumeState& vs : st.volumes) {
    auto pit = c.peer_devices.find(vs.volume);
    if (pit == c.peer_devices.end()) continue;
    // The answer to our UUID_FLAG_GOT_STABLE (UUID_FLAG_RESYNC) was built
    // before its sender decided the resync it asks for: its Established is
    // not a cancel (this side became WFBitMapS on this very STATE; ending
    // it left the peer WFBitMapT for good, detsim --nodes=3
    // --seed=0x598b88dbaa99e079).
    if (vs.uuid_flags & kUuidFlagResync) continue;
    const ReplState mine = pit->second.repl;
    // A cancel ends a target state the peer reported: an Established from a
    // STATE it sent before its own decision of a live re-handshake is none
    // (this side, just WFBitMapS, ended the exchange the peer then entered
    // as WFBitMapT and waited in for good: detsim --nodes=3 --seed=0x5e).
    if (mine == ReplState::kWFBitMapS) {
      auto prit = prev_repl.find(vs.volume);
      const auto prev = prit == prev_repl.end() ? ReplState::kOff
                                                : static_cast<ReplState>(prit->second);
      if (prev != ReplState::kWFBitMapT && !IsSyncTarget(prev)) continue;
    }
    if ((mine == ReplState::kSyncSource || mine == ReplState::kPausedSyncS ||
         mine == ReplState::kWFBitMapS) &&
        static_cast<ReplState>(vs.repl) == ReplState::kEstablished &&
        static_cast<DiskState>(vs.disk) == DiskState::kUpToDate) {
      ResState::Pd& npd = n.conns.at(c.peer_node_id).pd.at(vs.volume);
      npd.repl = ReplState::kEstablished;
      npd.peer_disk = DiskState::kUpToDate;
      any = true;
      // A full sync cancelled before its bitmap exchange, toward a peer
      // that holds our current UUID: its marks mean nothing (two nodes that
      // adopted a third node's skipped initial sync, each a moment after
      // deciding to fully sync the other, simd_data t_integrity_*_3). A
      // bitmap-based run keeps its bits: they may be real.
      auto dit = r.devices.find(vs.volume);
      if (mine == ReplState::kWFBitMapS && pit->second.rs_full &&
          dit != r.devices.end() && dit->second.data &&
          (vs.current_uuid & ~kUuidPrimaryBit) == (dit->second.sb.current_uuid & ~kUuidPrimaryBit)) {
        PeerDevice& pd = pit->second;
        ClearOutOfSync(r, dit->second, pd);
        DropFreshBitmapUuid(r, c, dit->second, pd);
      }
    }
  }
  if (any) Change(r, n, true, "resync-finished");
}

bool Engine::DeviceStable(const Resource& r) const {
  if (r.role == Role::kPrimary) return true;
  for (const auto& [peer, c] : r.connections) {
    if (c.cstate == ConnState::kConnected && c.peer_role == Role::kPrimary) return false;
  }
  return true;
}

bool Engine::StableSourcePresent(const Resource& r, const Connection& except) const {
  if (r.role == Role::kPrimary) return true;
  for (const auto& [peer, c] : r.connections) {
    if (&c == &except || c.cstate != ConnState::kConnected || c.peer_role != Role::kPrimary) {
      continue;
    }
    for (const auto& [vol, pd] : c.peer_devices) {
      if (pd.repl == ReplState::kEstablished || pd.repl == ReplState::kWFBitMapS ||
          (pd.repl >= ReplState::kSyncSource && pd.repl < ReplState::kAhead)) {
        return true;
      }
    }
  }
  return false;
}

void Engine::NoteSourceStability(Resource& r, Connection& c) {
  if (StableSourcePresent(r, c)) return;
  for (auto& [vol, pd] : c.peer_devices) {
    const bool target = pd.repl == ReplState::kWFBitMapT || pd.repl == ReplState::kSyncTarget ||
                        pd.repl == ReplState::kPausedSyncT;
    if (!target) {
      pd.rs_unstable = false;
    } else if (pd.have_peer && !(pd.peer.uuid_flags & kUuidFlagStable)) {
      pd.rs_unstable = true;
    }
  }
}

bool Engine::FinishUnstableResync(Resource& r, Connection& c, Device& d, PeerDevice& pd) {
  const bool unstable = (pd.rs_unstable || !(pd.peer.uuid_flags & kUuidFlagStable)) &&
                        !StableSourcePresent(r, c);
  pd.rs_unstable = false;
  if (!unstable) return false;
  // drbd_resync_finished without a stable resync: Established again, but
  // the disk keeps its state and the UUIDs stay; the source kept taking
  // writes this node did not get.
  Log(fmt::format("{}: Peer was unstable during resync", Prefix(r, d, c)));
  ResState n = Capture(r);
  n.conns.at(c.peer_node_id).pd.at(d.volume).repl = ReplState::kEstablished;
  Change(r, n, true, "resync-finished");
  return true;
}

uint64_t Engine::TakeOverSourceUuids(Resource& r, Connection& c, Device& d,
                                     const PeerDevice& pd) {
  md::Superblock& sb = d.sb;
  // The source's history and bitmap UUIDs become this node's history (the
  // push skips what this node already holds, its current UUID included).
  // Not on a split-brain victim (it keeps a bitmap UUID toward the source):
  // captures 07b and 08 show its history as the common base only (the
  // kernel's pushes land where rotate_current_into_bitmap filled the
  // records of the node ids not configured, which the engine does not keep).
  const bool victim =
      c.peer_node_id < md::kPeersMax && sb.peers[c.peer_node_id].bitmap_uuid != 0;
  uint64_t source_bm = 0;  // nodes the source keeps a bitmap UUID toward
  for (const auto& [node, uuid] : pd.peer.bitmap_uuids) {
    if (uuid != 0) source_bm |= NodeBit(node);
  }
  if (!victim) {
    for (uint64_t h : pd.peer.history_uuids) PushHistory(sb, r.node_id, h);
    for (const auto& [node, uuid] : pd.peer.bitmap_uuids) PushHistory(sb, r.node_id, uuid);
  }
  // Nodes already known to hold the source's current data: nothing to
  // bring them whatever the source's bitmap says.
  const uint64_t source_current = pd.peer.current_uuid & ~kUuidPrimaryBit;
  uint64_t on_source_current = 0;
  for (const auto& [peer, c2] : r.connections) {
    auto pit = c2.peer_devices.find(d.volume);
    if (pit == c2.peer_devices.end()) continue;
    const DiskState pdsk = pit->second.peer_disk;
    if (pdsk < DiskState::kInconsistent || pdsk == DiskState::kDUnknown) continue;
    if ((pit->second.peer.current_uuid & ~kUuidPrimaryBit) == source_current) {
      on_source_current |= NodeBit(peer);
    }
  }
  // This node's current UUID is still the one it had when the run began
  // (a sync target takes no new one while it runs).
  const uint64_t start = sb.current_uuid & ~kUuidPrimaryBit;
  uint64_t newer = 0;
  for (int node = 0; node < static_cast<int>(sb.peers.size()) && node < 64; ++node) {
    if (node == r.node_id || node == static_cast<int>(c.peer_node_id)) continue;
    md::PeerRecord& pm = sb.peers[static_cast<size_t>(node)];
    if (pm.bitmap_index < 0) continue;  // no bitmap toward it
    const uint64_t bit = NodeBit(static_cast<uint32_t>(node));
    const uint64_t want = (source_bm & ~on_source_current & bit) ? start : 0;
    if (pm.bitmap_uuid == want) continue;
    const uint64_t previous = pm.bitmap_uuid;
    pm.bitmap_uuid = want;
    PushHistory(sb, r.node_id, previous);
    if (want) newer |= bit;
  }
  return newer;
}

bool Engine::PeerIsAhead(const Resource& r, uint32_t peer, const PeerDevice& pd, uint64_t mine) {
  auto cit = r.connections.find(peer);
  if (cit != r.connections.end() && cit->second.peer_role == Role::kPrimary) return true;
  mine &= ~kUuidPrimaryBit;
  for (const auto& [node, uuid] : pd.peer.bitmap_uuids) {
    if (node == r.node_id && (uuid & ~kUuidPrimaryBit) == mine) return true;
  }
  for (uint64_t h : pd.peer.history_uuids) {
    if ((h & ~kUuidPrimaryBit) == mine) return true;
  }
  return false;
}

void Engine::SelectSyncTarget(const Resource& r, const ResState& o, ResState& n) const {
  for (const auto& vol_disk : n.disk) {
    const uint32_t vol = vol_disk.first;
    const DiskState disk = vol_disk.second;  // a plain local: the lambda below uses it
    // The peer devices of `vol` in `n`, with this side's bits toward each.
    struct Cand {
      uint32_t peer;
      ResState::Pd* npd;
      uint64_t weight;
      bool was_target;
    };
    std::vector<Cand> pds;
    for (auto& [peer, nc] : n.conns) {
      auto pit = nc.pd.find(vol);
      if (pit == nc.pd.end()) continue;
      uint64_t weight = 0;
      auto cit = r.connections.find(peer);
      if (cit != r.connections.end() && cit->second.peer_devices.count(vol)) {
        weight = cit->second.peer_devices.at(vol).oos_count;
      }
      bool was_target = false;
      auto oit = o.conns.find(peer);
      if (oit != o.conns.end() && oit->second.pd.count(vol)) {
        was_target = oit->second.pd.at(vol).repl == ReplState::kSyncTarget;
      }
      pds.push_back(Cand{peer, &pit->second, weight, was_target});
    }
    if (pds.size() < 2) {
      for (Cand& p : pds) p.npd->susp_other_c = false;
      continue;
    }
    // drbd_is_sync_target_candidate: a sync target state not suspended for
    // another reason, toward a peer disk at least Outdated. Data that is
    // UpToDate here needs no source.
    auto candidate = [&](const Cand& p) {
      return disk != DiskState::kUpToDate && IsSyncTarget(p.npd->repl) &&
             !p.npd->susp_dep && !p.npd->susp_peer && !p.npd->susp_user &&
             p.npd->peer_disk >= DiskState::kOutdated;
    };
    const Cand* current = nullptr;
    const Cand* active = nullptr;
    const Cand* desired = nullptr;
    for (const Cand& p : pds) {
      if (p.was_target && IsSyncTarget(p.npd->repl)) active = &p;
      if (p.was_target && candidate(p)) current = &p;
      if (!candidate(p)) continue;
      if (desired && p.weight > desired->weight) continue;
      desired = &p;
    }
    // Keep the running source unless the other has at least 1 MiB (256
    // bits) less to resync; never start a second while one is active.
    if (current && desired && current->weight < desired->weight + 256) desired = current;
    // __cancel_other_resyncs: the disk became UpToDate (a resync ended):
    // the other resyncs toward it have nothing to bring.
    auto oit = o.disk.find(vol);
    if (disk == DiskState::kUpToDate && oit != o.disk.end() && oit->second != DiskState::kUpToDate) {
      // (A peer on the same current UUID is left to the Established
      // shortcut of ReevaluateRepl, which also drops the run's bits.)
      auto dit = r.devices.find(vol);
      const uint64_t mine = dit != r.devices.end() ? dit->second.sb.current_uuid : 0;
      for (Cand& p : pds) {
        p.npd->susp_other_c = false;
        if (!IsSyncTarget(p.npd->repl)) continue;
        const PeerDevice& pd = r.connections.at(p.peer).peer_devices.at(vol);
        if (((pd.peer.current_uuid ^ mine) & ~kUuidPrimaryBit) != 0) {
          p.npd->repl = ReplState::kEstablished;
        }
      }
      continue;
    }
    if (desired && active && desired != active) desired = nullptr;
    const Cand* holder = desired ? desired : active;
    for (Cand& p : pds) {
      p.npd->susp_other_c = holder != nullptr && &p != holder;
      if (IsSyncTarget(p.npd->repl) && desired) {
        p.npd->repl = &p == desired ? ReplState::kSyncTarget : ReplState::kPausedSyncT;
      }
    }
  }
}

}  // namespace drbd::engine
