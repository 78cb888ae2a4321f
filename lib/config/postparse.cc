// SPDX-License-Identifier: GPL-2.0-or-later
// Post-processing of a parsed Config (drbd-utils 9.22 post_parse,
// expand_common and global validation): host/volume completion, stacked
// resources, host matching, implicit node-ids, implicit and mesh
// connections, peer devices, option inheritance and whole-config checks.
//
// Ordering is part of the contract: options inherited from a less specific
// level are inserted at the HEAD of the target list, one by one in source
// order (so inherited options end up reversed, before the local ones), and
// connections/peer devices are appended in creation order. `drbdadm -d`
// prints argument lists in exactly this order.
//
// Messages: every diagnostic carries drbd-utils' exact text as `compat`.
// Errors that only clear drbd-utils' config_valid set cfg.valid = false and
// processing continues; where drbd-utils exits, FatalConfigError is thrown.
#include "lib/config/postparse.h"

#include "lib/base/crc32c.h"
#include "lib/base/flat_string_map.h"
#include "lib/base/strings.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "lib/config/host.h"
#include "lib/config/options.h"
#include "lib/config/parser.h"

namespace drbd::cfg {
namespace {

// ---------------------------------------------------------------------------
// Small helpers

// Emits diagnostics and tracks drbd-utils' config_valid.
class Reporter {
 public:
  Reporter(bool& valid, DiagSink& diag) : valid_(valid), diag_(diag) {}

  // An error that clears config_valid.
  void Error(const std::string& file, int line, std::string text, std::string compat) {
    valid_ = false;
    Print(Severity::kError, file, line, std::move(text), std::move(compat));
  }
  // A message that leaves config_valid alone.
  void Warn(const std::string& file, int line, std::string text, std::string compat) {
    Print(Severity::kWarning, file, line, std::move(text), std::move(compat));
  }
  // drbd-utils exits here.
  [[noreturn]] void Fatal(const std::string& file, int line, std::string text, std::string compat,
                          ExitCode code) {
    Diagnostic d;
    d.file = file;
    d.line = line;
    d.text = std::move(text);
    d.compat = std::move(compat);
    diag_.Fatal(d, code);
  }
  // An error whose drbd-utils text does not end in a newline (Emit would
  // add one).
  void ErrorNoNewline(const std::string& file, int line, std::string text, std::string compat) {
    valid_ = false;
    if (diag_.style() == DiagStyle::kDrbdUtils) {
      diag_.Raw(compat);
      return;
    }
    Print(Severity::kError, file, line, std::move(text), std::move(compat));
  }
  bool valid() const { return valid_; }

 private:
  void Print(Severity sev, const std::string& file, int line, std::string text,
             std::string compat) {
    Diagnostic d;
    d.severity = sev;
    d.file = file;
    d.line = line;
    d.text = std::move(text);
    d.compat = std::move(compat);
    diag_.Emit(d);
  }

