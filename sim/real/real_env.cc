// SPDX-License-Identifier: GPL-2.0-or-later
// Asio/POSIX implementations of the sim::Env interfaces.
#include "sim/real/real_env.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <malloc.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "sim/proto/wire.h"
#include "sim/real/write_queue.h"

namespace drbd::real {

// ---------------------------------------------------------------------------
// Clock

uint64_t AsioClock::NowNs() const {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

sim::TimerId AsioClock::StartTimer(uint64_t delay_ns, std::function<void()> fn) {
  sim::TimerId id = next_++;
  if (delay_ns == 0) {
    posted_.insert(id);
    asio::post(io_, [this, id, fn = std::move(fn)] {
      if (posted_.erase(id) != 0) fn();
    });
    return id;
  }
  auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::nanoseconds(delay_ns));
  timers_[id] = t;
  t->async_wait([this, id, t, fn = std::move(fn)](const asio::error_code& ec) {
    if (ec) return;
    auto it = timers_.find(id);
    if (it == timers_.end() || it->second != t) return;
    timers_.erase(it);
    fn();
  });
  return id;
}

void AsioClock::CancelTimer(sim::TimerId id) {
  if (posted_.erase(id) != 0) return;
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  it->second->cancel();
  timers_.erase(it);
}

// ---------------------------------------------------------------------------
// TCP streams

namespace {

asio::ip::tcp::endpoint ToEndpoint(const sim::Address& a, asio::error_code& ec) {
  asio::ip::address ip = asio::ip::make_address(a.host, ec);
  return asio::ip::tcp::endpoint(ip, a.port);
}

sim::NetError FromAsio(const asio::error_code& ec) {
  if (ec == asio::error::eof) return sim::NetError::kClosed;
  if (ec == asio::error::connection_refused) return sim::NetError::kRefused;
  if (ec == asio::error::address_in_use) return sim::NetError::kAddrInUse;
  if (ec == asio::error::network_unreachable || ec == asio::error::host_unreachable) {
    return sim::NetError::kUnreachable;
  }
  return sim::NetError::kReset;
}

// When a queued frame is written (HoldOf).
enum class Hold {
  kNow,    // at once
  kIdle,   // once the loop ran the handlers queued when it was sent
  kDelay,  // kPeerAckDelay later
};

// drbd's default peer-ack-delay (ms): how long the kernel keeps a
// completed write's peer ack back (drbd_req_destroy, peer_ack_timer).
constexpr std::chrono::milliseconds kPeerAckDelay{100};

// How long a frame may wait in its stream's queue. A waiting frame leaves
// at the latest with the next frame written at once, in one gathered
// write; the queue keeps the order in which the engine sent frames.
//  - P_BARRIER, kIdle: the kernel's sender sends it when it finds nothing
//    else to do (wait_for_sender_todo -> maybe_send_barrier, drbd_sender.c),
//    not from the write path. Here that keeps its sendmsg, which on
//    loopback also delivers it to the peer, from between a FUA write's
//    pwrite and its inline flush: the epoch closes on a zero-delay timer
//    posted before the write's completion.
//  - P_PEER_ACK, kDelay: drbd_req_destroy keeps the newest completed write
//    as resource->peer_ack_req and queues its peer ack only when the next
//    completed write differs, the peer-ack-window fills, or peer_ack_timer
//    fires (peer-ack-delay). With writes going on it leaves with the next
//    DATA frame: one sendmsg fewer per write.
Hold HoldOf(std::span<const uint8_t> frame) {
  std::optional<proto::MsgType> t = proto::FrameType(frame);
  if (t == proto::MsgType::kBarrier) return Hold::kIdle;
  if (t == proto::MsgType::kPeerAck) return Hold::kDelay;
  return Hold::kNow;
}

// Shared by the stream handle and its in-flight handlers.
struct TcpState : std::enable_shared_from_this<TcpState> {
  explicit TcpState(asio::ip::tcp::socket s)
      : sock(std::move(s)), hold_timer(sock.get_executor()) {}
  asio::ip::tcp::socket sock;
  sim::Stream::Callbacks cb;
  bool closed = false;
  bool close_after_write = false;
  // Frames waiting in `out` (HoldOf) are written by WriteNext from one of
  // these, unless a frame sent at once took them along before.
  bool idle_flush_posted = false;
  bool hold_timer_armed = false;
  asio::steady_timer hold_timer;
  // Everything queued goes in one gathered write (up to 64 messages / 4
  // MiB), not one send per message: acks and block data queue up in
  // bursts. Sent frames go back to the encoder's pool.
  WriteQueue out{64, 4u << 20, proto::RecycleFrame};
  // One read takes what the socket has, up to this much.
  std::array<uint8_t, 256 * 1024> in{};

