// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/genl/transport.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "lib/genl/client.h"
#include "lib/genl/codec.h"
#include "lib/genl/ctrl.h"
#include "lib/genl/drbd_codes.h"

namespace drbd::genl {
namespace {

constexpr uint16_t kFamilyId = 0x21;
constexpr uint32_t kEventsGroup = 5;

std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A minimal drbd-simd stand-in on the server end of a connection: answers
// the family lookup, a membership request (then sends one event), PRIMARY
// (with a CFG_REPLY) and GET_RESOURCES (two resources in one datagram,
// NLMSG_DONE in the next); exits when the client closes.
void ServeOne(std::unique_ptr<Transport> conn) {
  for (;;) {
    Result<std::vector<uint8_t>> d = conn->Receive(10000);
    if (!d.ok()) return;
    Result<NlHeader> h = PeekHeader(*d);
    if (!h.ok()) return;
    if (h->type == kGenlIdCtrl) {
      Result<std::string> name = DecodeGetFamily(*d);
      if (name.ok() && *name == "drbd") {
        conn->Send(EncodeNewFamily(DrbdFamilyInfo(kFamilyId, kEventsGroup), h->seq, h->pid));
      } else {
        conn->Send(EncodeNlError(*h, -2));
      }
      continue;
    }
    if (h->type == kSimMembershipType) {
      Result<Membership> m = DecodeMembership(*d);
      bool known = m.ok() && m->group == kEventsGroup;
      conn->Send(EncodeNlError(*h, known ? 0 : -2));
      if (known) {
        Message ev;
        ev.nl.type = kFamilyId;
        ev.nl.seq = 2;
        ev.cmd = static_cast<uint8_t>(Cmd::kResourceState);
        ev.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, "r9");
        ev.Get(Set::kNotificationHeader).PutU32(attr::nh_type, 2);
        conn->Send(*Encode(ev));
      }
      continue;
    }
    Result<Message> req = Decode(*d, DecodeOptions{kFamilyId});
    if (!req.ok()) {
      conn->Send(EncodeNlError(*h, -22));
      continue;
    }
    if (req->cmd == static_cast<uint8_t>(Cmd::kPrimary)) {
      Message rep = MakeReply(*req, ToInt(StateRv::kSsNoUpToDateDisk));
      rep.Add(Set::kCfgReply).PutStr(attr::info_text, "no disk");
      conn->Send(*Encode(rep));
    } else if (req->cmd == static_cast<uint8_t>(Cmd::kGetResources)) {
      std::vector<uint8_t> dgram;
      for (const char* name : {"r0", "r1"}) {
        Message rep = MakeReply(*req, ToInt(RetCode::kNoError));
        rep.tlas.clear();
        rep.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, name);
        rep.Get(Set::kResourceInfo).PutU32(attr::res_role, 2);
        dgram = Concat(dgram, *Encode(rep));
      }
      conn->Send(dgram);
      conn->Send(EncodeDone(req->nl.seq, req->nl.pid));
    } else {
      conn->Send(EncodeNlError(req->nl, -95));
    }
  }
}

struct Pair {
  std::unique_ptr<Transport> client;
  std::thread server;
};

Pair StartPair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  Pair p;
  p.client = WrapSeqpacketFd(fds[0], "unix:test");
  p.server = std::thread(ServeOne, WrapSeqpacketFd(fds[1], "server"));
  return p;
}

TEST(GenlTransport, ClientTalksToSimServerOverSeqpacket) {
  Pair p = StartPair();
  {
    Result<std::unique_ptr<Client>> c = Client::Connect(std::move(p.client));
    ASSERT_TRUE(c.ok()) << c.error().message;
    Client& client = **c;
    EXPECT_EQ(client.family().id, kFamilyId);
    EXPECT_EQ(client.family().GroupId("events"), kEventsGroup);

    Message primary = MakeRequest(Cmd::kPrimary);
    primary.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, "r0");
    primary.Get(Set::kSetRoleParms).PutFlag(attr::force, false);
    Result<std::vector<Message>> rep = client.Call(primary);
    ASSERT_TRUE(rep.ok()) << rep.error().message;
    ASSERT_EQ(rep->size(), 1u);
    ReplyReport report = ReportReply("r0", (*rep)[0]);
    EXPECT_EQ(report.exit_code, 17);
    EXPECT_EQ(report.text,
              "r0: State change failed: (-2) Need access to UpToDate data\n"
              "additional info from kernel:\nno disk\n");

    Result<std::vector<Message>> dump = client.Call(MakeRequest(Cmd::kGetResources));
    ASSERT_TRUE(dump.ok()) << dump.error().message;
    ASSERT_EQ(dump->size(), 2u);
    EXPECT_EQ((*dump)[1].Find(Set::kCfgContext)->GetStr(attr::ctx_resource_name), "r1");
    EXPECT_EQ((*dump)[0].nl.flags, kNlmFMulti);

    Result<std::vector<Message>> unsupported = client.Call(MakeRequest(Cmd::kDown));
    ASSERT_FALSE(unsupported.ok());
    EXPECT_EQ(unsupported.error().code, ErrorCode::kNetlinkError);
    EXPECT_EQ(unsupported.error().sys_errno, 95);

    Status s = client.SubscribeEvents();
    ASSERT_TRUE(s.ok()) << s.error().message;
    Result<std::vector<Message>> ev = client.ReceiveMessages(5000);
    ASSERT_TRUE(ev.ok()) << ev.error().message;
    ASSERT_EQ(ev->size(), 1u);
    EXPECT_EQ((*ev)[0].cmd, static_cast<uint8_t>(Cmd::kResourceState));
    EXPECT_EQ((*ev)[0].Find(Set::kNotificationHeader)->GetU32(attr::nh_type), 2u);

    Result<std::vector<Message>> none = client.ReceiveMessages(0);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, ErrorCode::kTimeout);
  }
  p.server.join();
}

