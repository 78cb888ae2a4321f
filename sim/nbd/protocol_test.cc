// SPDX-License-Identifier: GPL-2.0-or-later
// The NBD server codec against the spec (NetworkBlockDevice/nbd
// doc/proto.md): handshake bytes, option replies, request validation and
// the errors malformed or out-of-range requests get.
#include "sim/nbd/protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace drbd::nbd {
namespace {

class FakeCatalog : public ExportCatalog {
 public:
  std::vector<Export> List() override { return {disk}; }
  uint32_t Lookup(std::string_view name, bool open, Export* out, std::string* why) override {
    if (name != "" && name != disk.name) {
      *why = "no such export";
      return kRepErrUnknown;
    }
    if (open) ++opens;
    *out = disk;
    return kRepAck;
  }
  Export disk{"drbd0", "r0/0", 1 << 20, false};
  int opens = 0;
};

struct Bytes {
  std::vector<uint8_t> v;
  Bytes& U16(uint16_t x) {
    v.push_back(static_cast<uint8_t>(x >> 8));
    v.push_back(static_cast<uint8_t>(x));
    return *this;
  }
  Bytes& U32(uint32_t x) {
    return U16(static_cast<uint16_t>(x >> 16)).U16(static_cast<uint16_t>(x));
  }
  Bytes& U64(uint64_t x) {
    return U32(static_cast<uint32_t>(x >> 32)).U32(static_cast<uint32_t>(x));
  }
  Bytes& Str(std::string_view s) {
    v.insert(v.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& Raw(const std::vector<uint8_t>& b) {
    v.insert(v.end(), b.begin(), b.end());
    return *this;
  }
};

Bytes Option(uint32_t opt, const std::vector<uint8_t>& data) {
  return Bytes().U64(kOptMagic).U32(opt).U32(static_cast<uint32_t>(data.size())).Raw(data);
}
std::vector<uint8_t> GoData(std::string_view name, std::vector<uint16_t> infos = {}) {
  Bytes b;
  b.U32(static_cast<uint32_t>(name.size())).Str(name).U16(static_cast<uint16_t>(infos.size()));
  for (uint16_t i : infos) b.U16(i);
  return b.v;
}
Bytes Req(Cmd cmd, uint16_t flags, uint64_t cookie, uint64_t off, uint32_t len) {
  return Bytes()
      .U32(kRequestMagic)
      .U16(flags)
      .U16(static_cast<uint16_t>(cmd))
      .U64(cookie)
      .U64(off)
      .U32(len);
}

// One parsed option reply.
struct OptRep {
  uint32_t opt, type;
  std::vector<uint8_t> data;
};
std::vector<OptRep> ParseOptReplies(const std::vector<uint8_t>& o) {
  auto g32 = [&](size_t p) {
    return (uint32_t{o[p]} << 24) | (uint32_t{o[p + 1]} << 16) | (uint32_t{o[p + 2]} << 8) |
           o[p + 3];
  };
  std::vector<OptRep> out;
  size_t p = 0;
  while (p + 20 <= o.size()) {
    uint64_t magic = (uint64_t{g32(p)} << 32) | g32(p + 4);
    EXPECT_EQ(magic, kOptReplyMagic);
    OptRep r{g32(p + 8), g32(p + 12), {}};
    uint32_t len = g32(p + 16);
    r.data.assign(o.begin() + static_cast<ptrdiff_t>(p + 20),
                  o.begin() + static_cast<ptrdiff_t>(p + 20 + len));
    out.push_back(r);
    p += 20 + len;
  }
  EXPECT_EQ(p, o.size());
  return out;
}

class NbdSession : public ::testing::Test {
 protected:
  NbdSession() : s(&cat) {}
  void Feed(const Bytes& b) { s.Feed(b.v); }
  void Handshake(bool read_only = false) {
    cat.disk.read_only = read_only;
    Feed(Bytes().U32(kClientFlagFixedNewstyle | kClientFlagNoZeroes));
    Feed(Option(kOptGo, GoData("drbd0")));
    EXPECT_FALSE(s.Next());
    ASSERT_EQ(s.phase(), Phase::kTransmission);
    s.TakeOutput();
  }
  FakeCatalog cat;
  ServerSession s;
};

TEST_F(NbdSession, GreetingIsFixedNewstyleWithNoZeroes) {
  std::vector<uint8_t> want = Bytes().Str("NBDMAGIC").Str("IHAVEOPT").U16(3).v;
  EXPECT_EQ(s.Greeting(), want);
}

TEST_F(NbdSession, GoRepliesExportInfoBlockSizeAndAck) {
  Feed(Bytes().U32(kClientFlagFixedNewstyle | kClientFlagNoZeroes));
  Feed(Option(kOptGo, GoData("drbd0", {kInfoName, kInfoDescription, kInfoBlockSize})));
  EXPECT_FALSE(s.Next());
  auto reps = ParseOptReplies(s.TakeOutput());
  ASSERT_EQ(reps.size(), 5u);
  EXPECT_EQ(reps[0].type, kRepInfo);
  EXPECT_EQ(reps[0].data, Bytes().U16(kInfoExport).U64(1 << 20).U16(0x6d).v);
  EXPECT_EQ(reps[1].data, Bytes().U16(kInfoBlockSize).U32(512).U32(4096).U32(32 << 20).v);
  EXPECT_EQ(reps[2].data, Bytes().U16(kInfoName).Str("drbd0").v);
  EXPECT_EQ(reps[3].data, Bytes().U16(kInfoDescription).Str("r0/0").v);
  EXPECT_EQ(reps[4].type, kRepAck);
  EXPECT_EQ(reps[4].opt, kOptGo);
  EXPECT_EQ(s.phase(), Phase::kTransmission);
  EXPECT_EQ(cat.opens, 1);
}

TEST_F(NbdSession, InfoDoesNotOpenOrEnterTransmission) {
  Feed(Bytes().U32(kClientFlagFixedNewstyle));
  Feed(Option(kOptInfo, GoData("")));
  EXPECT_FALSE(s.Next());
  EXPECT_EQ(ParseOptReplies(s.TakeOutput()).back().type, kRepAck);
  EXPECT_EQ(s.phase(), Phase::kOptions);
  EXPECT_EQ(cat.opens, 0);
}

TEST_F(NbdSession, GoOnUnknownExportIsErrUnknownWithText) {
  Feed(Bytes().U32(kClientFlagFixedNewstyle));
  Feed(Option(kOptGo, GoData("nope")));
  EXPECT_FALSE(s.Next());
  auto reps = ParseOptReplies(s.TakeOutput());
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].type, kRepErrUnknown);
  EXPECT_EQ(std::string(reps[0].data.begin(), reps[0].data.end()), "no such export");
  EXPECT_EQ(s.phase(), Phase::kOptions);
}

TEST_F(NbdSession, ExportNameSendsSizeFlagsAndZeroesUnlessNoZeroes) {
  Feed(Bytes().U32(kClientFlagFixedNewstyle));
  Feed(Option(kOptExportName, Bytes().Str("drbd0").v));
  EXPECT_FALSE(s.Next());
  std::vector<uint8_t> want = Bytes().U64(1 << 20).U16(0x6d).v;
  want.insert(want.end(), 124, 0);
  EXPECT_EQ(s.TakeOutput(), want);
  EXPECT_EQ(s.phase(), Phase::kTransmission);
}

TEST_F(NbdSession, ExportNameOfUnknownExportHangsUp) {
  Feed(Bytes().U32(kClientFlagFixedNewstyle | kClientFlagNoZeroes));
  Feed(Option(kOptExportName, Bytes().Str("nope").v));
  EXPECT_FALSE(s.Next());
  EXPECT_EQ(s.phase(), Phase::kClosed);
  EXPECT_TRUE(s.TakeOutput().empty());
}

TEST_F(NbdSession, ListNamesEveryExportThenAcks) {
  Feed(Bytes().U32(kClientFlagFixedNewstyle));
  Feed(Option(kOptList, {}));
  Feed(Option(kOptList, {1}));
  EXPECT_FALSE(s.Next());
  auto reps = ParseOptReplies(s.TakeOutput());
  ASSERT_EQ(reps.size(), 3u);
  EXPECT_EQ(reps[0].type, kRepServer);
  EXPECT_EQ(reps[0].data, Bytes().U32(5).Str("drbd0").Str("r0/0").v);
  EXPECT_EQ(reps[1].type, kRepAck);
  EXPECT_EQ(reps[2].type, kRepErrInvalid);
}

TEST_F(NbdSession, AbortIsAckedAndCloses) {
  Feed(Bytes().U32(kClientFlagFixedNewstyle));
  Feed(Option(kOptAbort, {}));
  EXPECT_FALSE(s.Next());
  auto reps = ParseOptReplies(s.TakeOutput());
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].type, kRepAck);
  EXPECT_EQ(s.phase(), Phase::kClosed);
  EXPECT_EQ(s.close_reason(), "abort");
}

