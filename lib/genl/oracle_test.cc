// SPDX-License-Identifier: GPL-2.0-or-later
// Differential test against drbd-utils 9.22's drbdsetup (the oracle,
// /usr/sbin/drbdsetup): the oracle runs in a private mount namespace with
// a fake /proc/drbd, its netlink socket redirected by an LD_PRELOAD shim
// (testdata/oracle_shim.c) to an in-test server speaking our codec. The
// request bytes it sends must equal our encoding of the same request, and
// its verdict on each reply code must equal genl::ReportReply. Skipped
// without root, unshare or the oracle.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>

#include "lib/genl/codec.h"
#include "lib/genl/ctrl.h"
#include "lib/genl/drbd_codes.h"
#include "lib/genl/fields.h"
#include "lib/genl/transport.h"

namespace drbd::genl {
namespace {

constexpr uint16_t kFamilyId = 0x1c;
constexpr const char* kOracle = "/usr/sbin/drbdsetup";

struct OracleRun {
  std::vector<std::vector<uint8_t>> requests;  // family messages, in order
  int exit_code = -1;
  std::string err;  // stderr
  std::string out;  // stdout, when asked for
};

// How the server answers a family request: the datagrams to send.
using Answer = std::function<std::vector<std::vector<uint8_t>>(const Message& req)>;

std::vector<std::vector<uint8_t>> AnswerOk(const Message& req) {
  if (req.nl.flags & kNlmFDump) return {EncodeDone(req.nl.seq, req.nl.pid)};
  return {*Encode(MakeReply(req, ToInt(RetCode::kNoError)))};
}

class Oracle {
 public:
  Oracle() {
    char tmpl[] = "/tmp/genl_oracle.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~Oracle() { std::filesystem::remove_all(dir_); }

  static bool Usable(std::string* why) {
    if (geteuid() != 0) return *why = "needs root (mount namespace)", false;
    if (!std::filesystem::exists(kOracle)) return *why = "no oracle drbdsetup", false;
    if (std::system("unshare -m true 2>/dev/null") != 0) return *why = "unshare -m fails", false;
    return true;
  }

  OracleRun Invoke(const std::string& args, const Answer& answer = AnswerOk) {
    return Run(args, answer, false);
  }
  // The same, keeping stdout in OracleRun::out.
  OracleRun InvokeOut(const std::string& args, const Answer& answer) {
    return Run(args, answer, true);
  }

 private:
  OracleRun Run(const std::string& args, const Answer& answer, bool keep_out) {
    std::string sock = dir_ + "/s.sock";
    std::filesystem::remove(sock);
    int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock.c_str());
    EXPECT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(lfd, 1), 0);
    OracleRun run;
    std::thread server([&] {
      pollfd p{lfd, POLLIN, 0};
      if (poll(&p, 1, 10000) != 1) return;
      int c = accept(lfd, nullptr, nullptr);
      if (c < 0) return;
      std::unique_ptr<Transport> conn = WrapSeqpacketFd(c, "oracle");
      for (;;) {
        Result<std::vector<uint8_t>> d = conn->Receive(10000);
        if (!d.ok()) return;
        Result<NlHeader> h = PeekHeader(*d);
        if (!h.ok()) return;
        if (h->type == kGenlIdCtrl) {
          conn->Send(EncodeNewFamily(DrbdFamilyInfo(kFamilyId, 5), h->seq, h->pid));
          continue;
        }
        run.requests.push_back(*d);
        Result<Message> req = Decode(*d);
        if (!req.ok()) {
          conn->Send(EncodeNlError(*d, -22));
          continue;
        }
        for (const std::vector<uint8_t>& dgram : answer(*req)) conn->Send(dgram);
      }
    });
    std::string errfile = dir_ + "/stderr";
    std::string cmd =
        "unshare -m sh -c 'mount -t tmpfs none /proc && "
        "echo \"version: 9.2.18 (api:2/proto:86-122)\" > /proc/drbd && "
        "GENL_SHIM_SOCKET=" + sock + " LD_PRELOAD=" GENL_ORACLE_SHIM " " + kOracle + " " + args +
        "' >" + (keep_out ? dir_ + "/stdout" : std::string("/dev/null")) + " 2>" + errfile;
    int st = std::system(cmd.c_str());
    run.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    server.join();
    close(lfd);
    std::ifstream f(errfile);
    run.err.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    if (keep_out) {
      std::ifstream o(dir_ + "/stdout");
      run.out.assign(std::istreambuf_iterator<char>(o), std::istreambuf_iterator<char>());
    }
    return run;
  }

