// SPDX-License-Identifier: GPL-2.0-or-later
// Engine control requests beyond the object lifecycle: resize (device size
// and metadata layout), online verify (START_OV and its peer messages),
// forget-peer, rename-resource and get-timeout-type. Checks, their order
// and the return codes follow the kernel's drbd_nl.c and drbd_state.c;
// what is simulated instead of done (the verify digest, the resize
// two-phase commit) is listed in docs/design/drbd-simd.md.
#include <fmt/format.h>

#include <algorithm>
#include <span>

#include "lib/md/al.h"
#include "lib/md/superblock.h"
#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace {

using events::NotifyType;

// from_attrs_err_to_txt(-ENOMSG): a required parameter set is missing.
constexpr std::string_view kRequiredMissing = "required attribute missing";

// timeout_parms.timeout_type values (UT_*).
constexpr uint32_t kUtDefault = 0;
constexpr uint32_t kUtDegraded = 1;
constexpr uint32_t kUtPeerOutdated = 2;

// Activity-log size bounds of resize (KiB).
constexpr uint64_t kAlMaxKb = 16ull * 1024 * 1024;
constexpr uint64_t kAlMinKb = 32768 >> 10;

constexpr uint64_t kCopyChunk = 1 << 20;

void Fail(Reply& reply, Ret r, std::string_view text = {}) {
  reply.ret = r;
  if (!text.empty()) reply.info.emplace_back(text);
}

uint64_t MinNotZero(uint64_t a, uint64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

bool IsVerify(ReplState r) { return r == ReplState::kVerifyS || r == ReplState::kVerifyT; }

}  // namespace

// ---------------------------------------------------------------------------
// resize

uint64_t Engine::LocalMaxSize(const Device& d, const md::Superblock& sb,
                              uint64_t meta_bytes) const {
  md::Layout l = md::ComputeLayout(sb, d.meta_idx, meta_bytes);
  if (d.meta_idx == kMetaIdxFlexInt) return l.max_usable_sect;
  return std::min<uint64_t>(l.max_usable_sect, d.data->SizeBytes() >> 9);
}

void Engine::SetDeviceSize(Resource& r, Device& d, const md::Superblock& sb, uint64_t size,
                           bool md_moved) {
  const uint64_t prev_la = d.sb.effective_size;
  const uint64_t old_bm_bytes = md::BmBytes(d.sb.max_peers, d.sb.bm_bytes_per_bit, d.size_sectors);
  // Where the bitmap is now: relative to the superblock's current place
  // (the device may already be bigger than when it was placed).
  const uint64_t old_bm_offset =
      d.md_offset + static_cast<uint64_t>(static_cast<int64_t>(d.sb.bm_offset) * 512);
  if (size != d.size_sectors) {
    Log(fmt::format("{}: size = {} ({} KB)", Prefix(r, d), PrettySize(size >> 1), size >> 1));
  }
  d.size_sectors = size;
  d.sb = sb;
  if (prev_la != size) {
    Log(fmt::format("{}: persisting effective size = {} ({} KB)", Prefix(r, d),
                    PrettySize(size >> 1), size >> 1));
  }
  d.sb.effective_size = size;
  const bool la_changed = prev_la != size;
  if (!la_changed && !md_moved) return WriteMetadata(d);
  const uint64_t meta_bytes = d.meta->SizeBytes();
  d.md_offset = md::SuperblockOffset(d.meta_idx, meta_bytes);
  Log(fmt::format("{}: Writing the whole bitmap, {}", Prefix(r, d),
                  la_changed && md_moved ? "size changed and md moved"
                  : la_changed           ? "size changed"
                                         : "md moved"));
  WriteMetadata(d);
  if (!md_moved) return;
  // Moved metadata: a fresh activity log, and the bitmap copied over (the
  // grown part starts clean: no resync of grown space is simulated).
  md::Layout l = md::ComputeLayout(d.sb, d.meta_idx, meta_bytes);
  std::shared_ptr<sim::Disk> meta = d.meta;
  const auto block = md::InitializedAlBlock();
  std::vector<uint8_t> al;
  for (uint64_t b = 0; b < uint64_t{d.sb.al_stripes} * d.sb.al_stripe_size_4k; ++b)
    al.insert(al.end(), block.begin(), block.end());
  meta->Write(l.al_offset, std::move(al), [](bool) {});
  const uint64_t new_bm_bytes = md::BmBytes(d.sb.max_peers, d.sb.bm_bytes_per_bit, size);
  const uint64_t keep = std::min(old_bm_bytes, new_bm_bytes);
  for (uint64_t done = 0; done < new_bm_bytes; done += kCopyChunk) {
    uint64_t n = std::min(kCopyChunk, new_bm_bytes - done);
    uint64_t to = l.bm_offset + done;
    if (done >= keep) {
      meta->Write(to, std::vector<uint8_t>(n, 0), [](bool) {});
      continue;
    }
    uint32_t len = static_cast<uint32_t>(std::min(n, keep - done));
    meta->Read(old_bm_offset + done, len, [meta, to, n](bool ok, std::vector<uint8_t> bytes) {
      if (!ok) return;
      bytes.resize(n, 0);
      meta->Write(to, std::move(bytes), [meta](bool w) {
        if (w) meta->Flush([](bool) {});
      });
    });
  }
}

