// SPDX-License-Identifier: GPL-2.0-or-later
// The 8.4 command table, its command-line parsing (options derived from the
// 8.4 genl table, lib/spec/genl84.def), request encoding, the state
// queries role/cstate/dstate over DRBD_ADM_GET_STATUS, and the refusal of
// DRBD 9-only commands with one line that says what to do instead.
#include "drbdsetup/drbdsetup84.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <ostream>
#include <string_view>

#include "drbdsetup/check_resize.h"
#include "drbdsetup/events84.h"
#include "drbdsetup/options84.h"
#include "drbdsetup/show84.h"
#include "drbdsetup/status84.h"
#include "lib/events/text.h"
#include "lib/genl/drbd_codes.h"
#include "lib/genl/family84.h"
#include "lib/genl/state84.h"
#include "lib/md/format.h"
#include "lib/md/gi.h"

namespace drbd::setup {
namespace {

namespace a84 = genl::v84::attr;
using genl::Cmd;
using genl::Set;

// How a command addresses its object (drbdsetup-84's CTX_*).
enum class Ctx { kMinor, kResource, kResourceAndConnection, kConnection, kNewMinor };

enum class Query { kNone, kRole, kCstate, kDstate, kGetGi, kShowGi, kShStatus, kWaitConnect, kWaitSync, kCheckResize };

struct Cmd84 {
  std::string_view name;
  Cmd cmd;
  Ctx ctx;
  Set payload;            // options' set; kCfgReply (1) = no payload
  std::string_view args;  // usage of the positional arguments
  Query query = Query::kNone;
};

constexpr Set kNoPayload = Set::kCfgReply;

// The 8.4 command set (drbdsetup-84 "help"), config commands and queries.
constexpr Cmd84 kCmds[] = {
    {"primary", Cmd::kPrimary, Ctx::kMinor, Set::kSetRoleParms, "{minor}"},
    {"secondary", Cmd::kSecondary, Ctx::kMinor, kNoPayload, "{minor}"},
    {"attach", Cmd::kAttach, Ctx::kMinor, Set::kDiskConf,
     "{minor} {lower_dev} {meta_data_dev} {meta_data_index}"},
    {"disk-options", Cmd::kChgDiskOpts, Ctx::kMinor, Set::kDiskConf, "{minor}"},
    {"detach", Cmd::kDetach, Ctx::kMinor, Set::kDetachParms, "{minor}"},
    {"connect", Cmd::kConnect, Ctx::kResourceAndConnection, Set::kNetConf,
     "{resource} [{af}:]{local_addr}[:{port}] [{af}:]{remote_addr}[:{port}]"},
    {"net-options", Cmd::kChgNetOpts, Ctx::kConnection, Set::kNetConf,
     "[{af}:]{local_addr}[:{port}] [{af}:]{remote_addr}[:{port}]"},
    {"disconnect", Cmd::kDisconnect, Ctx::kConnection, Set::kDisconnectParms,
     "[{af}:]{local_addr}[:{port}] [{af}:]{remote_addr}[:{port}]"},
    {"resize", Cmd::kResize, Ctx::kMinor, Set::kResizeParms, "{minor}"},
    {"resource-options", Cmd::kResourceOpts, Ctx::kResource, Set::kResourceOpts, "{resource}"},
    {"new-current-uuid", Cmd::kNewCUuid, Ctx::kMinor, Set::kNewCUuidParms, "{minor}"},
    {"invalidate", Cmd::kInvalidate, Ctx::kMinor, kNoPayload, "{minor}"},
    {"invalidate-remote", Cmd::kInvalPeer, Ctx::kMinor, kNoPayload, "{minor}"},
    {"pause-sync", Cmd::kPauseSync, Ctx::kMinor, kNoPayload, "{minor}"},
    {"resume-sync", Cmd::kResumeSync, Ctx::kMinor, kNoPayload, "{minor}"},
    {"suspend-io", Cmd::kSuspendIo, Ctx::kMinor, kNoPayload, "{minor}"},
    {"resume-io", Cmd::kResumeIo, Ctx::kMinor, kNoPayload, "{minor}"},
    {"outdate", Cmd::kOutdate, Ctx::kMinor, kNoPayload, "{minor}"},
    {"verify", Cmd::kStartOv, Ctx::kMinor, Set::kStartOvParms, "{minor}"},
    {"down", Cmd::kDown, Ctx::kResource, kNoPayload, "{resource}"},
    {"role", Cmd::kGetStatus, Ctx::kMinor, kNoPayload, "{minor}", Query::kRole},
    {"state", Cmd::kGetStatus, Ctx::kMinor, kNoPayload, "{minor}", Query::kRole},
    {"cstate", Cmd::kGetStatus, Ctx::kMinor, kNoPayload, "{minor}", Query::kCstate},
    {"dstate", Cmd::kGetStatus, Ctx::kMinor, kNoPayload, "{minor}", Query::kDstate},
    {"get-gi", Cmd::kGetStatus, Ctx::kMinor, kNoPayload, "{minor}", Query::kGetGi},
    {"show-gi", Cmd::kGetStatus, Ctx::kMinor, kNoPayload, "{minor}", Query::kShowGi},
    {"sh-status", Cmd::kGetStatus, Ctx::kMinor, kNoPayload, "{minor}", Query::kShStatus},
    {"check-resize", Cmd::kGetStatus, Ctx::kMinor, kNoPayload, "{minor}", Query::kCheckResize},
    {"wait-connect", Cmd::kGetStatus, Ctx::kMinor, kNoPayload, "{minor}", Query::kWaitConnect},
    {"wait-sync", Cmd::kGetStatus, Ctx::kMinor, kNoPayload, "{minor}", Query::kWaitSync},
    {"new-resource", Cmd::kNewResource, Ctx::kResource, Set::kResourceOpts, "{resource}"},
    {"new-minor", Cmd::kNewMinor, Ctx::kNewMinor, kNoPayload, "{resource} {minor} {volume}"},
    {"del-minor", Cmd::kDelMinor, Ctx::kMinor, kNoPayload, "{minor}"},
    {"del-resource", Cmd::kDelResource, Ctx::kResource, kNoPayload, "{resource}"},
};

// DRBD 9 commands an 8.4 module cannot do, with what to use instead.
struct Unsupported {
  std::string_view name;
  std::string_view instead;
};
constexpr Unsupported kNineOnly[] = {
    {"new-peer", "use 'connect {resource} {local_addr} {remote_addr}'"},
    {"del-peer", "use 'disconnect {local_addr} {remote_addr}'"},
    {"new-path", "the path is given to 'connect' as local and remote address"},
    {"del-path", "use 'disconnect {local_addr} {remote_addr}'"},
    {"peer-device-options", "resync options are disk options in 8.4: use 'disk-options {minor}'"},
    {"forget-peer", "an 8.4 resource has exactly one peer"},
    {"rename-resource", "use 'down' and set the resource up under its new name"},
};

bool ParseMinor(std::string_view s, uint32_t& minor) {
  if (s.starts_with("/dev/drbd/"))
    s.remove_prefix(10);
  else if (s.starts_with("/dev/drbd"))
    s.remove_prefix(9);
  else if (s.starts_with("minor-"))
    s.remove_prefix(6);
  if (s.empty()) return false;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || n > 0xFFFFF) return false;
    n = n * 10 + (c - '0');
  }
  minor = static_cast<uint32_t>(n);
  return true;
}

