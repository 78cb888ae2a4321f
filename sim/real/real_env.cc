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
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <cstddef>
#include <memory>
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
  kIdle,   // once the loop has nothing ready (AsioNet::Run), or else once
           // it ran the handlers queued when the frame was sent
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
//    posted before the write's completion. Under AsioNet::Run it also
//    waits for the write's NBD reply, written by a later handler.
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

struct TcpState;

}  // namespace

// Streams with frames held for an idle loop (Hold::kIdle), while AsioNet::Run
// drives the loop.
struct IdleWaiters {
  bool enabled = false;
  std::vector<std::weak_ptr<TcpState>> streams;
};

namespace {

// Shared by the stream handle and its in-flight handlers.
struct TcpState : std::enable_shared_from_this<TcpState> {
  TcpState(asio::ip::tcp::socket s, std::shared_ptr<IdleWaiters> w)
      : sock(std::move(s)), idle(std::move(w)), hold_timer(sock.get_executor()) {}
  asio::ip::tcp::socket sock;
  std::shared_ptr<IdleWaiters> idle;
  sim::Stream::Callbacks cb;
  bool closed = false;
  bool close_after_write = false;
  // Frames waiting in `out` (HoldOf) are written by WriteNext from one of
  // these (or from AsioNet::Run, the idle hook, while it drives the loop),
  // unless a frame sent at once took them along before.
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
    if (hold == Hold::kIdle && !idle_flush_posted && idle->enabled) {
      idle_flush_posted = true;
      idle->streams.push_back(weak_from_this());
    } else if (hold == Hold::kIdle && !idle_flush_posted) {
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

AsioNet::AsioNet(asio::io_context& io) : io_(io), idle_(std::make_shared<IdleWaiters>()) {}

void AsioNet::Run() {
  idle_->enabled = true;
  while (io_.run_one() != 0) {
    if (idle_->streams.empty()) continue;
    for (int n = 1; n < kIdleEvery && io_.poll_one() != 0; ++n) {
    }
    std::vector<std::weak_ptr<TcpState>> streams;
    streams.swap(idle_->streams);
    for (auto& weak : streams) {
      if (auto s = weak.lock()) {
        s->idle_flush_posted = false;
        s->WriteNext();
      }
    }
  }
  // Stopped: frames still held go the old way, should the loop run again.
  idle_->enabled = false;
  std::vector<std::weak_ptr<TcpState>> streams;
  streams.swap(idle_->streams);
  for (auto& weak : streams) {
    if (auto s = weak.lock()) {
      asio::post(io_, [s] {
        s->idle_flush_posted = false;
        s->WriteNext();
      });
    }
  }
}

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
      l->on_accept(std::make_unique<TcpStream>(std::make_shared<TcpState>(std::move(s), idle_)));
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
    done(std::make_unique<TcpStream>(std::make_shared<TcpState>(std::move(*sock), idle_)),
         sim::NetError::kNone);
  });
  return id;
}

void AsioNet::CancelConnect(sim::ConnectId id) { pending_.erase(id); }

// ---------------------------------------------------------------------------
// Disks