TEST_F(NbdSession, UnsupportedOptionsAreErrUnsup) {
  Feed(Bytes().U32(kClientFlagFixedNewstyle));
  Feed(Option(kOptStructuredReply, {}));
  Feed(Option(kOptStartTls, {}));
  Feed(Option(12345, {1, 2, 3}));
  EXPECT_FALSE(s.Next());
  auto reps = ParseOptReplies(s.TakeOutput());
  ASSERT_EQ(reps.size(), 3u);
  for (const OptRep& r : reps) EXPECT_EQ(r.type, kRepErrUnsup);
  EXPECT_EQ(reps[2].opt, 12345u);
}

TEST_F(NbdSession, MalformedGoIsErrInvalid) {
  Feed(Bytes().U32(kClientFlagFixedNewstyle));
  Feed(Option(kOptGo, Bytes().U32(100).Str("x").U16(0).v));  // name longer than data
  Feed(Option(kOptGo, Bytes().U32(0).U16(2).U16(1).v));      // 2 infos, 1 present
  Feed(Option(kOptGo, {0, 0}));                              // too short
  EXPECT_FALSE(s.Next());
  auto reps = ParseOptReplies(s.TakeOutput());
  ASSERT_EQ(reps.size(), 3u);
  for (const OptRep& r : reps) EXPECT_EQ(r.type, kRepErrInvalid);
  EXPECT_EQ(s.phase(), Phase::kOptions);
}

