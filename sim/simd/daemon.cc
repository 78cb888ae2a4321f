// SPDX-License-Identifier: GPL-2.0-or-later
// drbd-simd: engine + real env + genl socket server + NBD exports +
// signals + sd_notify.
#include "sim/simd/daemon.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <asio.hpp>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

#include "sim/engine/engine.h"
#include "sim/nbd/server.h"
#include "sim/real/helper_runner.h"
#include "sim/real/real_env.h"
#include "sim/simd/genl_endpoint.h"

namespace drbd::simd {
namespace {

using SeqProto = asio::generic::seq_packet_protocol;
using SeqSocket = asio::basic_seq_packet_socket<SeqProto>;
using SeqAcceptor = asio::basic_socket_acceptor<SeqProto>;

// The engine's devices as NBD block targets.
class EngineTarget : public nbd::BlockTarget {
 public:
  explicit EngineTarget(engine::Engine& e) : e_(e) {}

  // Minor -> "resource/volume", kept from device notifications.
  std::map<uint32_t, std::string> names;

  std::optional<nbd::Export> Describe(uint32_t minor) override {
    std::optional<uint64_t> size = e_.DeviceBytes(minor);
    if (!size) return std::nullopt;
    nbd::Export x;
    x.name = "drbd" + std::to_string(minor);
    auto it = names.find(minor);
    x.description = it == names.end() ? "" : it->second;
    x.size = *size;
    x.read_only = !e_.DeviceMayWrite(minor);
    return x;
  }
  uint64_t Open(uint32_t minor, nbd::Export* out, int* err, std::string* why) override {
    std::optional<nbd::Export> x = Describe(minor);
    if (!x) {
      *err = ENODEV;
      *why = "no such device";
      return 0;
    }
    uint64_t h = e_.OpenDevice(minor, err);
    if (h == 0) {
      *why = "open of /dev/drbd" + std::to_string(minor) + " failed: " + std::strerror(*err);
      return 0;
    }
    *out = *x;
    return h;
  }
  void Close(uint64_t handle) override { e_.CloseDevice(handle); }
  void Read(uint64_t handle, uint64_t offset, uint32_t len, ReadDone done) override {
    e_.IoRead(handle, offset, len, std::move(done));
  }
  void Write(uint64_t handle, uint64_t offset, std::vector<uint8_t> data, bool fua,
             Done done) override {
    e_.IoWrite(handle, offset, std::move(data), fua, std::move(done));
  }
  void Flush(uint64_t handle, Done done) override { e_.IoFlush(handle, std::move(done)); }
  // Zeroes in 1 MiB writes, one after the other (replicated as any write).
  void Zero(uint64_t handle, uint64_t offset, uint32_t len, bool fua, Done done) override {
    constexpr uint32_t kStep = 1 << 20;
    uint32_t n = std::min(len, kStep);
    bool last = n == len;
    e_.IoWrite(handle, offset, std::vector<uint8_t>(n, 0), fua && last,
               [this, handle, offset, len, n, fua, last, done](int err) {
                 if (err || last) return done(err);
                 Zero(handle, offset + n, len - n, fua, done);
               });
  }

 private:
  engine::Engine& e_;
};

// Opens and closes the NBD export of each minor as devices come and go.
class NbdExports {
 public:
  NbdExports(asio::io_context& io, nbd::Server& server, EngineTarget& target, std::string dir,
             std::string tcp_host, int tcp_base, std::function<void(std::string)> log)
      : io_(io),
        server_(server),
        target_(target),
        dir_(std::move(dir)),
        tcp_host_(std::move(tcp_host)),
        tcp_base_(tcp_base),
        log_(std::move(log)) {}

  // Called for every engine notification; listener changes run as a later
  // event so that closing clients never re-enters the engine.
  void OnEvent(const events::Notification& n) {
    const auto* d = std::get_if<events::Device>(&n.object);
    if (!d) return;
    uint32_t minor = d->minor;
    if (n.type == events::NotifyType::kCreate) {
      target_.names[minor] = d->resource + "/" + std::to_string(d->volume);
      asio::post(io_, [this, minor] { Export(minor); });
    } else if (n.type == events::NotifyType::kDestroy) {
      target_.names.erase(minor);
      asio::post(io_, [this, minor] { server_.Stop(minor); });
    }
  }

