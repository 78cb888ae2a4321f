// SPDX-License-Identifier: GPL-2.0-or-later
// Resync that moves data. A peer device that becomes SyncSource sends the
// 4 KiB blocks marked out of sync toward its peer (every block for a full
// sync), runs of up to 8 adjacent blocks per resync DATA message, at the
// rate its ResyncController allows per 100 ms turn (fixed resync-rate, or
// the dynamic controller; c-min-rate) on the Env clock; each WriteAck
// clears its blocks' bits. With csums-alg a block's digest goes first and
// its data only if the target's block differs. When no bit is left the
// source sends RESYNC_DONE: the target takes the source's current UUID and
// becomes UpToDate, and both go Established once the target's STATE says
// so. Application writes that land during a resync win over resync data
// that was read before them. Also the UUID rotation of a Primary that
// writes while peers are away, which is what makes the next handshake
// choose a bitmap-based sync. See docs/design/drbd-simd.md (data path) and
// docs/formats/peer-protocol.md (ResyncDone).
#include <fmt/format.h>

#include <algorithm>

#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace {

constexpr uint64_t kBlock = 4096;        // bytes per out-of-sync bit
constexpr uint64_t kTickNs = 100000000;  // rate tick: 100 ms
// Adjacent marked blocks read and sent together (one DATA of at most
// kDataChunk bytes), as the kernel merges adjacent bits into one request.
constexpr uint32_t kRunBlocks = proto::kDataChunk / kBlock;

bool IsSource(ReplState r) { return r == ReplState::kSyncSource || r == ReplState::kPausedSyncS; }

// bits_in_sync's states: the bits toward a peer in these say where it
// differs from this node (a resync in either direction included).
bool BitsTrack(ReplState repl) {
  return repl == ReplState::kEstablished || repl == ReplState::kSyncSource ||
         repl == ReplState::kSyncTarget || repl == ReplState::kPausedSyncS ||
         repl == ReplState::kPausedSyncT;
}

bool TestBit(const std::vector<uint64_t>& bits, uint64_t b) {
  return b / 64 < bits.size() && (bits[b / 64] >> (b % 64)) & 1;
}
void ClearBit(std::vector<uint64_t>& bits, uint64_t& count, uint64_t b) {
  if (!TestBit(bits, b)) return;
  bits[b / 64] &= ~(uint64_t{1} << (b % 64));
  --count;
}

// Bytes one rate tick allows (at least one block, so any rate moves).
uint64_t TickBytes(const OptionSet& opts) {
  uint64_t kib = static_cast<uint64_t>(std::max<int64_t>(1, opts.Int("resync-rate")));
  return std::max<uint64_t>(kBlock, kib * 1024 * kTickNs / kNsPerSec);
}

constexpr uint64_t kBlockSectors = kBlock / 512;

// Blocks read or sent and not yet acknowledged, at most: the connection's
// max-buffers (4 KiB pages), the bound the kernel puts on resync requests
// in flight.
uint64_t MaxInFlight(const OptionSet& net) {
  return static_cast<uint64_t>(std::max<int64_t>(32, net.Int("max-buffers")));
}
static_assert(kTickNs == kResyncTurnNs);

// Backing I/O of `d` the resync of `pd` did not cause, in sectors: what the
// c-min-rate throttle sees as application activity.
uint64_t AppSectors(uint64_t read, uint64_t written, uint64_t resync_read) {
  return read + written - std::min(resync_read, read);
}

// The checksum-based resync digest of one block (zero-padded to 4 KiB):
// 64-bit FNV-1a, as the verify digests.
uint64_t CsumDigest(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t i = 0; i < kBlock; ++i) {
    h ^= i < bytes.size() ? bytes[i] : 0;
    h *= 0x100000001b3ull;
  }
  return h;
}

// The kernel's "N % had equal checksums, eliminated: ..K; transferred ..K
// total ..K" line for `same` equal blocks of `total`.
std::string CsumLine(uint64_t same, uint64_t total) {
  const uint64_t ratio = total == 0       ? 0
                         : total < 100000 ? same * 100 / total
                                          : same / (total / 100);
  return fmt::format("{} % had equal checksums, eliminated: {}K; transferred {}K total {}K", ratio,
                     same * (kBlock / 1024), (total - std::min(same, total)) * (kBlock / 1024),
                     total * (kBlock / 1024));
}

}  // namespace

