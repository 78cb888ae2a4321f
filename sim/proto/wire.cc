// SPDX-License-Identifier: GPL-2.0-or-later
// Encoder/decoder of the drbd-simd peer protocol and its HMAC (OpenSSL
// libcrypto). See docs/formats/peer-protocol.md.
#include "sim/proto/wire.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <iterator>
#include <string>
#include <utility>
#include <variant>

namespace drbd::proto {
namespace {

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) {
    U8(static_cast<uint8_t>(v >> 8));
    U8(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v));
  }
  void U64(uint64_t v) {
    U32(static_cast<uint32_t>(v >> 32));
    U32(static_cast<uint32_t>(v));
  }
  void Blob(std::span<const uint8_t> b) {
    U16(static_cast<uint16_t>(b.size()));
    out_.insert(out_.end(), b.begin(), b.end());
  }
  void Str(std::string_view s) {
    Blob(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }
  std::vector<uint8_t>& out() { return out_; }

 private:
  std::vector<uint8_t> out_;
};

// Reads a payload; any overrun sets failed() and yields zeros.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  uint8_t U8() {
    if (pos_ + 1 > in_.size()) return Fail();
    return in_[pos_++];
  }
  uint16_t U16() {
    uint16_t hi = U8();
    return static_cast<uint16_t>((hi << 8) | U8());
  }
  uint32_t U32() {
    uint32_t hi = U16();
    return (hi << 16) | U16();
  }
  uint64_t U64() {
    uint64_t hi = U32();
    return (hi << 32) | U32();
  }
  std::vector<uint8_t> Blob() {
    uint16_t n = U16();
    if (failed_ || pos_ + n > in_.size()) {
      Fail();
      return {};
    }
    std::vector<uint8_t> v(in_.begin() + pos_, in_.begin() + pos_ + n);
    pos_ += n;
    return v;
  }
  std::string Str() {
    auto b = Blob();
    return std::string(b.begin(), b.end());
  }
  bool failed() const { return failed_; }

 private:
  uint8_t Fail() {
    failed_ = true;
    pos_ = in_.size();
    return 0;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

void EncodePayload(const Hello& m, Writer& w) {
  w.U16(m.proto_min);
  w.U16(m.proto_max);
  w.U32(m.features);
  w.U32(m.sender_node_id);
  w.U32(m.receiver_node_id);
  w.Str(m.resource);
}
void EncodePayload(const AuthChallenge& m, Writer& w) { w.Blob(m.challenge); }
void EncodePayload(const AuthResponse& m, Writer& w) { w.Blob(m.response); }
void EncodePayload(const Protocol& m, Writer& w) {
  w.U8(m.wire_protocol);
  w.U8(m.after_sb_0p);
  w.U8(m.after_sb_1p);
  w.U8(m.after_sb_2p);
  w.U8(m.two_primaries ? 1 : 0);
  w.U8(m.discard_my_data ? 1 : 0);
  w.Str(m.integrity_alg);
}
void EncodePayload(const State& m, Writer& w) {
  w.U8(m.role);
  w.U16(static_cast<uint16_t>(m.volumes.size()));
  for (const VolumeState& v : m.volumes) {
    w.U32(v.volume);
    w.U8(v.disk);
    w.U8(v.client ? 1 : 0);
    w.U64(v.size_sectors);
    w.U64(v.current_uuid);
    w.U64(v.uuid_flags);
    w.U8(static_cast<uint8_t>(v.bitmap_uuids.size()));
    for (const auto& [node, uuid] : v.bitmap_uuids) {
      w.U8(node);
      w.U64(uuid);
    }
    w.U8(static_cast<uint8_t>(v.history_uuids.size()));
    for (uint64_t h : v.history_uuids) w.U64(h);
    w.U64(v.dirty_bits);
    w.U8(v.verify_marks);
    w.U8(v.resync_susp);
    w.U8(v.quorum ? 1 : 0);
    w.U8(v.repl);
    w.U64(v.weak_nodes);
  }
}
void EncodePayload(const PeerAck& m, Writer& w) {
  w.U32(m.volume);
  w.U64(m.id);
  w.U32(m.chunks);
  w.U64(m.mask);
}
void EncodePayload(const OutOfSync& m, Writer& w) {
  w.U32(m.volume);
  w.U64(m.offset);
  w.U32(m.length);
}
void EncodePayload(const Barrier& m, Writer& w) { w.U32(m.number); }
void EncodePayload(const BarrierAck& m, Writer& w) {
  w.U32(m.number);
  w.U32(m.set_size);
}
void EncodePayload(const Bitmap& m, Writer& w) {
  w.U32(m.volume);
  w.U8(m.last ? 1 : 0);
  w.U16(static_cast<uint16_t>(m.words.size()));
  for (const auto& [index, word] : m.words) {
    w.U64(index);
    w.U64(word);
  }
}
void EncodePayload(const Ping&, Writer&) {}
void EncodePayload(const PingAck&, Writer&) {}
void EncodePayload(const Disconnect& m, Writer& w) { w.U8(m.reason); }
void EncodePayload(const ResyncRequest& m, Writer& w) {
  w.U32(m.volume);
  w.U8(m.from_target ? 1 : 0);
  w.U8(m.bitmap ? 1 : 0);
}
void EncodePayload(const ResyncStart& m, Writer& w) {
  w.U32(m.volume);
  w.U64(m.blocks);
}
void EncodePayload(const ResyncCsum& m, Writer& w) {
  w.U32(m.volume);
  w.U64(m.id);
  w.U64(m.offset);
  w.U8(m.phase);
  w.U64(m.digest);
  w.U8(m.equal ? 1 : 0);
}
void EncodePayload(const ResyncDone& m, Writer& w) {
  w.U32(m.volume);
  w.U64(m.current_uuid);
  w.U32(m.secs);
  w.U64(m.kib);
}
void EncodePayload(const Verify& m, Writer& w) {
  w.U32(m.volume);
  w.U8(m.phase);
  w.U64(m.out_of_sync);
  w.U64(m.start_block);
  w.U16(static_cast<uint16_t>(m.digests.size()));
  for (uint64_t d : m.digests) w.U64(d);
}
// DATA's fields, with its block data from `data` (EncodeData's is not in m).
void EncodeData(const Data& m, std::span<const uint8_t> data, Writer& w) {
  w.U32(m.volume);
  w.U64(m.id);
  w.U64(m.offset);
  w.U32(m.flags);
  w.Blob(data);
}
void EncodePayload(const Data& m, Writer& w) { EncodeData(m, m.data, w); }
void EncodePayload(const RecvAck& m, Writer& w) {
  w.U32(m.volume);
  w.U64(m.id);
}
void EncodePayload(const WriteAck& m, Writer& w) {
  w.U32(m.volume);
  w.U64(m.id);
  w.U8(m.ok ? 1 : 0);
}
void EncodePayload(const Flush& m, Writer& w) {
  w.U32(m.volume);
  w.U64(m.id);
}
void EncodePayload(const FlushAck& m, Writer& w) {
  w.U32(m.volume);
  w.U64(m.id);
  w.U8(m.ok ? 1 : 0);
}
void EncodePayload(const ReadRequest& m, Writer& w) {
  w.U32(m.volume);
  w.U64(m.id);
  w.U64(m.offset);
  w.U32(m.length);
}
void EncodePayload(const ReadReply& m, Writer& w) {
  w.U32(m.volume);
  w.U64(m.id);
  w.U8(m.ok ? 1 : 0);
  w.Blob(m.data);
}

void DecodePayload(Reader& r, Hello& m) {
  m.proto_min = r.U16();
  m.proto_max = r.U16();
  m.features = r.U32();
  m.sender_node_id = r.U32();
  m.receiver_node_id = r.U32();
  m.resource = r.Str();
}
void DecodePayload(Reader& r, AuthChallenge& m) { m.challenge = r.Blob(); }
void DecodePayload(Reader& r, AuthResponse& m) { m.response = r.Blob(); }
void DecodePayload(Reader& r, Protocol& m) {
  m.wire_protocol = r.U8();
  m.after_sb_0p = r.U8();
  m.after_sb_1p = r.U8();
  m.after_sb_2p = r.U8();
  m.two_primaries = r.U8() != 0;
  m.discard_my_data = r.U8() != 0;
  m.integrity_alg = r.Str();
}
void DecodePayload(Reader& r, State& m) {
  m.role = r.U8();
  uint16_t n = r.U16();
  for (uint16_t i = 0; i < n && !r.failed(); ++i) {
    VolumeState v;
    v.volume = r.U32();
    v.disk = r.U8();
    v.client = r.U8() != 0;
    v.size_sectors = r.U64();
    v.current_uuid = r.U64();
    v.uuid_flags = r.U64();
    uint8_t nb = r.U8();
    for (uint8_t j = 0; j < nb && !r.failed(); ++j) {
      uint8_t node = r.U8();
      v.bitmap_uuids.emplace_back(node, r.U64());
    }
    uint8_t nh = r.U8();
    for (uint8_t j = 0; j < nh && !r.failed(); ++j) v.history_uuids.push_back(r.U64());
    v.dirty_bits = r.U64();
    v.verify_marks = r.U8();
    v.resync_susp = r.U8();
    v.quorum = r.U8() != 0;
    v.repl = r.U8();
    v.weak_nodes = r.U64();
    m.volumes.push_back(std::move(v));
  }
}
void DecodePayload(Reader&, Ping&) {}
void DecodePayload(Reader&, PingAck&) {}
void DecodePayload(Reader& r, Disconnect& m) { m.reason = r.U8(); }
void DecodePayload(Reader& r, ResyncRequest& m) {
  m.volume = r.U32();
  m.from_target = r.U8() != 0;
  m.bitmap = r.U8() != 0;
}
void DecodePayload(Reader& r, OutOfSync& m) {
  m.volume = r.U32();
  m.offset = r.U64();
  m.length = r.U32();
}
void DecodePayload(Reader& r, Barrier& m) { m.number = r.U32(); }
void DecodePayload(Reader& r, PeerAck& m) {
  m.volume = r.U32();
  m.id = r.U64();
  m.chunks = r.U32();
  m.mask = r.U64();
}
void DecodePayload(Reader& r, BarrierAck& m) {
  m.number = r.U32();
  m.set_size = r.U32();
}
void DecodePayload(Reader& r, ResyncStart& m) {
  m.volume = r.U32();
  m.blocks = r.U64();
}
void DecodePayload(Reader& r, ResyncCsum& m) {
  m.volume = r.U32();
  m.id = r.U64();
  m.offset = r.U64();
  m.phase = r.U8();
  m.digest = r.U64();
  m.equal = r.U8() != 0;
}
void DecodePayload(Reader& r, Bitmap& m) {
  m.volume = r.U32();
  m.last = r.U8() != 0;
  uint16_t n = r.U16();
  for (uint16_t i = 0; i < n && !r.failed(); ++i) {
    uint64_t index = r.U64();
    m.words.emplace_back(index, r.U64());
  }
}
void DecodePayload(Reader& r, ResyncDone& m) {
  m.volume = r.U32();
  m.current_uuid = r.U64();
  m.secs = r.U32();
  m.kib = r.U64();
}
void DecodePayload(Reader& r, Verify& m) {
  m.volume = r.U32();
  m.phase = r.U8();
  m.out_of_sync = r.U64();
  m.start_block = r.U64();
  uint16_t n = r.U16();
  for (uint16_t i = 0; i < n && !r.failed(); ++i) m.digests.push_back(r.U64());
}
void DecodePayload(Reader& r, Data& m) {
  m.volume = r.U32();
  m.id = r.U64();
  m.offset = r.U64();
  m.flags = r.U32();
  m.data = r.Blob();
}
void DecodePayload(Reader& r, RecvAck& m) {
  m.volume = r.U32();
  m.id = r.U64();
}
void DecodePayload(Reader& r, WriteAck& m) {
  m.volume = r.U32();
  m.id = r.U64();
  m.ok = r.U8() != 0;
}
void DecodePayload(Reader& r, Flush& m) {
  m.volume = r.U32();
  m.id = r.U64();
}
void DecodePayload(Reader& r, FlushAck& m) {
  m.volume = r.U32();
  m.id = r.U64();
  m.ok = r.U8() != 0;
}
void DecodePayload(Reader& r, ReadRequest& m) {
  m.volume = r.U32();
  m.id = r.U64();
  m.offset = r.U64();
  m.length = r.U32();
}
void DecodePayload(Reader& r, ReadReply& m) {
  m.volume = r.U32();
  m.id = r.U64();
  m.ok = r.U8() != 0;
  m.data = r.Blob();
}

// Each Message alternative's frame type and name, in variant order.
struct MsgInfo {
  MsgType type;
  std::string_view name;
};
constexpr MsgInfo kMsgs[] = {
    {MsgType::kHello, "Hello"},
    {MsgType::kAuthChallenge, "AuthChallenge"},
    {MsgType::kAuthResponse, "AuthResponse"},
    {MsgType::kProtocol, "Protocol"},
    {MsgType::kState, "State"},
    {MsgType::kPing, "Ping"},
    {MsgType::kPingAck, "PingAck"},
    {MsgType::kDisconnect, "Disconnect"},
    {MsgType::kResyncRequest, "ResyncRequest"},
    {MsgType::kVerify, "Verify"},
    {MsgType::kData, "Data"},
    {MsgType::kRecvAck, "RecvAck"},
    {MsgType::kWriteAck, "WriteAck"},
    {MsgType::kFlush, "Flush"},
    {MsgType::kFlushAck, "FlushAck"},
    {MsgType::kReadRequest, "ReadRequest"},
    {MsgType::kReadReply, "ReadReply"},
    {MsgType::kResyncDone, "ResyncDone"},
    {MsgType::kResyncStart, "ResyncStart"},
    {MsgType::kResyncCsum, "ResyncCsum"},
    {MsgType::kBitmap, "Bitmap"},
    {MsgType::kOutOfSync, "OutOfSync"},
    {MsgType::kBarrier, "Barrier"},
    {MsgType::kBarrierAck, "BarrierAck"},
    {MsgType::kPeerAck, "PeerAck"},
};
static_assert(std::size(kMsgs) == std::variant_size_v<Message>);

// Decodes the alternative whose row in kMsgs carries `type`.
template <size_t... I>
std::optional<Message> DecodeAs(MsgType type, Reader& r, std::index_sequence<I...>) {
  std::optional<Message> out;
  auto one = [&]<size_t K>(std::integral_constant<size_t, K>) {
    if (kMsgs[K].type != type) return;
    std::variant_alternative_t<K, Message> m;
    DecodePayload(r, m);
    out = std::move(m);
  };
  (one(std::integral_constant<size_t, I>{}), ...);
  return out;
}

std::optional<Message> DecodePayload(MsgType type, std::span<const uint8_t> p) {
  Reader r(p);
  auto out = DecodeAs(type, r, std::make_index_sequence<std::size(kMsgs)>{});
  if (r.failed()) return std::nullopt;
  return out;
}

}  // namespace

