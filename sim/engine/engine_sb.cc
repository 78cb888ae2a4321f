// SPDX-License-Identifier: GPL-2.0-or-later
// Split brain in the sync handshake: the after-sb-0pri/1pri/2pri policies
// (drbd_asb_recover_0p/1p/2p as a pure function), their application once
// the UUID comparison found a split brain (automatic recovery, the
// `connect --discard-my-data` manual recovery, "unresolved" -> StandAlone),
// the handlers the module calls on the way (initial-split-brain,
// split-brain, pri-lost-after-sb, pri-lost), the checks a decided
// direction still passes (--discard-my-data reversal, rr-conflict), and
// the SyncTarget's bitmap sent to the SyncSource so that the resync covers
// both sides' changes. See docs/split-brain-policies.md and
// /work/shared/spec/split-brain.md §3-4.
#include "sim/engine/engine_sb.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>

#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace sb {

Outcome Recover0p(const Input& in, std::vector<std::string>* log) {
  const auto policy = static_cast<Asb>(in.after_sb_0p);
  // The tie-breaker: the RESOLVE_CONFLICTS holder discards.
  const Outcome tie = in.resolve_conflicts ? Outcome::kTarget : Outcome::kSource;
  auto least_changes = [&] {
    if (in.ch_self < in.ch_peer) return Outcome::kTarget;
    if (in.ch_self > in.ch_peer) return Outcome::kSource;
    return tie;
  };
  // discard-zero-changes; nullopt-like kDisconnect when both changed.
  auto zero_changes = [&] {
    if (in.ch_self == 0 && in.ch_peer == 0) return tie;
    if (in.ch_peer == 0) return Outcome::kSource;
    if (in.ch_self == 0) return Outcome::kTarget;
    return Outcome::kDisconnect;
  };
  auto by_age = [&](bool discard_younger) {
    // bit 0 set: Primary when the split happened (the older primary).
    if (!in.self_pri && in.peer_pri) return discard_younger ? Outcome::kTarget : Outcome::kSource;
    if (in.self_pri && !in.peer_pri) return discard_younger ? Outcome::kSource : Outcome::kTarget;
    log->push_back(
        "Discard younger/older primary did not find a decision\n"
        "Using discard-least-changes instead");
    Outcome z = zero_changes();
    return z != Outcome::kDisconnect ? z : least_changes();
  };
  switch (policy) {
    case Asb::kDisconnect:
      return Outcome::kDisconnect;
    case Asb::kDiscardYoungerPri:
      return by_age(true);
    case Asb::kDiscardOlderPri:
      return by_age(false);
    case Asb::kDiscardZeroChg:
      return zero_changes();
    case Asb::kDiscardLeastChg: {
      Outcome z = zero_changes();
      return z != Outcome::kDisconnect ? z : least_changes();
    }
    case Asb::kDiscardLocal:
      return Outcome::kTarget;
    case Asb::kDiscardRemote:
      return Outcome::kSource;
    default:
      log->push_back("Configuration error.");
      return Outcome::kDisconnect;
  }
}

Decision Recover(const Input& in) {
  Decision d;
  const int pcount = (in.self_primary ? 1 : 0) + (in.peer_primary ? 1 : 0);
  if (pcount == 0) {
    d.outcome = Recover0p(in, &d.log);
    return d;
  }
  const auto policy = static_cast<Asb>(pcount == 1 ? in.after_sb_1p : in.after_sb_2p);
  switch (policy) {
    case Asb::kDisconnect:
      return d;
    case Asb::kConsensus:
      if (pcount == 1) {
        Outcome o = Recover0p(in, &d.log);
        // Accepted only if it discards the Secondary's data.
        if ((o == Outcome::kTarget && !in.self_primary) ||
            (o == Outcome::kSource && in.self_primary)) {
          d.outcome = o;
        }
        return d;
      }
      break;
    case Asb::kDiscardSecondary:
      if (pcount == 1) {
        d.outcome = in.self_primary ? Outcome::kSource : Outcome::kTarget;
        return d;
      }
      break;
    case Asb::kViolently:
      d.outcome = Recover0p(in, &d.log);
      return d;
    case Asb::kCallHelper:
      d.outcome = Recover0p(in, &d.log);
      // The Primary that must discard gives up its role first (after-sb-1pri
      // only asks the Primary; after-sb-2pri asks whichever loses).
      d.demote = d.outcome == Outcome::kTarget && in.self_primary;
      return d;
    default:
      break;
  }
  d.log.emplace_back("Configuration error.");
  return d;
}

}  // namespace sb

// The kernel waits for these helpers and ignores their exit codes; here
// the handshake goes on at once (the helper's lines may come later).
void Engine::SbHelper(Resource& r, Connection& c, Device& d, const char* name) {
  CallHelper(r, &c, &d, name);
}

