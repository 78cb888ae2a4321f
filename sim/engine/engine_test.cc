// SPDX-License-Identifier: GPL-2.0-or-later
// Validation of every control request on one engine: the kernel's return
// codes (drbd_ret_code / drbd_state_rv) and info texts for each refusal,
// and the notifications of each success (compared with the event lines of
// /work/shared/spec/captures/drbd-9.2.18/99-events2-live.txt, whose full
// field sets these are).
#include "sim/engine/engine.h"

#include <gtest/gtest.h>

#include "sim/world/node.h"

namespace drbd::engine {
namespace {

using sim::Ip4;
using sim::kDiskBytes;

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : node(world, "a") {}

  // r0 (node id 0) with minor 0 / volume 0.
  void SetUpResource() {
    ASSERT_EQ(node.NewResource("r0", 0), Ret::kNoError);
    ASSERT_EQ(node.NewMinor("r0", 0, 0), Ret::kNoError);
  }
  void SetUpAttached(uint32_t flags = md::kMdfAlClean, uint64_t uuid = md::kUuidJustCreated) {
    SetUpResource();
    ASSERT_TRUE(sim::MakeMetadata(world, "/dev/loop0", kDiskBytes, flags, uuid));
    ASSERT_EQ(node.Attach(0, "/dev/loop0").ret, Ret::kNoError);
  }
  void SetUpPeer() {
    ASSERT_EQ(node.NewPeer("r0", 1, "b"), Ret::kNoError);
    ASSERT_EQ(node.NewPath("r0", 1, Ip4("10.0.0.1", 7788), Ip4("10.0.0.2", 7788)), Ret::kNoError);
  }
  std::vector<std::string> Lines() { return node.sink.Lines(); }
  // `r` carries `ret` and the single info text `info`.
  static ::testing::AssertionResult Refused(const Reply& r, Ret ret, const std::string& info) {
    if (r.ret == ret && r.info == std::vector<std::string>{info}) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << RetName(r.ret) << " " << ::testing::PrintToString(r.info);
  }

