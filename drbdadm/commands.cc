// SPDX-License-Identifier: GPL-2.0-or-later
// The drbdadm command table and the functions that turn a command context
// into drbdsetup/drbdmeta/drbd-proxy-ctl/handler command lines (drbd-utils
// 9.22 drbdadm_main.c, adm_create_md from drbdadm_usage_cnt.c).
#include "drbdadm/commands.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>

#include "drbdadm/registry.h"
#include "drbdadm/runner.h"
#include "lib/config/dump.h"
#include "lib/config/options.h"
#include "lib/config/parser.h"
#include "lib/config/postparse.h"

namespace drbd::adm {

namespace {

// ---------------------------------------------------------------------------
// Small helpers over the config model.

const std::string& Str(const std::optional<std::string>& s) {
  static const std::string kEmpty;
  return s ? *s : kEmpty;
}

std::string NodeId(const cfg::HostInfo* h) { return h ? Str(h->node_id) : std::string(); }

std::string PeerNodeId(const CmdCtx& ctx) {
  return ctx.conn ? NodeId(ctx.conn->peer) : std::string();
}

std::string AddressArg(const cfg::Address* a) {
  if (a == nullptr) return "::";
  if (a->af == "ipv6") return a->af + ":[" + a->addr + "]:" + a->port;
  return a->af + ":" + a->addr + ":" + a->port;
}

std::string JoinNames(const cfg::Names& names, char sep) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) s += sep;
    s += names[i];
  }
  return s;
}

bool MetaInternal(const cfg::Volume& v) { return Str(v.meta_disk) == "internal"; }

cfg::Volumes* MyVolumes(cfg::Resource* res) { return res && res->me ? &res->me->volumes : nullptr; }

const std::string* ResName(const CmdCtx& ctx) { return ctx.res ? &ctx.res->name : nullptr; }

// The option table drbd-utils consults for a command's context (string
// options are cut to their max length when passed on).
const cfg::ContextDef* CfgContext(CliCtx c) {
  switch (c) {
    case CliCtx::kAttach:
      return &cfg::Context(cfg::OptContext::kAttach);
    case CliCtx::kDetach:
      return &cfg::Context(cfg::OptContext::kDetach);
    case CliCtx::kNewPeer:
    case CliCtx::kNetOptions:
      return &cfg::Context(cfg::OptContext::kNetOptions);
    case CliCtx::kDisconnect:
      return &cfg::Context(cfg::OptContext::kDisconnect);
    case CliCtx::kPath:
      return &cfg::Context(cfg::OptContext::kPath);
    case CliCtx::kConnect:
      return &cfg::Context(cfg::OptContext::kConnect);
    case CliCtx::kResourceOptions:
      return &cfg::Context(cfg::OptContext::kResourceOptions);
    case CliCtx::kPrimary:
      return &cfg::Context(cfg::OptContext::kPrimary);
    case CliCtx::kSecondary:
      return &cfg::Context(cfg::OptContext::kSecondary);
    case CliCtx::kInvalidateAdm:
    case CliCtx::kInvalidate:
      return &cfg::Context(cfg::OptContext::kInvalidate);
    case CliCtx::kInvalidatePeer:
      return &cfg::Context(cfg::OptContext::kInvalidatePeer);
    case CliCtx::kResize:
      return &cfg::Context(cfg::OptContext::kResize);
    case CliCtx::kVerify:
      return &cfg::Context(cfg::OptContext::kVerify);
    case CliCtx::kPeerDeviceOptions:
      return &cfg::Context(cfg::OptContext::kPeerDeviceOptions);
    case CliCtx::kDeviceOptions:
      return &cfg::Context(cfg::OptContext::kNewMinor);
    case CliCtx::kNewCurrentUuid:
      return &cfg::Context(cfg::OptContext::kNewCurrentUuid);
    default:
      return nullptr;
  }
}

// drbd-utils make_option(): "--name=value" (or "--name"), unless a backend
// option given on the command line starts with "--name".
bool MakeOption(const AdmState& st, const cfg::Option& opt, CliCtx cli, std::string* arg) {
  for (const std::string& b : st.backend_options) {
    if (b.size() >= 2 && b.compare(2, opt.name.size(), opt.name) == 0) return false;
  }
  if (!opt.has_value) {
    *arg = "--" + opt.name;
    return true;
  }
  size_t width = 512;
  if (const cfg::ContextDef* def = CfgContext(cli)) {
    const cfg::OptionDef* f = cfg::FindField(*def, opt.name);
    if (f && f->type == cfg::OptType::kString) width = f->max_len;
  }
  *arg = "--" + opt.name + "=" + opt.value.substr(0, std::min(width, opt.value.size()));
  return true;
}

void MakeOptions(const AdmState& st, const cfg::Options& opts, CliCtx cli,
                 std::vector<std::string>* argv, bool skip_adj_skip = false) {
  for (const cfg::Option& o : opts) {
    if (skip_adj_skip && o.adj_skip) continue;
    std::string a;
    if (MakeOption(st, o, cli, &a)) argv->push_back(std::move(a));
  }
}

// drbd-utils is_valid_backend_option(): the part before '=' is a prefix of
// one of the context's fields.
bool IsValidBackendOption(std::string_view name, CliCtx cli) {
  if (cli == CliCtx::kWildcard) return true;
  if (cli == CliCtx::kNone || name.size() <= 2) return false;
  name.remove_prefix(2);
  std::string_view key = name.substr(0, name.find('='));
  for (const CliField& f : CliFields(cli)) {
    if (f.name.compare(0, key.size(), key) == 0 && f.name.size() >= key.size()) return true;
  }
  return false;
}

void AddSetupOptions(const AdmState& st, CliCtx cli, std::vector<std::string>* argv) {
  for (const std::string& b : st.backend_options) {
    if (IsValidBackendOption(b, cli)) argv->push_back(b);
  }
}

// ---------------------------------------------------------------------------
// Command functions.

int AdmDrbdmetaWith(AdmState& st, const CmdCtx& ctx, int flags, const std::string* argument);
int AdmDrbdmeta(AdmState& st, const CmdCtx& ctx) {
  return AdmDrbdmetaWith(st, ctx, kSleepsVeryLong, nullptr);
}

extern const AdmCmd kApplyAl;
extern const AdmCmd kRepairMd;
extern const AdmCmd kAttach;
extern const AdmCmd kDiskOptionsDefaults;
extern const AdmCmd kNewResource;
extern const AdmCmd kResOptionsDefaults;
extern const AdmCmd kNetOptionsDefaults;
extern const AdmCmd kPeerDeviceOptionsDefaults;
extern const AdmCmd kDetach;
extern const AdmCmd kPrimary;
extern const AdmCmd kSecondary;
extern const AdmCmd kDown;
extern const AdmCmd kSetGi;
extern const AdmCmd kInvalidateSetup;
extern const AdmCmd kForgetPeerSetup;
extern const AdmCmd kInvalidateMeta;
extern const AdmCmd kForgetPeerMeta;
extern const AdmCmd kNewPeer;
extern const AdmCmd kNewPath;
extern const AdmCmd kConnect;
extern const AdmCmd kPeerDeviceOptions;
extern const AdmCmd kNewMinor;

int AdmAttach(AdmState& st, const CmdCtx& ctx) {
  const cfg::Volume& vol = *ctx.vol;
  bool do_attach = ctx.cmd == &kAttach;
  bool reset = ctx.cmd == &kDiskOptionsDefaults;
  if (do_attach) {
    // As drbd-utils >= 9.23: repair-md (which may move internal meta data
    // after a backend resize) runs before the activity log is applied.
    CmdCtx tmp = ctx;
    tmp.cmd = &kRepairMd;
    int rv = CallCmdFn(st, tmp, OnError::kKeepRunning);
    if (rv) return rv;
    tmp.cmd = &kApplyAl;
    rv = CallCmdFn(st, tmp, OnError::kKeepRunning);
    if (rv) return rv;
  }
  std::vector<std::string> argv{st.drbdsetup, std::string(ctx.cmd->name),
                                std::to_string(vol.device_minor)};
  if (do_attach) {
    argv.push_back(Str(vol.disk));
    argv.push_back(MetaInternal(vol) ? Str(vol.disk) : Str(vol.meta_disk));
    argv.push_back(Str(vol.meta_index));
  }
  if (reset) {
    argv.emplace_back("--set-defaults");
    MakeOptions(st, vol.disk_options, ctx.cmd->cli, &argv, true);
  } else {
    MakeOptions(st, vol.disk_options, ctx.cmd->cli, &argv);
  }
  AddSetupOptions(st, ctx.cmd->cli, &argv);
  return RunCommand(st, argv, kSleepsLong, ResName(ctx));
}

// drbd-utils do_register: not for dry runs or a config read from stdin.
bool DoRegister(const AdmState& st) { return !st.dry_run && !st.config_from_stdin; }

int AdmNewMinor(AdmState& st, const CmdCtx& ctx) {
  std::vector<std::string> argv{st.drbdsetup, "new-minor", ctx.res->name,
                                std::to_string(static_cast<unsigned>(ctx.vol->device_minor)),
                                std::to_string(static_cast<unsigned>(ctx.vol->vnr))};
  if (!ctx.vol->disk) argv.emplace_back("--diskless");
  // Device options written in `disk { }` (block-size, ...; empty with 9.22).
  MakeOptions(st, ctx.vol->device_options, ctx.cmd->cli, &argv);
  int ex = RunCommand(st, argv, kSleepsShort, ResName(ctx));
  if (!ex && DoRegister(st)) RegisterMinor(ctx.vol->device_minor, st.config.config_save, *st.err);
  return ex;
}

int AdmResource(AdmState& st, const CmdCtx& ctx) {
  cfg::Resource& res = *ctx.res;
  bool do_new = ctx.cmd == &kNewResource;
  bool reset = ctx.cmd == &kResOptionsDefaults;
  std::vector<std::string> argv{st.drbdsetup, std::string(ctx.cmd->name), res.name};
  if (do_new) argv.push_back(NodeId(res.me));
  if (reset) argv.emplace_back("--set-defaults");
  if (reset || do_new) MakeOptions(st, res.res_options, ctx.cmd->cli, &argv);
  AddSetupOptions(st, ctx.cmd->cli, &argv);
  int ex = RunCommand(st, argv, kSleepsShort, ResName(ctx));
  if (!ex && do_new && DoRegister(st)) RegisterResource(res.name, st.config.config_save, *st.err);
  return ex;
}

