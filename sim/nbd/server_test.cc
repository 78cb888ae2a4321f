// SPDX-License-Identifier: GPL-2.0-or-later
// The NBD server over a real Unix socket: a blocking client in the test
// thread does the fixed-newstyle handshake and READ/WRITE/FLUSH/TRIM
// against an in-memory target on the server's loop thread; an open the
// target refuses is answered with the target's reason; Stop() removes the
// socket file and releases the device.
#include "sim/nbd/server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

namespace drbd::nbd {
namespace {

class MemTarget : public BlockTarget {
 public:
  explicit MemTarget(asio::io_context& io) : io_(io), bytes(1 << 20, 0) {}
  std::optional<Export> Describe(uint32_t minor) override {
    if (minor != 0) return std::nullopt;
    return Export{"drbd0", "r0/0", bytes.size(), false};
  }
  uint64_t Open(uint32_t minor, Export* out, int* err, std::string* why) override {
    if (refuse) {
      *err = EMEDIUMTYPE;
      *why = "open of /dev/drbd0 failed: Wrong medium type";
      return 0;
    }
    *out = *Describe(minor);
    ++opens;
    return 42;
  }
  void Close(uint64_t h) override {
    EXPECT_EQ(h, 42u);
    ++closes;
  }
  void Read(uint64_t, uint64_t off, uint32_t len, ReadDone done) override {
    std::vector<uint8_t> d(bytes.begin() + static_cast<ptrdiff_t>(off),
                           bytes.begin() + static_cast<ptrdiff_t>(off + len));
    asio::post(io_, [done, d] { done(0, d); });
  }
  void Write(uint64_t, uint64_t off, std::vector<uint8_t> data, bool, Done done) override {
    std::copy(data.begin(), data.end(), bytes.begin() + static_cast<ptrdiff_t>(off));
    asio::post(io_, [done] { done(0); });
  }
  void Zero(uint64_t, uint64_t off, uint32_t len, bool, Done done) override {
    std::fill_n(bytes.begin() + static_cast<ptrdiff_t>(off), len, 0);
    asio::post(io_, [done] { done(0); });
  }
  void Flush(uint64_t, Done done) override {
    asio::post(io_, [done] { done(EIO); });  // reported to the client as NBD_EIO
  }
  asio::io_context& io_;
  std::vector<uint8_t> bytes;
  std::atomic<bool> refuse{false};
  std::atomic<int> opens{0}, closes{0};
};

// Blocking client helpers.
void SendAll(int fd, const std::vector<uint8_t>& b) {
  ASSERT_EQ(::send(fd, b.data(), b.size(), 0), static_cast<ssize_t>(b.size()));
}
std::vector<uint8_t> RecvN(int fd, size_t n) {
  std::vector<uint8_t> b(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd, b.data() + got, n - got, 0);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  b.resize(got);
  return b;
}
void Put(std::vector<uint8_t>& o, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) o.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t Get(const std::vector<uint8_t>& b, size_t p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | b[p + i];
  return v;
}

class NbdServer : public ::testing::Test {
 protected:
  NbdServer() : target(io), server(io, &target) {
    dir = std::filesystem::temp_directory_path() / ("nbd-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    path = (dir / "drbd0.nbd").string();
    std::string err;
    EXPECT_TRUE(server.ListenUnix(0, path, &err)) << err;
    guard = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        io.get_executor());
    thread = std::thread([this] { io.run(); });
  }
  ~NbdServer() override {
    asio::post(io, [this] { server.StopAll(); });
    guard.reset();
    io.stop();
    thread.join();
    std::filesystem::remove_all(dir);
  }
  int Connect() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    return fd;
  }
  // Handshake with GO; returns the final option reply type.
  uint32_t Go(int fd, std::string* error_text = nullptr) {
    auto greet = RecvN(fd, 18);
    EXPECT_EQ(Get(greet, 0, 8), kNbdMagic);
    std::vector<uint8_t> o;
    Put(o, 3, 4);
    Put(o, kOptMagic, 8);
    Put(o, kOptGo, 4);
    Put(o, 4 + 5 + 2, 4);
    Put(o, 5, 4);
    o.insert(o.end(), {'d', 'r', 'b', 'd', '0'});
    Put(o, 0, 2);
    SendAll(fd, o);
    while (true) {
      auto h = RecvN(fd, 20);
      if (h.size() < 20) return 0;
      uint32_t type = static_cast<uint32_t>(Get(h, 12, 4));
      auto data = RecvN(fd, Get(h, 16, 4));
      if (type == kRepInfo) continue;
      if (error_text) *error_text = std::string(data.begin(), data.end());
      return type;
    }
  }
  std::vector<uint8_t> Req(Cmd cmd, uint64_t cookie, uint64_t off, uint32_t len) {
    std::vector<uint8_t> o;
    Put(o, kRequestMagic, 4);
    Put(o, 0, 2);
    Put(o, static_cast<uint16_t>(cmd), 2);
    Put(o, cookie, 8);
    Put(o, off, 8);
    Put(o, len, 4);
    return o;
  }
  // Reads one simple reply; returns (cookie, error).
  std::pair<uint64_t, uint32_t> Reply(int fd) {
    auto r = RecvN(fd, 16);
    EXPECT_EQ(r.size(), 16u);
    if (r.size() < 16) return {0, ~0u};
    EXPECT_EQ(Get(r, 0, 4), kSimpleReplyMagic);
    return {Get(r, 8, 8), static_cast<uint32_t>(Get(r, 4, 4))};
  }

