// SPDX-License-Identifier: GPL-2.0-or-later
// The data-path messages of the peer protocol (docs/formats/peer-protocol.md
// §3): round trips, a full-size chunk fits one frame, and the documented
// byte layout of DATA.
#include <gtest/gtest.h>

#include "sim/proto/wire.h"

namespace drbd::proto {
namespace {

TEST(PeerWireData, DataMessagesRoundTrip) {
  std::vector<Message> all = {
      Data{1, 42, 8192, kDataFua, std::vector<uint8_t>(kDataChunk, 0x5a)},
      RecvAck{1, 42},
      WriteAck{1, 42, false},
      Flush{0, 7},
      FlushAck{0, 7, true},
      ReadRequest{2, 9, 4096, kDataChunk},
      ReadReply{2, 9, true, {1, 2, 3}},
      Data{0, 43, 4096, kDataResync, std::vector<uint8_t>(4096, 0x11)},
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

TEST(PeerWireData, DataLayoutIsDocumented) {
  auto b = Encode(Data{1, 2, 512, kDataFua, {0xaa, 0xbb}});
  // clang-format off
  std::vector<uint8_t> want = {0x44, 0x53, 0x4d, 0x31, 0, 10, 0, 0, 0, 0, 0, 28,  // header
                               0, 0, 0, 1,                                       // volume
                               0, 0, 0, 0, 0, 0, 0, 2,                           // id
                               0, 0, 0, 0, 0, 0, 2, 0,                           // offset
                               0, 0, 0, 1,                                       // flags
                               0, 2, 0xaa, 0xbb};                                // data
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