long long ReadDrbdDevSize(int minor) {
  std::string path = "/sys/block/drbd" + std::to_string(minor) + "/size";
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return -1;
  long long v = -1;
  if (std::fscanf(f, "%lld", &v) != 1) v = -1;
  std::fclose(f);
  return v;
}

int AdmResize(AdmState& st, const CmdCtx& ctx) {
  bool is_resize = ctx.cmd->name == "resize";
  std::vector<std::string> argv{st.drbdsetup, "resize", std::to_string(ctx.vol->device_minor)};
  const cfg::Option* opt = cfg::FindOption(ctx.vol->disk_options, "size");
  if (!opt) opt = cfg::FindOption(ctx.res->disk_options, "size");
  long long target_size = 0;
  if (opt) {
    argv.push_back("--" + opt->name + "=" + opt->value);
    if (auto v = cfg::ParseScaled(opt->value, 's')) target_size = static_cast<long long>(*v);
  }
  AddSetupOptions(st, ctx.cmd->cli, &argv);
  long long old_size = -1;
  if (is_resize && !st.dry_run) old_size = ReadDrbdDevSize(ctx.vol->device_minor);
  int silent = is_resize ? 0 : kSuppressStderr;
  int ex = RunCommand(st, argv, kSleepsLong | silent, ResName(ctx));
  if (ex && target_size) {
    long long new_size = ReadDrbdDevSize(ctx.vol->device_minor);
    if (new_size == target_size) {
      *st.err << "Current size of drbd" << ctx.vol->device_minor << " equals target size ("
              << new_size << " byte), exit code " << ex << " ignored.\n";
      ex = 0;
    }
  }
  if (ex) return ex;
  argv.resize(3);
  argv[1] = "check-resize";
  RunCommand(st, argv, kSleepsShort | silent, ResName(ctx));
  // The kernel applies the new size asynchronously: wait up to 10 s for the
  // target size (3 s for any change), as drbd-utils does.
  if (old_size > 0) {
    for (int timeo = target_size ? 100 : 30; timeo >= 0; --timeo) {
      long long new_size = ReadDrbdDevSize(ctx.vol->device_minor);
      if (new_size >= target_size) return 0;
      if (new_size != old_size) {
        if (target_size == 0) return 0;
        *st.err << "Size changed from " << old_size << " to " << new_size << ", waiting for "
                << target_size << ".\n";
        old_size = new_size;
      }
      timespec ts{0, 100 * 1000 * 1000};
      nanosleep(&ts, nullptr);
    }
    return 1;
  }
  return 0;
}

bool IsSetGiSingleNode(const CmdCtx& ctx) {
  return ctx.cmd == &kSetGi && ctx.res && ctx.res->all_hosts.size() == 1;
}

std::vector<std::string> DrbdmetaArgv(AdmState& st, const CmdCtx& ctx,
                                      const std::string* argument) {
  const cfg::Volume& vol = *ctx.vol;
  std::vector<std::string> argv{st.drbdmeta, std::to_string(vol.device_minor), "v09"};
  argv.push_back(MetaInternal(vol) ? Str(vol.disk) : Str(vol.meta_disk));
  if (Str(vol.meta_index) == "flexible") {
    argv.emplace_back(MetaInternal(vol) ? "flex-internal" : "flex-external");
  } else {
    argv.push_back(Str(vol.meta_index));
  }
  if (ctx.cmd->need_peer) {
    if (IsSetGiSingleNode(ctx)) {
      argv.push_back("--node-id=" + NodeId(ctx.res->me));
    } else {
      argv.push_back("--node-id=" + PeerNodeId(ctx));
    }
  }
  argv.emplace_back(ctx.cmd->name);
  if (argument) argv.push_back(*argument);
  AddSetupOptions(st, ctx.cmd->cli, &argv);
  return argv;
}

int AdmDrbdmetaWith(AdmState& st, const CmdCtx& ctx, int flags, const std::string* argument) {
  return RunCommand(st, DrbdmetaArgv(st, ctx, argument), flags, ResName(ctx));
}

std::vector<std::string> DrbdsetupArgv(AdmState& st, const CmdCtx& ctx) {
  std::vector<std::string> argv{st.drbdsetup, std::string(ctx.cmd->name)};
  if (ctx.cmd->backend_res_name && ctx.res) argv.push_back(ctx.res->name);
  if (ctx.cmd->need_peer) argv.push_back(PeerNodeId(ctx));
  if (ctx.vol) {
    if (ctx.cmd == &kDetach && !ctx.vol->device) argv.emplace_back("--diskless");
    if (ctx.cmd->need_peer && ctx.cmd->iterate_volumes) {
      argv.push_back(std::to_string(ctx.vol->vnr));
    } else {
      argv.push_back(std::to_string(ctx.vol->device_minor));
    }
  }
  AddSetupOptions(st, ctx.cmd->cli, &argv);
  if (ctx.cmd == &kInvalidateSetup && ctx.conn) {
    argv.push_back("--sync-from-peer-node-id=" + PeerNodeId(ctx));
  }
  if (ctx.res && !st.dry_run) setenv("DRBD_RESOURCE", ctx.res->name.c_str(), 1);
  return argv;
}

int AdmDrbdsetupFlags(AdmState& st, const CmdCtx& ctx, int flags) {
  return RunCommand(st, DrbdsetupArgv(st, ctx), flags, ResName(ctx));
}

int AdmDrbdsetup(AdmState& st, const CmdCtx& ctx) {
  return AdmDrbdsetupFlags(st, ctx, ctx.cmd->takes_long ? kSleepsLong : kSleepsShort);
}

int AdmDrbdsetupSilent(AdmState& st, const CmdCtx& ctx) {
  std::string captured;
  int rv = RunCommandCaptureStderr(st, DrbdsetupArgv(st, ctx), ResName(ctx), &captured);
  if ((ctx.cmd->name != "invalidate" && rv == 11) || rv == 17) *st.err << captured;
  return rv;
}

int AdmOutdate(AdmState& st, const CmdCtx& ctx) {
  int rv = AdmDrbdsetupFlags(st, ctx, kSleepsShort | kSuppressStderr);
  if (rv == 17) return rv;
  if (rv == 5) {
    rv = AdmDrbdmeta(st, ctx);
    return rv ? 5 : 0;
  }
  if (rv || st.dry_run) rv = AdmDrbdmeta(st, ctx);
  return rv;
}

int AdmChkResize(AdmState& st, const CmdCtx& ctx) {
  if (AdmResize(st, ctx) == 0) return 0;
  return AdmDrbdmeta(st, ctx);
}

bool BackingDeviceConfigured(const CmdCtx& ctx) {
  return ctx.vol && ctx.vol->disk && ctx.vol->meta_disk;
}

int AdmSetupAndMeta(AdmState& st, const CmdCtx& ctx) {
  AdmCmd tmp_cmd = *ctx.cmd;
  if (tmp_cmd.cli == CliCtx::kForceable) tmp_cmd.cli = CliCtx::kNone;
  CmdCtx tmp = ctx;
  tmp.cmd = &tmp_cmd;
  int rv = AdmDrbdsetupSilent(st, tmp);
  if (rv == 11 || rv == 17 || !BackingDeviceConfigured(ctx)) return rv;
  if (rv || st.dry_run) rv = AdmDrbdmeta(st, ctx);
  return rv;
}

// invalidate and forget-peer: the drbdsetup half, then (when it failed for
// another reason than 11 or 17, or under -d) the drbdmeta half on the
// metadata of a detached device, as drbd-utils does.
int SetupThenMeta(AdmState& st, const CmdCtx& ctx, const AdmCmd& setup, const AdmCmd& meta) {
  int rv = CallCmd(st, setup, ctx, OnError::kKeepRunning);
  if (rv == 11 || rv == 17) return rv;
  if (rv || st.dry_run) rv = CallCmd(st, meta, ctx, OnError::kKeepRunning);
  return rv;
}

int AdmInvalidate(AdmState& st, const CmdCtx& ctx) {
  return SetupThenMeta(st, ctx, kInvalidateSetup, kInvalidateMeta);
}

int AdmForgetPeer(AdmState& st, const CmdCtx& ctx) {
  return SetupThenMeta(st, ctx, kForgetPeerSetup, kForgetPeerMeta);
}

void SetenvNodeIdAndUname(const cfg::Resource& res) {
  for (int i = 0; i < 32; ++i) unsetenv(("DRBD_NODE_ID_" + std::to_string(i)).c_str());
  for (const cfg::HostInfo& h : res.all_hosts) {
    if (!h.node_id) continue;
    setenv(("DRBD_NODE_ID_" + *h.node_id).c_str(), JoinNames(h.on_hosts, ' ').c_str(), 1);
  }
  if (!getenv("DRBD_MY_NODE_ID")) setenv("DRBD_MY_NODE_ID", NodeId(res.me).c_str(), 1);
}

int AdmKhelper(AdmState& st, const CmdCtx& ctx) {
  cfg::Resource& res = *ctx.res;
  if (!st.dry_run) {
    setenv("DRBD_CONF", st.config.config_save.c_str(), 1);
    setenv("DRBD_RESOURCE", res.name.c_str(), 1);
    SetenvNodeIdAndUname(res);
    std::string minors, vnrs, lls;
    auto disk_or_none = [](const cfg::Volume& v) { return ShellEscape(v.disk ? *v.disk : "none"); };
    if (ctx.vol) {
      minors = std::to_string(static_cast<unsigned>(ctx.vol->device_minor));
      vnrs = std::to_string(static_cast<unsigned>(ctx.vol->vnr));
      lls = disk_or_none(*ctx.vol);
    } else if (cfg::Volumes* vols = MyVolumes(&res)) {
      const char* sep = "";
      for (const cfg::Volume& v : *vols) {
        minors += sep + std::to_string(v.device_minor);
        vnrs += sep + std::to_string(v.vnr);
        lls += sep + disk_or_none(v);
        sep = " ";
      }
    }
    setenv("DRBD_MINOR", minors.c_str(), 1);
    setenv("DRBD_VOLUME", vnrs.c_str(), 1);
    setenv("DRBD_LL_DISK", lls.c_str(), 1);
  }
  const cfg::Option* h = cfg::FindOption(res.handlers, ctx.cmd->name);
  if (!h) return 0;
  return RunCommand(st, {"/bin/sh", "-c", h->value}, kSleepsVeryLong, ResName(ctx));
}

