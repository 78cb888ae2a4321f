// SPDX-License-Identifier: GPL-2.0-or-later
// The bitmap exchange that precedes every resync, as the DRBD 9 module
// runs it (captures drbd-9.2.18-scenarios 01, 03, 11, 12a, 12b). A
// handshake that decides a resync puts the source in WFBitMapS (its peer's
// disk seen as Consistent) and the target in WFBitMapT (its own disk
// Outdated); the source sends its out-of-sync bitmap (every block for a
// full sync), the target ORs it into its own, answers with its bitmap and
// becomes SyncTarget (disk Inconsistent), and the source becomes
// SyncSource on that answer, so the run covers the union of both sides'
// bits. A full resync asked for on a live connection (invalidate,
// invalidate-remote) passes StartingSyncT / StartingSyncS instead: the
// target goes Outdated and asks by RESYNC_REQUEST, the source marks every
// block and starts its run, whose RESYNC_START makes the target
// SyncTarget. See docs/design/drbd-simd.md (data path) and
// docs/formats/peer-protocol.md (BITMAP, RESYNC_REQUEST).
#include <fmt/format.h>

#include <algorithm>

#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {

uint64_t DerivedBitmapUuid(uint64_t current) {
  // splitmix64's finalizer.
  uint64_t z = (current & ~kUuidPrimaryBit) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z = (z ^ (z >> 31)) & ~kUuidPrimaryBit;
  return z <= md::kUuidJustCreated || z == (current & ~kUuidPrimaryBit) ? z + 0x10 : z;
}

ReplState Engine::ExchangeFirst(ReplState decided) {
  if (decided == ReplState::kSyncSource) return ReplState::kWFBitMapS;
  if (decided == ReplState::kSyncTarget) return ReplState::kWFBitMapT;
  return decided;
}

void Engine::BitmapPhaseDisks(ReplState repl, DiskState* disk, DiskState* peer_disk) {
  // The target's data is no longer current but still consistent until the
  // run starts; the source sees the peer's disk as Consistent until the
  // target's own STATE says Outdated.
  if ((repl == ReplState::kWFBitMapT || repl == ReplState::kStartingSyncT) &&
      *disk > DiskState::kOutdated) {
    *disk = DiskState::kOutdated;
  }
  if ((repl == ReplState::kWFBitMapS || repl == ReplState::kStartingSyncS) &&
      *peer_disk > DiskState::kOutdated && *peer_disk != DiskState::kDUnknown) {
    *peer_disk = DiskState::kConsistent;
  }
}

void Engine::SyncBitmapPhases(Resource& r) {
  for (auto& [peer, c] : r.connections) {
    for (auto& [vol, pd] : c.peer_devices) {
      auto dit = r.devices.find(vol);
      if (c.cstate != ConnState::kConnected ||
          (dit != r.devices.end() && dit->second.disk == DiskState::kUpToDate &&
           pd.repl == ReplState::kEstablished)) {
        pd.bm_got = false;
      }
      const bool wf = pd.repl == ReplState::kWFBitMapS || pd.repl == ReplState::kWFBitMapT;
      if (!wf && pd.repl != ReplState::kStartingSyncS) pd.bm_begun = false;
      if (!wf || pd.bm_begun || c.cstate != ConnState::kConnected) continue;
      pd.bm_begun = true;
      // Sent later on the loop, never inside the state change (and after
      // the STATE that change broadcasts).
      env_.clock->StartTimer(0, [this, res = r.name, p = peer, v = vol] {
        Resource* r2 = nullptr;
        Connection* c2 = FindConnection(res, p, &r2);
        if (!c2 || !c2->peer_devices.count(v) || !r2->devices.count(v)) return;
        PeerDevice& pd2 = c2->peer_devices.at(v);
        Device& d2 = r2->devices.at(v);
        if (pd2.repl == ReplState::kWFBitMapS && d2.data) {
          if (!pd2.rs_use_bitmap) {  // a full sync: the whole slot, written
            MarkAll(d2, pd2);
            pd2.rs_use_bitmap = true;
            MdArmFlush(d2.minor);
          }
          if (p < md::kPeersMax && d2.sb.peers[p].bitmap_uuid == 0 &&
              NormUuid(pd2.peer.current_uuid) == md::kUuidJustCreated &&
              NormUuid(d2.sb.current_uuid) != md::kUuidJustCreated) {
            // The initial sync of a just-created peer: a bitmap UUID of
            // its own (the module's is random; this one is derived from
            // the current UUID, leaving the Env's random stream alone),
            // announced by STATE before the bitmap.
            d2.sb.peers[p].bitmap_uuid = DerivedBitmapUuid(d2.sb.current_uuid);
            pd2.rs_fresh_bm_uuid = true;
            WriteMetadata(d2);
            if (Session* s = SessionOf(*c2); s && s->up) Send(*s, LocalState(*r2, p));
          }
          SendBitmap(*r2, *c2, v);
        } else if (pd2.repl == ReplState::kWFBitMapT && pd2.bm_got) {
          pd2.bm_got = false;
          BitmapReceived(*r2, *c2, v);
        }
      });
    }
  }
}