  void ReadLoop() {
    auto self = shared_from_this();
    sock.async_read_some(asio::buffer(in), [self](const asio::error_code& ec, size_t n) {
      if (self->closed) return;
      if (ec) {
        self->closed = true;
        if (self->cb.on_closed) self->cb.on_closed(FromAsio(ec));
        return;
      }
      if (self->cb.on_data) self->cb.on_data(std::span<const uint8_t>(self->in.data(), n));
      if (!self->closed) self->ReadLoop();
    });
  }
  void WriteNext() {
    if (out.writing() || out.empty()) {
      if (!out.writing() && close_after_write) Shut();
      return;
    }
    out.WriteHead(sock, [self = shared_from_this()](const asio::error_code& ec) {
      if (ec) {
        self->out.Clear();
        if (self->close_after_write) self->Shut();
        return;
      }
      self->WriteNext();
    });
  }
  // Queues `bytes`; writes the queue now or once its frame's Hold is over.
  void Send(std::vector<uint8_t> bytes) {
    Hold hold = HoldOf(bytes);
    out.Push(std::move(bytes));
    if (hold == Hold::kNow) return WriteNext();
    if (hold == Hold::kIdle && !idle_flush_posted) {
      idle_flush_posted = true;
      asio::post(sock.get_executor(), [self = shared_from_this()] {
        self->idle_flush_posted = false;
        self->WriteNext();
      });
    }
    if (hold == Hold::kDelay && !hold_timer_armed) {
      hold_timer_armed = true;
      hold_timer.expires_after(kPeerAckDelay);
      hold_timer.async_wait([self = shared_from_this()](const asio::error_code&) {
        self->hold_timer_armed = false;
        self->WriteNext();
      });
    }
  }
  void Shut() {
    asio::error_code ignored;
    hold_timer.cancel();
    sock.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
  }
};

class TcpStream : public sim::Stream {
 public:
  explicit TcpStream(std::shared_ptr<TcpState> s) : s_(std::move(s)) {}
  ~TcpStream() override { Close(); }
  void Start(Callbacks cb) override {
    s_->cb = std::move(cb);
    s_->ReadLoop();
  }
  void Send(std::vector<uint8_t> bytes) override {
    if (s_->closed) return;
    s_->Send(std::move(bytes));
  }
  void Close() override {
    if (s_->closed) return;
    s_->closed = true;
    s_->close_after_write = true;
    s_->WriteNext();
  }

 private:
  std::shared_ptr<TcpState> s_;
};

}  // namespace

struct AsioNet::Listener {
  explicit Listener(asio::io_context& io) : acceptor(io) {}
  asio::ip::tcp::acceptor acceptor;
  std::function<void(std::unique_ptr<sim::Stream>)> on_accept;
  bool stopped = false;
};

AsioNet::~AsioNet() {
  for (auto& [id, l] : listeners_) {
    l->stopped = true;
    asio::error_code ignored;
    l->acceptor.close(ignored);
  }
}

sim::ListenerId AsioNet::Listen(const sim::Address& local,
                                std::function<void(std::unique_ptr<sim::Stream>)> on_accept,
                                sim::NetError* err) {
  asio::error_code ec;
  asio::ip::tcp::endpoint ep = ToEndpoint(local, ec);
  auto l = std::make_shared<Listener>(io_);
  if (!ec) l->acceptor.open(ep.protocol(), ec);
  if (!ec) l->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) l->acceptor.bind(ep, ec);
  if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    if (err) *err = FromAsio(ec);
    return 0;
  }
  l->on_accept = std::move(on_accept);
  sim::ListenerId id = next_++;
  listeners_[id] = l;
  AcceptLoop(l);
  return id;
}