  sim::World world;
  sim::Node node;
};

// ---- addressing (drbd_adm_prepare) ------------------------------------------

TEST_F(EngineTest, UnknownResourceByNameIsResNotKnown) {
  Reply r = node.engine.Primary(node.Res("nope"), false);
  EXPECT_TRUE(Refused(r, Ret::kErrResNotKnown, "unknown resource"));
}

TEST_F(EngineTest, MissingResourceNameIsInvalidRequest) {
  EXPECT_EQ(node.engine.Primary(Ctx{}, false).ret, Ret::kErrInvalidRequest);
}

TEST_F(EngineTest, UnknownMinorIsMinorInvalid) {
  Reply r = node.engine.Outdate(node.Minor(7));
  EXPECT_TRUE(Refused(r, Ret::kErrMinorInvalid, "unknown minor"));
}

TEST_F(EngineTest, PeerNodeIdChecks) {
  SetUpResource();
  EXPECT_EQ(node.engine.Connect(node.Res("r0"), false, false).info,
            std::vector<std::string>{"peer node id missing"});
  Reply own = node.engine.Connect(node.Peer("r0", 0), false, false);
  EXPECT_TRUE(Refused(own, Ret::kErrInvalidRequest, "peer node id cannot be my own node id"));
  Reply range = node.engine.Connect(node.Peer("r0", 32), false, false);
  EXPECT_TRUE(Refused(range, Ret::kErrInvalidRequest, "peer node id out of range"));
  Reply unknown = node.engine.Connect(node.Peer("r0", 1), false, false);
  EXPECT_TRUE(Refused(unknown, Ret::kErrInvalidRequest, "unknown connection"));
  Ctx no_res;
  no_res.peer_node_id = 1;
  no_res.minor = 0;
  Reply nr = node.engine.Outdate(no_res);
  EXPECT_TRUE(Refused(nr, Ret::kErrInvalidRequest, "peer node id given without a resource"));
}

TEST_F(EngineTest, MinorOfAnotherResourceOrVolumeIsRefused) {
  SetUpResource();
  ASSERT_EQ(node.NewResource("r1", 0), Ret::kNoError);
  Ctx c = node.Res("r1");
  c.minor = 0;
  Reply r = node.engine.Outdate(c);
  EXPECT_TRUE(Refused(r, Ret::kErrInvalidRequest, "minor exists in different resource"));
  Ctx v = node.Res("r0");
  v.minor = 0;
  v.volume = 3;
  Reply rv = node.engine.Outdate(v);
  EXPECT_TRUE(Refused(rv, Ret::kErrInvalidRequest, "minor exists as different volume"));
}

// ---- new-resource / del-resource / resource-options -------------------------

TEST_F(EngineTest, NewResourceEmitsCreate) {
  EXPECT_EQ(node.NewResource("r0", 0), Ret::kNoError);
  EXPECT_EQ(Lines(),
            std::vector<std::string>{
                "create resource name:r0 role:Secondary suspended:no force-io-failures:no"});
}

TEST_F(EngineTest, NewResourceTwiceIsNoErrorWithoutEvent) {
  ASSERT_EQ(node.NewResource("r0", 0), Ret::kNoError);
  node.sink.Clear();
  EXPECT_EQ(node.NewResource("r0", 1), Ret::kNoError);
  EXPECT_TRUE(Lines().empty());
}

TEST_F(EngineTest, NewResourceNameRules) {
  Reply all =
      node.engine.NewResource(node.Res("all"), 0, OptionSet(cfg::OptContext::kResourceOptions));
  EXPECT_EQ(all.ret, Ret::kErrInvalidRequest);
  EXPECT_EQ(all.info,
            std::vector<std::string>{"invalid name (strict_names=1 allows only [0-9A-Za-z+._-])"});
  EXPECT_EQ(node.NewResource("r/0", 0), Ret::kErrInvalidRequest);
  EXPECT_EQ(node.NewResource("r 0", 0), Ret::kErrInvalidRequest);
  EXPECT_EQ(node.NewResource("r:0", 0), Ret::kErrInvalidRequest);
  EXPECT_EQ(node.NewResource("A+b.c_d-9", 0), Ret::kNoError);
}

TEST_F(EngineTest, NewResourceNodeIdRules) {
  EXPECT_EQ(node.NewResource("r0", 32), Ret::kErrInvalidRequest);
  Reply missing =
      node.engine.NewResource(node.Res("r0"), -1, OptionSet(cfg::OptContext::kResourceOptions));
  EXPECT_TRUE(Refused(missing, Ret::kErrMandatoryTag, "required attribute missing"));
  EXPECT_EQ(node.NewResource("r0", 31), Ret::kNoError);
}

TEST_F(EngineTest, DelResourceRefusesWhileInUse) {
  SetUpResource();
  EXPECT_EQ(node.engine.DelResource(node.Res("r0")).ret, Ret::kErrResInUse);
  ASSERT_EQ(node.NewPeer("r0", 1, "b"), Ret::kNoError);
  EXPECT_EQ(node.engine.DelResource(node.Res("r0")).ret, Ret::kErrNetConfigured);
  EXPECT_EQ(node.engine.DelResource(node.Res("zz")).ret, Ret::kErrResNotKnown);
}

TEST_F(EngineTest, DelResourceEmitsDestroy) {
  ASSERT_EQ(node.NewResource("r0", 0), Ret::kNoError);
  node.sink.Clear();
  EXPECT_EQ(node.engine.DelResource(node.Res("r0")).ret, Ret::kNoError);
  EXPECT_EQ(Lines(), std::vector<std::string>{"destroy resource name:r0"});
  EXPECT_FALSE(node.engine.ResourceRole("r0").has_value());
}

TEST_F(EngineTest, ResourceOptionsNeedsResource) {
  OptionSet o(cfg::OptContext::kResourceOptions);
  EXPECT_EQ(node.engine.ResourceOptions(node.Res("r0"), o, false).ret, Ret::kErrResNotKnown);
  SetUpResource();
  EXPECT_EQ(node.engine.ResourceOptions(node.Res("r0"), o, true).ret, Ret::kNoError);
}

// ---- new-minor / del-minor ----------------------------------------------------

TEST_F(EngineTest, NewMinorEmitsDeviceAndPeerDevices) {
  ASSERT_EQ(node.NewResource("r0", 0), Ret::kNoError);
  ASSERT_EQ(node.NewPeer("r0", 1, "b0"), Ret::kNoError);
  node.sink.Clear();
  ASSERT_EQ(node.NewMinor("r0", 0, 0), Ret::kNoError);
  EXPECT_EQ(Lines(),
            (std::vector<std::string>{
                "create device name:r0 volume:0 minor:0 backing_dev:none disk:Diskless client:no "
                "quorum:yes",
                "create peer-device name:r0 peer-node-id:1 conn-name:b0 volume:0 replication:Off "
                "peer-disk:DUnknown peer-client:no resync-suspended:no"}));
  EXPECT_TRUE(node.sink.notes[0].continues);
  EXPECT_FALSE(node.sink.notes[1].continues);
}

TEST_F(EngineTest, NewMinorValidation) {
  ASSERT_EQ(node.NewResource("r0", 0), Ret::kNoError);
  Ctx c = node.Res("r0");
  c.minor = 1u << 20;
  c.volume = 0;
  Reply big = node.engine.NewMinor(c);
  EXPECT_TRUE(Refused(big, Ret::kErrInvalidRequest, "requested minor out of range"));
  Ctx nv = node.Res("r0");
  nv.minor = 1;
  Reply novol = node.engine.NewMinor(nv);
  EXPECT_EQ(novol.info, std::vector<std::string>{"requested volume id out of range"});
  Ctx bs = node.Res("r0");
  bs.minor = 1;
  bs.volume = 0;
  Reply blk = node.engine.NewMinor(bs, 3000);
  EXPECT_EQ(blk.info, std::vector<std::string>{"block_size not 512, 1024, 2048, or 4096"});
  EXPECT_EQ(node.NewMinor("r0", 1, 0), Ret::kNoError);
  EXPECT_EQ(node.NewMinor("r0", 1, 0), Ret::kNoError);                 // same again
  EXPECT_EQ(node.NewMinor("r0", 2, 0), Ret::kErrMinorOrVolumeExists);  // volume taken
  ASSERT_EQ(node.NewResource("r1", 0), Ret::kNoError);
  EXPECT_EQ(node.NewMinor("r1", 1, 0), Ret::kErrInvalidRequest);  // minor of r0
}

TEST_F(EngineTest, DelMinorRefusesAttachedDevice) {
  SetUpAttached();
  EXPECT_EQ(node.engine.DelMinor(node.Minor(0)).ret, Ret::kErrMinorConfigured);
  EXPECT_EQ(node.engine.DelMinor(node.Minor(5)).ret, Ret::kErrMinorInvalid);
}

TEST_F(EngineTest, DelMinorEmitsDestroy) {
  SetUpResource();
  node.sink.Clear();
  EXPECT_EQ(node.engine.DelMinor(node.Minor(0)).ret, Ret::kNoError);
  EXPECT_EQ(Lines(), std::vector<std::string>{"destroy device name:r0 volume:0"});
}

// ---- attach / detach / disk-options ---------------------------------------

TEST_F(EngineTest, AttachFreshMetadataIsInconsistent) {
  SetUpResource();
  ASSERT_TRUE(sim::MakeMetadata(world, "/dev/loop0", kDiskBytes));
  node.sink.Clear();
  Reply r = node.Attach(0, "/dev/loop0");
  EXPECT_EQ(r.ret, Ret::kNoError);
  EXPECT_EQ(Lines(),
            (std::vector<std::string>{
                "change device name:r0 volume:0 minor:0 backing_dev:none disk:Attaching client:no "
                "quorum:yes",
                "change device name:r0 volume:0 minor:0 backing_dev:/dev/loop0 disk:Inconsistent "
                "client:no quorum:yes"}));
  EXPECT_TRUE(node.sink.LogContains("drbd r0/0 drbd0: disk( Attaching -> Inconsistent ) [attach]"));
  EXPECT_TRUE(node.sink.LogContains("attached to current UUID: 0000000000000004"));
  // The capture's loop device of 32 MiB with internal metadata.
  EXPECT_TRUE(node.sink.LogContains("drbd r0/0 drbd0: size = 32 MB (32728 KB)"));
}

TEST_F(EngineTest, AttachDiskStateFollowsMetadataFlags) {
  SetUpResource();
  ASSERT_TRUE(sim::MakeMetadata(world, "/d/uptodate", kDiskBytes,
                                md::kMdfConsistent | md::kMdfWasUpToDate, 0x1234567890ABCDEEull));
  ASSERT_EQ(node.Attach(0, "/d/uptodate").ret, Ret::kNoError);
  EXPECT_EQ(node.engine.DiskStateOf(0), DiskState::kUpToDate);

  ASSERT_EQ(node.NewMinor("r0", 1, 1), Ret::kNoError);
  ASSERT_TRUE(sim::MakeMetadata(world, "/d/outdated", kDiskBytes, md::kMdfConsistent,
                                0x1234567890ABCDEEull));
  ASSERT_EQ(node.Attach(1, "/d/outdated").ret, Ret::kNoError);
  EXPECT_EQ(node.engine.DiskStateOf(1), DiskState::kOutdated);
}

TEST_F(EngineTest, AttachFencedPeerRecordGivesConsistent) {
  SetUpResource();
  md::MemDevice dev(kDiskBytes);
  md::Superblock sb = md::NewSuperblock(md::Format::kV09, 1, 1, 8);
  ASSERT_TRUE(md::InitOffsets(sb, md::kIndexFlexInternal, kDiskBytes).ok());
  sb.flags = md::kMdfConsistent | md::kMdfWasUpToDate;
  sb.current_uuid = 0xAAAA0000;
  sb.peers[1].flags = md::kNodeExists | md::kPeerFencing;
  sb.peers[1].bitmap_index = 0;
  ASSERT_TRUE(
      md::CreateMetadata(dev, md::Placement{md::Format::kV09, md::kIndexFlexInternal}, sb, false)
          .ok());
  *world.AddDisk("/d/fenced", kDiskBytes) = dev.data();
  ASSERT_EQ(node.Attach(0, "/d/fenced").ret, Ret::kNoError);
  EXPECT_EQ(node.engine.DiskStateOf(0), DiskState::kConsistent);
}

TEST_F(EngineTest, AttachValidation) {
  SetUpResource();
  EXPECT_EQ(node.Attach(9, "/dev/loop0").ret, Ret::kErrMinorInvalid);
  EXPECT_EQ(node.Attach(0, "/dev/loop0", "", -4).ret, Ret::kErrMdIdxInvalid);
  EXPECT_EQ(node.Attach(0, "/dev/missing").ret, Ret::kErrOpenDisk);
  world.AddDisk("/dev/data", kDiskBytes);
  EXPECT_EQ(node.Attach(0, "/dev/data", "/dev/missing-md", 0).ret, Ret::kErrOpenMdDisk);
  world.AddDisk("/dev/md", kDiskBytes);
  // Internal index with a separate meta device, external index on one device.
  EXPECT_EQ(node.Attach(0, "/dev/data", "/dev/md", kMetaIdxFlexInt).ret, Ret::kErrMdIdxInvalid);
  EXPECT_EQ(node.Attach(0, "/dev/data", "/dev/data", 0).ret, Ret::kErrMdIdxInvalid);
  EXPECT_EQ(node.engine.DiskStateOf(0), DiskState::kDiskless);
}

TEST_F(EngineTest, AttachWithoutMetadataIsMdInvalidAndDiskless) {
  SetUpResource();
  world.AddDisk("/dev/blank", kDiskBytes);
  node.sink.Clear();
  EXPECT_EQ(node.Attach(0, "/dev/blank").ret, Ret::kErrMdInvalid);
  EXPECT_EQ(node.engine.DiskStateOf(0), DiskState::kDiskless);
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("disk:Diskless"), std::string::npos);
}

