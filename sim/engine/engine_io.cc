// SPDX-License-Identifier: GPL-2.0-or-later
// The engine's data path: openers of a device (drbd_open / drbd_release
// with auto-promote and auto-demote), block reads, writes and flushes on a
// minor with the module's refusals, replication of a Primary's writes to
// every replicating peer with protocol A, B or C completion, reads served
// by an UpToDate peer when the local disk cannot, and the in-memory
// out-of-sync bitmap of peers that miss writes. The receiving side of the
// data messages lives here too. See docs/design/drbd-simd.md (data path)
// and docs/formats/peer-protocol.md (data messages).
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <utility>

#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace {

constexpr uint64_t kBmBlock = 4096;  // bytes per out-of-sync bit (BM_BLOCK_SIZE)
constexpr int64_t kProtA = 1, kProtB = 2;

// drbd_set_st_err_str: the state error's text.
std::string_view StateText(Ret r) {
  switch (r) {
#define DRBD_RET_CODE(id, name, nr, text)
#define DRBD_STATE_RV(id, name, nr, text) \
  case Ret::id:                           \
    return text;
#include "lib/spec/drbd_codes.def"
#undef DRBD_RET_CODE
#undef DRBD_STATE_RV
    default:
      return "?";
  }
}

// Whether writes to this peer device are replicated now (Ahead only
// marks out of sync; the data is sent by a later resync).
bool Replicating(ConnState cstate, ReplState repl, DiskState peer_disk) {
  return cstate == ConnState::kConnected && repl >= ReplState::kEstablished &&
         repl != ReplState::kAhead && peer_disk >= DiskState::kInconsistent;
}

}  // namespace

struct Engine::IoState {
  struct Opener {
    uint32_t minor = 0;
    bool writable = false;
    std::string who;  // "comm:pid" for state change tags
  };
  std::map<uint64_t, Opener> openers;  // by handle
  uint64_t next_handle = 1;

  // One client request in flight.
  struct Req {
    uint32_t minor = 0;  // upper-pending is counted on this device
    uint64_t offset = 0;
    int pending = 0;
    int err = 0;
    IoDone done;         // writes and flushes
    ReadDone read_done;  // reads
    std::vector<uint8_t> buf;
    // A write holding activity-log extents until it completes everywhere.
    std::shared_ptr<DeviceMd> al_md;
    uint64_t len = 0;
    // A write whose local part failed completes fine if a peer has the data
    // (the disk detaches; on-io-error).
    bool local_failed = false;
    // An UpToDate peer has the data (PeerHoldsGoodCopy).
    bool peer_ok = false;
    // The local part went to UpToDate data; without it (diskless, or an
    // Inconsistent disk) only a peer's success completes the write.
    bool local_uptodate = false;
    // A peer's part failed (the connection was lost under it): the
    // completion waits for a superblock write in flight (FinishIo).
    bool peer_missed = false;
    // PEER_ACK (engine_peer_ack.cc): per peer node id the first DATA id
    // and the number of chunks sent; the peers whose part failed.
    std::map<uint32_t, std::pair<uint64_t, uint32_t>> peer_ids;
    uint64_t peers_failed = 0;
    // A read from a peer: the opener and length to retry it with, and the
    // peers it went to, which the retry leaves out.
    uint64_t read_handle = 0;
    uint32_t read_len = 0;
    uint64_t read_peers_tried = 0;
  };
  std::map<uint64_t, Req> reqs;
  // Peers the next IoRead leaves out (set by a retry, taken at its start).
  uint64_t read_exclude = 0;
  uint64_t next_req = 1;

  // A message sent to a peer whose answer a request waits for.
  enum class Kind { kRecv, kWrite, kFlush, kRead, kResync };
  struct Wait {
    uint64_t req = 0;  // kResync: the resync run's generation
    std::string res;
    uint32_t peer = 0;
    uint32_t vol = 0;
    uint64_t offset = 0;
    uint32_t len = 0;
    Kind kind = Kind::kWrite;
    uint64_t sent_ns = 0;  // Env clock when sent (ko-count, engine_net.cc)
  };
  std::map<uint64_t, Wait> waits;  // by message id
  uint64_t next_msg = 1;
};

Engine::IoState& Engine::Io() {
  if (!io_) io_ = std::make_shared<IoState>();
  return *io_;
}

std::optional<std::pair<uint64_t, uint32_t>> Engine::OldestPeerRequest(const std::string& res,
                                                                       uint32_t peer) const {
  std::optional<std::pair<uint64_t, uint32_t>> oldest;
  if (!io_) return oldest;
  for (const auto& [id, w] : io_->waits) {
    if (w.res != res || w.peer != peer || w.kind == IoState::Kind::kResync || w.sent_ns == 0) {
      continue;
    }
    if (!oldest || w.sent_ns < oldest->first) oldest = std::make_pair(w.sent_ns, w.vol);
  }
  return oldest;
}

// ---------------------------------------------------------------------------
// Openers

uint64_t Engine::OpenDevice(uint32_t minor, int* err, const std::string& who) {
  Device* d = FindMinor(minor);
  Resource* r = ResourceOfMinor(minor);
  if (!d || !r) {
    *err = ENODEV;
    return 0;
  }
  if (r->role != Role::kPrimary) {
    if (!r->opts.Bool("auto-promote")) {
      *err = EMEDIUMTYPE;
      return 0;
    }
    // ro_open_cond: no Primary peer, and UpToDate data somewhere.
    bool uptodate = d->data && d->disk == DiskState::kUpToDate;
    for (const auto& [peer, c] : r->connections) {
      if (c.peer_role == Role::kPrimary) {
        *err = EMEDIUMTYPE;
        return 0;
      }
      auto it = c.peer_devices.find(d->volume);
      if (c.cstate == ConnState::kConnected && it != c.peer_devices.end() &&
          it->second.peer_disk == DiskState::kUpToDate) {
        uptodate = true;
      }
    }
    if (!uptodate) {
      *err = ENODATA;
      return 0;
    }
  }
  IoState& io = Io();
  uint64_t h = io.next_handle++;
  io.openers[h] = IoState::Opener{minor, false, who};
  if (OpenCount(minor) == 1) NotifyOpenChange(minor);
  return h;
}

int Engine::OpenDeviceForWrite(uint64_t handle) {
  IoState& io = Io();
  auto it = io.openers.find(handle);
  if (it == io.openers.end()) return EBADF;
  if (it->second.writable) return 0;
  Resource* r = ResourceOfMinor(it->second.minor);
  if (!r) return ENODEV;
  if (r->role != Role::kPrimary && r->opts.Bool("auto-promote")) {
    Ctx ctx;
    ctx.resource = r->name;
    role_tag_ = it->second.who + " auto-promote";
    Reply rep = Primary(ctx, false);
    role_tag_.clear();
    if (!IsSuccess(rep.ret) || r->role != Role::kPrimary) {
      Log(fmt::format("{}: Auto-promote failed: {} ({})", Prefix(*r), StateText(rep.ret),
                      ToInt(rep.ret)));
    }
  }
  if (r->role != Role::kPrimary) return EROFS;
  it->second.writable = true;
  return 0;
}