bool Engine::BitmapWanted(Resource& r, Connection& c, uint32_t vol) const {
  auto pit = c.peer_devices.find(vol);
  auto dit = r.devices.find(vol);
  if (pit == c.peer_devices.end() || dit == r.devices.end()) return false;
  const ReplState repl = pit->second.repl;
  return repl == ReplState::kWFBitMapS || repl == ReplState::kWFBitMapT ||
         (repl == ReplState::kEstablished && dit->second.disk != DiskState::kUpToDate);
}

void Engine::BitmapReceived(Resource& r, Connection& c, uint32_t vol) {
  auto pit = c.peer_devices.find(vol);
  auto dit = r.devices.find(vol);
  if (pit == c.peer_devices.end() || dit == r.devices.end()) return;
  PeerDevice& pd = pit->second;
  ResState n = Capture(r);
  ResState::Pd& npd = n.conns.at(c.peer_node_id).pd.at(vol);
  if (pd.repl == ReplState::kWFBitMapT) {
    Device& d = dit->second;
    uint64_t fresh = 0;  // the source's bitmap UUID toward this node
    for (const auto& [node, uuid] : pd.peer.bitmap_uuids) {
      if (node == r.node_id) fresh = uuid & ~kUuidPrimaryBit;
    }
    if (d.data && NormUuid(d.sb.current_uuid) == md::kUuidJustCreated && fresh != 0 &&
        NormUuid(pd.peer.current_uuid) != md::kUuidJustCreated) {
      // A just-created target takes the source's current UUID at the start
      // of the initial sync, the source's new bitmap UUID as its history
      // (capture 01: U1:0:x:0 while SyncTarget).
      d.sb.current_uuid = pd.peer.current_uuid & ~kUuidPrimaryBit;
      ShiftIntoHistory(d.sb, fresh);
      WriteMetadata(d);
    }
    // The union goes back, then the run may come.
    SendBitmap(r, c, vol);
    npd.repl = ReplState::kSyncTarget;
    if (n.disk.at(vol) >= DiskState::kInconsistent) n.disk[vol] = DiskState::kInconsistent;
    Change(r, n, true, "receive-bitmap");
    // The union is on disk before any resync data: a SyncTarget that
    // crashes mid-run (losing resync writes it acknowledged) still marks
    // those blocks and brings them into the next exchange (the kernel
    // writes the bitmap in the sync handshake, drbd_bm_write, and syncs
    // the metadata before drbd_start_resync sends requests). But not
    // before the superblock of the Inconsistent state: a target that
    // crashed in between would come back UpToDate with the bits, meet its
    // source with equal UUIDs, choose no-sync and keep the bits on both
    // sides (detsim seed 0x826fe5a4086d52e8).
    if (d.data) MdFlushBitmapAfterSuperblock(d);
  } else if (pd.repl == ReplState::kWFBitMapS) {
    // An Inconsistent source toward a peer whose data is consistent: this
    // side's decision is older than the disk states (a handshake toward a
    // just-created disk, left waiting while that disk took its first
    // resync from a third node; the peer's live re-handshake, once it was
    // UpToDate, made it the source, which no STATE tells). Run as source,
    // it would overwrite acknowledged writes there (detsim --nodes=3
    // --seed=0xa92e6b951cce9c77); the better disk is the source.
    // (Not an Inconsistent disk that a third node's resync is filling: that
    // one's source decision can stand, e.g. toward an Outdated peer.)
    bool filling = false;
    for (const auto& [p2, c2] : r.connections) {
      auto it2 = c2.peer_devices.find(vol);
      if (p2 != c.peer_node_id && it2 != c2.peer_devices.end() &&
          (it2->second.repl == ReplState::kWFBitMapT || IsSyncTarget(it2->second.repl))) {
        filling = true;
      }
    }
    const auto peer_disk = static_cast<DiskState>(pd.peer.disk);
    if (pd.have_peer && !filling && dit->second.disk <= DiskState::kInconsistent &&
        peer_disk == DiskState::kUpToDate) {
      Log(fmt::format("{}: sync source with an {} disk toward a peer's {} one; becoming "
                      "sync target",
                      Prefix(r, dit->second, c), events::ToString(dit->second.disk),
                      events::ToString(peer_disk)));
      npd.repl = ReplState::kWFBitMapT;
      npd.peer_disk = peer_disk;
      BitmapPhaseDisks(npd.repl, &n.disk[vol], &npd.peer_disk);
      if (Change(r, n, true, "receive-bitmap") != Ret::kSsSuccess) return;
      return BitmapReceived(r, c, vol);
    }
    pd.rs_use_bitmap = true;  // the bits are the union now, full sync or not
    npd.repl = ReplState::kSyncSource;
    npd.peer_disk = DiskState::kInconsistent;
    Change(r, n, true, "receive-bitmap");
  } else if (pd.repl == ReplState::kEstablished && dit->second.disk != DiskState::kUpToDate) {
    // Before this side's own handshake put it in WFBitMapT (a live
    // re-handshake whose STATE came after the source's bitmap). An
    // UpToDate side is nobody's target: an exchange that both ends left
    // (the same UpToDate data reached another way) is over.
    pd.bm_got = true;
  }
}

