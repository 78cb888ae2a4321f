// SPDX-License-Identifier: GPL-2.0-or-later
// drbd-simd peer protocol: message structs, frame encoder, incremental frame
// decoder and the HMAC used for cram-hmac-alg authentication. Pure code: no
// I/O. See docs/formats/peer-protocol.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace drbd::proto {

inline constexpr uint32_t kMagic = 0x44534D31;  // "DSM1"
// 2: byte vectors carry a 32-bit length (block data of up to kDataChunk);
// a version-1 peer is refused at the Hello ("incompatible DRBD dialects").
inline constexpr uint16_t kProtoMin = 2;
inline constexpr uint16_t kProtoMax = 2;
inline constexpr uint32_t kFeatures = 0;  // no feature bits defined yet
inline constexpr uint32_t kHeaderBytes = 12;
// Block data (kDataChunk) plus its message's other fields, with room to spare.
inline constexpr uint32_t kMaxPayload = (1u << 20) + 4096;
inline constexpr uint32_t kChallengeBytes = 64;

enum class MsgType : uint16_t {
  kHello = 1,
  kAuthChallenge = 2,
  kAuthResponse = 3,
  kProtocol = 4,
  kState = 5,
  kPing = 6,
  kPingAck = 7,
  kDisconnect = 8,
  kResyncRequest = 9,
  // Data path (docs/formats/peer-protocol.md §3, data messages).
  kData = 10,
  kRecvAck = 11,
  kWriteAck = 12,
  kFlush = 13,
  kFlushAck = 14,
  kReadRequest = 15,
  kReadReply = 16,
  kResyncDone = 17,
  kResyncStart = 18,
  kResyncCsum = 19,
  kVerify = 20,
  kBitmap = 21,
  kOutOfSync = 22,
  kBarrier = 23,
  kBarrierAck = 24,
  kPeerAck = 25,
  // Cluster-wide state changes (docs/formats/peer-protocol.md §4).
  kTwoPcPrepare = 26,
  kTwoPcReply = 27,
  kTwoPcCommit = 28,
  kPeersInSync = 29,
  kPeerDagtag = 30,
};
std::string_view MsgTypeName(MsgType t);

struct Hello {
  uint16_t proto_min = kProtoMin;
  uint16_t proto_max = kProtoMax;
  uint32_t features = kFeatures;
  uint32_t sender_node_id = 0;
  uint32_t receiver_node_id = 0;
  std::string resource;
  bool operator==(const Hello&) const = default;
};

struct AuthChallenge {
  std::vector<uint8_t> challenge;
  bool operator==(const AuthChallenge&) const = default;
};

struct AuthResponse {
  std::vector<uint8_t> response;
  bool operator==(const AuthResponse&) const = default;
};

struct Protocol {
  uint8_t wire_protocol = 3;  // 1 A, 2 B, 3 C
  uint8_t after_sb_0p = 0;    // enum drbd_after_sb_p
  uint8_t after_sb_1p = 0;
  uint8_t after_sb_2p = 0;
  bool two_primaries = false;
  bool discard_my_data = false;
  std::string integrity_alg;
  bool operator==(const Protocol&) const = default;
};