TEST_F(EngineTest, AttachOfOtherNodesMetadataIsRefused) {
  SetUpResource();
  ASSERT_TRUE(
      sim::MakeMetadata(world, "/dev/loop0", kDiskBytes, md::kMdfAlClean, md::kUuidJustCreated, 3));
  EXPECT_EQ(node.Attach(0, "/dev/loop0").ret, Ret::kErrInvalidRequest);
  EXPECT_EQ(node.engine.DiskStateOf(0), DiskState::kDiskless);
}

TEST_F(EngineTest, AttachTwiceIsDiskConfigured) {
  SetUpAttached();
  EXPECT_EQ(node.Attach(0, "/dev/loop0").ret, Ret::kErrDiskConfigured);
}

TEST_F(EngineTest, DetachDisklessIsNothingToDo) {
  SetUpResource();
  EXPECT_EQ(node.engine.Detach(node.Minor(0), false).ret, Ret::kSsNothingToDo);
  EXPECT_EQ(node.engine.Detach(node.Minor(0), true).ret, Ret::kSsSuccess);
}

TEST_F(EngineTest, DetachGoesThroughDetachingToDiskless) {
  SetUpAttached();
  node.sink.Clear();
  EXPECT_EQ(node.engine.Detach(node.Minor(0), false).ret, Ret::kSsSuccess);
  EXPECT_EQ(Lines(),
            (std::vector<std::string>{
                "change device name:r0 volume:0 minor:0 backing_dev:none disk:Detaching client:no "
                "quorum:yes",
                "change device name:r0 volume:0 minor:0 backing_dev:none disk:Diskless client:no "
                "quorum:yes"}));
}

