// SPDX-License-Identifier: GPL-2.0-or-later
// Message encoding through libnl (nl_msg, genlmsg_put, nla_put*) and the
// validating decoder (libnl attribute iteration over an aligned copy).
// See docs/formats/genl.md.
#include "lib/genl/codec.h"

#include "lib/genl/family84.h"

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace drbd::genl {
namespace {

Error Err(ErrorCode c, std::string msg) { return Error{c, std::move(msg), 0}; }

// A 4-byte aligned private copy of received bytes, so that struct nlattr /
// nlmsghdr can be read in place whatever the caller's alignment.
class Aligned {
 public:
  explicit Aligned(std::span<const uint8_t> b) : words_((b.size() + 3) / 4 + 1, 0) {
    if (!b.empty()) std::memcpy(words_.data(), b.data(), b.size());
  }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.data()); }

 private:
  std::vector<uint32_t> words_;
};

NlHeader ReadHeader(const uint8_t* p) {
  NlHeader h;
  std::memcpy(&h.len, p, 4);
  std::memcpy(&h.type, p + 4, 2);
  std::memcpy(&h.flags, p + 6, 2);
  std::memcpy(&h.seq, p + 8, 4);
  std::memcpy(&h.pid, p + 12, 4);
  return h;
}

void WriteHeader(uint8_t* p, const NlHeader& h) {
  std::memcpy(p, &h.len, 4);
  std::memcpy(p + 4, &h.type, 2);
  std::memcpy(p + 6, &h.flags, 2);
  std::memcpy(p + 8, &h.seq, 4);
  std::memcpy(p + 12, &h.pid, 4);
}

constexpr size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

std::string AttrWhere(const SetDesc& s, const AttrDesc& a) {
  return fmt::format("{}/{} (attr {})", s.tla_name, a.name, a.nr);
}

// Upper bound of the encoded size, for nlmsg_alloc_size().
size_t EstimateSize(const Message& m) {
  size_t n = kDrbdHdrLen + 64;
  for (const Tla& t : m.tlas) {
    n += 8;
    for (const Attr& a : t.attrs) n += 8 + Align4(a.bytes.size() + 1) + 8;
  }
  return n;
}

// The set with TLA number `tla` in the table of `dialect`.
const SetDesc* LookupSet(uint8_t dialect, uint16_t tla) {
  if (dialect == k84) return v84::FindSet(tla);
  const SetDesc* sd = FindSet(tla);
  return sd && (sd->dialects & k9) ? sd : nullptr;
}

// Field nr of a set, from the set's own descriptor (either table).
const AttrDesc* LookupAttr(const SetDesc& sd, uint16_t nr) {
  for (const AttrDesc& a : sd.attrs)
    if (a.nr == nr) return &a;
  return nullptr;
}

Status EncodeAttr(nl_msg* msg, const SetDesc& sd, const Attr& a, const EncodeOptions& opt) {
  const AttrDesc* d = LookupAttr(sd, a.nr);
  if (!d) {
    return Err(ErrorCode::kEncode,
               fmt::format("{}: attribute {} is not in the table", sd.tla_name, a.nr));
  }
  if (d->type != a.type) {
    return Err(ErrorCode::kEncode, fmt::format("{}: value of type {}, field is {}", AttrWhere(sd, *d),
                                               AttrTypeName(a.type), AttrTypeName(d->type)));
  }
  bool wart = opt.path_addr_wart && sd.id == Set::kPathParms;
  int type = d->nr | (((opt.mandatory_bit || wart) && d->has(kMand)) ? kNlaMandatory : 0);
  int rc = 0;
  switch (d->type) {
    case AttrType::kU32:
    case AttrType::kS32:
      rc = nla_put_u32(msg, type, static_cast<uint32_t>(a.num));
      break;
    case AttrType::kU64:
      rc = nla_put_u64(msg, type, a.num);
      break;
    case AttrType::kFlag:
      rc = nla_put_u8(msg, type, a.num ? 1 : 0);
      break;
    case AttrType::kStr: {
      if (a.bytes.find('\0') != std::string::npos) {
        return Err(ErrorCode::kEncode, fmt::format("{}: string contains a NUL byte", AttrWhere(sd, *d)));
      }
      if (d->max_len && a.bytes.size() + 1 > d->max_len) {
        return Err(ErrorCode::kEncode,
                   fmt::format("{}: string of {} bytes exceeds the maximum of {}", AttrWhere(sd, *d),
                               a.bytes.size(), d->max_len - 1));
      }
      rc = nla_put(msg, type, static_cast<int>(a.bytes.size() + 1), a.bytes.c_str());
      break;
    }
    case AttrType::kBin:
      if (d->max_len && a.bytes.size() > d->max_len) {
        return Err(ErrorCode::kEncode,
                   fmt::format("{}: {} bytes exceed the maximum of {}", AttrWhere(sd, *d),
                               a.bytes.size(), d->max_len));
      }
      rc = nla_put(msg, type, static_cast<int>(a.bytes.size()), a.bytes.data());
      break;
  }
  if (rc < 0) return Err(ErrorCode::kEncode, fmt::format("{}: message too large", AttrWhere(sd, *d)));
  return {};
}

