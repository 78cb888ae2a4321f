// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup's 8.4 command lines -> 8.4 requests: the commands of the
// kernel-harness smoke scenario (tests/kernel/guest-84.sh runs the same
// lines against the real module) and the refusals of DRBD 9-only requests.
#include "drbdsetup/drbdsetup84.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <sstream>

#include "lib/genl/family84.h"

namespace drbd::setup {
namespace {

namespace a84 = genl::v84::attr;
using genl::Set;

Request84 Build(std::vector<std::string> args) {
  Request84 r;
  std::string err;
  EXPECT_TRUE(BuildRequest84(args, r, err)) << err;
  return r;
}

std::string Error(std::vector<std::string> args) {
  Request84 r;
  std::string err;
  EXPECT_FALSE(BuildRequest84(args, r, err));
  return err;
}

TEST(Drbdsetup84, NewMinorPutsMinorInHeaderAndNamesInContext) {
  Request84 r = Build({"new-minor", "r1", "1", "0"});
  EXPECT_EQ(r.msg.cmd, static_cast<uint8_t>(genl::Cmd::kNewMinor));
  EXPECT_EQ(r.msg.version, 1);
  EXPECT_EQ(r.msg.minor, 1u);
  ASSERT_EQ(r.msg.tlas.size(), 1u);
  EXPECT_EQ(r.msg.tlas[0].GetStr(a84::ctx_resource_name), "r1");
  EXPECT_EQ(r.msg.tlas[0].GetU32(a84::ctx_volume), 0u);
}

TEST(Drbdsetup84, MinorCommandsCarryNoContext) {
  Request84 r = Build({"secondary", "0"});
  EXPECT_EQ(r.msg.minor, 0u);
  EXPECT_TRUE(r.msg.tlas.empty());
  EXPECT_EQ(r.msg.nl.flags, genl::kNlmFRequest);
}

TEST(Drbdsetup84, AttachInternalMetaData) {
  Request84 r = Build({"attach", "0", "/dev/loop0", "/dev/loop0", "internal"});
  const genl::Tla* d = r.msg.Find(Set::kDiskConf);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->GetStr(a84::backing_dev), "/dev/loop0");
  EXPECT_EQ(d->GetS32(a84::meta_dev_idx), -3);  // DRBD_MD_INDEX_FLEX_INT
}

TEST(Drbdsetup84, ConnectTakesBothAddresses) {
  Request84 r =
      Build({"connect", "r0", "ipv4:127.0.0.1:7788", "ipv4:127.0.0.1:7789", "--protocol=C"});
  EXPECT_EQ(r.msg.minor, genl::kMinorNone);
  const genl::Tla* ctx = r.msg.Find(Set::kCfgContext);
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(ctx->GetStr(a84::ctx_resource_name), "r0");
  auto peer = ctx->GetStr(a84::ctx_peer_addr);
  ASSERT_TRUE(peer);
  ASSERT_EQ(peer->size(), sizeof(sockaddr_in));
  sockaddr_in sin;
  std::memcpy(&sin, peer->data(), sizeof sin);
  EXPECT_EQ(sin.sin_family, AF_INET);
  EXPECT_EQ(ntohs(sin.sin_port), 7789);
  EXPECT_EQ(ntohl(sin.sin_addr.s_addr), 0x7F000001u);
  EXPECT_EQ(r.msg.Find(Set::kNetConf)->GetU32(a84::wire_protocol), 3u);
}

TEST(Drbdsetup84, ResyncOptionsAreDiskOptionsWithUnits) {
  Request84 r = Build({"disk-options", "1", "--c-plan-ahead=0", "--resync-rate=100M"});
  const genl::Tla* d = r.msg.Find(Set::kDiskConf);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->GetU32(a84::c_plan_ahead), 0u);
  EXPECT_EQ(d->GetU32(a84::resync_rate), 102400u);  // KiB/s
}

TEST(Drbdsetup84, PrimaryForceAndItsOldSpelling) {
  for (const char* opt : {"--force", "--overwrite-data-of-peer"}) {
    Request84 r = Build({"primary", "0", opt});
    ASSERT_NE(r.msg.Find(Set::kSetRoleParms), nullptr) << opt;
    EXPECT_EQ(r.msg.Find(Set::kSetRoleParms)->GetFlag(a84::assume_uptodate), true);
  }
  EXPECT_TRUE(Build({"primary", "0"}).msg.tlas.empty());
}

