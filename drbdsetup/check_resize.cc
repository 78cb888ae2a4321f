// SPDX-License-Identifier: GPL-2.0-or-later
// check-resize's last-known-bdev update (see check_resize.h).
#include "drbdsetup/check_resize.h"

#include <unistd.h>

#include <cstring>
#include <ostream>
#include <string>

#include "lib/md/device.h"
#include "lib/md/lkbd.h"

namespace drbd::setup {

int RecordBackingSize(uint32_t minor, std::string_view backing, int32_t meta_idx,
                      std::ostream& err) {
  const std::string path = md::LkBdevPath(md::kLkBdevDir, minor);
  if (meta_idx >= 0 || meta_idx == -2 /* DRBD_MD_INDEX_FLEX_EXT */) {
    ::unlink(path.c_str());
    return 0;
  }
  const std::string dev(backing);
  md::Status st;
  int saved = 0;
  auto f = md::FileDevice::Open(dev, true, false, &st, &saved);
  if (!f) {
    err << "Could not open " << dev << ": " << std::strerror(saved) << ".\n";
    return 1;
  }
  const uint64_t size = f->Size();
  md::LastKnownBdev old;
  std::string why;
  if (md::LoadLkBdev(path, &old, &why) == md::LkLoadResult::kOk && old.size_bytes == size &&
      old.device == dev) {
    return 0;  // nothing changed
  }
  if (!md::SaveLkBdev(path, {size, dev, 0}, &why)) {
    err << "lk_bdev_save(" << path << ") failed: " << why << "\n";
  }
  return 0;
}

}  // namespace drbd::setup
