// SPDX-License-Identifier: GPL-2.0-or-later
// Reading and writing the last-known-bdev file (see lkbd.h).
#include "lib/md/lkbd.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <fstream>
#include <sstream>

namespace drbd::md {

std::string LkBdevPath(const std::string& dir, int64_t minor) {
  return fmt::format("{}/drbd-minor-{}.lkbd", dir, minor);
}

LkLoadResult LoadLkBdev(const std::string& path, LastKnownBdev* out, std::string* err) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return LkLoadResult::kMissing;
    *err = std::strerror(errno);
    return LkLoadResult::kUnreadable;
  }
  *out = LastKnownBdev{};
  std::string first;
  std::getline(in, first);
  std::istringstream line(first);
  unsigned long long size = 0;
  if (!(line >> size)) return LkLoadResult::kParseError;
  out->size_bytes = size;
  line >> out->device;
  std::string second;
  if (!out->device.empty() && std::getline(in, second)) {
    std::istringstream l2(second);
    std::string tag;
    unsigned long long uuid = 0;
    if (l2 >> tag && tag == "uuid:" && (l2 >> std::hex >> uuid)) out->uuid = uuid;
  }
  return LkLoadResult::kOk;
}

bool SaveLkBdev(const std::string& path, const LastKnownBdev& lk, std::string* err) {
  std::string text = fmt::format("{}\t{}\n", lk.size_bytes, lk.device);
  if (lk.uuid != 0) text += fmt::format("uuid:\t{:016X}\n", lk.uuid);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *err = std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *err = std::strerror(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  return true;
}

}  // namespace drbd::md