void Engine::FollowPeerSize(Resource& r, Device& d, uint64_t size) {
  const uint64_t meta_bytes = d.meta->SizeBytes();
  md::Superblock sb = d.sb;
  if (d.meta_idx == kMetaIdxFlexInt &&
      (!md::InitOffsets(sb, d.meta_idx, meta_bytes).ok() ||
       !md::Validate(md::Format::kV09, sb, d.meta_idx, meta_bytes).ok)) {
    return;
  }
  if (d.disk_opts.Int("size") > 0) return;  // an explicit size stays
  uint64_t to = std::min(size, LocalMaxSize(d, sb, meta_bytes));
  if (to <= d.size_sectors) return;
  bool moved = md::SuperblockOffset(d.meta_idx, meta_bytes) != d.md_offset ||
               sb.md_size_sect != d.sb.md_size_sect;
  SetDeviceSize(r, d, sb, to, moved);
}

Reply Engine::Resize(const Ctx& ctx, const ResizeParms& p) {
  return Serve(ctx, kNeedMinor, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    Device& d = *rs.dev;
    if (!d.data || d.disk < DiskState::kInconsistent) return Fail(reply, Ret::kErrNoDisk);
    const uint32_t stripes = p.al_stripes.value_or(d.sb.al_stripes);
    const uint32_t stripe_kb = p.al_stripe_size_kb.value_or(d.sb.al_stripe_size_4k * 4);
    for (const auto& [peer, c] : r.connections) {
      auto it = c.peer_devices.find(d.volume);
      if (it != c.peer_devices.end() && it->second.repl > ReplState::kEstablished)
        return Fail(reply, Ret::kErrResizeResync);
    }
    const uint64_t meta_bytes = d.meta->SizeBytes();
    const uint64_t local_max = LocalMaxSize(d, d.sb, meta_bytes);
    if (p.size && local_max < p.size) {
      Log(fmt::format("{}: requested {} sectors, backend seems only able to support {}",
                      Prefix(r, d), p.size, local_max));
      return Fail(reply, Ret::kErrDiskTooSmall);
    }
    const bool change_al = stripes != d.sb.al_stripes || stripe_kb / 4 != d.sb.al_stripe_size_4k;
    if (change_al) {
      uint64_t al_kb = uint64_t{stripes} * stripe_kb;
      if (al_kb > kAlMaxKb) return Fail(reply, Ret::kErrMdLayoutTooBig);
      if (al_kb < kAlMinKb) return Fail(reply, Ret::kErrMdLayoutTooSmall);
    }
    // The requested size becomes the disk's "size" option first, as the
    // kernel swaps disk_conf before it computes the new size.
    d.disk_opts.Set("size", static_cast<int64_t>(p.size));
    md::Superblock sb = d.sb;
    sb.al_stripes = stripes;
    sb.al_stripe_size_4k = stripe_kb / 4;
    if ((change_al || d.meta_idx == kMetaIdxFlexInt) &&
        (!md::InitOffsets(sb, d.meta_idx, meta_bytes).ok() ||
         !md::Validate(md::Format::kV09, sb, d.meta_idx, meta_bytes).ok ||
         uint64_t{sb.md_size_sect} >= (meta_bytes >> 9) || LocalMaxSize(d, sb, meta_bytes) == 0)) {
      return Fail(reply, Ret::kErrMdLayoutNoFit);
    }
    // drbd_new_dev_size. Connected peers are taken to have room (their
    // answer in the resize two-phase commit is not simulated); they follow
    // when they see the new size.
    const uint64_t m_size = LocalMaxSize(d, sb, meta_bytes);
    const uint64_t la = d.sb.effective_size ? d.sb.effective_size : d.size_sectors;
    bool all_connected = true;
    for (const auto& [peer, c] : r.connections) {
      if (c.cstate != ConnState::kConnected) all_connected = false;
    }
    uint64_t p_size = 0;
    if (all_connected) {
      p_size = m_size;
    } else if (p.assume_peer_has_space) {
      p_size = m_size;
      if (p_size > la)
        Log(fmt::format("{}: Resize forced while not fully connected!", Prefix(r, d)));
    } else {
      p_size = la;
    }
    uint64_t size = MinNotZero(p_size, m_size);
    if (p.size > size) {
      Log(fmt::format("{}: Requested disk size is too big ({} > {})kiB", Prefix(r, d), p.size >> 1,
                      size >> 1));
    } else if (p.size) {
      size = p.size;
    }
    if (size < la) {
      if (change_al && p.size == 0) {
        Log(fmt::format("{}: Implicit shrink not allowed. Use --size={}s for explicit shrink.",
                        Prefix(r, d), size));
        return Fail(reply, Ret::kErrImplicitShrink);
      }
      if (p.size > size) return Fail(reply, Ret::kErrMdLayoutNoFit);
    }
    const bool md_moved = change_al || sb.md_size_sect != d.sb.md_size_sect ||
                          md::SuperblockOffset(d.meta_idx, meta_bytes) != d.md_offset;
    SetDeviceSize(r, d, sb, size, md_moved);
    if (change_al) {
      Log(fmt::format("{}: Changed AL layout to al-stripes = {}, al-stripe-size-kB = {}",
                      Prefix(r, d), stripes, stripe_kb));
    }
    BroadcastState(r);
  });
}