// [af:]addr[:port] -> sockaddr bytes (port 7788 if absent, as drbd-utils).
bool ParseAddress(std::string_view s, std::string& out) {
  std::string_view af = "ipv4";
  if (s.starts_with("ipv4:") || s.starts_with("ipv6:")) {
    af = s.substr(0, 4);
    s.remove_prefix(5);
  }
  std::string host;
  uint16_t port = 7788;
  if (af == "ipv6" && s.starts_with("[")) {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(s.substr(1, close - 1));
    s.remove_prefix(close + 1);
    if (s.starts_with(":")) port = static_cast<uint16_t>(std::stoul(std::string(s.substr(1))));
  } else {
    size_t colon = s.rfind(':');
    host = std::string(s.substr(0, colon));
    if (colon != std::string_view::npos) {
      std::string p(s.substr(colon + 1));
      if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos) return false;
      port = static_cast<uint16_t>(std::stoul(p));
    }
  }
  if (af == "ipv4") {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) return false;
    out.assign(reinterpret_cast<const char*>(&sin), sizeof sin);
  } else {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.c_str(), &sin6.sin6_addr) != 1) return false;
    out.assign(reinterpret_cast<const char*>(&sin6), sizeof sin6);
  }
  return true;
}

// The option contexts (lib/spec/options84.def) a command takes.
uint16_t OptionContexts(Cmd c) {
  switch (c) {
    case Cmd::kNewResource:
    case Cmd::kResourceOpts:
      return o84::kResource;
    case Cmd::kAttach:
      return o84::kDisk | o84::kAttachOnly;
    case Cmd::kChgDiskOpts:
      return o84::kDisk;
    case Cmd::kConnect:
      return o84::kNet | o84::kConnectOnly;
    case Cmd::kChgNetOpts:
      return o84::kNet;
    case Cmd::kPrimary:
      return o84::kPrimary;
    case Cmd::kDetach:
      return o84::kDetach;
    case Cmd::kDisconnect:
      return o84::kDisconnect;
    case Cmd::kResize:
      return o84::kResize;
    case Cmd::kNewCUuid:
      return o84::kNewCUuid;
    case Cmd::kStartOv:
      return o84::kVerify;
    default:
      return 0;
  }
}

