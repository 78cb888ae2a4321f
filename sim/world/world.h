// SPDX-License-Identifier: GPL-2.0-or-later
// A deterministic world for engines in one process: a virtual clock and one
// event queue keyed (virtual time, sequence), in-memory TCP-like pipes
// between listeners and dialers, in-memory disks by path, a seeded RNG and a
// recording event sink. Every completion is a queued event, never a
// synchronous callback, as the sim::Env contract requires. Used by the
// engine's unit tests; the base for the cluster simulator (issue #7).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sim/env/env.h"

namespace drbd::sim {

class World {
 public:
  explicit World(uint64_t seed = 1);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  uint64_t now_ns() const { return now_; }
  // Queues `fn` at now + delay. Returns an id usable with Cancel.
  uint64_t Post(uint64_t delay_ns, std::function<void()> fn);
  void Cancel(uint64_t id);
  // Runs the earliest event; false if none is queued.
  bool Step();
  // Runs events until none is left at or before now + ns, then sets the
  // clock to now + ns.
  void RunFor(uint64_t ns);
  // Runs events until the queue holds only events later than now + ns (a
  // bound for periodic timers); returns the number of events run.
  size_t RunUntilIdle(uint64_t horizon_ns = 1000000000ull);

  Clock* clock();
  Net* net();
  DiskOpener* disks();
  Rng* rng() { return rng_.get(); }

  // One-way delivery delay of the network (default 100 us).
  void set_latency_ns(uint64_t ns) { latency_ns_ = ns; }
  uint64_t latency_ns() const { return latency_ns_; }

  // In-memory disks, by path. The bytes are shared with every open.
  std::shared_ptr<std::vector<uint8_t>> AddDisk(const std::string& path, uint64_t bytes);
  std::shared_ptr<std::vector<uint8_t>> DiskBytes(const std::string& path);

  // Network faults: drop every stream between two hosts (both ends see
  // kReset) and refuse new ones while `cut` is true.
  void Partition(const std::string& host_a, const std::string& host_b, bool cut);

  class PipeEnd;
  class SimNet;
  class SimClock;
  class SimDisks;

 private:
  struct Event {
    std::function<void()> fn;
  };
  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  std::map<std::pair<uint64_t, uint64_t>, Event> queue_;     // (time, seq)
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> by_id_;  // id -> key
  uint64_t latency_ns_ = 100000;
  std::unique_ptr<SimClock> clock_;
  std::unique_ptr<SimNet> net_;
  std::unique_ptr<SimDisks> disks_;
  std::unique_ptr<Rng> rng_;
};

// mt19937_64 with no distribution objects (their output differs between
// standard libraries).
class SeededRng : public Rng {
 public:
  explicit SeededRng(uint64_t seed) : gen_(seed) {}
  uint64_t Next() override { return gen_(); }

 private:
  std::mt19937_64 gen_;
};

// Keeps every notification and log line.
class RecordingSink : public EventSink {
 public:
  void OnEvent(const events::Notification& n) override { notes.push_back(n); }
  void OnLog(std::string_view line) override { log.emplace_back(line); }
  // Each notification as an events2-style line with all fields, e.g.
  // "change connection name:r0 peer-node-id:1 conn-name:b
  // connection:Connected role:Secondary".
  std::vector<std::string> Lines() const;
  bool LogContains(std::string_view text) const;
  void Clear() {
    notes.clear();
    log.clear();
  }
  std::vector<events::Notification> notes;
  std::vector<std::string> log;
};

// events2-style text of one notification with every field (no diffing).
std::string FormatNotification(const events::Notification& n);

}  // namespace drbd::sim
