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

TEST(Notify, EveryStatisticsFieldTravels) {
  // Distinct values in every field: a field dropped or crossed with another
  // on either side shows up as a difference.
  events::Device d;
  d.resource = "r0";
  events::DeviceStatistics ds;
  uint64_t v = 1;
  for (uint64_t* f : {&ds.size, &ds.read, &ds.written, &ds.al_writes, &ds.bm_writes,
                      &ds.exposed_data_uuid, &ds.current_uuid}) {
    *f = v++ * 1000003;
  }
  ds.upper_pending = 11;
  ds.lower_pending = 12;
  ds.disk_flags = 13;
  ds.upper_blocked = true;
  ds.al_suspended = true;
  ds.history_uuids = {5, 6, 7};
  d.stats = ds;
  EXPECT_EQ(RoundTrip({NotifyType::kChange, false, d}), (Notification{NotifyType::kChange, false, d}));

  events::PeerDevice p;
  p.resource = "r0";
  events::PeerDeviceStatistics ps;
  for (uint64_t* f : {&ps.received, &ps.sent, &ps.out_of_sync, &ps.resync_failed, &ps.bitmap_uuid,
                      &ps.ov_start_sector, &ps.ov_stop_sector, &ps.ov_position, &ps.ov_left,
                      &ps.ov_skipped, &ps.rs_same_csum, &ps.rs_dt_start_ms, &ps.rs_paused_ms,
                      &ps.rs_dt0_ms, &ps.rs_db0_sectors, &ps.rs_dt1_ms, &ps.rs_db1_sectors,
                      &ps.uuid_flags}) {
    *f = v++ * 1000003;
  }
  ps.pending = 21;
  ps.unacked = 22;
  ps.flags = 23;
  ps.rs_c_sync_rate = 24;
  ps.rs_total = 25;
  p.stats = ps;
  EXPECT_EQ(RoundTrip({NotifyType::kChange, false, p}), (Notification{NotifyType::kChange, false, p}));
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
