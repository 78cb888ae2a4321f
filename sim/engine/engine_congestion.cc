// SPDX-License-Identifier: GPL-2.0-or-later
// Write epochs and on-congestion. A Primary numbers the writes it sends to
// each peer in epochs and closes an epoch with a BARRIER after
// max-epoch-size writes or as soon as the loop is idle (the kernel's idle
// sender); the peer answers BARRIER_ACK once every write of the epoch is
// on its disk, flushed first when the write ordering method is `flush`.
// Protocol A writes count as in flight (ap_in_flight) until that answer.
// Before each write the kernel's maybe_pull_ahead runs: with on-congestion
// pull-ahead or disconnect, data in flight at or above congestion-fill, or
// congestion-extents activity-log extents in use, queues handle_congestion,
// which makes the peer device Ahead (the peer follows as Behind) or drops
// the connection. Ahead, writes are marked out of sync and announced with
// OUT_OF_SYNC instead of sent; once nothing is in flight, a second later
// the Ahead side starts a bitmap-based resync as SyncSource and the Behind
// side follows as SyncTarget. The receiver pauses as the kernel's receiver
// thread blocks: at a BARRIER under the drain and flush write ordering
// until the epoch is stable, and for 100 ms before a peer write that finds
// max-buffers pages in use (drbd_alloc_pages); meanwhile data-socket
// messages queue and meta-socket ones (pings, acks) are still handled.
// See docs/design/drbd-simd.md (data path).
#include <fmt/format.h>

#include <algorithm>
#include <variant>

#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace {

constexpr int64_t kOcBlock = 0, kOcPullAhead = 1, kOcDisconnect = 2;
constexpr uint64_t kAheadResyncDelayNs = kNsPerSec;  // start_resync_timer: HZ
constexpr uint64_t kReceiverThrottleNs = kNsPerSec / 10;  // drbd_alloc_pages: HZ / 10

}  // namespace

uint64_t Engine::EpochApSectors(const Connection& c) const {
  uint64_t n = 0;
  for (const auto& [nr, e] : c.epoch_ap) n += e.sectors;
  return n;
}

void Engine::EpochsLost(Connection& c) {
  for (const auto& [nr, e] : c.epoch_ap) {
    for (const Connection::EpochWrites::Range& w : e.ranges) {
      auto pit = c.peer_devices.find(w.volume);
      if (pit != c.peer_devices.end())
        MarkOutOfSyncRange(pit->second.oos_bits, pit->second.oos_count, w.offset, w.len);
    }
  }
  c.epoch_ap.clear();
  c.epoch_writes = 0;
}

void Engine::EpochWrite(Resource& r, Connection& c, uint32_t vol, uint64_t offset, uint64_t len,
                        bool protocol_a) {
  if (protocol_a) {
    Connection::EpochWrites& e = c.epoch_ap[c.epoch];
    e.sectors += (len + 511) / 512;
    e.ranges.push_back(Connection::EpochWrites::Range{vol, offset, len});
  }
  ++c.epoch_writes;
  if (static_cast<int64_t>(c.epoch_writes) >= c.net.Int("max-epoch-size")) {
    return CloseEpoch(r.name, c.peer_node_id);
  }
  if (c.barrier_armed) return;
  c.barrier_armed = true;
  env_.clock->StartTimer(0, [this, res = r.name, peer = c.peer_node_id] {
    if (Connection* c2 = FindConnection(res, peer)) c2->barrier_armed = false;
    CloseEpoch(res, peer);
  });
}

void Engine::CloseEpoch(const std::string& res, uint32_t peer) {
  Connection* c = FindConnection(res, peer);
  if (!c || c->epoch_writes == 0) return;
  Session* s = SessionOf(*c);
  if (!s || !s->up) return;
  Send(*s, proto::Barrier{c->epoch});
  ++c->epoch;
  c->epoch_writes = 0;
}

uint64_t Engine::PeerWriteBegin(Session& s) {
  uint64_t seq = ++s.rx_seq;
  s.rx_writing.insert(seq);
  ++s.rx_epoch_writes;
  return seq;
}

void Engine::PeerWriteDone(uint64_t sid, uint64_t seq) {
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return;
  it->second->rx_writing.erase(seq);
  AnswerBarriers(sid);
}

