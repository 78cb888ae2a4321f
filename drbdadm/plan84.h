// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm's dry-run (`-d`) plans for a DRBD 8.4 kernel module: the command
// lines drbd-utils' drbdadm-84 prints (`drbdsetup-84 new-resource r0`,
// `new-minor r0 0 0`, `attach 0 DISK META IDX --opts`, `connect r0 A B
// --opts`, ...) built from the parsed configuration. Options come from the
// configuration filtered and ordered as drbdadm-84 orders them (section
// order, `common` and resource-level inheritance prepend), and only those
// the 8.4 option table (lib/spec/options84.def) knows. A configuration that
// needs DRBD 9 (node-id, several peers, connection/mesh sections, v9-only
// options) gets one line naming what and what to do instead. See
// docs/compat.md "DRBD 8.4 modules".
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "lib/config/ast.h"

namespace drbd::adm {

// One helper call of an 8.4 plan. argv[0] is "drbdsetup-84" or "drbdmeta"
// (what drbdadm-84 prints); the live path substitutes the programs to run.
struct Call84 {
  std::vector<std::string> argv;
  int flags = 0;  // RunFlags (drbdadm/runner.h): timeouts, stderr handling
};

// How the calls of one unit combine, as drbdadm-84's command functions do.
enum class Unit84Kind {
  kSequence,  // in order; the first failure ends the unit (attach: apply-al, attach)
  kFallback,  // drbdsetup, stderr held back; 11/17 reported as they are, any
              // other failure retried with drbdmeta (invalidate, dstate, *-gi)
  kOutdate,   // drbdsetup quiet; 17 ends it; 5 or another failure: drbdmeta
  kResize,    // resize; when it succeeds, check-resize (its exit ignored)
};

// drbdadm-84's configuration stages for up/adjust; kNow: run at once.
enum class Stage84 { kNow = -1, kPrereq, kResource, kDiskPrereq, kDisk, kNetPrereq, kNet };
inline constexpr int kStage84Count = 6;

// The calls one verb makes for one resource or volume.
struct Unit84 {
  const cfg::Resource* res = nullptr;
  std::string verb;  // named in "skipped due to earlier error"
  Stage84 stage = Stage84::kNow;
  Unit84Kind kind = Unit84Kind::kSequence;
  std::vector<Call84> calls;
};

// What `adjust` must change for one resource (drbdadm-84 adm_adjust),
// filled by the caller's comparison with the running configuration.
struct Adjust84 {
  bool new_resource = false;  // not running: new-resource (+ every volume below)
  bool res_options = false;   // resource-options --set-defaults
  bool disconnect = false;    // disconnect the running addresses first
  bool connect = false;
  bool net_options = false;  // net-options --set-defaults
  struct Vol {
    const cfg::Volume* conf = nullptr;     // null: only running (del-minor)
    const cfg::Volume* running = nullptr;  // null: only configured
    bool detach = false, del_minor = false, new_minor = false, attach = false,
         disk_options = false, resize = false;
  };
  std::vector<Vol> vols;
  const cfg::Resource* running = nullptr;  // for the disconnect addresses
};
// Compares one configured resource with what runs; false stops adjust
// (the message has been printed).
using Compare84 = std::function<bool(const cfg::Resource& conf, Adjust84& what)>;

// The options drbdadm-84 passes for a resource (new-resource), a volume's
// disk (attach: `vol` given) or the connection (connect), in its order.
enum class OptKind84 { kResource, kDisk, kNet };
cfg::Options ConfiguredOptions84(const cfg::Config& config, const cfg::Resource& res,
                                 const cfg::Volume* vol, OptKind84 kind);

// The line drbdadm-84 prints for a call (drbd-utils shell escaping).
std::string Render84(const Call84& call);

// Checks, on the configuration as parsed (before cfg::PostParse), that a
// DRBD 8.4 module can run every resource in it: no node-id, no
// connection-mesh, at most two hosts and one connection per resource, only
// options the 8.4 table knows. Prints one line naming the first obstacle and
// what to do instead, and returns 10 (config invalid); 0 when all is fine.
int CheckConfig84(const cfg::Config& config, const std::string& module_version, std::ostream& err);

// True for the verbs Plan84/Units84 implement: up, down, adjust, primary,
// secondary, create-md, attach, detach, connect, disconnect, resize,
// invalidate(-remote), verify, pause-/resume-sync, suspend-/resume-io,
// new-current-uuid, outdate, role, cstate, dstate, show-gi, get-gi,
// apply-al, dump-md, wait-connect, wait-sync, status,
// disk-/net-/resource-options.
bool IsPlan84Verb(std::string_view verb);

// The units `verb` runs for the named resources ("all" or none: every
// resource of this host), in execution order: units of stage kNow first,
// then the staged ones by stage. `compare` is needed for adjust only.
// Returns 0, or the exit code after printing the error (1: unknown resource
// or a volume named for a whole-resource verb).
// REQUIRES: cfg post-processed (cfg::PostParse, cfg::ExpandCommon).
int Units84(const cfg::Config& config, std::string_view verb, const std::vector<std::string>& names,
            const std::vector<std::string>& backend_options, const std::string& module_version,
            const Compare84* compare, std::vector<Unit84>* units, std::ostream& err);

// Prints the `-d` plan of `verb` for the named resources ("all" or none:
// every resource of this host) to `out`, in drbdadm-84's stage order (all
// new-resource/new-minor lines, then attaches, then connects). Errors go to
// `err` as one line each. Returns the exit code: 0, or 1 for an unknown
// resource.
// `backend_options` ("--force", "--size=10G") end each line of verbs other
// than up. `module_version` ("8.4.11") only names the module in messages.
// REQUIRES: cfg post-processed (cfg::PostParse, cfg::ExpandCommon).
int Plan84(const cfg::Config& config, std::string_view verb, const std::vector<std::string>& names,
           const std::vector<std::string>& backend_options, const std::string& module_version,
           std::ostream& out, std::ostream& err);

}  // namespace drbd::adm
