// SPDX-License-Identifier: GPL-2.0-or-later
// events2 line parser and the typed re-printer used to check it.
#include "lib/events/parser.h"

#include <charconv>

#include "lib/events/text.h"

namespace drbd::events {

std::string StripColor(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\033' && i + 1 < s.size() && s[i + 1] == '[') {
      size_t j = i + 2;
      while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';')) ++j;
      if (j < s.size() && s[j] == 'm') {
        i = j;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

namespace {

template <typename T>
bool ParseUint(std::string_view s, T* out) {
  if (s.empty()) return false;
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return false;
  *out = v;
  return true;
}
// Values drbd-utils prints with a signed conversion of a u64.
bool ParseD64(std::string_view s, uint64_t* out) {
  int64_t v = 0;
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return ParseUint(s, out);
  }
  *out = static_cast<uint64_t>(v);
  return true;
}
bool ParseKib(std::string_view s, uint64_t* sectors) {
  uint64_t kib;
  if (!ParseUint(s, &kib)) return false;
  *sectors = kib * 2;
  return true;
}
bool ParseYesNo(std::string_view s, bool* out) {
  if (s == "yes") return *out = true, true;
  if (s == "no") return *out = false, true;
  return false;
}
std::string D64(uint64_t v) { return std::to_string(static_cast<int64_t>(v)); }

// One known key of an object: how to set it from text and print it back.
// Derived keys (computed by drbdsetup, not stored in the model) have no
// setter/getter and are carried verbatim.
template <typename T>
struct FieldDef {
  std::string_view key;
  bool (*set)(T&, std::string_view);
  std::string (*get)(const T&);
};

template <typename T>
T& Stats(std::optional<T>& s) {
  if (!s) s.emplace();
  return *s;
}

const FieldDef<Resource> kResourceFields[] = {
    {"role",
     [](Resource& r, std::string_view v) {
       auto x = ParseRole(v);
       if (!x) return false;
       r.info.role = *x;
       return true;
     },
     [](const Resource& r) { return std::string(ToString(r.info.role)); }},
    {"suspended",
     [](Resource& r, std::string_view v) {
       auto x = ParseSuspendFlags(v);
       if (!x) return false;
       r.info.susp = *x;
       return true;
     },
     [](const Resource& r) { return ToString(r.info.susp); }},
    {"force-io-failures",
     [](Resource& r, std::string_view v) { return ParseYesNo(v, &r.info.fail_io); },
     [](const Resource& r) { return std::string(YesNo(r.info.fail_io)); }},
    {"write-ordering",
     [](Resource& r, std::string_view v) {
       auto x = ParseWriteOrdering(v);
       if (!x) return false;
       Stats(r.stats).write_ordering = *x;
       return true;
     },
     [](const Resource& r) {
       return std::string(ToString(r.stats ? r.stats->write_ordering : WriteOrdering::kNone));
     }},
    {"may_promote", nullptr, nullptr},
    {"promotion_score", nullptr, nullptr},
};

#define DRBD_U64_STAT(T, key, member, parse, print)                                 \
  {                                                                                 \
    key, [](T& o, std::string_view v) { return parse(v, &Stats(o.stats).member); }, \
        [](const T& o) { return print(o.stats ? o.stats->member : 0); }             \
  }
std::string U64(uint64_t v) { return std::to_string(v); }
std::string Kib(uint64_t v) { return std::to_string(v / 2); }
bool ParseU32(std::string_view s, uint32_t* v) { return ParseUint(s, v); }
bool ParseU64(std::string_view s, uint64_t* v) { return ParseUint(s, v); }

const FieldDef<Device> kDeviceFields[] = {
    {"backing_dev",
     [](Device& d, std::string_view v) {
       d.info.backing_dev = v == "none" ? "" : std::string(v);
       return true;
     },
     [](const Device& d) { return std::string(BackingDevWord(d.info)); }},
    {"disk",
     [](Device& d, std::string_view v) {
       auto x = ParseDiskState(v);
       if (!x) return false;
       d.info.disk_state = *x;
       return true;
     },
     [](const Device& d) { return std::string(ToString(d.info.disk_state)); }},
    {"client",
     [](Device& d, std::string_view v) {
       auto x = ParseTristate(v);
       if (!x) return false;
       d.info.intentional_diskless = *x;
       return true;
     },
     [](const Device& d) { return std::string(ToString(d.info.intentional_diskless)); }},
    {"open",
     [](Device& d, std::string_view v) {
       auto x = ParseTristate(v);
       if (!x) return false;
       d.info.is_open = *x;
       return true;
     },
     [](const Device& d) { return std::string(ToString(d.info.is_open)); }},
    {"quorum", [](Device& d, std::string_view v) { return ParseYesNo(v, &d.info.has_quorum); },
     [](const Device& d) { return std::string(YesNo(d.info.has_quorum)); }},
    DRBD_U64_STAT(Device, "size", size, ParseKib, Kib),
    DRBD_U64_STAT(Device, "read", read, ParseKib, Kib),
    DRBD_U64_STAT(Device, "written", written, ParseKib, Kib),
    DRBD_U64_STAT(Device, "al-writes", al_writes, ParseU64, U64),
    DRBD_U64_STAT(Device, "bm-writes", bm_writes, ParseU64, U64),
    DRBD_U64_STAT(Device, "upper-pending", upper_pending, ParseU32, U64),
    DRBD_U64_STAT(Device, "lower-pending", lower_pending, ParseU32, U64),
    {"al-suspended",
     [](Device& d, std::string_view v) { return ParseYesNo(v, &Stats(d.stats).al_suspended); },
     [](const Device& d) { return std::string(YesNo(d.stats && d.stats->al_suspended)); }},
    {"blocked",
     [](Device& d, std::string_view v) {
       DeviceStatistics& s = Stats(d.stats);
       if (v == "no") {
         s.upper_blocked = s.lower_blocked = false;
         return true;
       }
       if (v == "upper") {
         s.upper_blocked = true;
         s.lower_blocked = false;
         return true;
       }
       if (v == "lower") {
         s.upper_blocked = false;
         s.lower_blocked = true;
         return true;
       }
       if (v == "upper,lower") {
         s.upper_blocked = s.lower_blocked = true;
         return true;
       }
       return false;
     },
     [](const Device& d) {
       bool u = d.stats && d.stats->upper_blocked, l = d.stats && d.stats->lower_blocked;
       return std::string(u && l ? "upper,lower" : u ? "upper" : l ? "lower" : "no");
     }},
};

const FieldDef<Connection> kConnectionFields[] = {
    {"connection",
     [](Connection& c, std::string_view v) {
       auto x = ParseConnState(v);
       if (!x) return false;
       c.info.conn_state = *x;
       return true;
     },
     [](const Connection& c) { return std::string(ToString(c.info.conn_state)); }},
    {"role",
     [](Connection& c, std::string_view v) {
       auto x = ParseRole(v);
       if (!x) return false;
       c.info.peer_role = *x;
       return true;
     },
     [](const Connection& c) { return std::string(ToString(c.info.peer_role)); }},
    {"congested",
     [](Connection& c, std::string_view v) { return ParseYesNo(v, &Stats(c.stats).congested); },
     [](const Connection& c) { return std::string(YesNo(c.stats && c.stats->congested)); }},
    {"ap-in-flight",
     [](Connection& c, std::string_view v) {
       uint64_t x;
       if (!ParseUint(v, &x)) return false;
       Stats(c.stats).ap_in_flight = x;
       return true;
     },
     [](const Connection& c) {
       return std::to_string(c.stats ? c.stats->ap_in_flight.value_or(0) : 0);
     }},
    {"rs-in-flight",
     [](Connection& c, std::string_view v) {
       uint64_t x;
       if (!ParseUint(v, &x)) return false;
       Stats(c.stats).rs_in_flight = x;
       return true;
     },
     [](const Connection& c) {
       return std::to_string(c.stats ? c.stats->rs_in_flight.value_or(0) : 0);
     }},
};

const FieldDef<PeerDevice> kPeerDeviceFields[] = {
    {"replication",
     [](PeerDevice& p, std::string_view v) {
       auto x = ParseReplState(v);
       if (!x) return false;
       p.info.repl_state = *x;
       return true;
     },
     [](const PeerDevice& p) { return std::string(ToString(p.info.repl_state)); }},
    {"peer-disk",
     [](PeerDevice& p, std::string_view v) {
       auto x = ParseDiskState(v);
       if (!x) return false;
       p.info.peer_disk_state = *x;
       return true;
     },
     [](const PeerDevice& p) { return std::string(ToString(p.info.peer_disk_state)); }},
    {"peer-client",
     [](PeerDevice& p, std::string_view v) {
       auto x = ParseTristate(v);
       if (!x) return false;
       p.info.peer_intentional_diskless = *x;
       return true;
     },
     [](const PeerDevice& p) { return std::string(ToString(p.info.peer_intentional_diskless)); }},
    {"resync-suspended",
     [](PeerDevice& p, std::string_view v) {
       auto x = ParseResyncSuspendFlags(v);
       if (!x) return false;
       p.info.resync_susp = *x;
       return true;
     },
     [](const PeerDevice& p) { return ToString(p.info.resync_susp); }},
    {"done", nullptr, nullptr},
    DRBD_U64_STAT(PeerDevice, "received", received, ParseKib, Kib),
    DRBD_U64_STAT(PeerDevice, "sent", sent, ParseKib, Kib),
    DRBD_U64_STAT(PeerDevice, "out-of-sync", out_of_sync, ParseKib, Kib),
    DRBD_U64_STAT(PeerDevice, "pending", pending, ParseU32, U64),
    DRBD_U64_STAT(PeerDevice, "unacked", unacked, ParseU32, U64),
    {"rs-total",
     [](PeerDevice& p, std::string_view v) {
       uint64_t x;
       if (!ParseUint(v, &x)) return false;
       Stats(p.stats).rs_total = x;
       return true;
     },
     [](const PeerDevice& p) {
       return std::to_string(p.stats ? p.stats->rs_total.value_or(0) : 0);
     }},
    DRBD_U64_STAT(PeerDevice, "rs-dt-start-ms", rs_dt_start_ms, ParseD64, D64),
    DRBD_U64_STAT(PeerDevice, "rs-paused-ms", rs_paused_ms, ParseD64, D64),
    DRBD_U64_STAT(PeerDevice, "rs-dt0-ms", rs_dt0_ms, ParseD64, D64),
    DRBD_U64_STAT(PeerDevice, "rs-db0-sectors", rs_db0_sectors, ParseD64, D64),
    DRBD_U64_STAT(PeerDevice, "rs-dt1-ms", rs_dt1_ms, ParseD64, D64),
    DRBD_U64_STAT(PeerDevice, "rs-db1-sectors", rs_db1_sectors, ParseD64, D64),
    DRBD_U64_STAT(PeerDevice, "ov-start-sector", ov_start_sector, ParseU64, U64),
    DRBD_U64_STAT(PeerDevice, "ov-stop-sector", ov_stop_sector, ParseU64, U64),
    DRBD_U64_STAT(PeerDevice, "ov-position", ov_position, ParseD64, D64),
    DRBD_U64_STAT(PeerDevice, "ov-left", ov_left, ParseU64, U64),
    DRBD_U64_STAT(PeerDevice, "ov-skipped", ov_skipped, ParseU64, U64),
    DRBD_U64_STAT(PeerDevice, "rs-failed", resync_failed, ParseU64, U64),
    DRBD_U64_STAT(PeerDevice, "rs-same-csum", rs_same_csum, ParseU64, U64),
    {"want", nullptr, nullptr},
    {"dbdt", nullptr, nullptr},
    {"dbdt0", nullptr, nullptr},
    {"dbdt1", nullptr, nullptr},
    {"eta", nullptr, nullptr},
};
#undef DRBD_U64_STAT

const FieldDef<Path> kPathFields[] = {
    {"established", [](Path& p, std::string_view v) { return ParseYesNo(v, &p.established); },
     [](const Path& p) { return std::string(YesNo(p.established)); }},
};

template <typename T, size_t N>
const FieldDef<T>* FindDef(const FieldDef<T> (&defs)[N], std::string_view key) {
  for (const auto& d : defs)
    if (d.key == key) return &d;
  return nullptr;
}

// Splits "key:value" at the first colon.
bool SplitKv(std::string_view tok, std::string_view* key, std::string_view* value) {
  size_t c = tok.find(':');
  if (c == std::string_view::npos || c == 0) return false;
  *key = tok.substr(0, c);
  *value = tok.substr(c + 1);
  return true;
}

struct Tokens {
  std::vector<std::string_view> v;
  size_t i = 0;
  bool done() const { return i >= v.size(); }
};

std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t sp = s.find(' ', pos);
    if (sp == std::string_view::npos) sp = s.size();
    out.push_back(s.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return out;
}

// Takes the identity key `key` at the cursor.
bool TakeKey(Tokens& t, std::string_view key, std::string_view* value) {
  if (t.done()) return false;
  std::string_view k, v;
  if (!SplitKv(t.v[t.i], &k, &v) || k != key) return false;
  *value = v;
  ++t.i;
  return true;
}

bool IsTimestamp(std::string_view s) {
  // 2026-01-15T10:04:31.504211+01:00
  return s.size() >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
         s[16] == ':';
}

}  // namespace

bool Events2Parser::Parse(std::string_view raw, Events2Line* out, std::string* error) {
  ++lines_;
  auto fail = [&](const std::string& msg) {
    *error = "line " + std::to_string(lines_) + ": " + msg;
    return false;
  };
  if (!raw.empty() && raw.back() == '\n') raw.remove_suffix(1);
  std::string clean = StripColor(raw);
  std::string_view line = clean;
  *out = Events2Line();
  Tokens t;
  t.v = SplitSpaces(line);
  if (!t.done() && IsTimestamp(t.v[0])) {
    out->timestamp = std::string(t.v[0]);
    ++t.i;
  }
  if (t.done() || t.v[t.i].empty()) return fail("empty line");
  std::string_view word = t.v[t.i++];
  if (word == "-") {
    if (t.v.size() - t.i != 2 || t.v[t.i] != "skipped" || !ParseUint(t.v[t.i + 1], &out->skipped))
      return fail("expected '- skipped N'");
    out->type = Events2Line::Type::kSkipped;
    return true;
  }
  auto action = ParseNotifyType(word);
  if (!action) return fail("unknown action '" + std::string(word) + "'");
  out->action = *action;
  if (t.done()) return fail("expected an object after '" + std::string(word) + "'");
  std::string_view obj_word = t.v[t.i++];
  if (*action == NotifyType::kExists && obj_word == "-") {
    if (!t.done()) return fail("unexpected text after 'exists -'");
    out->type = Events2Line::Type::kEndOfInitialState;
    out->notification.object = InitialStateDone{};
    return true;
  }
  auto kind = ParseObjectKind(obj_word);
  if (!kind) return fail("unknown object '" + std::string(obj_word) + "'");
  out->object = *kind;
  out->notification.type = *action;

  std::string_view name;
  if (*action == NotifyType::kRename) {
    std::string_view new_name;
    if (*kind != ObjectKind::kResource || !TakeKey(t, "name", &name) ||
        !TakeKey(t, "new_name", &new_name) || !t.done())
      return fail("expected 'rename resource name:OLD new_name:NEW'");
    out->notification.object = Rename{std::string(name), std::string(new_name)};
    auto node = objects_.extract("resource " + std::string(name));
    if (!node.empty()) {
      std::get<Resource>(node.mapped().object).name = std::string(new_name);
      node.key() = "resource " + std::string(new_name);
      objects_.insert(std::move(node));
    }
    return true;
  }

  // Remaining key:value tokens.
  auto collect = [&](auto& obj, const auto& defs) -> bool {
    for (; !t.done(); ++t.i) {
      std::string_view k, v;
      if (!SplitKv(t.v[t.i], &k, &v))
        return fail("expected key:value, got '" + std::string(t.v[t.i]) + "'");
      Events2Line::Field f;
      f.key = std::string(k);
      size_t arrow = v.find("->");
      if (arrow != std::string_view::npos) {
        f.old_value = std::string(v.substr(0, arrow));
        v = v.substr(arrow + 2);
      }
      f.value = std::string(v);
      const auto* def = FindDef(defs, k);
      if (!def) {
        f.known = false;
        ++unknown_keys_;
      } else if (def->set && !def->set(obj, v)) {
        return fail("bad value '" + std::string(v) + "' for key '" + std::string(k) + "'");
      }
      out->fields.push_back(std::move(f));
    }
    return true;
  };

  if (*kind == ObjectKind::kHelper) {
    if (*action != NotifyType::kCall && *action != NotifyType::kResponse)
      return fail("helper lines are call or response");
    out->type = Events2Line::Type::kHelper;
    Helper h;
    h.response = *action == NotifyType::kResponse;
    std::string_view v;
    if (TakeKey(t, "name", &v)) h.resource = std::string(v);
    if (TakeKey(t, "peer-node-id", &v)) {
      uint32_t id;
      if (!ParseUint(v, &id)) return fail("bad peer-node-id '" + std::string(v) + "'");
      h.peer_node_id = id;
    }
    if (TakeKey(t, "conn-name", &v)) h.conn_name = std::string(v);
    if (TakeKey(t, "local", &v)) {
      h.local = ParseAddress(v);
      if (!h.local) return fail("bad address '" + std::string(v) + "'");
      if (!TakeKey(t, "peer", &v) || !(h.peer = ParseAddress(v)))
        return fail("expected peer:ADDRESS after local:");
    }
    uint32_t n;
    if (TakeKey(t, "volume", &v)) {
      if (!ParseUint(v, &n)) return fail("bad volume '" + std::string(v) + "'");
      h.volume = n;
    }
    if (TakeKey(t, "minor", &v)) {
      if (!ParseUint(v, &n)) return fail("bad minor '" + std::string(v) + "'");
      h.minor = n;
    }
    if (!TakeKey(t, "helper", &v)) return fail("expected helper:NAME");
    h.name = std::string(v);
    if (h.response) {
      if (!TakeKey(t, "status", &v) || !ParseUint(v, &h.status))
        return fail("expected status:N on a helper response");
    }
    for (; !t.done(); ++t.i) {
      std::string_view k, val;
      if (!SplitKv(t.v[t.i], &k, &val))
        return fail("expected key:value, got '" + std::string(t.v[t.i]) + "'");
      out->fields.push_back({std::string(k), std::string(val), std::nullopt, false});
      ++unknown_keys_;
    }
    out->notification.object = std::move(h);
    return true;
  }

  if (!TakeKey(t, "name", &name) || name.empty()) return fail("expected name:RESOURCE");
  std::string id = std::string(obj_word) + " " + std::string(name);
  auto take_u32 = [&](std::string_view key, uint32_t* v) {
    std::string_view s;
    if (!TakeKey(t, key, &s)) return false;
    id += " " + std::string(s);
    return ParseUint(s, v);
  };
  auto take_str = [&](std::string_view key, std::string* v) {
    std::string_view s;
    if (!TakeKey(t, key, &s)) return false;
    id += " " + std::string(s);
    *v = std::string(s);
    return true;
  };
  bool fresh = *action == NotifyType::kExists || *action == NotifyType::kCreate;

  // Starts from the tracked object (change/destroy) or a blank one.
  auto start = [&](auto blank) {
    using T = decltype(blank);
    auto it = objects_.find(id);
    if (!fresh && it != objects_.end())
      if (const T* prev = std::get_if<T>(&it->second.object)) return *prev;
    return blank;
  };
  auto finish = [&](auto obj) {
    out->notification.object = obj;
    if (*action == NotifyType::kDestroy)
      objects_.erase(id);
    else
      objects_[id] = out->notification;
  };

  switch (*kind) {
    case ObjectKind::kResource: {
      Resource r = start(Resource{});
      r.name = std::string(name);
      if (!collect(r, kResourceFields)) return false;
      finish(std::move(r));
      break;
    }
    case ObjectKind::kDevice: {
      uint32_t volume = 0, minor = 0;
      if (!take_u32("volume", &volume)) return fail("expected volume:N");
      std::string_view minor_text;
      bool has_minor = TakeKey(t, "minor", &minor_text);
      if (has_minor && !ParseUint(minor_text, &minor))
        return fail("bad minor '" + std::string(minor_text) + "'");
      Device d = start(Device{});
      d.resource = std::string(name);
      d.volume = volume;
      if (has_minor) d.minor = minor;
      if (!collect(d, kDeviceFields)) return false;
      finish(std::move(d));
      break;
    }
    case ObjectKind::kConnection: {
      Connection c;
      c.resource = std::string(name);
      if (!take_u32("peer-node-id", &c.peer_node_id) || !take_str("conn-name", &c.name))
        return fail("expected peer-node-id:N conn-name:NAME");
      Connection base = start(Connection{});
      base.resource = c.resource;
      base.peer_node_id = c.peer_node_id;
      base.name = c.name;
      if (!collect(base, kConnectionFields)) return false;
      finish(std::move(base));
      break;
    }
    case ObjectKind::kPeerDevice: {
      PeerDevice p;
      p.resource = std::string(name);
      if (!take_u32("peer-node-id", &p.peer_node_id) || !take_str("conn-name", &p.conn_name) ||
          !take_u32("volume", &p.volume))
        return fail("expected peer-node-id:N conn-name:NAME volume:N");
      PeerDevice base = start(PeerDevice{});
      base.resource = p.resource;
      base.peer_node_id = p.peer_node_id;
      base.conn_name = p.conn_name;
      base.volume = p.volume;
      if (!collect(base, kPeerDeviceFields)) return false;
      finish(std::move(base));
      break;
    }
    case ObjectKind::kPath: {
      Path p;
      p.resource = std::string(name);
      std::string local, peer;
      if (!take_u32("peer-node-id", &p.peer_node_id) || !take_str("conn-name", &p.conn_name) ||
          !take_str("local", &local) || !take_str("peer", &peer))
        return fail("expected peer-node-id:N conn-name:NAME local:ADDR peer:ADDR");
      auto la = ParseAddress(local), pa = ParseAddress(peer);
      if (!la || !pa) return fail("bad path address");
      Path base = start(Path{});
      base.resource = p.resource;
      base.peer_node_id = p.peer_node_id;
      base.conn_name = p.conn_name;
      base.local = *la;
      base.peer = *pa;
      if (!collect(base, kPathFields)) return false;
      finish(std::move(base));
      break;
    }
    case ObjectKind::kHelper:
      break;
  }
  return true;
}

namespace {

template <typename T, size_t N>
void PrintFields(const Events2Line& line, const T& obj, const FieldDef<T> (&defs)[N],
                 std::string* s) {
  for (const Events2Line::Field& f : line.fields) {
    *s += ' ';
    *s += f.key;
    *s += ':';
    if (f.old_value) {
      *s += *f.old_value;
      *s += "->";
    }
    const FieldDef<T>* def = f.known ? FindDef(defs, f.key) : nullptr;
    *s += def && def->get ? def->get(obj) : f.value;
  }
}

}  // namespace

std::string FormatEvents2Line(const Events2Line& line) {
  std::string s;
  if (!line.timestamp.empty()) {
    s += line.timestamp;
    s += ' ';
  }
  switch (line.type) {
    case Events2Line::Type::kSkipped:
      return s + "- skipped " + std::to_string(line.skipped);
    case Events2Line::Type::kEndOfInitialState:
      return s + "exists -";
    default:
      break;
  }
  s += ToString(line.action);
  s += ' ';
  s += ToString(line.object);
  auto kv = [&s](std::string_view k, const std::string& v) {
    s += ' ';
    s += k;
    s += ':';
    s += v;
  };
  const Notification& n = line.notification;
  if (const auto* h = std::get_if<Helper>(&n.object)) {
    if (!h->resource.empty()) kv("name", h->resource);
    if (h->peer_node_id) kv("peer-node-id", std::to_string(*h->peer_node_id));
    if (!h->conn_name.empty()) kv("conn-name", h->conn_name);
    if (h->local && h->peer) {
      kv("local", ToString(*h->local));
      kv("peer", ToString(*h->peer));
    }
    if (h->volume) kv("volume", std::to_string(*h->volume));
    if (h->minor) kv("minor", std::to_string(*h->minor));
    kv("helper", h->name);
    if (h->response) kv("status", std::to_string(h->status));
    for (const auto& f : line.fields) kv(f.key, f.value);
  } else if (const auto* rn = std::get_if<Rename>(&n.object)) {
    kv("name", rn->name);
    kv("new_name", rn->new_name);
  } else if (const auto* r = std::get_if<Resource>(&n.object)) {
    kv("name", r->name);
    PrintFields(line, *r, kResourceFields, &s);
  } else if (const auto* d = std::get_if<Device>(&n.object)) {
    kv("name", d->resource);
    kv("volume", std::to_string(d->volume));
    if (line.action != NotifyType::kDestroy) kv("minor", std::to_string(d->minor));
    PrintFields(line, *d, kDeviceFields, &s);
  } else if (const auto* c = std::get_if<Connection>(&n.object)) {
    kv("name", c->resource);
    kv("peer-node-id", std::to_string(c->peer_node_id));
    kv("conn-name", c->name);
    PrintFields(line, *c, kConnectionFields, &s);
  } else if (const auto* p = std::get_if<PeerDevice>(&n.object)) {
    kv("name", p->resource);
    kv("peer-node-id", std::to_string(p->peer_node_id));
    kv("conn-name", p->conn_name);
    kv("volume", std::to_string(p->volume));
    PrintFields(line, *p, kPeerDeviceFields, &s);
  } else if (const auto* p = std::get_if<Path>(&n.object)) {
    kv("name", p->resource);
    kv("peer-node-id", std::to_string(p->peer_node_id));
    kv("conn-name", p->conn_name);
    kv("local", ToString(p->local));
    kv("peer", ToString(p->peer));
    PrintFields(line, *p, kPathFields, &s);
  }
  return s;
}

}  // namespace drbd::events
