// SPDX-License-Identifier: GPL-2.0-or-later
// Bitmap access and dump text. See docs/formats/metadata-bitmap.md.
#include "lib/md/bitmap.h"

#include <bit>
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "lib/md/endian.h"

namespace drbd::md {

uint64_t BitmapView::BitsPerSlot() const { return bytes_.size() / 4 / max_peers_ * 32; }

uint64_t BitmapView::ByteOf(uint32_t slot, uint64_t bit) const {
  const uint64_t word = (bit >> 5) * max_peers_ + slot;
  return word * 4 + ((bit & 31) >> 3);
}

bool BitmapView::Get(uint32_t slot, uint64_t bit) const {
  return (bytes_[ByteOf(slot, bit)] >> (bit & 7)) & 1;
}

void BitmapView::Set(uint32_t slot, uint64_t bit, bool value) {
  uint8_t& b = bytes_[ByteOf(slot, bit)];
  const uint8_t mask = static_cast<uint8_t>(1u << (bit & 7));
  b = value ? (b | mask) : (b & ~mask);
}

uint64_t BitmapView::CountSlot(uint32_t slot) const {
  uint64_t n = 0;
  for (uint64_t w = slot; w * 4 + 4 <= bytes_.size(); w += max_peers_) {
    n += std::popcount(LoadLe32(bytes_.data() + w * 4));
  }
  return n;
}

namespace {

constexpr uint64_t kChunkLimit = 32ull << 20;  // drbdmeta's I/O buffer
constexpr uint64_t kWordsPerLine = 8;          // 32-bit words per output line

class SlotPrinter {
 public:
  SlotPrinter(const BitmapReader& read, uint64_t n, uint32_t mp, uint32_t slot)
      : read_(read), n_(n), mp_(mp), slot_(slot), max_chunk_(kChunkLimit / (4096ull * mp) * 4096 * mp) {}

  std::string Run(uint64_t* bits_set) {
    out_ = "{";
    uint64_t i = slot_, r = slot_, count = 0;
    uint32_t cw = 0, lw = 0;
    bool first = true;
    while (r < n_) {
      if (first || i * 4 >= max_chunk_) {
        if (!first) i -= max_chunk_ / 4;
        first = false;
        Load(r);
      }
      // One step; may repeat without a reload after printing a run.
      for (;;) {
        if (count == 0) cw = Word(i);
        if (i % (kWordsPerLine * mp_) == slot_) {
          if (count == 0) EndLine(r);
          uint64_t j = i;
          while (j < n_buffer_ && Word(j) == cw) j += mp_;
          const uint64_t run = (j / mp_ - i / mp_) / kWordsPerLine * kWordsPerLine;
          if (run > kWordsPerLine) {
            count += run;
            r += run * mp_;
            i += run * mp_;
            if (j >= n_buffer_ && r < n_) break;  // continue the run in the next chunk
          }
          if (count) {
            Appendf(" %" PRIu64 " times 0x%08X%08X;", count / 2, cw, cw);
            bits_ += count * std::popcount(cw);
            count = 0;
            if (r >= n_) goto done;
            continue;
          }
        }
        const uint32_t w = Word(i);
        if (((i / mp_) & 1) == 0) {
          lw = w;
        } else {
          Appendf(" 0x%08X%08X;", w, lw);
        }
        bits_ += std::popcount(w);
        r += mp_;
        i += mp_;
        break;
      }
    }
  done:
    out_ += "\n}\n";
    *bits_set = bits_;
    return out_;
  }

 private:
  void Load(uint64_t r) {
    uint64_t chunk = (n_ - r / mp_ * mp_) * 4;
    chunk = (chunk + 511) & ~uint64_t{511};
    if (chunk > max_chunk_) chunk = max_chunk_;
    buf_.assign(chunk, 0);
    read_(disk_off_, chunk, buf_.data());
    base_ = disk_off_ / 4;
    disk_off_ += chunk;
    n_buffer_ = chunk / 4;
  }
  uint32_t Word(uint64_t i) {
    if (i < n_buffer_) return LoadLe32(buf_.data() + i * 4);
    uint8_t tmp[4] = {};
    read_((base_ + i) * 4, 4, tmp);
    return LoadLe32(tmp);
  }
  void EndLine(uint64_t r) {
    if ((r & 63) == slot_) {
      Appendf("\n   # at %" PRIu64 "kB\n   ", 128 * (r - slot_));
    } else {
      out_ += "\n   ";
    }
  }
  template <typename... A>
  void Appendf(const char* fmt, A... a) {
    char tmp[96];
    int k = std::snprintf(tmp, sizeof tmp, fmt, a...);
    if (k > 0) out_.append(tmp, static_cast<size_t>(k));
  }

  const BitmapReader& read_;
  uint64_t n_;
  uint32_t mp_;
  uint32_t slot_;
  uint64_t max_chunk_;
  std::vector<uint8_t> buf_;
  uint64_t base_ = 0, disk_off_ = 0, n_buffer_ = 0, bits_ = 0;
  std::string out_;
};

}  // namespace

std::string FormatBitmapSlot(const BitmapReader& read, uint64_t n_words, uint32_t max_peers,
                             uint32_t slot, uint64_t* bits_set) {
  SlotPrinter p(read, n_words, max_peers, slot);
  return p.Run(bits_set);
}

}  // namespace drbd::md
