// SPDX-License-Identifier: GPL-2.0-or-later
// Encoder and decoder for messages of the DRBD genl family: a Message is
// the netlink header fields, genlmsghdr{cmd, version}, drbd_genlmsghdr
// {minor, flags|ret_code} and a list of TLAs, each a list of typed
// attributes described by lib/spec/genl.def. Used on both sides: drbdsetup
// builds requests and reads replies/events, drbd-simd reads requests and
// builds replies, NLMSG_DONE and NLMSG_ERROR acks. Encoding goes through
// libnl (nl_msg, nla_put*); decoding validates as the kernel's genl_magic
// code does. Thread-compatible, no global state.
// See docs/formats/genl.md.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/genl/family.h"
#include "lib/genl/status.h"

namespace drbd::genl {

// ---- Netlink constants (linux/netlink.h, linux/genetlink.h) ----
inline constexpr uint16_t kNlmsgNoop = 1;
inline constexpr uint16_t kNlmsgError = 2;
inline constexpr uint16_t kNlmsgDone = 3;
inline constexpr uint16_t kNlmsgOverrun = 4;
inline constexpr uint16_t kGenlIdCtrl = 0x10;  // nlctrl family id
inline constexpr uint16_t kNlmFRequest = 0x1;
inline constexpr uint16_t kNlmFMulti = 0x2;
inline constexpr uint16_t kNlmFAck = 0x4;
inline constexpr uint16_t kNlmFDump = 0x300;   // NLM_F_ROOT | NLM_F_MATCH
inline constexpr size_t kNlmsgHdrLen = 16;
inline constexpr size_t kGenlHdrLen = 4;
// nlmsghdr + genlmsghdr + drbd_genlmsghdr: where the first TLA starts.
inline constexpr size_t kDrbdHdrLen = kNlmsgHdrLen + kGenlHdrLen + kUserHdrSize;

// struct nlmsghdr, host byte order.
struct NlHeader {
  uint32_t len = 0;    // whole message incl. this header, bytes
  uint16_t type = 0;   // family id, or kNlmsg*
  uint16_t flags = 0;  // NLM_F_*
  uint32_t seq = 0;
  uint32_t pid = 0;    // port id
  bool operator==(const NlHeader&) const = default;
};

// One attribute of a TLA. Numbers are kept as raw bits: use the accessor
// for the type.
struct Attr {
  uint16_t nr = 0;         // attribute number, type bits masked (& 0x3FFF)
  uint16_t wire_type = 0;  // type as received, flag bits included (decoder only)
  AttrType type = AttrType::kU32;
  uint64_t num = 0;        // kU32/kS32 (low 32 bits), kU64, kFlag (0/1)
  std::string bytes;       // kStr (without the terminating NUL) / kBin

  uint32_t u32() const { return static_cast<uint32_t>(num); }
  int32_t s32() const { return static_cast<int32_t>(static_cast<uint32_t>(num)); }
  uint64_t u64() const { return num; }
  bool flag() const { return num != 0; }
  std::string_view str() const { return bytes; }
  bool operator==(const Attr& o) const {
    return nr == o.nr && type == o.type && num == o.num && bytes == o.bytes;
  }
};

// One top-level attribute: a nest of attributes of one set, in wire order.
// An attribute may repeat (the kernel repeats my_addr/peer_addr per path);
// Find() returns the first occurrence.
struct Tla {
  Set set = Set::kCfgContext;
  std::vector<Attr> attrs;

  const Attr* Find(AttrKey k) const;
  std::vector<const Attr*> FindAll(AttrKey k) const;
  std::optional<uint32_t> GetU32(AttrKey k) const;
  std::optional<int32_t> GetS32(AttrKey k) const;
  std::optional<uint64_t> GetU64(AttrKey k) const;
  std::optional<bool> GetFlag(AttrKey k) const;
  std::optional<std::string_view> GetStr(AttrKey k) const;  // kStr and kBin

  // Appenders: each appends one attribute (repeats are allowed, as the
  // kernel repeats path addresses). A key of another set, or a call whose
  // type differs from the field's, is recorded as such and makes Encode()
  // fail with kEncode: never silently encoded.
  Tla& PutU32(AttrKey k, uint32_t v);
  Tla& PutS32(AttrKey k, int32_t v);
  Tla& PutU64(AttrKey k, uint64_t v);
  Tla& PutFlag(AttrKey k, bool v);
  Tla& PutStr(AttrKey k, std::string_view v);
  Tla& PutBin(AttrKey k, std::span<const uint8_t> v);
  // Puts a number of whatever numeric type k has (kU32/kS32/kU64/kFlag).
  Tla& PutNum(AttrKey k, uint64_t v);
  bool operator==(const Tla&) const = default;
};

// A whole message of the family.
struct Message {
  NlHeader nl;                  // len is computed by Encode; type = family id
  uint8_t cmd = 0;              // genlmsghdr.cmd (Cmd value)
  uint8_t version = kFamilyVersion;
  uint32_t minor = kMinorNone;  // drbd_genlmsghdr.minor
  uint32_t flags = 0;           // request: kFlagSetDefaults; reply: ret_code bits
  std::vector<Tla> tlas;        // in wire order; CfgReply may repeat

