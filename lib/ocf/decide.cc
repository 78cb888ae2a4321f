// SPDX-License-Identifier: GPL-2.0-or-later
// The agent's pure decision rules; see decide.h.
#include "lib/ocf/decide.h"

#include <map>

namespace drbd::ocf {

using events::DiskState;
using events::Role;
using events::Tristate;

namespace {

bool IsClient(const events::Device& d) {
  return d.info.disk_state == DiskState::kDiskless && d.info.intentional_diskless == Tristate::kYes;
}

}  // namespace

StateSummary Summarize(const events::ResourceSnapshot* snap) {
  StateSummary s;
  if (snap == nullptr || snap->devices.empty()) return s;
  s.configured = true;
  s.primary = snap->resource.info.role == Role::kPrimary;

  size_t n_volumes = snap->devices.size();
  size_t n_clients = 0;
  s.disk_all_up_to_date = true;
  s.disk_all_consistent = true;
  for (const events::Device& d : snap->devices) {
    if (IsClient(d)) {
      ++n_clients;
      continue;
    }
    if (!d.info.has_quorum) s.have_quorum = false;
    switch (d.info.disk_state) {
      case DiskState::kUpToDate:
        break;
      case DiskState::kConsistent:
        s.disk_all_up_to_date = false;
        break;
      case DiskState::kAttaching:
      case DiskState::kNegotiating:
        s.disk_transitional = true;
        s.disk_all_up_to_date = false;
        break;
      case DiskState::kDiskless:
      case DiskState::kFailed:
        s.disk_lost = true;
        [[fallthrough]];
      default:  // Inconsistent, Outdated, Detaching, DUnknown
        s.disk_all_up_to_date = false;
        s.disk_all_consistent = false;
        break;
    }
  }
  s.diskless_client = n_clients == n_volumes;

  for (const events::ConnectionSnapshot& c : snap->connections) {
    if (c.connection.info.peer_role == Role::kPrimary) s.some_peer_primary = true;
    size_t up_to_date = 0, known = 0, peer_clients = 0;
    for (const events::PeerDevice& pd : c.peer_devices) {
      if (pd.info.peer_intentional_diskless == Tristate::kYes) ++peer_clients;
      if (pd.info.peer_disk_state == DiskState::kUpToDate) ++up_to_date;
      if (pd.info.peer_disk_state != DiskState::kDUnknown) ++known;
    }
    if (peer_clients == n_volumes) continue;  // a diskless peer has no data to judge
    if (up_to_date == n_volumes) {
      s.some_peer_all_up_to_date = true;
    } else {
      s.some_peer_not_all_up_to_date = true;
    }
    if (known != n_volumes) s.pdsk_any_unknown = true;
  }
  s.pdsk_all_up_to_date = s.some_peer_all_up_to_date && !s.some_peer_not_all_up_to_date;
  return s;
}

Exit MonitorResult(const StateSummary& s) {
  if (!s.configured) return Exit::kNotRunning;
  if (s.primary) {
    if (s.disk_lost && !s.some_peer_all_up_to_date) return Exit::kFailedPromoted;
    return Exit::kRunningPromoted;
  }
  return Exit::kSuccess;
}

bool UnexpectedPrimaryRejectsPromote(const StateSummary& s, const ClusterView& view) {
  return view.promoted_max == 1 && !s.primary && s.some_peer_primary &&
         !view.pacemaker_knows_promoted_peer;
}

namespace {

ScoreDecision Set(int64_t score, std::string_view rule) {
  if (score <= 0) return {ScoreDecision::Kind::kRemove, 0, false, rule};
  return {ScoreDecision::Kind::kSet, score, false, rule};
}

ScoreDecision Remove(std::string_view rule) {
  return {ScoreDecision::Kind::kRemove, 0, false, rule};
}

}  // namespace

ScoreDecision PromotionScore(const StateSummary& s, const Params& p, const ClusterView& view) {
  const ScoreLadder& l = p.adjust_master_score;
  if (!s.configured) return Remove("not-running");
  if (!s.have_quorum) return Remove("no-quorum");

  // Connected to an (apparently healthy) Primary peer.
  if (p.remove_master_score_if_peer_primary != RemoveIfPeerPrimary::kNever && !s.primary &&
      s.some_peer_primary && s.some_peer_all_up_to_date) {
    if (p.remove_master_score_if_peer_primary == RemoveIfPeerPrimary::kAlways ||
        UnexpectedPrimaryRejectsPromote(s, view)) {
      return Remove("peer-primary");
    }
  }

  if (s.diskless_client) {
    if (s.primary && s.some_peer_all_up_to_date)
      return Set(l.as_good_as_it_gets - 1, "client-primary-with-uptodate-peer");
    if (s.pdsk_all_up_to_date) return Set(l.as_good_as_it_gets - 1, "client-all-peers-uptodate");
    if (s.some_peer_all_up_to_date) return Set(l.local_ok - 1, "client-some-peer-uptodate");
    return Remove("client-without-uptodate-peer");
  }
  if (s.disk_all_up_to_date) {
    if (s.primary) {
      ScoreDecision d = Set(l.as_good_as_it_gets, "primary-uptodate");
      d.unfence = p.unfence_if_all_uptodate && s.pdsk_all_up_to_date;
      return d;
    }
    if (s.pdsk_any_unknown) return Set(l.local_ok, "uptodate-peer-unknown");
    return Set(l.as_good_as_it_gets, "uptodate-peers-known");
  }
  if (s.some_peer_all_up_to_date) return Set(l.only_remote, "peer-uptodate");
  if (s.disk_transitional) return {ScoreDecision::Kind::kLeave, 0, false, "transitional"};
  if (s.disk_all_consistent) return Set(l.only_consistent, "consistent");
  return Remove("no-good-data");
}

PromoteDecision DecidePromote(const StateSummary& s, const Params& p, const ClusterView& view,
                              bool retry) {
  if (!s.configured)
    return {PromoteDecision::Kind::kRefuse, Exit::kErrGeneric,
            "promote: the resource is not started", false};
  if (s.primary) return {PromoteDecision::Kind::kAlreadyPromoted, Exit::kSuccess, "", false};
  if (retry && UnexpectedPrimaryRejectsPromote(s, view)) {
    if (p.fail_promote_early_if_peer_primary)
      return {PromoteDecision::Kind::kRefuse, Exit::kErrGeneric,
              "a peer is Primary that Pacemaker does not know about "
              "(fail_promote_early_if_peer_primary)",
              false};
    return {PromoteDecision::Kind::kProceed, Exit::kSuccess, "", true};
  }
  return {PromoteDecision::Kind::kProceed, Exit::kSuccess, "", false};
}

DemoteDecision DecideDemote(const StateSummary& s) {
  if (!s.configured) return DemoteDecision::kNotRunning;
  if (s.primary) return DemoteDecision::kProceed;
  return DemoteDecision::kAlreadyUnpromoted;
}

}  // namespace drbd::ocf