void Engine::HandleResyncRequest(Resource& r, Connection& c, const proto::ResyncRequest& m) {
  auto dit = r.devices.find(m.volume);
  auto pit = c.peer_devices.find(m.volume);
  if (dit == r.devices.end() || pit == c.peer_devices.end()) return;
  Device& d = dit->second;
  PeerDevice& pd = pit->second;
  const uint32_t peer = c.peer_node_id;
  if (m.bitmap) {
    // --reset-bitmap=no on the peer: the other WFBitMap state; the bitmap
    // exchange then runs as after a handshake, over the bits as they are.
    if (pd.repl != ReplState::kEstablished || !d.data) return;
    ResState n = Capture(r);
    ResState::Pd& npd = n.conns.at(peer).pd.at(m.volume);
    npd.repl = m.from_target ? ReplState::kWFBitMapS : ReplState::kWFBitMapT;
    if (!m.from_target) npd.peer_disk = DiskState::kUpToDate;
    BitmapPhaseDisks(npd.repl, &n.disk[m.volume], &npd.peer_disk);
    if (m.from_target) pd.rs_use_bitmap = true;
    if (Change(r, n, true, "remote") != Ret::kSsSuccess) pd.rs_use_bitmap = false;
    return;
  }
  if (!m.from_target) {
    // invalidate-remote on the peer: become StartingSyncT and confirm.
    ResState n = Capture(r);
    ResState::Pd& npd = n.conns.at(peer).pd.at(m.volume);
    npd.repl = ReplState::kStartingSyncT;
    npd.peer_disk = DiskState::kUpToDate;
    BitmapPhaseDisks(npd.repl, &n.disk[m.volume], &npd.peer_disk);
    if (Change(r, n, true, "remote") != Ret::kSsSuccess) return;
    if (d.data) {
      d.sb.flags &= ~uint32_t{md::kMdfConsistent | md::kMdfWasUpToDate};
      WriteMetadata(d);
    }
    if (Session* s = SessionOf(c); s && s->up) {
      Send(*s, LocalState(r, peer));
      Send(*s, proto::ResyncRequest{m.volume, true});
    }
    return;
  }
  // The target (invalidate there, or the answer to our invalidate-remote).
  if (pd.repl == ReplState::kEstablished) {
    if (d.data) LogLiveHandshake(r, c, d, true);
    ResState n = Capture(r);
    n.conns.at(peer).pd.at(m.volume).repl = ReplState::kStartingSyncS;
    if (Change(r, n, true, "remote") != Ret::kSsSuccess) return;
  }
  if (pd.repl != ReplState::kStartingSyncS || !d.data) return;
  if (!pd.bm_begun) {
    MarkAll(d, pd);
    pd.bm_begun = true;
    MdArmFlush(d.minor);
  }
  pd.rs_use_bitmap = true;
  ResState n = Capture(r);
  ResState::Pd& npd = n.conns.at(peer).pd.at(m.volume);
  npd.repl = ReplState::kSyncSource;
  npd.peer_disk = DiskState::kInconsistent;
  Change(r, n, true, "start-sync");
}

void Engine::LogLiveHandshake(Resource& r, Connection& c, Device& d, bool source) {
  const PeerDevice& pd = c.peer_devices.at(d.volume);
  const bool self_new = NormUuid(d.sb.current_uuid) == md::kUuidJustCreated;
  const bool peer_new = NormUuid(pd.peer.current_uuid) == md::kUuidJustCreated;
  std::string decision = "no-sync by rule=both-off";
  if (!source && self_new) decision = "target-set-bitmap by rule=just-created-self";
  if (source && peer_new) decision = "source-set-bitmap by rule=just-created-peer";
  const std::string prefix = Prefix(r, d, c);
  Log(fmt::format("{}: drbd_sync_handshake:", prefix));
  Log(fmt::format("{}: uuid_compare()={}", prefix, decision));
}

uint32_t Engine::GiFlags(const Resource& r, const Device& d) const {
  uint32_t f = MdOnDiskFlags(d);
  // The kernel's in-memory flags: MDF_PRIMARY_IND only while this node or
  // a connected peer is Primary (the superblock here keeps it beside a
  // former Primary until a clean detach or down, docs/compat.md).
  if (r.role != Role::kPrimary) f &= ~uint32_t{md::kMdfPrimaryInd};
  for (const auto& [peer, c] : r.connections) {
    if (r.role != Role::kPrimary && c.cstate == ConnState::kConnected &&
        c.peer_role == Role::kPrimary) {
      f |= md::kMdfPrimaryInd | md::kMdfAlDisabled;
    }
    auto pit = c.peer_devices.find(d.volume);
    if (pit != c.peer_devices.end() && (pit->second.repl == ReplState::kSyncTarget ||
                                        pit->second.repl == ReplState::kPausedSyncT)) {
      f |= md::kMdfConsistent | md::kMdfWasUpToDate;
    }
  }
  return f;
}

}  // namespace drbd::engine
