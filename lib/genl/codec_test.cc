// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/genl/codec.h"

#include <gtest/gtest.h>

#include "lib/genl/test_util.h"

namespace drbd::genl {
namespace {

using testing::Bytes;
using testing::FillEveryField;

constexpr uint16_t kFamilyId = 0x1c;  // an arbitrary dynamic family id

// Header bytes: nlmsghdr (len patched later), genlmsghdr, drbd_genlmsghdr.
Bytes Header(uint16_t flags, uint32_t seq, uint8_t cmd, uint32_t minor, uint32_t drbd_flags) {
  Bytes b;
  b.U32(0).U16(kFamilyId).U16(flags).U32(seq).U32(0);  // nlmsghdr
  b.U8(cmd).U8(2).U16(0);                              // genlmsghdr
  b.U32(minor).U32(drbd_flags);                        // drbd_genlmsghdr
  return b;
}

Message Stamp(Message m, uint32_t seq) {
  m.nl.type = kFamilyId;
  m.nl.seq = seq;
  return m;
}

// `drbdsetup primary r0 --force` as drbd-utils 9.22 encodes it.
TEST(GenlCodec, PrimaryRequestMatchesHandBuiltBytes) {
  Bytes want = Header(kNlmFRequest, 7, 14, 0xFFFFFFFF, 0);
  want.Nla(12, 0x8000 | 2);           // CFG_CONTEXT, NLA_F_NESTED
  want.Nla(7, 0x4000 | 2).Str("r0").U8(0).Align();  // ctx_resource_name, mandatory bit
  want.Nla(12, 0x8000 | 6);           // SET_ROLE_PARMS
  want.Nla(5, 0x4000 | 1).U8(1).Align();  // force
  want.PatchU32(0, static_cast<uint32_t>(want.size()));
  ASSERT_EQ(want.size(), 52u);

  Message m = MakeRequest(Cmd::kPrimary);
  m.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, "r0");
  m.Get(Set::kSetRoleParms).PutFlag(attr::force, true);
  Result<std::vector<uint8_t>> got = Encode(Stamp(m, 7));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, want.vec());
}

// `drbdsetup attach 0 /dev/loop0 /dev/loop0 internal --on-io-error=detach
// --set-defaults`: minor in the header, required fields without the
// mandatory bit, SET_DEFAULTS flag.
TEST(GenlCodec, AttachRequestMatchesHandBuiltBytes) {
  Bytes want = Header(kNlmFRequest, 0x5f00, 12, 0, kFlagSetDefaults);
  want.Nla(4 + 16 + 16 + 8 + 8, 0x8000 | 3);              // DISK_CONF
  want.Nla(15, 1).Str("/dev/loop0").U8(0).Align();         // backing_dev
  want.Nla(15, 2).Str("/dev/loop0").U8(0).Align();         // meta_dev
  want.Nla(8, 3).U32(static_cast<uint32_t>(-1));           // meta_dev_idx
  want.Nla(8, 0x4000 | 6).U32(2);                          // on_io_error
  want.PatchU32(0, static_cast<uint32_t>(want.size()));

  Message m = MakeRequest(Cmd::kAttach);
  m.minor = 0;
  m.flags = kFlagSetDefaults;
  m.Get(Set::kDiskConf)
      .PutStr(attr::backing_dev, "/dev/loop0")
      .PutStr(attr::meta_dev, "/dev/loop0")
      .PutS32(attr::meta_dev_idx, -1)
      .PutU32(attr::on_io_error, 2);
  Result<std::vector<uint8_t>> got = Encode(Stamp(m, 0x5f00));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, want.vec());
}

