// SPDX-License-Identifier: GPL-2.0-or-later
// Storage seam for the metadata library: a block device or image file
// (pread/pwrite, size from BLKGETSIZE64 or st_size), and an in-memory device
// that can simulate a crash by dropping every write from a given index on.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lib/md/format.h"

namespace drbd::md {

class Device {
 public:
  virtual ~Device() = default;
  // Size in bytes.
  virtual uint64_t Size() const = 0;
  // Reads exactly dst.size() bytes at `off`; an error if that is not possible.
  virtual Status Read(uint64_t off, std::span<uint8_t> dst) = 0;
  // Writes all of `src` at `off`; durable when Flush() returns ok.
  virtual Status Write(uint64_t off, std::span<const uint8_t> src) = 0;
  virtual Status Flush() = 0;
  // Zeroes `len` bytes at `off` (BLKZEROOUT on block devices). Returns an
  // error if the fast path is unavailable; callers then fall back to Write.
  virtual Status ZeroOut(uint64_t off, uint64_t len) = 0;
};

// A block device or regular file.
class FileDevice : public Device {
 public:
  // Opens `path` (read-write unless read_only). `exclusive` adds O_EXCL,
  // which the kernel honours for block devices (EBUSY while in use).
  // On failure returns nullptr, sets *status and, if given, *saved_errno.
  static std::unique_ptr<FileDevice> Open(const std::string& path, bool read_only, bool exclusive,
                                          Status* status, int* saved_errno = nullptr);
  ~FileDevice() override;
  uint64_t Size() const override { return size_; }
  bool is_block_device() const { return is_block_; }
  // Logical sector size (BLKSSZGET); 0 if the ioctl failed.
  int hard_sector_size() const { return hard_sect_; }
  Status Read(uint64_t off, std::span<uint8_t> dst) override;
  // Writes whose buffer address, offset and length are 4 KiB-aligned and at
  // least kDirectMinBytes long go through O_DIRECT when available.
  Status Write(uint64_t off, std::span<const uint8_t> src) override;
  static constexpr size_t kDirectMinBytes = 1 << 20;
  Status Flush() override;
  Status ZeroOut(uint64_t off, uint64_t len) override;
  // errno of the last failed ZeroOut.
  int zeroout_errno() const { return zeroout_errno_; }
  // The open file descriptor (shown in drbdmeta's I/O traces).
  int fd() const { return fd_; }

 private:
  FileDevice() = default;
  int fd_ = -1;
  // The same file opened O_DIRECT (-1 where that is not supported): large
  // aligned writes (bitmap zeroing) bypass the page cache, as drbdmeta's
  // do, instead of dirtying hundreds of MiB that fsync must then flush.
  int direct_fd_ = -1;
  uint64_t size_ = 0;
  bool is_block_ = false;
  int hard_sect_ = 0;
  int zeroout_errno_ = 0;
};

// In-memory device for tests and fuzzing. With fail_from_write set, every
// write with index >= that value (0-based count of Write/ZeroOut calls) is
// dropped and reported as an error: a crash at that point.
class MemDevice : public Device {
 public:
  explicit MemDevice(uint64_t size) : data_(size, 0) {}
  explicit MemDevice(std::vector<uint8_t> data) : data_(std::move(data)) {}
  uint64_t Size() const override { return data_.size(); }
  Status Read(uint64_t off, std::span<uint8_t> dst) override;
  Status Write(uint64_t off, std::span<const uint8_t> src) override;
  Status Flush() override { return Status(); }
  Status ZeroOut(uint64_t off, uint64_t len) override;
  void set_fail_from_write(int64_t n) { fail_from_ = n; }
  int64_t writes() const { return writes_; }
  std::vector<uint8_t>& data() { return data_; }

 private:
  std::vector<uint8_t> data_;
  int64_t fail_from_ = -1;
  int64_t writes_ = 0;
};

}  // namespace drbd::md
