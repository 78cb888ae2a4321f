// SPDX-License-Identifier: GPL-2.0-or-later
// drbd-simd as a process: two daemons on loopback configured through their
// genl sockets with lib/genl's client (the bytes drbdsetup sends), attached
// to metadata files written by lib/md, connected over TCP; then SIGTERM.
// Hermetic: temp dir, 127.0.0.1 ports derived from the pid.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "lib/genl/client.h"
#include "lib/genl/family.h"
#include "lib/md/device.h"
#include "lib/md/metadata.h"
#include "lib/md/superblock.h"
#include "lib/notify/notify.h"

namespace drbd::simd {
namespace {

using genl::Cmd;
using genl::Set;
namespace fs = std::filesystem;

constexpr uint64_t kDiskBytes = 16ull << 20;

struct Daemon {
  pid_t pid = -1;
  std::string socket;
};

Daemon Spawn(const std::string& node, const std::string& socket) {
  Daemon d;
  d.socket = socket;
  d.pid = fork();
  if (d.pid == 0) {
    execl(DRBD_SIMD_BIN, DRBD_SIMD_BIN, "--node", node.c_str(), "--socket", socket.c_str(),
          "--quiet", static_cast<char*>(nullptr));
    _exit(127);
  }
  return d;
}

std::unique_ptr<genl::Client> ConnectTo(const std::string& socket) {
  for (int i = 0; i < 200; ++i) {
    auto t = genl::OpenUnixTransport(socket);
    if (t.ok()) {
      auto c = genl::Client::Connect(std::move(t).value());
      if (c.ok()) return std::move(c).value();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));  // daemon start-up only
  }
  return nullptr;
}

int32_t Do(genl::Client& c, genl::Message m) {
  auto r = c.Call(std::move(m), 10000);
  if (!r.ok() || r->empty()) return -1000;
  return (*r)[0].ret_code();
}

genl::Message Req(Cmd cmd, const std::string& res) {
  genl::Message m = genl::MakeRequest(cmd);
  if (!res.empty()) m.Get(Set::kCfgContext).PutStr(genl::attr::ctx_resource_name, res);
  return m;
}

bool WriteMetadataFile(const std::string& path) {
  md::MemDevice dev(kDiskBytes);
  md::Superblock sb = md::NewSuperblock(md::Format::kV09, 1, 1, 8);
  if (!md::InitOffsets(sb, md::kIndexFlexInternal, kDiskBytes).ok()) return false;
  if (!md::CreateMetadata(dev, md::Placement{md::Format::kV09, md::kIndexFlexInternal}, sb, false)
           .ok()) {
    return false;
  }
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(dev.data().data()),
          static_cast<std::streamsize>(dev.data().size()));
  return f.good();
}