// A dump request: NLM_F_REQUEST|NLM_F_DUMP (0x301), no TLA; and a u64 field
// of another request without the mandatory bit or NLA_F_NESTED.
TEST(GenlCodec, DumpAndPlainEncodingMatchHandBuiltBytes) {
  Bytes dump = Header(0x301, 9, 30, 0xFFFFFFFF, 0);
  dump.PatchU32(0, static_cast<uint32_t>(dump.size()));
  Result<std::vector<uint8_t>> got = Encode(Stamp(MakeRequest(Cmd::kGetResources), 9));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, dump.vec());

  Bytes resize = Header(kNlmFRequest, 10, 13, 3, 0);
  resize.Nla(16, 7).Nla(12, 1).U64(2048);  // RESIZE_PARMS{resize_size}
  resize.PatchU32(0, static_cast<uint32_t>(resize.size()));
  Message m = MakeRequest(Cmd::kResize);
  m.minor = 3;
  m.Get(Set::kResizeParms).PutU64(attr::resize_size, 2048);
  got = Encode(Stamp(m, 10), EncodeOptions{.mandatory_bit = false, .nested_flag = false});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, resize.vec());
}

Message Normalized(Message m) {
  m.nl.len = 0;
  return m;
}

// Every command of the table, with every field of every TLA it carries,
// survives Encode -> Decode, with and without the mandatory bit.
TEST(GenlCodec, EveryCommandRoundTripsWithEveryField) {
  int checked = 0;
  for (const CmdDesc& c : AllCmds()) {
    if (!(c.dialects & k9)) continue;
    for (bool mand : {true, false}) {
      Message m = MakeRequest(c.id);
      m.minor = c.nr;
      m.flags = c.nr & 1;
      for (const CmdTla& t : c.tlas) FillEveryField(m.Add(t.set), c.nr);
      Result<std::vector<uint8_t>> bytes =
          Encode(Stamp(m, 1000 + c.nr), EncodeOptions{.mandatory_bit = mand});
      ASSERT_TRUE(bytes.ok()) << c.name << ": " << bytes.error().message;
      DecodeStats stats;
      Result<Message> back = Decode(*bytes, DecodeOptions{kFamilyId}, &stats);
      ASSERT_TRUE(back.ok()) << c.name << ": " << back.error().message;
      EXPECT_EQ(Normalized(*back), Stamp(m, 1000 + c.nr)) << c.name;
      EXPECT_EQ(back->nl.len, bytes->size());
      EXPECT_EQ(stats.unknown_attrs + stats.unknown_tlas, 0);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2 * 45);  // DRBD 9: 38 ops + 7 notifications
}

TEST(GenlCodec, DecodedAttributesKeepWireTypeAndAccessors) {
  Message m = MakeRequest(Cmd::kNewPeer);
  m.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, "r0").PutU32(attr::ctx_peer_node_id, 1);
  m.Get(Set::kNetConf)
      .PutU32(attr::ping_int, 10)
      .PutS32(attr::tls_keyring, -5)
      .PutFlag(attr::two_primaries, false)
      .PutStr(attr::transport_name, "tcp");
  Result<std::vector<uint8_t>> bytes = Encode(Stamp(m, 1));
  ASSERT_TRUE(bytes.ok());
  Result<Message> d = Decode(*bytes);
  ASSERT_TRUE(d.ok()) << d.error().message;
  const Tla* net = d->Find(Set::kNetConf);
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->GetU32(attr::ping_int), 10u);
  EXPECT_EQ(net->GetS32(attr::tls_keyring), -5);
  EXPECT_EQ(net->GetFlag(attr::two_primaries), false);
  EXPECT_EQ(net->GetStr(attr::transport_name), "tcp");
  EXPECT_EQ(net->GetU32(attr::timeout), std::nullopt);
  EXPECT_EQ(net->Find(attr::ping_int)->wire_type, 0x4000 | 9);
  EXPECT_EQ(net->Find(attr::transport_name)->wire_type, 35);  // no mandatory bit
  // A key of another set never matches.
  EXPECT_EQ(net->GetU32(attr::ctx_peer_node_id), std::nullopt);
}

