// SPDX-License-Identifier: GPL-2.0-or-later
// Activity log: the 4 KiB transaction codec (CRC32C), ring/stripe placement
// and replay of the hot extents into the bitmap. Usable by drbdmeta and by
// drbd-simd. See docs/formats/metadata-activity-log.md.
#pragma once

#include "lib/base/crc32c.h"
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace drbd::md {

inline constexpr uint32_t kAlBlockBytes = 4096;
inline constexpr int kAlUpdatesPerTransaction = 64;
inline constexpr int kAlContextPerTransaction = 919;
inline constexpr uint16_t kAlTrUpdate = 0;
inline constexpr uint16_t kAlTrInitialized = 0xffff;
inline constexpr uint32_t kLcFree = 0xffffffff;

// Transactions are checksummed with drbd::Crc32c (lib/base/crc32c.h), seeded 0.

// One decoded AL transaction block.
struct AlTransaction {
  uint32_t magic = 0;
  uint32_t tr_number = 0;
  uint32_t crc32c = 0;        // as stored
  uint16_t transaction_type = 0;
  uint16_t n_updates = 0;
  uint16_t context_size = 0;  // al-extents at write time
  uint16_t context_start_slot_nr = 0;
  std::array<uint16_t, kAlUpdatesPerTransaction> update_slot_nr{};
  std::array<uint32_t, kAlUpdatesPerTransaction> update_extent_nr{};
  std::array<uint32_t, kAlContextPerTransaction> context{};
  bool valid = false;  // magic and CRC both correct
};

AlTransaction DecodeAlTransaction(std::span<const uint8_t, kAlBlockBytes> block);
// Encodes `tr` and computes its CRC (tr.crc32c is ignored).
std::array<uint8_t, kAlBlockBytes> EncodeAlTransaction(const AlTransaction& tr);
// An AL_TR_INITIALIZED block as create-md and apply-al write it.
std::array<uint8_t, kAlBlockBytes> InitializedAlBlock();

// 4 KiB block index inside the AL area holding transaction `tr_number`.
// REQUIRES: stripes >= 1, stripe_size_4k >= 1.
uint32_t AlBlockOfTransaction(uint32_t tr_number, uint32_t stripes, uint32_t stripe_size_4k);

// Outcome of scanning an AL area.
struct AlReplay {
  // < 0: unusable (kNoData: nothing valid, kInvalid: no valid update among
  // partly corrupt blocks); 0: clean, nothing to apply; > 0: number of valid
  // update transactions found.
  int result = 0;
  static constexpr int kNoData = -61;   // ENODATA
  static constexpr int kInvalid = -22;  // EINVAL
  std::vector<uint32_t> hot_extents;    // sorted, unique
  std::vector<std::string> messages;    // drbdmeta's stderr lines
};

// Scans the whole AL area (stripes * stripe_size_4k blocks) and reconstructs
// the set of active extents at the newest transaction.
AlReplay ReplayAl(std::span<const uint8_t> area, uint32_t stripes, uint32_t stripe_size_4k);

// Sets every bitmap bit (all `max_peers` slots) of each hot extent in the
// bitmap `bm` (first bm.size() bytes of the on-disk bitmap area). Extents
// beyond the bitmap are reported in `messages`. Returns the number of bits
// that were newly set.
uint64_t ApplyHotExtents(std::span<uint8_t> bm, uint32_t max_peers,
                         std::span<const uint32_t> hot_extents, std::vector<std::string>* messages);

}  // namespace drbd::md