namespace {

// A flush's duration that means "failed, or none yet" (FileDisk::Flush).
constexpr uint64_t kNoGoodFlush = UINT64_MAX;

// fdatasync(fd), its duration stored in `last_ns` (kNoGoodFlush if it
// failed).
bool TimedFdatasync(int fd, std::atomic<uint64_t>& last_ns) {
  auto t0 = std::chrono::steady_clock::now();
  bool ok = ::fdatasync(fd) == 0;
  auto ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  last_ns.store(ok ? std::min(ns, kNoGoodFlush - 1) : kNoGoodFlush, std::memory_order_relaxed);
  return ok;
}

// One read, write or flush of a backing file, run on the loop or handed
// to its DiskWorker.
struct DiskOp {
  enum class Kind { kRead, kWrite, kFlush };
  Kind kind = Kind::kFlush;
  uint64_t offset = 0;
  std::vector<uint8_t> bytes;  // a write's data; a read's buffer
  std::function<void(bool, std::vector<uint8_t>)> read_done;
  std::function<void(bool)> done;  // writes and flushes
};

// Runs `op` (not a flush) on `fd`; true when it moved every byte.
bool RunReadWrite(int fd, DiskOp& op) {
  auto at = static_cast<off_t>(op.offset);
  ssize_t n = op.kind == DiskOp::Kind::kRead ? ::pread(fd, op.bytes.data(), op.bytes.size(), at)
                                             : ::pwrite(fd, op.bytes.data(), op.bytes.size(), at);
  return n == static_cast<ssize_t>(op.bytes.size());
}

// Offsets, lengths and buffer addresses of O_DIRECT writes are multiples
// of this: a 4 KiB-sector device's logical block, and more than any
// device's DMA alignment (512 on virtio-blk).
constexpr size_t kDirectAlign = 4096;

// The worker's side of a backing file opened a second time with O_DIRECT
// (`fd` -1 where the file system refuses it): large aligned writes bypass
// the page cache, as the kernel module's bios to its backing device do
// (drbd_submit_peer_request, drbd_submit_req_private_bio), so that
// streaming writes cost the daemon a memcpy instead of the kernel's
// page-cache copy and its writeback (bench: protocol C at 1 MiB, 1.7-2.2
// -> 1.0-1.2 s of CPU per GiB). The user buffers are not aligned
// (std::vector), so data passes through `bounce`. Reads stay buffered:
// the kernel's readahead keeps several requests in flight for a
// sequential reader such as a resync source, where one O_DIRECT read at a
// time (the worker's) gets less from the device (bench: resync 0.9-1.3 ->
// 0.9-1.7 GiB/s). Mixing the two descriptors is coherent because ops never
// overlap in time: the kernel writes back dirty cached pages before a
// direct write of their range and drops them after it; fdatasync on
// either descriptor flushes the device cache for both (it is per inode).
class DirectIo {
 public:
  DirectIo(int fd, std::shared_ptr<FileDisks::Stats> stats) : fd_(fd), stats_(std::move(stats)) {}
  // Runs the write `op` with O_DIRECT and returns its result, or nullopt
  // when it cannot (a read, no descriptor, unaligned, or the file system
  // refused it at IO time, after which every op takes the buffered path).
  std::optional<bool> Run(DiskOp& op) {
    size_t len = op.bytes.size();
    if (op.kind != DiskOp::Kind::kWrite || fd_ < 0 || len == 0 || op.offset % kDirectAlign != 0 ||
        len % kDirectAlign != 0 || !Reserve(len)) {
      return std::nullopt;
    }
    std::memcpy(bounce_.get(), op.bytes.data(), len);
    ssize_t n = ::pwrite(fd_, bounce_.get(), len, static_cast<off_t>(op.offset));
    if (n < 0 && errno == EINVAL) {
      fd_ = -1;  // the descriptor stays open; the FileDisk closes it
      return std::nullopt;
    }
    if (stats_) stats_->direct_writes.fetch_add(1, std::memory_order_relaxed);
    return n == static_cast<ssize_t>(len);
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  bool Reserve(size_t len) {
    if (len <= cap_) return true;
    auto* p = static_cast<uint8_t*>(std::aligned_alloc(kDirectAlign, len));
    if (p == nullptr) return false;
    bounce_.reset(p);
    cap_ = len;
    return true;
  }

  int fd_;
  std::shared_ptr<FileDisks::Stats> stats_;
  std::unique_ptr<uint8_t, Free> bounce_;
  size_t cap_ = 0;
};

// Posts `op`'s completion to the loop, where it runs unless the disk went
// away first. The op travels along, so that its buffer is freed on the
// loop, whose heap allocated it.
void PostCompletion(asio::io_context& io, const std::shared_ptr<bool>& alive, DiskOp op, bool ok) {
  asio::post(io, [alive, ok, op = std::move(op)]() mutable {
    if (!*alive) return;
    if (op.kind == DiskOp::Kind::kRead) {
      if (op.read_done) op.read_done(ok, std::move(op.bytes));
    } else if (op.done) {
      op.done(ok);
    }
  });
}

// Runs a backing file's IO off the loop, on a thread of its own: the
// page-cache copy of large reads and writes (the kernel's pwrite is most
// of the daemon's CPU when streaming) and slow fdatasyncs (milliseconds on
// a real disk: a sequential writer's activity-log transactions, one flush
// per new 4 MiB extent, used to stall every other request) while the loop
// keeps receiving, replicating and answering (the kernel module, too,
// only submits a backing device's bios from the request path and completes
// them from their endio: drbd_submit_peer_request, drbd_request_endio,
// drbd_peer_request_endio). Ops run in the order they
// were handed over, each completion posted to the loop as it finishes,
// so the loop sees the same order as when everything ran on it: a read
// sees every write before it, a flush covers them, completions keep their
// order. Adjacent flushes are answered by one fdatasync.
class DiskWorker {
 public:
  // `last_ns`: where the file's latest fdatasync duration goes; outlives
  // the worker.
  // `direct`: the worker's O_DIRECT side of the file (DirectIo).
  DiskWorker(asio::io_context& io, int fd, DirectIo direct, std::shared_ptr<bool> alive,
             std::atomic<uint64_t>& last_ns)
      : io_(io),
        fd_(fd),
        direct_(std::move(direct)),
        alive_(std::move(alive)),
        last_ns_(last_ns),
        thread_([this] { Run(); }) {}
  // Finishes what was handed over, completions dropped: reads are skipped,
  // writes and flushes still run (the engine issued them; as the kernel
  // waits for a backing device's requests before it lets go of it).
  ~DiskWorker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  DiskWorker(const DiskWorker&) = delete;
  DiskWorker& operator=(const DiskWorker&) = delete;

