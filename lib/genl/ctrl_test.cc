// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/genl/ctrl.h"

#include <gtest/gtest.h>

#include "lib/genl/codec.h"
#include "lib/genl/family.h"
#include "lib/genl/test_util.h"

namespace drbd::genl {
namespace {

using testing::Bytes;

// What drbd-utils' genl_connect_to_family() sends.
TEST(GenlCtrl, GetFamilyMatchesHandBuiltBytes) {
  Bytes want;
  want.U32(32).U16(0x10).U16(kNlmFRequest).U32(1234).U32(99);  // nlmsghdr
  want.U8(3).U8(2).U16(0);                                     // CTRL_CMD_GETFAMILY, v2
  want.Nla(9, 2).Str("drbd").U8(0).Align();                    // CTRL_ATTR_FAMILY_NAME
  EXPECT_EQ(EncodeGetFamily("drbd", 1234, 99), want.vec());
  Result<std::string> name = DecodeGetFamily(want.vec());
  // The same bytes drbd-utils 9.22 sent (strace of `drbdsetup primary r0`
  // without the module; its kernel answered with this NLMSG_ERROR, which
  // echoes the request whole).
  Bytes enoent;
  enoent.U32(52).U16(kNlmsgError).U16(0).U32(1234).U32(99).U32(static_cast<uint32_t>(-2));
  enoent.Raw(want.vec().data(), want.size());
  EXPECT_EQ(EncodeNlError(want.vec(), -2), enoent.vec());
  ASSERT_TRUE(name.ok()) << name.error().message;
  EXPECT_EQ(*name, "drbd");
}

TEST(GenlCtrl, DrbdFamilyDescribesTheTable) {
  FamilyInfo f = DrbdFamilyInfo(0x1c, 7);
  EXPECT_EQ(f.name, "drbd");
  EXPECT_EQ(f.version, 2u);
  EXPECT_EQ(f.hdrsize, 8u);
  EXPECT_EQ(f.maxattr, 34u);
  EXPECT_EQ(f.ops.size(), 38u);  // DRBD 9: 38 operations (notifications are not ops)
  EXPECT_TRUE(f.HasOp(50));      // GET_PATHS, what drbdsetup probes with genl_op_known()
  EXPECT_FALSE(f.HasOp(34));     // RESOURCE_STATE is a notification
  EXPECT_FALSE(f.HasOp(2));      // 8.4's GET_STATUS
  EXPECT_EQ(f.GroupId("events"), 7u);
  EXPECT_EQ(f.GroupId("other"), std::nullopt);
  for (const CtrlOp& op : f.ops) {
    const CmdDesc* c = FindCmd(static_cast<uint8_t>(op.id));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(op.flags & kGenlCmdCapDump, c->kind == CmdKind::kDump ? kGenlCmdCapDump : 0u);
    EXPECT_EQ(op.flags & kGenlAdminPerm, c->kind == CmdKind::kDoit ? kGenlAdminPerm : 0u);
  }
}

TEST(GenlCtrl, NewFamilyRoundTrips) {
  FamilyInfo f = DrbdFamilyInfo(0x1c, 7);
  std::vector<uint8_t> bytes = EncodeNewFamily(f, 55, 4242);
  Result<NlHeader> h = PeekHeader(bytes);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->type, kGenlIdCtrl);
  EXPECT_EQ(h->seq, 55u);
  EXPECT_EQ(h->pid, 4242u);
  EXPECT_EQ(h->len, bytes.size());
  Result<FamilyInfo> back = DecodeNewFamily(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, f);
}

// A reply laid out as the kernel's ctrl_fill_info() does (id before name,
// nests without NLA_F_NESTED, attributes we do not use).
TEST(GenlCtrl, DecodesKernelStyleNewFamily) {
  Bytes b;
  b.U32(0).U16(0x10).U16(0).U32(8).U32(77);
  b.U8(1).U8(2).U16(0);
  b.Nla(6, 1).U16(0x1c).Align();                    // FAMILY_ID
  b.Nla(9, 2).Str("drbd").U8(0).Align();            // FAMILY_NAME
  b.Nla(8, 3).U32(2);                               // VERSION
  b.Nla(8, 4).U32(8);                               // HDRSIZE
  b.Nla(8, 5).U32(34);                              // MAXATTR
  b.Nla(4 + 20, 6).Nla(20, 1).Nla(8, 1).U32(5).Nla(8, 2).U32(0x0b);  // OPS {NEW_MINOR}
  b.Nla(4 + 24, 7).Nla(24, 1).Nla(8, 2).U32(9).Nla(11, 1).Str("events").U8(0).Align();
  b.Nla(8, 99).U32(0);                              // unknown: ignored
  b.PatchU32(0, static_cast<uint32_t>(b.size()));
  Result<FamilyInfo> f = DecodeNewFamily(b.vec());
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->id, 0x1c);
  EXPECT_EQ(f->name, "drbd");
  EXPECT_EQ(f->version, 2u);
  EXPECT_EQ(f->hdrsize, 8u);
  EXPECT_EQ(f->maxattr, 34u);
  ASSERT_EQ(f->ops.size(), 1u);
  EXPECT_EQ(f->ops[0], (CtrlOp{5, 0x0b}));
  EXPECT_EQ(f->GroupId("events"), 9u);
}

TEST(GenlCtrl, RejectsWhatIsNotAFamilyReply) {
  EXPECT_FALSE(DecodeNewFamily(EncodeGetFamily("drbd", 1, 0)).ok());
  EXPECT_FALSE(DecodeGetFamily(EncodeDone(1, 0)).ok());
  Bytes noid;
  noid.U32(0).U16(0x10).U16(0).U32(8).U32(77).U8(1).U8(2).U16(0);
  noid.Nla(9, 2).Str("drbd").U8(0).Align();
  noid.PatchU32(0, static_cast<uint32_t>(noid.size()));
  Result<FamilyInfo> f = DecodeNewFamily(noid.vec());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message, "CTRL_CMD_NEWFAMILY without CTRL_ATTR_FAMILY_ID");
}

}  // namespace
}  // namespace drbd::genl
