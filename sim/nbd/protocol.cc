// SPDX-License-Identifier: GPL-2.0-or-later
// NBD server codec: handshake, request validation, reply encoding. See
// docs/formats/nbd-export.md.
#include "sim/nbd/protocol.h"

#include <algorithm>

namespace drbd::nbd {
namespace {

void Put16(std::vector<uint8_t>& o, uint16_t v) {
  o.push_back(static_cast<uint8_t>(v >> 8));
  o.push_back(static_cast<uint8_t>(v));
}
void Put32(std::vector<uint8_t>& o, uint32_t v) {
  Put16(o, static_cast<uint16_t>(v >> 16));
  Put16(o, static_cast<uint16_t>(v));
}
void Put64(std::vector<uint8_t>& o, uint64_t v) {
  Put32(o, static_cast<uint32_t>(v >> 32));
  Put32(o, static_cast<uint32_t>(v));
}
uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Get32(const uint8_t* p) { return (static_cast<uint32_t>(Get16(p)) << 16) | Get16(p + 2); }
uint64_t Get64(const uint8_t* p) { return (static_cast<uint64_t>(Get32(p)) << 32) | Get32(p + 4); }

constexpr size_t kOptHeaderBytes = 16;      // magic, option, length
constexpr size_t kRequestHeaderBytes = 28;  // magic, flags, type, cookie, offset, length

// Command flags each command accepts (others: EINVAL).
uint16_t AllowedFlags(Cmd c) {
  switch (c) {
    case Cmd::kWrite:
    case Cmd::kTrim:
      return kCmdFlagFua;
    case Cmd::kWriteZeroes:
      return kCmdFlagFua | kCmdFlagNoHole;
    default:
      return 0;
  }
}

}  // namespace

uint16_t TransmissionFlags(const Export& e) {
  uint16_t f = kTxHasFlags | kTxSendFlush | kTxSendFua | kTxSendTrim | kTxSendWriteZeroes;
  if (e.read_only) f |= kTxReadOnly;
  return f;
}

std::vector<uint8_t> ServerSession::Greeting() const {
  std::vector<uint8_t> o;
  Put64(o, kNbdMagic);
  Put64(o, kOptMagic);
  Put16(o, kFlagFixedNewstyle | kFlagNoZeroes);
  return o;
}

void ServerSession::Feed(std::span<const uint8_t> bytes) {
  if (phase_ == Phase::kClosed) return;
  if (write_) {
    const size_t n = std::min<size_t>(write_->length - write_->data.size(), bytes.size());
    write_->data.insert(write_->data.end(), bytes.begin(),
                        bytes.begin() + static_cast<std::ptrdiff_t>(n));
    bytes = bytes.subspan(n);
    if (bytes.empty()) return;
  }
  // Drop what Next() consumed: the buffer holds at most one partial
  // request plus the new bytes (a client streaming writes rarely ends a
  // read on a request boundary, so clearing only when empty let it grow
  // with the whole stream).
  if (pos_ > 0) {
    in_.erase(in_.begin(), in_.begin() + static_cast<ptrdiff_t>(pos_));
    pos_ = 0;
  }
  // Bytes of an oversized option are dropped as they come.
  while (skip_ > 0 && !bytes.empty() && in_.empty()) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(skip_, bytes.size()));
    bytes = bytes.subspan(n);
    skip_ -= n;
    if (skip_ == 0) OptError(skip_opt_, kRepErrTooBig, "option data too long");
  }
  in_.insert(in_.end(), bytes.begin(), bytes.end());
}

std::vector<uint8_t> ServerSession::TakeOutput() {
  std::vector<uint8_t> o;
  o.swap(out_);
  return o;
}

void ServerSession::Close(std::string reason) {
  phase_ = Phase::kClosed;
  close_reason_ = std::move(reason);
  in_.clear();
  pos_ = 0;
  write_.reset();
}

void ServerSession::OptReply(uint32_t opt, uint32_t type, std::span<const uint8_t> data) {
  Put64(out_, kOptReplyMagic);
  Put32(out_, opt);
  Put32(out_, type);
  Put32(out_, static_cast<uint32_t>(data.size()));
  out_.insert(out_.end(), data.begin(), data.end());
}

