// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup command handlers (see handlers.h). State is read with the
// kernel's dump commands and decoded through lib/notify into the
// lib/events model, which the status/events2 printers take; configuration
// is read into option values for `show`.
#include "drbdsetup/handlers.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>

#include "drbdsetup/check_resize.h"
#include "drbdsetup/request.h"
#include "drbdsetup/show.h"
#include "lib/events/events2.h"
#include "lib/events/status.h"
#include "lib/genl/drbd_codes.h"
#include "lib/md/gi.h"
#include "lib/notify/notify.h"

namespace drbd::setup {
namespace {

using genl::Cmd;
using genl::Message;
using genl::Set;

constexpr int kExit = 20;

int ReportGenlError(RunContext& rc, const genl::Error& e, std::string_view objname) {
  rc.err << objname << ": " << e.message << "\n";
  return e.code == genl::ErrorCode::kTimeout ? 5 : kExit;
}

using genl::DumpFiltered;

std::string ResourceName(const Message& m) {
  const genl::Tla* ctx = m.Find(Set::kCfgContext);
  if (ctx == nullptr) return "";
  return std::string(ctx->GetStr(genl::attr::ctx_resource_name).value_or(""));
}

// Everything the kernel reports about one resource.
struct ResourceDump {
  Message resource;
  std::vector<Message> devices, connections, peer_devices, paths;
};

// The resources named by objname ("all" = every one), sorted by name.
// With keep_others, the other resources are listed too, without details.
genl::Result<std::vector<ResourceDump>> DumpResources(genl::Client& c, const std::string& objname,
                                                      bool details, bool paths,
                                                      bool keep_others = false) {
  auto res = DumpFiltered(c, Cmd::kGetResources, "");
  if (!res.ok()) return res.error();
  std::vector<ResourceDump> out;
  for (Message& m : *res) {
    std::string name = ResourceName(m);
    bool wanted = objname == "all" || objname == name;
    if (!wanted && !keep_others) continue;
    ResourceDump d;
    d.resource = std::move(m);
    if (details && wanted) {
      // Peer devices only exist with both devices and connections (and
      // drbd-utils asks for them only then).
      for (auto [cmd, vec] : {std::pair{Cmd::kGetDevices, &d.devices},
                              std::pair{Cmd::kGetConnections, &d.connections},
                              std::pair{Cmd::kGetPeerDevices, &d.peer_devices}}) {
        if (cmd == Cmd::kGetPeerDevices && (d.devices.empty() || d.connections.empty())) break;
        auto r = DumpFiltered(c, cmd, name);
        if (!r.ok()) return r.error();
        *vec = std::move(*r);
      }
      if (paths && !d.connections.empty() &&
          c.family().HasOp(static_cast<uint32_t>(Cmd::kGetPaths))) {
        auto r = DumpFiltered(c, Cmd::kGetPaths, name);
        if (!r.ok()) return r.error();
        d.paths = std::move(*r);
      }
    }
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const ResourceDump& a, const ResourceDump& b) {
    return ResourceName(a.resource) < ResourceName(b.resource);
  });
  return out;
}

template <typename T>
std::optional<T> Decode(const Message& m) {
  auto n = notify::DecodeNotification(m);
  if (!n.ok()) return std::nullopt;
  if (const T* t = std::get_if<T>(&n->object)) return *t;
  return std::nullopt;
}

events::ResourceSnapshot Snapshot(const ResourceDump& d) {
  events::ResourceSnapshot s;
  if (auto r = Decode<events::Resource>(d.resource)) s.resource = *r;
  for (const Message& m : d.devices) {
    if (auto x = Decode<events::Device>(m)) s.devices.push_back(*x);
  }
  std::sort(s.devices.begin(), s.devices.end(),
            [](const auto& a, const auto& b) { return a.volume < b.volume; });
  for (const Message& m : d.connections) {
    auto x = Decode<events::Connection>(m);
    if (!x) continue;
    events::ConnectionSnapshot cs;
    cs.connection = *x;
    for (const Message& pm : d.peer_devices) {
      auto p = Decode<events::PeerDevice>(pm);
      if (p && p->peer_node_id == x->peer_node_id) cs.peer_devices.push_back(*p);
    }
    std::sort(cs.peer_devices.begin(), cs.peer_devices.end(),
              [](const auto& a, const auto& b) { return a.volume < b.volume; });
    for (const Message& pm : d.paths) {
      auto p = Decode<events::Path>(pm);
      if (p && p->peer_node_id == x->peer_node_id) cs.paths.push_back(*p);
    }
    s.connections.push_back(std::move(cs));
  }
  return s;
}

// ---- config commands --------------------------------------------------------

int ConfigRequest(RunContext& rc, const Invocation& inv, const std::string& objname) {
  auto req = BuildRequest(inv);
  if (!req.ok()) {
    rc.err << objname << ": " << req.error().message << "\n";
    return kExit;
  }
  auto delay = std::chrono::milliseconds(62);
  for (;;) {
    auto reply = rc.client.Call(*req);
    if (!reply.ok()) return ReportGenlError(rc, reply.error(), objname);
    if (reply->empty()) {
      rc.err << objname << ": error receiving config reply\n";
      return kExit;
    }
    const Message& m = reply->front();
    int32_t code = m.ret_code();
    if (code == genl::ToInt(genl::StateRv::kSsInTransientState)) {
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(10000));
      continue;
    }
    if (code == genl::ToInt(genl::RetCode::kErrResNotKnown) && inv.cmd->Has(kMissingOk)) return 0;
    genl::ReplyReport rep = genl::ReportReply(objname, m);
    rc.err << rep.text;
    return rep.exit_code;
  }
}