  void Push(DiskOp op) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(op));
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      std::vector<DiskOp> batch;
      batch.swap(queue_);
      bool stopping = stop_;
      lock.unlock();
      for (size_t i = 0; i < batch.size();) {
        DiskOp& op = batch[i];
        size_t end = i + 1;
        bool ok = false;
        if (op.kind == DiskOp::Kind::kFlush) {
          while (end < batch.size() && batch[end].kind == DiskOp::Kind::kFlush) ++end;
          ok = TimedFdatasync(fd_, last_ns_);
        } else if (!stopping || op.kind == DiskOp::Kind::kWrite) {
          std::optional<bool> direct = direct_.Run(op);
          ok = direct ? *direct : RunReadWrite(fd_, op);
        }
        if (!stopping) {
          for (size_t k = i; k < end; ++k) PostCompletion(io_, alive_, std::move(batch[k]), ok);
        }
        i = end;
      }
      if (stopping) {
        // The ops' closures (the engine's) go on the loop, after the join.
        leftover_ = std::move(batch);
        return;
      }
      lock.lock();
    }
  }

  asio::io_context& io_;
  const int fd_;
  DirectIo direct_;                    // used on the worker thread only
  const std::shared_ptr<bool> alive_;  // read on the loop only
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<DiskOp> queue_;  // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  std::atomic<uint64_t>& last_ns_;
  std::vector<DiskOp> leftover_;  // the worker's last batch; read after the join
  std::thread thread_;            // last: starts after the fields above
};

// Small reads and writes (a 4 KiB request, metadata, DATA) and quick flushes run
// on the loop, where handing them to the thread and back would cost two
// wake-ups, more than the IO itself; large reads and writes and slow
// flushes go to the file's DiskWorker. Never on the loop while the worker
// still has ops: everything keeps its order. A Flush covers every Write
// issued before it, which is all the Disk contract promises.
class FileDisk : public sim::Disk {
 public:
  // Flushes that took less than this run on the loop (see Flush).
  static constexpr uint64_t kInlineFlushNs = 500'000;
  // Reads and writes of at least this many bytes go to the worker: an
  // application's 1 MiB request, not a DATA frame's 32 KiB (the peer's
  // writes, resync reads), whose two wake-ups per op cost more CPU than
  // the copy saves the loop (bench: resync 0.9 -> 1.1-1.3 s/GiB at 32 KiB).
  static constexpr size_t kWorkerBytes = 64 * 1024;