void Engine::CloseDevice(uint64_t handle) {
  IoState& io = Io();
  auto it = io.openers.find(handle);
  if (it == io.openers.end()) return;
  IoState::Opener op = it->second;
  io.openers.erase(it);
  Resource* r = ResourceOfMinor(op.minor);
  if (!r) return;
  const bool last = OpenCount(op.minor) == 0;
  // drbd_release: the last writer of a resource that was not made Primary
  // explicitly demotes it.
  if (op.writable && !HasWriter(*r) && r->role == Role::kPrimary && !r->explicit_primary &&
      r->opts.Bool("auto-promote")) {
    Ctx ctx;
    ctx.resource = r->name;
    role_tag_ = op.who + " auto-demote";
    Reply rep = Secondary(ctx, false);
    role_tag_.clear();
    if (!IsSuccess(rep.ret)) {
      Log(fmt::format("{}: Auto-demote failed: {} ({})", Prefix(*r), StateText(rep.ret),
                      ToInt(rep.ret)));
    }
  }
  if (last) NotifyOpenChange(op.minor);
}

void Engine::NotifyOpenChange(uint32_t minor) {
  Device* d = FindMinor(minor);
  Resource* r = ResourceOfMinor(minor);
  if (d && r) Emit(DeviceNote(*r, *d, events::NotifyType::kChange));
}

void Engine::LowerIssued(Device& d, uint64_t bytes, bool write) {
  (write ? d.written_sectors : d.read_sectors) += bytes / 512;
  ++d.lower_pending;
}

void Engine::LowerDone(uint32_t minor) {
  Device* d = FindMinor(minor);
  if (d && d->lower_pending > 0) --d->lower_pending;
}

events::WriteOrdering Engine::WriteOrderingOf(const Resource& r) const {
  // drbd_bump_write_ordering / max_allowed_wo: the weakest method any
  // attached backing device allows; flush while nothing is attached.
  events::WriteOrdering wo = events::WriteOrdering::kFlush;
  for (const auto& [vol, d] : r.devices) {
    if (!d.data) continue;
    events::WriteOrdering allowed = events::WriteOrdering::kFlush;
    if (!d.disk_opts.Bool("disk-flushes")) {
      allowed = d.disk_opts.Bool("disk-drain") ? events::WriteOrdering::kDrain
                                               : events::WriteOrdering::kNone;
    }
    wo = std::min(wo, allowed);
  }
  return wo;
}

events::ConnectionStatistics Engine::ConnectionStatsOf(const Resource& r,
                                                       const Connection& c) const {
  events::ConnectionStatistics st;
  uint64_t ap = 0, rs = 0;
  if (io_) {
    for (const auto& [mid, w] : io_->waits) {
      if (w.res != r.name || w.peer != c.peer_node_id) continue;
      if (w.kind == IoState::Kind::kResync) {
        rs += w.len / 512;
      } else if (w.kind == IoState::Kind::kWrite || w.kind == IoState::Kind::kRecv) {
        ap += w.len / 512;
      }
    }
  }
  st.ap_in_flight = ap + EpochApSectors(c);
  st.rs_in_flight = rs;
  return st;
}

bool Engine::HasWriter(const Resource& r) const {
  if (!io_) return false;
  for (const auto& [h, o] : io_->openers) {
    auto mit = minors_.find(o.minor);
    if (o.writable && mit != minors_.end() && mit->second.first == r.name) return true;
  }
  return false;
}

std::optional<uint64_t> Engine::DeviceBytes(uint32_t minor) const {
  const Device* d = FindMinor(minor);
  if (!d) return std::nullopt;
  if (d->data) return d->size_sectors * 512;
  auto mit = minors_.find(minor);
  const Resource* r = mit == minors_.end() ? nullptr : FindResource(mit->second.first);
  uint64_t best = 0;
  if (r) {
    for (const auto& [peer, c] : r->connections) {
      auto it = c.peer_devices.find(d->volume);
      if (c.cstate != ConnState::kConnected || it == c.peer_devices.end() || !it->second.have_peer)
        continue;
      if (it->second.peer_disk == DiskState::kUpToDate)
        best = std::max(best, it->second.peer.size_sectors * 512);
    }
  }
  return best;
}

bool Engine::DeviceMayWrite(uint32_t minor) const {
  auto mit = minors_.find(minor);
  if (mit == minors_.end()) return false;
  const Resource* r = FindResource(mit->second.first);
  return r && (r->role == Role::kPrimary || r->opts.Bool("auto-promote"));
}

uint32_t Engine::OpenCount(uint32_t minor) const {
  if (!io_) return 0;
  uint32_t n = 0;
  for (const auto& [h, o] : io_->openers) n += o.minor == minor ? 1 : 0;
  return n;
}

std::optional<uint64_t> Engine::ResyncBytesSent(const std::string& res, uint32_t peer,
                                                uint32_t vol) const {
  const PeerDevice* pd = FindPeerDevice(res, peer, vol);
  if (!pd) return std::nullopt;
  return pd->rs_bytes_sent;
}

uint64_t Engine::AddResyncWait(const std::string& res, uint32_t peer, uint32_t vol, uint64_t gen,
                               uint64_t offset, uint32_t len) {
  IoState& io = Io();
  uint64_t mid = io.next_msg++;
  io.waits[mid] = IoState::Wait{gen, res, peer, vol, offset, len, IoState::Kind::kResync};
  return mid;
}

std::optional<uint64_t> Engine::OutOfSyncBlocks(const std::string& res, uint32_t peer,
                                                uint32_t vol) const {
  const PeerDevice* pd = FindPeerDevice(res, peer, vol);
  if (!pd) return std::nullopt;
  return pd->oos_count;
}

std::optional<bool> Engine::BlockOutOfSync(const std::string& res, uint32_t peer, uint32_t vol,
                                           uint64_t block) const {
  const PeerDevice* pd = FindPeerDevice(res, peer, vol);
  if (!pd) return std::nullopt;
  if (block / 64 >= pd->oos_bits.size()) return false;
  return (pd->oos_bits[block / 64] >> (block % 64)) & 1;
}

// ---------------------------------------------------------------------------
// Requests

namespace {
// Runs `fn` as a later event on the loop.
void Later(sim::Clock* clock, std::function<void()> fn) { clock->StartTimer(0, std::move(fn)); }
}  // namespace

