// SPDX-License-Identifier: GPL-2.0-or-later
// The 8.4 events2 printer and state renumbering against drbdsetup-84's
// output in the kernel-harness smoke run (the first lines of
// tests/kernel/expected-events2-84.txt): the same values, as the 8.4.11
// module encodes them, must print the same text.
#include "drbdsetup/events84.h"

#include <gtest/gtest.h>

#include <sstream>

#include "lib/genl/family84.h"
#include "lib/genl/state84.h"

namespace drbd::setup {
namespace {

namespace a84 = genl::v84::attr;
using genl::Cmd;
using genl::Message;
using genl::Set;

Message Note(Cmd cmd, uint32_t type, const std::string& res, uint32_t minor = genl::kMinorNone) {
  Message m;
  m.cmd = static_cast<uint8_t>(cmd);
  m.version = 1;
  m.minor = minor;
  m.set_ret_code(101);  // NO_ERROR: the kernel stamps its notifications with it
  m.Get(Set::kCfgContext).PutStr(a84::ctx_resource_name, res);
  m.Get(Set::kNotificationHeader).PutU32(a84::nh_type, type);
  return m;
}

// ../shared/spec/captures/drbd-8.4.11/console-drbdsetup-84.txt, "drbdsetup
// events all (1 s)" after the initial sync: GET_STATUS replies.
TEST(Events84, BroadcastFormatMatchesDrbdsetup84) {
  auto msg = [] {
    genl::Message m;
    m.nl.seq = 1795302577;
    m.minor = 1;
    m.Get(Set::kCfgContext).PutStr(a84::ctx_resource_name, "r1").PutU32(a84::ctx_volume, 0);
    return m;
  };
  // Secondary/Primary Connected UpToDate/UpToDate; sib_reason 1: a reply.
  const uint32_t st = 2 | 1 << 2 | 10 << 4 | 8 << 9 | 8 << 13;
  genl::Message m = msg();
  m.Get(genl::v84::kStateInfo).PutU32(a84::sib_reason, 1).PutU32(a84::current_state, st);
  EXPECT_EQ(FormatEvent84(m),
            "1795302577 ST 1,r1[0] { cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate "
            "r--- }\n");
  // A state change prints the previous, new and current state.
  genl::Message c = msg();
  c.Get(genl::v84::kStateInfo)
      .PutU32(a84::sib_reason, 2)
      .PutU32(a84::current_state, st | 1 << 18)
      .PutU32(a84::prev_state, st)
      .PutU32(a84::new_state, st | 1 << 18);
  EXPECT_EQ(FormatEvent84(c),
            "1795302577 ST-prev 1,r1[0] { cs:Connected ro:Secondary/Primary "
            "ds:UpToDate/UpToDate r--- }\n"
            "1795302577 ST-new 1,r1[0] { cs:Connected ro:Secondary/Primary "
            "ds:UpToDate/UpToDate ra-- }\n"
            "1795302577 ST 1,r1[0] { cs:Connected ro:Secondary/Primary "
            "ds:UpToDate/UpToDate ra-- }\n");
  // Helper calls.
  genl::Message h = msg();
  h.Get(genl::v84::kStateInfo)
      .PutU32(a84::sib_reason, 4)
      .PutStr(a84::helper, "before-resync-target")
      .PutU32(a84::helper_exit_code, 0);
  EXPECT_EQ(FormatEvent84(h), "1795302577 UH-post 1,r1[0] before-resync-target 0x0000\n");
}

TEST(Events84, InitialStateLinesMatchDrbdsetup84) {
  Events84Printer p(/*statistics=*/true, /*now=*/true, "all");
  std::ostringstream out;
  Message r = Note(Cmd::kResourceState, 0x8000, "r0");
  r.Get(Set::kResourceInfo).PutU32(a84::res_role, 1).PutFlag(a84::res_susp, false);
  r.Get(Set::kResourceStatistics).PutU32(a84::res_stat_write_ordering, 2);
  EXPECT_FALSE(p.Feed(r, out));
  Message c = Note(Cmd::kConnectionState, 0x8000, "r0");
  std::string addr(16, '\0');
  c.Get(Set::kCfgContext)
      .PutBin(a84::ctx_my_addr, {reinterpret_cast<const uint8_t*>(addr.data()), addr.size()})
      .PutBin(a84::ctx_peer_addr, {reinterpret_cast<const uint8_t*>(addr.data()), addr.size()});
  c.Get(Set::kConnectionInfo).PutU32(a84::conn_connection_state, 10).PutU32(a84::conn_role, 2);
  c.Get(Set::kConnectionStatistics).PutFlag(a84::conn_congested, false);
  p.Feed(c, out);
  Message d = Note(Cmd::kDeviceState, 0x8000, "r0", 0);
  d.Get(Set::kCfgContext).PutU32(a84::ctx_volume, 0);
  d.Get(Set::kDeviceInfo).PutU32(a84::dev_disk_state, 8);  // 8.4 UpToDate
  d.Get(Set::kDeviceStatistics)
      .PutU64(a84::dev_size, 65456)
      .PutU64(a84::dev_read, 65456)
      .PutU64(a84::dev_write, 0)
      .PutU64(a84::dev_al_writes, 8);
  p.Feed(d, out);
  Message pd = Note(Cmd::kPeerDeviceState, 0, "r0");
  pd.Get(Set::kCfgContext)
      .PutBin(a84::ctx_peer_addr, {reinterpret_cast<const uint8_t*>(addr.data()), addr.size()})
      .PutU32(a84::ctx_volume, 0);
  pd.Get(Set::kPeerDeviceInfo).PutU32(a84::peer_repl_state, 10).PutU32(a84::peer_disk_state, 8);
  pd.Get(Set::kPeerDeviceStatistics).PutU64(a84::peer_dev_sent, 65456);
  p.Feed(pd, out);
  Message done;
  done.cmd = static_cast<uint8_t>(Cmd::kInitialStateDone);
  done.set_ret_code(101);
  done.Get(Set::kNotificationHeader).PutU32(a84::nh_type, 0);
  EXPECT_TRUE(p.Feed(done, out));
  EXPECT_EQ(out.str(),
            "exists resource name:r0 role:Primary suspended:no write-ordering:flush\n"
            "exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected "
            "role:Secondary congested:no\n"
            "exists device name:r0 volume:0 minor:0 disk:UpToDate size:32728 read:32728 "
            "written:0 al-writes:8 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no "
            "blocked:no\n"
            "exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 "
            "replication:Established peer-disk:UpToDate resync-suspended:no received:0 "
            "sent:32728 out-of-sync:0 pending:0 unacked:0\n"
            "exists -\n");
}

TEST(Events84, ChangesPrintOnlyWhatChanged) {
  Events84Printer p(false, false, "all");
  std::ostringstream out;
  Message d = Note(Cmd::kDeviceState, 0, "r0", 0);
  d.Get(Set::kCfgContext).PutU32(a84::ctx_volume, 0);
  d.Get(Set::kDeviceInfo).PutU32(a84::dev_disk_state, 4);  // Inconsistent
  p.Feed(d, out);
  Message role = Note(Cmd::kResourceState, 0, "r0");
  role.Get(Set::kResourceInfo).PutU32(a84::res_role, 2);
  p.Feed(role, out);
  Message again = Note(Cmd::kResourceState, 2, "r0");
  again.nl.seq = 7;
  again.Get(Set::kResourceInfo).PutU32(a84::res_role, 1);
  p.Feed(again, out);
  EXPECT_EQ(out.str(),
            "exists device name:r0 volume:0 minor:0 disk:Inconsistent\n"
            "exists resource name:r0 role:Secondary suspended:no\n"
            "change resource name:r0 role:Primary\n");
}

TEST(State84, DiskStatesShiftPastDetaching) {
  EXPECT_EQ(genl::v84::DiskState9(0), 0u);  // Diskless
  EXPECT_EQ(genl::v84::DiskState9(1), 1u);  // Attaching
  EXPECT_EQ(genl::v84::DiskState9(2), 3u);  // Failed
  EXPECT_EQ(genl::v84::DiskState9(8), 9u);  // UpToDate
  EXPECT_EQ(genl::v84::DiskName(6), "DUnknown");
}

TEST(State84, UnionDrbdStateBits) {
  // Primary/Secondary, Connected (10), UpToDate/UpToDate (8/8).
  uint32_t raw = 1 | (2 << 2) | (10 << 4) | (8 << 9) | (8 << 13);
  genl::v84::State84 s = genl::v84::DecodeState(raw);
  EXPECT_EQ(genl::v84::RoleName(s.role), "Primary");
  EXPECT_EQ(genl::v84::RoleName(s.peer), "Secondary");
  EXPECT_EQ(genl::v84::ConnName(s.conn), "Connected");
  EXPECT_EQ(genl::v84::DiskName(s.pdsk), "UpToDate");
}

TEST(State84, RewriteGivesConnectionsTheirFixedName) {
  Message m;
  m.cmd = static_cast<uint8_t>(Cmd::kGetConnections);
  m.Get(Set::kConnectionInfo).PutU32(a84::conn_connection_state, 10);
  genl::v84::RewriteTo9(m);
  EXPECT_EQ(m.Find(Set::kConnectionInfo)->GetU32(genl::attr::conn_connection_state), 9u);
  EXPECT_EQ(m.Find(Set::kCfgContext)->GetStr(genl::attr::ctx_conn_name), "peer");
  EXPECT_EQ(m.Find(Set::kCfgContext)->GetU32(genl::attr::ctx_peer_node_id), 0u);
}

}  // namespace
}  // namespace drbd::setup
