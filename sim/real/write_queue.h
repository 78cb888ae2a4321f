// SPDX-License-Identifier: GPL-2.0-or-later
// WriteQueue: the outgoing byte buffers of one Asio stream socket, sent in
// gathered writes (one writev of the queue's head) instead of one send per
// buffer. Shared by the peer-protocol TCP stream (sim/real/real_env.cc) and
// the NBD server's connections (sim/nbd/server.cc): acks, replies and block
// data queue up in bursts, and a burst leaves in one syscall. Header-only
// (Asio only), so that sim/nbd needs no link to sim/real.
#pragma once

#include <asio.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <utility>
#include <vector>

namespace drbd::real {

class WriteQueue {
 public:
  // A gathered write takes at most `max_buffers` buffers and, beyond its
  // first buffer, at most `max_bytes` bytes. Written buffers are handed to
  // `release` (e.g. proto::RecycleFrame) when set, else freed.
  explicit WriteQueue(size_t max_buffers = 64,
                      size_t max_bytes = std::numeric_limits<size_t>::max(),
                      void (*release)(std::vector<uint8_t>) = nullptr)
      : max_buffers_(max_buffers), max_bytes_(max_bytes), release_(release) {}

  void Push(std::vector<uint8_t> bytes) { queue_.push_back(std::move(bytes)); }
  bool empty() const { return queue_.empty(); }
  // A gathered write is in flight (its buffers must stay queued until it ends).
  bool writing() const { return writing_; }
  // Drops the queued buffers. REQUIRES: !writing().
  void Clear() { queue_.clear(); }

  // Writes the queue's head to `sock` in one gathered async_write; when it
  // ends, the written buffers leave the queue and `done(ec)` runs (it may
  // call WriteHead again). The caller keeps this queue alive until then
  // (its `done` holds the owner). REQUIRES: !empty() && !writing().
  template <typename Socket, typename Done>
  void WriteHead(Socket& sock, Done done) {
    gather_.clear();
    size_t bytes = 0;
    for (const auto& b : queue_) {
      bool full = bytes > 0 && (bytes >= max_bytes_ || b.size() > max_bytes_ - bytes);
      if (gather_.size() == max_buffers_ || full) break;
      gather_.push_back(asio::buffer(b));
      bytes += b.size();
    }
    writing_ = true;
    // Each sendmsg takes all that is left: asio's default transfer_all()
    // caps one at 64 KiB, 16 syscalls for a 1 MiB DATA frame.
    auto all_left = [](const asio::error_code& ec, size_t) -> size_t {
      return ec ? 0 : std::numeric_limits<size_t>::max();
    };
    asio::async_write(sock, gather_, all_left,
                      [this, done = std::move(done)](const asio::error_code& ec, size_t) mutable {
                        writing_ = false;
                        for (size_t i = 0; i < gather_.size(); ++i) {
                          if (release_ != nullptr) release_(std::move(queue_.front()));
                          queue_.pop_front();
                        }
                        gather_.clear();
                        done(ec);
                      });
  }

 private:
  size_t max_buffers_;
  size_t max_bytes_;
  void (*release_)(std::vector<uint8_t>);
  std::deque<std::vector<uint8_t>> queue_;
  std::vector<asio::const_buffer> gather_;  // the head of queue_, being written
  bool writing_ = false;
};

}  // namespace drbd::real