std::string_view MsgTypeName(MsgType t) {
  for (const MsgInfo& m : kMsgs) {
    if (m.type == t) return m.name;
  }
  return "?";
}

MsgType TypeOf(const Message& m) { return kMsgs[m.index()].type; }

namespace {

// Buffers of sent frames, for Encode to reuse (this thread's only: the
// engine and its transport run on one loop).
struct FramePool {
  std::vector<std::vector<uint8_t>> free;
  size_t bytes = 0;  // capacity held in `free`
};
thread_local FramePool frame_pool;
// Frames smaller than this come from malloc's caches just as cheaply.
constexpr size_t kPooledFrameBytes = 16384;

}  // namespace

void RecycleFrame(std::vector<uint8_t> frame) {
  FramePool& p = frame_pool;
  size_t cap = frame.capacity();
  if (cap < kPooledFrameBytes || p.bytes + cap > kFramePoolBytes) return;
  frame.clear();
  p.bytes += cap;
  p.free.push_back(std::move(frame));
}

namespace {

// A frame of `type` whose payload `body` writes, `data_bytes` of block data
// included: header and payload go into one buffer sized up front (from
// the pool when large), the length field is filled in last.
template <typename Body>
std::vector<uint8_t> Frame(MsgType type, size_t data_bytes, const Body& body) {
  Writer w;
  size_t hint = kHeaderBytes + 64 + data_bytes;
  if (FramePool& p = frame_pool; hint >= kPooledFrameBytes && !p.free.empty()) {
    p.bytes -= p.free.back().capacity();
    w.out() = std::move(p.free.back());
    p.free.pop_back();
  }
  w.out().reserve(hint);
  w.U32(kMagic);
  w.U16(static_cast<uint16_t>(type));
  w.U16(0);
  w.U32(0);
  body(w);
  auto& out = w.out();
  uint32_t len = static_cast<uint32_t>(out.size() - kHeaderBytes);
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(len >> (24 - 8 * i));
  return std::move(out);
}

}  // namespace

