// SPDX-License-Identifier: GPL-2.0-or-later
// The engine's only ways to reach the world: a clock with timers, ordered
// byte streams between nodes, asynchronous disks, randomness, a sink for
// state events and kernel-style log lines, and a usermode-helper runner.
// sim/real implements them with Asio, positional file I/O, the monotonic
// clock and child processes; sim/world with a virtual clock, in-memory
// pipes and disks and scripted helpers. See docs/design/drbd-simd.md.
//
// Loop affinity: every method is called from the one loop that runs the
// engine, and every callback is delivered on that loop, never from inside
// the call that requested it (a completion is always a later event). This
// keeps the engine free of re-entrancy.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/events/model.h"

namespace drbd::sim {

using TimerId = uint64_t;  // 0 is never a valid id

// Monotonic time and one-shot timers.
class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since an arbitrary epoch; never decreases.
  virtual uint64_t NowNs() const = 0;
  // Runs `fn` once, `delay_ns` from now. Returns an id for Cancel.
  virtual TimerId StartTimer(uint64_t delay_ns, std::function<void()> fn) = 0;
  // Cancels a pending timer; unknown or fired ids are ignored.
  virtual void CancelTimer(TimerId id) = 0;
};

// A network endpoint (family, numeric host, port), as paths carry it.
using Address = events::Address;
// "ipv4:127.0.0.1:7788", "ipv6:[::1]:7788": events2's spelling.
std::string AddressToString(const Address& a);

enum class NetError {
  kNone,
  kRefused,      // nobody listens at the peer address
  kReset,        // connection reset / aborted
  kClosed,       // orderly shutdown by the peer (EOF)
  kAddrInUse,    // cannot bind the local address
  kUnreachable,  // no route
};
std::string_view NetErrorName(NetError e);

// One reliable, ordered byte stream (TCP semantics). Data is delivered in
// order, possibly split or merged differently than it was sent.
class Stream {
 public:
  struct Callbacks {
    std::function<void(std::span<const uint8_t>)> on_data;
    // Called once when the stream ends for any reason other than Close().
    std::function<void(NetError)> on_closed;
  };
  virtual ~Stream() = default;  // destroying a stream closes it
  // Starts delivering; call once, right after receiving the stream.
  virtual void Start(Callbacks cb) = 0;
  // Queues bytes after everything sent before.
  virtual void Send(std::vector<uint8_t> bytes) = 0;
  // Closes both directions after queued data is flushed; no callbacks
  // follow. The peer sees kClosed.
  virtual void Close() = 0;
};

using ListenerId = uint64_t;
using ConnectId = uint64_t;

class Net {
 public:
  virtual ~Net() = default;
  // Listens on `local`; every accepted stream goes to on_accept. Returns 0
  // and sets *err if the address cannot be bound.
  virtual ListenerId Listen(const Address& local,
                            std::function<void(std::unique_ptr<Stream>)> on_accept,
                            NetError* err) = 0;
  virtual void StopListening(ListenerId id) = 0;
  // Opens a stream from local.host (any port) to `peer`. `done` receives
  // the stream, or nullptr and the error.
  virtual ConnectId Connect(const Address& local, const Address& peer,
                            std::function<void(std::unique_ptr<Stream>, NetError)> done) = 0;
  // Cancels a pending Connect; `done` is not called.
  virtual void CancelConnect(ConnectId id) = 0;
};

// A backing or metadata device, opened by DiskOpener.
class Disk {
 public:
  virtual ~Disk() = default;  // destroying cancels pending completions
  virtual uint64_t SizeBytes() const = 0;
  // Reads `len` bytes at `offset`; `done(ok, bytes)`.
  virtual void Read(uint64_t offset, uint32_t len,
                    std::function<void(bool ok, std::vector<uint8_t> bytes)> done) = 0;
  // Writes `bytes` at `offset`; durable only after a later Flush completes.
  virtual void Write(uint64_t offset, std::vector<uint8_t> bytes,
                     std::function<void(bool ok)> done) = 0;
  virtual void Flush(std::function<void(bool ok)> done) = 0;
};

class DiskOpener {
 public:
  virtual ~DiskOpener() = default;
  // Opens `path` read-write and exclusively, as the kernel claims a backing
  // device. Synchronous (the kernel's open is). nullptr and *err (an errno
  // value) on failure.
  virtual std::unique_ptr<Disk> Open(const std::string& path, int* err) = 0;
};

// Randomness for UUIDs, challenges and jitter.
class Rng {
 public:
  virtual ~Rng() = default;
  virtual uint64_t Next() = 0;
};

// Receives state notifications (what the kernel multicasts and events2
// prints; each carries the object's full info) and kernel-style log lines
// ("drbd r0 b0: conn( StandAlone -> Unconnected ) [connect]").
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnEvent(const events::Notification& n) = 0;
  virtual void OnLog(std::string_view line) = 0;
};

// One usermode-helper invocation, as the kernel's drbd_khelper makes it:
// the helper program runs with argv {helper, name, resource} and exactly
// `env` as its environment (no variables of the caller's own).
struct HelperCall {
  std::string name;              // handler: "fence-peer", "before-resync-target", ...
  std::string resource;          // resource name, argv[2]
  std::vector<std::string> env;  // "KEY=value", in the kernel's order
};

// Runs usermode helpers (the kernel's call_usermodehelper with
// UMH_WAIT_PROC). The engine keeps running while a helper runs.
class HelperRunner {
 public:
  virtual ~HelperRunner() = default;
  // Starts `call`; `done` later receives the raw wait status as the kernel
  // sees it (exit code << 8, or the terminating signal number; a negative
  // errno when the helper could not be started).
  virtual void Run(const HelperCall& call, std::function<void(int wait_status)> done) = 0;
  // The program run, as the kernel's log lines name it ("helper command:
  // /sbin/drbdadm fence-peer").
  virtual std::string Program() const = 0;
};

// Everything one engine uses. Not owned.
struct Env {
  Clock* clock = nullptr;
  Net* net = nullptr;
  DiskOpener* disks = nullptr;
  Rng* rng = nullptr;
  EventSink* events = nullptr;
  // nullptr: helpers are disabled (the module's usermode_helper=disabled):
  // no helper runs and no call/response notification is sent.
  HelperRunner* helpers = nullptr;
};

}  // namespace drbd::sim
