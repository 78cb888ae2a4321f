// SPDX-License-Identifier: GPL-2.0-or-later
// The part of `drbdsetup check-resize` both dialects share (DRBD 9 and the
// 8.4 module): once the kernel named an attached minor's backing device
// and meta-data index, keep the last-known-bdev file (lib/md/lkbd.h) as
// drbd-utils does.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string_view>

namespace drbd::setup {

// Internal meta data: writes the backing device's size and name to
// /var/lib/drbd/drbd-minor-MINOR.lkbd unless it already says so. External
// meta data (index >= 0 or flexible external, -2): removes the file.
// Messages go to err. Returns the exit code: 0, or 1 when the device
// cannot be opened.
int RecordBackingSize(uint32_t minor, std::string_view backing, int32_t meta_idx,
                      std::ostream& err);

}  // namespace drbd::setup