TEST_F(EngineTest, DetachOfLastUpToDateDiskOfPrimaryIsRefused) {
  SetUpAttached(md::kMdfConsistent | md::kMdfWasUpToDate, 0x5555000000000000ull);
  ASSERT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.Detach(node.Minor(0), false).ret, Ret::kSsNoUpToDateDisk);
  EXPECT_EQ(node.engine.DiskStateOf(0), DiskState::kUpToDate);
}

TEST_F(EngineTest, DiskOptionsNeedsADisk) {
  SetUpResource();
  OptionSet o(cfg::OptContext::kAttach);
  EXPECT_EQ(node.engine.DiskOptions(node.Minor(0), o, false).ret, Ret::kErrNoDisk);
  EXPECT_EQ(node.engine.DiskOptions(node.Minor(3), o, false).ret, Ret::kErrMinorInvalid);
}

TEST_F(EngineTest, DetachWritesMetadataBack) {
  SetUpAttached(md::kMdfConsistent | md::kMdfWasUpToDate, 0x5555000000000000ull);
  ASSERT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsSuccess);
  ASSERT_EQ(node.engine.Secondary(node.Res("r0"), false).ret, Ret::kSsSuccess);
  ASSERT_EQ(node.engine.Outdate(node.Minor(0)).ret, Ret::kSsSuccess);
  ASSERT_EQ(node.engine.Detach(node.Minor(0), false).ret, Ret::kSsSuccess);
  world.RunUntilIdle();
  ASSERT_EQ(node.Attach(0, "/dev/loop0").ret, Ret::kNoError);
  EXPECT_EQ(node.engine.DiskStateOf(0), DiskState::kOutdated);
}

// ---- roles ---------------------------------------------------------------------

TEST_F(EngineTest, PrimaryWithoutDiskIsNoUpToDateDisk) {
  SetUpResource();
  EXPECT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsNoUpToDateDisk);
  EXPECT_EQ(node.engine.Primary(node.Res("r0"), true).ret, Ret::kSsNoUpToDateDisk);
}

TEST_F(EngineTest, PrimaryOnInconsistentNeedsForce) {
  SetUpAttached();
  EXPECT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsNoUpToDateDisk);
  EXPECT_EQ(node.engine.ResourceRole("r0"), Role::kSecondary);
  node.sink.Clear();
  EXPECT_EQ(node.engine.Primary(node.Res("r0"), true).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.ResourceRole("r0"), Role::kPrimary);
  EXPECT_EQ(node.engine.DiskStateOf(0), DiskState::kUpToDate);
  EXPECT_EQ(Lines(),
            (std::vector<std::string>{
                "change resource name:r0 role:Primary suspended:no force-io-failures:no",
                "change device name:r0 volume:0 minor:0 backing_dev:/dev/loop0 disk:UpToDate "
                "client:no quorum:yes"}));
  EXPECT_TRUE(node.sink.LogContains("drbd r0: Forced to consider local data as UpToDate!"));
  EXPECT_NE(node.engine.CurrentUuidOf(0).value_or(4) & ~1ull, md::kUuidJustCreated);
}

TEST_F(EngineTest, PrimaryAgainIsNothingToDoAndSecondarySucceeds) {
  SetUpAttached(md::kMdfConsistent | md::kMdfWasUpToDate, 0x5555000000000000ull);
  EXPECT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsNothingToDo);
  EXPECT_EQ(node.engine.Secondary(node.Res("r0"), false).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.Secondary(node.Res("r0"), false).ret, Ret::kSsNothingToDo);
}

TEST_F(EngineTest, PrimaryOnOutdatedIsRefusedWithoutForce) {
  SetUpAttached(md::kMdfConsistent, 0x5555000000000000ull);
  EXPECT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsNoUpToDateDisk);
}

TEST_F(EngineTest, FencingMakesUnfencedPromotionPrimaryNop) {
  SetUpAttached(md::kMdfConsistent | md::kMdfWasUpToDate, 0x5555000000000000ull);
  OptionSet net(cfg::OptContext::kNewPeer);
  net.Set("fencing", int64_t{1});  // resource-only
  ASSERT_EQ(node.NewPeer("r0", 1, "b", net), Ret::kNoError);
  EXPECT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsPrimaryNop);
  EXPECT_EQ(node.engine.Primary(node.Res("r0"), true).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.PeerDiskOf("r0", 1, 0), DiskState::kOutdated);
}

// ---- peers and paths --------------------------------------------------------------