void Engine::IoRead(uint64_t handle, uint64_t offset, uint32_t len, ReadDone done) {
  auto fail = [&](int e) { Later(env_.clock, [done, e] { done(e, {}); }); };
  IoState& io = Io();
  const uint64_t exclude = std::exchange(io.read_exclude, 0);
  auto oit = io.openers.find(handle);
  if (oit == io.openers.end()) return fail(EBADF);
  Device* d = FindMinor(oit->second.minor);
  Resource* r = ResourceOfMinor(oit->second.minor);
  if (!d || !r) return fail(ENODEV);
  if (QuorumFailsIo(*r, *d)) return fail(EIO);  // on-no-quorum io-error
  // susp-io(fencing) until fence-peer answered, susp-io(quorum) until quorum is back.
  if (IoFrozen(*r) || r->susp_quorum) {
    r->frozen_io.emplace_back(
        [this, handle, offset, len, done] { IoRead(handle, offset, len, done); });
    return;
  }
  std::optional<uint64_t> size = DeviceBytes(d->minor);
  if (!size || offset > *size || len > *size - offset) return fail(EIO);
  if (d->data && d->disk == DiskState::kUpToDate) {
    std::shared_ptr<sim::Disk> disk = d->data;
    const uint32_t minor = d->minor;
    ++d->upper_pending;
    LowerIssued(*d, len, false);
    auto finish = [this, minor, handle, offset, len, done](bool ok, std::vector<uint8_t> bytes) {
      LowerDone(minor);
      Device* d2 = FindMinor(minor);
      if (d2 && d2->upper_pending > 0) --d2->upper_pending;
      if (!ok && d2 && d2->disk_opts.Int("on-io-error") != 0) {
        // The disk detaches and the read is retried at an UpToDate peer
        // (the kernel's READ_COMPLETED_WITH_ERROR -> restart as a remote
        // read); with pass_on the error goes up.
        LocalIoError(minor, "drbd_request_endio");
        return IoRead(handle, offset, len, done);
      }
      done(ok ? 0 : EIO, ok ? std::move(bytes) : std::vector<uint8_t>{});
    };
    if (InsertFault(*r, *d, kFaultDtRd)) {  // engine_faults.cc
      Later(env_.clock, [finish] { finish(false, {}); });
    } else {
      disk->Read(offset, len, [disk, finish](bool ok, std::vector<uint8_t> bytes) {
        finish(ok, std::move(bytes));
      });
    }
    return;
  }
  // No UpToDate local data: read from an UpToDate peer.
  for (auto& [peer, c] : r->connections) {
    auto pit = c.peer_devices.find(d->volume);
    Session* s = SessionOf(c);
    if (pit == c.peer_devices.end() || !s || !s->up) continue;
    if (!Replicating(c.cstate, pit->second.repl, pit->second.peer_disk) ||
        pit->second.peer_disk != DiskState::kUpToDate || (peer < 64 && (exclude >> peer & 1))) {
      continue;
    }
    uint64_t id = io.next_req++;
    IoState::Req& req = io.reqs[id];
    req.minor = d->minor;
    ++d->upper_pending;
    req.offset = offset;
    req.read_done = std::move(done);
    req.read_handle = handle;
    req.read_len = len;
    req.read_peers_tried = exclude | (peer < 64 ? uint64_t{1} << peer : 0);
    req.buf.assign(len, 0);
    for (uint64_t pos = 0; pos < len; pos += proto::kDataChunk) {
      uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(proto::kDataChunk, len - pos));
      uint64_t mid = io.next_msg++;
      io.waits[mid] =
          IoState::Wait{id, r->name, peer, d->volume, offset + pos, n, IoState::Kind::kRead};
      ++req.pending;
      Send(*s, proto::ReadRequest{d->volume, mid, offset + pos, n});
    }
    return;
  }
  fail(EIO);
}

