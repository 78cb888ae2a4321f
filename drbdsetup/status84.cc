// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdsetup status` against an 8.4 module, in drbdsetup-84's layout (its
// status printer predates the DRBD 9 one: no node-id, quorum,
// force-io-failures or backing_dev words; resync-suspended after the peer
// disk). Objects come from the DRBD 9 dump commands, which 8.4.11 answers;
// the client rewrites their 8.4 state numbers (lib/genl/state84.h).
#include "drbdsetup/status84.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <ostream>

#include "lib/events/text.h"
#include "lib/genl/drbd_codes.h"
#include "lib/notify/notify.h"

namespace drbd::setup {
namespace {

using genl::Cmd;
using genl::Message;

using genl::DumpFiltered;

template <typename T>
std::vector<T> DecodeAll(const std::vector<Message>& ms) {
  std::vector<T> out;
  for (const Message& m : ms) {
    auto n = notify::DecodeNotification(m);
    if (!n.ok()) continue;
    if (const T* t = std::get_if<T>(&n->object)) out.push_back(*t);
  }
  return out;
}

struct Opts {
  bool verbose = false;
  bool statistics = false;
  events::Palette pal{false};
};

void PrintResource(events::TextSink& w, const events::Resource& r, const Opts& o) {
  w.Print(0, r.name);
  w.Print(4, fmt::format(" role:{}", o.pal.Role(r.info.role, true)));
  bool susp = r.info.susp.user || r.info.susp.no_data || r.info.susp.fencing;
  if (o.verbose || susp) w.Print(4, fmt::format(" suspended:{}", events::ToString(r.info.susp)));
  if (o.statistics && o.verbose && r.stats) {
    w.Print(4, "\n");
    w.Print(4, fmt::format(" write-ordering:{}", events::ToString(r.stats->write_ordering)));
  }
  w.Print(0, "\n");
}

void PrintDevice(events::TextSink& w, const events::Device& d, bool single, const Opts& o) {
  int indent = 2;
  if (o.verbose || !(single && d.volume == 0)) {
    w.Print(indent, fmt::format("volume:{}", d.volume));
    indent = 6;
    if (o.verbose) w.Print(indent, fmt::format(" minor:{}", d.minor));
  }
  w.Print(indent, fmt::format(" disk:{}", o.pal.Disk(d.info.disk_state, false, true)));
  indent = 6;
  if (d.stats) {
    const events::DeviceStatistics& s = *d.stats;
    if (o.statistics) {
      w.Print(indent, "\n");
      if (o.verbose) w.Print(indent, fmt::format(" size:{}", s.size / 2));
      w.Print(indent, fmt::format(" read:{}", s.read / 2));
      w.Print(indent, fmt::format(" written:{}", s.written / 2));
      if (o.verbose) {
        w.Print(indent, fmt::format(" al-writes:{}", s.al_writes));
        w.Print(indent, fmt::format(" bm-writes:{}", s.bm_writes));
        w.Print(indent, fmt::format(" upper-pending:{}", s.upper_pending));
        w.Print(indent, fmt::format(" lower-pending:{}", s.lower_pending));
        w.Print(indent, fmt::format(" al-suspended:{}", s.al_suspended ? "yes" : "no"));
      }
    }
    if (o.verbose || s.upper_blocked || s.lower_blocked) {
      std::string b;
      if (s.upper_blocked) b = "upper";
      if (s.lower_blocked) b += b.empty() ? "lower" : ",lower";
      w.Print(indent, fmt::format(" blocked:{}", b.empty() ? "no" : b));
    }
  }
  w.Print(indent, "\n");
}

void PrintPeerDevice(events::TextSink& w, const events::PeerDevice& p, const events::Device* dev,
                     bool single, const Opts& o) {
  int indent = 4;
  if (o.verbose || !(single && p.volume == 0)) {
    w.Print(indent, fmt::format("volume:{}", p.volume));
    indent = 8;
  }
  using events::ReplState;
  ReplState rs = p.info.repl_state;
  if (o.verbose || rs > ReplState::kOff) {
    w.Print(indent, fmt::format(" replication:{}", o.pal.Repl(rs)));
    indent = 8;
  }
  if (o.verbose || o.statistics || rs != ReplState::kOff ||
      p.info.peer_disk_state != events::DiskState::kDUnknown) {
    w.Print(indent, fmt::format(" peer-disk:{}", o.pal.Disk(p.info.peer_disk_state, false, false)));
    indent = 8;
    bool syncing = rs >= ReplState::kSyncSource && rs <= ReplState::kPausedSyncT;
    if (syncing && p.stats && dev && dev->stats && dev->stats->size) {
      w.Print(indent,
              fmt::format(" done:{:.2f}", 100 * (1 - static_cast<double>(p.stats->out_of_sync) /
                                                         static_cast<double>(dev->stats->size))));
    }
    const auto& f = p.info.resync_susp;
    if (o.verbose || f.user || f.peer || f.dependency)
      w.Print(indent, fmt::format(" resync-suspended:{}", events::ToString(f)));
    if (o.statistics && p.stats) {
      const events::PeerDeviceStatistics& s = *p.stats;
      w.Print(indent, "\n");
      w.Print(indent, fmt::format(" received:{}", s.received / 2));
      w.Print(indent, fmt::format(" sent:{}", s.sent / 2));
      if (o.verbose || s.out_of_sync)
        w.Print(indent, fmt::format(" out-of-sync:{}", s.out_of_sync / 2));
      if (o.verbose) {
        w.Print(indent, fmt::format(" pending:{}", s.pending));
        w.Print(indent, fmt::format(" unacked:{}", s.unacked));
      }
    }
  }
  w.Print(0, "\n");
}

void PrintConnection(events::TextSink& w, const events::Connection& c,
                     const std::vector<events::PeerDevice>& pds,
                     const std::vector<events::Device>& devs, bool single, const Opts& o) {
  using events::ConnState;
  w.Print(2, "peer");
  ConnState cs = c.info.conn_state;
  if (o.verbose || cs < ConnState::kConnected)
    w.Print(6, fmt::format(" connection:{}", o.pal.Conn(cs)));
  if (o.verbose || cs == ConnState::kConnected)
    w.Print(6, fmt::format(" role:{}", o.pal.Role(c.info.peer_role, false)));
  if (c.stats && (o.verbose || c.stats->congested))
    w.Print(6, fmt::format(" congested:{}", c.stats->congested ? "yes" : "no"));
  w.Print(0, "\n");
  if (o.verbose || o.statistics || cs == ConnState::kConnected) {
    for (const events::PeerDevice& p : pds) {
      const events::Device* dev = nullptr;
      for (const events::Device& d : devs)
        if (d.volume == p.volume) dev = &d;
      PrintPeerDevice(w, p, dev, single, o);
    }
  }
}

}  // namespace

int Status84(genl::Client& client, const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err, int columns) {
  Opts o;
  events::ColorMode color = events::ColorMode::kAuto;
  std::string objname = "all";
  bool have_obj = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--verbose" || a == "-v")
      o.verbose = true;
    else if (a == "--statistics" || a == "-s")
      o.statistics = true;
    else if (a == "--color" || a.starts_with("--color=")) {
      std::optional<std::string_view> arg;
      if (a.size() > 7) arg = std::string_view(a).substr(8);
      auto mode = events::ParseColorMode(arg);
      if (!mode) {
        err << "unknown --color argument\n";
        return 20;
      }
      color = *mode;
    } else if (!a.starts_with("-") && !have_obj) {
      objname = a;
      have_obj = true;
    } else {
      err << "drbdsetup status: unrecognized option '" << a << "'\n";
      return 20;
    }
  }
  o.pal = events::Palette(events::UseColor(color, STDOUT_FILENO));
  auto res = DumpFiltered(client, Cmd::kGetResources, "");
  if (!res.ok()) {
    err << objname << ": " << res.error().message << "\n";
    return 20;
  }
  std::vector<events::Resource> resources = DecodeAll<events::Resource>(*res);
  std::sort(resources.begin(), resources.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::string text;
  events::WrapSink w(&text, columns);
  bool found = false;
  for (const events::Resource& r : resources) {
    if (objname != "all" && objname != r.name) continue;
    auto dv = DumpFiltered(client, Cmd::kGetDevices, r.name);
    auto cn = DumpFiltered(client, Cmd::kGetConnections, r.name);
    if (!dv.ok() || !cn.ok()) {
      err << r.name << ": " << (dv.ok() ? cn.error() : dv.error()).message << "\n";
      return 20;
    }
    std::vector<events::Device> devs = DecodeAll<events::Device>(*dv);
    std::vector<events::Connection> conns = DecodeAll<events::Connection>(*cn);
    std::vector<events::PeerDevice> pds;
    if (!devs.empty() && !conns.empty()) {
      auto pd = DumpFiltered(client, Cmd::kGetPeerDevices, r.name);
      if (!pd.ok()) {
        err << r.name << ": " << pd.error().message << "\n";
        return 20;
      }
      pds = DecodeAll<events::PeerDevice>(*pd);
    }
    PrintResource(w, r, o);
    bool single = devs.size() == 1;
    for (const events::Device& d : devs) PrintDevice(w, d, single, o);
    for (const events::Connection& c : conns) PrintConnection(w, c, pds, devs, single, o);
    w.Print(0, "\n");
    found = true;
  }
  out << text;
  if (!found && objname != "all") {
    err << objname << ": No such resource\n";
    return 10;
  }
  return 0;
}

}  // namespace drbd::setup
