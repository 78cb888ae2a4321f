// SPDX-License-Identifier: GPL-2.0-or-later
// The after-split-brain policies of the kernel's sync handshake as a pure
// function: given the configured after-sb-0pri/1pri/2pri policies, the
// roles now, bit 0 of both bitmap UUIDs (who was Primary when the split
// happened) and both sides' changes, which side keeps its data. The engine
// (engine_sb.cc) applies the answer. See docs/split-brain-policies.md and
// /work/shared/spec/split-brain.md §4.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace drbd::engine::sb {

// The kernel's enum drbd_after_sb_p numbers, as options.def and the wire
// carry them (after-sb-0pri/1pri/2pri and rr-conflict share them).
enum class Asb : int {
  kDisconnect = 0,
  kDiscardYoungerPri = 1,
  kDiscardOlderPri = 2,
  kDiscardZeroChg = 3,
  kDiscardLeastChg = 4,
  kDiscardLocal = 5,
  kDiscardRemote = 6,
  kConsensus = 7,
  kDiscardSecondary = 8,
  kCallHelper = 9,
  kViolently = 10,
  kRetryConnect = 11,
  kAutoDiscard = 12,
};

enum class Outcome {
  kSource,      // keep my data: SyncSource
  kTarget,      // discard my data: SyncTarget
  kDisconnect,  // no decision: split brain stays unresolved
};

// What one side knows when it consults the policies.
struct Input {
  int after_sb_0p = 0;  // Asb numbers
  int after_sb_1p = 0;
  int after_sb_2p = 0;
  bool self_pri = false;           // bit 0 of my bitmap UUID toward the peer
  bool peer_pri = false;           // bit 0 of the peer's bitmap UUID toward me
  uint64_t ch_self = 0;            // bits set in my bitmap toward the peer (4 KiB blocks)
  uint64_t ch_peer = 0;            // bits the peer has set toward me
  bool resolve_conflicts = false;  // this side holds RESOLVE_CONFLICTS
  bool self_primary = false;       // roles at the handshake
  bool peer_primary = false;
};

struct Decision {
  Outcome outcome = Outcome::kDisconnect;
  // call-pri-lost-after-sb picked this Primary as the one to discard: it
  // must demote first; if it cannot, the engine calls pri-lost-after-sb
  // and the split brain stays unresolved.
  bool demote = false;
  // Kernel log lines the decision prints (without the device prefix), in
  // order; a line may hold an embedded newline (the kernel's continuation).
  std::vector<std::string> log;
};

// drbd_asb_recover_0p: the after-sb-0pri policy alone.
Outcome Recover0p(const Input& in, std::vector<std::string>* log);

// The policy for the number of Primaries now (0, 1 or 2).
Decision Recover(const Input& in);

}  // namespace drbd::engine::sb