TEST_F(EngineTest, NewPeerEmitsConnectionAndPeerDevices) {
  SetUpResource();
  node.sink.Clear();
  ASSERT_EQ(node.NewPeer("r0", 1, "b0"), Ret::kNoError);
  EXPECT_EQ(Lines(),
            (std::vector<std::string>{
                "create connection name:r0 peer-node-id:1 conn-name:b0 connection:StandAlone "
                "role:Unknown",
                "create peer-device name:r0 peer-node-id:1 conn-name:b0 volume:0 replication:Off "
                "peer-disk:DUnknown peer-client:no resync-suspended:no"}));
}

TEST_F(EngineTest, NewPeerValidation) {
  SetUpResource();
  EXPECT_EQ(node.engine.NewPeer(node.Res("r0"), "b", OptionSet(cfg::OptContext::kNewPeer)).ret,
            Ret::kErrInvalidRequest);
  EXPECT_EQ(node.NewPeer("r0", 0, "b"), Ret::kErrInvalidRequest);
  Reply noname = node.engine.NewPeer(node.Peer("r0", 1), "", OptionSet(cfg::OptContext::kNewPeer));
  EXPECT_TRUE(Refused(noname, Ret::kErrMandatoryTag, "name missing"));
  ASSERT_EQ(node.NewPeer("r0", 1, "b"), Ret::kNoError);
  EXPECT_EQ(node.NewPeer("r0", 1, "c"), Ret::kErrInvalidRequest);  // connection exists
  Reply dup = node.engine.NewPeer(node.Peer("r0", 2), "b", OptionSet(cfg::OptContext::kNewPeer));
  EXPECT_TRUE(Refused(dup, Ret::kErrAlreadyExists, "name already exists"));
}

TEST_F(EngineTest, NetOptionConsistencyChecks) {
  SetUpResource();
  OptionSet two(cfg::OptContext::kNewPeer);
  two.Set("allow-two-primaries", int64_t{1});
  two.Set("protocol", int64_t{1});
  EXPECT_EQ(node.NewPeer("r0", 1, "b", two), Ret::kErrNotProtoC);
  OptionSet stonith(cfg::OptContext::kNewPeer);
  stonith.Set("protocol", int64_t{1});
  stonith.Set("fencing", int64_t{2});
  EXPECT_EQ(node.NewPeer("r0", 1, "b", stonith), Ret::kErrStonithAndProtA);
  OptionSet cong(cfg::OptContext::kNewPeer);
  cong.Set("on-congestion", int64_t{1});
  EXPECT_EQ(node.NewPeer("r0", 1, "b", cong), Ret::kErrCongNotProtoA);
  OptionSet hmac(cfg::OptContext::kNewPeer);
  hmac.Set("cram-hmac-alg", std::string("no-such-alg"));
  Reply r = node.engine.NewPeer(node.Peer("r0", 1), "b", hmac);
  EXPECT_TRUE(Refused(r, Ret::kErrAuthAlg, "failed to allocate hmac(no-such-alg) for hmac\n"));
  OptionSet verify(cfg::OptContext::kNewPeer);
  verify.Set("verify-alg", std::string("bogus"));
  EXPECT_EQ(node.NewPeer("r0", 1, "b", verify), Ret::kErrVerifyAlg);
  OptionSet csums(cfg::OptContext::kNewPeer);
  csums.Set("csums-alg", std::string("bogus"));
  EXPECT_EQ(node.NewPeer("r0", 1, "b", csums), Ret::kErrCsumsAlg);
  OptionSet integ(cfg::OptContext::kNewPeer);
  integ.Set("data-integrity-alg", std::string("bogus"));
  EXPECT_EQ(node.NewPeer("r0", 1, "b", integ), Ret::kErrIntegrityAlg);
}

TEST_F(EngineTest, NetOptionsChangesAndChecks) {
  SetUpResource();
  ASSERT_EQ(node.NewPeer("r0", 1, "b"), Ret::kNoError);
  OptionSet change(cfg::OptContext::kNetOptions);
  change.Set("protocol", int64_t{1});
  EXPECT_EQ(node.engine.NetOptions(node.Peer("r0", 1), change, false).ret, Ret::kNoError);
  OptionSet two(cfg::OptContext::kNetOptions);
  two.Set("allow-two-primaries", int64_t{1});
  // Protocol A is kept from the previous change, so two primaries are refused ...
  EXPECT_EQ(node.engine.NetOptions(node.Peer("r0", 1), two, false).ret, Ret::kErrNotProtoC);
  // ... unless the other options return to their defaults (protocol C).
  EXPECT_EQ(node.engine.NetOptions(node.Peer("r0", 1), two, true).ret, Ret::kNoError);
  EXPECT_EQ(node.engine.NetOptions(node.Peer("r0", 2), two, true).ret, Ret::kErrInvalidRequest);
}

TEST_F(EngineTest, PeerDeviceOptionsNeedsAVolume) {
  SetUpResource();
  ASSERT_EQ(node.NewPeer("r0", 1, "b"), Ret::kNoError);
  OptionSet o(cfg::OptContext::kPeerDeviceOptions);
  Reply novol = node.engine.PeerDeviceOptions(node.Peer("r0", 1), o, false);
  EXPECT_TRUE(Refused(novol, Ret::kErrInvalidRequest, "unknown volume"));
  EXPECT_EQ(node.engine.PeerDeviceOptions(node.PeerVol("r0", 1, 0), o, false).ret, Ret::kNoError);
}

TEST_F(EngineTest, NewPathEmitsCreate) {
  SetUpResource();
  ASSERT_EQ(node.NewPeer("r0", 1, "b0"), Ret::kNoError);
  node.sink.Clear();
  ASSERT_EQ(node.NewPath("r0", 1, Ip4("127.0.0.1", 7788), Ip4("127.0.0.1", 7789)), Ret::kNoError);
  EXPECT_EQ(Lines(),
            std::vector<std::string>{
                "create path name:r0 peer-node-id:1 conn-name:b0 local:ipv4:127.0.0.1:7788 "
                "peer:ipv4:127.0.0.1:7789 established:no"});
}