TEST(Drbdsetup84, StateQueriesAreDoitsForOneMinor) {
  Request84 r = Build({"role", "1"});
  EXPECT_EQ(r.msg.cmd, static_cast<uint8_t>(genl::Cmd::kGetStatus));
  EXPECT_EQ(r.msg.minor, 1u);
  EXPECT_EQ(r.msg.nl.flags & genl::kNlmFDump, 0);
}

TEST(Drbdsetup84, RefusesDrbd9OnlyCommandsWithWhatToDo) {
  EXPECT_EQ(Error({"new-peer", "r0", "1"}),
            "drbdsetup: 'new-peer' needs a DRBD 9 kernel module; the loaded module is 8.4: use "
            "'connect {resource} {local_addr} {remote_addr}'\n");
}

TEST(Drbdsetup84, RefusesOptionsThe84TableLacks) {
  // transport is a DRBD 9 net option; size is invariant after attach.
  EXPECT_NE(Error({"connect", "r0", "127.0.0.1:1", "127.0.0.1:2", "--transport=tcp"})
                .find("unrecognized option '--transport'"),
            std::string::npos);
  EXPECT_NE(Error({"disk-options", "0", "--size=1G"}).find("unrecognized option '--size'"),
            std::string::npos);
  EXPECT_EQ(Error({"disk-options", "0", "--on-io-error=explode"}),
            "Option --on-io-error: invalid argument 'explode'\n");
}

// union drbd_state of 8.4: role, peer, conn, disk, pdsk bit fields.
uint32_t State(uint32_t role, uint32_t peer, uint32_t conn, uint32_t disk, uint32_t pdsk) {
  return role | peer << 2 | conn << 4 | disk << 9 | pdsk << 13;
}

genl::Message StatusReply(uint32_t state) {
  genl::Message r;
  r.Get(Set::kCfgContext).PutStr(a84::ctx_resource_name, "r0").PutU32(a84::ctx_volume, 0);
  r.Get(genl::v84::kStateInfo).PutU32(a84::current_state, state);
  return r;
}

// ../shared/spec/captures/drbd-8.4.11/console-drbdsetup-84.txt, "drbdsetup
// sh-status 0" after the initial sync (also tests/kernel/expected-sh-status-84.txt).
TEST(Drbdsetup84, ShStatusMatchesDrbdsetup84Capture) {
  genl::Message r = StatusReply(State(1, 2, 10, 8, 8));  // Primary/Secondary Connected UpToDate
  std::ostringstream out;
  PrintShStatus84(0, &r, out);
  EXPECT_EQ(out.str(),
            "_minor=0\n_res_name=r0\n_volume=0\n_known=Configured\n\n_cstate=Connected\n"
            "_role=Primary\n_peer=Secondary\n_disk=UpToDate\n_pdsk=UpToDate\n\n"
            "_flags_susp=\n_flags_aftr_isp=\n_flags_peer_isp=\n_flags_user_isp=\n\n"
            "_resynced_percent=\n\n_sh_status_process\n\n\n");
}

TEST(Drbdsetup84, ShStatusResyncPercentUsesKiBUnits) {
  // 8182 bits to sync, 5114 still out of sync: (5114>>10)=4 of 1+(8182>>10)=8
  // units left, 1000 - 4*1000/8 = 500 per mille.
  genl::Message r = StatusReply(State(2, 1, 17, 4, 8));  // SyncTarget
  r.Get(genl::v84::kStateInfo).PutU64(a84::bits_rs_total, 8182).PutU64(a84::bits_oos, 5114);
  std::ostringstream out;
  PrintShStatus84(1, &r, out);
  EXPECT_NE(out.str().find("_cstate=SyncTarget\n_role=Secondary\n_peer=Primary\n"
                           "_disk=Inconsistent\n"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("_resynced_percent=50.0\n"), std::string::npos) << out.str();
}

TEST(Drbdsetup84, ShStatusOfUnknownMinorIsNotAvailable) {
  std::ostringstream out;
  PrintShStatus84(7, nullptr, out);
  EXPECT_EQ(out.str(),
            "_minor=7\n_volume=-1\n_known=NA # not available or not yet created\n\n"
            "_cstate=Unconfigured\n_role=\n_peer=\n_disk=\n_pdsk=\n_flags_susp=\n"
            "_flags_aftr_isp=\n_flags_peer_isp=\n_flags_user_isp=\n_resynced_percent=\n"
            "\n_sh_status_process\n\n\n");
}

}  // namespace
}  // namespace drbd::setup
