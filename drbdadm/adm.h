// SPDX-License-Identifier: GPL-2.0-or-later
// The shared state of one drbdadm run and the seam between the command layer
// (drbdadm/commands*.cc) and adjust (drbdadm/adjust.cc): command contexts,
// configuration stages and the deferred-command scheduler. Stage order and
// semantics follow drbd-utils 9.22 (enum drbd_cfg_stage).
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "lib/config/ast.h"
#include "lib/config/diag.h"
#include "lib/config/postparse.h"

namespace drbd::adm {

// Configuration stages: commands scheduled for `up`/`adjust` run stage by
// stage across all named resources.
enum class Stage {
  kPrereq,         // new-resource
  kResource,       // resource-options
  kDiskPrepDown,   // detach, del-minor
  kDiskPrepUp,     // new-minor
  kNetDisconnect,  // disconnect
  kNetPrepDown,    // del-peer, del-path, proxy down
  kNetPrepUp,      // new-peer, proxy up
  kNetPath,        // new-path
  kNet,            // net-options
  kPeerDevice,     // peer-device-options
  kDisk,           // apply-al + attach, disk-options, resize
  kNetConnect,     // connect
  kWaitConnect,    // wait-connect-connection (adjust, drbd-utils >= 9.23)
};
constexpr int kStageCount = 13;

// A queued deferred command: its stage and its index in that stage's queue.
struct DeferredRef {
  int stage = -1;
  size_t index = 0;
  bool valid() const { return stage >= 0; }
};

// Scheduling state of a queued command (parallel to AdmState::deferred): it
// runs only once the command it depends on is done (drbd-utils >= 9.23).
struct DeferredMeta {
  DeferredRef depends_on;
  bool done = false;
};

struct AdmCmd;  // a drbdadm verb or internal command; defined by the command layer

// What a command operates on. Null members mean "all" / "not applicable".
struct CmdCtx {
  cfg::Resource* res = nullptr;
  cfg::Volume* vol = nullptr;
  cfg::Connection* conn = nullptr;
  cfg::Path* path = nullptr;
  const AdmCmd* cmd = nullptr;
  // adjust's proxy reconfiguration only (drbdadm/adjust.cc): the command text
  // ("set plugin r0-b-a 0 zstd level 4"), run as `drbd-proxy-ctl -c TEXT`;
  // null otherwise (shared: contexts are copied into the queues, and almost
  // none carries a text).
  std::shared_ptr<const std::string> proxy_reconf;
};

// One drbdadm invocation's state.
struct AdmState {
  cfg::Config config;
  cfg::PostParseOptions pp;  // hostname, dry_run, no_tty, stacked, ...
  int verbose = 0;
  bool dry_run = false;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  cfg::DiagSink* diag = nullptr;
  std::vector<std::string> backend_options;  // options passed through to drbdsetup/drbdmeta
  bool adjust_more_than_one_resource = false;
  // adjust: the running configuration parsed from `drbdsetup show` (kept
  // alive for the deferred commands that point into it), whether the
  // all-resources `drbdsetup show` ran, and the ADJUST_* flags computed
  // once from --skip-disk/--skip-net (0 = not yet computed).
  cfg::Config running_config;
  bool drbdsetup_show_parsed = false;
  int adjust_flags = 0;

  // Command layer (drbdadm/cli.cc, drbdadm/commands.cc).
  bool no_tty = false;       // stdin or stdout is not a terminal
  bool is_drbd_top = false;  // -S, or the named resource is stacked
  bool do_verify_ips = false;
  bool adjust_with_progress = false;  // adjust-with-progress
  // sh-list-adjustable: ScheduleDeferredCmd queues "print the resource name"
  // (once per resource) instead of every command adjust schedules.
  bool list_adjustable = false;
  bool config_from_stdin = false;
  std::string progname = "drbdadm";
  std::string drbdsetup = "drbdsetup";  // helper paths (drbd-utils: next to argv[0])
  std::string drbdmeta = "drbdmeta";
  std::string drbd_proxy_ctl = "drbd-proxy-ctl";
  std::string sh_varname;  // --sh-varname; empty when unset
  int number_of_minors = 0;
  bool dump_all = false;  // dump/dump-xml of all resources (header printed)
  // Deferred commands per stage, in scheduling order (ScheduleDeferredCmd).
  // Deques: `up all` queues ~10 commands per resource, which grow in chunks
  // instead of being copied at each doubling.
  std::array<std::deque<CmdCtx>, kStageCount> deferred;
  std::array<std::deque<DeferredMeta>, kStageCount> deferred_meta;
};

// Queues cmd for ctx at a stage (drbd-utils schedule_deferred_cmd). When the
// same (cmd, ctx) is scheduled twice with SCHEDULE_ONCE semantics, once.
DeferredRef ScheduleDeferredCmd(AdmState& st, const AdmCmd& cmd, const CmdCtx& ctx, Stage stage,
                                bool once = false);
// The same, running only after depends_on (when valid) is done.
DeferredRef ScheduleDeferredCmd(AdmState& st, const AdmCmd& cmd, const CmdCtx& ctx, Stage stage,
                                DeferredRef depends_on, bool once = false);
// Marks a queued command done without running it.
void CancelDeferredCmd(AdmState& st, DeferredRef ref);
// Cancels every queued wait-connect of the resource.
void CancelDeferredWaits(AdmState& st, const cfg::Resource* res);
// The command a reference points at (nullptr when not valid).
const AdmCmd* DeferredCmdOf(const AdmState& st, DeferredRef ref);

// Internal commands adjust schedules (argv built by the command layer).
const AdmCmd& NewMinorCmd();
const AdmCmd& NewResourceCmd();
const AdmCmd& ResOptionsCmd();
const AdmCmd& ResOptionsDefaultsCmd();
const AdmCmd& AttachCmd();
const AdmCmd& DiskOptionsCmd();
const AdmCmd& DiskOptionsDefaultsCmd();
const AdmCmd& ResizeCmd();
const AdmCmd& NewPeerCmd();
const AdmCmd& DelPeerCmd();
const AdmCmd& NewPathCmd();
const AdmCmd& DelPathCmd();
const AdmCmd& ConnectCmd();
const AdmCmd& NetOptionsCmd();
const AdmCmd& NetOptionsDefaultsCmd();
const AdmCmd& PeerDeviceOptionsDefaultsCmd();
const AdmCmd& DisconnectCmd();
const AdmCmd& DetachCmd();
const AdmCmd& DelMinorCmd();
const AdmCmd& ProxyConnDownCmd();
const AdmCmd& ProxyConnUpCmd();
const AdmCmd& ProxyConnPluginsCmd();
const AdmCmd& ProxyReconfCmd();
const AdmCmd& WaitConnectAdjCmd();  // kWaitConnect; timeouts from the net options

// Runs `drbdadm up`'s scheduling for ctx (used by adjust for a resource that
// is not running).
int AdmUp(AdmState& st, const CmdCtx& ctx);

// adjust flags (drbd-utils ADJUST_*)
enum AdjustFlags { kAdjustDisk = 1, kAdjustNet = 2, kAdjustSkipChecked = 4 };

// Implemented in drbdadm/adjust.cc: `drbdadm adjust` for one resource.
// Reads the running state from `drbdsetup show` (or FAKE_DRBDSETUP_SHOW).
int AdmAdjust(AdmState& st, const CmdCtx& ctx, int flags);

}  // namespace drbd::adm