int AdmPeerDevice(AdmState& st, const CmdCtx& ctx) {
  bool reset = ctx.cmd == &kPeerDeviceOptionsDefaults;
  cfg::PeerDevice* pd = ctx.conn ? cfg::FindPeerDevice(*ctx.conn, ctx.vol->vnr) : nullptr;
  if (!pd) {
    *st.err << "Could not find peer_device object!\n";
    throw AdmExit{ToInt(ExitCode::kThinko)};
  }
  std::vector<std::string> argv{st.drbdsetup, std::string(ctx.cmd->name), ctx.res->name,
                                PeerNodeId(ctx), std::to_string(ctx.vol->vnr)};
  if (reset) argv.emplace_back("--set-defaults");
  MakeOptions(st, pd->pd_options, ctx.cmd->cli, &argv);
  AddSetupOptions(st, ctx.cmd->cli, &argv);
  return RunCommand(st, argv, kSleepsShort, ResName(ctx));
}

int AdmConnect(AdmState& st, const CmdCtx& ctx) {
  std::vector<std::string> argv{st.drbdsetup, std::string(ctx.cmd->name), ctx.res->name,
                                PeerNodeId(ctx)};
  AddSetupOptions(st, ctx.cmd->cli, &argv);
  return RunCommand(st, argv, kSleepsShort, ResName(ctx));
}

int AdmNewPeer(AdmState& st, const CmdCtx& ctx) {
  bool reset = ctx.cmd == &kNetOptionsDefaults;
  std::vector<std::string> argv{st.drbdsetup, std::string(ctx.cmd->name), ctx.res->name,
                                PeerNodeId(ctx)};
  if (reset) argv.emplace_back("--set-defaults");
  if (ctx.cmd->name.starts_with("net-options"))
    cfg::DeleteOption(ctx.conn->net_options, "transport");
  MakeOptions(st, ctx.conn->net_options, ctx.cmd->cli, &argv);
  AddSetupOptions(st, ctx.cmd->cli, &argv);
  return RunCommand(st, argv, kSleepsShort, ResName(ctx));
}

int AdmPath(AdmState& st, const CmdCtx& ctx) {
  std::vector<std::string> argv{st.drbdsetup, std::string(ctx.cmd->name), ctx.res->name,
                                PeerNodeId(ctx)};
  argv.push_back(AddressArg(ctx.path ? ctx.path->my_address : nullptr));
  argv.push_back(AddressArg(ctx.path ? ctx.path->connect_to : nullptr));
  AddSetupOptions(st, ctx.cmd->cli, &argv);
  return RunCommand(st, argv, kSleepsShort, ResName(ctx));
}

// --- drbd-proxy ------------------------------------------------------------

cfg::Path* FirstPath(const CmdCtx& ctx) {
  return ctx.conn && !ctx.conn->paths.empty() ? &ctx.conn->paths.front() : nullptr;
}

std::string ProxyConnName(const CmdCtx& ctx) { return ProxyConnectionName(*ctx.res, *ctx.conn); }

int DoProxyConnUp(AdmState& st, const CmdCtx& ctx) {
  cfg::Path* p = FirstPath(ctx);
  if (!p || !p->my_proxy || !p->peer_proxy) return 0;
  std::string a = "add connection " + ProxyConnName(ctx) + " " + p->my_proxy->inside.addr +
                  ":" + p->my_proxy->inside.port + " " + p->peer_proxy->outside.addr + ":" +
                  p->peer_proxy->outside.port + " " + p->my_proxy->outside.addr + ":" +
                  p->my_proxy->outside.port + " " + (p->my_address ? p->my_address->addr : "") +
                  ":" + (p->my_address ? p->my_address->port : "");
  // drbd-utils >= 9.23 hands the proxy options (memlimit, ...) over here too.
  for (const cfg::Option& o : p->my_proxy->options) a += " --" + o.name + "=" + o.value;
  return RunCommand(st, {st.drbd_proxy_ctl, "-c", a}, kSleepsShort, ResName(ctx));
}

int DoProxyConnPlugins(AdmState& st, const CmdCtx& ctx) {
  cfg::Path* p = FirstPath(ctx);
  if (!p || !p->my_proxy || !p->peer_proxy) return 0;
  std::string name = ProxyConnName(ctx);
  std::vector<std::string> argv{st.drbd_proxy_ctl};
  for (const cfg::Option& o : p->my_proxy->options) {
    argv.emplace_back("-c");
    argv.push_back("set " + o.name + " " + name + " " + o.value);
  }
  if (!p->my_proxy->plugins.empty()) {
    int counter = 0;
    for (const cfg::Option& o : p->my_proxy->plugins) {
      argv.emplace_back("-c");
      argv.push_back("set plugin " + name + " " + std::to_string(counter) + " " + o.name);
      ++counter;
    }
    argv.emplace_back("-c");  // 9.22 omitted this -c; fixed in drbd-utils 9.23
    argv.push_back("set plugin " + name + " " + std::to_string(counter) + " END");
  }
  return argv.size() > 2 ? RunCommand(st, argv, kSleepsShort, ResName(ctx)) : 0;
}

int DoProxyConnDown(AdmState& st, const CmdCtx& ctx) {
  cfg::Path* p = FirstPath(ctx);
  if (!p || !p->my_proxy || !p->peer_proxy) return 0;
  const std::string name = ProxyConnName(ctx);
  int rv = RunCommand(st, {st.drbd_proxy_ctl, "-c", "del connection " + name}, kSleepsShort,
                      ResName(ctx));
  // A connection set up under the name drbd-utils 9.22 gave it goes too.
  const std::string old_name = OldProxyConnectionName(*ctx.res, *ctx.conn);
  if (old_name != name) {
    RunCommand(st, {st.drbd_proxy_ctl, "-c", "del connection " + old_name}, kSleepsShort,
               ResName(ctx));
  }
  return rv;
}

// adjust: one drbd-proxy-ctl command adjust computed (ctx.proxy_reconf).
int DoProxyReconf(AdmState& st, const CmdCtx& ctx) {
  return RunCommand(st, {st.drbd_proxy_ctl, "-c", *ctx.proxy_reconf}, kSleepsShort, ResName(ctx));
}

int CheckProxy(AdmState& st, const CmdCtx& ctx, bool up) {
  cfg::Connection* conn = ctx.conn;
  cfg::Path* p = FirstPath(ctx);
  if (!p) return 0;
  if (conn->paths.size() > 1) {
    *st.err << "Multiple paths in connection within proxy setup not allowed\n";
    throw AdmExit{ToInt(ExitCode::kConfigInvalid)};
  }
  if (!p->my_proxy) {
    if (conn->on_cmdline) {
      *st.err << ctx.res->config_file << ":" << conn->config_line << ": In resource '"
              << ctx.res->name << "', no proxy config for connection "
              << (conn->name.empty() ? "" : "'" + conn->name + "' (") << "from '" << st.pp.hostname
              << "' to '" << (conn->peer ? JoinNames(conn->peer->on_hosts, ' ') : "") << "'"
              << (conn->name.empty() ? "" : ")") << ".\n";
      throw AdmExit{ToInt(ExitCode::kConfigInvalid)};
    }
    return 0;
  }
  if (!cfg::HostnameInList(st.pp.hostname, p->my_proxy->on_hosts)) {
    if (conn->on_cmdline) {
      *st.err << "The proxy config in resource " << ctx.res->name << " is not for "
              << st.pp.hostname << ".\n";
      throw AdmExit{ToInt(ExitCode::kConfigInvalid)};
    }
    return 0;
  }
  if (!p->peer_proxy) {
    if (conn->on_cmdline) {
      *st.err << "There is no proxy config for the peer in resource " << ctx.res->name << ".\n";
      throw AdmExit{ToInt(ExitCode::kConfigInvalid)};
    }
    return 0;
  }
  if (up) {
    int rv = DoProxyConnUp(st, ctx);
    if (!rv) rv = DoProxyConnPlugins(st, ctx);
    return rv;
  }
  return DoProxyConnDown(st, ctx);
}

int AdmProxyUp(AdmState& st, const CmdCtx& ctx) { return CheckProxy(st, ctx, true); }
int AdmProxyDown(AdmState& st, const CmdCtx& ctx) { return CheckProxy(st, ctx, false); }

// --- up / adjust / wait --------------------------------------------------------

int AdmUpFn(AdmState& st, const CmdCtx& ctx) { return AdmUp(st, ctx); }

int AdmAdjustFn(AdmState& st, const CmdCtx& ctx) {
  if (st.adjust_flags == 0) {
    int flags = 0;
    int i = FindBackendOption(st, "--skip-disk");
    if (i >= 0) {
      st.backend_options.erase(st.backend_options.begin() + i);
    } else {
      flags |= kAdjustDisk;
    }
    i = FindBackendOption(st, "--skip-net");
    if (i >= 0) {
      st.backend_options.erase(st.backend_options.begin() + i);
    } else {
      flags |= kAdjustNet;
    }
    st.adjust_flags = flags | kAdjustSkipChecked;
  }
  return AdmAdjust(st, ctx, st.adjust_flags);
}

int AdmAdjustWp(AdmState& st, const CmdCtx& ctx) {
  if (!st.verbose && !st.dry_run) st.adjust_with_progress = true;
  return AdmAdjustFn(st, ctx);
}

extern const AdmCmd kWaitCAdj;

