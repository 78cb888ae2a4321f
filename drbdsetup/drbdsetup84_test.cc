// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup's 8.4 command lines -> 8.4 requests: the commands of the
// kernel-harness smoke scenario (tests/kernel/guest-84.sh runs the same
// lines against the real module) and the refusals of DRBD 9-only requests.
#include "drbdsetup/drbdsetup84.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

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

}  // namespace
}  // namespace drbd::setup
