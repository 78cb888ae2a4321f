// SPDX-License-Identifier: GPL-2.0-or-later
// Metadata operations over a Device.
#include "lib/md/metadata.h"

#include <algorithm>
#include <bit>

namespace drbd::md {

namespace {
constexpr uint64_t kIoChunk = 32ull << 20;
}  // namespace

Status CheckDeviceSize(const std::string& name, uint64_t dev_bytes, const Placement& p) {
  if (dev_bytes < kMinDeviceBytes) {
    return Status::Error(name + " is only " + std::to_string(dev_bytes) + " bytes. That's not enough.");
  }
  const uint64_t off = SuperblockOffset(p.index, dev_bytes);
  if (off > dev_bytes - 4096) {
    return Status::Error("Device too small: expecting meta data block at\nbyte offset " +
                         std::to_string(off) + ", but " + name + " is only " +
                         std::to_string(dev_bytes) + " bytes.");
  }
  return Status();
}

Status ReadSuperblock(Device& dev, const Placement& p, Found* found) {
  *found = Found();
  const uint64_t size = dev.Size();
  if (Status s = CheckDeviceSize("device", size, p); !s.ok()) return s;
  const uint64_t off = SuperblockOffset(p.index, size);
  SuperblockBytes raw{};
  if (Status s = dev.Read(off, raw); !s.ok()) return s;
  found->sb = Decode(p.format, raw);
  const Validation v = Validate(p.format, found->sb, p.index, size);
  if (!v.ok) {
    found->kind = v.magic_ok ? Found::Kind::kInvalid : Found::Kind::kNoMagic;
    found->message = v.message;
    return Status();
  }
  found->kind = Found::Kind::kValid;
  found->layout = ComputeLayout(found->sb, p.index, size);
  found->unclipped_effective_size = found->sb.effective_size;
  if (found->sb.effective_size > found->layout.max_usable_sect) {
    found->clipped = true;
    found->sb.effective_size = found->layout.max_usable_sect;
  }
  found->bm_bytes = BmBytes(found->sb.max_peers, found->sb.bm_bytes_per_bit, found->sb.effective_size);
  return Status();
}

Status WriteSuperblock(Device& dev, const Placement& p, const Superblock& sb) {
  const Validation v = Validate(p.format, sb, p.index, dev.Size());
  if (!v.ok) return Status::Error("refusing to write an invalid superblock: " + v.message);
  const SuperblockBytes raw = Encode(p.format, sb);
  if (Status s = dev.Write(SuperblockOffset(p.index, dev.Size()), raw); !s.ok()) return s;
  return dev.Flush();
}

Status InitializeAl(Device& dev, const Layout& layout, const Superblock& sb) {
  const uint64_t blocks = uint64_t{sb.al_stripes} * sb.al_stripe_size_4k;
  const auto block = InitializedAlBlock();
  std::vector<uint8_t> area(blocks * kAlBlockBytes);
  for (uint64_t b = 0; b < blocks; ++b) std::copy(block.begin(), block.end(), area.begin() + b * kAlBlockBytes);
  return dev.Write(layout.al_offset, area);
}

Status ZeroBitmap(Device& dev, uint64_t bm_offset, uint64_t bytes) {
  std::vector<uint8_t> zero(std::min(bytes, kIoChunk), 0);
  for (uint64_t done = 0; done < bytes;) {
    const uint64_t n = std::min<uint64_t>(zero.size(), bytes - done);
    if (Status s = dev.Write(bm_offset + done, std::span<const uint8_t>(zero.data(), n)); !s.ok()) return s;
    done += n;
  }
  return Status();
}

Status ReadAl(Device& dev, const Layout& layout, const Superblock& sb, std::vector<uint8_t>* area) {
  area->assign(uint64_t{sb.al_stripes} * sb.al_stripe_size_4k * kAlBlockBytes, 0);
  return dev.Read(layout.al_offset, *area);
}

Status ApplyHotExtentsOnDisk(Device& dev, const Layout& layout, uint32_t max_peers, uint64_t bm_bytes,
                             const std::vector<uint32_t>& hot, uint64_t* added,
                             std::vector<std::string>* messages) {
  *added = 0;
  const uint64_t extent_bytes = uint64_t{kBmBytesPerAlExtent} * max_peers;
  // Group extents into chunks of at most kIoChunk and read-modify-write each.
  size_t i = 0;
  while (i < hot.size()) {
    const uint64_t pos = uint64_t{hot[i]} * extent_bytes;
    if (pos >= bm_bytes) {
      messages->push_back("extent " + std::to_string(hot[i]) + " beyond end of bitmap! (" +
                          std::to_string(pos) + " >= " + std::to_string(bm_bytes) + ")");
      ++i;
      continue;
    }
    const uint64_t start = pos & ~uint64_t{4095};
    const uint64_t len = std::min(kIoChunk, bm_bytes - start);
    std::vector<uint8_t> buf(len);
    if (Status s = dev.Read(layout.bm_offset + start, buf); !s.ok()) return s;
    while (i < hot.size()) {
      const uint64_t p = uint64_t{hot[i]} * extent_bytes;
      if (p >= bm_bytes) {
        messages->push_back("extent " + std::to_string(hot[i]) + " beyond end of bitmap! (" +
                            std::to_string(p) + " >= " + std::to_string(bm_bytes) + ")");
        ++i;
        continue;
      }
      const uint64_t end = std::min(p + extent_bytes, bm_bytes);
      if (p < start || end > start + len) break;
      uint64_t set = 0;
      for (uint64_t k = p - start; k < end - start; ++k) set += std::popcount(buf[k]);
      *added += (end - p) * 8 - set;
      std::fill(buf.begin() + (p - start), buf.begin() + (end - start), uint8_t{0xff});
      ++i;
    }
    if (Status s = dev.Write(layout.bm_offset + start, buf); !s.ok()) return s;
  }
  return Status();
}

Status CreateMetadata(Device& dev, const Placement& p, const Superblock& sb, bool skip_bitmap) {
  const Validation v = Validate(p.format, sb, p.index, dev.Size());
  if (!v.ok) return Status::Error("refusing to create invalid meta data: " + v.message);
  const Layout layout = ComputeLayout(sb, p.index, dev.Size());
  if (Status s = InitializeAl(dev, layout, sb); !s.ok()) return s;
  if (!skip_bitmap) {
    const uint64_t bytes = BmBytes(sb.max_peers, sb.bm_bytes_per_bit, dev.Size() >> 9);
    if (Status s = ZeroBitmap(dev, layout.bm_offset, bytes); !s.ok()) return s;
  }
  if (Status s = dev.Flush(); !s.ok()) return s;
  return WriteSuperblock(dev, p, sb);
}

Status ApplyAl(Device& dev, const Placement& p, ApplyAlResult* result) {
  *result = ApplyAlResult();
  Found found;
  if (Status s = ReadSuperblock(dev, p, &found); !s.ok()) return s;
  if (found.kind != Found::Kind::kValid) return Status::Error("No valid meta data found");
  // Like drbdmeta, the superblock written back carries the clipped size.
  Superblock sb = found.sb;
  std::vector<uint8_t> area;
  if (Status s = ReadAl(dev, found.layout, sb, &area); !s.ok()) return s;
  result->replay = ReplayAl(area, sb.al_stripes, sb.al_stripe_size_4k);
  const bool primary = (sb.flags & kMdfPrimaryInd) != 0;
  if (result->replay.result < 0 && primary) {
    return Status::Error("activity log unusable and the device may have been written as Primary");
  }
  if (result->replay.result > 0 && primary) {
    const uint64_t bm = (found.bm_bytes + 511) & ~uint64_t{511};
    if (Status s = ApplyHotExtentsOnDisk(dev, found.layout, sb.max_peers, bm, result->replay.hot_extents,
                                         &result->added_bits, &result->replay.messages);
        !s.ok()) {
      return s;
    }
    result->applied = true;
  }
  if (result->replay.result != 0) {
    if (Status s = dev.Flush(); !s.ok()) return s;
    if (Status s = InitializeAl(dev, found.layout, sb); !s.ok()) return s;
  }
  // drbdmeta compares against the v08 magic for every format, so v09
  // superblocks are always rewritten.
  if ((sb.flags & kMdfAlClean) == 0 || sb.magic != kMagic08 || result->applied) {
    sb.flags |= kMdfAlClean;
    if (p.format == Format::kV08) sb.magic = kMagic08;
    if (Status s = dev.Flush(); !s.ok()) return s;
    if (Status s = WriteSuperblock(dev, p, sb); !s.ok()) return s;
    result->superblock_written = true;
  }
  return Status();
}

}  // namespace drbd::md
