// SPDX-License-Identifier: GPL-2.0-or-later
// The resync rate controller of one peer device, as pure arithmetic over
// the times and sector counts its caller feeds it (no clock, no I/O). With
// c-plan-ahead 0 a turn allows the fixed `resync-rate`; otherwise the
// kernel's dynamic controller plans corrections c-plan-ahead/10 seconds
// ahead so that c-fill-target sectors (or c-delay-target worth of the
// measured rate) are in flight, never more than c-max-rate per turn, and
// asks for an early turn when everything in flight came back quickly. The
// c-min-rate throttle stops a turn when application I/O is active and the
// resync already moves faster than c-min-rate. Turns are 100 ms apart. See
// docs/design/drbd-simd.md (Resync, rate).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/engine/options.h"

namespace drbd::engine {

// The interval between two regular turns (RS_MAKE_REQS_INTV), in ns.
inline constexpr uint64_t kResyncTurnNs = 100000000;

// The controller's settings, read from the peer-device options.
struct ResyncConf {
  uint64_t resync_rate_kib = 250;   // resync-rate: KiB/s (fixed rate; dynamic start)
  uint32_t plan_ahead = 20;         // c-plan-ahead: 0.1 s units; 0 = fixed rate
  uint64_t fill_target_sect = 100;  // c-fill-target: sectors in flight; 0 = use delay
  uint32_t delay_target = 10;       // c-delay-target: 0.1 s units
  uint64_t max_rate_kib = 102400;   // c-max-rate: KiB/s; 0 = unlimited
  uint64_t min_rate_kib = 250;      // c-min-rate: KiB/s; 0 = never throttle

  static ResyncConf From(const OptionSet& peer_device_opts);
};

class ResyncController {
 public:
  // Starts a run at `now_ns` with `left_blocks` 4 KiB blocks to sync and
  // `app_sectors` of non-resync backing I/O so far: nothing in flight, an
  // empty plan, every sync mark at the start.
  void Reset(const ResyncConf& conf, uint64_t now_ns, uint64_t left_blocks, uint64_t app_sectors);
  // Takes new settings; a changed plan-ahead empties the plan.
  void SetConf(const ResyncConf& conf);
  const ResyncConf& conf() const { return conf_; }
  bool dynamic() const { return conf_.plan_ahead > 0; }

  // `sectors` of resync requested (sent toward the peer).
  void Requested(uint64_t sectors) { in_flight_ += static_cast<int64_t>(sectors); }
  // `sectors` of earlier requests came back (acknowledged or dropped).
  void CameIn(uint64_t sectors) { sect_in_ += sectors; }

  // One turn at `now_ns`: the sectors to request now (drbd_rs_number_requests
  // without the max-buffers bound, which the caller applies).
  uint64_t Turn(uint64_t now_ns);

  // After CameIn: when every requested sector came back, the dynamic
  // controller may want its next turn before the regular 100 ms: the delay
  // from `now_ns` (0 = now), or nullopt to wait for the regular turn.
  std::optional<uint64_t> EarlyTurn(uint64_t now_ns) const;

  // The sync marks (one every 3 s, eight kept) the c-min-rate throttle
  // measures progress against; call with the blocks left.
  void Mark(uint64_t now_ns, uint64_t left_blocks);

  // c-min-rate: true when the turn should stop. `app_sectors`: non-resync
  // backing I/O so far; `app_pending`: application requests in flight.
  bool Throttle(uint64_t now_ns, uint64_t app_sectors, bool app_pending, uint64_t left_blocks);

  int64_t in_flight() const { return in_flight_; }
  // Sectors the last turn allowed, as a rate (c_sync_rate): KiB/s.
  uint64_t sync_rate_kib() const { return sync_rate_kib_; }

 private:
  struct SyncMark {
    uint64_t left = 0;     // blocks left at the mark
    uint64_t time_ns = 0;  // when the mark was taken
  };
  static constexpr size_t kMarks = 8;
  static constexpr uint64_t kMarkStepNs = 3000000000ull;

  int64_t Controller(uint64_t sect_in, uint64_t duration_ns);

  ResyncConf conf_;
  std::vector<int64_t> plan_;  // planned corrections, one per future turn
  size_t plan_head_ = 0;       // the entry the next turn takes
  int64_t plan_total_ = 0;     // sum of plan_
  int64_t in_flight_ = 0;      // sectors requested and not yet counted in
  uint64_t sect_in_ = 0;       // sectors come in since the last turn
  uint64_t last_turn_ns_ = 0;
  uint64_t sync_rate_kib_ = 0;
  std::array<SyncMark, kMarks> marks_{};
  size_t last_mark_ = 0;
  uint64_t last_events_ = 0;  // app_sectors at the last throttle decision
};

}  // namespace drbd::engine