void Engine::IoWrite(uint64_t handle, uint64_t offset, std::vector<uint8_t> data, bool fua,
                     IoDone done) {
  auto fail = [&](int e) { Later(env_.clock, [done, e] { done(e); }); };
  IoState& io = Io();
  auto oit = io.openers.find(handle);
  if (oit == io.openers.end()) return fail(EBADF);
  Device* d = FindMinor(oit->second.minor);
  Resource* r = ResourceOfMinor(oit->second.minor);
  if (!d || !r) return fail(ENODEV);
  if (QuorumFailsIo(*r, *d)) return fail(EIO);  // on-no-quorum io-error
  // susp-io(fencing) until fence-peer answered, susp-io(quorum) until quorum is back.
  if (IoFrozen(*r) || r->susp_quorum) {
    r->frozen_io.emplace_back([this, handle, offset, fua, buf = std::move(data),
                            cb = std::move(done)] { IoWrite(handle, offset, buf, fua, cb); });
    return;
  }
  if (int e = OpenDeviceForWrite(handle)) {
    if (r->role != Role::kPrimary) {
      Log(fmt::format("{}: Rejected WRITE request, not in Primary role.", Prefix(*r, *d)));
      return fail(EIO);
    }
    return fail(e);
  }
  if (r->role != Role::kPrimary) {  // a writer left behind by a forced demotion
    Log(fmt::format("{}: Rejected WRITE request, not in Primary role.", Prefix(*r, *d)));
    return fail(EIO);
  }
  uint64_t len = data.size();
  std::optional<uint64_t> size = DeviceBytes(d->minor);
  if (!size || offset > *size || len > *size - offset) return fail(EIO);
  bool local = d->data && d->disk >= DiskState::kInconsistent;
  // on-no-data-accessible io-error (the default): without UpToDate data
  // here or at a replicating peer the write fails, or it would be
  // acknowledged onto a disk a later resync overwrites (found by detsim).
  bool accessible = local && d->disk == DiskState::kUpToDate;
  for (auto& [peer, c] : r->connections) {
    auto pit = c.peer_devices.find(d->volume);
    Session* s = SessionOf(c);
    if (pit != c.peer_devices.end() && s && s->up &&
        Replicating(c.cstate, pit->second.repl, pit->second.peer_disk) &&
        pit->second.peer_disk == DiskState::kUpToDate) {
      accessible = true;
    }
  }
  if (!accessible) return fail(EIO);
  // A new data generation before the write: the first write after a
  // promotion (the kernel's NEW_CUR_UUID), or one a peer will not get
  // (RotateUuidForAbsentPeers). As drbd_req.c holds the request until
  // MAKE_NEW_CUR_UUID's drbd_md_sync made the new current UUID durable,
  // the write waits for that superblock write: a crash must not leave
  // acknowledged writes behind the old current UUID (detsim seed
  // 0x24a1bd0fb818ce0e: the peer then resynced over them).
  // While a handshake holds the UUIDs (UuidLocked: the kernel's uuid_sem,
  // which MAKE_NEW_CUR_UUID waits for), such a write waits for it.
  {
    auto again = [this, d, handle, offset, fua, &data, &done]() -> std::function<void()> {
      ++d->upper_pending;
      return [this, handle, offset, fua, minor = d->minor, buf = std::move(data),
              cb = std::move(done)]() mutable {
        if (Device* d2 = FindMinor(minor); d2 && d2->upper_pending > 0) --d2->upper_pending;
        IoWrite(handle, offset, std::move(buf), fua, std::move(cb));
      };
    };
    // Writes wait while drbd_check_peers runs after a new current UUID
    // (WRITING_NEW_CUR_UUID holds them in inc_ap_bio_cond).
    if (TwoPcOwesUpToDate(*r, *d) || r->checking_peers) {
      r->uuid_waiters.push_back(again());
      return;
    }
    const uint64_t uuid_before = d->sb.current_uuid;
    const bool new_cur = std::exchange(d->new_cur_uuid, false);
    // Without an UpToDate disk the peers store the new data generation (the
    // kernel's drbd_uuid_new_current below D_UP_TO_DATE): sent before this
    // write.
    if (d->NewUuidWithoutDisk() && new_cur && DisklessNeedsNewCurrent(*r, *d)) {
      if (UuidLocked(*r)) {
        d->new_cur_uuid = true;  // still owed
        r->uuid_waiters.push_back(again());
        return;
      }
      DisklessNewCurrent(*r, *d);
    }
    bool rotate = new_cur;
    for (auto& [peer, c] : r->connections) {
      auto pit = c.peer_devices.find(d->volume);
      if (pit == c.peer_devices.end()) continue;
      Session* s = SessionOf(c);
      if (!s || !s->up || !Replicating(c.cstate, pit->second.repl, pit->second.peer_disk)) {
        rotate = true;
      }
    }
    if (rotate && RotationDue(*r, *d) && UuidLocked(*r)) {
      d->new_cur_uuid = new_cur;  // still owed
      r->uuid_waiters.push_back(again());
      return;
    }
    if (rotate) RotateUuidForAbsentPeers(*r, *d);
    if (d->sb.current_uuid != uuid_before && d->md_state && d->md_state->sb_in_flight > 0) {
      d->md_state->held_writes.push_back(again());
      return;
    }
  }
  d->unused_bump_from = 0;  // this write uses the current UUID
  // Activity log first: the extents of the write must be in the on-disk
  // AL before the data reaches the local disk or a peer. Otherwise the
  // write comes back here once a transaction brought them in.
  std::shared_ptr<DeviceMd> al_md = local ? d->md_state : nullptr;
  if (al_md && !AlCovers(*al_md, offset, len)) {
    ++d->upper_pending;  // the request waits inside drbd
    AlBeginWrite(*d, offset, len,
                 [this, handle, offset, fua, minor = d->minor, buf = std::move(data),
                  cb = std::move(done)]() mutable {
                   if (Device* d2 = FindMinor(minor); d2 && d2->upper_pending > 0) {
                     --d2->upper_pending;
                   }
                   IoWrite(handle, offset, std::move(buf), fua, std::move(cb));
                 });
    return;
  }
  if (al_md) AlBeginWrite(*d, offset, len, nullptr);  // covered: pins the extents

  uint64_t id = io.next_req++;
  r->dagtag += len >> 9;  // this write's dagtag, in every DATA it sends
  const uint64_t dagtag = r->dagtag;
  IoState::Req& req = io.reqs[id];
  req.minor = d->minor;
  ++d->upper_pending;
  req.offset = offset;
  req.done = std::move(done);
  req.pending = 1;  // held until everything is issued
  req.al_md = std::move(al_md);
  req.len = len;
  req.local_uptodate = local && d->disk == DiskState::kUpToDate;
  if (local) NoteSyncTargetWrite(*r, *d, offset, len);
  MaybePullAhead(*r, *d);  // engine_congestion.cc
  bool sent_anywhere = local;
  for (auto& [peer, c] : r->connections) {
    auto pit = c.peer_devices.find(d->volume);
    if (pit == c.peer_devices.end()) continue;
    PeerDevice& pd = pit->second;
    Session* s = SessionOf(c);
    if (!s || !s->up || !Replicating(c.cstate, pd.repl, pd.peer_disk)) {
      RotateUuidForAbsentPeers(*r, *d);
      MarkOutOfSyncRange(pd.oos_bits, pd.oos_count, offset, len);
      MdArmFlush(d->minor);
      if (s && s->up && pd.repl == ReplState::kAhead) {  // P_OUT_OF_SYNC to the Behind peer
        Send(*s, proto::OutOfSync{d->volume, offset, static_cast<uint32_t>(len)});
      }
      continue;
    }
    if (pd.rs_gen) ResyncSawWrite(pd, offset, len);
    sent_anywhere = true;
    int64_t protocol = c.net.Int("protocol");
    for (uint64_t pos = 0; pos < len; pos += proto::kDataChunk) {
      uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(proto::kDataChunk, len - pos));
      uint64_t mid = io.next_msg++;
      auto& ids = req.peer_ids[peer];
      if (ids.second++ == 0) ids.first = mid;
      proto::Data m;
      m.volume = d->volume;
      m.id = mid;
      m.offset = offset + pos;
      m.flags = fua ? proto::kDataFua : 0;
      m.dagtag = dagtag;
      // Sent is all protocol A promises.
      if (protocol == kProtA && PeerHoldsGoodCopy(c, d->volume)) req.peer_ok = true;
      if (protocol != kProtA) {
        io.waits[mid] =
            IoState::Wait{id,
                          r->name,
                          peer,
                          d->volume,
                          offset + pos,
                          n,
                          protocol == kProtB ? IoState::Kind::kRecv : IoState::Kind::kWrite};
        io.waits[mid].sent_ns = env_.clock->NowNs();
        ++req.pending;
      }
      pd.sent_bytes += n;
      // Framed straight from the request's buffer (m.data stays empty).
      s->stream->Send(proto::EncodeData(m, std::span<const uint8_t>(data).subspan(pos, n)));
    }
    EpochWrite(*r, c, d->volume, offset, len, protocol == kProtA);  // engine_congestion.cc
  }
  if (!sent_anywhere) {  // no local disk and no peer to write to
    IoDone cb = std::move(req.done);
    io.reqs.erase(id);
    --d->upper_pending;
    Later(env_.clock, [cb] { cb(EIO); });
    return;
  }
  if (local) {
    ++req.pending;
    std::shared_ptr<sim::Disk> disk = d->data;
    const uint32_t minor = d->minor;
    LowerIssued(*d, len, true);
    auto finish = [this, id, minor](bool ok) {
      LowerDone(minor);
      if (!ok) LocalIoError(minor, "drbd_request_endio");
      IoState& io2 = Io();
      auto it = io2.reqs.find(id);
      if (it == io2.reqs.end()) return;
      if (!ok) it->second.local_failed = true;
      FinishIo(id);
    };
    if (InsertFault(*r, *d, kFaultDtWr)) {  // engine_faults.cc
      Later(env_.clock, [finish] { finish(false); });
    } else {
      disk->Write(offset, std::move(data), [disk, fua, finish](bool ok) {
        if (!ok || !fua) return finish(ok);
        disk->Flush(finish);
      });
    }
  }
  FinishIo(id);
}

// diskfull_peers_need_new_cur_uuid with diskless_primary_needs_uuid_bump:
// a connected UpToDate peer whose bitmap UUIDs toward the other configured
// nodes are all unset has no earlier bump on record. a_lost_peer_is_on_same_
// cur_uuid: a peer away (Inconsistent, Outdated or DUnknown, not
// established) that was last seen on the exposed UUID, or never seen.
bool Engine::DisklessNeedsNewCurrent(const Resource& r, const Device& d) const {
  auto norm = [](uint64_t u) { return u & ~kUuidPrimaryBit; };
  for (const auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end()) continue;
    const PeerDevice& pd = pit->second;
    if (pd.peer_disk < DiskState::kUpToDate || !pd.have_peer) continue;
    bool bumped = false;
    for (const auto& [node, uuid] : pd.peer.bitmap_uuids) {
      if (node == peer || static_cast<int>(node) == r.node_id || !r.connections.count(node)) {
        continue;
      }
      if (uuid != 0 && uuid != ~uint64_t{0}) bumped = true;
    }
    if (!bumped) return true;
  }
  for (const auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end()) continue;
    const PeerDevice& pd = pit->second;
    const DiskState pdsk = pd.peer_disk;
    if (pd.repl >= ReplState::kEstablished || pdsk < DiskState::kInconsistent ||
        pdsk > DiskState::kDUnknown) {
      continue;
    }
    if (pd.peer.current_uuid == 0 || norm(pd.peer.current_uuid) == norm(d.exposed_uuid)) {
      return true;
    }
  }
  return false;
}