void ServerSession::OptError(uint32_t opt, uint32_t type, std::string_view text) {
  OptReply(opt, type,
           std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::optional<Request> ServerSession::Next() {
  while (true) {
    switch (phase_) {
      case Phase::kClosed:
        return std::nullopt;
      case Phase::kClientFlags: {
        if (Avail() < 4) return std::nullopt;
        uint32_t flags = Get32(&in_[pos_]);
        pos_ += 4;
        if (flags & ~(kClientFlagFixedNewstyle | kClientFlagNoZeroes)) {
          Close("unknown client flags");
          return std::nullopt;
        }
        no_zeroes_ = (flags & kClientFlagNoZeroes) != 0;
        phase_ = Phase::kOptions;
        break;
      }
      case Phase::kOptions: {
        if (skip_ > 0 || Avail() < kOptHeaderBytes) return std::nullopt;
        const uint8_t* h = &in_[pos_];
        if (Get64(h) != kOptMagic) {
          Close("bad option magic");
          return std::nullopt;
        }
        uint32_t opt = Get32(h + 8);
        uint32_t len = Get32(h + 12);
        if (len > kMaxOptionBytes) {
          // Skip the data, then answer TOO_BIG (Feed drops what follows).
          pos_ += kOptHeaderBytes;
          size_t have = static_cast<size_t>(std::min<uint64_t>(len, Avail()));
          pos_ += have;
          skip_ = len - have;
          skip_opt_ = opt;
          if (skip_ == 0) {
            OptError(opt, kRepErrTooBig, "option data too long");
          } else {
            in_.erase(in_.begin(), in_.begin() + static_cast<ptrdiff_t>(pos_));
            pos_ = 0;
          }
          break;
        }
        if (Avail() < kOptHeaderBytes + len) return std::nullopt;
        std::vector<uint8_t> data(
            in_.begin() + static_cast<ptrdiff_t>(pos_ + kOptHeaderBytes),
            in_.begin() + static_cast<ptrdiff_t>(pos_ + kOptHeaderBytes + len));
        pos_ += kOptHeaderBytes + len;
        HandleOption(opt, data);
        break;
      }
      case Phase::kTransmission:
        return NextRequest();
    }
  }
}

bool ServerSession::HandleOption(uint32_t opt, std::span<const uint8_t> data) {
  switch (opt) {
    case kOptExportName: {
      if (data.size() > kMaxNameBytes) {
        Close("export name too long");
        return true;
      }
      std::string name(data.begin(), data.end());
      std::string why;
      if (catalog_->Lookup(name, true, &export_, &why) != kRepAck) {
        // EXPORT_NAME cannot carry an error: the spec says hang up.
        Close("unknown export '" + name + "'");
        return true;
      }
      Put64(out_, export_.size);
      Put16(out_, TransmissionFlags(export_));
      if (!no_zeroes_) out_.insert(out_.end(), 124, 0);
      phase_ = Phase::kTransmission;
      return true;
    }
    case kOptAbort:
      OptReply(opt, kRepAck);
      Close("abort");
      return true;
    case kOptList: {
      if (!data.empty()) {
        OptError(opt, kRepErrInvalid, "NBD_OPT_LIST takes no data");
        return true;
      }
      for (const Export& e : catalog_->List()) {
        std::vector<uint8_t> d;
        Put32(d, static_cast<uint32_t>(e.name.size()));
        d.insert(d.end(), e.name.begin(), e.name.end());
        d.insert(d.end(), e.description.begin(), e.description.end());
        OptReply(opt, kRepServer, d);
      }
      OptReply(opt, kRepAck);
      return true;
    }
    case kOptInfo:
    case kOptGo:
      InfoOrGo(opt, data);
      return true;
    case kOptStartTls:
      OptError(opt, kRepErrUnsup, "TLS is not supported");
      return true;
    default:
      OptError(opt, kRepErrUnsup, "option not supported");
      return true;
  }
}

void ServerSession::InfoOrGo(uint32_t opt, std::span<const uint8_t> data) {
  // name length:u32, name, n:u16, n x info:u16
  if (data.size() < 6) return OptError(opt, kRepErrInvalid, "option data too short");
  uint32_t name_len = Get32(data.data());
  if (name_len > data.size() - 6) return OptError(opt, kRepErrInvalid, "bad name length");
  std::string name(data.begin() + 4, data.begin() + 4 + name_len);
  size_t p = 4 + name_len;
  uint16_t n = Get16(&data[p]);
  p += 2;
  if (data.size() - p != 2u * n)
    return OptError(opt, kRepErrInvalid, "bad information request list");
  bool want_name = false, want_desc = false;
  for (uint16_t i = 0; i < n; ++i) {
    uint16_t item = Get16(&data[p + 2u * i]);
    if (item == kInfoName) want_name = true;
    if (item == kInfoDescription) want_desc = true;
  }
  Export e;
  std::string why;
  uint32_t rep = catalog_->Lookup(name, opt == kOptGo, &e, &why);
  if (rep != kRepAck) return OptError(opt, rep, why);
  std::vector<uint8_t> d;
  Put16(d, kInfoExport);
  Put64(d, e.size);
  Put16(d, TransmissionFlags(e));
  OptReply(opt, kRepInfo, d);
  d.clear();
  Put16(d, kInfoBlockSize);
  Put32(d, kMinBlock);
  Put32(d, kPreferredBlock);
  Put32(d, kMaxPayload);
  OptReply(opt, kRepInfo, d);
  if (want_name) {
    d.clear();
    Put16(d, kInfoName);
    d.insert(d.end(), e.name.begin(), e.name.end());
    OptReply(opt, kRepInfo, d);
  }
  if (want_desc && !e.description.empty()) {
    d.clear();
    Put16(d, kInfoDescription);
    d.insert(d.end(), e.description.begin(), e.description.end());
    OptReply(opt, kRepInfo, d);
  }
  OptReply(opt, kRepAck);
  if (opt == kOptGo) {
    export_ = e;
    phase_ = Phase::kTransmission;
  }
}

// WRITEs at least this large take their data straight from Feed (write_).
constexpr uint32_t kStreamedWriteBytes = 64 * 1024;

std::optional<Request> ServerSession::NextRequest() {
  while (phase_ == Phase::kTransmission) {
    if (write_) {
      if (write_->data.size() < write_->length) return std::nullopt;
      Request r = std::move(*write_);
      write_.reset();
      if (Admit(r)) return r;
      continue;
    }
    if (Avail() < kRequestHeaderBytes) return std::nullopt;
    const uint8_t* h = &in_[pos_];
    if (Get32(h) != kRequestMagic) {
      Close("bad request magic");
      return std::nullopt;
    }
    Request r;
    r.flags = Get16(h + 4);
    uint16_t type = Get16(h + 6);
    r.cmd = static_cast<Cmd>(type);
    r.cookie = Get64(h + 8);
    r.offset = Get64(h + 16);
    r.length = Get32(h + 24);
    size_t payload = 0;
    if (r.cmd == Cmd::kWrite) {
      // The payload follows whatever we answer; one we refuse to buffer
      // leaves no way to find the next request: hard disconnect.
      if (r.length > kMaxPayload) {
        Close("write payload too large");
        return std::nullopt;
      }
      payload = r.length;
    }
    const uint8_t* body = h + kRequestHeaderBytes;
    if (Avail() < kRequestHeaderBytes + payload) {
      if (payload >= kStreamedWriteBytes) {
        r.data.reserve(payload);
        const uint8_t* end = in_.data() + in_.size();
        r.data.insert(r.data.end(), body, end);
        pos_ = in_.size();
        write_ = std::move(r);
      }
      return std::nullopt;
    }
    pos_ += kRequestHeaderBytes + payload;
    if (r.cmd == Cmd::kWrite) r.data.assign(body, body + payload);
    if (Admit(r)) return r;
  }
  return std::nullopt;
}

bool ServerSession::Admit(Request& r) {
  auto fail = [&](uint32_t err) {
    std::vector<uint8_t> rep = EncodeSimpleReply(r.cookie, err);
    out_.insert(out_.end(), rep.begin(), rep.end());
    return false;
  };
  bool known = r.cmd == Cmd::kRead || r.cmd == Cmd::kWrite || r.cmd == Cmd::kDisc ||
               r.cmd == Cmd::kFlush || r.cmd == Cmd::kTrim || r.cmd == Cmd::kWriteZeroes;
  if (!known) return fail(kEinval);
  if (r.flags & ~AllowedFlags(r.cmd)) return fail(kEinval);
  if (r.cmd == Cmd::kDisc) {
    Close("disconnect");
    return true;
  }
  if (r.cmd == Cmd::kFlush) {
    if (r.offset != 0 || r.length != 0) return fail(kEinval);
    if (export_.read_only) return fail(kEperm);
    return true;
  }
  bool writes = r.cmd != Cmd::kRead;
  if (writes && export_.read_only) return fail(kEperm);
  if (r.offset % kMinBlock != 0 || r.length % kMinBlock != 0) return fail(kEinval);
  bool beyond = r.offset > export_.size || r.length > export_.size - r.offset;
  if (beyond) return fail(r.cmd == Cmd::kWrite || r.cmd == Cmd::kWriteZeroes ? kEnospc : kEinval);
  if (r.cmd == Cmd::kRead && r.length > kMaxPayload) return fail(kEinval);
  if (r.length == 0) return fail(0);  // nothing to do: success
  return true;
}

std::vector<uint8_t> EncodeSimpleReply(uint64_t cookie, uint32_t error,
                                       std::span<const uint8_t> data) {
  std::vector<uint8_t> o;
  o.reserve(16 + data.size());
  Put32(o, kSimpleReplyMagic);
  Put32(o, error);
  Put64(o, cookie);
  if (error == 0) o.insert(o.end(), data.begin(), data.end());
  return o;
}

}  // namespace drbd::nbd