// ---------------------------------------------------------------------------
// verify

namespace {

constexpr uint64_t kBlockBytes = 4096;

// The simulated verify digest of one 4 KiB block: 64-bit FNV-1a.
uint64_t BlockDigest(std::span<const uint8_t> block) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : block) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

// Digests of the blocks in `bytes` (the last one zero-padded); `n` blocks.
std::vector<uint64_t> Digests(const std::vector<uint8_t>& bytes, bool ok, size_t n) {
  std::vector<uint64_t> out(n, 0);
  if (!ok) return out;
  std::vector<uint8_t> block(kBlockBytes);
  for (size_t i = 0; i < n; ++i) {
    std::fill(block.begin(), block.end(), 0);
    size_t from = i * kBlockBytes;
    if (from < bytes.size()) {
      size_t len = std::min<size_t>(kBlockBytes, bytes.size() - from);
      std::copy(bytes.begin() + from, bytes.begin() + from + len, block.begin());
    }
    out[i] = BlockDigest(block);
  }
  return out;
}

proto::Verify VerifyMsg(uint32_t volume, uint8_t phase) {
  proto::Verify m;
  m.volume = volume;
  m.phase = phase;
  return m;
}

void MarkBlock(std::vector<uint64_t>& bits, uint64_t& count, uint64_t block) {
  if (bits.size() * 64 <= block) bits.resize(block / 64 + 1, 0);
  uint64_t mask = uint64_t{1} << (block % 64);
  if (!(bits[block / 64] & mask)) {
    bits[block / 64] |= mask;
    ++count;
  }
}

}  // namespace

