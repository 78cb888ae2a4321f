// SPDX-License-Identifier: GPL-2.0-or-later
// Activity-log codec and replay. See docs/formats/metadata-activity-log.md.
#include "lib/md/al.h"

#include <algorithm>
#include <bit>

#include "lib/md/endian.h"
#include "lib/md/format.h"

namespace drbd::md {

namespace {


// Transaction field offsets (big-endian).
constexpr size_t kTrMagic = 0;
constexpr size_t kTrNumber = 4;
constexpr size_t kTrCrc = 8;
constexpr size_t kTrType = 12;
constexpr size_t kTrNUpdates = 14;
constexpr size_t kTrContextSize = 16;
constexpr size_t kTrContextStart = 18;
constexpr size_t kTrUpdateSlots = 36;
constexpr size_t kTrUpdateExtents = 164;
constexpr size_t kTrContext = 420;

}  // namespace


AlTransaction DecodeAlTransaction(std::span<const uint8_t, kAlBlockBytes> block) {
  const uint8_t* p = block.data();
  AlTransaction tr;
  tr.magic = LoadBe32(p + kTrMagic);
  tr.tr_number = LoadBe32(p + kTrNumber);
  tr.crc32c = LoadBe32(p + kTrCrc);
  tr.transaction_type = LoadBe16(p + kTrType);
  tr.n_updates = LoadBe16(p + kTrNUpdates);
  tr.context_size = LoadBe16(p + kTrContextSize);
  tr.context_start_slot_nr = LoadBe16(p + kTrContextStart);
  for (int i = 0; i < kAlUpdatesPerTransaction; ++i) {
    tr.update_slot_nr[i] = LoadBe16(p + kTrUpdateSlots + 2 * i);
    tr.update_extent_nr[i] = LoadBe32(p + kTrUpdateExtents + 4 * i);
  }
  for (int i = 0; i < kAlContextPerTransaction; ++i) tr.context[i] = LoadBe32(p + kTrContext + 4 * i);
  // The CRC covers the whole block with the CRC field read as zero.
  static constexpr uint8_t kZero[4] = {};
  uint32_t crc = Crc32c(0, block.first(kTrCrc));
  crc = Crc32c(crc, kZero);
  crc = Crc32c(crc, block.subspan(kTrCrc + 4));
  tr.valid = tr.magic == kAlMagic && tr.crc32c == crc;
  return tr;
}

std::array<uint8_t, kAlBlockBytes> EncodeAlTransaction(const AlTransaction& tr) {
  std::array<uint8_t, kAlBlockBytes> out{};
  uint8_t* p = out.data();
  StoreBe32(p + kTrMagic, tr.magic);
  StoreBe32(p + kTrNumber, tr.tr_number);
  StoreBe16(p + kTrType, tr.transaction_type);
  StoreBe16(p + kTrNUpdates, tr.n_updates);
  StoreBe16(p + kTrContextSize, tr.context_size);
  StoreBe16(p + kTrContextStart, tr.context_start_slot_nr);
  for (int i = 0; i < kAlUpdatesPerTransaction; ++i) {
    StoreBe16(p + kTrUpdateSlots + 2 * i, tr.update_slot_nr[i]);
    StoreBe32(p + kTrUpdateExtents + 4 * i, tr.update_extent_nr[i]);
  }
  for (int i = 0; i < kAlContextPerTransaction; ++i) StoreBe32(p + kTrContext + 4 * i, tr.context[i]);
  StoreBe32(p + kTrCrc, Crc32c(0, out));
  return out;
}

std::array<uint8_t, kAlBlockBytes> InitializedAlBlock() {
  std::array<uint8_t, kAlBlockBytes> out{};
  StoreBe32(out.data() + kTrMagic, kAlMagic);
  StoreBe16(out.data() + kTrType, kAlTrInitialized);
  StoreBe32(out.data() + kTrCrc, Crc32c(0, out));
  return out;
}

uint32_t AlBlockOfTransaction(uint32_t tr_number, uint32_t stripes, uint32_t stripe_size_4k) {
  const uint32_t t = tr_number % (stripes * stripe_size_4k);
  return (t % stripes) * stripe_size_4k + t / stripes;
}

AlReplay ReplayAl(std::span<const uint8_t> area, uint32_t stripes, uint32_t stripe_size_4k) {
  AlReplay out;
  const uint32_t n = stripes * stripe_size_4k;
  std::vector<AlTransaction> trs(n);
  uint32_t found_valid = 0;
  int found_updates = 0;
  uint32_t oldest_i = 0, newest_i = 0, oldest_tr = 0, newest_tr = 0;
  for (uint32_t b = 0; b < n; ++b) {
    const uint64_t o = AlBlockOfTransaction(b, stripes, stripe_size_4k);
    if ((o + 1) * kAlBlockBytes > area.size()) continue;
    trs[b] = DecodeAlTransaction(area.subspan(o * kAlBlockBytes).first<kAlBlockBytes>());
    if (!trs[b].valid) continue;
    ++found_valid;
    if (trs[b].transaction_type == kAlTrInitialized) continue;
    if (++found_updates == 1) {
      oldest_i = newest_i = b;
      oldest_tr = newest_tr = trs[b].tr_number;
      continue;
    }
    // Transaction numbers wrap: compare by signed distance.
    if (static_cast<int32_t>(trs[b].tr_number - oldest_tr) < 0) {
      oldest_i = b;
      oldest_tr = trs[b].tr_number;
    }
    if (static_cast<int32_t>(trs[b].tr_number - newest_tr) > 0) {
      newest_i = b;
      newest_tr = trs[b].tr_number;
    }
  }
  if (found_valid == 0) {
    out.messages.emplace_back("No usable activity log found. Do you need to create-md?");
    out.result = AlReplay::kNoData;
    return out;
  }
  if (found_valid != n) out.messages.push_back(std::to_string(n - found_valid) + " corrupt AL transactions found");
  if (found_updates == 0) {
    if (found_valid == n || (!trs[0].valid && found_valid == n - 1)) {
      out.result = 0;
      return out;
    }
    out.messages.emplace_back("No valid AL update transaction found.");
    out.result = AlReplay::kInvalid;
    return out;
  }
  std::vector<uint32_t> hot(kAlExtentsMax, kLcFree);
  uint64_t last = newest_i < oldest_i ? uint64_t{newest_i} + n : newest_i;
  for (uint64_t b = oldest_i; b <= last; ++b) {
    const uint32_t idx = static_cast<uint32_t>(b % n);
    const AlTransaction& tr = trs[idx];
    if (!tr.valid || tr.transaction_type == kAlTrInitialized) continue;
    for (int i = 0; i < kAlContextPerTransaction; ++i) {
      const uint32_t slot = uint32_t{tr.context_start_slot_nr} + i;
      if (tr.context[i] == kLcFree && slot >= tr.context_size) continue;
      if (slot >= kAlExtentsMax) {
        out.messages.push_back("slot number out of range: tr:" + std::to_string(idx) +
                               " slot:" + std::to_string(slot));
        continue;
      }
      hot[slot] = tr.context[i];
    }
    for (int i = 0; i < kAlUpdatesPerTransaction; ++i) {
      const uint32_t slot = tr.update_slot_nr[i];
      if (i >= tr.n_updates && slot == 0xffff) continue;
      if (slot >= kAlExtentsMax) {
        out.messages.push_back("update slot number out of range: tr:" + std::to_string(idx) +
                               " slot:" + std::to_string(slot));
        continue;
      }
      hot[slot] = tr.update_extent_nr[i];
    }
  }
  std::sort(hot.begin(), hot.end());
  for (uint32_t e : hot) {
    if (e == kLcFree) break;
    out.hot_extents.push_back(e);
  }
  out.result = found_updates;
  return out;
}

uint64_t ApplyHotExtents(std::span<uint8_t> bm, uint32_t max_peers,
                         std::span<const uint32_t> hot_extents, std::vector<std::string>* messages) {
  const uint64_t extent_bytes = uint64_t{kBmBytesPerAlExtent} * max_peers;
  uint64_t added = 0;
  for (uint32_t e : hot_extents) {
    const uint64_t pos = uint64_t{e} * extent_bytes;
    if (pos >= bm.size()) {
      if (messages) {
        messages->push_back("extent " + std::to_string(e) + " beyond end of bitmap! (" +
                            std::to_string(pos) + " >= " + std::to_string(bm.size()) + ")");
      }
      continue;
    }
    const uint64_t len = std::min<uint64_t>(extent_bytes, bm.size() - pos);
    uint64_t set = 0;
    for (uint64_t i = 0; i < len; ++i) set += std::popcount(bm[pos + i]);
    added += len * 8 - set;
    std::fill_n(bm.begin() + pos, len, uint8_t{0xff});
  }
  return added;
}

}  // namespace drbd::md
