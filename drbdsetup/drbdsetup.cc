// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup's main flow, in drbd-utils' order: help, command lookup, option
// parsing, reaching the module (or drbd-simd), object arguments, then the
// command's handler.
#include "drbdsetup/drbdsetup.h"

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ostream>
#include <variant>

#include "drbdsetup/cli.h"
#include "drbdsetup/handlers.h"
#include "lib/genl/client.h"

namespace drbd::setup {
namespace {

int Finish(const CliExit& e, std::ostream& out, std::ostream& err) {
  out << e.out;
  err << e.err;
  return e.code;
}

int TerminalColumns() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// Commands that succeed when the module is not even loaded.
bool SucceedsWithoutModule(std::string_view cmd) {
  return cmd == "down" || cmd == "secondary" || cmd == "disconnect" || cmd == "detach";
}

}  // namespace

int RunDrbdsetup(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  return RunDrbdsetupWith(argv, out, err, nullptr);
}

int RunDrbdsetupWith(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err,
                     const ConnectFn& connect) {
  CliEnv env;
  env.columns = TerminalColumns();
  std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  auto parsed = ParseCommand(args, env);
  if (auto* e = std::get_if<CliExit>(&parsed)) return Finish(*e, out, err);
  Invocation inv = std::get<Invocation>(std::move(parsed));

  const char* sim = std::getenv("DRBD_SIM_SOCKET");
  if (!connect && (sim == nullptr || *sim == '\0')) {
    struct stat st {};
    if (stat("/proc/drbd", &st) != 0) {
      err << "Could not stat /proc/drbd: No such file or directory\n"
             "Make sure that the DRBD kernel module is installed and can be loaded!\n";
      return SucceedsWithoutModule(inv.cmd->name) ? 0 : 20;
    }
  }
  std::vector<std::string> cmdline = inv.args;
  if (auto e = ParseOptions(inv, cmdline, env)) return Finish(*e, out, err);
  auto client = connect ? connect() : genl::Client::Connect();
  if (!client.ok()) {
    err << client.error().message << "\n";
    return ToInt(client.error().exit_code());
  }
  if (auto e = ParseObjects(inv, env)) return Finish(*e, out, err);
  RunContext rc{**client, out, err, env, isatty(STDOUT_FILENO) != 0};
  return RunCommand(rc, inv);
}

}  // namespace drbd::setup
