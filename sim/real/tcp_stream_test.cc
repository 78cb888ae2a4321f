// SPDX-License-Identifier: GPL-2.0-or-later
// The real env's TCP streams on a live io_context, over loopback: frames
// the kernel does not put on the wire at once (P_BARRIER when the sender
// is idle, P_PEER_ACK batched) wait in the stream's queue, leave with the
// next frame sent at once and never change the order of the frames. Under
// AsioNet::Run (the daemon's loop) a P_BARRIER waits until the loop has
// nothing ready, for at most AsioNet::kIdleEvery handlers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "sim/proto/wire.h"
#include "sim/real/real_env.h"

namespace drbd::real {
namespace {

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), len), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A connected pair of streams on one loop; what reaches the accepting
// side is decoded into `got`.
class TcpStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::Address at{sim::Address::Family::kIpv4, "127.0.0.1", FreePort()};
    sim::NetError err = sim::NetError::kNone;
    ASSERT_NE(net.Listen(
                  at,
                  [this](std::unique_ptr<sim::Stream> s) {
                    server = std::move(s);
                    server->Start({[this](std::span<const uint8_t> b) {
                                     dec.Feed(b);
                                     while (auto m = dec.Next()) got.push_back(proto::TypeOf(*m));
                                   },
                                   nullptr});
                  },
                  &err),
              0u);
    net.Connect(sim::Address{sim::Address::Family::kIpv4, "127.0.0.1", 0}, at,
                [this](std::unique_ptr<sim::Stream> s, sim::NetError) { client = std::move(s); });
    RunUntil([this] { return client && server; });
    ASSERT_TRUE(client && server);
    client->Start({nullptr, nullptr});
  }
  template <typename Pred>
  void RunUntil(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
      io.run_for(std::chrono::milliseconds(1));
    }
  }
  asio::io_context io;
  AsioNet net{io};
  std::unique_ptr<sim::Stream> client, server;
  proto::Decoder dec;
  std::vector<proto::MsgType> got;
};

TEST_F(TcpStreamTest, HeldFramesLeaveWithTheNextFrameInOrder) {
  client->Send(proto::Encode(proto::PeerAck{0, 1, 1, 3}));
  client->Send(proto::Encode(proto::Barrier{7}));
  client->Send(proto::Encode(proto::Ping{}));
  RunUntil([this] { return got.size() >= 3; });
  EXPECT_EQ(got, (std::vector<proto::MsgType>{proto::MsgType::kPeerAck, proto::MsgType::kBarrier,
                                              proto::MsgType::kPing}));
}

TEST_F(TcpStreamTest, BarrierAloneLeavesWithoutCompany) {
  client->Send(proto::Encode(proto::Barrier{7}));
  // Well below the peer-ack delay: the barrier does not wait for a timer.
  RunUntil([this] { return !got.empty(); }, std::chrono::milliseconds(60));
  EXPECT_EQ(got, (std::vector<proto::MsgType>{proto::MsgType::kBarrier}));
}

TEST_F(TcpStreamTest, PeerAckAloneWaitsForThePeerAckDelay) {
  auto t0 = std::chrono::steady_clock::now();
  client->Send(proto::Encode(proto::PeerAck{0, 1, 1, 3}));
  io.run_for(std::chrono::milliseconds(30));
  EXPECT_TRUE(got.empty());  // drbd_req_destroy's peer_ack_timer: not yet
  RunUntil([this] { return !got.empty(); });
  EXPECT_EQ(got, (std::vector<proto::MsgType>{proto::MsgType::kPeerAck}));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
}

TEST_F(TcpStreamTest, CloseWritesHeldFrames) {
  client->Send(proto::Encode(proto::PeerAck{0, 1, 1, 3}));
  client->Close();
  RunUntil([this] { return !got.empty(); });
  EXPECT_EQ(got, (std::vector<proto::MsgType>{proto::MsgType::kPeerAck}));
}

// Runs `net.Run()` (the daemon's loop, with its idle hook) until `done`
// or a 10 s limit.
template <typename Pred>
void RunNetUntil(asio::io_context& io, AsioNet& net, Pred done) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  asio::steady_timer check(io);
  std::function<void()> arm = [&] {
    check.expires_after(std::chrono::milliseconds(1));
    check.async_wait([&](const asio::error_code& ec) {
      if (ec) return;
      if (done() || std::chrono::steady_clock::now() > end) return io.stop();
      arm();
    });
  };
  arm();
  net.Run();
  io.restart();
}

// A chain of `n` handlers, each posting the next; the last stores how many
// frames the server had decoded by then.
void PostChain(asio::io_context& io, int n, const std::vector<proto::MsgType>& got, size_t* seen) {
  asio::post(io, [&io, n, &got, seen] {
    if (n == 1) {
      *seen = got.size();
      return;
    }
    PostChain(io, n - 1, got, seen);
  });
}

TEST_F(TcpStreamTest, UnderRunABarrierWaitsUntilTheLoopHasNothingReady) {
  size_t seen = 99;
  asio::post(io, [&] {
    client->Send(proto::Encode(proto::Barrier{7}));
    PostChain(io, 50, got, &seen);  // e.g. the write's NBD reply, a few handlers on
  });
  RunNetUntil(io, net, [&] { return !got.empty(); });
  EXPECT_EQ(seen, 0u);  // not written while handlers were ready
  EXPECT_EQ(got, (std::vector<proto::MsgType>{proto::MsgType::kBarrier}));
}

TEST_F(TcpStreamTest, UnderRunABarrierLeavesEvenIfTheLoopNeverIdles) {
  size_t seen = 99;
  asio::post(io, [&] {
    client->Send(proto::Encode(proto::Barrier{7}));
    PostChain(io, 20 * AsioNet::kIdleEvery, got, &seen);
  });
  RunNetUntil(io, net, [&] { return seen != 99; });
  EXPECT_EQ(seen, 1u);  // written after kIdleEvery handlers, received meanwhile
}

TEST(FrameType, IsTheEncodedMessagesType) {
  EXPECT_EQ(proto::FrameType(proto::Encode(proto::Barrier{1})), proto::MsgType::kBarrier);
  EXPECT_EQ(proto::FrameType(proto::Encode(proto::PeerAck{})), proto::MsgType::kPeerAck);
  EXPECT_EQ(proto::FrameType(std::vector<uint8_t>(3)), std::nullopt);
}

}  // namespace
}  // namespace drbd::real
