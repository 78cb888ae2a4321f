// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm's `-d` plans for a DRBD 8.4 module (see plan84.h and
// docs/compat.md "DRBD 8.4 modules").
#include "drbdadm/plan84.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "drbdadm/runner.h"

namespace drbd::adm {
namespace {

// The 8.4 option contexts the plans print options of.
enum class Ctx84 { kResource, kDisk, kNet, kOther };

struct Opt84 {
  Ctx84 ctx;
  std::string_view name;
};

// lib/spec/options84.def: the attach options are disk options, the connect
// options net options; the per-command flags (force, size, ...) are never
// written in a configuration.
constexpr Ctx84 kResource = Ctx84::kResource, kDisk = Ctx84::kDisk, kAttachOnly = Ctx84::kDisk,
                kNet = Ctx84::kNet, kConnectOnly = Ctx84::kNet, kPrimary = Ctx84::kOther,
                kDetach = Ctx84::kOther, kDisconnect = Ctx84::kOther, kResize = Ctx84::kOther,
                kNewCUuid = Ctx84::kOther, kVerify = Ctx84::kOther;
constexpr Opt84 kOptions84[] = {
#define DRBD84_OPT(ctx, name, field, kind, scale, unit) {ctx, name},
#include "lib/spec/options84.def"
#undef DRBD84_OPT
};

// The 8.4 context of a configuration option; nullopt when DRBD 8.4 has no
// such option.
std::optional<Ctx84> ContextOf(std::string_view name) {
  for (const Opt84& o : kOptions84) {
    if (o.name == name && o.ctx != Ctx84::kOther) return o.ctx;
  }
  return std::nullopt;
}

using OptList = std::vector<const cfg::Option*>;

bool Has(const OptList& l, std::string_view name) {
  return std::any_of(l.begin(), l.end(), [&](const cfg::Option* o) { return o->name == name; });
}

// The options of context `ctx` written (not inherited) in `lists`, in the
// order they were written (drbdadm-84 appends while parsing, so the syncer
// section's options follow those of the disk/net sections before it).
OptList Written(const std::vector<const cfg::Options*>& lists, Ctx84 ctx) {
  OptList out;
  for (const cfg::Options* l : lists) {
    for (const cfg::Option& o : *l) {
      if (o.inherited || ContextOf(o.name) != ctx || Has(out, o.name)) continue;
      out.push_back(&o);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const cfg::Option* a, const cfg::Option* b) {
    return a->line != b->line ? a->line < b->line : a->col < b->col;
  });
  return out;
}

// drbdadm-84's inheritance: every option of `from` missing in `into` is put
// at the head of `into`, one after the other (so they end up reversed).
OptList Prepend(const OptList& from, OptList into) {
  for (const cfg::Option* o : from) {
    if (!Has(into, o->name)) into.insert(into.begin(), o);
  }
  return into;
}

struct Plan {
  std::vector<std::string> stage_setup;    // new-resource, new-minor
  std::vector<std::string> stage_attach;   // drbdmeta apply-al, attach
  std::vector<std::string> stage_connect;  // connect
  std::vector<std::string> plain;          // everything else, in order
};

constexpr const char* kSetup = "drbdsetup-84";
constexpr const char* kMeta = "drbdmeta";

std::string Address(const cfg::Address& a) {
  std::string af = a.af.empty() ? "ipv4" : a.af;
  std::string host = af == "ipv6" ? "[" + a.addr + "]" : a.addr;
  return ShellEscape(af + ":" + host + ":" + a.port);
}

class Planner {
 public:
  Planner(const cfg::Config& config, const std::string& module_version, std::ostream& err)
      : config_(config), module_version_(module_version), err_(err) {}

