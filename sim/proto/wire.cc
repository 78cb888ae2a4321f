// SPDX-License-Identifier: GPL-2.0-or-later
// Encoder/decoder of the drbd-simd peer protocol and its HMAC (OpenSSL
// libcrypto). Each message's payload is one table of its fields (Layout),
// from which encoding, decoding and the encoded size are all derived. See
// docs/formats/peer-protocol.md.
#include "sim/proto/wire.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <iterator>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace drbd::proto {
namespace {

// The three ways over a payload: Writer (encode), Reader (decode) and
// Sizer (encoded size) share one interface, so that Walk below drives
// each of them from a message's one field table (STYLE.md §3). Int: a
// big-endian integer of the field's width (bool as one byte, 0/1); Bytes:
// a length, then the bytes: 32-bit for byte vectors (block data, up to
// kDataChunk), 16-bit for strings (names, secrets, helper output).

class Writer {
 public:
  static constexpr bool kReads = false;
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
  template <typename T>
  void Int(const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      U8(v ? 1 : 0);
    } else if constexpr (sizeof(T) == 1) {
      U8(v);
    } else if constexpr (sizeof(T) == 2) {
      U16(v);
    } else if constexpr (sizeof(T) == 4) {
      U32(v);
    } else {
      static_assert(sizeof(T) == 8);
      U64(v);
    }
  }
  void Bytes(std::span<const uint8_t> b) {
    U32(static_cast<uint32_t>(b.size()));
    out_.insert(out_.end(), b.begin(), b.end());
  }
  void Bytes(std::string_view s) {
    U16(static_cast<uint16_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
  }
  bool failed() const { return false; }
  std::vector<uint8_t>& out() { return out_; }

 private:
  std::vector<uint8_t> out_;
};

class Sizer {
 public:
  static constexpr bool kReads = false;
  template <typename T>
  void Int(const T&) {
    bytes_ += std::is_same_v<T, bool> ? 1 : sizeof(T);
  }
  void Bytes(std::span<const uint8_t> b) { bytes_ += 4 + b.size(); }
  void Bytes(std::string_view s) { bytes_ += 2 + s.size(); }
  bool failed() const { return false; }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
};

// Reads a payload; any overrun sets failed() and yields zeros.
class Reader {
 public:
  static constexpr bool kReads = true;
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
  template <typename T>
  void Int(T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      v = U8() != 0;
    } else if constexpr (sizeof(T) == 1) {
      v = U8();
    } else if constexpr (sizeof(T) == 2) {
      v = U16();
    } else if constexpr (sizeof(T) == 4) {
      v = U32();
    } else {
      static_assert(sizeof(T) == 8);
      v = U64();
    }
  }
  template <typename Buf>  // std::vector<uint8_t> or std::string
  void Bytes(Buf& v) {
    size_t n = std::is_same_v<Buf, std::string> ? size_t{U16()} : size_t{U32()};
    if (failed_ || pos_ + n > in_.size()) {
      Fail();
      return;
    }
    v.assign(in_.begin() + pos_, in_.begin() + pos_ + n);
    pos_ += n;
  }
  bool failed() const { return failed_; }
  size_t consumed() const { return pos_; }

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

// A list field: a `Count` (uint8_t or uint16_t) number of elements, then
// each element. List<uint16_t>(&Verify::digests).
template <typename Count, typename S, typename T>
struct ListField {
  std::vector<T> S::*member;
};
template <typename Count, typename S, typename T>
constexpr ListField<Count, S, T> List(std::vector<T> S::*member) {
  return {member};
}

// Each message's payload: its fields in wire order, one row each. A plain
// member is an integer of its type's width (bool: one byte), a string or
// byte vector is length-prefixed bytes, a pair its two halves, a struct its
// own table; List() is a counted vector. Encode, decode and the encoded
// size are all derived from these rows (Walk).
template <typename M>
struct Layout;
template <>
struct Layout<Hello> {
  static constexpr auto kFields =
      std::tuple(&Hello::proto_min, &Hello::proto_max, &Hello::features, &Hello::sender_node_id,
                 &Hello::receiver_node_id, &Hello::resource);
};
template <>
struct Layout<AuthChallenge> {
  static constexpr auto kFields = std::tuple(&AuthChallenge::challenge);
};
template <>
struct Layout<AuthResponse> {
  static constexpr auto kFields = std::tuple(&AuthResponse::response);
};
template <>
struct Layout<Protocol> {
  static constexpr auto kFields =
      std::tuple(&Protocol::wire_protocol, &Protocol::after_sb_0p, &Protocol::after_sb_1p,
                 &Protocol::after_sb_2p, &Protocol::two_primaries, &Protocol::discard_my_data,
                 &Protocol::integrity_alg);
};
template <>
struct Layout<VolumeState> {
  static constexpr auto kFields = std::tuple(
      &VolumeState::volume, &VolumeState::disk, &VolumeState::client, &VolumeState::size_sectors,
      &VolumeState::current_uuid, &VolumeState::uuid_flags,
      List<uint8_t>(&VolumeState::bitmap_uuids), List<uint8_t>(&VolumeState::history_uuids),
      &VolumeState::dirty_bits, &VolumeState::verify_marks, &VolumeState::resync_susp,
      &VolumeState::quorum, &VolumeState::repl, &VolumeState::weak_nodes, &VolumeState::peer_disk,
      &VolumeState::exposed_uuid, &VolumeState::crash_marks);
};
template <>
struct Layout<State> {
  static constexpr auto kFields = std::tuple(&State::role, List<uint16_t>(&State::volumes));
};
template <>
struct Layout<Ping> {
  static constexpr auto kFields = std::tuple();
};
template <>
struct Layout<PingAck> {
  static constexpr auto kFields = std::tuple();
};
template <>
struct Layout<Disconnect> {
  static constexpr auto kFields = std::tuple(&Disconnect::reason);
};
template <>
struct Layout<ResyncRequest> {
  static constexpr auto kFields =
      std::tuple(&ResyncRequest::volume, &ResyncRequest::from_target, &ResyncRequest::bitmap);
};
template <>
struct Layout<Verify> {
  static constexpr auto kFields =
      std::tuple(&Verify::volume, &Verify::phase, &Verify::out_of_sync, &Verify::start_block,
                 List<uint16_t>(&Verify::digests));
};
template <>
struct Layout<Data> {
  static constexpr auto kFields =
      std::tuple(&Data::volume, &Data::id, &Data::offset, &Data::flags, &Data::in_sync, &Data::dagtag,
                 &Data::data);
};
template <>
struct Layout<RecvAck> {
  static constexpr auto kFields = std::tuple(&RecvAck::volume, &RecvAck::id);
};
template <>
struct Layout<WriteAck> {
  static constexpr auto kFields = std::tuple(&WriteAck::volume, &WriteAck::id, &WriteAck::ok);
};
template <>
struct Layout<Flush> {
  static constexpr auto kFields = std::tuple(&Flush::volume, &Flush::id);
};
template <>
struct Layout<FlushAck> {
  static constexpr auto kFields = std::tuple(&FlushAck::volume, &FlushAck::id, &FlushAck::ok);
};
template <>
struct Layout<ReadRequest> {
  static constexpr auto kFields = std::tuple(&ReadRequest::volume, &ReadRequest::id,
                                             &ReadRequest::offset, &ReadRequest::length);
};
template <>
struct Layout<ReadReply> {
  static constexpr auto kFields =
      std::tuple(&ReadReply::volume, &ReadReply::id, &ReadReply::ok, &ReadReply::data);
};
template <>
struct Layout<ResyncDone> {
  static constexpr auto kFields = std::tuple(&ResyncDone::volume, &ResyncDone::current_uuid,
                                             &ResyncDone::secs, &ResyncDone::kib);
};
template <>
struct Layout<PeersInSync> {
  static constexpr auto kFields = std::tuple(&PeersInSync::volume, &PeersInSync::offset,
                                             &PeersInSync::len, &PeersInSync::mask);
};
template <>
struct Layout<PeerDagtag> {
  static constexpr auto kFields = std::tuple(&PeerDagtag::node_id, &PeerDagtag::dagtag,
                                             &PeerDagtag::decided, &PeerDagtag::peer_dagtag);
};
template <>
struct Layout<ResyncStart> {
  static constexpr auto kFields = std::tuple(&ResyncStart::volume, &ResyncStart::blocks);
};
template <>
struct Layout<ResyncCsum> {
  static constexpr auto kFields =
      std::tuple(&ResyncCsum::volume, &ResyncCsum::id, &ResyncCsum::offset, &ResyncCsum::phase,
                 &ResyncCsum::digest, &ResyncCsum::equal);
};
template <>
struct Layout<Bitmap> {
  static constexpr auto kFields =
      std::tuple(&Bitmap::volume, &Bitmap::last, List<uint16_t>(&Bitmap::words));
};
template <>
struct Layout<OutOfSync> {
  static constexpr auto kFields =
      std::tuple(&OutOfSync::volume, &OutOfSync::offset, &OutOfSync::length);
};
template <>
struct Layout<Barrier> {
  static constexpr auto kFields = std::tuple(&Barrier::number);
};
template <>
struct Layout<BarrierAck> {
  static constexpr auto kFields = std::tuple(&BarrierAck::number, &BarrierAck::set_size);
};
template <>
struct Layout<PeerAck> {
  static constexpr auto kFields =
      std::tuple(&PeerAck::volume, &PeerAck::id, &PeerAck::chunks, &PeerAck::mask);
};
template <>
struct Layout<TwoPcPrepare> {
  static constexpr auto kFields = std::tuple(&TwoPcPrepare::initiator, &TwoPcPrepare::tid);
};
template <MsgType Type>
struct Layout<TwoPcMasks<Type>> {
  using M = TwoPcMasks<Type>;
  static constexpr auto kFields = std::tuple(&M::initiator, &M::tid, &M::reachable_nodes,
                                             &M::primary_nodes, &M::weak_nodes);
};

template <typename T>
constexpr bool kIsPair = false;
template <typename A, typename B>
constexpr bool kIsPair<std::pair<A, B>> = true;

template <typename Io, typename V>
void Walk(Io& io, V& v);

// One row of a table applied to `s` (const when encoding or sizing).
template <typename Io, typename S, typename M, typename T>
void WalkField(Io& io, S& s, T M::*member) {
  Walk(io, s.*member);
}
template <typename Io, typename S, typename Count, typename M, typename T>
void WalkField(Io& io, S& s, ListField<Count, M, T> list) {
  auto& items = s.*list.member;
  if constexpr (Io::kReads) {
    Count n = 0;
    io.Int(n);
    for (Count i = 0; i < n && !io.failed(); ++i) Walk(io, items.emplace_back());
  } else {
    io.Int(static_cast<Count>(items.size()));
    for (const T& item : items) Walk(io, item);
  }
}

// Runs `io` over one value: Writer and Sizer take it const, Reader fills it.
template <typename Io, typename V>
void Walk(Io& io, V& v) {
  using T = std::remove_const_t<V>;
  if constexpr (std::is_integral_v<T>) {
    io.Int(v);
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<uint8_t>>) {
    io.Bytes(v);
  } else if constexpr (kIsPair<T>) {
    Walk(io, v.first);
    Walk(io, v.second);
  } else {
    std::apply([&](auto... row) { (WalkField(io, v, row), ...); }, Layout<T>::kFields);
  }
}

// `Io` (Writer or Sizer) with the block data of a Data taken from `data`
// instead of the message (EncodeData; Data's only byte vector is its
// block data).
template <typename Io>
class WithBlockData : public Io {
 public:
  explicit WithBlockData(std::span<const uint8_t> data) : data_(data) {}
  using Io::Bytes;
  void Bytes(const std::vector<uint8_t>&) { Io::Bytes(data_); }