// Decodes the attributes of one TLA into t.
Status DecodeTla(const SetDesc& sd, nlattr* head, int len, const DecodeOptions& opt,
                 DecodeStats* stats, Tla& t) {
  nlattr* nla;
  int rem = len;
  for (nla = head; nla_ok(nla, rem); nla = nla_next(nla, &rem)) {
    uint16_t raw = nla->nla_type;
    uint16_t nr = raw & kNlaTypeMask;
    const uint8_t* p = static_cast<const uint8_t*>(nla_data(nla));
    size_t n = static_cast<size_t>(nla_len(nla));
    if (nr == 0) {  // alignment pad in front of a u64
      if (stats) ++stats->pad_attrs;
      continue;
    }
    const AttrDesc* d = LookupAttr(sd, nr);
    if (!d) {
      if (raw & kNlaMandatory) {
        return Err(ErrorCode::kUnknownMandatory,
                   fmt::format("{}: unknown attribute {} carries the mandatory bit (type 0x{:04x})",
                               sd.tla_name, nr, raw));
      }
      if (stats) ++stats->unknown_attrs;
      if (opt.keep_unknown) {
        Attr a;
        a.nr = nr;
        a.wire_type = raw;
        a.type = AttrType::kBin;
        a.bytes.assign(reinterpret_cast<const char*>(p), n);
        t.attrs.push_back(std::move(a));
      }
      continue;
    }
    Attr a;
    a.nr = nr;
    a.wire_type = raw;
    a.type = d->type;
    switch (d->type) {
      case AttrType::kU32:
      case AttrType::kS32: {
        if (n < 4) {
          return Err(ErrorCode::kBadAttribute,
                     fmt::format("{}: a 32-bit number needs 4 bytes, got {}", AttrWhere(sd, *d), n));
        }
        uint32_t v;
        std::memcpy(&v, p, 4);
        a.num = v;
        break;
      }
      case AttrType::kU64: {
        if (n < 8) {
          return Err(ErrorCode::kBadAttribute,
                     fmt::format("{}: a 64-bit number needs 8 bytes, got {}", AttrWhere(sd, *d), n));
        }
        std::memcpy(&a.num, p, 8);
        break;
      }
      case AttrType::kFlag:
        if (n < 1) {
          return Err(ErrorCode::kBadAttribute,
                     fmt::format("{}: a flag needs 1 byte, got 0", AttrWhere(sd, *d)));
        }
        a.num = p[0] != 0;
        break;
      case AttrType::kStr: {
        size_t limit = d->max_len ? std::min<size_t>(n, d->max_len) : n;
        const void* nul = limit ? std::memchr(p, 0, limit) : nullptr;
        if (!nul) {
          if (d->max_len && n >= d->max_len) {
            return Err(ErrorCode::kBadAttribute,
                       fmt::format("{}: string longer than {} bytes", AttrWhere(sd, *d),
                                   d->max_len - 1));
          }
          return Err(ErrorCode::kBadAttribute,
                     fmt::format("{}: string is not NUL-terminated", AttrWhere(sd, *d)));
        }
        a.bytes.assign(reinterpret_cast<const char*>(p),
                       static_cast<const uint8_t*>(nul) - p);
        break;
      }
      case AttrType::kBin:
        if (d->max_len && n > d->max_len) {
          return Err(ErrorCode::kBadAttribute,
                     fmt::format("{}: {} bytes exceed the maximum of {}", AttrWhere(sd, *d), n,
                                 d->max_len));
        }
        a.bytes.assign(reinterpret_cast<const char*>(p), n);
        break;
    }
    t.attrs.push_back(std::move(a));
  }
  if (rem > 0) {
    return Err(ErrorCode::kMalformed,
               fmt::format("{}: {} bytes that are not an attribute", sd.tla_name, rem));
  }
  return {};
}

}  // namespace

