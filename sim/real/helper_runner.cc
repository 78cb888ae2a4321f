// SPDX-License-Identifier: GPL-2.0-or-later
// Child processes for usermode helpers (see helper_runner.h).
#include "sim/real/helper_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace drbd::real {

ProcessHelpers::ProcessHelpers(asio::io_context& io, std::string program,
                               std::vector<std::string> extra_env, uint64_t timeout_ms,
                               std::function<void(std::string)> log)
    : io_(io),
      program_(std::move(program)),
      extra_env_(std::move(extra_env)),
      timeout_ms_(timeout_ms),
      log_(std::move(log)),
      sigchld_(io, SIGCHLD) {
  WaitForSignal();
}

ProcessHelpers::~ProcessHelpers() {
  asio::error_code ignored;
  sigchld_.cancel(ignored);
  // Children still running are left alone (as the kernel leaves a helper
  // of a module being unloaded); their answers have nobody to go to.
}

void ProcessHelpers::WaitForSignal() {
  sigchld_.async_wait([this](const asio::error_code& ec, int) {
    if (ec) return;
    Reap();
    WaitForSignal();
  });
}

void ProcessHelpers::Reap() {
  // Only our own children, by pid: other children of the process (if any)
  // are not ours to reap.
  for (auto it = children_.begin(); it != children_.end();) {
    int status = 0;
    pid_t r = ::waitpid(it->first, &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR)) {
      ++it;
      continue;
    }
    Child c = std::move(it->second);
    it = children_.erase(it);
    if (c.timer) c.timer->cancel();
    if (r < 0) status = -ECHILD;
    asio::post(io_, [done = std::move(c.done), status] { done(status); });
  }
}

void ProcessHelpers::Run(const sim::HelperCall& call, std::function<void(int)> done) {
  std::vector<std::string> args = {program_, call.name, call.resource};
  std::vector<std::string> env = call.env;
  env.insert(env.end(), extra_env_.begin(), extra_env_.end());
  std::vector<char*> argv, envp;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (std::string& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  // stdin from /dev/null, as a kernel helper has no terminal; its own
  // process group, so that a timeout kills whatever it started too; the
  // daemon's signal mask and handlers are not inherited.
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int err = ::posix_spawn(&pid, program_.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err != 0) {
    log_("usermode helper " + program_ + " " + call.name + " " + call.resource +
         ": cannot start: " + std::strerror(err));
    asio::post(io_, [done = std::move(done), err] { done(-err); });
    return;
  }
  Child& c = children_[pid];
  c.done = std::move(done);
  c.what = call.name + " " + call.resource;
  if (timeout_ms_ > 0) {
    c.timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(timeout_ms_));
    c.timer->async_wait([this, pid](const asio::error_code& ec) {
      if (ec) return;
      auto it = children_.find(pid);
      if (it == children_.end()) return;
      log_("usermode helper " + program_ + " " + it->second.what + ": timed out after " +
           std::to_string(timeout_ms_) + " ms, killed");
      ::kill(-pid, SIGKILL);  // reaped on the SIGCHLD that follows
    });
  }
  // A child that exited before the handler was armed is reaped here.
  Reap();
}

}  // namespace drbd::real