void AsioNet::AcceptLoop(const std::shared_ptr<Listener>& l) {
  l->acceptor.async_accept([this, l](const asio::error_code& ec, asio::ip::tcp::socket s) {
    if (l->stopped) return;
    if (!ec) {
      asio::error_code ignored;
      s.set_option(asio::ip::tcp::no_delay(true), ignored);
      l->on_accept(std::make_unique<TcpStream>(std::make_shared<TcpState>(std::move(s))));
    }
    if (!l->stopped) AcceptLoop(l);
  });
}

void AsioNet::StopListening(sim::ListenerId id) {
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return;
  it->second->stopped = true;
  asio::error_code ignored;
  it->second->acceptor.close(ignored);
  listeners_.erase(it);
}

sim::ConnectId AsioNet::Connect(
    const sim::Address& local, const sim::Address& peer,
    std::function<void(std::unique_ptr<sim::Stream>, sim::NetError)> done) {
  sim::ConnectId id = next_++;
  pending_.insert(id);
  asio::error_code ec;
  asio::ip::tcp::endpoint to = ToEndpoint(peer, ec);
  sim::Address from = local;
  from.port = 0;
  asio::ip::tcp::endpoint bind_ep;
  if (!ec) bind_ep = ToEndpoint(from, ec);
  auto sock = std::make_shared<asio::ip::tcp::socket>(io_);
  if (!ec) sock->open(to.protocol(), ec);
  if (!ec) sock->bind(bind_ep, ec);
  if (ec) {
    sim::NetError e = FromAsio(ec);
    asio::post(io_, [this, id, e, done = std::move(done)] {
      if (pending_.erase(id)) done(nullptr, e);
    });
    return id;
  }
  sock->async_connect(to, [this, id, sock, done = std::move(done)](const asio::error_code& cec) {
    if (!pending_.erase(id)) return;
    if (cec) return done(nullptr, FromAsio(cec));
    asio::error_code ignored;
    sock->set_option(asio::ip::tcp::no_delay(true), ignored);
    done(std::make_unique<TcpStream>(std::make_shared<TcpState>(std::move(*sock))),
         sim::NetError::kNone);
  });
  return id;
}

void AsioNet::CancelConnect(sim::ConnectId id) { pending_.erase(id); }

// ---------------------------------------------------------------------------
// Disks

namespace {

// fdatasync(fd), its duration stored in `last_ns`.
bool TimedFdatasync(int fd, std::atomic<uint64_t>& last_ns) {
  auto t0 = std::chrono::steady_clock::now();
  bool ok = ::fdatasync(fd) == 0;
  last_ns.store(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now() - t0)
                                          .count()),
                std::memory_order_relaxed);
  return ok;
}

// Runs a backing file's fdatasync calls off the loop. A flush waits for the
// device (milliseconds on a real disk), and the loop must keep receiving,
// replicating and answering meanwhile: a sequential writer's activity-log
// transactions (one flush per new 4 MiB extent) used to stall every other
// request for as long (FileDisk::Flush keeps quick ones on the loop).
// Flushes queued while one runs are answered by the next single
// fdatasync, which covers them all.
class Flusher {
 public:
  Flusher(asio::io_context& io, int fd) : io_(io), fd_(fd), thread_([this] { Run(); }) {}
  // Waits for the fdatasync in progress; the queued ones are dropped (their
  // completions would be cancelled anyway).
  ~Flusher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  // `done(ok)` is posted to the loop once an fdatasync that started after
  // this call returned.
  void Flush(std::function<void(bool)> done) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(done));
      ++unanswered_;
    }
    cv_.notify_one();
  }
  std::atomic<uint64_t>& last_ns() { return last_ns_; }
  // True while a flush handed to Flush() has not been answered yet.
  bool Busy() {
    std::lock_guard<std::mutex> lock(mu_);
    return unanswered_ > 0;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      std::vector<std::function<void(bool)>> batch;
      batch.swap(queue_);
      lock.unlock();
      bool ok = TimedFdatasync(fd_, last_ns_);
      for (auto& done : batch) asio::post(io_, [ok, done = std::move(done)] { done(ok); });
      lock.lock();
      unanswered_ -= batch.size();
    }
  }

  asio::io_context& io_;
  const int fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void(bool)>> queue_;  // guarded by mu_
  size_t unanswered_ = 0;                         // guarded by mu_
  bool stop_ = false;                             // guarded by mu_
  // Nanoseconds the file's latest fdatasync took (this thread's or the
  // loop's); unknown counts as slow, so the first one runs here.
  std::atomic<uint64_t> last_ns_{UINT64_MAX};
  std::thread thread_;  // last: starts after the fields above
};

