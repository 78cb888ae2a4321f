// SPDX-License-Identifier: GPL-2.0-or-later
// The two transports: the kernel's NETLINK_GENERIC socket through libnl,
// and a Unix SOCK_SEQPACKET connection to drbd-simd (one netlink datagram
// per packet), plus the DRBD_SIM_SOCKET selector and the membership
// message that stands in for NETLINK_ADD_MEMBERSHIP on the Unix socket.
// See docs/formats/genl-unix-socket.md.
#include "lib/genl/transport.h"

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/socket.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>

#include <fmt/format.h>

#include "lib/genl/codec.h"

namespace drbd::genl {
namespace {

Error SysErr(ErrorCode c, std::string what, int err) {
  return Error{c, fmt::format("{}: {}", what, std::strerror(err)), err};
}

// Waits until fd is readable. kTimeout / kIo.
Status WaitReadable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    int n = poll(&p, 1, timeout_ms);
    if (n > 0) return {};
    if (n == 0) return Error{ErrorCode::kTimeout, "timed out waiting for a reply", 0};
    if (errno != EINTR) return SysErr(ErrorCode::kIo, "poll", errno);
  }
}

class KernelTransport : public Transport {
 public:
  explicit KernelTransport(nl_sock* sk) : sk_(sk) {}
  ~KernelTransport() override { nl_socket_free(sk_); }

  Status Send(std::span<const uint8_t> datagram) override {
    int n = nl_sendto(sk_, const_cast<uint8_t*>(datagram.data()), datagram.size());
    if (n < 0) {
      return Error{ErrorCode::kIo, fmt::format("netlink send: {}", nl_geterror(n)), 0};
    }
    return {};
  }

  Result<std::vector<uint8_t>> Receive(int timeout_ms) override {
    for (;;) {
      Status w = WaitReadable(nl_socket_get_fd(sk_), timeout_ms);
      if (!w.ok()) return w.error();
      sockaddr_nl peer{};
      unsigned char* buf = nullptr;
      int n = nl_recv(sk_, &peer, &buf, nullptr);
      if (n == -NLE_NOMEM) {
        // libnl reports the socket's ENOBUFS (receive queue overrun:
        // multicast events were dropped) as NLE_NOMEM.
        return Error{ErrorCode::kIo, "netlink receive buffer overrun: events were lost", ENOBUFS};
      }
      if (n < 0) {
        return Error{ErrorCode::kIo, fmt::format("netlink receive: {}", nl_geterror(n)), 0};
      }
      std::vector<uint8_t> r(buf, buf + n);
      free(buf);
      if (n == 0) return Error{ErrorCode::kClosed, "netlink socket closed", 0};
      // Only the kernel (port 0) speaks for the family; as drbd-utils does,
      // datagrams from other processes are dropped.
      if (peer.nl_pid != 0) continue;
      return r;
    }
  }

  Status JoinGroup(uint32_t group_id) override {
    int rc = nl_socket_add_membership(sk_, static_cast<int>(group_id));
    if (rc < 0) {
      return Error{ErrorCode::kIo, fmt::format("join multicast group {}: {}", group_id, nl_geterror(rc)),
                   0};
    }
    return {};
  }

  uint32_t port_id() const override { return nl_socket_get_local_port(sk_); }
  std::string name() const override { return "kernel"; }

 private:
  nl_sock* sk_;
};