std::string Sockaddr(const std::string& host, uint16_t port) {
  events::Address a;
  a.host = host;
  a.port = port;
  return notify::SockaddrFromAddress(a);
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// new-resource, new-minor, attach, new-peer, new-path, connect.
void Configure(genl::Client& c, uint32_t me, uint32_t peer, const std::string& disk,
               uint16_t my_port, uint16_t peer_port) {
  genl::Message nr = Req(Cmd::kNewResource, "r0");
  nr.Get(Set::kResourceOpts).PutU32(genl::attr::node_id, me);
  ASSERT_EQ(Do(c, nr), 101);
  genl::Message nm = Req(Cmd::kNewMinor, "r0");
  nm.minor = 0;
  nm.Get(Set::kCfgContext).PutU32(genl::attr::ctx_volume, 0);
  ASSERT_EQ(Do(c, nm), 101);
  genl::Message at = Req(Cmd::kAttach, "");
  at.minor = 0;
  at.Get(Set::kDiskConf)
      .PutStr(genl::attr::backing_dev, disk)
      .PutStr(genl::attr::meta_dev, disk)
      .PutS32(genl::attr::meta_dev_idx, -3);
  ASSERT_EQ(Do(c, at), 101);
  genl::Message np = Req(Cmd::kNewPeer, "r0");
  np.Get(Set::kCfgContext).PutU32(genl::attr::ctx_peer_node_id, peer);
  np.Get(Set::kNetConf)
      .PutStr(genl::attr::name, "peer" + std::to_string(peer))
      .PutStr(genl::attr::cram_hmac_alg, "sha256")
      .PutStr(genl::attr::shared_secret, "secret");
  ASSERT_EQ(Do(c, np), 101);
  genl::Message pa = Req(Cmd::kNewPath, "r0");
  pa.Get(Set::kCfgContext).PutU32(genl::attr::ctx_peer_node_id, peer);
  std::string mine = Sockaddr("127.0.0.1", my_port), theirs = Sockaddr("127.0.0.1", peer_port);
  pa.Get(Set::kPathParms)
      .PutBin(genl::attr::my_addr, Bytes(mine))
      .PutBin(genl::attr::peer_addr, Bytes(theirs));
  ASSERT_EQ(Do(c, pa), 101);
  genl::Message co = Req(Cmd::kConnect, "r0");
  co.Get(Set::kCfgContext).PutU32(genl::attr::ctx_peer_node_id, peer);
  ASSERT_EQ(Do(c, co), 1);  // SS_SUCCESS
}

std::optional<events::ConnState> ConnState(genl::Client& c) {
  auto r = c.Call(Req(Cmd::kGetConnections, "r0"), 5000);
  if (!r.ok()) return std::nullopt;
  for (const genl::Message& m : *r) {
    auto n = notify::DecodeNotification(m);
    if (!n.ok()) continue;
    if (auto* conn = std::get_if<events::Connection>(&n->object)) return conn->info.conn_state;
  }
  return std::nullopt;
}

TEST(DrbdSimdDaemon, TwoNodesConnectOverLoopbackAndStopOnSigterm) {
  fs::path dir = fs::temp_directory_path() / ("drbd-simd-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string disk_a = (dir / "a.img").string(), disk_b = (dir / "b.img").string();
  ASSERT_TRUE(WriteMetadataFile(disk_a));
  ASSERT_TRUE(WriteMetadataFile(disk_b));
  uint16_t port_a = static_cast<uint16_t>(20000 + (getpid() % 20000)), port_b = port_a + 1;

  Daemon a = Spawn("alpha", (dir / "a.sock").string());
  Daemon b = Spawn("beta", (dir / "b.sock").string());
  auto ca = ConnectTo(a.socket);
  auto cb = ConnectTo(b.socket);
  ASSERT_TRUE(ca && cb);
  Configure(*ca, 0, 1, disk_a, port_a, port_b);
  Configure(*cb, 1, 0, disk_b, port_b, port_a);

  std::optional<events::ConnState> sa, sb;
  for (int i = 0; i < 100; ++i) {
    sa = ConnState(*ca);
    sb = ConnState(*cb);
    if (sa == events::ConnState::kConnected && sb == events::ConnState::kConnected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(sa, events::ConnState::kConnected);
  EXPECT_EQ(sb, events::ConnState::kConnected);

  // A second Primary is refused with the kernel's code.
  genl::Message pa = Req(Cmd::kPrimary, "r0");
  pa.Get(Set::kSetRoleParms).PutFlag(genl::attr::force, true);
  EXPECT_EQ(Do(*ca, pa), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  genl::Message pb = Req(Cmd::kPrimary, "r0");
  pb.Get(Set::kSetRoleParms).PutFlag(genl::attr::force, true);
  EXPECT_EQ(Do(*cb, pb), -1);  // SS_TWO_PRIMARIES

  ca.reset();
  cb.reset();
  for (Daemon* d : {&a, &b}) {
    kill(d->pid, SIGTERM);
    int status = 0;
    waitpid(d->pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_FALSE(fs::exists(d->socket));
  }
  fs::remove_all(dir);
}

TEST(DrbdSimdDaemon, HelpDocumentsTheOptions) {
  std::string cmd = std::string(DRBD_SIMD_BIN) + " --help";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof buf, p)) out += buf;
  EXPECT_EQ(pclose(p), 0);
  for (const char* opt : {"--node", "--socket", "--nbd-dir", "--quiet", "--enable-faults",
                          "--fault-rate", "--fault-devs", "--fault-file"}) {
    EXPECT_NE(out.find(opt), std::string::npos) << opt;
  }
}

}  // namespace
}  // namespace drbd::simd
