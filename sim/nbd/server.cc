// SPDX-License-Identifier: GPL-2.0-or-later
// NBD listeners and connections on Asio. See server.h and
// docs/formats/nbd-export.md.
#include "sim/nbd/server.h"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <vector>

#include "sim/real/write_queue.h"

namespace drbd::nbd {

using GenericProto = asio::generic::stream_protocol;

uint32_t NbdError(int err) {
  switch (err) {
    case 0:
      return 0;
    case EPERM:
    case EROFS:
    case EACCES:
      return kEperm;
    case ENOSPC:
      return kEnospc;
    case EINVAL:
      return kEinval;
    case ENOMEM:
      return kEnomem;
    default:
      return kEio;
  }
}

struct Server::Listener {
  explicit Listener(asio::io_context& io) : acceptor(io) {}
  uint32_t minor = 0;
  asio::basic_socket_acceptor<GenericProto> acceptor;
  std::string unix_path;  // "" for TCP
  std::string where;      // for logs
};

// One client: the codec, the device handle, requests in flight and the
// queue of replies being written.
class Server::Conn : public std::enable_shared_from_this<Conn>, public ExportCatalog {
 public:
  Conn(Server* srv, uint64_t id, uint32_t minor, GenericProto::socket sock)
      : srv_(srv), id_(id), minor_(minor), sock_(std::move(sock)), codec_(this) {}

  void Start() {
    Queue(codec_.Greeting());
    DoRead();
  }
  // Hangs up; the handle is released once nothing is in flight.
  void Shutdown() {
    closing_ = true;
    CloseSocket();
    MaybeFinish();
  }
  uint32_t minor() const { return minor_; }

  // ExportCatalog.
  std::vector<Export> List() override {
    std::vector<Export> out;
    if (auto e = srv_->target_->Describe(minor_)) out.push_back(*e);
    return out;
  }
  uint32_t Lookup(std::string_view name, bool open, Export* out, std::string* why) override {
    std::optional<Export> e = srv_->target_->Describe(minor_);
    if (!e) {
      *why = fmt::format("minor {} does not exist", minor_);
      return kRepErrUnknown;
    }
    if (!name.empty() && name != e->name) {
      *why = fmt::format("unknown export '{}'; this socket serves '{}'", name, e->name);
      return kRepErrUnknown;
    }
    if (!open) {
      *out = *e;
      return kRepAck;
    }
    int err = 0;
    std::string text;
    uint64_t h = srv_->target_->Open(minor_, out, &err, &text);
    if (h == 0) {
      *why = text;
      srv_->Log(fmt::format("nbd {}: open refused: {}", e->name, text));
      return err == ENODEV ? kRepErrUnknown : kRepErrPolicy;
    }
    handle_ = h;
    srv_->Log(fmt::format("nbd {}: client connected ({})", out->name,
                          out->read_only ? "read-only" : "read-write"));
    return kRepAck;
  }

 private:
  void DoRead() {
    auto self = shared_from_this();
    sock_.async_read_some(asio::buffer(buf_), [self](const asio::error_code& ec, size_t n) {
      if (ec) {
        self->closing_ = true;
        self->CloseSocket();
        self->MaybeFinish();
        return;
      }
      self->codec_.Feed(std::span<const uint8_t>(self->buf_.data(), n));
      self->Pump();
      if (!self->closing_) self->DoRead();
    });
  }

  void Pump() {
    while (std::optional<Request> r = codec_.Next()) Execute(std::move(*r));
    Queue(codec_.TakeOutput());
    if (codec_.phase() == Phase::kClosed && !closing_) {
      const std::string& why = codec_.close_reason();
      if (why != "disconnect" && why != "abort")
        srv_->Log(fmt::format("nbd: dropping client: {}", why));
      closing_ = true;
      MaybeFinish();
    }
  }

  void Execute(Request r) {
    if (r.cmd == Cmd::kDisc) return;
    ++inflight_;
    auto self = shared_from_this();
    uint64_t cookie = r.cookie;
    auto done = [self, cookie](int err) { self->Complete(cookie, err, {}); };
    BlockTarget* t = srv_->target_;
    switch (r.cmd) {
      case Cmd::kRead:
        t->Read(handle_, r.offset, r.length, [self, cookie](int err, std::vector<uint8_t> d) {
          self->Complete(cookie, err, std::move(d));
        });
        break;
      case Cmd::kWrite:
        t->Write(handle_, r.offset, std::move(r.data), r.fua(), done);
        break;
      case Cmd::kFlush:
        t->Flush(handle_, done);
        break;
      case Cmd::kTrim:
      case Cmd::kWriteZeroes:
        t->Zero(handle_, r.offset, r.length, r.fua(), done);
        break;
      default:
        Complete(cookie, EINVAL, {});
        break;
    }
  }

  void Complete(uint64_t cookie, int err, std::vector<uint8_t> data) {
    --inflight_;
    if (sock_.is_open()) Queue(EncodeSimpleReply(cookie, NbdError(err), data));
    MaybeFinish();
  }

  void Queue(std::vector<uint8_t> bytes) {
    if (bytes.empty() || !sock_.is_open()) return;
    out_.Push(std::move(bytes));
    if (!out_.writing()) WriteNext();
  }

