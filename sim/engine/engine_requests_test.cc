// SPDX-License-Identifier: GPL-2.0-or-later
// Validation of every control request with the kernel's return codes: one
// table for how each request resolves what it addresses (drbd_adm_prepare),
// one for the state-dependent refusals (request, precondition, code), and
// the behaviour of resize, verify, forget-peer, rename-resource and
// get-timeout-type (drbd_nl.c; the verify sequence of
// /work/shared/spec/captures/drbd-9.2.18-scenarios/11-verify).
#include <gtest/gtest.h>

#include <functional>

#include "lib/md/device.h"
#include "lib/md/metadata.h"
#include "sim/engine/engine.h"
#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::Ip4;
using sim::kDiskBytes;
using sim::kSec;
using sim::Node;
using sim::World;

OptionSet Net(const std::string& verify_alg = "") {
  OptionSet o(cfg::OptContext::kNewPeer);
  if (!verify_alg.empty()) o.Set("verify-alg", verify_alg);
  return o;
}
OptionSet NoOpts(cfg::OptContext c) { return OptionSet(c); }

// Every doit request, called with whatever `ctx` addresses.
struct Request {
  const char* name;
  unsigned needs;  // PrepareFlags the kernel's command table declares
  std::function<Reply(Engine&, const Ctx&)> run;
};

const std::vector<Request>& AllRequests() {
  static const std::vector<Request> kAll = {
      {"del-resource", kNeedResource, [](Engine& e, const Ctx& c) { return e.DelResource(c); }},
      {"resource-options", kNeedResource,
       [](Engine& e, const Ctx& c) {
         return e.ResourceOptions(c, NoOpts(cfg::OptContext::kResourceOptions), false);
       }},
      {"new-minor", kNeedResource, [](Engine& e, const Ctx& c) { return e.NewMinor(c); }},
      {"del-minor", kNeedMinor, [](Engine& e, const Ctx& c) { return e.DelMinor(c); }},
      {"detach", kNeedMinor, [](Engine& e, const Ctx& c) { return e.Detach(c, false); }},
      {"disk-options", kNeedMinor,
       [](Engine& e, const Ctx& c) {
         return e.DiskOptions(c, NoOpts(cfg::OptContext::kAttach), false);
       }},
      {"new-peer", kNeedPeerNode, [](Engine& e, const Ctx& c) { return e.NewPeer(c, "x", Net()); }},
      {"del-peer", kNeedConnection, [](Engine& e, const Ctx& c) { return e.DelPeer(c, false); }},
      {"new-path", kNeedConnection,
       [](Engine& e, const Ctx& c) {
         return e.NewPath(c, Ip4("10.9.0.1", 7000), Ip4("10.9.0.2", 7000));
       }},
      {"del-path", kNeedConnection,
       [](Engine& e, const Ctx& c) {
         return e.DelPath(c, Ip4("10.9.0.1", 7000), Ip4("10.9.0.2", 7000));
       }},
      {"net-options", kNeedConnection,
       [](Engine& e, const Ctx& c) {
         return e.NetOptions(c, NoOpts(cfg::OptContext::kNetOptions), false);
       }},
      {"peer-device-options", kNeedPeerDevice,
       [](Engine& e, const Ctx& c) {
         return e.PeerDeviceOptions(c, NoOpts(cfg::OptContext::kPeerDeviceOptions), false);
       }},
      {"connect", kNeedConnection,
       [](Engine& e, const Ctx& c) { return e.Connect(c, false, false); }},
      {"disconnect", kNeedConnection,
       [](Engine& e, const Ctx& c) { return e.Disconnect(c, false); }},
      {"primary", kNeedResource, [](Engine& e, const Ctx& c) { return e.Primary(c, false); }},
      {"secondary", kNeedResource, [](Engine& e, const Ctx& c) { return e.Secondary(c, false); }},
      {"down", kNeedResource, [](Engine& e, const Ctx& c) { return e.Down(c); }},
      {"new-current-uuid", kNeedMinor,
       [](Engine& e, const Ctx& c) { return e.NewCurrentUuid(c, false); }},
      {"outdate", kNeedMinor, [](Engine& e, const Ctx& c) { return e.Outdate(c); }},
      {"invalidate", kNeedMinor, [](Engine& e, const Ctx& c) { return e.Invalidate(c); }},
      {"invalidate-remote", kNeedPeerDevice,
       [](Engine& e, const Ctx& c) { return e.InvalidateRemote(c); }},
      {"pause-sync", kNeedPeerDevice, [](Engine& e, const Ctx& c) { return e.PauseSync(c); }},
      {"resume-sync", kNeedPeerDevice, [](Engine& e, const Ctx& c) { return e.ResumeSync(c); }},
      {"suspend-io", kNeedMinor, [](Engine& e, const Ctx& c) { return e.SuspendIo(c); }},
      {"resume-io", kNeedMinor, [](Engine& e, const Ctx& c) { return e.ResumeIo(c); }},
      {"resize", kNeedMinor, [](Engine& e, const Ctx& c) { return e.Resize(c, {}); }},
      {"verify", kNeedPeerDevice,
       [](Engine& e, const Ctx& c) { return e.StartVerify(c, std::nullopt, std::nullopt); }},
      {"forget-peer", kNeedResource, [](Engine& e, const Ctx& c) { return e.ForgetPeer(c, 5); }},
      {"rename-resource", kNeedResource,
       [](Engine& e, const Ctx& c) { return e.RenameResource(c, std::string("r9")); }},
      {"get-timeout-type", kNeedPeerDevice,
       [](Engine& e, const Ctx& c) {
         uint32_t type = 0;
         return e.GetTimeoutType(c, &type);
       }},
  };
  return kAll;
}