  std::string dir_;
};

std::string Hex(const std::vector<uint8_t>& b) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < b.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", b[i]);
    s += buf;
    s += (i % 4 == 3) ? " " : "";
  }
  return s;
}

std::vector<uint8_t> SockaddrIn(const char* ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&a);
  return std::vector<uint8_t>(p, p + sizeof(a));
}

struct Case {
  std::string args;
  std::function<Message()> build;
  size_t index = 0;           // which of the oracle's requests to compare
  Answer answer = AnswerOk;   // how the server answers
};

// GET_RESOURCES answered with one resource r0 (drbdsetup down looks
// first). NLMSG_DONE goes in a datagram of its own, as the kernel's dump
// sends it: drbdsetup 9.22 does not see a DONE behind a reply in the same
// datagram (genl_recv_msgs checks the first message only).
std::vector<std::vector<uint8_t>> AnswerOneResource(const Message& req) {
  if (!(req.nl.flags & kNlmFDump)) return AnswerOk(req);
  Message r = MakeReply(req, ToInt(RetCode::kNoError));
  r.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, "r0");
  return {*Encode(r), EncodeDone(req.nl.seq, req.nl.pid)};
}

Message Req(Cmd c, uint32_t minor = kMinorNone) {
  Message m = MakeRequest(c);
  m.minor = minor;
  return m;
}

Message Ctx(Cmd c, const char* res, int peer = -1, int vol = -1) {
  Message m = Req(c);
  Tla& ctx = m.Get(Set::kCfgContext);
  ctx.PutStr(attr::ctx_resource_name, res);
  if (peer >= 0) ctx.PutU32(attr::ctx_peer_node_id, static_cast<uint32_t>(peer));
  if (vol >= 0) ctx.PutU32(attr::ctx_volume, static_cast<uint32_t>(vol));
  return m;
}

