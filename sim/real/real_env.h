// SPDX-License-Identifier: GPL-2.0-or-later
// The real sim::Env for drbd-simd: Asio timers on CLOCK_MONOTONIC (steady
// clock), TCP streams and listeners through Asio, backing files opened with
// open(2) and read/written with pread/pwrite (large reads and writes and
// slow flushes on a thread per file, completions posted to the loop),
// randomness from std::random_device. Everything else runs on one
// asio::io_context, the engine's loop.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "sim/env/env.h"

namespace drbd::real {

class AsioClock : public sim::Clock {
 public:
  explicit AsioClock(asio::io_context& io) : io_(io) {}
  uint64_t NowNs() const override;
  sim::TimerId StartTimer(uint64_t delay_ns, std::function<void()> fn) override;
  void CancelTimer(sim::TimerId id) override;

 private:
  asio::io_context& io_;
  uint64_t next_ = 1;
  std::map<sim::TimerId, std::shared_ptr<asio::steady_timer>> timers_;
  // Zero-delay timers not yet run: posted to the loop instead of armed.
  // An armed timer reprograms the timerfd twice (arm, then re-arm for the
  // next deadline), and in a VM each reprogramming traps to the hypervisor:
  // the engine completes every request this way.
  std::set<sim::TimerId> posted_;
};

// Streams' frames that wait for the loop to have nothing else to do.
struct IdleWaiters;

class AsioNet : public sim::Net {
 public:
  explicit AsioNet(asio::io_context& io);
  ~AsioNet() override;
  // Runs the loop like io.run(), and writes the frames that wait for an
  // idle loop (P_BARRIER) only once no handler is ready, or after
  // kIdleEvery handlers in a row. Without it they wait until the handlers
  // queued when they were sent have run.
  void Run();
  static constexpr int kIdleEvery = 256;
  sim::ListenerId Listen(const sim::Address& local,
                         std::function<void(std::unique_ptr<sim::Stream>)> on_accept,
                         sim::NetError* err) override;
  void StopListening(sim::ListenerId id) override;
  sim::ConnectId Connect(
      const sim::Address& local, const sim::Address& peer,
      std::function<void(std::unique_ptr<sim::Stream>, sim::NetError)> done) override;
  void CancelConnect(sim::ConnectId id) override;

 private:
  struct Listener;
  void AcceptLoop(const std::shared_ptr<Listener>& l);
  asio::io_context& io_;
  uint64_t next_ = 1;
  std::map<sim::ListenerId, std::shared_ptr<Listener>> listeners_;
  std::set<sim::ConnectId> pending_;
  std::shared_ptr<IdleWaiters> idle_;
};

// Backing files and block devices by path.
// Large aligned writes bypass the page cache (O_DIRECT), as the kernel
// module's bios do, where the file system allows it.
class FileDisks : public sim::DiskOpener {
 public:
  explicit FileDisks(asio::io_context& io) : io_(io) {}
  std::unique_ptr<sim::Disk> Open(const std::string& path, int* err) override;
  // What the disks opened here did so far (tests and statistics).
  struct Stats {
    std::atomic<uint64_t> direct_writes{0};    // writes run with O_DIRECT
    std::atomic<uint64_t> skipped_flushes{0};  // flushes with nothing to flush
  };
  const Stats& stats() const { return *stats_; }

 private:
  asio::io_context& io_;
  std::shared_ptr<Stats> stats_ = std::make_shared<Stats>();  // shared with the disks' workers
};

// Tunes malloc for the data path: freed block buffers stay in the heap
// for the next ones (no trimming of its top, no mmap per 1 MiB request),
// so that bursts of requests and frames do not fault their pages in again
// each time. The heap keeps its peak size. Call once at start-up.
void KeepFreedMemory();

class DeviceRng : public sim::Rng {
 public:
  DeviceRng();
  uint64_t Next() override { return gen_(); }

 private:
  std::mt19937_64 gen_;
};

}  // namespace drbd::real