  // Checks that DRBD 8.4 can run `res` (as parsed, before post-processing
  // adds implicit connections and node ids); prints one line and returns
  // false otherwise.
  bool Check(const cfg::Resource& res) {
    const bool is_common = config_.common && &res == &*config_.common;
    int at_line = res.start_line;
    auto refuse = [&](const std::string& what, const std::string& instead) {
      err_ << "drbdadm: ";
      if (!res.config_file.empty() && at_line > 0) {
        err_ << res.config_file << ":" << at_line << ": ";
      }
      err_ << (is_common ? std::string("common section") : "resource " + res.name) << ": " << what
           << " needs DRBD 9, but the loaded DRBD module is " << module_version_ << "; " << instead
           << "\n";
      return false;
    };
    for (const cfg::HostInfo& h : res.all_hosts) {
      if (h.node_id) {
        at_line = h.config_line;
        return refuse("'node-id'", "remove the node-id lines or install the DRBD 9 kernel module");
      }
    }
    if (!res.meshes.empty()) {
      at_line = res.meshes.front().config_line;
      return refuse("'connection-mesh'",
                    "write one resource per peer or install the DRBD 9 kernel module");
    }
    for (const cfg::Connection& c : res.connections) {
      if (c.implicit) continue;
      at_line = c.config_line;
      return refuse("a 'connection' section",
                    "give each host its address in its 'on' section or install the DRBD 9 "
                    "kernel module");
    }
    size_t hosts = 0;
    for (const cfg::HostInfo& h : res.all_hosts) {
      if (!h.implicit) ++hosts;
    }
    if (hosts > 2) {
      at_line = res.start_line;
      return refuse("more than one peer",
                    "DRBD 8.4 replicates to one peer: split the resource or install the "
                    "DRBD 9 kernel module");
    }
    auto check_opts = [&](const cfg::Options& l) -> bool {
      for (const cfg::Option& o : l) {
        if (o.inherited) continue;
        if (!ContextOf(o.name)) {
          at_line = o.line;
          return refuse("option '" + o.name + "'",
                        "remove it from the configuration or install the DRBD 9 kernel module");
        }
      }
      return true;
    };
    if (!check_opts(res.net_options) || !check_opts(res.disk_options) ||
        !check_opts(res.pd_options) || !check_opts(res.res_options)) {
      return false;
    }
    for (const cfg::Connection& c : res.connections) {
      if (!check_opts(c.net_options) || !check_opts(c.pd_options)) return false;
    }
    for (const cfg::HostInfo& h : res.all_hosts) {
      for (const cfg::Volume& v : h.volumes) {
        if (!check_opts(v.disk_options) || !check_opts(v.pd_options)) return false;
      }
    }
    for (const cfg::Volume& v : res.volumes) {
      if (!check_opts(v.disk_options) || !check_opts(v.pd_options)) return false;
    }
    return true;
  }

  // The resource's options of one context, as drbdadm-84 orders them at
  // resource level: common's missing ones prepended to those written.
  OptList ResourceLevel(const cfg::Resource& res, Ctx84 ctx) const {
    OptList own;
    if (ctx == Ctx84::kNet) {
      std::vector<const cfg::Options*> lists = {&res.net_options};
      for (const cfg::Connection& c : res.connections) lists.push_back(&c.net_options);
      own = Written(lists, ctx);
    } else if (ctx == Ctx84::kDisk) {
      // v9 keeps fencing with the net options; 8.4 with the disk options.
      std::vector<const cfg::Options*> lists = {&res.disk_options, &res.pd_options,
                                                &res.net_options};
      for (const cfg::Connection& c : res.connections) lists.push_back(&c.net_options);
      own = Written(lists, ctx);
    } else {
      own = Written({&res.res_options}, ctx);
    }
    if (!config_.common) return own;
    const cfg::Resource& c = *config_.common;
    OptList common = ctx == Ctx84::kNet ? Written({&c.net_options}, ctx)
                     : ctx == Ctx84::kDisk
                         ? Written({&c.disk_options, &c.pd_options, &c.net_options}, ctx)
                         : Written({&c.res_options}, ctx);
    return Prepend(common, own);
  }

