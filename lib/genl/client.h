// SPDX-License-Identifier: GPL-2.0-or-later
// The requester side of the DRBD genl API as drbdsetup uses it: pick the
// transport (kernel or drbd-simd by DRBD_SIM_SOCKET), resolve the "drbd"
// family and its "events" group with CTRL_CMD_GETFAMILY, check the API
// version, then send requests and collect their replies (one for a doit,
// all until NLMSG_DONE for a dump) or multicast events.
// Errors carry drbd-utils' wording and exit code 20.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "lib/genl/codec.h"
#include "lib/genl/ctrl.h"
#include "lib/genl/transport.h"

namespace drbd::genl {

// The line drbdsetup prints when the family cannot be resolved.
inline constexpr std::string_view kNoFamilyText =
    "Could not connect to 'drbd' generic netlink family";

class Client {
 public:
  // Opens the transport chosen by the environment and resolves the family.
  // Errors: kNoFamily ("Could not connect to 'drbd' generic netlink
  // family"), kNoDaemon (the same line followed by
  // " (drbd-simd at PATH: strerror)"), kApiMismatch (drbd-utils' "API
  // mismatch!" text, several lines), kTimeout / kIo.
  static Result<std::unique_ptr<Client>> Connect(int timeout_ms = 3000);

  // Same over a given transport (tests, drbd-simd tools). api_version is
  // the genl family version the caller speaks: kFamilyVersion (DRBD 9) or
  // kFamilyVersion84 (mainline 8.4; requests and replies then use the 8.4
  // table, lib/spec/genl84.def).
  static Result<std::unique_ptr<Client>> Connect(std::unique_ptr<Transport> t,
                                                 int timeout_ms = 3000,
                                                 uint8_t api_version = kFamilyVersion);

  // k9 or k84: the table this client encodes and decodes with.
  uint8_t dialect() const { return dialect_; }

  // Called on every decoded reply and event before it is returned (the 8.4
  // path rewrites 8.4 state numbers into DRBD 9 ones, lib/genl/state84.h).
  using Rewrite = std::function<void(Message&)>;
  void set_rewrite(Rewrite f) { rewrite_ = std::move(f); }

  const FamilyInfo& family() const { return family_; }
  Transport& transport() { return *transport_; }

  // Stamps req (nl.type = family id, fresh seq, pid, NLM_F_REQUEST and
  // NLM_F_DUMP for dump commands), encodes and sends it. Returns the seq.
  Result<uint32_t> Send(Message& req, const EncodeOptions& opt = {});

  // Sends req and collects its answer: a doit returns its one reply; a
  // dump every message up to NLMSG_DONE (stopping early after a message
  // whose ret_code is an error, as drbdsetup does). Messages with another
  // seq (events) are skipped. An NLMSG_ERROR with nonzero error is
  // kNetlinkError (sys_errno = -error).
  Result<std::vector<Message>> Call(Message req, int timeout_ms = 120000);

  // Joins the "events" multicast group.
  Status SubscribeEvents();

  // Receives the next datagram and decodes every family message in it
  // (events or dump replies); NLMSG_DONE frames yield nothing.
  Result<std::vector<Message>> ReceiveMessages(int timeout_ms);

 private:
  Client(std::unique_ptr<Transport> t, FamilyInfo f, uint32_t seq, uint8_t dialect)
      : transport_(std::move(t)), family_(std::move(f)), next_seq_(seq), dialect_(dialect) {}
  std::unique_ptr<Transport> transport_;
  FamilyInfo family_;
  uint32_t next_seq_;
  uint8_t dialect_ = k9;
  Rewrite rewrite_;
};

// One dump command filtered to `resource` ("" = every resource), as
// drbdsetup issues it: the replies up to the first with an error code (an
// unknown resource gives an empty list).
Result<std::vector<Message>> DumpFiltered(Client& c, Cmd cmd, const std::string& resource);

}  // namespace drbd::genl