void Engine::SyncResyncRuns(Resource& r) {
  SyncBitmapPhases(r);
  for (auto& [peer, c] : r.connections) {
    for (auto& [vol, pd] : c.peer_devices) {
      TrackResyncPause(r, c, pd);
      bool source = IsSource(pd.repl) && c.cstate == ConnState::kConnected;
      if (pd.rs_target && pd.repl != ReplState::kSyncTarget && pd.repl != ReplState::kPausedSyncT) {
        pd.rs_target = false;
      }
      if (pd.repl != ReplState::kSyncTarget && pd.repl != ReplState::kPausedSyncT) {
        pd.rs_app_written.clear();
      }
      if (!source) {
        if (pd.rs_gen) {
          if (pd.rs_timer) env_.clock->CancelTimer(pd.rs_timer);
          pd.rs_timer = 0;
          pd.rs_gen = 0;
          pd.rs_done = false;
          pd.rs_reading.clear();
          pd.rs_stale.clear();
          pd.rs_sent.clear();
          pd.rs_sent_stale.clear();
          pd.rs_runs.clear();
          pd.rs_csum_differs.clear();
        }
        continue;
      }
      auto dit = r.devices.find(vol);
      if (dit == r.devices.end() || !dit->second.data) continue;
      Device& d = dit->second;
      if (pd.rs_gen == 0) {
        pd.rs_gen = next_rs_gen_++;
        pd.rs_done = false;
        pd.rs_cursor = 0;
        pd.rs_start_ns = env_.clock->NowNs();
        if (!pd.rs_use_bitmap) MarkAll(d, pd);  // a full sync: every block
        pd.rs_use_bitmap = false;
        pd.rs_total = pd.oos_count;
        pd.rs_io_sectors = 0;
        pd.rs_csums = !c.net.Str("csums-alg").empty() && !c.net.Bool("csums-after-crash-only");
        pd.rs_same_csum = 0;
        pd.rs_csum_differs.clear();
        pd.rs_ctl.Reset(ResyncConf::From(pd.opts), pd.rs_start_ns, pd.oos_count,
                        AppSectors(d.read_sectors, d.written_sectors, pd.rs_io_sectors));
        // The first turn: the fixed rate's tick, or the controller's start.
        pd.rs_tokens =
            pd.rs_ctl.dynamic() ? pd.rs_ctl.Turn(pd.rs_start_ns) * 512 : TickBytes(pd.opts);
        Log(fmt::format("{}: Began resync as {} (will sync {} KB [{} bits set]).", Prefix(r, d, c),
                        events::ToString(pd.repl), pd.oos_count * (kBlock / 1024), pd.oos_count));
        // Announced as a later event: after whatever the request that made
        // this SyncSource sends itself (invalidate-remote's RESYNC_REQUEST).
        env_.clock->StartTimer(0, [this, res = r.name, peer = peer, vol = vol,
                                   gen = pd.rs_gen] {
          Connection* c2 = FindConnection(res, peer);
          if (!c2 || !c2->peer_devices.count(vol) || c2->peer_devices.at(vol).rs_gen != gen) return;
          if (Session* s = SessionOf(*c2); s && s->up) {
            Send(*s, proto::ResyncStart{vol, c2->peer_devices.at(vol).rs_total});
          }
        });
        ResyncTick(r.name, peer, vol, pd.rs_gen, false);
      }
      // Sends later on the loop, never inside the state change.
      const std::string res = r.name;
      const uint32_t p = peer, v = vol;
      env_.clock->StartTimer(0, [this, res, p, v] { PumpResync(res, p, v); });
    }
  }
  // resync-after: a resync that started, ended or was (un)paused may let
  // dependent devices run or make them wait.
  bool deps = false;
  for (const auto& [name, res] : resources_) {
    for (const auto& [vol, d] : res->devices) deps = deps || d.disk_opts.Int("resync-after") >= 0;
    for (const auto& [peer, c] : res->connections) {
      for (const auto& [vol, pd] : c.peer_devices) deps = deps || pd.susp_dep;
    }
  }
  if (deps) ArmResyncAfter();
}

void Engine::TrackResyncPause(Resource& r, Connection& c, PeerDevice& pd) {
  const bool paused = pd.repl == ReplState::kPausedSyncS || pd.repl == ReplState::kPausedSyncT;
  const bool running = pd.repl == ReplState::kSyncSource || pd.repl == ReplState::kSyncTarget;
  const uint64_t now = env_.clock->NowNs();
  auto dit = r.devices.find(pd.volume);
  if (!paused && !running) {
    pd.rs_paused_at = 0;
    pd.rs_paused_ns = 0;
  } else if (paused && pd.rs_paused_at == 0) {
    // A run that starts paused counts as paused from its start, without a
    // line; one that ran before says so.
    if (pd.rs_gen || pd.rs_target) {
      if (dit != r.devices.end()) Log(Prefix(r, dit->second, c) + ": Resync suspended");
    }
    pd.rs_paused_at = std::max<uint64_t>(now, 1);
  } else if (running && pd.rs_paused_at != 0) {
    if (dit != r.devices.end()) Log(Prefix(r, dit->second, c) + ": Syncer continues.");
    pd.rs_paused_ns += now - std::min(now, pd.rs_paused_at);
    pd.rs_paused_at = 0;
  }
}

Ret Engine::CheckResyncAfter(uint32_t minor, int64_t resync_after) const {
  if (resync_after == -1) return Ret::kNoError;
  if (resync_after < -1) return Ret::kErrResyncAfter;
  // Missing, diskless and detached minors may be depended on; the chain
  // cannot be followed past them.
  int64_t next = resync_after;
  for (size_t hops = 0; hops <= minors_.size(); ++hops) {
    if (next == static_cast<int64_t>(minor)) return Ret::kErrResyncAfterCycle;
    const Device* other = FindMinor(static_cast<uint32_t>(next));
    if (!other || !other->data || other->disk < DiskState::kNegotiating) return Ret::kNoError;
    next = other->disk_opts.Int("resync-after");
    if (next < 0) return Ret::kNoError;
  }
  return Ret::kNoError;
}

bool Engine::MaySyncNow(const Device& d) const {
  const Device* other = &d;
  for (size_t hops = 0; hops <= minors_.size(); ++hops) {
    if (!other->data || other->disk == DiskState::kDiskless) return true;
    const int64_t after = other->disk_opts.Int("resync-after");
    if (after < 0) return true;
    auto mit = minors_.find(static_cast<uint32_t>(after));
    if (mit == minors_.end()) return true;
    const Resource* dr = FindResource(mit->second.first);
    if (!dr || !dr->devices.count(mit->second.second)) return true;
    other = &dr->devices.at(mit->second.second);
    for (const auto& [peer, c] : dr->connections) {
      auto pit = c.peer_devices.find(other->volume);
      if (pit == c.peer_devices.end()) continue;
      const PeerDevice& opd = pit->second;
      // SyncSource up to PausedSyncT: resyncs and online verify.
      if ((opd.repl >= ReplState::kSyncSource && opd.repl <= ReplState::kPausedSyncT) ||
          opd.susp_dep || opd.susp_peer || opd.susp_user) {
        return false;
      }
    }
  }
  return true;
}

void Engine::SanitizeResyncSusp(const Resource& r, const ResState& o, ResState& n) const {
  for (auto& [peer, nc] : n.conns) {
    auto oit = o.conns.find(peer);
    for (auto& [vol, npd] : nc.pd) {
      if (npd.repl < ReplState::kEstablished) npd.susp_peer = false;
      const ResState::Pd* opd = nullptr;
      if (oit != o.conns.end() && oit->second.pd.count(vol)) opd = &oit->second.pd.at(vol);
      const bool was_resyncing =
          opd && opd->repl >= ReplState::kSyncSource && opd->repl <= ReplState::kPausedSyncT;
      // A resync that starts waits for its dependency (drbd_start_resync).
      if (!was_resyncing &&
          (npd.repl == ReplState::kSyncSource || npd.repl == ReplState::kSyncTarget)) {
        auto dit = r.devices.find(vol);
        if (dit != r.devices.end()) npd.susp_dep = !MaySyncNow(dit->second);
      }
      const bool susp = npd.susp_user || npd.susp_peer || npd.susp_dep || npd.susp_other_c;
      if (susp && npd.repl == ReplState::kSyncSource) npd.repl = ReplState::kPausedSyncS;
      if (susp && npd.repl == ReplState::kSyncTarget) npd.repl = ReplState::kPausedSyncT;
      if (!susp && npd.repl == ReplState::kPausedSyncS) npd.repl = ReplState::kSyncSource;
      if (!susp && npd.repl == ReplState::kPausedSyncT) npd.repl = ReplState::kSyncTarget;
    }
  }
}

