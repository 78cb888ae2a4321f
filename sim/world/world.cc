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
    if (w_->HostDown(host_) || w_->HostDown(peer_->host_)) return;  // lost on the wire
    if (!stalled_.empty() || w_->Held(host_, peer_->host_)) {
      stalled_.push_back(std::move(bytes));
      return;
    }
    if (bytes.size() > 1 && w_->TakeReset(host_, peer_->host_)) {
      bytes.resize(bytes.size() / 2);
      Transmit(std::move(bytes));
      std::weak_ptr<PipeEnd> weak = self_;
      w_->Post(last_arrival_ - w_->now_, [weak] {
        if (auto self = weak.lock()) self->Break(NetError::kReset);
      });
      return;
    }
    Transmit(std::move(bytes));
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    if (!peer_) return;
    if (w_->HostDown(host_)) {  // a crashed host says nothing
      peer_->peer_.reset();
      peer_.reset();
      stalled_.clear();
      return;
    }
    if (!stalled_.empty() || w_->Held(host_, peer_->host_)) {
      stalled_close_ = true;  // the FIN waits behind the stalled data
      return;
    }
    TransmitClose();
  }

  // Fault: both ends see `e` now.
  void Break(NetError e) {
    if (closed_) return;
    stalled_.clear();
    stalled_close_ = false;
    std::shared_ptr<PipeEnd> peer = peer_;
    if (peer) {
      peer->peer_.reset();
      peer->stalled_.clear();
      peer->stalled_close_ = false;
      w_->Post(0, [peer, e] { peer->ArriveClose(e); });
    }
    peer_.reset();
    std::shared_ptr<PipeEnd> self = self_.lock();
    if (self) w_->Post(0, [self, e] { self->ArriveClose(e); });
  }

  // The world ends: closed without a word, the link to the peer let go.
  void Drop() {
    closed_ = true;
    stalled_.clear();
    peer_.reset();
  }

  // A one-way partition healed: what was held back goes out in order.
  void Unstall() {
    if (!peer_ || w_->Held(host_, peer_->host_)) return;
    auto held = std::move(stalled_);
    stalled_.clear();
    for (auto& bytes : held) Transmit(std::move(bytes));
    if (stalled_close_) {
      stalled_close_ = false;
      TransmitClose();
    }
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
  // The arrival time of the next message: latency plus jitter, never
  // before the previous message of this stream.
  uint64_t NextArrival() {
    uint64_t delay = w_->latency_ns_;
    if (w_->jitter_ns_) delay += w_->rng_->Next() % w_->jitter_ns_;
    last_arrival_ = std::max(w_->now_ + delay, last_arrival_);
    return last_arrival_;
  }
  void Transmit(std::vector<uint8_t> bytes) {
    std::shared_ptr<PipeEnd> peer = peer_;
    if (!peer) return;
    w_->Post(NextArrival() - w_->now_,
             [peer, bytes = std::move(bytes)]() mutable { peer->Arrive(std::move(bytes)); });
  }
  void TransmitClose() {
    std::shared_ptr<PipeEnd> peer = peer_;
    w_->Post(NextArrival() - w_->now_, [peer] { peer->ArriveClose(NetError::kClosed); });
    peer_->peer_.reset();
    peer_.reset();
  }
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
  uint64_t last_arrival_ = 0;
  std::vector<std::vector<uint8_t>> stalled_;  // held by a one-way partition
  bool stalled_close_ = false;
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
  // Streams whose close still waits behind a stall hold each other (peer_
  // both ways) until a heal that will not come now: let them go, closed, so
  // that their destructors do not reach into the world being torn down.
  ~SimNet() override {
    std::vector<std::shared_ptr<PipeEnd>> live;
    for (auto& weak : ends_) {
      if (auto end = weak.lock()) live.push_back(std::move(end));
    }
    for (auto& end : live) end->Drop();
  }
  SimNet(const SimNet&) = delete;
  SimNet& operator=(const SimNet&) = delete;

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
      if (it == listeners_.end() || Cut(l.host, p.host) || w_->OneWayCut(l.host, p.host) ||
          w_->OneWayCut(p.host, l.host) || w_->HostDown(l.host) || w_->HostDown(p.host)) {
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
      if (w_->Stalled(l.host, p.host)) {
        held_accepts_.push_back({Key(p), b});  // the listener sees it when healed
      } else {
        it->second.on_accept(std::make_unique<StreamHandle>(b));
      }
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

  // A stall between `a` and `b` healed: the held streams reach their
  // listeners in the order they were dialled (a stream whose listener is
  // gone is closed for its dialer), then both sides send what they held.
  void HealStall(const std::string& a, const std::string& b) {
    std::vector<HeldAccept> still;
    std::vector<HeldAccept> now;
    for (HeldAccept& h : held_accepts_) {
      const std::string& host = h.end->host();
      const std::string other = h.end->peer_ ? h.end->peer_->host() : std::string();
      bool ours = (host == a && other == b) || (host == b && other == a) || other.empty();
      (ours ? now : still).push_back(std::move(h));
    }
    held_accepts_ = std::move(still);
    for (HeldAccept& h : now) {
      auto it = listeners_.find(h.listener);
      if (!h.end->peer_) continue;  // its dialer's close was already let through
      if (it == listeners_.end() || w_->HostDown(h.end->host())) {
        h.end->Break(NetError::kClosed);
        continue;
      }
      it->second.on_accept(std::make_unique<StreamHandle>(h.end));
    }
    Unstall(a);
    Unstall(b);
  }

  // A one-way partition healed: every end of `from` sends what it held.
  void Unstall(const std::string& from) {
    for (auto& weak : ends_) {
      auto e = weak.lock();
      if (e && e->host() == from) e->Unstall();
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
  struct HeldAccept {
    std::string listener;           // the address dialled
    std::shared_ptr<PipeEnd> end;   // the listener's end, not yet accepted
  };
  std::vector<HeldAccept> held_accepts_;  // streams dialled through a stall
};

// ---------------------------------------------------------------------------
// Disks: the bytes of a path plus its volatile write cache (an undo record
// per write not yet durable) and its faults.

struct World::DiskImage {
  struct CachedWrite {
    uint64_t seq = 0;  // write order
    uint64_t offset = 0;
    std::vector<uint8_t> old_bytes;  // what the write replaced
    std::vector<uint8_t> new_bytes;
  };
  std::shared_ptr<std::vector<uint8_t>> bytes;
  std::deque<CachedWrite> cache;  // oldest first
  uint64_t next_seq = 1;
  uint64_t epoch = 0;  // bumped by a crash: older opens go dead
  bool read_eio = false;
  bool write_eio = false;
  uint64_t write_latency_ns = 0;
  std::function<void(uint64_t, uint64_t)> hook;
};

namespace {

using DiskImage = World::DiskImage;

class MemDisk : public Disk {
 public:
  MemDisk(World* w, std::shared_ptr<DiskImage> img)
      : w_(w), img_(std::move(img)), epoch_(img_->epoch), alive_(std::make_shared<bool>(true)) {}
  ~MemDisk() override { *alive_ = false; }
  uint64_t SizeBytes() const override { return img_->bytes->size(); }
  void Read(uint64_t offset, uint32_t len,
            std::function<void(bool, std::vector<uint8_t>)> done) override {
    if (Dead()) return;
    auto img = img_;
    auto alive = alive_;
    uint64_t epoch = epoch_;
    w_->Post(0, [img, alive, epoch, offset, len, done = std::move(done)] {
      if (!*alive || img->epoch != epoch) return;
      const auto& bytes = *img->bytes;
      if (img->read_eio || offset + len > bytes.size()) return done(false, {});
      done(true, std::vector<uint8_t>(bytes.begin() + static_cast<long>(offset),
                                      bytes.begin() + static_cast<long>(offset + len)));
    });
  }
  void Write(uint64_t offset, std::vector<uint8_t> data, std::function<void(bool)> done) override {
    if (Dead()) return;
    auto& bytes = *img_->bytes;
    bool ok = !img_->write_eio && offset + data.size() <= bytes.size();
    if (ok) {
      DiskImage::CachedWrite cw;
      cw.seq = img_->next_seq++;
      cw.offset = offset;
      auto at = bytes.begin() + static_cast<long>(offset);
      cw.old_bytes.assign(at, at + static_cast<long>(data.size()));
      std::copy(data.begin(), data.end(), at);
      cw.new_bytes = std::move(data);
      img_->cache.push_back(std::move(cw));
      if (img_->cache.size() > World::kCacheWrites) img_->cache.pop_front();  // written back
      if (img_->hook) img_->hook(offset, img_->cache.back().new_bytes.size());
    }
    auto img = img_;
    auto alive = alive_;
    uint64_t epoch = epoch_;
    w_->Post(img_->write_latency_ns, [img, alive, epoch, ok, done = std::move(done)] {
      if (*alive && img->epoch == epoch && done) done(ok);
    });
  }
  void Flush(std::function<void(bool)> done) override {
    if (Dead()) return;
    auto img = img_;
    auto alive = alive_;
    uint64_t epoch = epoch_;
    uint64_t upto = img_->next_seq;  // writes issued before the flush
    w_->Post(0, [img, alive, epoch, upto, done = std::move(done)] {
      if (img->epoch != epoch) return;
      bool ok = !img->write_eio;
      if (ok) {
        while (!img->cache.empty() && img->cache.front().seq < upto) img->cache.pop_front();
      }
      if (*alive && done) done(ok);
    });
  }

 private:
  bool Dead() const { return img_->epoch != epoch_; }
  World* w_;
  std::shared_ptr<DiskImage> img_;
  uint64_t epoch_;
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
  std::shared_ptr<DiskImage> Find(const std::string& path) const {
    auto it = disks_.find(path);
    return it == disks_.end() ? nullptr : it->second;
  }
  std::map<std::string, std::shared_ptr<DiskImage>> disks_;

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
  ++events_run_;
  std::function<void()> fn = std::move(it->second.fn);
  queue_.erase(it);
  fn();
  return true;
}

bool World::StepUntil(uint64_t end_ns) {
  if (queue_.empty() || queue_.begin()->first.first > end_ns) return false;
  return Step();
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
  auto img = std::make_shared<DiskImage>();
  img->bytes = std::make_shared<std::vector<uint8_t>>(bytes, 0);
  disks_->disks_[path] = img;
  return img->bytes;
}

std::shared_ptr<std::vector<uint8_t>> World::DiskBytes(const std::string& path) {
  auto img = disks_->Find(path);
  return img ? img->bytes : nullptr;
}

void World::Partition(const std::string& host_a, const std::string& host_b, bool cut) {
  net_->Partition(host_a, host_b, cut);
}

void World::PartitionOneWay(const std::string& from, const std::string& to, bool cut) {
  if (cut) {
    oneway_.insert({from, to});
    return;
  }
  oneway_.erase({from, to});
  net_->Unstall(from);
}

bool World::OneWayCut(const std::string& from, const std::string& to) const {
  return oneway_.count({from, to}) > 0;
}

void World::PartitionStall(const std::string& host_a, const std::string& host_b, bool cut) {
  auto key = std::minmax(host_a, host_b);
  if (cut) {
    stalls_.insert({key.first, key.second});
    return;
  }
  stalls_.erase({key.first, key.second});
  net_->HealStall(host_a, host_b);
}

bool World::Stalled(const std::string& a, const std::string& b) const {
  auto key = std::minmax(a, b);
  return stalls_.count({key.first, key.second}) > 0;
}

bool World::Held(const std::string& from, const std::string& to) const {
  return OneWayCut(from, to) || Stalled(from, to);
}

void World::ResetMidMessage(const std::string& host_a, const std::string& host_b) {
  auto key = std::minmax(host_a, host_b);
  resets_.insert({key.first, key.second});
}

bool World::TakeReset(const std::string& host_a, const std::string& host_b) {
  auto key = std::minmax(host_a, host_b);
  return resets_.erase({key.first, key.second}) > 0;
}

void World::SetHostDown(const std::string& host, bool down) {
  if (down) {
    down_.insert(host);
  } else {
    down_.erase(host);
  }
}

void World::SetDiskErrors(const std::string& path, bool read_eio, bool write_eio) {
  if (auto img = disks_->Find(path)) {
    img->read_eio = read_eio;
    img->write_eio = write_eio;
  }
}

void World::SetDiskWriteLatency(const std::string& path, uint64_t ns) {
  if (auto img = disks_->Find(path)) img->write_latency_ns = ns;
}

void World::CrashDisk(const std::string& path, CrashMode mode) {
  auto img = disks_->Find(path);
  if (!img) return;
  ++img->epoch;
  auto& bytes = *img->bytes;
  auto put = [&](uint64_t offset, const std::vector<uint8_t>& v, size_t n) {
    std::copy(v.begin(), v.begin() + static_cast<long>(n),
              bytes.begin() + static_cast<long>(offset));
  };
  if (mode != CrashMode::kKeep) {
    // Back to the durable image, newest write first...
    for (auto it = img->cache.rbegin(); it != img->cache.rend(); ++it) {
      put(it->offset, it->old_bytes, it->old_bytes.size());
    }
    // ...then what survives, in write order.
    if (mode == CrashMode::kTear && !img->cache.empty()) {
      size_t torn = rng_->Next() % img->cache.size();
      for (size_t i = 0; i < img->cache.size(); ++i) {
        const auto& cw = img->cache[i];
        if (i == torn) {
          size_t sectors = (cw.new_bytes.size() + kAtomicWrite - 1) / kAtomicWrite;
          size_t keep = std::min(cw.new_bytes.size(), kAtomicWrite * (rng_->Next() % sectors));
          put(cw.offset, cw.new_bytes, keep);
        } else if (rng_->Next() % 2) {
          put(cw.offset, cw.new_bytes, cw.new_bytes.size());
        }
      }
    }
  }
  img->cache.clear();
}

size_t World::UnflushedWrites(const std::string& path) const {
  auto img = disks_->Find(path);
  return img ? img->cache.size() : 0;
}

void World::SetWriteHook(const std::string& path, std::function<void(uint64_t, uint64_t)> hook) {
  if (auto img = disks_->Find(path)) img->hook = std::move(hook);
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