const Cmd84* FindCmd84(std::string_view name) {
  for (const Cmd84& c : kCmds)
    if (c.name == name) return &c;
  return nullptr;
}

std::string Usage(const Cmd84& c) {
  return fmt::format("USAGE:\n drbdsetup {} {}\n", c.name, c.args);
}

// get-gi / show-gi from GET_STATUS's state_info, as drbdsetup-84 prints
// them (uuids: current, bitmap, history start, history end).
int PrintGi(const genl::Tla& si, const genl::v84::State84& s, bool pretty, std::ostream& out,
            std::ostream& err) {
  if (s.conn == 0 && s.disk == 0) {
    err << "Device is unconfigured\n";
    return 1;
  }
  if (s.disk == 0) {
    err << "Device has no disk\n";
    return 1;
  }
  std::optional<std::string_view> raw = si.GetStr(a84::uuids);
  if (!raw) {
    err << "No uuids found in reply!\nMaybe you need to upgrade your userland tools?\n";
    return 0;
  }
  uint64_t u[4] = {};
  std::memcpy(u, raw->data(), std::min(raw->size(), sizeof u));
  uint32_t f = si.GetU32(a84::disk_flags).value_or(0);
  std::string line = md::GiLineV08(u[0], u[1], u[2], u[3], f);
  if (!pretty) {
    out << line;
    return 0;
  }
  out << md::kShowGiHeader << line << md::kShowGiV08Legend;
  out << fmt::format("flags:{} {}, {}, {}{}{}\n", (f & md::kMdfCrashedPrimary) ? " crashed" : "",
                     (f & md::kMdfPrimaryInd) ? "Primary" : "Secondary",
                     (f & md::kMdfConnectedInd) ? "Connected" : "StandAlone",
                     (f & md::kMdfConsistent)
                         ? ((f & md::kMdfWasUpToDate) ? "UpToDate" : "Outdated")
                         : "Inconsistent",
                     (f & md::kMdfFullSync) ? ", need full sync" : "",
                     (f & md::kMdfPeerOutDated) ? ", peer Outdated" : "");
  out << "meta-data: " << ((f & md::kMdfAlClean) ? "clean" : "need apply-al") << "\n";
  return 0;
}