// ---- Tla / Message accessors ----

const Attr* Tla::Find(AttrKey k) const {
  if (k.set != set) return nullptr;
  for (const Attr& a : attrs)
    if (a.nr == k.nr && a.type == k.type) return &a;
  return nullptr;
}

std::vector<const Attr*> Tla::FindAll(AttrKey k) const {
  std::vector<const Attr*> r;
  if (k.set != set) return r;
  for (const Attr& a : attrs)
    if (a.nr == k.nr && a.type == k.type) r.push_back(&a);
  return r;
}

std::optional<uint32_t> Tla::GetU32(AttrKey k) const {
  const Attr* a = Find(k);
  if (!a) return std::nullopt;
  return a->u32();
}
std::optional<int32_t> Tla::GetS32(AttrKey k) const {
  const Attr* a = Find(k);
  if (!a) return std::nullopt;
  return a->s32();
}
std::optional<uint64_t> Tla::GetU64(AttrKey k) const {
  const Attr* a = Find(k);
  if (!a) return std::nullopt;
  return a->u64();
}
std::optional<bool> Tla::GetFlag(AttrKey k) const {
  const Attr* a = Find(k);
  if (!a) return std::nullopt;
  return a->flag();
}
std::optional<std::string_view> Tla::GetStr(AttrKey k) const {
  const Attr* a = Find(k);
  if (!a) return std::nullopt;
  return a->str();
}

namespace {
Attr MakeAttr(AttrKey k, AttrType t, uint64_t num, std::string bytes) {
  Attr a;
  a.nr = k.nr;
  a.type = t;
  a.num = num;
  a.bytes = std::move(bytes);
  return a;
}
}  // namespace

// Put* record the type of the call; Encode() rejects a call that does not
// match the table's type for the field, or a key of another set.
Tla& Tla::PutU32(AttrKey k, uint32_t v) {
  attrs.push_back(MakeAttr(k, k.type == AttrType::kS32 ? AttrType::kS32 : AttrType::kU32, v, {}));
  if (k.set != set) attrs.back().nr = 0;  // never matches a field: Encode fails
  return *this;
}
Tla& Tla::PutS32(AttrKey k, int32_t v) {
  attrs.push_back(MakeAttr(k, AttrType::kS32, static_cast<uint32_t>(v), {}));
  if (k.set != set) attrs.back().nr = 0;
  return *this;
}
Tla& Tla::PutU64(AttrKey k, uint64_t v) {
  attrs.push_back(MakeAttr(k, AttrType::kU64, v, {}));
  if (k.set != set) attrs.back().nr = 0;
  return *this;
}
Tla& Tla::PutFlag(AttrKey k, bool v) {
  attrs.push_back(MakeAttr(k, AttrType::kFlag, v ? 1 : 0, {}));
  if (k.set != set) attrs.back().nr = 0;
  return *this;
}
Tla& Tla::PutStr(AttrKey k, std::string_view v) {
  attrs.push_back(MakeAttr(k, AttrType::kStr, 0, std::string(v)));
  if (k.set != set) attrs.back().nr = 0;
  return *this;
}
Tla& Tla::PutBin(AttrKey k, std::span<const uint8_t> v) {
  attrs.push_back(
      MakeAttr(k, AttrType::kBin, 0, std::string(reinterpret_cast<const char*>(v.data()), v.size())));
  if (k.set != set) attrs.back().nr = 0;
  return *this;
}
Tla& Tla::PutNum(AttrKey k, uint64_t v) {
  switch (k.type) {
    case AttrType::kU64: return PutU64(k, v);
    case AttrType::kFlag: return PutFlag(k, v != 0);
    case AttrType::kS32: return PutS32(k, static_cast<int32_t>(v));
    default: return PutU32(k, static_cast<uint32_t>(v));
  }
}

