// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/genl/fields.h"

#include <gtest/gtest.h>

namespace drbd::genl {
namespace {

TEST(GenlFields, StartAtTheKernelDefaults) {
  Fields net(Set::kNetConf);
  EXPECT_EQ(net.U32(attr::wire_protocol), 3u);
  EXPECT_EQ(net.U32(attr::ping_int), 10u);
  EXPECT_TRUE(net.Flag(attr::tcp_cork));
  EXPECT_EQ(net.Str(attr::shared_secret), "");
  Fields disk(Set::kDiskConf);
  EXPECT_EQ(disk.S32(attr::resync_after), -1);
  EXPECT_EQ(disk.U32(attr::unplug_watermark), 128u);
  Fields dev(Set::kDeviceConf);
  EXPECT_EQ(dev.U32(attr::discard_granularity), 0xFFFFFFFFu);
}

TEST(GenlFields, CreateNeedsRequiredFields) {
  Fields disk(Set::kDiskConf);
  Tla t{Set::kDiskConf, {}};
  t.PutStr(attr::backing_dev, "/dev/a").PutStr(attr::meta_dev, "/dev/a");
  ApplyResult r = disk.Apply(&t, ApplyMode::kCreate);
  EXPECT_EQ(r.error, FromAttrsError::kRequiredMissing);
  EXPECT_EQ(r.field, "meta_dev_idx");
  EXPECT_EQ(FromAttrsErrorText(r.error), "required attribute missing");
  EXPECT_EQ(disk.Str(attr::backing_dev), "");  // unchanged on error

  t.PutS32(attr::meta_dev_idx, -1).PutU32(attr::al_extents, 6001);
  ASSERT_TRUE(disk.Apply(&t, ApplyMode::kCreate).ok());
  EXPECT_EQ(disk.Str(attr::backing_dev), "/dev/a");
  EXPECT_EQ(disk.S32(attr::meta_dev_idx), -1);
  EXPECT_EQ(disk.U32(attr::al_extents), 6001u);
  EXPECT_TRUE(disk.Flag(attr::disk_flushes));

  EXPECT_EQ(disk.Apply(nullptr, ApplyMode::kCreate).error, FromAttrsError::kNoTla);
}

TEST(GenlFields, ChangeKeepsAbsentFieldsAndRefusesInvariants) {
  Fields disk(Set::kDiskConf);
  Tla create{Set::kDiskConf, {}};
  create.PutStr(attr::backing_dev, "/dev/a").PutStr(attr::meta_dev, "/dev/a").PutS32(attr::meta_dev_idx, -1);
  create.PutU32(attr::al_extents, 6001).PutFlag(attr::disk_barrier, true);
  ASSERT_TRUE(disk.Apply(&create, ApplyMode::kCreate).ok());

  Tla change{Set::kDiskConf, {}};
  change.PutU32(attr::disk_timeout, 50);
  ASSERT_TRUE(disk.Apply(&change, ApplyMode::kChange).ok());
  EXPECT_EQ(disk.U32(attr::disk_timeout), 50u);
  EXPECT_EQ(disk.U32(attr::al_extents), 6001u);  // kept
  EXPECT_EQ(disk.Str(attr::backing_dev), "/dev/a");

  ASSERT_TRUE(disk.Apply(&change, ApplyMode::kChangeSetDefaults).ok());
  EXPECT_EQ(disk.U32(attr::al_extents), 1237u);  // back to the default
  EXPECT_FALSE(disk.Flag(attr::disk_barrier));
  EXPECT_EQ(disk.U32(attr::disk_timeout), 50u);
  EXPECT_EQ(disk.Str(attr::backing_dev), "/dev/a");  // no default: untouched

  Tla bad{Set::kDiskConf, {}};
  bad.PutU64(attr::disk_size, 1);
  ApplyResult r = disk.Apply(&bad, ApplyMode::kChange);
  EXPECT_EQ(r.error, FromAttrsError::kInvariant);
  EXPECT_EQ(r.field, "disk_size");
  EXPECT_EQ(FromAttrsErrorText(r.error), "can not change invariant setting");
}

TEST(GenlFields, ToTlaHidesSensitiveFieldsAndEncodesLikeTheKernel) {
  Fields net(Set::kNetConf);
  net.SetStr(attr::shared_secret, "s3cret");
  net.SetNum(attr::ping_int, 7);
  Tla all = net.ToTla(true);
  Tla pub = net.ToTla(false);
  EXPECT_EQ(all.attrs.size(), GetSet(Set::kNetConf).attrs.size());
  EXPECT_EQ(pub.attrs.size() + 1, all.attrs.size());
  EXPECT_EQ(all.GetStr(attr::shared_secret), "s3cret");
  EXPECT_EQ(pub.GetStr(attr::shared_secret), std::nullopt);
  EXPECT_EQ(pub.GetU32(attr::ping_int), 7u);

  Message m;
  m.nl.type = 0x1c;
  m.cmd = static_cast<uint8_t>(Cmd::kGetConnections);
  m.tlas.push_back(pub);
  m.Get(Set::kPathParms).PutBin(attr::my_addr, std::vector<uint8_t>(16, 1));
  Result<std::vector<uint8_t>> b = Encode(m, kKernelStyle);
  ASSERT_TRUE(b.ok());
  Result<Message> d = Decode(*b);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->Find(Set::kNetConf)->Find(attr::ping_int)->wire_type, 9);  // no mandatory bit
  EXPECT_EQ(d->Find(Set::kPathParms)->Find(attr::my_addr)->wire_type, 0x4001);  // the wart
  EXPECT_EQ((*b)[kDrbdHdrLen + 3] & 0x80, 0);  // first TLA without NLA_F_NESTED
  Fields back(Set::kNetConf);
  ASSERT_TRUE(back.Apply(d->Find(Set::kNetConf), ApplyMode::kCreate).ok());
  EXPECT_EQ(back.U32(attr::ping_int), 7u);
}

}  // namespace
}  // namespace drbd::genl
