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
#include <sstream>
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


constexpr const char* kSetup = "drbdsetup-84";
constexpr const char* kMeta = "drbdmeta";

// An address as drbdsetup-84 takes it: "ipv4:10.0.0.1:7788".
std::string Address(const cfg::Address& a) {
  std::string af = a.af.empty() ? "ipv4" : a.af;
  std::string host = af == "ipv6" ? "[" + a.addr + "]" : a.addr;
  return af + ":" + host + ":" + a.port;
}

using Argv = std::vector<std::string>;

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

  // "--name=value" for each option; resync-after names a resource (or
  // resource/volume) and is given as that volume's minor.
  void Render(const OptList& opts, Argv& argv) const {
    for (const cfg::Option* o : opts) {
      std::string s = "--" + o->name;
      if (o->has_value) {
        s += "=";
        s += o->name == "resync-after" ? ResyncAfterMinor(o->value) : o->value;
      }
      argv.push_back(std::move(s));
    }
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

  // META-DEV INDEX; drbdmeta calls a flexible external index
  // "flex-external", drbdsetup "flexible".
  static void MetaArgs(const cfg::Volume& v, bool for_drbdmeta, Argv& argv) {
    std::string idx = v.meta_index.value_or("internal");
    std::string dev = idx == "internal" ? Disk(v) : v.meta_disk.value_or("none");
    if (idx == "flexible" && for_drbdmeta) idx = "flex-external";
    argv.push_back(std::move(dev));
    argv.push_back(std::move(idx));
  }

  // `drbdmeta MINOR v08 META-DEV INDEX verb`.
  static Call84 Meta(const cfg::Volume& v, const std::string& verb) {
    Call84 c{{kMeta, std::to_string(v.device_minor), "v08"}, kSleepsVeryLong};
    MetaArgs(v, true, c.argv);
    c.argv.push_back(verb);
    return c;
  }

  // `drbdsetup-84 verb OBJECT`.
  static Call84 Setup(const std::string& verb, const std::string& object, int flags) {
    return Call84{{kSetup, verb, object}, flags};
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

  Unit84 NewUnit(const cfg::Resource& res, std::string verb, Stage84 stage,
                 Unit84Kind kind = Unit84Kind::kSequence) const {
    Unit84 u;
    u.res = &res;
    u.verb = std::move(verb);
    u.stage = stage;
    u.kind = kind;
    return u;
  }

  Unit84 NewResource(const cfg::Resource& res, bool set_defaults) const {
    Unit84 u = NewUnit(res, set_defaults ? "resource-options" : "new-resource",
                       set_defaults ? Stage84::kResource : Stage84::kPrereq);
    Call84 c = Setup(u.verb, res.name, kSleepsShort);
    if (set_defaults) c.argv.emplace_back("--set-defaults");
    Render(ResourceLevel(res, Ctx84::kResource), c.argv);
    u.calls.push_back(std::move(c));
    return u;
  }

  Unit84 NewMinor(const cfg::Resource& res, const cfg::Volume& v, Stage84 stage) const {
    Unit84 u = NewUnit(res, "new-minor", stage);
    u.calls.push_back(Call84{
        {kSetup, "new-minor", res.name, std::to_string(v.device_minor), std::to_string(v.vnr)},
        kSleepsShort});
    return u;
  }

  // The disk options of a volume in drbdadm-84's order.
  OptList DiskOpts(const cfg::Resource& res, const cfg::Volume& v) const {
    OptList res_disk = ResourceLevel(res, Ctx84::kDisk);
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
      return Prepend(rv_own, Prepend(res_rest, opts));
    }
    return Prepend(res_disk, opts);
  }

  Unit84 Attach(const cfg::Resource& res, const cfg::Volume& v, Stage84 stage) const {
    Unit84 u = NewUnit(res, "attach", stage);
    u.calls.push_back(Meta(v, "apply-al"));
    Call84 c{{kSetup, "attach", std::to_string(v.device_minor), Disk(v)}, kSleepsLong};
    MetaArgs(v, false, c.argv);
    Render(DiskOpts(res, v), c.argv);
    u.calls.push_back(std::move(c));
    return u;
  }

  // adjust: disk-options --set-defaults with the configured options but
  // those only attach sets (size, max-bio-bvecs).
  Unit84 DiskDefaults(const cfg::Resource& res, const cfg::Volume& v) const {
    Unit84 u = NewUnit(res, "disk-options", Stage84::kDisk);
    Call84 c = Setup("disk-options", std::to_string(v.device_minor), kSleepsLong);
    c.argv.emplace_back("--set-defaults");
    OptList opts;
    for (const cfg::Option* o : DiskOpts(res, v)) {
      if (o->name != "size" && o->name != "max-bio-bvecs") opts.push_back(o);
    }
    Render(opts, c.argv);
    u.calls.push_back(std::move(c));
    return u;
  }

  Unit84 Resize(const cfg::Resource& res, const cfg::Volume& v, Stage84 stage) const {
    Unit84 u = NewUnit(res, "resize", stage, Unit84Kind::kResize);
    std::string minor = std::to_string(v.device_minor);
    Call84 c = Setup("resize", minor, kSleepsShort);
    const cfg::Option* size = nullptr;
    for (const cfg::Option& o : v.disk_options) {
      if (o.name == "size") size = &o;
    }
    if (size != nullptr) c.argv.push_back("--size=" + size->value);
    u.calls.push_back(std::move(c));
    u.calls.push_back(Setup("check-resize", minor, kSleepsShort));
    return u;
  }

  const cfg::HostInfo* Peer(const cfg::Resource& res) const {
    for (const cfg::HostInfo& h : res.all_hosts) {
      if (&h != res.me && !h.on_hosts.empty()) return &h;
    }
    return nullptr;
  }

  void Addresses(const cfg::Resource& res, Argv& argv) const {
    const cfg::HostInfo* peer = Peer(res);
    argv.push_back(Address(res.me->address));
    // Through DRBD Proxy the peer is this host's proxy, at its inside address.
    if (res.me->proxy_compat_only) {
      argv.push_back(Address(res.me->proxy_compat_only->inside));
    } else if (peer) {
      argv.push_back(Address(peer->address));
    }
  }

  // connect (stage kNow or kNet), or adjust's net-options --set-defaults.
  std::optional<Unit84> Connect(const cfg::Resource& res, Stage84 stage, bool set_defaults) const {
    if (!Peer(res)) return std::nullopt;
    const char* verb = set_defaults ? "net-options" : "connect";
    Unit84 u = NewUnit(res, verb, stage);
    Call84 c{{kSetup, verb}, kSleepsShort};
    if (!set_defaults) c.argv.push_back(res.name);
    Addresses(res, c.argv);
    if (set_defaults) c.argv.emplace_back("--set-defaults");
    Render(ResourceLevel(res, Ctx84::kNet), c.argv);
    u.calls.push_back(std::move(c));
    return u;
  }

  // `disconnect LOCAL PEER` of a resource (running or configured).
  std::optional<Unit84> Disconnect(const cfg::Resource& res, Stage84 stage) const {
    if (!res.me || !Peer(res)) return std::nullopt;
    Unit84 u = NewUnit(res, "disconnect", stage);
    Call84 c{{kSetup, "disconnect"}, kSleepsShort};
    Addresses(res, c.argv);
    u.calls.push_back(std::move(c));
    return u;
  }

  void PerMinor(const cfg::Resource& res, std::string_view verb, int flags, Unit84Kind kind,
                std::vector<Unit84>& units) const {
    for (const cfg::Volume& v : Vols(res)) {
      Unit84 u = NewUnit(res, std::string(verb), Stage84::kNow, kind);
      u.calls.push_back(Setup(std::string(verb), std::to_string(v.device_minor), flags));
      if (kind == Unit84Kind::kFallback || kind == Unit84Kind::kOutdate) {
        u.calls.push_back(Meta(v, std::string(verb)));
      }
      units.push_back(std::move(u));
    }
  }

  void Verb(const cfg::Resource& res, std::string_view verb, std::vector<Unit84>& units) const {
    auto add = [&](std::optional<Unit84> u) {
      if (u) units.push_back(std::move(*u));
    };
    if (verb == "up") {
      units.push_back(NewResource(res, false));
      for (const cfg::Volume& v : Vols(res)) {
        units.push_back(NewMinor(res, v, Stage84::kPrereq));
        units.push_back(Attach(res, v, Stage84::kDisk));
      }
      add(Connect(res, Stage84::kNet, false));
    } else if (verb == "attach") {
      for (const cfg::Volume& v : Vols(res)) units.push_back(Attach(res, v, Stage84::kNow));
    } else if (verb == "connect") {
      add(Connect(res, Stage84::kNow, false));
    } else if (verb == "down") {
      Unit84 u = NewUnit(res, "down", Stage84::kNow);
      u.calls.push_back(Setup("down", res.name, kSleepsLong));
      units.push_back(std::move(u));
    } else if (verb == "disconnect") {
      add(Disconnect(res, Stage84::kNow));
    } else if (verb == "primary" || verb == "secondary" || verb == "detach") {
      PerMinor(res, verb, kSleepsLong, Unit84Kind::kSequence, units);
    } else if (verb == "invalidate" || verb == "dstate" || verb == "show-gi" || verb == "get-gi") {
      PerMinor(res, verb, kSleepsShort, Unit84Kind::kFallback, units);
    } else if (verb == "outdate") {
      PerMinor(res, verb, kSleepsShort | kSuppressStderr, Unit84Kind::kOutdate, units);
    } else if (verb == "invalidate-remote" || verb == "verify" || verb == "pause-sync" ||
               verb == "resume-sync" || verb == "suspend-io" || verb == "resume-io" ||
               verb == "new-current-uuid" || verb == "role" || verb == "cstate" ||
               verb == "disk-options") {
      PerMinor(res, verb, kSleepsShort, Unit84Kind::kSequence, units);
    } else if (verb == "status") {
      Unit84 u = NewUnit(res, "status", Stage84::kNow);
      u.calls.push_back(Setup("status", res.name, kSleepsShort));
      units.push_back(std::move(u));
    } else if (verb == "wait-connect" || verb == "wait-sync") {
      // wait-sync: not a drbdadm-84 verb; drbd-cp's drbdadm has it for
      // every module and passes it per minor like wait-connect.
      for (const cfg::Volume& v : Vols(res)) {
        Unit84 u = NewUnit(res, std::string(verb), Stage84::kNow);
        Call84 c = Setup(std::string(verb), std::to_string(v.device_minor), kSleepsForever);
        for (const cfg::Option& o : res.startup_options) {
          c.argv.push_back("--" + o.name + (o.has_value ? "=" + o.value : ""));
        }
        u.calls.push_back(std::move(c));
        units.push_back(std::move(u));
      }
    } else if (verb == "net-options") {
      if (!Peer(res)) return;
      Unit84 u = NewUnit(res, "net-options", Stage84::kNow);
      Call84 c{{kSetup, "net-options"}, kSleepsShort};
      Addresses(res, c.argv);
      u.calls.push_back(std::move(c));
      units.push_back(std::move(u));
    } else if (verb == "resource-options") {
      Unit84 u = NewUnit(res, "resource-options", Stage84::kNow);
      u.calls.push_back(Setup("resource-options", res.name, kSleepsShort));
      units.push_back(std::move(u));
    } else if (verb == "apply-al" || verb == "dump-md" || verb == "create-md") {
      for (const cfg::Volume& v : Vols(res)) {
        Unit84 u = NewUnit(res, std::string(verb), Stage84::kNow);
        u.calls.push_back(Meta(v, std::string(verb)));
        units.push_back(std::move(u));
      }
    } else if (verb == "resize") {
      for (const cfg::Volume& v : Vols(res)) units.push_back(Resize(res, v, Stage84::kNow));
    }
  }

  // drbdadm-84 adm_adjust's scheduling for what `a` says must change.
  void Adjust(const cfg::Resource& res, const Adjust84& a, std::vector<Unit84>& units) const {
    if (a.new_resource) units.push_back(NewResource(res, false));
    if (a.res_options) units.push_back(NewResource(res, true));
    for (const Adjust84::Vol& v : a.vols) {
      const cfg::Volume* kern = v.running ? v.running : v.conf;
      if (v.detach && kern) {
        Unit84 u = NewUnit(res, "detach", Stage84::kPrereq);
        u.calls.push_back(Setup("detach", std::to_string(kern->device_minor), kSleepsShort));
        units.push_back(std::move(u));
      }
      if (v.del_minor && kern) {
        Unit84 u = NewUnit(res, "del-minor", Stage84::kPrereq);
        u.calls.push_back(Setup("del-minor", std::to_string(kern->device_minor), kSleepsShort));
        units.push_back(std::move(u));
      }
      if (!v.conf) continue;
      if (v.new_minor) units.push_back(NewMinor(res, *v.conf, Stage84::kDiskPrereq));
      if (v.attach) units.push_back(Attach(res, *v.conf, Stage84::kDisk));
      if (v.disk_options) units.push_back(DiskDefaults(res, *v.conf));
      if (v.resize) units.push_back(Resize(res, *v.conf, Stage84::kDisk));
    }
    if (a.connect) {
      if (a.disconnect && a.running) {
        std::optional<Unit84> d = Disconnect(*a.running, Stage84::kNetPrereq);
        if (d) {
          d->res = &res;
          units.push_back(std::move(*d));
        }
      }
      std::optional<Unit84> c = Connect(res, Stage84::kNet, false);
      if (c) units.push_back(std::move(*c));
    } else if (a.net_options) {
      std::optional<Unit84> c = Connect(res, Stage84::kNet, true);
      if (c) units.push_back(std::move(*c));
    }
  }

 private:
  const cfg::Config& config_;
  const cfg::Volume* only_ = nullptr;  // SetVolume()
  const std::string& module_version_;
  std::ostream& err_;
};

