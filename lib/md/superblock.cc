// SPDX-License-Identifier: GPL-2.0-or-later
// v08 / v09 superblock codec, placement and validation.
// See docs/formats/metadata-superblock.md.
#include "lib/md/superblock.h"

#include <cstring>
#include <string>

#include "lib/md/endian.h"

namespace drbd::md {

const char* FormatName(Format f) { return f == Format::kV09 ? "v09" : "v08"; }

namespace {

// v09 field offsets.
constexpr size_t kV9EffectiveSize = 0x000;
constexpr size_t kV9CurrentUuid = 0x008;
constexpr size_t kV9DeviceUuid = 0x030;
constexpr size_t kFlags = 0x038;  // same for v08
constexpr size_t kMagic = 0x03c;  // same for v08
constexpr size_t kMdSizeSect = 0x040;
constexpr size_t kAlOffset = 0x044;
constexpr size_t kAlNrExtents = 0x048;
constexpr size_t kBmOffset = 0x04c;
constexpr size_t kBmBytesPerBit = 0x050;
constexpr size_t kLaPeerMaxBio = 0x054;
constexpr size_t kV9MaxPeers = 0x058;
constexpr size_t kV9NodeId = 0x05c;
constexpr size_t kV9AlStripes = 0x060;
constexpr size_t kV9AlStripeSize = 0x064;
constexpr size_t kV9Peers = 0x070;
constexpr size_t kV9PeerSize = 32;
constexpr size_t kV9History = 0x470;
// v08 field offsets.
constexpr size_t kV8EffectiveSize = 0x00;
constexpr size_t kV8Uuids = 0x08;  // current, bitmap, history[0], history[1]
constexpr size_t kV8DeviceUuid = 0x28;
constexpr size_t kV8AlStripes = 0x58;
constexpr size_t kV8AlStripeSize = 0x5c;

}  // namespace

bool MagicMatches(Format f, uint32_t magic) {
  if (f == Format::kV09) return magic == kMagic09;
  return magic == kMagic08 || magic == kMagic84Unclean;
}

Superblock Decode(Format f, std::span<const uint8_t, kSuperblockBytes> in) {
  const uint8_t* p = in.data();
  Superblock sb;
  sb.flags = LoadBe32(p + kFlags);
  sb.magic = LoadBe32(p + kMagic);
  sb.md_size_sect = LoadBe32(p + kMdSizeSect);
  sb.al_offset = static_cast<int32_t>(LoadBe32(p + kAlOffset));
  sb.al_nr_extents = LoadBe32(p + kAlNrExtents);
  sb.bm_offset = static_cast<int32_t>(LoadBe32(p + kBmOffset));
  sb.bm_bytes_per_bit = LoadBe32(p + kBmBytesPerBit);
  sb.la_peer_max_bio_size = LoadBe32(p + kLaPeerMaxBio);
  if (f == Format::kV09) {
    sb.effective_size = LoadBe64(p + kV9EffectiveSize);
    sb.current_uuid = LoadBe64(p + kV9CurrentUuid);
    sb.device_uuid = LoadBe64(p + kV9DeviceUuid);
    sb.max_peers = LoadBe32(p + kV9MaxPeers);
    if (sb.max_peers > kMaxPeersLimit) sb.max_peers = kMaxPeersLimit;
    sb.node_id = static_cast<int32_t>(LoadBe32(p + kV9NodeId));
    sb.al_stripes = LoadBe32(p + kV9AlStripes);
    sb.al_stripe_size_4k = LoadBe32(p + kV9AlStripeSize);
    for (int i = 0; i < kPeersMax; ++i) {
      const uint8_t* r = p + kV9Peers + i * kV9PeerSize;
      sb.peers[i].bitmap_uuid = LoadBe64(r);
      sb.peers[i].bitmap_dagtag = LoadBe64(r + 8);
      sb.peers[i].flags = LoadBe32(r + 16);
      sb.peers[i].bitmap_index = static_cast<int32_t>(LoadBe32(r + 20));
    }
    for (int i = 0; i < kHistoryUuids; ++i) sb.history_uuids[i] = LoadBe64(p + kV9History + 8 * i);
  } else {
    sb.effective_size = LoadBe64(p + kV8EffectiveSize);
    sb.current_uuid = LoadBe64(p + kV8Uuids);
    // The in-memory model keeps v09's defaults for fields v08 lacks.
    sb.peers[0].bitmap_uuid = LoadBe64(p + kV8Uuids + 8);
    for (auto& peer : sb.peers) peer.bitmap_index = 0;
    sb.history_uuids[0] = LoadBe64(p + kV8Uuids + 16);
    sb.history_uuids[1] = LoadBe64(p + kV8Uuids + 24);
    sb.device_uuid = LoadBe64(p + kV8DeviceUuid);
    sb.max_peers = 1;
    sb.node_id = 0;
    sb.al_stripes = LoadBe32(p + kV8AlStripes);
    sb.al_stripe_size_4k = LoadBe32(p + kV8AlStripeSize);
    if (sb.al_stripes == 0 && sb.al_stripe_size_4k == 0) {
      sb.al_stripes = 1;
      sb.al_stripe_size_4k = 8;
    }
  }
  return sb;
}

SuperblockBytes Encode(Format f, const Superblock& sb) {
  SuperblockBytes out{};
  uint8_t* p = out.data();
  StoreBe32(p + kFlags, sb.flags);
  StoreBe32(p + kMagic, sb.magic);
  StoreBe32(p + kMdSizeSect, sb.md_size_sect);
  StoreBe32(p + kAlOffset, static_cast<uint32_t>(sb.al_offset));
  StoreBe32(p + kAlNrExtents, sb.al_nr_extents);
  StoreBe32(p + kBmOffset, static_cast<uint32_t>(sb.bm_offset));
  StoreBe32(p + kBmBytesPerBit, sb.bm_bytes_per_bit);
  StoreBe32(p + kLaPeerMaxBio, sb.la_peer_max_bio_size);
  if (f == Format::kV09) {
    StoreBe64(p + kV9EffectiveSize, sb.effective_size);
    StoreBe64(p + kV9CurrentUuid, sb.current_uuid);
    StoreBe64(p + kV9DeviceUuid, sb.device_uuid);
    StoreBe32(p + kV9MaxPeers, sb.max_peers);
    StoreBe32(p + kV9NodeId, static_cast<uint32_t>(sb.node_id));
    StoreBe32(p + kV9AlStripes, sb.al_stripes);
    StoreBe32(p + kV9AlStripeSize, sb.al_stripe_size_4k);
    for (int i = 0; i < kPeersMax; ++i) {
      uint8_t* r = p + kV9Peers + i * kV9PeerSize;
      StoreBe64(r, sb.peers[i].bitmap_uuid);
      StoreBe64(r + 8, sb.peers[i].bitmap_dagtag);
      StoreBe32(r + 16, sb.peers[i].flags);
      StoreBe32(r + 20, static_cast<uint32_t>(sb.peers[i].bitmap_index));
    }
    for (int i = 0; i < kHistoryUuids; ++i) StoreBe64(p + kV9History + 8 * i, sb.history_uuids[i]);
  } else {
    StoreBe64(p + kV8EffectiveSize, sb.effective_size);
    StoreBe64(p + kV8Uuids, sb.current_uuid);
    StoreBe64(p + kV8Uuids + 8, sb.peers[0].bitmap_uuid);
    StoreBe64(p + kV8Uuids + 16, sb.history_uuids[0]);
    StoreBe64(p + kV8Uuids + 24, sb.history_uuids[1]);
    StoreBe64(p + kV8DeviceUuid, sb.device_uuid);
    StoreBe32(p + kV8AlStripes, sb.al_stripes);
    StoreBe32(p + kV8AlStripeSize, sb.al_stripe_size_4k);
  }
  return out;
}

uint64_t BmBytes(uint32_t max_peers, uint32_t bm_bytes_per_bit, uint64_t sectors) {
  const uint64_t sectors_per_bit = bm_bytes_per_bit >> 9;
  uint64_t bits = (sectors + sectors_per_bit - 1) / sectors_per_bit;
  bits = (bits + 63) & ~uint64_t{63};
  return (bits / 8 * max_peers + 4095) & ~uint64_t{4095};
}

uint64_t SuperblockOffset(int index, uint64_t dev_bytes) {
  if (index == kIndexFlexInternal) return (dev_bytes - 4096) & ~uint64_t{4095};
  if (index == kIndexFlexExternal) return 0;
  return kIndexedMdSect * 512 * static_cast<uint64_t>(index);
}

namespace {

int64_t AlSizeSect(const Superblock& sb) {
  return static_cast<int64_t>(sb.al_stripes) * sb.al_stripe_size_4k * 8;
}

// md_size_sect of flexible internal metadata on a device of dev_bytes.
uint64_t FlexInternalMdSizeSect(const Superblock& sb, uint64_t dev_bytes, uint64_t* bm_sect) {
  uint64_t bm = BmBytes(sb.max_peers, sb.bm_bytes_per_bit, dev_bytes >> 9) >> 9;
  bm = (bm + 7) & ~uint64_t{7};
  if (bm_sect) *bm_sect = bm;
  return bm + kAlOffsetSect + static_cast<uint64_t>(AlSizeSect(sb));
}

bool IsPowerOfTwo(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

Status InitOffsets(Superblock& sb, int index, uint64_t dev_bytes) {
  if (sb.bm_bytes_per_bit == 0) sb.bm_bytes_per_bit = kDefaultBmBytesPerBit;
  if (sb.max_peers == 0) sb.max_peers = 1;
  const int64_t al_sect = AlSizeSect(sb);
  if (index == kIndexFlexInternal) {
    uint64_t bm_sect = 0;
    const uint64_t md_sect = FlexInternalMdSizeSect(sb, dev_bytes, &bm_sect);
    if (bm_sect > (kBmMaxBytesFlex >> 9) * sb.max_peers) {
      return Status::Error("Bitmap for that device got too large.");
    }
    sb.al_offset = static_cast<int32_t>(-al_sect);
    sb.md_size_sect = static_cast<uint32_t>(md_sect);
    sb.bm_offset = static_cast<int32_t>(-static_cast<int64_t>(md_sect) + kAlOffsetSect);
  } else {
    sb.md_size_sect = index == kIndexFlexExternal ? static_cast<uint32_t>(dev_bytes >> 9)
                                                  : static_cast<uint32_t>(kIndexedMdSect);
    sb.al_offset = kAlOffsetSect;
    sb.bm_offset = static_cast<int32_t>(kAlOffsetSect + al_sect);
  }
  return Status();
}

Layout ComputeLayout(const Superblock& sb, int index, uint64_t dev_bytes) {
  Layout l;
  l.md_offset = SuperblockOffset(index, dev_bytes);
  l.al_offset = l.md_offset + static_cast<int64_t>(sb.al_offset) * 512;
  l.bm_offset = l.md_offset + static_cast<int64_t>(sb.bm_offset) * 512;
  if (index == kIndexFlexInternal) {
    uint64_t m = l.md_offset;
    if (l.al_offset < m) m = l.al_offset;
    if (l.bm_offset < m) m = l.bm_offset;
    l.max_usable_sect = m >> 9;
  } else {
    // 32-bit unsigned arithmetic, as drbdmeta does it.
    const uint64_t bm_sect = static_cast<uint32_t>(sb.md_size_sect - static_cast<uint32_t>(sb.bm_offset));
    const uint32_t peers = sb.max_peers ? sb.max_peers : 1;
    l.max_usable_sect = bm_sect * 512 * 8 / 64 / peers * 64 * sb.bm_bytes_per_bit / 512;
  }
  return l;
}

Validation Validate(Format f, const Superblock& sb, int index, uint64_t dev_bytes) {
  Validation v;
  const std::string name = FormatName(f);
  auto fail = [&](std::string msg) {
    v.message = std::move(msg);
    return v;
  };
  if (!MagicMatches(f, sb.magic)) return fail(name + " Magic number not found");
  v.magic_ok = true;
  if (sb.max_peers < 1 || sb.max_peers > kMaxPeersLimit) {
    return fail(name + " max-peers value " + std::to_string(static_cast<int32_t>(sb.max_peers)) +
                " out of bounds");
  }
  if (sb.node_id < -1 || sb.node_id > kPeersMax - 1) {
    return fail(name + " device node-id value " + std::to_string(sb.node_id) + " out of bounds");
  }
  for (uint32_t n = 0; n < sb.max_peers; ++n) {
    const int32_t bi = sb.peers[n].bitmap_index;
    if (bi < -1 || bi > kPeersMax - 1) {
      return fail(name + " peer device " + std::to_string(n) + " node-id value " +
                  std::to_string(bi) + " out of bounds");
    }
  }
  // drbdmeta computes the AL size in (wrapping) 32-bit int arithmetic and
  // checks the offsets against it first; its messages show those values.
  const int32_t al_sect32 = static_cast<int32_t>(sb.al_stripes * sb.al_stripe_size_4k * 8u);
  // What our sizing needs beyond drbdmeta's checks (drbdmeta asserts, that
  // is aborts, or computes with nonsense on these).
  auto sizing_ok = [&]() -> bool {
    if (!IsPowerOfTwo(sb.bm_bytes_per_bit) || sb.bm_bytes_per_bit < 4096) {
      fail(name + " bm_bytes_per_bit " + std::to_string(sb.bm_bytes_per_bit) + " is not a power of two >= 4096");
      return false;
    }
    const uint64_t al_blocks = static_cast<uint64_t>(sb.al_stripes) * sb.al_stripe_size_4k;
    if (al_blocks < 1 || al_blocks > kAlMaxBlocksKernel) {
      fail(name + " activity log of " + std::to_string(sb.al_stripes) + " stripes of " +
           std::to_string(sb.al_stripe_size_4k) + " 4k blocks is out of range");
      return false;
    }
    return true;
  };
  if (index == kIndexFlexInternal) {
    const int32_t want_al = static_cast<int32_t>(0u - static_cast<uint32_t>(al_sect32));
    if (sb.al_offset != want_al) {
      return fail(name + " al_offset: expected " + std::to_string(want_al) + ", found " +
                  std::to_string(sb.al_offset));
    }
    if (!sizing_ok()) return v;
    if ((dev_bytes >> 9) > (1ull << 41)) return fail(name + " device larger than 1 PiB");
    const uint64_t md_sect = FlexInternalMdSizeSect(sb, dev_bytes, nullptr);
    const int64_t want_bm = -static_cast<int64_t>(md_sect) + kAlOffsetSect;
    if (sb.bm_offset != want_bm) {
      return fail("strange bm_offset " + std::to_string(sb.bm_offset) + " (expected: " +
                  std::to_string(want_bm) + ")");
    }
    if (sb.md_size_sect != md_sect) {
      std::string msg = "strange md_size_sect " + std::to_string(sb.md_size_sect) + " (expected: " +
                        std::to_string(md_sect) + ")";
      // v09 (as v07) tolerates it: the offsets above are what places the areas.
      if (f != Format::kV09) return fail(std::move(msg));
      v.warning = std::move(msg);
    }
  } else {
    if (sb.al_offset != kAlOffsetSect) {
      return fail(name + " Magic number (al_offset) not found\n\texpected: 8, found " +
                  std::to_string(sb.al_offset));
    }
    const int32_t want_bm =
        static_cast<int32_t>(static_cast<uint32_t>(kAlOffsetSect) + static_cast<uint32_t>(al_sect32));
    if (sb.bm_offset != want_bm) {
      return fail(name + " bm_offset: expected " + std::to_string(want_bm) + ", found " +
                  std::to_string(sb.bm_offset));
    }
    if (!sizing_ok()) return v;
  }
  v.ok = true;
  return v;
}

Superblock NewSuperblock(Format f, uint32_t max_peers, uint32_t al_stripes,
                         uint32_t al_stripe_size_4k) {
  Superblock sb;
  sb.current_uuid = kUuidJustCreated;
  sb.flags = kMdfAlClean;
  sb.al_stripes = al_stripes;
  sb.al_stripe_size_4k = al_stripe_size_4k;
  sb.al_nr_extents = kAlInitialNrExtents;
  sb.bm_bytes_per_bit = kDefaultBmBytesPerBit;
  if (f == Format::kV09) {
    sb.magic = kMagic09;
    sb.max_peers = max_peers;
    sb.node_id = -1;
  } else {
    sb.magic = kMagic08;
    sb.max_peers = 1;
    sb.node_id = 0;
    for (auto& peer : sb.peers) peer.bitmap_index = 0;
  }
  return sb;
}

void ConvertV08ToV09(Superblock& sb, int index, uint64_t dev_bytes) {
  const uint32_t old = sb.flags;
  for (auto& peer : sb.peers) peer = PeerRecord{};
  if (old & kMdfConnectedInd) sb.peers[0].flags |= kPeerConnected;
  if (old & kMdfFullSync) sb.peers[0].flags |= kPeerFullSync;
  if (old & kMdfPeerOutDated) sb.peers[0].flags |= kPeerOutdated;
  sb.flags &= ~(kMdfConnectedInd | kMdfFullSync | kMdfPeerOutDated);
  sb.node_id = -1;
  sb.magic = kMagic09;
  (void)InitOffsets(sb, index, dev_bytes);
}

void ConvertV09ToV08(Superblock& sb, int index, uint64_t dev_bytes) {
  if (sb.peers[0].flags & kPeerConnected) sb.flags |= kMdfConnectedInd;
  if (sb.peers[0].flags & kPeerFullSync) sb.flags |= kMdfFullSync;
  if (sb.peers[0].flags & kPeerOutdated) sb.flags |= kMdfPeerOutDated;
  sb.magic = kMagic08;
  sb.max_peers = 1;
  (void)InitOffsets(sb, index, dev_bytes);
}

}  // namespace drbd::md
