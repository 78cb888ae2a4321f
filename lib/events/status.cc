// SPDX-License-Identifier: GPL-2.0-or-later
// status text, status --json and the one-word state queries.
#include "lib/events/status.h"

#include <algorithm>
#include <cstdio>

#include "lib/events/text.h"

namespace drbd::events {
namespace {

void SortForStatus(std::vector<ResourceSnapshot>& rs) {
  std::stable_sort(rs.begin(), rs.end(), [](const ResourceSnapshot& a, const ResourceSnapshot& b) {
    return a.resource.name < b.resource.name;
  });
  for (ResourceSnapshot& r : rs) {
    // The kernel dumps devices and peer devices in volume order.
    std::stable_sort(r.devices.begin(), r.devices.end(),
                     [](const Device& a, const Device& b) { return a.volume < b.volume; });
    for (ConnectionSnapshot& c : r.connections)
      std::stable_sort(
          c.peer_devices.begin(), c.peer_devices.end(),
          [](const PeerDevice& a, const PeerDevice& b) { return a.volume < b.volume; });
    // Unnamed connections first, then by name.
    std::stable_sort(r.connections.begin(), r.connections.end(),
                     [](const ConnectionSnapshot& a, const ConnectionSnapshot& b) {
                       bool an = a.connection.name.empty();
                       bool bn = b.connection.name.empty();
                       if (an != bn) return an;
                       return a.connection.name < b.connection.name;
                     });
  }
}

const Device* DeviceOf(const ResourceSnapshot& r, uint32_t volume) {
  for (const Device& d : r.devices)
    if (d.volume == volume) return &d;
  return nullptr;
}

// The device size as status' percentages see it: sectors, or all ones when
// the kernel sent no statistics (drbd-utils' "unset" marker).
double DeviceSizeSectors(const Device* d) {
  if (!d || !d->stats) return static_cast<double>(~uint64_t{0});
  return static_cast<double>(d->stats->size);
}

bool InResyncWithoutDetails(const PeerDevice& p) {
  ReplState s = p.info.repl_state;
  return p.stats && !p.stats->rs_total && s >= ReplState::kSyncSource &&
         s <= ReplState::kPausedSyncT && s != ReplState::kVerifyS && s != ReplState::kVerifyT;
}

std::string Kv(std::string_view key, std::string_view value) {
  std::string s = " ";
  s += key;
  s += ':';
  s += value;
  return s;
}

class StatusPrinter {
 public:
  StatusPrinter(const StatusOptions& o, std::string* out)
      : o_(o), pal_(o.color), sink_(out, o.columns) {
    level_.statistics = o.statistics;
    level_.verbose = o.verbose;
  }

  void PrintResource(const ResourceSnapshot& rs) {
    const events::Resource& r = rs.resource;
    sink_.Print(0, r.name);
    if (o_.verbose && r.node_id) sink_.Print(4, Kv("node-id", std::to_string(*r.node_id)));
    sink_.Print(4, Kv("role", pal_.Role(r.info.role, true)));
    if (o_.verbose || r.info.susp.Any()) sink_.Print(4, Kv("suspended", ToString(r.info.susp)));
    if (o_.verbose || r.info.fail_io)
      sink_.Print(4, Kv("force-io-failures", pal_.FailIo(r.info.fail_io)));
    if (o_.statistics && o_.verbose) {
      sink_.Print(4, "\n");
      if (r.stats) PrintResourceStatistics(sink_, 4, nullptr, *r.stats, level_);
    }
    sink_.Print(0, "\n");

    bool single = rs.devices.size() == 1;
    for (const events::Device& d : rs.devices) PrintDevice(d, single);
    for (const ConnectionSnapshot& c : rs.connections) PrintConnection(rs, c, single);
    sink_.Print(0, "\n");
  }