TEST(GenlCodec, KeepsEmptyTopLevelAttributes) {
  Bytes want = Header(kNlmFRequest, 4, 18, 2, 0);
  want.Nla(4, 0x8000 | 13);  // DETACH_PARMS without fields
  want.PatchU32(0, static_cast<uint32_t>(want.size()));
  Message m = MakeRequest(Cmd::kDetach);
  m.minor = 2;
  m.Get(Set::kDetachParms);
  Result<std::vector<uint8_t>> got = Encode(Stamp(m, 4));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, want.vec());
  Result<Message> back = Decode(*got);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->tlas.size(), 1u);
  EXPECT_TRUE(back->tlas[0].attrs.empty());
}

// ---- What the kernel sends ----

// PATH_PARMS as the kernel emits it: no NLA_F_NESTED, my_addr/peer_addr
// with type 0x4001/0x4002, the pair repeated per path; a type-0 pad before
// a u64; a CFG_REPLY repeated.
TEST(GenlCodec, DecodesKernelQuirks) {
  Bytes b = Header(kNlmFMulti, 3, 32, 0xFFFFFFFF, 101);
  b.Nla(4 + 4 * 20, 28);
  for (int path = 0; path < 2; ++path) {
    b.Nla(20, 0x4001).U16(2).U16(0x6c1e).U32(0x0100007f).Zeros(8);
    b.Nla(20, 0x4002).U16(2).U16(0x6d1e).U32(0x0100007f).Zeros(8);
  }
  b.Nla(4 + 4 + 12, 21).Nla(4, 0).Nla(12, 2).U64(77);  // CONNECTION_STATISTICS: pad, ap_in_flight
  b.Nla(4 + 8, 1).Nla(8, 1).Str("one").U8(0).Align();
  b.Nla(4 + 8, 1).Nla(8, 1).Str("two").U8(0).Align();
  b.PatchU32(0, static_cast<uint32_t>(b.size()));
  DecodeStats stats;
  Result<Message> m = Decode(b.vec(), {}, &stats);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->ret_code(), 101);
  const Tla* paths = m->Find(Set::kPathParms);
  ASSERT_NE(paths, nullptr);
  EXPECT_EQ(paths->FindAll(attr::my_addr).size(), 2u);
  EXPECT_EQ(paths->FindAll(attr::peer_addr).size(), 2u);
  EXPECT_EQ(paths->Find(attr::my_addr)->bytes.size(), 16u);
  EXPECT_EQ(m->Find(Set::kConnectionStatistics)->GetU64(attr::ap_in_flight), 77u);
  EXPECT_EQ(stats.pad_attrs, 1);
  std::vector<const Tla*> replies = m->FindAll(Set::kCfgReply);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[1]->GetStr(attr::info_text), "two");
}

// ---- Unknown attributes ----

Bytes NetConfWith(uint16_t extra_type, uint16_t tla_type = 0x8000 | 5) {
  Bytes b = Header(kNlmFRequest, 1, 29, 0xFFFFFFFF, 0);
  b.Nla(4 + 8 + 8, tla_type);
  b.Nla(8, 0x4000 | 9).U32(10);      // ping_int
  b.Nla(8, extra_type).U32(12345);   // the attribute under test
  b.PatchU32(0, static_cast<uint32_t>(b.size()));
  return b;
}

TEST(GenlCodec, IgnoresUnknownAttributeWithoutMandatoryBit) {
  for (uint16_t type : {uint16_t{200}, uint16_t{14}, uint16_t{0x8000 | 300}}) {  // beyond max, a hole, nested bit
    DecodeStats stats;
    Result<Message> m = Decode(NetConfWith(type).vec(), {}, &stats);
    ASSERT_TRUE(m.ok()) << type << ": " << m.error().message;
    EXPECT_EQ(stats.unknown_attrs, 1);
    EXPECT_EQ(m->Find(Set::kNetConf)->attrs.size(), 1u);
    EXPECT_EQ(m->Find(Set::kNetConf)->GetU32(attr::ping_int), 10u);
  }
  Result<Message> kept = Decode(NetConfWith(200).vec(), DecodeOptions{.keep_unknown = true});
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->Find(Set::kNetConf)->attrs.size(), 2u);
  EXPECT_EQ(kept->Find(Set::kNetConf)->attrs[1].nr, 200);
  EXPECT_EQ(kept->Find(Set::kNetConf)->attrs[1].bytes.size(), 4u);
}

