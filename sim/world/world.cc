// SPDX-License-Identifier: GPL-2.0-or-later
// The deterministic world: virtual clock, event queue, in-memory pipes and
// disks, notification text for tests.
#include "sim/world/world.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>

namespace drbd::sim {

// ---------------------------------------------------------------------------
// Clock

class World::SimClock : public Clock {
 public:
  explicit SimClock(World* w) : w_(w) {}
  uint64_t NowNs() const override { return w_->now_; }
  TimerId StartTimer(uint64_t delay_ns, std::function<void()> fn) override {
    return w_->Post(delay_ns, std::move(fn));
  }
  void CancelTimer(TimerId id) override { w_->Cancel(id); }

 private:
  World* w_;
};

// ---------------------------------------------------------------------------
// Network: a pipe is two ends; bytes sent on one arrive at the other after
// the world's latency, in order.

class World::PipeEnd : public Stream {
 public:
  PipeEnd(World* w, std::string host) : w_(w), host_(std::move(host)) {}
  ~PipeEnd() override { Close(); }

  void Start(Callbacks cb) override {
    cb_ = std::move(cb);
    started_ = true;
    // Deliver what arrived before Start, as later events.
    auto pending = std::move(early_);
    early_.clear();
    for (auto& bytes : pending) Deliver(std::move(bytes));
    if (early_close_) {
      NetError e = *early_close_;
      early_close_.reset();
      DeliverClose(e);
    }
  }

  void Send(std::vector<uint8_t> bytes) override {
    if (closed_ || !peer_) return;
    std::shared_ptr<PipeEnd> peer = peer_;
    w_->Post(w_->latency_ns_,
             [peer, bytes = std::move(bytes)]() mutable { peer->Arrive(std::move(bytes)); });
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    if (peer_) {
      std::shared_ptr<PipeEnd> peer = peer_;
      w_->Post(w_->latency_ns_, [peer] { peer->ArriveClose(NetError::kClosed); });
      peer_->peer_.reset();
      peer_.reset();
    }
  }

  // Fault: both ends see `e` now.
  void Break(NetError e) {
    if (closed_) return;
    std::shared_ptr<PipeEnd> peer = peer_;
    if (peer) {
      peer->peer_.reset();
      w_->Post(0, [peer, e] { peer->ArriveClose(e); });
    }
    peer_.reset();
    std::shared_ptr<PipeEnd> self = self_.lock();
    if (self) w_->Post(0, [self, e] { self->ArriveClose(e); });
  }

  void Arrive(std::vector<uint8_t> bytes) {
    if (closed_) return;
    if (!started_) {
      early_.push_back(std::move(bytes));
      return;
    }
    Deliver(std::move(bytes));
  }
  void ArriveClose(NetError e) {
    if (closed_) return;
    if (!started_) {
      early_close_ = e;
      return;
    }
    DeliverClose(e);
  }

  std::shared_ptr<PipeEnd> peer_;
  std::weak_ptr<PipeEnd> self_;
  const std::string& host() const { return host_; }
  bool closed() const { return closed_; }

 private:
  void Deliver(std::vector<uint8_t> bytes) {
    std::weak_ptr<PipeEnd> weak = self_;
    w_->Post(0, [weak, bytes = std::move(bytes)] {
      auto self = weak.lock();
      if (self && !self->closed_ && self->cb_.on_data) self->cb_.on_data(bytes);
    });
  }
  void DeliverClose(NetError e) {
    std::weak_ptr<PipeEnd> weak = self_;
    w_->Post(0, [weak, e] {
      auto self = weak.lock();
      if (!self || self->closed_) return;
      self->closed_ = true;
      if (self->cb_.on_closed) self->cb_.on_closed(e);
    });
  }

  World* w_;
  std::string host_;
  Callbacks cb_;
  bool started_ = false;
  bool closed_ = false;
  std::vector<std::vector<uint8_t>> early_;
  std::optional<NetError> early_close_;
};

namespace {

// The stream handed to the engine owns a reference to its pipe end; the
// end itself is shared with the world so that in-flight events stay valid.
class StreamHandle : public Stream {
 public:
  explicit StreamHandle(std::shared_ptr<World::PipeEnd> end) : end_(std::move(end)) {}
  ~StreamHandle() override { end_->Close(); }
  void Start(Callbacks cb) override { end_->Start(std::move(cb)); }
  void Send(std::vector<uint8_t> bytes) override { end_->Send(std::move(bytes)); }
  void Close() override { end_->Close(); }

 private:
  std::shared_ptr<World::PipeEnd> end_;
};

std::string Key(const Address& a) { return AddressToString(a); }

}  // namespace

class World::SimNet : public Net {
 public:
  explicit SimNet(World* w) : w_(w) {}

  ListenerId Listen(const Address& local, std::function<void(std::unique_ptr<Stream>)> on_accept,
                    NetError* err) override {
    std::string key = Key(local);
    if (listeners_.count(key)) {
      if (err) *err = NetError::kAddrInUse;
      return 0;
    }
    ListenerId id = next_id_++;
    listeners_[key] = {id, std::move(on_accept)};
    return id;
  }