Reply Engine::StartVerify(const Ctx& ctx, std::optional<uint64_t> start,
                          std::optional<uint64_t> stop) {
  return Serve(ctx, kNeedPeerDevice, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    Device& d = *rs.dev;
    Connection& c = *rs.conn;
    if (!d.data || d.disk < DiskState::kInconsistent) return Fail(reply, Ret::kErrNoDisk);
    ResState n = Capture(r);
    n.conns.at(c.peer_node_id).pd.at(d.volume).repl = ReplState::kVerifyS;
    reply.ret = Change(r, n, false, "verify");
    if (reply.ret != Ret::kSsSuccess) return;
    // w_make_ov_request wants the start aligned to a bitmap bit.
    const uint64_t from = start.value_or(0) & ~uint64_t{7};
    Log(fmt::format("{}: Starting Online Verify from sector {}", Prefix(r, d, c), from));
    PeerDevice& pd = *rs.pd;
    ++pd.ov_gen;
    const uint64_t end = std::min(d.size_sectors, stop.value_or(d.size_sectors));
    pd.ov_next = from / 8;
    pd.ov_total = std::max(pd.ov_next, (end + 7) / 8);
    pd.ov_answered = pd.ov_next;
    pd.ov_oos = 0;
    if (Session* s = SessionOf(c)) Send(*s, VerifyMsg(d.volume, proto::Verify::kStart));
  });
}

void Engine::SendVerifyBlocks(Resource& r, Connection& c, uint32_t vol) {
  PeerDevice& pd = c.peer_devices.at(vol);
  Device& d = r.devices.at(vol);
  if (pd.ov_next >= pd.ov_total || !d.data) return;
  const uint64_t first = pd.ov_next;
  const uint64_t n = std::min<uint64_t>(proto::kVerifyBlocks, pd.ov_total - first);
  pd.ov_next += n;
  const std::string res = r.name;
  const uint32_t peer = c.peer_node_id;
  const uint64_t gen = pd.ov_gen;
  const uint32_t minor = d.minor;
  LowerIssued(d, n * kBlockBytes, false);
  d.data->Read(first * kBlockBytes, static_cast<uint32_t>(n * kBlockBytes),
               [this, res, peer, vol, gen, first, n, minor](bool ok,
                                                            const std::vector<uint8_t>& bytes) {
                 LowerDone(minor);
                 Resource* r2 = nullptr;
                 Connection* c2 = FindConnection(res, peer, &r2);
                 if (!c2 || !c2->peer_devices.count(vol)) return;
                 PeerDevice& pd2 = c2->peer_devices.at(vol);
                 if (pd2.repl != ReplState::kVerifyS || pd2.ov_gen != gen) return;
                 Session* s = SessionOf(*c2);
                 if (!s || !s->up) return;
                 proto::Verify m = VerifyMsg(vol, proto::Verify::kBlocks);
                 m.start_block = first;
                 m.digests = Digests(bytes, ok, static_cast<size_t>(n));
                 Send(*s, m);
                 SendVerifyBlocks(*r2, *c2, vol);
               });
}