void Engine::DisklessNewCurrent(Resource& r, Device& d) {
  uint64_t uuid = NewUuid() & ~kUuidPrimaryBit;
  if (r.role == Role::kPrimary) uuid |= kUuidPrimaryBit;
  d.exposed_uuid = uuid & ~kUuidPrimaryBit;
  Log(fmt::format("{}: sending new current UUID: {:016X}", Prefix(r, d), uuid));
  const uint64_t weak = WeakNodes(r, d);
  d.own_exposed = d.exposed_uuid;
  d.own_exposed_weak = weak;
  for (auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    Session* s = SessionOf(c);
    if (pit == c.peer_devices.end() || !s || !s->up || pit->second.repl < ReplState::kEstablished) {
      continue;
    }
    // P_CURRENT_UUID: one STATE that carries it; later ones carry none.
    proto::State st = LocalState(r, peer);
    for (proto::VolumeState& v : st.volumes) {
      if (v.volume != d.volume) continue;
      v.current_uuid = uuid;
      v.weak_nodes = weak;
    }
    Send(*s, st);
  }
}

void Engine::IoFlush(uint64_t handle, IoDone done) {
  auto fail = [&](int e) { Later(env_.clock, [done, e] { done(e); }); };
  IoState& io = Io();
  auto oit = io.openers.find(handle);
  if (oit == io.openers.end()) return fail(EBADF);
  Device* d = FindMinor(oit->second.minor);
  Resource* r = ResourceOfMinor(oit->second.minor);
  if (!d || !r) return fail(ENODEV);
  if (r->role != Role::kPrimary) return fail(EIO);  // a flush is a write without data
  uint64_t id = io.next_req++;
  IoState::Req& req = io.reqs[id];
  req.minor = d->minor;
  ++d->upper_pending;
  req.done = std::move(done);
  req.pending = 1;
  for (auto& [peer, c] : r->connections) {
    auto pit = c.peer_devices.find(d->volume);
    Session* s = SessionOf(c);
    if (pit == c.peer_devices.end() || !s || !s->up ||
        !Replicating(c.cstate, pit->second.repl, pit->second.peer_disk)) {
      continue;
    }
    uint64_t mid = io.next_msg++;
    if (c.net.Int("protocol") != kProtA && c.net.Int("protocol") != kProtB) {
      io.waits[mid] = IoState::Wait{id, r->name, peer, d->volume, 0, 0, IoState::Kind::kFlush};
      io.waits[mid].sent_ns = env_.clock->NowNs();
      ++req.pending;
    }
    Send(*s, proto::Flush{d->volume, mid});
  }
  if (d->data && d->disk >= DiskState::kInconsistent) {
    ++req.pending;
    std::shared_ptr<sim::Disk> disk = d->data;
    const uint32_t minor = d->minor;
    ++d->lower_pending;
    disk->Flush([this, id, disk, minor](bool ok) {
      LowerDone(minor);
      IoState& io2 = Io();
      auto it = io2.reqs.find(id);
      if (it == io2.reqs.end()) return;
      if (!ok) it->second.err = EIO;
      FinishIo(id);
    });
  }
  FinishIo(id);
}

void Engine::MarkFailedWrite(Resource& r, Device& d, uint64_t offset, uint64_t len) {
  MarkTowardPeers(r, d.volume, ~uint32_t{0}, 0, offset, len);  // every peer
  for (uint64_t b = offset / kBmBlock; b * kBmBlock < offset + len; ++b) d.failed_blocks.insert(b);
  if (d.data) MdArmFlush(d.minor);
}

std::set<uint64_t> Engine::BlocksUnderWrites(uint32_t minor, uint64_t offset, uint64_t len) {
  std::set<uint64_t> blocks;
  const uint64_t from = offset / kBmBlock;
  // Every block from `from` on when the range reaches the end of the
  // address space (the default: the whole device).
  const uint64_t to = len > UINT64_MAX - kBmBlock - offset ? UINT64_MAX
                                                           : (offset + len + kBmBlock - 1) / kBmBlock;
  for (const auto& [id, req] : Io().reqs) {
    if (req.minor != minor || req.read_done || req.len == 0) continue;
    const uint64_t end = std::min(to, (req.offset + req.len + kBmBlock - 1) / kBmBlock);
    for (uint64_t b = std::max(from, req.offset / kBmBlock); b < end; ++b) blocks.insert(b);
  }
  return blocks;
}

void Engine::FinishIo(uint64_t id) {
  IoState& io = Io();
  auto it = io.reqs.find(id);
  if (it == io.reqs.end() || --it->second.pending > 0) return;
  IoState::Req req = std::move(it->second);
  io.reqs.erase(it);
  if (!req.err && req.done && !req.read_done && req.len &&
      !((req.local_uptodate && !req.local_failed) || req.peer_ok)) {
    req.err = EIO;  // the data reached no good copy
  }
  if (req.err && req.done && !req.read_done && req.len && !req.peer_ids.empty()) {
    Resource* r = ResourceOfMinor(req.minor);
    if (Device* d = FindMinor(req.minor); r && d) MarkFailedWrite(*r, *d, req.offset, req.len);
  }
  if (Device* d = FindMinor(req.minor); d && d->upper_pending > 0) --d->upper_pending;
  // A write that succeeded over whole blocks of an earlier failed one
  // leaves them alike on the nodes it reached (Device::failed_blocks).
  if (Device* d = FindMinor(req.minor);
      d && !d->failed_blocks.empty() && req.done && !req.read_done && !req.err && req.len) {
    const uint64_t first = (req.offset + kBmBlock - 1) / kBmBlock;
    const uint64_t end = (req.offset + req.len) / kBmBlock;
    d->failed_blocks.erase(d->failed_blocks.lower_bound(first), d->failed_blocks.lower_bound(end));
  }
  // A completed write tells the peers that got it which nodes have it.
  if (req.done && !req.read_done && req.len && !req.peer_ids.empty()) {
    Resource* r = ResourceOfMinor(req.minor);
    Device* d = FindMinor(req.minor);
    if (r && d) {
      uint64_t mask = 0;
      if (req.local_uptodate && !req.local_failed && r->node_id >= 0 && r->node_id < 64) {
        mask |= uint64_t{1} << r->node_id;
      }
      for (auto it2 = req.peer_ids.begin(); it2 != req.peer_ids.end();) {
        const uint64_t bit = it2->first < 64 ? uint64_t{1} << it2->first : 0;
        if (req.peers_failed & bit) {
          it2 = req.peer_ids.erase(it2);
        } else {
          mask |= bit;
          ++it2;
        }
      }
      // Beyond the kernel, whose mask names only the nodes the write
      // reached: a connected peer it did not reach (not connected when the
      // write began), Established or resyncing, that has since taken these
      // whole blocks by resync, so that this node's bits toward it are
      // clear, holds the data too.
      // Named, the receivers do not mark the blocks toward it; left out,
      // two Secondaries kept them marked toward each other with the same
      // data, for good (simd_soak --nodes 3 --seed 0xcc694ce0; compat.md).
      // Those nodes get no PEER_ACK (they have no peer request for the
      // write), so they hear it as PEERS_IN_SYNC: their own marks toward the
      // others, left by the resync data, come off over the range.
      const uint64_t holders = (mask & (uint64_t{1} << r->node_id))
                                   ? HoldersByResync(*r, d->volume, req.offset, req.len, mask)
                                   : 0;
      mask |= holders;
      SendPeerAcks(*r, *d, req.peer_ids, mask);
      if (holders) TellHoldersInSync(*r, *d, req.offset, req.len, mask, holders);
    }
  }
  if (req.al_md) AlEndWrite(req.al_md, req.minor, req.offset, req.len);
  if (req.read_done && req.err && req.read_handle) {
    // A failed remote read goes back through the read path (the kernel
    // postpones it and restarts it: __req_mod READ_COMPLETED_WITH_ERROR /
    // NEG_ACKED, drbd_restart_request): another UpToDate peer serves it,
    // or it fails when none is left. The peers it already went to are left
    // out, so a peer that keeps failing cannot make it spin.
    Io().read_exclude = req.read_peers_tried;
    return IoRead(req.read_handle, req.offset, req.read_len, std::move(req.read_done));
  }
  if (req.read_done) {
    int err = req.err;
    Later(env_.clock, [done = std::move(req.read_done), err, buf = std::move(req.buf)]() mutable {
      done(err, err ? std::vector<uint8_t>{} : std::move(buf));
    });
  } else if (req.done) {
    int err = req.err;
    // A write a peer did not get (the connection was lost under it) is
    // acknowledged only once a superblock write in flight is durable: the
    // loss made a new current UUID (ConnectionLost), and until it is on
    // disk a crash would leave this write behind the old one, where the
    // crashed-Primary rule (lost-quorum) resyncs it away from the
    // survivor. The kernel completes such requests at once and makes the
    // UUID at the next write; waiting here is stricter, never looser
    // (detsim seed 0x24a1bd0fb818ce0e).
    const bool cut_off = req.peer_missed;
    Later(env_.clock, [this, minor = req.minor, cut_off, done = std::move(req.done), err,
                       offset = req.offset, len = req.len] {
      Device* d = FindMinor(minor);
      // Without an UpToDate disk the new UUID the loss asked for comes
      // after drbd_check_peers: the write is done only once that is decided.
      if (cut_off && !err && d && d->diskless_bump_after_check) {
        d->bump_held.push_back({offset, len, done});
        return;
      }
      if (cut_off && !err && d && d->md_state && d->md_state->sb_in_flight > 0) {
        d->md_state->held_writes.emplace_back([done, err] { done(err); });
        return;
      }
      done(err);
    });
  }
}

