// SPDX-License-Identifier: GPL-2.0-or-later
// The events2 state of the world and its line printer.
#include "lib/events/events2.h"

#include <sys/time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "lib/events/text.h"

namespace drbd::events {
namespace {

constexpr std::string_view kUnknownWord = "UNKNOWN";

// Upstream keeps siblings in singly linked lists with new entries at the
// head; these helpers keep that order in vectors (index 0 = head).
template <typename T>
void Prepend(std::vector<T>& v, T x) {
  v.insert(v.begin(), std::move(x));
}

// A copy of a resource as drbd-utils' deep copy makes it: every list comes
// out reversed, because each element is prepended to the new list.
ResourceSnapshot CopyReversed(const ResourceSnapshot& r) {
  ResourceSnapshot c;
  c.resource = r.resource;
  c.devices.assign(r.devices.rbegin(), r.devices.rend());
  for (const ConnectionSnapshot& old : r.connections) {
    ConnectionSnapshot nc;
    nc.connection = old.connection;
    nc.peer_devices.assign(old.peer_devices.rbegin(), old.peer_devices.rend());
    nc.paths.assign(old.paths.rbegin(), old.paths.rend());
    Prepend(c.connections, std::move(nc));
  }
  return c;
}

Device* FindDevice(ResourceSnapshot& r, uint32_t volume) {
  for (Device& d : r.devices)
    if (d.volume == volume) return &d;
  return nullptr;
}
const Device* FindDevice(const ResourceSnapshot& r, uint32_t volume) {
  return FindDevice(const_cast<ResourceSnapshot&>(r), volume);
}
ConnectionSnapshot* FindConn(ResourceSnapshot& r, std::string_view name) {
  for (ConnectionSnapshot& c : r.connections)
    if (c.connection.name == name) return &c;
  return nullptr;
}
const ConnectionSnapshot* FindConn(const ResourceSnapshot& r, std::string_view name) {
  return FindConn(const_cast<ResourceSnapshot&>(r), name);
}
PeerDevice* FindPeerDevice(ConnectionSnapshot& c, uint32_t volume) {
  for (PeerDevice& p : c.peer_devices)
    if (p.volume == volume) return &p;
  return nullptr;
}
const PeerDevice* FindPeerDevice(const ConnectionSnapshot& c, uint32_t volume) {
  return FindPeerDevice(const_cast<ConnectionSnapshot&>(c), volume);
}
bool SamePath(const Path& a, const Path& b) { return a.local == b.local && a.peer == b.peer; }
Path* FindPath(ConnectionSnapshot& c, const Path& key) {
  for (Path& p : c.paths)
    if (SamePath(p, key)) return &p;
  return nullptr;
}
const Path* FindPath(const ConnectionSnapshot& c, const Path& key) {
  return FindPath(const_cast<ConnectionSnapshot&>(c), key);
}

template <typename T, typename Pred>
void EraseFirst(std::vector<T>& v, Pred pred) {
  auto it = std::find_if(v.begin(), v.end(), pred);
  if (it != v.end()) v.erase(it);
}

std::string Kv(std::string_view key, std::string_view value) {
  std::string s = " ";
  s += key;
  s += ':';
  s += value;
  return s;
}
std::string KvDiff(std::string_view key, std::string_view old_value, std::string_view new_value) {
  std::string s = Kv(key, old_value);
  s += "->";
  s += new_value;
  return s;
}

}  // namespace

std::string TimestampPrefix(int64_t unix_us) {
  time_t secs = static_cast<time_t>(unix_us / 1000000);
  long usec = static_cast<long>(unix_us % 1000000);
  if (usec < 0) {
    usec += 1000000;
    --secs;
  }
  struct tm tm;
  localtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04u-%02u-%02uT%02u:%02u:%02u.%06u%+03d:%02u ",
                static_cast<unsigned>(tm.tm_year + 1900), static_cast<unsigned>(tm.tm_mon + 1),
                static_cast<unsigned>(tm.tm_mday), static_cast<unsigned>(tm.tm_hour),
                static_cast<unsigned>(tm.tm_min), static_cast<unsigned>(tm.tm_sec),
                static_cast<unsigned>(usec), static_cast<int>(tm.tm_gmtoff / 3600),
                static_cast<unsigned>((std::labs(tm.tm_gmtoff) / 60) % 60));
  return buf;
}

