// SPDX-License-Identifier: GPL-2.0-or-later
// Notification decisions; see notify_action.h.
#include "lib/ocf/notify_action.h"

#include <algorithm>
#include <optional>

#include "lib/base/strings.h"

namespace drbd::ocf {

namespace {

std::vector<std::string> Names(const EnvLookup& env, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    std::optional<std::string> v = env(std::string("OCF_RESKEY_CRM_meta_notify_") + k);
    if (!v) continue;
    std::vector<std::string> out;
    size_t i = 0;
    const std::string& s = *v;
    while (i < s.size()) {
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
      size_t j = i;
      while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n') ++j;
      if (j > i) out.push_back(s.substr(i, j - i));
      i = j;
    }
    return out;
  }
  return {};
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return EqualsIgnoreCase(n, name); });
}

// The first Promoted node that is not this one.
std::optional<std::string> OtherPromoted(const NotifyInfo& n, const std::string& hostname) {
  for (const std::string& h : n.promoted)
    if (!EqualsIgnoreCase(h, hostname)) return h;
  return std::nullopt;
}

}  // namespace

NotifyInfo ReadNotify(const EnvLookup& env) {
  NotifyInfo n;
  n.type = env("OCF_RESKEY_CRM_meta_notify_type").value_or("");
  n.operation = env("OCF_RESKEY_CRM_meta_notify_operation").value_or("");
  n.promoted = Names(env, {"promoted_uname", "master_uname"});
  n.unpromoted = Names(env, {"unpromoted_uname", "slave_uname"});
  n.start = Names(env, {"start_uname"});
  n.stop = Names(env, {"stop_uname"});
  n.promote = Names(env, {"promote_uname"});
  n.demote = Names(env, {"demote_uname"});
  return n;
}

ClusterView ViewFromNotify(const NotifyInfo& n, const std::string& hostname, int promoted_max) {
  ClusterView v;
  v.promoted_max = promoted_max;
  v.pacemaker_knows_promoted_peer = OtherPromoted(n, hostname).has_value();
  return v;
}

NotifyPlan DecideNotify(const NotifyInfo& n, const StateSummary& s, const Params& p,
                        const std::string& hostname) {
  NotifyPlan plan;
  // A start anywhere: a peer may have come (back); adjust connects to it.
  // Without pre-start notifications for ourselves, this runs on post-start
  // too and is then a no-op.
  if (n.operation == "start" && !p.connect_only_after_promote && s.configured) plan.adjust = true;
  if (n.type != "post" || !s.configured) return plan;
  plan.rescore = true;
  if (!s.pdsk_any_unknown || !p.stop_outdates_secondary) return plan;
  // Not talking to some peer; maybe it is Promoted without us.
  std::optional<std::string> host = OtherPromoted(n, hostname);
  if (!host || Contains(n.stop, *host)) return plan;  // none, or stale: it is being stopped
  if (s.primary) {
    plan.log = "resource internal SPLIT BRAIN: both " + hostname + " and " + *host +
               " are Primary for " + p.drbd_resource + ", but the replication link is down!";
    return plan;
  }
  plan.outdate_self = true;
  plan.log = "outdating " + p.drbd_resource + ": according to Pacemaker's notification, '" + *host +
             "' is still promoted";
  return plan;
}

}  // namespace drbd::ocf