constexpr std::array<std::string_view, 33> kVerbs = {"status", "wait-sync",
    "up",          "down",          "adjust",      "primary",      "secondary",
    "create-md",   "attach",        "detach",      "connect",      "disconnect",
    "resize",      "invalidate",    "invalidate-remote", "verify", "pause-sync",
    "resume-sync", "suspend-io",    "resume-io",   "new-current-uuid", "outdate",
    "role",        "cstate",        "dstate",      "show-gi",      "get-gi",
    "apply-al",    "dump-md",       "wait-connect", "disk-options", "net-options",
    "resource-options"};

// Verbs on whole resources: naming a volume is an error.
bool WholeResourceVerb(std::string_view verb) {
  return verb == "down" || verb == "connect" || verb == "disconnect" || verb == "adjust" ||
         verb == "net-options" || verb == "resource-options";
}

}  // namespace

cfg::Options ConfiguredOptions84(const cfg::Config& config, const cfg::Resource& res,
                                 const cfg::Volume* vol, OptKind84 kind) {
  std::ostringstream sink;
  const std::string no_version;
  Planner planner(config, no_version, sink);
  OptList list = kind == OptKind84::kResource ? planner.ResourceLevel(res, Ctx84::kResource)
                 : kind == OptKind84::kNet    ? planner.ResourceLevel(res, Ctx84::kNet)
                 : vol != nullptr             ? planner.DiskOpts(res, *vol)
                                              : planner.ResourceLevel(res, Ctx84::kDisk);
  cfg::Options out;
  for (const cfg::Option* o : list) {
    cfg::Option copy = *o;
    if (o->name == "resync-after") copy.value = planner.ResyncAfterMinor(o->value);
    out.push_back(std::move(copy));
  }
  return out;
}