struct VolumeState {
  uint32_t volume = 0;
  uint8_t disk = 0;     // drbd_disk_state (9 numbering)
  bool client = false;  // intentionally diskless
  uint64_t size_sectors = 0;
  uint64_t current_uuid = 0;
  uint64_t uuid_flags = 0;                                 // UUID_FLAG_*
  std::vector<std::pair<uint8_t, uint64_t>> bitmap_uuids;  // (node id, uuid), non-zero only
  std::vector<uint64_t> history_uuids;                     // newest first, non-zero only
  uint64_t dirty_bits = 0;  // bits set in the sender's bitmap toward the receiver (4 KiB blocks)
  // The sender's last online verify toward the receiver marked blocks that
  // no resync repaired yet: 0 no, 1 as VerifyS, 2 as VerifyT (so that a
  // side restarted since still resyncs them the same way round).
  uint8_t verify_marks = 0;
  // Why the sender's resync toward the receiver is suspended: bit 0 user
  // (pause-sync), bit 1 a resync-after dependency, bit 2 another peer is
  // the sender's resync source (resync_susp_other_c); the receiver shows
  // them as resync-suspended:peer (the kernel's peer_isp).
  uint8_t resync_susp = 0;
  // The sender's have_quorum for the volume (the kernel's `quorum` state
  // bit): a split brain is resolved toward the side that has quorum.
  bool quorum = true;
  // The sender's replication state toward the receiver (lib/events
  // ReplState numbering): the peer of an Ahead node shows Behind, and
  // follows its Ahead -> SyncSource into SyncTarget (the kernel's
  // peer_state.conn).
  uint8_t repl = 0;
  // A Primary's weak nodes (the kernel's drbd_weak_nodes_device, node id
  // bit mask): the nodes not known to hold its current data. A Secondary
  // that takes over the Primary's new current UUID rotates its old one
  // into their bitmap UUIDs (drbd_uuid_received_new_current). 0 from a
  // Secondary.
  uint64_t weak_nodes = 0;
  // The sender's view of the receiver's disk (drbd_disk_state numbering;
  // the kernel's p_state pdsk). A node whose attach is negotiating takes
  // the STATE that shows its new disk as the peer's answer (engine_net.cc).
  uint8_t peer_disk = 0;
  // The data a diskless sender exposes (the kernel's exposed data UUID,
  // which its P_UUIDS110 carries as the current UUID): a node with a disk
  // that connects to a diskless Primary on other data does not stay
  // UpToDate (sanitize_state). 0 from a sender with a disk.
  uint64_t exposed_uuid = 0;
  // The sender's bits toward the receiver (dirty_bits) are only those its
  // activity log added after a crash (drbd-simd's own): blocks that may be
  // stale or torn on the sender, not writes the receiver lacks.
  bool crash_marks = false;
  bool operator==(const VolumeState&) const = default;
};

struct State {
  uint8_t role = 2;  // drbd_role
  std::vector<VolumeState> volumes;
  bool operator==(const State&) const = default;
};

struct Ping {
  bool operator==(const Ping&) const = default;
};
struct PingAck {
  bool operator==(const PingAck&) const = default;
};
struct Disconnect {
  uint8_t reason = 0;  // 0 = admin disconnect / down
  bool operator==(const Disconnect&) const = default;
};

// A full resync asked for on a live connection (StartingSyncS/T). From
// the invalidate-remote side (`from_target` 0): the sender became
// StartingSyncS for `volume`; the receiver becomes StartingSyncT (disk
// Outdated) and answers with `from_target` 1. From the invalidate side or
// as that answer (`from_target` 1): the sender is StartingSyncT; the
// receiver (StartingSyncS) marks every block and starts its run.
struct ResyncRequest {
  uint32_t volume = 0;
  bool from_target = false;
  // invalidate / invalidate-remote --reset-bitmap=no: a bitmap-based
  // resync (WFBitMapT / WFBitMapS) of the blocks already marked, not a
  // full one.
  bool bitmap = false;
  bool operator==(const ResyncRequest&) const = default;
};

// Online verify of one volume (see docs/formats/peer-protocol.md §3):
// kStart from the VerifyS side, kStarted back from the VerifyT side; then
// kBlocks (digests of 4 KiB blocks from `start_block` on) from S, each
// answered by kBlocksResult (`out_of_sync` of them differ) from T; finally
// kDone with the total from S.
struct Verify {
  enum Phase : uint8_t { kStart = 0, kStarted = 1, kDone = 2, kBlocks = 3, kBlocksResult = 4 };
  uint32_t volume = 0;
  uint8_t phase = kStart;
  uint64_t out_of_sync = 0;       // kBlocksResult, kDone: 4 KiB blocks that differ
  uint64_t start_block = 0;       // kBlocks, kBlocksResult: first 4 KiB block
  // kBlocks: one digest per block (at most kVerifyBlocks); kBlocksResult:
  // the numbers of the blocks that differ.
  std::vector<uint64_t> digests;
  bool operator==(const Verify&) const = default;
};
inline constexpr uint32_t kVerifyBlocks = 256;

// ---- data path ----------------------------------------------------------
// Byte ranges are of the volume's data (not the backing file); writes and
// reads larger than kDataChunk travel as several messages. 1 MiB: the
// kernel's DRBD_MAX_BIO_SIZE, the largest request one P_DATA carries and
// the largest resync request it merges adjacent bits into.
inline constexpr uint32_t kDataChunk = 1u << 20;
static_assert(kMaxPayload >= kDataChunk + 64, "a DATA frame of kDataChunk bytes must decode");
inline constexpr uint32_t kDataFua = 1;  // Data.flags: flush before acknowledging
// Data.flags: resync data from the SyncSource (not an application write);
// always answered by WriteAck, whatever the protocol.
inline constexpr uint32_t kDataResync = 2;