int RunDown(RunContext& rc, Invocation& inv) {
  if (auto e = RejectExcessArgs(inv, 0)) {
    rc.err << e->err;
    return e->code;
  }
  auto res = DumpResources(rc.client, inv.objname, false, false);
  if (!res.ok()) return ReportGenlError(rc, res.error(), inv.objname);
  int rv = 0;
  for (const ResourceDump& d : *res) {
    Invocation one = inv;
    one.context = kResource;
    one.resource = ResourceName(d.resource);
    int r = ConfigRequest(rc, one, one.resource);
    if (rv == 0) rv = r;
  }
  return rv;
}

// ---- show -------------------------------------------------------------------

ShowResource ShowFromDump(const ResourceDump& d) {
  ShowResource r;
  r.name = ResourceName(d.resource);
  if (const genl::Tla* t = d.resource.Find(Set::kResourceOpts)) {
    r.res_opts = ValuesFromTla(*t, cfg::OptContext::kResourceOptions);
    r.node_id = t->GetU32(genl::attr::node_id);
  }
  for (const Message& m : d.devices) {
    ShowVolume v;
    const genl::Tla* ctx = m.Find(Set::kCfgContext);
    v.volume = ctx != nullptr ? ctx->GetU32(genl::attr::ctx_volume).value_or(0) : 0;
    v.minor = m.minor;
    if (const genl::Tla* dc = m.Find(Set::kDiskConf)) {
      v.backing_dev = std::string(dc->GetStr(genl::attr::backing_dev).value_or(""));
      v.meta_dev = std::string(dc->GetStr(genl::attr::meta_dev).value_or(""));
      v.meta_dev_idx = dc->GetS32(genl::attr::meta_dev_idx).value_or(-1);
      v.disk_conf = ValuesFromTla(*dc, cfg::OptContext::kAttach);
    }
    if (const genl::Tla* dev = m.Find(Set::kDeviceConf)) {
      v.device_conf = ValuesFromTla(*dev, cfg::OptContext::kNewMinor);
    }
    if (const genl::Tla* info = m.Find(Set::kDeviceInfo)) {
      v.intentional_diskless = info->GetFlag(genl::attr::is_intentional_diskless).value_or(false);
    }
    r.volumes.push_back(std::move(v));
  }
  std::sort(r.volumes.begin(), r.volumes.end(),
            [](const auto& a, const auto& b) { return a.volume < b.volume; });
  for (const Message& m : d.connections) {
    ShowConnection c;
    auto conn = Decode<events::Connection>(m);
    if (!conn) continue;
    c.peer_node_id = conn->peer_node_id;
    c.cstate = std::string(events::ToString(conn->info.conn_state));
    if (const genl::Tla* pp = m.Find(Set::kPathParms)) {
      auto mine = pp->FindAll(genl::attr::my_addr);
      auto peer = pp->FindAll(genl::attr::peer_addr);
      for (size_t i = 0; i < mine.size() && i < peer.size(); ++i) {
        c.paths.push_back({mine[i]->bytes, peer[i]->bytes});
      }
    }
    if (const genl::Tla* net = m.Find(Set::kNetConf)) {
      c.net = ValuesFromTla(*net, cfg::OptContext::kShowNetOptions);
    }
    for (const Message& pm : d.peer_devices) {
      auto p = Decode<events::PeerDevice>(pm);
      if (!p || p->peer_node_id != c.peer_node_id) continue;
      ShowPeerDevice pd;
      pd.volume = p->volume;
      if (const genl::Tla* o = pm.Find(Set::kPeerDeviceOpts)) {
        pd.conf = ValuesFromTla(*o, cfg::OptContext::kPeerDeviceOptions);
      }
      c.peer_devices.push_back(std::move(pd));
    }
    std::sort(c.peer_devices.begin(), c.peer_devices.end(),
              [](const auto& a, const auto& b) { return a.volume < b.volume; });
    r.connections.push_back(std::move(c));
  }
  std::sort(r.connections.begin(), r.connections.end(),
            [](const auto& a, const auto& b) { return a.peer_node_id < b.peer_node_id; });
  return r;
}

