// SPDX-License-Identifier: GPL-2.0-or-later
// Recognises what already lives at the start of a device (file systems,
// swap, LVM) so create-md can refuse to overwrite it, as drbdmeta does.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace drbd::md {

// Bytes create-md inspects at the start of the device.
inline constexpr size_t kProbeBytes = 68 * 1024;
// Block size meaning "always refuse" (swap) and "size unknown" (LVM).
inline constexpr uint64_t kRefuseBlockSize = 0xFFFFffffFFFF0000ull;
inline constexpr uint64_t kUnknownSizeBlockSize = 0xFFFFffffFFFF0001ull;

struct Probe {
  bool all_zero = true;
  std::string type = "some data";  // e.g. "ext3 filesystem"
  uint64_t blocks = 0;             // 0: unknown data, no size
  uint64_t block_size = 0;
};

// REQUIRES: data.size() >= kProbeBytes.
Probe ProbeData(std::span<const uint8_t> data);

}  // namespace drbd::md