  void StopListening(ListenerId id) override {
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
      if (it->second.id == id) {
        listeners_.erase(it);
        return;
      }
    }
  }

  ConnectId Connect(const Address& local, const Address& peer,
                    std::function<void(std::unique_ptr<Stream>, NetError)> done) override {
    ConnectId id = next_id_++;
    pending_.insert(id);
    Address l = local, p = peer;
    w_->Post(w_->latency_ns_, [this, id, l, p, done = std::move(done)] {
      if (!pending_.erase(id)) return;
      auto it = listeners_.find(Key(p));
      if (it == listeners_.end() || Cut(l.host, p.host)) {
        done(nullptr, NetError::kRefused);
        return;
      }
      auto a = std::make_shared<PipeEnd>(w_, l.host);
      auto b = std::make_shared<PipeEnd>(w_, p.host);
      a->self_ = a;
      b->self_ = b;
      a->peer_ = b;
      b->peer_ = a;
      ends_.push_back(a);
      ends_.push_back(b);
      it->second.on_accept(std::make_unique<StreamHandle>(b));
      done(std::make_unique<StreamHandle>(a), NetError::kNone);
    });
    return id;
  }

  void CancelConnect(ConnectId id) override { pending_.erase(id); }

  void Partition(const std::string& a, const std::string& b, bool cut) {
    auto key = std::minmax(a, b);
    if (!cut) {
      cuts_.erase({key.first, key.second});
      return;
    }
    cuts_.insert({key.first, key.second});
    for (auto& weak : ends_) {
      auto e = weak.lock();
      if (!e || e->closed() || !e->peer_) continue;
      if ((e->host() == a && e->peer_->host() == b) || (e->host() == b && e->peer_->host() == a)) {
        e->Break(NetError::kReset);
      }
    }
  }

 private:
  bool Cut(const std::string& a, const std::string& b) const {
    auto key = std::minmax(a, b);
    return cuts_.count({key.first, key.second}) > 0;
  }
  struct L {
    ListenerId id;
    std::function<void(std::unique_ptr<Stream>)> on_accept;
  };
  World* w_;
  uint64_t next_id_ = 1;
  std::map<std::string, L> listeners_;
  std::set<ConnectId> pending_;
  std::vector<std::weak_ptr<PipeEnd>> ends_;
  std::set<std::pair<std::string, std::string>> cuts_;
};

// ---------------------------------------------------------------------------
// Disks

namespace {

class MemDisk : public Disk {
 public:
  MemDisk(World* w, std::shared_ptr<std::vector<uint8_t>> bytes)
      : w_(w), bytes_(std::move(bytes)), alive_(std::make_shared<bool>(true)) {}
  ~MemDisk() override { *alive_ = false; }
  uint64_t SizeBytes() const override { return bytes_->size(); }
  void Read(uint64_t offset, uint32_t len,
            std::function<void(bool, std::vector<uint8_t>)> done) override {
    auto bytes = bytes_;
    auto alive = alive_;
    w_->Post(0, [bytes, alive, offset, len, done = std::move(done)] {
      if (!*alive) return;
      if (offset + len > bytes->size()) return done(false, {});
      done(true, std::vector<uint8_t>(bytes->begin() + static_cast<long>(offset),
                                      bytes->begin() + static_cast<long>(offset + len)));
    });
  }
  void Write(uint64_t offset, std::vector<uint8_t> data, std::function<void(bool)> done) override {
    bool ok = offset + data.size() <= bytes_->size();
    if (ok) std::copy(data.begin(), data.end(), bytes_->begin() + static_cast<long>(offset));
    auto alive = alive_;
    w_->Post(0, [alive, ok, done = std::move(done)] {
      if (*alive && done) done(ok);
    });
  }
  void Flush(std::function<void(bool)> done) override {
    auto alive = alive_;
    w_->Post(0, [alive, done = std::move(done)] {
      if (*alive && done) done(true);
    });
  }

 private:
  World* w_;
  std::shared_ptr<std::vector<uint8_t>> bytes_;
  std::shared_ptr<bool> alive_;
};

}  // namespace

class World::SimDisks : public DiskOpener {
 public:
  explicit SimDisks(World* w) : w_(w) {}
  std::unique_ptr<Disk> Open(const std::string& path, int* err) override {
    auto it = disks_.find(path);
    if (it == disks_.end()) {
      if (err) *err = 2;  // ENOENT
      return nullptr;
    }
    return std::make_unique<MemDisk>(w_, it->second);
  }
  std::map<std::string, std::shared_ptr<std::vector<uint8_t>>> disks_;

 private:
  World* w_;
};

// ---------------------------------------------------------------------------
// World

World::World(uint64_t seed)
    : clock_(std::make_unique<SimClock>(this)),
      net_(std::make_unique<SimNet>(this)),
      disks_(std::make_unique<SimDisks>(this)),
      rng_(std::make_unique<SeededRng>(seed)) {}