class SeqpacketTransport : public Transport {
 public:
  SeqpacketTransport(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  ~SeqpacketTransport() override { close(fd_); }

  Status Send(std::span<const uint8_t> datagram) override {
    for (;;) {
      ssize_t n = send(fd_, datagram.data(), datagram.size(), MSG_NOSIGNAL);
      if (n >= 0) return {};
      if (errno == EINTR) continue;
      if (errno == EPIPE || errno == ECONNRESET)
        return SysErr(ErrorCode::kClosed, name_, errno);
      return SysErr(ErrorCode::kIo, name_, errno);
    }
  }

  Result<std::vector<uint8_t>> Receive(int timeout_ms) override {
    if (!pending_.empty()) {
      std::vector<uint8_t> r = std::move(pending_.front());
      pending_.pop_front();
      return r;
    }
    return ReceiveRaw(timeout_ms);
  }

  Status JoinGroup(uint32_t group_id) override {
    Membership m{kSimAddMembership, group_id, ++seq_};
    Status s = Send(EncodeMembership(m));
    if (!s.ok()) return s;
    // Wait for the ack; anything else that arrives meanwhile is kept for
    // Receive() in order.
    for (;;) {
      Result<std::vector<uint8_t>> d = ReceiveRaw(5000);
      if (!d.ok()) return d.error();
      Result<std::vector<Frame>> frames = Split(*d);
      if (frames.ok() && frames->size() == 1 && (*frames)[0].hdr.type == kNlmsgError &&
          (*frames)[0].hdr.seq == m.seq) {
        Result<NlError> e = DecodeNlError((*frames)[0]);
        if (!e.ok()) return e.error();
        if (e->error != 0) {
          return SysErr(ErrorCode::kNetlinkError,
                        fmt::format("{}: join multicast group {}", name_, group_id), -e->error);
        }
        return {};
      }
      pending_.push_back(std::move(*d));
    }
  }

  uint32_t port_id() const override { return 0; }
  std::string name() const override { return name_; }

 private:
  Result<std::vector<uint8_t>> ReceiveRaw(int timeout_ms) {
    Status w = WaitReadable(fd_, timeout_ms);
    if (!w.ok()) return w.error();
    for (;;) {
      // The packet's size first (MSG_TRUNC reports it for AF_UNIX packets).
      ssize_t size = recv(fd_, nullptr, 0, MSG_PEEK | MSG_TRUNC);
      if (size < 0 && errno == EINTR) continue;
      if (size < 0) return SysErr(ErrorCode::kIo, name_, errno);
      std::vector<uint8_t> buf(size > 0 ? static_cast<size_t>(size) : 1);
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return SysErr(ErrorCode::kIo, name_, errno);
      if (n == 0) return Error{ErrorCode::kClosed, fmt::format("{}: connection closed", name_), 0};
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
  }

  int fd_;
  std::string name_;
  uint32_t seq_ = 0;
  std::deque<std::vector<uint8_t>> pending_;
};

}  // namespace

Result<std::unique_ptr<Transport>> OpenKernelTransport() {
  nl_sock* sk = nl_socket_alloc();
  if (!sk) return Error{ErrorCode::kIo, "cannot allocate a netlink socket", ENOMEM};
  nl_socket_disable_seq_check(sk);
  nl_socket_disable_auto_ack(sk);
  int rc = nl_connect(sk, NETLINK_GENERIC);
  if (rc < 0) {
    nl_socket_free(sk);
    return Error{ErrorCode::kIo, fmt::format("netlink socket: {}", nl_geterror(rc)), 0};
  }
  // Big dumps and event bursts: a large receive buffer, and nl_recv sizes
  // its buffer by peeking.
  nl_socket_set_buffer_size(sk, 1 << 20, 0);
  nl_socket_enable_msg_peek(sk);
  return std::unique_ptr<Transport>(new KernelTransport(sk));
}

Result<std::unique_ptr<Transport>> OpenUnixTransport(const std::string& path) {
  std::string name = "unix:" + path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Error{ErrorCode::kNoDaemon,
                 fmt::format("drbd-simd socket path '{}' is empty or too long", path), ENAMETOOLONG};
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return SysErr(ErrorCode::kIo, "socket(AF_UNIX)", errno);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    int err = errno;
    close(fd);
    return SysErr(ErrorCode::kNoDaemon, fmt::format("drbd-simd at {}", path), err);
  }
  return std::unique_ptr<Transport>(new SeqpacketTransport(fd, name));
}

Result<std::unique_ptr<Transport>> OpenTransportFromEnv() {
  const char* p = std::getenv(std::string(kSimSocketEnv).c_str());
  if (p && *p) return OpenUnixTransport(p);
  return OpenKernelTransport();
}

std::unique_ptr<Transport> WrapSeqpacketFd(int fd, std::string name) {
  return std::unique_ptr<Transport>(new SeqpacketTransport(fd, std::move(name)));
}

std::vector<uint8_t> EncodeMembership(const Membership& m) {
  std::vector<uint8_t> b(kNlmsgHdrLen + 8, 0);
  uint32_t len = static_cast<uint32_t>(b.size());
  uint16_t type = kSimMembershipType;
  uint16_t flags = kNlmFRequest | kNlmFAck;
  uint32_t pid = 0;
  std::memcpy(b.data(), &len, 4);
  std::memcpy(b.data() + 4, &type, 2);
  std::memcpy(b.data() + 6, &flags, 2);
  std::memcpy(b.data() + 8, &m.seq, 4);
  std::memcpy(b.data() + 12, &pid, 4);
  std::memcpy(b.data() + 16, &m.op, 4);
  std::memcpy(b.data() + 20, &m.group, 4);
  return b;
}

Result<Membership> DecodeMembership(std::span<const uint8_t> bytes) {
  Result<NlHeader> h = PeekHeader(bytes);
  if (!h.ok()) return h.error();
  if (h->type != kSimMembershipType || h->len < kNlmsgHdrLen + 8 || h->len > bytes.size()) {
    return Error{ErrorCode::kMalformed, "not a drbd-simd membership message", 0};
  }
  Membership m;
  m.seq = h->seq;
  std::memcpy(&m.op, bytes.data() + 16, 4);
  std::memcpy(&m.group, bytes.data() + 20, 4);
  if (m.op != kSimAddMembership && m.op != kSimDropMembership) {
    return Error{ErrorCode::kMalformed, fmt::format("membership op {} is neither add (1) nor drop (2)", m.op),
                 0};
  }
  return m;
}

}  // namespace drbd::genl