ReplState Engine::ResolveSplitBrain(Resource& r, Connection& c, Device& d, PeerDevice& pd,
                                    Role peer_role, ResState& n, bool auto_recover,
                                    HandshakeOut* out) {
  const std::string prefix = Prefix(r, d, c);
  SbHelper(r, c, d, "initial-split-brain");
  const bool need_full = !auto_recover;
  sb::Outcome outcome = sb::Outcome::kDisconnect;
  if (auto_recover || c.net.Bool("always-asbp")) {
    sb::Input in;
    in.after_sb_0p = static_cast<int>(c.net.Int("after-sb-0pri"));
    in.after_sb_1p = static_cast<int>(c.net.Int("after-sb-1pri"));
    in.after_sb_2p = static_cast<int>(c.net.Int("after-sb-2pri"));
    in.self_pri = c.peer_node_id < md::kPeersMax &&
                  (d.sb.peers[c.peer_node_id].bitmap_uuid & kUuidPrimaryBit) != 0;
    for (const auto& [node, uuid] : pd.peer.bitmap_uuids) {
      if (node == r.node_id) in.peer_pri = (uuid & kUuidPrimaryBit) != 0;
    }
    in.ch_self = pd.oos_count;
    in.ch_peer = pd.peer.dirty_bits;
    in.resolve_conflicts = HoldsResolveConflicts(r.node_id, c.peer_node_id);
    in.self_primary = n.role == Role::kPrimary;
    in.peer_primary = peer_role == Role::kPrimary;
    sb::Decision dec;
    if (QuorumEnabled(r) && d.have_quorum != pd.peer.quorum) {
      // drbd_sync_handshake (proto >= 113): with quorum enabled, the side
      // that has quorum while the peer has not becomes source before any
      // after-sb policy is consulted.
      dec.outcome = d.have_quorum ? sb::Outcome::kSource : sb::Outcome::kTarget;
    } else {
      dec = sb::Recover(in);
    }
    for (const std::string& line : dec.log) Log(fmt::format("{}: {}", prefix, line));
    outcome = dec.outcome;
    if (dec.demote) {
      ResState dn = Capture(r);
      dn.role = Role::kSecondary;
      const std::string tag = in.peer_primary ? "after-sb-2pri" : "after-sb-1pri";
      if (Change(r, dn, false, tag) != Ret::kSsSuccess) {
        SbHelper(r, c, d, "pri-lost-after-sb");
        outcome = sb::Outcome::kDisconnect;
      } else {
        Log(fmt::format("{}: Successfully gave up primary role.", Prefix(r, d)));
        r.explicit_primary = false;
        for (auto& [vol, dev] : r.devices) {
          if (!dev.data) continue;
          dev.sb.flags &= ~uint32_t{md::kMdfPrimaryInd};
          dev.sb.current_uuid &= ~kUuidPrimaryBit;
          WriteMetadata(dev);
        }
        n.role = Role::kSecondary;
      }
    }
    if (outcome != sb::Outcome::kDisconnect) {
      const int pcount = (in.self_primary ? 1 : 0) + (in.peer_primary ? 1 : 0);
      Log(fmt::format(
          "{}: Split-Brain detected, {} primaries, automatically solved. Sync from {} node", prefix,
          pcount, outcome == sb::Outcome::kTarget ? "peer" : "this"));
      if (need_full)
        Log(fmt::format("{}: Doing a full sync, since UUIDs where ambiguous.", prefix));
    }
  }
  if (outcome == sb::Outcome::kDisconnect) {
    // Manual recovery: exactly one side connected with --discard-my-data.
    const bool mine = c.discard_my_data;
    const bool theirs = (pd.peer.uuid_flags & kUuidFlagDiscardMyData) != 0;
    if (mine != theirs) {
      outcome = mine ? sb::Outcome::kTarget : sb::Outcome::kSource;
      Log(fmt::format("{}: Split-Brain detected, manually solved. {} from {} node", prefix,
                      need_full ? "Full sync" : "Sync", mine ? "peer" : "this"));
    }
  }
  if (outcome == sb::Outcome::kDisconnect) {
    Log(fmt::format("{}: Split-Brain detected but unresolved, dropping connection!", prefix));
    SbHelper(r, c, d, "split-brain");
    out->drop = true;
    return ReplState::kOff;
  }
  if (outcome == sb::Outcome::kSource) {
    out->use_bitmap = !need_full;
    return ReplState::kSyncSource;
  }
  out->send_bitmap = !need_full;
  return ReplState::kSyncTarget;
}