TEST(GenlTransport, MembershipMessageRoundTrips) {
  Membership m{kSimDropMembership, 7, 99};
  std::vector<uint8_t> b = EncodeMembership(m);
  ASSERT_EQ(b.size(), 24u);
  Result<Membership> back = DecodeMembership(b);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, m);
  b[16] = 3;  // op 3 is neither add nor drop
  EXPECT_FALSE(DecodeMembership(b).ok());
  EXPECT_FALSE(DecodeMembership(EncodeDone(1, 0)).ok());
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/genl_test.XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(GenlTransport, UnixSocketPathAndEnvironmentSelection) {
  TempDir dir;
  std::string path = dir.path() + "/simd.sock";
  int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  ASSERT_GE(lfd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(lfd, 4), 0);
  std::thread server([lfd] {
    int c = accept(lfd, nullptr, nullptr);
    if (c >= 0) ServeOne(WrapSeqpacketFd(c, "server"));
  });

  ASSERT_EQ(setenv("DRBD_SIM_SOCKET", path.c_str(), 1), 0);
  {
    Result<std::unique_ptr<Client>> c = Client::Connect();
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ((*c)->transport().name(), "unix:" + path);
    EXPECT_EQ((*c)->family().version, 2u);
  }
  server.join();
  close(lfd);

  // Nothing listens any more: one clear line, exit code 20.
  Result<std::unique_ptr<Client>> gone = Client::Connect();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNoDaemon);
  EXPECT_EQ(gone.error().message,
            "Could not connect to 'drbd' generic netlink family (drbd-simd at " + path +
                ": Connection refused)");
  EXPECT_EQ(gone.error().exit_code(), ExitCode::kExecError);

  ASSERT_EQ(setenv("DRBD_SIM_SOCKET", (dir.path() + "/missing.sock").c_str(), 1), 0);
  gone = Client::Connect();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().message, "Could not connect to 'drbd' generic netlink family (drbd-simd at " +
                                      dir.path() + "/missing.sock: No such file or directory)");
  unsetenv("DRBD_SIM_SOCKET");
}

// The real kernel: nlctrl resolves itself through our encoder and decoder,
// and without the drbd module the lookup fails with drbd-utils' line.
TEST(GenlTransport, KernelNlctrlAndMissingDrbdModule) {
  Result<std::unique_ptr<Transport>> t = OpenKernelTransport();
  if (!t.ok()) GTEST_SKIP() << "no NETLINK_GENERIC here: " << t.error().message;
  ASSERT_TRUE((*t)->Send(EncodeGetFamily("nlctrl", 17, (*t)->port_id())).ok());
  Result<std::vector<uint8_t>> d = (*t)->Receive(3000);
  ASSERT_TRUE(d.ok()) << d.error().message;
  Result<FamilyInfo> f = DecodeNewFamily(*d);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->id, kGenlIdCtrl);
  EXPECT_EQ(f->name, "nlctrl");
  EXPECT_TRUE(f->HasOp(kCtrlCmdGetFamily));
  EXPECT_TRUE(f->GroupId("notify").has_value());

  if (std::filesystem::exists("/sys/module/drbd")) GTEST_SKIP() << "drbd module loaded";
  unsetenv("DRBD_SIM_SOCKET");
  Result<std::unique_ptr<Client>> c = Client::Connect();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kNoFamily);
  EXPECT_EQ(c.error().message, "Could not connect to 'drbd' generic netlink family");
  EXPECT_EQ(c.error().exit_code(), ExitCode::kExecError);
}

}  // namespace
}  // namespace drbd::genl