void Engine::ArmResyncAfter() {
  if (resync_after_armed_) return;
  resync_after_armed_ = true;
  env_.clock->StartTimer(0, [this] { UpdateResyncAfter(); });
}

void Engine::UpdateResyncAfter() {
  // drbd_pause_after and drbd_resume_next until nothing changes: a peer
  // device (not Off, of an attached device) waits exactly while its device
  // may not sync. The changes made here do not schedule another pass.
  resync_after_armed_ = true;
  for (size_t round = 0; round <= minors_.size() + 1; ++round) {
    bool changed = false;
    for (auto& [name, res] : resources_) {
      Resource& r = *res;
      ResState n = Capture(r);
      for (const auto& [vol, d] : r.devices) {
        if (d.disk == DiskState::kDiskless) continue;
        const bool wait = !MaySyncNow(d);
        for (auto& [peer, nc] : n.conns) {
          auto pit = nc.pd.find(vol);
          if (pit != nc.pd.end() && pit->second.repl != ReplState::kOff) {
            pit->second.susp_dep = wait;
          }
        }
      }
      if (Change(r, n, true, "resync-after") == Ret::kSsSuccess) changed = true;
    }
    if (!changed) break;
  }
  resync_after_armed_ = false;
}

void Engine::ResyncTick(const std::string& res, uint32_t peer, uint32_t vol, uint64_t gen,
                        bool refill) {
  Connection* c = FindConnection(res, peer);
  if (!c || !c->peer_devices.count(vol)) return;
  PeerDevice& pd = c->peer_devices.at(vol);
  if (pd.rs_gen != gen) return;
  const uint64_t now = env_.clock->NowNs();
  pd.rs_ctl.SetConf(ResyncConf::From(pd.opts));
  pd.rs_ctl.Mark(now, pd.oos_count);
  if (refill && pd.rs_ctl.dynamic()) {
    // A turn's requests never exceed what the in-flight bound leaves room
    // for; what the turn cannot use is dropped, not saved for later.
    const uint64_t busy = pd.rs_reading.size() + pd.rs_sent.size();
    const uint64_t max = MaxInFlight(c->net);
    const uint64_t room = busy < max ? (max - busy) * kBlockSectors : 0;
    pd.rs_tokens = std::min(pd.rs_ctl.Turn(now), room) * 512;
  } else if (refill) {
    pd.rs_tokens = std::min(pd.rs_tokens + TickBytes(pd.opts), 2 * TickBytes(pd.opts));
  }
  if (pd.rs_timer) env_.clock->CancelTimer(pd.rs_timer);
  pd.rs_timer = env_.clock->StartTimer(
      kTickNs, [this, res, peer, vol, gen] { ResyncTick(res, peer, vol, gen, true); });
  if (refill) PumpResync(res, peer, vol);
}