TEST(GenlCodec, RejectsUnknownAttributeWithMandatoryBit) {
  Result<Message> m = Decode(NetConfWith(0x4000 | 200).vec());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kUnknownMandatory);
  EXPECT_EQ(m.error().message,
            "DRBD_NLA_NET_CONF: unknown attribute 200 carries the mandatory bit (type 0x40c8)");
  // A hole in the numbering counts as unknown too.
  m = Decode(NetConfWith(0x4000 | 14).vec());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kUnknownMandatory);
}

TEST(GenlCodec, UnknownTopLevelAttribute) {
  Bytes b = Header(kNlmFRequest, 1, 29, 0xFFFFFFFF, 0);
  b.Nla(12, 0x8000 | 99).Nla(8, 1).U32(1);
  b.PatchU32(0, static_cast<uint32_t>(b.size()));
  DecodeStats stats;
  Result<Message> m = Decode(b.vec(), {}, &stats);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->tlas.empty());
  EXPECT_EQ(stats.unknown_tlas, 1);

  Bytes bm = Header(kNlmFRequest, 1, 29, 0xFFFFFFFF, 0);
  bm.Nla(12, 0x4000 | 99).Nla(8, 1).U32(1);
  bm.PatchU32(0, static_cast<uint32_t>(bm.size()));
  m = Decode(bm.vec());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kUnknownMandatory);
}

// ---- Malformed input ----

struct BadCase {
  const char* name;
  std::vector<uint8_t> bytes;
  ErrorCode code;
  std::string message;
};