// A replicated application write of `data` at byte `offset` of `volume`.
struct Data {
  uint32_t volume = 0;
  uint64_t id = 0;      // the sender's id, echoed by RecvAck / WriteAck
  uint64_t offset = 0;  // bytes
  uint32_t flags = 0;   // kData* bits
  // Resync DATA: node id bit mask of the nodes other than the receiver
  // that the sender's data over this range equals (P_PEERS_IN_SYNC's
  // mask): the receiver marks the range out of sync toward every other
  // peer (drbd_set_all_out_of_sync). 0 in application DATA.
  uint64_t in_sync = 0;
  std::vector<uint8_t> data;  // at most kDataChunk bytes; the last field (Decoder::StartData)
  // Application DATA: the sender's resource dagtag after this write (the
  // sum of the 512-byte sectors it submitted, the kernel's dagtag_sector);
  // the receiver keeps the last one per peer for PEER_DAGTAG. 0 in resync
  // DATA. On the wire before `data` (wire.cc's Layout<Data>).
  uint64_t dagtag = 0;
  bool operator==(const Data&) const = default;
};
// Protocol B: the Data with `id` arrived.
struct RecvAck {
  uint32_t volume = 0;
  uint64_t id = 0;
  bool operator==(const RecvAck&) const = default;
};
// Protocol C: the Data with `id` is written (ok) or failed (the sender
// marks the range out of sync).
struct WriteAck {
  uint32_t volume = 0;
  uint64_t id = 0;
  bool ok = true;
  bool operator==(const WriteAck&) const = default;
};
// Flush the receiver's backing device; answered by FlushAck.
struct Flush {
  uint32_t volume = 0;
  uint64_t id = 0;
  bool operator==(const Flush&) const = default;
};
struct FlushAck {
  uint32_t volume = 0;
  uint64_t id = 0;
  bool ok = true;
  bool operator==(const FlushAck&) const = default;
};
// Read `length` bytes at `offset` from the receiver's UpToDate disk (a
// diskless or not UpToDate reader).
struct ReadRequest {
  uint32_t volume = 0;
  uint64_t id = 0;
  uint64_t offset = 0;  // bytes
  uint32_t length = 0;  // bytes, at most kDataChunk
  bool operator==(const ReadRequest&) const = default;
};
struct ReadReply {
  uint32_t volume = 0;
  uint64_t id = 0;
  bool ok = true;
  std::vector<uint8_t> data;  // `length` bytes when ok
  bool operator==(const ReadReply&) const = default;
};

// A SyncSource began a run that will send `blocks` 4 KiB blocks of
// `volume` (for the target's progress and its "Began resync" line).
struct ResyncStart {
  uint32_t volume = 0;
  uint64_t blocks = 0;
  bool operator==(const ResyncStart&) const = default;
};

// The SyncSource sent every out-of-sync block of `volume` and each was
// acknowledged: the SyncTarget becomes UpToDate and takes `current_uuid`
// (the source's current UUID) as its own.
// The target answers with the same message once it is UpToDate; then
// the source goes Established too. `secs` and `kib` are the run's length
// and amount, for both sides' "Resync done" lines.
struct ResyncDone {
  uint32_t volume = 0;
  uint64_t current_uuid = 0;
  uint32_t secs = 0;  // seconds the run took (at least 1)
  uint64_t kib = 0;   // KiB the run synced
  bool operator==(const ResyncDone&) const = default;
};

// Checksum-based resync (csums-alg): kDigest from the SyncSource carries
// the digest of its 4 KiB block at `offset` instead of the data; the
// SyncTarget compares it with its own block and answers kAnswer, `equal`
// 1 when they match (the block is in sync, nothing is sent) or 0 (the
// source sends the block as resync DATA). `id` is the source's run and is
// echoed, so answers from an older run are ignored.
struct ResyncCsum {
  enum Phase : uint8_t { kDigest = 0, kAnswer = 1 };
  uint32_t volume = 0;
  uint64_t id = 0;
  uint64_t offset = 0;  // bytes, a multiple of 4096
  uint8_t phase = kDigest;
  uint64_t digest = 0;  // kDigest: 64-bit FNV-1a of the block (zero-padded)
  bool equal = false;   // kAnswer
  bool operator==(const ResyncCsum&) const = default;
};