void Engine::HandleVerify(Resource& r, Connection& c, const proto::Verify& v) {
  auto pit = c.peer_devices.find(v.volume);
  if (pit == c.peer_devices.end() || !r.devices.count(v.volume)) return;
  PeerDevice& pd = pit->second;
  Device& d = r.devices.at(v.volume);
  Session* s = SessionOf(c);
  switch (v.phase) {
    case proto::Verify::kStart: {
      if (pd.repl != ReplState::kEstablished) return;
      ResState n = Capture(r);
      n.conns.at(c.peer_node_id).pd.at(v.volume).repl = ReplState::kVerifyT;
      Change(r, n, true, "remote");
      Log(fmt::format("{}: Online Verify start sector: 0", Prefix(r, d)));
      ++pd.ov_gen;
      pd.ov_oos = 0;
      if (s) Send(*s, VerifyMsg(v.volume, proto::Verify::kStarted));
      return;
    }
    case proto::Verify::kStarted:
      if (pd.repl != ReplState::kVerifyS) return;
      if (pd.ov_answered >= pd.ov_total) {
        FinishVerify(r, c, v.volume, 0);
        if (s) Send(*s, VerifyMsg(v.volume, proto::Verify::kDone));
        return;
      }
      return SendVerifyBlocks(r, c, v.volume);
    case proto::Verify::kBlocks: {
      if (pd.repl != ReplState::kVerifyT || !d.data || v.digests.empty()) return;
      const std::string res = r.name;
      const uint32_t peer = c.peer_node_id, vol = v.volume;
      const uint64_t gen = pd.ov_gen, first = v.start_block;
      std::vector<uint64_t> theirs = v.digests;
      const uint32_t minor = d.minor;
      LowerIssued(d, theirs.size() * kBlockBytes, false);
      d.data->Read(
          first * kBlockBytes, static_cast<uint32_t>(theirs.size() * kBlockBytes),
          [this, res, peer, vol, gen, first, theirs, minor](bool ok,
                                                             const std::vector<uint8_t>& bytes) {
            LowerDone(minor);
            Resource* r2 = nullptr;
            Connection* c2 = FindConnection(res, peer, &r2);
            if (!c2 || !c2->peer_devices.count(vol)) return;
            PeerDevice& pd2 = c2->peer_devices.at(vol);
            if (pd2.repl != ReplState::kVerifyT || pd2.ov_gen != gen) return;
            std::vector<uint64_t> mine = Digests(bytes, ok, theirs.size());
            proto::Verify m = VerifyMsg(vol, proto::Verify::kBlocksResult);
            m.start_block = first;
            for (size_t i = 0; i < theirs.size(); ++i) {
              if (ok && mine[i] == theirs[i]) continue;
              m.digests.push_back(first + i);  // the differing block numbers
              MarkBlock(pd2.oos_bits, pd2.oos_count, first + i);
            }
            m.out_of_sync = m.digests.size();
            pd2.ov_oos += m.out_of_sync;
            if (Session* s2 = SessionOf(*c2)) Send(*s2, m);
          });
      return;
    }
    case proto::Verify::kBlocksResult: {
      if (pd.repl != ReplState::kVerifyS) return;
      for (uint64_t block : v.digests) MarkBlock(pd.oos_bits, pd.oos_count, block);
      pd.ov_oos += v.out_of_sync;
      pd.ov_answered += std::min<uint64_t>(proto::kVerifyBlocks, pd.ov_total - v.start_block);
      if (pd.ov_answered < pd.ov_total) return;
      const uint64_t total = pd.ov_oos;
      FinishVerify(r, c, v.volume, total);
      proto::Verify done = VerifyMsg(v.volume, proto::Verify::kDone);
      done.out_of_sync = total;
      if (s) Send(*s, done);
      return;
    }
    case proto::Verify::kDone:
      if (pd.repl == ReplState::kVerifyT) FinishVerify(r, c, v.volume, v.out_of_sync);
      return;
    default:
      return;
  }
}

