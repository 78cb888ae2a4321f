// SPDX-License-Identifier: GPL-2.0-or-later
// The NBD protocol, server side, as a pure codec: the fixed-newstyle
// handshake (options EXPORT_NAME, ABORT, LIST, INFO, GO; everything else is
// answered NBD_REP_ERR_UNSUP), the transmission-phase request parser with
// the spec's checks (magic, flags per command, alignment to the advertised
// minimum block, range, payload limit, read-only export) and the simple
// reply encoder. No I/O: bytes in, bytes and validated requests out. The
// owner (sim/nbd/server.cc) moves the bytes and executes the requests.
// See docs/formats/nbd-export.md and the NBD spec (doc/proto.md of
// NetworkBlockDevice/nbd).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace drbd::nbd {

// Magic numbers (all integers on the wire are big-endian).
inline constexpr uint64_t kNbdMagic = 0x4e42444d41474943ull;  // "NBDMAGIC"
inline constexpr uint64_t kOptMagic = 0x49484156454F5054ull;  // "IHAVEOPT"
inline constexpr uint64_t kOptReplyMagic = 0x0003e889045565a9ull;
inline constexpr uint32_t kRequestMagic = 0x25609513;
inline constexpr uint32_t kSimpleReplyMagic = 0x67446698;

// Handshake flags (server) and client flags.
inline constexpr uint16_t kFlagFixedNewstyle = 1 << 0;
inline constexpr uint16_t kFlagNoZeroes = 1 << 1;
inline constexpr uint32_t kClientFlagFixedNewstyle = 1 << 0;
inline constexpr uint32_t kClientFlagNoZeroes = 1 << 1;

// Transmission flags.
inline constexpr uint16_t kTxHasFlags = 1 << 0;
inline constexpr uint16_t kTxReadOnly = 1 << 1;
inline constexpr uint16_t kTxSendFlush = 1 << 2;
inline constexpr uint16_t kTxSendFua = 1 << 3;
inline constexpr uint16_t kTxSendTrim = 1 << 5;
inline constexpr uint16_t kTxSendWriteZeroes = 1 << 6;

// Options.
inline constexpr uint32_t kOptExportName = 1;
inline constexpr uint32_t kOptAbort = 2;
inline constexpr uint32_t kOptList = 3;
inline constexpr uint32_t kOptStartTls = 5;
inline constexpr uint32_t kOptInfo = 6;
inline constexpr uint32_t kOptGo = 7;
inline constexpr uint32_t kOptStructuredReply = 8;

// Option reply types.
inline constexpr uint32_t kRepAck = 1;
inline constexpr uint32_t kRepServer = 2;
inline constexpr uint32_t kRepInfo = 3;
inline constexpr uint32_t kRepErrUnsup = 0x80000001;
inline constexpr uint32_t kRepErrPolicy = 0x80000002;
inline constexpr uint32_t kRepErrInvalid = 0x80000003;
inline constexpr uint32_t kRepErrUnknown = 0x80000006;
inline constexpr uint32_t kRepErrTooBig = 0x80000009;

// NBD_INFO_* items of NBD_REP_INFO.
inline constexpr uint16_t kInfoExport = 0;
inline constexpr uint16_t kInfoName = 1;
inline constexpr uint16_t kInfoDescription = 2;
inline constexpr uint16_t kInfoBlockSize = 3;

// Commands and command flags.
enum class Cmd : uint16_t {
  kRead = 0,
  kWrite = 1,
  kDisc = 2,
  kFlush = 3,
  kTrim = 4,
  kCache = 5,
  kWriteZeroes = 6,
  kBlockStatus = 7,
};
inline constexpr uint16_t kCmdFlagFua = 1 << 0;
inline constexpr uint16_t kCmdFlagNoHole = 1 << 1;

// Error values of replies.
inline constexpr uint32_t kEperm = 1;
inline constexpr uint32_t kEio = 5;
inline constexpr uint32_t kEnomem = 12;
inline constexpr uint32_t kEinval = 22;
inline constexpr uint32_t kEnospc = 28;
inline constexpr uint32_t kEoverflow = 75;
inline constexpr uint32_t kEshutdown = 108;

// Our size constraints (NBD_INFO_BLOCK_SIZE): 512-byte sectors as a DRBD
// device has, 4 KiB preferred (DRBD's bitmap granularity), 32 MiB payload.
inline constexpr uint32_t kMinBlock = 512;
inline constexpr uint32_t kPreferredBlock = 4096;
inline constexpr uint32_t kMaxPayload = 32u << 20;
// Option data we buffer; longer options are skipped and answered TOO_BIG.
inline constexpr uint32_t kMaxOptionBytes = 8192;
// Longest export name (the spec's string limit).
inline constexpr uint32_t kMaxNameBytes = 4096;