Events2World::Promotion Events2World::ComputePromotion(const ResourceSnapshot& r) {
  Promotion p;
  if (r.devices.empty()) return p;
  int up_to_date_devices = 0;
  bool all_have_disk = true;
  int min_replicas = -1;
  bool all_stable = true;
  for (const Device& d : r.devices) {
    int replicas = d.info.disk_state == DiskState::kUpToDate ? 1 : 0;
    bool stable = d.info.disk_state == DiskState::kUpToDate;
    for (const ConnectionSnapshot& c : r.connections) {
      for (const PeerDevice& pd : c.peer_devices) {
        if (pd.volume != d.volume || pd.info.peer_disk_state != DiskState::kUpToDate) continue;
        ++replicas;
        if (pd.stats && (pd.stats->uuid_flags & kUuidFlagStable)) stable = true;
      }
    }
    if (!d.info.has_quorum) return p;
    if (d.info.disk_state == DiskState::kUpToDate) {
      ++up_to_date_devices;
    } else if (d.info.disk_state != DiskState::kConsistent &&
               d.info.disk_state != DiskState::kInconsistent) {
      all_have_disk = false;
    }
    if (min_replicas == -1 || replicas < min_replicas) min_replicas = replicas;
    if (!stable) all_stable = false;
  }
  if (min_replicas <= 0) return p;
  bool have_primary = r.resource.info.role == Role::kPrimary;
  for (const ConnectionSnapshot& c : r.connections)
    if (c.connection.info.peer_role == Role::kPrimary) have_primary = true;
  p.may_promote = !have_primary && all_stable;
  p.score = (all_have_disk ? 1 : 0) * 10000 + std::min(up_to_date_devices, 99) * 100 +
            std::min(min_replicas, 99);
  return p;
}

void Events2World::Reset() {
  all_.clear();
  pending_.clear();
  held_.clear();
  next_seq_.reset();
  initial_state_ = true;
}

std::vector<ResourceSnapshot> Events2World::Snapshot() const {
  std::vector<ResourceSnapshot> v;
  v.reserve(all_.size());
  for (const auto& [name, res] : all_) v.push_back(res.snap);
  return v;
}

Events2World::Res* Events2World::FindPending(const std::string& name) {
  for (Res& r : pending_)
    if (r.snap.resource.name == name) return &r;
  return nullptr;
}

void Events2World::Apply(const Notification& n, std::string_view prefix, std::string* out,
                         std::optional<uint32_t> seq) {
  if (std::holds_alternative<InitialStateDone>(n.object)) {
    if (initial_state_) {
      out->append(prefix);
      out->append("exists -\n");
    }
    initial_state_ = false;
    receive_update_ = false;
  } else if (n.type == NotifyType::kExists) {
    // The initial state applies at once.
    ApplyNow(n, prefix, out);
    return;
  } else {
    // Changes are held back during the initial state and applied in
    // nlmsg_seq order (drbd-utils >= 9.28; 9.22 applied them in arrival
    // order and printed "- skipped N" for gaps). Without a seq a change
    // takes the next number in line.
    if (!next_seq_) next_seq_ = seq.value_or(0);
    held_.emplace_back(seq.value_or(*next_seq_), n);
  }
  if (initial_state_ || receive_update_) return;
  DrainHeld(prefix, out);
}

void Events2World::DrainHeld(std::string_view prefix, std::string* out) {
  // Apply every held change whose seq is not after the next expected one
  // (wrap-around aware); the first changes may arrive out of order, so the
  // expected seq can also lie ahead of what arrives.
  auto not_after = [](uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; };
  for (bool progress = true; progress;) {
    progress = false;
    for (auto it = held_.begin(); it != held_.end(); ++it) {
      if (!not_after(it->first, *next_seq_)) continue;
      if (it->first == *next_seq_) ++*next_seq_;
      Notification held = std::move(it->second);
      held_.erase(it);
      ApplyNow(held, prefix, out);
      progress = true;
      break;
    }
  }
}