const Tla* Message::Find(Set s) const {
  for (const Tla& t : tlas)
    if (t.set == s) return &t;
  return nullptr;
}
Tla* Message::Find(Set s) {
  for (Tla& t : tlas)
    if (t.set == s) return &t;
  return nullptr;
}
std::vector<const Tla*> Message::FindAll(Set s) const {
  std::vector<const Tla*> r;
  for (const Tla& t : tlas)
    if (t.set == s) r.push_back(&t);
  return r;
}
Tla& Message::Get(Set s) {
  if (Tla* t = Find(s)) return *t;
  return Add(s);
}
Tla& Message::Add(Set s) {
  tlas.push_back(Tla{s, {}});
  return tlas.back();
}

Message MakeRequest(Cmd cmd) {
  Message m;
  m.cmd = static_cast<uint8_t>(cmd);
  m.nl.flags = kNlmFRequest;
  const CmdDesc* d = FindCmd(static_cast<uint8_t>(cmd));
  if (d && d->kind == CmdKind::kDump) m.nl.flags |= kNlmFDump;
  return m;
}

// ---- Encode ----

Result<std::vector<uint8_t>> Encode(const Message& m, const EncodeOptions& opt) {
  std::unique_ptr<nl_msg, void (*)(nl_msg*)> msg(nlmsg_alloc_size(EstimateSize(m)), nlmsg_free);
  if (!msg) return Err(ErrorCode::kEncode, "cannot allocate a netlink message");
  void* user = genlmsg_put(msg.get(), m.nl.pid, m.nl.seq, m.nl.type, kUserHdrSize, m.nl.flags,
                           m.cmd, m.version);
  if (!user) return Err(ErrorCode::kEncode, "cannot add the genl headers");
  std::memcpy(user, &m.minor, 4);
  std::memcpy(static_cast<uint8_t*>(user) + 4, &m.flags, 4);
  for (const Tla& t : m.tlas) {
    const SetDesc* sd = LookupSet(opt.dialect, static_cast<uint16_t>(t.set));
    if (!sd) {
      return Err(ErrorCode::kEncode,
                 fmt::format("top-level attribute {} is not in the table", static_cast<int>(t.set)));
    }
    nlattr* nest = nla_nest_start(msg.get(), sd->tla);
    if (!nest) return Err(ErrorCode::kEncode, fmt::format("{}: message too large", sd->tla_name));
    // Set or clear NLA_F_NESTED explicitly: libnl versions differ here.
    nest->nla_type = static_cast<uint16_t>(sd->tla | (opt.nested_flag ? kNlaNested : 0));
    for (const Attr& a : t.attrs) {
      if (a.nr == 0) {
        return Err(ErrorCode::kEncode,
                   fmt::format("{}: attribute key of another set", sd->tla_name));
      }
      Status s = EncodeAttr(msg.get(), *sd, a, opt);
      if (!s.ok()) return s.error();
    }
    // An empty TLA is kept: its presence alone is meaningful to the kernel.
    nla_nest_end_keep_empty(msg.get(), nest);
  }
  nlmsghdr* h = nlmsg_hdr(msg.get());
  const uint8_t* p = reinterpret_cast<const uint8_t*>(h);
  return std::vector<uint8_t>(p, p + h->nlmsg_len);
}

// ---- Decode ----

Result<NlHeader> PeekHeader(std::span<const uint8_t> buf) {
  if (buf.size() < kNlmsgHdrLen) {
    return Err(ErrorCode::kMalformed,
               fmt::format("{} bytes are too short for a netlink header (16)", buf.size()));
  }
  return ReadHeader(buf.data());
}

