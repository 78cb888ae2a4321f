// SPDX-License-Identifier: GPL-2.0-or-later
// FileDevice on a temporary image file: buffered and O_DIRECT writes (large
// aligned ones) land in the same file and read back alike.
#include "lib/md/device.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

namespace drbd::md {
namespace {

TEST(FileDevice, LargeAlignedAndSmallWritesReadBackAlike) {
  char dir[] = "/tmp/md_device_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/img";
  {
    std::ofstream(path).close();
    std::filesystem::resize_file(path, 8 << 20);
  }
  Status st;
  std::unique_ptr<FileDevice> dev = FileDevice::Open(path, false, true, &st);
  ASSERT_NE(dev, nullptr) << st.message();
  EXPECT_EQ(dev->Size(), 8u << 20);
  // 2 MiB, 4 KiB-aligned in memory and on disk: the O_DIRECT candidate.
  const size_t big = 2 << 20;
  std::unique_ptr<uint8_t, decltype(&std::free)> buf(static_cast<uint8_t*>(std::aligned_alloc(4096, big)),
                                                     &std::free);
  ASSERT_NE(buf, nullptr);
  for (size_t i = 0; i < big; ++i) buf.get()[i] = static_cast<uint8_t>(i * 7 + 1);
  ASSERT_TRUE(dev->Write(1 << 20, std::span<const uint8_t>(buf.get(), big)).ok());
  // A small unaligned write into the same range afterwards (buffered).
  const uint8_t small[3] = {0xAA, 0xBB, 0xCC};
  ASSERT_TRUE(dev->Write((1 << 20) + 4097, small).ok());
  ASSERT_TRUE(dev->Flush().ok());
  std::vector<uint8_t> back(big);
  ASSERT_TRUE(dev->Read(1 << 20, back).ok());
  buf.get()[4097] = 0xAA;
  buf.get()[4098] = 0xBB;
  buf.get()[4099] = 0xCC;
  EXPECT_EQ(0, std::memcmp(back.data(), buf.get(), big));
  // Reading past the end is an error, not a short success.
  std::vector<uint8_t> tail(8192);
  EXPECT_FALSE(dev->Read((8 << 20) - 4096, tail).ok());
  dev.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace drbd::md