 private:
  void PrintDevice(const events::Device& d, bool single) {
    int indent = 2;
    bool intentional = d.info.intentional_diskless == Tristate::kYes;
    if (o_.verbose || !(single && d.volume == 0)) {
      sink_.Print(indent, "volume:" + std::to_string(d.volume));
      indent = 6;
      if (o_.verbose) sink_.Print(indent, Kv("minor", std::to_string(d.minor)));
    }
    sink_.Print(indent, Kv("disk", pal_.Disk(d.info.disk_state, intentional, true)));
    if (d.info.disk_state == DiskState::kDiskless && (o_.verbose || !o_.is_a_tty))
      sink_.Print(indent, Kv("client", ToString(d.info.intentional_diskless)));
    if (o_.verbose) sink_.Print(indent, Kv("backing_dev", BackingDevWord(d.info)));
    if (o_.verbose || !d.info.has_quorum)
      sink_.Print(indent, Kv("quorum", pal_.Quorum(d.info.has_quorum)));
    indent = 6;
    if (d.stats) {
      if (o_.statistics) sink_.Print(indent, "\n");
      PrintDeviceStatistics(sink_, indent, nullptr, *d.stats, level_);
    }
    sink_.Print(indent, "\n");
  }

  void PrintConnection(const ResourceSnapshot& rs, const ConnectionSnapshot& cs, bool single) {
    const events::Connection& c = cs.connection;
    if (!c.name.empty()) sink_.Print(2, c.name);
    if (o_.verbose || c.name.empty())
      sink_.Print(c.name.empty() ? 2 : 6, Kv("node-id", std::to_string(c.peer_node_id)));
    bool connected = c.info.conn_state == ConnState::kConnected;
    if (o_.verbose || !connected) sink_.Print(6, Kv("connection", pal_.Conn(c.info.conn_state)));
    if (o_.verbose || connected) sink_.Print(6, Kv("role", pal_.Role(c.info.peer_role, false)));
    if (c.stats && (o_.verbose || c.stats->congested))
      PrintConnectionStatistics(sink_, 6, nullptr, *c.stats, level_);
    sink_.Print(0, "\n");
    if (o_.verbose || o_.statistics || connected)
      for (const events::PeerDevice& p : cs.peer_devices) PrintPeerDevice(rs, p, single);
  }

  void PrintPeerDevice(const ResourceSnapshot& rs, const events::PeerDevice& p, bool single) {
    int indent = 4;
    bool intentional = p.info.peer_intentional_diskless == Tristate::kYes;
    if (o_.verbose || !(single && p.volume == 0)) {
      sink_.Print(indent, "volume:" + std::to_string(p.volume));
      indent = 8;
    }
    if (o_.verbose || p.info.repl_state > ReplState::kEstablished) {
      sink_.Print(indent, Kv("replication", pal_.Repl(p.info.repl_state)));
      indent = 8;
    }
    if (o_.verbose || o_.statistics || p.info.repl_state != ReplState::kOff ||
        p.info.peer_disk_state != DiskState::kDUnknown) {
      sink_.Print(indent, Kv("peer-disk", pal_.Disk(p.info.peer_disk_state, intentional, false)));
      if (p.info.peer_disk_state == DiskState::kDiskless && (o_.verbose || !o_.is_a_tty))
        sink_.Print(indent, Kv("peer-client", ToString(p.info.peer_intentional_diskless)));
      indent = 8;
      if (InResyncWithoutDetails(p)) {
        double pct = 100 * (1 - static_cast<double>(p.stats->out_of_sync) /
                                    DeviceSizeSectors(DeviceOf(rs, p.volume)));
        sink_.Print(indent, Kv("done", FormatFixed(pct, 2)));
      } else if (p.stats && HasSyncDetails(*p.stats)) {
        sink_.Print(indent, Kv("done", FormatFixed(PercentDone(*p.stats), 2)));
      }
      if (o_.verbose || p.info.resync_susp.Any())
        sink_.Print(indent, Kv("resync-suspended", ToString(p.info.resync_susp)));
      if (o_.statistics && p.stats) {
        sink_.Print(indent, "\n");
        PrintPeerDeviceStatistics(sink_, indent, *p.stats, level_);
      }
    }
    sink_.Print(0, "\n");
  }

