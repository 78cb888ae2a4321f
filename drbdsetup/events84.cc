// SPDX-License-Identifier: GPL-2.0-or-later
// events2 lines from 8.4 notifications (drbdsetup-84 print_notifications).
#include "drbdsetup/events84.h"

#include <fmt/format.h>

#include <ostream>

#include "lib/genl/drbd_codes.h"
#include "lib/genl/family84.h"
#include "lib/genl/state84.h"

namespace drbd::setup {
namespace {

namespace a84 = genl::v84::attr;
using genl::Cmd;
using genl::Message;
using genl::Set;

constexpr uint32_t kNotifyContinues = 0x8000;

// drbd_conn_str9 / drbd_repl_str9 of drbdsetup-84.
std::string_view ConnWord(uint32_t c) {
  if (c == 8) return "Connecting";
  if (c == 9) return "Connected";
  return genl::v84::ConnName(c);
}
std::string_view ReplWord(uint32_t c) {
  if (c == 9) return "Off";
  if (c == 10) return "Established";
  return genl::v84::ConnName(c);
}

std::string_view WriteOrdering(uint32_t wo) {
  constexpr std::string_view kNames[] = {"none", "drain", "flush", "barrier"};
  return wo < std::size(kNames) ? kNames[wo] : "";
}

const genl::Attr* Get(const Message* m, Set s, genl::AttrKey k) {
  if (!m) return nullptr;
  const genl::Tla* t = m->Find(s);
  return t ? t->Find(k) : nullptr;
}

uint64_t Num(const Message& m, Set s, genl::AttrKey k) {
  const genl::Attr* a = Get(&m, s, k);
  return a ? a->num : 0;
}

// True when the field differs from `old` (or there is no old). An absent
// field reads as 0, as drbdsetup-84's *_from_attrs() leave it.
bool Changed(const Message* old, const Message& now, Set s, genl::AttrKey k) {
  return !old || Num(*old, s, k) != Num(now, s, k);
}

std::string SuspWord(const Message& m) {
  std::string s;
  if (Num(m, Set::kResourceInfo, a84::res_susp)) s += "user";
  if (Num(m, Set::kResourceInfo, a84::res_susp_nod)) s += s.empty() ? "no-data" : ",no-data";
  if (Num(m, Set::kResourceInfo, a84::res_susp_fen)) s += s.empty() ? "fencing" : ",fencing";
  return s.empty() ? "no" : s;
}

std::string ResyncSuspWord(const Message& m) {
  std::string s;
  if (Num(m, Set::kPeerDeviceInfo, a84::peer_resync_susp_user)) s += "user";
  if (Num(m, Set::kPeerDeviceInfo, a84::peer_resync_susp_peer)) s += s.empty() ? "peer" : ",peer";
  if (Num(m, Set::kPeerDeviceInfo, a84::peer_resync_susp_dependency))
    s += s.empty() ? "dependency" : ",dependency";
  return s.empty() ? "no" : s;
}

}  // namespace

bool Events84Printer::Feed(const Message& m, std::ostream& out) {
  if (m.ret_code() != genl::ToInt(genl::RetCode::kNoError)) return false;
  const genl::Tla* nh = m.Find(Set::kNotificationHeader);
  if (!nh || !nh->GetU32(a84::nh_type)) return false;
  uint32_t action = *nh->GetU32(a84::nh_type) & ~kNotifyContinues;
  constexpr std::string_view kActions[] = {"exists",  "create", "change",
                                           "destroy", "call",   "response"};
  if (action >= std::size(kActions)) return false;
  Cmd cmd = static_cast<Cmd>(m.cmd);
  if (now_ && action != 0) return false;
  std::string_view object;
  switch (cmd) {
    case Cmd::kResourceState:
      object = "resource";
      break;
    case Cmd::kDeviceState:
      object = "device";
      break;
    case Cmd::kConnectionState:
      object = "connection";
      break;
    case Cmd::kPeerDeviceState:
      object = "peer-device";
      break;
    case Cmd::kHelper:
      object = "helper";
      break;
    case Cmd::kInitialStateDone:
      break;
    default:
      return false;
  }
  const genl::Tla* ctx = m.Find(Set::kCfgContext);
  std::string res(ctx ? ctx->GetStr(a84::ctx_resource_name).value_or("") : "");
  if (cmd != Cmd::kInitialStateDone && resource_ != "all" && res != resource_) return false;
  if (action != 0) {
    if (last_seq_known_ && m.nl.seq != last_seq_ + 1)
      out << fmt::format("- skipped {}\n", static_cast<int>(m.nl.seq - (last_seq_ + 1)));
    last_seq_ = m.nl.seq;
    last_seq_known_ = true;
  }
  std::string key = "-";
  if (cmd != Cmd::kInitialStateDone) {
    key = std::string(object);
    if (ctx && ctx->Find(a84::ctx_resource_name)) key += " name:" + res;
    if (cmd == Cmd::kConnectionState || cmd == Cmd::kPeerDeviceState || cmd == Cmd::kHelper)
      key += " peer-node-id:0";
    if (ctx && ctx->Find(a84::ctx_peer_addr)) key += " conn-name:peer";
    if (ctx && ctx->Find(a84::ctx_volume))
      key += fmt::format(" volume:{}", *ctx->GetU32(a84::ctx_volume));
    if (m.minor != genl::kMinorNone) key += fmt::format(" minor:{}", m.minor);
  }
  std::string line = fmt::format("{} {}", kActions[action], key);
  const Message* old = nullptr;
  size_t old_idx = known_.size();
  for (size_t i = 0; i < known_.size(); ++i) {
    if (known_[i].first == key) {
      old = &known_[i].second;
      old_idx = i;
    }
  }
  bool destroy = action == 3;
  auto stat = [&](Set s) { return statistics_ && m.Find(s) != nullptr; };
  switch (cmd) {
    case Cmd::kResourceState:
      if (destroy || !m.Find(Set::kResourceInfo)) break;
      if (Changed(old, m, Set::kResourceInfo, a84::res_role))
        line +=
            fmt::format(" role:{}", genl::v84::RoleName(Num(m, Set::kResourceInfo, a84::res_role)));
      if (Changed(old, m, Set::kResourceInfo, a84::res_susp) ||
          Changed(old, m, Set::kResourceInfo, a84::res_susp_nod) ||
          Changed(old, m, Set::kResourceInfo, a84::res_susp_fen))
        line += " suspended:" + SuspWord(m);
      if (stat(Set::kResourceStatistics) &&
          Changed(old, m, Set::kResourceStatistics, a84::res_stat_write_ordering)) {
        std::string_view wo =
            WriteOrdering(Num(m, Set::kResourceStatistics, a84::res_stat_write_ordering));
        if (!wo.empty()) line += fmt::format(" write-ordering:{}", wo);
      }
      break;
    case Cmd::kDeviceState:
      if (destroy || !m.Find(Set::kDeviceInfo)) break;
      if (Changed(old, m, Set::kDeviceInfo, a84::dev_disk_state))
        line += fmt::format(" disk:{}",
                            genl::v84::DiskName(Num(m, Set::kDeviceInfo, a84::dev_disk_state)));
      if (stat(Set::kDeviceStatistics)) {
        Set s = Set::kDeviceStatistics;
        line += fmt::format(
            " size:{} read:{} written:{} al-writes:{} bm-writes:{} upper-pending:{} "
            "lower-pending:{}",
            Num(m, s, a84::dev_size) / 2, Num(m, s, a84::dev_read) / 2,
            Num(m, s, a84::dev_write) / 2, Num(m, s, a84::dev_al_writes),
            Num(m, s, a84::dev_bm_writes), Num(m, s, a84::dev_upper_pending),
            Num(m, s, a84::dev_lower_pending));
        if (Changed(old, m, s, a84::dev_al_suspended))
          line += fmt::format(" al-suspended:{}", Num(m, s, a84::dev_al_suspended) ? "yes" : "no");
        if (Changed(old, m, s, a84::dev_upper_blocked) ||
            Changed(old, m, s, a84::dev_lower_blocked)) {
          std::string b;
          if (Num(m, s, a84::dev_upper_blocked)) b = "upper";
          if (Num(m, s, a84::dev_lower_blocked)) b += b.empty() ? "lower" : ",lower";
          line += " blocked:" + (b.empty() ? std::string("no") : b);
        }
      }
      break;
    case Cmd::kConnectionState:
      if (destroy || !m.Find(Set::kConnectionInfo)) break;
      if (Changed(old, m, Set::kConnectionInfo, a84::conn_connection_state))
        line += fmt::format(" connection:{}",
                            ConnWord(Num(m, Set::kConnectionInfo, a84::conn_connection_state)));
      if (Changed(old, m, Set::kConnectionInfo, a84::conn_role))
        line += fmt::format(" role:{}",
                            genl::v84::RoleName(Num(m, Set::kConnectionInfo, a84::conn_role)));
      if (stat(Set::kConnectionStatistics) &&
          Changed(old, m, Set::kConnectionStatistics, a84::conn_congested))
        line += fmt::format(" congested:{}",
                            Num(m, Set::kConnectionStatistics, a84::conn_congested) ? "yes" : "no");
      break;
    case Cmd::kPeerDeviceState:
      if (destroy || !m.Find(Set::kPeerDeviceInfo)) break;
      if (Changed(old, m, Set::kPeerDeviceInfo, a84::peer_repl_state))
        line += fmt::format(" replication:{}",
                            ReplWord(Num(m, Set::kPeerDeviceInfo, a84::peer_repl_state)));
      if (Changed(old, m, Set::kPeerDeviceInfo, a84::peer_disk_state))
        line +=
            fmt::format(" peer-disk:{}",
                        genl::v84::DiskName(Num(m, Set::kPeerDeviceInfo, a84::peer_disk_state)));
      if (Changed(old, m, Set::kPeerDeviceInfo, a84::peer_resync_susp_user) ||
          Changed(old, m, Set::kPeerDeviceInfo, a84::peer_resync_susp_peer) ||
          Changed(old, m, Set::kPeerDeviceInfo, a84::peer_resync_susp_dependency))
        line += " resync-suspended:" + ResyncSuspWord(m);
      if (stat(Set::kPeerDeviceStatistics)) {
        Set s = Set::kPeerDeviceStatistics;
        line +=
            fmt::format(" received:{} sent:{} out-of-sync:{} pending:{} unacked:{}",
                        Num(m, s, a84::peer_dev_received) / 2, Num(m, s, a84::peer_dev_sent) / 2,
                        Num(m, s, a84::peer_dev_out_of_sync) / 2, Num(m, s, a84::peer_dev_pending),
                        Num(m, s, a84::peer_dev_unacked));
      }
      break;
    case Cmd::kHelper: {
      const genl::Tla* h = m.Find(Set::kHelper);
      if (!h) break;
      line += fmt::format(" helper:{}", h->GetStr(a84::helper_name).value_or(""));
      if (action == 5) line += fmt::format(" status:{}", h->GetU32(a84::helper_status).value_or(0));
      break;
    }
    default:
      break;
  }
  out << line << "\n";
  if (cmd != Cmd::kInitialStateDone && cmd != Cmd::kHelper) {
    if (destroy) {
      if (old) known_.erase(known_.begin() + static_cast<long>(old_idx));
    } else if (old) {
      // Keep the previous statistics when this message has none.
      Message merged = m;
      for (Set s : {Set::kResourceStatistics, Set::kDeviceStatistics, Set::kConnectionStatistics,
                    Set::kPeerDeviceStatistics}) {
        if (!merged.Find(s) && known_[old_idx].second.Find(s))
          merged.tlas.push_back(*known_[old_idx].second.Find(s));
      }
      known_[old_idx].second = std::move(merged);
    } else {
      known_.emplace_back(key, m);
    }
  }
  out.flush();
  return now_ && cmd == Cmd::kInitialStateDone;
}

int Events2For84(genl::Client& client, const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err) {
  bool now = false, stats = false;
  std::string objname = "all";
  bool have_obj = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--now" || a == "-n")
      now = true;
    else if (a == "--statistics" || a == "-s")
      stats = true;
    else if (!a.starts_with("-") && !have_obj) {
      objname = a;
      have_obj = true;
    } else {
      err << "drbdsetup events2: unrecognized option '" << a << "'\n";
      return 20;
    }
  }
  if (!now) {
    genl::Status s = client.SubscribeEvents();
    if (!s.ok()) {
      err << objname << ": " << s.error().message << "\n";
      return 20;
    }
  }
  Message req = genl::MakeRequest(Cmd::kGetInitialState);
  req.nl.flags = genl::kNlmFRequest | genl::kNlmFDump;
  auto seq = client.Send(req);
  if (!seq.ok()) {
    err << objname << ": " << seq.error().message << "\n";
    return 20;
  }
  Events84Printer p(stats, now, objname);
  for (;;) {
    auto ms = client.ReceiveMessages(-1);
    if (!ms.ok()) {
      err << objname << ": " << ms.error().message << "\n";
      return 20;
    }
    for (const Message& m : *ms)
      if (p.Feed(m, out)) return 0;
  }
}

}  // namespace drbd::setup