  bool& valid_;
  DiagSink& diag_;
};

std::string Quote(std::string_view s) {
  std::string out = "'";
  out += s;
  out += '\'';
  return out;
}

std::string Loc(const std::string& file, int line) { return file + ":" + std::to_string(line); }

// "on alpha" / "stacked-on-top-of lower": how drbd-utils names a host section.
std::string SectionName(const HostInfo& h) {
  if (h.lower != nullptr) return "stacked-on-top-of " + h.lower->name;
  return "on " + NamesToStr(h.on_hosts);
}

// drbd-utils derives implicit node-ids from a CRC32C of the address and
// compares the hashes as (signed) int.
int AddrHash(std::string_view addr) {
  return static_cast<int32_t>(drbd::Crc32c(0x1a656f21u, addr));
}

bool AddrScopeLocal(const std::string& addr) {
  struct in6_addr a6;
  struct in_addr a4;
  if (inet_pton(AF_INET6, addr.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  if (inet_pton(AF_INET, addr.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  return false;
}

bool Ipv6Match(const std::string& a, const std::string& b) {
  // Plain hex-and-colons text without inet_pton (cheap for the common
  // spelling); anything else as inet_pton reads it.
  std::array<uint16_t, 8> ga, gb;
  if (ParsePlainIpv6(a, &ga) && ParsePlainIpv6(b, &gb)) return ga == gb;
  struct in6_addr x, y;
  return inet_pton(AF_INET6, a.c_str(), &x) == 1 && inet_pton(AF_INET6, b.c_str(), &y) == 1 &&
         std::memcmp(&x, &y, sizeof(x)) == 0;
}

int Sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

// af is "ipv4"/"ipv6" (d = '4'/'6') ignoring case, as strcasecmp() in the C
// locale, unrolled: this runs for every address of the configuration.
[[gnu::always_inline]] inline bool AfIs(const std::string& af, char d) {
  return af.size() == 4 && (af[0] | 0x20) == 'i' && (af[1] | 0x20) == 'p' &&
         (af[2] | 0x20) == 'v' && af[3] == d;
}

// drbd-utils addresses_cmp(): 0 when af/ip/port match (IPs compared as
// addresses for ipv4/ipv6), otherwise an ordering.
int AddressesCmp(const Address& a, const Address& b) {
  bool ips_match = false;
  if (AfIs(a.af, '4') && AfIs(b.af, '4')) {
    // inet_pton accepts exactly one spelling of an IPv4 address (four
    // decimal parts, no leading zeros), so different texts never name the
    // same address and equal texts compare 0 below anyway: no need to parse
    // on this hot path (a std::set comparator over every address).
    ips_match = a.addr == b.addr;
  } else if (AfIs(a.af, '6') && AfIs(b.af, '6')) {
    // Equal texts compare 0 below whether they parse or not.
    ips_match = a.addr == b.addr || Ipv6Match(a.addr, b.addr);
  }
  int r = ips_match ? 0 : Sign(a.addr.compare(b.addr));
  if (r == 0) {
    r = Sign(a.port.compare(b.port));
    if (r == 0) r = Sign(a.af.compare(b.af));
  }
  return r;
}

// The address an endpoint uses: its own, or its host section's.
const Address* EndpointAddress(const HnameAddress& ha) {
  if (!ha.address.addr.empty()) return &ha.address;
  if (ha.host_info != nullptr) return &ha.host_info->address;
  return nullptr;
}

// Line count fallback for Config::end_line.
int EndLine(const Config& cfg) {
  if (cfg.end_line > 0) return cfg.end_line;
  std::ifstream in(cfg.config_file, std::ios::binary);
  if (!in) return 1;
  int line = 1;
  char c;
  while (in.get(c)) {
    if (c == '\n') ++line;
  }
  return line;
}

// drbd-utils' m_strtoll(): a number with an optional K/M/G/s unit, relative
// to the default unit `scale` ('1', 'k' or 's'). drbd-utils exits on text that
// is not a number: "missing number argument" (exit 100), "X is not a valid
// number" or "X: out of range" (exit 20).
unsigned long long MStrtoll(Reporter& rep, const Resource& res, const std::string& value,
                            char scale) {
  uint64_t n = 0;
  switch (NewStrtoll(value, scale, &n)) {
    case StrtollErr::kOk:
      return n;
    case StrtollErr::kMissingNumber:
      rep.Fatal(res.config_file, res.start_line,
                "in resource " + res.name + ", expected a number, got nothing",
                "missing number argument\n", static_cast<ExitCode>(100));
    case StrtollErr::kOutOfRange:
      rep.Fatal(res.config_file, res.start_line,
                "in resource " + res.name + ", number " + Quote(value) + " is out of range",
                value + ": out of range\n", ExitCode::kExecError);
    case StrtollErr::kDefaultUnit:  // not for table scales ('1', 'k', 's')
    case StrtollErr::kInvalidNumber:
    case StrtollErr::kInvalidUnit:
      break;
  }
  rep.Fatal(res.config_file, res.start_line,
            "in resource " + res.name + ", expected a number, got " + Quote(value),
            value + " is not a valid number\n", ExitCode::kExecError);
}

// Whether two values of an option are the same in context ctx (drbd-utils
// is_equal). Unknown options (not expected after parsing) compare as text.
bool OptionValuesEqual(Reporter& rep, const Resource& res, OptContext ctx, const Option& a,
                       const Option& b) {
  const OptionDef* def = FindField(Context(ctx), a.name);
  if (def == nullptr) return a.value == b.value;
  if (def->type == OptType::kNumeric) {
    // drbd-utils compares numbers with m_strtoll(), which exits on a
    // non-number such as a resync-after resource name.
    MStrtoll(rep, res, a.value, def->scale);
    MStrtoll(rep, res, b.value, def->scale);
  }
  return IsEqual(*def, a.value, b.value);
}

// drbd-utils expand_opts(): every option of `from` missing in `to` is
// inserted at the head of `to`, marked inherited. An option already
// inherited from elsewhere with a different value is ambiguous.
void ExpandOpts(Reporter& rep, const Resource& res, OptContext ctx, const Options& from,
                Options& to) {
  for (const Option& opt : from) {
    Option* existing = FindOption(to, opt.name);
    if (existing == nullptr) {
      Option copy;
      copy.name = opt.name;
      copy.value = opt.value;
      copy.has_value = opt.has_value;
      copy.is_escaped = opt.is_escaped;
      copy.inherited = true;
      to.push_front(std::move(copy));
    } else if (existing->inherited && ctx != OptContext::kWildcard) {
      if (!OptionValuesEqual(rep, res, ctx, *existing, opt)) {
        // drbd-utils' text ends in "\n." (the period lands at the start of
        // the next line of output).
        rep.ErrorNoNewline(
            res.config_file, res.start_line,
            "in resource " + res.name + ", ambiguous inheritance for option '" + opt.name +
                "': inherited both as '" + existing->value + "' and as '" + opt.value + "'",
            Loc(res.config_file, res.start_line) + ": in resource " + res.name +
                ", ambiguous inheritance for option \"" + opt.name + "\".\nshould be \"" +
                existing->value + "\" and \"" + opt.value + "\" at the same time\n.");
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Host lookup

HostInfo* FindHostInfoByHa(Resource& res, const HnameAddress& ha) {
  if (!ha.faked_hostname) return FindHostInfoByName(res, ha.name);
  for (HostInfo& h : res.all_hosts) {
    if (ha.name == NamesToStr(h.on_hosts, '_')) return &h;
  }
  return nullptr;
}

HostInfo* FindHostInfoByAddress(Resource& res, const Address& a) {
  for (HostInfo& h : res.all_hosts) {
    if (h.address.addr == a.addr && h.address.af == a.af && h.address.port == a.port) return &h;
  }
  return nullptr;
}

bool HostNameKnown(Resource& res, std::string_view name) {
  return FindHostInfoByName(res, name) != nullptr;
}

// ---------------------------------------------------------------------------
// Volumes

void DError(Reporter& rep, const HostInfo& host, const Resource& res, const char* keyword) {
  std::string names = NamesToStr(host.on_hosts);
  rep.Error(
      res.config_file, host.config_line,
      "in resource " + res.name + ", on " + names + " { ... }: '" + keyword + "' keyword missing",
      Loc(res.config_file, host.config_line) + ": in resource " + res.name + ", on " + names +
          " { ... }: '" + keyword + "' keyword missing.\n");
}

// A volume's file as drbd-utils prints it: volumes of stacked-on-top-of
// sections carry none (printed "(null)", with line 0).
std::string_view VolFile(const std::string& f) {
  return f.empty() ? std::string_view("(null)") : std::string_view(f);
}

std::string MinorText(int minor) { return std::to_string(static_cast<unsigned>(minor)); }

void InheritVolumes(Config& cfg, DiagSink& diag, const Volumes& from, HostInfo& host) {
  for (const Volume& s : from) {
    Volume* t = FindVolume(host.volumes, s.vnr);
    if (t == nullptr) {
      Volume v;
      v.device_minor = -1;
      v.vnr = s.vnr;
      v.implicit = s.implicit;
      v.config_file = s.config_file;
      v.device_line = s.device_line;
      v.disk_line = s.disk_line;
      v.meta_disk_line = s.meta_disk_line;
      t = &InsertVolume(host.volumes, std::move(v));
    }
    if (!t->disk && s.disk) {
      t->disk = s.disk;
      for (const std::string& h : host.on_hosts)
        CheckUniqFormat(cfg, diag, VolFile(t->config_file), t->disk_line, "disk", "disk:{}:{}", h,
                        *t->disk);
    }
    if (!t->device && s.device) t->device = s.device;
    if (t->device_minor == -1 && s.device_minor != -1) {
      t->device_minor = s.device_minor;
      for (const std::string& h : host.on_hosts) {
        CheckUniqFormat(cfg, diag, VolFile(t->config_file), t->device_line, "device-minor",
                        "device-minor:{}:{}", h, static_cast<unsigned>(t->device_minor));
        if (t->device)
          CheckUniqFormat(cfg, diag, VolFile(t->config_file), t->device_line, "device",
                          "device:{}:{}", h, *t->device);
      }
    }
    if (!t->meta_disk && s.meta_disk) {
      t->meta_disk = s.meta_disk;
      if (s.meta_index) t->meta_index = s.meta_index;
    }
  }
}

void CheckVolumeComplete(Reporter& rep, const Resource& res, const HostInfo& host, Volume& vol) {
  if (!vol.device && vol.device_minor == -1) DError(rep, host, res, "device");
  if (vol.disk || vol.meta_disk || vol.meta_index) {
    if (!(vol.disk && *vol.disk == "none")) {
      if (!vol.disk) DError(rep, host, res, "disk");
      if (!vol.meta_disk && !vol.meta_index) {
        vol.meta_disk = "internal";  // implicit internal meta data
        vol.meta_index = "internal";
      } else if (!vol.meta_disk) {
        DError(rep, host, res, "meta-disk");
      } else if (!vol.meta_index) {
        DError(rep, host, res, "meta-index");
      }
    }
  }
}

void CheckMetaDisk(Config& cfg, DiagSink& diag, const Volume& vol, const HostInfo& host) {
  // A detached volume from `drbdsetup show` has no meta disk.
  if (!vol.meta_disk) return;
  if (*vol.meta_disk == "internal") return;
  for (const std::string& h : host.on_hosts) {
    CheckUniqFormat(cfg, diag, VolFile(vol.config_file), vol.meta_disk_line, "meta-disk",
                    "{}:{}[{}]", h, *vol.meta_disk, vol.meta_index.value_or("(null)"));
  }
}

// Both host sections must define the same volumes. When host1 is stacked on
// the lower resource whose local section is host2, the lower resource may
// have more volumes (a warning, printed only with a terminal).
void CheckVolumeSetsEqual(Reporter& rep, const Config& cfg, bool no_tty, const Resource& res,
                          const HostInfo& host1, const HostInfo& host2) {
  if (&host1 == &host2) return;
  bool compare_stacked = host1.lower != nullptr && host1.lower->me == &host2;
  const std::string& file = cfg.config_file;
  // Only read when something is reported (EndLine may read the file).
  int line = 0;
  auto at = [&]() {
    if (line == 0) line = EndLine(cfg);
    return Loc(file, line);
  };
  std::string n1 = NamesToStr(host1.on_hosts);
  std::string n2 = compare_stacked ? host1.lower->name : NamesToStr(host2.on_hosts);

  auto a = host1.volumes.begin();
  auto b = host2.volumes.begin();
  auto a_end = host1.volumes.end();
  auto b_end = host2.volumes.end();
  while (a != a_end || b != b_end) {
    while (a != a_end && (b == b_end || a->vnr < b->vnr)) {
      rep.Error(file, EndLine(cfg),
                fmt::format("in resource {}, on {} {{ ... }}: volume {} is not defined on {}",
                            res.name, n1, a->vnr, n2),
                fmt::format("{}: in resource {}, on {} {{ ... }}: volume {} not defined on {}\n",
                            at(), res.name, n1, a->vnr, n2));
      ++a;
    }
    while (b != b_end && (a == a_end || a->vnr > b->vnr)) {
      std::string text =
          fmt::format("in resource {}, on {} {{ ... }}: volume {} is missing (present on {})",
                      res.name, n1, b->vnr, n2);
      std::string compat =
          fmt::format("{}: in resource {}, on {} {{ ... }}: volume {} missing (present on {})\n",
                      at(), res.name, n1, b->vnr, n2);
      if (!compare_stacked) {
        rep.Error(file, EndLine(cfg), text, compat);
      } else if (!no_tty) {
        rep.Warn(file, EndLine(cfg), text, compat);
      }
      ++b;
    }
    if (a != a_end && b != b_end && a->vnr == b->vnr) {
      if (a->implicit != b->implicit) {
        rep.Error(file, EndLine(cfg),
                  fmt::format("in resource {}, on {} resp. {}: volume {} is implicit on one but "
                              "not on the other",
                              res.name, n1, n2, a->vnr),
                  fmt::format("{}: in resource {}, on {} resp. {}: volume {} must not be implicit "
                              "on one but not the other\n",
                              at(), res.name, n1, n2, a->vnr));
      }
      ++a;
      ++b;
    }
  }
}

// ---------------------------------------------------------------------------
// The post-processing passes, bound to one Config.

// The resource (and volume) a resync-after value names, resolved as
// drbd-utils' ctx_by_name(SETUP_MULTI) does. The state deliberately
// persists across the resync-after options of one volume, as upstream's.
struct DependsOn {
  Resource* res = nullptr;
  Volume* vol = nullptr;
  Connection* conn = nullptr;
};

class PostParser {
 public:
  PostParser(Config& cfg, const PostParseOptions& opts, DiagSink& diag)
      : cfg_(cfg), opts_(opts), diag_(diag), rep_(cfg.valid, diag) {}

  void Run();
  void Expand();
  void Validate(bool expand);

 private:
  void SetOnHostsInRes(Resource& res);
  void MustHaveTwoHosts(Resource& res, Connection& conn);
  void CreateConnectionsFromMesh(Resource& res, const Mesh& mesh);
  HostInfo* FindHostInfoOrInvalid(Resource& res, const std::string& name);
  void CreateImplicitConnections(Resource& res);
  void SetHostInfoInPath(Resource& res, Connection& conn, Path& path);
  void CheckAddrConflict();
  void SetStackedDiskInRes(Resource& res);
  void FixupPeerDevices(Resource& res);
  void ValidateResource(Resource& res);
  void EnsureProxySections(Resource& res);
  void ConvertAfterOption(Resource& res);
  void ConvertAfterOptionInVolume(Resource& res, Volume& vol);
  void ResolveResyncAfter(Resource& res, const std::string& id, DependsOn& dep);
  void ConvertDiscardOpt(Options& net_options);
  void SanityCheckPerm();

  Config& cfg_;
  const PostParseOptions& opts_;
  DiagSink& diag_;
  Reporter rep_;
  bool perm_checked_ = false;
};

void PostParser::SetOnHostsInRes(Resource& res) {
  for (HostInfo& host : res.all_hosts) {
    if (host.lower_name.empty()) continue;
    Resource* lower = ResByName(cfg_, host.lower_name);
    if (lower == nullptr) {
      rep_.Error(res.config_file, res.start_line,
                 "in resource " + res.name + ", the resource " + Quote(host.lower_name) +
                     " named in stacked-on-top-of is not defined",
                 Loc(res.config_file, res.start_line) + ": in resource " + res.name +
                     ", referenced resource '" + host.lower_name + "' not defined.\n");
      continue;
    }
    // The stacked section runs wherever the lower resource runs.
    for (HostInfo& h2 : lower->all_hosts) {
      if (!h2.lower_name.empty()) continue;
      host.on_hosts.insert(host.on_hosts.end(), h2.on_hosts.begin(), h2.on_hosts.end());
      for (const std::string& h : h2.on_hosts) {
        for (Volume& vol : host.volumes)
          CheckUniqFormat(cfg_, diag_, VolFile(vol.config_file), vol.device_line, "device-minor",
                          "device-minor:{}:{}", h, static_cast<unsigned>(vol.device_minor));
        for (Volume& vol : host.volumes) {
          if (vol.device)
            CheckUniqFormat(cfg_, diag_, VolFile(vol.config_file), vol.device_line, "device",
                            "device:{}:{}", h, *vol.device);
        }
      }
    }
    host.lower = lower;
    if (!host.address.addr.empty() && AddrScopeLocal(host.address.addr)) {
      for (const std::string& h : host.on_hosts)
        CheckUniqFormat(cfg_, diag_, cfg_.config_file, host.config_line, "IP", "{}:{}:{}", h,
                        host.address.addr, host.address.port);
    }
  }
}

void PostParser::MustHaveTwoHosts(Resource& res, Connection& conn) {
  for (Path& path : conn.paths) {
    if (path.hname_address_pairs.size() == 2) continue;
    const char* what = path.implicit ? "connection" : "path";
    rep_.Error(res.config_file, path.config_line,
               "in resource " + res.name + ", the " + what + " has " +
                   std::to_string(path.hname_address_pairs.size()) +
                   " endpoints; expected two 'host' statements",
               Loc(res.config_file, path.config_line) + ": Resource " + res.name + ": " + what +
                   " needs to have two endpoints\n");
  }
}

HostInfo* PostParser::FindHostInfoOrInvalid(Resource& res, const std::string& name) {
  HostInfo* hi = FindHostInfoByName(res, name);
  if (hi == nullptr) {
    std::string known;
    for (const HostInfo& h : res.all_hosts) {
      for (const std::string& n : h.on_hosts) known += (known.empty() ? "" : ", ") + n;
    }
    rep_.Error(res.config_file, res.start_line,
               "in resource " + res.name + ", connection-mesh names host " + Quote(name) +
                   ", which has no 'on' section (known hosts: " + known + ")",
               Loc(res.config_file, res.start_line) + ": in resource " + res.name +
                   ":\n\tThere is no 'on' section for hostname '" + name +
                   "' named in the connection-mesh\n");
  } else if (hi->proxy_compat_only && rep_.valid()) {
    rep_.Error(res.config_file, hi->config_line,
               "in resource " + res.name +
                   ", a drbd-8.x style proxy section inside an 'on' section cannot be combined "
                   "with connection-mesh; configure that pair with an explicit connection",
               Loc(res.config_file, hi->config_line) + ": in resource " + res.name +
                   ":\n\tThere is a drbd-8.x proxy config syntax within an 'on' section and you "
                   "are using\n\tthe 'mesh' keyword from drbd-9.x syntax. That does not work "
                   "together.\n\n\tUse an explicit connection to configure a proxy and omit that "
                   "pair of hosts\n\tfrom the mesh.\n");
  }
  return hi;
}

void PostParser::CreateConnectionsFromMesh(Resource& res, const Mesh& mesh) {
  for (size_t i = 0; i < mesh.hosts.size(); ++i) {
    HostInfo* hi1 = FindHostInfoOrInvalid(res, mesh.hosts[i]);
    if (hi1 == nullptr) return;
    for (size_t j = i + 1; j < mesh.hosts.size(); ++j) {
      HostInfo* hi2 = FindHostInfoOrInvalid(res, mesh.hosts[j]);
      if (hi2 == nullptr) return;
      if (hi1 == hi2) continue;

      Connection conn;
      conn.implicit = true;
      Path path;
      path.implicit = true;
      ExpandOpts(rep_, res, OptContext::kShowNetOptions, mesh.net_options, conn.net_options);
      for (HostInfo* hi : {hi1, hi2}) {
        HnameAddress ha;
        ha.host_info = hi;
        ha.name = hi->on_hosts.empty() ? std::string() : hi->on_hosts.front();
        path.hname_address_pairs.push_back(std::move(ha));
      }
      conn.paths.push_back(std::move(path));
      res.connections.push_back(std::move(conn));
    }
  }
}

void PostParser::CreateImplicitConnections(Resource& res) {
  if (!res.connections.empty()) return;
  Connection conn;
  conn.implicit = true;
  Path path;
  path.implicit = true;
  int hosts = 0;
  for (HostInfo& h : res.all_hosts) {
    if (++hosts == 3) {
      rep_.Warn(res.config_file, res.start_line,
                "in resource " + res.name +
                    ", more than two 'on' sections need explicit 'connection' sections (or a "
                    "'connection-mesh' section); no connection is created",
                "Resource " + res.name +
                    ":\n\tUse explicit 'connection' sections (or a 'connection-mesh' section) "
                    "with more than two 'on' sections.\n");
      break;
    }
    if (h.address.af.empty() || h.address.addr.empty() || h.address.port.empty()) continue;
    HnameAddress ha;
    ha.host_info = &h;
    ha.proxy = h.proxy_compat_only;
    if (h.lower == nullptr) {
      ha.name = h.on_hosts.empty() ? std::string() : h.on_hosts.front();
    } else {
      ha.name = NamesToStr(h.on_hosts, '_');
      ha.address = h.address;
      ha.faked_hostname = true;
      ha.parsed_address = true;  // makes dump print the address
    }
    path.hname_address_pairs.push_back(std::move(ha));
  }
  if (hosts == 2) {
    conn.paths.push_back(std::move(path));
    res.connections.push_back(std::move(conn));
  }
}

void PostParser::SetHostInfoInPath(Resource& res, Connection& conn, Path& path) {
  std::array<int, 2> addr_hash{};
  std::array<HostInfo*, 2> host_infos{};
  int i = 0;
  for (HnameAddress& ha : path.hname_address_pairs) {
    HostInfo* host_info = nullptr;
    if (ha.host_info != nullptr) {  // implicit connections have it already
      host_info = ha.host_info;
      if (i == 2) {
        rep_.Fatal(cfg_.config_file, ha.config_line,
                   "internal error: more than two endpoints in an implicit connection",
                   "LOGIC BUG in set_host_info_in_host_address_pairs()\n", ExitCode::kExecError);
      }
      if (host_info->address.addr.empty()) {
        rep_.Error(res.config_file, host_info->config_line,
                   "in resource " + res.name + ", connection-mesh host " + Quote(ha.name) +
                       " has no 'address'",
                   "\"connection-mesh\" (for \"" + res.name + "\") with a host (\"" + ha.name +
                       "\") that has no \"address\" defined\n");
        return;
      }
      addr_hash[i] = AddrHash(host_info->address.addr);
      host_infos[i++] = host_info;
    } else if (ha.by_address) {
      host_info = FindHostInfoByAddress(res, ha.address);
      // The name is used in comments only.
      if (host_info != nullptr) ha.name = NamesToStr(host_info->on_hosts, '_');
    } else {
      host_info = FindHostInfoByHa(res, ha);
    }
    if (host_info == nullptr && ha.name == "_remote_host") {
      if (conn.peer == nullptr) continue;  // old drbdsetup prints no peer host section
      host_info = conn.peer;
    }
    if (host_info == nullptr) {
      std::string known;
      for (const HostInfo& h : res.all_hosts) {
        for (const std::string& n : h.on_hosts) known += (known.empty() ? "" : ", ") + n;
      }
      rep_.Error(cfg_.config_file, ha.config_line,
                 "in resource " + res.name + ", host " + Quote(ha.name) +
                     " has no 'address' and no 'on " + ha.name +
                     "' section (known hosts: " + known + ")",
                 Loc(cfg_.config_file, ha.config_line) + ": in resource " + res.name +
                     " a hostname (\"" + ha.name +
                     "\") is given\nwith a \"host\" keyword, has no \"address\" keyword, and no "
                     "matching\nhost section (\"on\" keyword)\n");
      return;  // cannot continue
    }
    ha.host_info = host_info;
    if (ha.address.addr.empty() || ha.address.af.empty() || ha.address.port.empty()) {
      bool have_address = true;
      bool have_port = true;
      if (ha.address.addr.empty() || ha.address.af.empty()) {
        if (!host_info->address.addr.empty() && !host_info->address.af.empty()) {
          ha.address.addr = host_info->address.addr;
          ha.address.af = host_info->address.af;
          ha.address.is_local = host_info->address.is_local;
        } else {
          have_address = false;
        }
      }
      if (ha.address.port.empty()) {
        if (!host_info->address.port.empty()) {
          ha.address.port = host_info->address.port;
        } else {
          have_port = false;
        }
      }
      if (!(have_address && have_port)) {
        std::string what = std::string(have_address ? "" : "address") +
                           (have_address != have_port ? "" : " and ") + (have_port ? "" : "port");
        rep_.Error(cfg_.config_file, ha.config_line,
                   "in resource " + res.name + ", host " + Quote(ha.name) + ": cannot determine " +
                       what + "; give it in the 'host' statement or in 'on " + ha.name + "'",
                   Loc(cfg_.config_file, ha.config_line) + ": Resource " + res.name + ", host " +
                       ha.name + ": cannot determine which " + what + " to use\n");
      }
    }
  }

  // drbd 8.3/8.4 compatibility: two hosts, no node-ids → derive them from
  // the address hashes (the higher hash gets node-id 0).
  if (conn.implicit && i == 2 && !host_infos[0]->node_id && !host_infos[1]->node_id &&
      !opts_.module_84) {
    auto generate = [&]() {
      if (addr_hash[0] > addr_hash[1]) {
        host_infos[0]->node_id = "0";
        host_infos[1]->node_id = "1";
      } else if (addr_hash[0] < addr_hash[1]) {
        host_infos[0]->node_id = "1";
        host_infos[1]->node_id = "0";
      } else {
        return false;
      }
      return true;
    };
    bool have_node_ids = generate();
    if (!have_node_ids && !conn.paths.empty()) {
      // Equal addresses (e.g. 127.0.0.1 with a proxy): use the proxies'
      // outside addresses.
      int k = 0;
      for (HnameAddress& ha : conn.paths.front().hname_address_pairs) {
        if (ha.host_info == nullptr) continue;
        if (!ha.proxy) break;
        if (k < 2) addr_hash[k++] = AddrHash(ha.proxy->outside.addr);
      }
      have_node_ids = generate();
    }
    if (!have_node_ids) {
      rep_.Fatal(res.config_file, res.start_line,
                 "in resource " + res.name +
                     ", cannot derive implicit node-ids: the two addresses hash equally; "
                     "give each host a 'node-id'",
                 "BAD LUCK, equal hashes\n", ExitCode::kExecError);
    }
  }
}

// An af/ip/port triple may be used by several connections of one resource
// but by no other resource, and the two endpoints of a path must differ.
void PostParser::CheckAddrConflict() {
  // Address key → the resource that used the address first. drbd-utils keeps
  // a tree ordered by addresses_cmp(); only its equality matters here.
  FlatStringMap<Resource*> first_use;
  std::string key;

  auto find_in_res = [](Resource& res, const Address& addr) -> HnameAddress* {
    for (Connection& c : res.connections) {
      for (Path& p : c.paths) {
        for (HnameAddress& ha : p.hname_address_pairs) {
          const Address* a2 = EndpointAddress(ha);
          if (a2 != nullptr && AddressesCmp(addr, *a2) == 0) return &ha;
        }
      }
    }
    return nullptr;
  };

  for (Resource& res : cfg_.resources) {
    for (Connection& conn : res.connections) {
      for (Path& path : conn.paths) {
        std::array<const Address*, 2> addr{};
        int i = 0;
        // drbd-utils advances i only for addresses it records, so skipped
        // endpoints are overwritten by the next one.
        for (HnameAddress& ha1 : path.hname_address_pairs) {
          const Address* a = EndpointAddress(ha1);
          if (a == nullptr || i >= 2) continue;
          addr[i] = a;
          if (a->is_local) continue;
          key.clear();
          AppendAddressKey(*a, &key);
          auto [first, inserted] = first_use.TryEmplace(key, &res);
          if (!inserted) {
            Resource* first_res = *first;
            if (first_res != &res) {
              if (ha1.conflicts) continue;
              HnameAddress* ha2 = find_in_res(*first_res, *a);
              if (ha2 == nullptr || ha2->conflicts) continue;
              std::string triple = a->af + ":" + a->addr + ":" + a->port;
              rep_.Error(
                  res.config_file, ha1.config_line,
                  "in resource " + res.name + ", address " + triple + " is also used by resource " +
                      first_res->name + " at " + Loc(first_res->config_file, ha2->config_line),
                  Loc(res.config_file, ha1.config_line) + ": in resource " + res.name + "\n    " +
                      triple + " is also used " + Loc(first_res->config_file, ha2->config_line) +
                      " (resource " + first_res->name + ")\n");
              ha2->conflicts = true;
              ha1.conflicts = true;
            }
          }
          ++i;
        }
        if (i == 2 && AddressesCmp(*addr[0], *addr[1]) == 0 && !addr[0]->is_local) {
          std::string triple = addr[0]->af + ":" + addr[0]->addr + ":" + addr[0]->port;
          rep_.Error(res.config_file, conn.config_line,
                     "in resource " + res.name + ", both endpoints use " + triple,
                     Loc(res.config_file, conn.config_line) + ": in resource " + res.name + " " +
                         triple + " is used for both endpoints\n");
        }
      }
    }
  }
}

void PostParser::SetStackedDiskInRes(Resource& res) {
  if (res.ignore) return;
  for (HostInfo& host : res.all_hosts) {
    if (host.lower == nullptr) continue;
    for (HostInfo& lower_host : host.lower->all_hosts) {
      CheckVolumeSetsEqual(rep_, cfg_, opts_.no_tty, res, host, lower_host);
      if (!rep_.valid()) continue;  // don't bother for a broken config
      // Both lists are sorted by vnr; the lower resource may have more.
      auto b = lower_host.volumes.begin();
      for (Volume& a : host.volumes) {
        while (b != lower_host.volumes.end() && a.vnr > b->vnr) ++b;
        if (b == lower_host.volumes.end() || a.vnr != b->vnr) break;
        a.disk = b->device ? *b->device : "/dev/drbd" + MinorText(b->device_minor);
        // stacked volumes need internal meta data, too
        if (!a.meta_disk) a.meta_disk = "internal";
        if (!a.meta_index) a.meta_index = "internal";
        ++b;
      }
    }
  }
}

void PostParser::FixupPeerDevices(Resource& res) {
  for (Connection& conn : res.connections) {
    for (PeerDevice& pd : conn.peer_devices) pd.connection = &conn;
    if (conn.paths.empty()) continue;
    Path& some_path = conn.paths.front();
    for (PeerDevice& pd : conn.peer_devices) {
      for (HnameAddress& ha : some_path.hname_address_pairs) {
        if (ha.name == "_remote_host") continue;  // `drbdsetup show` has no section for it
        if (ha.host_info == nullptr) continue;
        if (FindVolume(ha.host_info->volumes, pd.vnr) == nullptr) {
          rep_.Error(res.config_file, pd.config_line,
                     "in resource " + res.name + ", volume " + std::to_string(pd.vnr) +
                         " is referenced but not defined on host " + ha.name,
                     Loc(res.config_file, pd.config_line) + ": Resource " + res.name +
                         ": There is a reference to a volume " + std::to_string(pd.vnr) +
                         " that is not known in this resource on host " + ha.name + "\n");
        }
      }
    }
    if (some_path.hname_address_pairs.empty()) continue;
    HostInfo* some_host = some_path.hname_address_pairs.front().host_info;
    if (some_host == nullptr) continue;
    for (Volume& vol : some_host->volumes) {
      if (FindPeerDevice(conn, vol.vnr) != nullptr) continue;
      PeerDevice pd;
      pd.vnr = vol.vnr;
      pd.implicit = true;
      pd.connection = &conn;
      conn.peer_devices.push_back(std::move(pd));
    }
  }
}

void PostParser::Run() {
  for (Resource& res : cfg_.resources) {
    bool any_implicit = false;
    bool any_non_zero_vnr = false;
    for (HostInfo& host : res.all_hosts) {
      InheritVolumes(cfg_, diag_, res.volumes, host);
      for (Volume& vol : host.volumes) {
        any_implicit |= vol.implicit;
        any_non_zero_vnr |= vol.vnr != 0;
        CheckMetaDisk(cfg_, diag_, vol, host);
      }
      if (host.require_minor) {
        // The list is sorted by vnr; a vnr defined twice (implicit volume 0
        // plus `volume 0`) shows up as "unsorted", without clearing validity.
        unsigned last = ~0u;
        for (Volume& vol : host.volumes) {
          if (last == ~0u || last < static_cast<unsigned>(vol.vnr)) {
            last = static_cast<unsigned>(vol.vnr);
          } else {
            rep_.Warn(res.config_file, host.config_line,
                      "in resource " + res.name + ", volume " + std::to_string(vol.vnr) +
                          " is defined more than once in " + SectionName(host),
                      "internal error: in " + res.name + ": unsorted volumes list\n");
          }
          CheckVolumeComplete(rep_, res, host, vol);
        }
      }
    }
    // An 8.4 module's `drbdsetup show` lists no volumes for the peer.
    if (!res.all_hosts.empty() && !opts_.drbdsetup_show) {
      for (HostInfo& h2 : res.all_hosts)
        CheckVolumeSetsEqual(rep_, cfg_, opts_.no_tty, res, res.all_hosts.front(), h2);
    }
    if (any_implicit && any_non_zero_vnr) {
      int line = EndLine(cfg_);
      rep_.Error(cfg_.config_file, line,
                 "in resource " + res.name +
                     ", implicit volume 0 (device/disk outside a 'volume' section) is mixed "
                     "with explicit 'volume' sections",
                 Loc(cfg_.config_file, line) + ": in resource " + res.name +
                     ": you must not mix implicit and explicit volumes\n");
    }
  }

  for (Resource& res : cfg_.resources) {
    if (res.stacked_on_one) SetOnHostsInRes(res);  // sets on_hosts and host.lower
  }

  for (Resource& res : cfg_.resources) {
    if (!opts_.drbdsetup_show) {
      for (Connection& conn : res.connections) MustHaveTwoHosts(res, conn);
    }
    if (!rep_.valid()) continue;  // the other steps make no sense
    for (const Mesh& mesh : res.meshes) CreateConnectionsFromMesh(res, mesh);
    CreateImplicitConnections(res);
    for (Connection& conn : res.connections) {
      for (Path& path : conn.paths) SetHostInfoInPath(res, conn, path);
    }
    for (HostInfo& host : res.all_hosts) {
      if (!host.node_id && !opts_.module_84) DError(rep_, host, res, "node-id");
    }
  }

  if (rep_.valid()) CheckAddrConflict();

  // Needs on_hosts and host.lower already set.
  for (Resource& res : cfg_.resources) {
    if (!res.stacked_on_one) SetMeInResource(cfg_, res, opts_, diag_);
  }
  // Needs host.lower->me already set.
  for (Resource& res : cfg_.resources) {
    if (res.stacked_on_one) SetMeInResource(cfg_, res, opts_, diag_);
  }
  for (Resource& res : cfg_.resources) {
    if (res.stacked_on_one) SetStackedDiskInRes(res);
  }
  for (Resource& res : cfg_.resources) FixupPeerDevices(res);
}

void PostParser::Expand() {
  for (Resource& res : cfg_.resources) {
    for (HostInfo& h : res.all_hosts) {
      for (Volume& vol : h.volumes) {
        if (vol.disk && *vol.disk == "none") {  // intentionally diskless
          vol.disk.reset();
          vol.meta_disk.reset();
          vol.meta_index.reset();
        }
        if (!vol.device) vol.device = "/dev/drbd" + MinorText(vol.device_minor);
      }
    }

    const Resource* tmpl = res.template_res;
    if (tmpl == nullptr && cfg_.common) tmpl = &*cfg_.common;
    if (tmpl != nullptr) {
      ExpandOpts(rep_, res, OptContext::kShowNetOptions, tmpl->net_options, res.net_options);
      ExpandOpts(rep_, res, OptContext::kDiskOptions, tmpl->disk_options, res.disk_options);
      // Device options in `disk { }` are drbd-utils HEAD syntax (empty for
      // 9.22 configs); inherited as HEAD does, between disk and pd options.
      ExpandOpts(rep_, res, OptContext::kNewMinor, tmpl->device_options, res.device_options);
      // drbd-utils checks these against the device (new-minor) options.
      ExpandOpts(rep_, res, OptContext::kNewMinor, tmpl->pd_options, res.pd_options);
      ExpandOpts(rep_, res, OptContext::kStartup, tmpl->startup_options, res.startup_options);
      ExpandOpts(rep_, res, OptContext::kProxy, tmpl->proxy_options, res.proxy_options);
      ExpandOpts(rep_, res, OptContext::kHandlers, tmpl->handlers, res.handlers);
      ExpandOpts(rep_, res, OptContext::kResourceOptions, tmpl->res_options, res.res_options);
      if (tmpl->stacked_timeouts) res.stacked_timeouts = true;
      ExpandOpts(rep_, res, OptContext::kWildcard, tmpl->proxy_plugins, res.proxy_plugins);
    }

    // resource level → volumes of every host
    for (HostInfo& h : res.all_hosts) {
      for (Volume& vol : h.volumes) {
        ExpandOpts(rep_, res, OptContext::kDiskOptions, res.disk_options, vol.disk_options);
        ExpandOpts(rep_, res, OptContext::kNewMinor, res.device_options, vol.device_options);
        ExpandOpts(rep_, res, OptContext::kPeerDeviceOptions, res.pd_options, vol.pd_options);
      }
    }
    // resource-level `volume N { disk { } }` → that volume in every host
    for (Volume& vol : res.volumes) {
      for (HostInfo& h : res.all_hosts) {
        Volume* host_vol = FindVolume(h.volumes, vol.vnr);
        if (host_vol == nullptr) continue;
        ExpandOpts(rep_, res, OptContext::kDiskOptions, vol.disk_options, host_vol->disk_options);
        ExpandOpts(rep_, res, OptContext::kNewMinor, vol.device_options,
                   host_vol->device_options);
        ExpandOpts(rep_, res, OptContext::kPeerDeviceOptions, vol.pd_options, host_vol->pd_options);
      }
    }
    // resource net options → connections
    for (Connection& conn : res.connections)
      ExpandOpts(rep_, res, OptContext::kShowNetOptions, res.net_options, conn.net_options);
    // resource proxy options → the proxies of the connections
    for (Connection& conn : res.connections) {
      for (Path& path : conn.paths) {
        for (HnameAddress& ha : path.hname_address_pairs) {
          if (!ha.proxy) continue;
          ExpandOpts(rep_, res, OptContext::kProxy, res.proxy_options, ha.proxy->options);
          ExpandOpts(rep_, res, OptContext::kWildcard, res.proxy_plugins, ha.proxy->plugins);
          // An implicit connection's endpoint shares its proxy with the 8.x
          // style `proxy on` of the host section in drbd-utils (one object),
          // so the host section sees the inherited options too (dump -d).
          if (conn.implicit && ha.host_info != nullptr && ha.host_info->proxy_compat_only) {
            ha.host_info->proxy_compat_only->options = ha.proxy->options;
            ha.host_info->proxy_compat_only->plugins = ha.proxy->plugins;
          }
        }
      }
    }
    // connection peer-device options → its peer devices; then the volumes'
    // peer-device options of each endpoint's host → the peer devices
    for (Connection& conn : res.connections) {
      for (PeerDevice& pd : conn.peer_devices)
        ExpandOpts(rep_, res, OptContext::kPeerDeviceOptions, conn.pd_options, pd.pd_options);
      if (conn.paths.empty()) continue;
      for (HnameAddress& ha : conn.paths.front().hname_address_pairs) {
        HostInfo* h = ha.host_info;
        if (h == nullptr) continue;
        for (Volume& vol : h->volumes) {
          PeerDevice* pd = FindPeerDevice(conn, vol.vnr);
          if (pd == nullptr) continue;
          ExpandOpts(rep_, res, OptContext::kPeerDeviceOptions, vol.pd_options, pd->pd_options);
        }
      }
    }
  }
}

namespace {

// How often `has` flips along `items`: every flip is one "either all ...
// or none" error for drbd-utils.
template <typename Items, typename Has>
int Flips(const Items& items, Has has) {
  int flips = 0;
  std::optional<bool> prev;
  for (const auto& item : items) {
    bool cur = has(item);
    if (prev && *prev != cur) ++flips;
    prev = cur;
  }
  return flips;
}

}  // namespace

void PostParser::EnsureProxySections(Resource& res) {
  int host_flips = Flips(res.all_hosts, [](const HostInfo& h) { return !!h.proxy_compat_only; });
  for (int i = 0; i < host_flips; ++i) {
    rep_.Error(res.config_file, res.start_line,
               "in resource " + res.name +
                   ", either all 'on' sections must contain a proxy subsection, or none",
               Loc(res.config_file, res.start_line) + ": in resource " + res.name +
                   ":\n\tEither all 'on' sections must contain a proxy subsection, or none.\n");
  }
  for (Connection& conn : res.connections) {
    for (Path& path : conn.paths) {
      int flips =
          Flips(path.hname_address_pairs, [](const HnameAddress& ha) { return !!ha.proxy; });
      for (int i = 0; i < flips; ++i) {
        rep_.Error(res.config_file, conn.config_line,
                   "in resource " + res.name +
                       ", either all 'host' statements of a connection must have a proxy "
                       "subsection, or none",
                   Loc(res.config_file, conn.config_line) + ": in connection in resource " +
                       res.name +
                       ":\nEither all 'host' statements must have a proxy subsection, or "
                       "none.\n");
      }
    }
  }
}

// drbd-utils warns when the dopd fence-peer helper cannot work: drbdsetup and
// drbdmeta must be setuid root and not world-executable, and the config must
// be readable by the haclient group.
void PostParser::SanityCheckPerm() {
  if (perm_checked_) return;
  perm_checked_ = true;
  bool did_header = false;
  auto check_abs = [&](const std::string& path) {
    struct stat sb;
    if (stat(path.c_str(), &sb) != 0) return false;
    if (!(sb.st_mode & S_ISUID) || (sb.st_mode & S_IXOTH) || sb.st_gid == 0) {
      std::string msg;
      if (!did_header) {
        msg +=
            "WARN:\n  You are using the 'drbd-peer-outdater' as fence-peer program.\n  If you "
            "use that mechanism the dopd heartbeat plugin program needs\n  to be able to call "
            "drbdsetup and drbdmeta with root privileges.\n\n  You need to fix this with these "
            "commands:\n";
      }
      did_header = true;
      // The Debian build of drbd-utils 9.22 (the reference) suggests
      // dpkg-statoverride instead of chgrp/chmod here.
      msg += "dpkg-statoverride --add --update root haclient 4750 " + path + "\n\n";
      diag_.Raw(msg);
    }
    return true;
  };
  auto check_cmd = [&](const std::string& name) {
    if (name.find('/') != std::string::npos) {
      check_abs(name);
      return;
    }
    const char* env = std::getenv("PATH");
    std::string path = env != nullptr ? env : "";
    size_t pos = 0;
    while (true) {
      size_t colon = path.find(':', pos);
      std::string dir =
          path.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
      std::string abs = dir;
      abs += '/';
      abs += name;
      abs.resize(std::min<size_t>(abs.size(), 99));
      if (check_abs(abs)) break;
      if (colon == std::string::npos || colon + 1 >= path.size()) break;
      pos = colon + 1;
    }
  };
  check_cmd(opts_.drbdsetup);
  check_cmd(opts_.drbdmeta);
  struct stat sb;
  const std::string& c = cfg_.config_file;
  if (stat(c.c_str(), &sb) != 0) return;
  if ((sb.st_mode & S_IROTH) && sb.st_gid == 0) return;
  if ((sb.st_mode & S_IRGRP) && sb.st_gid != 0) return;
  diag_.Raw(
      "WARN:\n  You are using the 'drbd-peer-outdater' as fence-peer program.\n  If you use "
      "that mechanism the dopd heartbeat plugin program needs\n  to be able to read the "
      "drbd.config file.\n\n  You need to fix this with these commands:\n  chgrp haclient " +
      c + "\n  chmod g+r " + c + "\n\n");
}

void PostParser::ValidateResource(Resource& res) {
  // resync-after names are checked where they are converted (expand only;
  // drbd-utils >= 9.23): a peer's host section may name resources this
  // node does not know.
  if (res.all_hosts.empty()) {
    rep_.Error(res.config_file, res.start_line,
               "in resource " + res.name + ", no host section ('on " + opts_.hostname +
                   " { ... }') is defined",
               Loc(res.config_file, res.start_line) + ": in resource " + res.name +
                   ":\n\ta host sections ('on " + opts_.hostname + " { ... }') is missing.\n");
  }
  if (res.ignore) return;
  if (res.me == nullptr) {
    rep_.Error(
        res.config_file, res.start_line,
        "in resource " + res.name + ", section 'on " + opts_.hostname + " { ... }' is missing",
        Loc(res.config_file, res.start_line) + ": in resource " + res.name +
            ":\n\tmissing section 'on " + opts_.hostname + " { ... }'.\n");
  }
  // discard-node-NAME must name a known node.
  if (const Option* opt = FindOption(res.net_options, "after-sb-0pri")) {
    if (opt->value.rfind("discard-node-", 0) == 0 &&
        !HostNameKnown(res, std::string_view(opt->value).substr(13))) {
      rep_.Error(res.config_file, res.start_line,
                 "in resource " + res.name + ", the node name in " + Quote(opt->value) +
                     " is not the name of any host section",
                 Loc(res.config_file, res.start_line) + ": in resource " + res.name +
                     ":\n\tthe nodename in the '" + opt->value + "' option is not known.\n");
    }
  }
  if (const Option* opt = FindOption(res.handlers, "fence-peer")) {
    if (opt->value.find("drbd-peer-outdater") != std::string::npos) SanityCheckPerm();
  }
  EnsureProxySections(res);
}

// drbd-utils' ctx_by_name(SETUP_MULTI) for a resync-after value
// ("RES", "RES/VOL", "RES:PEER[/VOL]"): updates dep (kept across the
// resync-after options of one volume, as upstream's context is) and, like
// upstream, sets up the named resource's peers and connection flags.
void PostParser::ResolveResyncAfter(Resource& res, const std::string& id, DependsOn& dep) {
  std::string input = id;
  std::optional<std::string> vol_id;
  size_t slash = input.rfind('/');
  unsigned vol_nr = ~0u;
  if (slash != std::string::npos) {
    vol_id = input.substr(slash + 1);
    input.resize(slash);
    vol_nr = static_cast<unsigned>(MStrtoll(rep_, res, *vol_id, '1'));
  }
  std::optional<std::string> conn_or_hostname;
  size_t colon = input.find(':');
  if (colon != std::string::npos) {
    conn_or_hostname = input.substr(colon + 1);
    input.resize(colon);
  }
  Resource* r = ResByName(cfg_, input);
  if (r == nullptr || r->ignore) return;
  dep.res = r;
  SetPeerInResource(cfg_, *r, true, false, diag_);
  if (conn_or_hostname) {
    HostInfo* hi = FindHostInfoByName(*r, *conn_or_hostname);
    bool valid_conns = false;
    int found = 0;
    dep.conn = nullptr;
    for (Connection& conn : r->connections) {
      if (hi != nullptr) {
        if (r->me == hi) {
          diag_.Raw("Host name '" + *conn_or_hostname + "' (from '" + id +
                    "') is not a peer, but the local node\n");
          return;
        }
        if (conn.peer == hi) {
          ++found;
          conn.on_cmdline = true;
        }
        if (conn.peer != nullptr && conn.peer->node_id == hi->node_id) {
          conn.me = true;
          conn.ignore = false;
        } else {
          conn.ignore = true;
        }
      } else {
        const Option* name = FindOption(conn.net_options, "_name");
        if (name != nullptr && name->value == *conn_or_hostname) {
          ++found;
          conn.me = true;
          conn.ignore = false;
        } else {
          conn.ignore = true;
        }
      }
      if (!conn.ignore) valid_conns = true;
    }
    if (!valid_conns) {
      diag_.Raw("Not a valid connection (" + id + ") for this host\n");
      return;
    }
    if (found == 1) {
      Connection* on_cmdline = nullptr;
      for (Connection& conn : r->connections) {
        if (conn.on_cmdline) {
          on_cmdline = &conn;
          break;
        }
      }
      if (on_cmdline != nullptr) {
        if (on_cmdline->ignore) {
          diag_.Raw("Connection '" + *conn_or_hostname + "' has the ignore flag set\n");
          return;
        }
        dep.conn = on_cmdline;
      }
    }
  }
  if (!vol_id) {
    dep.vol = nullptr;
    return;
  }
  Volume* v = r->me != nullptr ? FindVolume(r->me->volumes, static_cast<int>(vol_nr)) : nullptr;
  if (vol_nr != ~0u) {
    if (v != nullptr) {
      dep.vol = v;
    } else {
      diag_.Raw("Resource '" + input + "' has no volume " +
                std::to_string(static_cast<int>(vol_nr)) + "\n");
    }
  }
}

void PostParser::ConvertAfterOptionInVolume(Resource& res, Volume& vol) {
  DependsOn dep;
  for (auto it = vol.disk_options.begin(); it != vol.disk_options.end();) {
    if (it->name != "resync-after") {
      ++it;
      continue;
    }
    const std::string id = it->value;
    ResolveResyncAfter(res, id, dep);
    // --- ctx_set_implicit_volume
    int volumes = 0;
    if (dep.vol == nullptr && dep.res != nullptr && dep.res->me != nullptr) {
      Volume* only = nullptr;
      for (Volume& v : dep.res->me->volumes) {
        ++volumes;
        only = &v;
      }
      if (volumes == 1) dep.vol = only;
    }
    if (volumes > 1) {
      rep_.Error(res.config_file, res.start_line,
                 "in resource " + res.name + ", resync-after " + Quote(id) +
                     " is ambiguous: that resource has " + std::to_string(volumes) +
                     " volumes; name one as RES/VOLUME",
                 Loc(res.config_file, res.start_line) + ": in resource " + res.name +
                     ":\n\tresync-after contains '" + id + "', which is ambiguous, since it " +
                     "contains " + std::to_string(volumes) + " volumes\n");
      return;
    }
    if (dep.res == nullptr || dep.res->ignore || dep.vol == nullptr) {
      std::string why = dep.res != nullptr ? " on this host" : "";
      std::string text =
          fmt::format("in resource {}, resource {} named in 'resync-after' is not known{}",
                      res.name, Quote(id), why);
      std::string compat = fmt::format(
          "{}: in resource {}:\n\tresource '{}' mentioned in 'resync-after' option is not "
          "known{}.\n",
          Loc(res.config_file, res.start_line), res.name, id, why);
      if (opts_.no_tty) {
        rep_.Warn(res.config_file, res.start_line, text, compat);
        it = vol.disk_options.erase(it);
        continue;
      }
      rep_.Error(res.config_file, res.start_line, text, compat);
    } else {
      it->value = std::to_string(dep.vol->device_minor);
    }
    ++it;
  }
}

// Only this node's volumes: its view of the peers' resources may be
// incomplete (drbd-utils >= 9.23; 9.22 converted every host's volumes).
void PostParser::ConvertAfterOption(Resource& res) {
  if (res.me == nullptr) return;
  for (Volume& vol : res.me->volumes) ConvertAfterOptionInVolume(res, vol);
}

// after-sb-0pri discard-node-NAME → discard-local / discard-remote.
void PostParser::ConvertDiscardOpt(Options& net_options) {
  Option* opt = FindOption(net_options, "after-sb-0pri");
  if (opt == nullptr || opt->value.rfind("discard-node-", 0) != 0) return;
  opt->value = opt->value.substr(13) == opts_.hostname ? "discard-local" : "discard-remote";
}

void PostParser::Validate(bool expand) {
  for (Resource& res : cfg_.resources) {
    ValidateResource(res);
    if (!rep_.valid()) throw FatalConfigError(ExitCode::kConfigInvalid, "invalid configuration");
    if (expand) {
      ConvertAfterOption(res);
      ConvertDiscardOpt(res.net_options);
      for (Connection& conn : res.connections) ConvertDiscardOpt(conn.net_options);
    }
    if (!rep_.valid()) throw FatalConfigError(ExitCode::kConfigInvalid, "invalid configuration");
  }
}

// ---------------------------------------------------------------------------
// Host matching (set_me_in_resource / set_peer_in_resource)

bool TestProxyOnHost(Resource& res, HostInfo& host, const std::string& hostname) {
  for (Connection& conn : res.connections) {
    for (Path& path : conn.paths) {
      for (HnameAddress& ha : path.hname_address_pairs) {
        if (!ha.proxy) continue;
        if (ha.host_info == &host) return HostnameInList(hostname, ha.proxy->on_hosts);
      }
    }
  }
  return false;
}

void SetMe(Reporter& rep, Resource& res, const PostParseOptions& opts) {
  for (HostInfo& host : res.all_hosts) {
    if (opts.match_on_proxy) {
      if (!TestProxyOnHost(res, host, opts.hostname)) continue;
    } else if (host.by_address) {
      // __DRBD_NODE__=10.0.0.1 selects a floating section (for debugging)
      if (!HaveIp(host.address.af, host.address.addr) && opts.hostname != host.address.addr)
        continue;
    } else if (host.lower != nullptr) {
      if (host.lower->me == nullptr) continue;
    } else if (host.on_hosts.empty()) {
      continue;  // a host section without names
    } else {
      if (!HostnameInList(opts.hostname, host.on_hosts) && host.on_hosts.front() != "_this_host")
        continue;
    }
    // matched
    if (res.ignore) {
      rep.Error(res.config_file, host.config_line,
                "in resource " + res.name + ", " + SectionName(host) +
                    " { ... } matches this host, but the resource is ignored here (ignore-on)",
                Loc(res.config_file, host.config_line) + ": in resource " + res.name + ", " +
                    SectionName(host) +
                    " { ... }:\n\tYou cannot ignore and define at the same time.\n");
    }
    if (res.me != nullptr && res.me != &host && !opts.match_on_proxy) {
      rep.Error(res.config_file, host.config_line,
                "in resource " + res.name + ", both " + SectionName(*res.me) + " and " +
                    SectionName(host) + " match this node (" + opts.hostname + ")",
                Loc(res.config_file, host.config_line) + ": in resource " + res.name + ", " +
                    SectionName(*res.me) + " { ... } ... " + SectionName(host) +
                    " { ... }:\n\tThere are multiple host sections for this node.\n");
    }
    res.me = &host;
    host.used_as_me = true;
    if (host.lower != nullptr) res.stacked = true;
  }

  // A node that runs only proxies (drbd-utils >= 9.23): every host section
  // it proxies for counts as its own, so each path gets its local proxy.
  if (res.me == nullptr && !opts.match_on_proxy) {
    for (HostInfo& host : res.all_hosts) {
      if (!TestProxyOnHost(res, host, opts.hostname)) continue;
      res.me = &host;
      host.used_as_me = true;
      res.proxy_only = true;
    }
  }

  // No local section: the resource is implicitly ignored on this node.
  if (res.me == nullptr) {
    res.ignore = true;
    return;
  }

  for (Connection& conn : res.connections) {
    for (Path& path : conn.paths) {
      HnameAddress* h = nullptr;
      for (HnameAddress& ha : path.hname_address_pairs) {
        if (ha.host_info != nullptr && ha.host_info->used_as_me) {
          h = &ha;
          break;
        }
      }
      if (h != nullptr) {
        // A path of a stacked resource that belongs to the lower resource's
        // other node is ignored; implicit paths (faked names) never are.
        if (!h->faked_hostname && h->host_info->lower != nullptr &&
            h->host_info->lower->me != nullptr &&
            !HostnameInList(h->name, h->host_info->lower->me->on_hosts))
          path.ignore = true;
        h->used_as_me = true;
        if (path.my_address == nullptr)
          path.my_address = !h->address.addr.empty() ? &h->address : &res.me->address;
        path.my_proxy = h->proxy ? &*h->proxy : nullptr;
      } else if (conn.peer == nullptr) {
        // keep address-less connections from `drbdsetup show` for adjust
        conn.ignore = true;
      }
    }
  }
}

void SetPeerInConnection(Reporter& rep, Resource& res, Connection& conn, bool peer_required) {
  if (res.ignore || conn.ignore) return;
  if (res.me == nullptr) {
    rep.Fatal(res.config_file, res.start_line,
              "internal error: in resource " + res.name +
                  ", the peer is looked up before the "
                  "local host section is known",
              Loc(res.config_file, res.start_line) + ": in resource " + res.name +
                  ":\n\tcannot determine the peer, don't even know myself!\n",
              ExitCode::kThinko);
  }
  for (Path& path : conn.paths) {
    int nr_hosts = 0;
    int candidates = 0;
    HnameAddress* candidate = nullptr;
    for (HnameAddress& ha : path.hname_address_pairs) {
      ++nr_hosts;
      if (!ha.used_as_me) {
        ++candidates;
        candidate = &ha;
      }
    }
    if (nr_hosts < 2) {
      if (peer_required) {
        rep.Error(res.config_file, conn.config_line,
                  "in resource " + res.name +
                      ", the connection has no peer: expected a 'host "
                      "<PEER>' statement",
                  Loc(res.config_file, conn.config_line) + ": in connection in resource " +
                      res.name + ":\n\tMissing statement 'host <PEER> '.\n");
      }
      return;
    }
    if (candidates == 1 && nr_hosts == 2) {
      HostInfo* host_info = conn.peer;
      if (host_info == nullptr) {
        host_info = FindHostInfoByHa(res, *candidate);
        if (host_info == nullptr) {
          rep.Error(
              res.config_file, conn.config_line,
              "in resource " + res.name + ", no host section for peer " + Quote(candidate->name),
              Loc(res.config_file, conn.config_line) + ": in connection in resource " + res.name +
                  ":\n\tCan not find host_info for " + candidate->name + "\n");
          return;
        }
        conn.peer = host_info;
      }
      // A peer behind NAT is reached at its outside address (newer drbd-utils).
      Address* outside = candidate->outside_address ? &*candidate->outside_address : nullptr;
      if (outside != nullptr && !outside->addr.empty()) {
        path.peer_address = outside;
      } else {
        path.peer_address =
            !candidate->address.addr.empty() ? &candidate->address : &host_info->address;
      }
      path.peer_proxy = candidate->proxy ? &*candidate->proxy : nullptr;
      path.connect_to = path.my_proxy != nullptr ? &path.my_proxy->inside : path.peer_address;
      continue;
    }
    rep.Error(res.config_file, conn.config_line,
              "in resource " + res.name +
                  ", cannot tell which endpoint of the connection is "
                  "the peer (none or both match this node)",
              Loc(res.config_file, conn.config_line) + ": in connection in resource " + res.name +
                  ":\n\tBug in set_peer_in_connection()\n");
    return;
  }
}

void CreateImplicitNetOptions(Connection& conn) {
  if (FindOption(conn.net_options, "_name") != nullptr) return;
  std::string value;
  if (!conn.name.empty()) {
    value = conn.name;
  } else if (conn.peer != nullptr) {
    value = NamesToStr(conn.peer->on_hosts, '_');
  } else {
    return;
  }
  Option o;
  o.name = "_name";
  o.value = value;
  conn.net_options.push_front(std::move(o));
}

void AddNoBitmapOpt(Resource& res) {
  if (res.no_bitmap_done) return;
  for (Connection& conn : res.connections) {
    if (conn.ignore) continue;
    for (PeerDevice& pd : conn.peer_devices) {
      pd.connection = &conn;  // the owner, whatever was recorded before a move
      if (pd.connection->peer != nullptr && PeerDiskless(pd)) {
        Option o;
        o.name = "bitmap";
        o.value = "no";
        pd.pd_options.push_back(std::move(o));
      }
    }
  }
  res.no_bitmap_done = true;
}

// `tiebreaker no` on a peer's volume (drbd-utils HEAD syntax) gives that
// peer device `peer-tiebreaker no`, as HEAD does.
void ApplyTiebreakerFlags(Resource& res) {
  for (Connection& conn : res.connections) {
    if (conn.ignore || conn.peer == nullptr) continue;
    for (PeerDevice& pd : conn.peer_devices) {
      const Volume* peer_vol = FindVolume(conn.peer->volumes, pd.vnr);
      if (peer_vol == nullptr || peer_vol->tiebreaker) continue;
      if (FindOption(pd.pd_options, "peer-tiebreaker") != nullptr) continue;
      Option o;
      o.name = "peer-tiebreaker";
      o.value = "no";
      pd.pd_options.push_back(std::move(o));
    }
  }
}

void SetPeer(Reporter& rep, Resource& res, bool peer_required, bool drbdsetup_show) {
  bool peers_addrs_set = true;
  for (Connection& conn : res.connections) {
    SetPeerInConnection(rep, res, conn, peer_required);
    for (Path& path : conn.paths) {
      if (path.peer_address == nullptr) peers_addrs_set = false;
    }
    CreateImplicitNetOptions(conn);
  }
  res.peers_addrs_set = peers_addrs_set;
  if (!drbdsetup_show) {
    AddNoBitmapOpt(res);
    ApplyTiebreakerFlags(res);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API

std::string NamesToStr(const Names& names, char sep) {
  if (names.empty()) return "UNKNOWN";
  std::string out = names.front();
  for (size_t i = 1; i < names.size(); ++i) {
    out += sep;
    out += names[i];
  }
  return out;
}

void PostParse(Config& cfg, const PostParseOptions& opts, DiagSink& diag) {
  PostParser(cfg, opts, diag).Run();
}

void ExpandCommon(Config& cfg, const PostParseOptions& opts, DiagSink& diag) {
  PostParser(cfg, opts, diag).Expand();
}

void GlobalValidate(Config& cfg, bool expand, const PostParseOptions& opts, DiagSink& diag) {
  PostParser(cfg, opts, diag).Validate(expand);
}

void SetMeInResource(Config& cfg, Resource& res, const PostParseOptions& opts, DiagSink& diag) {
  Reporter rep(cfg.valid, diag);
  SetMe(rep, res, opts);
}

void SetMeInResource(Resource& res, const PostParseOptions& opts, DiagSink& diag) {
  bool scratch = true;
  Reporter rep(scratch, diag);
  SetMe(rep, res, opts);
}

void SetPeerInResource(Config& cfg, Resource& res, bool peer_required, bool drbdsetup_show,
                       DiagSink& diag) {
  Reporter rep(cfg.valid, diag);
  SetPeer(rep, res, peer_required, drbdsetup_show);
}

void SetPeerInResource(Resource& res, bool peer_required, DiagSink& diag) {
  bool scratch = true;
  Reporter rep(scratch, diag);
  SetPeer(rep, res, peer_required, false);
}

HostInfo* FindHostInfoByName(Resource& res, std::string_view name) {
  for (HostInfo& h : res.all_hosts) {
    if (HostnameInList(name, h.on_hosts)) return &h;
  }
  return nullptr;
}

Resource* ResByName(Config& cfg, std::string_view name) {
  for (Resource& r : cfg.resources) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

PeerDevice* FindPeerDevice(Connection& conn, int vnr) {
  for (PeerDevice& pd : conn.peer_devices) {
    if (pd.vnr == vnr) return &pd;
  }
  return nullptr;
}

bool PeerDiskless(const PeerDevice& pd) {
  if (pd.connection == nullptr || pd.connection->peer == nullptr) return false;
  const Volume* vol = FindVolume(pd.connection->peer->volumes, pd.vnr);
  return vol != nullptr && !vol->disk;
}

bool AddressesEqual(const Address& a, const Address& b) { return AddressesCmp(a, b) == 0; }

void AppendAddressKey(const Address& a, std::string* key) {
  // Fields end in '\0' (no field holds one), so no two field splits run
  // together into the same key.
  key->append(a.af).push_back('\0');
  key->append(a.port).push_back('\0');
  if (AfIs(a.af, '6')) {
    // The same 16 bytes for every spelling of one address, as Ipv6Match()
    // compares them; text that does not parse is kept as text, behind a
    // different marker byte.
    std::array<uint8_t, 16> bytes;
    std::array<uint16_t, 8> groups;
    bool parsed = false;
    if (ParsePlainIpv6(a.addr, &groups)) {
      for (size_t i = 0; i < groups.size(); ++i) {
        bytes[2 * i] = static_cast<uint8_t>(groups[i] >> 8);
        bytes[2 * i + 1] = static_cast<uint8_t>(groups[i] & 0xff);
      }
      parsed = true;
    } else {
      struct in6_addr x;
      if (inet_pton(AF_INET6, a.addr.c_str(), &x) == 1) {
        std::memcpy(bytes.data(), &x, bytes.size());
        parsed = true;
      }
    }
    if (parsed) {
      key->push_back('6');
      key->append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      return;
    }
  }
  key->push_back('t');
  key->append(a.addr);
}

}  // namespace drbd::cfg