std::vector<Case> Cases() {
  return {
      {"primary r0 --force",
       [] {
         Message m = Ctx(Cmd::kPrimary, "r0");
         m.Get(Set::kSetRoleParms).PutFlag(attr::force, true);
         return m;
       }},
      {"secondary r0", [] { return Ctx(Cmd::kSecondary, "r0"); }},
      {"new-resource r0 1",
       [] {
         Message m = Ctx(Cmd::kNewResource, "r0");
         m.Get(Set::kResourceOpts).PutU32(attr::node_id, 1);
         return m;
       }},
      {"resource-options r0 --auto-promote=no --quorum=majority --cpu-mask=ff",
       [] {
         Message m = Ctx(Cmd::kResourceOpts, "r0");
         m.Get(Set::kResourceOpts)
             .PutFlag(attr::auto_promote, false)
             .PutS32(attr::quorum, 1024)
             .PutStr(attr::cpu_mask, "ff");
         return m;
       }},
      {"new-peer r0 1 --_name=beta --protocol=A --ping-int=7 --shared-secret=s3",
       [] {
         Message m = Ctx(Cmd::kNewPeer, "r0", 1);
         m.Get(Set::kNetConf)
             .PutStr(attr::name, "beta")
             .PutU32(attr::wire_protocol, 1)
             .PutU32(attr::ping_int, 7)
             .PutStr(attr::shared_secret, "s3");
         return m;
       }},
      {"net-options r0 1 --set-defaults --allow-two-primaries=yes --sndbuf-size=1M",
       [] {
         Message m = Ctx(Cmd::kChgNetOpts, "r0", 1);
         m.flags = kFlagSetDefaults;
         m.Get(Set::kNetConf).PutFlag(attr::two_primaries, true).PutU32(attr::sndbuf_size, 1048576);
         return m;
       }},
      {"new-path r0 1 ipv4:127.0.0.1:7788 ipv4:127.0.0.2:7789",
       [] {
         Message m = Ctx(Cmd::kNewPath, "r0", 1);
         m.Get(Set::kPathParms)
             .PutBin(attr::my_addr, SockaddrIn("127.0.0.1", 7788))
             .PutBin(attr::peer_addr, SockaddrIn("127.0.0.2", 7789));
         return m;
       }},
      {"connect r0 1 --discard-my-data",
       [] {
         Message m = Ctx(Cmd::kConnect, "r0", 1);
         m.Get(Set::kConnectParms).PutFlag(attr::discard_my_data, true);
         return m;
       }},
      {"disconnect r0 1 --force",
       [] {
         Message m = Ctx(Cmd::kDisconnect, "r0", 1);
         m.Get(Set::kDisconnectParms).PutFlag(attr::force_disconnect, true);
         return m;
       }},
      {"new-minor r0 77 3 --diskless",
       [] {
         Message m = Ctx(Cmd::kNewMinor, "r0", -1, 3);
         m.minor = 77;
         m.Get(Set::kDeviceConf).PutFlag(attr::intentional_diskless, true);
         return m;
       }},
      {"resize 7 --size=1G --assume-clean",
       [] {
         Message m = Req(Cmd::kResize, 7);
         m.Get(Set::kResizeParms).PutU64(attr::resize_size, 2097152).PutFlag(attr::no_resync, true);
         return m;
       }},
      {"disk-options 7 --al-extents=3389 --disk-barrier=yes --resync-after=-1",
       [] {
         Message m = Req(Cmd::kChgDiskOpts, 7);
         m.Get(Set::kDiskConf)
             .PutU32(attr::al_extents, 3389)
             .PutFlag(attr::disk_barrier, true)
             .PutS32(attr::resync_after, -1);
         return m;
       }},
      {"peer-device-options r0 1 0 --resync-rate=100M --c-plan-ahead=0",
       [] {
         Message m = Ctx(Cmd::kChgPeerDeviceOpts, "r0", 1, 0);
         m.Get(Set::kPeerDeviceOpts).PutU32(attr::resync_rate, 102400).PutU32(attr::c_plan_ahead, 0);
         return m;
       }},
      {"verify r0 1 0 --start=4096",
       [] {
         Message m = Ctx(Cmd::kStartOv, "r0", 1, 0);
         // --start is in sectors unless a unit is given.
         m.Get(Set::kStartOvParms).PutU64(attr::ov_start_sector, 4096);
         return m;
       }},
      {"invalidate 7 --sync-from-peer-node-id=1",
       [] {
         Message m = Req(Cmd::kInvalidate, 7);
         m.Get(Set::kInvalidateParms).PutS32(attr::sync_from_peer_node_id, 1);
         return m;
       }},
      {"detach 7 --force",
       [] {
         Message m = Req(Cmd::kDetach, 7);
         m.Get(Set::kDetachParms).PutFlag(attr::force_detach, true);
         return m;
       }},
      {"new-current-uuid 7 --clear-bitmap",
       [] {
         Message m = Req(Cmd::kNewCUuid, 7);
         m.Get(Set::kNewCUuidParms).PutFlag(attr::clear_bm, true);
         return m;
       }},
      {"forget-peer r0 2",
       [] {
         Message m = Ctx(Cmd::kForgetPeer, "r0");
         m.Get(Set::kForgetPeerParms).PutS32(attr::forget_peer_node_id, 2);
         return m;
       }},
      {"rename-resource r0 r1",
       [] {
         Message m = Ctx(Cmd::kRenameResource, "r0");
         m.Get(Set::kRenameResourceParms).PutStr(attr::new_resource_name, "r1");
         return m;
       }},
      {"outdate 7", [] { return Req(Cmd::kOutdate, 7); }},
      {"suspend-io 7", [] { return Req(Cmd::kSuspendIo, 7); }},
      {"resume-io 7", [] { return Req(Cmd::kResumeIo, 7); }},
      {"pause-sync r0 1 0", [] { return Ctx(Cmd::kPauseSync, "r0", 1, 0); }},
      {"invalidate-remote r0 1 0", [] { return Ctx(Cmd::kInvalPeer, "r0", 1, 0); }},
      {"del-peer r0 1", [] { return Ctx(Cmd::kDelPeer, "r0", 1); }},
      {"del-minor 7", [] { return Req(Cmd::kDelMinor, 7); }},
      {"del-resource r0", [] { return Ctx(Cmd::kDelResource, "r0"); }},
      {"down r0", [] { return Req(Cmd::kGetResources); }, 0, AnswerOneResource},
      {"down r0", [] { return Ctx(Cmd::kGetDevices, "r0"); }, 1, AnswerOneResource},
      {"down r0", [] { return Ctx(Cmd::kDown, "r0"); }, 2, AnswerOneResource},
  };
}

