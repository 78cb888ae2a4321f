// SPDX-License-Identifier: GPL-2.0-or-later
// The real usermode-helper runner of drbd-simd: each helper call starts the
// configured program (drbd-simd --usermode-helper, the module's
// usermode_helper parameter) as a child process with argv {program, handler,
// resource} and exactly the environment the engine built, plus the
// variables the daemon adds so that tools started by a handler reach this
// node. The loop never blocks: children are reaped on SIGCHLD, and one that
// outlives the timeout is killed with its process group (the kernel has no
// such timeout; a hung handler would otherwise freeze fencing forever). See
// docs/design/drbd-simd.md "Handlers and fencing".
#pragma once

#include <sys/types.h>

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/env/env.h"

namespace drbd::real {

class ProcessHelpers : public sim::HelperRunner {
 public:
  // `program`: the helper to run. `extra_env`: "KEY=value" entries added
  // after the engine's. `timeout_ms`: 0 = wait forever. `log` receives one
  // line per start failure or timeout.
  ProcessHelpers(asio::io_context& io, std::string program, std::vector<std::string> extra_env,
                 uint64_t timeout_ms, std::function<void(std::string)> log);
  ~ProcessHelpers() override;
  ProcessHelpers(const ProcessHelpers&) = delete;
  ProcessHelpers& operator=(const ProcessHelpers&) = delete;

  void Run(const sim::HelperCall& call, std::function<void(int wait_status)> done) override;
  std::string Program() const override { return program_; }

 private:
  struct Child {
    std::function<void(int)> done;
    std::shared_ptr<asio::steady_timer> timer;
    std::string what;  // "fence-peer r0", for the timeout log line
  };
  void WaitForSignal();
  void Reap();

  asio::io_context& io_;
  std::string program_;
  std::vector<std::string> extra_env_;
  uint64_t timeout_ms_;
  std::function<void(std::string)> log_;
  asio::signal_set sigchld_;
  std::map<pid_t, Child> children_;
};

}  // namespace drbd::real