void Engine::PumpResync(const std::string& res, uint32_t peer, uint32_t vol) {
  Resource* r = nullptr;
  Connection* c = FindConnection(res, peer, &r);
  if (!c || !c->peer_devices.count(vol) || !r->devices.count(vol)) return;
  PeerDevice& pd = c->peer_devices.at(vol);
  Device& d = r->devices.at(vol);
  Session* s = SessionOf(*c);
  if (!pd.rs_gen || pd.rs_done || pd.repl != ReplState::kSyncSource || !s || !s->up || !d.data)
    return;
  const uint64_t size = d.size_sectors * 512;
  const uint64_t end = (size + kBlock - 1) / kBlock;
  // The first marked block at or after `from` not already in flight.
  auto next_block = [&pd, end](uint64_t from) {
    for (uint64_t b = from; b < end; ++b) {
      if (pd.oos_bits.size() <= b / 64) return end;
      if (pd.oos_bits[b / 64] == 0) {
        b = (b / 64 + 1) * 64 - 1;  // skip an empty word
        continue;
      }
      if (TestBit(pd.oos_bits, b) && !pd.rs_reading.count(b) && !pd.rs_sent.count(b)) return b;
    }
    return end;
  };
  bool wrapped = false;
  const uint64_t max_in_flight = MaxInFlight(c->net);
  while (pd.rs_tokens >= kBlock && pd.rs_reading.size() + pd.rs_sent.size() < max_in_flight) {
    uint64_t b = next_block(pd.rs_cursor);
    if (b == end) {
      if (wrapped || pd.rs_cursor == 0) break;
      wrapped = true;
      pd.rs_cursor = 0;
      continue;
    }
    if (pd.rs_ctl.Throttle(env_.clock->NowNs(),
                           AppSectors(d.read_sectors, d.written_sectors, pd.rs_io_sectors),
                           d.upper_pending > 0, pd.oos_count)) {
      pd.rs_tokens = 0;  // c-min-rate: the rest of this turn is dropped
      break;
    }
    // The following marked blocks not in flight join the read (not with
    // csums-alg, whose digests are per block), as far as the turn and the
    // in-flight bound allow.
    uint32_t n = 1;
    while (!pd.rs_csums && n < kRunBlocks && b + n < end && TestBit(pd.oos_bits, b + n) &&
           !pd.rs_reading.count(b + n) && !pd.rs_sent.count(b + n) &&
           pd.rs_tokens >= (n + 1) * kBlock &&
           pd.rs_reading.size() + pd.rs_sent.size() + n < max_in_flight) {
      ++n;
    }
    pd.rs_cursor = b + n;
    pd.rs_tokens -= n * kBlock;
    for (uint32_t i = 0; i < n; ++i) pd.rs_reading.insert(b + i);
    if (n > 1) pd.rs_runs[b] = n;
    pd.rs_ctl.Requested(n * kBlockSectors);
    const uint64_t gen = pd.rs_gen;
    const uint32_t len = static_cast<uint32_t>(std::min(n * kBlock, size - b * kBlock));
    const uint32_t minor = d.minor;
    LowerIssued(d, len, false);
    pd.rs_io_sectors += len / 512;
    FaultingRead(d, kFaultRsRd, b * kBlock, len,  // engine_faults.cc
                 [this, res, peer, vol, gen, b, n, minor](bool ok, std::vector<uint8_t> bytes) {
                   LowerDone(minor);
                   if (!ok) LocalIoError(minor, "drbd_endio_read_sec_final");
                   Resource* r2 = nullptr;
                   Connection* c2 = FindConnection(res, peer, &r2);
                   if (!c2 || !c2->peer_devices.count(vol)) return;
                   PeerDevice& pd2 = c2->peer_devices.at(vol);
                   if (pd2.rs_gen != gen) return;
                   bool stale = false, marked = true;
                   for (uint32_t i = 0; i < n; ++i) {
                     pd2.rs_reading.erase(b + i);
                     stale = pd2.rs_stale.erase(b + i) > 0 || stale;
                     marked = marked && TestBit(pd2.oos_bits, b + i);
                   }
                   Session* s2 = SessionOf(*c2);
                   // A stale read is older than an application write already sent: its
                   // blocks stay marked (if that write did not cover them) for a later pass.
                   const bool send = ok && !stale && marked && s2 && s2->up;
                   if (send && pd2.rs_csums && !pd2.rs_csum_differs.count(b)) {
                     // csums-alg: the digest first; the data only if the target differs.
                     proto::ResyncCsum m;
                     m.volume = vol;
                     m.id = gen;
                     m.offset = b * kBlock;
                     m.digest = CsumDigest(bytes);
                     pd2.rs_sent.insert(b);
                     Send(*s2, m);
                   } else if (send) {
                     pd2.rs_csum_differs.erase(b);
                     proto::Data m;
                     m.volume = vol;
                     m.offset = b * kBlock;
                     m.flags = proto::kDataResync;
                     m.in_sync = InSyncPeers(*r2, peer, vol, b, n);
                     m.id = AddResyncWait(res, peer, vol, gen, m.offset,
                                          static_cast<uint32_t>(bytes.size()));
                     m.data = std::move(bytes);
                     for (uint32_t i = 0; i < n; ++i) pd2.rs_sent.insert(b + i);
                     pd2.rs_bytes_sent += m.data.size();
                     pd2.sent_bytes += m.data.size();
                     Send(*s2, m);
                   } else {
                     pd2.rs_runs.erase(b);
                     ResyncCameIn(res, peer, vol, gen, n);
                   }
                   PumpResync(res, peer, vol);
                 });
  }
  if (pd.oos_count == 0 && pd.rs_reading.empty() && pd.rs_sent.empty()) {
    pd.rs_done = true;
    if (pd.rs_timer) env_.clock->CancelTimer(pd.rs_timer);
    pd.rs_timer = 0;
    const uint64_t ran = env_.clock->NowNs() - pd.rs_start_ns;
    pd.rs_secs = std::max<uint64_t>(1, (ran - std::min(ran, pd.rs_paused_ns)) / kNsPerSec);
    // The bitmap UUID toward the peer is history now.
    // (Not the one made up for a just-created peer's initial sync: that
    // one lives on in the target's history only, capture 01.)
    md::PeerRecord& slot = d.sb.peers[peer];
    if (slot.bitmap_uuid && pd.rs_fresh_bm_uuid) {
      slot.bitmap_uuid = 0;
      WriteMetadata(d);
    } else {
      // Through _drbd_uuid_push_history: never twice (a plain shift had put
      // the same UUID in both printed history slots of a source whose
      // bitmap UUID was already history, pushing older ones out sooner).
      RetireBitmapUuid(*r, d, peer);
    }
    pd.rs_fresh_bm_uuid = false;
    if (r->role == Role::kPrimary) SweepPeersInSync(*r, d, peer);
    Send(*s, proto::ResyncDone{vol, d.sb.current_uuid & ~kUuidPrimaryBit,
                               static_cast<uint32_t>(pd.rs_secs), pd.rs_total * (kBlock / 1024)});
  }
}

void Engine::ResyncAcked(const std::string& res, uint32_t peer, uint32_t vol, uint64_t gen,
                         uint64_t block, bool ok) {
  Resource* r = nullptr;
  Connection* c = FindConnection(res, peer, &r);
  if (!c || !c->peer_devices.count(vol)) return;
  PeerDevice& pd = c->peer_devices.at(vol);
  if (pd.rs_gen != gen) return;
  uint32_t n = 1;  // the blocks this DATA carried
  if (auto it = pd.rs_runs.find(block); it != pd.rs_runs.end()) {
    n = it->second;
    pd.rs_runs.erase(it);
  }
  bool stale = false;
  for (uint32_t i = 0; i < n; ++i) {
    pd.rs_sent.erase(block + i);
    if (pd.rs_sent_stale.erase(block + i)) {
      stale = true;  // stays marked; a later pass sends it again
    } else if (ok) {
      ClearBit(pd.oos_bits, pd.oos_count, block + i);
    }
  }
  ok = ok && !stale;
  // update_peers_for_interval: the target (its bits here just cleared) and
  // the nodes this side is in sync with over the range hold the same data
  // there now; each hears it.
  if (ok) {
    const uint64_t mask = NodeBit(peer) | InSyncPeers(*r, peer, vol, block, n);
    for (auto& [p2, c2] : r->connections) {
      if (!(mask & NodeBit(p2))) continue;
      if (Session* s2 = SessionOf(c2); s2 && s2->up) {
        Send(*s2, proto::PeersInSync{vol, block * kBlock, static_cast<uint32_t>(n * kBlock), mask});
      }
    }
  }
  ResyncCameIn(res, peer, vol, gen, n);
  PumpResync(res, peer, vol);
}

void Engine::ResyncCameIn(const std::string& res, uint32_t peer, uint32_t vol, uint64_t gen,
                          uint64_t blocks) {
  Connection* c = FindConnection(res, peer);
  if (!c || !c->peer_devices.count(vol)) return;
  PeerDevice& pd = c->peer_devices.at(vol);
  if (pd.rs_gen != gen || pd.rs_done) return;
  pd.rs_ctl.CameIn(blocks * kBlockSectors);
  // Everything in flight came back: the dynamic controller may turn early.
  std::optional<uint64_t> early = pd.rs_ctl.EarlyTurn(env_.clock->NowNs());
  if (!early) return;
  if (pd.rs_timer) env_.clock->CancelTimer(pd.rs_timer);
  pd.rs_timer = env_.clock->StartTimer(
      *early, [this, res, peer, vol, gen] { ResyncTick(res, peer, vol, gen, true); });
}

