// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm's own path for a DRBD 8.4 module (see live84.h and docs/compat.md
// "DRBD 8.4 modules"): adjust's comparison, the unit runner and sh-status.
#include "drbdadm/live84.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "drbdadm/adjust.h"
#include "drbdadm/commands.h"
#include "drbdadm/runner.h"
#include "drbdsetup/options84.h"
#include "lib/config/options.h"

namespace drbd::adm {
namespace {

// A bare flag in a configuration (`allow-two-primaries;`) means "yes".
std::string ValueOf(const cfg::Option& o) { return o.has_value ? o.value : "yes"; }

// The DRBD 9 option row that knows how to compare `name` (units, scales,
// defaults): 8.4's options are a subset under the same names.
const cfg::OptionDef* RowOf(std::string_view name) {
  for (cfg::OptContext c :
       {cfg::OptContext::kDiskOptions, cfg::OptContext::kPeerDeviceOptions,
        cfg::OptContext::kNetOptions, cfg::OptContext::kResourceOptions,
        cfg::OptContext::kAttach}) {
    if (const cfg::OptionDef* d = cfg::FindField(cfg::Context(c), name)) return d;
  }
  return nullptr;
}

// drbdadm-84 opts_equal(): each option set on either side equals the other
// side's value, or the default when the other side lacks it. Options named
// in `skip` are left out (attach-only ones).
bool OptionSetsEqual(const cfg::Options& conf, const cfg::Options& running,
                     std::initializer_list<std::string_view> skip) {
  std::set<std::string> names;
  for (const cfg::Option& o : conf) names.insert(o.name);
  for (const cfg::Option& o : running) names.insert(o.name);
  for (const std::string& name : names) {
    if (std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
    const cfg::Option* c = cfg::FindOption(conf, name);
    const cfg::Option* r = cfg::FindOption(running, name);
    if (r != nullptr && r->unknown) continue;
    const cfg::OptionDef* row = RowOf(name);
    bool eq;
    if (c != nullptr && r != nullptr) {
      eq = row != nullptr ? cfg::IsEqual(*row, ValueOf(*c), ValueOf(*r))
                          : ValueOf(*c) == ValueOf(*r);
    } else {
      const cfg::Option* only = c != nullptr ? c : r;
      eq = row != nullptr && cfg::IsDefault(*row, ValueOf(*only));
    }
    if (!eq) return false;
  }
  return true;
}

// The running resource's host entries as `drbdsetup show` names them.
const cfg::HostInfo* RunningHost(const cfg::Resource& running, std::string_view which) {
  for (const cfg::HostInfo& h : running.all_hosts) {
    if (!h.on_hosts.empty() && h.on_hosts.front() == which) return &h;
  }
  return nullptr;
}

const cfg::HostInfo* ConfPeer(const cfg::Resource& res) {
  for (const cfg::HostInfo& h : res.all_hosts) {
    if (&h != res.me && !h.on_hosts.empty() && !h.implicit) return &h;
  }
  return nullptr;
}

bool SameAddress(const cfg::Address& a, const cfg::Address& b) {
  auto af = [](const cfg::Address& x) { return x.af.empty() ? std::string("ipv4") : x.af; };
  return af(a) == af(b) && a.addr == b.addr && a.port == b.port;
}

// Every option of `lists`, first occurrence of a name wins.
cfg::Options Union(std::initializer_list<const cfg::Options*> lists) {
  cfg::Options out;
  for (const cfg::Options* l : lists) {
    for (const cfg::Option& o : *l) {
      if (cfg::FindOption(out, o.name) == nullptr) out.push_back(o);
    }
  }
  return out;
}

bool DiskPlacementEqual(const cfg::Volume& conf, const cfg::Volume& kern) {
  std::string cdisk = conf.disk.value_or("none");
  std::string kdisk = kern.disk.value_or("none");
  if (cdisk != kdisk) return false;
  if (cdisk == "none") return true;
  std::string cidx = conf.meta_index.value_or("internal");
  std::string kidx = kern.meta_index.value_or("internal");
  if ((cidx == "internal") != (kidx == "internal")) return false;
  if (cidx == "internal") return true;
  return conf.meta_disk.value_or("") == kern.meta_disk.value_or("") && cidx == kidx;
}

// The running configuration of `conf` (`drbdsetup show RES`, or
// $FAKE_DRBDSETUP_SHOW); null when the module does not know it.
const cfg::Resource* Running(AdmState& st, const cfg::Resource& conf) {
  st.adjust_more_than_one_resource = false;
  RunningResByName(st, conf.name);
  for (const cfg::Resource& r : st.running_config.resources) {
    if (r.name == conf.name) return &r;
  }
  return nullptr;
}

// One call, with the programs this drbdadm runs in place of drbdadm-84's.
int RunCall(AdmState& st, const Call84& c, const cfg::Resource& res, int extra_flags = 0,
            std::string* captured_err = nullptr) {
  std::vector<std::string> argv = c.argv;
  argv[0] = argv[0] == "drbdmeta" ? st.drbdmeta : st.drbdsetup;
  setenv("DRBD_RESOURCE", res.name.c_str(), 1);
  if (captured_err != nullptr) return RunCommandCaptureStderr(st, argv, &res.name, captured_err);
  return RunCommand(st, argv, c.flags | extra_flags, &res.name);
}

// One unit, combined as its kind says (drbdadm-84's command functions).
int RunUnit(AdmState& st, const Unit84& u) {
  const cfg::Resource& res = *u.res;
  switch (u.kind) {
    case Unit84Kind::kSequence:
      for (const Call84& c : u.calls) {
        if (int rv = RunCall(st, c, res)) return rv;
      }
      return 0;
    case Unit84Kind::kFallback: {
      std::string held;
      int rv = RunCall(st, u.calls[0], res, 0, &held);
      // A state change refused (11) or no up-to-date disk (17): drbdmeta
      // would only say the device is configured.
      if (rv == 11 || rv == 17) {
        *st.err << held;
        return rv;
      }
      if (rv != 0 && u.calls.size() > 1) rv = RunCall(st, u.calls[1], res);
      return rv;
    }
    case Unit84Kind::kOutdate: {
      int rv = RunCall(st, u.calls[0], res);
      if (rv == 17) return rv;  // Primary: cannot be outdated
      if (rv == 5) return RunCall(st, u.calls[1], res) != 0 ? 5 : 0;  // maybe diskless
      if (rv != 0) rv = RunCall(st, u.calls[1], res);
      return rv;
    }
    case Unit84Kind::kResize: {
      if (int rv = RunCall(st, u.calls[0], res)) return rv;
      // Records the last-known backing size; its exit does not count.
      RunCall(st, u.calls[1], res, kSuppressStderr);
      return 0;
    }
  }
  return 0;
}

// drbdadm-84 sh-status: the configuration's view, then drbdsetup's per
// volume.
int ShStatus84(AdmState& st) {
  if (!st.dry_run) {
    *st.out << "_drbd_version=" << ShellEscape("9.22.0") << "\n_drbd_api=1\n";
    *st.out << "_config_file=" << ShellEscape(st.config.config_save) << "\n\n\n";
  }
  for (cfg::Resource& r : st.config.resources) {
    if (r.ignore || !r.me) continue;
    *st.out << "_conf_res_name=" << ShellEscape(r.name) << "\n";
    *st.out << "_conf_file_line=" << ShellEscape(r.config_file) << ":" << r.start_line << "\n\n";
    *st.out << "_stacked_on=\n_stacked_on_device=\n_stacked_on_minor=\n";
    for (const cfg::Volume& v : r.me->volumes) {
      *st.out << "_conf_volume=" << v.vnr << "\n";
      st.out->flush();
      Call84 c{{"drbdsetup-84", "sh-status", std::to_string(v.device_minor)}, kSleepsShort};
      c.argv.insert(c.argv.end(), st.backend_options.begin(), st.backend_options.end());
      if (st.dry_run) {
        *st.out << Render84(c) << "\n";
        continue;
      }
      if (int rv = RunCall(st, c, r)) return rv;
    }
  }
  return 0;
}

// drbdadm-84's verbs shown by `help`, in its table order.
constexpr std::string_view kUsageVerbs84[] = {
    "attach",     "status",        "disk-options", "detach",
    "connect",    "net-options",   "disconnect",   "up",
    "resource-options", "down",    "primary",      "secondary",
    "invalidate", "invalidate-remote", "outdate",  "resize",
    "verify",     "pause-sync",    "resume-sync",  "adjust",
    "adjust-with-progress", "wait-connect", "wait-con-int", "role",
    "cstate",     "dstate",        "dump",         "dump-xml",
    "create-md",  "show-gi",       "get-gi",       "dump-md",
    "wipe-md",    "apply-al",      "hidden-commands"};

// The drbdsetup-84 option contexts a drbdadm-84 verb lists in its help.
uint16_t HelpContexts84(std::string_view verb) {
  namespace o84 = setup::o84;
  if (verb == "attach") return o84::kAttachOnly | o84::kDisk;
  if (verb == "disk-options") return o84::kDisk;
  if (verb == "detach") return o84::kDetach;
  if (verb == "connect") return o84::kConnectOnly | o84::kNet;
  if (verb == "net-options") return o84::kNet;
  if (verb == "disconnect") return o84::kDisconnect;
  if (verb == "resource-options") return o84::kResource;
  if (verb == "primary") return o84::kPrimary;
  if (verb == "new-current-uuid") return o84::kNewCUuid;
  return 0;
}

}  // namespace

void PrintUsage84AndExit(AdmState& st, const AdmCmd* cmd, const char* addinfo, int status) {
  std::ostream& out = *st.out;
  out << "\nUSAGE: " << st.progname << " " << (cmd ? cmd->name : "COMMAND")
      << " [OPTION...] {all|RESOURCE...}\n\nGENERAL OPTIONS:\n";
  out << "  --stacked, -S\n  --dry-run, -d\n  --verbose, -v\n  --config-file=..., -c ...\n"
         "  --config-to-test=..., -t ...\n  --drbdsetup=..., -s ...\n  --drbdmeta=..., -m ...\n"
         "  --drbd-proxy-ctl=..., -p ...\n  --sh-varname=..., -n ...\n  --peer=..., -P ...\n"
         "  --version, -V\n  --setup-option=..., -W ...\n  --help, -h\n";
  if (const uint16_t ctx = cmd ? HelpContexts84(cmd->name) : 0) {
    out << "\nOPTIONS FOR " << cmd->name << ":\n";
    for (const setup::o84::Opt& o : setup::o84::All()) {
      if ((o.ctx & ctx) == 0) continue;
      const bool optional =
          o.kind == setup::o84::Kind::kFlag || o.kind == setup::o84::Kind::kBoolean;
      out << "  --" << o.name << (optional ? "[=...]" : "=...") << "\n";
    }
  }
  if (cmd == nullptr) {
    out << "\nCOMMANDS:\n";
    size_t j = 0;
    for (std::string_view v : kUsageVerbs84) {
      std::string cell(v);
      cell.resize(std::max<size_t>(cell.size(), 35), ' ');
      out << (j++ % 2 ? cell + "\n" : " " + cell);
    }
    if (j % 2) out << "\n";
  }
  out << "\nVersion: 9.22.0 (api:1)\nGIT-hash: 409097fe02187f83790b88ac3e0d94f3c167adab "
         "reproducible build, 2023-01-09 14:51:18\n";
  if (addinfo != nullptr) out << "\n" << addinfo << "\n";
  out.flush();
  throw AdmExit{status};
}

const AdmCmd* FindCommand84(std::string_view name) {
  // Run by RunVerb84, never through the command table.
  static const AdmCmd kShStatus = [] {
    AdmCmd c;
    c.name = "sh-status";
    c.fn = [](AdmState&, const CmdCtx&) { return 0; };
    c.show_in_usage = 2;
    return c;
  }();
  return name == kShStatus.name ? &kShStatus : nullptr;
}

bool IsLive84Verb(std::string_view verb) { return IsPlan84Verb(verb) || verb == "sh-status"; }

Adjust84 CompareRunning84(const AdmState& st, const cfg::Resource& conf,
                          const cfg::Resource* running) {
  Adjust84 a;
  a.running = running;
  const cfg::HostInfo* kern_me = running ? RunningHost(*running, "_this_host") : nullptr;
  if (running == nullptr || kern_me == nullptr) {
    a.new_resource = running == nullptr;
    a.connect = true;
    for (const cfg::Volume& v : conf.me->volumes) {
      Adjust84::Vol av;
      av.conf = &v;
      av.new_minor = av.attach = true;
      a.vols.push_back(av);
    }
    return a;
  }
  // Volumes by number: only running ones are deleted, only configured ones
  // created, the others compared.
  std::vector<const cfg::Volume*> kern;
  for (const cfg::Volume& v : kern_me->volumes) kern.push_back(&v);
  std::vector<const cfg::Volume*> mine;
  for (const cfg::Volume& v : conf.me->volumes) mine.push_back(&v);
  auto by_vnr = [](const cfg::Volume* x, const cfg::Volume* y) { return x->vnr < y->vnr; };
  std::sort(kern.begin(), kern.end(), by_vnr);
  std::sort(mine.begin(), mine.end(), by_vnr);
  size_t i = 0, j = 0;
  while (i < mine.size() || j < kern.size()) {
    Adjust84::Vol av;
    if (j < kern.size() && (i == mine.size() || kern[j]->vnr < mine[i]->vnr)) {
      av.running = kern[j++];
      av.del_minor = true;
      av.detach = av.running->disk.has_value() && *av.running->disk != "none";
    } else if (i < mine.size() && (j == kern.size() || kern[j]->vnr > mine[i]->vnr)) {
      av.conf = mine[i++];
      av.new_minor = av.attach = true;
    } else {
      av.conf = mine[i++];
      av.running = kern[j++];
      const cfg::Volume& c = *av.conf;
      const cfg::Volume& k = *av.running;
      const bool kern_disk = k.disk.has_value() && *k.disk != "none";
      av.new_minor = av.del_minor = c.device_minor != k.device_minor;
      // drbdadm-84 keeps `disk none` as the word "none" and attaches that.
      if (!DiskPlacementEqual(c, k) || av.new_minor) {
        av.attach = true;
        av.detach = kern_disk;
      }
      cfg::Options want = ConfiguredOptions84(st.config, conf, &c, OptKind84::kDisk);
      cfg::Options have = Union({&k.disk_options, &k.pd_options});
      // A different max-bio-bvecs needs a new attach; a different size a
      // resize; the rest is disk-options.
      if (!OptionSetsEqual(want, have, {}) && !av.attach) {
        const cfg::Option* cw = cfg::FindOption(want, "max-bio-bvecs");
        const cfg::Option* hw = cfg::FindOption(have, "max-bio-bvecs");
        if ((cw == nullptr) != (hw == nullptr) ||
            (cw != nullptr && ValueOf(*cw) != ValueOf(*hw))) {
          av.attach = true;
          av.detach = kern_disk;
        }
      }
      if (!av.attach) {
        cfg::Options ws, hs;
        if (const cfg::Option* o = cfg::FindOption(want, "size")) ws.push_back(*o);
        if (const cfg::Option* o = cfg::FindOption(have, "size")) hs.push_back(*o);
        av.resize = !OptionSetsEqual(ws, hs, {});
        av.disk_options = !OptionSetsEqual(want, have, {"size", "max-bio-bvecs"});
      }
      if (av.attach && kern_disk) av.detach = true;
    }
    a.vols.push_back(av);
  }
  // The connection: other addresses mean disconnect + connect.
  const cfg::HostInfo* kern_peer = RunningHost(*running, "_remote_host");
  const cfg::HostInfo* conf_peer = ConfPeer(conf);
  bool addr_equal = kern_peer != nullptr && conf_peer != nullptr &&
                    SameAddress(kern_me->address, conf.me->address) &&
                    SameAddress(kern_peer->address, conf_peer->address);
  if (kern_peer == nullptr && conf_peer == nullptr) addr_equal = true;
  a.connect = !addr_equal && conf_peer != nullptr;
  cfg::Options kern_net = running->net_options;
  for (const cfg::Connection& cn : running->connections) {
    for (const cfg::Option& o : cn.net_options) {
      if (cfg::FindOption(kern_net, o.name) == nullptr) kern_net.push_back(o);
    }
  }
  a.disconnect = !addr_equal && (kern_peer != nullptr || !kern_net.empty());
  a.net_options = !OptionSetsEqual(ConfiguredOptions84(st.config, conf, nullptr, OptKind84::kNet),
                                   kern_net, {});
  if (a.connect) a.net_options = false;
  a.res_options = !OptionSetsEqual(
      ConfiguredOptions84(st.config, conf, nullptr, OptKind84::kResource), running->res_options, {});
  return a;
}

int RunVerb84(AdmState& st, std::string_view verb, const std::vector<std::string>& names,
              const std::string& module_version) {
  if (verb == "sh-status") return ShStatus84(st);
  Compare84 compare = [&st](const cfg::Resource& res, Adjust84& what) {
    what = CompareRunning84(st, res, Running(st, res));
    return true;
  };
  std::vector<Unit84> units;
  if (int rc = Units84(st.config, verb, names, st.backend_options, module_version, &compare,
                       &units, *st.err)) {
    return rc;
  }
  if (st.dry_run) {
    for (const Unit84& u : units) {
      for (const Call84& c : u.calls) *st.out << Render84(c) << "\n";
    }
    return 0;
  }
  int rv = 0;
  // What runs at once: a failure ends that resource's remaining volumes, 20
  // or more ends drbdadm.
  std::set<const cfg::Resource*> failed;
  for (const Unit84& u : units) {
    if (u.stage != Stage84::kNow || failed.count(u.res) != 0) continue;
    int r = RunUnit(st, u);
    if (r >= 20) throw AdmExit{r};
    if (r != 0) failed.insert(u.res);
    rv = std::max(rv, r);
  }
  // The stages of up/adjust: a failed prerequisite skips the resource's
  // later commands; a failed stage ends the run with 1.
  std::set<const cfg::Resource*> skip;
  for (int s = 0; s < kStage84Count; ++s) {
    int stage_rv = 0;
    for (const Unit84& u : units) {
      if (static_cast<int>(u.stage) != s) continue;
      if (skip.count(u.res) != 0) {
        *st.err << st.progname << ": " << u.verb << " " << u.res->name
                << ": skipped due to earlier error\n";
        continue;
      }
      int r = RunUnit(st, u);
      if (r != 0 && (u.stage == Stage84::kPrereq || u.stage == Stage84::kDiskPrereq)) {
        skip.insert(u.res);
      }
      stage_rv = std::max(stage_rv, r);
    }
    if (stage_rv != 0) return std::max(rv, 1);
  }
  return rv;
}

}  // namespace drbd::adm
