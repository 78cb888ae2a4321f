// SPDX-License-Identifier: GPL-2.0-or-later
// The bitmap and activity log of drbd-simd on the real metadata. Attach
// gives every peer device a bitmap slot (the first vacant one, as
// allocate_bitmap_index does), applies an unclean activity log as
// `drbdmeta apply-al` would (crash recovery: every extent of the AL's
// active set is marked out of sync in every slot), writes a fresh AL and
// loads each slot into its peer device's out-of-sync bits. While attached,
// a write takes the 4 MiB extents it touches into the activity log first
// (one AL transaction per batch of new extents, LRU eviction, the bitmap
// pages of an evicted extent written before the transaction); dirty
// bitmap pages are written back a second after they change and at detach.
// Bits and layout: docs/formats/metadata-bitmap.md and
// metadata-activity-log.md; behaviour: docs/design/drbd-simd.md.
#include "sim/engine/engine_md.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <set>

#include "lib/md/endian.h"
#include "lib/md/superblock.h"
#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace {

constexpr uint64_t kBmPage = 4096;           // bitmap write-back unit (one page)
constexpr uint64_t kBmFlushNs = 1000000000;  // dirty bitmap pages wait at most this long
constexpr uint64_t kBlockShift = 12;         // 4 KiB of data per bit
constexpr uint32_t kBitsPerExtent = 1u << (kAlExtentShift - kBlockShift);

// Largest al-extents the AL area can describe: the context of all but one
// transaction of the ring must cover every slot (drbd_check_al_size).
uint32_t AlExtentsFor(int64_t wanted, uint32_t al_blocks) {
  const uint64_t cap = uint64_t{md::kAlContextPerTransaction} * (al_blocks > 1 ? al_blocks - 1 : 1);
  const uint64_t n = static_cast<uint64_t>(std::max<int64_t>(1, wanted));
  return static_cast<uint32_t>(std::min<uint64_t>({n, cap, md::kAlExtentsMax}));
}