TEST(GenlOracle, RequestBytesEqualDrbdsetup922) {
  std::string why;
  if (!Oracle::Usable(&why)) GTEST_SKIP() << why;
  Oracle oracle;
  for (const Case& c : Cases()) {
    SCOPED_TRACE("drbdsetup " + c.args);
    OracleRun run = oracle.Invoke(c.args, c.answer);
    ASSERT_GT(run.requests.size(), c.index) << "exit " << run.exit_code << ": " << run.err;
    EXPECT_EQ(run.exit_code, 0) << run.err;
    const std::vector<uint8_t>& theirs_bytes = run.requests[c.index];
    Result<NlHeader> h = PeekHeader(theirs_bytes);
    ASSERT_TRUE(h.ok());
    Message want = c.build();
    want.nl.type = kFamilyId;
    want.nl.seq = h->seq;
    want.nl.pid = 4242;
    Result<std::vector<uint8_t>> ours = Encode(want);
    ASSERT_TRUE(ours.ok()) << ours.error().message;
    EXPECT_EQ(Hex(*ours), Hex(theirs_bytes));
    Result<Message> theirs = Decode(theirs_bytes);
    ASSERT_TRUE(theirs.ok()) << theirs.error().message;
    EXPECT_EQ(Describe(*theirs), Describe(want));
  }
}

TEST(GenlOracle, ReplyVerdictsEqualDrbdsetup922) {
  std::string why;
  if (!Oracle::Usable(&why)) GTEST_SKIP() << why;
  Oracle oracle;
  for (int32_t rc : {101, 1, 2, 0, -1, -2, -3, -4, -15, -16, -28, -29, 102, 117, 119, 126, 158,
                     163, 175, 176, 177, 100, 5, 99}) {
    for (bool info : {false, true}) {
      SCOPED_TRACE("ret_code " + std::to_string(rc) + (info ? " with info" : ""));
      Message reply;
      OracleRun run = oracle.Invoke("primary r0", [&](const Message& req) {
        reply = MakeReply(req, rc);
        if (info) {
          reply.Add(Set::kCfgReply).PutStr(attr::info_text, "first line");
          reply.Add(Set::kCfgReply).PutStr(attr::info_text, "second line");
        }
        return std::vector<std::vector<uint8_t>>{*Encode(reply)};
      });
      ASSERT_EQ(run.requests.size(), 1u) << run.err;
      ReplyReport want = ReportReply("r0", reply);
      EXPECT_EQ(run.err, want.text);
      EXPECT_EQ(run.exit_code, want.exit_code);
    }
  }
}

// An NLMSG_ERROR instead of a DRBD reply (what the kernel sends when
// pre_doit fails: no CAP_SYS_ADMIN, bad version).
TEST(GenlOracle, NetlinkErrorReplyVerdictEqualsDrbdsetup922) {
  std::string why;
  if (!Oracle::Usable(&why)) GTEST_SKIP() << why;
  Oracle oracle;
  for (int err : {1, 22, 95}) {
    SCOPED_TRACE("errno " + std::to_string(err));
    OracleRun run = oracle.Invoke("primary r0", [&](const Message& req) {
      return std::vector<std::vector<uint8_t>>{EncodeNlError(req.nl, -err)};
    });
    ReplyReport want = ReportNetlinkError("r0", err);
    EXPECT_EQ(run.err, want.text);
    EXPECT_EQ(run.exit_code, want.exit_code);
  }
}

