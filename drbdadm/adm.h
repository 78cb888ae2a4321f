// SPDX-License-Identifier: GPL-2.0-or-later
// The shared state of one drbdadm run and the seam between the command layer
// (drbdadm/commands*.cc) and adjust (drbdadm/adjust.cc): command contexts,
// configuration stages and the deferred-command scheduler. Stage order and
// semantics follow drbd-utils 9.22 (enum drbd_cfg_stage).
#pragma once

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
  kPrereq,          // new-resource
  kResource,        // resource-options
  kDiskPrepDown,    // detach, del-minor
  kDiskPrepUp,      // new-minor
  kNetDisconnect,   // disconnect
  kNetPrepDown,     // del-peer, del-path, proxy down
  kNetPrepUp,       // new-peer, proxy up
  kNetPath,         // new-path
  kNet,             // net-options
  kPeerDevice,      // peer-device-options
  kDisk,            // apply-al + attach, disk-options, resize
  kNetConnect,      // connect
};
constexpr int kStageCount = 12;

struct AdmCmd;  // a drbdadm verb or internal command; defined by the command layer

// What a command operates on. Null members mean "all" / "not applicable".
struct CmdCtx {
  cfg::Resource* res = nullptr;
  cfg::Volume* vol = nullptr;
  cfg::Connection* conn = nullptr;
  cfg::Path* path = nullptr;
  const AdmCmd* cmd = nullptr;
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
};

// Queues cmd for ctx at a stage (drbd-utils schedule_deferred_cmd). When the
// same (cmd, ctx) is scheduled twice with SCHEDULE_ONCE semantics, once.
void ScheduleDeferredCmd(AdmState& st, const AdmCmd& cmd, const CmdCtx& ctx, Stage stage,
                         bool once = false);

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

// Runs `drbdadm up`'s scheduling for ctx (used by adjust for a resource that
// is not running).
int AdmUp(AdmState& st, const CmdCtx& ctx);

// adjust flags (drbd-utils ADJUST_*)
enum AdjustFlags { kAdjustDisk = 1, kAdjustNet = 2, kAdjustSkipChecked = 4 };

// Implemented in drbdadm/adjust.cc: `drbdadm adjust` for one resource.
// Reads the running state from `drbdsetup show` (or FAKE_DRBDSETUP_SHOW).
int AdmAdjust(AdmState& st, const CmdCtx& ctx, int flags);

}  // namespace drbd::adm