void Engine::ResyncSawWrite(PeerDevice& pd, uint64_t offset, uint64_t len) {
  if (len == 0) return;
  for (uint64_t b = offset / kBlock; b <= (offset + len - 1) / kBlock; ++b) {
    if (pd.rs_reading.count(b)) pd.rs_stale.insert(b);
    if (offset <= b * kBlock && (b + 1) * kBlock <= offset + len) {
      ClearBit(pd.oos_bits, pd.oos_count, b);
    }
  }
}

void Engine::ResyncSawPeerWrite(Resource& r, Device& d, uint32_t from, uint64_t offset,
                                uint64_t len) {
  if (len == 0) return;
  for (auto& [peer, c] : r.connections) {
    if (peer == from) continue;
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end()) continue;
    PeerDevice& pd = pit->second;
    if (!pd.rs_gen || pd.rs_done) continue;
    for (uint64_t b = offset / kBlock; b <= (offset + len - 1) / kBlock; ++b) {
      if (pd.rs_reading.count(b)) pd.rs_stale.insert(b);
      if (pd.rs_sent.count(b)) pd.rs_sent_stale.insert(b);
    }
  }
}

void Engine::HandleResyncCsum(Resource& r, Connection& c, const proto::ResyncCsum& m) {
  auto dit = r.devices.find(m.volume);
  auto pit = c.peer_devices.find(m.volume);
  if (dit == r.devices.end() || pit == c.peer_devices.end() || !dit->second.data) return;
  Device& d = dit->second;
  PeerDevice& pd = pit->second;
  const uint64_t b = m.offset / kBlock;
  if (m.phase == proto::ResyncCsum::kAnswer) {  // the source: in sync, or send the data
    if (pd.rs_gen != m.id || pd.rs_done || !pd.rs_sent.erase(b)) return;
    if (pd.rs_sent_stale.erase(b)) {
      pd.rs_cursor = std::min(pd.rs_cursor, b);  // digest of a copy older than a write
    } else if (m.equal) {
      ClearBit(pd.oos_bits, pd.oos_count, b);
      ++pd.rs_same_csum;
    } else {
      pd.rs_csum_differs.insert(b);
      pd.rs_cursor = std::min(pd.rs_cursor, b);  // the next read sends it
    }
    ResyncCameIn(r.name, c.peer_node_id, m.volume, m.id, 1);
    PumpResync(r.name, c.peer_node_id, m.volume);
    return;
  }
  if (pd.repl != ReplState::kSyncTarget && pd.repl != ReplState::kPausedSyncT) return;
  const uint64_t size = d.size_sectors * 512;
  if (m.offset >= size) return;
  pd.rs_csums = true;
  const uint32_t len = static_cast<uint32_t>(std::min(kBlock, size - m.offset));
  LowerIssued(d, len, false);
  d.data->Read(m.offset, len,
               [this, res = r.name, peer = c.peer_node_id, m, minor = d.minor](
                   bool ok, const std::vector<uint8_t>& bytes) {
                 LowerDone(minor);
                 Connection* c2 = FindConnection(res, peer);
                 if (!c2 || !c2->peer_devices.count(m.volume)) return;
                 PeerDevice& pd2 = c2->peer_devices.at(m.volume);
                 Session* s2 = SessionOf(*c2);
                 if (!s2 || !s2->up) return;
                 proto::ResyncCsum a = m;
                 a.phase = proto::ResyncCsum::kAnswer;
                 a.digest = 0;
                 a.equal = ok && CsumDigest(bytes) == m.digest;
                 if (a.equal && pd2.rs_target) {
                   ++pd2.rs_same_csum;
                   ++pd2.rs_received;
                 }
                 Send(*s2, a);
               });
}

void Engine::HandleResyncStart(Resource& r, Connection& c, const proto::ResyncStart& m) {
  auto dit = r.devices.find(m.volume);
  auto pit = c.peer_devices.find(m.volume);
  if (dit == r.devices.end() || pit == c.peer_devices.end()) return;
  PeerDevice& pd = pit->second;
  if (pd.repl == ReplState::kStartingSyncT) {  // a live full resync: the run is here
    ResState n = Capture(r);
    n.conns.at(c.peer_node_id).pd.at(m.volume).repl = ReplState::kSyncTarget;
    if (n.disk.at(m.volume) >= DiskState::kInconsistent) n.disk[m.volume] = DiskState::kInconsistent;
    Change(r, n, true, "start-sync");
  }
  if (pd.repl != ReplState::kSyncTarget && pd.repl != ReplState::kPausedSyncT) return;
  pd.rs_target = true;
  pd.rs_total = m.blocks;
  pd.rs_received = 0;
  pd.rs_csums = false;
  pd.rs_same_csum = 0;
  pd.rs_start_ns = env_.clock->NowNs();
  Log(fmt::format("{}: Began resync as {} (will sync {} KB [{} bits set]).",
                  Prefix(r, dit->second, c), events::ToString(pd.repl), m.blocks * (kBlock / 1024),
                  m.blocks));
}

