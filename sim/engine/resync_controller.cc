// SPDX-License-Identifier: GPL-2.0-or-later
// ResyncController: the fixed-rate and dynamic resync turn sizes and the
// c-min-rate throttle, with the units and integer arithmetic of the DRBD 9
// module's controller (sectors, KiB/s, 100 ms turns, 3 s sync marks).
#include "sim/engine/resync_controller.h"

#include <algorithm>

namespace drbd::engine {
namespace {

constexpr uint64_t kNsPerSecond = 1000000000ull;
constexpr uint64_t kSectorsPerBlock = 8;  // 4 KiB bitmap blocks
constexpr uint64_t kKibPerBlock = 4;
// The largest request the controller paces early turns by (DRBD_MAX_BIO_SIZE).
constexpr uint64_t kMaxBioKib = 1024;
// Backing I/O the resync cannot account for that counts as activity.
constexpr uint64_t kActivitySectors = 64;

uint64_t NonNegative(int64_t v) { return v > 0 ? static_cast<uint64_t>(v) : 0; }

}  // namespace

ResyncConf ResyncConf::From(const OptionSet& o) {
  ResyncConf c;
  c.resync_rate_kib = NonNegative(o.Int("resync-rate"));
  c.plan_ahead = static_cast<uint32_t>(NonNegative(o.Int("c-plan-ahead")));
  c.fill_target_sect = NonNegative(o.Int("c-fill-target"));
  c.delay_target = static_cast<uint32_t>(NonNegative(o.Int("c-delay-target")));
  c.max_rate_kib = NonNegative(o.Int("c-max-rate"));
  c.min_rate_kib = NonNegative(o.Int("c-min-rate"));
  return c;
}

void ResyncController::Reset(const ResyncConf& conf, uint64_t now_ns, uint64_t left_blocks,
                             uint64_t app_sectors) {
  conf_ = conf;
  plan_.assign(conf.plan_ahead, 0);
  plan_head_ = 0;
  plan_total_ = 0;
  in_flight_ = 0;
  sect_in_ = 0;
  last_turn_ns_ = now_ns;
  sync_rate_kib_ = 0;
  marks_.fill(SyncMark{left_blocks, now_ns});
  last_mark_ = 0;
  last_events_ = app_sectors;
}

void ResyncController::SetConf(const ResyncConf& conf) {
  if (conf.plan_ahead != plan_.size()) {
    plan_.assign(conf.plan_ahead, 0);
    plan_head_ = 0;
    plan_total_ = 0;
  }
  conf_ = conf;
}

int64_t ResyncController::Controller(uint64_t sect_in, uint64_t duration_ns) {
  if (duration_ns == 0) {
    duration_ns = 1;
  } else if (duration_ns > 10 * kResyncTurnNs) {
    duration_ns = 10 * kResyncTurnNs;
  }
  // A short turn: what would have come in over a whole one.
  if (duration_ns < kResyncTurnNs) sect_in = sect_in * kResyncTurnNs / duration_ns;

  const auto steps = static_cast<int64_t>(plan_.size());
  const auto in = static_cast<int64_t>(sect_in);
  int64_t want = 0;
  if (in_flight_ + in == 0) {  // the start of a run: resync-rate over the horizon
    want = static_cast<int64_t>(conf_.resync_rate_kib * 2 / 10) * steps;
  } else if (conf_.fill_target_sect) {
    want = static_cast<int64_t>(conf_.fill_target_sect);
  } else {
    want = static_cast<int64_t>(sect_in * conf_.delay_target * kNsPerSecond / (duration_ns * 10));
  }
  const int64_t correction = want - in_flight_ - plan_total_;
  // Divide the correction over the horizon, then take this turn's share.
  const int64_t cps = correction / steps;
  for (int64_t& v : plan_) v += cps;
  plan_total_ += cps * steps;
  const int64_t curr = plan_[plan_head_];
  plan_[plan_head_] = 0;
  plan_head_ = (plan_head_ + 1) % plan_.size();
  plan_total_ -= curr;

  int64_t req = in + curr;
  if (req < 0) req = 0;
  if (conf_.max_rate_kib != 0) {
    const auto max_sect =
        static_cast<int64_t>(conf_.max_rate_kib * 2 * kResyncTurnNs / kNsPerSecond);
    req = std::min(req, max_sect);
  }
  return req;
}

uint64_t ResyncController::Turn(uint64_t now_ns) {
  const uint64_t sect_in = sect_in_;
  sect_in_ = 0;
  in_flight_ -= static_cast<int64_t>(sect_in);
  const uint64_t duration = now_ns - last_turn_ns_;
  last_turn_ns_ = now_ns;
  uint64_t blocks = 0;
  if (dynamic()) {
    blocks = NonNegative(Controller(sect_in, duration)) / kSectorsPerBlock;
  } else {
    blocks = kResyncTurnNs * conf_.resync_rate_kib / (kKibPerBlock * kNsPerSecond);
  }
  sync_rate_kib_ = blocks * kKibPerBlock * kNsPerSecond / kResyncTurnNs;
  return blocks * kSectorsPerBlock;
}

std::optional<uint64_t> ResyncController::EarlyTurn(uint64_t now_ns) const {
  if (!dynamic() || in_flight_ <= 0 || sect_in_ < static_cast<uint64_t>(in_flight_)) {
    return std::nullopt;
  }
  const uint64_t kib_in = sect_in_ / 2;
  if (kib_in == 0) return std::nullopt;
  const uint64_t latency = now_ns - last_turn_ns_;
  // The pace at which requests of the largest size would keep c-max-rate.
  const uint64_t m = kMaxBioKib > kib_in ? kMaxBioKib / kib_in : 1;
  const uint64_t interval =
      conf_.max_rate_kib != 0 ? kib_in * m * kNsPerSecond / conf_.max_rate_kib : 0;
  // Replies came back fast and the turn asked for clearly too little.
  const uint64_t amount_kib = conf_.max_rate_kib / 10;
  const bool kick = kib_in < amount_kib / 2 && latency < kResyncTurnNs / 2;
  if (kick || interval <= latency) return 0;
  if (interval < kResyncTurnNs) return interval - latency;
  return std::nullopt;
}

void ResyncController::Mark(uint64_t now_ns, uint64_t left_blocks) {
  if (now_ns - marks_[last_mark_].time_ns < kMarkStepNs) return;
  last_mark_ = (last_mark_ + 1) % kMarks;
  marks_[last_mark_] = SyncMark{left_blocks, now_ns};
}

bool ResyncController::Throttle(uint64_t now_ns, uint64_t app_sectors, bool app_pending,
                                uint64_t left_blocks) {
  if (conf_.min_rate_kib == 0) return false;
  if (!app_pending && app_sectors - last_events_ <= kActivitySectors) return false;
  last_events_ = app_sectors;
  // The rate since the mark before the latest: a short average.
  const SyncMark& m = marks_[(last_mark_ + kMarks - 1) % kMarks];
  const uint64_t dt = std::max<uint64_t>(1, (now_ns - m.time_ns) / kNsPerSecond);
  if (m.left <= left_blocks) return false;  // no progress: never slow it further
  const uint64_t kib_per_sec = (m.left - left_blocks) / dt * kKibPerBlock;
  return kib_per_sec > conf_.min_rate_kib;
}

}  // namespace drbd::engine
