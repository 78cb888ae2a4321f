// SPDX-License-Identifier: GPL-2.0-or-later
// WriteQueue on a live io_context and a local socket pair: every queued
// byte arrives in order, each gathered write respects the buffer and
// byte bounds, and written buffers are handed to the release function.
#include "sim/real/write_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace drbd::real {
namespace {

std::vector<std::vector<uint8_t>> released;
void Release(std::vector<uint8_t> b) { released.push_back(std::move(b)); }

// Queues buffers of `sizes` (buffer i filled with byte i), writes them
// all; returns how many buffers had been released after each gathered
// write, and checks the bytes arrive in order.
std::vector<size_t> WriteAll(const std::vector<size_t>& sizes, size_t max_buffers,
                             size_t max_bytes) {
  asio::io_context io;
  asio::local::stream_protocol::socket a(io), b(io);
  asio::local::connect_pair(a, b);
  released.clear();
  WriteQueue q(max_buffers, max_bytes, Release);
  std::vector<uint8_t> want;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::vector<uint8_t> buf(sizes[i], static_cast<uint8_t>(i));
    want.insert(want.end(), buf.begin(), buf.end());
    q.Push(std::move(buf));
  }
  std::vector<size_t> writes;
  std::function<void(const asio::error_code&)> next = [&](const asio::error_code& ec) {
    EXPECT_FALSE(ec);
    writes.push_back(released.size());
    if (!q.empty()) q.WriteHead(a, next);
  };
  q.WriteHead(a, next);
  EXPECT_TRUE(q.writing());
  std::vector<uint8_t> got(want.size());
  asio::async_read(b, asio::buffer(got),
                   [](const asio::error_code& ec, size_t) { EXPECT_FALSE(ec); });
  io.run();
  EXPECT_EQ(got, want);
  EXPECT_FALSE(q.writing());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(released.size(), sizes.size());
  for (size_t i = 0; i < released.size(); ++i) {
    EXPECT_EQ(released[i], std::vector<uint8_t>(sizes[i], static_cast<uint8_t>(i))) << i;
  }
  return writes;
}

TEST(WriteQueue, AGatheredWriteTakesAtMostMaxBuffers) {
  EXPECT_EQ(WriteAll(std::vector<size_t>(10, 10), 4, 1000), (std::vector<size_t>{4, 8, 10}));
}

TEST(WriteQueue, AGatheredWriteStaysUnderMaxBytesUnlessOneBufferExceedsIt) {
  // 300-byte buffers: 3 fit under 1000 bytes; the 2500-byte one (the
  // 10th) goes alone.
  std::vector<size_t> sizes(20, 300);
  sizes[9] = 2500;
  EXPECT_EQ(WriteAll(sizes, 64, 1000), (std::vector<size_t>{3, 6, 9, 10, 13, 16, 19, 20}));
}

}  // namespace
}  // namespace drbd::real