void Engine::HandleResyncDone(Resource& r, Connection& c, const proto::ResyncDone& m) {
  auto dit = r.devices.find(m.volume);
  auto pit = c.peer_devices.find(m.volume);
  if (dit == r.devices.end() || pit == c.peer_devices.end() || !dit->second.data) return;
  Device& d = dit->second;
  PeerDevice& pd = pit->second;
  if (pd.repl == ReplState::kSyncSource || pd.repl == ReplState::kPausedSyncS) {
    // The target's answer: it is UpToDate now.
    if (!pd.rs_done) return;
    const uint64_t paused = pd.rs_paused_ns / kNsPerSec;
    Log(fmt::format("{}: Resync done (total {} sec; paused {} sec; {} K/sec)", Prefix(r, d, c),
                    pd.rs_secs + paused, paused, pd.rs_total * (kBlock / 1024) / pd.rs_secs));
    if (pd.rs_csums && pd.rs_total) {
      Log(fmt::format("{}: {}", Prefix(r, d, c), CsumLine(pd.rs_same_csum, pd.rs_total)));
    }
    ResState n = Capture(r);
    ResState::Pd& npd = n.conns.at(c.peer_node_id).pd.at(m.volume);
    npd.repl = ReplState::kEstablished;
    // The target takes this side's disk state (drbd_resync_finished): an
    // Inconsistent source leaves it Inconsistent.
    npd.peer_disk =
        d.disk == DiskState::kInconsistent ? DiskState::kInconsistent : DiskState::kUpToDate;
    Change(r, n, true, "resync-finished");
    return;
  }
  if (pd.repl != ReplState::kSyncTarget && pd.repl != ReplState::kPausedSyncT) return;
  // Answered before the state change, so that the source finishes on this
  // message and not on the STATE that follows.
  if (Session* s = SessionOf(c)) Send(*s, m);
  // m.secs: the source's unpaused seconds; the pauses are this side's own.
  const uint64_t paused = pd.rs_paused_ns / kNsPerSec;
  Log(fmt::format("{}: Resync done (total {} sec; paused {} sec; {} K/sec)", Prefix(r, d, c),
                  m.secs + paused, paused, m.kib / std::max<uint64_t>(1, m.secs)));
  if (FinishUnstableResync(r, c, d, pd)) return;  // engine_peer_ack.cc
  if (pd.rs_csums && pd.rs_total) {
    Log(fmt::format("{}: {}", Prefix(r, d, c), CsumLine(pd.rs_same_csum, pd.rs_total)));
  }
  // Three nodes and more: the source's bitmap UUIDs toward third nodes
  // (engine_peer_ack.cc, drbd_uuid_resync_finished).
  TakeOverSourceUuids(r, c, d, pd);
  uint64_t mine = d.sb.current_uuid & ~kUuidPrimaryBit;
  uint64_t theirs = m.current_uuid & ~kUuidPrimaryBit;
  // A split-brain victim holds a bitmap UUID toward the source: the common
  // base. It moves to history and the slot clears; the discarded current
  // UUID is not kept (captures 04-09: the victim shows `cur:0:base`).
  const uint64_t victim_base = c.peer_node_id < md::kPeersMax
                                   ? d.sb.peers[c.peer_node_id].bitmap_uuid & ~kUuidPrimaryBit
                                   : 0;
  if (victim_base != 0 && mine != theirs) {
    ShiftIntoHistory(d.sb, victim_base);
    d.sb.peers[c.peer_node_id].bitmap_uuid = 0;
  }
  // The target's own current UUID does not go to history:
  // drbd_uuid_resync_finished pushes it while it is still current, which
  // _drbd_uuid_push_history skips (captures 03/13b: the target's history is
  // unchanged).
  d.sb.current_uuid = theirs | (d.sb.current_uuid & kUuidPrimaryBit);
  // Not in the kernel (docs/compat.md): a run paused behind this one from
  // a source that is ahead of the data just taken (a Primary, or a peer
  // that holds it as its bitmap UUID toward this node or in its history)
  // brings writes this one did not. The disk stays Inconsistent and that
  // run goes on, where __cancel_other_resyncs would end it beside an
  // UpToDate disk that lacks them (a node restarted beside a stable peer
  // that repeated a missed end and beside the Primary that wrote on
  // meanwhile: detsim --nodes=3 --seed=0x9382cc710f0f1c69).
  // drbd_resync_finished: the target takes the source's disk state; a
  // source that is itself Inconsistent (the target of another run) leaves
  // it Inconsistent (detsim --nodes=3 --seed=0x055b64dcfd03cad0: a
  // Primary's replaced disk became UpToDate from such a source).
  bool ahead_waits = pd.peer_disk == DiskState::kInconsistent;
  for (const auto& [peer2, c2] : r.connections) {
    auto it2 = c2.peer_devices.find(m.volume);
    if (peer2 == c.peer_node_id || it2 == c2.peer_devices.end() ||
        !IsSyncTarget(it2->second.repl)) {
      continue;
    }
    // The same current UUID is the same data, except on a Primary: one that
    // wrote with every bitmap slot in use made no new UUID
    // (__new_current_uuid_prepare), and its writes are in its bits alone
    // (detsim --nodes=3 --seed=0x2dedf12233df56d4: a replaced disk's full
    // sync from a Secondary on that UUID cancelled the Primary's run).
    if (((it2->second.peer.current_uuid ^ theirs) & ~kUuidPrimaryBit) == 0 &&
        c2.peer_role != Role::kPrimary) {
      continue;
    }
    ahead_waits = ahead_waits || PeerIsAhead(r, peer2, it2->second, theirs);
  }
  if (!ahead_waits) d.sb.flags |= md::kMdfConsistent | md::kMdfWasUpToDate;
  // The data equals the source's now: bits this side marked toward it
  // (online verify marks both sides, a full sync sets them all) are done
  // too (capture 11: 0 after). They go to disk before the superblock that
  // says UpToDate (update_on_disk_bitmap writes the bitmap before
  // drbd_resync_finished), or a crash brings back an UpToDate disk with
  // stale bits that no handshake resyncs (detsim seed 0x19e4f92a9a7f9656).
  if (pd.oos_count) ClearOutOfSync(r, d, pd);
  WriteMetadata(d);
  ResState n = Capture(r);
  if (!ahead_waits) n.disk[m.volume] = DiskState::kUpToDate;
  n.conns.at(c.peer_node_id).pd.at(m.volume).repl = ReplState::kEstablished;
  // __cancel_other_resyncs, also for a bitmap exchange still in flight
  // toward another source whose data is not the one just taken (the kernel
  // cancels only a PausedSyncT there): that exchange was decided on this
  // side's old data, and would make a disk that is UpToDate now the target
  // of a stale peer, a full sync by disk states when both had the same
  // current UUID (detsim --nodes=3 --seed=0x551ca0f0af6e9055, step 38: the stale
  // peer overwrote the blocks just resynced from the Primary). The source
  // follows this side's Established (FollowCancelledResync).
  for (auto& [peer2, nc2] : n.conns) {
    if (peer2 == c.peer_node_id) continue;
    auto it2 = nc2.pd.find(m.volume);
    if (it2 == nc2.pd.end() || it2->second.repl != ReplState::kWFBitMapT) continue;
    const PeerDevice& pd2 = r.connections.at(peer2).peer_devices.at(m.volume);
    if (((pd2.peer.current_uuid ^ theirs) & ~kUuidPrimaryBit) != 0) {
      it2->second.repl = ReplState::kEstablished;
    }
  }
  Change(r, n, true, "resync-finished");
  // after_reconciliation_resync: this side holds the source's writes from
  // the lost node now, up to the source's dagtag from it.
  if (c.after_reconciliation) {
    auto lit = r.connections.find(c.after_reconciliation->first);
    if (lit != r.connections.end() && lit->second.cstate != ConnState::kConnected) {
      lit->second.last_dagtag = c.after_reconciliation->second;
    }
    c.after_reconciliation.reset();
  }
}

