// SPDX-License-Identifier: GPL-2.0-or-later
// Resync that moves data. A peer device that becomes SyncSource sends the
// 4 KiB blocks marked out of sync toward its peer (every block for a full
// sync) as resync DATA messages, at the fixed rate `resync-rate` measured
// on the Env clock; each WriteAck clears its bit. When no bit is left the
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
constexpr uint64_t kMaxInFlight = 256;   // blocks read or sent, not yet acknowledged

bool IsSource(ReplState r) { return r == ReplState::kSyncSource || r == ReplState::kPausedSyncS; }

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

}  // namespace

void Engine::SyncResyncRuns(Resource& r) {
  for (auto& [peer, c] : r.connections) {
    for (auto& [vol, pd] : c.peer_devices) {
      bool source = IsSource(pd.repl) && c.cstate == ConnState::kConnected;
      if (pd.rs_target && pd.repl != ReplState::kSyncTarget && pd.repl != ReplState::kPausedSyncT) {
        pd.rs_target = false;
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
        pd.rs_tokens = TickBytes(pd.opts);
        pd.rs_start_ns = env_.clock->NowNs();
        uint64_t blocks = (d.size_sectors * 512 + kBlock - 1) / kBlock;
        if (!pd.rs_use_bitmap) {  // a full sync: every block, a word at a time
          pd.oos_bits.assign(blocks / 64, ~uint64_t{0});
          if (blocks % 64) pd.oos_bits.push_back((uint64_t{1} << (blocks % 64)) - 1);
          pd.oos_count = blocks;
        }
        pd.rs_use_bitmap = false;
        pd.rs_total = pd.oos_count;
        Log(fmt::format("{}: Began resync as SyncSource (will sync {} KB [{} bits set]).",
                        Prefix(r, d, c), pd.oos_count * (kBlock / 1024), pd.oos_count));
        // Announced as a later event: after whatever the request that made
        // this SyncSource sends itself (invalidate-remote's RESYNC_REQUEST).
        env_.clock->StartTimer(0, [this, res = r.name, peer, vol, gen = pd.rs_gen] {
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
}

void Engine::ResyncTick(const std::string& res, uint32_t peer, uint32_t vol, uint64_t gen,
                        bool refill) {
  Connection* c = FindConnection(res, peer);
  if (!c || !c->peer_devices.count(vol)) return;
  PeerDevice& pd = c->peer_devices.at(vol);
  if (pd.rs_gen != gen) return;
  if (refill) {
    pd.rs_tokens = std::min(pd.rs_tokens + TickBytes(pd.opts), 2 * TickBytes(pd.opts));
  }
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
  while (pd.rs_tokens >= kBlock && pd.rs_reading.size() + pd.rs_sent.size() < kMaxInFlight) {
    uint64_t b = next_block(pd.rs_cursor);
    if (b == end) {
      if (wrapped || pd.rs_cursor == 0) break;
      wrapped = true;
      pd.rs_cursor = 0;
      continue;
    }
    pd.rs_cursor = b + 1;
    pd.rs_tokens -= kBlock;
    pd.rs_reading.insert(b);
    const uint64_t gen = pd.rs_gen;
    const uint32_t len = static_cast<uint32_t>(std::min(kBlock, size - b * kBlock));
    const uint32_t minor = d.minor;
    LowerIssued(d, len, false);
    d.data->Read(b * kBlock, len,
                 [this, res, peer, vol, gen, b, minor](bool ok, std::vector<uint8_t> bytes) {
                   LowerDone(minor);
                   Connection* c2 = FindConnection(res, peer);
                   if (!c2 || !c2->peer_devices.count(vol)) return;
                   PeerDevice& pd2 = c2->peer_devices.at(vol);
                   if (pd2.rs_gen != gen) return;
                   pd2.rs_reading.erase(b);
                   bool stale = pd2.rs_stale.erase(b) > 0;
                   Session* s2 = SessionOf(*c2);
                   // A stale read is older than an application write already sent: the
                   // block stays marked (if that write did not cover it) for a later pass.
                   if (ok && !stale && s2 && s2->up && TestBit(pd2.oos_bits, b)) {
                     proto::Data m;
                     m.volume = vol;
                     m.offset = b * kBlock;
                     m.flags = proto::kDataResync;
                     m.id = AddResyncWait(res, peer, vol, gen, m.offset,
                                          static_cast<uint32_t>(bytes.size()));
                     m.data = std::move(bytes);
                     pd2.rs_sent.insert(b);
                     pd2.rs_bytes_sent += m.data.size();
                     pd2.sent_bytes += m.data.size();
                     Send(*s2, m);
                   }
                   PumpResync(res, peer, vol);
                 });
  }
  if (pd.oos_count == 0 && pd.rs_reading.empty() && pd.rs_sent.empty()) {
    pd.rs_done = true;
    if (pd.rs_timer) env_.clock->CancelTimer(pd.rs_timer);
    pd.rs_timer = 0;
    pd.rs_secs = std::max<uint64_t>(1, (env_.clock->NowNs() - pd.rs_start_ns) / kNsPerSec);
    // The bitmap UUID toward the peer is history now.
    md::PeerRecord& slot = d.sb.peers[peer];
    if (slot.bitmap_uuid) {
      std::copy_backward(d.sb.history_uuids.begin(), d.sb.history_uuids.end() - 1,
                         d.sb.history_uuids.end());
      d.sb.history_uuids[0] = slot.bitmap_uuid & ~kUuidPrimaryBit;
      slot.bitmap_uuid = 0;
      WriteMetadata(d);
    }
    Send(*s, proto::ResyncDone{vol, d.sb.current_uuid & ~kUuidPrimaryBit,
                               static_cast<uint32_t>(pd.rs_secs), pd.rs_total * (kBlock / 1024)});
  }
}

void Engine::ResyncAcked(const std::string& res, uint32_t peer, uint32_t vol, uint64_t gen,
                         uint64_t block, bool ok) {
  Connection* c = FindConnection(res, peer);
  if (!c || !c->peer_devices.count(vol)) return;
  PeerDevice& pd = c->peer_devices.at(vol);
  if (pd.rs_gen != gen) return;
  pd.rs_sent.erase(block);
  if (ok) ClearBit(pd.oos_bits, pd.oos_count, block);
  PumpResync(res, peer, vol);
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

void Engine::HandleResyncStart(Resource& r, Connection& c, const proto::ResyncStart& m) {
  auto dit = r.devices.find(m.volume);
  auto pit = c.peer_devices.find(m.volume);
  if (dit == r.devices.end() || pit == c.peer_devices.end()) return;
  PeerDevice& pd = pit->second;
  if (pd.repl != ReplState::kSyncTarget && pd.repl != ReplState::kPausedSyncT) return;
  pd.rs_target = true;
  pd.rs_total = m.blocks;
  pd.rs_received = 0;
  pd.rs_start_ns = env_.clock->NowNs();
  Log(fmt::format("{}: Began resync as SyncTarget (will sync {} KB [{} bits set]).",
                  Prefix(r, dit->second, c), m.blocks * (kBlock / 1024), m.blocks));
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
    Log(fmt::format("{}: Resync done (total {} sec; paused 0 sec; {} K/sec)", Prefix(r, d, c),
                    pd.rs_secs, pd.rs_total * (kBlock / 1024) / pd.rs_secs));
    ResState n = Capture(r);
    ResState::Pd& npd = n.conns.at(c.peer_node_id).pd.at(m.volume);
    npd.repl = ReplState::kEstablished;
    npd.peer_disk = DiskState::kUpToDate;
    Change(r, n, true, "resync-finished");
    return;
  }
  if (pd.repl != ReplState::kSyncTarget && pd.repl != ReplState::kPausedSyncT) return;
  // Answered before the state change, so that the source finishes on this
  // message and not on the STATE that follows.
  if (Session* s = SessionOf(c)) Send(*s, m);
  Log(fmt::format("{}: Resync done (total {} sec; paused 0 sec; {} K/sec)", Prefix(r, d, c), m.secs,
                  m.kib / std::max<uint64_t>(1, m.secs)));
  uint64_t mine = d.sb.current_uuid & ~kUuidPrimaryBit;
  uint64_t theirs = m.current_uuid & ~kUuidPrimaryBit;
  if (mine != theirs && mine != 0 && mine != md::kUuidJustCreated) {
    std::copy_backward(d.sb.history_uuids.begin(), d.sb.history_uuids.end() - 1,
                       d.sb.history_uuids.end());
    d.sb.history_uuids[0] = mine;
  }
  d.sb.current_uuid = theirs | (d.sb.current_uuid & kUuidPrimaryBit);
  d.sb.flags |= md::kMdfConsistent | md::kMdfWasUpToDate;
  WriteMetadata(d);
  ResState n = Capture(r);
  n.disk[m.volume] = DiskState::kUpToDate;
  n.conns.at(c.peer_node_id).pd.at(m.volume).repl = ReplState::kEstablished;
  Change(r, n, true, "resync-finished");
}

void Engine::RotateUuidForAbsentPeers(Resource& r, Device& d) {
  if (r.role != Role::kPrimary || !d.data || d.disk != DiskState::kUpToDate) return;
  bool rotate = false;
  for (auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end() || c.cstate == ConnState::kConnected) continue;
    if (peer < md::kPeersMax && d.sb.peers[peer].bitmap_uuid == 0) rotate = true;
  }
  if (!rotate) return;
  uint64_t old = d.sb.current_uuid & ~kUuidPrimaryBit;
  for (auto& [peer, c] : r.connections) {
    if (!c.peer_devices.count(d.volume) || c.cstate == ConnState::kConnected ||
        peer >= md::kPeersMax || d.sb.peers[peer].bitmap_uuid != 0) {
      continue;
    }
    d.sb.peers[peer].bitmap_uuid = old;
  }
  d.sb.current_uuid = NewUuid() | kUuidPrimaryBit;
  Log(fmt::format("{}: new current UUID: {:016X}", Prefix(r, d), d.sb.current_uuid));
  WriteMetadata(d);
  BroadcastState(r);
}

}  // namespace drbd::engine