// One node and its world; the fixtures and the refusal table share it.
struct Bench {
  // r0 (node 0), minor 0 / volume 0, peer 1 ("b") with one path.
  void SetUpConfigured(bool attach = false, uint32_t md_flags = md::kMdfAlClean,
                       const OptionSet& net = Net()) {
    ASSERT_EQ(node.NewResource("r0", 0), Ret::kNoError);
    ASSERT_EQ(node.NewMinor("r0", 0, 0), Ret::kNoError);
    ASSERT_EQ(node.NewPeer("r0", 1, "b", net), Ret::kNoError);
    ASSERT_EQ(node.NewPath("r0", 1, Ip4("10.0.0.1", 7788), Ip4("10.0.0.2", 7788)), Ret::kNoError);
    if (attach) {
      ASSERT_TRUE(sim::MakeMetadata(
          world, "/dev/loop0", kDiskBytes, md_flags,
          md_flags & md::kMdfConsistent ? 0x5555000000000000ull : md::kUuidJustCreated));
      ASSERT_EQ(node.Attach(0, "/dev/loop0").ret, Ret::kNoError);
    }
  }
  // The superblock on world disk `path`, through lib/md as drbdmeta reads it.
  md::Found ReadMd(const std::string& path) {
    md::MemDevice dev(*world.DiskBytes(path));
    md::Found f;
    EXPECT_TRUE(md::ReadSuperblock(dev, md::Placement{}, &f).ok());
    return f;
  }

  World world;
  Node node{world, "a"};
};

class Requests : public ::testing::Test, public Bench {};

// ---- addressing: every request, every kind of missing object -------------------------

TEST_F(Requests, EveryRequestRefusesWhatItCannotResolve) {
  SetUpConfigured();
  for (const Request& req : AllRequests()) {
    SCOPED_TRACE(req.name);
    Reply r;
    if (req.needs & kNeedResource) {
      r = req.run(node.engine, node.Res("nope"));
      EXPECT_EQ(r.ret, Ret::kErrResNotKnown);
      EXPECT_EQ(r.info, std::vector<std::string>{"unknown resource"});
      EXPECT_EQ(req.run(node.engine, Ctx{}).ret, Ret::kErrInvalidRequest);
    } else if (req.needs & kNeedMinor) {
      r = req.run(node.engine, node.Minor(9));
      EXPECT_EQ(r.ret, Ret::kErrMinorInvalid);
      EXPECT_EQ(r.info, std::vector<std::string>{"unknown minor"});
    } else if (req.needs & kNeedPeerDevice) {
      r = req.run(node.engine, node.PeerVol("r0", 1, 5));
      EXPECT_EQ(r.ret, Ret::kErrInvalidRequest);
      EXPECT_EQ(r.info, std::vector<std::string>{"unknown volume"});
      r = req.run(node.engine, node.PeerVol("r0", 2, 0));
      EXPECT_EQ(r.info, std::vector<std::string>{"unknown connection"});
    } else if (req.needs & kNeedConnection) {
      r = req.run(node.engine, node.Peer("r0", 2));
      EXPECT_EQ(r.ret, Ret::kErrInvalidRequest);
      EXPECT_EQ(r.info, std::vector<std::string>{"unknown connection"});
    }
    if (req.needs & (kNeedPeerNode | kNeedConnection | kNeedPeerDevice)) {
      EXPECT_EQ(req.run(node.engine, node.Res("r0")).info,
                std::vector<std::string>{"peer node id missing"});
      EXPECT_EQ(req.run(node.engine, node.Peer("nope", 1)).ret, Ret::kErrResNotKnown);
      EXPECT_EQ(req.run(node.engine, node.PeerVol("r0", 0, 0)).info,
                std::vector<std::string>{"peer node id cannot be my own node id"});
      EXPECT_EQ(req.run(node.engine, node.PeerVol("r0", 32, 0)).info,
                std::vector<std::string>{"peer node id out of range"});
    }
  }
}

// ---- state-dependent refusals: (request, precondition, code) ---------------------------

struct Refusal {
  const char* what;
  // Brings `t` into the precondition; runs the request; returns its reply.
  std::function<Reply(Bench&, Node&)> run;
  Ret want;
};

