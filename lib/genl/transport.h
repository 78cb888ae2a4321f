// SPDX-License-Identifier: GPL-2.0-or-later
// The seam between drbdsetup and whatever implements the DRBD genl API:
// the kernel (a NETLINK_GENERIC socket through libnl) or a drbd-simd node
// (a Unix SOCK_SEQPACKET socket carrying the identical netlink bytes, one
// netlink datagram per packet). Transports move bytes only; encoding is
// lib/genl/codec.h, family lookup lib/genl/ctrl.h, and Client
// (lib/genl/client.h) ties them together.
// See docs/formats/genl-unix-socket.md.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/genl/status.h"

namespace drbd::genl {

// Environment variable selecting a drbd-simd node: its socket path.
inline constexpr std::string_view kSimSocketEnv = "DRBD_SIM_SOCKET";

// Not thread-safe; one owner at a time.
class Transport {
 public:
  virtual ~Transport() = default;

  // Sends one netlink datagram (one or more complete messages).
  // kIo (with errno) on failure, kClosed if the peer went away.
  virtual Status Send(std::span<const uint8_t> datagram) = 0;

  // Receives one datagram: all messages the other side sent in one
  // sendmsg(). Waits at most timeout_ms (< 0: forever). kTimeout when
  // nothing arrived, kClosed when the peer closed, kIo otherwise.
  virtual Result<std::vector<uint8_t>> Receive(int timeout_ms) = 0;

  // Joins multicast group `group_id` (from FamilyInfo::GroupId), after
  // which unsolicited notifications arrive through Receive().
  virtual Status JoinGroup(uint32_t group_id) = 0;

  // The port id to put into nlmsg_pid of requests (kernel: the socket's
  // bound port; unix: 0, the daemon answers on the same connection).
  virtual uint32_t port_id() const = 0;

  // "kernel" or "unix:PATH", for messages.
  virtual std::string name() const = 0;
};

// Opens a NETLINK_GENERIC socket (libnl nl_sock). kIo if the socket cannot
// be created (no netlink support).
Result<std::unique_ptr<Transport>> OpenKernelTransport();

// Connects to the drbd-simd socket at `path`. kNoDaemon (with errno) if
// nothing listens there.
Result<std::unique_ptr<Transport>> OpenUnixTransport(const std::string& path);

// DRBD_SIM_SOCKET set and non-empty -> OpenUnixTransport(value); otherwise
// OpenKernelTransport().
Result<std::unique_ptr<Transport>> OpenTransportFromEnv();

// Wraps a connected SOCK_SEQPACKET (or datagram) socket fd; takes
// ownership. For tests and for drbd-simd's server side of a connection.
std::unique_ptr<Transport> WrapSeqpacketFd(int fd, std::string name);

// ---- drbd-simd membership message (unix transport only) ----
// netlink has setsockopt(NETLINK_ADD_MEMBERSHIP); over the Unix socket the
// client sends this message instead: nlmsghdr{type = kSimMembershipType,
// flags = NLM_F_REQUEST | NLM_F_ACK} + u32 op + u32 group id. The daemon
// answers with an NLMSG_ERROR ack (0, or -ENOENT for an unknown group).
inline constexpr uint16_t kSimMembershipType = 0x0F;  // reserved control range, unused by Linux
inline constexpr uint32_t kSimAddMembership = 1;      // = NETLINK_ADD_MEMBERSHIP
inline constexpr uint32_t kSimDropMembership = 2;     // = NETLINK_DROP_MEMBERSHIP

struct Membership {
  uint32_t op = kSimAddMembership;
  uint32_t group = 0;
  uint32_t seq = 0;
  bool operator==(const Membership&) const = default;
};
std::vector<uint8_t> EncodeMembership(const Membership& m);
// kMalformed unless bytes is a membership message.
Result<Membership> DecodeMembership(std::span<const uint8_t> bytes);

}  // namespace drbd::genl