// A client speaking genl version 1 over the transport the environment
// selects; null after printing drbd-utils' message.
std::unique_ptr<genl::Client> Open84(std::ostream& err) {
  auto t = genl::OpenTransportFromEnv();
  if (!t.ok()) {
    err << genl::kNoFamilyText << "\n";
    return nullptr;
  }
  auto c = genl::Client::Connect(std::move(*t), 3000, genl::kFamilyVersion84);
  if (!c.ok()) {
    err << c.error().message << "\n";
    return nullptr;
  }
  return std::move(*c);
}

}  // namespace

// drbdsetup-84 sh-status for one minor: shell variables from GET_STATUS
// (the `drbdadm sh-status` building block). `r` null: the minor is unknown.
void PrintShStatus84(uint32_t minor, const genl::Message* r, std::ostream& out) {
  out << "_minor=" << minor << "\n";
  const genl::Tla* ctx = r ? r->Find(Set::kCfgContext) : nullptr;
  const genl::Tla* si = r ? r->Find(genl::v84::kStateInfo) : nullptr;
  if (ctx != nullptr) {
    if (std::optional<std::string_view> n = ctx->GetStr(a84::ctx_resource_name)) {
      std::string esc;
      for (char ch : *n) {
        const bool plain = std::isalnum(static_cast<unsigned char>(ch)) != 0 ||
                           std::string_view("%+-./:=@_").find(ch) != std::string_view::npos;
        if (!plain) esc += '\\';
        esc += ch;
      }
      out << "_res_name=" << esc << "\n";
    }
  }
  out << "_volume="
      << static_cast<int32_t>(ctx != nullptr ? ctx->GetU32(a84::ctx_volume).value_or(~0U) : ~0U)
      << "\n";
  std::optional<uint32_t> raw = si != nullptr ? si->GetU32(a84::current_state) : std::nullopt;
  genl::v84::State84 s = genl::v84::DecodeState(raw.value_or(0));
  if (s.conn == 0 && s.disk == 0 && s.role != 1) {
    out << "_known=" << (raw ? "Unconfigured" : "NA # not available or not yet created")
        << "\n\n_cstate=Unconfigured\n_role=\n_peer=\n_disk=\n_pdsk=\n_flags_susp=\n"
           "_flags_aftr_isp=\n_flags_peer_isp=\n_flags_user_isp=\n_resynced_percent=\n";
  } else {
    using genl::v84::ConnName, genl::v84::DiskName, genl::v84::RoleName;
    out << "_known=Configured\n\n_cstate=" << ConnName(s.conn) << "\n_role=" << RoleName(s.role)
        << "\n_peer=" << RoleName(s.peer) << "\n_disk=" << DiskName(s.disk)
        << "\n_pdsk=" << DiskName(s.pdsk) << "\n\n";
    out << "_flags_susp=" << (s.susp ? "1" : "") << "\n_flags_aftr_isp=" << (s.aftr_isp ? "1" : "")
        << "\n_flags_peer_isp=" << (s.peer_isp ? "1" : "")
        << "\n_flags_user_isp=" << (s.user_isp ? "1" : "") << "\n\n";
    out << "_resynced_percent=";
    std::optional<uint64_t> total = si->GetU64(a84::bits_rs_total);
    if (total && *total != 0) {
      // The kernel's bitmap counts, in 1 KiB or 64 KiB units so that the
      // per-mille arithmetic cannot overflow.
      const unsigned shift = *total >= (1ULL << 32) ? 16 : 10;
      const uint64_t left =
          (si->GetU64(a84::bits_oos).value_or(0) - si->GetU64(a84::bits_rs_failed).value_or(0)) >>
          shift;
      const uint64_t all = 1 + (*total >> shift);
      const unsigned per_mille = static_cast<unsigned>(1000 - left * 1000 / all);
      out << per_mille / 10 << "." << per_mille % 10;
    }
    out << "\n";
  }
  out << "\n_sh_status_process\n\n\n";
}