void Engine::AnswerBarriers(uint64_t sid) {
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  while (!s.rx_barriers.empty()) {
    Session::RxBarrier& b = s.rx_barriers.front();
    if (b.flushing) return;
    if (!s.rx_writing.empty() && *s.rx_writing.begin() < b.boundary) return;
    Resource* r = nullptr;
    ConnectionOf(s, &r);
    // Write ordering flush: the epoch's writes are flushed before the
    // barrier is acknowledged (drbd_flush_after_epoch).
    if (r && b.set_size > 0 && WriteOrderingOf(*r) == events::WriteOrdering::kFlush) {
      std::vector<std::shared_ptr<sim::Disk>> disks;
      for (auto& [vol, d] : r->devices) {
        if (d.data && d.disk >= DiskState::kInconsistent) disks.push_back(d.data);
      }
      if (!disks.empty()) {
        b.flushing = true;
        auto left = std::make_shared<size_t>(disks.size());
        for (const auto& disk : disks) {
          disk->Flush([this, sid, left, disk](bool) {
            if (--*left > 0) return;
            auto it2 = sessions_.find(sid);
            if (it2 == sessions_.end() || it2->second->rx_barriers.empty()) return;
            Session& s2 = *it2->second;
            Session::RxBarrier done = s2.rx_barriers.front();
            s2.rx_barriers.erase(s2.rx_barriers.begin());
            if (s2.up) Send(s2, proto::BarrierAck{done.number, done.set_size});
            AnswerBarriers(sid);
          });
        }
        return;
      }
    }
    Session::RxBarrier done = b;
    s.rx_barriers.erase(s.rx_barriers.begin());
    if (s.up) Send(s, proto::BarrierAck{done.number, done.set_size});
  }
  // The epoch is stable: the receiver reads on (receive_Barrier returns).
  if (s.rx_wait_barrier) {
    s.rx_wait_barrier = false;
    ResumeReceive(sid);
  }
}

bool Engine::OnDataSocket(const proto::Message& m) {
  // What the kernel's ack sender and ack receiver carry on the meta socket.
  return !std::holds_alternative<proto::Ping>(m) && !std::holds_alternative<proto::PingAck>(m) &&
         !std::holds_alternative<proto::RecvAck>(m) && !std::holds_alternative<proto::WriteAck>(m) &&
         !std::holds_alternative<proto::FlushAck>(m) &&
         !std::holds_alternative<proto::BarrierAck>(m) && !std::holds_alternative<proto::PeerAck>(m) &&
         !std::holds_alternative<proto::TwoPcReply>(m);
}

bool Engine::ThrottleReceive(Session& s, const Connection& c, uint64_t pages) {
  // drbd_alloc_pages: at or above max-buffers pages in use, the receiver
  // waits HZ/10 once, then allocates anyway (not a hard limit).
  if (s.rx_slept) {
    s.rx_slept = false;
  } else if (static_cast<int64_t>(s.rx_pages) >= c.net.Int("max-buffers")) {
    s.rx_wait_pages = true;
    s.rx_slept = true;
    s.rx_pages_timer = env_.clock->StartTimer(kReceiverThrottleNs, [this, sid = s.id] {
      auto it = sessions_.find(sid);
      if (it == sessions_.end()) return;
      it->second->rx_pages_timer = 0;
      it->second->rx_wait_pages = false;
      ResumeReceive(sid);
    });
    return true;
  }
  s.rx_pages += pages;
  return false;
}

void Engine::PeerPagesDone(uint64_t sid, uint64_t pages) {
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  s.rx_pages -= std::min(s.rx_pages, pages);
}

void Engine::ResumeReceive(uint64_t sid) {
  auto first = sessions_.find(sid);
  // Called again from a message it handles: the outer loop goes on.
  if (first == sessions_.end() || first->second->rx_resuming) return;
  first->second->rx_resuming = true;
  while (true) {
    auto it = sessions_.find(sid);
    if (it == sessions_.end()) return;
    Session& s = *it->second;
    if (s.rx_wait_pages || s.rx_wait_barrier || s.rx_held.empty()) {
      s.rx_resuming = false;
      return;
    }
    proto::Message m = std::move(s.rx_held.front());
    s.rx_held.pop_front();
    HandleMessage(s, std::move(m));
  }
}