  const StatusOptions& o_;
  Palette pal_;
  WrapSink sink_;
  StatsLevel level_;
};

std::string_view Bool(bool b) { return b ? "true" : "false"; }

std::string Fixed2(double v) { return FormatFixed(v, 2); }

void JsonPeerDevice(const ResourceSnapshot& rs, const PeerDevice& p, std::string& o) {
  PeerDeviceStatistics s = p.stats.value_or(PeerDeviceStatistics{});
  bool details = p.stats && HasSyncDetails(s);
  bool without = InResyncWithoutDetails(p);
  const Device* dev = DeviceOf(rs, p.volume);
  double size = DeviceSizeSectors(dev);
  double in_sync = size == 0 ? 0 : 100 * (1 - static_cast<double>(s.out_of_sync) / size);
  auto line = [&o](std::string_view key, std::string_view value, bool comma = true) {
    o += "          \"";
    o += key;
    o += "\": ";
    o += value;
    if (comma) o += ',';
    o += '\n';
  };
  auto quoted = [](std::string_view v) { return "\"" + std::string(v) + "\""; };
  o += "        {\n";
  line("volume", std::to_string(p.volume));
  line("replication-state", quoted(ToString(p.info.repl_state)));
  line("peer-disk-state", quoted(ToString(p.info.peer_disk_state)));
  line("peer-client", Bool(p.info.peer_intentional_diskless == Tristate::kYes));
  line("resync-suspended", quoted(ToString(p.info.resync_susp)));
  line("received", std::to_string(s.received / 2));
  line("sent", std::to_string(s.sent / 2));
  line("out-of-sync", std::to_string(s.out_of_sync / 2));
  line("pending", std::to_string(s.pending));
  line("unacked", std::to_string(s.unacked));
  line("has-sync-details", Bool(details));
  line("has-online-verify-details", Bool(details && s.ov_left));
  line("percent-in-sync", Fixed2(in_sync), details || without);
  if (details) {
    auto d64 = [](uint64_t v) { return std::to_string(static_cast<int64_t>(v)); };
    uint64_t total = *s.rs_total;
    line("rs-total", std::to_string(total));
    line("rs-dt-start-ms", d64(s.rs_dt_start_ms));
    line("rs-paused-ms", d64(s.rs_paused_ms));
    line("rs-dt0-ms", d64(s.rs_dt0_ms));
    line("rs-db0-sectors", d64(s.rs_db0_sectors));
    line("rs-dt1-ms", d64(s.rs_dt1_ms));
    line("rs-db1-sectors", d64(s.rs_db1_sectors));
    if (s.ov_left) {
      line("ov-start-sector", std::to_string(s.ov_start_sector));
      line("ov-stop-sector", d64(s.ov_stop_sector));
      line("ov-position", d64(s.ov_position));
      line("ov-left", std::to_string(s.ov_left));
      line("ov-skipped", std::to_string(s.ov_skipped));
    } else {
      line("rs-failed", std::to_string(s.resync_failed));
      line("rs-same-csum", std::to_string(s.rs_same_csum));
    }
    line("want", Fixed2(s.rs_c_sync_rate ? s.rs_c_sync_rate / 1024.0 : 0.0));
    double db = static_cast<double>(static_cast<int64_t>(s.rs_db0_sectors));
    double dt = static_cast<double>(s.rs_dt0_ms ? s.rs_dt0_ms : 1);
    line("db0/dt0 [MiB/s]", Fixed2(db / dt * 1000.0 / 2048.0));
    db = static_cast<double>(static_cast<int64_t>(s.rs_db1_sectors));
    dt = static_cast<double>(s.rs_dt1_ms ? s.rs_dt1_ms : 1);
    line("db1/dt1 [MiB/s]", Fixed2(db / dt * 1000.0 / 2048.0));
    uint64_t to_go = SectorsToGo(s);
    line("estimated-seconds-to-finish",
         FormatFixed(db <= 0 ? 987654321.0 : dt * 1e-3 * static_cast<double>(to_go) / db, 0));
    db = static_cast<double>(total - to_go);
    dt = static_cast<double>(s.rs_dt_start_ms - s.rs_paused_ms);
    line("db/dt [MiB/s]", Fixed2(db / (dt != 0 ? dt : 1) * 1000.0 / 2048.0));
    line("percent-resync-done", Fixed2(100.0 * db / static_cast<double>(total)), false);
  } else if (without) {
    line("percent-resync-done", Fixed2(100 * (1 - static_cast<double>(s.out_of_sync) / size)),
         false);
  }
  o += "        }";
}

void JsonConnection(const ResourceSnapshot& rs, const ConnectionSnapshot& cs, std::string& o) {
  const Connection& c = cs.connection;
  bool congested = c.stats && c.stats->congested;
  o += "    {\n";
  o += "      \"peer-node-id\": " + std::to_string(c.peer_node_id) + ",\n";
  o += "      \"name\": \"" + c.name + "\",\n";
  o += "      \"connection-state\": \"" + std::string(ToString(c.info.conn_state)) + "\", \n";
  o += "      \"congested\": " + std::string(Bool(congested)) + ",\n";
  o += "      \"peer-role\": \"" + std::string(ToString(c.info.peer_role)) + "\",\n";
  if (c.stats && c.stats->ap_in_flight) {
    o += "      \"ap-in-flight\": " + std::to_string(*c.stats->ap_in_flight) + ",\n";
    o += "      \"rs-in-flight\": " + std::to_string(c.stats->rs_in_flight.value_or(0)) + ",\n";
  }
  o += "      \"peer_devices\": [\n";
  bool first = true;
  for (const PeerDevice& p : cs.peer_devices) {
    if (!first) o += ",\n";
    first = false;
    JsonPeerDevice(rs, p, o);
  }
  o += " ]\n    }";
}

void JsonDevice(const Device& d, std::string& o) {
  o += "    {\n";
  o += "      \"volume\": " + std::to_string(d.volume) + ",\n";
  o += "      \"minor\": " + std::to_string(d.minor) + ",\n";
  o += "      \"disk-state\": \"" + std::string(ToString(d.info.disk_state)) + "\",\n";
  o += "      \"client\": " + std::string(Bool(d.info.intentional_diskless == Tristate::kYes)) +
       ",\n";
  o += "      \"quorum\": " + std::string(Bool(d.info.has_quorum)) + (d.stats ? ",\n" : "\n");
  if (d.stats) {
    const DeviceStatistics& s = *d.stats;
    o += "      \"size\": " + std::to_string(s.size / 2) + ",\n";
    o += "      \"read\": " + std::to_string(s.read / 2) + ",\n";
    o += "      \"written\": " + std::to_string(s.written / 2) + ",\n";
    o += "      \"al-writes\": " + std::to_string(s.al_writes) + ",\n";
    o += "      \"bm-writes\": " + std::to_string(s.bm_writes) + ",\n";
    o += "      \"upper-pending\": " + std::to_string(s.upper_pending) + ",\n";
    o += "      \"lower-pending\": " + std::to_string(s.lower_pending) + "\n";
  }
  o += "    }";
}

void JsonResource(const ResourceSnapshot& rs, std::string& o) {
  const Resource& r = rs.resource;
  auto b = [](bool v) { return std::string(Bool(v)); };
  o += "{\n";
  o += "  \"name\": \"" + r.name + "\",\n";
  o += "  \"node-id\": " + std::to_string(r.node_id ? static_cast<int>(*r.node_id) : -1) + ",\n";
  o += "  \"role\": \"" + std::string(ToString(r.info.role)) + "\",\n";
  o += "  \"suspended\": " + b(r.info.susp.Any()) + ",\n";
  o += "  \"suspended-user\": " + b(r.info.susp.user) + ",\n";
  o += "  \"suspended-no-data\": " + b(r.info.susp.no_data) + ",\n";
  o += "  \"suspended-fencing\": " + b(r.info.susp.fencing) + ",\n";
  o += "  \"suspended-quorum\": " + b(r.info.susp.quorum) + ",\n";
  o += "  \"force-io-failures\": " + b(r.info.fail_io) + ",\n";
  o += "  \"write-ordering\": \"" +
       std::string(ToString(r.stats ? r.stats->write_ordering : WriteOrdering::kNone)) + "\",\n";
  o += "  \"devices\": [\n";
  for (size_t i = 0; i < rs.devices.size(); ++i) {
    JsonDevice(rs.devices[i], o);
    if (i + 1 < rs.devices.size()) o += ",\n";
  }
  o += " ],\n  \"connections\": [\n";
  for (size_t i = 0; i < rs.connections.size(); ++i) {
    JsonConnection(rs, rs.connections[i], o);
    if (i + 1 < rs.connections.size()) o += ",\n";
  }
  o += " ]\n}\n";
}

}  // namespace

std::string FormatStatus(std::vector<ResourceSnapshot> resources, const StatusOptions& options) {
  std::string out;
  if (resources.empty()) return "# No currently configured DRBD found.\n";
  SortForStatus(resources);
  StatusPrinter p(options, &out);
  for (const ResourceSnapshot& r : resources) p.PrintResource(r);
  return out;
}

std::string FormatStatusJson(std::vector<ResourceSnapshot> resources) {
  SortForStatus(resources);
  std::string o = "[\n";
  for (size_t i = 0; i < resources.size(); ++i) {
    if (i) o += ",\n";
    JsonResource(resources[i], o);
  }
  o += "]\n\n";
  return o;
}

StatusCommandOutput RunStatusCommand(std::vector<ResourceSnapshot> all, std::string_view objname,
                                     const StatusOptions& options, bool json) {
  StatusCommandOutput r;
  bool nothing_configured = all.empty();
  if (objname != "all") {
    std::erase_if(all, [&](const ResourceSnapshot& s) { return s.resource.name != objname; });
  }
  bool found = !all.empty();
  if (json) {
    r.out = FormatStatusJson(std::move(all));
  } else if (nothing_configured) {
    r.out = FormatStatus({}, options);
  } else if (found) {
    r.out = FormatStatus(std::move(all), options);
  }
  if (!found && objname != "all") {
    r.err = std::string(objname) + ": No such resource\n";
    r.exit_code = 10;
  }
  return r;
}

std::string FormatRole(const ResourceSnapshot& r) {
  return std::string(ToString(r.resource.info.role)) + "\n";
}

std::optional<std::string> FormatCstate(const ResourceSnapshot& r, uint32_t peer_node_id) {
  for (const ConnectionSnapshot& c : r.connections)
    if (c.connection.peer_node_id == peer_node_id)
      return std::string(ToString(c.connection.info.conn_state)) + "\n";
  return std::nullopt;
}

std::optional<std::string> FormatDstate(const ResourceSnapshot& r, uint32_t minor) {
  for (const Device& d : r.devices) {
    if (d.minor != minor) continue;
    std::string s(ToString(d.info.disk_state));
    for (const ConnectionSnapshot& c : r.connections)
      for (const PeerDevice& p : c.peer_devices)
        if (p.volume == d.volume) s += "/" + std::string(ToString(p.info.peer_disk_state));
    return s + "\n";
  }
  return std::nullopt;
}

}  // namespace drbd::events
