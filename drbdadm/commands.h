// SPDX-License-Identifier: GPL-2.0-or-later
// The drbdadm command table: every verb (and the internal commands `up` and
// `adjust` schedule) with the flags that drive dispatch — which resource
// arguments it takes, whether it iterates volumes/connections/paths, which
// backend options it accepts — and the functions that build the
// drbdsetup/drbdmeta command lines. Flags and order follow drbd-utils 9.22
// (adm_cmd table in drbdadm_main.c).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "drbdadm/adm.h"
#include "lib/config/dump.h"

namespace drbd::adm {

// Which set of backend (drbdsetup/drbdmeta) options a command accepts on the
// drbdadm command line; mirrors drbd-utils' per-command context_def.
enum class CliCtx {
  kNone,        // no backend options
  kAttach,      // size + changeable disk options
  kDetach,      // force, diskless
  kNewPeer,     // transport + changeable net options
  kNetOptions,  // changeable net options
  kDisconnect,  // force
  kPath,        // none
  kConnect,     // tentative, discard-my-data
  kResourceOptions,
  kPrimary,         // force
  kSecondary,       // force
  kInvalidateAdm,   // force[=], sync-from-peer-node-id, reset-bitmap
  kInvalidate,      // sync-from-peer-node-id, reset-bitmap
  kInvalidatePeer,  // reset-bitmap
  kResize,
  kVerify,     // start, stop
  kAdjust,     // skip-disk, skip-net, tentative, discard-my-data
  kForceable,  // force[=]
  kPeerDeviceOptions,
  kCreateMd,        // max-peers, peer-max-bio-size, al-stripes, al-stripe-size-kB, force
  kDeviceOptions,   // max-bio-size, diskless
  kNewCurrentUuid,  // clear-bitmap, force-resync
  kWildcard,        // anything goes
};

// One backend option as drbdadm's command line knows it.
struct CliField {
  std::string name;
  bool optional_arg = false;  // --name[=value]; else --name=value required
};

// The backend options of ctx, in drbd-utils' order. Empty for kNone/kWildcard.
std::vector<CliField> CliFields(CliCtx ctx);

using CmdFn = int (*)(AdmState& st, const CmdCtx& ctx);

// A drbdadm verb or internal command (drbd-utils struct adm_cmd).
struct AdmCmd {
  std::string_view name;
  CmdFn fn = nullptr;
  CliCtx cli = CliCtx::kNone;
  // 0: never shown; 1: normal help; 2: sh-* helpers; 3: kernel handlers;
  // 4: advanced (the last three on `hidden-commands`).
  int show_in_usage = 0;
  bool res_name_required = false;  // needs a resource argument
  bool backend_res_name = false;   // drbdsetup takes the resource name
  bool takes_long = false;         // cmd-timeout-medium instead of -short
  bool vol_id_required = false;
  bool iterate_volumes = false;
  bool vol_id_optional = false;
  bool verify_ips = false;
  bool use_cached_config_file = false;
  bool need_peer = false;  // iterates connections
  bool is_proxy_cmd = false;
  bool uc_dialog = false;
  bool test_config = false;  // allows -t
  bool disk_required = false;
  bool iterate_paths = false;
};

// The user-visible commands, in drbd-utils' table order.
std::span<const AdmCmd* const> AllCommands();

// Finds a command by name (after the deprecated-name substitutions
// state→role and outdate-peer→fence-peer, reported on err). nullptr if none.
const AdmCmd* FindCommand(std::string_view name, AdmState& st);

const AdmCmd& DumpCmd();
const AdmCmd& DumpXmlCmd();
const AdmCmd& AdjustCmd();
const AdmCmd& AdjustWithProgressCmd();
const AdmCmd& ShListAdjustableCmd();
const AdmCmd& HiddenCommandsCmd();

// Dump printer options for this run (-v, -d, host name, all vs named).
cfg::DumpOptions DumpOptionsFor(const AdmState& st);

// How call_cmd reacts to a failing command.
enum class OnError { kKeepRunning, kExitOnFail };

// drbd-utils call_cmd(): runs cmd for ctx, iterating volumes and/or
// connections when ctx leaves them open and the command asks for it.
int CallCmd(AdmState& st, const AdmCmd& cmd, const CmdCtx& ctx, OnError on_error);
// drbd-utils __call_cmd_fn(): one invocation (iterating paths if needed).
int CallCmdFn(AdmState& st, const CmdCtx& ctx, OnError on_error);

// Runs the deferred commands stage by stage; returns 1 if any failed.
int RunDeferredCmds(AdmState& st);

// Prints the usage text and throws AdmExit(status).
[[noreturn]] void PrintUsageAndExit(AdmState& st, const AdmCmd* cmd, const char* addinfo,
                                    int status);

// Name of conn's drbd-proxy connection (from its first path), as drbd-utils
// >= 9.23 forms it: RES-OUTSIDE-INSIDE, where INSIDE names the DRBD node of
// the address used as this host's and OUTSIDE the peer's (host names joined
// by '_'); RES is the connection's name if it has one. A missing part reads
// "UNKNOWN".
std::string ProxyConnectionName(const cfg::Resource& res, const cfg::Connection& conn);
// The name drbd-utils 9.22 gave it: RES-PEER_PROXY_HOSTS-MY_PROXY_HOSTS.
// proxy-down removes it too, and adjust falls back to it, so connections set
// up by 9.22 are still found.
std::string OldProxyConnectionName(const cfg::Resource& res, const cfg::Connection& conn);

// Whether a backend option starting with prefix was given (drbd-utils
// find_backend_option); returns its index or -1.
int FindBackendOption(const AdmState& st, std::string_view prefix);

}  // namespace drbd::adm
