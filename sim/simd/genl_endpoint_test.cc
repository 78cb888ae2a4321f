// SPDX-License-Identifier: GPL-2.0-or-later
// The genl endpoint driven with the bytes drbdsetup sends (lib/genl
// encoder): family lookup, membership, doit replies with the kernel's
// ret_code and info texts, dumps and the events multicast.
#include "sim/simd/genl_endpoint.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "lib/genl/ctrl.h"
#include "lib/genl/drbd_codes.h"
#include "lib/genl/family.h"
#include "lib/genl/transport.h"
#include "lib/notify/notify.h"
#include "sim/world/node.h"

namespace drbd::simd {
namespace {

using genl::Cmd;
using genl::Set;

class EndpointTest : public ::testing::Test {
 protected:
  EndpointTest() : node(world, "a"), ep(&node.engine) {
    // Route the engine's notifications to the endpoint as the daemon does.
    forward.ep = &ep;
    forward.inner = &node.sink;
  }
  struct Forward : sim::EventSink {
    void OnEvent(const events::Notification& n) override {
      inner->OnEvent(n);
      ep->Publish(n);
    }
    void OnLog(std::string_view l) override { inner->OnLog(l); }
    GenlEndpoint* ep = nullptr;
    sim::EventSink* inner = nullptr;
  };

  // Sends one request, returns every datagram answered.
  std::vector<std::vector<uint8_t>> Call(const genl::Message& m, uint64_t client = 1) {
    auto bytes = genl::Encode(m);
    EXPECT_TRUE(bytes.ok());
    std::vector<std::vector<uint8_t>> got;
    ep.OnDatagram(client, *bytes, [&got](std::vector<uint8_t> d) { got.push_back(std::move(d)); });
    for (int i = 0; i < 100; ++i) world.Step();
    return got;
  }
  genl::Message Request(Cmd cmd, const std::string& res) {
    genl::Message m = genl::MakeRequest(cmd);
    m.nl.type = GenlEndpoint::kFamilyId;
    m.nl.seq = ++seq;
    if (!res.empty()) m.Get(Set::kCfgContext).PutStr(genl::attr::ctx_resource_name, res);
    return m;
  }
  // A dump's answer: one packet of replies, then NLMSG_DONE in a packet of
  // its own (as the kernel sends it). Returns the replies, decoded.
  std::vector<genl::Message> Dump(const genl::Message& req) {
    std::vector<genl::Message> out;
    auto replies = Call(req);
    EXPECT_EQ(replies.size(), 2u);
    if (replies.size() != 2) return out;
    auto done = genl::Split(replies[1]);
    EXPECT_TRUE(done.ok() && done->size() == 1 && (*done)[0].hdr.type == genl::kNlmsgDone);
    auto frames = genl::Split(replies[0]);
    EXPECT_TRUE(frames.ok());
    if (!frames.ok()) return out;
    for (const genl::Frame& f : *frames) {
      auto m = genl::Decode(f.bytes);
      EXPECT_TRUE(m.ok());
      out.push_back(m.ok() ? *m : genl::Message{});
    }
    return out;
  }
  genl::Message DecodeOne(const std::vector<uint8_t>& d) {
    auto m = genl::Decode(d);
    EXPECT_TRUE(m.ok());
    return m.ok() ? *m : genl::Message{};
  }