std::vector<BadCase> BadCases() {
  std::vector<BadCase> r;
  auto finish = [](Bytes b) {
    b.PatchU32(0, static_cast<uint32_t>(b.size()));
    return b.vec();
  };
  r.push_back({"short header", Bytes().U32(16).U16(kFamilyId).vec(), ErrorCode::kMalformed,
               "6 bytes are too short for a netlink header (16)"});
  {
    Bytes b = Header(0, 1, 14, 0, 0);
    b.PatchU32(0, 200);
    r.push_back({"truncated", b.vec(), ErrorCode::kMalformed,
                 "truncated message: nlmsg_len 200, 28 bytes present"});
  }
  {
    Bytes b;
    b.U32(24).U16(kFamilyId).U16(0).U32(0).U32(0).U8(14).U8(2).U16(0).U32(0);
    r.push_back({"no drbd header", b.vec(), ErrorCode::kMalformed,
                 "nlmsg_len 24 is too short for the genl and drbd headers (28)"});
  }
  {
    Bytes b;
    b.U32(20).U16(kNlmsgDone).U16(2).U32(0).U32(0).U32(0);
    r.push_back({"control message", b.vec(), ErrorCode::kMalformed,
                 "netlink control message (type 3), not a drbd message"});
  }
  {
    Bytes b = Header(0, 1, 14, 0, 0);
    b.Nla(2, 6);
    r.push_back({"nla_len below 4", finish(b), ErrorCode::kMalformed,
                 "4 bytes after the last top-level attribute are not an attribute"});
  }
  {
    Bytes b = Header(0, 1, 14, 0, 0);
    b.Nla(40, 6).Nla(5, 1).U8(1).Align();
    r.push_back({"nest past the end", finish(b), ErrorCode::kMalformed,
                 "12 bytes after the last top-level attribute are not an attribute"});
  }
  {
    Bytes b = Header(0, 1, 14, 0, 0);
    b.Nla(12, 6).Nla(5, 1).U8(1).Align().U16(0);
    r.push_back({"trailing bytes", finish(b), ErrorCode::kMalformed,
                 "2 bytes after the last top-level attribute are not an attribute"});
  }
  {
    Bytes b = Header(0, 1, 14, 0, 0);
    b.Nla(4 + 12, 6).Nla(5, 1).U8(1).Align().U32(0x00ff0003);
    r.push_back({"garbage inside a nest", finish(b), ErrorCode::kMalformed,
                 "DRBD_NLA_SET_ROLE_PARMS: 4 bytes that are not an attribute"});
  }
  {
    Bytes b = Header(0, 1, 29, 0, 0);
    b.Nla(12, 5).Nla(6, 9).U16(10).Align();
    r.push_back({"short u32", finish(b), ErrorCode::kBadAttribute,
                 "DRBD_NLA_NET_CONF/ping_int (attr 9): a 32-bit number needs 4 bytes, got 2"});
  }
  {
    Bytes b = Header(0, 1, 13, 0, 0);
    b.Nla(12, 7).Nla(8, 1).U32(1);
    r.push_back({"short u64", finish(b), ErrorCode::kBadAttribute,
                 "DRBD_NLA_RESIZE_PARMS/resize_size (attr 1): a 64-bit number needs 8 bytes, got 4"});
  }
  {
    Bytes b = Header(0, 1, 14, 0, 0);
    b.Nla(8, 6).Nla(4, 1);
    r.push_back({"empty flag", finish(b), ErrorCode::kBadAttribute,
                 "DRBD_NLA_SET_ROLE_PARMS/force (attr 1): a flag needs 1 byte, got 0"});
  }
  {
    Bytes b = Header(0, 1, 14, 0, 0);
    b.Nla(12, 2).Nla(6, 2).Str("r0").Align();
    r.push_back({"string without NUL", finish(b), ErrorCode::kBadAttribute,
                 "DRBD_NLA_CFG_CONTEXT/ctx_resource_name (attr 2): string is not NUL-terminated"});
  }
  {
    Bytes b = Header(0, 1, 14, 0, 0);
    b.Nla(4 + 136, 2).Nla(4 + 129, 2).Str(std::string(128, 'x')).U8(0).Align();
    r.push_back({"string too long", finish(b), ErrorCode::kBadAttribute,
                 "DRBD_NLA_CFG_CONTEXT/ctx_resource_name (attr 2): string longer than 127 bytes"});
  }
  {
    Bytes b = Header(0, 1, 45, 0, 0);
    b.Nla(4 + 4 + 132, 28).Nla(4 + 129, 1).Zeros(129).Align();
    r.push_back({"binary too long", finish(b), ErrorCode::kBadAttribute,
                 "DRBD_NLA_PATH_PARMS/my_addr (attr 1): 129 bytes exceed the maximum of 128"});
  }
  return r;
}

TEST(GenlCodec, RejectsMalformedMessagesWithClearErrors) {
  for (const BadCase& c : BadCases()) {
    Result<Message> m = Decode(c.bytes);
    ASSERT_FALSE(m.ok()) << c.name;
    EXPECT_EQ(m.error().code, c.code) << c.name;
    EXPECT_EQ(m.error().message, c.message) << c.name;
    EXPECT_EQ(m.error().exit_code(), ExitCode::kExecError);
  }
}

TEST(GenlCodec, DecodesAtAnyAlignment) {
  Message m = MakeRequest(Cmd::kChgPeerDeviceOpts);
  FillEveryField(m.Get(Set::kPeerDeviceOpts), 3);
  Result<std::vector<uint8_t>> bytes = Encode(Stamp(m, 5));
  ASSERT_TRUE(bytes.ok());
  std::vector<uint8_t> shifted(bytes->size() + 1);
  std::memcpy(shifted.data() + 1, bytes->data(), bytes->size());
  Result<Message> d = Decode(std::span<const uint8_t>(shifted).subspan(1));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(Normalized(*d), Stamp(m, 5));
}

TEST(GenlCodec, RejectsFamilyMismatch) {
  Result<std::vector<uint8_t>> bytes = Encode(Stamp(MakeRequest(Cmd::kDown), 1));
  ASSERT_TRUE(bytes.ok());
  Result<Message> d = Decode(*bytes, DecodeOptions{.family_id = 0x33});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, "message of family 28, expected 51");
}

// ---- Encoder refusals ----