// A peer's acknowledgement completes a write only from an UpToDate disk.
// Beyond the kernel, whose drbd_req_complete takes any replica's success:
// a write that reached Inconsistent disks alone (this node's and a
// SyncTarget's) while its one UpToDate peer was lost under it was reported
// done there, and the full sync that peer gave this node's fresh disk when
// it came back overwrote it (detsim --nodes=3 --seed=0x5f0b4a7f5d02b200;
// compat.md). Here it fails with EIO, as the writes after it do.
bool Engine::PeerHoldsGoodCopy(const Connection& c, uint32_t volume) const {
  auto pit = c.peer_devices.find(volume);
  return pit != c.peer_devices.end() && pit->second.peer_disk == DiskState::kUpToDate;
}

// `ok` false marks the range out of sync toward that peer (writes) or
// fails the request (reads, flushes).
void Engine::ResolveWait(const std::string& res, uint32_t peer, uint64_t mid, bool ok,
                         const std::vector<uint8_t>* read_data) {
  IoState& io = Io();
  auto it = io.waits.find(mid);
  if (it == io.waits.end() || it->second.res != res || it->second.peer != peer) return;
  IoState::Wait w = it->second;
  io.waits.erase(it);
  if (w.kind == IoState::Kind::kResync) {
    return ResyncAcked(w.res, w.peer, w.vol, w.req, w.offset / kBmBlock, ok);
  }
  auto rit = io.reqs.find(w.req);
  if (w.kind == IoState::Kind::kWrite || w.kind == IoState::Kind::kRecv) {
    if (ok && rit != io.reqs.end()) {
      const Connection* c = FindConnection(w.res, w.peer);
      if (c && PeerHoldsGoodCopy(*c, w.vol)) rit->second.peer_ok = true;
    }
    if (!ok && rit != io.reqs.end()) rit->second.peer_missed = true;
    if (!ok && rit != io.reqs.end() && w.peer < 64) {
      rit->second.peers_failed |= uint64_t{1} << w.peer;
    }
    if (!ok) {
      Connection* c = FindConnection(w.res, w.peer);
      if (c && c->peer_devices.count(w.vol)) {
        PeerDevice& pd = c->peer_devices.at(w.vol);
        MarkOutOfSyncRange(pd.oos_bits, pd.oos_count, w.offset, w.len);
      }
    }
  } else if (rit != io.reqs.end()) {
    if (!ok) {
      rit->second.err = EIO;
    } else if (w.kind == IoState::Kind::kRead && read_data && read_data->size() == w.len) {
      std::copy(read_data->begin(), read_data->end(),
                rit->second.buf.begin() + static_cast<ptrdiff_t>(w.offset - rit->second.offset));
    } else if (w.kind == IoState::Kind::kRead) {
      rit->second.err = EIO;
    }
  }
  if (rit != io.reqs.end()) FinishIo(w.req);
}

void Engine::AbortPeerIo(Resource& r, Connection& c) {
  EpochsLost(c);  // engine_congestion.cc
  if (!io_) return;
  std::vector<uint64_t> gone;
  for (const auto& [mid, w] : io_->waits) {
    if (w.res == r.name && w.peer == c.peer_node_id) gone.push_back(mid);
  }
  for (uint64_t mid : gone) ResolveWait(r.name, c.peer_node_id, mid, false, nullptr);
}

// ---------------------------------------------------------------------------
// The receiving side