int RunShow(RunContext& rc, Invocation& inv) {
  ShowOptions opts;
  opts.show_defaults = inv.Has('D');
  opts.json = inv.Has('j');
  auto res = DumpResources(rc.client, inv.objname, true, false);
  if (!res.ok()) return ReportGenlError(rc, res.error(), inv.objname);
  std::vector<ShowResource> shown;
  for (const ResourceDump& d : *res) shown.push_back(ShowFromDump(d));
  rc.out << FormatShow(shown, opts);
  return 0;
}

// ---- status and the one-line queries -------------------------------------------

// --color[=never|always|auto]; nullopt for another word.
std::optional<bool> ColorChoice(const Invocation& inv, bool is_tty) {
  if (!inv.Has('c')) return is_tty;
  std::optional<std::string> arg = inv.Plain('c');
  if (!arg || *arg == "always") return true;
  if (*arg == "never") return false;
  if (*arg == "auto") return is_tty;
  return std::nullopt;
}

int UnknownColor(RunContext& rc) {
  HelpStyle style;
  style.columns = rc.env.columns;
  rc.out << UsageText(style) << "\nunknown --color argument\n";
  return kExit;
}

int RunStatus(RunContext& rc, Invocation& inv) {
  events::StatusOptions opts;
  for (const auto& [p, arg] : inv.plain) {
    if (p->key == 'v') ++opts.verbose;
  }
  opts.statistics = inv.Has('s');
  std::optional<bool> color = ColorChoice(inv, rc.stdout_is_tty);
  if (!color) return UnknownColor(rc);
  opts.color = *color;
  opts.is_a_tty = rc.stdout_is_tty;
  opts.columns = rc.env.columns;
  // Every resource is listed: "nothing configured" depends on all of them.
  auto res = DumpResources(rc.client, inv.objname, true, true, true);
  if (!res.ok()) return ReportGenlError(rc, res.error(), inv.objname);
  std::vector<events::ResourceSnapshot> snaps;
  for (const ResourceDump& d : *res) snaps.push_back(Snapshot(d));
  events::StatusCommandOutput o =
      events::RunStatusCommand(std::move(snaps), inv.objname, opts, inv.Has('j'));
  rc.out << o.out;
  rc.err << o.err;
  return o.exit_code;
}

int RunRole(RunContext& rc, Invocation& inv) {
  auto res = DumpResources(rc.client, inv.objname, false, false);
  if (!res.ok()) return ReportGenlError(rc, res.error(), inv.objname);
  if (res->empty()) {
    rc.err << inv.objname << ": " << genl::RetCodeText(genl::ToInt(genl::RetCode::kErrResNotKnown))
           << "\n";
    return 10;
  }
  rc.out << events::FormatRole(Snapshot(res->front()));
  return 0;
}