std::vector<uint8_t> Encode(const Message& m) {
  size_t data_bytes = 0;
  std::visit(
      [&](const auto& msg) {
        if constexpr (requires { msg.data.size(); }) data_bytes = msg.data.size();
      },
      m);
  return Frame(TypeOf(m), data_bytes, [&](Writer& w) {
    std::visit([&](const auto& msg) { EncodePayload(msg, w); }, m);
  });
}

std::vector<uint8_t> EncodeData(const Data& head, std::span<const uint8_t> payload) {
  return Frame(MsgType::kData, payload.size(),
               [&](Writer& w) { EncodeData(head, payload, w); });
}

void Decoder::Feed(std::span<const uint8_t> bytes) {
  if (!error_.empty()) return;
  // Drop what Next() consumed, so that the buffer holds at most one
  // partial frame plus the new bytes: a stream whose reads never end on a
  // frame boundary would otherwise grow it without bound.
  if (pos_ > 0) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

std::optional<Message> Decoder::Next() {
  if (!error_.empty() || buf_.size() - pos_ < kHeaderBytes) return std::nullopt;
  Reader h(std::span<const uint8_t>(buf_).subspan(pos_, kHeaderBytes));
  uint32_t magic = h.U32();
  uint16_t type = h.U16();
  h.U16();
  uint32_t len = h.U32();
  if (magic != kMagic) {
    error_ = "bad magic";
    return std::nullopt;
  }
  if (len > kMaxPayload) {
    error_ = "oversized frame (" + std::to_string(len) + " bytes)";
    return std::nullopt;
  }
  if (buf_.size() - pos_ < kHeaderBytes + len) return std::nullopt;
  auto payload = std::span<const uint8_t>(buf_).subspan(pos_ + kHeaderBytes, len);
  auto msg = DecodePayload(static_cast<MsgType>(type), payload);
  if (!msg) {
    error_ = "undecodable frame of type " + std::to_string(type);
    return std::nullopt;
  }
  pos_ += kHeaderBytes + len;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return msg;
}

namespace {
const EVP_MD* Digest(std::string_view alg) {
  std::string name(alg);
  return EVP_get_digestbyname(name.c_str());
}
}  // namespace

bool HmacAlgKnown(std::string_view alg) { return !alg.empty() && Digest(alg) != nullptr; }

std::optional<std::vector<uint8_t>> Hmac(std::string_view alg, std::string_view key,
                                         std::span<const uint8_t> data) {
  const EVP_MD* md = Digest(alg);
  if (md == nullptr) return std::nullopt;
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(),
           &len) == nullptr) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace drbd::proto