std::string Render84(const Call84& call) {
  std::string line;
  for (const std::string& a : call.argv) {
    if (!line.empty()) line += ' ';
    AppendShellEscaped(line, a);
  }
  return line;
}

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

int Units84(const cfg::Config& config, std::string_view verb, const std::vector<std::string>& names,
            const std::vector<std::string>& backend_options, const std::string& module_version,
            const Compare84* compare, std::vector<Unit84>* units, std::ostream& err) {
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
      if (vol && WholeResourceVerb(verb)) {
        err << verb << " operates on whole resources, but you specified a specific volume!\n";
        return 1;
      }
      selected.emplace_back(found, vol);
    }
  }
  std::vector<Unit84> out;
  for (const auto& [r, vol] : selected) {
    planner.SetVolume(vol);
    if (verb == "adjust") {
      Adjust84 what;
      if (compare == nullptr || !(*compare)(*r, what)) return 10;
      planner.Adjust(*r, what, out);
    } else {
      planner.Verb(*r, verb, out);
    }
  }
  // Options for the backend (`primary --force`, `attach --size=10G`) end
  // every call of the verb, drbdmeta's included; check-resize takes none.
  if (verb != "up" && verb != "adjust") {
    for (Unit84& u : out) {
      for (Call84& c : u.calls) {
        if (c.argv.size() > 1 && c.argv[1] == "check-resize") continue;
        c.argv.insert(c.argv.end(), backend_options.begin(), backend_options.end());
      }
    }
  }
  // drbdadm-84 runs what it does at once first, then the deferred stages.
  std::stable_sort(out.begin(), out.end(), [](const Unit84& a, const Unit84& b) {
    return static_cast<int>(a.stage) < static_cast<int>(b.stage);
  });
  *units = std::move(out);
  return 0;
}

int Plan84(const cfg::Config& config, std::string_view verb, const std::vector<std::string>& names,
           const std::vector<std::string>& backend_options, const std::string& module_version,
           std::ostream& out, std::ostream& err) {
  std::vector<Unit84> units;
  if (int rc = Units84(config, verb, names, backend_options, module_version, nullptr, &units, err))
    return rc;
  for (const Unit84& u : units) {
    for (const Call84& c : u.calls) out << Render84(c) << "\n";
  }
  return 0;
}

}  // namespace drbd::adm