// The SyncTarget's out-of-sync bitmap toward the SyncSource, sent after a
// handshake that made it target of a bitmap-based resync while its own
// bitmap has bits (its writes since a split brain): the source resyncs
// the union. `words` holds the non-zero 64-bit words of the bitmap (bit
// b of word w = 4 KiB block 64 * w + b) as (word index, word) pairs; a
// long bitmap takes several messages, `last` set on the final one.
struct Bitmap {
  uint32_t volume = 0;
  bool last = true;
  std::vector<std::pair<uint64_t, uint64_t>> words;
  bool operator==(const Bitmap&) const = default;
};
inline constexpr size_t kBitmapWordsPerMsg = 2048;  // 32 KiB of pairs per message

// P_OUT_OF_SYNC: an Ahead Primary wrote [offset, offset + length) bytes
// locally without sending the data; the Behind peer marks the range out of
// sync toward the sender.
struct OutOfSync {
  uint32_t volume = 0;
  uint64_t offset = 0;
  uint32_t length = 0;
  bool operator==(const OutOfSync&) const = default;
};

// P_BARRIER: closes the write epoch `number`: every DATA sent before it
// on this stream belongs to it. The receiver answers BarrierAck once all
// of them are written (and flushed, with write ordering `flush`);
// `set_size` counts the epoch's writes (P_BARRIER_ACK).
struct Barrier {
  uint32_t number = 0;
  bool operator==(const Barrier&) const = default;
};
struct BarrierAck {
  uint32_t number = 0;
  uint32_t set_size = 0;
  bool operator==(const BarrierAck&) const = default;
};

// P_PEER_ACK: an application write the sender (Primary) sent as the
// `chunks` DATA messages with ids `id`, `id` + 1, ... on this stream
// completed; `mask` (node id bits) names the nodes it reached. The
// receiver marks those blocks out of sync toward its other peers that are
// not in `mask` (the kernel's got_peer_ack / drbd_set_sync).
struct PeerAck {
  uint32_t volume = 0;
  uint64_t id = 0;
  uint32_t chunks = 0;
  uint64_t mask = 0;
  bool operator==(const PeerAck&) const = default;
};

// A cluster-wide state change (the kernel's two-phase commit, nested
// through intermediate nodes): P_TWOPC_PREPARE of `initiator`'s change
// `tid`, forwarded by each node to its other connected peers; the reply
// (P_TWOPC_YES) carries what the sender's part of the cluster holds: its
// reachable nodes, the Primaries among them, and the nodes those Primaries
// do not reach directly; P_TWOPC_COMMIT floods the collected masks back.
struct TwoPcPrepare {
  uint32_t initiator = 0;
  uint64_t tid = 0;
  bool operator==(const TwoPcPrepare&) const = default;
};
// The reply and the commit carry the same fields; `Type` keeps them two
// message types.
template <MsgType Type>
struct TwoPcMasks {
  uint32_t initiator = 0;
  uint64_t tid = 0;
  uint64_t reachable_nodes = 0;
  uint64_t primary_nodes = 0;
  uint64_t weak_nodes = 0;
  bool operator==(const TwoPcMasks&) const = default;
};
using TwoPcReply = TwoPcMasks<MsgType::kTwoPcReply>;
using TwoPcCommit = TwoPcMasks<MsgType::kTwoPcCommit>;

// P_PEERS_IN_SYNC: after a resync WriteAck, the source tells every node
// in `mask` (the target, and the nodes the source is in sync with over the
// range) that those nodes hold the same data over [offset, offset+len):
// each receiver clears its bits toward the mask's nodes there.
struct PeersInSync {
  uint32_t volume = 0;
  uint64_t offset = 0;
  uint32_t len = 0;
  uint64_t mask = 0;
  bool operator==(const PeersInSync&) const = default;
};

