// SPDX-License-Identifier: GPL-2.0-or-later
// DRBD on-disk metadata constants and the in-memory superblock model shared
// by the v08 and v09 codecs, the activity log and the bitmap code.
// See docs/formats/metadata-superblock.md, metadata-activity-log.md and
// metadata-bitmap.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>

namespace drbd::md {

// Superblock magics (big-endian u32 at byte 0x3c of the 4 KiB superblock).
inline constexpr uint32_t kMagic07 = 0x8374026a;
inline constexpr uint32_t kMagic08 = 0x8374026b;
inline constexpr uint32_t kMagic84Unclean = 0x8374026c;
inline constexpr uint32_t kMagic09 = 0x8374026d;
// Activity-log transaction magic (big-endian u32 at byte 0 of every 4 KiB block).
inline constexpr uint32_t kAlMagic = 0x69cb65a2;
inline constexpr uint32_t kAlPmemMagic = 0x6aa667a6;

inline constexpr uint64_t kUuidJustCreated = 0x4;
inline constexpr int kPeersMax = 32;       // peer records in a v09 superblock
inline constexpr int kMaxPeersLimit = 31;  // largest allowed bitmap slot count
inline constexpr int kHistoryUuids = 32;   // v09 history UUIDs
inline constexpr int kHistoryUuidsV08 = 2;
inline constexpr uint32_t kSuperblockBytes = 4096;
inline constexpr uint32_t kDefaultBmBytesPerBit = 4096;
inline constexpr int32_t kAlOffsetSect = 8;           // external: AL follows the 4 KiB superblock
inline constexpr uint64_t kIndexedMdSect = 128ull << 11;  // 128 MiB per indexed slot
inline constexpr uint64_t kMinDeviceBytes = 68 * 1024;  // drbdmeta refuses smaller devices
inline constexpr uint32_t kAlInitialNrExtents = 257;     // al_nr_extents written by create-md
inline constexpr uint32_t kAlMaxBlocks = 8192;           // 32 MiB: drbdmeta's AL limit
inline constexpr uint32_t kAlMaxBlocksKernel = 4u << 20;  // 16 GiB: the kernel's AL limit
inline constexpr uint32_t kBmBytesPerAlExtent = 128;     // 4 MiB extent / 4 KiB per bit / 8
inline constexpr uint32_t kAlExtentsMax = 65534;
// Largest per-slot bitmap (bytes) drbdmeta accepts for flexible internal md.
inline constexpr uint64_t kBmMaxBytesFlex = 1ull << (38 - 3);

// Device flags (superblock offset 0x38).
enum MdFlag : uint32_t {
  kMdfConsistent = 0x001,
  kMdfPrimaryInd = 0x002,
  kMdfConnectedInd = 0x004,   // v08 only
  kMdfFullSync = 0x008,       // v08 only
  kMdfWasUpToDate = 0x010,
  kMdfPeerOutDated = 0x020,   // v08 only
  kMdfCrashedPrimary = 0x040,
  kMdfAlClean = 0x080,
  kMdfAlDisabled = 0x100,
  kMdfPrimaryLostQuorum = 0x200,
};

// Per-peer flags (v09 peer record +16).
enum MdPeerFlag : uint32_t {
  kPeerConnected = 0x00001,
  kPeerOutdated = 0x00002,
  kPeerFencing = 0x00004,
  kPeerFullSync = 0x00008,
  kPeerDeviceSeen = 0x00010,
  kNodeExists = 0x10000,
};

enum class Format { kV08, kV09 };

// Name used on the drbdmeta command line and in dump-md ("v08", "v09").
const char* FormatName(Format f);

// Metadata placement. Values are the kernel's meta index numbers; an
// index >= 0 is "indexed" external metadata at index * 128 MiB.
inline constexpr int kIndexFlexExternal = -2;
inline constexpr int kIndexFlexInternal = -3;

// One peer record of a v09 superblock (32 bytes on disk, big-endian).
struct PeerRecord {
  uint64_t bitmap_uuid = 0;    // UUID the bitmap slot is based on
  uint64_t bitmap_dagtag = 0;  // dagtag sector when bitmap_uuid was set
  uint32_t flags = 0;          // MdPeerFlag bits
  int32_t bitmap_index = -1;   // bitmap slot, -1 = none
  bool operator==(const PeerRecord&) const = default;
};

// Decoded superblock, the union of the v08 and v09 fields. For v08,
// peers[0].bitmap_uuid is uuid[UI_BITMAP], history_uuids[0..1] the two
// history UUIDs and max_peers is always 1.
struct Superblock {
  uint64_t effective_size = 0;   // sectors, "la-size-sect"
  uint64_t current_uuid = 0;
  uint64_t device_uuid = 0;
  uint32_t flags = 0;            // MdFlag bits
  uint32_t magic = 0;
  uint32_t md_size_sect = 0;     // whole metadata area, sectors
  int32_t al_offset = 0;         // sectors, relative to the superblock
  uint32_t al_nr_extents = 0;
  int32_t bm_offset = 0;         // sectors, relative to the superblock
  uint32_t bm_bytes_per_bit = 0;
  uint32_t la_peer_max_bio_size = 0;
  uint32_t max_peers = 0;        // bitmap slots (v09 bm_max_peers)
  int32_t node_id = -1;          // v09 only
  uint32_t al_stripes = 0;
  uint32_t al_stripe_size_4k = 0;
  std::array<PeerRecord, kPeersMax> peers{};
  std::array<uint64_t, kHistoryUuids> history_uuids{};
  bool operator==(const Superblock&) const = default;
};

// Error with a human-readable message; ok() when message is empty.
class Status {
 public:
  Status() = default;
  static Status Error(std::string msg) { return Status(std::move(msg)); }
  bool ok() const { return msg_.empty(); }
  const std::string& message() const { return msg_; }

 private:
  explicit Status(std::string msg) : msg_(std::move(msg)) {}
  std::string msg_;
};

}  // namespace drbd::md