  // " --name=value" for each option; resync-after names a resource (or
  // resource/volume) and is given as that volume's minor.
  std::string Render(const OptList& opts) const {
    std::string s;
    for (const cfg::Option* o : opts) {
      s += " --" + o->name;
      if (!o->has_value) continue;
      std::string value = o->value;
      if (o->name == "resync-after") value = ResyncAfterMinor(value);
      s += "=" + ShellEscape(value);
    }
    return s;
  }

  std::string ResyncAfterMinor(const std::string& v) const {
    if (!v.empty() &&
        std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      return v;
    }
    std::string name = v;
    int vnr = 0;
    if (size_t slash = v.find('/'); slash != std::string::npos) {
      name = v.substr(0, slash);
      vnr = std::atoi(v.c_str() + slash + 1);
    }
    for (const cfg::Resource& r : config_.resources) {
      if (r.name != name || !r.me) continue;
      if (const cfg::Volume* vol = cfg::FindVolume(r.me->volumes, vnr)) {
        return std::to_string(vol->device_minor);
      }
    }
    return v;
  }

  // The backing disk; post-processing turns `disk none` into no disk, which
  // drbdadm-84 still passes as "none" (with meta-disk internal).
  static std::string Disk(const cfg::Volume& v) { return v.disk.value_or("none"); }

  // "META-DEV INDEX"; drbdmeta calls a flexible external index
  // "flex-external", drbdsetup "flexible".
  static std::string MetaArgs(const cfg::Volume& v, bool for_drbdmeta) {
    std::string idx = v.meta_index.value_or("internal");
    std::string dev = idx == "internal" ? Disk(v) : v.meta_disk.value_or("none");
    if (idx == "flexible" && for_drbdmeta) idx = "flex-external";
    return ShellEscape(dev) + " " + idx;
  }

  // The volumes a command works on: the one named (`r0/1`, `minor-11`) or
  // all of this host's.
  std::vector<std::reference_wrapper<const cfg::Volume>> Vols(const cfg::Resource& res) const {
    std::vector<std::reference_wrapper<const cfg::Volume>> out;
    for (const cfg::Volume& v : res.me->volumes) {
      if (only_ == nullptr || only_ == &v) out.emplace_back(v);
    }
    return out;
  }
  void SetVolume(const cfg::Volume* only) { only_ = only; }

  void Setup(const cfg::Resource& res, Plan& p) const {
    p.stage_setup.push_back(std::string(kSetup) + " new-resource " + ShellEscape(res.name) +
                            Render(ResourceLevel(res, Ctx84::kResource)));
    for (const cfg::Volume& v : Vols(res)) {
      p.stage_setup.push_back(std::string(kSetup) + " new-minor " + ShellEscape(res.name) + " " +
                              std::to_string(v.device_minor) + " " + std::to_string(v.vnr));
    }
  }

  void Attach(const cfg::Resource& res, std::vector<std::string>& lines) const {
    OptList res_disk = ResourceLevel(res, Ctx84::kDisk);
    for (const cfg::Volume& v : Vols(res)) {
      // drbdadm-84 moves the options of a resource-level `volume N { }` into
      // the host's volume by prepending, then prepends what is missing from
      // the resource level (as measured against drbdadm-84).
      OptList opts = Written({&v.disk_options, &v.pd_options}, Ctx84::kDisk);
      const cfg::Volume* rv = cfg::FindVolume(res.volumes, v.vnr);
      if (rv != nullptr && !rv->implicit) {
        OptList rv_own = Written({&rv->disk_options, &rv->pd_options}, Ctx84::kDisk);
        OptList res_rest;
        for (const cfg::Option* o : res_disk) {
          if (!Has(rv_own, o->name)) res_rest.push_back(o);
        }
        opts = Prepend(rv_own, Prepend(res_rest, opts));
      } else {
        opts = Prepend(res_disk, opts);
      }
      std::string minor = std::to_string(v.device_minor);
      lines.push_back(std::string(kMeta) + " " + minor + " v08 " + MetaArgs(v, true) + " apply-al");
      lines.push_back(std::string(kSetup) + " attach " + minor + " " + ShellEscape(Disk(v)) + " " +
                      MetaArgs(v, false) + Render(opts));
    }
  }

