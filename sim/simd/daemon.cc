// SPDX-License-Identifier: GPL-2.0-or-later
// drbd-simd: engine + real env + genl socket server + signals + sd_notify.
#include "sim/simd/daemon.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <asio.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <map>

#include "sim/engine/engine.h"
#include "sim/real/real_env.h"
#include "sim/simd/genl_endpoint.h"

namespace drbd::simd {
namespace {

using SeqProto = asio::generic::seq_packet_protocol;
using SeqSocket = asio::basic_seq_packet_socket<SeqProto>;
using SeqAcceptor = asio::basic_socket_acceptor<SeqProto>;

// Writes log lines to stderr and forwards notifications to the endpoint.
class DaemonSink : public sim::EventSink {
 public:
  DaemonSink(std::string node, bool quiet) : node_(std::move(node)), quiet_(quiet) {}
  void OnEvent(const events::Notification& n) override {
    if (ep_) ep_->Publish(n);
  }
  void OnLog(std::string_view line) override {
    if (!quiet_) std::cerr << "[" << node_ << "] " << line << "\n";
  }
  GenlEndpoint* ep_ = nullptr;

 private:
  std::string node_;
  bool quiet_;
};

// The Unix socket: one SEQPACKET connection per client, one netlink
// datagram per packet.
class GenlServer {
 public:
  GenlServer(asio::io_context& io, std::string path, GenlEndpoint& ep)
      : io_(io), path_(std::move(path)), ep_(ep), acceptor_(io) {}

  bool Start(std::string* err) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(sa.sun_path)) {
      *err = "socket path too long";
      return false;
    }
    std::memcpy(sa.sun_path, path_.c_str(), path_.size() + 1);
    ::unlink(path_.c_str());  // a stale socket of an earlier run
    asio::error_code ec;
    SeqProto::endpoint ep(&sa, sizeof(sa));
    acceptor_.open(SeqProto(AF_UNIX, 0), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      *err = ec.message();
      return false;
    }
    Accept();
    return true;
  }

  void Stop() {
    asio::error_code ignored;
    acceptor_.close(ignored);
    for (auto& [id, c] : clients_) c->sock.close(ignored);
    clients_.clear();
    ::unlink(path_.c_str());
  }

 private:
  struct Client {
    explicit Client(asio::io_context& io) : sock(io) {}
    SeqSocket sock;
    std::vector<uint8_t> buf = std::vector<uint8_t>(1 << 16);
    asio::socket_base::message_flags out_flags = 0;
  };

  void Accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, SeqSocket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto c = std::make_shared<Client>(io_);
        c->sock = std::move(s);
        uint64_t id = next_++;
        clients_[id] = c;
        Receive(id, c);
      }
      Accept();
    });
  }

  void Receive(uint64_t id, std::shared_ptr<Client> c) {
    c->sock.async_receive(asio::buffer(c->buf), 0, c->out_flags,
                          [this, id, c](const asio::error_code& ec, size_t n) {
                            if (ec || n == 0) {
                              ep_.DropClient(id);
                              clients_.erase(id);
                              return;
                            }
                            std::weak_ptr<Client> weak = c;
                            ep_.OnDatagram(id, std::span<const uint8_t>(c->buf.data(), n),
                                           [weak](std::vector<uint8_t> d) {
                                             auto cl = weak.lock();
                                             if (!cl || d.empty()) return;
                                             asio::error_code ignored;
                                             cl->sock.send(asio::buffer(d), 0, ignored);
                                           });
                            if (clients_.count(id)) Receive(id, c);
                          });
  }

  asio::io_context& io_;
  std::string path_;
  GenlEndpoint& ep_;
  SeqAcceptor acceptor_;
  std::map<uint64_t, std::shared_ptr<Client>> clients_;
  uint64_t next_ = 1;
};

}  // namespace

int RunDaemon(const DaemonOptions& opt) {
  asio::io_context io;
  real::AsioClock clock(io);
  real::AsioNet net(io);
  real::FileDisks disks(io);
  real::DeviceRng rng;
  DaemonSink sink(opt.node, opt.quiet);
  engine::Engine engine(opt.node, sim::Env{&clock, &net, &disks, &rng, &sink});
  GenlEndpoint ep(&engine);
  sink.ep_ = &ep;
  GenlServer server(io, opt.socket, ep);
  std::string err;
  if (!server.Start(&err)) {
    std::cerr << "drbd-simd: cannot listen on " << opt.socket << ": " << err << "\n";
    return 20;
  }
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const asio::error_code& ec, int) {
    if (ec) return;
    sd_notify(0, "STOPPING=1");
    for (const std::string& res : engine.ResourceNames()) {
      engine::Ctx ctx;
      ctx.resource = res;
      engine.Down(ctx);
    }
    server.Stop();
    // Let the goodbye messages to peers go out, then stop.
    auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
    t->async_wait([&io, t](const asio::error_code&) { io.stop(); });
  });
  std::signal(SIGPIPE, SIG_IGN);
  if (!opt.quiet) std::cerr << "[" << opt.node << "] drbd-simd listening on " << opt.socket << "\n";
  sd_notify(0, "READY=1");
  io.run();
  return 0;
}

}  // namespace drbd::simd