 private:
  void Export(uint32_t minor) {
    if (!target_.names.count(minor)) return;
    server_.Stop(minor);
    std::string err;
    std::string path = (std::filesystem::path(dir_) / ("drbd" + std::to_string(minor) + ".nbd"));
    if (!server_.ListenUnix(minor, path, &err)) {
      log_("nbd: cannot listen on " + path + ": " + err);
    }
    if (tcp_base_ >= 0) {
      int port = tcp_base_ + static_cast<int>(minor);
      if (port > 65535 || !server_.ListenTcp(minor, tcp_host_, static_cast<uint16_t>(port), &err)) {
        log_("nbd: cannot listen on " + tcp_host_ + ":" + std::to_string(port) + ": " + err);
      }
    }
  }

  asio::io_context& io_;
  nbd::Server& server_;
  EngineTarget& target_;
  std::string dir_;
  std::string tcp_host_;
  int tcp_base_;
  std::function<void(std::string)> log_;
};

// Writes log lines to stderr and forwards notifications to the endpoint
// and the NBD exports.
class DaemonSink : public sim::EventSink {
 public:
  DaemonSink(std::string node, bool quiet) : node_(std::move(node)), quiet_(quiet) {}
  void OnEvent(const events::Notification& n) override {
    if (exports_) exports_->OnEvent(n);
    if (ep_) ep_->Publish(n);
  }
  void OnLog(std::string_view line) override {
    if (!quiet_) std::cerr << "[" << node_ << "] " << line << "\n";
  }
  GenlEndpoint* ep_ = nullptr;
  NbdExports* exports_ = nullptr;

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