Result<Message> Decode(std::span<const uint8_t> bytes, const DecodeOptions& opt,
                       DecodeStats* stats) {
  Result<NlHeader> hr = PeekHeader(bytes);
  if (!hr.ok()) return hr.error();
  const NlHeader h = *hr;
  if (h.len > bytes.size()) {
    return Err(ErrorCode::kMalformed,
               fmt::format("truncated message: nlmsg_len {}, {} bytes present", h.len, bytes.size()));
  }
  if (h.type < kGenlIdCtrl) {
    return Err(ErrorCode::kMalformed,
               fmt::format("netlink control message (type {}), not a drbd message", h.type));
  }
  if (opt.family_id && h.type != opt.family_id) {
    return Err(ErrorCode::kMalformed,
               fmt::format("message of family {}, expected {}", h.type, opt.family_id));
  }
  if (h.len < kDrbdHdrLen) {
    return Err(ErrorCode::kMalformed,
               fmt::format("nlmsg_len {} is too short for the genl and drbd headers ({})", h.len,
                           kDrbdHdrLen));
  }
  Aligned buf(bytes.first(h.len));
  uint8_t* p = buf.data();
  Message m;
  m.nl = h;
  m.cmd = p[kNlmsgHdrLen];
  m.version = p[kNlmsgHdrLen + 1];
  std::memcpy(&m.minor, p + kNlmsgHdrLen + kGenlHdrLen, 4);
  std::memcpy(&m.flags, p + kNlmsgHdrLen + kGenlHdrLen + 4, 4);

  int rem = static_cast<int>(h.len - kDrbdHdrLen);
  nlattr* nla;
  for (nla = reinterpret_cast<nlattr*>(p + kDrbdHdrLen); nla_ok(nla, rem);
       nla = nla_next(nla, &rem)) {
    uint16_t raw = nla->nla_type;
    uint16_t nr = raw & kNlaTypeMask;
    const SetDesc* sd = LookupSet(opt.dialect, nr);
    if (!sd) {
      if (raw & kNlaMandatory) {
        return Err(ErrorCode::kUnknownMandatory,
                   fmt::format("unknown top-level attribute {} carries the mandatory bit (type "
                               "0x{:04x})",
                               nr, raw));
      }
      if (stats) ++stats->unknown_tlas;
      continue;
    }
    Tla t{sd->id, {}};
    Status s = DecodeTla(*sd, static_cast<nlattr*>(nla_data(nla)), nla_len(nla), opt, stats, t);
    if (!s.ok()) return s.error();
    m.tlas.push_back(std::move(t));
  }
  if (rem > 0) {
    return Err(ErrorCode::kMalformed,
               fmt::format("{} bytes after the last top-level attribute are not an attribute", rem));
  }
  return m;
}

Result<std::vector<Frame>> Split(std::span<const uint8_t> buf) {
  std::vector<Frame> r;
  size_t off = 0;
  while (off < buf.size()) {
    size_t left = buf.size() - off;
    if (left < kNlmsgHdrLen) {
      return Err(ErrorCode::kMalformed, fmt::format("{} trailing bytes after the last message", left));
    }
    NlHeader h = ReadHeader(buf.data() + off);
    if (h.len < kNlmsgHdrLen || h.len > left) {
      return Err(ErrorCode::kMalformed,
                 fmt::format("message at offset {} has nlmsg_len {}, {} bytes left", off, h.len, left));
    }
    r.push_back(Frame{h, buf.subspan(off, h.len)});
    off += std::min(Align4(h.len), left);
  }
  return r;
}

Result<NlError> DecodeNlError(const Frame& f) {
  if (f.hdr.type != kNlmsgError) {
    return Err(ErrorCode::kMalformed, fmt::format("type {} is not NLMSG_ERROR", f.hdr.type));
  }
  if (f.bytes.size() < kNlmsgHdrLen + 4) {
    return Err(ErrorCode::kMalformed, "NLMSG_ERROR without an error code");
  }
  NlError e;
  std::memcpy(&e.error, f.bytes.data() + kNlmsgHdrLen, 4);
  if (f.bytes.size() >= kNlmsgHdrLen + 4 + kNlmsgHdrLen)
    e.request = ReadHeader(f.bytes.data() + kNlmsgHdrLen + 4);
  return e;
}