// Reads slot `slot` of the interleaved on-disk bitmap `bm` (little-endian
// 32-bit words, `peers` slots) into `bits` for `blocks` blocks.
void LoadSlot(const std::vector<uint8_t>& bm, uint32_t peers, int32_t slot, uint64_t blocks,
              std::vector<uint64_t>* bits, uint64_t* count) {
  bits->assign((blocks + 63) / 64, 0);
  *count = 0;
  if (slot < 0) return;
  for (uint64_t b = 0; b < blocks; b += 32) {
    const uint64_t w = (b >> 5) * peers + static_cast<uint64_t>(slot);
    if ((w + 1) * 4 > bm.size()) break;
    uint64_t v = md::LoadLe32(bm.data() + w * 4);
    if (blocks - b < 32) v &= (uint64_t{1} << (blocks - b)) - 1;
    (*bits)[b / 64] |= v << (b % 64);
    *count += static_cast<uint64_t>(std::popcount(v));
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// ActivityLog

ActivityLog::ActivityLog(uint32_t nr_elements) : slots_(std::max<uint32_t>(1, nr_elements)) {}

bool ActivityLog::Active(uint32_t first, uint32_t last) const {
  for (uint32_t e = first; e <= last; ++e) {
    auto it = by_extent_.find(e);
    if (it == by_extent_.end() || slots_[it->second].changing) return false;
  }
  return true;
}

void ActivityLog::Pin(uint32_t first, uint32_t last) {
  ++stamp_;
  for (uint32_t e = first; e <= last; ++e) {
    Slot& s = slots_[by_extent_.at(e)];
    ++s.refs;
    s.used = stamp_;
  }
}

void ActivityLog::Unpin(uint32_t first, uint32_t last) {
  for (uint32_t e = first; e <= last; ++e) {
    auto it = by_extent_.find(e);
    if (it != by_extent_.end() && slots_[it->second].refs > 0) --slots_[it->second].refs;
  }
}

std::vector<ActivityLog::Update> ActivityLog::Prepare(std::span<const uint32_t> want) {
  std::vector<Update> ups;
  std::set<uint32_t> taken;
  for (uint32_t e : want) {
    if (ups.size() == static_cast<size_t>(md::kAlUpdatesPerTransaction)) break;
    if (by_extent_.count(e) || arriving_.count(e) || taken.count(e)) continue;
    // A free slot, else the least recently used idle one.
    int64_t best = -1;
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      const Slot& s = slots_[i];
      if (s.changing || s.refs > 0) continue;
      if (s.extent == md::kLcFree) {
        best = i;
        break;
      }
      if (best < 0 || s.used < slots_[static_cast<size_t>(best)].used) best = i;
    }
    if (best < 0) break;
    Slot& s = slots_[static_cast<size_t>(best)];
    s.changing = true;
    ups.push_back(Update{static_cast<uint16_t>(best), e, s.extent});
    arriving_[e] = static_cast<uint32_t>(best);
    taken.insert(e);
  }
  return ups;
}

std::array<uint8_t, md::kAlBlockBytes> ActivityLog::Encode(const std::vector<Update>& ups,
                                                           uint32_t* tr_number) {
  md::AlTransaction tr;
  tr.magic = md::kAlMagic;
  tr.tr_number = tr_number_;
  tr.transaction_type = md::kAlTrUpdate;
  tr.n_updates = static_cast<uint16_t>(ups.size());
  tr.update_slot_nr.fill(0xffff);
  tr.update_extent_nr.fill(md::kLcFree);
  for (size_t i = 0; i < ups.size(); ++i) {
    tr.update_slot_nr[i] = ups[i].slot;
    tr.update_extent_nr[i] = ups[i].extent;
  }
  const uint32_t n = nr_elements();
  tr.context_size = static_cast<uint16_t>(n);
  tr.context_start_slot_nr = static_cast<uint16_t>(tr_cycle_);
  tr.context.fill(md::kLcFree);
  const uint32_t mx = std::min<uint32_t>(md::kAlContextPerTransaction, n - tr_cycle_);
  for (uint32_t i = 0; i < mx; ++i) tr.context[i] = slots_[tr_cycle_ + i].extent;
  tr_cycle_ += md::kAlContextPerTransaction;
  if (tr_cycle_ >= n) tr_cycle_ = 0;
  *tr_number = tr_number_++;
  return md::EncodeAlTransaction(tr);
}

void ActivityLog::Commit(const std::vector<Update>& ups) {
  ++stamp_;
  for (const Update& u : ups) {
    Slot& s = slots_[u.slot];
    if (s.extent != md::kLcFree) by_extent_.erase(s.extent);
    s.extent = u.extent;
    s.changing = false;
    s.used = stamp_;
    arriving_.erase(u.extent);
    if (u.extent != md::kLcFree) by_extent_[u.extent] = u.slot;
  }
}

std::vector<uint32_t> ActivityLog::ActiveExtents() const {
  std::vector<uint32_t> out;
  for (const auto& [e, slot] : by_extent_) out.push_back(e);
  return out;
}

void ReleaseHeldWrites(DeviceMd& md) {
  while (md.sb_in_flight == 0 && !md.held_writes.empty()) {
    std::function<void()> w = std::move(md.held_writes.front());
    md.held_writes.pop_front();
    w();
  }
}

bool AlCovers(const DeviceMd& md, uint64_t offset, uint64_t len) {
  if (!md.al_updates || len == 0) return true;
  const uint64_t first = offset >> kAlExtentShift;
  const uint64_t last = (offset + len - 1) >> kAlExtentShift;
  if (last - first + 1 > md.al.nr_elements()) return true;
  return md.al.Active(static_cast<uint32_t>(first), static_cast<uint32_t>(last));
}

// ---------------------------------------------------------------------------
// Attach and detach

void Engine::MdAttach(Resource& r, Device& d, const std::function<void(Ret, std::string)>& next) {
  // Bitmap slots: peers that have one keep it; the others get the first
  // vacant slot.
  std::vector<uint32_t> needing;
  for (auto& [peer, c] : r.connections) {
    if (!c.peer_devices.count(d.volume) || peer >= static_cast<uint32_t>(md::kPeersMax)) continue;
    if (d.sb.peers[peer].bitmap_index < 0) needing.push_back(peer);
  }
  if (!needing.empty()) {
    std::vector<int32_t> vacant;
    for (int32_t slot = 0; slot < static_cast<int32_t>(d.sb.max_peers); ++slot) {
      bool used = false;
      for (const md::PeerRecord& p : d.sb.peers) used = used || p.bitmap_index == slot;
      if (!used) vacant.push_back(slot);
    }
    if (vacant.size() < needing.size()) {
      return next(Ret::kErrInvalidRequest,
                  fmt::format("Not enough free bitmap slots (available={}, needed={})",
                              vacant.size(), needing.size()));
    }
    for (size_t i = 0; i < needing.size(); ++i) d.sb.peers[needing[i]].bitmap_index = vacant[i];
  }

  auto mdp = std::make_shared<DeviceMd>();
  const md::Layout layout = md::ComputeLayout(d.sb, d.meta_idx, d.meta->SizeBytes());
  const uint32_t al_blocks = d.sb.al_stripes * d.sb.al_stripe_size_4k;
  mdp->al = ActivityLog(AlExtentsFor(d.disk_opts.Int("al-extents"), al_blocks));
  mdp->al_updates = d.disk_opts.Bool("al-updates");
  const uint32_t peers = std::max<uint32_t>(1, d.sb.max_peers);
  const uint64_t bm_bytes = d.sb.bm_bytes_per_bit == md::kDefaultBmBytesPerBit
                                ? md::BmBytes(peers, md::kDefaultBmBytesPerBit, d.size_sectors)
                                : 0;
  const bool unclean = !(d.sb.flags & md::kMdfAlClean);
  std::shared_ptr<sim::Disk> meta = d.meta;
  const uint32_t minor = d.minor;
  const uint64_t gen = d.attach_gen;

  // Step 3: apply, write back, load; runs once both areas are read.
  auto finish = [this, mdp, minor, gen, layout, al_blocks, unclean, next](
                    std::vector<uint8_t> al_area, std::vector<uint8_t> bm) {
    Device* d2 = FindMinor(minor);
    Resource* r2 = ResourceOfMinor(minor);
    if (!d2 || !r2 || d2->attach_gen != gen || !d2->meta) return next(Ret::kErrIoMdDisk, "");
    const uint32_t peers2 = std::max<uint32_t>(1, d2->sb.max_peers);
    std::vector<uint8_t> on_disk = bm;
    bool al_marked = false;
    if (unclean && (d2->sb.flags & md::kMdfPrimaryInd)) {
      md::AlReplay rep = md::ReplayAl(al_area, d2->sb.al_stripes, d2->sb.al_stripe_size_4k);
      if (rep.result < 0) {
        return next(Ret::kErrMdUnclean, "Found unclean meta data. Did you \"drbdadm apply-al\"?");
      }
      if (rep.result > 0) {
        uint64_t added = md::ApplyHotExtents(bm, peers2, rep.hot_extents, nullptr);
        al_marked = added > 0;
        Log(fmt::format("{}: Found {} transactions ({} active extents) in activity log.",
                        Prefix(*r2, *d2), rep.result, rep.hot_extents.size()));
        Log(fmt::format("{}: Marked additional {} as out-of-sync based on AL.", Prefix(*r2, *d2),
                        PrettySize(added * (uint64_t{1} << kBlockShift) / 1024)));
      }
    }
    // Load every owned slot into its peer device.
    const uint64_t blocks = (d2->size_sectors + 7) / 8;
    const bool full_sync =
        (d2->sb.flags & md::kMdfCrashedPrimary) && (d2->sb.flags & md::kMdfAlDisabled);
    for (auto& [peer, c] : r2->connections) {
      auto pit = c.peer_devices.find(d2->volume);
      if (pit == c.peer_devices.end() || peer >= static_cast<uint32_t>(md::kPeersMax)) continue;
      const int32_t slot = d2->sb.peers[peer].bitmap_index;
      PeerDevice& pd = pit->second;
      if (slot < 0 || bm.empty()) {
        pd.oos_bits.assign((blocks + 63) / 64, 0);
        pd.oos_count = 0;
        pd.crash_marks = 0;
        continue;
      }
      if (full_sync) {
        Log(fmt::format("{}: Assuming that all blocks are out of sync (aka FullSync)",
                        Prefix(*r2, *d2, c)));
        for (uint64_t b = 0; b < blocks; ++b) {
          uint64_t w = (b >> 5) * peers2 + static_cast<uint64_t>(slot);
          bm[w * 4 + ((b & 31) >> 3)] |= static_cast<uint8_t>(1u << (b & 7));
        }
      }
      // Bits toward this peer that only the activity log set (none before
      // the replay): crash marks (PeerDevice::crash_marks).
      uint64_t before = 0;
      if (al_marked && !full_sync) {
        std::vector<uint64_t> pre;
        LoadSlot(on_disk, peers2, slot, blocks, &pre, &before);
      }
      LoadSlot(bm, peers2, slot, blocks, &pd.oos_bits, &pd.oos_count);
      pd.crash_marks = al_marked && !full_sync && before == 0 ? pd.oos_count : 0;
    }
    // Write back what the AL replay or a full sync changed, then a fresh AL.
    std::shared_ptr<sim::Disk> meta2 = d2->meta;
    bool wrote_bm = false;
    for (uint64_t off = 0; off < bm.size(); off += kBmPage) {
      const uint64_t n = std::min<uint64_t>(kBmPage, bm.size() - off);
      if (std::equal(bm.begin() + static_cast<ptrdiff_t>(off),
                     bm.begin() + static_cast<ptrdiff_t>(off + n),
                     on_disk.begin() + static_cast<ptrdiff_t>(off))) {
        continue;
      }
      meta2->Write(layout.bm_offset + off,
                   std::vector<uint8_t>(bm.begin() + static_cast<ptrdiff_t>(off),
                                        bm.begin() + static_cast<ptrdiff_t>(off + n)),
                   [](bool) {});
      wrote_bm = true;
    }
    // The fresh AL only once the bitmap that took over its extents is
    // durable: a crash in between must find one or the other (the
    // deterministic simulator's crash-md-write found the gap).
    auto fresh_al = [this, mdp, minor, gen, layout, al_blocks, next,
                     bm = std::move(bm)](bool ok) mutable {
      Device* d3 = FindMinor(minor);
      if (!d3 || d3->attach_gen != gen || !d3->meta) return next(Ret::kErrIoMdDisk, "");
      if (!ok) return next(Ret::kErrIoMdDisk, "writing the bitmap failed");
      const std::array<uint8_t, md::kAlBlockBytes> init = md::InitializedAlBlock();
      std::vector<uint8_t> fresh;
      fresh.reserve(uint64_t{al_blocks} * md::kAlBlockBytes);
      for (uint32_t i = 0; i < al_blocks; ++i) fresh.insert(fresh.end(), init.begin(), init.end());
      d3->meta->Write(layout.al_offset, std::move(fresh), [](bool) {});
      mdp->bm = std::move(bm);
      d3->md_state = mdp;
      next(Ret::kNoError, "");
    };
    if (wrote_bm) {
      meta2->Flush(std::move(fresh_al));
    } else {
      fresh_al(true);
    }
  };

  // Step 2: the bitmap area.
  auto read_bm = [this, meta, layout, bm_bytes, minor, gen, finish,
                  next](std::vector<uint8_t> al_area) {
    if (bm_bytes == 0) return finish(std::move(al_area), {});
    meta->Read(layout.bm_offset, static_cast<uint32_t>(bm_bytes),
               [this, minor, gen, finish, next, al_area = std::move(al_area)](
                   bool ok, std::vector<uint8_t> bytes) mutable {
                 Device* d2 = FindMinor(minor);
                 if (!d2 || d2->attach_gen != gen) return next(Ret::kErrIoMdDisk, "");
                 if (!ok) return next(Ret::kErrIoMdDisk, "reading the bitmap failed");
                 finish(std::move(al_area), std::move(bytes));
               });
  };
  // Step 1: the activity log, when it may hold writes to replay.
  if (!unclean || !(d.sb.flags & md::kMdfPrimaryInd)) return read_bm({});
  meta->Read(layout.al_offset, al_blocks * md::kAlBlockBytes,
             [this, minor, gen, read_bm, next](bool ok, std::vector<uint8_t> bytes) {
               Device* d2 = FindMinor(minor);
               if (!d2 || d2->attach_gen != gen) return next(Ret::kErrIoMdDisk, "");
               if (!ok) return next(Ret::kErrIoMdDisk, "reading the activity log failed");
               read_bm(std::move(bytes));
             });
}

void Engine::MdDetach(Resource& r, Device& d) {
  std::shared_ptr<DeviceMd> mdp = d.md_state;
  if (!mdp || !d.meta) return;
  if (mdp->flush_timer) env_.clock->CancelTimer(mdp->flush_timer);
  mdp->flush_timer = 0;
  if (mdp->al_busy) LowerDone(d.minor);  // that completion no longer finds the device's log
  MdFlushBitmap(r, d, 0, ~uint64_t{0});
  // A graceful detach leaves the activity log clean: nothing is in flight.
  const md::Layout layout = md::ComputeLayout(d.sb, d.meta_idx, d.meta->SizeBytes());
  const uint32_t al_blocks = d.sb.al_stripes * d.sb.al_stripe_size_4k;
  const std::array<uint8_t, md::kAlBlockBytes> init = md::InitializedAlBlock();
  std::vector<uint8_t> fresh;
  fresh.reserve(uint64_t{al_blocks} * md::kAlBlockBytes);
  for (uint32_t i = 0; i < al_blocks; ++i) fresh.insert(fresh.end(), init.begin(), init.end());
  d.meta->Write(layout.al_offset, std::move(fresh), [](bool) {});
  // Writes waiting for the AL go on without a local disk.
  for (DeviceMd::Waiter& w : mdp->waiters) env_.clock->StartTimer(0, std::move(w.retry));
  mdp->waiters.clear();
  d.md_state.reset();
}

void Engine::MdAssignSlot(Resource& r, Connection& c, Device& d) {
  if (!d.md_state || c.peer_node_id >= static_cast<uint32_t>(md::kPeersMax)) return;
  md::PeerRecord& rec = d.sb.peers[c.peer_node_id];
  if (rec.bitmap_index >= 0) return;
  for (int32_t slot = 0; slot < static_cast<int32_t>(d.sb.max_peers); ++slot) {
    bool used = false;
    for (const md::PeerRecord& p : d.sb.peers) used = used || p.bitmap_index == slot;
    if (used) continue;
    rec.bitmap_index = slot;
    WriteMetadata(d);
    // The peer starts from the bits the slot holds, as the kernel's
    // in-memory bitmap has every slot.
    auto pit = c.peer_devices.find(d.volume);
    if (pit != c.peer_devices.end() && !d.md_state->bm.empty()) {
      LoadSlot(d.md_state->bm, std::max<uint32_t>(1, d.sb.max_peers), slot,
               (d.size_sectors + 7) / 8, &pit->second.oos_bits, &pit->second.oos_count);
    }
    return;
  }
  Log(fmt::format("{}: Not enough free bitmap slots", Prefix(r, d, c)));
}

uint32_t Engine::MdOnDiskFlags(const Device& d) const {
  uint32_t f = d.sb.flags;
  if (!d.md_state) return f;
  // While attached the AL may hold writes: drbdmeta must apply it first.
  f &= ~uint32_t{md::kMdfAlClean};
  auto mit = minors_.find(d.minor);
  const Resource* r = mit == minors_.end() ? nullptr : FindResource(mit->second.first);
  if (r && r->role == Role::kPrimary) f |= md::kMdfPrimaryInd | md::kMdfCrashedPrimary;
  if (d.md_state->al_updates) {
    f &= ~uint32_t{md::kMdfAlDisabled};
  } else {
    f |= md::kMdfAlDisabled;
  }
  return f;
}

void Engine::MdStateChanged(Resource& r) {
  for (auto& [vol, d] : r.devices) {
    if (!d.md_state) continue;
    // The disk state in the superblock, as finish_state_change keeps it
    // (Negotiating and below leave it alone): consistent above
    // Inconsistent, was-up-to-date above Outdated. A change is written at
    // once, so a SyncTarget is Inconsistent on disk before the resync data
    // its peer sends lands (engine_io.cc holds peer writes until then).
    if (d.disk >= DiskState::kInconsistent) {
      uint32_t f = d.sb.flags & ~uint32_t{md::kMdfConsistent | md::kMdfWasUpToDate};
      if (d.disk > DiskState::kInconsistent) f |= md::kMdfConsistent;
      if (d.disk > DiskState::kOutdated) f |= md::kMdfWasUpToDate;
      if (f != d.sb.flags) {
        d.sb.flags = f;
        WriteMetadata(d);
      }
    }
    // A crashed Primary stops being one once a peer and it are both
    // UpToDate again.
    if ((d.sb.flags & md::kMdfCrashedPrimary) && d.disk == DiskState::kUpToDate) {
      for (const auto& [peer, c] : r.connections) {
        auto pit = c.peer_devices.find(vol);
        if (c.cstate == ConnState::kConnected && pit != c.peer_devices.end() &&
            pit->second.repl == ReplState::kEstablished &&
            pit->second.peer_disk == DiskState::kUpToDate) {
          d.sb.flags &= ~uint32_t{md::kMdfCrashedPrimary};
          WriteMetadata(d);
          break;
        }
      }
    }
    // The size is agreed once UpToDate data exists here or at a peer:
    // persisted as la-size-sect, which dump-md and apply-al cover.
    bool agreed = d.disk == DiskState::kUpToDate;
    for (const auto& [peer, c] : r.connections) {
      auto pit = c.peer_devices.find(vol);
      agreed = agreed || (c.cstate == ConnState::kConnected && pit != c.peer_devices.end() &&
                          pit->second.peer_disk == DiskState::kUpToDate);
    }
    if (agreed && d.size_sectors && d.sb.effective_size != d.size_sectors) {
      d.sb.effective_size = d.size_sectors;
      Log(fmt::format("{}: persisting effective size = {} ({} KB)", Prefix(r, d),
                      PrettySize(d.size_sectors >> 1), d.size_sectors >> 1));
      WriteMetadata(d);
    }
    MdArmFlush(d.minor);
  }
}

// ---------------------------------------------------------------------------
// Bitmap write-back

void Engine::MdFlushBitmap(Resource& r, Device& d, uint64_t from, uint64_t to) {
  DeviceMd* mdp = d.md_state.get();
  if (!mdp || !d.meta || mdp->bm.empty()) return;
  const uint32_t peers = std::max<uint32_t>(1, d.sb.max_peers);
  // Keep the image as long as the bitmap of the current size.
  const uint64_t want = md::BmBytes(peers, md::kDefaultBmBytesPerBit, d.size_sectors);
  if (want > mdp->bm.size()) mdp->bm.resize(want, 0);
  std::vector<const PeerDevice*> owner(peers, nullptr);
  for (const auto& [peer, c] : r.connections) {
    auto pit = c.peer_devices.find(d.volume);
    if (pit == c.peer_devices.end() || peer >= static_cast<uint32_t>(md::kPeersMax)) continue;
    const int32_t slot = d.sb.peers[peer].bitmap_index;
    if (slot >= 0 && static_cast<uint32_t>(slot) < peers) owner[slot] = &pit->second;
  }
  const md::Layout layout = md::ComputeLayout(d.sb, d.meta_idx, d.meta->SizeBytes());
  to = std::min<uint64_t>(to, mdp->bm.size());
  std::vector<uint8_t> page;
  for (uint64_t off = from / kBmPage * kBmPage; off < to; off += kBmPage) {
    const uint64_t n = std::min<uint64_t>(kBmPage, mdp->bm.size() - off);
    page.assign(mdp->bm.begin() + static_cast<ptrdiff_t>(off),
                mdp->bm.begin() + static_cast<ptrdiff_t>(off + n));
    for (uint64_t i = 0; i + 4 <= n; i += 4) {
      const uint64_t w = (off + i) / 4;
      const PeerDevice* pd = owner[w % peers];
      if (!pd) continue;
      const uint64_t k = w / peers;  // 32-bit word of that slot
      uint64_t v = k / 2 < pd->oos_bits.size() ? pd->oos_bits[k / 2] : 0;
      md::StoreLe32(page.data() + i, static_cast<uint32_t>(k % 2 ? v >> 32 : v));
    }
    if (std::equal(page.begin(), page.end(), mdp->bm.begin() + static_cast<ptrdiff_t>(off))) {
      continue;
    }
    std::copy(page.begin(), page.end(), mdp->bm.begin() + static_cast<ptrdiff_t>(off));
    ++mdp->bm_writes;
    d.meta->Write(layout.bm_offset + off, page, [](bool) {});
  }
}

void Engine::ClearOutOfSync(Resource& r, Device& d, PeerDevice& pd) {
  std::fill(pd.oos_bits.begin(), pd.oos_bits.end(), uint64_t{0});
  pd.oos_count = 0;
  if (d.data) MdFlushBitmap(r, d, 0, ~uint64_t{0});
}

void Engine::MdFlushBitmapAfterSuperblock(Device& d) {
  std::shared_ptr<DeviceMd> mdp = d.md_state;
  if (!mdp || !d.meta) return;
  auto write = [this, minor = d.minor, weak = std::weak_ptr<DeviceMd>(mdp)] {
    std::shared_ptr<DeviceMd> m = weak.lock();
    Device* d2 = FindMinor(minor);
    Resource* r2 = ResourceOfMinor(minor);
    if (!m || !d2 || !r2 || d2->md_state != m || !d2->meta) return;
    // Counted as a metadata write: the peer writes held behind it (resync
    // data) land only once the pages are durable.
    ++m->sb_in_flight;
    MdFlushBitmap(*r2, *d2, 0, ~uint64_t{0});
    d2->meta->Flush([m](bool) {
      if (--m->sb_in_flight == 0) ReleaseHeldWrites(*m);
    });
  };
  if (mdp->sb_in_flight > 0 || !mdp->held_writes.empty()) {
    mdp->held_writes.emplace_back(std::move(write));
  } else {
    write();
  }
}

void Engine::MdArmFlush(uint32_t minor) {
  Device* d = FindMinor(minor);
  if (!d || !d->md_state || d->md_state->flush_timer) return;
  std::weak_ptr<DeviceMd> weak = d->md_state;
  d->md_state->flush_timer = env_.clock->StartTimer(kBmFlushNs, [this, weak, minor] {
    std::shared_ptr<DeviceMd> mdp = weak.lock();
    if (!mdp) return;
    mdp->flush_timer = 0;
    Device* d2 = FindMinor(minor);
    Resource* r2 = ResourceOfMinor(minor);
    if (!d2 || !r2 || d2->md_state != mdp) return;
    // Bits go to disk after the superblock in flight, never ahead of the
    // state it records (MdFlushBitmapAfterSuperblock).
    if (mdp->sb_in_flight > 0) return MdArmFlush(minor);
    const uint64_t before = mdp->bm_writes;
    MdFlushBitmap(*r2, *d2, 0, ~uint64_t{0});
    // Still changing (a resync, a workload): look again later.
    if (mdp->bm_writes != before) MdArmFlush(minor);
  });
}

// ---------------------------------------------------------------------------
// Activity log

bool Engine::AlBeginWrite(Device& d, uint64_t offset, uint64_t len, std::function<void()> retry) {
  DeviceMd* mdp = d.md_state.get();
  if (!mdp || !mdp->al_updates || len == 0) return true;
  const auto first = static_cast<uint32_t>(offset >> kAlExtentShift);
  const auto last = static_cast<uint32_t>((offset + len - 1) >> kAlExtentShift);
  if (last - first + 1 > mdp->al.nr_elements()) return true;  // can never fit: unguarded
  if (mdp->al.Active(first, last)) {
    mdp->al.Pin(first, last);
    return true;
  }
  if (!retry) return false;
  mdp->waiters.push_back(DeviceMd::Waiter{first, last, std::move(retry)});
  AlPump(d.minor);
  return false;
}

void Engine::AlEndWrite(const std::shared_ptr<DeviceMd>& mdp, uint32_t minor, uint64_t offset,
                        uint64_t len) {
  if (!mdp || !mdp->al_updates || len == 0) return;
  const auto first = static_cast<uint32_t>(offset >> kAlExtentShift);
  const auto last = static_cast<uint32_t>((offset + len - 1) >> kAlExtentShift);
  if (last - first + 1 > mdp->al.nr_elements()) return;
  mdp->al.Unpin(first, last);
  Device* d = FindMinor(minor);
  if (d && d->md_state == mdp && !mdp->waiters.empty()) AlPump(minor);
}

void Engine::AlPump(uint32_t minor) {
  Device* d = FindMinor(minor);
  Resource* r = ResourceOfMinor(minor);
  if (!d || !r || !d->md_state || !d->meta) return;
  std::shared_ptr<DeviceMd> mdp = d->md_state;
  if (mdp->al_busy || mdp->waiters.empty()) return;
  std::vector<uint32_t> want;
  for (const DeviceMd::Waiter& w : mdp->waiters) {
    for (uint32_t e = w.first; e <= w.last; ++e) want.push_back(e);
  }
  std::vector<ActivityLog::Update> ups = mdp->al.Prepare(want);
  if (ups.empty()) return;  // every slot is busy: an AlEndWrite pumps again
  // The bitmap pages of evicted extents reach the disk before the
  // transaction that drops them from the log (drbd_bm_write_hinted).
  const uint32_t peers = std::max<uint32_t>(1, d->sb.max_peers);
  for (const ActivityLog::Update& u : ups) {
    if (u.evicted == md::kLcFree) continue;
    const uint64_t bytes = uint64_t{kBitsPerExtent} / 8 * peers;
    MdFlushBitmap(*r, *d, uint64_t{u.evicted} * bytes, (uint64_t{u.evicted} + 1) * bytes);
  }
  uint32_t tr = 0;
  std::array<uint8_t, md::kAlBlockBytes> block = mdp->al.Encode(ups, &tr);
  const md::Layout layout = md::ComputeLayout(d->sb, d->meta_idx, d->meta->SizeBytes());
  const uint64_t at = layout.al_offset + uint64_t{md::AlBlockOfTransaction(
                                             tr, d->sb.al_stripes, d->sb.al_stripe_size_4k)} *
                                             md::kAlBlockBytes;
  mdp->al_busy = true;
  LowerIssued(*d, 0, true);  // a backing-device request in flight (not data)
  std::weak_ptr<DeviceMd> weak = mdp;
  std::shared_ptr<sim::Disk> meta = d->meta;
  std::weak_ptr<sim::Disk> weak_meta = meta;
  auto written = [this, weak, minor, ups](bool ok) {
    std::shared_ptr<DeviceMd> m = weak.lock();
    if (!m) return;
    Device* d2 = FindMinor(minor);
    if (d2 && d2->md_state == m) LowerDone(minor);  // else MdDetach did
    m->al_busy = false;
    m->al.Commit(ups);
    if (ok) ++m->al_writes;
    if (!ok && d2 && d2->md_state == m) {
      if (Resource* r2 = ResourceOfMinor(minor)) {
        Log(fmt::format("{}: activity log transaction write failed", Prefix(*r2, *d2)));
      }
    }
    // Writes whose extents are all in now retry; the rest wait on.
    std::vector<DeviceMd::Waiter> still;
    for (DeviceMd::Waiter& w : m->waiters) {
      if (m->al.Active(w.first, w.last)) {
        env_.clock->StartTimer(0, std::move(w.retry));
      } else {
        still.push_back(std::move(w));
      }
    }
    m->waiters = std::move(still);
    if (d2 && d2->md_state == m) AlPump(minor);
  };
  if (MetaWriteFault(*d, "__al_write_transaction")) {  // engine_faults.cc
    env_.clock->StartTimer(0, [written] { written(false); });
    return;
  }
  meta->Write(at, std::vector<uint8_t>(block.begin(), block.end()), [weak_meta, written](bool ok) {
    std::shared_ptr<sim::Disk> m = weak_meta.lock();
    if (!m || !ok) return written(ok && m);
    m->Flush(written);
  });
}

}  // namespace drbd::engine