TEST_F(EngineTest, PathCollisions) {
  SetUpResource();
  SetUpPeer();
  EXPECT_EQ(node.NewPath("r0", 1, Ip4("10.0.0.1", 7788), Ip4("10.0.0.2", 7788)),
            Ret::kErrLocalAndPeerAddr);
  // Reusing one endpoint within the resource is fine.
  ASSERT_EQ(node.NewPeer("r0", 2, "c"), Ret::kNoError);
  EXPECT_EQ(node.NewPath("r0", 2, Ip4("10.0.0.1", 7788), Ip4("10.0.0.3", 7788)), Ret::kNoError);
  // Across resources it is not.
  ASSERT_EQ(node.NewResource("r1", 0), Ret::kNoError);
  ASSERT_EQ(node.NewPeer("r1", 1, "b"), Ret::kNoError);
  EXPECT_EQ(node.NewPath("r1", 1, Ip4("10.0.0.1", 7788), Ip4("10.0.0.9", 1)), Ret::kErrLocalAddr);
  EXPECT_EQ(node.NewPath("r1", 1, Ip4("10.0.0.9", 1), Ip4("10.0.0.2", 7788)), Ret::kErrPeerAddr);
  Reply missing = node.engine.NewPath(node.Peer("r1", 1), Ip4("", 0), Ip4("10.0.0.2", 9));
  EXPECT_EQ(missing.info, std::vector<std::string>{"connection endpoint(s) missing"});
}

TEST_F(EngineTest, DelPathRules) {
  SetUpResource();
  SetUpPeer();
  Reply none = node.engine.DelPath(node.Peer("r0", 1), Ip4("1.1.1.1", 1), Ip4("2.2.2.2", 2));
  EXPECT_TRUE(Refused(none, Ret::kErrInvalidRequest, "no such path"));
  ASSERT_EQ(node.Connect("r0", 1), Ret::kSsSuccess);
  Reply last =
      node.engine.DelPath(node.Peer("r0", 1), Ip4("10.0.0.1", 7788), Ip4("10.0.0.2", 7788));
  EXPECT_TRUE(
      Refused(last, Ret::kErrInvalidRequest, "Can not delete last path, use disconnect first!"));
  ASSERT_EQ(node.engine.Disconnect(node.Peer("r0", 1), false).ret, Ret::kNoError);
  node.sink.Clear();
  EXPECT_EQ(
      node.engine.DelPath(node.Peer("r0", 1), Ip4("10.0.0.1", 7788), Ip4("10.0.0.2", 7788)).ret,
      Ret::kNoError);
  EXPECT_EQ(Lines(), std::vector<std::string>{"destroy path name:r0 peer-node-id:1 conn-name:b "
                                              "local:ipv4:10.0.0.1:7788 peer:ipv4:10.0.0.2:7788"});
}

// ---- connect / disconnect / del-peer ------------------------------------------------

TEST_F(EngineTest, ConnectGoesUnconnectedThenConnecting) {
  SetUpResource();
  SetUpPeer();
  node.sink.Clear();
  EXPECT_EQ(node.Connect("r0", 1), Ret::kSsSuccess);
  EXPECT_EQ(Lines(),
            (std::vector<std::string>{
                "change connection name:r0 peer-node-id:1 conn-name:b connection:Unconnected "
                "role:Unknown",
                "change connection name:r0 peer-node-id:1 conn-name:b connection:Connecting "
                "role:Unknown"}));
  EXPECT_TRUE(node.sink.LogContains("drbd r0 b: conn( StandAlone -> Unconnected ) [connect]"));
  EXPECT_TRUE(node.sink.LogContains("drbd r0 b: conn( Unconnected -> Connecting ) [connecting]"));
}

TEST_F(EngineTest, ConnectValidation) {
  SetUpResource();
  ASSERT_EQ(node.NewPeer("r0", 1, "b"), Ret::kNoError);
  Reply nopath = node.engine.Connect(node.Peer("r0", 1), false, false);
  EXPECT_TRUE(Refused(nopath, Ret::kErrInvalidRequest, "connection endpoint(s) missing"));
  ASSERT_EQ(node.NewPath("r0", 1, Ip4("10.0.0.1", 7788), Ip4("10.0.0.2", 7788)), Ret::kNoError);
  ASSERT_EQ(node.Connect("r0", 1), Ret::kSsSuccess);
  EXPECT_EQ(node.Connect("r0", 1), Ret::kErrNetConfigured);
}

TEST_F(EngineTest, DiscardMyDataWhilePrimaryIsImpossible) {
  SetUpAttached(md::kMdfConsistent | md::kMdfWasUpToDate, 0x5555000000000000ull);
  SetUpPeer();
  ASSERT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.Connect(node.Peer("r0", 1), false, true).ret, Ret::kErrDiscardImpossible);
}

TEST_F(EngineTest, DisconnectStandAloneIsNoError) {
  SetUpResource();
  SetUpPeer();
  node.sink.Clear();
  EXPECT_EQ(node.engine.Disconnect(node.Peer("r0", 1), false).ret, Ret::kNoError);
  EXPECT_TRUE(Lines().empty());
}