  const cfg::HostInfo* Peer(const cfg::Resource& res) const {
    for (const cfg::HostInfo& h : res.all_hosts) {
      if (&h != res.me && !h.on_hosts.empty()) return &h;
    }
    return nullptr;
  }

  std::string Addresses(const cfg::Resource& res) const {
    const cfg::HostInfo* peer = Peer(res);
    std::string s = Address(res.me->address);
    // Through DRBD Proxy the peer is this host's proxy, at its inside address.
    if (res.me->proxy_compat_only) {
      s += " " + Address(res.me->proxy_compat_only->inside);
    } else if (peer) {
      s += " " + Address(peer->address);
    }
    return s;
  }

  void Connect(const cfg::Resource& res, std::vector<std::string>& lines) const {
    if (!Peer(res)) return;
    lines.push_back(std::string(kSetup) + " connect " + ShellEscape(res.name) + " " +
                    Addresses(res) + Render(ResourceLevel(res, Ctx84::kNet)));
  }

  void PerMinor(const cfg::Resource& res, const char* verb, std::vector<std::string>& lines) const {
    for (const cfg::Volume& v : Vols(res)) {
      lines.push_back(std::string(kSetup) + " " + verb + " " + std::to_string(v.device_minor));
    }
  }

  void Verb(const cfg::Resource& res, std::string_view verb, Plan& p) const {
    if (verb == "up") {
      Setup(res, p);
      Attach(res, p.stage_attach);
      Connect(res, p.stage_connect);
    } else if (verb == "attach") {
      Attach(res, p.plain);
    } else if (verb == "connect") {
      Connect(res, p.plain);
    } else if (verb == "down") {
      p.plain.push_back(std::string(kSetup) + " down " + ShellEscape(res.name));
    } else if (verb == "disconnect") {
      if (Peer(res)) p.plain.push_back(std::string(kSetup) + " disconnect " + Addresses(res));
    } else if (verb == "primary" || verb == "secondary") {
      PerMinor(res, verb == "primary" ? "primary" : "secondary", p.plain);
    } else if (verb == "detach") {
      PerMinor(res, "detach", p.plain);
    } else if (verb == "resize") {
      for (const cfg::Volume& v : Vols(res)) {
        std::string minor = std::to_string(v.device_minor);
        p.plain.push_back(std::string(kSetup) + " resize " + minor);
        p.plain.push_back(std::string(kSetup) + " check-resize " + minor);
      }
    } else if (verb == "create-md") {
      for (const cfg::Volume& v : Vols(res)) {
        p.plain.push_back(std::string(kMeta) + " " + std::to_string(v.device_minor) + " v08 " +
                          MetaArgs(v, true) + " create-md");
      }
    }
  }

