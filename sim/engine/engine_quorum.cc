// SPDX-License-Identifier: GPL-2.0-or-later
// Quorum: which volumes of a resource have quorum in a state being built
// (the 9.x kernel's calc_quorum run from sanitize_state), susp-io(quorum)
// under on-no-quorum suspend-io, the state error text of a promotion
// refused with SS_NO_QUORUM, IO failed under on-no-quorum io-error, and
// the quorum-lost handler of a Primary that lost it. Counting follows the
// kernel: this node and every peer that ever had a bitmap slot, a seen
// disk or a node record votes; reachable peers count as UpToDate or
// present, absent ones as outdated or unknown; when no peer is unknown the
// outdated ones leave the voters (the last man standing keeps quorum);
// intentional diskless peers only break a tie of an even number of
// voters. See docs/design/drbd-simd.md "Quorum".
#include <fmt/format.h>

#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace {

// res_opts.quorum / quorum-minimum-redundancy words (options.def).
constexpr int64_t kQuorumOff = 0;
constexpr int64_t kQuorumMajority = 1024;
constexpr int64_t kQuorumAll = 1025;
// on-no-quorum (on_no_data numbering).
constexpr int64_t kOnNoQuorumIoError = 0;
constexpr int64_t kOnNoQuorumSuspendIo = 1;

// What calc_quorum counts before it decides.
struct Detail {
  int up_to_date = 0;
  int present = 0;
  int outdated = 0;
  int diskless = 0;
  int missing_diskless = 0;
  int unknown = 0;
};

int QuorumAt(int64_t setting, int voters) {
  if (setting == kQuorumMajority) return voters / 2 + 1;
  if (setting == kQuorumAll) return voters;
  return static_cast<int>(setting);
}

// One peer's vote from its replication and disk state in the state
// being judged.
void CountPeer(Detail& qd, bool intentional_diskless, ReplState repl, DiskState pdsk,
               bool md_outdated) {
  if (repl == ReplState::kOff) {
    if (intentional_diskless) {
      ++qd.missing_diskless;
    } else if (pdsk <= DiskState::kOutdated || md_outdated) {
      ++qd.outdated;
    } else {
      ++qd.unknown;
    }
    return;
  }
  if (pdsk == DiskState::kDiskless && intentional_diskless) {
    ++qd.diskless;
  } else if (pdsk == DiskState::kUpToDate) {
    ++qd.up_to_date;
  } else {
    ++qd.present;
  }
}

}  // namespace

bool Engine::CalcQuorum(const Resource& r, uint32_t vol, const ResState& s, bool was,
                        QuorumInfo* qi) const {
  const Device& d = r.devices.at(vol);
  const DiskState disk = s.disk.at(vol);
  Detail qd;
  // The state of peer `node`'s device of `vol` in `s`, if it is configured.
  auto peer_state = [&](uint32_t node) -> const ResState::Pd* {
    auto cit = s.conns.find(node);
    if (cit == s.conns.end()) return nullptr;
    auto pit = cit->second.pd.find(vol);
    return pit == cit->second.pd.end() ? nullptr : &pit->second;
  };
  auto excluded = [&](uint32_t node) {
    auto cit = r.connections.find(node);
    return cit != r.connections.end() && !cit->second.net.Bool("allow-remote-read");
  };
  if (disk > DiskState::kAttaching && d.data) {
    if (disk == DiskState::kUpToDate) {
      ++qd.up_to_date;
    } else {
      ++qd.present;
    }
    for (uint32_t node = 0; node < md::kPeersMax; ++node) {
      if (static_cast<int32_t>(node) == r.node_id) continue;
      const md::PeerRecord& pr = d.sb.peers[node];
      const PeerDevice* pd = nullptr;
      if (auto cit = r.connections.find(node); cit != r.connections.end()) {
        auto pit = cit->second.peer_devices.find(vol);
        if (pit != cit->second.peer_devices.end()) pd = &pit->second;
      }
      const bool seen = (pr.flags & (md::kNodeExists | md::kPeerDeviceSeen)) != 0 ||
                        (pd && pd->peer_disk_seen);
      if (pr.bitmap_index < 0 && !seen) continue;  // not a member
      if (excluded(node)) continue;
      const ResState::Pd* ps = peer_state(node);
      // want_bitmap: the peer-device option `bitmap` (drbdadm turns it off
      // toward an intentional diskless peer).
      const bool intentional = pd ? !pd->opts.Bool("bitmap") : !(pr.flags & md::kPeerDeviceSeen);
      const bool md_outdated = (pr.flags & md::kPeerOutdated) != 0 || (pd && pd->quorum_outdated);
      CountPeer(qd, intentional, ps ? ps->repl : ReplState::kOff,
                ps ? ps->peer_disk : DiskState::kDUnknown, md_outdated);
    }
  } else {
    // Without a disk: an intentional diskless client is a tiebreaker; any
    // other diskless node is counted unknown, not a vote of its own.
    if (disk == DiskState::kDiskless) {
      if (d.intentional_diskless) {
        ++qd.diskless;
      } else {
        ++qd.unknown;
      }
    }
    for (const auto& [node, sc] : s.conns) {
      auto pit = sc.pd.find(vol);
      if (pit == sc.pd.end() || excluded(node)) continue;
      const PeerDevice& pd = r.connections.at(node).peer_devices.at(vol);
      const ResState::Pd& ps = pit->second;
      const bool intentional = !pd.opts.Bool("bitmap");
      if (ps.repl == ReplState::kOff) {
        CountPeer(qd, intentional, ps.repl, ps.peer_disk, false);
      } else {
        // Reachable: a diskless peer counts as diskless whatever its config.
        CountPeer(qd, ps.peer_disk == DiskState::kDiskless, ps.repl, ps.peer_disk, false);
      }
    }
  }

  const int64_t setting = r.opts.Int("quorum");
  // With no peer of unknown state, the outdated ones cannot form a
  // partition that promotes: they leave the voters.
  const int voters = qd.unknown ? qd.outdated + qd.unknown + qd.up_to_date + qd.present
                                : qd.up_to_date + qd.present;
  const int quorum_at = QuorumAt(setting, voters);
  const int diskless_majority_at = QuorumAt(kQuorumMajority, qd.diskless + qd.missing_diskless);
  const int min_redundancy_at = QuorumAt(r.opts.Int("quorum-minimum-redundancy"), voters);
  if (qi) *qi = QuorumInfo{qd.up_to_date, qd.present, voters, quorum_at, min_redundancy_at};
  bool have = qd.up_to_date + qd.present >= quorum_at && qd.up_to_date >= min_redundancy_at;
  // Tiebreaker: an even number of voters, one vote short, and most of the
  // intentional diskless nodes still here keep a quorum this node had.
  if (!have && voters != 0 && voters % 2 == 0 && qd.up_to_date + qd.present == quorum_at - 1 &&
      qd.diskless >= diskless_majority_at && was) {
    have = true;
  }
  return have;
}