  sim::World world;
  sim::Node node;
  GenlEndpoint ep;
  Forward forward;
  uint32_t seq = 100;
};

TEST_F(EndpointTest, AnswersTheFamilyLookup) {
  std::vector<std::vector<uint8_t>> got;
  ep.OnDatagram(1, genl::EncodeGetFamily("drbd", 7, 0),
                [&](std::vector<uint8_t> d) { got.push_back(d); });
  ASSERT_EQ(got.size(), 1u);
  auto info = genl::DecodeNewFamily(got[0]);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->id, GenlEndpoint::kFamilyId);
  EXPECT_EQ(info->version, 2u);
  EXPECT_EQ(info->GroupId("events"), GenlEndpoint::kEventsGroupId);
  EXPECT_TRUE(info->HasOp(static_cast<uint32_t>(Cmd::kNewPath)));
  got.clear();
  ep.OnDatagram(1, genl::EncodeGetFamily("nope", 8, 0),
                [&](std::vector<uint8_t> d) { got.push_back(d); });
  ASSERT_EQ(got.size(), 1u);
  auto frames = genl::Split(got[0]);
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ(genl::DecodeNlError((*frames)[0])->error, -ENOENT);
}

TEST_F(EndpointTest, NewResourceRepliesNoErrorAndMulticastsTheCreate) {
  // An engine whose notifications go to its endpoint, as in the daemon.
  struct Fwd : sim::EventSink {
    void OnEvent(const events::Notification& n) override { ep->Publish(n); }
    void OnLog(std::string_view) override {}
    GenlEndpoint* ep = nullptr;
  } fwd;
  engine::Engine e("c", sim::Env{world.clock(), world.net(), world.disks(), world.rng(), &fwd});
  GenlEndpoint endpoint(&e);
  fwd.ep = &endpoint;
  std::vector<std::vector<uint8_t>> events;
  endpoint.OnDatagram(
      2, genl::EncodeMembership({genl::kSimAddMembership, GenlEndpoint::kEventsGroupId, 1}),
      [&](std::vector<uint8_t> d) { events.push_back(std::move(d)); });
  ASSERT_EQ(events.size(), 1u);  // the membership ack
  auto ack = genl::Split(events[0]);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(genl::DecodeNlError((*ack)[0])->error, 0);
  events.clear();

  genl::Message req = Request(Cmd::kNewResource, "r0");
  req.Get(Set::kResourceOpts).PutU32(genl::attr::node_id, 0);
  auto bytes = genl::Encode(req);
  std::vector<std::vector<uint8_t>> replies;
  endpoint.OnDatagram(1, *bytes, [&](std::vector<uint8_t> d) { replies.push_back(std::move(d)); });
  ASSERT_EQ(replies.size(), 1u);
  genl::Message reply = DecodeOne(replies[0]);
  EXPECT_EQ(reply.ret_code(), 101);
  EXPECT_EQ(reply.nl.seq, req.nl.seq);
  ASSERT_EQ(events.size(), 1u);
  auto note = notify::DecodeNotification(DecodeOne(events[0]));
  ASSERT_TRUE(note.ok());
  EXPECT_EQ(note->type, events::NotifyType::kCreate);
  EXPECT_EQ(std::get<events::Resource>(note->object).name, "r0");
}

TEST_F(EndpointTest, ConnectionDumpCarriesNetConfAndPaths) {
  ASSERT_EQ(node.NewResource("r0", 0), engine::Ret::kNoError);
  engine::OptionSet net(cfg::OptContext::kNewPeer);
  net.Set("ping-int", int64_t{7});
  ASSERT_EQ(node.NewPeer("r0", 1, "b0", net), engine::Ret::kNoError);
  ASSERT_EQ(node.NewPath("r0", 1, sim::Ip4("127.0.0.1", 7788), sim::Ip4("127.0.0.1", 7789)),
            engine::Ret::kNoError);
  std::vector<genl::Message> dump = Dump(Request(Cmd::kGetConnections, "r0"));
  ASSERT_EQ(dump.size(), 1u);  // the connection
  const genl::Message& m = dump[0];
  EXPECT_EQ(m.ret_code(), 101);
  const genl::Tla* nc = m.Find(Set::kNetConf);
  ASSERT_NE(nc, nullptr);
  EXPECT_EQ(nc->GetStr(genl::attr::name), "b0");
  EXPECT_EQ(nc->GetU32(genl::attr::ping_int), 7u);
  EXPECT_EQ(nc->GetU32(genl::attr::ping_timeo), 5u);  // the table default
  const genl::Tla* pp = m.Find(Set::kPathParms);
  ASSERT_NE(pp, nullptr);
  auto mine = notify::AddressFromSockaddr(*pp->GetStr(genl::attr::my_addr));
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(mine->port, 7788);
}

TEST_F(EndpointTest, RefusalCarriesKernelCodeAndInfoText) {
  genl::Message req = Request(Cmd::kNewResource, "all");
  req.Get(Set::kResourceOpts).PutU32(genl::attr::node_id, 0);
  auto replies = Call(req);
  ASSERT_EQ(replies.size(), 1u);
  genl::Message reply = DecodeOne(replies[0]);
  EXPECT_EQ(reply.ret_code(), 162);
  genl::ReplyReport rep = genl::ReportReply("all", reply);
  EXPECT_EQ(rep.exit_code, 10);
  EXPECT_NE(rep.text.find("invalid name (strict_names=1 allows only [0-9A-Za-z+._-])"),
            std::string::npos);
}

TEST_F(EndpointTest, PrimaryOfUnknownResourceIsResNotKnown) {
  genl::Message req = Request(Cmd::kPrimary, "r9");
  req.Get(Set::kSetRoleParms).PutFlag(genl::attr::force, false);
  auto replies = Call(req);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(DecodeOne(replies[0]).ret_code(), 158);
}

TEST_F(EndpointTest, AttachRepliesAfterTheMetadataRead) {
  ASSERT_EQ(node.NewResource("r0", 0), engine::Ret::kNoError);
  ASSERT_EQ(node.NewMinor("r0", 0, 0), engine::Ret::kNoError);
  ASSERT_TRUE(sim::MakeMetadata(world, "/dev/loop0", sim::kDiskBytes));
  genl::Message req = Request(Cmd::kAttach, "");
  req.minor = 0;
  req.Get(Set::kDiskConf)
      .PutStr(genl::attr::backing_dev, "/dev/loop0")
      .PutStr(genl::attr::meta_dev, "/dev/loop0")
      .PutS32(genl::attr::meta_dev_idx, -3);
  auto replies = Call(req);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(DecodeOne(replies[0]).ret_code(), 101);
  EXPECT_EQ(node.engine.DiskStateOf(0), events::DiskState::kInconsistent);
  genl::Message missing = Request(Cmd::kAttach, "");
  missing.minor = 0;
  missing.Get(Set::kDiskConf).PutStr(genl::attr::backing_dev, "/dev/loop0");
  auto r2 = Call(missing);
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(DecodeOne(r2[0]).ret_code(), 126);
}

TEST_F(EndpointTest, NewPeerAndPathFromSockaddrs) {
  ASSERT_EQ(node.NewResource("r0", 0), engine::Ret::kNoError);
  genl::Message peer = Request(Cmd::kNewPeer, "r0");
  peer.Get(Set::kCfgContext).PutU32(genl::attr::ctx_peer_node_id, 1);
  peer.Get(Set::kNetConf).PutStr(genl::attr::name, "b0").PutU32(genl::attr::ping_int, 7);
  ASSERT_EQ(DecodeOne(Call(peer)[0]).ret_code(), 101);
  genl::Message path = Request(Cmd::kNewPath, "r0");
  path.Get(Set::kCfgContext).PutU32(genl::attr::ctx_peer_node_id, 1);
  std::string my = notify::SockaddrFromAddress(sim::Ip4("127.0.0.1", 7788));
  std::string their = notify::SockaddrFromAddress(sim::Ip4("127.0.0.1", 7789));
  path.Get(Set::kPathParms)
      .PutBin(genl::attr::my_addr,
              std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(my.data()), my.size()))
      .PutBin(
          genl::attr::peer_addr,
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(their.data()), their.size()));
  ASSERT_EQ(DecodeOne(Call(path)[0]).ret_code(), 101);
  std::vector<std::string> lines;
  for (const auto& n : node.engine.InitialState()) lines.push_back(sim::FormatNotification(n));
  EXPECT_EQ(lines.back(),
            "exists path name:r0 peer-node-id:1 conn-name:b0 local:ipv4:127.0.0.1:7788 "
            "peer:ipv4:127.0.0.1:7789 established:no");
}

