// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdadm adjust`, after drbd-utils 9.22 drbdadm_adjust.c (behaviour only).
#include "drbdadm/adjust.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "drbdadm/commands.h"
#include "drbdadm/inproc.h"
#include "drbdadm/runner.h"
#include "lib/config/diag.h"
#include "lib/config/parser.h"
#include "lib/config/postparse.h"

namespace drbd::adm {
namespace {

constexpr std::string_view kShowSourceName = "drbdsetup show";

std::string RunCapture(std::vector<std::string> args, int* status);

std::ostream& Err(const AdmState& st) { return st.err != nullptr ? *st.err : std::cerr; }

// drbd-utils report_compare(): "[ne]" lines from -vvv, "[eq]" from -vvvv.
void ReportCompare(const AdmState& st, bool differs, const std::string& text) {
  if (st.verbose <= 3 - (differs ? 1 : 0)) return;
  Err(st) << (differs ? " [ne] " : " [eq] ") << text;
}

// %u of a C int: -1 (unset) prints as 4294967295.
std::string U(int v) { return std::to_string(static_cast<unsigned>(v)); }

// A NULL char* passed to %s prints "(null)" with glibc.
std::string S(const std::optional<std::string>& v) { return v ? *v : "(null)"; }

const cfg::OptionDef* FieldOf(cfg::OptContext ctx, std::string_view name) {
  return cfg::FindField(cfg::Context(ctx), name);
}

// Unknown options cannot come from our parser; compare them as text rather
// than aborting as drbd-utils does.
bool ValuesEqual(cfg::OptContext ctx, const cfg::Option& a, const cfg::Option& b) {
  const cfg::OptionDef* f = FieldOf(ctx, a.name);
  if (f == nullptr) return a.value == b.value && a.has_value == b.has_value;
  return cfg::IsEqual(*f, a.value, b.value);
}

bool ValueIsDefault(cfg::OptContext ctx, const cfg::Option& o) {
  const cfg::OptionDef* f = FieldOf(ctx, o.name);
  if (f == nullptr) return false;
  return cfg::IsDefault(*f, o.value);
}

// The configured backing disk: "none" means intentionally diskless.
const std::string* ConfDisk(const cfg::Volume& v) {
  if (!v.disk || *v.disk == "none") return nullptr;
  return &*v.disk;
}

bool HasRealDisk(const std::optional<std::string>& disk) { return disk && *disk != "none"; }

bool AddrEq(const cfg::Address* a, const cfg::Address* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return cfg::AddressesEqual(*a, *b);
}

// The path addresses as the show parser records them: `_this_host` is the
// local address, `_remote_host` the connect-to address.
const cfg::Address* MyAddress(const cfg::Path& p) {
  if (p.my_address != nullptr) return p.my_address;
  for (const auto& ha : p.hname_address_pairs)
    if (ha.name == "_this_host") return &ha.address;
  return nullptr;
}
const cfg::Address* ConnectTo(const cfg::Path& p) {
  if (p.connect_to != nullptr) return p.connect_to;
  for (const auto& ha : p.hname_address_pairs)
    if (ha.name == "_remote_host") return &ha.address;
  return nullptr;
}

cfg::Path* FindPathByAddrs(cfg::Connection& conn, const cfg::Path& pattern) {
  for (auto& path : conn.paths) {
    if (AddrEq(MyAddress(path), MyAddress(pattern)) && AddrEq(ConnectTo(path), ConnectTo(pattern)))
      return &path;
  }
  return nullptr;
}

// Rank of a `drbdsetup show` `_cstate` in DRBD's connection state order;
// absent ranks as StandAlone (drbd-utils >= 9.23: a show text without
// `_cstate` describes a StandAlone connection), a name DRBD does not know
// as -1.
int CstateRank(const std::string& cstate) {
  static constexpr std::string_view kStates[] = {
      "StandAlone",     "Disconnecting", "Unconnected", "Timeout",    "BrokenPipe",
      "NetworkFailure", "ProtocolError", "TearDown",    "Connecting", "Connected"};
  if (cstate.empty()) return 0;
  for (size_t i = 0; i < std::size(kStates); ++i) {
    if (kStates[i] == cstate) return static_cast<int>(i);
  }
  return -1;
}

constexpr int kRankStandAlone = 0;
constexpr int kRankConnecting = 8;
constexpr int kRankConnected = 9;

// Schedules del-path/new-path for the differences (after depends_on); true
// when the only path goes away, so the connection has to be (re)connected.
bool AdjustPaths(AdmState& st, const CmdCtx& ctx, cfg::Connection& running_conn,
                 DeferredRef depends_on) {
  CmdCtx tmp = ctx;
  int nr_running = 0;
  bool del_path = false;
  bool rv = false;
  for (auto& path : ctx.conn->paths) {
    if (path.ignore) continue;
    cfg::Path* running_path = FindPathByAddrs(running_conn, path);
    if (running_path == nullptr) {
      tmp.path = &path;
      ScheduleDeferredCmd(st, NewPathCmd(), tmp, Stage::kNetPath, depends_on);
    } else {
      running_path->adj_seen = true;
    }
  }
  for (auto& path : running_conn.paths) {
    ++nr_running;
    if (!path.adj_seen) del_path = true;
  }
  if (nr_running == 1 && del_path) {
    // Removing the last path of a connecting connection fails.
    if (CstateRank(running_conn.cstate) != kRankStandAlone)
      depends_on = ScheduleDeferredCmd(st, DisconnectCmd(), tmp, Stage::kNetDisconnect, depends_on);
    rv = true;
  }
  for (auto& path : running_conn.paths) {
    if (path.adj_seen) continue;
    tmp.path = &path;
    ScheduleDeferredCmd(st, DelPathCmd(), tmp, Stage::kNetPrepDown, depends_on);
  }
  return rv;
}

cfg::Volume* VolumeByVnr(cfg::HostInfo* host, int vnr) {
  return host == nullptr ? nullptr : cfg::FindVolume(host->volumes, vnr);
}

// The volume a peer-device command is scheduled with: the peer's volume of
// that number, as drbd-utils does; our own when the peer has none.
cfg::Volume* PeerDeviceVolume(const CmdCtx& ctx, int vnr) {
  cfg::Volume* v = VolumeByVnr(ctx.conn->peer, vnr);
  if (v == nullptr && ctx.res != nullptr) v = VolumeByVnr(ctx.res->me, vnr);
  return v;
}

void AdjustPeerDevices(AdmState& st, const CmdCtx& ctx, cfg::Connection& running_conn,
                       DeferredRef depends_on) {
  CmdCtx tmp = ctx;
  for (auto& pd : ctx.conn->peer_devices) {
    cfg::PeerDevice* running_pd = nullptr;
    for (auto& rpd : running_conn.peer_devices) {
      if (rpd.vnr == pd.vnr) {
        running_pd = &rpd;
        break;
      }
    }
    tmp.vol = PeerDeviceVolume(ctx, pd.vnr);
    if (tmp.vol == nullptr) continue;
    if (running_pd == nullptr) {
      ScheduleDeferredCmd(st, PeerDeviceOptionsDefaultsCmd(), tmp, Stage::kPeerDevice, depends_on,
                          true);
      continue;
    }
    if (!OptsEqual(st, cfg::OptContext::kPeerDeviceOptions, pd.pd_options, running_pd->pd_options))
      ScheduleDeferredCmd(st, PeerDeviceOptionsDefaultsCmd(), tmp, Stage::kPeerDevice, depends_on);
  }
}

// Peer-device options for every volume of a connection (ctx.conn set) or
// every connection of a volume (ctx.vol set); only where options are given.
void SchedulePeerDeviceOptions(AdmState& st, const CmdCtx& ctx, DeferredRef depends_on) {
  CmdCtx tmp = ctx;
  if (ctx.vol == nullptr && ctx.conn != nullptr) {
    if (ctx.res == nullptr || ctx.res->me == nullptr) return;
    for (auto& vol : ctx.res->me->volumes) {
      const cfg::PeerDevice* pd = cfg::FindPeerDevice(*ctx.conn, vol.vnr);
      if (pd == nullptr || pd->pd_options.empty()) continue;
      tmp.vol = &vol;
      depends_on = ScheduleDeferredCmd(st, PeerDeviceOptionsDefaultsCmd(), tmp, Stage::kPeerDevice,
                                       depends_on, true);
    }
  } else if (ctx.vol != nullptr && ctx.conn == nullptr) {
    for (auto& conn : ctx.res->connections) {
      const cfg::PeerDevice* pd = cfg::FindPeerDevice(conn, ctx.vol->vnr);
      if (pd == nullptr || pd->pd_options.empty() || conn.peer == nullptr) continue;
      tmp.conn = &conn;
      depends_on = ScheduleDeferredCmd(st, PeerDeviceOptionsDefaultsCmd(), tmp, Stage::kPeerDevice,
                                       depends_on, true);
    }
  }
}

cfg::Volume* MatchingVolume(const cfg::Volume& conf, cfg::Volumes* kern) {
  if (kern == nullptr) return nullptr;
  return cfg::FindVolume(*kern, conf.vnr);
}

// --- drbd-proxy -------------------------------------------------------------

// Splits proxy-settings text into words and the punctuation ; { }.
std::vector<std::string> ProxyTokens(std::string_view text) {
  std::vector<std::string> toks;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == ';' || c == '{' || c == '}') {
      toks.emplace_back(1, c);
      ++i;
    } else if (c == '"') {
      std::string w;
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        w += text[i++];
      }
      ++i;
      toks.push_back(std::move(w));
    } else {
      size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])) &&
             text[j] != ';' && text[j] != '{' && text[j] != '}' && text[j] != '"')
        ++j;
      toks.emplace_back(text.substr(i, j - i));
      i = j;
    }
  }
  return toks;
}

}  // namespace

