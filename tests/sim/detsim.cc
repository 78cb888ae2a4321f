// SPDX-License-Identifier: GPL-2.0-or-later
// The deterministic cluster simulator: node lifecycle (bring-up, crash,
// restart) over per-node clock and network wrappers that a crash can cut
// off, the write workload and its reference block model, fault injection
// and healing from the faults.def catalogue, the invariants, and the trace
// hash. See docs/design/detsim.md.
#include "tests/sim/detsim.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <set>

#include "lib/md/device.h"
#include "lib/md/metadata.h"
#include "lib/md/superblock.h"
#include "sim/engine/engine.h"
#include "sim/world/node.h"
#include "sim/world/world.h"

namespace drbd::sim::detsim {

namespace {

using engine::ConnState;
using engine::DiskState;
using engine::ReplState;
using engine::Ret;
using engine::Role;

constexpr uint64_t kMs = 1000000ull;
constexpr uint64_t kSec = 1000 * kMs;
constexpr uint64_t kBlock = 4096;
constexpr uint32_t kRegionBlocks = 48;       // the workload's blocks (192 KiB)
constexpr uint64_t kDiskBytes = 8ull << 20;  // each node's backing disk
constexpr const char* kRes = "r0";

// FNV-1a, 64 bit.
struct Hasher {
  uint64_t h = 0xcbf29ce484222325ull;
  void Add(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    h ^= 0xff;
    h *= 0x100000001b3ull;
  }
  void Add(uint64_t v) { Add(std::string_view(reinterpret_cast<const char*>(&v), sizeof v)); }
};

// Hashes one node's notifications and log lines into the run's trace.
class HashSink : public EventSink {
 public:
  HashSink(Hasher* h, std::string node, bool verbose, const sim::Clock* clock)
      : h_(h), node_(std::move(node)), verbose_(verbose), clock_(clock) {}
  void OnEvent(const events::Notification& n) override {
    std::string line = node_ + " " + FormatNotification(n);
    h_->Add(line);
    if (verbose_) fmt::print(stderr, "  {:9.3f} {}\n", Seconds(), line);
  }
  void OnLog(std::string_view line) override {
    h_->Add(node_);
    h_->Add(line);
    if (line.find("Split-Brain detected") != std::string_view::npos) ++split_brains;
    // The virtual time goes to the verbose trace only, never into the hash.
    if (verbose_) fmt::print(stderr, "  {:9.3f} {} log: {}\n", Seconds(), node_, line);
  }
  uint64_t split_brains = 0;

 private:
  Hasher* h_;
  std::string node_;
  bool verbose_;
  const sim::Clock* clock_;

  double Seconds() const { return static_cast<double>(clock_->NowNs()) / 1e9; }
};

// A node's clock: a crash cancels its timers and drops any that still fire.
class NodeClock : public Clock {
 public:
  explicit NodeClock(Clock* base) : base_(base) {}
  uint64_t NowNs() const override { return base_->NowNs(); }
  TimerId StartTimer(uint64_t delay_ns, std::function<void()> fn) override {
    if (!*alive_) return ++dead_ids_;
    auto slot = std::make_shared<TimerId>(0);
    TimerId id = base_->StartTimer(delay_ns, [this, slot, alive = alive_, fn = std::move(fn)] {
      if (!*alive) return;
      live_.erase(*slot);
      fn();
    });
    *slot = id;
    live_.insert(id);
    return id;
  }
  void CancelTimer(TimerId id) override {
    if (live_.erase(id)) base_->CancelTimer(id);
  }
  void Kill() {
    *alive_ = false;
    for (TimerId id : live_) base_->CancelTimer(id);
    live_.clear();
  }

