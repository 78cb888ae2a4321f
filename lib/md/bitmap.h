// SPDX-License-Identifier: GPL-2.0-or-later
// The on-disk bitmap: per-peer slots interleaved in little-endian 32-bit
// words, bit access for drbd-simd, and the dump-md text form.
// See docs/formats/metadata-bitmap.md.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace drbd::md {

// Bit access to an in-memory copy of (part of) the bitmap area, starting at
// the first bitmap byte. Does not own the bytes.
class BitmapView {
 public:
  // REQUIRES: max_peers >= 1; bytes.size() a multiple of 4.
  BitmapView(std::span<uint8_t> bytes, uint32_t max_peers) : bytes_(bytes), max_peers_(max_peers) {}

  // Number of bits each slot can address in this view.
  uint64_t BitsPerSlot() const;
  // REQUIRES: slot < max_peers, bit < BitsPerSlot().
  bool Get(uint32_t slot, uint64_t bit) const;
  void Set(uint32_t slot, uint64_t bit, bool value);
  // Set bits of one slot.
  uint64_t CountSlot(uint32_t slot) const;

 private:
  uint64_t ByteOf(uint32_t slot, uint64_t bit) const;
  std::span<uint8_t> bytes_;
  uint32_t max_peers_;
};

// Reads `len` bytes at byte offset `off` of the bitmap area into `dst`.
using BitmapReader = std::function<void(uint64_t off, size_t len, uint8_t* dst)>;

// dump-md's text for one slot: "{" ... "\n}\n", with runs of at least 16
// equal 32-bit words written as "N times 0x...;". `n_words` is the number of
// interleaved 32-bit words of the dumped region (bm_bytes / 4). The reader is
// called with the same chunking drbdmeta uses (at most 32 MiB at a time), so
// the text is identical even where that chunking shows. Returns the set bits
// of this slot in *bits_set.
std::string FormatBitmapSlot(const BitmapReader& read, uint64_t n_words, uint32_t max_peers,
                             uint32_t slot, uint64_t* bits_set);

}  // namespace drbd::md
