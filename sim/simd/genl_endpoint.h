// SPDX-License-Identifier: GPL-2.0-or-later
// drbd-simd's genl endpoint, transport-free: takes the netlink datagrams a
// client sent on the Unix socket (docs/formats/genl-unix-socket.md) and
// answers them as the kernel would: the nlctrl family lookup, the
// membership message, doit requests (decoded into engine calls, replied
// with drbd_genlmsghdr.ret_code and CFG_REPLY info texts), dumps (one
// message per object, NLMSG_DONE) and the `events` multicast to the
// clients that joined it. Runs on the engine's loop; sockets are
// sim/simd/genl_server's job.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <vector>

#include "lib/events/model.h"
#include "lib/genl/codec.h"
#include "sim/engine/engine.h"

namespace drbd::simd {

// Sends one datagram to one client.
using SendFn = std::function<void(std::vector<uint8_t>)>;

class GenlEndpoint {
 public:
  // Family id and events group id this node announces in NEWFAMILY.
  static constexpr uint16_t kFamilyId = 0x1c;
  static constexpr uint32_t kEventsGroupId = 0x11;

  explicit GenlEndpoint(engine::Engine* engine) : engine_(engine) {}

  // Handles one datagram from `client`; replies go through `send` (maybe
  // later: attach answers after its metadata read).
  void OnDatagram(uint64_t client, std::span<const uint8_t> datagram, const SendFn& send);
  // The client went away: no more multicast to it.
  void DropClient(uint64_t client) { subscribers_.erase(client); }
  // Multicasts a state notification to every subscribed client.
  void Publish(const events::Notification& n);

 private:
  void HandleFamilyMessage(const genl::Frame& f, const SendFn& send);
  void HandleDump(const genl::Message& req, const SendFn& send);
  engine::Reply Dispatch(const genl::Message& req, const engine::Ctx& ctx, const SendFn& send,
                         const std::vector<uint8_t>& raw, bool* deferred);
  // The configuration TLAs the kernel adds to GET_* dump replies.
  void AddConfig(const events::Notification& n, genl::Message& m);
  void SendReply(const genl::Message& req, const engine::Reply& reply, const SendFn& send);

  engine::Engine* engine_;
  std::map<uint64_t, SendFn> subscribers_;
  uint32_t event_seq_ = 0;
};

}  // namespace drbd::simd
