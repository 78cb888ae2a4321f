// SPDX-License-Identifier: GPL-2.0-or-later
// Metadata operations over a Device: locate and validate the superblock,
// create a metadata area, update the superblock, apply the activity log.
// Write ordering is chosen so that a crash at any write leaves either the
// old or the new superblock state (see docs/formats/metadata-superblock.md,
// "Crash safety").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/md/al.h"
#include "lib/md/device.h"
#include "lib/md/format.h"
#include "lib/md/superblock.h"

namespace drbd::md {

// Where the metadata lives: format plus meta index (kIndexFlexInternal,
// kIndexFlexExternal or an index >= 0).
struct Placement {
  Format format = Format::kV09;
  int index = kIndexFlexInternal;
};

// A superblock read from a device.
struct Found {
  enum class Kind { kValid, kNoMagic, kInvalid };
  Kind kind = Kind::kNoMagic;
  Superblock sb;
  Layout layout;
  std::string message;  // why it is invalid (drbdmeta wording)
  uint64_t bm_bytes = 0;  // bitmap bytes covering sb.effective_size (clipped)
  bool clipped = false;   // effective_size was above max_usable_sect
  uint64_t unclipped_effective_size = 0;
};

// Checks that a device of `dev_bytes` can hold metadata at `p`. Returns
// drbdmeta's message ("... is only N bytes. That's not enough.") on error.
Status CheckDeviceSize(const std::string& name, uint64_t dev_bytes, const Placement& p);

// Reads and validates the superblock at `p`. I/O errors are returned as
// status; a missing or bad superblock is reported through Found::kind.
Status ReadSuperblock(Device& dev, const Placement& p, Found* found);

// Writes `sb` (4 KiB) at its place, after validating it; then flushes.
Status WriteSuperblock(Device& dev, const Placement& p, const Superblock& sb);

// Writes an initialized activity log (every block AL_TR_INITIALIZED).
Status InitializeAl(Device& dev, const Layout& layout, const Superblock& sb);

// Zeroes `bytes` of bitmap at `layout.bm_offset` with plain writes.
Status ZeroBitmap(Device& dev, uint64_t bm_offset, uint64_t bytes);

// Reads the whole AL area of `sb`.
Status ReadAl(Device& dev, const Layout& layout, const Superblock& sb, std::vector<uint8_t>* area);

// Sets the bitmap bits of the replayed hot extents on disk (read-modify-write
// of the bitmap region `bm_bytes` long). *added receives newly set bits.
Status ApplyHotExtentsOnDisk(Device& dev, const Layout& layout, uint32_t max_peers, uint64_t bm_bytes,
                             const std::vector<uint32_t>& hot, uint64_t* added,
                             std::vector<std::string>* messages);

// Creates fresh metadata: initialized AL, zeroed bitmap (unless
// skip_bitmap), then the superblock last, so a crash before the final write
// leaves whatever superblock was there before.
Status CreateMetadata(Device& dev, const Placement& p, const Superblock& sb, bool skip_bitmap);

// apply-al as a library call: replays the AL into the bitmap if the
// superblock says a Primary may have written (MDF_PRIMARY_IND), then
// re-initializes the AL and marks the superblock clean. Order: bitmap,
// AL, superblock; every step is idempotent, so re-running after a crash
// completes it.
struct ApplyAlResult {
  AlReplay replay;
  uint64_t added_bits = 0;
  bool applied = false;
  bool superblock_written = false;
};
Status ApplyAl(Device& dev, const Placement& p, ApplyAlResult* result);

}  // namespace drbd::md