TEST(GenlCodec, EncoderRefusesValuesThatDoNotFit) {
  Message m = MakeRequest(Cmd::kNewResource);
  m.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, std::string(128, 'r'));
  Result<std::vector<uint8_t>> r = Encode(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kEncode);
  EXPECT_EQ(r.error().message,
            "DRBD_NLA_CFG_CONTEXT/ctx_resource_name (attr 2): string of 128 bytes exceeds the "
            "maximum of 127");

  Message wrong_set = MakeRequest(Cmd::kNewResource);
  wrong_set.Get(Set::kResourceOpts).PutU32(attr::ping_int, 1);
  r = Encode(wrong_set);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "DRBD_NLA_RESOURCE_OPTS: attribute key of another set");

  Message wrong_type = MakeRequest(Cmd::kNewResource);
  wrong_type.Get(Set::kResourceOpts).PutU64(attr::node_id, 1);
  r = Encode(wrong_type);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "DRBD_NLA_RESOURCE_OPTS/node_id (attr 4): value of type u64, field is u32");

  Message nul = MakeRequest(Cmd::kNewResource);
  nul.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, std::string("a\0b", 3));
  EXPECT_FALSE(Encode(nul).ok());
}

// ---- Server side ----

TEST(GenlServer, ReplyDoneAndAckFrames) {
  Message req = Stamp(MakeRequest(Cmd::kGetDevices), 77);
  req.nl.pid = 4242;
  req.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, "r0");
  Message rep = MakeReply(req, 101);
  EXPECT_EQ(rep.nl.flags, kNlmFMulti);
  EXPECT_EQ(rep.nl.seq, 77u);
  EXPECT_EQ(rep.nl.pid, 4242u);
  EXPECT_EQ(rep.cmd, 31);
  EXPECT_EQ(rep.ret_code(), 101);
  ASSERT_NE(rep.Find(Set::kCfgContext), nullptr);

  std::vector<uint8_t> datagram = *Encode(rep);
  std::vector<uint8_t> done = EncodeDone(77, 4242);
  datagram.insert(datagram.end(), done.begin(), done.end());
  Result<std::vector<Frame>> frames = Split(datagram);
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 2u);
  EXPECT_EQ((*frames)[1].hdr, (NlHeader{20, kNlmsgDone, kNlmFMulti, 77, 4242}));
  EXPECT_EQ(Bytes().U32(20).U16(3).U16(2).U32(77).U32(4242).U32(0).vec(), done);

  std::vector<uint8_t> err = EncodeNlError(req.nl, -2);
  Result<std::vector<Frame>> ef = Split(err);
  ASSERT_TRUE(ef.ok());
  Result<NlError> e = DecodeNlError((*ef)[0]);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->error, -2);
  EXPECT_EQ(e->request.seq, 77u);
  EXPECT_EQ(e->request.type, kFamilyId);

  Message doit = Stamp(MakeRequest(Cmd::kPrimary), 3);
  EXPECT_EQ(MakeReply(doit, 1).nl.flags, 0);
}

TEST(GenlServer, SplitRejectsBadLengths) {
  std::vector<uint8_t> done = EncodeDone(1, 0);
  std::vector<uint8_t> bad = done;
  bad.push_back(0);
  EXPECT_FALSE(Split(bad).ok());
  bad = done;
  bad[0] = 8;  // nlmsg_len below the header size
  EXPECT_FALSE(Split(bad).ok());
  EXPECT_TRUE(Split({}).ok());
}

TEST(GenlCodec, DescribeNamesEverything) {
  Message m = MakeRequest(Cmd::kPrimary);
  m.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, "r0");
  m.Get(Set::kSetRoleParms).PutFlag(attr::force, true);
  EXPECT_EQ(Describe(m),
            "DRBD_ADM_PRIMARY minor=-1 flags=0x0 DRBD_NLA_CFG_CONTEXT{ctx_resource_name=\"r0\"} "
            "DRBD_NLA_SET_ROLE_PARMS{force=1}");
}

}  // namespace
}  // namespace drbd::genl