World::~World() = default;

Clock* World::clock() { return clock_.get(); }
Net* World::net() { return net_.get(); }
DiskOpener* World::disks() { return disks_.get(); }

uint64_t World::Post(uint64_t delay_ns, std::function<void()> fn) {
  uint64_t id = ++seq_;
  auto key = std::make_pair(now_ + delay_ns, id);
  queue_[key] = Event{std::move(fn)};
  by_id_[id] = key;
  return id;
}

void World::Cancel(uint64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  queue_.erase(it->second);
  by_id_.erase(it);
}

bool World::Step() {
  if (queue_.empty()) return false;
  auto it = queue_.begin();
  now_ = std::max(now_, it->first.first);
  by_id_.erase(it->first.second);
  std::function<void()> fn = std::move(it->second.fn);
  queue_.erase(it);
  fn();
  return true;
}

void World::RunFor(uint64_t ns) {
  uint64_t end = now_ + ns;
  while (!queue_.empty() && queue_.begin()->first.first <= end) Step();
  now_ = end;
}

size_t World::RunUntilIdle(uint64_t horizon_ns) {
  size_t n = 0;
  uint64_t end = now_ + horizon_ns;
  while (!queue_.empty() && queue_.begin()->first.first <= end) {
    Step();
    ++n;
  }
  return n;
}

std::shared_ptr<std::vector<uint8_t>> World::AddDisk(const std::string& path, uint64_t bytes) {
  auto d = std::make_shared<std::vector<uint8_t>>(bytes, 0);
  disks_->disks_[path] = d;
  return d;
}

std::shared_ptr<std::vector<uint8_t>> World::DiskBytes(const std::string& path) {
  auto it = disks_->disks_.find(path);
  return it == disks_->disks_.end() ? nullptr : it->second;
}

void World::Partition(const std::string& host_a, const std::string& host_b, bool cut) {
  net_->Partition(host_a, host_b, cut);
}

// ---------------------------------------------------------------------------
// Notification text

namespace {

std::string YesNo(bool b) { return b ? "yes" : "no"; }

std::string Addr(const events::Address& a) { return AddressToString(a); }

}  // namespace

std::string FormatNotification(const events::Notification& n) {
  std::string out(events::ToString(n.type));
  bool destroy = n.type == events::NotifyType::kDestroy;
  if (const auto* r = std::get_if<events::Resource>(&n.object)) {
    out += " resource name:" + r->name;
    if (!destroy) {
      out +=
          fmt::format(" role:{} suspended:{} force-io-failures:{}", events::ToString(r->info.role),
                      events::ToString(r->info.susp), YesNo(r->info.fail_io));
    }
  } else if (const auto* d = std::get_if<events::Device>(&n.object)) {
    out += fmt::format(" device name:{} volume:{}", d->resource, d->volume);
    if (!destroy) {
      out += fmt::format(" minor:{} backing_dev:{} disk:{} client:{} quorum:{}", d->minor,
                         d->info.backing_dev.empty() ? "none" : d->info.backing_dev,
                         events::ToString(d->info.disk_state),
                         events::ToString(d->info.intentional_diskless), YesNo(d->info.has_quorum));
    }
  } else if (const auto* c = std::get_if<events::Connection>(&n.object)) {
    out += fmt::format(" connection name:{} peer-node-id:{} conn-name:{}", c->resource,
                       c->peer_node_id, c->name);
    if (!destroy) {
      out += fmt::format(" connection:{} role:{}", events::ToString(c->info.conn_state),
                         events::ToString(c->info.peer_role));
    }
  } else if (const auto* p = std::get_if<events::PeerDevice>(&n.object)) {
    out += fmt::format(" peer-device name:{} peer-node-id:{} conn-name:{} volume:{}", p->resource,
                       p->peer_node_id, p->conn_name, p->volume);
    if (!destroy) {
      out += fmt::format(" replication:{} peer-disk:{} peer-client:{} resync-suspended:{}",
                         events::ToString(p->info.repl_state),
                         events::ToString(p->info.peer_disk_state),
                         events::ToString(p->info.peer_intentional_diskless),
                         events::ToString(p->info.resync_susp));
    }
  } else if (const auto* p = std::get_if<events::Path>(&n.object)) {
    out += fmt::format(" path name:{} peer-node-id:{} conn-name:{} local:{} peer:{}", p->resource,
                       p->peer_node_id, p->conn_name, Addr(p->local), Addr(p->peer));
    if (!destroy) out += " established:" + YesNo(p->established);
  } else {
    out += " -";
  }
  return out;
}

std::vector<std::string> RecordingSink::Lines() const {
  std::vector<std::string> out;
  for (const auto& n : notes) out.push_back(FormatNotification(n));
  return out;
}

bool RecordingSink::LogContains(std::string_view text) const {
  for (const std::string& l : log) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace drbd::sim
