// SPDX-License-Identifier: GPL-2.0-or-later
// 8.4 state renumbering and union drbd_state decoding.
#include "lib/genl/state84.h"

#include <iterator>

#include "lib/genl/family84.h"

namespace drbd::genl::v84 {
namespace {

constexpr std::string_view kRoles[] = {"Unknown", "Primary", "Secondary"};
constexpr std::string_view kConns[] = {
    "StandAlone",     "Disconnecting", "Unconnected",   "Timeout",      "BrokenPipe",
    "NetworkFailure", "ProtocolError", "TearDown",      "WFConnection", "WFReportParams",
    "Connected",      "StartingSyncS", "StartingSyncT", "WFBitMapS",    "WFBitMapT",
    "WFSyncUUID",     "SyncSource",    "SyncTarget",    "VerifyS",      "VerifyT",
    "PausedSyncS",    "PausedSyncT",   "Ahead",         "Behind"};
constexpr std::string_view kDisks[] = {"Diskless",    "Attaching",    "Failed",
                                       "Negotiating", "Inconsistent", "Outdated",
                                       "DUnknown",    "Consistent",   "UpToDate"};

template <size_t N>
std::string_view Lookup(const std::string_view (&t)[N], uint32_t v) {
  return v < N ? t[v] : "?";
}

void MapAttr(Message& m, Set s, uint16_t nr, uint32_t (*f)(uint32_t)) {
  for (Tla& t : m.tlas) {
    if (t.set != s) continue;
    for (Attr& a : t.attrs)
      if (a.nr == nr) a.num = f(static_cast<uint32_t>(a.num));
  }
}

}  // namespace

uint32_t DiskState9(uint32_t d) { return d >= 2 ? d + 1 : d; }
uint32_t ConnState9(uint32_t c) { return c >= 9 ? 9 : c; }
uint32_t ReplState9(uint32_t c) { return c < 10 ? 9 : c; }

std::string_view RoleName(uint32_t r) { return Lookup(kRoles, r); }
std::string_view ConnName(uint32_t c) { return Lookup(kConns, c); }
std::string_view DiskName(uint32_t d) { return Lookup(kDisks, d); }

State84 DecodeState(uint32_t s) {
  return State84{s & 3,
                 (s >> 2) & 3,
                 (s >> 4) & 31,
                 (s >> 9) & 15,
                 (s >> 13) & 15,
                 ((s >> 17) & 1) != 0,
                 ((s >> 18) & 1) != 0,
                 ((s >> 19) & 1) != 0,
                 ((s >> 20) & 1) != 0,
                 ((s >> 21) & 1) != 0,
                 ((s >> 22) & 1) != 0};
}

void RewriteTo9(Message& m) {
  MapAttr(m, Set::kDeviceInfo, attr::dev_disk_state.nr, DiskState9);
  MapAttr(m, Set::kPeerDeviceInfo, attr::peer_disk_state.nr, DiskState9);
  MapAttr(m, Set::kConnectionInfo, attr::conn_connection_state.nr, ConnState9);
  MapAttr(m, Set::kPeerDeviceInfo, attr::peer_repl_state.nr, ReplState9);
  // 8.4 has one unnamed connection per resource; drbdsetup-84 reports it
  // as peer node 0 named "peer".
  Cmd c = static_cast<Cmd>(m.cmd);
  if (c == Cmd::kGetConnections || c == Cmd::kGetPeerDevices || c == Cmd::kConnectionState ||
      c == Cmd::kPeerDeviceState) {
    Tla& ctx = m.Get(Set::kCfgContext);
    if (!ctx.Find(genl::attr::ctx_conn_name)) ctx.PutStr(genl::attr::ctx_conn_name, "peer");
    if (!ctx.Find(genl::attr::ctx_peer_node_id)) ctx.PutU32(genl::attr::ctx_peer_node_id, 0);
  }
}

}  // namespace drbd::genl::v84
