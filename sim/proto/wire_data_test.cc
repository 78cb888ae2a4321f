// SPDX-License-Identifier: GPL-2.0-or-later
// The data-path messages of the peer protocol (docs/formats/peer-protocol.md
// §3): round trips, a full-size chunk fits one frame, and the documented
// byte layout of DATA.
#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <variant>
#include <vector>

#include "sim/proto/wire.h"

namespace drbd::proto {
namespace {

TEST(PeerWireData, DataMessagesRoundTrip) {
  std::vector<Message> all = {
      Data{1, 42, 8192, kDataFua, 0, std::vector<uint8_t>(kDataChunk, 0x5a), 0x800},
      RecvAck{1, 42},
      WriteAck{1, 42, false},
      Flush{0, 7},
      FlushAck{0, 7, true},
      ReadRequest{2, 9, 4096, kDataChunk},
      ReadReply{2, 9, true, {1, 2, 3}},
      Data{0, 43, 4096, kDataResync, 0x5, std::vector<uint8_t>(4096, 0x11)},
      ResyncDone{3, 0x1122334455667788, 2, 32728},
      ResyncStart{3, 8182},
      ResyncCsum{3, 5, 8192, ResyncCsum::kDigest, 0x0102030405060708, false},
      ResyncCsum{3, 5, 8192, ResyncCsum::kAnswer, 0, true},
      Bitmap{3, false, {{0, 0xff}, {17, 1ull << 63}}},
      Bitmap{3, true, {}},
  };
  Decoder d;
  for (const Message& m : all) d.Feed(Encode(m));
  for (const Message& m : all) {
    auto got = d.Next();
    ASSERT_TRUE(got) << d.error();
    EXPECT_EQ(*got, m);
  }
  EXPECT_FALSE(d.Next());
  EXPECT_TRUE(d.error().empty());
}

// A stream whose reads never end on a frame boundary: every frame comes
// out intact, and the decoder holds at most a read plus one partial frame
// (it used to keep the whole stream until a read happened to end on a
// boundary).
TEST(PeerWireData, DecoderBufferStaysBoundedOnMisalignedStream) {
  std::vector<uint8_t> stream;
  const int kFrames = 200;
  for (int i = 0; i < kFrames; ++i) {
    auto f = Encode(Data{0, static_cast<uint64_t>(i), uint64_t{4096} * i, 0, 0,
                         std::vector<uint8_t>(kDataChunk, static_cast<uint8_t>(i))});
    stream.insert(stream.end(), f.begin(), f.end());
  }
  const size_t kRead = 65536 + 7;
  const size_t frame = stream.size() / kFrames;
  Decoder d;
  int got = 0;
  for (size_t pos = 0; pos < stream.size(); pos += kRead) {
    d.Feed(std::span<const uint8_t>(stream).subspan(pos, std::min(kRead, stream.size() - pos)));
    EXPECT_LE(d.buffered_bytes(), kRead + frame);
    while (auto m = d.Next()) {
      auto* dm = std::get_if<Data>(&*m);
      ASSERT_NE(dm, nullptr);
      EXPECT_EQ(dm->id, static_cast<uint64_t>(got));
      EXPECT_EQ(dm->data, std::vector<uint8_t>(kDataChunk, static_cast<uint8_t>(got)));
      ++got;
    }
    ASSERT_TRUE(d.error().empty()) << d.error();
  }
  EXPECT_EQ(got, kFrames);
}

// A large DATA frame arriving in pieces is taken field by field, its block
// data straight into the message (Decoder::StartData): whatever the piece
// boundaries (inside the header, inside the fields before the block data,
// inside the block data, several frames in one piece), the messages are
// those encoded, and a DATA frame whose block data length disagrees with
// the frame's is refused.
TEST(PeerWireData, LargeDataFramesDecodeWhateverThePieces) {
  std::vector<Message> all = {
      Data{1, 7, 8192, kDataResync, 0, std::vector<uint8_t>(kDataChunk, 0x5a)},
      Ping{},
      Data{2, 8, 0, kDataFua, 0, std::vector<uint8_t>(96 * 1024, 0x33)},
      Data{3, 9, 4096, 0, 0, std::vector<uint8_t>(4096, 0x44)},  // small: the plain path
      Data{4, 10, 0, 0, 0, std::vector<uint8_t>(kDataChunk, 0x66)},
  };
  std::vector<uint8_t> stream;
  for (const Message& m : all) {
    auto f = Encode(m);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (size_t piece : {size_t{1}, size_t{5}, size_t{13}, size_t{29}, size_t{4096},
                       size_t{65536 + 3}, size_t{3 * kDataChunk}}) {
    Decoder d;
    std::vector<Message> got;
    for (size_t pos = 0; pos < stream.size(); pos += piece) {
      d.Feed(std::span<const uint8_t>(stream).subspan(pos, std::min(piece, stream.size() - pos)));
      while (auto m = d.Next()) got.push_back(std::move(*m));
      ASSERT_TRUE(d.error().empty()) << d.error() << " piece " << piece;
    }
    EXPECT_EQ(got, all) << "piece " << piece;
  }
  // The block data's own length says one byte more than the frame holds.
  std::vector<uint8_t> bad = Encode(Data{1, 2, 0, 0, 0, std::vector<uint8_t>(kDataChunk, 1)});
  const size_t blob_len_at = kHeaderBytes + 4 + 8 + 8 + 4 + 8 + 8;
  bad[blob_len_at + 3] = static_cast<uint8_t>(bad[blob_len_at + 3] + 1);
  Decoder d;
  d.Feed(std::span<const uint8_t>(bad).subspan(0, 65536));
  EXPECT_FALSE(d.Next());
  EXPECT_EQ(d.error(), "undecodable frame of type 10");
}

// Encode reuses recycled frame buffers; what it writes into one is the
// same frame as into a fresh buffer, whatever the buffer held before.
TEST(PeerWireData, EncodeIntoRecycledBufferIsIdentical) {
  Data big{3, 9, 8192, kDataFua, 0, std::vector<uint8_t>(kDataChunk, 0x77)};
  std::vector<uint8_t> want = Encode(big);
  RecycleFrame(std::vector<uint8_t>(2 * kDataChunk, 0xee));
  RecycleFrame(std::vector<uint8_t>(100, 0xee));  // too small to keep
  EXPECT_EQ(Encode(big), want);
  Data small{3, 10, 0, 0, 0, std::vector<uint8_t>(kDataChunk / 2, 0x01)};
  RecycleFrame(Encode(big));
  std::vector<uint8_t> got = Encode(small);
  Decoder d;
  d.Feed(got);
  auto m = d.Next();
  ASSERT_TRUE(m) << d.error();
  EXPECT_EQ(*m, Message(small));
  EXPECT_EQ(d.buffered_bytes(), 0u);  // all consumed
}

// EncodeData frames block data from the caller's buffer: the same bytes
// as Encode of the Data that holds it, whatever the head's own data.
TEST(PeerWireData, EncodeDataFromSpanEqualsEncode) {
  std::vector<uint8_t> block(3 * kDataChunk);
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<uint8_t>(i * 7 + 3);
  for (size_t n : {size_t{0}, size_t{1}, size_t{4096}, size_t{kDataChunk}}) {
    std::span<const uint8_t> part = std::span<const uint8_t>(block).subspan(kDataChunk + 5, n);
    Data head{2, 77, 1 << 20, kDataFua, 0x3, {9, 9, 9}};
    Data full = head;
    full.data.assign(part.begin(), part.end());
    RecycleFrame(std::vector<uint8_t>(2 * kDataChunk, 0xee));
    EXPECT_EQ(EncodeData(head, part), Encode(full)) << n;
  }
}

// EncodedSize comes from the same field tables as Encode: it is the
// frame's length for every message type, lists and strings included.
TEST(PeerWireData, EncodedSizeIsTheFrameLength) {
  State st{1, {VolumeState{}, VolumeState{}}};
  st.volumes[1].bitmap_uuids = {{1, 2}, {3, 4}};
  st.volumes[1].history_uuids = {5, 6, 7};
  std::vector<Message> all = {
      Hello{1, 1, 0, 3, 4, "res"},
      AuthChallenge{std::vector<uint8_t>(64, 1)},
      AuthResponse{{}},
      Protocol{3, 1, 2, 0, true, false, "sha256"},
      st,
      Ping{},
      PingAck{},
      Disconnect{1},
      ResyncRequest{3, true, false},
      Verify{2, Verify::kBlocks, 7, 9, {1, 2, 3}},
      Data{1, 42, 8192, kDataFua, 0, std::vector<uint8_t>(kDataChunk, 0x5a), 0x800},
      RecvAck{1, 42},
      WriteAck{1, 42, false},
      Flush{0, 7},
      FlushAck{0, 7, true},
      ReadRequest{2, 9, 4096, kDataChunk},
      ReadReply{2, 9, true, {1, 2, 3}},
      ResyncDone{3, 1, 2, 3},
      ResyncStart{3, 8182},
      ResyncCsum{3, 5, 8192, ResyncCsum::kDigest, 8, false},
      Bitmap{3, false, {{0, 0xff}, {17, 1}}},
      OutOfSync{1, 4096, 512},
      Barrier{41},
      BarrierAck{41, 17},
      PeerAck{1, 77, 3, 0x5},
      TwoPcPrepare{2, 9},
      TwoPcReply{2, 9, 0x7, 0x1, ~uint64_t{0x3}},
      TwoPcCommit{2, 9, 0x7, 0x1, ~uint64_t{0x3}},
      PeersInSync{1, 8192, 4096, 0x5},
      PeerDagtag{2, 0x1234, PeerDagtag::kTarget, 0x1000},
  };
  ASSERT_EQ(all.size(), std::variant_size_v<Message>);
  for (const Message& m : all) {
    EXPECT_EQ(EncodedSize(m), Encode(m).size()) << MsgTypeName(TypeOf(m));
  }
}

TEST(PeerWireData, DataLayoutIsDocumented) {
  auto b = Encode(Data{1, 2, 512, kDataFua, 0x6, {0xaa, 0xbb}, 0x10});
  // clang-format off
  std::vector<uint8_t> want = {0x44, 0x53, 0x4d, 0x31, 0, 10, 0, 0, 0, 0, 0, 46,  // header
                               0, 0, 0, 1,                                       // volume
                               0, 0, 0, 0, 0, 0, 0, 2,                           // id
                               0, 0, 0, 0, 0, 0, 2, 0,                           // offset
                               0, 0, 0, 1,                                       // flags
                               0, 0, 0, 0, 0, 0, 0, 6,                           // in_sync
                               0, 0, 0, 0, 0, 0, 0, 0x10,                        // dagtag
                               0, 0, 0, 2, 0xaa, 0xbb};                          // data
  // clang-format on
  EXPECT_EQ(b, want);
  EXPECT_EQ(MsgTypeName(MsgType::kData), "Data");
}

TEST(PeerWireData, ResyncDoneLayoutIsDocumented) {
  auto b = Encode(ResyncDone{1, 0x0102030405060708, 3, 4096});
  // clang-format off
  std::vector<uint8_t> want = {0x44, 0x53, 0x4d, 0x31, 0, 17, 0, 0, 0, 0, 0, 24,  // header
                               0, 0, 0, 1,                                       // volume
                               1, 2, 3, 4, 5, 6, 7, 8,                           // current_uuid
                               0, 0, 0, 3,                                       // secs
                               0, 0, 0, 0, 0, 0, 0x10, 0};                       // kib
  // clang-format on
  EXPECT_EQ(b, want);
  EXPECT_EQ(MsgTypeName(MsgType::kResyncDone), "ResyncDone");
}

}  // namespace
}  // namespace drbd::proto
