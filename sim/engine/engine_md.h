// SPDX-License-Identifier: GPL-2.0-or-later
// The persisted side of a drbd-simd device: the activity log (which 4 MiB
// extents may have writes in flight, kept as the kernel's LRU of
// `al-extents` slots and written as real AL transactions) and the state of
// the on-disk bitmap (the bytes last read or written, so only changed 4 KiB
// pages are written back). ActivityLog is pure bookkeeping without I/O;
// engine_md.cc drives both through sim::Env. See docs/design/drbd-simd.md
// ("Bitmap and activity log") and docs/formats/metadata-activity-log.md.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <span>
#include <vector>

#include "lib/md/al.h"
#include "sim/env/env.h"

namespace drbd::engine {

inline constexpr uint32_t kAlExtentShift = 22;  // 4 MiB of data per AL extent (AL_EXTENT_SHIFT)

// The in-memory activity log: `nr_elements` slots, each holding one extent
// number or nothing. An extent is usable by a write once the transaction
// that brought it in is on disk; extents with writes in flight are pinned
// and never evicted.
class ActivityLog {
 public:
  // One slot change of a transaction.
  struct Update {
    uint16_t slot = 0;
    uint32_t extent = md::kLcFree;   // brought in
    uint32_t evicted = md::kLcFree;  // the slot's previous extent
  };

  ActivityLog() = default;
  // REQUIRES: nr_elements >= 1.
  explicit ActivityLog(uint32_t nr_elements);

  uint32_t nr_elements() const { return static_cast<uint32_t>(slots_.size()); }
  uint32_t tr_number() const { return tr_number_; }
  // True if every extent in [first, last] is committed and not leaving.
  bool Active(uint32_t first, uint32_t last) const;
  // REQUIRES: Active(first, last). Counts a write on each extent and marks
  // them most recently used.
  void Pin(uint32_t first, uint32_t last);
  // The write on [first, last] completed.
  void Unpin(uint32_t first, uint32_t last);
  // Chooses slots for the extents of `want` that are neither committed nor
  // arriving: free slots first, then the least recently used unpinned ones;
  // at most 64 (one transaction). The chosen slots are reserved until
  // Commit. Empty if nothing is wanted or no slot can be had now.
  std::vector<Update> Prepare(std::span<const uint32_t> want);
  // The transaction block for `ups` (transaction number, the updates, and
  // the next window of at most 919 slots as context, the kernel's cycle),
  // then advances the transaction number and the window. The block lands
  // at md::AlBlockOfTransaction(*tr_number, ...).
  std::array<uint8_t, md::kAlBlockBytes> Encode(const std::vector<Update>& ups,
                                                uint32_t* tr_number);
  // The transaction of `ups` is on disk: the slots hold their new extents.
  void Commit(const std::vector<Update>& ups);
  // Committed extents, sorted.
  std::vector<uint32_t> ActiveExtents() const;
  // Extents with writes in flight (the kernel's act_log->used, which
  // congestion-extents compares with).
  uint32_t used() const {
    uint32_t n = 0;
    for (const Slot& s : slots_) n += s.refs > 0 ? 1 : 0;
    return n;
  }

 private:
  struct Slot {
    uint32_t extent = md::kLcFree;
    uint32_t refs = 0;      // writes in flight on this extent
    uint64_t used = 0;      // LRU stamp
    bool changing = false;  // part of a transaction not yet committed
  };
  std::vector<Slot> slots_;
  std::map<uint32_t, uint32_t> by_extent_;  // committed extent -> slot
  std::map<uint32_t, uint32_t> arriving_;   // extent -> slot, transaction in flight
  uint64_t stamp_ = 0;
  uint32_t tr_number_ = 0;
  uint32_t tr_cycle_ = 0;  // first slot of the next context window
};

// Everything engine_md.cc keeps per attached device. Owned by the Device
// (shared so completions can tell a detached device's state from the
// current one); dropped at detach.
struct DeviceMd {
  ActivityLog al;
  bool al_updates = true;  // disk option al-updates
  // The on-disk bitmap as last read or written, from the first bitmap
  // byte; covers the device's size.
  std::vector<uint8_t> bm;
  // Writes waiting for their extents to become active.
  struct Waiter {
    uint32_t first = 0;
    uint32_t last = 0;
    std::function<void()> retry;
  };
  std::vector<Waiter> waiters;
  bool al_busy = false;  // a transaction is being written
  sim::TimerId flush_timer = 0;
  // device_statistics: AL transactions and bitmap pages written since attach.
  uint64_t al_writes = 0;
  uint64_t bm_writes = 0;
  // Superblock writes not yet durable (WriteMetadata), and the peers' data
  // writes held until none is: resync data, and writes arriving behind it,
  // reach the disk only after the state they depend on (Inconsistent) is on
  // it. Run in arrival order; one that starts a metadata write of its own
  // (counted in sb_in_flight) holds the rest until that is durable too.
  uint32_t sb_in_flight = 0;
  std::deque<std::function<void()>> held_writes;
};

// Runs the held writes, in order, while no metadata write is in flight.
void ReleaseHeldWrites(DeviceMd& md);

// True if a local write of [offset, offset + len) bytes may go ahead
// without an AL transaction: its extents are active (or the log is off
// with al-updates no, or the write is empty or larger than the log).
bool AlCovers(const DeviceMd& md, uint64_t offset, uint64_t len);

}  // namespace drbd::engine