bool Engine::HandleDataMessage(Session& s, Resource& r, Connection& c, proto::Message& m) {
  uint64_t sid = s.id;
  // Sends `reply` on this stream if it is still the connection's.
  auto reply_later = [this, sid](const proto::Message& reply) {
    auto it = sessions_.find(sid);
    if (it != sessions_.end() && it->second->up) Send(*it->second, reply);
  };
  auto usable = [&](uint32_t vol, uint64_t offset, uint64_t len, bool need_uptodate) -> Device* {
    auto it = r.devices.find(vol);
    if (it == r.devices.end()) return nullptr;
    Device& d = it->second;
    if (!d.data || d.disk < (need_uptodate ? DiskState::kUpToDate : DiskState::kInconsistent))
      return nullptr;
    uint64_t size = d.size_sectors * 512;
    if (offset > size || len > size - offset) return nullptr;
    return &d;
  };

  if (auto* dm = std::get_if<proto::Data>(&m)) {
    // Its pages first: the receiver may have to wait (max-buffers).
    const uint64_t pages = (dm->data.size() + 4095) / 4096;
    if (ThrottleReceive(s, c, pages)) {  // engine_congestion.cc
      s.rx_held.push_front(std::move(m));
      return true;
    }
    bool resync = (dm->flags & proto::kDataResync) != 0;
    if (auto fit = r.devices.find(dm->volume);
        fit != r.devices.end() && fit->second.data &&
        ReceiveFaults(r, c, fit->second, *dm)) {  // engine_faults.cc
      PeerPagesDone(sid, pages);
      return true;
    }
    if (!resync) {
      NotePeerRequest(c, dm->volume, dm->id, dm->offset, dm->data.size());
      if (dm->dagtag != 0) c.last_dagtag = dm->dagtag;
    }
    // Resync data is always answered by WriteAck, whatever the protocol.
    int64_t protocol = resync ? 3 : c.net.Int("protocol");
    if (protocol == kProtB) Send(s, proto::RecvAck{dm->volume, dm->id});
    Device* d = usable(dm->volume, dm->offset, dm->data.size(), false);
    proto::WriteAck ack{dm->volume, dm->id, true};
    if (auto pit = c.peer_devices.find(dm->volume); pit != c.peer_devices.end()) {
      pit->second.received_bytes += dm->data.size();
    }
    if (!d) {
      PeerPagesDone(sid, pages);
      if (protocol != kProtA && protocol != kProtB) {
        ack.ok = false;
        Send(s, ack);
      }
      return true;
    }
    std::shared_ptr<sim::Disk> disk = d->data;
    // Resync data is on stable storage before its WRITE_ACK: the source
    // clears its bits and sends PEERS_IN_SYNC on that ack, so a target
    // crash must not lose what the other nodes then stopped tracking.
    bool fua = (dm->flags & proto::kDataFua) != 0 || resync;
    bool want_ack = protocol != kProtA && protocol != kProtB;
    const uint32_t minor = d->minor;
    const std::string res = r.name;
    const uint32_t peer = c.peer_node_id;
    // Application writes belong to the sender's open epoch (BARRIER).
    const uint64_t seq = resync ? 0 : PeerWriteBegin(s);
    const uint64_t dm_len = dm->data.size();
    auto write = [this, minor, res, peer, resync, disk, fua, reply_later, ack, want_ack, sid, seq,
                  pages, in_sync = dm->in_sync, offset = dm->offset,
                  data = std::move(dm->data)]() mutable {
      Device* d2 = FindMinor(minor);
      if (!d2 || d2->data != disk) {  // detached meanwhile
        ack.ok = false;
        if (want_ack) reply_later(ack);
        PeerPagesDone(sid, pages);
        if (seq) PeerWriteDone(sid, seq);
        return;
      }
      PeerDevice* pd = nullptr;
      Resource* r2 = ResourceOfMinor(minor);
      if (Connection* c2 = FindConnection(res, peer)) {
        auto pit = c2->peer_devices.find(d2->volume);
        if (pit != c2->peer_devices.end()) pd = &pit->second;
      }
      if (resync && pd && r2 &&
          RefuseStaleResyncData(*r2, *pd, offset, data.size(), [reply_later, ack]() mutable {
            ack.ok = false;  // the source keeps the bits and sends the blocks again
            reply_later(ack);
          })) {
        PeerPagesDone(sid, pages);
        return;
      }
      if (resync && pd && pd->rs_target) pd->rs_received += (data.size() + 4095) / 4096;
      // drbd_set_all_out_of_sync: toward every other peer the source is
      // not in sync with over the range.
      if (r2 && resync && !data.empty() &&
          MarkTowardPeers(*r2, d2->volume, peer, in_sync, offset, data.size())) {
        MdArmFlush(minor);
      }
      if (r2 && !resync && !data.empty()) {
        NoteSyncTargetWrite(*r2, *d2, offset, data.size(), peer, ack.id);
        ResyncSawPeerWrite(*r2, *d2, peer, offset, data.size());
      }
      LowerIssued(*d2, data.size(), true);
      // The extents this write pinned (AlBeginWrite in PeerWriteThroughAl).
      std::shared_ptr<DeviceMd> al_md = !resync && PeerWritesUseAl(*d2) ? d2->md_state : nullptr;
      auto finish = [this, minor, reply_later, ack, want_ack, sid, seq, pages, al_md, offset,
                     resync, peer, len = static_cast<uint64_t>(data.size())](bool ok) mutable {
        if (al_md) AlEndWrite(al_md, minor, offset, len);
        // A resync read issued between the write's arrival and here may
        // have found the old data too.
        if (!resync) {
          Resource* r3 = ResourceOfMinor(minor);
          Device* d3 = FindMinor(minor);
          if (r3 && d3) ResyncSawPeerWrite(*r3, *d3, peer, offset, len);
        }
        LowerDone(minor);
        if (!ok) LocalIoError(minor, "drbd_peer_request_endio");
        ack.ok = ok;
        if (want_ack) reply_later(ack);
        PeerPagesDone(sid, pages);
        if (seq) PeerWriteDone(sid, seq);
      };
      if (r2 && InsertFault(*r2, *d2, resync ? kFaultRsWr : kFaultDtWr)) {  // engine_faults.cc
        Later(env_.clock, [finish]() mutable { finish(false); });
        return;
      }
      disk->Write(offset, std::move(data), [disk, fua, finish](bool ok) mutable {
        if (!ok || !fua) return finish(ok);
        disk->Flush(finish);
      });
    };
    // The state a resync write depends on is durable before it lands: the
    // kernel's SyncTarget sends no resync request before the state change's
    // drbd_md_sync (a REQ_PREFLUSH | REQ_FUA superblock write, done in the
    // worker ahead of drbd_start_resync's requests) completed. Here the
    // source pushes, so resync data that arrives while a superblock write is
    // in flight waits for it, and every peer write behind it keeps its place.
    std::shared_ptr<DeviceMd> md_state = d->md_state;
    std::function<void()> submit = std::move(write);
    if (!resync && md_state) {
      // submit_peer_request_activity_log: a replicated write's extents are
      // in this node's on-disk activity log before its data lands, as a
      // Primary's own writes are. After a crash the log marks them out of
      // sync toward every peer (MDF_PRIMARY_IND is set beside a Primary),
      // third nodes included, whose marks from peer acks were in memory.
      submit = [this, minor, offset = dm->offset, len = dm_len, w = std::move(submit)]() mutable {
        PeerWriteThroughAl(minor, offset, len, std::move(w));
      };
    }
    if (md_state && md_state->sb_in_flight > 0 && (resync || !md_state->held_writes.empty())) {
      md_state->held_writes.emplace_back(std::move(submit));
      return true;
    }
    submit();
    return true;
  }
  if (auto* fm = std::get_if<proto::Flush>(&m)) {
    Device* d = usable(fm->volume, 0, 0, false);
    proto::FlushAck ack{fm->volume, fm->id, d != nullptr};
    bool want_ack = c.net.Int("protocol") != kProtA && c.net.Int("protocol") != kProtB;
    if (!d) {
      if (want_ack) Send(s, ack);
      return true;
    }
    std::shared_ptr<sim::Disk> disk = d->data;
    disk->Flush([disk, reply_later, ack, want_ack](bool ok) mutable {
      ack.ok = ok;
      if (want_ack) reply_later(ack);
    });
    return true;
  }
  if (auto* rq = std::get_if<proto::ReadRequest>(&m)) {
    Device* d = rq->length <= proto::kDataChunk ? usable(rq->volume, rq->offset, rq->length, true)
                                                : nullptr;
    if (!d) {
      Send(s, proto::ReadReply{rq->volume, rq->id, false, {}});
      return true;
    }
    std::shared_ptr<sim::Disk> disk = d->data;
    uint32_t vol = rq->volume;
    uint64_t id = rq->id;
    const uint32_t minor = d->minor;
    LowerIssued(*d, rq->length, false);
    disk->Read(rq->offset, rq->length,
               [this, minor, disk, reply_later, vol, id](bool ok, std::vector<uint8_t> bytes) {
                 LowerDone(minor);
                 // The read error counts as this disk's (on-io-error),
                 // as drbd_peer_request_endio's does.
                 if (Device* d2 = FindMinor(minor);
                     !ok && d2 && d2->disk_opts.Int("on-io-error") != 0) {
                   LocalIoError(minor, "drbd_peer_request_endio");
                 }
                 reply_later(
                     proto::ReadReply{vol, id, ok, ok ? std::move(bytes) : std::vector<uint8_t>{}});
               });
    return true;
  }
  if (auto* ra = std::get_if<proto::RecvAck>(&m)) {
    ResolveWait(r.name, c.peer_node_id, ra->id, true, nullptr);
    return true;
  }
  if (auto* wa = std::get_if<proto::WriteAck>(&m)) {
    ResolveWait(r.name, c.peer_node_id, wa->id, wa->ok, nullptr);
    return true;
  }
  if (auto* fa = std::get_if<proto::FlushAck>(&m)) {
    ResolveWait(r.name, c.peer_node_id, fa->id, fa->ok, nullptr);
    return true;
  }
  if (auto* rr = std::get_if<proto::ReadReply>(&m)) {
    ResolveWait(r.name, c.peer_node_id, rr->id, rr->ok, &rr->data);
    return true;
  }
  return HandleEpochMessage(s, r, c, m);  // engine_congestion.cc
}

