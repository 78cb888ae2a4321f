// SPDX-License-Identifier: GPL-2.0-or-later
// `show` for 8.4 against drbdsetup-84's output on the 8.4.11 module
// (tests/kernel/expected-show*-84.txt, from the kernel-harness smoke run):
// GET_STATUS replies carrying the values the module reported print the same
// text, with and without --show-defaults.
#include "drbdsetup/show84.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/genl/family84.h"

namespace drbd::setup {
namespace {

namespace a84 = genl::v84::attr;
using genl::Message;
using genl::Set;

std::string ReadExpected(const char* name) {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "../tests/kernel" / name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Sockaddr(uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(0x7F000001);
  return std::string(reinterpret_cast<const char*>(&sin), sizeof sin);
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// One minor's GET_STATUS reply as the 8.4.11 module sends it: every field
// of res_opts, net_conf and disk_conf, defaults except the resync options.
Message Reply(const std::string& res, uint32_t minor, uint16_t my, uint16_t peer) {
  Message m;
  m.cmd = static_cast<uint8_t>(genl::Cmd::kGetStatus);
  m.version = 1;
  m.minor = minor;
  m.set_ret_code(101);
  std::string mine = Sockaddr(my), theirs = Sockaddr(peer);
  m.Get(Set::kCfgContext)
      .PutStr(a84::ctx_resource_name, res)
      .PutU32(a84::ctx_volume, 0)
      .PutBin(a84::ctx_my_addr, Bytes(mine))
      .PutBin(a84::ctx_peer_addr, Bytes(theirs));
  for (Set s : {Set::kResourceOpts, Set::kNetConf, Set::kDiskConf}) {
    genl::Tla& t = m.Get(s);
    for (const genl::AttrDesc& d : genl::v84::FindSet(static_cast<uint16_t>(s))->attrs) {
      if (d.type == genl::AttrType::kBin) continue;
      if (d.type == genl::AttrType::kStr) {
        std::string v = d.name == "backing_dev" || d.name == "meta_dev"
                            ? "/dev/loop" + std::to_string(minor)
                            : "";
        t.PutStr(d.key(), v);
      } else if (d.name == "meta_dev_idx") {
        t.PutS32(d.key(), -3);
      } else if (d.name == "resync_rate") {
        t.PutU32(d.key(), 102400);
      } else if (d.name == "c_plan_ahead") {
        t.PutU32(d.key(), 0);
      } else {
        t.PutNum(d.key(), static_cast<uint64_t>(d.def));
      }
    }
  }
  return m;
}

TEST(Show84, MatchesDrbdsetup84) {
  std::vector<Message> all = {Reply("r0", 0, 7788, 7789), Reply("r1", 1, 7789, 7788)};
  EXPECT_EQ(FormatShow84(all, false), ReadExpected("expected-show-84.txt"));
}

TEST(Show84, ShowDefaultsMatchesDrbdsetup84) {
  EXPECT_EQ(FormatShow84({Reply("r0", 0, 7788, 7789)}, true),
            ReadExpected("expected-show-defaults-84.txt"));
}

}  // namespace
}  // namespace drbd::setup