// The oracle decodes what we encode in the kernel's style: an initial
// state dump for `events2 --now` (TLAs built with Fields and the typed
// appenders, encoded with kKernelStyle) describing r0 of the DRBD 9.2.18
// capture comes out as the lines drbdsetup printed for the real kernel
// (/work/shared/spec/captures/drbd-9.2.18/28-drbdsetup_events2_--now__no_statistics_.txt).
TEST(GenlOracle, DecodesKernelStyleInitialState) {
  std::string why;
  if (!Oracle::Usable(&why)) GTEST_SKIP() << why;
  auto notify = [](const Message& req, Cmd cmd, uint32_t minor, uint32_t type) {
    // Notifications carry ret_code NO_ERROR (drbd_nl.c notify_*).
    Message m = MakeReply(req, ToInt(RetCode::kNoError));
    m.tlas.clear();
    m.cmd = static_cast<uint8_t>(cmd);
    m.minor = minor;
    m.Get(Set::kNotificationHeader).PutU32(attr::nh_type, type);
    return m;
  };
  auto peer_ctx = [](Message& m) -> Tla& {
    return m.Get(Set::kCfgContext)
        .PutStr(attr::ctx_resource_name, "r0")
        .PutU32(attr::ctx_peer_node_id, 1)
        .PutStr(attr::ctx_conn_name, "b0");
  };
  Answer answer = [&](const Message& req) -> std::vector<std::vector<uint8_t>> {
    if (req.cmd != static_cast<uint8_t>(Cmd::kGetInitialState)) return AnswerOk(req);
    const uint32_t kExistsContinues = 0x8000;  // NOTIFY_EXISTS | NOTIFY_CONTINUES
    std::vector<uint8_t> d;
    auto add = [&](const Message& m) {
      std::vector<uint8_t> b = *Encode(m, kKernelStyle);
      d.insert(d.end(), b.begin(), b.end());
    };
    Message res = notify(req, Cmd::kResourceState, kMinorNone, kExistsContinues);
    res.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, "r0");
    Fields info(Set::kResourceInfo);
    info.SetNum(attr::res_role, 1);
    res.tlas.push_back(info.ToTla(true));
    res.tlas.push_back(Fields(Set::kResourceStatistics).ToTla(true));
    add(res);
    Message con = notify(req, Cmd::kConnectionState, kMinorNone, kExistsContinues);
    peer_ctx(con);
    con.Get(Set::kConnectionInfo).PutU32(attr::conn_connection_state, 9).PutU32(attr::conn_role, 2);
    con.tlas.push_back(Fields(Set::kConnectionStatistics).ToTla(true));
    add(con);
    Message dev = notify(req, Cmd::kDeviceState, 0, kExistsContinues);
    dev.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, "r0").PutU32(attr::ctx_volume, 0);
    Fields dinfo(Set::kDeviceInfo);
    dinfo.SetNum(attr::dev_disk_state, 9);
    dinfo.SetNum(attr::dev_has_quorum, 1);
    dinfo.SetStr(attr::backing_dev_path, "/dev/loop0");
    dev.tlas.push_back(dinfo.ToTla(true));
    dev.tlas.push_back(Fields(Set::kDeviceStatistics).ToTla(true));
    add(dev);
    Message pd = notify(req, Cmd::kPeerDeviceState, 0, kExistsContinues);
    peer_ctx(pd).PutU32(attr::ctx_volume, 0);
    Fields pinfo(Set::kPeerDeviceInfo);
    pinfo.SetNum(attr::peer_repl_state, 10);
    pinfo.SetNum(attr::peer_disk_state, 9);
    pd.tlas.push_back(pinfo.ToTla(true));
    pd.tlas.push_back(Fields(Set::kPeerDeviceStatistics).ToTla(true));
    add(pd);
    Message path = notify(req, Cmd::kPathState, kMinorNone, 0);
    peer_ctx(path)
        .PutBin(attr::ctx_my_addr, SockaddrIn("127.0.0.1", 7788))
        .PutBin(attr::ctx_peer_addr, SockaddrIn("127.0.0.1", 7789));
    path.Get(Set::kPathInfo).PutFlag(attr::path_established, true);
    add(path);
    add(notify(req, Cmd::kInitialStateDone, kMinorNone, 0));
    return {d, EncodeDone(req.nl.seq, req.nl.pid)};
  };
  Oracle oracle;
  OracleRun run = oracle.InvokeOut("events2 --now all", answer);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "exists resource name:r0 role:Primary suspended:no force-io-failures:no "
            "may_promote:no promotion_score:10102\n"
            "exists connection name:r0 peer-node-id:1 conn-name:b0 connection:Connected "
            "role:Secondary\n"
            "exists device name:r0 volume:0 minor:0 backing_dev:/dev/loop0 disk:UpToDate "
            "client:no quorum:yes\n"
            "exists peer-device name:r0 peer-node-id:1 conn-name:b0 volume:0 "
            "replication:Established peer-disk:UpToDate peer-client:no resync-suspended:no\n"
            "exists path name:r0 peer-node-id:1 conn-name:b0 local:ipv4:127.0.0.1:7788 "
            "peer:ipv4:127.0.0.1:7789 established:yes\n"
            "exists -\n");
}

}  // namespace
}  // namespace drbd::genl