 private:
  const cfg::Config& config_;
  const cfg::Volume* only_ = nullptr;  // SetVolume()
  const std::string& module_version_;
  std::ostream& err_;
};

constexpr std::array<std::string_view, 10> kVerbs = {"up",         "down",   "primary", "secondary",
                                                     "create-md",  "attach", "detach",  "connect",
                                                     "disconnect", "resize"};

}  // namespace

int CheckConfig84(const cfg::Config& config, const std::string& module_version, std::ostream& err) {
  Planner planner(config, module_version, err);
  if (config.common && !planner.Check(*config.common)) return 10;
  for (const cfg::Resource& r : config.resources) {
    if (!planner.Check(r)) return 10;
  }
  // drbdadm-84 gives every address one user across all resources (a
  // loopback address: per host name); DRBD 9's drbdadm checks per
  // connection only.
  struct User {
    const cfg::Resource* res;
    const cfg::HostInfo* host;
  };
  std::map<std::string, User> users;
  for (const cfg::Resource& r : config.resources) {
    for (const cfg::HostInfo& h : r.all_hosts) {
      if (h.implicit || h.address.addr.empty()) continue;
      const std::string& a = h.address.addr;
      const bool local = a.rfind("127.", 0) == 0 || a == "::1";
      std::vector<std::string> keys;
      if (local) {
        for (const std::string& n : h.on_hosts) {
          std::string key = n;
          key.append(":").append(a).append(":").append(h.address.port);
          keys.push_back(std::move(key));
        }
      } else {
        keys.push_back(a + ":" + h.address.port);
      }
      for (const std::string& k : keys) {
        auto [it, fresh] = users.emplace(k, User{&r, &h});
        if (fresh) continue;
        err << "drbdadm: " << r.config_file << ":" << h.config_line << ": resource " << r.name
            << ": address " << a << ":" << h.address.port << " is also used by resource "
            << it->second.res->name << " (" << it->second.res->config_file << ":"
            << it->second.host->config_line
            << "); DRBD 8.4 needs a distinct address:port for each resource\n";
        return 10;
      }
    }
  }
  return 0;
}

bool IsPlan84Verb(std::string_view verb) {
  return std::find(kVerbs.begin(), kVerbs.end(), verb) != kVerbs.end();
}

int Plan84(const cfg::Config& config, std::string_view verb, const std::vector<std::string>& names,
           const std::vector<std::string>& backend_options, const std::string& module_version,
           std::ostream& out, std::ostream& err) {
  Planner planner(config, module_version, err);
  std::vector<std::pair<const cfg::Resource*, const cfg::Volume*>> selected;
  bool all = names.empty() || (names.size() == 1 && names[0] == "all");
  if (all) {
    for (const cfg::Resource& r : config.resources) {
      if (!r.ignore && !r.stacked && r.me) selected.emplace_back(&r, nullptr);
    }
  } else {
    for (const std::string& n : names) {
      // NAME, NAME/VNR or minor-MINOR
      const cfg::Resource* found = nullptr;
      const cfg::Volume* vol = nullptr;
      std::string res_name = n;
      int vnr = -1, minor = -1;
      if (n.rfind("minor-", 0) == 0) {
        minor = std::atoi(n.c_str() + 6);
        res_name.clear();
      } else if (size_t slash = n.find('/'); slash != std::string::npos) {
        res_name = n.substr(0, slash);
        vnr = std::atoi(n.c_str() + slash + 1);
      }
      for (const cfg::Resource& r : config.resources) {
        if (!r.me || r.ignore) continue;
        if (minor >= 0) {
          for (const cfg::Volume& v : r.me->volumes) {
            if (v.device_minor == minor) found = &r, vol = &v;
          }
        } else if (r.name == res_name) {
          found = &r;
          if (vnr >= 0) vol = cfg::FindVolume(r.me->volumes, vnr);
        }
      }
      if (!found || (vnr >= 0 && !vol)) {
        err << "'" << n << "' not defined in your config (for this host).\n";
        return 1;
      }
      if (vol && vol->implicit)
        vol = nullptr;  // the one volume of a resource without volume sections
      if (vol && (verb == "down" || verb == "connect" || verb == "disconnect")) {
        err << verb << " operates on whole resources, but you specified a specific volume!\n";
        return 1;
      }
      selected.emplace_back(found, vol);
    }
  }
  Plan p;
  for (const auto& [r, vol] : selected) {
    planner.SetVolume(vol);
    planner.Verb(*r, verb, p);
  }
  // Options for the backend (`primary --force`, `attach --size=10G`) end
  // every line the verb runs, drbdmeta's included; check-resize takes none.
  if (verb != "up") {
    for (std::string& line : p.plain) {
      if (line.find(" check-resize ") != std::string::npos) continue;
      for (const std::string& o : backend_options) line += " " + o;
    }
  }
  for (const auto* stage : {&p.stage_setup, &p.stage_attach, &p.stage_connect, &p.plain}) {
    for (const std::string& line : *stage) out << line << "\n";
  }
  return 0;
}

}  // namespace drbd::adm