TEST_F(EndpointTest, InitialStateDumpEndsWithDoneMarkers) {
  ASSERT_EQ(node.NewResource("r0", 0), engine::Ret::kNoError);
  ASSERT_EQ(node.NewMinor("r0", 0, 0), engine::Ret::kNoError);
  std::vector<genl::Message> dump = Dump(Request(Cmd::kGetInitialState, ""));
  ASSERT_EQ(dump.size(), 3u);  // resource, device, INITIAL_STATE_DONE
  auto note = notify::DecodeNotification(dump[0]);
  ASSERT_TRUE(note.ok());
  EXPECT_EQ(note->type, events::NotifyType::kExists);
  EXPECT_EQ(dump[2].cmd, static_cast<uint8_t>(Cmd::kInitialStateDone));
}

TEST_F(EndpointTest, DumpWithUnknownResourceFilterIsResNotKnown) {
  genl::Message req = Request(Cmd::kGetDevices, "zz");
  auto replies = Call(req);
  ASSERT_EQ(replies.size(), 2u);  // the error reply, then NLMSG_DONE
  auto frames = genl::Split(replies[0]);
  ASSERT_TRUE(frames.ok());
  auto m = genl::Decode((*frames)[0].bytes);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->ret_code(), 158);
}

TEST_F(EndpointTest, MembershipOfUnknownGroupIsEnoent) {
  std::vector<std::vector<uint8_t>> got;
  ep.OnDatagram(1, genl::EncodeMembership({genl::kSimAddMembership, 99, 5}),
                [&](std::vector<uint8_t> d) { got.push_back(d); });
  ASSERT_EQ(got.size(), 1u);
  auto frames = genl::Split(got[0]);
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ(genl::DecodeNlError((*frames)[0])->error, -ENOENT);
}

