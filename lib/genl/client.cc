// SPDX-License-Identifier: GPL-2.0-or-later
// Client: family resolution, request/reply matching by sequence number,
// dump collection and event reception over any Transport.
#include "lib/genl/client.h"

#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "lib/genl/drbd_codes.h"
#include "lib/genl/family84.h"

namespace drbd::genl {
namespace {

Error NoFamily(const Error& cause) {
  Error e{ErrorCode::kNoFamily, std::string(kNoFamilyText), cause.sys_errno};
  if (cause.code == ErrorCode::kNoDaemon) {
    e.code = ErrorCode::kNoDaemon;
    e.message += fmt::format(" ({})", cause.message);
  }
  return e;
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Connect(int timeout_ms) {
  Result<std::unique_ptr<Transport>> t = OpenTransportFromEnv();
  if (!t.ok()) return NoFamily(t.error());
  return Connect(std::move(*t), timeout_ms);
}

Result<std::unique_ptr<Client>> Client::Connect(std::unique_ptr<Transport> t, int timeout_ms,
                                                uint8_t api_version) {
  // drbd-utils seeds its sequence numbers with the time.
  uint32_t seq = static_cast<uint32_t>(std::time(nullptr));
  Status s = t->Send(EncodeGetFamily(kFamilyName, seq, t->port_id()));
  if (!s.ok()) return NoFamily(s.error());
  for (;;) {
    Result<std::vector<uint8_t>> d = t->Receive(timeout_ms);
    if (!d.ok()) return NoFamily(d.error());
    Result<std::vector<Frame>> frames = Split(*d);
    if (!frames.ok()) return NoFamily(frames.error());
    for (const Frame& f : *frames) {
      if (f.hdr.seq != seq) continue;
      if (f.hdr.type == kNlmsgError) {
        Result<NlError> e = DecodeNlError(f);
        if (!e.ok()) return NoFamily(e.error());
        if (e->error != 0) return NoFamily(Error{ErrorCode::kNoFamily, "", -e->error});
        continue;
      }
      Result<FamilyInfo> fi = DecodeNewFamily(f.bytes);
      if (!fi.ok()) return NoFamily(fi.error());
      if (fi->version != api_version || fi->hdrsize != kUserHdrSize) {
        return Error{ErrorCode::kApiMismatch,
                     fmt::format("API mismatch!\n\tAPI version drbdsetup: {} kernel: {}\n\t"
                                 "header size drbdsetup: {} kernel: {}",
                                 api_version, fi->version, kUserHdrSize, fi->hdrsize),
                     0};
      }
      uint8_t dialect = api_version == kFamilyVersion84 ? k84 : k9;
      return std::unique_ptr<Client>(new Client(std::move(t), std::move(*fi), seq + 1, dialect));
    }
  }
}

Result<uint32_t> Client::Send(Message& req, const EncodeOptions& opt) {
  req.nl.type = family_.id;
  req.nl.seq = next_seq_++;
  req.nl.pid = transport_->port_id();
  req.nl.flags |= kNlmFRequest;
  const CmdDesc* d = dialect_ == k84 ? v84::FindCmd(req.cmd) : FindCmd(req.cmd);
  if (d && d->kind == CmdKind::kDump) req.nl.flags |= kNlmFDump;
  if (dialect_ == k84) req.version = kFamilyVersion84;
  EncodeOptions o = opt;
  o.dialect = dialect_;
  Result<std::vector<uint8_t>> bytes = Encode(req, o);
  if (!bytes.ok()) return bytes.error();
  Status s = transport_->Send(*bytes);
  if (!s.ok()) return s.error();
  return req.nl.seq;
}

Result<std::vector<Message>> Client::Call(Message req, int timeout_ms) {
  Result<uint32_t> seq = Send(req);
  if (!seq.ok()) return seq.error();
  const bool dump = (req.nl.flags & kNlmFDump) == kNlmFDump;
  std::vector<Message> out;
  for (;;) {
    Result<std::vector<uint8_t>> d = transport_->Receive(timeout_ms);
    if (!d.ok()) return d.error();
    Result<std::vector<Frame>> frames = Split(*d);
    if (!frames.ok()) return frames.error();
    for (const Frame& f : *frames) {
      if (f.hdr.seq != *seq) continue;
      if (f.hdr.type == kNlmsgDone) return out;
      if (f.hdr.type == kNlmsgError) {
        Result<NlError> e = DecodeNlError(f);
        if (!e.ok()) return e.error();
        if (e->error != 0) {
          return Error{ErrorCode::kNetlinkError,
                       fmt::format("netlink error: {}", std::strerror(-e->error)), -e->error};
        }
        if (!dump) return out;  // a bare ack
        continue;
      }
      if (f.hdr.type != family_.id) continue;
      Result<Message> m = Decode(f.bytes, DecodeOptions{family_.id, false, dialect_});
      if (!m.ok()) return m.error();
      if (rewrite_) rewrite_(*m);
      out.push_back(std::move(*m));
      if (!dump) return out;
      if (out.back().ret_code() != ToInt(RetCode::kNoError)) return out;
    }
  }
}

Status Client::SubscribeEvents() {
  std::optional<uint32_t> g = family_.GroupId(kEventsGroup);
  if (!g) {
    return Error{ErrorCode::kNoFamily, "the 'drbd' family has no 'events' multicast group", 0};
  }
  return transport_->JoinGroup(*g);
}

Result<std::vector<Message>> Client::ReceiveMessages(int timeout_ms) {
  Result<std::vector<uint8_t>> d = transport_->Receive(timeout_ms);
  if (!d.ok()) return d.error();
  Result<std::vector<Frame>> frames = Split(*d);
  if (!frames.ok()) return frames.error();
  std::vector<Message> out;
  for (const Frame& f : *frames) {
    if (f.hdr.type == kNlmsgError) {
      Result<NlError> e = DecodeNlError(f);
      if (!e.ok()) return e.error();
      if (e->error != 0) {
        return Error{ErrorCode::kNetlinkError,
                     fmt::format("netlink error: {}", std::strerror(-e->error)), -e->error};
      }
      continue;
    }
    if (f.hdr.type != family_.id) continue;
    Result<Message> m = Decode(f.bytes, DecodeOptions{family_.id, false, dialect_});
    if (!m.ok()) return m.error();
    if (rewrite_) rewrite_(*m);
    out.push_back(std::move(*m));
  }
  return out;
}

Result<std::vector<Message>> DumpFiltered(Client& c, Cmd cmd, const std::string& resource) {
  Message req = MakeRequest(cmd);
  if (!resource.empty()) req.Get(Set::kCfgContext).PutStr(attr::ctx_resource_name, resource);
  auto r = c.Call(std::move(req));
  if (!r.ok()) return r.error();
  std::vector<Message> out;
  for (Message& m : *r) {
    if (m.ret_code() != ToInt(RetCode::kNoError)) break;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace drbd::genl