bool Engine::HandleEpochMessage(Session& s, Resource& r, Connection& c, const proto::Message& m) {
  if (const auto* b = std::get_if<proto::Barrier>(&m)) {
    s.rx_barriers.push_back(Session::RxBarrier{b->number, s.rx_seq + 1, s.rx_epoch_writes, false});
    s.rx_epoch_writes = 0;
    // receive_Barrier under drain or flush: the receiver waits for the
    // epoch's writes (conn_wait_active_ee_empty) and the flush before it
    // reads the next epoch; under none it reads on.
    if (WriteOrderingOf(r) >= events::WriteOrdering::kDrain) s.rx_wait_barrier = true;
    AnswerBarriers(s.id);
    return true;
  }
  if (const auto* ba = std::get_if<proto::BarrierAck>(&m)) {
    c.epoch_ap.erase(ba->number);
    if (EpochApSectors(c) == 0) ArmAheadResync(r, c);
    return true;
  }
  if (const auto* oos = std::get_if<proto::OutOfSync>(&m)) {
    auto pit = c.peer_devices.find(oos->volume);
    auto dit = r.devices.find(oos->volume);
    if (pit == c.peer_devices.end() || dit == r.devices.end() || oos->length == 0) return true;
    PeerDevice& pd = pit->second;
    // receive_out_of_sync: expected while Behind (or resyncing from it).
    if (pd.repl != ReplState::kBehind && pd.repl != ReplState::kSyncTarget &&
        pd.repl != ReplState::kPausedSyncT && pd.repl != ReplState::kWFBitMapT) {
      Log(fmt::format("{}: ASSERTION FAILED in receive_out_of_sync: repl {}",
                      Prefix(r, dit->second, c), events::ToString(pd.repl)));
    }
    MarkOutOfSyncRange(pd.oos_bits, pd.oos_count, oos->offset, oos->length);
    if (dit->second.data) MdArmFlush(dit->second.minor);
    return true;
  }
  return false;
}

void Engine::MaybePullAhead(Resource& r, Device& d) {
  if (!d.data || d.disk != DiskState::kUpToDate) return;  // get_ldev_if_state(D_UP_TO_DATE)
  for (auto& [peer, c] : r.connections) {
    if (c.cstate != ConnState::kConnected) continue;
    const int64_t oc = c.net.Int("on-congestion");
    if (oc == kOcBlock) continue;
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end()) continue;
    PeerDevice& pd = pit->second;
    if (oc == kOcPullAhead && pd.repl == ReplState::kAhead) continue;
    if (pd.repl != ReplState::kEstablished && pd.repl != ReplState::kSyncSource) continue;
    if (c.congestion_pending) continue;
    bool congested = false;
    const int64_t fill = c.net.Int("congestion-fill");
    const events::ConnectionStatistics st = ConnectionStatsOf(r, c);
    const int64_t n = static_cast<int64_t>(st.ap_in_flight.value_or(0) + st.rs_in_flight.value_or(0));
    if (fill > 0 && n >= fill) {
      Log(fmt::format("{}: Congestion-fill threshold reached ({} >= {})", Prefix(r, d), n, fill));
      congested = true;
    }
    const int64_t extents = c.net.Int("congestion-extents");
    const int64_t used = d.md_state ? d.md_state->al.used() : 0;
    if (!congested && used >= extents) {
      Log(fmt::format("{}: Congestion-extents threshold reached ({} >= {})", Prefix(r, d), used,
                      extents));
      congested = true;
    }
    if (!congested) continue;
    c.congestion_pending = true;
    env_.clock->StartTimer(0, [this, res = r.name, peer = peer, vol = d.volume] {
      HandleCongestion(res, peer, vol);
    });
  }
}