TEST_F(Requests, StateDependentRefusalsCarryTheKernelCodes) {
  const Refusal kCases[] = {
      {"new-resource without a node id",
       [](Bench&, Node& n) {
         return n.engine.NewResource(n.Res("r0"), -1, NoOpts(cfg::OptContext::kResourceOptions));
       },
       Ret::kErrMandatoryTag},
      {"new-resource node id 32",
       [](Bench&, Node& n) {
         return n.engine.NewResource(n.Res("r0"), 32, NoOpts(cfg::OptContext::kResourceOptions));
       },
       Ret::kErrInvalidRequest},
      {"new-resource named all",
       [](Bench&, Node& n) {
         return n.engine.NewResource(n.Res("all"), 0, NoOpts(cfg::OptContext::kResourceOptions));
       },
       Ret::kErrInvalidRequest},
      {"attach of a missing backing device",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.Attach(0, "/dev/nope");
       },
       Ret::kErrOpenDisk},
      {"attach internal index on a separate meta device",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         EXPECT_TRUE(sim::MakeMetadata(t.world, "/dev/loop0", kDiskBytes));
         EXPECT_TRUE(sim::MakeMetadata(t.world, "/dev/loop1", kDiskBytes));
         return n.Attach(0, "/dev/loop0", "/dev/loop1", kMetaIdxFlexInt);
       },
       Ret::kErrMdIdxInvalid},
      {"new-path with the same endpoints again",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.NewPath(n.Peer("r0", 1), Ip4("10.0.0.1", 7788), Ip4("10.0.0.2", 7788));
       },
       Ret::kErrLocalAndPeerAddr},
      {"del-path of the last path while connecting",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         (void)n.Connect("r0", 1);
         return n.engine.DelPath(n.Peer("r0", 1), Ip4("10.0.0.1", 7788), Ip4("10.0.0.2", 7788));
       },
       Ret::kErrInvalidRequest},
      {"net-options two primaries without protocol C",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         OptionSet o(cfg::OptContext::kNetOptions);
         o.Set("allow-two-primaries", int64_t{1});
         o.Set("protocol", int64_t{1});
         return n.engine.NetOptions(n.Peer("r0", 1), o, false);
       },
       Ret::kErrNotProtoC},
      {"secondary when secondary",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.Secondary(n.Res("r0"), false);
       },
       Ret::kSsNothingToDo},
      {"pause-sync twice",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         (void)n.engine.PauseSync(n.PeerVol("r0", 1, 0));
         return n.engine.PauseSync(n.PeerVol("r0", 1, 0));
       },
       Ret::kErrPauseIsSet},
      {"suspend-io twice",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         (void)n.engine.SuspendIo(n.Minor(0));
         return n.engine.SuspendIo(n.Minor(0));
       },
       Ret::kSsNothingToDo},
      {"discard-my-data connect of a Primary",
       [](Bench& t, Node& n) {
         t.SetUpConfigured(true);
         (void)n.engine.Primary(n.Res("r0"), true);
         return n.engine.Connect(n.Peer("r0", 1), false, true);
       },
       Ret::kErrDiscardImpossible},
      {"del-resource with a connection",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.DelResource(n.Res("r0"));
       },
       Ret::kErrNetConfigured},
      {"del-minor attached",
       [](Bench& t, Node& n) {
         t.SetUpConfigured(true);
         return n.engine.DelMinor(n.Minor(0));
       },
       Ret::kErrMinorConfigured},
      {"new-minor taken volume",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         Ctx c = n.Res("r0");
         c.minor = 5;
         c.volume = 0;
         return n.engine.NewMinor(c);
       },
       Ret::kErrMinorOrVolumeExists},
      {"attach twice",
       [](Bench& t, Node& n) {
         t.SetUpConfigured(true);
         return n.Attach(0, "/dev/loop0");
       },
       Ret::kErrDiskConfigured},
      {"new-peer existing",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.NewPeer(n.Peer("r0", 1), "c", Net());
       },
       Ret::kErrInvalidRequest},
      {"connect twice",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         (void)n.Connect("r0", 1);
         return n.engine.Connect(n.Peer("r0", 1), false, false);
       },
       Ret::kErrNetConfigured},
      {"primary diskless",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.Primary(n.Res("r0"), false);
       },
       Ret::kSsNoUpToDateDisk},
      {"detach diskless",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.Detach(n.Minor(0), false);
       },
       Ret::kSsNothingToDo},
      {"disk-options diskless",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.DiskOptions(n.Minor(0), NoOpts(cfg::OptContext::kAttach), false);
       },
       Ret::kErrNoDisk},
      {"outdate inconsistent",
       [](Bench& t, Node& n) {
         t.SetUpConfigured(true);
         return n.engine.Outdate(n.Minor(0));
       },
       Ret::kSsLowerThanOutdated},
      {"invalidate diskless",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.Invalidate(n.Minor(0));
       },
       Ret::kErrNoDisk},
      {"invalidate-remote unconnected secondary",
       [](Bench& t, Node& n) {
         t.SetUpConfigured(true, md::kMdfConsistent | md::kMdfWasUpToDate);
         return n.engine.InvalidateRemote(n.PeerVol("r0", 1, 0));
       },
       Ret::kSsNeedConnection},
      {"new-current-uuid diskless",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.NewCurrentUuid(n.Minor(0), false);
       },
       Ret::kErrNoDisk},
      {"resume-sync not paused",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.ResumeSync(n.PeerVol("r0", 1, 0));
       },
       Ret::kErrPauseIsClear},
      {"resume-io not suspended",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.ResumeIo(n.Minor(0));
       },
       Ret::kSsNothingToDo},
      {"resize diskless",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.Resize(n.Minor(0), {});
       },
       Ret::kErrNoDisk},
      {"resize larger than the backing device",
       [](Bench& t, Node& n) {
         t.SetUpConfigured(true);
         Engine::ResizeParms p;
         p.size = kDiskBytes >> 9;
         return n.engine.Resize(n.Minor(0), p);
       },
       Ret::kErrDiskTooSmall},
      {"resize activity log too big",
       [](Bench& t, Node& n) {
         t.SetUpConfigured(true);
         Engine::ResizeParms p;
         p.al_stripes = 1024;
         p.al_stripe_size_kb = 32768;
         return n.engine.Resize(n.Minor(0), p);
       },
       Ret::kErrMdLayoutTooBig},
      {"resize activity log too small",
       [](Bench& t, Node& n) {
         t.SetUpConfigured(true);
         Engine::ResizeParms p;
         p.al_stripes = 1;
         p.al_stripe_size_kb = 4;
         return n.engine.Resize(n.Minor(0), p);
       },
       Ret::kErrMdLayoutTooSmall},
      {"resize activity log beyond the metadata area",
       [](Bench& t, Node& n) {
         t.SetUpConfigured(true);
         Engine::ResizeParms p;
         p.al_stripes = 4;
         p.al_stripe_size_kb = 16 * 1024;  // 64 MiB of AL on a 32 MiB disk
         return n.engine.Resize(n.Minor(0), p);
       },
       Ret::kErrMdLayoutNoFit},
      {"verify diskless",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.StartVerify(n.PeerVol("r0", 1, 0), std::nullopt, std::nullopt);
       },
       Ret::kErrNoDisk},
      {"verify without verify-alg",
       [](Bench& t, Node& n) {
         t.SetUpConfigured(true);
         return n.engine.StartVerify(n.PeerVol("r0", 1, 0), std::nullopt, std::nullopt);
       },
       Ret::kSsNoVerifyAlg},
      {"verify unconnected",
       [](Bench& t, Node& n) {
         t.SetUpConfigured(true, md::kMdfAlClean, Net("crc32c"));
         return n.engine.StartVerify(n.PeerVol("r0", 1, 0), std::nullopt, std::nullopt);
       },
       Ret::kSsNeedConnection},
      {"forget-peer without parameters",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.ForgetPeer(n.Res("r0"), std::nullopt);
       },
       Ret::kErrMandatoryTag},
      {"forget-peer of a configured peer",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.ForgetPeer(n.Res("r0"), 1);
       },
       Ret::kErrNetConfigured},
      {"forget-peer node id 32",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.ForgetPeer(n.Res("r0"), 32);
       },
       Ret::kErrInvalidPeerNodeId},
      {"forget-peer node id -1",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.ForgetPeer(n.Res("r0"), -1);
       },
       Ret::kErrInvalidPeerNodeId},
      {"rename-resource without parameters",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.RenameResource(n.Res("r0"), std::nullopt);
       },
       Ret::kErrMandatoryTag},
      {"rename-resource to an empty name",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.RenameResource(n.Res("r0"), std::string());
       },
       Ret::kErrMandatoryTag},
      {"rename-resource to an invalid name",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.RenameResource(n.Res("r0"), std::string("a/b"));
       },
       Ret::kErrInvalidRequest},
      {"rename-resource to its own name",
       [](Bench& t, Node& n) {
         t.SetUpConfigured();
         return n.engine.RenameResource(n.Res("r0"), std::string("r0"));
       },
       Ret::kErrAlreadyExists},
  };
  for (const Refusal& c : kCases) {
    SCOPED_TRACE(c.what);
    Bench t;
    Reply r = c.run(t, t.node);
    EXPECT_EQ(r.ret, c.want) << RetName(r.ret);
  }
}