TEST_F(NbdSession, OversizedOptionIsSkippedByteByByteThenTooBig) {
  Feed(Bytes().U32(kClientFlagFixedNewstyle));
  std::vector<uint8_t> big(kMaxOptionBytes + 100, 'x');
  Bytes all = Option(kOptInfo, big);
  all.Raw(Option(kOptInfo, GoData("drbd0")).v);
  for (uint8_t b : all.v) {
    s.Feed(std::span<const uint8_t>(&b, 1));
    EXPECT_FALSE(s.Next());
  }
  auto reps = ParseOptReplies(s.TakeOutput());
  ASSERT_GE(reps.size(), 2u);
  EXPECT_EQ(reps[0].type, kRepErrTooBig);
  EXPECT_EQ(reps.back().type, kRepAck);
}

TEST_F(NbdSession, UnknownClientFlagsOrBadOptionMagicHangUp) {
  Feed(Bytes().U32(0x80));
  EXPECT_FALSE(s.Next());
  EXPECT_EQ(s.phase(), Phase::kClosed);

  ServerSession s2(&cat);
  s2.Feed(Bytes().U32(1).U64(0x1234).U32(7).U32(0).v);
  EXPECT_FALSE(s2.Next());
  EXPECT_EQ(s2.close_reason(), "bad option magic");
}

// ---- transmission ----------------------------------------------------------

TEST_F(NbdSession, WriteArrivesWholeEvenWhenSplit) {
  Handshake();
  Bytes b = Req(Cmd::kWrite, kCmdFlagFua, 7, 4096, 1024);
  b.v.insert(b.v.end(), 1024, 0xab);
  for (size_t i = 0; i < b.v.size(); i += 100) {
    EXPECT_FALSE(s.Next());
    s.Feed(std::span<const uint8_t>(b.v).subspan(i, std::min<size_t>(100, b.v.size() - i)));
  }
  auto r = s.Next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cmd, Cmd::kWrite);
  EXPECT_EQ(r->cookie, 7u);
  EXPECT_EQ(r->offset, 4096u);
  EXPECT_TRUE(r->fua());
  EXPECT_EQ(r->data, std::vector<uint8_t>(1024, 0xab));
  EXPECT_TRUE(s.TakeOutput().empty());
}