 private:
  std::span<const uint8_t> data_;
};

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
    {MsgType::kTwoPcPrepare, "TwoPcPrepare"},
    {MsgType::kTwoPcReply, "TwoPcReply"},
    {MsgType::kTwoPcCommit, "TwoPcCommit"},
    {MsgType::kPeersInSync, "PeersInSync"},
    {MsgType::kPeerDagtag, "PeerDagtag"},
};
static_assert(std::size(kMsgs) == std::variant_size_v<Message>);

// Decodes the alternative whose row in kMsgs carries `type`.
template <size_t... I>
std::optional<Message> DecodeAs(MsgType type, Reader& r, std::index_sequence<I...>) {
  std::optional<Message> out;
  auto one = [&]<size_t K>(std::integral_constant<size_t, K>) {
    if (kMsgs[K].type != type) return;
    std::variant_alternative_t<K, Message> m;
    Walk(r, m);
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

// A frame of `type` whose `payload_bytes` long payload `body` writes into
// `w` (a Writer, or one that substitutes block data): header and payload
// go into one buffer of the exact size (from the pool when large), the
// length field is filled in last.
template <typename W, typename Body>
std::vector<uint8_t> Frame(MsgType type, size_t payload_bytes, W& w, const Body& body) {
  size_t size = kHeaderBytes + payload_bytes;
  if (FramePool& p = frame_pool; size >= kPooledFrameBytes && !p.free.empty()) {
    p.bytes -= p.free.back().capacity();
    w.out() = std::move(p.free.back());
    p.free.pop_back();
  }
  w.out().reserve(size);
  w.U32(kMagic);
  w.U16(static_cast<uint16_t>(type));
  w.U16(0);
  w.U32(0);
  body();
  auto& out = w.out();
  uint32_t len = static_cast<uint32_t>(out.size() - kHeaderBytes);
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(len >> (24 - 8 * i));
  return std::move(out);
}

}  // namespace

size_t EncodedSize(const Message& m) {
  Sizer s;
  std::visit([&](const auto& msg) { Walk(s, msg); }, m);
  return kHeaderBytes + s.bytes();
}

std::vector<uint8_t> Encode(const Message& m) {
  Writer w;
  return Frame(TypeOf(m), EncodedSize(m) - kHeaderBytes, w,
               [&] { std::visit([&](const auto& msg) { Walk(w, msg); }, m); });
}

std::vector<uint8_t> EncodeData(const Data& head, std::span<const uint8_t> payload) {
  WithBlockData<Sizer> s(payload);
  Walk(s, head);
  WithBlockData<Writer> w(payload);
  return Frame(MsgType::kData, s.bytes(), w, [&] { Walk(w, head); });
}

// Reads a DATA payload up to its block data, whose length it keeps
// instead of the bytes (Decoder::StartData; Data's only byte vector is its
// block data, its last field).
class DataHeadReader : public Reader {
 public:
  using Reader::Reader;
  using Reader::Bytes;
  void Bytes(std::vector<uint8_t>&) { block_bytes_ = U32(); }
  uint32_t block_bytes() const { return block_bytes_; }

 private:
  uint32_t block_bytes_ = 0;
};

// DATA frames at least this large are taken by Decoder::StartData.
constexpr uint32_t kStreamedDataBytes = 64 * 1024;

bool Decoder::StartData(uint32_t len) {
  const auto have = std::span<const uint8_t>(buf_).subspan(pos_ + kHeaderBytes);
  DataHeadReader r(have.subspan(0, std::min<size_t>(have.size(), len)));
  Data head;
  Walk(r, head);
  if (r.failed()) return false;  // the fields before the block data are not all here
  if (r.consumed() + r.block_bytes() != len) {
    error_ = "undecodable frame of type " + std::to_string(static_cast<int>(MsgType::kData));
    return false;
  }
  head.data.reserve(r.block_bytes());
  head.data.insert(head.data.end(), have.begin() + static_cast<std::ptrdiff_t>(r.consumed()),
                   have.end());
  data_len_ = r.block_bytes();
  data_ = std::move(head);
  pos_ = buf_.size();
  return true;
}

void Decoder::Feed(std::span<const uint8_t> bytes) {
  if (!error_.empty()) return;
  if (data_) {
    const size_t n = std::min(data_len_ - data_->data.size(), bytes.size());
    data_->data.insert(data_->data.end(), bytes.begin(),
                       bytes.begin() + static_cast<std::ptrdiff_t>(n));
    bytes = bytes.subspan(n);
    if (bytes.empty()) return;
  }
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
  if (!error_.empty()) return std::nullopt;
  if (data_) {
    if (data_->data.size() < data_len_) return std::nullopt;
    Message m = std::move(*data_);
    data_.reset();
    return m;
  }
  if (buf_.size() - pos_ < kHeaderBytes) return std::nullopt;
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
  if (buf_.size() - pos_ < kHeaderBytes + len) {
    // A large DATA frame not all here: the rest of its block data goes
    // straight into the message as later Feeds bring it.
    if (static_cast<MsgType>(type) == MsgType::kData && len >= kStreamedDataBytes) StartData(len);
    return std::nullopt;
  }
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