 private:
  Clock* base_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::set<TimerId> live_;
  TimerId dead_ids_ = 1ull << 62;
};

// A node's network: a crash stops its listeners and drops late accepts and
// connect completions.
class NodeNet : public Net {
 public:
  explicit NodeNet(Net* base) : base_(base) {}
  ListenerId Listen(const Address& local, std::function<void(std::unique_ptr<Stream>)> on_accept,
                    NetError* err) override {
    ListenerId id = base_->Listen(
        local,
        [alive = alive_, fn = std::move(on_accept)](std::unique_ptr<Stream> s) {
          if (*alive) fn(std::move(s));
        },
        err);
    if (id) listeners_.insert(id);
    return id;
  }
  void StopListening(ListenerId id) override {
    listeners_.erase(id);
    base_->StopListening(id);
  }
  ConnectId Connect(const Address& local, const Address& peer,
                    std::function<void(std::unique_ptr<Stream>, NetError)> done) override {
    return base_->Connect(
        local, peer, [alive = alive_, fn = std::move(done)](std::unique_ptr<Stream> s, NetError e) {
          if (*alive) fn(std::move(s), e);
        });
  }
  void CancelConnect(ConnectId id) override { base_->CancelConnect(id); }
  void Kill() {
    *alive_ = false;
    for (ListenerId id : listeners_) base_->StopListening(id);
    listeners_.clear();
  }

 private:
  Net* base_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::set<ListenerId> listeners_;
};

struct SimNode {
  uint32_t id = 0;
  std::string name;  // "n0"
  std::string host;  // "10.0.0.1"
  std::string disk;  // "/n0/disk"
  std::unique_ptr<HashSink> sink;
  std::unique_ptr<NodeClock> clock;
  std::unique_ptr<NodeNet> net;
  std::unique_ptr<engine::Engine> eng;
  uint64_t handle = 0;       // the writer's open of minor 0
  uint64_t restart_at = 0;   // while down: when it comes back
  bool crash_armed = false;  // kCrashMdWrite: crash after the next metadata write
  bool crash_now = false;
  // on-io-error detached the disk: it is never attached again, an admin
  // replaces it (ReplaceFailedDisk, or at restart).
  bool disk_failed = false;
  bool up() const { return eng != nullptr; }
};

struct ActiveFault {
  Fault fault;
  uint32_t a = 0, b = 0;  // the nodes involved
  uint64_t until = 0;     // heal time
};

struct InFlight {
  uint64_t id = 0;
  uint32_t first = 0, count = 0;  // blocks
  std::vector<uint8_t> data;
};

class Sim {
 public:
  explicit Sim(const Options& o) : o_(o), world_(o.seed), rng_(o.seed ^ 0x9e3779b97f4a7c15ull) {
    for (const FaultInfo& f : kFaults) {
      // partition-stall is opt-in: in the default catalogue it would change
      // every pinned seed's fault draws (tests/sim/seeds_stall has its own).
      if ((o.faults.empty() && f.fault != Fault::kPartitionStall) ||
          std::find(o.faults.begin(), o.faults.end(), f.fault) != o.faults.end()) {
        enabled_.push_back(f);
      }
    }
  }

  Result Run();

 private:
  void RunInner();
  uint64_t R(uint64_t n) { return n ? rng_.Next() % n : 0; }
  void Trace(const std::string& what) {
    hash_.Add(what);
    if (o_.verbose)
      fmt::print(stderr, "[{:>4} {:>10.3f}s] {}\n", step_, world_.now_ns() / 1e9, what);
  }
  void Probe(const std::string& name) { ++res_.probes[name]; }
  bool Fail(const std::string& what) {
    if (res_.ok) {
      res_.ok = false;
      res_.violation = what;
      res_.step = step_;
      Trace("VIOLATION " + what);
    }
    return false;
  }

  engine::Ctx Res() const {
    engine::Ctx c;
    c.resource = kRes;
    return c;
  }
  engine::Ctx Minor() const {
    engine::Ctx c;
    c.minor = 0;
    return c;
  }
  engine::Ctx Peer(uint32_t peer) const {
    engine::Ctx c = Res();
    c.peer_node_id = peer;
    return c;
  }
  static uint16_t Port(uint32_t local, uint32_t peer) {
    return static_cast<uint16_t>(7700 + 10 * local + peer);
  }