int RunCState(RunContext& rc, Invocation& inv) {
  auto res = DumpResources(rc.client, inv.resource, true, false);
  if (!res.ok()) return ReportGenlError(rc, res.error(), inv.objname);
  std::optional<std::string> s;
  if (!res->empty()) s = events::FormatCstate(Snapshot(res->front()), inv.peer_node_id);
  if (!s) {
    rc.err << inv.objname << ": No such connection\n";
    return 10;
  }
  rc.out << *s;
  return 0;
}

int RunPeerRole(RunContext& rc, Invocation& inv) {
  auto res = DumpResources(rc.client, inv.resource, true, false);
  if (!res.ok()) return ReportGenlError(rc, res.error(), inv.objname);
  for (const ResourceDump& d : *res) {
    for (const events::ConnectionSnapshot& c : Snapshot(d).connections) {
      if (c.connection.peer_node_id == inv.peer_node_id) {
        rc.out << events::ToString(c.connection.info.peer_role) << "\n";
        return 0;
      }
    }
  }
  rc.err << inv.objname << ": No such connection\n";
  return 10;
}

// As drbd-utils' dstate: one dump of every device finds the minor, then
// only its resource's connections and peer devices are read (not every
// resource's details: drbdmeta asks this once per attach, so the cost
// must not grow with the number of resources).
int RunDState(RunContext& rc, Invocation& inv) {
  auto devices = DumpFiltered(rc.client, Cmd::kGetDevices, "");
  if (!devices.ok()) return ReportGenlError(rc, devices.error(), inv.objname);
  for (const Message& m : *devices) {
    auto dev = Decode<events::Device>(m);
    if (!dev || dev->minor != inv.minor) continue;
    const std::string name = ResourceName(m);
    ResourceDump d;
    for (const Message& x : *devices) {
      if (ResourceName(x) == name) d.devices.push_back(x);
    }
    auto conns = DumpFiltered(rc.client, Cmd::kGetConnections, name);
    if (!conns.ok()) return ReportGenlError(rc, conns.error(), inv.objname);
    d.connections = std::move(*conns);
    if (!d.connections.empty()) {
      auto peers = DumpFiltered(rc.client, Cmd::kGetPeerDevices, name);
      if (!peers.ok()) return ReportGenlError(rc, peers.error(), inv.objname);
      d.peer_devices = std::move(*peers);
    }
    if (auto line = events::FormatDstate(Snapshot(d), inv.minor)) {
      rc.out << *line;
      return 0;
    }
  }
  rc.err << inv.objname << ": No such device\n";
  return 10;
}

int RunGi(RunContext& rc, Invocation& inv) {
  auto res = DumpResources(rc.client, inv.resource, true, false);
  if (!res.ok()) return ReportGenlError(rc, res.error(), inv.objname);
  for (const ResourceDump& d : *res) {
    events::ResourceSnapshot s = Snapshot(d);
    for (const events::ConnectionSnapshot& c : s.connections) {
      if (c.connection.peer_node_id != inv.peer_node_id) continue;
      for (const events::PeerDevice& p : c.peer_devices) {
        if (p.volume != inv.volume) continue;
        for (const events::Device& dev : s.devices) {
          if (dev.volume != inv.volume) continue;
          if (p.info.repl_state == events::ReplState::kOff &&
              dev.info.disk_state == events::DiskState::kDiskless) {
            rc.err << "Device is unconfigured\n";
            return 1;
          }
          if (dev.info.disk_state == events::DiskState::kDiskless) {
            rc.err << "Device has no disk\n";
            return 1;
          }
          events::DeviceStatistics ds = dev.stats.value_or(events::DeviceStatistics{});
          events::PeerDeviceStatistics ps = p.stats.value_or(events::PeerDeviceStatistics{});
          uint64_t h0 = !ds.history_uuids.empty() ? ds.history_uuids[0] : 0;
          uint64_t h1 = ds.history_uuids.size() > 1 ? ds.history_uuids[1] : 0;
          std::string line =
              md::GiLineV09(ds.current_uuid, ps.bitmap_uuid, h0, h1, ds.disk_flags, ps.flags);
          if (inv.cmd->name == "show-gi") {
            rc.out << md::kShowGiHeader << line << md::kShowGiV09Legend;
          } else {
            rc.out << line;
          }
          return 0;
        }
      }
    }
  }
  rc.err << inv.objname << ": No such peer device\n";
  return 10;
}

