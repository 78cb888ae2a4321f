// SPDX-License-Identifier: GPL-2.0-or-later
// State objects <-> genl messages (see notify.h).
#include "lib/notify/notify.h"

#include "lib/genl/drbd_codes.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <type_traits>

namespace drbd::notify {
namespace {

namespace attr = genl::attr;
using events::NotifyType;
using genl::Cmd;
using genl::Set;
using genl::Tla;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

template <typename E>
uint32_t U(E e) {
  return static_cast<uint32_t>(e);
}

// The plain statistics fields: (member of the model struct, genl field).
// One list per set serves encoding and decoding; optional and binary fields
// are handled beside it.
#define DRBD_DEVICE_STATS(X)                                                              \
  X(size, dev_size) X(read, dev_read) X(written, dev_write) X(al_writes, dev_al_writes)   \
  X(bm_writes, dev_bm_writes) X(upper_pending, dev_upper_pending)                         \
  X(lower_pending, dev_lower_pending) X(upper_blocked, dev_upper_blocked)                 \
  X(lower_blocked, dev_lower_blocked) X(al_suspended, dev_al_suspended)                   \
  X(exposed_data_uuid, dev_exposed_data_uuid) X(current_uuid, dev_current_uuid)           \
  X(disk_flags, dev_disk_flags)

#define DRBD_PEER_DEVICE_STATS(X)                                                          \
  X(received, peer_dev_received) X(sent, peer_dev_sent) X(pending, peer_dev_pending)       \
  X(unacked, peer_dev_unacked) X(out_of_sync, peer_dev_out_of_sync)                        \
  X(resync_failed, peer_dev_resync_failed) X(bitmap_uuid, peer_dev_bitmap_uuid)            \
  X(flags, peer_dev_flags) X(ov_start_sector, peer_dev_ov_start_sector)                    \
  X(ov_stop_sector, peer_dev_ov_stop_sector) X(ov_position, peer_dev_ov_position)          \
  X(ov_left, peer_dev_ov_left) X(ov_skipped, peer_dev_ov_skipped)                          \
  X(rs_same_csum, peer_dev_rs_same_csum) X(rs_dt_start_ms, peer_dev_rs_dt_start_ms)        \
  X(rs_paused_ms, peer_dev_rs_paused_ms) X(rs_dt0_ms, peer_dev_rs_dt0_ms)                  \
  X(rs_db0_sectors, peer_dev_rs_db0_sectors) X(rs_dt1_ms, peer_dev_rs_dt1_ms)              \
  X(rs_db1_sectors, peer_dev_rs_db1_sectors) X(rs_c_sync_rate, peer_dev_rs_c_sync_rate)    \
  X(uuid_flags, peer_dev_uuid_flags)

// A number or flag into/out of its attribute (the key's type decides the width).
void PutField(Tla& t, genl::AttrKey k, uint64_t v) { t.PutNum(k, v); }
void PutField(Tla& t, genl::AttrKey k, uint32_t v) { t.PutNum(k, v); }
void PutField(Tla& t, genl::AttrKey k, bool v) { t.PutFlag(k, v); }
template <typename T>
void GetField(const Tla& t, genl::AttrKey k, T* v) {
  if (const genl::Attr* a = t.Find(k)) *v = static_cast<T>(a->num);
}

// ---- encoding ---------------------------------------------------------------

void PutContext(genl::Message& m, const std::string& resource, std::optional<uint32_t> peer,
                const std::string* conn_name, std::optional<uint32_t> volume) {
  Tla& ctx = m.Get(Set::kCfgContext);
  if (volume) ctx.PutU32(attr::ctx_volume, *volume);
  if (!resource.empty()) ctx.PutStr(attr::ctx_resource_name, resource);
  if (conn_name != nullptr && !conn_name->empty()) ctx.PutStr(attr::ctx_conn_name, *conn_name);
  if (peer) ctx.PutU32(attr::ctx_peer_node_id, *peer);
}

void PutHeader(genl::Message& m, const events::Notification& n) {
  uint32_t type = U(n.type);
  if (n.continues) type |= events::kNotifyContinues;
  m.Get(Set::kNotificationHeader).PutU32(attr::nh_type, type);
}

void EncodeObject(genl::Message& m, const events::Resource& r, bool with_info) {
  PutContext(m, r.name, std::nullopt, nullptr, std::nullopt);
  if (with_info) {
    Tla& info = m.Get(Set::kResourceInfo);
    info.PutU32(attr::res_role, U(r.info.role));
    info.PutFlag(attr::res_susp, r.info.susp.user);
    info.PutFlag(attr::res_susp_nod, r.info.susp.no_data);
    info.PutFlag(attr::res_susp_fen, r.info.susp.fencing);
    info.PutFlag(attr::res_susp_quorum, r.info.susp.quorum);
    info.PutFlag(attr::res_fail_io, r.info.fail_io);
  }
  if (r.stats) {
    m.Get(Set::kResourceStatistics)
        .PutU32(attr::res_stat_write_ordering, U(r.stats->write_ordering));
  }
}

void EncodeObject(genl::Message& m, const events::Device& d, bool with_info) {
  m.minor = d.minor;
  PutContext(m, d.resource, std::nullopt, nullptr, d.volume);
  if (with_info) {
    Tla& info = m.Get(Set::kDeviceInfo);
    info.PutU32(attr::dev_disk_state, U(d.info.disk_state));
    if (d.info.intentional_diskless != events::Tristate::kUnknown) {
      info.PutFlag(attr::is_intentional_diskless,
                   d.info.intentional_diskless == events::Tristate::kYes);
    }
    info.PutFlag(attr::dev_has_quorum, d.info.has_quorum);
    info.PutStr(attr::backing_dev_path, d.info.backing_dev);
    if (d.info.is_open != events::Tristate::kUnknown) {
      info.PutFlag(attr::dev_is_open, d.info.is_open == events::Tristate::kYes);
    }
  }
  if (d.stats) {
    const events::DeviceStatistics& s = *d.stats;
    Tla& st = m.Get(Set::kDeviceStatistics);
#define X(member, field) PutField(st, attr::field, s.member);
    DRBD_DEVICE_STATS(X)
#undef X
    std::string hist(s.history_uuids.size() * 8, '\0');
    if (!hist.empty()) std::memcpy(hist.data(), s.history_uuids.data(), hist.size());
    st.PutBin(attr::history_uuids, Bytes(hist));
  }
}

void EncodeObject(genl::Message& m, const events::Connection& c, bool with_info) {
  PutContext(m, c.resource, c.peer_node_id, &c.name, std::nullopt);
  if (with_info) {
    Tla& info = m.Get(Set::kConnectionInfo);
    info.PutU32(attr::conn_connection_state, U(c.info.conn_state));
    info.PutU32(attr::conn_role, U(c.info.peer_role));
  }
  if (c.stats) {
    Tla& st = m.Get(Set::kConnectionStatistics);
    st.PutFlag(attr::conn_congested, c.stats->congested);
    if (c.stats->ap_in_flight) st.PutU64(attr::ap_in_flight, *c.stats->ap_in_flight);
    if (c.stats->rs_in_flight) st.PutU64(attr::rs_in_flight, *c.stats->rs_in_flight);
  }
}

void EncodeObject(genl::Message& m, const events::PeerDevice& p, bool with_info) {
  PutContext(m, p.resource, p.peer_node_id, &p.conn_name, p.volume);
  if (with_info) {
    Tla& info = m.Get(Set::kPeerDeviceInfo);
    info.PutU32(attr::peer_repl_state, U(p.info.repl_state));
    info.PutU32(attr::peer_disk_state, U(p.info.peer_disk_state));
    info.PutU32(attr::peer_resync_susp_user, p.info.resync_susp.user ? 1 : 0);
    info.PutU32(attr::peer_resync_susp_peer, p.info.resync_susp.peer ? 1 : 0);
    info.PutU32(attr::peer_resync_susp_dependency, p.info.resync_susp.dependency ? 1 : 0);
    if (p.info.peer_intentional_diskless != events::Tristate::kUnknown) {
      info.PutFlag(attr::peer_is_intentional_diskless,
                   p.info.peer_intentional_diskless == events::Tristate::kYes);
    }
  }
  if (p.stats) {
    const events::PeerDeviceStatistics& s = *p.stats;
    Tla& st = m.Get(Set::kPeerDeviceStatistics);
#define X(member, field) PutField(st, attr::field, s.member);
    DRBD_PEER_DEVICE_STATS(X)
#undef X
    if (s.rs_total) st.PutU64(attr::peer_dev_rs_total, *s.rs_total);
  }
}

void EncodeObject(genl::Message& m, const events::Path& p, bool with_info) {
  PutContext(m, p.resource, p.peer_node_id, &p.conn_name, std::nullopt);
  Tla& ctx = m.Get(Set::kCfgContext);
  std::string mine = SockaddrFromAddress(p.local);
  std::string peer = SockaddrFromAddress(p.peer);
  ctx.PutBin(attr::ctx_my_addr, Bytes(mine));
  ctx.PutBin(attr::ctx_peer_addr, Bytes(peer));
  if (with_info) m.Get(Set::kPathInfo).PutFlag(attr::path_established, p.established);
}

void EncodeObject(genl::Message& m, const events::Helper& h, bool) {
  if (h.minor) m.minor = *h.minor;
  PutContext(m, h.resource, h.peer_node_id, &h.conn_name, h.volume);
  Tla& t = m.Get(Set::kHelper);
  t.PutStr(attr::helper_name, h.name);
  t.PutU32(attr::helper_status, h.status);
}

void EncodeObject(genl::Message& m, const events::Rename& r, bool) {
  PutContext(m, r.name, std::nullopt, nullptr, std::nullopt);
  m.Get(Set::kRenameResourceInfo).PutStr(attr::res_new_name, r.new_name);
}

void EncodeObject(genl::Message&, const events::InitialStateDone&, bool) {}

Cmd NotifyCmd(const events::Notification& n) {
  return std::visit(
      [](const auto& o) -> Cmd {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, events::Resource> || std::is_same_v<T, events::Rename>) {
          return Cmd::kResourceState;
        } else if constexpr (std::is_same_v<T, events::Device>) {
          return Cmd::kDeviceState;
        } else if constexpr (std::is_same_v<T, events::Connection>) {
          return Cmd::kConnectionState;
        } else if constexpr (std::is_same_v<T, events::PeerDevice>) {
          return Cmd::kPeerDeviceState;
        } else if constexpr (std::is_same_v<T, events::Path>) {
          return Cmd::kPathState;
        } else if constexpr (std::is_same_v<T, events::Helper>) {
          return Cmd::kHelper;
        } else {
          return Cmd::kInitialStateDone;
        }
      },
      n.object);
}

genl::Message Encode(Cmd cmd, const events::Notification& n, bool header) {
  genl::Message m;
  m.cmd = static_cast<uint8_t>(cmd);
  m.minor = genl::kMinorNone;
  // NO_ERROR: the kernel puts it in every event and dump reply.
  m.set_ret_code(genl::ToInt(genl::RetCode::kNoError));
  bool with_info = n.type != NotifyType::kDestroy;
  std::visit([&](const auto& o) { EncodeObject(m, o, with_info); }, n.object);
  if (header) PutHeader(m, n);
  return m;
}

// ---- decoding ---------------------------------------------------------------

genl::Error Malformed(std::string what) {
  return genl::Error{genl::ErrorCode::kMalformed, std::move(what)};
}

uint32_t Get32(const Tla* t, genl::AttrKey k, uint32_t def = 0) {
  if (t == nullptr) return def;
  return t->GetU32(k).value_or(def);
}

bool Flag(const Tla* t, genl::AttrKey k) { return t != nullptr && t->GetFlag(k).value_or(false); }

events::Tristate Tri(const Tla* t, genl::AttrKey k) {
  if (t == nullptr) return events::Tristate::kUnknown;
  auto f = t->GetFlag(k);
  if (!f) return events::Tristate::kUnknown;
  return *f ? events::Tristate::kYes : events::Tristate::kNo;
}

std::string Str(const Tla* t, genl::AttrKey k) {
  if (t == nullptr) return "";
  auto s = t->GetStr(k);
  return s ? std::string(*s) : "";
}

struct Ctx {
  std::string resource;
  std::optional<uint32_t> peer;
  std::string conn_name;
  std::optional<uint32_t> volume;
  std::string my_addr, peer_addr;
};

Ctx ReadContext(const genl::Message& m) {
  Ctx c;
  const Tla* t = m.Find(Set::kCfgContext);
  if (t == nullptr) return c;
  c.resource = Str(t, attr::ctx_resource_name);
  c.peer = t->GetU32(attr::ctx_peer_node_id);
  c.conn_name = Str(t, attr::ctx_conn_name);
  c.volume = t->GetU32(attr::ctx_volume);
  c.my_addr = Str(t, attr::ctx_my_addr);
  c.peer_addr = Str(t, attr::ctx_peer_addr);
  return c;
}

events::Resource DecodeResource(const genl::Message& m, const Ctx& c) {
  events::Resource r;
  r.name = c.resource;
  const Tla* info = m.Find(Set::kResourceInfo);
  r.info.role = static_cast<events::Role>(Get32(info, attr::res_role));
  r.info.susp.user = Flag(info, attr::res_susp);
  r.info.susp.no_data = Flag(info, attr::res_susp_nod);
  r.info.susp.fencing = Flag(info, attr::res_susp_fen);
  r.info.susp.quorum = Flag(info, attr::res_susp_quorum);
  r.info.fail_io = Flag(info, attr::res_fail_io);
  if (const Tla* st = m.Find(Set::kResourceStatistics)) {
    r.stats = events::ResourceStatistics{
        static_cast<events::WriteOrdering>(Get32(st, attr::res_stat_write_ordering))};
  }
  if (const Tla* opts = m.Find(Set::kResourceOpts)) r.node_id = opts->GetU32(attr::node_id);
  return r;
}

events::Device DecodeDevice(const genl::Message& m, const Ctx& c) {
  events::Device d;
  d.resource = c.resource;
  d.volume = c.volume.value_or(0);
  d.minor = m.minor;
  const Tla* info = m.Find(Set::kDeviceInfo);
  d.info.disk_state = static_cast<events::DiskState>(Get32(info, attr::dev_disk_state));
  d.info.intentional_diskless = Tri(info, attr::is_intentional_diskless);
  d.info.has_quorum = Flag(info, attr::dev_has_quorum);
  d.info.is_open = Tri(info, attr::dev_is_open);
  d.info.backing_dev = Str(info, attr::backing_dev_path);
  if (const Tla* st = m.Find(Set::kDeviceStatistics)) {
    events::DeviceStatistics s;
#define X(member, field) GetField(*st, attr::field, &s.member);
    DRBD_DEVICE_STATS(X)
#undef X
    std::string hist = Str(st, attr::history_uuids);
    s.history_uuids.resize(hist.size() / 8);
    if (!s.history_uuids.empty())
      std::memcpy(s.history_uuids.data(), hist.data(), s.history_uuids.size() * 8);
    d.stats = s;
  }
  return d;
}

events::Connection DecodeConnection(const genl::Message& m, const Ctx& c) {
  events::Connection x;
  x.resource = c.resource;
  x.peer_node_id = c.peer.value_or(0);
  x.name = c.conn_name;
  const Tla* info = m.Find(Set::kConnectionInfo);
  x.info.conn_state = static_cast<events::ConnState>(Get32(info, attr::conn_connection_state));
  x.info.peer_role = static_cast<events::Role>(Get32(info, attr::conn_role));
  if (const Tla* st = m.Find(Set::kConnectionStatistics)) {
    events::ConnectionStatistics s;
    s.congested = Flag(st, attr::conn_congested);
    s.ap_in_flight = st->GetU64(attr::ap_in_flight);
    s.rs_in_flight = st->GetU64(attr::rs_in_flight);
    x.stats = s;
  }
  if (const Tla* net = m.Find(Set::kNetConf)) {
    if (auto tls = net->GetFlag(attr::tls)) x.tls = *tls;
  }
  return x;
}

events::PeerDevice DecodePeerDevice(const genl::Message& m, const Ctx& c) {
  events::PeerDevice p;
  p.resource = c.resource;
  p.peer_node_id = c.peer.value_or(0);
  p.conn_name = c.conn_name;
  p.volume = c.volume.value_or(0);
  const Tla* info = m.Find(Set::kPeerDeviceInfo);
  p.info.repl_state = static_cast<events::ReplState>(Get32(info, attr::peer_repl_state));
  p.info.peer_disk_state = static_cast<events::DiskState>(
      Get32(info, attr::peer_disk_state, U(events::DiskState::kDUnknown)));
  p.info.resync_susp.user = Get32(info, attr::peer_resync_susp_user) != 0;
  p.info.resync_susp.peer = Get32(info, attr::peer_resync_susp_peer) != 0;
  p.info.resync_susp.dependency = Get32(info, attr::peer_resync_susp_dependency) != 0;
  p.info.resync_susp.max_parallel = Get32(info, attr::peer_resync_susp_max_parallel) != 0;
  p.info.peer_intentional_diskless = Tri(info, attr::peer_is_intentional_diskless);
  if (const Tla* st = m.Find(Set::kPeerDeviceStatistics)) {
    events::PeerDeviceStatistics s;
#define X(member, field) GetField(*st, attr::field, &s.member);
    DRBD_PEER_DEVICE_STATS(X)
#undef X
    s.rs_total = st->GetU64(attr::peer_dev_rs_total);
    p.stats = s;
  }
  return p;
}

genl::Result<events::Path> DecodePath(const genl::Message& m, const Ctx& c) {
  events::Path p;
  p.resource = c.resource;
  p.peer_node_id = c.peer.value_or(0);
  p.conn_name = c.conn_name;
  auto mine = AddressFromSockaddr(c.my_addr);
  auto peer = AddressFromSockaddr(c.peer_addr);
  if (!mine || !peer) return Malformed("path notification without a usable address pair");
  p.local = *mine;
  p.peer = *peer;
  p.established = Flag(m.Find(Set::kPathInfo), attr::path_established);
  return p;
}

events::Helper DecodeHelper(const genl::Message& m, const Ctx& c) {
  events::Helper h;
  h.resource = c.resource;
  h.peer_node_id = c.peer;
  h.conn_name = c.conn_name;
  h.volume = c.volume;
  if (m.minor != genl::kMinorNone) h.minor = m.minor;
  const Tla* t = m.Find(Set::kHelper);
  h.name = Str(t, attr::helper_name);
  h.status = Get32(t, attr::helper_status);
  if (!c.my_addr.empty()) h.local = AddressFromSockaddr(c.my_addr);
  if (!c.peer_addr.empty()) h.peer = AddressFromSockaddr(c.peer_addr);
  return h;
}

}  // namespace