  bool MakeDisk(SimNode& n);
  bool BringUp(SimNode& n);
  void Crash(SimNode& n, World::CrashMode mode, const std::string& why);
  void RunWorld(uint64_t ns);
  void Inject();
  void Heal(const ActiveFault& f);
  void ReplaceFailedDisk(SimNode& n);
  // Whether a current replica other than `n` exists that no disk-eio
  // fault is failing.
  bool OtherUpToDate(const SimNode& n);
  // n0's UpToDate disk (if n0 is Primary) and every UpToDate disk n0
  // replicates to (Established, peer disk UpToDate).
  std::vector<SimNode*> CurrentReplicas();
  void Workload();
  void WriteDone(uint64_t id, int err);
  bool CheckInvariants(bool final);
  bool Converged(std::string* why);
  const uint8_t* DiskAt(const SimNode& n, uint32_t block) {
    return world_.DiskBytes(n.disk)->data() + block * kBlock;
  }
  SimNode* Writer() {
    SimNode& w = nodes_[0];
    return w.up() && w.eng->ResourceRole(kRes) == Role::kPrimary ? &w : nullptr;
  }

  Options o_;
  World world_;
  SeededRng rng_;  // the simulator's own choices (the world's RNG is the engines')
  Hasher hash_;
  Result res_;
  uint32_t step_ = 0;
  std::vector<FaultInfo> enabled_;
  std::vector<SimNode> nodes_;
  engine::OptionSet net_opts_{cfg::OptContext::kNewPeer};
  std::vector<ActiveFault> active_;
  // The reference model: what each workload block must hold once its last
  // write was acknowledged; unknown after a write that failed or whose
  // writer crashed (any of old, new or torn is then acceptable, as long as
  // the replicas agree).
  std::vector<std::vector<uint8_t>> model_;
  std::vector<bool> known_;
  std::vector<int> busy_;  // writes in flight per block
  std::map<uint64_t, InFlight> inflight_;
  uint64_t next_write_ = 1;
  bool promoted_ = false;
};

bool Sim::MakeDisk(SimNode& n) {
  return sim::MakeMetadata(world_, n.disk, kDiskBytes, md::kMdfAlClean, md::kUuidJustCreated, -1,
                           2);  // max-peers 2
}

bool Sim::BringUp(SimNode& n) {
  if (n.disk_failed) {  // rebooted with the disk that failed: replaced first
    Trace("replace the failed disk of " + n.name + " before it comes up");
    Probe("disk-replaced");
    if (!MakeDisk(n)) return Fail("metadata");
    n.disk_failed = false;
  }
  n.sink = std::make_unique<HashSink>(&hash_, n.name, o_.verbose, world_.clock());
  n.clock = std::make_unique<NodeClock>(world_.clock());
  n.net = std::make_unique<NodeNet>(world_.net());
  n.eng = std::make_unique<engine::Engine>(
      n.name, Env{n.clock.get(), n.net.get(), world_.disks(), world_.rng(), n.sink.get()});
  world_.SetHostDown(n.host, false);
  engine::Engine& e = *n.eng;
  if (e.NewResource(Res(), n.id, engine::OptionSet(cfg::OptContext::kResourceOptions)).ret !=
      Ret::kNoError) {
    return Fail(n.name + ": new-resource failed");
  }
  engine::Ctx mc = Res();
  mc.minor = 0;
  mc.volume = 0;
  if (e.NewMinor(mc).ret != Ret::kNoError) return Fail(n.name + ": new-minor failed");
  for (const SimNode& p : nodes_) {
    if (p.id == n.id) continue;
    if (e.NewPeer(Peer(p.id), p.name, net_opts_).ret != Ret::kNoError ||
        e.NewPath(Peer(p.id), Ip4(n.host, Port(n.id, p.id)), Ip4(p.host, Port(p.id, n.id))).ret !=
            Ret::kNoError) {
      return Fail(n.name + ": new-peer/new-path failed");
    }
  }
  engine::DiskConf conf;
  conf.backing_dev = conf.meta_dev = n.disk;
  conf.meta_dev_idx = engine::kMetaIdxFlexInt;
  std::optional<engine::Reply> got;
  e.Attach(Minor(), conf, [&got](engine::Reply r) { got = std::move(r); });
  for (int i = 0; i < 100000 && !got && n.up(); ++i) {
    if (!world_.Step()) break;
  }
  if (!got) return Fail(n.name + ": attach never answered");
  Trace(fmt::format("{} attach: {} disk:{}", n.name, engine::RetName(got->ret),
                    events::ToString(e.DiskStateOf(0).value_or(DiskState::kDiskless))));
  // An attach may fail (a torn superblock is an honest outcome); the node
  // then runs diskless, as the kernel's would.
  for (const SimNode& p : nodes_) {
    if (p.id != n.id) e.Connect(Peer(p.id), false, false);
  }
  return true;
}

void Sim::Crash(SimNode& n, World::CrashMode mode, const std::string& why) {
  if (!n.up()) return;
  Trace(fmt::format("crash {} ({}), {} unflushed writes", n.name, why,
                    world_.UnflushedWrites(n.disk)));
  world_.SetHostDown(n.host, true);
  n.clock->Kill();
  n.net->Kill();
  n.eng.reset();
  world_.CrashDisk(n.disk, mode);
  world_.SetWriteHook(n.disk, {});
  n.crash_armed = n.crash_now = false;
  n.handle = 0;
  n.restart_at = world_.now_ns() + 500 * kMs + R(4500) * kMs;
  if (n.id == 0) {  // the writer's requests die with it: their blocks are unknown
    for (auto& [id, w] : inflight_) {
      for (uint32_t b = w.first; b < w.first + w.count; ++b) {
        known_[b] = false;
        --busy_[b];
      }
    }
    inflight_.clear();
  }
}

void Sim::RunWorld(uint64_t ns) {
  uint64_t end = world_.now_ns() + ns;
  while (world_.StepUntil(end)) {
    for (SimNode& n : nodes_) {
      if (n.crash_now) Crash(n, World::CrashMode::kTear, "during a metadata write");
    }
    for (const ActiveFault& f : active_) {
      SimNode& n = nodes_[f.a];
      if (f.fault == Fault::kDiskEio && n.up() && !n.disk_failed &&
          n.eng->DiskStateOf(0) <= DiskState::kFailed) {
        n.disk_failed = true;
      }
    }
  }
  world_.AdvanceTo(end);
}

void Sim::Inject() {
  uint64_t total = 0;
  for (const FaultInfo& f : enabled_) total += f.weight;
  if (!total) return;
  uint64_t pick = R(total);
  const FaultInfo* fi = &enabled_.back();
  for (const FaultInfo& f : enabled_) {
    if (pick < f.weight) {
      fi = &f;
      break;
    }
    pick -= f.weight;
  }
  uint32_t n = static_cast<uint32_t>(nodes_.size());
  ActiveFault f{fi->fault, static_cast<uint32_t>(R(n)), 0, 0};
  f.b = (f.a + 1 + static_cast<uint32_t>(R(n - 1))) % n;
  f.until = world_.now_ns() + 200 * kMs + R(4800) * kMs;
  SimNode& a = nodes_[f.a];
  SimNode& b = nodes_[f.b];
  ++res_.faults[std::string(fi->name)];
  Trace(fmt::format("inject {} {} {}", fi->name, a.name, b.name));
  switch (fi->fault) {
    case Fault::kPartition:
      world_.Partition(a.host, b.host, true);
      break;
    case Fault::kPartitionOneWay:
      world_.PartitionOneWay(a.host, b.host, true);
      break;
    case Fault::kPartitionStall:
      // Up to 15 s: long enough for pings to fail and for the handshake
      // timeout (ping-timeout seconds) of streams dialled into it to fire.
      f.until += R(10000) * kMs;
      world_.PartitionStall(a.host, b.host, true);
      break;
    case Fault::kLatency:
      world_.set_latency_ns(100000 + R(1900) * 1000);
      world_.set_jitter_ns(R(5000) * 1000);
      break;
    case Fault::kReset:
      world_.ResetMidMessage(a.host, b.host);
      return;  // one-shot
    case Fault::kCrash:
      Crash(a, World::CrashMode::kKeep, "clean cache");
      return;
    case Fault::kCrashLoseUnflushed:
      Crash(a, World::CrashMode::kLoseUnflushed, "unflushed writes lost");
      return;
    case Fault::kCrashTorn:
      Crash(a, World::CrashMode::kTear, "unflushed writes torn");
      return;
    case Fault::kCrashMdWrite: {
      if (!a.up()) return;
      uint64_t md_start = a.eng->DeviceBytes(0).value_or(0);
      SimNode* np = &a;
      a.crash_armed = true;
      world_.SetWriteHook(a.disk, [np, md_start](uint64_t offset, uint64_t) {
        if (np->crash_armed && offset >= md_start) np->crash_now = true;
      });
      break;
    }
    case Fault::kDiskEio:
      // Never the last good disk: losing every replica is data loss, not
      // something DRBD could have prevented.
      if (!OtherUpToDate(a)) {
        Trace("skip disk-eio: no other UpToDate disk");
        return;
      }
      world_.SetDiskErrors(a.disk, true, true);
      break;
  }
  active_.push_back(f);
}

void Sim::Heal(const ActiveFault& f) {
  SimNode& a = nodes_[f.a];
  SimNode& b = nodes_[f.b];
  for (const FaultInfo& fi : kFaults) {
    if (fi.fault == f.fault) Trace(fmt::format("heal {} {} {}", fi.name, a.name, b.name));
  }
  switch (f.fault) {
    case Fault::kPartition:
      world_.Partition(a.host, b.host, false);
      break;
    case Fault::kPartitionOneWay:
      world_.PartitionOneWay(a.host, b.host, false);
      break;
    case Fault::kPartitionStall:
      world_.PartitionStall(a.host, b.host, false);
      break;
    case Fault::kLatency:
      world_.set_latency_ns(100000);
      world_.set_jitter_ns(0);
      break;
    case Fault::kCrashMdWrite:
      a.crash_armed = false;
      world_.SetWriteHook(a.disk, {});
      break;
    case Fault::kDiskEio:
      world_.SetDiskErrors(a.disk, false, false);
      break;
    default:
      break;
  }
}

// An admin's answer to a disk that on-io-error detached: a new disk with
// fresh metadata, attached (it then syncs from an UpToDate peer).
std::vector<SimNode*> Sim::CurrentReplicas() {
  std::vector<SimNode*> current;
  SimNode* p = Writer();
  if (!p) return current;
  if (p->eng->DiskStateOf(0) == DiskState::kUpToDate) current.push_back(p);
  for (SimNode& q : nodes_) {
    if (&q == p || !q.up()) continue;
    // Both ends agree (a restarted peer the writer has not yet noticed
    // is not current).
    if (p->eng->ReplStateOf(kRes, q.id, 0) == ReplState::kEstablished &&
        p->eng->PeerDiskOf(kRes, q.id, 0) == DiskState::kUpToDate &&
        q.eng->ReplStateOf(kRes, p->id, 0) == ReplState::kEstablished &&
        q.eng->DiskStateOf(0) == DiskState::kUpToDate) {
      current.push_back(&q);
    }
  }
  return current;
}

bool Sim::OtherUpToDate(const SimNode& n) {
  for (SimNode* o : CurrentReplicas()) {
    if (o == &n) continue;
    // The engines' views lag the truth: a replica cut off by an active
    // partition (not yet noticed) does not count either.
    bool failing = false;
    for (const ActiveFault& f : active_) {
      bool pair = (f.a == o->id && f.b == n.id) || (f.a == n.id && f.b == o->id);
      failing = failing || (f.fault == Fault::kDiskEio && f.a == o->id) ||
                ((f.fault == Fault::kPartition || f.fault == Fault::kPartitionOneWay ||
                  f.fault == Fault::kPartitionStall) &&
                 pair);
    }
    if (!failing) return true;
  }
  return false;
}

void Sim::ReplaceFailedDisk(SimNode& n) {
  if (!n.up() || n.eng->DiskStateOf(0) != DiskState::kDiskless || !OtherUpToDate(n)) return;
  for (const ActiveFault& f : active_) {
    if (f.fault == Fault::kDiskEio && f.a == n.id) return;  // still failing
  }
  Trace("replace the failed disk of " + n.name);
  Probe("disk-replaced");
  world_.CrashDisk(n.disk, World::CrashMode::kKeep);  // nothing holds the old one open
  if (!MakeDisk(n)) {
    Fail("metadata");
    return;
  }
  n.disk_failed = false;
  engine::DiskConf conf;
  conf.backing_dev = conf.meta_dev = n.disk;
  conf.meta_dev_idx = engine::kMetaIdxFlexInt;
  std::string name = n.name;
  n.eng->Attach(Minor(), conf, [this, name](const engine::Reply& r) {
    Trace(fmt::format("{} attach: {}", name, engine::RetName(r.ret)));
  });
}

void Sim::Workload() {
  SimNode& w = nodes_[0];
  if (!w.up()) return;
  if (!Writer()) {
    engine::Reply r = w.eng->Primary(Res(), false);
    Trace(fmt::format("{} primary: {}", w.name, engine::RetName(r.ret)));
    if (!engine::IsSuccess(r.ret)) return;
    Probe(promoted_ ? "primary-again" : "primary");
    promoted_ = true;
  }
  if (!w.handle) {
    int err = 0;
    w.handle = w.eng->OpenDevice(0, &err, "detsim:1");
    if (w.handle && w.eng->OpenDeviceForWrite(w.handle) != 0) {
      w.eng->CloseDevice(w.handle);
      w.handle = 0;
    }
    if (!w.handle) return;
  }
  uint64_t n = R(5);
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t count = 1 + static_cast<uint32_t>(R(3));
    uint32_t first = static_cast<uint32_t>(R(kRegionBlocks - count + 1));
    bool free = true;
    for (uint32_t b = first; b < first + count; ++b) free = free && busy_[b] == 0;
    if (!free) continue;
    uint64_t id = next_write_++;
    InFlight f{id, first, count, std::vector<uint8_t>(count * kBlock)};
    uint64_t x = rng_.Next() | 1;
    for (size_t k = 0; k < f.data.size(); k += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      std::memcpy(f.data.data() + k, &x, 8);
    }
    for (uint32_t b = first; b < first + count; ++b) ++busy_[b];
    std::vector<uint8_t> data = f.data;
    inflight_[id] = std::move(f);
    Trace(fmt::format("write #{} blocks {}+{}", id, first, count));
    w.eng->IoWrite(w.handle, first * kBlock, std::move(data), true,
                   [this, id](int err) { WriteDone(id, err); });
  }
}

void Sim::WriteDone(uint64_t id, int err) {
  auto it = inflight_.find(id);
  if (it == inflight_.end()) return;
  InFlight& f = it->second;
  Trace(fmt::format("write #{} done: {}", id, err));
  for (uint32_t b = f.first; b < f.first + f.count; ++b) {
    --busy_[b];
    known_[b] = err == 0;
    if (err == 0) {
      std::copy(f.data.begin() + (b - f.first) * kBlock,
                f.data.begin() + (b - f.first + 1) * kBlock, model_[b].begin());
    }
  }
  ++(err ? res_.writes_failed : res_.writes_acked);
  inflight_.erase(it);
}

// A replica is current when it is the writer's UpToDate disk, or an
// UpToDate disk the writer replicates to (Established, peer UpToDate).
bool Sim::CheckInvariants(bool final) {
  // No two Primaries (allow-two-primaries is off).
  std::vector<std::string> primaries;
  for (SimNode& n : nodes_) {
    if (n.up() && n.eng->ResourceRole(kRes) == Role::kPrimary) primaries.push_back(n.name);
  }
  if (primaries.size() > 1) {
    return Fail(
        fmt::format("two primaries without allow-two-primaries: {}", fmt::join(primaries, ",")));
  }
  SimNode* p = Writer();
  if (!p) return true;
  const bool p_disk = p->eng->DiskStateOf(0) == DiskState::kUpToDate;
  std::vector<SimNode*> current = CurrentReplicas();
  // Acknowledged protocol-C writes are on every current replica, which
  // equals the model.
  for (SimNode* q : current) {
    for (uint32_t b = 0; b < kRegionBlocks; ++b) {
      if (busy_[b] || !known_[b]) continue;
      if (std::memcmp(DiskAt(*q, b), model_[b].data(), kBlock) != 0) {
        return Fail(
            fmt::format("acknowledged write missing: block {} on UpToDate {} differs from "
                        "the model",
                        b, q->name));
      }
    }
  }
  // The writer's bitmap toward each peer covers every block where the
  // peer's disk differs from its own (blocks with writes in flight aside).
  if (!p_disk) return true;
  // Only toward peers whose disks claim consistent data: an Inconsistent
  // (or down, or diskless) peer may differ anywhere until its resync.
  for (SimNode& q : nodes_) {
    if (&q == p || !q.up() || q.eng->DiskStateOf(0) < DiskState::kOutdated) continue;
    for (uint32_t b = 0; b < kRegionBlocks; ++b) {
      if (busy_[b]) continue;
      if (std::memcmp(DiskAt(*p, b), DiskAt(q, b), kBlock) == 0) continue;
      if (p->eng->BlockOutOfSync(kRes, q.id, 0, b) != true) {
        return Fail(
            fmt::format("bitmap misses a differing block: {} block {} differs from {} but "
                        "is not out of sync toward it{}",
                        q.name, b, p->name, final ? " (after healing)" : ""));
      }
    }
  }
  return true;
}

bool Sim::Converged(std::string* why) {
  SimNode* p = Writer();
  if (!p) {
    *why = "writer n0 is not Primary";
    return false;
  }
  for (SimNode& q : nodes_) {
    if (!q.up()) {
      *why = q.name + " is down";
      return false;
    }
    if (q.eng->DiskStateOf(0) != DiskState::kUpToDate) {
      *why = fmt::format("{} disk {}", q.name,
                         events::ToString(q.eng->DiskStateOf(0).value_or(DiskState::kDiskless)));
      return false;
    }
    // Both ends of every connection, the writer's too: a node that has not
    // yet noticed its peer's restart still shows the old connection
    // (seed 0x889bf91f2de724d6).
    for (SimNode& o : nodes_) {
      if (&o == &q) continue;
      if (q.eng->ConnStateOf(kRes, o.id) != ConnState::kConnected) {
        *why = fmt::format(
            "{} -> {} connection {}", q.name, o.name,
            events::ToString(q.eng->ConnStateOf(kRes, o.id).value_or(ConnState::kStandAlone)));
        return false;
      }
    }
  }
  // Every node's bitmap toward every other is clear, the Secondaries'
  // toward each other too: `drbdadm status` shows those marks, and the
  // soak waits for them (seed 0xcc694ce0 of simd_soak_3nodes).
  for (SimNode& q : nodes_) {
    for (SimNode& o : nodes_) {
      if (&o == &q) continue;
      if (q.eng->OutOfSyncBlocks(kRes, o.id, 0).value_or(1) != 0) {
        *why = fmt::format("{} still has {} blocks out of sync toward {}", q.name,
                           q.eng->OutOfSyncBlocks(kRes, o.id, 0).value_or(0), o.name);
        return false;
      }
    }
  }
  return true;
}

Result Sim::Run() {
  RunInner();
  res_.trace_hash = hash_.h;
  res_.virtual_ns = world_.now_ns();
  // Engines go before the world they run in.
  for (SimNode& s : nodes_) {
    if (s.clock) s.clock->Kill();
    if (s.net) s.net->Kill();
    s.eng.reset();
  }
  return res_;
}

void Sim::RunInner() {
  uint32_t n = o_.nodes ? o_.nodes : 2 + static_cast<uint32_t>(R(2));
  // Options within their table ranges, picked by the seed (STYLE.md §5).
  net_opts_.Set("protocol", int64_t{3});  // C
  net_opts_.Set("connect-int", static_cast<int64_t>(1 + R(3)));
  net_opts_.Set("ping-int", static_cast<int64_t>(1 + R(3)));
  net_opts_.Set("ping-timeout", static_cast<int64_t>(5 + R(10)));  // tenths of a second
  Trace(fmt::format("seed {:#x} nodes {} connect-int {} ping-int {} ping-timeout {}", o_.seed, n,
                    net_opts_.Int("connect-int"), net_opts_.Int("ping-int"),
                    net_opts_.Int("ping-timeout")));
  model_.assign(kRegionBlocks, std::vector<uint8_t>(kBlock, 0));
  known_.assign(kRegionBlocks, true);  // fresh disks are zero
  busy_.assign(kRegionBlocks, 0);
  nodes_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    SimNode& s = nodes_[i];
    s.id = i;
    s.name = fmt::format("n{}", i);
    s.host = fmt::format("10.0.0.{}", i + 1);
    s.disk = fmt::format("/{}/disk", s.name);
    if (!MakeDisk(s)) {
      Fail("metadata");
      return;
    }
  }
  for (SimNode& s : nodes_) {
    if (!BringUp(s)) return;
  }
  RunWorld(3 * kSec);
  // The initial sync skipped, as `new-current-uuid --clear-bitmap` does.
  nodes_[0].eng->NewCurrentUuid(Minor(), true);
  RunWorld(kSec);
  std::string why;
  for (SimNode& s : nodes_) {
    if (s.eng->DiskStateOf(0) != DiskState::kUpToDate) {
      Fail(s.name + ": not UpToDate after the initial new-current-uuid --clear-bitmap");
      return;
    }
  }
  for (step_ = 1; step_ <= o_.steps && res_.ok; ++step_) {
    hash_.Add(step_);
    // Heal what expired, restart what is due.
    for (size_t i = 0; i < active_.size();) {
      if (active_[i].until <= world_.now_ns()) {
        Heal(active_[i]);
        active_.erase(active_.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
    for (SimNode& s : nodes_) {
      if (!s.up() && s.restart_at <= world_.now_ns()) {
        Trace("restart " + s.name);
        if (!BringUp(s)) break;
        Probe("restart");
      }
    }
    for (SimNode& s : nodes_) ReplaceFailedDisk(s);
    if (active_.size() < 2 && R(100) < 15) Inject();
    Workload();
    RunWorld(kMs + R(300) * kMs);
    if (o_.corrupt_at_step == step_ && nodes_[0].up()) {
      SimNode& q = nodes_.back();
      (*world_.DiskBytes(q.disk))[3 * kBlock + 7] ^= 0x5a;
      Trace("test hook: corrupted block 3 on " + q.name);
    }
    CheckInvariants(false);
    hash_.Add(world_.events_run());
    hash_.Add(world_.now_ns());
  }
  if (res_.ok) {
    // Heal everything, bring every node back, let the cluster settle.
    Trace("final: heal all");
    for (const ActiveFault& f : active_) Heal(f);
    active_.clear();
    for (SimNode& s : nodes_) {
      if (!s.up()) {
        Trace("restart " + s.name);
        if (!BringUp(s)) break;
      }
    }
    RunWorld(kSec);
    for (SimNode& s : nodes_) ReplaceFailedDisk(s);
    bool done = false;
    for (int i = 0; i < 600 && res_.ok && !done; ++i) {  // up to 120 s
      if (!Writer() && nodes_[0].up()) {
        nodes_[0].eng->Primary(Res(), false);
      }
      RunWorld(200 * kMs);
      for (SimNode& s : nodes_) ReplaceFailedDisk(s);
      done = Converged(&why);
    }
    if (res_.ok && !done) Fail("did not converge within 120 s after healing: " + why);
    if (res_.ok) {
      Workload();  // the open, if the writer was restarted
      RunWorld(kSec);
      CheckInvariants(true);
    }
    // Every replica equals every other, and the model where it is known.
    for (uint32_t b = 0; b < kRegionBlocks && res_.ok; ++b) {
      for (SimNode& q : nodes_) {
        if (std::memcmp(DiskAt(nodes_[0], b), DiskAt(q, b), kBlock) != 0) {
          Fail(fmt::format("replicas differ after healing: block {} on {} and {}", b,
                           nodes_[0].name, q.name));
          break;
        }
        if (known_[b] && !busy_[b] && std::memcmp(DiskAt(q, b), model_[b].data(), kBlock) != 0) {
          Fail(fmt::format("acknowledged write lost after healing: block {} on {}", b, q.name));
          break;
        }
      }
    }
  }
  for (SimNode& s : nodes_) {
    if (s.sink && s.sink->split_brains) Probe("split-brain-detected");
  }
}

}  // namespace

bool FaultByName(std::string_view name, Fault* out) {
  for (const FaultInfo& f : kFaults) {
    if (f.name == name) {
      *out = f.fault;
      return true;
    }
  }
  return false;
}

Result Simulate(const Options& o) {
  Sim sim(o);
  return sim.Run();
}

std::string ReproLine(const Options& o) {
  std::string line = fmt::format("drbd-detsim --seed={:#018x} --steps={}", o.seed, o.steps);
  if (o.nodes) line += fmt::format(" --nodes={}", o.nodes);
  if (!o.faults.empty()) {
    std::vector<std::string_view> names;
    for (Fault f : o.faults) {
      for (const FaultInfo& fi : kFaults) {
        if (fi.fault == f) names.push_back(fi.name);
      }
    }
    line += fmt::format(" --faults={}", fmt::join(names, ","));
  }
  return line;
}

}  // namespace drbd::sim::detsim