TEST_F(EngineTest, DisconnectWhileConnectingGoesStandAlone) {
  SetUpResource();
  SetUpPeer();
  ASSERT_EQ(node.Connect("r0", 1), Ret::kSsSuccess);
  node.sink.Clear();
  EXPECT_EQ(node.engine.Disconnect(node.Peer("r0", 1), false).ret, Ret::kNoError);
  EXPECT_EQ(Lines(),
            (std::vector<std::string>{
                "change connection name:r0 peer-node-id:1 conn-name:b connection:Disconnecting "
                "role:Unknown",
                "change connection name:r0 peer-node-id:1 conn-name:b connection:StandAlone "
                "role:Unknown"}));
  EXPECT_EQ(node.engine.ConnStateOf("r0", 1), ConnState::kStandAlone);
}

TEST_F(EngineTest, DelPeerDestroysPathThenConnection) {
  SetUpResource();
  SetUpPeer();
  node.sink.Clear();
  EXPECT_EQ(node.engine.DelPeer(node.Peer("r0", 1), false).ret, Ret::kNoError);
  EXPECT_EQ(Lines(), (std::vector<std::string>{
                         "destroy path name:r0 peer-node-id:1 conn-name:b local:ipv4:10.0.0.1:7788 "
                         "peer:ipv4:10.0.0.2:7788",
                         "destroy connection name:r0 peer-node-id:1 conn-name:b"}));
  EXPECT_FALSE(node.engine.ConnStateOf("r0", 1).has_value());
  EXPECT_EQ(node.engine.DelPeer(node.Peer("r0", 1), false).ret, Ret::kErrInvalidRequest);
}

// ---- down -------------------------------------------------------------------------------

TEST_F(EngineTest, DownTearsEverythingDownInTheKernelsOrder) {
  SetUpAttached();
  SetUpPeer();
  ASSERT_EQ(node.Connect("r0", 1), Ret::kSsSuccess);
  node.sink.Clear();
  EXPECT_EQ(node.engine.Down(node.Res("r0")).ret, Ret::kNoError);
  EXPECT_EQ(Lines(),
            (std::vector<std::string>{
                "change connection name:r0 peer-node-id:1 conn-name:b connection:Disconnecting "
                "role:Unknown",
                "change connection name:r0 peer-node-id:1 conn-name:b connection:StandAlone "
                "role:Unknown",
                "destroy path name:r0 peer-node-id:1 conn-name:b local:ipv4:10.0.0.1:7788 "
                "peer:ipv4:10.0.0.2:7788",
                "destroy connection name:r0 peer-node-id:1 conn-name:b",
                "change device name:r0 volume:0 minor:0 backing_dev:none disk:Detaching client:no "
                "quorum:yes",
                "change device name:r0 volume:0 minor:0 backing_dev:none disk:Diskless client:no "
                "quorum:yes",
                "destroy device name:r0 volume:0", "destroy resource name:r0"}));
  EXPECT_EQ(node.engine.Down(node.Res("r0")).ret, Ret::kErrResNotKnown);
}

TEST_F(EngineTest, DownOfPrimaryDemotesFirst) {
  SetUpAttached(md::kMdfConsistent | md::kMdfWasUpToDate, 0x5555000000000000ull);
  ASSERT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.Down(node.Res("r0")).ret, Ret::kNoError);
  EXPECT_TRUE(node.sink.LogContains("drbd r0: role( Primary -> Secondary ) [down]"));
}

// ---- new-current-uuid / outdate / invalidate -------------------------------------------

TEST_F(EngineTest, NewCurrentUuidNeedsADisk) {
  SetUpResource();
  EXPECT_EQ(node.engine.NewCurrentUuid(node.Minor(0), false).ret, Ret::kErrNoDisk);
}

TEST_F(EngineTest, NewCurrentUuidRotatesIntoHistory) {
  SetUpAttached(md::kMdfConsistent | md::kMdfWasUpToDate, 0x5555000000000000ull);
  EXPECT_EQ(node.engine.NewCurrentUuid(node.Minor(0), false).ret, Ret::kNoError);
  uint64_t now = node.engine.CurrentUuidOf(0).value();
  EXPECT_NE(now, 0x5555000000000000ull);
  EXPECT_NE(now & ~1ull, md::kUuidJustCreated);
}

TEST_F(EngineTest, NewCurrentUuidClearBitmapMakesUpToDate) {
  SetUpAttached();
  EXPECT_EQ(node.engine.NewCurrentUuid(node.Minor(0), true).ret, Ret::kNoError);
  EXPECT_EQ(node.engine.DiskStateOf(0), DiskState::kUpToDate);
}

TEST_F(EngineTest, OutdateRules) {
  SetUpResource();
  EXPECT_EQ(node.engine.Outdate(node.Minor(0)).ret, Ret::kSsIsDiskless);
  ASSERT_TRUE(sim::MakeMetadata(world, "/dev/loop0", kDiskBytes));
  ASSERT_EQ(node.Attach(0, "/dev/loop0").ret, Ret::kNoError);
  EXPECT_EQ(node.engine.Outdate(node.Minor(0)).ret, Ret::kSsLowerThanOutdated);
  ASSERT_EQ(node.engine.Primary(node.Res("r0"), true).ret, Ret::kSsSuccess);
  ASSERT_EQ(node.engine.Secondary(node.Res("r0"), false).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.Outdate(node.Minor(0)).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.DiskStateOf(0), DiskState::kOutdated);
  EXPECT_EQ(node.engine.Outdate(node.Minor(0)).ret, Ret::kSsNothingToDo);
}