  void WriteNext() {
    if (out_.empty() || !sock_.is_open()) {
      out_.Clear();  // nothing is being written now
      MaybeFinish();
      return;
    }
    // The replies queued so far leave in one gathered write.
    out_.WriteHead(sock_, [self = shared_from_this()](const asio::error_code& ec) {
      if (ec) {
        self->closing_ = true;
        self->CloseSocket();
      }
      self->WriteNext();
    });
  }

  void CloseSocket() {
    asio::error_code ignored;
    if (sock_.is_open()) {
      sock_.shutdown(asio::socket_base::shutdown_both, ignored);
      sock_.close(ignored);
    }
    // Queued replies are dropped by WriteNext once the write in flight (if
    // any) completed: its buffer must live until then.
    if (!out_.writing()) out_.Clear();
  }

  // After a hang-up: once replies are out and nothing is in flight, the
  // device is released (auto-demote happens after the last write ended).
  void MaybeFinish() {
    if (!closing_ || finished_ || inflight_ > 0 || out_.writing()) return;
    CloseSocket();
    finished_ = true;
    if (handle_) srv_->target_->Close(handle_);
    handle_ = 0;
    Server* srv = srv_;
    uint64_t id = id_;
    asio::post(srv->io_, [srv, id] { srv->conns_.erase(id); });
  }

  Server* srv_;
  uint64_t id_;
  uint32_t minor_;
  GenericProto::socket sock_;
  ServerSession codec_;
  // One read takes what the socket has, up to this much (a 1 MiB write
  // arrives in a few reads).
  std::array<uint8_t, 256 * 1024> buf_{};
  real::WriteQueue out_;  // replies, up to 64 in one gathered write
  bool closing_ = false;
  bool finished_ = false;
  int inflight_ = 0;
  uint64_t handle_ = 0;
};

Server::Server(asio::io_context& io, BlockTarget* target, std::function<void(std::string)> log)
    : io_(io), target_(target), log_(std::move(log)) {}

Server::~Server() { StopAll(); }

void Server::Log(const std::string& line) {
  if (log_) log_(line);
}

namespace {

bool Bind(asio::basic_socket_acceptor<GenericProto>& acc, const GenericProto::endpoint& ep,
          bool reuse, std::string* err) {
  asio::error_code ec;
  acc.open(ep.protocol(), ec);
  if (!ec && reuse) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    *err = ec.message();
    asio::error_code ignored;
    acc.close(ignored);
    return false;
  }
  return true;
}

}  // namespace

bool Server::ListenUnix(uint32_t minor, const std::string& path, std::string* err) {
  auto l = std::make_shared<Listener>(io_);
  l->minor = minor;
  l->unix_path = path;
  l->where = path;
  ::unlink(path.c_str());  // a stale socket of an earlier run
  if (!Bind(l->acceptor, GenericProto::endpoint(asio::local::stream_protocol::endpoint(path)),
            false, err)) {
    return false;
  }
  listeners_.emplace(minor, l);
  Accept(l);
  return true;
}

bool Server::ListenTcp(uint32_t minor, const std::string& host, uint16_t port, std::string* err) {
  asio::error_code ec;
  asio::ip::address addr = asio::ip::make_address(host, ec);
  if (ec) {
    *err = fmt::format("bad address '{}'", host);
    return false;
  }
  auto l = std::make_shared<Listener>(io_);
  l->minor = minor;
  l->where = fmt::format("{}:{}", host, port);
  if (!Bind(l->acceptor, GenericProto::endpoint(asio::ip::tcp::endpoint(addr, port)), true, err)) {
    return false;
  }
  listeners_.emplace(minor, l);
  Accept(l);
  return true;
}

void Server::Accept(const std::shared_ptr<Listener>& l) {
  l->acceptor.async_accept([this, l](const asio::error_code& ec, GenericProto::socket s) {
    if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) return;
    if (!ec) {
      if (l->unix_path.empty()) {
        asio::error_code ignored;
        s.set_option(asio::ip::tcp::no_delay(true), ignored);
      }
      uint64_t id = next_conn_++;
      auto c = std::make_shared<Conn>(this, id, l->minor, std::move(s));
      conns_[id] = c;
      c->Start();
    }
    Accept(l);
  });
}

void Server::Stop(uint32_t minor) {
  auto [lo, hi] = listeners_.equal_range(minor);
  for (auto it = lo; it != hi; ++it) {
    asio::error_code ignored;
    it->second->acceptor.close(ignored);
    if (!it->second->unix_path.empty()) ::unlink(it->second->unix_path.c_str());
  }
  listeners_.erase(lo, hi);
  std::vector<std::shared_ptr<Conn>> victims;
  for (auto& [id, c] : conns_) {
    if (c->minor() == minor) victims.push_back(c);
  }
  for (auto& c : victims) c->Shutdown();
}

void Server::StopAll() {
  for (uint32_t m : Minors()) Stop(m);
}

std::vector<uint32_t> Server::Minors() const {
  std::vector<uint32_t> out;
  for (const auto& [m, l] : listeners_) {
    if (out.empty() || out.back() != m) out.push_back(m);
  }
  return out;
}

}  // namespace drbd::nbd