// Absent for a rotation: not connected, or connected to a peer without a
// disk (the kernel rotates for a detached peer too: capture 13, "weak:
// ...FE"), or to a peer whose disk is Inconsistent or Outdated:
// rotate_current_into_bitmap takes every peer whose disk state is at most
// DUnknown in the kernel's order (Negotiating aside), so a Primary writing
// beside an Outdated peer that is still WFBitMapS starts a new data
// generation, and the next handshake resyncs by rule bitmap-self instead of
// finding equal current UUIDs (detsim seed 0xa0cf9fc466f61c18).
bool Engine::RotationAbsent(const Connection& c, const Device& d) {
  auto pit = c.peer_devices.find(d.volume);
  if (pit == c.peer_devices.end()) return false;
  const DiskState pdsk = pit->second.peer_disk;
  return c.cstate != ConnState::kConnected || pdsk < DiskState::kInconsistent ||
         pdsk == DiskState::kInconsistent || pdsk == DiskState::kOutdated ||
         pit->second.repl == ReplState::kAhead;  // writes only marked (engine_congestion.cc)
}

// rotate_current_into_bitmap takes a slot that is free or still holds the
// current UUID (bm_uuid == prev_c_uuid): a slot a Secondary set to the
// generation it then had is taken again at its first write as Primary.
static bool SlotTakesCurrent(const md::Superblock& sb, uint32_t peer) {
  const uint64_t bm = sb.peers[peer].bitmap_uuid;
  return bm == 0 || bm == sb.current_uuid;
}

bool Engine::RotationDue(const Resource& r, const Device& d) const {
  if (r.role != Role::kPrimary || !d.data || d.disk != DiskState::kUpToDate) return false;
  for (const auto& [peer, c] : r.connections) {
    if (RotationAbsent(c, d) && peer < md::kPeersMax && SlotTakesCurrent(d.sb, peer)) return true;
  }
  return false;
}

void Engine::RotateUuidForAbsentPeers(Resource& r, Device& d) {
  if (!RotationDue(r, d)) return;
  if (UuidLocked(r)) {  // a handshake holds the UUIDs: once it is through
    d.rotate_after_handshake = true;
    return;
  }
  // No write since the last loss-time bump: the kernel would have made a
  // single new current UUID for both losses (NEW_CUR_UUID is consumed by the
  // next write), and rotate_current_into_bitmap gives every absent peer the
  // UUID before it. A second bump would leave the later peer's bitmap on a
  // UUID it never saw, and bitmap-self-other would copy another slot over it.
  const bool reuse = d.unused_bump_from != 0 && d.unused_bump_to == d.sb.current_uuid;
  // Bit 0 included, as the kernel keeps it.
  const uint64_t old = reuse ? d.unused_bump_from : d.sb.current_uuid;
  for (auto& [peer, c] : r.connections) {
    if (!RotationAbsent(c, d) || peer >= md::kPeersMax || !SlotTakesCurrent(d.sb, peer)) continue;
    d.sb.peers[peer].bitmap_uuid = old;
  }
  if (reuse) {  // RotationDue: some slot took it
    WriteMetadata(d);
    return;
  }
  d.sb.current_uuid = NewUuid() | kUuidPrimaryBit;
  d.unused_bump_from = old;
  d.unused_bump_to = d.sb.current_uuid;
  Log(fmt::format("{}: new current UUID: {:016X}", Prefix(r, d), d.sb.current_uuid));
  WriteMetadata(d);
  // MAKE_NEW_CUR_UUID runs drbd_check_peers, and writes wait for it: a peer
  // that died unnoticed is dropped, and its slot gets the UUID before this
  // bump (the reuse above: no write came between). The kernel checks before
  // it bumps; drbd-simd bumps at the loss (docs/compat.md), so it checks
  // after, with the same outcome (detsim --nodes=3 --seed=0xb21b1c2e1f61a1bc:
  // without the check the Primary kept a peer that had crashed a moment
  // before "in sync" on the new UUID, a third node took that over, and the
  // two split-brained later).
  StartCheckPeers(r);
  // The peers hear of the new UUID once it is durable here
  // (__new_current_uuid_prepare syncs the metadata before
  // __new_current_uuid_send): a crash during that write must not leave a
  // Secondary on a UUID this node never stored, which no handshake could
  // place afterwards (detsim --nodes=3 --seed=0x9dc7866e4d278b6c).
  if (d.md_state && d.md_state->sb_in_flight > 0) {
    d.md_state->held_writes.emplace_back([this, res = r.name] {
      if (Resource* r2 = FindResource(res)) BroadcastState(*r2);
    });
    return;
  }
  BroadcastState(r);
}

void Engine::RetireBitmapUuid(Resource& r, Device& d, uint32_t peer) {
  md::PeerRecord& slot = d.sb.peers[peer];
  if (slot.bitmap_uuid == 0) return;
  const uint64_t previous = slot.bitmap_uuid;
  slot.bitmap_uuid = 0;  // first: a UUID still in a slot is not pushed
  PushHistory(d.sb, r.node_id, previous);
  WriteMetadata(d);
}

uint64_t Engine::InSyncPeers(const Resource& r, uint32_t target, uint32_t vol, uint64_t first,
                             uint64_t count) const {
  uint64_t mask = 0;
  for (const auto& [peer, c] : r.connections) {
    if (peer == target || c.cstate != ConnState::kConnected) continue;
    auto pit = c.peer_devices.find(vol);
    if (pit == c.peer_devices.end()) continue;
    const PeerDevice& pd = pit->second;
    if (!BitsTrack(pd.repl)) continue;
    bool clear = true;
    for (uint64_t i = 0; i < count && clear; ++i) clear = !TestBit(pd.oos_bits, first + i);
    if (clear) mask |= NodeBit(peer);
  }
  return mask;
}

