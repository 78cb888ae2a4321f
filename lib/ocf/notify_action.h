// SPDX-License-Identifier: GPL-2.0-or-later
// The agent's `notify` action as decisions: what Pacemaker's clone
// notification variables (OCF_RESKEY_CRM_meta_notify_*) say, and what the
// agent does for each pre/post start/stop/promote/demote, as ocf:linbit:drbd
// does: re-adjust on start notifications (unless connect_only_after_promote),
// recompute the promotion score after every operation, and, with
// stop_outdates_secondary, outdate itself when cut off from a node Pacemaker
// reports Promoted. Pure functions. See docs/ocf-agent.md.
#pragma once

#include <string>
#include <vector>

#include "lib/ocf/decide.h"
#include "lib/ocf/params.h"

namespace drbd::ocf {

// One notification, from the environment.
struct NotifyInfo {
  std::string type;       // CRM_meta_notify_type: "pre" / "post"
  std::string operation;  // CRM_meta_notify_operation: start, stop, promote, demote
  // Host names, space-separated lists split. promoted = *_promoted_uname
  // (Pacemaker 2.1) or the legacy *_master_uname.
  std::vector<std::string> promoted, unpromoted, start, stop, promote, demote;
};
NotifyInfo ReadNotify(const EnvLookup& env);

// What Pacemaker knows from the notification: another node Promoted.
ClusterView ViewFromNotify(const NotifyInfo& n, const std::string& hostname, int promoted_max);

// What to do for one notification.
struct NotifyPlan {
  bool adjust = false;        // drbdadm adjust <res> (start notifications)
  bool rescore = false;       // re-read the state and set the promotion score (post)
  bool outdate_self = false;  // drbdadm outdate <res>
  std::string log;            // a notice/crit line for the log, or ""
};

// `s` is the state at the time of the notification; `hostname` this node's
// name (compared case-insensitively, as drbd.ocf's grep -i does).
NotifyPlan DecideNotify(const NotifyInfo& n, const StateSummary& s, const Params& p,
                        const std::string& hostname);

}  // namespace drbd::ocf