bool BuildRequest84(const std::vector<std::string>& args, Request84& req, std::string& err) {
  if (args.empty()) {
    err = "USAGE: drbdsetup command device arguments options\n";
    return false;
  }
  const Cmd84* c = FindCmd84(args[0]);
  if (!c) {
    for (const Unsupported& u : kNineOnly) {
      if (u.name == args[0]) {
        err = fmt::format(
            "drbdsetup: '{}' needs a DRBD 9 kernel module; the loaded module is 8.4: {}\n", u.name,
            u.instead);
        return false;
      }
    }
    err = fmt::format("{}: Unknown command\n", args[0]);
    return false;
  }
  genl::Message& m = req.msg;
  m = genl::MakeRequest(c->cmd);
  // MakeRequest flags dumps by the DRBD 9 table; the 8.4 table decides.
  const genl::CmdDesc* cd = genl::v84::FindCmd(static_cast<uint8_t>(c->cmd));
  m.nl.flags = genl::kNlmFRequest | (cd && cd->kind == genl::CmdKind::kDump ? genl::kNlmFDump : 0);
  m.version = genl::v84::kFamilyVersion;
  std::vector<std::string_view> pos;
  genl::Tla payload{c->payload, {}};
  bool have_payload = false;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (!a.starts_with("--")) {
      pos.push_back(a);
      continue;
    }
    a.remove_prefix(2);
    size_t eq = a.find('=');
    std::string_view name = a.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : a.substr(eq + 1);
    bool bare = eq == std::string_view::npos;
    if (name == "set-defaults" && (c->cmd == Cmd::kChgDiskOpts || c->cmd == Cmd::kChgNetOpts ||
                                   c->cmd == Cmd::kResourceOpts)) {
      m.flags |= genl::kFlagSetDefaults;
      continue;
    }
    if (c->cmd == Cmd::kPrimary && name == "overwrite-data-of-peer") name = "force";
    const o84::Opt* opt = o84::Find(OptionContexts(c->cmd), name);
    if (!opt) {
      err = fmt::format("drbdsetup {}: unrecognized option '--{}'\n{}", c->name, name, Usage(*c));
      return false;
    }
    if (!o84::Put(payload, *opt, value, bare)) {
      err = fmt::format("Option --{}: invalid argument '{}'\n", name, value);
      return false;
    }
    have_payload = true;
  }
  size_t want = 0;
  switch (c->ctx) {
    case Ctx::kMinor:
      want = 1;
      break;
    case Ctx::kResource:
      want = 1;
      break;
    case Ctx::kResourceAndConnection:
      want = 3;
      break;
    case Ctx::kConnection:
      want = 2;
      break;
    case Ctx::kNewMinor:
      want = 3;
      break;
  }
  if (c->cmd == Cmd::kAttach) want = 4;
  if (pos.size() < want) {
    err = fmt::format("Missing argument\n{}", Usage(*c));
    return false;
  }
  if (pos.size() > want) {
    err = fmt::format("Excess arguments:");
    for (size_t i = want; i < pos.size(); ++i) err += fmt::format(" {}", pos[i]);
    err += "\n";
    return false;
  }
  req.objname = std::string(pos[0]);
  auto bad_address = [&](std::string_view s) {
    err = fmt::format("{}: invalid address '{}'\n", c->name, s);
    return false;
  };
  switch (c->ctx) {
    case Ctx::kMinor:
      if (!ParseMinor(pos[0], m.minor)) {
        err = fmt::format("Cannot determine minor device number of device '{}'\n", pos[0]);
        return false;
      }
      break;
    case Ctx::kResource:
      m.Get(Set::kCfgContext).PutStr(a84::ctx_resource_name, pos[0]);
      break;
    case Ctx::kResourceAndConnection:
    case Ctx::kConnection: {
      size_t first = c->ctx == Ctx::kConnection ? 0 : 1;
      std::string mine, peer;
      if (!ParseAddress(pos[first], mine)) return bad_address(pos[first]);
      if (!ParseAddress(pos[first + 1], peer)) return bad_address(pos[first + 1]);
      genl::Tla& ctx = m.Get(Set::kCfgContext);
      if (c->ctx == Ctx::kResourceAndConnection) ctx.PutStr(a84::ctx_resource_name, pos[0]);
      auto bytes = [](const std::string& s) {
        return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
      };
      ctx.PutBin(a84::ctx_my_addr, bytes(mine));
      ctx.PutBin(a84::ctx_peer_addr, bytes(peer));
      break;
    }
    case Ctx::kNewMinor: {
      uint32_t vol = 0;
      if (!ParseMinor(pos[1], m.minor) || !ParseMinor(pos[2], vol)) {
        err = fmt::format("Cannot determine minor device number of device '{}'\n", pos[1]);
        return false;
      }
      m.Get(Set::kCfgContext).PutStr(a84::ctx_resource_name, pos[0]).PutU32(a84::ctx_volume, vol);
      req.objname = std::string(pos[0]);
      break;
    }
  }
  if (c->cmd == Cmd::kAttach) {
    int32_t idx = 0;
    if (pos[3] == "internal")
      idx = -3;  // DRBD_MD_INDEX_FLEX_INT
    else if (pos[3] == "flexible")
      idx = -2;  // DRBD_MD_INDEX_FLEX_EXT
    else
      idx = static_cast<int32_t>(std::strtol(std::string(pos[3]).c_str(), nullptr, 10));
    genl::Tla disk{Set::kDiskConf, {}};
    disk.PutStr(a84::backing_dev, pos[1])
        .PutStr(a84::meta_dev, pos[2])
        .PutS32(a84::meta_dev_idx, idx);
    for (genl::Attr& at : payload.attrs) disk.attrs.push_back(std::move(at));
    payload = std::move(disk);
    have_payload = true;
  }
  if (have_payload) m.tlas.push_back(std::move(payload));
  return true;
}

