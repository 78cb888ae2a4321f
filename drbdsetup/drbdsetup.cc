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
#include "drbdsetup/drbdsetup84.h"
#include "drbdsetup/handlers.h"
#include "lib/genl/client.h"
#include "lib/genl/family84.h"

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
  RunOptions options;
  options.connect = connect;
  return RunDrbdsetupWithOptions(argv, out, err, options);
}

int RunDrbdsetupWithOptions(const std::vector<std::string>& argv, std::ostream& out,
                            std::ostream& err, const RunOptions& options) {
  // A mainline 8.4 module (or DRBD_DRIVER_VERSION_OVERRIDE=8.4.x) speaks
  // genl version 1 and has its own command set.
  // Installed as drbdsetup-84 (where drbd-utils' drbdadm-84 looks for it),
  // it always speaks 8.4.
  if (!options.connect || options.check_module) {
    const char* sim_env = std::getenv("DRBD_SIM_SOCKET");
    bool as84 = !argv.empty() && (argv[0] == "drbdsetup-84" || argv[0].ends_with("/drbdsetup-84"));
    if ((sim_env == nullptr || *sim_env == '\0') && (as84 || genl::v84::ModuleIs84())) {
      return RunDrbdsetup84(argv, out, err);
    }
  }
  const ConnectFn& connect = options.connect;
  const bool stdout_is_tty = options.stdout_is_tty.value_or(isatty(STDOUT_FILENO) != 0);
  CliEnv env;
  env.columns = stdout_is_tty || !options.stdout_is_tty ? TerminalColumns() : 80;
  std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  auto parsed = ParseCommand(args, env);
  if (auto* e = std::get_if<CliExit>(&parsed)) return Finish(*e, out, err);
  Invocation inv = std::get<Invocation>(std::move(parsed));

  const char* sim = std::getenv("DRBD_SIM_SOCKET");
  if ((!connect || options.check_module) && (sim == nullptr || *sim == '\0')) {
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
  RunContext rc{**client, out, err, env, stdout_is_tty};
  return RunCommand(rc, inv);
}

}  // namespace drbd::setup