  // `direct_fd`: the same file opened with O_DIRECT, or -1 (DirectIo);
  // `stats`: the opener's counters (FileDisks::stats).
  FileDisk(asio::io_context& io, int fd, int direct_fd, uint64_t size,
           std::shared_ptr<FileDisks::Stats> stats)
      : io_(io),
        fd_(fd),
        direct_fd_(direct_fd),
        size_(size),
        alive_(std::make_shared<bool>(true)),
        stats_(std::move(stats)) {}
  ~FileDisk() override {
    *alive_ = false;
    worker_.reset();  // before the fds it uses are closed
    if (direct_fd_ >= 0) ::close(direct_fd_);
    ::close(fd_);
  }
  FileDisk(const FileDisk&) = delete;
  FileDisk& operator=(const FileDisk&) = delete;
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
    DiskOp op{DiskOp::Kind::kRead, offset, std::vector<uint8_t>(len), std::move(done), {}};
    Submit(std::move(op), len >= kWorkerBytes);
  }
  void Write(uint64_t offset, std::vector<uint8_t> bytes, std::function<void(bool)> done) override {
    written_since_flush_ = true;
    bool large = bytes.size() >= kWorkerBytes;
    Submit(DiskOp{DiskOp::Kind::kWrite, offset, std::move(bytes), {}, std::move(done)}, large);
  }
  // A flush that the latest one suggests is quick (tmpfs, a device with a
  // non-volatile cache, or an idle disk) runs on the loop; a slow one goes
  // to the worker.
  //
  // A flush with nothing written since the previous one was issued, which
  // succeeded and is complete, has nothing to make durable and completes
  // at once: a Secondary's epoch barrier after a FUA write (whose own flush
  // covered the epoch) no longer costs a second fdatasync per write, while
  // it holds the receiver (receive_Barrier under write ordering flush).
  void Flush(std::function<void(bool)> done) override {
    const uint64_t last_ns = last_flush_ns_.load(std::memory_order_relaxed);
    if (!written_since_flush_ && last_ns != kNoGoodFlush && offloaded_ == 0) {
      stats_->skipped_flushes.fetch_add(1, std::memory_order_relaxed);
      PostCompletion(io_, alive_, DiskOp{DiskOp::Kind::kFlush, 0, {}, {}, std::move(done)}, true);
      return;
    }
    written_since_flush_ = false;
    bool slow = last_ns >= kInlineFlushNs;
    Submit(DiskOp{DiskOp::Kind::kFlush, 0, {}, {}, std::move(done)}, slow);
  }

 private:
  // Runs `op` on the loop, or hands it to the worker when `offload` or
  // when an op handed to the worker has not completed on the loop yet.
  void Submit(DiskOp op, bool offload) {
    if (offload || offloaded_ > 0) {
      if (!worker_) {
        worker_ = std::make_unique<DiskWorker>(io_, fd_, DirectIo(direct_fd_, stats_), alive_,
                                               last_flush_ns_);
      }
      // The guard keeps io_.run() going while the op is off the loop.
      auto guard = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(
          io_.get_executor());
      // Counted down on the loop before the op's own completion runs (the
      // completion runs only while the disk is alive: PostCompletion), so
      // that what that completion does next sees the worker idle. Counting
      // on the worker instead, after posting, left a moment in which a
      // completed flush still made the next one look busy.
      ++offloaded_;
      if (op.kind == DiskOp::Kind::kRead) {
        op.read_done = [this, guard, done = std::move(op.read_done)](bool ok,
                                                                      std::vector<uint8_t> b) {
          --offloaded_;
          if (done) done(ok, std::move(b));
        };
      } else {
        op.done = [this, guard, done = std::move(op.done)](bool ok) {
          --offloaded_;
          if (done) done(ok);
        };
      }
      worker_->Push(std::move(op));
      return;
    }
    bool ok = op.kind == DiskOp::Kind::kFlush ? TimedFdatasync(fd_, last_flush_ns_)
                                              : RunReadWrite(fd_, op);
    PostCompletion(io_, alive_, std::move(op), ok);
  }

  asio::io_context& io_;
  int fd_;
  int direct_fd_;
  uint64_t size_;
  std::shared_ptr<bool> alive_;
  std::shared_ptr<FileDisks::Stats> stats_;
  // Nanoseconds the latest fdatasync took (the loop's or the worker's);
  // unknown or failed (kNoGoodFlush) counts as slow, so the first one runs
  // on the worker.
  std::atomic<uint64_t> last_flush_ns_{kNoGoodFlush};
  bool written_since_flush_ = true;  // a Write issued since the last Flush was
  // Ops handed to the worker whose completion has not run on the loop yet.
  size_t offloaded_ = 0;
  std::unique_ptr<DiskWorker> worker_;  // started by the first op it gets
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
  // The O_DIRECT side for the worker's large writes (DirectIo).
  // Not exclusive: the claim above already holds the device. A file
  // system without O_DIRECT refuses it (EINVAL): buffered IO only.
  int direct_fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_DIRECT);
  return std::make_unique<FileDisk>(io_, fd, direct_fd, size, stats_);
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