void Engine::HandleCongestion(const std::string& res, uint32_t peer, uint32_t vol) {
  Resource* r = nullptr;
  Connection* c = FindConnection(res, peer, &r);
  if (!c || !r) return;
  c->congestion_pending = false;
  // Congestion may have cleared since it was detected.
  if (ConnectionStatsOf(*r, *c).ap_in_flight.value_or(0) == 0 || c->cstate != ConnState::kConnected) return;
  const int64_t oc = c->net.Int("on-congestion");
  if (oc == kOcDisconnect) {
    return ConnectionLost(*r, *c, ConnState::kDisconnecting, true, "congestion");
  }
  if (oc != kOcPullAhead) return;
  auto pit = c->peer_devices.find(vol);
  auto dit = r->devices.find(vol);
  if (pit == c->peer_devices.end() || dit == r->devices.end()) return;
  if (pit->second.repl != ReplState::kEstablished && pit->second.repl != ReplState::kSyncSource) {
    return;
  }
  ResState n = Capture(*r);
  n.conns.at(peer).pd.at(vol).repl = ReplState::kAhead;
  if (Change(*r, n, true, "congestion") != Ret::kSsSuccess) return;
  // Writing locally without replicating: a new data generation, the old
  // one kept as the bitmap UUID toward the Behind peer. The peer learns
  // Ahead from the STATE.
  RotateUuidForAbsentPeers(*r, dit->second);
  BroadcastState(*r);
}

void Engine::ArmAheadResync(Resource& r, Connection& c) {
  if (c.ahead_timer) return;
  bool ahead = false;
  for (const auto& [vol, pd] : c.peer_devices) ahead = ahead || pd.repl == ReplState::kAhead;
  if (!ahead) return;
  c.ahead_timer = env_.clock->StartTimer(
      kAheadResyncDelayNs,
      [this, res = r.name, peer = c.peer_node_id] { StartAheadResync(res, peer); });
}

void Engine::StartAheadResync(const std::string& res, uint32_t peer) {
  Resource* r = nullptr;
  Connection* c = FindConnection(res, peer, &r);
  if (!c || !r) return;
  c->ahead_timer = 0;
  if (c->cstate != ConnState::kConnected) return;
  if (ConnectionStatsOf(*r, *c).ap_in_flight.value_or(0) > 0) {  // postponing start_resync
    c->ahead_timer = env_.clock->StartTimer(kAheadResyncDelayNs / 10, [this, res, peer] {
      StartAheadResync(res, peer);
    });
    return;
  }
  ResState n = Capture(*r);
  bool any = false;
  for (auto& [vol, pd] : c->peer_devices) {
    if (pd.repl != ReplState::kAhead) continue;
    ResState::Pd& npd = n.conns.at(peer).pd.at(vol);
    npd.repl = ReplState::kSyncSource;
    if (npd.peer_disk > DiskState::kInconsistent) npd.peer_disk = DiskState::kInconsistent;
    pd.rs_use_bitmap = true;  // the blocks written while Ahead
    any = true;
  }
  if (!any) return;
  Change(*r, n, true, "postponed-resync");
  BroadcastState(*r);
}

void Engine::FollowPeerRepl(Resource& r, Connection& c, const proto::State& st) {
  for (const proto::VolumeState& vs : st.volumes) {
    auto pit = c.peer_devices.find(vs.volume);
    auto dit = r.devices.find(vs.volume);
    if (pit == c.peer_devices.end() || dit == r.devices.end()) continue;
    PeerDevice& pd = pit->second;
    const auto peer_repl = static_cast<ReplState>(vs.repl);
    if (peer_repl == ReplState::kAhead &&
        (pd.repl == ReplState::kEstablished || pd.repl == ReplState::kSyncTarget)) {
      ResState n = Capture(r);
      n.conns.at(c.peer_node_id).pd.at(vs.volume).repl = ReplState::kBehind;
      Change(r, n, true, "peer-state");
    } else if (peer_repl == ReplState::kSyncSource && pd.repl == ReplState::kBehind) {
      // Inconsistent at once: resync data may come now.
      if (dit->second.data && dit->second.disk > DiskState::kInconsistent) {
        ResState n = Capture(r);
        n.disk[vs.volume] = DiskState::kInconsistent;
        Change(r, n, true, "resync-after-behind");
      }
      ResState n = Capture(r);
      n.conns.at(c.peer_node_id).pd.at(vs.volume).repl = ReplState::kSyncTarget;
      Change(r, n, true, "postponed-resync");
    }
  }
}

}  // namespace drbd::engine
