// SPDX-License-Identifier: GPL-2.0-or-later
// A deterministic world for engines in one process: a virtual clock and one
// event queue keyed (virtual time, sequence), in-memory TCP-like pipes
// between listeners and dialers, in-memory disks by path, a seeded RNG and a
// recording event sink. Every completion is a queued event, never a
// synchronous callback, as the sim::Env contract requires. It also carries
// the fault hooks (jitter, one-way partitions, resets mid-message, crashed
// hosts, disk errors, a volatile disk cache that a crash loses or tears)
// that tests/sim's deterministic simulator drives. Used by the engine's
// unit tests and by the simulator (docs/design/detsim.md).
#pragma once

#include <algorithm>
#include <cstddef>
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
  // Runs the earliest event if it is due at or before `end_ns`; false
  // (nothing run) otherwise. For callers that look at the world between
  // events; RunFor(0) afterwards is not needed (time stays at the event).
  bool StepUntil(uint64_t end_ns);
  // Moves the clock forward to `t_ns` without running anything; REQUIRES:
  // no event is due before it (StepUntil returned false).
  void AdvanceTo(uint64_t t_ns) { now_ = std::max(now_, t_ns); }
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

  // ---- the fault hooks of the deterministic simulator (docs/design/detsim.md)
  // Each message gets an extra delay drawn from [0, ns) by the world's RNG;
  // streams stay ordered (a message never overtakes an earlier one).
  void set_jitter_ns(uint64_t ns) { jitter_ns_ = ns; }
  // One-way partition: bytes from `from` to `to` are held back (a stalled
  // TCP stream, delivered when healed) and new streams between the two are
  // refused while `cut` is true.
  void PartitionOneWay(const std::string& from, const std::string& to, bool cut);
  // A stalled link, as a TCP proxy that stops relaying (tests/integration
  // simd_harness.py TcpProxy.cut): both directions are held back, closes
  // too, and a new stream between the two is connected for its dialer at
  // once while its listener accepts it only when healed. Healing hands
  // the held streams to their listeners (or closes them for the dialer
  // when nothing listens any more), then delivers the held bytes and
  // closes in order.
  void PartitionStall(const std::string& host_a, const std::string& host_b, bool cut);
  // The next message sent on a stream between the two hosts arrives cut
  // short (its first half), then both ends see kReset.
  void ResetMidMessage(const std::string& host_a, const std::string& host_b);
  // A crashed host: its streams go silent (nothing it sends arrives, its
  // closes are not seen, what peers send is lost) and connections to or
  // from it are refused, until brought up again.
  void SetHostDown(const std::string& host, bool down);
  bool HostDown(const std::string& host) const { return down_.count(host) > 0; }

  // What a drive writes all or nothing: a 4 KiB physical sector (4Kn and
  // 512e disks). The metadata superblock is one such write, as the
  // kernel's drbd_md_sync issues it; a 512-byte tear inside it made up
  // superblocks no crash leaves behind (detsim seed 0x200be53d3fd2bba8:
  // the current UUID of one write beside the history of another).
  static constexpr size_t kAtomicWrite = 4096;

  // Disks keep a volatile write cache: a write is visible at once but
  // durable only after a flush (of any open of the same path) or once it
  // falls out of the cache (the oldest beyond kCacheWrites). A crash
  // applies one of these to the writes not yet durable.
  enum class CrashMode {
    kKeep,           // the cache was written back in time
    kLoseUnflushed,  // every write since the last flush is gone
    kTear,           // a random subset survives, one of them cut at a kAtomicWrite boundary
  };
  static constexpr size_t kCacheWrites = 512;
  // Makes reads and/or writes of `path` fail (ok false) until cleared.
  void SetDiskErrors(const std::string& path, bool read_eio, bool write_eio);
  // A slow disk: writes of `path` complete `ns` after they were issued
  // (their bytes are visible at once, as in a drive's cache); 0 = at once.
  void SetDiskWriteLatency(const std::string& path, uint64_t ns);
  // The host of `path` crashed: completions of every open of `path` still
  // pending are never delivered, later calls on those opens do nothing,
  // and `mode` decides what becomes of the unflushed writes.
  void CrashDisk(const std::string& path, CrashMode mode);
  // Writes of `path` not yet durable.
  size_t UnflushedWrites(const std::string& path) const;
  // Runs `hook(offset, len)` right after each write to `path` is applied
  // (before its completion); empty clears it.
  void SetWriteHook(const std::string& path, std::function<void(uint64_t, uint64_t)> hook);

  // Events run so far (part of the simulator's trace).
  uint64_t events_run() const { return events_run_; }

  class PipeEnd;
  class SimNet;
  class SimClock;
  class SimDisks;
  struct DiskImage;

 private:
  bool OneWayCut(const std::string& from, const std::string& to) const;
  // Bytes from `from` to `to` wait (a one-way partition or a stall).
  bool Held(const std::string& from, const std::string& to) const;
  bool Stalled(const std::string& a, const std::string& b) const;
  // True once per ResetMidMessage between the two hosts.
  bool TakeReset(const std::string& host_a, const std::string& host_b);
  struct Event {
    std::function<void()> fn;
  };
  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  std::map<std::pair<uint64_t, uint64_t>, Event> queue_;     // (time, seq)
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> by_id_;  // id -> key
  uint64_t latency_ns_ = 100000;
  uint64_t jitter_ns_ = 0;
  uint64_t events_run_ = 0;
  std::set<std::string> down_;                            // crashed hosts
  std::set<std::pair<std::string, std::string>> oneway_;  // (from, to) held back
  std::set<std::pair<std::string, std::string>> resets_;  // (min, max) armed resets
  std::set<std::pair<std::string, std::string>> stalls_;  // (min, max) stalled links
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