// ---- check-resize -----------------------------------------------------------

int RunCheckResize(RunContext& rc, Invocation& inv) {
  if (auto e = RejectExcessArgs(inv, 0)) {
    rc.err << e->err;
    return e->code;
  }
  auto devices = DumpFiltered(rc.client, Cmd::kGetDevices, "");
  if (!devices.ok()) return ReportGenlError(rc, devices.error(), inv.objname);
  for (const Message& m : *devices) {
    if (m.minor != inv.minor) continue;
    const genl::Tla* dc = m.Find(Set::kDiskConf);
    auto backing = dc ? dc->GetStr(genl::attr::backing_dev) : std::nullopt;
    if (!backing) {
      rc.err << "Has no disk config, try with drbdmeta.\n";
      return 1;
    }
    return RecordBackingSize(inv.minor, *backing,
                             dc->GetS32(genl::attr::meta_dev_idx).value_or(-1), rc.err);
  }
  rc.err << inv.objname << ": No such device\n";
  return 10;
}

// ---- events2 and wait-* -----------------------------------------------------

// Whether stdin has a line; reads it into *line.
bool ReadStdinLine(std::string* line, int timeout_ms) {
  pollfd p{STDIN_FILENO, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return false;
  line->clear();
  char c;
  while (read(STDIN_FILENO, &c, 1) == 1) {
    if (c == '\n') return true;
    *line += c;
  }
  return !line->empty();
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int RunEvents2(RunContext& rc, Invocation& inv) {
  if (auto e = RejectExcessArgs(inv, 0)) {
    rc.err << e->err;
    return e->code;
  }
  events::Events2Options opts;
  opts.statistics = inv.Has('s') || inv.Has('f');
  opts.full = inv.Has('f');
  opts.diff = inv.Has('i');
  std::optional<bool> color = ColorChoice(inv, rc.stdout_is_tty);
  if (!color) return UnknownColor(rc);
  opts.color = *color;
  const bool now = inv.Has('n');
  const bool poll_mode = inv.Has('p');
  const bool timestamps = inv.Has('T');
  opts.resource = inv.objname;
  if (!now) {
    genl::Status st = rc.client.SubscribeEvents();
    if (!st.ok()) {
      rc.err << inv.objname << ": unable to join drbd events multicast group\n";
      return kExit;
    }
  }
  events::Events2World world(opts);
  Message req = genl::MakeRequest(Cmd::kGetInitialState);
  auto seq = rc.client.Send(req);
  if (!seq.ok()) return ReportGenlError(rc, seq.error(), inv.objname);
  uint32_t dump_seq = *seq;
  bool initial_done = false;
  for (;;) {
    // With changes held back for a missing sequence number, wait briefly,
    // then give up on it (events2 never stalls on a lost message).
    bool held = world.HasHeld();
    auto msgs = rc.client.ReceiveMessages(poll_mode || held ? 100 : -1);
    if (!msgs.ok()) {
      if (msgs.error().code == genl::ErrorCode::kTimeout && held) {
        std::string lines;
        world.SkipGap(timestamps ? events::TimestampPrefix(NowUs()) : "", &lines);
        rc.out << lines;
        rc.out.flush();
        if (!poll_mode) continue;
      }
      if (msgs.error().code == genl::ErrorCode::kTimeout && poll_mode) {
        std::string line;
        if (!ReadStdinLine(&line, 0)) continue;
        if (line == "n") {
          if (now) {
            world.Reset();
          } else {
            world.PrepareUpdate();
          }
          Message again = genl::MakeRequest(Cmd::kGetInitialState);
          auto s = rc.client.Send(again);
          if (!s.ok()) return ReportGenlError(rc, s.error(), inv.objname);
          dump_seq = *s;
          initial_done = false;
        }
        continue;
      }
      if (msgs.error().code == genl::ErrorCode::kClosed) return 0;
      return ReportGenlError(rc, msgs.error(), inv.objname);
    }
    for (const Message& m : *msgs) {
      auto n = notify::DecodeNotification(m);
      if (!n.ok()) continue;  // not a state message (unknown command): ignored, as drbd-utils
      std::string lines;
      std::string prefix = timestamps ? events::TimestampPrefix(NowUs()) : "";
      std::optional<uint32_t> mseq;
      if (m.nl.seq != dump_seq) mseq = m.nl.seq;
      world.Apply(*n, prefix, &lines, mseq);
      rc.out << lines;
      rc.out.flush();
      if (std::holds_alternative<events::InitialStateDone>(n->object) && m.nl.seq == dump_seq) {
        initial_done = true;
      }
    }
    if (now && initial_done && !poll_mode) return 0;
  }
}

// drbd-utils' timeout bounds for wait-* (seconds; drbd_limits.h).
struct WaitTimeouts {
  int64_t wfc = 0, degr = 0, outdated = 0;
};

int RunWait(RunContext& rc, Invocation& inv) {
  if (auto e = RejectExcessArgs(inv, 0)) {
    rc.err << e->err;
    return e->code;
  }
  WaitTimeouts t;
  auto number = [&](int key, int64_t* v, std::string_view name, int64_t max) -> std::optional<int> {
    std::optional<std::string> arg = inv.Plain(key);
    if (!arg) return std::nullopt;
    auto r = MStrtoll(*arg, '1');
    if (auto* e = std::get_if<CliExit>(&r)) {
      rc.err << e->err;
      return e->code;
    }
    *v = static_cast<int64_t>(std::get<uint64_t>(r));
    if (*v < 0 || *v > max) {
      rc.err << name << " => " << *v << " out of range [0.." << max << "]\n";
      return kExit;
    }
    return std::nullopt;
  };
  if (auto e = number('t', &t.wfc, "wfc_timeout", 300000)) return *e;
  if (auto e = number('d', &t.degr, "degr_wfc_timeout", 300000)) return *e;
  if (auto e = number('o', &t.outdated, "outdated_wfc_timeout", 300000)) return *e;
  bool wait_after_sb = false;
  if (inv.Has('w')) {
    std::optional<std::string> a = inv.Plain('w');
    wait_after_sb = !a || *a == "yes";
  }
  const bool sync = inv.cmd->name.find("sync") != std::string_view::npos;

  genl::Status st = rc.client.SubscribeEvents();
  if (!st.ok()) {
    rc.err << inv.objname << ": unable to join drbd events multicast group\n";
    return kExit;
  }
  auto res = DumpResources(rc.client, inv.resource.empty() ? "all" : inv.resource, true, false);
  if (!res.ok()) return ReportGenlError(rc, res.error(), inv.objname);

  // The peer devices waited for, each with its timeout (0 = forever).
  struct Waited {
    events::PeerDevice pd;
    int64_t timeout_ms = -1;
  };
  std::vector<Waited> waited;
  for (const ResourceDump& d : *res) {
    for (const events::ConnectionSnapshot& c : Snapshot(d).connections) {
      for (const events::PeerDevice& p : c.peer_devices) {
        if ((inv.context & kPeerNodeId) && p.peer_node_id != inv.peer_node_id) continue;
        if ((inv.context & kVolume) && p.volume != inv.volume) continue;
        Message q = genl::MakeRequest(Cmd::kGetTimeoutType);
        genl::Tla& ctx = q.Get(Set::kCfgContext);
        ctx.PutStr(genl::attr::ctx_resource_name, p.resource);
        ctx.PutU32(genl::attr::ctx_peer_node_id, p.peer_node_id);
        ctx.PutU32(genl::attr::ctx_volume, p.volume);
        auto reply = rc.client.Call(q);
        if (!reply.ok() || reply->empty() ||
            reply->front().ret_code() != genl::ToInt(genl::RetCode::kNoError)) {
          rc.err << "error determining which timeout to use: "
                 << (reply.ok() ? "minor not available" : reply.error().message) << "\n";
          return kExit;
        }
        uint32_t type = 0;
        if (const genl::Tla* tp = reply->front().Find(Set::kTimeoutParms)) {
          type = tp->GetU32(genl::attr::timeout_type).value_or(0);
        }
        int64_t secs = type == 1 ? t.degr : type == 2 ? t.outdated : t.wfc;
        waited.push_back({p, secs > 0 ? secs * 1000 : -1});
      }
    }
  }
  if (waited.empty()) return 0;  // no peers known: nothing to wait for

  auto reached = [&](const Waited& w) {
    events::ReplState rs = w.pd.info.repl_state;
    return rs == events::ReplState::kEstablished ||
           (!sync &&
            static_cast<uint32_t>(rs) > static_cast<uint32_t>(events::ReplState::kEstablished));
  };
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    int64_t elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    // The next timeout among the peers still waited for; one that expired
    // ends the wait with drbd-utils' exit code 5.
    bool all_reached = true;
    int64_t wait_ms = -1;
    for (const Waited& w : waited) {
      if (reached(w)) continue;
      all_reached = false;
      if (w.timeout_ms < 0) continue;
      int64_t left = std::max<int64_t>(0, w.timeout_ms - elapsed);
      if (left == 0) return 5;
      if (wait_ms < 0 || left < wait_ms) wait_ms = left;
    }
    if (all_reached) return 0;
    auto msgs = rc.client.ReceiveMessages(static_cast<int>(wait_ms));
    if (!msgs.ok()) {
      if (msgs.error().code == genl::ErrorCode::kTimeout) continue;
      return ReportGenlError(rc, msgs.error(), inv.objname);
    }
    for (const Message& m : *msgs) {
      auto n = notify::DecodeNotification(m);
      if (!n.ok()) continue;
      if (const auto* c = std::get_if<events::Connection>(&n->object)) {
        if (n->type == events::NotifyType::kDestroy || n->type == events::NotifyType::kCreate) {
          continue;
        }
        if (static_cast<uint32_t>(c->info.conn_state) <
            static_cast<uint32_t>(events::ConnState::kUnconnected)) {
          if (!wait_after_sb) return 0;
          rc.err << "\ndrbd " << c->resource << " connection to peer-id " << c->peer_node_id
                 << " ('" << c->name << "') is " << events::ToString(c->info.conn_state)
                 << ", but I'm configured to wait anways (--wait-after-sb)\n";
        }
      } else if (const auto* p = std::get_if<events::PeerDevice>(&n->object)) {
        for (Waited& w : waited) {
          if (w.pd.resource == p->resource && w.pd.peer_node_id == p->peer_node_id &&
              w.pd.volume == p->volume && n->type != events::NotifyType::kDestroy) {
            w.pd.info = p->info;
          }
        }
      }
    }
  }
}

}  // namespace