  int32_t ret_code() const { return static_cast<int32_t>(flags); }
  void set_ret_code(int32_t rc) { flags = static_cast<uint32_t>(rc); }
  // First TLA of set s, or nullptr.
  const Tla* Find(Set s) const;
  Tla* Find(Set s);
  std::vector<const Tla*> FindAll(Set s) const;
  // The existing TLA of set s, or a new one appended.
  Tla& Get(Set s);
  // Appends a new TLA of set s even if one exists (CfgReply lines).
  Tla& Add(Set s);
  bool operator==(const Message&) const = default;
};

// A request for cmd: NLM_F_REQUEST (| NLM_F_DUMP for dump commands),
// version 2, minor ~0, no TLAs. nl.type/seq/pid are left 0 for the sender.
Message MakeRequest(Cmd cmd);

struct EncodeOptions {
  // OR the mandatory bit into the type of fields marked kMand, as
  // drbd-utils <= 9.34 does (accepted by every kernel).
  bool mandatory_bit = true;
  // Set NLA_F_NESTED on every TLA, as drbd-utils does.
  bool nested_flag = true;
  // The kernel's wart: PATH_PARMS my_addr/peer_addr carry the mandatory
  // bit (types 0x4001/0x4002) in its replies and events even though it
  // sets the bit nowhere else.
  bool path_addr_wart = false;
  // Which table gives sets and fields: k9 (lib/spec/genl.def) or k84
  // (lib/spec/genl84.def, the mainline 8.4 module).
  uint8_t dialect = k9;
};

// How a request is encoded (drbd-utils 9.22: nested flag, mandatory bits).
inline constexpr EncodeOptions kRequestStyle{true, true, false};
// The same for an 8.4 module (what drbdsetup-84 sends).
inline constexpr EncodeOptions kRequestStyle84{true, true, false, k84};
// How the kernel encodes replies and events (genl_magic <struct>_to_skb:
// plain numbers, nests without NLA_F_NESTED, the PATH_PARMS wart). What
// drbd-simd should use for everything it sends.
inline constexpr EncodeOptions kKernelStyle{false, false, true};

// Encodes m to netlink bytes (nlmsg_len filled in, 4-byte padded).
// Errors (kEncode): an attribute whose set/type does not match its TLA, a
// string longer than its max_len - 1, a binary longer than max_len.
Result<std::vector<uint8_t>> Encode(const Message& m, const EncodeOptions& opt = {});

struct DecodeOptions {
  // If nonzero, nlmsg_type must equal it.
  uint16_t family_id = 0;
  // Keep unknown attributes (without the mandatory bit) as kBin Attrs
  // instead of dropping them; unknown TLAs are always dropped.
  bool keep_unknown = false;
  // Which table gives sets and fields (see EncodeOptions::dialect).
  uint8_t dialect = k9;
};

// Counters of what the decoder skipped silently.
struct DecodeStats {
  int unknown_attrs = 0;  // unknown number without the mandatory bit
  int unknown_tlas = 0;
  int pad_attrs = 0;      // type-0 attributes (64-bit alignment pads)
};

// Decodes exactly one message of the family (bytes.size() >= nlmsg_len;
// bytes beyond nlmsg_len are ignored). Validation, as the kernel's
// genl_magic code (see docs/formats/genl.md §4):
//  - nlmsg_len covers nlmsghdr + genlmsghdr + drbd_genlmsghdr;
//  - attributes well formed (nla_len >= 4, inside their container, no
//    trailing bytes);
//  - type bits NLA_F_NESTED and the mandatory bit are masked off;
//  - an unknown attribute (or TLA) with the mandatory bit set is
//    kUnknownMandatory; without it, it is skipped;
//  - known attributes: numbers need their size (more is tolerated, as
//    nla_parse does), strings a NUL within max_len bytes, binaries at most
//    max_len bytes (kBadAttribute).
// Messages are read at any alignment (copied internally).
Result<Message> Decode(std::span<const uint8_t> bytes, const DecodeOptions& opt = {},
                       DecodeStats* stats = nullptr);

// One netlink message within a received buffer.
struct Frame {
  NlHeader hdr;
  std::span<const uint8_t> bytes;  // the whole message, header included
};

// Splits a buffer (one datagram / packet) into its netlink messages.
// kMalformed if a length field is short or runs past the end.
Result<std::vector<Frame>> Split(std::span<const uint8_t> buf);

// Reads the header of the first message in buf. kMalformed if short.
Result<NlHeader> PeekHeader(std::span<const uint8_t> buf);

// NLMSG_ERROR payload: error 0 = ack, else a negative errno, plus the
// header of the request it answers.
struct NlError {
  int32_t error = 0;
  NlHeader request;
};
Result<NlError> DecodeNlError(const Frame& f);

// ---- Server side (drbd-simd) ----

// A reply to `request`: same cmd, seq, pid and minor, version 2,
// ret_code = rc, nl.type = request.nl.type; NLM_F_MULTI when the request
// was a dump. The request's CfgContext, if any, is copied (the kernel
// echoes it in doit replies).
Message MakeReply(const Message& request, int32_t rc);

// NLMSG_DONE (payload: int 0) terminating a dump.
std::vector<uint8_t> EncodeDone(uint32_t seq, uint32_t pid);

// NLMSG_ERROR answering `request` (its complete bytes), as the kernel
// sends it: error 0 = ack carrying the request's header only; -errno =
// error carrying the whole request (nlmsg_flags 0).
std::vector<uint8_t> EncodeNlError(std::span<const uint8_t> request, int32_t error);

// The same when only the request's header is at hand: the error carries
// just that header and, for a nonzero error, NLM_F_CAPPED (0x100).
std::vector<uint8_t> EncodeNlError(const NlHeader& request, int32_t error);

// A readable one-line summary for logs and tests:
// "DRBD_ADM_ATTACH minor=0 flags=0x0 [DRBD_NLA_CFG_CONTEXT{...}]".
std::string Describe(const Message& m);

}  // namespace drbd::genl
