// SPDX-License-Identifier: GPL-2.0-or-later
// The resource agent's decisions as pure functions over one DRBD resource's
// state (lib/events ResourceSnapshot, as parsed from `drbdsetup events2
// --now`): the monitor result, the promotion score (the adjust_master_score
// ladder and the peer-primary rules of ocf:linbit:drbd), and whether promote
// and demote may proceed. No I/O, no clock; the executable (ocf/) gathers
// the inputs and carries out the answer. See docs/ocf-agent.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "lib/events/model.h"
#include "lib/ocf/params.h"

namespace drbd::ocf {

// The facts the rules look at, derived from a snapshot by Summarize().
// "Client" devices are intentionally diskless volumes (`client:yes`).
struct StateSummary {
  bool configured = false;                    // resource exists and has at least one device
  bool primary = false;                       // local role Primary
  bool some_peer_primary = false;             // a connection reports role Primary
  bool diskless_client = false;               // every volume is an intentional-diskless client
  bool have_quorum = true;                    // no disk-backed volume reports quorum:no
  bool disk_all_up_to_date = false;           // every disk-backed volume UpToDate
  bool disk_all_consistent = false;           // every disk-backed volume UpToDate or Consistent
  bool disk_transitional = false;             // some volume Attaching or Negotiating
  bool disk_lost = false;                     // some non-client volume Failed or Diskless
  bool some_peer_all_up_to_date = false;      // a disk-backed peer has all volumes UpToDate
  bool some_peer_not_all_up_to_date = false;  // a disk-backed peer lacks UpToDate somewhere
  bool pdsk_any_unknown = false;              // a disk-backed peer has a DUnknown volume
  bool pdsk_all_up_to_date = false;           // some peer all UpToDate and none not
  friend bool operator==(const StateSummary&, const StateSummary&) = default;
};

// Derives the summary. nullptr (the resource does not exist) gives the
// default-constructed summary with configured = false.
StateSummary Summarize(const events::ResourceSnapshot* snapshot);

// monitor: OCF_NOT_RUNNING when not configured; OCF_RUNNING_PROMOTED when
// Primary; OCF_FAILED_PROMOTED when Primary but a volume lost its disk and
// no peer has all volumes UpToDate (I/O cannot be served); else OCF_SUCCESS.
Exit MonitorResult(const StateSummary& s);

// What Pacemaker knows, for the peer-primary rules.
struct ClusterView {
  bool pacemaker_knows_promoted_peer = false;  // another node is Promoted per Pacemaker
  int promoted_max = 1;                        // clone meta promoted-max
};

// The promotion-score decision of one monitor/start/notify.
struct ScoreDecision {
  enum class Kind {
    kSet,     // set the score to `score` (always > 0)
    kRemove,  // delete the promotion score
    kLeave,   // leave whatever is there (transitional disk state)
  };
  Kind kind = Kind::kLeave;
  int64_t score = 0;
  bool unfence = false;   // run drbdadm unfence-peer (unfence_if_all_uptodate)
  std::string_view rule;  // which rule decided, e.g. "local-uptodate-peers-known"
  friend bool operator==(const ScoreDecision&, const ScoreDecision&) = default;
};

// The promotion score ladder and rules. A ladder value of 0 (or less)
// means remove the score.
ScoreDecision PromotionScore(const StateSummary& s, const Params& p, const ClusterView& view);

// Whether promote may go ahead.
struct PromoteDecision {
  enum class Kind {
    kAlreadyPromoted,  // Primary already: OCF_SUCCESS
    kProceed,          // run drbdadm primary
    kRefuse,           // exit `code` with `reason`
  };
  Kind kind = Kind::kRefuse;
  Exit code = Exit::kErrGeneric;
  std::string_view reason;
  bool warn_peer_primary = false;  // proceed, but a Primary peer Pacemaker does not know exists
  friend bool operator==(const PromoteDecision&, const PromoteDecision&) = default;
};

// `retry` is false on the first attempt of an action: the unexpected-primary
// check only applies to retries, so a stale DRBD view of a dead Primary does
// not block a failover.
PromoteDecision DecidePromote(const StateSummary& s, const Params& p, const ClusterView& view,
                              bool retry);

// Whether demote has work to do.
enum class DemoteDecision {
  kAlreadyUnpromoted,  // Secondary: OCF_SUCCESS
  kProceed,            // run drbdadm secondary
  kNotRunning,         // OCF_ERR_GENERIC: not started
};
DemoteDecision DecideDemote(const StateSummary& s);

// The unexpected-primary rule: promoted-max 1, not Primary locally, some
// peer Primary and Pacemaker does not know a Promoted peer.
bool UnexpectedPrimaryRejectsPromote(const StateSummary& s, const ClusterView& view);

}  // namespace drbd::ocf