void Engine::FinishVerify(Resource& r, Connection& c, uint32_t vol, uint64_t out_of_sync) {
  Device& d = r.devices.at(vol);
  Log(fmt::format("{}: Online verify done (total 1 sec; paused 0 sec; {} K/sec)", Prefix(r, d, c),
                  d.size_sectors >> 1));
  if (out_of_sync) {
    Log(fmt::format("{}: Online verify found {} 4k blocks out of sync!", Prefix(r, d, c),
                    out_of_sync));
  }
  ResState n = Capture(r);
  ResState::Pd& pd = n.conns.at(c.peer_node_id).pd.at(vol);
  if (!IsVerify(pd.repl)) return;
  PeerDevice& live = c.peer_devices.at(vol);
  live.ov_marks = out_of_sync > 0;
  live.ov_source = pd.repl == ReplState::kVerifyS;
  if (out_of_sync) MdArmFlush(d.minor);  // the marks are on disk soon, as the module's
  pd.repl = ReplState::kEstablished;
  Change(r, n, true, "resync-finished");
  if (out_of_sync) CallHelper(r, &c, &d, "out-of-sync");  // as drbd_resync_finished, both sides
}

ReplState Engine::VerifyRepairRepl(Resource& r, Connection& c, Device& d, PeerDevice& pd,
                                   Role peer_role, ReplState decided) {
  // This side's memory of the verify, else the peer's (this side may have
  // restarted since; the marks themselves are in both bitmaps on disk).
  const uint8_t peer_marks = pd.peer.verify_marks;
  const bool marks = pd.ov_marks || peer_marks != 0;
  const bool was_source = pd.ov_marks ? pd.ov_source : peer_marks == 2;
  pd.ov_marks = false;
  const auto peer_disk = static_cast<DiskState>(pd.peer.disk);
  const uint64_t mine = d.sb.current_uuid & ~kUuidPrimaryBit;
  if (!marks || decided != ReplState::kEstablished || !d.data || d.disk < DiskState::kOutdated ||
      peer_disk < DiskState::kOutdated || peer_disk == DiskState::kDUnknown ||
      mine != (pd.peer.current_uuid & ~kUuidPrimaryBit)) {
    return decided;
  }
  // Both handshakes see the same roles and the same flag pair, so they
  // choose opposite ends of one resync.
  bool source = was_source;
  if (r.role == Role::kPrimary && peer_role != Role::kPrimary) source = true;
  if (r.role != Role::kPrimary && peer_role == Role::kPrimary) source = false;
  const std::string how =
      fmt::format("resync them as {} (bitmap-based)", source ? "SyncSource" : "SyncTarget");
  Log(fmt::format("{}: online verify marked blocks out of sync and the UUIDs are equal: {}",
                  Prefix(r, d, c), how));
  if (source) {
    pd.rs_use_bitmap = true;
    return ReplState::kSyncSource;
  }
  // The target's marks reach the source by the bitmap exchange (the
  // source may have lost its own in a crash) and are cleared when the
  // resync ends.
  return ReplState::kSyncTarget;
}

// ---------------------------------------------------------------------------
// forget-peer

Reply Engine::ForgetPeer(const Ctx& ctx, std::optional<int32_t> node_id) {
  return Serve(ctx, kNeedResource, [&](Reply& reply, Resolved& rs) {
    Resource& r = *rs.res;
    if (!node_id) return Fail(reply, Ret::kErrMandatoryTag, kRequiredMissing);
    const int32_t id = *node_id;
    if (id >= 0 && r.connections.count(static_cast<uint32_t>(id)))
      return Fail(reply, Ret::kErrNetConfigured);
    if (id < 0 || id >= static_cast<int32_t>(kNodeIdMax))
      return Fail(reply, Ret::kErrInvalidPeerNodeId);
    for (auto& [vol, d] : r.devices) {
      if (!d.data || d.disk < DiskState::kInconsistent) continue;
      // clear_peer_slot: the slot forgets its flags and bitmap; its bitmap
      // UUID becomes the day-0 UUID an unused slot holds.
      const md::PeerRecord* day0 = nullptr;
      for (int node = 0; node < md::kPeersMax; ++node) {
        const md::PeerRecord& pr = d.sb.peers[node];
        if (node != r.node_id && pr.bitmap_index == -1 && pr.flags == 0) {
          day0 = &pr;
          break;
        }
      }
      md::PeerRecord day0_copy = day0 ? *day0 : md::PeerRecord{};
      md::PeerRecord& slot = d.sb.peers[id];
      slot.flags = 0;
      slot.bitmap_index = -1;
      slot.bitmap_uuid = day0 ? day0_copy.bitmap_uuid : 0;
      slot.bitmap_dagtag = day0 ? day0_copy.bitmap_dagtag : 0;
      WriteMetadata(d);
    }
  });
}