void Events2World::SkipGap(std::string_view prefix, std::string* out) {
  while (HasHeld()) {
    uint32_t lowest = held_.front().first;
    for (const auto& held : held_) {
      if (static_cast<int32_t>(held.first - lowest) < 0) lowest = held.first;
    }
    next_seq_ = lowest;
    DrainHeld(prefix, out);
  }
}

namespace {
// Identity of the resource a notification belongs to.
const std::string& ResourceName(const Notification& n) {
  static const std::string kEmpty;
  return std::visit(
      [](const auto& o) -> const std::string& {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, InitialStateDone>) {
          return kEmpty;
        } else if constexpr (std::is_same_v<T, Resource> || std::is_same_v<T, Rename>) {
          return o.name;
        } else {
          return o.resource;
        }
      },
      n.object);
}

}  // namespace

bool MatchesResource(const Notification& n, std::string_view objname) {
  if (objname == "all" || std::holds_alternative<InitialStateDone>(n.object)) return true;
  return ResourceName(n) == objname;
}

namespace {

void PrintHelper(std::string_view prefix, const Helper& h, std::string* out) {
  std::string line(prefix);
  line += h.response ? "response helper" : "call helper";
  if (!h.resource.empty()) line += Kv("name", h.resource);
  if (h.peer_node_id) line += Kv("peer-node-id", std::to_string(*h.peer_node_id));
  if (!h.conn_name.empty()) line += Kv("conn-name", h.conn_name);
  if (h.local && h.peer) {
    line += Kv("local", ToString(*h.local));
    line += Kv("peer", ToString(*h.peer));
  }
  if (h.volume) line += Kv("volume", std::to_string(*h.volume));
  if (h.minor) line += Kv("minor", std::to_string(*h.minor));
  line += Kv("helper", h.name);
  if (h.response) line += Kv("status", std::to_string(h.status));
  line += '\n';
  out->append(line);
}
}  // namespace