bool Engine::ClearTowardPeers(Resource& r, uint32_t vol, uint32_t except, uint64_t reached,
                              uint64_t offset, uint64_t len, const std::set<uint64_t>* keep) {
  // Whole blocks only (drbd_set_sync rounds a clear inward).
  const uint64_t first = (offset + kBlock - 1) / kBlock;
  const uint64_t end = (offset + len) / kBlock;
  bool cleared = false;
  for (auto& [peer, c] : r.connections) {
    if (peer == except || !(reached & NodeBit(peer))) continue;
    auto pit = c.peer_devices.find(vol);
    if (pit == c.peer_devices.end()) continue;
    PeerDevice& pd = pit->second;
    for (uint64_t b = first; b < end; ++b) {
      if (TestBit(pd.oos_bits, b) && !(keep && keep->count(b))) {
        ClearBit(pd.oos_bits, pd.oos_count, b);
        cleared = true;
      }
    }
  }
  return cleared;
}

void Engine::SweepPeersInSync(Resource& r, Device& d, uint32_t target) {
  auto tit = r.connections.find(target);
  if (tit == r.connections.end() || !d.data || r.node_id < 0 || r.node_id >= 64) return;
  auto xit = tit->second.peer_devices.find(d.volume);
  if (xit == tit->second.peer_devices.end()) return;
  const PeerDevice& px = xit->second;
  Session* sx = SessionOf(tit->second);
  if (!sx || !sx->up) return;
  const std::set<uint64_t> busy = BlocksUnderWrites(d.minor);
  const uint64_t end = (d.size_sectors * 512 + kBlock - 1) / kBlock;
  for (auto& [peer, c] : r.connections) {
    if (peer == target || c.cstate != ConnState::kConnected) continue;
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end()) continue;
    const PeerDevice& pz = pit->second;
    Session* sz = SessionOf(c);
    if (!sz || !sz->up || !BitsTrack(pz.repl)) continue;
    const uint64_t mask = NodeBit(target) | NodeBit(peer) | NodeBit(static_cast<uint32_t>(r.node_id));
    auto in_sync = [&](uint64_t b) {
      return !TestBit(px.oos_bits, b) && !TestBit(pz.oos_bits, b) && !busy.count(b);
    };
    for (uint64_t b = 0; b < end;) {
      if (!in_sync(b)) {
        ++b;
        continue;
      }
      uint64_t e = b + 1;
      while (e < end && in_sync(e)) ++e;
      const uint64_t offset = b * kBlock;
      const uint64_t len = std::min(e * kBlock, d.size_sectors * 512) - offset;
      // One message per run, cut to what its length field holds.
      constexpr uint64_t kPiece = uint64_t{1} << 30;
      for (uint64_t o = offset; o < offset + len; o += kPiece) {
        const auto n = static_cast<uint32_t>(std::min(kPiece, offset + len - o));
        Send(*sx, proto::PeersInSync{d.volume, o, n, mask});
        Send(*sz, proto::PeersInSync{d.volume, o, n, mask});
      }
      b = e;
    }
  }
}

void Engine::TellHoldersInSync(Resource& r, Device& d, uint64_t offset, uint64_t len,
                               uint64_t mask, uint64_t holders) {
  const uint64_t first = offset / kBlock;
  const uint64_t end = (offset + len + kBlock - 1) / kBlock;
  const std::set<uint64_t> busy = BlocksUnderWrites(d.minor);
  for (uint64_t b = first; b < end; ++b) {
    if (busy.count(b)) return;  // that write's completion says it
  }
  const uint64_t from = first * kBlock;
  const uint64_t to = std::min(end * kBlock, d.size_sectors * 512);
  if (to <= from) return;
  for (auto& [peer, c] : r.connections) {
    if (!(holders & NodeBit(peer))) continue;
    if (Session* s = SessionOf(c); s && s->up) {
      Send(*s, proto::PeersInSync{d.volume, from, static_cast<uint32_t>(to - from), mask});
    }
  }
}

uint64_t Engine::HoldersByResync(Resource& r, uint32_t vol, uint64_t offset, uint64_t len,
                                 uint64_t reached) {
  if (len == 0) return 0;
  // Every block the range touches, rounded outward.
  const uint64_t first = offset / kBlock;
  const uint64_t end = (offset + len + kBlock - 1) / kBlock;
  return InSyncPeers(r, static_cast<uint32_t>(r.node_id), vol, first, end - first) & ~reached;
}

void Engine::HandlePeersInSync(Resource& r, const proto::PeersInSync& m) {
  auto dit = r.devices.find(m.volume);
  if (dit == r.devices.end() || !dit->second.data || m.len == 0) return;
  // A range outside the device is a peer's error, not ours to act on.
  const uint64_t bytes = dit->second.size_sectors * 512;
  if (m.offset >= bytes || m.len > bytes - m.offset) {
    Log(fmt::format("{}: PeersInSync for bytes {}+{} beyond the device ({}), ignored",
                    Prefix(r, dit->second), m.offset, m.len, bytes));
    return;
  }
  // The message says the nodes hold the sender's data. Beyond the kernel
  // (got_peers_in_sync clears the whole range): over a block under a write
  // of this node's own still in flight, which the sender may not have yet,
  // the bits toward them stay. A Primary cut off one way from a Secondary
  // that was resyncing a third node had cleared its marks toward that node
  // for the blocks of its own unacknowledged write, and the third node took
  // the Secondary's older data for good (detsim --nodes=3
  // --seed=0x0bacfc76c215e193). Blocks marked toward the sender are not
  // kept: a sync target's are cleared only as its run goes on, and keeping
  // those left marks between nodes with equal data.
  // Nor over a block of a write this node failed after some peers took it
  // (Device::failed_blocks): the sender does not know which did.
  std::set<uint64_t> keep = BlocksUnderWrites(dit->second.minor, m.offset, m.len);
  const std::set<uint64_t>& failed = dit->second.failed_blocks;
  for (auto it = failed.lower_bound(m.offset / kBlock);
       it != failed.end() && *it * kBlock < m.offset + m.len; ++it) {
    keep.insert(*it);
  }
  // Resync runs are whole blocks; no connection is left out.
  if (ClearTowardPeers(r, m.volume, ~uint32_t{0}, m.mask, m.offset, m.len, &keep)) {
    MdArmFlush(dit->second.minor);
  }
}

}  // namespace drbd::engine