// Reads and writes run on the loop (page-cache copies, microseconds);
// slow flushes on the disk's Flusher thread, quick ones on the loop. A
// Flush covers every Write issued before it, which is all the Disk
// contract promises.
class FileDisk : public sim::Disk {
 public:
  // Flushes that took less than this run on the loop (see Flush).
  static constexpr uint64_t kInlineFlushNs = 500'000;

  FileDisk(asio::io_context& io, int fd, uint64_t size)
      : io_(io), fd_(fd), size_(size), alive_(std::make_shared<bool>(true)) {}
  ~FileDisk() override {
    *alive_ = false;
    flusher_.reset();  // before the fd it syncs is closed
    ::close(fd_);
  }
  // Asked again each time: a backing file or device may grow (resize).
  uint64_t SizeBytes() const override {
    struct stat st {};
    uint64_t size = 0;
    if (::fstat(fd_, &st) != 0) return size_;
    if (!S_ISBLK(st.st_mode)) return static_cast<uint64_t>(st.st_size);
    return ::ioctl(fd_, BLKGETSIZE64, &size) == 0 ? size : size_;
  }
  void Read(uint64_t offset, uint32_t len,
            std::function<void(bool, std::vector<uint8_t>)> done) override {
    std::vector<uint8_t> buf(len);
    ssize_t n = ::pread(fd_, buf.data(), len, static_cast<off_t>(offset));
    bool ok = n == static_cast<ssize_t>(len);
    auto alive = alive_;
    asio::post(io_, [alive, ok, buf = std::move(buf), done = std::move(done)]() mutable {
      if (*alive) done(ok, std::move(buf));
    });
  }
  void Write(uint64_t offset, std::vector<uint8_t> bytes, std::function<void(bool)> done) override {
    ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    bool ok = n == static_cast<ssize_t>(bytes.size());
    auto alive = alive_;
    asio::post(io_, [alive, ok, done = std::move(done)] {
      if (*alive && done) done(ok);
    });
  }
  // A flush that the latest one suggests is quick (tmpfs, a device with a
  // non-volatile cache, or an idle disk) runs on the loop: handing it to
  // the thread and back costs two wake-ups, more than the flush itself.
  // A slow one goes to the Flusher. Never inline while the thread still
  // has one: completions keep their order.
  void Flush(std::function<void(bool)> done) override {
    if (!flusher_) flusher_ = std::make_unique<Flusher>(io_, fd_);
    auto alive = alive_;
    if (flusher_->last_ns().load(std::memory_order_relaxed) < kInlineFlushNs && !flusher_->Busy()) {
      bool ok = TimedFdatasync(fd_, flusher_->last_ns());
      asio::post(io_, [alive, ok, done = std::move(done)] {
        if (*alive && done) done(ok);
      });
      return;
    }
    // The guard keeps io_.run() going while the flush is out of the loop.
    flusher_->Flush([alive, work = asio::make_work_guard(io_), done = std::move(done)](bool ok) {
      if (*alive && done) done(ok);
    });
  }

 private:
  asio::io_context& io_;
  int fd_;
  uint64_t size_;
  std::shared_ptr<bool> alive_;
  std::unique_ptr<Flusher> flusher_;  // started by the first Flush
};

}  // namespace

std::unique_ptr<sim::Disk> FileDisks::Open(const std::string& path, int* err) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (err) *err = errno;
    return nullptr;
  }
  struct stat st {};
  uint64_t size = 0;
  if (::fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
    // A block device is claimed exclusively, as the kernel claims it.
    ::close(fd);
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_EXCL);
    if (fd < 0 || ::ioctl(fd, BLKGETSIZE64, &size) != 0) {
      if (err) *err = errno;
      if (fd >= 0) ::close(fd);
      return nullptr;
    }
  } else {
    size = static_cast<uint64_t>(st.st_size);
  }
  return std::make_unique<FileDisk>(io_, fd, size);
}

void KeepFreedMemory() {
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest; 1 MiB requests stay in the heap
  ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

DeviceRng::DeviceRng() {
  std::random_device rd;
  gen_.seed((static_cast<uint64_t>(rd()) << 32) ^ rd());
}

}  // namespace drbd::real