void Engine::SanitizeQuorum(const Resource& r, ResState& n) const {
  const bool enabled = QuorumEnabled(r);
  bool all = true;
  for (const auto& [vol, disk] : n.disk) {
    auto dit = r.devices.find(vol);
    if (dit == r.devices.end()) continue;
    const bool have = !enabled || CalcQuorum(r, vol, n, dit->second.have_quorum, nullptr);
    n.quorum[vol] = have;
    all = all && have;
  }
  n.susp_quorum = r.opts.Int("on-no-quorum") == kOnNoQuorumSuspendIo && !all;
}

std::string Engine::NoQuorumText(const Resource& r, const ResState& n) const {
  for (const auto& [vol, have] : n.quorum) {
    if (have || !r.devices.contains(vol)) continue;
    QuorumInfo qi;
    CalcQuorum(r, vol, n, r.devices.at(vol).have_quorum, &qi);
    if (n.disk.at(vol) <= DiskState::kAttaching) return "no UpToDate peer with quorum";
    if (qi.up_to_date + qi.present < qi.quorum_at) {
      return fmt::format("{} of {} nodes visible, need {} for quorum", qi.up_to_date + qi.present,
                         qi.voters, qi.quorum_at);
    }
    return fmt::format("{} of {} nodes up_to_date, need {} for quorum-minimum-redundancy",
                       qi.up_to_date, qi.voters, qi.min_redundancy_at);
  }
  return {};
}

void Engine::QuorumStateChanged(Resource& r, const ResState& o, const ResState& n) {
  // The kernel keeps an Inconsistent / Outdated peer disk (and its
  // MDF_PEER_OUTDATED) when the connection goes; the engine shows DUnknown
  // then, so quorum remembers it here.
  for (auto& [peer, c] : r.connections) {
    for (auto& [vol, pd] : c.peer_devices) {
      if (pd.peer_disk == DiskState::kInconsistent || pd.peer_disk == DiskState::kOutdated) {
        pd.quorum_outdated = true;
      } else if (pd.peer_disk != DiskState::kDUnknown) {
        pd.quorum_outdated = false;
      }
    }
  }
  for (auto& [vol, d] : r.devices) {
    auto oit = o.quorum.find(vol);
    auto nit = n.quorum.find(vol);
    if (oit == o.quorum.end() || nit == n.quorum.end()) continue;
    if (n.role == Role::kPrimary && oit->second && !nit->second) {
      CallHelper(r, nullptr, &d, "quorum-lost");
    }
  }
  if (o.susp_quorum && !n.susp_quorum && !IoFrozen(r)) {
    // Quorum is back: the IO parked meanwhile runs again, in order.
    std::vector<std::function<void()>> parked;
    parked.swap(r.frozen_io);
    for (auto& fn : parked) env_.clock->StartTimer(0, std::move(fn));
  }
}

std::optional<bool> Engine::HasQuorum(uint32_t minor) const {
  const Device* d = FindMinor(minor);
  if (!d) return std::nullopt;
  return d->have_quorum;
}

std::optional<bool> Engine::SuspendedForQuorum(const std::string& res) const {
  const Resource* r = FindResource(res);
  if (!r) return std::nullopt;
  return r->susp_quorum;
}

bool Engine::QuorumEnabled(const Resource& r) const { return r.opts.Int("quorum") != kQuorumOff; }

bool Engine::QuorumFailsIo(const Resource& r, const Device& d) const {
  return !d.have_quorum && r.opts.Int("on-no-quorum") == kOnNoQuorumIoError;
}

}  // namespace drbd::engine