// A client streaming 64 KiB writes whose reads never end on a request
// boundary: each write arrives whole, and the session holds at most a
// read plus one partial request (it used to keep the whole stream until a
// read happened to end on a boundary).
TEST_F(NbdSession, BufferStaysBoundedWhenStreamingWrites) {
  Handshake();
  const uint32_t kLen = 65536;
  const int kWrites = 64;
  std::vector<uint8_t> stream;
  for (int i = 0; i < kWrites; ++i) {
    Bytes b = Req(Cmd::kWrite, 0, static_cast<uint64_t>(i), uint64_t{kLen} * (i % 16), kLen);
    b.v.insert(b.v.end(), kLen, static_cast<uint8_t>(i));
    stream.insert(stream.end(), b.v.begin(), b.v.end());
  }
  const size_t kRead = 100000;
  int got = 0;
  for (size_t pos = 0; pos < stream.size(); pos += kRead) {
    s.Feed(std::span<const uint8_t>(stream).subspan(pos, std::min(kRead, stream.size() - pos)));
    EXPECT_LE(s.buffered_bytes(), kRead + 28 + kLen);
    while (auto r = s.Next()) {
      EXPECT_EQ(r->cookie, static_cast<uint64_t>(got));
      EXPECT_EQ(r->data, std::vector<uint8_t>(kLen, static_cast<uint8_t>(got)));
      ++got;
    }
  }
  EXPECT_EQ(got, kWrites);
  EXPECT_TRUE(s.TakeOutput().empty());
}

// A large WRITE whose data comes in pieces takes it straight from Feed:
// whatever the piece boundaries, each write comes out whole and in order,
// and a large write refused (here beyond the export's end) is answered
// only once its data has been consumed, after which the next request is
// found.
TEST_F(NbdSession, LargeWritesInPiecesComeOutWhole) {
  const uint32_t kLen = 256 * 1024;
  std::vector<uint8_t> stream;
  auto add = [&](Cmd cmd, uint64_t cookie, uint64_t off, uint32_t len, bool with_data) {
    Bytes b = Req(cmd, 0, cookie, off, len);
    if (with_data) b.v.insert(b.v.end(), len, static_cast<uint8_t>(cookie));
    stream.insert(stream.end(), b.v.begin(), b.v.end());
  };
  add(Cmd::kWrite, 1, 0, kLen, true);
  add(Cmd::kRead, 2, 0, 4096, false);
  add(Cmd::kWrite, 3, (1 << 20) - 4096, kLen, true);  // beyond the end: ENOSPC
  add(Cmd::kWrite, 4, kLen, kLen, true);
  add(Cmd::kWrite, 5, 4096, 4096, true);  // small: the plain path
  for (size_t piece : {size_t{1}, size_t{7}, size_t{28}, size_t{4096}, size_t{65536 + 5},
                       stream.size()}) {
    s = ServerSession(&cat);
    Handshake();
    std::vector<uint64_t> cookies;
    for (size_t pos = 0; pos < stream.size(); pos += piece) {
      s.Feed(std::span<const uint8_t>(stream).subspan(pos, std::min(piece, stream.size() - pos)));
      while (auto r = s.Next()) {
        cookies.push_back(r->cookie);
        if (r->cmd == Cmd::kWrite) {
          EXPECT_EQ(r->data, std::vector<uint8_t>(r->length, static_cast<uint8_t>(r->cookie)));
        }
      }
    }
    EXPECT_EQ(cookies, (std::vector<uint64_t>{1, 2, 4, 5})) << "piece " << piece;
    EXPECT_EQ(s.TakeOutput(), EncodeSimpleReply(3, kEnospc)) << "piece " << piece;
    EXPECT_EQ(s.phase(), Phase::kTransmission);
  }
}