// One export as the handshake presents it.
struct Export {
  std::string name;         // "drbd0"
  std::string description;  // "r0/0", sent for NBD_INFO_DESCRIPTION
  uint64_t size = 0;        // bytes
  bool read_only = false;   // NBD_FLAG_READ_ONLY
};

// What the codec asks of its owner during the handshake. Called
// synchronously from Feed().
class ExportCatalog {
 public:
  virtual ~ExportCatalog() = default;
  // Every export, for NBD_OPT_LIST.
  virtual std::vector<Export> List() = 0;
  // Resolves `name` ("" = the default export). With `open`, the client
  // enters transmission on success (GO / EXPORT_NAME): the owner opens the
  // device. Returns kRepAck and fills *out, or an NBD_REP_ERR_* and a
  // human-readable *why for the error reply.
  virtual uint32_t Lookup(std::string_view name, bool open, Export* out, std::string* why) = 0;
};

// A validated transmission request the owner must execute and answer with
// EncodeSimpleReply (except kDisc, which needs no reply).
struct Request {
  Cmd cmd = Cmd::kRead;
  uint16_t flags = 0;         // kCmdFlag* bits
  uint64_t cookie = 0;        // echoed in the reply
  uint64_t offset = 0;        // bytes
  uint32_t length = 0;        // bytes
  std::vector<uint8_t> data;  // kWrite payload
  bool fua() const { return (flags & kCmdFlagFua) != 0; }
};

enum class Phase {
  kClientFlags,   // greeting sent, waiting for the client's flags
  kOptions,       // option haggling
  kTransmission,  // requests
  kClosed,        // nothing more is read; see close_reason()
};

// The server half of one NBD connection.
class ServerSession {
 public:
  explicit ServerSession(ExportCatalog* catalog) : catalog_(catalog) {}

  // The greeting; call once, first.
  std::vector<uint8_t> Greeting() const;
  // Appends received bytes (ignored once closed).
  void Feed(std::span<const uint8_t> bytes);
  // Parses what Feed() gave. Handshake replies and error replies to
  // invalid requests go to the output; valid requests are returned one at
  // a time. nullopt: more bytes are needed, or the session closed.
  std::optional<Request> Next();
  // Bytes to send, in order; clears them.
  std::vector<uint8_t> TakeOutput();

  Phase phase() const { return phase_; }
  // Why the session closed: "" (still open), "abort" / "disconnect" (the
  // client ended it) or a protocol violation ("bad request magic", ...).
  const std::string& close_reason() const { return close_reason_; }
  // The export chosen by GO / EXPORT_NAME.
  const Export& chosen() const { return export_; }
  // Bytes held: what Next() has not consumed, plus consumed bytes until
  // the next Feed drops them (at most the last Feed's bytes and one
  // partial request before them).
  size_t buffered_bytes() const { return in_.size(); }

 private:
  // Handles one whole option; false while its data is still incomplete.
  bool HandleOption(uint32_t opt, std::span<const uint8_t> data);
  void OptReply(uint32_t opt, uint32_t type, std::span<const uint8_t> data = {});
  void OptError(uint32_t opt, uint32_t type, std::string_view text);
  void InfoOrGo(uint32_t opt, std::span<const uint8_t> data);
  void Close(std::string reason);
  std::optional<Request> NextRequest();
  // Checks a whole request (a WRITE with its data) and answers the ones
  // refused; true when it is for the caller (Next returns it).
  bool Admit(Request& r);
  size_t Avail() const { return in_.size() - pos_; }

  ExportCatalog* catalog_;
  Phase phase_ = Phase::kClientFlags;
  std::string close_reason_;
  bool no_zeroes_ = false;
  Export export_;
  std::vector<uint8_t> in_;
  size_t pos_ = 0;
  uint64_t skip_ = 0;      // bytes of an oversized option still to drop
  uint32_t skip_opt_ = 0;  // that option, answered once skipped
  // A large WRITE whose data is still arriving: Feed appends it here
  // directly (not through in_ and a copy out of it) until data.size()
  // reaches length.
  std::optional<Request> write_;
  std::vector<uint8_t> out_;
};

// A simple reply: magic, error, cookie, then `data` (READ payload, only
// with error 0).
std::vector<uint8_t> EncodeSimpleReply(uint64_t cookie, uint32_t error,
                                       std::span<const uint8_t> data = {});

// The transmission flags of an export.
uint16_t TransmissionFlags(const Export& e);

}  // namespace drbd::nbd