TEST_F(EndpointTest, WrongVersionIsEinvalExceptForDown) {
  genl::Message req = Request(Cmd::kPrimary, "r0");
  req.version = 1;
  auto replies = Call(req);
  ASSERT_EQ(replies.size(), 1u);
  auto frames = genl::Split(replies[0]);
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ((*frames)[0].hdr.type, genl::kNlmsgError);
  EXPECT_EQ(genl::DecodeNlError((*frames)[0])->error, -EINVAL);
  genl::Message down = Request(Cmd::kDown, "r0");
  down.version = 1;
  auto r2 = Call(down);
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(DecodeOne(r2[0]).ret_code(), 158);
}

}  // namespace
}  // namespace drbd::simd

namespace drbd::simd {
namespace {

TEST_F(EndpointTest, LargeDumpsSpanSeveralDatagrams) {
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(node.NewResource("r" + std::to_string(i), 0), engine::Ret::kNoError);
  }
  auto replies = Call(Request(Cmd::kGetInitialState, ""));
  ASSERT_GT(replies.size(), 1u);
  size_t messages = 0;
  for (size_t i = 0; i < replies.size(); ++i) {
    EXPECT_LE(replies[i].size(), 16384u + 512u);
    auto frames = genl::Split(replies[i]);
    ASSERT_TRUE(frames.ok());
    messages += frames->size();
    if (i + 1 == replies.size()) {
      EXPECT_EQ(frames->back().hdr.type, genl::kNlmsgDone);
    }
  }
  EXPECT_EQ(messages, 300u + 2u);  // resources, INITIAL_STATE_DONE, NLMSG_DONE
}

TEST_F(EndpointTest, TimeoutTypeReplyCarriesTimeoutParms) {
  ASSERT_EQ(node.NewResource("r0", 0), engine::Ret::kNoError);
  ASSERT_EQ(node.NewMinor("r0", 0, 0), engine::Ret::kNoError);
  ASSERT_EQ(node.NewPeer("r0", 1, "b"), engine::Ret::kNoError);
  genl::Message req = Request(Cmd::kGetTimeoutType, "r0");
  req.Get(Set::kCfgContext)
      .PutU32(genl::attr::ctx_peer_node_id, 1)
      .PutU32(genl::attr::ctx_volume, 0);
  auto replies = Call(req);
  ASSERT_EQ(replies.size(), 1u);
  genl::Message reply = DecodeOne(replies[0]);
  EXPECT_EQ(reply.ret_code(), 101);
  const genl::Tla* tp = reply.Find(Set::kTimeoutParms);
  ASSERT_NE(tp, nullptr);
  EXPECT_EQ(tp->GetU32(genl::attr::timeout_type), 0u);
  // An unknown volume: the kernel's prepare refusal, no timeout_parms.
  genl::Message bad = Request(Cmd::kGetTimeoutType, "r0");
  bad.Get(Set::kCfgContext)
      .PutU32(genl::attr::ctx_peer_node_id, 1)
      .PutU32(genl::attr::ctx_volume, 3);
  genl::Message r2 = DecodeOne(Call(bad)[0]);
  EXPECT_EQ(r2.ret_code(), 162);
  EXPECT_EQ(r2.Find(Set::kTimeoutParms), nullptr);
}

TEST_F(EndpointTest, RenameResourceAndForgetPeerFromTheirParameterSets) {
  ASSERT_EQ(node.NewResource("r0", 0), engine::Ret::kNoError);
  ASSERT_EQ(node.NewResource("r1", 0), engine::Ret::kNoError);
  genl::Message taken = Request(Cmd::kRenameResource, "r0");
  taken.Get(Set::kRenameResourceParms).PutStr(genl::attr::new_resource_name, "r1");
  genl::Message r = DecodeOne(Call(taken)[0]);
  EXPECT_EQ(r.ret_code(), 174);
  genl::ReplyReport rep = genl::ReportReply("r0", r);
  EXPECT_NE(rep.text.find("Cannot rename to r1: a resource with that name already exists"),
            std::string::npos);
  genl::Message missing = Request(Cmd::kRenameResource, "r0");
  EXPECT_EQ(DecodeOne(Call(missing)[0]).ret_code(), 126);
  genl::Message ok = Request(Cmd::kRenameResource, "r0");
  ok.Get(Set::kRenameResourceParms).PutStr(genl::attr::new_resource_name, "r2");
  EXPECT_EQ(DecodeOne(Call(ok)[0]).ret_code(), 101);
  EXPECT_TRUE(node.engine.ResourceRole("r2").has_value());

  genl::Message forget = Request(Cmd::kForgetPeer, "r2");
  forget.Get(Set::kForgetPeerParms).PutS32(genl::attr::forget_peer_node_id, 40);
  EXPECT_EQ(DecodeOne(Call(forget)[0]).ret_code(), 171);
  genl::Message forget_ok = Request(Cmd::kForgetPeer, "r2");
  forget_ok.Get(Set::kForgetPeerParms).PutS32(genl::attr::forget_peer_node_id, 3);
  EXPECT_EQ(DecodeOne(Call(forget_ok)[0]).ret_code(), 101);
}

TEST_F(EndpointTest, ResizeAndVerifyReachTheEngine) {
  ASSERT_EQ(node.NewResource("r0", 0), engine::Ret::kNoError);
  ASSERT_EQ(node.NewMinor("r0", 0, 0), engine::Ret::kNoError);
  ASSERT_EQ(node.NewPeer("r0", 1, "b"), engine::Ret::kNoError);
  genl::Message resize = Request(Cmd::kResize, "");
  resize.minor = 0;
  resize.Get(Set::kResizeParms).PutU64(genl::attr::resize_size, 2048);
  EXPECT_EQ(DecodeOne(Call(resize)[0]).ret_code(), 138);  // ERR_NO_DISK
  genl::Message verify = Request(Cmd::kStartOv, "r0");
  verify.Get(Set::kCfgContext)
      .PutU32(genl::attr::ctx_peer_node_id, 1)
      .PutU32(genl::attr::ctx_volume, 0);
  EXPECT_EQ(DecodeOne(Call(verify)[0]).ret_code(), 138);
}

TEST_F(EndpointTest, InvalidateParmsReachTheEngine) {
  ASSERT_EQ(node.NewResource("r0", 0), engine::Ret::kNoError);
  ASSERT_EQ(node.NewMinor("r0", 0, 0), engine::Ret::kNoError);
  ASSERT_EQ(node.NewPeer("r0", 1, "b"), engine::Ret::kNoError);
  ASSERT_TRUE(sim::MakeMetadata(world, "/a/disk", sim::kDiskBytes));
  ASSERT_EQ(node.Attach(0, "/a/disk").ret, engine::Ret::kNoError);
  // sync-from-peer-node-id 1 with --reset-bitmap=no: that peer only, and
  // it is not connected (SS_NEED_CONNECTION).
  genl::Message inv = Request(Cmd::kInvalidate, "");
  inv.minor = 0;
  inv.Get(Set::kInvalidateParms)
      .PutS32(genl::attr::sync_from_peer_node_id, 1)
      .PutFlag(genl::attr::reset_bitmap, false);
  EXPECT_EQ(DecodeOne(Call(inv)[0]).ret_code(), -15);
  genl::Message remote = Request(Cmd::kInvalPeer, "r0");
  remote.Get(Set::kCfgContext)
      .PutU32(genl::attr::ctx_peer_node_id, 1)
      .PutU32(genl::attr::ctx_volume, 0);
  remote.Get(Set::kInvalPeerParams).PutFlag(genl::attr::p_reset_bitmap, false);
  EXPECT_EQ(DecodeOne(Call(remote)[0]).ret_code(), -15);
  // The defaults (no parameters): the local-only invalidate, which finds
  // the fresh disk Inconsistent already (SS_NOTHING_TO_DO).
  genl::Message plain = Request(Cmd::kInvalidate, "");
  plain.minor = 0;
  EXPECT_EQ(DecodeOne(Call(plain)[0]).ret_code(), 2);
}

// detach (and down) answer once the metadata of the disk they let go of is
// on stable storage, as the kernel's detach waits for D_DETACHING to end: a
// `drbdmeta dump-md` right after `drbdadm down` read a bitmap still in
// flight (simd_crash under load, CI).
TEST_F(EndpointTest, DetachRepliesOnceTheMetadataIsDurable) {
  ASSERT_EQ(node.NewResource("r0", 0), engine::Ret::kNoError);
  ASSERT_EQ(node.NewMinor("r0", 0, 0), engine::Ret::kNoError);
  ASSERT_TRUE(sim::MakeMetadata(world, "/a/disk", sim::kDiskBytes));
  ASSERT_EQ(node.Attach(0, "/a/disk").ret, engine::Ret::kNoError);
  for (int i = 0; i < 100; ++i) world.Step();
  genl::Message req = Request(Cmd::kDetach, "");
  req.minor = 0;
  auto bytes = genl::Encode(req);
  ASSERT_TRUE(bytes.ok());
  std::vector<std::vector<uint8_t>> got;
  ep.OnDatagram(1, *bytes, [&got](std::vector<uint8_t> d) { got.push_back(std::move(d)); });
  EXPECT_TRUE(got.empty()) << "answered before the superblock write completed";
  for (int i = 0; i < 100 && got.empty(); ++i) world.Step();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(DecodeOne(got[0]).ret_code(), 1);  // SS_SUCCESS, as adm_detach's
  EXPECT_EQ(node.engine.DiskStateOf(0), events::DiskState::kDiskless);
}

}  // namespace
}  // namespace drbd::simd