std::optional<events::Address> AddressFromSockaddr(std::string_view bytes) {
  sockaddr_storage ss{};
  if (bytes.size() < sizeof(sa_family_t) || bytes.size() > sizeof ss) return std::nullopt;
  std::memcpy(&ss, bytes.data(), bytes.size());
  events::Address a;
  if (ss.ss_family == AF_INET && bytes.size() >= sizeof(sockaddr_in)) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    a.family = events::Address::Family::kIpv4;
    a.host = buf;
    a.port = ntohs(in->sin_port);
    return a;
  }
  if (ss.ss_family == AF_INET6 && bytes.size() >= sizeof(sockaddr_in6)) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    char buf[NI_MAXHOST] = "";
    getnameinfo(reinterpret_cast<const sockaddr*>(&ss), sizeof(sockaddr_in6), buf, sizeof buf,
                nullptr, 0, NI_NUMERICHOST | NI_NUMERICSERV);
    a.family = events::Address::Family::kIpv6;
    a.host = buf;
    a.port = ntohs(in6->sin6_port);
    return a;
  }
  return std::nullopt;
}

std::string SockaddrFromAddress(const events::Address& a) {
  if (a.family == events::Address::Family::kIpv6) {
    addrinfo hints{};
    hints.ai_family = AF_INET6;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* res = nullptr;
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    if (getaddrinfo(a.host.c_str(), nullptr, &hints, &res) == 0) {
      std::memcpy(&sin6, res->ai_addr, sizeof sin6);
      freeaddrinfo(res);
    }
    sin6.sin6_port = htons(a.port);
    return std::string(reinterpret_cast<const char*>(&sin6), sizeof sin6);
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(a.port);
  inet_pton(AF_INET, a.host.c_str(), &sin.sin_addr);
  return std::string(reinterpret_cast<const char*>(&sin), sizeof sin);
}

genl::Message EncodeNotification(const events::Notification& n) {
  return Encode(NotifyCmd(n), n, true);
}

genl::Message EncodeDumpReply(genl::Cmd dump_cmd, const events::Notification& n) {
  return Encode(dump_cmd, n, false);
}

genl::Result<events::Notification> DecodeNotification(const genl::Message& m) {
  events::Notification n;
  const Tla* hdr = m.Find(Set::kNotificationHeader);
  if (hdr != nullptr) {
    uint32_t t = hdr->GetU32(attr::nh_type).value_or(0);
    n.continues = (t & events::kNotifyContinues) != 0;
    n.type = static_cast<NotifyType>(t & ~events::kNotifyContinues);
  } else {
    n.type = NotifyType::kExists;
  }
  Ctx c = ReadContext(m);
  auto need_resource = [&]() -> std::optional<genl::Error> {
    if (c.resource.empty()) {
      return Malformed(std::string(genl::GetCmd(static_cast<Cmd>(m.cmd)).name) +
                       " without a resource name");
    }
    return std::nullopt;
  };
  switch (static_cast<Cmd>(m.cmd)) {
    case Cmd::kInitialStateDone:
      n.object = events::InitialStateDone{};
      return n;
    case Cmd::kResourceState:
    case Cmd::kGetResources:
      if (auto e = need_resource()) return *e;
      if (n.type == NotifyType::kRename) {
        n.object = events::Rename{c.resource,
                                  Str(m.Find(Set::kRenameResourceInfo), attr::res_new_name)};
      } else {
        n.object = DecodeResource(m, c);
      }
      return n;
    case Cmd::kDeviceState:
    case Cmd::kGetDevices:
      if (auto e = need_resource()) return *e;
      n.object = DecodeDevice(m, c);
      return n;
    case Cmd::kConnectionState:
    case Cmd::kGetConnections:
      if (auto e = need_resource()) return *e;
      n.object = DecodeConnection(m, c);
      return n;
    case Cmd::kPeerDeviceState:
    case Cmd::kGetPeerDevices:
      if (auto e = need_resource()) return *e;
      n.object = DecodePeerDevice(m, c);
      return n;
    case Cmd::kPathState:
    case Cmd::kGetPaths: {
      if (auto e = need_resource()) return *e;
      auto p = DecodePath(m, c);
      if (!p.ok()) return p.error();
      n.object = *p;
      return n;
    }
    case Cmd::kHelper:
      n.object = DecodeHelper(m, c);
      return n;
    default:
      break;
  }
  return Malformed("not a state notification: " + genl::Describe(m));
}

}  // namespace drbd::notify