// The SyncTarget's half of the kernel's exclusion between resync and
// application writes (drbd_find_conflict / drbd_should_defer_to_resync:
// a local write and a resync write to the same sectors never overtake each
// other). The kernel's target asks for each block and holds back either
// the request or the write until the other is done; here the source pushes
// blocks unasked, so the target remembers which blocks its application
// wrote during the run, and RefuseStaleResyncData turns away resync data
// that arrives for them afterwards: the source may have read it before the
// write reached it. The refused blocks stay marked at the source, which
// reads them again once the refusal came back, so after the write.
// The same holds for a Primary's write that reaches a Secondary while it is
// SyncTarget of another peer (three nodes): that source may have read the
// block before the Primary's write reached it (detsim seed
// 0x5a8e7f31a0835b6b: a Secondary's resync data overwrote a newer write of
// the Primary, an acknowledged write then missing on it). The
// kernel's target keeps that order with the dagtag its resync requests
// carry (the source waits until it has the Primary's writes up to it).
void Engine::NoteSyncTargetWrite(Resource& r, Device& d, uint64_t offset, uint64_t len,
                                 std::optional<uint32_t> from_peer, uint64_t id) {
  if (len == 0) return;
  for (auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end() || (from_peer && peer == *from_peer)) continue;
    PeerDevice& pd = pit->second;
    if (pd.repl != ReplState::kSyncTarget && pd.repl != ReplState::kPausedSyncT) continue;
    for (uint64_t b = offset / kBmBlock; b <= (offset + len - 1) / kBmBlock; ++b) {
      pd.rs_app_written[b] = PeerDevice::AppWrite{from_peer, id};
    }
  }
}

bool Engine::PeerWritesUseAl(const Device& d) {
  // __update_mdf_al_disabled: with a bitmap for one peer only (two nodes,
  // that peer the Primary), 9.2.18 turns a Secondary's AL updates off
  // ("optimization"; capture 39: al-writes:0 on the Secondary). With more,
  // the log guards the marks toward the third nodes.
  return d.md_state && d.sb.max_peers > 1;
}

void Engine::PeerWriteThroughAl(uint32_t minor, uint64_t offset, uint64_t len,
                                std::function<void()> write) {
  Device* d = FindMinor(minor);
  if (!d || !PeerWritesUseAl(*d)) return write();
  // Once a transaction brought the extents in, this runs again and pins.
  if (!AlBeginWrite(*d, offset, len, [this, minor, offset, len, write]() mutable {
        PeerWriteThroughAl(minor, offset, len, std::move(write));
      })) {
    return;
  }
  write();
}

bool Engine::RefuseStaleResyncData(Resource& r, PeerDevice& pd, uint64_t offset, uint64_t len,
                                   const std::function<void()>& send_refusal) {
  if (len == 0 || pd.rs_app_written.empty()) return false;
  bool refuse = false;
  // The newest third-node write still in flight toward the source, if any.
  Connection* wait_conn = nullptr;
  uint64_t wait_id = 0;
  for (uint64_t b = offset / kBmBlock; b <= (offset + len - 1) / kBmBlock; ++b) {
    auto it = pd.rs_app_written.find(b);
    if (it == pd.rs_app_written.end()) continue;
    refuse = true;
    const PeerDevice::AppWrite w = it->second;
    pd.rs_app_written.erase(it);
    if (!w.peer) continue;
    auto cit = r.connections.find(*w.peer);
    if (cit == r.connections.end() || !cit->second.unacked.count(w.id)) continue;
    if (!wait_conn || (wait_conn == &cit->second && w.id > wait_id)) {
      wait_conn = &cit->second;
      wait_id = w.id;
    }
  }
  if (!refuse) return false;
  // A third node's write reached this target, but maybe not yet the
  // source: a source that read the block again at once could send the old
  // data a second time, and nothing would refuse it then (simd_soak.py
  // --nodes 3 --seed 0x5eed0001: the new Primary's write lost on the old
  // Primary, which resynced from a Secondary). The kernel's resync request
  // carries the dagtag the source must have seen first; here the refusal
  // waits for the write's PEER_ACK, which the Primary sends once every node
  // in its mask, the source among them, has it.
  if (wait_conn) {
    wait_conn->after_peer_ack.emplace(wait_id, send_refusal);
  } else {
    send_refusal();
  }
  return true;
}

void Engine::LocalIoError(uint32_t minor, const std::string& where, bool meta) {
  Device* d = FindMinor(minor);
  Resource* r = ResourceOfMinor(minor);
  if (!d || !r || !d->data || d->disk <= DiskState::kFailed) return;
  if (!meta && d->disk_opts.Int("on-io-error") == 0) return;  // pass_on
  ResState n = Capture(*r);
  n.disk[d->volume] = DiskState::kFailed;
  Change(*r, n, true, "local-io-error");
  Log(fmt::format("{}: Local IO failed in {}. Detaching...", Prefix(*r, *d), where));
  // call-local-io-error: the handler runs at the transition to Failed.
  if (d->disk_opts.Int("on-io-error") == 1) CallHelper(*r, nullptr, d, "local-io-error");
  // Failed -> Diskless once the failing request has unwound.
  Later(env_.clock, [this, minor] {
    Device* d2 = FindMinor(minor);
    Resource* r2 = ResourceOfMinor(minor);
    if (d2 && r2 && d2->disk == DiskState::kFailed) DetachDevice(*r2, *d2, true, "local-io-error");
  });
}

}  // namespace drbd::engine
