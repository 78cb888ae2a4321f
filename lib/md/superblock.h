// SPDX-License-Identifier: GPL-2.0-or-later
// v08 / v09 superblock codec, metadata placement and sizing, and the
// validation drbdmeta applies before it trusts a superblock.
// See docs/formats/metadata-superblock.md and metadata-placement.md.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "lib/md/format.h"

namespace drbd::md {

using SuperblockBytes = std::array<uint8_t, kSuperblockBytes>;

// Decodes a 4 KiB superblock as `f`. Never fails: checking is Validate()'s
// job. v08: the legacy "0 stripes of 0" AL is reported as 1 x 8 blocks.
// v09: a max_peers above 31 is clamped to 31, as drbdmeta does.
Superblock Decode(Format f, std::span<const uint8_t, kSuperblockBytes> in);

// Encodes `sb` as `f`; bytes not covered by a field are zero.
SuperblockBytes Encode(Format f, const Superblock& sb);

// True if `magic` is a superblock magic of format `f` (v08 accepts both the
// clean and the 8.4-unclean magic).
bool MagicMatches(Format f, uint32_t magic);

// Bitmap area bytes needed to track `sectors` of data: bits rounded up to
// 64-bit words, times max_peers, rounded up to 4 KiB.
// REQUIRES: bm_bytes_per_bit is a power of two >= 4096, max_peers >= 1.
uint64_t BmBytes(uint32_t max_peers, uint32_t bm_bytes_per_bit, uint64_t sectors);

// Byte offset of the superblock on a device of `dev_bytes` for `index`.
uint64_t SuperblockOffset(int index, uint64_t dev_bytes);

// Absolute byte positions of the metadata areas for one placement.
struct Layout {
  uint64_t md_offset = 0;  // superblock
  uint64_t al_offset = 0;  // first AL block
  uint64_t bm_offset = 0;  // first bitmap byte
  uint64_t max_usable_sect = 0;  // data sectors the layout can serve
};

// Fills md_size_sect, al_offset and bm_offset of `sb` for a fresh metadata
// area at `index` on a device of `dev_bytes` (drbdmeta's layout rules), from
// sb.al_stripes, sb.al_stripe_size_4k, sb.max_peers and sb.bm_bytes_per_bit.
// Returns an error if the bitmap would be too large.
Status InitOffsets(Superblock& sb, int index, uint64_t dev_bytes);

// Computes absolute positions from the (relative) offsets in `sb`.
Layout ComputeLayout(const Superblock& sb, int index, uint64_t dev_bytes);

// Result of validating a decoded superblock against its placement.
struct Validation {
  bool ok = false;
  bool magic_ok = false;   // false: not this format at all (quietly ignored)
  std::string message;     // drbdmeta's wording when !ok and magic_ok
  // Set when ok but drbdmeta still complains (v09 internal metadata with an
  // md_size_sect other than the sizing gives: printed, then accepted).
  std::string warning;
};

// Checks magic, max_peers, node_id, bitmap indexes, AL/bitmap offsets and
// md_size for `f` at `index` on a device of `dev_bytes`, plus the values our
// sizing needs (bm_bytes_per_bit, AL stripes) so that a corrupted superblock
// is refused instead of crashing. A valid result guarantees ComputeLayout and
// BmBytes are safe to call.
Validation Validate(Format f, const Superblock& sb, int index, uint64_t dev_bytes);

// A fresh superblock as create-md writes it (before InitOffsets).
Superblock NewSuperblock(Format f, uint32_t max_peers, uint32_t al_stripes,
                         uint32_t al_stripe_size_4k);

// v08 <-> v09 conversion as drbdmeta create-md performs it; offsets are
// recomputed for `index` on `dev_bytes`.
void ConvertV08ToV09(Superblock& sb, int index, uint64_t dev_bytes);
void ConvertV09ToV08(Superblock& sb, int index, uint64_t dev_bytes);

}  // namespace drbd::md