// ---- rename-resource -------------------------------------------------------------------

TEST_F(Requests, RenameEmitsRenameLineAndMovesEverything) {
  SetUpConfigured(true);
  node.sink.Clear();
  ASSERT_EQ(node.engine.RenameResource(node.Res("r0"), std::string("r1")).ret, Ret::kNoError);
  ASSERT_EQ(node.sink.notes.size(), 1u);
  EXPECT_EQ(node.sink.notes[0].type, events::NotifyType::kRename);
  EXPECT_EQ(std::get<events::Rename>(node.sink.notes[0].object), (events::Rename{"r0", "r1"}));
  EXPECT_TRUE(node.sink.LogContains("drbd r0: Renaming to r1"));
  EXPECT_FALSE(node.engine.ResourceRole("r0"));
  EXPECT_EQ(node.engine.MinorOf("r1", 0), 0u);
  EXPECT_EQ(node.engine.ConnStateOf("r1", 1), ConnState::kStandAlone);
  // The minor now belongs to r1: addressing it with r0 fails, with r1 works.
  Ctx c = node.Res("r1");
  c.minor = 0;
  EXPECT_EQ(node.engine.SuspendIo(c).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.Down(node.Res("r1")).ret, Ret::kNoError);
  EXPECT_TRUE(node.engine.ResourceNames().empty());
}