bool ParseProxySettings(std::string_view text, cfg::ProxyInfo& proxy) {
  std::vector<std::string> t = ProxyTokens(text);
  size_t i = 0;
  if (t.empty() || t[0] != "proxy") return false;
  ++i;
  if (i >= t.size() || t[i] != "{") return true;
  ++i;
  while (i < t.size() && t[i] != "}") {
    if (t[i] == "plugin" && i + 1 < t.size() && t[i + 1] == "{") {
      i += 2;
      std::string line;
      while (i < t.size() && t[i] != "}") {
        if (t[i] == ";") {
          cfg::Option o;
          o.name = line;
          o.has_value = false;
          proxy.plugins.push_back(std::move(o));
          line.clear();
        } else {
          if (!line.empty()) line += ' ';
          line += t[i];
        }
        ++i;
      }
      ++i;  // '}'
      continue;
    }
    cfg::Option o;
    o.name = t[i++];
    std::string value;
    while (i < t.size() && t[i] != ";" && t[i] != "}") {
      if (!value.empty()) value += ' ';
      value += t[i++];
    }
    if (i < t.size() && t[i] == ";") ++i;
    o.value = value;
    proxy.options.push_back(std::move(o));
  }
  return true;
}

namespace {

// Asks drbd-proxy-ctl (or the file FAKE_DRBD_PROXY_CTL{,_OLD} names, given
// as fake_env) for the settings of proxy connection conn_name; true when the
// proxy has that connection up (drbd-utils does this even with -d).
bool QueryProxySettings(AdmState& st, const std::string& conn_name, const char* fake_env,
                        cfg::ProxyInfo& proxy) {
  proxy = cfg::ProxyInfo();
  const char* fake = std::getenv(fake_env);
  if (fake != nullptr) {
    std::ifstream in(fake, std::ios::binary);
    if (!in) {
      Err(st) << "Failed to open FAKE_DRBD_PROXY_CTL{,_OLD} " << fake << "\n";
      throw AdmExit{ToInt(ExitCode::kUsage)};
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return ParseProxySettings(text, proxy);
  }
  int status = 0;
  std::string text =
      RunCapture({st.drbd_proxy_ctl, "-c", "show proxy-settings " + conn_name}, &status);
  bool up = ParseProxySettings(text, proxy);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) up = false;
  return up;
}

constexpr int kMaxPlugins = 10;
constexpr size_t kMaxPluginName = 16;

// drbd-utils _is_plugin_in_list(): records the first word of `plugin` as
// own[len] and tells whether it is among other[0..len).
bool PluginInList(AdmState& st, const std::string& plugin, const std::vector<std::string>& other,
                  std::vector<std::string>& own, int len) {
  size_t word_len = 0;
  while (word_len < plugin.size() && !std::isspace(static_cast<unsigned char>(plugin[word_len])))
    ++word_len;
  if (word_len + 1 >= kMaxPluginName) {
    Err(st) << "Wrong proxy plugin name " << plugin.substr(0, word_len);
    throw AdmExit{ToInt(ExitCode::kConfigInvalid)};
  }
  own[len] = plugin.substr(0, word_len);
  for (int i = 0; i < len; ++i)
    if (other[i] == own[len]) return true;
  return false;
}

// Schedules the proxy commands that bring the proxy connection of ctx.conn
// from running_proxy (the settings the proxy reported; meaningless unless
// is_up) to the configured settings.
void ProxyReconf(AdmState& st, const CmdCtx& ctx, const cfg::ProxyInfo& running_proxy, bool is_up,
                 const std::string& conn_name) {
  const cfg::Path& path = ctx.conn->paths.front();
  auto redo_whole_conn = [&] {
    // The proxy holds the memory while the connection exists: rebuild it.
    ScheduleDeferredCmd(st, ProxyConnDownCmd(), ctx, Stage::kNetPrepDown);
    ScheduleDeferredCmd(st, ProxyConnUpCmd(), ctx, Stage::kNetPrepUp);
    ScheduleDeferredCmd(st, ProxyConnPluginsCmd(), ctx, Stage::kNetPrepUp);
  };
  if (!is_up) {
    ScheduleDeferredCmd(st, ProxyConnUpCmd(), ctx, Stage::kNetPrepUp);
    ScheduleDeferredCmd(st, ProxyConnPluginsCmd(), ctx, Stage::kNetPrepUp);
    return;
  }
  const cfg::Option* res_o = cfg::FindOption(path.my_proxy->options, "memlimit");
  const cfg::Option* run_o = cfg::FindOption(running_proxy.options, "memlimit");
  uint64_t v1 = res_o != nullptr ? cfg::ParseScaled(res_o->value, '1').value_or(0) : 0;
  uint64_t v2 = run_o != nullptr ? cfg::ParseScaled(run_o->value, '1').value_or(0) : 0;
  uint64_t minimum = std::min(v1, v2);
  // drbd-utils passes the difference through abs(int); 2% tolerance.
  int64_t diff = static_cast<int32_t>(static_cast<uint32_t>(v1 - v2));
  const int64_t abs_diff = diff < 0 ? -diff : diff;
  // (0/0 is NaN and compares false; x/0 is infinite)
  const bool differs = minimum == 0
                           ? abs_diff != 0
                           : static_cast<float>(abs_diff) / static_cast<float>(minimum) > 0.02f;
  if (res_o != nullptr && (run_o == nullptr || differs)) return redo_whole_conn();

  std::vector<std::string> p_res(kMaxPlugins + 1), p_run(kMaxPlugins + 1);
  std::vector<std::string> changes;
  auto res_it = path.my_proxy->plugins.begin();
  auto run_it = running_proxy.plugins.begin();
  const auto res_end = path.my_proxy->plugins.end();
  const auto run_end = running_proxy.plugins.end();
  for (int i = 0; i < kMaxPlugins; ++i) {
    if (res_it == res_end) {
      if (run_it != run_end)
        changes.push_back("set plugin " + conn_name + " " + std::to_string(i) + " end");
      break;
    }
    if (run_it == run_end) {
      p_run[i].clear();
      if (PluginInList(st, res_it->name, p_run, p_res, i)) return redo_whole_conn();
      changes.push_back("set plugin " + conn_name + " " + std::to_string(i) + " " + res_it->name);
    } else {
      bool re_do = PluginInList(st, res_it->name, p_run, p_res, i) ||
                   PluginInList(st, run_it->name, p_res, p_run, i);
      if (re_do) return redo_whole_conn();
      if (run_it->name != res_it->name)
        changes.push_back("set plugin " + conn_name + " " + std::to_string(i) + " " + res_it->name);
    }
    ++res_it;
    if (run_it != run_end) ++run_it;
  }
  for (auto& text : changes) {
    CmdCtx tmp = ctx;
    tmp.proxy_reconf = std::make_shared<const std::string>(text);
    ScheduleDeferredCmd(st, ProxyReconfCmd(), tmp, Stage::kNet);
  }
}

// One pass over the configured connections whose running connection is at
// most in state max_rank (drbd-utils >= 9.23 adjust_conn): every command
// depends on the previous one (dcmd), so one connection is reconnected (and
// waited for) before the next one is touched.
DeferredRef AdjustConns(AdmState& st, const CmdCtx& ctx, cfg::Resource* running, DeferredRef dcmd,
                        int max_rank, std::vector<cfg::Connection*>& seen, bool* disconnect) {
  cfg::Resource& res = *ctx.res;
  for (auto& conn : res.connections) {
    if (conn.ignore) continue;
    if (std::find(seen.begin(), seen.end(), &conn) != seen.end()) continue;
    CmdCtx tmp;
    tmp.res = &res;
    tmp.conn = &conn;
    bool connect = false;
    cfg::Connection* running_conn =
        running != nullptr ? MatchingConn(conn, running->connections, false) : nullptr;
    if (running_conn == nullptr) {
      dcmd = ScheduleDeferredCmd(st, NewPeerCmd(), tmp, Stage::kNetPrepUp, dcmd);
      ScheduleDeferredCmd(st, NewPathCmd(), tmp, Stage::kNetPath, dcmd);
      SchedulePeerDeviceOptions(st, tmp, dcmd);
      connect = true;
    } else {
      if (CstateRank(running_conn->cstate) > max_rank) continue;
      constexpr cfg::OptContext oc = cfg::OptContext::kShowNetOptions;
      connect = CstateRank(running_conn->cstate) == kRankStandAlone;
      bool new_path = false;
      if (!OptsEqual(st, oc, conn.net_options, running_conn->net_options)) {
        // Options new-peer fixes for the connection's lifetime.
        if (!OptEqual(oc, "load-balance-paths", conn.net_options, running_conn->net_options) ||
            !OptEqual(oc, "transport", conn.net_options, running_conn->net_options)) {
          // del-peer disconnects implicitly
          dcmd = ScheduleDeferredCmd(st, DelPeerCmd(), tmp, Stage::kNetPrepDown, dcmd);
          dcmd = ScheduleDeferredCmd(st, NewPeerCmd(), tmp, Stage::kNetPrepUp, dcmd);
          new_path = true;
          connect = true;
          *disconnect = true;
          SchedulePeerDeviceOptions(st, tmp, dcmd);
        } else {
          cfg::DeleteOption(conn.net_options, "transport");
          cfg::DeleteOption(conn.net_options, "load-balance-paths");
          ScheduleDeferredCmd(st, NetOptionsDefaultsCmd(), tmp, Stage::kNet, dcmd);
        }
      }
      AdjustPeerDevices(st, tmp, *running_conn, dcmd);
      if (new_path) {
        dcmd = ScheduleDeferredCmd(st, NewPathCmd(), tmp, Stage::kNetPath, dcmd);
      } else {
        bool dc = AdjustPaths(st, tmp, *running_conn, dcmd);
        *disconnect |= dc;
        connect |= dc;
      }
    }
    seen.push_back(&conn);
    if (connect) {
      dcmd = ScheduleDeferredCmd(st, ConnectCmd(), tmp, Stage::kNetConnect, dcmd);
      dcmd = ScheduleDeferredCmd(st, WaitConnectAdjCmd(), tmp, Stage::kWaitConnect, dcmd);
    }
  }
  return dcmd;
}

void AdjustNet(AdmState& st, const CmdCtx& ctx, cfg::Resource* running, DeferredRef dcmd) {
  cfg::Resource& res = *ctx.res;
  bool one_was_connected = false;
  bool disconnect = false;
  if (running != nullptr) {
    for (const auto& conn : running->connections) {
      if (CstateRank(conn.cstate) == kRankConnected) one_was_connected = true;
    }
  }
  // Connections not yet connected are adjusted before connected ones.
  std::vector<cfg::Connection*> seen;
  dcmd = AdjustConns(st, ctx, running, dcmd, kRankConnecting, seen, &disconnect);
  dcmd = AdjustConns(st, ctx, running, dcmd, kRankConnected, seen, &disconnect);

  if (running != nullptr) {
    for (auto& conn : running->connections) {
      // Without _peer_node_id there is nothing to name in del-peer
      // (drbd-utils crashes on such input).
      if (conn.peer == nullptr || !conn.peer->node_id) continue;
      if (MatchingConn(conn, res.connections, true) == nullptr) {
        CmdCtx tmp;
        tmp.res = running;
        tmp.conn = &conn;
        dcmd = ScheduleDeferredCmd(st, DelPeerCmd(), tmp, Stage::kNetPrepDown, dcmd);
        disconnect = true;
      }
    }
  }
  // Waiting for the connection only matters when a connected peer goes away.
  if (!(disconnect && one_was_connected)) CancelDeferredWaits(st, &res);
  if (DeferredCmdOf(st, dcmd) == &WaitConnectAdjCmd()) CancelDeferredCmd(st, dcmd);
}

// The running volume has the bitmap off and the config wants it on (the
// default). An `_unknown bitmap` in the running config counts as unknown.
bool BitmapWillBeEnabled(const cfg::Volume& conf, const cfg::Volume& kern) {
  const cfg::Option* kern_bm = cfg::FindOption(kern.disk_options, "bitmap");
  const cfg::Option* conf_bm = cfg::FindOption(conf.disk_options, "bitmap");
  auto is = [](const cfg::Option* o, std::string_view v) {
    return o != nullptr && !o->unknown && o->value == v;
  };
  return is(kern_bm, "no") && (conf_bm == nullptr || is(conf_bm, "yes"));
}

// Reconfigures the proxy of every connection whose (first) path has a proxy
// on this host, whether or not DRBD runs the resource. A connection the
// proxy does not know under its name is also looked up under the old name.
void AdjustProxy(AdmState& st, const CmdCtx& ctx) {
  for (auto& conn : ctx.res->connections) {
    if (conn.paths.empty()) continue;
    const cfg::Path& path = conn.paths.front();
    if (path.my_proxy == nullptr || !cfg::HostnameInList(st.pp.hostname, path.my_proxy->on_hosts))
      continue;
    CmdCtx tmp;
    tmp.res = ctx.res;
    tmp.conn = &conn;
    std::string conn_name = ProxyConnectionName(*ctx.res, conn);
    cfg::ProxyInfo running_proxy;
    bool up = QueryProxySettings(st, conn_name, "FAKE_DRBD_PROXY_CTL", running_proxy);
    if (!up) {
      // Set up by drbd-utils 9.22 under the old name? Then keep using it.
      std::string old_name = OldProxyConnectionName(*ctx.res, conn);
      up = QueryProxySettings(st, old_name, "FAKE_DRBD_PROXY_CTL_OLD", running_proxy);
      if (up) conn_name = std::move(old_name);
    }
    ProxyReconf(st, tmp, running_proxy, up, conn_name);
  }
}

void AdjustDisk(AdmState& st, const CmdCtx& ctx, cfg::Resource* running) {
  cfg::Volumes* kern_vols =
      running != nullptr && running->me != nullptr ? &running->me->volumes : nullptr;
  for (auto& vol : ctx.res->me->volumes) {
    if (ctx.vol != nullptr && &vol != ctx.vol) continue;
    CmdCtx tmp;
    tmp.res = ctx.res;
    tmp.vol = &vol;
    if (vol.adj_detach || vol.adj_del_minor) {
      CmdCtx k = tmp;
      if (cfg::Volume* kv = MatchingVolume(vol, kern_vols)) k.vol = kv;
      if (vol.adj_detach) ScheduleDeferredCmd(st, DetachCmd(), k, Stage::kDiskPrepDown);
      if (vol.adj_del_minor) ScheduleDeferredCmd(st, DelMinorCmd(), k, Stage::kDiskPrepDown);
    }
    if (vol.adj_attach) ScheduleDeferredCmd(st, AttachCmd(), tmp, Stage::kDisk);
    if (vol.adj_disk_opts) {
      // Enabling the bitmap has to happen before peers are added.
      cfg::Volume* kv = MatchingVolume(vol, kern_vols);
      Stage stage =
          kv != nullptr && BitmapWillBeEnabled(vol, *kv) ? Stage::kDiskPrepUp : Stage::kDisk;
      ScheduleDeferredCmd(st, DiskOptionsDefaultsCmd(), tmp, stage);
    }
    if (vol.adj_resize) ScheduleDeferredCmd(st, ResizeCmd(), tmp, Stage::kDisk);
  }
}

// Runs argv and returns its standard output; stderr goes to /dev/null
// (drbdsetup complains there about unknown resources). *status gets the
// wait status (nonzero when the program could not be run).
std::string RunCapture(std::vector<std::string> args, int* status) {
  *status = 0x100 * 20;
  int pipes[2];
  if (pipe(pipes) != 0) return {};
  pid_t pid = fork();
  if (pid < 0) {
    close(pipes[0]);
    close(pipes[1]);
    return {};
  }
  if (pid == 0) {
    close(pipes[0]);
    dup2(pipes[1], STDOUT_FILENO);
    close(pipes[1]);
    int dev_null = open("/dev/null", O_WRONLY);
    if (dev_null >= 0) dup2(dev_null, STDERR_FILENO);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(20);
  }
  close(pipes[1]);
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = read(pipes[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(pipes[0]);
  while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
  }
  return text;
}

// `drbdsetup show [NAME]`'s standard output; in-process when drbdsetup is
// drbd-cp's own (drbdadm/inproc.h).
std::string RunDrbdsetupShow(const std::string& drbdsetup, const std::string& name) {
  std::vector<std::string> args = {drbdsetup, "show"};
  if (!name.empty()) args.push_back(name);
  if (OwnTool tool = InProcessToolFor(args); tool != OwnTool::kNone) {
    std::ostringstream out;
    InProcIo io;
    io.out = &out;
    io.err = nullptr;  // stderr to /dev/null, as below
    io.stdout_captured = true;
    RunInProcess(tool, args, io, 0);
    return std::move(out).str();
  }
  int status = 0;
  return RunCapture(std::move(args), &status);
}

cfg::DiagSink& Sink(AdmState& st, std::unique_ptr<cfg::DiagSink>& holder) {
  if (st.diag != nullptr) return *st.diag;
  holder = std::make_unique<cfg::DiagSink>(Err(st), cfg::DiagStyleFromEnv());
  return *holder;
}

cfg::Resource* ParseDrbdsetupShowFor(AdmState& st, const std::string& name) {
  std::string text;
  if (const char* fake = std::getenv("FAKE_DRBDSETUP_SHOW"); fake != nullptr) {
    std::ifstream in(fake, std::ios::binary);
    if (!in) {
      std::string msg = std::string("Failed to open FAKE_DRBDSETUP_SHOW ") + fake + "\n";
      Err(st) << msg;
      throw AdmExit{ToInt(ExitCode::kUsage)};
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    text = RunDrbdsetupShow(st.drbdsetup, name);
  }
  return AddRunningConfig(st, text);
}

}  // namespace

int AdjustFlagsFromBackendOptions(AdmState& st) {
  if (st.adjust_flags != 0) return st.adjust_flags;
  auto take = [&](std::string_view opt) {
    auto it = std::find(st.backend_options.begin(), st.backend_options.end(), opt);
    if (it == st.backend_options.end()) return false;
    st.backend_options.erase(it);
    return true;
  };
  int flags = 0;
  if (!take("--skip-disk")) flags |= kAdjustDisk;
  if (!take("--skip-net")) flags |= kAdjustNet;
  flags |= kAdjustSkipChecked;
  st.adjust_flags = flags;
  return flags;
}

bool OptsEqual(const AdmState& st, cfg::OptContext ctx, cfg::Options& conf, cfg::Options& running) {
  for (auto& run_opt : running) {
    if (run_opt.unknown) {
      // The kernel did not report it: compare as if the config lacked it too.
      cfg::DeleteOption(conf, run_opt.name);
      continue;
    }
    if (run_opt.adj_skip) continue;
    cfg::Option* opt = cfg::FindOption(conf, run_opt.name);
    if (opt != nullptr) {
      if (!ValuesEqual(ctx, run_opt, *opt)) {
        if (st.verbose > 2)
          Err(st) << "Value of '" << opt->name << "' differs: r=" << run_opt.value
                  << " c=" << opt->value << "\n";
        return false;
      }
      if (st.verbose > 3)
        Err(st) << "Value of '" << opt->name << "' equal: r=" << run_opt.value
                << " c=" << opt->value << "\n";
      opt->mentioned = true;
    } else {
      if (!ValueIsDefault(ctx, run_opt)) {
        if (st.verbose > 2)
          Err(st) << "Only in running config " << run_opt.name << ": " << run_opt.value << "\n";
        return false;
      }
      if (st.verbose > 3)
        Err(st) << "Is default: '" << run_opt.name << "' equal: r=" << run_opt.value << "\n";
    }
  }
  for (auto& opt : conf) {
    if (opt.adj_skip) continue;
    if (!opt.mentioned && !ValueIsDefault(ctx, opt)) {
      if (st.verbose > 2)
        Err(st) << "Only in config file " << opt.name << ": " << opt.value << "\n";
      return false;
    }
  }
  return true;
}

bool OptEqual(cfg::OptContext ctx, std::string_view name, const cfg::Options& conf,
              const cfg::Options& running) {
  const cfg::Option* opt = cfg::FindOption(conf, name);
  const cfg::Option* run_opt = cfg::FindOption(running, name);
  if (opt != nullptr && run_opt != nullptr) return ValuesEqual(ctx, *opt, *run_opt);
  if (opt != nullptr) return ValueIsDefault(ctx, *opt);
  if (run_opt != nullptr) return ValueIsDefault(ctx, *run_opt);
  return true;
}

bool DiskEqual(const AdmState& st, const cfg::Volume& conf, const cfg::Volume& running) {
  const std::string* cdisk = ConfDisk(conf);
  if (cdisk == nullptr && !running.disk) return true;
  if (cdisk == nullptr) {
    if (*running.disk == "none") return true;
    ReportCompare(st, true,
                  "minor " + U(running.device_minor) + " (vol:" + U(running.vnr) + ") " +
                      *running.disk + " missing from config\n");
    return false;
  }
  if (!running.disk) {
    ReportCompare(st, true,
                  "minor " + U(conf.device_minor) + " (vol:" + U(conf.vnr) + ") " + *cdisk +
                      " missing from kernel\n");
    return false;
  }
  bool eq = *cdisk == *running.disk;
  ReportCompare(st, !eq,
                "minor " + U(running.device_minor) + " (vol:" + U(running.vnr) +
                    ") disk: r=" + *running.disk + " c=" + *cdisk + "\n");
  if (eq) {
    const std::string cmeta = conf.meta_disk.value_or("");
    const std::string rmeta = running.meta_disk.value_or("");
    eq = (cmeta == "internal") == (rmeta == "internal");
    if (eq && cmeta != "internal") eq = cmeta == rmeta;
  }
  ReportCompare(st, !eq,
                "minor " + U(running.device_minor) + " (vol:" + U(running.vnr) +
                    ") meta-disk: r=" + S(running.meta_disk) + " c=" + S(conf.meta_disk) + "\n");
  return eq;
}

void CompareSize(const AdmState& st, cfg::Volume& conf, cfg::Volume& running) {
  cfg::Option* c = cfg::FindOption(conf.disk_options, "size");
  cfg::Option* k = cfg::FindOption(running.disk_options, "size");
  if (c != nullptr) c->adj_skip = true;
  if (k != nullptr) k->adj_skip = true;
  if (k != nullptr && ValueIsDefault(cfg::OptContext::kAttach, *k)) k = nullptr;
  if ((k == nullptr) != (c == nullptr)) conf.adj_resize = true;
  if (k != nullptr && c != nullptr && !ValuesEqual(cfg::OptContext::kAttach, *c, *k))
    conf.adj_resize = true;
  ReportCompare(st, conf.adj_resize,
                "minor " + U(conf.device_minor) + " (vol:" + U(conf.vnr) +
                    ") size: r=" + (k != nullptr ? k->value : "-") +
                    " c=" + (c != nullptr ? c->value : "-") + "\n");
}

void CompareVolume(const AdmState& st, cfg::Volume& conf, cfg::Volume& running) {
  conf.adj_new_minor = conf.device_minor != running.device_minor;
  conf.adj_del_minor = conf.adj_new_minor;
  if (conf.adj_new_minor)
    ReportCompare(st, true,
                  "vol:" + U(conf.vnr) + " minor differs: r=" + U(running.device_minor) +
                      " c=" + U(conf.device_minor) + "\n");
  // disk_equal() reports, so it runs first, as in drbd-utils
  if (!DiskEqual(st, conf, running) || conf.adj_new_minor) {
    conf.adj_attach = ConfDisk(conf) != nullptr;
    conf.adj_detach = HasRealDisk(running.disk);
  }
  // No size comparison when (re)attaching or without a local disk.
  if (!conf.adj_attach && !conf.adj_detach && ConfDisk(conf) != nullptr)
    CompareSize(st, conf, running);
  if (!(conf.adj_detach || conf.adj_attach) && ConfDisk(conf) != nullptr)
    conf.adj_disk_opts =
        !OptsEqual(st, cfg::OptContext::kDiskOptions, conf.disk_options, running.disk_options);
}

void CompareVolumes(const AdmState& st, cfg::Volumes& conf, cfg::Volumes& running) {
  std::vector<cfg::Volume> to_be_deleted;
  auto c = conf.begin();
  auto k = running.begin();
  while (c != conf.end() || k != running.end()) {
    if (k != running.end() && (c == conf.end() || k->vnr < c->vnr)) {
      // Only in the kernel: a placeholder that detaches and deletes it.
      cfg::Volume del;
      del.vnr = k->vnr;
      del.device_minor = k->device_minor;
      if (HasRealDisk(k->disk)) {
        del.disk = k->disk;
        del.meta_disk = k->meta_disk;
        del.meta_index = k->meta_index;
        del.adj_detach = true;
      }
      del.adj_del_minor = true;
      to_be_deleted.push_back(std::move(del));
      if (st.verbose > 2)
        Err(st) << "Deleting minor " << U(k->device_minor) << " (vol:" << U(k->vnr)
                << ") from kernel, not in config\n";
      ++k;
    } else if (c != conf.end() && (k == running.end() || k->vnr > c->vnr)) {
      c->adj_new_minor = true;
      if (ConfDisk(*c) != nullptr) c->adj_attach = true;
      if (st.verbose > 2)
        Err(st) << "New minor " << U(c->device_minor) << " (vol:" << U(c->vnr) << ")\n";
      ++c;
    } else {
      CompareVolume(st, *c, *k);
      ++c;
      ++k;
    }
  }
  for (auto& v : to_be_deleted) cfg::InsertVolume(conf, std::move(v));
}

cfg::Connection* MatchingConn(const cfg::Connection& pattern, std::list<cfg::Connection>& pool,
                              bool ret_me) {
  for (auto& conn : pool) {
    if (ret_me && conn.me) return &conn;
    if (conn.ignore) continue;
    if (pattern.peer == nullptr || conn.peer == nullptr) continue;
    if (pattern.peer->node_id && conn.peer->node_id &&
        *pattern.peer->node_id == *conn.peer->node_id)
      return &conn;
  }
  return nullptr;
}

cfg::Resource* AddRunningConfig(AdmState& st, std::string_view show_text) {
  std::unique_ptr<cfg::DiagSink> holder;
  cfg::DiagSink& diag = Sink(st, holder);
  // drbd-utils names resources parsed from `drbdsetup show` after the
  // configuration file (its config_save), visible in address-conflict errors.
  st.running_config.config_file = st.config.config_file;
  st.running_config.config_save = st.config.config_save;
  std::list<cfg::Resource> parsed =
      cfg::ParseDrbdsetupShow(show_text, kShowSourceName, st.running_config, diag);
  for (auto& res : parsed)
    if (res.config_file.empty()) res.config_file = st.config.config_save;
  cfg::Resource* last = parsed.empty() ? nullptr : &parsed.back();
  st.running_config.resources.splice(st.running_config.resources.end(), parsed);
  cfg::PostParseOptions opts = st.pp;
  opts.drbdsetup_show = true;
  opts.match_on_proxy = false;
  cfg::PostParse(st.running_config, opts, diag);
  return last;
}

cfg::Resource* RunningResByName(AdmState& st, const std::string& name) {
  if (st.adjust_more_than_one_resource && !st.drbdsetup_show_parsed) {
    ParseDrbdsetupShowFor(st, "");
    st.drbdsetup_show_parsed = true;
  }
  for (auto& res : st.running_config.resources)
    if (res.name == name) return &res;
  if (!st.adjust_more_than_one_resource) return ParseDrbdsetupShowFor(st, name);
  return nullptr;
}

int AdmAdjust(AdmState& st, const CmdCtx& ctx, int flags) {
  if (ctx.res == nullptr || ctx.res->me == nullptr) return 0;
  std::unique_ptr<cfg::DiagSink> holder;
  cfg::DiagSink& diag = Sink(st, holder);
  if (flags == 0) flags = AdjustFlagsFromBackendOptions(st);

  cfg::SetPeerInResource(st.config, *ctx.res, true, false, diag);

  // A dedicated proxy node has no DRBD side to adjust.
  if (ctx.res->proxy_only) {
    AdjustProxy(st, ctx);
    return 0;
  }

  cfg::Resource* running = RunningResByName(st, ctx.res->name);
  if (running != nullptr) {
    if (running->me == nullptr) {
      for (auto& h : running->all_hosts) {
        if (!h.on_hosts.empty() && h.on_hosts.front() == "_this_host") {
          running->me = &h;
          break;
        }
      }
    }
    if (running->me != nullptr)
      cfg::SetPeerInResource(st.running_config, *running, true, true, diag);
  }

  if (running == nullptr && st.verbose > 2) Err(st) << "New resource " << ctx.res->name << "\n";

  cfg::Volumes empty;
  cfg::Volumes* kern_vols =
      running != nullptr && running->me != nullptr ? &running->me->volumes : &empty;
  CompareVolumes(st, ctx.res->me->volumes, *kern_vols);

  DeferredRef dcmd;
  bool do_res_options = false;
  if (running != nullptr) {
    do_res_options = !OptsEqual(st, cfg::OptContext::kResourceOptions, ctx.res->res_options,
                                running->res_options);
  } else {
    dcmd = ScheduleDeferredCmd(st, NewResourceCmd(), ctx, Stage::kPrereq);
  }
  if (do_res_options)
    dcmd = ScheduleDeferredCmd(st, ResOptionsDefaultsCmd(), ctx, Stage::kResource);

  for (auto& vol : ctx.res->me->volumes) {
    if (ctx.vol != nullptr && &vol != ctx.vol) continue;
    if (!vol.adj_new_minor) continue;
    CmdCtx tmp;
    tmp.res = ctx.res;
    tmp.vol = &vol;
    dcmd = ScheduleDeferredCmd(st, NewMinorCmd(), tmp, Stage::kDiskPrepUp, dcmd);
    if ((flags & kAdjustNet) && (flags & kAdjustDisk)) SchedulePeerDeviceOptions(st, tmp, dcmd);
  }

  // New minors first, then disks, then the network: within one stage
  // commands run in this order.
  if (flags & kAdjustDisk) AdjustDisk(st, ctx, running);
  if (flags & kAdjustNet) AdjustNet(st, ctx, running, dcmd);
  AdjustProxy(st, ctx);
  return 0;
}

}  // namespace drbd::adm