  void Receive(uint64_t id, const std::shared_ptr<Client>& c) {
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

bool ParseFaultParams(const std::string& text, DaemonOptions* opt) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    std::string value = line.substr(eq + 1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
      value.pop_back();
    }
    uint32_t* field = key == "enable_faults" ? &opt->enable_faults
                      : key == "fault_rate"  ? &opt->fault_rate
                      : key == "fault_devs"  ? &opt->fault_devs
                                             : nullptr;
    if (!field) continue;
    errno = 0;
    char* end = nullptr;
    unsigned long v = std::strtoul(value.c_str(), &end, 0);
    if (value.empty() || *end != '\0' || errno != 0 || v > UINT32_MAX) return false;
    *field = static_cast<uint32_t>(v);
  }
  return true;
}

int RunDaemon(const DaemonOptions& opt) {
  real::KeepFreedMemory();
  asio::io_context io;
  real::AsioClock clock(io);
  real::AsioNet net(io);
  real::FileDisks disks(io);
  real::DeviceRng rng;
  DaemonSink sink(opt.node, opt.quiet);
  // Usermode helpers: argv and environment as the kernel's, plus
  // DRBD_SIM_SOCKET so that drbdadm/drbdsetup run by a handler reach this
  // node, plus --helper-env.
  std::string helper = opt.usermode_helper == "disabled" ? "" : opt.usermode_helper;
  std::vector<std::string> helper_env = {"DRBD_SIM_SOCKET=" + opt.socket};
  helper_env.insert(helper_env.end(), opt.helper_env.begin(), opt.helper_env.end());
  real::ProcessHelpers helpers(io, helper, helper_env, opt.helper_timeout_ms,
                               [&opt](const std::string& line) {
                                 if (!opt.quiet)
                                   std::cerr << "[" << opt.node << "] " << line << "\n";
                               });
  engine::Engine engine(
      opt.node, sim::Env{&clock, &net, &disks, &rng, &sink, helper.empty() ? nullptr : &helpers});
  GenlEndpoint ep(&engine);
  sink.ep_ = &ep;
  // NBD exports: DIR/drbdN.nbd, and TCP BASEPORT+N with --nbd-tcp.
  std::string tcp_host;
  int tcp_base = -1;
  if (!opt.nbd_tcp.empty()) {
    size_t colon = opt.nbd_tcp.rfind(':');
    if (colon == std::string::npos || colon + 1 == opt.nbd_tcp.size()) {
      std::cerr << "drbd-simd: --nbd-tcp wants ADDR:BASEPORT, got '" << opt.nbd_tcp << "'\n";
      return 1;
    }
    tcp_host = opt.nbd_tcp.substr(0, colon);
    if (tcp_host.size() >= 2 && tcp_host.front() == '[' && tcp_host.back() == ']') {
      tcp_host = tcp_host.substr(1, tcp_host.size() - 2);
    }
    std::string port = opt.nbd_tcp.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
        std::stoi(port) > 65535) {
      std::cerr << "drbd-simd: --nbd-tcp: bad port '" << port << "'\n";
      return 1;
    }
    tcp_base = std::stoi(port);
  }
  std::string nbd_dir = opt.nbd_dir;
  if (nbd_dir.empty()) {
    nbd_dir = std::filesystem::path(opt.socket).parent_path().string();
    if (nbd_dir.empty()) nbd_dir = ".";
  }
  auto log = [&opt](const std::string& line) {
    if (!opt.quiet) std::cerr << "[" << opt.node << "] " << line << "\n";
  };
  EngineTarget target(engine);
  nbd::Server nbd_server(io, &target, log);
  NbdExports exports(io, nbd_server, target, nbd_dir, tcp_host, tcp_base, log);
  sink.exports_ = &exports;
  GenlServer server(io, opt.socket, ep);
  std::string err;
  if (!server.Start(&err)) {
    std::cerr << "drbd-simd: cannot listen on " << opt.socket << ": " << err << "\n";
    return 20;
  }
  auto apply_faults = [&engine, &log](const DaemonOptions& o) {
    engine.SetFaults({o.enable_faults, o.fault_rate, o.fault_devs});
    if (o.fault_rate != 0) {
      log(fmt::format("fault injection: enable_faults={:#x} fault_rate={} fault_devs={:#x}",
                      o.enable_faults, o.fault_rate, o.fault_devs));
    }
  };
  apply_faults(opt);
  // SIGHUP: the fault parameters again from --fault-file.
  asio::signal_set hup(io, SIGHUP);
  std::function<void(const asio::error_code&, int)> on_hup = [&](const asio::error_code& ec, int) {
    if (ec) return;
    DaemonOptions o = opt;
    std::ifstream in(opt.fault_file);
    std::stringstream text;
    text << in.rdbuf();
    if (!opt.fault_file.empty() && in && ParseFaultParams(text.str(), &o)) {
      apply_faults(o);
    } else if (!opt.fault_file.empty()) {
      log("fault injection: cannot read " + opt.fault_file);
    }
    hup.async_wait(on_hup);
  };
  hup.async_wait(on_hup);
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const asio::error_code& ec, int) {
    if (ec) return;
    sd_notify(0, "STOPPING=1");
    nbd_server.StopAll();  // clients release their devices first
    for (const std::string& res : engine.ResourceNames()) {
      engine::Ctx ctx;
      ctx.resource = res;
      engine.Down(ctx);
    }
    server.Stop();
    hup.cancel();
    // Let the goodbye messages to peers go out, then stop.
    auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
    t->async_wait([&io, t](const asio::error_code&) { io.stop(); });
  });
  std::signal(SIGPIPE, SIG_IGN);
  if (!opt.quiet) {
    std::cerr << "[" << opt.node << "] drbd-simd listening on " << opt.socket << "\n";
    std::cerr << "[" << opt.node << "] usermode helper: " << (helper.empty() ? "disabled" : helper)
              << "\n";
  }
  sd_notify(0, "READY=1");
  net.Run();  // io.run(), plus the idle hook for held P_BARRIER frames
  sink.exports_ = nullptr;
  return 0;
}

}  // namespace drbd::simd
