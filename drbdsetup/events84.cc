// SPDX-License-Identifier: GPL-2.0-or-later
// events2 lines from 8.4 notifications (drbdsetup-84 print_notifications)
// and the 8.4 `events` broadcast lines (print_broadcast_events).
#include "drbdsetup/events84.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
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

std::string FormatEvent84(const Message& m) {
  if (m.ret_code() == genl::ToInt(genl::RetCode::kErrMinorInvalid)) return "";
  const genl::Tla* ctx = m.Find(Set::kCfgContext);
  if (ctx == nullptr) {
    // No context: a reply with only a text, newlines made underscores.
    const genl::Tla* reply = m.Find(Set::kCfgReply);
    std::optional<std::string_view> text =
        reply != nullptr ? reply->GetStr(a84::info_text) : std::nullopt;
    if (!text) return "";
    std::string t(*text);
    std::replace(t.begin(), t.end(), '\n', '_');
    return fmt::format("{} # {}\n", m.nl.seq, t);
  }
  const std::string res(ctx->GetStr(a84::ctx_resource_name).value_or(""));
  const genl::Tla* si = m.Find(genl::v84::kStateInfo);
  if (si == nullptr) return fmt::format("{} R - {}\n", m.nl.seq, res);
  const auto vol = static_cast<int32_t>(ctx->GetU32(a84::ctx_volume).value_or(~0U));
  const std::string mnv = fmt::format("{},{}[{}]", static_cast<int32_t>(m.minor), res, vol);
  auto state = [&](std::string_view tag, uint32_t raw) {
    using genl::v84::ConnName, genl::v84::DiskName, genl::v84::RoleName;
    const genl::v84::State84 s = genl::v84::DecodeState(raw);
    return fmt::format("{} {} {} {{ cs:{} ro:{}/{} ds:{}/{} {}{}{}{} }}\n", m.nl.seq, tag, mnv,
                       ConnName(s.conn), RoleName(s.role), RoleName(s.peer), DiskName(s.disk),
                       DiskName(s.pdsk), s.susp ? 's' : 'r', s.aftr_isp ? 'a' : '-',
                       s.peer_isp ? 'p' : '-', s.user_isp ? 'u' : '-');
  };
  // enum drbd_state_info_bcast_reason (8.4 drbd.h).
  enum : uint32_t { kStatusReply = 1, kStateChange, kHelperPre, kHelperPost, kSyncProgress };
  const uint32_t reason = si->GetU32(a84::sib_reason).value_or(0);
  switch (reason) {
    case kStateChange:
      return state("ST-prev", si->GetU32(a84::prev_state).value_or(0)) +
             state("ST-new", si->GetU32(a84::new_state).value_or(0)) +
             state("ST", si->GetU32(a84::current_state).value_or(0));
    case kStatusReply:
      return state("ST", si->GetU32(a84::current_state).value_or(0));
    case kHelperPre:
      return fmt::format("{} UH {} {}\n", m.nl.seq, mnv, si->GetStr(a84::helper).value_or(""));
    case kHelperPost:
      return fmt::format("{} UH-post {} {} 0x{:04x}\n", m.nl.seq, mnv,
                         si->GetStr(a84::helper).value_or(""),
                         si->GetU32(a84::helper_exit_code).value_or(0));
    case kSyncProgress: {
      // The per-mille arithmetic of sh-status (1 KiB or 64 KiB units).
      const uint64_t total = si->GetU64(a84::bits_rs_total).value_or(0);
      const unsigned shift = total >= (1ULL << 32) ? 16 : 10;
      const uint64_t left = (si->GetU64(a84::bits_oos).value_or(0) -
                             si->GetU64(a84::bits_rs_failed).value_or(0)) >>
                            shift;
      const auto per_mille = static_cast<unsigned>(1000 - left * 1000 / (1 + (total >> shift)));
      return fmt::format("{} SP {} {}.{}\n", m.nl.seq, mnv, per_mille / 10, per_mille % 10);
    }
    default:
      return fmt::format("{} ?? {} <other message, state info broadcast reason:{}>\n", m.nl.seq,
                         mnv, reason);
  }
}

int EventsFor84(genl::Client& client, const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  std::string objname = "all";
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i].starts_with("-") || objname != "all") {
      err << "drbdsetup events: unrecognized argument '" << args[i] << "'\n";
      return 20;
    }
    objname = args[i];
  }
  const bool by_minor = objname.find_first_not_of("0123456789") == std::string::npos;
  if (genl::Status s = client.SubscribeEvents(); !s.ok()) {
    err << objname << ": " << s.error().message << "\n";
    return 20;
  }
  Message req = genl::MakeRequest(Cmd::kGetStatus);
  req.version = genl::v84::kFamilyVersion;
  if (by_minor) {
    req.nl.flags = genl::kNlmFRequest;
    req.minor = static_cast<uint32_t>(std::stoul(objname));
  } else {
    req.nl.flags = genl::kNlmFRequest | genl::kNlmFDump;
    if (objname != "all") req.Get(Set::kCfgContext).PutStr(a84::ctx_resource_name, objname);
  }
  if (auto seq = client.Send(req); !seq.ok()) {
    err << objname << ": " << seq.error().message << "\n";
    return 20;
  }
  // Broadcasts of other objects are not shown.
  auto wanted = [&](const Message& m) {
    if (objname == "all") return true;
    if (by_minor) return m.minor == req.minor;
    const genl::Tla* ctx = m.Find(Set::kCfgContext);
    return ctx != nullptr && ctx->GetStr(a84::ctx_resource_name) == objname;
  };
  for (;;) {
    auto ms = client.ReceiveMessages(-1);
    if (!ms.ok()) {
      err << objname << ": " << ms.error().message << "\n";
      return 20;
    }
    for (const Message& m : *ms) {
      if (!wanted(m)) continue;
      out << FormatEvent84(m);
    }
    out.flush();
  }
}

}  // namespace drbd::setup