// ---------------------------------------------------------------------------
// rename-resource

void Engine::RekeyResource(const std::string& from, const std::string& to) {
  auto node = resources_.extract(from);
  node.key() = to;
  node.mapped()->name = to;
  Resource& r = *node.mapped();
  resources_.insert(std::move(node));
  for (auto& [minor, where] : minors_) {
    if (where.first == from) where.first = to;
  }
  for (auto& [id, s] : sessions_) {
    if (s->resource == from) s->resource = to;
  }
  // Dials and timers find their connection by resource name: re-arm them.
  for (auto& [peer, c] : r.connections) {
    const bool dialing = !c.dials.empty() || c.connect_timer != 0;
    for (sim::ConnectId id : c.dials) env_.net->CancelConnect(id);
    c.dials.clear();
    if (c.connect_timer) env_.clock->CancelTimer(c.connect_timer);
    c.connect_timer = 0;
    // A stream mid-handshake keeps its place; the connect-int retry ticks on
    // under the new name, as after any handshake (ArmConnectRetry).
    if (dialing && c.cstate == ConnState::kConnecting) {
      if (c.session == 0) {
        Dial(to, peer);
      } else {
        ArmConnectRetry(to, peer);
      }
    }
    if (c.ping_timeout_timer) env_.clock->CancelTimer(c.ping_timeout_timer);
    c.ping_timeout_timer = 0;
    if (c.ping_timer) {
      env_.clock->CancelTimer(c.ping_timer);
      c.ping_timer = 0;
      SchedulePing(r, c);
    }
  }
  MaybeFinishCheckPeers(r);  // the PingAck deadlines are gone with the old name
}

Reply Engine::RenameResource(const Ctx& ctx, const std::optional<std::string>& new_name) {
  return Serve(ctx, kNeedResource, [&](Reply& reply, Resolved& rs) {
    if (!new_name) return Fail(reply, Ret::kErrMandatoryTag, kRequiredMissing);
    Ret v = CheckName(*new_name);
    if (v == Ret::kNoError && resources_.count(*new_name)) v = Ret::kErrAlreadyExists;
    if (v != Ret::kNoError) {
      // The kernel words every refusal as a name clash.
      return Fail(reply, v,
                  fmt::format("Cannot rename to {}: a resource with that name already exists\n",
                              *new_name));
    }
    const std::string old = rs.res->name;
    Log(fmt::format("drbd {}: Renaming to {}", old, *new_name));
    Emit(events::Notification{NotifyType::kRename, false, events::Rename{old, *new_name}});
    RekeyResource(old, *new_name);
  });
}

// ---------------------------------------------------------------------------
// get-timeout-type

Reply Engine::GetTimeoutType(const Ctx& ctx, uint32_t* type) {
  return Serve(ctx, kNeedPeerDevice, [&](Reply&, Resolved& rs) {
    *type = rs.pd->peer_disk == DiskState::kOutdated ? kUtPeerOutdated
            : rs.pd->degr_wfc                        ? kUtDegraded
                                                     : kUtDefault;
  });
}

}  // namespace drbd::engine
