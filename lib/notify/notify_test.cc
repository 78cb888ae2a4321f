// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/notify/notify.h"

#include <gtest/gtest.h>

namespace drbd::notify {
namespace {

using events::Notification;
using events::NotifyType;

// Encode -> wire bytes -> decode gives the same objects.
Notification RoundTrip(const Notification& n) {
  genl::Message m = EncodeNotification(n);
  m.nl.type = 0x1b;  // the family id the sender resolved
  auto bytes = genl::Encode(m);
  EXPECT_TRUE(bytes.ok()) << (bytes.ok() ? "" : bytes.error().message);
  if (!bytes.ok()) return {};
  auto back = genl::Decode(*bytes);
  EXPECT_TRUE(back.ok()) << (back.ok() ? "" : back.error().message);
  auto n2 = DecodeNotification(*back);
  EXPECT_TRUE(n2.ok()) << (n2.ok() ? "" : n2.error().message);
  return *n2;
}

TEST(Notify, ResourceRoundTrip) {
  events::Resource r;
  r.name = "r0";
  r.info.role = events::Role::kPrimary;
  r.info.susp.quorum = true;
  r.stats = events::ResourceStatistics{events::WriteOrdering::kFlush};
  Notification n{NotifyType::kChange, true, r};
  EXPECT_EQ(RoundTrip(n), n);
}

TEST(Notify, DeviceRoundTripKeepsMinorAndHistory) {
  events::Device d;
  d.resource = "r0";
  d.volume = 1;
  d.minor = 17;
  d.info.disk_state = events::DiskState::kUpToDate;
  d.info.intentional_diskless = events::Tristate::kNo;
  d.info.is_open = events::Tristate::kYes;
  d.info.backing_dev = "/dev/vg/lv";
  d.info.has_quorum = true;
  events::DeviceStatistics s;
  s.size = 2048;
  s.history_uuids = {0x1111, 0x2222};
  s.current_uuid = 0xABCDEF;
  d.stats = s;
  Notification n{NotifyType::kCreate, false, d};
  EXPECT_EQ(RoundTrip(n), n);
}

TEST(Notify, ConnectionPeerDevicePathHelperRoundTrip) {
  events::Connection c;
  c.resource = "r0";
  c.peer_node_id = 2;
  c.name = "beta";
  c.info.conn_state = events::ConnState::kConnected;
  c.info.peer_role = events::Role::kSecondary;
  c.stats = events::ConnectionStatistics{true, 8, 16};
  EXPECT_EQ(RoundTrip({NotifyType::kExists, false, c}), (Notification{NotifyType::kExists, false, c}));

  events::PeerDevice p;
  p.resource = "r0";
  p.peer_node_id = 2;
  p.conn_name = "beta";
  p.volume = 0;
  p.info.repl_state = events::ReplState::kSyncSource;
  p.info.peer_disk_state = events::DiskState::kInconsistent;
  p.info.resync_susp.user = true;
  p.info.peer_intentional_diskless = events::Tristate::kNo;
  events::PeerDeviceStatistics ps;
  ps.out_of_sync = 4096;
  ps.rs_total = 8192;
  p.stats = ps;
  EXPECT_EQ(RoundTrip({NotifyType::kChange, false, p}), (Notification{NotifyType::kChange, false, p}));

  events::Path path;
  path.resource = "r0";
  path.peer_node_id = 2;
  path.conn_name = "beta";
  path.local = {events::Address::Family::kIpv4, "10.0.0.1", 7789};
  path.peer = {events::Address::Family::kIpv6, "fe80::1", 7790};
  path.established = true;
  EXPECT_EQ(RoundTrip({NotifyType::kCreate, false, path}),
            (Notification{NotifyType::kCreate, false, path}));

  events::Helper h;
  h.response = false;
  h.resource = "r0";
  h.peer_node_id = 2;
  h.conn_name = "beta";
  h.name = "fence-peer";
  h.status = 0;
  Notification hn{NotifyType::kCall, false, h};
  EXPECT_EQ(RoundTrip(hn), hn);
}

TEST(Notify, DestroyCarriesOnlyTheIdentity) {
  events::Connection c;
  c.resource = "r0";
  c.peer_node_id = 1;
  c.info.conn_state = events::ConnState::kConnected;
  genl::Message m = EncodeNotification({NotifyType::kDestroy, false, c});
  EXPECT_EQ(m.Find(genl::Set::kConnectionInfo), nullptr);
}

TEST(Notify, InitialStateDone) {
  Notification n{NotifyType::kExists, false, events::InitialStateDone{}};
  genl::Message m = EncodeNotification(n);
  EXPECT_EQ(m.cmd, static_cast<uint8_t>(genl::Cmd::kInitialStateDone));
  EXPECT_EQ(RoundTrip(n), n);
}

TEST(Notify, DumpRepliesHaveNoHeaderAndDecodeAsExists) {
  events::Resource r;
  r.name = "r9";
  genl::Message m = EncodeDumpReply(genl::Cmd::kGetResources, {NotifyType::kExists, false, r});
  EXPECT_EQ(m.Find(genl::Set::kNotificationHeader), nullptr);
  auto n = DecodeNotification(m);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->type, NotifyType::kExists);
}

TEST(Notify, MissingResourceNameIsMalformed) {
  genl::Message m;
  m.cmd = static_cast<uint8_t>(genl::Cmd::kDeviceState);
  auto n = DecodeNotification(m);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, genl::ErrorCode::kMalformed);
  EXPECT_NE(n.error().message.find("without a resource name"), std::string::npos);
}

}  // namespace
}  // namespace drbd::notify
