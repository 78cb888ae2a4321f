// SPDX-License-Identifier: GPL-2.0-or-later
// The "last known backing device" file /var/lib/drbd/drbd-minor-N.lkbd that
// drbdmeta and `drbdsetup check-resize` keep so that internal metadata can
// still be found after the backing device changed size. Its text form is
// "<bytes>\t<device>\n" with an optional "uuid:\t<16 hex digits>\n" line,
// as drbd-utils writes it; this file owns reading and writing it.
#pragma once

#include <cstdint>
#include <string>

namespace drbd::md {

inline constexpr const char* kLkBdevDir = "/var/lib/drbd";

struct LastKnownBdev {
  uint64_t size_bytes = 0;
  std::string device;  // empty when the file names none
  uint64_t uuid = 0;   // 0 when the file has no uuid line
};

// DIR/drbd-minor-MINOR.lkbd (drbdmeta without a minor uses -1).
std::string LkBdevPath(const std::string& dir, int64_t minor);

enum class LkLoadResult { kOk, kMissing, kUnreadable, kParseError };

// Reads PATH into *out. On kUnreadable, *err is strerror(errno).
LkLoadResult LoadLkBdev(const std::string& path, LastKnownBdev* out, std::string* err);

// Writes and fsyncs PATH (the uuid line only when uuid != 0). On failure
// returns false with *err = strerror(errno).
bool SaveLkBdev(const std::string& path, const LastKnownBdev& lk, std::string* err);

}  // namespace drbd::md
