// SPDX-License-Identifier: GPL-2.0-or-later
// The NBD server of drbd-simd on Asio: one listening socket per exported
// minor (a Unix socket, and optionally a TCP port), one ServerSession codec
// per client connection, requests executed through a BlockTarget with
// asynchronous completions and answered with simple replies (in completion
// order, as NBD allows). Runs on the daemon's io_context; every callback
// is on that loop. See docs/formats/nbd-export.md.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/nbd/protocol.h"

namespace drbd::nbd {

// A block device as the NBD server uses it (drbd-simd: the engine's data
// path). Errors are errno values; completions may run later on the loop.
class BlockTarget {
 public:
  using Done = std::function<void(int err)>;
  using ReadDone = std::function<void(int err, std::vector<uint8_t> data)>;
  virtual ~BlockTarget() = default;
  // The export of `minor` as LIST / INFO show it; nullopt if none.
  virtual std::optional<Export> Describe(uint32_t minor) = 0;
  // Opens `minor` for a client. A handle > 0, or 0 with *err and a
  // human-readable *why.
  virtual uint64_t Open(uint32_t minor, Export* out, int* err, std::string* why) = 0;
  virtual void Close(uint64_t handle) = 0;
  virtual void Read(uint64_t handle, uint64_t offset, uint32_t len, ReadDone done) = 0;
  virtual void Write(uint64_t handle, uint64_t offset, std::vector<uint8_t> data, bool fua,
                     Done done) = 0;
  // TRIM and WRITE_ZEROES: the range reads back as zeroes afterwards.
  virtual void Zero(uint64_t handle, uint64_t offset, uint32_t len, bool fua, Done done) = 0;
  virtual void Flush(uint64_t handle, Done done) = 0;
};

// NBD error value for an errno (EPERM/EROFS/EACCES -> EPERM, ENOSPC,
// EINVAL, ENOMEM kept; anything else EIO).
uint32_t NbdError(int err);

class Server {
 public:
  // `log` receives one line per connection event (may be empty).
  Server(asio::io_context& io, BlockTarget* target, std::function<void(std::string)> log = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves `minor` on the Unix socket `path` (a stale socket file is
  // replaced). False and *err if it cannot listen.
  bool ListenUnix(uint32_t minor, const std::string& path, std::string* err);
  // Serves `minor` on TCP `host`:`port`.
  bool ListenTcp(uint32_t minor, const std::string& host, uint16_t port, std::string* err);
  // Stops serving `minor`: closes its listeners (removing Unix socket
  // files) and disconnects its clients.
  void Stop(uint32_t minor);
  void StopAll();
  // Minors with at least one listener.
  std::vector<uint32_t> Minors() const;

  class Conn;
  struct Listener;

 private:
  void Accept(const std::shared_ptr<Listener>& l);
  void Log(const std::string& line);

  asio::io_context& io_;
  BlockTarget* target_;
  std::function<void(std::string)> log_;
  std::multimap<uint32_t, std::shared_ptr<Listener>> listeners_;  // by minor
  std::map<uint64_t, std::shared_ptr<Conn>> conns_;
  uint64_t next_conn_ = 1;
};

}  // namespace drbd::nbd
