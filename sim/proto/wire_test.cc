// SPDX-License-Identifier: GPL-2.0-or-later
// Tests of the drbd-simd peer protocol codec and its HMAC.
#include "sim/proto/wire.h"

#include <gtest/gtest.h>

namespace drbd::proto {
namespace {

TEST(PeerWire, HelloMatchesTheDocumentedExample) {
  Hello h;
  h.sender_node_id = 0;
  h.receiver_node_id = 1;
  h.resource = "r0";
  std::vector<uint8_t> want = {0x44, 0x53, 0x4d, 0x31, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                               0x14, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                               0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x72, 0x30};
  EXPECT_EQ(Encode(h), want);
}

TEST(PeerWire, EveryMessageRoundTripsThroughBytewiseFeeding) {
  State st;
  st.role = 1;
  VolumeState v;
  v.volume = 7;
  v.disk = 9;
  v.size_sectors = 65456;
  v.current_uuid = 0x7B9EB2DFFE927559ull;
  v.uuid_flags = 0x20;
  v.bitmap_uuids = {{1, 0x1234}};
  v.history_uuids = {0x55, 0x66};
  v.dirty_bits = 768;
  v.verify_marks = 2;
  v.resync_susp = 3;
  v.quorum = false;
  v.repl = 14;
  v.weak_nodes = 0xFFFFFFFFFFFFFFFAull;
  v.peer_disk = 4;
  v.exposed_uuid = 0x1234567890ABCDEFull;
  v.crash_marks = true;
  st.volumes.push_back(v);
  std::vector<Message> msgs = {Hello{1, 1, 0, 3, 4, "res"},
                               AuthChallenge{std::vector<uint8_t>(64, 0xab)},
                               AuthResponse{std::vector<uint8_t>(20, 0x01)},
                               Protocol{3, 1, 2, 0, true, false, "sha1"},
                               st,
                               Ping{},
                               PingAck{},
                               Disconnect{0},
                               ResyncRequest{3, true, true},
                               Verify{2, Verify::kBlocks, 7, 9, {1, 2, 3}},
                               OutOfSync{1, 1u << 20, 65536},
                               Barrier{41},
                               BarrierAck{41, 17},
                               PeerAck{1, 77, 3, 0x5},
                               TwoPcPrepare{2, 9},
                               TwoPcReply{2, 9, 0x7, 0x1, ~uint64_t{0x3}},
                               TwoPcCommit{2, 9, 0x7, 0x1, ~uint64_t{0x3}}};
  std::vector<uint8_t> stream;
  for (const Message& m : msgs) {
    auto b = Encode(m);
    stream.insert(stream.end(), b.begin(), b.end());
  }
  Decoder d;
  std::vector<Message> got;
  for (uint8_t byte : stream) {
    d.Feed(std::span<const uint8_t>(&byte, 1));
    while (auto m = d.Next()) got.push_back(*m);
  }
  EXPECT_TRUE(d.error().empty());
  EXPECT_EQ(got, msgs);
}

TEST(PeerWire, BadMagicBreaksTheStream) {
  auto b = Encode(Ping{});
  b[0] ^= 1;
  Decoder d;
  d.Feed(b);
  EXPECT_FALSE(d.Next().has_value());
  EXPECT_EQ(d.error(), "bad magic");
}

TEST(PeerWire, OversizedFrameIsRefusedBeforeBuffering) {
  // kMaxPayload + 1 (1052673)
  std::vector<uint8_t> b = {0x44, 0x53, 0x4d, 0x31, 0x00, 0x06, 0x00, 0x00, 0x00, 0x10, 0x10, 0x01};
  static_assert(kMaxPayload + 1 == 0x00101001);
  Decoder d;
  d.Feed(b);
  EXPECT_FALSE(d.Next().has_value());
  EXPECT_NE(d.error().find("oversized"), std::string::npos);
}

TEST(PeerWire, TruncatedPayloadIsAnError) {
  // A Hello whose string claims more bytes than the frame holds.
  std::vector<uint8_t> b = {0x44, 0x53, 0x4d, 0x31, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                            0x00, 0x12, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x09};
  Decoder d;
  d.Feed(b);
  EXPECT_FALSE(d.Next().has_value());
  EXPECT_FALSE(d.error().empty());
}

TEST(PeerWire, TrailingPayloadBytesAreIgnored) {
  auto b = Encode(Disconnect{5});
  b[11] += 2;  // length 1 -> 3
  b.push_back(0xee);
  b.push_back(0xff);
  Decoder d;
  d.Feed(b);
  auto m = d.Next();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(std::get<Disconnect>(*m).reason, 5);
}

TEST(PeerWire, UnknownTypeIsAnError) {
  std::vector<uint8_t> b = {0x44, 0x53, 0x4d, 0x31, 0x00, 0x63, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  Decoder d;
  d.Feed(b);
  EXPECT_FALSE(d.Next().has_value());
  EXPECT_FALSE(d.error().empty());
}

TEST(PeerHmac, Sha1MatchesRfc2202) {
  // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?".
  std::string data = "what do ya want for nothing?";
  auto h =
      Hmac("sha1", "Jefe",
           std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  ASSERT_TRUE(h.has_value());
  std::vector<uint8_t> want = {0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
                               0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79};
  EXPECT_EQ(*h, want);
}

TEST(PeerHmac, UnknownAlgorithmIsRefused) {
  EXPECT_FALSE(HmacAlgKnown("no-such-digest"));
  EXPECT_FALSE(HmacAlgKnown(""));
  EXPECT_TRUE(HmacAlgKnown("sha256"));
  EXPECT_FALSE(Hmac("no-such-digest", "k", {}).has_value());
}

}  // namespace
}  // namespace drbd::proto