int RunDrbdsetup84(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  return RunDrbdsetup84With(argv, out, err, nullptr);
}

int RunDrbdsetup84With(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err,
                       genl::Client* client) {
  std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  if (!args.empty() && args[0] == "status") {
    for (const std::string& a : args) {
      if (a == "--json") {
        err << "drbdsetup: status --json needs a DRBD 9 kernel module; the loaded module is "
               "8.4: use 'drbdsetup status' or /proc/drbd\n";
        return 20;
      }
    }
  }
  // drbdsetup-84: a known command without the module loaded is these two
  // lines and exit 20, whatever the command.
  bool known = !args.empty() && (FindCmd84(args[0]) || args[0] == "status" || args[0] == "show" ||
                                 args[0] == "events2" || args[0] == "events");
  const char* sim = std::getenv("DRBD_SIM_SOCKET");
  struct stat st {};
  if (known && !client && (sim == nullptr || *sim == '\0') && stat("/proc/drbd", &st) != 0) {
    err << "Could not stat /proc/drbd: No such file or directory\n"
           "Make sure that the DRBD kernel module is installed and can be loaded!\n";
    return 20;
  }
  // wait-connect / wait-sync: the timeouts (seconds, 0 = none) and
  // --wait-after-sb are theirs, not the kernel's.
  const std::string cmd = args.empty() ? "" : args[0];
  int wfc[3] = {0, 0, 0};  // wfc, degr-wfc, outdated-wfc (drbd_limits.h defaults)
  bool wait_after_sb = false;
  if (cmd == "wait-connect" || cmd == "wait-sync") {
    std::vector<std::string> rest;
    constexpr std::string_view kNames[3] = {"--wfc-timeout", "--degr-wfc-timeout",
                                            "--outdated-wfc-timeout"};
    for (size_t i = 0; i < args.size(); ++i) {
      std::string_view a = args[i];
      bool ours = false;
      for (int k = 0; k < 3; ++k) {
        std::string_view name = kNames[k];
        if (a.starts_with(name) && (a.size() == name.size() || a[name.size()] == '=')) {
          std::string v = a.size() > name.size() ? std::string(a.substr(name.size() + 1))
                          : i + 1 < args.size() ? args[++i]
                                                : "";
          wfc[k] = std::atoi(v.c_str());
          ours = true;
        }
      }
      if (a == "--wait-after-sb" || a.starts_with("--wait-after-sb=")) {
        wait_after_sb = true;
        ours = true;
      }
      if (!ours) rest.push_back(args[i]);
    }
    args = std::move(rest);
    // drbdsetup-84 choose_timeout(): the shorter ones default to wfc.
    if (wfc[0] > 0 && (wfc[0] < wfc[1] || wfc[1] == 0)) {
      wfc[1] = wfc[0];
      err << "degr-wfc-timeout has to be shorter than wfc-timeout\n"
             "degr-wfc-timeout implicitly set to wfc-timeout ("
          << wfc[1] << "s)\n";
    }
    if (wfc[1] > 0 && (wfc[1] < wfc[2] || wfc[2] == 0)) {
      wfc[2] = wfc[0];
      err << "outdated-wfc-timeout has to be shorter than degr-wfc-timeout\n"
             "outdated-wfc-timeout implicitly set to degr-wfc-timeout ("
          << wfc[1] << "s)\n";
    }
  }
  // Usage errors come before the module is contacted, as in drbdsetup-84.
  Request84 req;
  if (cmd != "status" && cmd != "show" && cmd != "events2" && cmd != "events") {
    std::string e;
    if (!BuildRequest84(args, req, e)) {
      err << e;
      return 20;
    }
  }
  std::unique_ptr<genl::Client> own;
  if (!client) {
    own = Open84(err);
    if (!own) return 20;
    client = own.get();
  }
  if (cmd == "status") {
    client->set_rewrite(genl::v84::RewriteTo9);
    return Status84(*client, args, out, err, events::TerminalColumns(1));
  }
  if (cmd == "show") return Show84(*client, args, out, err);
  if (cmd == "events2") return Events2For84(*client, args, out, err);
  if (cmd == "events") return EventsFor84(*client, args, out, err);
  const Cmd84* c = FindCmd84(args[0]);
  if (c->query == Query::kWaitConnect || c->query == Query::kWaitSync) {
    // Which timeout applies: the kernel says whether the node was degraded
    // or its peer outdated (DRBD_ADM_GET_TIMEOUT_TYPE).
    genl::Message tq = genl::MakeRequest(Cmd::kGetTimeoutType);
    tq.nl.flags = genl::kNlmFRequest;
    tq.version = genl::v84::kFamilyVersion;
    tq.minor = req.msg.minor;
    auto tr = client->Call(tq);
    if (!tr.ok() || tr->empty() ||
        tr->front().ret_code() != genl::ToInt(genl::RetCode::kNoError)) {
      const bool no_minor =
          tr.ok() && !tr->empty() &&
          tr->front().ret_code() == genl::ToInt(genl::RetCode::kErrMinorInvalid);
      err << "error determining which timeout to use: "
          << (no_minor ? "minor not available" : "error receiving netlink reply") << "\n";
      return 20;
    }
    const genl::Tla* tp = tr->front().Find(Set::kTimeoutParms);
    const uint32_t type = tp != nullptr ? tp->GetU32(a84::timeout_type).value_or(0) : 0;
    const int timeout_s = type == 1 ? wfc[1] : type == 2 ? wfc[2] : wfc[0];  // UT_DEGRADED, UT_PEER_OUTDATED
    // Polls the state every 100 ms until connected (Connected or a
    // sync/verify state) for wait-connect, Connected for wait-sync; a
    // StandAlone or disconnecting device ends the wait too unless
    // --wait-after-sb (drbdsetup-84 w_connected_state/w_synced_state).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    for (;;) {
      auto rep = client->Call(req.msg);
      if (!rep.ok()) {
        err << req.objname << ": " << rep.error().message << "\n";
        return 20;
      }
      const genl::Tla* si = rep->empty() ? nullptr : rep->front().Find(genl::v84::kStateInfo);
      if (si == nullptr || !si->GetU32(a84::current_state)) {
        genl::ReplyReport rr = genl::ReportReply(req.objname, rep->front());
        err << rr.text;
        return rr.exit_code ? rr.exit_code : 10;
      }
      const uint32_t conn = genl::v84::DecodeState(*si->GetU32(a84::current_state)).conn;
      constexpr uint32_t kUnconnected = 2, kConnected = 10;
      const bool done =
          c->query == Query::kWaitConnect ? conn >= kConnected : conn == kConnected;
      if (done || (!wait_after_sb && conn < kUnconnected)) return 0;
      if (timeout_s > 0 && std::chrono::steady_clock::now() >= deadline) return 5;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  auto replies = client->Call(req.msg);
  if (!replies.ok()) {
    err << req.objname << ": " << replies.error().message << "\n";
    return 20;
  }
  if (c->query == Query::kShStatus && replies->empty()) {
    PrintShStatus84(req.msg.minor, nullptr, out);
    return 0;
  }
  if (replies->empty()) return 0;
  const genl::Message& r = replies->front();
  if (c->query == Query::kShStatus) {
    const genl::Tla* si = r.Find(genl::v84::kStateInfo);
    PrintShStatus84(req.msg.minor, si != nullptr ? &r : nullptr, out);
    return 0;
  }
  if (c->query == Query::kCheckResize) {
    // GET_STATUS of a minor carries its disk configuration.
    if (r.ret_code() != genl::ToInt(genl::RetCode::kNoError)) {
      genl::ReplyReport rep = genl::ReportReply(req.objname, r);
      err << rep.text;
      return rep.exit_code ? rep.exit_code : 10;
    }
    const genl::Tla* dc = r.Find(Set::kDiskConf);
    std::optional<std::string_view> backing =
        dc != nullptr ? dc->GetStr(a84::backing_dev) : std::nullopt;
    if (!backing) {
      err << "Has no disk config, try with drbdmeta.\n";
      return 1;
    }
    return RecordBackingSize(req.msg.minor, *backing,
                             dc->GetS32(a84::meta_dev_idx).value_or(-1), err);
  }
  if (c->query != Query::kNone) {
    const genl::Tla* si = r.Find(genl::v84::kStateInfo);
    if (!si || !si->GetU32(a84::current_state)) {
      genl::ReplyReport rep = genl::ReportReply(req.objname, r);
      err << rep.text;
      return rep.exit_code ? rep.exit_code : 10;
    }
    genl::v84::State84 s = genl::v84::DecodeState(*si->GetU32(a84::current_state));
    if (c->query == Query::kGetGi || c->query == Query::kShowGi) {
      return PrintGi(*si, s, c->query == Query::kShowGi, out, err);
    }
    using genl::v84::ConnName, genl::v84::DiskName, genl::v84::RoleName;
    switch (c->query) {
      case Query::kRole:
        out << RoleName(s.role) << "/" << RoleName(s.peer) << "\n";
        break;
      case Query::kCstate:
        out << ConnName(s.conn) << "\n";
        break;
      case Query::kDstate:
        out << DiskName(s.disk) << "/" << DiskName(s.pdsk) << "\n";
        break;
      default:
        break;
    }
    return 0;
  }
  genl::ReplyReport rep = genl::ReportReply(req.objname, r);
  err << rep.text;
  if (c->cmd == Cmd::kDown && r.ret_code() == genl::ToInt(genl::RetCode::kErrResNotKnown)) return 0;
  return rep.exit_code;
}

}  // namespace drbd::setup