  asio::io_context io;
  MemTarget target;
  Server server;
  std::filesystem::path dir;
  std::string path;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
};

TEST_F(NbdServer, WriteReadTrimFlushDisc) {
  int fd = Connect();
  ASSERT_EQ(Go(fd), kRepAck);
  std::vector<uint8_t> w = Req(Cmd::kWrite, 1, 4096, 1024);
  w.insert(w.end(), 1024, 0xcd);
  SendAll(fd, w);
  EXPECT_EQ(Reply(fd), (std::pair<uint64_t, uint32_t>{1, 0}));
  SendAll(fd, Req(Cmd::kRead, 2, 4096, 1024));
  EXPECT_EQ(Reply(fd), (std::pair<uint64_t, uint32_t>{2, 0}));
  EXPECT_EQ(RecvN(fd, 1024), std::vector<uint8_t>(1024, 0xcd));
  SendAll(fd, Req(Cmd::kTrim, 3, 4096, 512));
  EXPECT_EQ(Reply(fd), (std::pair<uint64_t, uint32_t>{3, 0}));
  SendAll(fd, Req(Cmd::kRead, 4, 4096, 1024));
  EXPECT_EQ(Reply(fd).second, 0u);
  auto d = RecvN(fd, 1024);
  EXPECT_EQ(d[0], 0);
  EXPECT_EQ(d[600], 0xcd);
  SendAll(fd, Req(Cmd::kFlush, 5, 0, 0));
  EXPECT_EQ(Reply(fd), (std::pair<uint64_t, uint32_t>{5, kEio}));
  SendAll(fd, Req(Cmd::kDisc, 6, 0, 0));
  EXPECT_TRUE(RecvN(fd, 1).empty());  // the server hangs up
  ::close(fd);
  for (int i = 0; i < 200 && target.closes == 0; ++i) usleep(5000);
  EXPECT_EQ(target.opens, 1);
  EXPECT_EQ(target.closes, 1);
}

TEST_F(NbdServer, RefusedOpenCarriesTheReason) {
  target.refuse = true;
  int fd = Connect();
  std::string text;
  EXPECT_EQ(Go(fd, &text), kRepErrPolicy);
  EXPECT_EQ(text, "open of /dev/drbd0 failed: Wrong medium type");
  ::close(fd);
}

TEST_F(NbdServer, StopRemovesTheSocketAndReleasesClients) {
  int fd = Connect();
  ASSERT_EQ(Go(fd), kRepAck);
  asio::post(io, [this] { server.Stop(0); });
  EXPECT_TRUE(RecvN(fd, 1).empty());
  ::close(fd);
  for (int i = 0; i < 200 && target.closes == 0; ++i) usleep(5000);
  EXPECT_EQ(target.closes, 1);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace drbd::nbd
