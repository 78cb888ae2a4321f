// SPDX-License-Identifier: GPL-2.0-or-later
// The state objects of lib/events (resource, device, connection, path,
// peer device, helper, the initial-state marker) to and from their genl
// messages: the notifications of the `events` multicast group, the replies
// of GET_INITIAL_STATE, and the per-object dump replies (GET_RESOURCES,
// GET_DEVICES, GET_CONNECTIONS, GET_PEER_DEVICES, GET_PATHS). drbd-simd
// encodes, drbdsetup decodes; both through this one mapping, so that a
// field can never be sent under one number and read under another.
// See docs/formats/genl.md (§ notifications) and docs/formats/events2.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/events/model.h"
#include "lib/genl/codec.h"

namespace drbd::notify {

// sockaddr_in / sockaddr_in6 bytes (network byte order) <-> Address.
// nullopt for an address family events2 cannot print.
std::optional<events::Address> AddressFromSockaddr(std::string_view bytes);
std::string SockaddrFromAddress(const events::Address& a);

// The notification message for n (cmd DRBD_*_STATE / HELPER /
// INITIAL_STATE_DONE, minor for device objects, CfgContext, header with
// NOTIFY_CONTINUES if set, info and statistics TLAs; info is left out on
// destroy, statistics when absent). nl.seq/pid are the sender's.
genl::Message EncodeNotification(const events::Notification& n);

// The reply to a GET_* dump for one object: the same TLAs as a notification
// without the header, with cmd = the dump command.
genl::Message EncodeDumpReply(genl::Cmd dump_cmd, const events::Notification& n);

// Decodes a notification or a GET_INITIAL_STATE / GET_* dump reply into the
// model. Dump replies carry no header: their type is kExists. kMalformed if
// the message is not one of these or lacks the identity of its object.
genl::Result<events::Notification> DecodeNotification(const genl::Message& m);

}  // namespace drbd::notify