TEST_F(EngineTest, InvalidateStandAloneMakesInconsistent) {
  SetUpResource();
  EXPECT_EQ(node.engine.Invalidate(node.Minor(0)).ret, Ret::kErrNoDisk);
  ASSERT_TRUE(sim::MakeMetadata(world, "/dev/loop0", kDiskBytes,
                                md::kMdfConsistent | md::kMdfWasUpToDate, 0x5555000000000000ull));
  ASSERT_EQ(node.Attach(0, "/dev/loop0").ret, Ret::kNoError);
  EXPECT_EQ(node.engine.Invalidate(node.Minor(0)).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.DiskStateOf(0), DiskState::kInconsistent);
}

TEST_F(EngineTest, InvalidateRemoteNeedsConnectionUnlessPrimary) {
  SetUpAttached(md::kMdfConsistent | md::kMdfWasUpToDate, 0x5555000000000000ull);
  SetUpPeer();
  EXPECT_EQ(node.engine.InvalidateRemote(node.Peer("r0", 1)).ret, Ret::kErrInvalidRequest);
  EXPECT_EQ(node.engine.InvalidateRemote(node.PeerVol("r0", 1, 0)).ret, Ret::kSsNeedConnection);
  ASSERT_EQ(node.engine.Primary(node.Res("r0"), false).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.InvalidateRemote(node.PeerVol("r0", 1, 0)).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.PeerDiskOf("r0", 1, 0), DiskState::kInconsistent);
}

TEST_F(EngineTest, InvalidateRemoteWithoutDiskIsNoDisk) {
  SetUpResource();
  SetUpPeer();
  EXPECT_EQ(node.engine.InvalidateRemote(node.PeerVol("r0", 1, 0)).ret, Ret::kErrNoDisk);
}

// ---- pause-sync / resume-sync / suspend-io / resume-io ---------------------------------

TEST_F(EngineTest, PauseAndResumeSyncCodes) {
  SetUpResource();
  SetUpPeer();
  EXPECT_EQ(node.engine.PauseSync(node.PeerVol("r0", 1, 0)).ret, Ret::kNoError);
  EXPECT_EQ(node.engine.PauseSync(node.PeerVol("r0", 1, 0)).ret, Ret::kErrPauseIsSet);
  EXPECT_EQ(node.engine.ResumeSync(node.PeerVol("r0", 1, 0)).ret, Ret::kNoError);
  EXPECT_EQ(node.engine.ResumeSync(node.PeerVol("r0", 1, 0)).ret, Ret::kErrPauseIsClear);
  EXPECT_EQ(node.engine.PauseSync(node.PeerVol("r0", 1, 4)).ret, Ret::kErrInvalidRequest);
}

TEST_F(EngineTest, PauseSyncShowsInEvents) {
  SetUpResource();
  SetUpPeer();
  node.sink.Clear();
  ASSERT_EQ(node.engine.PauseSync(node.PeerVol("r0", 1, 0)).ret, Ret::kNoError);
  EXPECT_EQ(Lines(),
            std::vector<std::string>{
                "change peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:Off "
                "peer-disk:DUnknown peer-client:no resync-suspended:user"});
}

TEST_F(EngineTest, SuspendAndResumeIoCodes) {
  SetUpResource();
  node.sink.Clear();
  EXPECT_EQ(node.engine.SuspendIo(node.Minor(0)).ret, Ret::kSsSuccess);
  EXPECT_EQ(Lines(),
            std::vector<std::string>{
                "change resource name:r0 role:Secondary suspended:user force-io-failures:no"});
  EXPECT_EQ(node.engine.SuspendIo(node.Minor(0)).ret, Ret::kSsNothingToDo);
  EXPECT_EQ(node.engine.ResumeIo(node.Minor(0)).ret, Ret::kSsSuccess);
  EXPECT_EQ(node.engine.ResumeIo(node.Minor(0)).ret, Ret::kSsNothingToDo);
  EXPECT_EQ(node.engine.SuspendIo(node.Minor(4)).ret, Ret::kErrMinorInvalid);
}

// ---- initial state -----------------------------------------------------------------------

TEST_F(EngineTest, InitialStateListsObjectsInKernelOrder) {
  SetUpAttached();
  SetUpPeer();
  std::vector<std::string> lines;
  for (const auto& n : node.engine.InitialState()) lines.push_back(sim::FormatNotification(n));
  EXPECT_EQ(lines,
            (std::vector<std::string>{
                "exists resource name:r0 role:Secondary suspended:no force-io-failures:no",
                "exists device name:r0 volume:0 minor:0 backing_dev:/dev/loop0 disk:Inconsistent "
                "client:no quorum:yes",
                "exists connection name:r0 peer-node-id:1 conn-name:b connection:StandAlone "
                "role:Unknown",
                "exists peer-device name:r0 peer-node-id:1 conn-name:b volume:0 replication:Off "
                "peer-disk:DUnknown peer-client:no resync-suspended:no",
                "exists path name:r0 peer-node-id:1 conn-name:b local:ipv4:10.0.0.1:7788 "
                "peer:ipv4:10.0.0.2:7788 established:no"}));
}

TEST_F(EngineTest, CodesCarryTheKernelNumbers) {
  EXPECT_EQ(ToInt(Ret::kNoError), 101);
  EXPECT_EQ(ToInt(Ret::kErrResNotKnown), 158);
  EXPECT_EQ(ToInt(Ret::kErrInvalidRequest), 162);
  EXPECT_EQ(ToInt(Ret::kSsTwoPrimaries), -1);
  EXPECT_EQ(ToInt(Ret::kSsNoUpToDateDisk), -2);
  EXPECT_EQ(ToInt(Ret::kSsLowerThanOutdated), -16);
  EXPECT_EQ(RetName(Ret::kErrMinorOrVolumeExists), "ERR_MINOR_OR_VOLUME_EXISTS");
}

}  // namespace
}  // namespace drbd::engine