// P_PEER_DAGTAG: the sender lost its connection to the Primary `node_id`;
// `dagtag` is the dagtag of the last write it received from that node
// (`decided` 0). A receiver that lost that node too decides the
// reconciliation resync: the side with the higher dagtag becomes the source
// over both sides' bits; on equal dagtags both drop their bits toward each
// other. It tells the sender with a PEER_DAGTAG of its own that carries its
// decision (`decided`, the sender's side of it) and the dagtag of the
// sender's it was made on (`peer_dagtag`); the sender takes the other side
// if that dagtag is still its own and it lost the node too, or else drops
// the connection (the next handshake decides).
struct PeerDagtag {
  enum Decided : uint8_t { kLost = 0, kSource = 1, kTarget = 2, kEqual = 3 };
  uint32_t node_id = 0;
  uint64_t dagtag = 0;
  uint8_t decided = kLost;
  uint64_t peer_dagtag = 0;
  bool operator==(const PeerDagtag&) const = default;
};

using Message = std::variant<Hello, AuthChallenge, AuthResponse, Protocol, State, Ping, PingAck,
                             Disconnect, ResyncRequest, Verify, Data, RecvAck, WriteAck, Flush,
                             FlushAck, ReadRequest, ReadReply, ResyncDone, ResyncStart,
                             ResyncCsum, Bitmap, OutOfSync, Barrier, BarrierAck, PeerAck,
                             TwoPcPrepare, TwoPcReply, TwoPcCommit, PeersInSync, PeerDagtag>;
MsgType TypeOf(const Message& m);

// One framed message. Frames that carry block data take their buffer
// from the calling thread's pool of recycled frames (see RecycleFrame).
std::vector<uint8_t> Encode(const Message& m);

// Encode(m).size(), without encoding.
size_t EncodedSize(const Message& m);

// The frame Encode(Data) gives for `head` with `payload` as its data
// (head.data is ignored): block data is copied once, from the caller's
// buffer (an application write) straight into the frame.
// REQUIRES: payload.size() <= kDataChunk.
std::vector<uint8_t> EncodeData(const Data& head, std::span<const uint8_t> payload);

// Hands a frame's buffer back once the transport sent it: the next
// Encode of block data on this thread reuses it. A stream of DATA frames
// queued faster than TCP drains them would otherwise grow and trim the
// heap on every burst, faulting each page in again. The pool is bounded
// (kFramePoolBytes); buffers beyond it, and small ones, are freed.
void RecycleFrame(std::vector<uint8_t> frame);
inline constexpr size_t kFramePoolBytes = 32u << 20;

// The message type in the header of `frame` (one of Encode's frames), or
// nullopt when it is shorter than a header. For transports that treat
// some messages differently (sim/real: when a frame is sent).
inline std::optional<MsgType> FrameType(std::span<const uint8_t> frame) {
  if (frame.size() < kHeaderBytes) return std::nullopt;
  return static_cast<MsgType>(static_cast<uint16_t>((frame[4] << 8) | frame[5]));
}

// Accumulates stream bytes and yields whole messages.
class Decoder {
 public:
  // Appends received bytes.
  void Feed(std::span<const uint8_t> bytes);
  // Next complete message, or nullopt if more bytes are needed or the
  // stream is broken (then error() is non-empty and stays so).
  std::optional<Message> Next();
  const std::string& error() const { return error_; }
  // Bytes held: what Next() has not consumed, plus consumed bytes until
  // the next Feed drops them (never more than the last Feed's bytes and
  // one partial frame before them).
  size_t buffered_bytes() const { return buf_.size(); }

 private:
  // Starts taking the DATA frame whose header is at pos_ (payload `len`
  // bytes, not all here yet) field by field: its block data goes straight
  // into the message's own buffer as it arrives (Feed), not through buf_
  // and a decode copy. False: not enough of it here yet to begin.
  bool StartData(uint32_t len);

  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  std::string error_;
  // A DATA frame taken by StartData: its block data is complete when
  // data.size() reaches data_len_.
  std::optional<Data> data_;
  size_t data_len_ = 0;
};

// HMAC-<alg>(key, data) for a kernel crypto name ("sha1", "sha256",
// "sha512", "md5", ...). nullopt if the algorithm is unknown.
std::optional<std::vector<uint8_t>> Hmac(std::string_view alg, std::string_view key,
                                         std::span<const uint8_t> data);
// Whether `alg` names a digest usable for cram-hmac-alg.
bool HmacAlgKnown(std::string_view alg);

}  // namespace drbd::proto