void Events2World::ApplyNow(const Notification& n, std::string_view prefix, std::string* out) {
  if (!MatchesResource(n, options_.resource)) return;
  NotifyType action = n.type;
  if (action == NotifyType::kExists && receive_update_) action = NotifyType::kChange;
  const std::string& name = ResourceName(n);
  bool is_resource_create = std::holds_alternative<Resource>(n.object) &&
                            (action == NotifyType::kCreate || action == NotifyType::kExists);

  Res* now = FindPending(name);
  auto old_it = all_.find(name);
  const Res* old = old_it == all_.end() ? nullptr : &old_it->second;

  if (is_resource_create) {
    if (now || old) return;
    Res r;
    r.snap.resource = std::get<Resource>(n.object);
    pending_.push_front(std::move(r));
    now = &pending_.front();
  } else if (!now) {
    if (!old) return;
    Res r;
    r.snap = CopyReversed(old->snap);
    pending_.push_front(std::move(r));
    now = &pending_.front();
  }
  now->rename_to.clear();
  ResourceSnapshot& snap = now->snap;

  switch (action) {
    case NotifyType::kExists:
    case NotifyType::kCreate:
      if (const auto* d = std::get_if<Device>(&n.object)) {
        if (!FindDevice(snap, d->volume)) Prepend(snap.devices, *d);
      } else if (const auto* c = std::get_if<Connection>(&n.object)) {
        if (!FindConn(snap, c->name)) {
          ConnectionSnapshot cs;
          cs.connection = *c;
          Prepend(snap.connections, std::move(cs));
        }
      } else if (const auto* pd = std::get_if<PeerDevice>(&n.object)) {
        ConnectionSnapshot* c = FindConn(snap, pd->conn_name);
        if (c && !FindPeerDevice(*c, pd->volume)) Prepend(c->peer_devices, *pd);
      } else if (const auto* p = std::get_if<Path>(&n.object)) {
        ConnectionSnapshot* c = FindConn(snap, p->conn_name);
        if (c && !FindPath(*c, *p)) Prepend(c->paths, *p);
      }
      break;
    case NotifyType::kChange:
      if (const auto* r = std::get_if<Resource>(&n.object)) {
        snap.resource.info = r->info;
        snap.resource.stats = r->stats;
      } else if (const auto* d = std::get_if<Device>(&n.object)) {
        if (Device* cur = FindDevice(snap, d->volume)) {
          cur->info = d->info;
          cur->stats = d->stats;
        }
      } else if (const auto* c = std::get_if<Connection>(&n.object)) {
        if (ConnectionSnapshot* cur = FindConn(snap, c->name)) {
          cur->connection.info = c->info;
          cur->connection.stats = c->stats;
        }
      } else if (const auto* pd = std::get_if<PeerDevice>(&n.object)) {
        ConnectionSnapshot* c = FindConn(snap, pd->conn_name);
        if (PeerDevice* cur = c ? FindPeerDevice(*c, pd->volume) : nullptr) {
          cur->info = pd->info;
          cur->stats = pd->stats;
        }
      } else if (const auto* p = std::get_if<Path>(&n.object)) {
        // Kernels send no initial state for paths: a change may be the
        // first we hear of one.
        if (ConnectionSnapshot* c = FindConn(snap, p->conn_name)) {
          if (Path* cur = FindPath(*c, *p))
            cur->established = p->established;
          else
            Prepend(c->paths, *p);
        }
      }
      break;
    case NotifyType::kDestroy:
      if (std::holds_alternative<Resource>(n.object)) {
        now->destroyed = true;
      } else if (const auto* d = std::get_if<Device>(&n.object)) {
        EraseFirst(snap.devices, [&](const Device& x) { return x.volume == d->volume; });
      } else if (const auto* c = std::get_if<Connection>(&n.object)) {
        EraseFirst(snap.connections,
                   [&](const ConnectionSnapshot& x) { return x.connection.name == c->name; });
      } else if (const auto* pd = std::get_if<PeerDevice>(&n.object)) {
        if (ConnectionSnapshot* c = FindConn(snap, pd->conn_name))
          EraseFirst(c->peer_devices, [&](const PeerDevice& x) { return x.volume == pd->volume; });
      } else if (const auto* p = std::get_if<Path>(&n.object)) {
        if (ConnectionSnapshot* c = FindConn(snap, p->conn_name))
          EraseFirst(c->paths, [&](const Path& x) { return SamePath(x, *p); });
      }
      break;
    case NotifyType::kCall:
    case NotifyType::kResponse:
      if (const auto* h = std::get_if<Helper>(&n.object)) {
        Helper copy = *h;
        copy.response = action == NotifyType::kResponse;
        PrintHelper(prefix, copy, out);
      }
      break;
    case NotifyType::kRename:
      if (const auto* r = std::get_if<Rename>(&n.object)) now->rename_to = r->new_name;
      break;
  }

  if (n.continues) return;
  std::deque<Res> burst;
  burst.swap(pending_);
  for (Res& r : burst) {
    auto it = all_.find(r.snap.resource.name);
    const Res* prev = it == all_.end() ? nullptr : &it->second;
    PrintChanges(prefix, prev, r, out);
    if (it != all_.end()) all_.erase(it);
    if (!r.destroyed) {
      std::string key = r.snap.resource.name;
      all_.insert_or_assign(std::move(key), std::move(r));
    }
  }
}