// ---- Server side ----

Message MakeReply(const Message& request, int32_t rc) {
  Message r;
  r.nl.type = request.nl.type;
  r.nl.seq = request.nl.seq;
  r.nl.pid = request.nl.pid;
  r.nl.flags = (request.nl.flags & kNlmFDump) ? kNlmFMulti : 0;
  r.cmd = request.cmd;
  r.version = kFamilyVersion;
  r.minor = request.minor;
  r.set_ret_code(rc);
  if (const Tla* ctx = request.Find(Set::kCfgContext)) r.tlas.push_back(*ctx);
  return r;
}

std::vector<uint8_t> EncodeDone(uint32_t seq, uint32_t pid) {
  std::vector<uint8_t> b(kNlmsgHdrLen + 4, 0);
  WriteHeader(b.data(), NlHeader{static_cast<uint32_t>(b.size()), kNlmsgDone, kNlmFMulti, seq, pid});
  return b;
}

std::vector<uint8_t> EncodeNlError(const NlHeader& request, int32_t error) {
  constexpr uint16_t kNlmFCapped = 0x100;
  std::vector<uint8_t> b(kNlmsgHdrLen + 4 + kNlmsgHdrLen, 0);
  WriteHeader(b.data(), NlHeader{static_cast<uint32_t>(b.size()), kNlmsgError,
                                 static_cast<uint16_t>(error ? kNlmFCapped : 0), request.seq,
                                 request.pid});
  std::memcpy(b.data() + kNlmsgHdrLen, &error, 4);
  WriteHeader(b.data() + kNlmsgHdrLen + 4, request);
  return b;
}

std::vector<uint8_t> EncodeNlError(std::span<const uint8_t> request, int32_t error) {
  Result<NlHeader> h = PeekHeader(request);
  NlHeader rh = h.ok() ? *h : NlHeader{};
  size_t echo = error ? std::min<size_t>(rh.len, request.size()) : kNlmsgHdrLen;
  if (echo < kNlmsgHdrLen) echo = kNlmsgHdrLen;
  std::vector<uint8_t> b(kNlmsgHdrLen + 4 + Align4(echo), 0);
  WriteHeader(b.data(), NlHeader{static_cast<uint32_t>(b.size()), kNlmsgError, 0, rh.seq, rh.pid});
  std::memcpy(b.data() + kNlmsgHdrLen, &error, 4);
  std::memcpy(b.data() + kNlmsgHdrLen + 4, request.data(), std::min(echo, request.size()));
  return b;
}

std::string Describe(const Message& m) {
  const CmdDesc* cd = FindCmd(m.cmd);
  std::string s = cd ? std::string(cd->name) : fmt::format("cmd {}", m.cmd);
  s += fmt::format(" minor={} flags=0x{:x}", m.minor == kMinorNone ? -1 : static_cast<int64_t>(m.minor),
                   m.flags);
  for (const Tla& t : m.tlas) {
    const SetDesc* sd = LookupSet(m.version == kFamilyVersion84 ? k84 : k9,
                                  static_cast<uint16_t>(t.set));
    if (!sd) sd = &GetSet(t.set);
    s += fmt::format(" {}{{", sd->tla_name);
    bool first = true;
    for (const Attr& a : t.attrs) {
      const AttrDesc* d = LookupAttr(*sd, a.nr);
      s += first ? "" : ",";
      first = false;
      std::string name = d ? std::string(d->name) : fmt::format("#{}", a.nr);
      switch (a.type) {
        case AttrType::kS32: s += fmt::format("{}={}", name, a.s32()); break;
        case AttrType::kStr: s += fmt::format("{}=\"{}\"", name, a.bytes); break;
        case AttrType::kBin: s += fmt::format("{}=<{} bytes>", name, a.bytes.size()); break;
        default: s += fmt::format("{}={}", name, a.num); break;
      }
    }
    s += "}";
  }
  return s;
}

}  // namespace drbd::genl