TEST_F(NbdSession, InvalidRequestsGetTheSpecsErrors) {
  Handshake();
  Feed(Req(static_cast<Cmd>(99), 0, 1, 0, 512));       // unknown command
  Feed(Req(Cmd::kRead, kCmdFlagFua, 2, 0, 512));       // FUA on READ
  Feed(Req(Cmd::kRead, 0, 3, 100, 512));               // unaligned
  Feed(Req(Cmd::kRead, 0, 4, (1 << 20) - 512, 1024));  // beyond the end
  Bytes w = Req(Cmd::kWrite, 0, 5, 1 << 20, 512);      // write beyond the end
  w.v.insert(w.v.end(), 512, 1);
  Feed(w);
  Feed(Req(Cmd::kFlush, 0, 6, 0, 512));            // flush with a length
  Feed(Req(Cmd::kTrim, 0, 7, ~0ull - 511, 1024));  // offset + length wraps
  Feed(Req(Cmd::kRead, 0, 8, 0, 0));               // empty read: success
  Feed(Req(Cmd::kRead, 0, 9, 0, 512));             // valid
  auto r = s.Next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cookie, 9u);
  std::vector<uint8_t> want;
  for (auto [cookie, err] : std::vector<std::pair<uint64_t, uint32_t>>{{1, kEinval},
                                                                       {2, kEinval},
                                                                       {3, kEinval},
                                                                       {4, kEinval},
                                                                       {5, kEnospc},
                                                                       {6, kEinval},
                                                                       {7, kEinval},
                                                                       {8, 0}}) {
    auto rep = EncodeSimpleReply(cookie, err);
    want.insert(want.end(), rep.begin(), rep.end());
  }
  EXPECT_EQ(s.TakeOutput(), want);
}

TEST_F(NbdSession, ReadOnlyExportRefusesWritesWithEperm) {
  Handshake(true);
  Bytes w = Req(Cmd::kWrite, 0, 1, 0, 512);
  w.v.insert(w.v.end(), 512, 1);
  Feed(w);
  Feed(Req(Cmd::kTrim, 0, 2, 0, 512));
  Feed(Req(Cmd::kRead, 0, 3, 0, 512));
  auto r = s.Next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cmd, Cmd::kRead);
  auto a = EncodeSimpleReply(1, kEperm), b = EncodeSimpleReply(2, kEperm);
  a.insert(a.end(), b.begin(), b.end());
  EXPECT_EQ(s.TakeOutput(), a);
}

TEST_F(NbdSession, BadRequestMagicOrHugeWriteHangsUp) {
  Handshake();
  Feed(Bytes().U32(0xdeadbeef).U16(0).U16(0).U64(0).U64(0).U32(0));
  EXPECT_FALSE(s.Next());
  EXPECT_EQ(s.close_reason(), "bad request magic");

  ServerSession s2(&cat);
  s2.Feed(Bytes().U32(3).v);
  s2.Feed(Option(kOptGo, GoData("")).v);
  EXPECT_FALSE(s2.Next());
  s2.Feed(Req(Cmd::kWrite, 0, 1, 0, kMaxPayload + 512).v);
  EXPECT_FALSE(s2.Next());
  EXPECT_EQ(s2.close_reason(), "write payload too large");
}

TEST_F(NbdSession, DiscIsReturnedAndCloses) {
  Handshake();
  Feed(Req(Cmd::kDisc, 0, 1, 0, 0));
  Feed(Req(Cmd::kRead, 0, 2, 0, 512));
  auto r = s.Next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cmd, Cmd::kDisc);
  EXPECT_EQ(s.phase(), Phase::kClosed);
  EXPECT_FALSE(s.Next());
}

TEST(NbdReply, SimpleReplyLayout) {
  std::vector<uint8_t> data = {1, 2};
  EXPECT_EQ(
      EncodeSimpleReply(0x0102030405060708ull, 0, data),
      (std::vector<uint8_t>{0x67, 0x44, 0x66, 0x98, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2}));
  EXPECT_EQ(EncodeSimpleReply(1, kEio, data).size(), 16u);  // no payload with an error
}

}  // namespace
}  // namespace drbd::nbd