void Events2World::PrintChanges(std::string_view prefix, const Res* old_res, Res& now_res,
                                std::string* out) {
  const bool diff = options_.diff;
  const bool full = options_.full;
  StatsLevel level;
  level.statistics = options_.statistics || options_.full;
  level.verbose = (options_.statistics ? 1 : 0) + (options_.full ? 1 : 0);
  level.full = full;
  Palette pal(options_.color);
  const char* action_new = initial_state_ ? "exists" : "create";
  const ResourceSnapshot* old = old_res ? &old_res->snap : nullptr;
  ResourceSnapshot& now = now_res.snap;
  const std::string& rname = now.resource.name;
  auto begin_line = [&](bool is_old, std::string_view object) {
    std::string s(prefix);
    s += is_old ? "change " : action_new;
    if (!is_old) s += ' ';
    s += object;
    return s;
  };

  // ---- resource
  {
    const ResourceInfo& ni = now.resource.info;
    const ResourceInfo* oi = old ? &old->resource.info : nullptr;
    Promotion np = ComputePromotion(now);
    Promotion op;
    bool role_changed = !oi || ni.role != oi->role;
    bool info_changed = !oi || !(ni.susp == oi->susp);
    bool fail_io_changed = !oi || ni.fail_io != oi->fail_io;
    bool stats_changed = level.statistics && (!old || old->resource.stats != now.resource.stats);
    bool promo_changed = true;
    if (old) {
      op = ComputePromotion(*old);
      promo_changed = !(op == np);
    }
    if (!now_res.rename_to.empty()) {
      out->append(std::string(prefix) + "rename resource name:" + rname +
                  " new_name:" + now_res.rename_to + "\n");
      now.resource.name = now_res.rename_to;
    } else if (role_changed || info_changed || stats_changed || promo_changed || fail_io_changed) {
      std::string s = begin_line(old != nullptr, "resource");
      s += Kv("name", rname);
      if (role_changed || full) {
        if (diff)
          s += KvDiff("role", oi ? pal.Role(oi->role, true) : std::string(kUnknownWord),
                      pal.Role(ni.role, true));
        else
          s += Kv("role", pal.Role(ni.role, true));
      }
      if (info_changed || full) {
        if (diff)
          s += KvDiff("suspended", oi ? ToString(oi->susp) : std::string(kUnknownWord),
                      ToString(ni.susp));
        else
          s += Kv("suspended", ToString(ni.susp));
      }
      if (fail_io_changed || full) {
        if (diff)
          s += KvDiff("force-io-failures", oi ? YesNo(oi->fail_io) : kUnknownWord,
                      YesNo(ni.fail_io));
        else
          s += Kv("force-io-failures", YesNo(ni.fail_io));
      }
      if ((stats_changed || full) && now.resource.stats) {
        std::string tmp;
        PlainSink sink(&tmp);
        PrintResourceStatistics(sink, 0,
                                old && old->resource.stats ? &*old->resource.stats : nullptr,
                                *now.resource.stats, level);
        s += tmp;
      }
      if (promo_changed || full) {
        if (diff) {
          s += KvDiff("may_promote", old ? YesNo(op.may_promote) : kUnknownWord,
                      YesNo(np.may_promote));
          s += KvDiff("promotion_score", std::to_string(old ? op.score : 0),
                      std::to_string(np.score));
        } else {
          s += Kv("may_promote", YesNo(np.may_promote));
          s += Kv("promotion_score", std::to_string(np.score));
        }
      }
      s += '\n';
      out->append(s);
    }
  }
  const std::string& name = now.resource.name;

  // ---- connections
  for (const ConnectionSnapshot& nc : now.connections) {
    const ConnectionSnapshot* oc = old ? FindConn(*old, nc.connection.name) : nullptr;
    const Connection& c = nc.connection;
    const Connection* o = oc ? &oc->connection : nullptr;
    bool cs_changed = !o || c.info.conn_state != o->info.conn_state;
    bool role_changed = !o || c.info.peer_role != o->info.peer_role;
    bool stats_changed = level.statistics && (!o || o->stats != c.stats);
    if (!cs_changed && !role_changed && !stats_changed) continue;
    std::string s = begin_line(o != nullptr, "connection");
    s += Kv("name", name);
    s += Kv("peer-node-id", std::to_string(c.peer_node_id));
    s += Kv("conn-name", c.name);
    if (cs_changed || full) {
      if (diff)
        s += KvDiff("connection", o ? pal.Conn(o->info.conn_state) : std::string(kUnknownWord),
                    pal.Conn(c.info.conn_state));
      else
        s += Kv("connection", pal.Conn(c.info.conn_state));
    }
    if (role_changed || full) {
      if (diff)
        s += KvDiff("role", o ? pal.Role(o->info.peer_role, false) : std::string(kUnknownWord),
                    pal.Role(c.info.peer_role, false));
      else
        s += Kv("role", pal.Role(c.info.peer_role, false));
    }
    if ((stats_changed || full) && c.stats) {
      PlainSink sink(&s);
      PrintConnectionStatistics(sink, 0, o && o->stats ? &*o->stats : nullptr, *c.stats, level);
    }
    s += '\n';
    out->append(s);
  }

  // ---- devices
  for (const Device& d : now.devices) {
    const Device* o = old ? FindDevice(*old, d.volume) : nullptr;
    bool info_changed = !o || d.info.disk_state != o->info.disk_state ||
                        d.info.has_quorum != o->info.has_quorum ||
                        d.info.is_open != o->info.is_open;
    bool stats_changed = level.statistics && (!o || o->stats != d.stats);
    if (!info_changed && !stats_changed) continue;
    std::string s = begin_line(o != nullptr, "device");
    s += Kv("name", name);
    s += Kv("volume", std::to_string(d.volume));
    s += Kv("minor", std::to_string(d.minor));
    if (info_changed || full) {
      bool intentional = d.info.intentional_diskless == Tristate::kYes;
      if (diff) {
        bool old_intentional = o && o->info.intentional_diskless == Tristate::kYes;
        if (!o || BackingDevWord(o->info) != BackingDevWord(d.info))
          s += KvDiff("backing_dev", o ? BackingDevWord(o->info) : kUnknownWord,
                      BackingDevWord(d.info));
        else
          s += Kv("backing_dev", BackingDevWord(d.info));
        s += KvDiff(
            "disk",
            o ? pal.Disk(o->info.disk_state, old_intentional, true) : std::string(kUnknownWord),
            pal.Disk(d.info.disk_state, intentional, true));
        if (!o || old_intentional != intentional)
          s += KvDiff("client", o ? ToString(o->info.intentional_diskless) : kUnknownWord,
                      ToString(d.info.intentional_diskless));
        else
          s += Kv("client", ToString(d.info.intentional_diskless));
        // open: drbd-utils >= 9.28 (docs/compat.md).
        if (!o || o->info.is_open != d.info.is_open)
          s += KvDiff("open", o ? ToString(o->info.is_open) : kUnknownWord,
                      ToString(d.info.is_open));
        else
          s += Kv("open", ToString(d.info.is_open));
        // drbd-utils omits quorum here for a new device (a comma operator
        // ties the print to the "old device exists" branch).
        if (o) {
          if (o->info.has_quorum != d.info.has_quorum)
            s += KvDiff("quorum", YesNo(o->info.has_quorum), YesNo(d.info.has_quorum));
          else
            s += Kv("quorum", YesNo(d.info.has_quorum));
        }
      } else {
        s += Kv("backing_dev", BackingDevWord(d.info));
        s += Kv("disk", pal.Disk(d.info.disk_state, intentional, true));
        s += Kv("client", ToString(d.info.intentional_diskless));
        s += Kv("open", ToString(d.info.is_open));
        s += Kv("quorum", YesNo(d.info.has_quorum));
      }
    }
    if ((stats_changed || full) && d.stats) {
      PlainSink sink(&s);
      PrintDeviceStatistics(sink, 0, o && o->stats ? &*o->stats : nullptr, *d.stats, level);
    }
    s += '\n';
    out->append(s);
  }

  // ---- per connection: peer devices, paths, destroyed paths and peer devices
  for (const ConnectionSnapshot& nc : now.connections) {
    const ConnectionSnapshot* oc = old ? FindConn(*old, nc.connection.name) : nullptr;
    for (const PeerDevice& p : nc.peer_devices) {
      const PeerDevice* o = oc ? FindPeerDevice(*oc, p.volume) : nullptr;
      bool intentional = p.info.peer_intentional_diskless == Tristate::kYes;
      bool old_intentional = o && o->info.peer_intentional_diskless == Tristate::kYes;
      bool repl_changed = !o || p.info.repl_state != o->info.repl_state;
      bool disk_changed = !o || p.info.peer_disk_state != o->info.peer_disk_state;
      bool rs_changed = !o || !(p.info.resync_susp.user == o->info.resync_susp.user &&
                                p.info.resync_susp.peer == o->info.resync_susp.peer &&
                                p.info.resync_susp.dependency == o->info.resync_susp.dependency);
      bool stats_changed = !o || o->stats != p.stats;
      if (!repl_changed && !disk_changed && !rs_changed && !stats_changed) continue;
      std::string s = begin_line(o != nullptr, "peer-device");
      s += Kv("name", name);
      s += Kv("peer-node-id", std::to_string(p.peer_node_id));
      s += Kv("conn-name", p.conn_name);
      s += Kv("volume", std::to_string(p.volume));
      if (repl_changed || full) {
        if (diff)
          s += KvDiff("replication", o ? pal.Repl(o->info.repl_state) : std::string(kUnknownWord),
                      pal.Repl(p.info.repl_state));
        else
          s += Kv("replication", pal.Repl(p.info.repl_state));
      }
      if (disk_changed || full || intentional != old_intentional) {
        if (diff) {
          s += KvDiff("peer-disk",
                      o ? pal.Disk(o->info.peer_disk_state, old_intentional, false)
                        : std::string(kUnknownWord),
                      pal.Disk(p.info.peer_disk_state, intentional, false));
          if (!o || old_intentional != intentional)
            s += KvDiff("peer-client",
                        o ? ToString(o->info.peer_intentional_diskless) : kUnknownWord,
                        ToString(p.info.peer_intentional_diskless));
          else
            s += Kv("peer-client", ToString(p.info.peer_intentional_diskless));
        } else {
          s += Kv("peer-disk", pal.Disk(p.info.peer_disk_state, intentional, false));
          s += Kv("peer-client", ToString(p.info.peer_intentional_diskless));
        }
      }
      if (rs_changed || full) {
        if (diff)
          s += KvDiff("resync-suspended",
                      o ? ToString(o->info.resync_susp) : std::string(kUnknownWord),
                      ToString(p.info.resync_susp));
        else
          s += Kv("resync-suspended", ToString(p.info.resync_susp));
      }
      if ((stats_changed || full) && p.stats) {
        PlainSink sink(&s);
        PrintPeerDeviceStatistics(sink, 0, *p.stats, level);
      }
      s += '\n';
      out->append(s);
    }
    for (const Path& p : nc.paths) {
      const Path* o = oc ? FindPath(*oc, p) : nullptr;
      if (o && o->established == p.established) continue;
      std::string s = begin_line(o != nullptr, "path");
      s += Kv("name", name);
      s += Kv("peer-node-id", std::to_string(p.peer_node_id));
      s += Kv("conn-name", p.conn_name);
      s += Kv("local", ToString(p.local));
      s += Kv("peer", ToString(p.peer));
      if (diff)
        s += KvDiff("established", o ? YesNo(o->established) : kUnknownWord, YesNo(p.established));
      else
        s += Kv("established", YesNo(p.established));
      s += '\n';
      out->append(s);
    }
    if (!oc) continue;
    for (const Path& op : oc->paths) {
      if (FindPath(nc, op)) continue;
      out->append(std::string(prefix) + "destroy path" + Kv("name", name) +
                  Kv("peer-node-id", std::to_string(op.peer_node_id)) +
                  Kv("conn-name", op.conn_name) + Kv("local", ToString(op.local)) +
                  Kv("peer", ToString(op.peer)) + "\n");
    }
    for (const PeerDevice& op : oc->peer_devices) {
      if (FindPeerDevice(nc, op.volume)) continue;
      out->append(std::string(prefix) + "destroy peer-device" + Kv("name", name) +
                  Kv("peer-node-id", std::to_string(op.peer_node_id)) +
                  Kv("conn-name", op.conn_name) + Kv("volume", std::to_string(op.volume)) + "\n");
    }
  }
  if (old) {
    for (const ConnectionSnapshot& oc : old->connections) {
      if (FindConn(now, oc.connection.name)) continue;
      out->append(std::string(prefix) + "destroy connection" + Kv("name", name) +
                  Kv("peer-node-id", std::to_string(oc.connection.peer_node_id)) +
                  Kv("conn-name", oc.connection.name) + "\n");
    }
    for (const Device& od : old->devices) {
      if (FindDevice(now, od.volume)) continue;
      out->append(std::string(prefix) + "destroy device" + Kv("name", name) +
                  Kv("volume", std::to_string(od.volume)) + "\n");
    }
  }
  if (now_res.destroyed)
    out->append(std::string(prefix) + "destroy resource" + Kv("name", name) + "\n");
}

}  // namespace drbd::events
