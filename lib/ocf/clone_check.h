// SPDX-License-Identifier: GPL-2.0-or-later
// The agent's configuration checks beyond its own parameters: the clone's
// meta attributes Pacemaker passes (OCF_RESKEY_CRM_meta_*) against what the
// DRBD configuration allows, as read from `drbdadm dump-xml` (the
// machine-readable dump of drbd.conf, never its human text): dual-primary
// (promoted-max=2) needs allow-two-primaries, one instance per node, and a
// warning unless fencing is resource-and-stonith; and notify=true unless
// ignore_missing_notifications. Pure functions. See docs/ocf-agent.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/ocf/params.h"

namespace drbd::ocf {

// The DRBD configuration facts the checks need, for one resource.
struct DrbdConfFacts {
  bool allow_two_primaries =
      false;  // on every connection (net section, connection > resource > common)
  std::string fencing = "dont-care";  // net (DRBD 9) or disk (8.4) section, same precedence
};

// Reads the facts for `resource` from the text of `drbdadm dump-xml` (all
// resources, so the <common> section is included). False with *error when
// the XML does not parse or has no such resource.
bool ParseDumpXml(std::string_view xml, const std::string& resource, DrbdConfFacts* out,
                  std::string* error);

// The clone meta attributes; nullopt = not passed (not running as a clone,
// e.g. under ocf-tester).
struct CloneMeta {
  std::optional<int> clone_max;          // CRM_meta_clone_max
  std::optional<int> clone_node_max;     // CRM_meta_clone_node_max
  std::optional<int> promoted_max;       // CRM_meta_promoted_max, else legacy master_max
  std::optional<int> promoted_node_max;  // CRM_meta_promoted_node_max, else master_node_max
  bool notify = false;                   // CRM_meta_notify is true
  bool notify_vars_present = false;      // CRM_meta_notify_start_uname is set
  // The promoted-max value as given, for messages (an unparsable one is kept
  // so the check can name it).
  std::string promoted_max_text, clone_node_max_text, promoted_node_max_text, clone_max_text;
};
CloneMeta ReadCloneMeta(const EnvLookup& env);

// Whether the action's checks need the DRBD configuration facts (so the
// caller runs drbdadm dump-xml only then): dual-primary requested.
bool NeedsDrbdConfFacts(const CloneMeta& meta);

struct CloneCheck {
  Exit code = Exit::kSuccess;
  std::string message;                // the exit reason when code != kSuccess
  std::vector<std::string> warnings;  // logged, do not fail
};

// `action` is the OCF action: stop (and monitor, meta-data) are never
// refused, so a resource reconfigured while running can still be stopped.
// `conf` is required when NeedsDrbdConfFacts(meta).
//  - clone-node-max and promoted-node-max must be 1, promoted-max at most 2,
//    and with promoted-max 2 clone-max at most 2;
//  - promoted-max 2 needs allow-two-primaries (validate-all, start,
//    promote); warns unless fencing is resource-and-stonith;
//  - as a clone, start/promote/demote/notify need notify=true unless
//    ignore_missing_notifications.
CloneCheck CheckClone(std::string_view action, const CloneMeta& meta, const Params& params,
                      const DrbdConfFacts* conf);

}  // namespace drbd::ocf