int RunCommand(RunContext& rc, Invocation& inv) {
  switch (inv.cmd->kind) {
    case CmdKind::kConfig:
    case CmdKind::kDelMinor:
    case CmdKind::kDelResource: {
      if (auto e = ParseExtraArgs(inv, rc.env)) {
        rc.out << e->out;
        rc.err << e->err;
        return e->code;
      }
      return ConfigRequest(rc, inv, inv.objname);
    }
    case CmdKind::kDown:
      return RunDown(rc, inv);
    case CmdKind::kShow:
      return RunShow(rc, inv);
    case CmdKind::kStatus:
      return RunStatus(rc, inv);
    case CmdKind::kRole:
      return RunRole(rc, inv);
    case CmdKind::kCState:
      return RunCState(rc, inv);
    case CmdKind::kDState:
      return RunDState(rc, inv);
    case CmdKind::kGi:
      return RunGi(rc, inv);
    case CmdKind::kEvents:
      return RunEvents2(rc, inv);
    case CmdKind::kWait:
      return RunWait(rc, inv);
    case CmdKind::kPeerRole:
      return RunPeerRole(rc, inv);
    case CmdKind::kCheckResize:
      return RunCheckResize(rc, inv);
    case CmdKind::kUdev:
      break;
  }
  rc.err << inv.cmd->name << ": not implemented by this drbdsetup yet\n";
  return kExit;
}

}  // namespace drbd::setup