int AdmWaitC(AdmState& st, const CmdCtx& ctx) {
  cfg::Resource& res = *ctx.res;
  const bool adjust_run = ctx.cmd == &kWaitCAdj;
  std::vector<std::string> argv{st.drbdsetup};
  std::string base(ctx.cmd->name);
  if (ctx.vol && ctx.conn) {
    argv.push_back(base + "-volume");
    argv.push_back(res.name);
    argv.push_back(PeerNodeId(ctx));
    argv.push_back(std::to_string(ctx.vol->vnr));
  } else if (ctx.conn) {
    argv.push_back(base + "-connection");
    argv.push_back(res.name);
    argv.push_back(PeerNodeId(ctx));
  } else {
    argv.push_back(base + "-resource");
    argv.push_back(res.name);
  }
  if (adjust_run) {
    // adjust waits briefly for a connection it (re)connected (>= 9.23).
    const cfg::Option* o = cfg::FindOption(res.net_options, "socket-check-timeout");
    if (o == nullptr) o = cfg::FindOption(res.net_options, "ping-timeout");
    unsigned long timeout = 1;
    if (o != nullptr) timeout = std::max(std::strtoul(o->value.c_str(), nullptr, 10) * 2 / 10, 1UL);
    for (const char* w : {"--wfc-timeout", "--degr-wfc-timeout", "--outdated-wfc-timeout"}) {
      argv.emplace_back(w);
      argv.push_back(std::to_string(timeout));
    }
    int rv = RunCommand(st, argv, kSleepsForever, ResName(ctx));
    return rv == 5 ? 0 : rv;  // a timed-out wait does not fail adjust
  }
  if (st.is_drbd_top && !res.stacked_timeouts) {
    unsigned long timeout = 20;
    if (const cfg::Option* o = cfg::FindOption(res.net_options, "connect-int")) {
      timeout = std::strtoul(o->value.c_str(), nullptr, 10) * 2;
    }
    argv.emplace_back("--wfc-timeout");
    argv.push_back(std::to_string(timeout));
  } else {
    MakeOptions(st, res.startup_options, ctx.cmd->cli, &argv);
  }
  return RunCommand(st, argv, kSleepsForever, ResName(ctx));
}

// wait-con-int: one wait-connect-resource per resource of this node. The
// interactive countdown drbd-utils shows on /dev/console is not reproduced;
// like drbd-utils the exit codes of the waits are ignored.
int AdmWaitCi(AdmState& st, const CmdCtx& ctx) {
  if (st.no_tty) {
    *st.err << "WARN: stdin/stdout is not a TTY; using /dev/console";
    *st.out << "WARN: stdin/stdout is not a TTY; using /dev/console";
  }
  for (cfg::Resource& res : st.config.resources) {
    if (res.ignore || st.is_drbd_top != res.stacked) continue;
    std::vector<std::string> argv{st.drbdsetup, "wait-connect-resource", res.name};
    MakeOptions(st, res.startup_options, ctx.cmd->cli, &argv);
    RunCommand(st, argv, kSleepsForever, &res.name);
  }
  return 0;
}

// --- sh-* -----------------------------------------------------------------

// Prints `value` and a newline on stdout; the sh-* result.
template <typename T>
int PrintLine(AdmState& st, const T& value) {
  *st.out << value << '\n';
  return 0;
}

int ShNop(AdmState& st, const CmdCtx&) { return st.config.valid ? 0 : 10; }

int ShResources(AdmState& st, const CmdCtx&) {
  for (const cfg::Resource& res : st.config.resources) {
    if (res.ignore || st.is_drbd_top != res.stacked) continue;
    *st.out << res.name << '\n';
  }
  return 0;
}

int ShResource(AdmState& st, const CmdCtx& ctx) { return PrintLine(st, ctx.res->name); }

int ShDev(AdmState& st, const CmdCtx& ctx) { return PrintLine(st, Str(ctx.vol->device)); }

int ShUdev(AdmState& st, const CmdCtx& ctx) {
  const cfg::Resource& res = *ctx.res;
  const cfg::Volume* vol = ctx.vol;
  std::ostream& out = *st.out;
  if (!vol) {
    *st.err << "volume not specified\n";
    return 1;
  }
  const std::string& dev = Str(vol->device);
  if (dev.compare(0, 9, "/dev/drbd") == 0) {
    out << "DEVICE=" << dev.substr(5) << '\n';
  } else {
    out << "DEVICE=drbd" << static_cast<unsigned>(vol->device_minor) << '\n';
  }
  std::string link = (vol->implicit && !st.config.globals.udev_always_use_vnr)
                         ? "drbd/by-res/" + res.name
                         : "drbd/by-res/" + res.name + "/" + std::to_string(vol->vnr);
  out << "SYMLINK=" << link << '\n';
  out << "SYMLINK_BY_RES=" << link << '\n';
  if (vol->disk) {
    const std::string& d = *vol->disk;
    out << "SYMLINK_BY_DISK=drbd/by-disk/" << (d.compare(0, 5, "/dev/") == 0 ? d.substr(5) : d)
        << '\n';
  }
  return 0;
}

int ShMinor(AdmState& st, const CmdCtx& ctx) { return PrintLine(st, ctx.vol->device_minor); }

int ShIp(AdmState& st, const CmdCtx& ctx) {
  return PrintLine(st, ctx.path && ctx.path->my_address ? ctx.path->my_address->addr : "");
}

int ShLres(AdmState& st, const CmdCtx& ctx) {
  if (!st.is_drbd_top) {
    *st.err << "sh-lower-resource only available in stacked mode\n";
    throw AdmExit{ToInt(ExitCode::kUsage)};
  }
  if (!ctx.res->stacked) {
    *st.err << "'" << ctx.res->name << "' is not stacked on this host (" << st.pp.hostname << ")\n";
    throw AdmExit{ToInt(ExitCode::kUsage)};
  }
  const cfg::Resource* lower = ctx.res->me ? ctx.res->me->lower : nullptr;
  *st.out << (lower ? lower->name : ctx.res->me ? ctx.res->me->lower_name : "") << '\n';
  return 0;
}

int ShLlDev(AdmState& st, const CmdCtx& ctx) {
  return PrintLine(st, ctx.vol && ctx.vol->disk ? *ctx.vol->disk : "none");
}

int ShMdDev(AdmState& st, const CmdCtx& ctx) {
  return PrintLine(st, MetaInternal(*ctx.vol) ? Str(ctx.vol->disk) : Str(ctx.vol->meta_disk));
}

int ShMdIdx(AdmState& st, const CmdCtx& ctx) { return PrintLine(st, Str(ctx.vol->meta_index)); }

int ShModParms(AdmState& st, const CmdCtx&) {
  int mc = st.config.globals.minor_count;
  if (mc == 0) {
    mc = st.number_of_minors + 3;
    if (mc > 255) mc = 255;  // DRBD_MINOR_COUNT_MAX
    if (mc < 32) mc = 32;    // DRBD_MINOR_COUNT_DEF
  }
  *st.out << "minor_count=" << mc << '\n';
  return 0;
}

// --- dump -------------------------------------------------------------------

}  // namespace

cfg::DumpOptions DumpOptionsFor(const AdmState& st) {
  cfg::DumpOptions o;
  o.verbose = st.verbose > 0;
  o.dry_run = st.dry_run;
  o.hostname = st.pp.hostname;
  o.xml_standalone = !st.dump_all;
  o.err = st.err;
  o.node_ids = !st.pp.module_84;
  return o;
}

