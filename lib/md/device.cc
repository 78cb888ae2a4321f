// SPDX-License-Identifier: GPL-2.0-or-later
// FileDevice (pread/pwrite/ioctl) and MemDevice.
#include "lib/md/device.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace drbd::md {

namespace {
std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }
}  // namespace

std::unique_ptr<FileDevice> FileDevice::Open(const std::string& path, bool read_only, bool exclusive,
                                             Status* status, int* saved_errno) {
  std::unique_ptr<FileDevice> d(new FileDevice());
  d->fd_ = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | (exclusive ? O_EXCL : 0));
  if (d->fd_ < 0) {
    if (saved_errno) *saved_errno = errno;
    *status = Status::Error(Errno("open(" + path + ") failed"));
    return nullptr;
  }
  struct stat st;
  if (::fstat(d->fd_, &st) != 0) {
    *status = Status::Error(Errno("fstat(" + path + ") failed"));
    return nullptr;
  }
  d->is_block_ = S_ISBLK(st.st_mode);
  if (d->is_block_) {
    uint64_t size = 0;
    if (::ioctl(d->fd_, BLKGETSIZE64, &size) != 0) {
      *status = Status::Error(Errno("ioctl(" + path + ", BLKGETSIZE64) failed"));
      return nullptr;
    }
    d->size_ = size;
  } else {
    d->size_ = static_cast<uint64_t>(st.st_size);
  }
  int sect = 0;
  if (::ioctl(d->fd_, BLKSSZGET, &sect) == 0) d->hard_sect_ = sect;
  if (!read_only) {
    // No O_EXCL: we already hold the exclusive open.
    d->direct_fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_DIRECT);
  }
  *status = Status();
  return d;
}

FileDevice::~FileDevice() {
  if (direct_fd_ >= 0) ::close(direct_fd_);
  if (fd_ >= 0) ::close(fd_);
}

Status FileDevice::Read(uint64_t off, std::span<uint8_t> dst) {
  size_t done = 0;
  while (done < dst.size()) {
    ssize_t n = ::pread(fd_, dst.data() + done, dst.size() - done, static_cast<off_t>(off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(Errno("pread at byte offset " + std::to_string(off + done)));
    if (n == 0) {
      return Status::Error("short read at byte offset " + std::to_string(off + done) +
                           ": device ends at " + std::to_string(size_));
    }
    done += static_cast<size_t>(n);
  }
  return Status();
}

Status FileDevice::Write(uint64_t off, std::span<const uint8_t> src) {
  constexpr uint64_t kAlign = 4096;
  int fd = fd_;
  if (direct_fd_ >= 0 && src.size() >= kDirectMinBytes && off % kAlign == 0 && src.size() % kAlign == 0 &&
      reinterpret_cast<uintptr_t>(src.data()) % kAlign == 0) {
    fd = direct_fd_;
  }
  size_t done = 0;
  while (done < src.size()) {
    ssize_t n = ::pwrite(fd, src.data() + done, src.size() - done, static_cast<off_t>(off + done));
    if (n < 0 && errno == EINVAL && fd == direct_fd_) {
      fd = fd_;  // the file system refuses this direct write after all
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Error(Errno("pwrite at byte offset " + std::to_string(off + done)));
    done += static_cast<size_t>(n);
  }
  return Status();
}

Status FileDevice::Flush() {
  if (::fsync(fd_) != 0) return Status::Error(Errno("fsync"));
  return Status();
}

Status FileDevice::ZeroOut(uint64_t off, uint64_t len) {
  uint64_t range[2] = {off, len};
  if (::ioctl(fd_, BLKZEROOUT, range) != 0) {
    zeroout_errno_ = errno;
    return Status::Error(Errno("BLKZEROOUT"));
  }
  return Status();
}

Status MemDevice::Read(uint64_t off, std::span<uint8_t> dst) {
  if (off > data_.size() || dst.size() > data_.size() - off) {
    return Status::Error("short read at byte offset " + std::to_string(off) + ": device ends at " +
                         std::to_string(data_.size()));
  }
  std::memcpy(dst.data(), data_.data() + off, dst.size());
  return Status();
}

Status MemDevice::Write(uint64_t off, std::span<const uint8_t> src) {
  const int64_t index = writes_++;
  if (fail_from_ >= 0 && index >= fail_from_) return Status::Error("simulated crash");
  if (off > data_.size() || src.size() > data_.size() - off) {
    return Status::Error("write beyond end of device at byte offset " + std::to_string(off));
  }
  std::memcpy(data_.data() + off, src.data(), src.size());
  return Status();
}

Status MemDevice::ZeroOut(uint64_t, uint64_t) { return Status::Error("not supported"); }

}  // namespace drbd::md