TEST_F(Requests, RenameToATakenNameIsAlreadyExistsWithKernelText) {
  SetUpConfigured();
  ASSERT_EQ(node.NewResource("r1", 0), Ret::kNoError);
  node.sink.Clear();
  Reply r = node.engine.RenameResource(node.Res("r0"), std::string("r1"));
  EXPECT_EQ(r.ret, Ret::kErrAlreadyExists);
  EXPECT_EQ(r.info, std::vector<std::string>{
                        "Cannot rename to r1: a resource with that name already exists\n"});
  EXPECT_TRUE(node.sink.Lines().empty());
}

// ---- forget-peer -----------------------------------------------------------------------

TEST_F(Requests, ForgetPeerClearsTheSlotInTheMetadata) {
  SetUpConfigured(true);
  // Give slot 2 a history, as if node 2 had been a peer.
  ASSERT_EQ(node.engine.Detach(node.Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  {
    md::MemDevice d2(*world.DiskBytes("/dev/loop0"));
    md::Found f;
    ASSERT_TRUE(md::ReadSuperblock(d2, md::Placement{}, &f).ok());
    f.sb.peers[2].flags = md::kNodeExists | md::kPeerConnected;
    f.sb.peers[2].bitmap_index = 0;
    f.sb.peers[2].bitmap_uuid = 0x1234;
    ASSERT_TRUE(md::WriteSuperblock(d2, md::Placement{}, f.sb).ok());
    *world.DiskBytes("/dev/loop0") = d2.data();
  }
  ASSERT_EQ(node.Attach(0, "/dev/loop0").ret, Ret::kNoError);
  EXPECT_EQ(node.engine.ForgetPeer(node.Res("r0"), 2).ret, Ret::kNoError);
  world.RunFor(kSec);
  md::Found f = ReadMd("/dev/loop0");
  EXPECT_EQ(f.sb.peers[2].flags, 0u);
  EXPECT_EQ(f.sb.peers[2].bitmap_index, -1);
  EXPECT_EQ(f.sb.peers[2].bitmap_uuid, 0u);
}

// ---- resize ----------------------------------------------------------------------------

TEST_F(Requests, ResizeGrowsWithTheBackingDeviceAndMovesTheMetadata) {
  ASSERT_EQ(node.NewResource("r0", 0), Ret::kNoError);
  ASSERT_EQ(node.NewMinor("r0", 0, 0), Ret::kNoError);
  ASSERT_TRUE(sim::MakeMetadata(world, "/dev/loop0", kDiskBytes));
  ASSERT_EQ(node.Attach(0, "/dev/loop0").ret, Ret::kNoError);
  uint64_t before = ReadMd("/dev/loop0").layout.max_usable_sect;
  // Unchanged backing device: nothing to do.
  EXPECT_EQ(node.engine.Resize(node.Minor(0), {}).ret, Ret::kNoError);
  world.DiskBytes("/dev/loop0")->resize(2 * kDiskBytes, 0);
  node.sink.Clear();
  EXPECT_EQ(node.engine.Resize(node.Minor(0), {}).ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_TRUE(node.sink.LogContains("Writing the whole bitmap, size changed and md moved"));
  // The grown device's metadata is where drbdmeta looks for it, valid, and
  // records the new size.
  md::Found f = ReadMd("/dev/loop0");
  ASSERT_EQ(f.kind, md::Found::Kind::kValid) << f.message;
  EXPECT_GT(f.sb.effective_size, before);
  EXPECT_EQ(f.sb.effective_size, f.layout.max_usable_sect);
  // An explicit smaller size shrinks.
  Engine::ResizeParms p;
  p.size = 20480;
  EXPECT_EQ(node.engine.Resize(node.Minor(0), p).ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_EQ(ReadMd("/dev/loop0").sb.effective_size, 20480u);
  EXPECT_EQ(node.engine.DeviceConfigOf(0)->opts.Int("size"), 20480);
}

TEST_F(Requests, ResizeChangesTheActivityLogLayout) {
  ASSERT_EQ(node.NewResource("r0", 0), Ret::kNoError);
  ASSERT_EQ(node.NewMinor("r0", 0, 0), Ret::kNoError);
  ASSERT_TRUE(sim::MakeMetadata(world, "/dev/loop0", kDiskBytes));
  ASSERT_EQ(node.Attach(0, "/dev/loop0").ret, Ret::kNoError);
  Engine::ResizeParms p;
  p.al_stripes = 2;
  p.al_stripe_size_kb = 64;
  // A bigger activity log leaves less room for data: that shrink must be
  // asked for explicitly.
  EXPECT_EQ(node.engine.Resize(node.Minor(0), p).ret, Ret::kErrImplicitShrink);
  EXPECT_TRUE(node.sink.LogContains("Implicit shrink not allowed. Use --size="));
  p.size = 20480;
  EXPECT_EQ(node.engine.Resize(node.Minor(0), p).ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_TRUE(node.sink.LogContains("Changed AL layout to al-stripes = 2, al-stripe-size-kB = 64"));
  md::Found f = ReadMd("/dev/loop0");
  ASSERT_EQ(f.kind, md::Found::Kind::kValid) << f.message;
  EXPECT_EQ(f.sb.al_stripes, 2u);
  EXPECT_EQ(f.sb.al_stripe_size_4k, 16u);
}

// ---- get-timeout-type ------------------------------------------------------------------

TEST_F(Requests, TimeoutTypeDefault) {
  SetUpConfigured(true);
  uint32_t type = 9;
  EXPECT_EQ(node.engine.GetTimeoutType(node.PeerVol("r0", 1, 0), &type).ret, Ret::kNoError);
  EXPECT_EQ(type, 0u);
}

TEST_F(Requests, TimeoutTypeDegradedAfterACrashedDegradedPrimary) {
  SetUpConfigured(true,
                  md::kMdfAlClean | md::kMdfConsistent | md::kMdfWasUpToDate | md::kMdfPrimaryInd);
  uint32_t type = 9;
  EXPECT_EQ(node.engine.GetTimeoutType(node.PeerVol("r0", 1, 0), &type).ret, Ret::kNoError);
  EXPECT_EQ(type, 1u);
}

TEST_F(Requests, TimeoutTypePeerOutdatedAfterForcedPrimary) {
  SetUpConfigured(true, md::kMdfAlClean | md::kMdfConsistent | md::kMdfWasUpToDate);
  OptionSet fence(cfg::OptContext::kNetOptions);
  fence.Set("fencing", int64_t{1});
  ASSERT_EQ(node.engine.NetOptions(node.Peer("r0", 1), fence, false).ret, Ret::kNoError);
  ASSERT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsPrimaryNop);
  ASSERT_EQ(node.engine.Primary(node.Res("r0"), true).ret, Ret::kSsSuccess);
  uint32_t type = 9;
  EXPECT_EQ(node.engine.GetTimeoutType(node.PeerVol("r0", 1, 0), &type).ret, Ret::kNoError);
  EXPECT_EQ(type, 2u);
}

// ---- two nodes: verify, resize during resync, forget-peer while connected ---------------

class TwoNodeRequests : public ::testing::Test {
 protected:
  TwoNodeRequests() : a(world, "a"), b(world, "b") {}
  void Up(const std::string& verify_alg = "crc32c") {
    for (auto [n, me, peer, name] : {std::tuple{&a, 0u, 1u, "b"}, std::tuple{&b, 1u, 0u, "a"}}) {
      ASSERT_EQ(n->NewResource("r0", me), Ret::kNoError);
      ASSERT_EQ(n->NewMinor("r0", 0, 0), Ret::kNoError);
      ASSERT_EQ(n->NewPeer("r0", peer, name, Net(verify_alg)), Ret::kNoError);
      std::string mine = me == 0 ? "10.0.0.1" : "10.0.0.2";
      std::string theirs = me == 0 ? "10.0.0.2" : "10.0.0.1";
      ASSERT_EQ(n->NewPath("r0", peer, Ip4(mine, 7788), Ip4(theirs, 7788)), Ret::kNoError);
      std::string disk = me == 0 ? "/a/disk" : "/b/disk";
      ASSERT_TRUE(sim::MakeMetadata(world, disk, kDiskBytes));
      ASSERT_EQ(n->Attach(0, disk).ret, Ret::kNoError);
    }
    ASSERT_EQ(a.Connect("r0", 1), Ret::kSsSuccess);
    ASSERT_EQ(b.Connect("r0", 0), Ret::kSsSuccess);
    world.RunFor(kSec);
    ASSERT_EQ(a.engine.ConnStateOf("r0", 1), ConnState::kConnected);
  }
  void SkipInitialSync() {
    ASSERT_EQ(a.engine.NewCurrentUuid(a.Minor(0), true).ret, Ret::kNoError);
    world.RunFor(kSec);
    ASSERT_EQ(b.engine.DiskStateOf(0), DiskState::kUpToDate);
  }
  static std::vector<std::string> Repl(const sim::RecordingSink& s) {
    std::vector<std::string> out;
    for (const std::string& l : s.Lines()) {
      if (l.find("change peer-device") != std::string::npos) out.push_back(l);
    }
    return out;
  }

  World world;
  Node a;
  Node b;
};

TEST_F(TwoNodeRequests, VerifyGoesVerifySAndVerifyTThenEstablished) {
  Up();
  SkipInitialSync();
  a.sink.Clear();
  b.sink.Clear();
  EXPECT_EQ(a.engine.StartVerify(a.PeerVol("r0", 1, 0), std::nullopt, std::nullopt).ret,
            Ret::kSsSuccess);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kVerifyS);
  // A second verify while one runs: nothing to do.
  EXPECT_EQ(a.engine.StartVerify(a.PeerVol("r0", 1, 0), std::nullopt, std::nullopt).ret,
            Ret::kSsNothingToDo);
  world.RunFor(kSec);
  const std::string pd_a = "change peer-device name:r0 peer-node-id:1 conn-name:b volume:0 ";
  const std::string pd_b = "change peer-device name:r0 peer-node-id:0 conn-name:a volume:0 ";
  const std::string tail = " peer-disk:UpToDate peer-client:no resync-suspended:no";
  EXPECT_EQ(Repl(a.sink), (std::vector<std::string>{pd_a + "replication:VerifyS" + tail,
                                                    pd_a + "replication:Established" + tail}));
  EXPECT_EQ(Repl(b.sink), (std::vector<std::string>{pd_b + "replication:VerifyT" + tail,
                                                    pd_b + "replication:Established" + tail}));
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0 b: repl( Established -> VerifyS ) [verify]"));
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0 b: Starting Online Verify from sector 0"));
  EXPECT_TRUE(b.sink.LogContains("drbd r0/0 drbd0 a: repl( Established -> VerifyT ) [remote]"));
  EXPECT_TRUE(
      a.sink.LogContains("drbd r0/0 drbd0 b: repl( VerifyS -> Established ) [resync-finished]"));
  EXPECT_TRUE(
      b.sink.LogContains("drbd r0/0 drbd0 a: repl( VerifyT -> Established ) [resync-finished]"));
}

TEST_F(TwoNodeRequests, VerifyFindsCorruptedBlocks) {
  Up();
  SkipInitialSync();
  // Capture 11-verify: three 4 KiB blocks of B's backing device overwritten.
  auto bytes = world.DiskBytes("/b/disk");
  for (uint64_t block : {256, 1282, 5120}) (*bytes)[block * 4096 + 17] ^= 0x5a;
  ASSERT_EQ(a.engine.StartVerify(a.PeerVol("r0", 1, 0), std::nullopt, std::nullopt).ret,
            Ret::kSsSuccess);
  world.RunFor(5 * kSec);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
  EXPECT_EQ(b.engine.ReplStateOf("r0", 0, 0), ReplState::kEstablished);
  EXPECT_TRUE(
      a.sink.LogContains("drbd r0/0 drbd0 b: Online verify found 3 4k blocks out of sync!"));
  EXPECT_TRUE(
      b.sink.LogContains("drbd r0/0 drbd0 a: Online verify found 3 4k blocks out of sync!"));
  // A verify of part of the device (sectors 0..2048) misses them.
  a.sink.Clear();
  ASSERT_EQ(a.engine.StartVerify(a.PeerVol("r0", 1, 0), 0, 2048).ret, Ret::kSsSuccess);
  world.RunFor(5 * kSec);
  EXPECT_TRUE(a.sink.LogContains("Online verify done"));
  EXPECT_FALSE(a.sink.LogContains("out of sync!"));
}

TEST_F(TwoNodeRequests, VerifyDuringResyncIsResyncRunning) {
  Up();
  OptionSet fixed(cfg::OptContext::kPeerDeviceOptions);  // the full sync runs for minutes
  fixed.Set("c-plan-ahead", int64_t{0});
  ASSERT_EQ(a.engine.PeerDeviceOptions(a.PeerVol("r0", 1, 0), fixed, false).ret, Ret::kNoError);
  ASSERT_EQ(a.engine.Primary(a.Res("r0"), true).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kSyncSource);
  EXPECT_EQ(a.engine.StartVerify(a.PeerVol("r0", 1, 0), std::nullopt, std::nullopt).ret,
            Ret::kSsResyncRunning);
  EXPECT_EQ(a.engine.Resize(a.Minor(0), {}).ret, Ret::kErrResizeResync);
}

TEST_F(TwoNodeRequests, VerifyBetweenInconsistentDisksIsAllowed) {
  Up();
  // Both just created and Inconsistent, Established: the state rules only
  // refuse disks below Inconsistent.
  EXPECT_EQ(a.engine.StartVerify(a.PeerVol("r0", 1, 0), std::nullopt, std::nullopt).ret,
            Ret::kSsSuccess);
  world.RunFor(kSec);
  EXPECT_EQ(a.engine.ReplStateOf("r0", 1, 0), ReplState::kEstablished);
}

TEST_F(TwoNodeRequests, VerifyOfADisklessPeerIsNoRemoteDisk) {
  Up();
  SkipInitialSync();
  ASSERT_EQ(b.engine.Detach(b.Minor(0), false).ret, Ret::kSsSuccess);
  world.RunFor(kSec);
  ASSERT_EQ(a.engine.PeerDiskOf("r0", 1, 0), DiskState::kDiskless);
  EXPECT_EQ(a.engine.StartVerify(a.PeerVol("r0", 1, 0), std::nullopt, std::nullopt).ret,
            Ret::kSsNoRemoteDisk);
  EXPECT_EQ(b.engine.StartVerify(b.PeerVol("r0", 0, 0), std::nullopt, std::nullopt).ret,
            Ret::kErrNoDisk);
}

TEST_F(TwoNodeRequests, ForgetPeerOfAConnectedPeerIsNetConfigured) {
  Up();
  EXPECT_EQ(a.engine.ForgetPeer(a.Res("r0"), 1).ret, Ret::kErrNetConfigured);
  ASSERT_EQ(a.engine.Disconnect(a.Peer("r0", 1), false).ret, Ret::kNoError);
  EXPECT_EQ(a.engine.ForgetPeer(a.Res("r0"), 1).ret, Ret::kErrNetConfigured);
  ASSERT_EQ(a.engine.DelPeer(a.Peer("r0", 1), false).ret, Ret::kNoError);
  EXPECT_EQ(a.engine.ForgetPeer(a.Res("r0"), 1).ret, Ret::kNoError);
}

TEST_F(TwoNodeRequests, RenameWhileConnectedKeepsTheConnection) {
  Up();
  ASSERT_EQ(a.engine.RenameResource(a.Res("r0"), std::string("r7")).ret, Ret::kNoError);
  world.RunFor(60 * kSec);  // several ping intervals
  EXPECT_EQ(a.engine.ConnStateOf("r7", 1), ConnState::kConnected);
  EXPECT_EQ(b.engine.ConnStateOf("r0", 0), ConnState::kConnected);
  // Networking still works under the new name: drop and come back.
  ASSERT_EQ(a.engine.Disconnect(a.Peer("r7", 1), false).ret, Ret::kNoError);
  ASSERT_EQ(a.Connect("r7", 1), Ret::kSsSuccess);
  world.RunFor(30 * kSec);
  EXPECT_EQ(a.engine.ConnStateOf("r7", 1), ConnState::kConnected);
}

TEST_F(TwoNodeRequests, ResizeOnOneNodeGrowsThePeerToo) {
  Up();
  SkipInitialSync();
  world.DiskBytes("/a/disk")->resize(2 * kDiskBytes, 0);
  world.DiskBytes("/b/disk")->resize(2 * kDiskBytes, 0);
  ASSERT_EQ(a.engine.Resize(a.Minor(0), {}).ret, Ret::kNoError);
  world.RunFor(kSec);
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: size = "));
  EXPECT_TRUE(b.sink.LogContains("Writing the whole bitmap, size changed and md moved"));
  md::MemDevice da(*world.DiskBytes("/a/disk")), db(*world.DiskBytes("/b/disk"));
  md::Found fa, fb;
  ASSERT_TRUE(md::ReadSuperblock(da, md::Placement{}, &fa).ok());
  ASSERT_TRUE(md::ReadSuperblock(db, md::Placement{}, &fb).ok());
  EXPECT_EQ(fa.sb.effective_size, fb.sb.effective_size);
  EXPECT_GT(fa.sb.effective_size, (kDiskBytes >> 9));
}

TEST_F(TwoNodeRequests, ResizeWhileDisconnectedKeepsTheAgreedSize) {
  Up();
  SkipInitialSync();
  ASSERT_EQ(a.engine.Disconnect(a.Peer("r0", 1), false).ret, Ret::kNoError);
  world.DiskBytes("/a/disk")->resize(2 * kDiskBytes, 0);
  a.sink.Clear();
  ASSERT_EQ(a.engine.Resize(a.Minor(0), {}).ret, Ret::kNoError);
  EXPECT_FALSE(a.sink.LogContains("drbd r0/0 drbd0: size = "));
  Engine::ResizeParms force;
  force.assume_peer_has_space = true;
  ASSERT_EQ(a.engine.Resize(a.Minor(0), force).ret, Ret::kNoError);
  EXPECT_TRUE(a.sink.LogContains("Resize forced while not fully connected!"));
  EXPECT_TRUE(a.sink.LogContains("drbd r0/0 drbd0: size = "));
}

}  // namespace
}  // namespace drbd::engine