namespace {

int AdmDump(AdmState& st, const CmdCtx& ctx) {
  if (!ctx.res) {
    *st.out << "# no resources configured\n";
    return 0;
  }
  cfg::DumpResource(st.config, *ctx.res, DumpOptionsFor(st), *st.out);
  return 0;
}

int AdmDumpXml(AdmState& st, const CmdCtx& ctx) {
  if (!ctx.res) {
    *st.out << "<!-- No resources configured -->\n";
    return 0;
  }
  cfg::DumpXmlResource(st.config, *ctx.res, DumpOptionsFor(st), *st.out);
  return 0;
}

// --- create-md ---------------------------------------------------------------

bool PeerCompletelyDiskless(const cfg::HostInfo* peer) {
  if (!peer) return true;
  for (const cfg::Volume& v : peer->volumes) {
    if (v.disk) return false;
  }
  return true;
}

int AdmCreateMd(AdmState& st, const CmdCtx& ctx) {
  const std::string kOpt = "--max-peers=";
  int idx = FindBackendOption(st, kOpt);
  std::string max_peers;
  std::string saved;
  if (idx >= 0) {
    saved = st.backend_options[static_cast<size_t>(idx)];
    max_peers = saved.substr(kOpt.size());
    st.backend_options.erase(st.backend_options.begin() + idx);
  } else {
    cfg::SetPeerInResource(st.config, *ctx.res, true, false, *st.diag);
    int n = 0;
    for (const cfg::Connection& c : ctx.res->connections) {
      if (c.ignore) continue;
      if (!PeerCompletelyDiskless(c.peer)) ++n;
    }
    max_peers = std::to_string(n == 0 ? 1 : n);
  }
  // Keep the device UUID of metadata being re-created (drbdmeta read-dev-uuid).
  unsigned long long uuid = 0;
  if (!st.dry_run) {
    AdmCmd read_cmd = *ctx.cmd;
    read_cmd.name = "read-dev-uuid";
    CmdCtx rctx = ctx;
    rctx.cmd = &read_cmd;
    std::string text;
    RunCommandCaptureStdout(st, DrbdmetaArgv(st, rctx, nullptr),
                            kSleepsVeryLong | kDontReportFailed, &text);
    uuid = std::strtoull(text.c_str(), nullptr, 16);
  }
  int rv = AdmDrbdmetaWith(st, ctx, kSleepsVeryLong, &max_peers);
  if (idx >= 0) st.backend_options.insert(st.backend_options.begin(), saved);
  if (rv || st.dry_run) return rv;
  if (uuid == 0) {
    std::random_device rd;
    uuid = (static_cast<unsigned long long>(rd()) << 32) | rd();
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llX", uuid);
  AdmCmd local = *ctx.cmd;
  local.name = "write-dev-uuid";
  local.cli = CliCtx::kWildcard;
  CmdCtx lctx = ctx;
  lctx.cmd = &local;
  std::vector<std::string> saved_opts = std::move(st.backend_options);
  st.backend_options = {buf};
  AdmDrbdmetaWith(st, lctx, kSleepsVeryLong, nullptr);
  st.backend_options = std::move(saved_opts);
  return rv;
}

// --- help ---------------------------------------------------------------------

void PrintCmds(AdmState& st, int level) {
  std::vector<const AdmCmd*> cmds;
  for (const AdmCmd* c : AllCommands()) {
    if (c->show_in_usage == level) cmds.push_back(c);
  }
  std::sort(cmds.begin(), cmds.end(),
            [](const AdmCmd* a, const AdmCmd* b) { return a->name < b->name; });
  size_t j = cmds.size();
  size_t half = (j + 1) / 2;
  char line[128];
  for (size_t i = 0; i < half; ++i) {
    std::string a(cmds[i]->name);
    if (i + half < j) {
      std::string b(cmds[i + half]->name);
      std::snprintf(line, sizeof line, " %-35s %-35s\n", a.c_str(), b.c_str());
    } else {
      std::snprintf(line, sizeof line, " %-35s\n", a.c_str());
    }
    *st.out << line;
  }
}

int HiddenCmds(AdmState& st, const CmdCtx&) {
  std::ostream& out = *st.out;
  out << "\nThese additional commands might be useful for writing\n"
         "nifty shell scripts around drbdadm:\n\n";
  PrintCmds(st, 2);
  out << "\nThese commands are used by the kernel part of DRBD to\n"
         "invoke user mode helper programs:\n\n";
  PrintCmds(st, 3);
  out << "\nThese commands ought to be used by experts and developers:\n\n";
  PrintCmds(st, 4);
  out << "\n";
  throw AdmExit{0};
}

// ---------------------------------------------------------------------------
// Flag presets (drbd-utils ACF* macros).

AdmCmd Cmd(std::string_view name, CmdFn fn, CliCtx cli = CliCtx::kNone) {
  AdmCmd c;
  c.name = name;
  c.fn = fn;
  c.cli = cli;
  return c;
}
AdmCmd Acf1Default(AdmCmd c) {
  c.show_in_usage = 1;
  c.res_name_required = c.backend_res_name = c.iterate_volumes = c.uc_dialog = true;
  return c;
}
AdmCmd Acf1MinorOnly(AdmCmd c) {
  c.show_in_usage = 1;
  c.res_name_required = c.iterate_volumes = c.uc_dialog = c.disk_required = true;
  return c;
}
AdmCmd Acf1Resname(AdmCmd c) {
  c.show_in_usage = 1;
  c.res_name_required = c.backend_res_name = c.uc_dialog = true;
  return c;
}
AdmCmd Acf1ResnameVerifyIps(AdmCmd c) {
  c = Acf1Resname(c);
  c.verify_ips = true;
  return c;
}
AdmCmd Acf1Connect(AdmCmd c) {
  c = Acf1Resname(c);
  c.verify_ips = c.need_peer = true;
  return c;
}
AdmCmd Acf1Disconnect(AdmCmd c) {
  c = Acf1Resname(c);
  c.need_peer = true;
  return c;
}
AdmCmd Acf1Wait(AdmCmd c) {
  c.show_in_usage = 1;
  c.res_name_required = c.vol_id_optional = c.verify_ips = c.uc_dialog = true;
  return c;
}
AdmCmd Acf1PeerDevice(AdmCmd c) {
  c = Acf1Default(c);
  c.need_peer = true;
  return c;
}
AdmCmd Acf3ResHandler(AdmCmd c) {
  c.show_in_usage = 3;
  c.res_name_required = c.backend_res_name = c.use_cached_config_file = true;
  return c;
}
AdmCmd Acf4Advanced(AdmCmd c) {
  c = Acf1Default(c);
  c.show_in_usage = 4;
  return c;
}
AdmCmd Acf4AdvancedNeedVol(AdmCmd c) {
  c = Acf4Advanced(c);
  c.vol_id_required = true;
  return c;
}
AdmCmd Acf1Dump(AdmCmd c) {
  c = Acf1ResnameVerifyIps(c);
  c.test_config = true;
  return c;
}
AdmCmd Acf2Shell(AdmCmd c) {
  c.show_in_usage = 2;
  c.iterate_volumes = c.res_name_required = c.backend_res_name = true;
  return c;
}
AdmCmd Acf2ShResname(AdmCmd c) {
  c.show_in_usage = 2;
  c.res_name_required = c.backend_res_name = true;
  return c;
}
AdmCmd Acf2Proxy(AdmCmd c) {
  c.show_in_usage = 2;
  c.res_name_required = c.backend_res_name = c.need_peer = c.is_proxy_cmd = true;
  return c;
}
AdmCmd Acf2Hook(AdmCmd c) {
  c.show_in_usage = 2;
  c.res_name_required = c.backend_res_name = c.use_cached_config_file = true;
  return c;
}
AdmCmd Acf2GenShell(AdmCmd c) {
  c.show_in_usage = 2;
  return c;
}
template <typename F>
AdmCmd With(AdmCmd c, F f) {
  f(c);
  return c;
}

}  // namespace

// The table. Definition order matters only within this file.
namespace {

const AdmCmd kAttach = Acf1MinorOnly(Cmd("attach", AdmAttach, CliCtx::kAttach));
const AdmCmd kDiskOptions = Acf1MinorOnly(Cmd("disk-options", AdmAttach, CliCtx::kAttach));
const AdmCmd kDetach = With(Acf1MinorOnly(Cmd("detach", AdmDrbdsetup, CliCtx::kDetach)),
                            [](AdmCmd& c) { c.takes_long = true; });
const AdmCmd kNewPeer = Acf1Connect(Cmd("new-peer", AdmNewPeer, CliCtx::kNewPeer));
const AdmCmd kDelPeer = Acf1Connect(Cmd("del-peer", AdmDrbdsetup, CliCtx::kDisconnect));
const AdmCmd kNewPath = With(Acf1Connect(Cmd("new-path", AdmPath, CliCtx::kPath)),
                             [](AdmCmd& c) { c.iterate_paths = true; });
const AdmCmd kDelPath = With(Acf1Connect(Cmd("del-path", AdmPath, CliCtx::kPath)),
                             [](AdmCmd& c) { c.iterate_paths = true; });
const AdmCmd kConnect = Acf1Connect(Cmd("connect", AdmConnect, CliCtx::kConnect));
const AdmCmd kNetOptions = Acf1Connect(Cmd("net-options", AdmNewPeer, CliCtx::kNetOptions));
const AdmCmd kDisconnect = Acf1Disconnect(Cmd("disconnect", AdmDrbdsetup, CliCtx::kDisconnect));
const AdmCmd kUp = Acf1ResnameVerifyIps(Cmd("up", AdmUpFn));
const AdmCmd kResOptions =
    Acf1Resname(Cmd("resource-options", AdmResource, CliCtx::kResourceOptions));
const AdmCmd kDown =
    With(Acf1Resname(Cmd("down", AdmDrbdsetup)), [](AdmCmd& c) { c.takes_long = true; });
const AdmCmd kPrimary = With(Acf1Resname(Cmd("primary", AdmDrbdsetup, CliCtx::kPrimary)),
                             [](AdmCmd& c) { c.takes_long = true; });
const AdmCmd kSecondary = With(Acf1Resname(Cmd("secondary", AdmDrbdsetup, CliCtx::kSecondary)),
                               [](AdmCmd& c) { c.takes_long = true; });
const AdmCmd kInvalidate = Acf1MinorOnly(Cmd("invalidate", AdmInvalidate, CliCtx::kInvalidateAdm));
const AdmCmd kInvalidateRemote =
    With(Acf1PeerDevice(Cmd("invalidate-remote", AdmDrbdsetup, CliCtx::kInvalidatePeer)),
         [](AdmCmd& c) { c.takes_long = true; });
const AdmCmd kOutdate = Acf1Default(Cmd("outdate", AdmOutdate));
const AdmCmd kResize = With(Acf1Default(Cmd("resize", AdmResize, CliCtx::kResize)),
                            [](AdmCmd& c) { c.disk_required = true; });
const AdmCmd kVerify = Acf1PeerDevice(Cmd("verify", AdmDrbdsetup, CliCtx::kVerify));
const AdmCmd kPauseSync = Acf1PeerDevice(Cmd("pause-sync", AdmDrbdsetup));
const AdmCmd kResumeSync = Acf1PeerDevice(Cmd("resume-sync", AdmDrbdsetup));
const AdmCmd kAdjust = With(Acf1ResnameVerifyIps(Cmd("adjust", AdmAdjustFn, CliCtx::kAdjust)),
                            [](AdmCmd& c) { c.vol_id_optional = true; });
const AdmCmd kAdjustWp = Acf1ResnameVerifyIps(Cmd("adjust-with-progress", AdmAdjustWp));
// drbd-utils >= 9.23: an adjust that prints the name of every resource adjust
// would change instead of changing it (see ScheduleDeferredCmd).
const AdmCmd kShListAdjustable =
    With(Acf2ShResname(Cmd("sh-list-adjustable", AdmAdjustFn, CliCtx::kAdjust)),
         [](AdmCmd& c) { c.vol_id_optional = true; });
int OutputResName(AdmState& st, const CmdCtx& ctx) {
  *st.out << ctx.res->name << "\n";
  return 0;
}
const AdmCmd kOutputResName = Cmd("", OutputResName);
const AdmCmd kWaitC = Acf1Wait(Cmd("wait-connect", AdmWaitC));
const AdmCmd kWaitCAdj = Acf1Wait(Cmd("wait-connect", AdmWaitC));  // internal, adjust
const AdmCmd kWaitSync = Acf1Wait(Cmd("wait-sync", AdmWaitC));
const AdmCmd kWaitCi = With(Cmd("wait-con-int", AdmWaitCi), [](AdmCmd& c) {
  c.show_in_usage = 1;
  c.verify_ips = true;
});
const AdmCmd kRole = Acf1Resname(Cmd("role", AdmDrbdsetup));
const AdmCmd kCstate = Acf1Disconnect(Cmd("cstate", AdmDrbdsetup));
const AdmCmd kDstate = With(Acf1MinorOnly(Cmd("dstate", AdmSetupAndMeta, CliCtx::kForceable)),
                            [](AdmCmd& c) { c.disk_required = false; });
const AdmCmd kStatus = With(Cmd("status", AdmDrbdsetup), [](AdmCmd& c) {
  c.show_in_usage = 1;
  c.uc_dialog = true;
  c.backend_res_name = true;
});
const AdmCmd kPeerDeviceOptions =
    Acf1PeerDevice(Cmd("peer-device-options", AdmPeerDevice, CliCtx::kPeerDeviceOptions));
const AdmCmd kDump = Acf1Dump(Cmd("dump", AdmDump));
const AdmCmd kDumpXml = Acf1Dump(Cmd("dump-xml", AdmDumpXml));
const AdmCmd kCreateMd = Acf1MinorOnly(Cmd("create-md", AdmCreateMd, CliCtx::kCreateMd));
const AdmCmd kShowGi = With(Acf1PeerDevice(Cmd("show-gi", AdmSetupAndMeta, CliCtx::kForceable)),
                            [](AdmCmd& c) { c.disk_required = true; });
const AdmCmd kGetGi = With(Acf1PeerDevice(Cmd("get-gi", AdmSetupAndMeta, CliCtx::kForceable)),
                           [](AdmCmd& c) { c.disk_required = true; });
const AdmCmd kDumpMd = Acf1MinorOnly(Cmd("dump-md", AdmDrbdmeta, CliCtx::kForceable));
const AdmCmd kWipeMd = Acf1MinorOnly(Cmd("wipe-md", AdmDrbdmeta, CliCtx::kForceable));
const AdmCmd kApplyAl = Acf1MinorOnly(Cmd("apply-al", AdmDrbdmeta, CliCtx::kForceable));
// Internal only (drbd-utils >= 9.23 also lists it as a command; 9.22's usage
// text does not, so it stays out of the command table here).
const AdmCmd kRepairMd = Acf1MinorOnly(Cmd("repair-md", AdmDrbdmeta, CliCtx::kForceable));
const AdmCmd kForgetPeer = Acf1Disconnect(Cmd("forget-peer", AdmForgetPeer, CliCtx::kForceable));
const AdmCmd kHidden =
    With(Cmd("hidden-commands", HiddenCmds), [](AdmCmd& c) { c.show_in_usage = 1; });
const AdmCmd kShNop = With(Acf2GenShell(Cmd("sh-nop", ShNop)), [](AdmCmd& c) {
  c.uc_dialog = true;
  c.test_config = true;
});
const AdmCmd kShResources = Acf2GenShell(Cmd("sh-resources", ShResources));
const AdmCmd kShResource = With(Acf2ShResname(Cmd("sh-resource", ShResource)),
                                [](AdmCmd& c) { c.vol_id_optional = true; });
const AdmCmd kShModParms = Acf2GenShell(Cmd("sh-mod-parms", ShModParms));
const AdmCmd kShDev = Acf2Shell(Cmd("sh-dev", ShDev));
const AdmCmd kShUdev =
    With(Acf2Hook(Cmd("sh-udev", ShUdev)), [](AdmCmd& c) { c.vol_id_required = true; });
const AdmCmd kShMinor = Acf2Shell(Cmd("sh-minor", ShMinor));
const AdmCmd kShLlDev = Acf2Shell(Cmd("sh-ll-dev", ShLlDev));
const AdmCmd kShMdDev =
    With(Acf2Shell(Cmd("sh-md-dev", ShMdDev)), [](AdmCmd& c) { c.disk_required = true; });
const AdmCmd kShMdIdx =
    With(Acf2Shell(Cmd("sh-md-idx", ShMdIdx)), [](AdmCmd& c) { c.disk_required = true; });
const AdmCmd kShIp = With(Acf2Shell(Cmd("sh-ip", ShIp)), [](AdmCmd& c) {
  c.need_peer = true;
  c.iterate_paths = true;
});
const AdmCmd kShLrOf = Acf2Shell(Cmd("sh-lr-of", ShLres));
const AdmCmd kProxyUp = Acf2Proxy(Cmd("proxy-up", AdmProxyUp));
const AdmCmd kProxyDown = Acf2Proxy(Cmd("proxy-down", AdmProxyDown));
const AdmCmd kNewResource =
    Acf2ShResname(Cmd("new-resource", AdmResource, CliCtx::kResourceOptions));
const AdmCmd kNewMinor = Acf4Advanced(Cmd("new-minor", AdmNewMinor, CliCtx::kDeviceOptions));
const AdmCmd kDelMinor = With(Acf1MinorOnly(Cmd("del-minor", AdmDrbdsetup)), [](AdmCmd& c) {
  c.show_in_usage = 4;
  c.disk_required = false;
});
const AdmCmd kKhelper[] = {
    Acf3ResHandler(Cmd("before-resync-target", AdmKhelper)),
    Acf3ResHandler(Cmd("after-resync-target", AdmKhelper)),
    Acf3ResHandler(Cmd("before-resync-source", AdmKhelper)),
    Acf3ResHandler(Cmd("pri-on-incon-degr", AdmKhelper)),
    Acf3ResHandler(Cmd("pri-lost-after-sb", AdmKhelper)),
    Acf3ResHandler(Cmd("fence-peer", AdmKhelper)),
    Acf3ResHandler(Cmd("local-io-error", AdmKhelper)),
    Acf3ResHandler(Cmd("pri-lost", AdmKhelper)),
    Acf3ResHandler(Cmd("initial-split-brain", AdmKhelper)),
    Acf3ResHandler(Cmd("split-brain", AdmKhelper)),
    Acf3ResHandler(Cmd("out-of-sync", AdmKhelper)),
    Acf3ResHandler(Cmd("unfence-peer", AdmKhelper)),
    Acf3ResHandler(Cmd("quorum-lost", AdmKhelper)),
    Acf3ResHandler(Cmd("disconnected", AdmKhelper)),
};
const AdmCmd kSuspendIo = With(Acf4Advanced(Cmd("suspend-io", AdmDrbdsetup)),
                               [](AdmCmd& c) { c.backend_res_name = false; });
const AdmCmd kResumeIo = With(Acf4Advanced(Cmd("resume-io", AdmDrbdsetup)),
                              [](AdmCmd& c) { c.backend_res_name = false; });
const AdmCmd kSetGi =
    With(Acf4AdvancedNeedVol(Cmd("set-gi", AdmDrbdmeta, CliCtx::kWildcard)), [](AdmCmd& c) {
      c.disk_required = true;
      c.need_peer = true;
    });
const AdmCmd kNewCurrentUuid =
    With(Acf4AdvancedNeedVol(Cmd("new-current-uuid", AdmDrbdsetup, CliCtx::kNewCurrentUuid)),
         [](AdmCmd& c) { c.backend_res_name = false; });
const AdmCmd kCheckResize = Acf4Advanced(Cmd("check-resize", AdmChkResize));

// Internal commands.
const AdmCmd kResOptionsDefaults =
    Acf1Resname(Cmd("resource-options", AdmResource, CliCtx::kResourceOptions));
const AdmCmd kDiskOptionsDefaults = Acf1MinorOnly(Cmd("disk-options", AdmAttach, CliCtx::kAttach));
const AdmCmd kNetOptionsDefaults = Acf1Connect(Cmd("net-options", AdmNewPeer, CliCtx::kNetOptions));
const AdmCmd kPeerDeviceOptionsDefaults =
    Acf1Connect(Cmd("peer-device-options", AdmPeerDevice, CliCtx::kPeerDeviceOptions));
const AdmCmd kProxyConnDown = Acf2Proxy(Cmd("", DoProxyConnDown));
const AdmCmd kProxyConnUp = Acf2Proxy(Cmd("", DoProxyConnUp));
const AdmCmd kProxyConnPlugins = Acf2Proxy(Cmd("", DoProxyConnPlugins));
const AdmCmd kProxyReconf = Acf2Proxy(Cmd("", DoProxyReconf));
const AdmCmd kInvalidateSetup =
    Acf1MinorOnly(Cmd("invalidate", AdmDrbdsetupSilent, CliCtx::kInvalidate));
const AdmCmd kForgetPeerSetup = Acf1Disconnect(Cmd("forget-peer", AdmDrbdsetupSilent));
const AdmCmd kInvalidateMeta = Acf1MinorOnly(Cmd("invalidate", AdmDrbdmeta, CliCtx::kForceable));
const AdmCmd kForgetPeerMeta =
    With(Acf1MinorOnly(Cmd("forget-peer", AdmDrbdmeta, CliCtx::kForceable)), [](AdmCmd& c) {
      c.backend_res_name = true;
      c.need_peer = true;
    });

const AdmCmd* const kCommands[] = {
    &kAttach,
    &kDiskOptions,
    &kDetach,
    &kNewPeer,
    &kDelPeer,
    &kNewPath,
    &kDelPath,
    &kConnect,
    &kNetOptions,
    &kDisconnect,
    &kUp,
    &kResOptions,
    &kPeerDeviceOptions,
    &kDown,
    &kPrimary,
    &kSecondary,
    &kInvalidate,
    &kInvalidateRemote,
    &kOutdate,
    &kResize,
    &kVerify,
    &kPauseSync,
    &kResumeSync,
    &kAdjust,
    &kAdjustWp,
    &kWaitC,
    &kWaitSync,
    &kWaitCi,
    &kRole,
    &kCstate,
    &kDstate,
    &kStatus,
    &kDump,
    &kDumpXml,

    &kCreateMd,
    &kShowGi,
    &kGetGi,
    &kDumpMd,
    &kWipeMd,
    &kApplyAl,
    &kForgetPeer,

    &kHidden,

    &kShNop,
    &kShResources,
    &kShResource,
    &kShModParms,
    &kShDev,
    &kShUdev,
    &kShMinor,
    &kShLlDev,
    &kShMdDev,
    &kShMdIdx,
    &kShIp,
    &kShLrOf,
    &kShListAdjustable,

    &kProxyUp,
    &kProxyDown,

    &kNewResource,
    &kNewMinor,
    &kDelMinor,

    &kKhelper[0],
    &kKhelper[1],
    &kKhelper[2],
    &kKhelper[3],
    &kKhelper[4],
    &kKhelper[5],
    &kKhelper[6],
    &kKhelper[7],
    &kKhelper[8],
    &kKhelper[9],
    &kKhelper[10],
    &kKhelper[11],
    &kKhelper[12],
    &kKhelper[13],

    &kSuspendIo,
    &kResumeIo,
    &kSetGi,
    &kNewCurrentUuid,
    &kCheckResize,
};

}  // namespace

std::span<const AdmCmd* const> AllCommands() { return kCommands; }

const AdmCmd& NewMinorCmd() { return kNewMinor; }
const AdmCmd& NewResourceCmd() { return kNewResource; }
const AdmCmd& ResOptionsCmd() { return kResOptions; }
const AdmCmd& ResOptionsDefaultsCmd() { return kResOptionsDefaults; }
const AdmCmd& AttachCmd() { return kAttach; }
const AdmCmd& DiskOptionsCmd() { return kDiskOptions; }
const AdmCmd& DiskOptionsDefaultsCmd() { return kDiskOptionsDefaults; }
const AdmCmd& ResizeCmd() { return kResize; }
const AdmCmd& NewPeerCmd() { return kNewPeer; }
const AdmCmd& DelPeerCmd() { return kDelPeer; }
const AdmCmd& NewPathCmd() { return kNewPath; }
const AdmCmd& DelPathCmd() { return kDelPath; }
const AdmCmd& ConnectCmd() { return kConnect; }
const AdmCmd& NetOptionsCmd() { return kNetOptions; }
const AdmCmd& NetOptionsDefaultsCmd() { return kNetOptionsDefaults; }
const AdmCmd& PeerDeviceOptionsDefaultsCmd() { return kPeerDeviceOptionsDefaults; }
const AdmCmd& DisconnectCmd() { return kDisconnect; }
const AdmCmd& DetachCmd() { return kDetach; }
const AdmCmd& DelMinorCmd() { return kDelMinor; }
const AdmCmd& ProxyConnDownCmd() { return kProxyConnDown; }
const AdmCmd& ProxyConnUpCmd() { return kProxyConnUp; }
const AdmCmd& ProxyConnPluginsCmd() { return kProxyConnPlugins; }
const AdmCmd& ProxyReconfCmd() { return kProxyReconf; }
const AdmCmd& DumpCmd() { return kDump; }
const AdmCmd& DumpXmlCmd() { return kDumpXml; }
const AdmCmd& AdjustCmd() { return kAdjust; }
const AdmCmd& AdjustWithProgressCmd() { return kAdjustWp; }
const AdmCmd& ShListAdjustableCmd() { return kShListAdjustable; }
const AdmCmd& WaitConnectAdjCmd() { return kWaitCAdj; }
const AdmCmd& HiddenCommandsCmd() { return kHidden; }

std::vector<CliField> CliFields(CliCtx ctx) {
  auto from = [](cfg::OptContext id) {
    std::vector<CliField> v;
    for (const cfg::OptionDef* f : cfg::Context(id).fields) {
      // Options added after 9.22 are offered too, as drbd-utils HEAD does
      // (so e.g. `--disc` is ambiguous there, as in HEAD).
      v.push_back({std::string(f->name), f->argument_is_optional});
    }
    return v;
  };
  auto without = [](std::vector<CliField> v, std::string_view name) {
    std::erase_if(v, [&](const CliField& f) { return f.name == name; });
    return v;
  };
  switch (ctx) {
    case CliCtx::kNone:
    case CliCtx::kWildcard:
    case CliCtx::kPath:
      return {};
    case CliCtx::kAttach:
      return from(cfg::OptContext::kAttach);
    case CliCtx::kDetach:
      return from(cfg::OptContext::kDetach);
    case CliCtx::kNewPeer: {
      std::vector<CliField> v{{"transport", false}};
      for (CliField& f : without(from(cfg::OptContext::kNetOptions), "transport")) {
        v.push_back(std::move(f));
      }
      return v;
    }
    case CliCtx::kNetOptions:
      return without(from(cfg::OptContext::kNetOptions), "transport");
    case CliCtx::kDisconnect:
      return from(cfg::OptContext::kDisconnect);
    case CliCtx::kConnect:
      return from(cfg::OptContext::kConnect);
    case CliCtx::kResourceOptions:
      return from(cfg::OptContext::kResourceOptions);
    case CliCtx::kPrimary:
      return from(cfg::OptContext::kPrimary);
    case CliCtx::kSecondary:
      return from(cfg::OptContext::kSecondary);
    case CliCtx::kInvalidateAdm: {
      std::vector<CliField> v{{"force", true}};
      for (CliField& f : from(cfg::OptContext::kInvalidate)) v.push_back(std::move(f));
      return v;
    }
    case CliCtx::kInvalidate:
      return from(cfg::OptContext::kInvalidate);
    case CliCtx::kInvalidatePeer:
      return from(cfg::OptContext::kInvalidatePeer);
    case CliCtx::kResize:
      return from(cfg::OptContext::kResize);
    case CliCtx::kVerify:
      return from(cfg::OptContext::kVerify);
    case CliCtx::kPeerDeviceOptions:
      return from(cfg::OptContext::kPeerDeviceOptions);
    case CliCtx::kDeviceOptions:
      return from(cfg::OptContext::kNewMinor);
    case CliCtx::kNewCurrentUuid:
      return from(cfg::OptContext::kNewCurrentUuid);
    // drbdadm-only contexts: options drbdadm itself handles or hands to drbdmeta.
    case CliCtx::kAdjust:
      return from(cfg::OptContext::kAdjust);
    case CliCtx::kForceable:
      return from(cfg::OptContext::kForceable);
    case CliCtx::kCreateMd:
      return from(cfg::OptContext::kCreateMd);
  }
  return {};
}

const AdmCmd* FindCommand(std::string_view name, AdmState& st) {
  auto substitute = [&](std::string_view deprecated, std::string_view replacement) {
    if (name == deprecated) {
      *st.err << "'" << st.progname << " " << deprecated << "' is deprecated, use '" << st.progname
              << " " << replacement << "' instead.\n";
      name = replacement;
    }
  };
  substitute("state", "role");
  substitute("outdate-peer", "fence-peer");
  for (const AdmCmd* c : kCommands) {
    if (c->name == name) return c;
  }
  return nullptr;
}

std::string ProxyConnectionName(const cfg::Resource& res, const cfg::Connection& conn) {
  std::string inside = "UNKNOWN", outside = "UNKNOWN";
  if (!conn.paths.empty()) {
    for (const cfg::HnameAddress& h : conn.paths.front().hname_address_pairs) {
      if (h.host_info == nullptr) continue;
      (h.used_as_me ? inside : outside) = JoinNames(h.host_info->on_hosts, '_');
    }
  }
  return (conn.name.empty() ? res.name : conn.name) + "-" + outside + "-" + inside;
}

std::string OldProxyConnectionName(const cfg::Resource& res, const cfg::Connection& conn) {
  const cfg::Path* path = conn.paths.empty() ? nullptr : &conn.paths.front();
  return (conn.name.empty() ? res.name : conn.name) + "-" +
         (path != nullptr && path->peer_proxy != nullptr
              ? JoinNames(path->peer_proxy->on_hosts, '_')
              : "UNKNOWN") +
         "-" +
         (path != nullptr && path->my_proxy != nullptr ? JoinNames(path->my_proxy->on_hosts, '_')
                                                       : "UNKNOWN");
}

int FindBackendOption(const AdmState& st, std::string_view prefix) {
  for (size_t i = 0; i < st.backend_options.size(); ++i) {
    if (st.backend_options[i].compare(0, prefix.size(), prefix) == 0) return static_cast<int>(i);
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Dispatch and scheduling.

DeferredRef ScheduleDeferredCmd(AdmState& st, const AdmCmd& cmd, const CmdCtx& ctx, Stage stage,
                                bool once) {
  return ScheduleDeferredCmd(st, cmd, ctx, stage, DeferredRef{}, once);
}

DeferredRef ScheduleDeferredCmd(AdmState& st, const AdmCmd& cmd, const CmdCtx& ctx, Stage stage,
                                DeferredRef depends_on, bool once) {
  const AdmCmd* c = &cmd;
  bool once_per_res = false;
  if (st.list_adjustable) {
    // sh-list-adjustable: whatever adjust would run becomes one "print the
    // resource name", once per resource (by name: the configured and the
    // running resource are different objects).
    c = &kOutputResName;
    stage = Stage::kPrereq;
    once_per_res = true;
  }
  const int si = static_cast<int>(stage);
  auto& q = st.deferred[static_cast<size_t>(si)];
  auto& meta = st.deferred_meta[static_cast<size_t>(si)];
  meta.resize(q.size());
  if (once || once_per_res) {
    for (size_t i = 0; i < q.size(); ++i) {
      const CmdCtx& d = q[i];
      if (d.cmd != c) continue;
      if (d.res != ctx.res &&
          (d.res == nullptr || ctx.res == nullptr || d.res->name != ctx.res->name)) {
        continue;
      }
      if (once_per_res) return DeferredRef{si, i};
      int dv = d.vol ? d.vol->vnr : -1;
      int cv = ctx.vol ? ctx.vol->vnr : -1;
      if (d.res == ctx.res && d.conn == ctx.conn && dv == cv) return DeferredRef{si, i};
    }
  }
  CmdCtx d = ctx;
  d.cmd = c;
  q.push_back(d);
  meta.push_back(DeferredMeta{depends_on, false});
  return DeferredRef{si, q.size() - 1};
}

namespace {
DeferredMeta* MetaOf(AdmState& st, DeferredRef ref) {
  if (!ref.valid() || ref.stage >= kStageCount) return nullptr;
  auto& meta = st.deferred_meta[static_cast<size_t>(ref.stage)];
  meta.resize(st.deferred[static_cast<size_t>(ref.stage)].size());
  return ref.index < meta.size() ? &meta[ref.index] : nullptr;
}
}  // namespace

void CancelDeferredCmd(AdmState& st, DeferredRef ref) {
  if (DeferredMeta* m = MetaOf(st, ref)) m->done = true;
}

void CancelDeferredWaits(AdmState& st, const cfg::Resource* res) {
  const size_t si = static_cast<size_t>(Stage::kWaitConnect);
  auto& q = st.deferred[si];
  for (size_t i = 0; i < q.size(); ++i) {
    if (q[i].res == res) CancelDeferredCmd(st, DeferredRef{static_cast<int>(si), i});
  }
}

const AdmCmd* DeferredCmdOf(const AdmState& st, DeferredRef ref) {
  if (!ref.valid() || ref.stage >= kStageCount) return nullptr;
  const auto& q = st.deferred[static_cast<size_t>(ref.stage)];
  return ref.index < q.size() ? q[ref.index].cmd : nullptr;
}

int CallCmdFn(AdmState& st, const CmdCtx& ctx, OnError on_error) {
  const AdmCmd& cmd = *ctx.cmd;
  const cfg::Volume* vol = ctx.vol;
  if (cmd.disk_required && vol && (!vol->disk || !vol->meta_disk || !vol->meta_index)) {
    *st.err << "The " << cmd.name
            << " command requires a local disk, but the configuration gives none.\n";
    if (on_error == OnError::kExitOnFail) throw AdmExit{ToInt(ExitCode::kConfigInvalid)};
    return ToInt(ExitCode::kConfigInvalid);
  }
  int rv = 0;
  bool iterate_paths = ctx.path ? false : cmd.iterate_paths;
  if (iterate_paths && ctx.conn) {
    CmdCtx tmp = ctx;
    for (cfg::Path& p : ctx.conn->paths) {
      if (p.ignore) continue;
      tmp.path = &p;
      rv = cmd.fn(st, tmp);
      if (rv >= 20 && on_error == OnError::kExitOnFail) throw AdmExit{rv};
    }
  } else {
    rv = cmd.fn(st, ctx);
    if (rv >= 20 && on_error == OnError::kExitOnFail) throw AdmExit{rv};
  }
  return rv;
}

int CallCmd(AdmState& st, const AdmCmd& cmd, const CmdCtx& ctx, OnError on_error) {
  cfg::Resource* res = ctx.res;
  if (res && !res->peers_addrs_set && cmd.need_peer) {
    cfg::SetPeerInResource(st.config, *res, cmd.need_peer, false, *st.diag);
  }
  bool iterate_vols = ctx.vol ? false : cmd.iterate_volumes;
  bool iterate_conns = ctx.conn ? false : cmd.need_peer;
  CmdCtx tmp = ctx;
  tmp.cmd = &cmd;
  int ret = 0;
  cfg::Volumes* vols = MyVolumes(res);
  if (iterate_vols && iterate_conns) {
    if (vols) {
      for (cfg::Volume& v : *vols) {
        tmp.vol = &v;
        for (cfg::Connection& c : res->connections) {
          if (c.ignore) continue;
          tmp.conn = &c;
          ret = CallCmdFn(st, tmp, on_error);
          if (ret) return ret;
        }
      }
    }
  } else if (iterate_vols) {
    if (vols) {
      for (cfg::Volume& v : *vols) {
        tmp.vol = &v;
        ret = CallCmdFn(st, tmp, on_error);
        if (ret) break;
      }
    }
  } else if (iterate_conns) {
    if (IsSetGiSingleNode(tmp)) {
      ret = CallCmdFn(st, tmp, on_error);
    } else if (res) {
      for (cfg::Connection& c : res->connections) {
        if (c.ignore) continue;
        tmp.conn = &c;
        ret = CallCmdFn(st, tmp, on_error);
        if (ret) break;
      }
    }
  } else {
    ret = CallCmdFn(st, tmp, on_error);
  }
  return ret;
}

namespace {

const char* StageString(int stage) {
  // drbd-utils has no name for the wait-connect stage (glibc prints "(null)").
  static const char* const kNames[kStageCount] = {
      "create res",  "adjust res",         "prepare disk", "prepare disk", "prepare net",
      "prepare net", "prepare net",        "prepare net",  "adjust net",   "adjust peer_devices",
      "adjust disk", "attempt to connect", "(null)",
  };
  return kNames[stage];
}

bool DependencyUnmet(AdmState& st, const DeferredMeta& m) {
  if (!m.depends_on.valid()) return false;
  DeferredMeta* dep = MetaOf(st, m.depends_on);
  return dep != nullptr && !dep->done;
}

// Runs the queued commands of one stage that are not done and whose
// dependency is done; *ran counts them.
int RunStage(AdmState& st, int stage, int* ran) {
  auto& q = st.deferred[static_cast<size_t>(stage)];
  auto& meta = st.deferred_meta[static_cast<size_t>(stage)];
  meta.resize(q.size());
  int rv = 0;
  const cfg::Resource* last_res = nullptr;
  if (!q.empty() && st.adjust_with_progress) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "\n%15s:", StageString(stage));
    *st.out << buf << std::flush;
  }
  for (size_t i = 0; i < q.size(); ++i) {
    if (meta[i].done || DependencyUnmet(st, meta[i])) continue;
    const CmdCtx d = q[i];
    meta[i].done = true;
    ++*ran;
    int r = 0;
    if (d.res->skip_further_deferred_command) {
      if (st.adjust_with_progress) {
        if (d.res != last_res) *st.out << " [skipped:" << d.res->name << "]";
      } else {
        *st.err << st.progname << ": " << d.cmd->name << " " << d.res->name
                << ": skipped due to earlier error\n";
      }
    } else {
      if (st.adjust_with_progress && d.res != last_res) *st.out << " " << d.res->name;
      r = CallCmdFn(st, d, OnError::kKeepRunning);
      if (r) {
        Stage s = static_cast<Stage>(stage);
        if (s == Stage::kPrereq || s == Stage::kDiskPrepDown || s == Stage::kDiskPrepUp ||
            s == Stage::kNetPrepDown || s == Stage::kNetPrepUp) {
          d.res->skip_further_deferred_command = true;
        }
        if (st.adjust_with_progress) *st.out << ":failed(" << d.cmd->name << ":" << r << ")";
      }
    }
    last_res = d.res;
    if (r > rv) rv = r;
  }
  return rv;
}

bool AllDone(AdmState& st) {
  for (int stage = 0; stage < kStageCount; ++stage) {
    auto& meta = st.deferred_meta[static_cast<size_t>(stage)];
    meta.resize(st.deferred[static_cast<size_t>(stage)].size());
    for (const DeferredMeta& m : meta) {
      if (!m.done) return false;
    }
  }
  return true;
}

}  // namespace

// Stage by stage, repeated while commands whose dependency ran in a later
// stage are still waiting (drbd-utils >= 9.23).
int RunDeferredCmds(AdmState& st) {
  int ret = 0;
  if (st.adjust_with_progress) *st.out << "[";
  for (;;) {
    int ran = 0;
    for (int stage = 0; stage < kStageCount; ++stage) {
      if (RunStage(st, stage, &ran)) {
        if (!st.adjust_with_progress) return 1;
        ret = 1;
      }
    }
    if (ran == 0 || AllDone(st)) break;
  }
  for (int stage = 0; stage < kStageCount; ++stage) {
    st.deferred[static_cast<size_t>(stage)].clear();
    st.deferred_meta[static_cast<size_t>(stage)].clear();
  }
  if (st.adjust_with_progress) *st.out << "\n]\n";
  return ret;
}

int AdmUp(AdmState& st, const CmdCtx& ctx) {
  cfg::Resource& res = *ctx.res;
  CmdCtx tmp = ctx;
  ScheduleDeferredCmd(st, kNewResource, ctx, Stage::kPrereq);
  cfg::SetPeerInResource(st.config, res, true, false, *st.diag);
  for (cfg::Connection& conn : res.connections) {
    if (conn.ignore) continue;
    tmp.conn = &conn;
    ScheduleDeferredCmd(st, kNewPeer, tmp, Stage::kNetPrepUp);
    ScheduleDeferredCmd(st, kNewPath, tmp, Stage::kNetPath);
    ScheduleDeferredCmd(st, kConnect, tmp, Stage::kNetConnect);
    for (cfg::PeerDevice& pd : conn.peer_devices) {
      if (pd.pd_options.empty()) continue;
      CmdCtx tmp2 = tmp;
      tmp2.vol = conn.peer ? cfg::FindVolume(conn.peer->volumes, pd.vnr) : nullptr;
      if (!tmp2.vol) continue;
      ScheduleDeferredCmd(st, kPeerDeviceOptions, tmp2, Stage::kPeerDevice);
    }
  }
  tmp.conn = nullptr;
  if (cfg::Volumes* vols = MyVolumes(&res)) {
    for (cfg::Volume& v : *vols) {
      tmp.vol = &v;
      ScheduleDeferredCmd(st, kNewMinor, tmp, Stage::kDiskPrepUp);
      if (v.disk) ScheduleDeferredCmd(st, kAttach, tmp, Stage::kDisk);
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------
// Usage.

namespace {

constexpr const char* kVersionText =
    "Version: 9.22.0 (api:2)\n"
    "GIT-hash: 409097fe02187f83790b88ac3e0d94f3c167adab reproducible build, 2023-01-09 14:51:18\n";

}  // namespace

void PrintUsageAndExit(AdmState& st, const AdmCmd* cmd, const char* addinfo, int status) {
  std::ostream& out = *st.out;
  out << "\nUSAGE: " << st.progname << " " << (cmd ? cmd->name : "COMMAND")
      << " [OPTION...] {all|RESOURCE...}\n\nGENERAL OPTIONS:\n";
  static const struct {
    const char* name;
    char c;
    bool arg;
  } kGeneral[] = {
      {"stacked", 'S', false},    {"dry-run", 'd', false},       {"verbose", 'v', false},
      {"config-file", 'c', true}, {"config-to-test", 't', true}, {"config-to-exclude", 'E', true},
      {"drbdsetup", 's', true},   {"drbdmeta", 'm', true},       {"drbd-proxy-ctl", 'p', true},
      {"sh-varname", 'n', true},  {"version", 'V', false},       {"setup-option", 'W', true},
      {"help", 'h', false},
  };
  for (const auto& g : kGeneral) {
    if (g.arg) {
      out << "  --" << g.name << "=..., -" << g.c << " ...\n";
    } else {
      out << "  --" << g.name << ", -" << g.c << "\n";
    }
  }
  if (cmd && cmd->cli != CliCtx::kNone) {
    out << "\nOPTIONS FOR " << cmd->name << ":\n";
    for (const CliField& f : CliFields(cmd->cli)) {
      out << "  --" << f.name << (f.optional_arg ? "[=...]" : "=...") << "\n";
    }
  }
  if (!cmd) {
    out << "\nCOMMANDS:\n";
    PrintCmds(st, 1);
  }
  out << "\n" << kVersionText;
  if (addinfo) out << "\n" << addinfo << "\n";
  throw AdmExit{status};
}

}  // namespace drbd::adm