ReplState Engine::CheckDecidedRepl(Resource& r, Connection& c, Device& d, PeerDevice& pd,
                                   const ResState& n, ReplState decided, bool crashed_primary_rule,
                                   HandshakeOut* out) {
  const std::string prefix = Prefix(r, d, c);
  ReplState repl = decided;
  // --discard-my-data against a decided direction (proto >= 121).
  const bool mine = c.discard_my_data;
  const bool theirs = (pd.peer.uuid_flags & kUuidFlagDiscardMyData) != 0;
  if (repl != ReplState::kEstablished && mine != theirs &&
      (repl == ReplState::kSyncSource) == mine) {
    const ReplState reversed =
        repl == ReplState::kSyncSource ? ReplState::kSyncTarget : ReplState::kSyncSource;
    const DiskState source_disk = reversed == ReplState::kSyncSource
                                      ? n.disk.at(d.volume)
                                      : static_cast<DiskState>(pd.peer.disk);
    if (source_disk > DiskState::kInconsistent) {
      repl = reversed;
      std::swap(out->use_bitmap, out->send_bitmap);
      Log(fmt::format(
          "{}: Resync direction reversed by --discard-my-data. Reverting to older data!", prefix));
    } else {
      Log(fmt::format("{}: Ignoring --discard-my-data", prefix));
    }
  }
  // rr-conflict: a Primary with good data would become SyncTarget.
  if (repl == ReplState::kSyncTarget && n.role == Role::kPrimary &&
      n.disk.at(d.volume) >= DiskState::kConsistent &&
      (pd.oos_count > 0 || pd.peer.dirty_bits > 0)) {
    switch (static_cast<sb::Asb>(c.net.Int("rr-conflict"))) {
      case sb::Asb::kCallHelper:
        SbHelper(r, c, d, "pri-lost");
        [[fallthrough]];
      case sb::Asb::kDisconnect:
      case sb::Asb::kRetryConnect:
        Log(fmt::format("{}: I shall become SyncTarget, but I am primary!", prefix));
        if (static_cast<sb::Asb>(c.net.Int("rr-conflict")) == sb::Asb::kRetryConnect) {
          out->retry = true;
        } else {
          out->drop = true;
        }
        return ReplState::kOff;
      case sb::Asb::kViolently:
        Log(fmt::format("{}: Becoming SyncTarget, violating the stable-dataassumption", prefix));
        break;
      case sb::Asb::kAutoDiscard:
        if (crashed_primary_rule && out->send_bitmap) {
          Log(fmt::format("{}: reversing resync by auto-discard", prefix));
          repl = ReplState::kSyncSource;
          std::swap(out->use_bitmap, out->send_bitmap);
        }
        break;
      default:
        break;
    }
  }
  return repl;
}

void Engine::SendBitmap(Resource& r, Connection& c, uint32_t vol) {
  Session* s = SessionOf(c);
  auto pit = c.peer_devices.find(vol);
  if (!s || !s->up || pit == c.peer_devices.end()) return;
  const PeerDevice& pd = pit->second;
  proto::Bitmap m;
  m.volume = vol;
  m.last = false;
  for (uint64_t i = 0; i < pd.oos_bits.size(); ++i) {
    if (pd.oos_bits[i] == 0) continue;
    m.words.emplace_back(i, pd.oos_bits[i]);
    if (m.words.size() == proto::kBitmapWordsPerMsg) {
      Send(*s, m);
      m.words.clear();
    }
  }
  m.last = true;
  Send(*s, m);
  (void)r;
}

void Engine::HandleBitmap(Resource& r, Connection& c, const proto::Bitmap& m) {
  auto pit = c.peer_devices.find(m.volume);
  auto dit = r.devices.find(m.volume);
  if (pit == c.peer_devices.end() || dit == r.devices.end() || !dit->second.data) return;
  PeerDevice& pd = pit->second;
  Device& d = dit->second;
  const uint64_t blocks = (d.size_sectors * 512 + 4095) / 4096;
  const uint64_t words = (blocks + 63) / 64;
  uint64_t added = 0;
  for (const auto& [index, word] : m.words) {
    if (index >= words) continue;
    if (pd.oos_bits.size() < words) pd.oos_bits.resize(words, 0);
    uint64_t w = word;
    if (index == words - 1 && blocks % 64) w &= (uint64_t{1} << (blocks % 64)) - 1;
    const uint64_t fresh = w & ~pd.oos_bits[index];
    pd.oos_bits[index] |= fresh;
    added += static_cast<uint64_t>(std::popcount(fresh));
  }
  pd.oos_count += added;
  if (pd.rs_gen) pd.rs_total += added;  // a run already going takes them too
  if (added) MdArmFlush(d.minor);
}

}  // namespace drbd::engine
