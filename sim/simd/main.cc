// SPDX-License-Identifier: GPL-2.0-or-later
// drbd-simd: command line of the simulated DRBD node (see daemon.h).
#include <boost/program_options.hpp>
#include <iostream>

#include "sim/simd/daemon.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  drbd::simd::DaemonOptions opt;
  po::options_description desc(
      "Usage: drbd-simd --node NAME --socket PATH [--nbd-dir DIR] [--nbd-tcp ADDR:PORT] "
      "[--usermode-helper PROGRAM] [--helper-timeout MS] [--helper-env KEY=VALUE]... "
      "[--enable-faults MASK --fault-rate PCT [--fault-devs MASK] [--fault-file PATH]] "
      "[--quiet]\n\n"
      "Runs one simulated DRBD node in the foreground. drbdsetup and drbdadm reach it\n"
      "with DRBD_SIM_SOCKET=PATH; peers connect over TCP to the addresses of the\n"
      "paths configured on it. Ready (sd_notify READY=1) once PATH listens; SIGTERM\n"
      "takes every resource down and exits.\n\n"
      "Minor N is exported over NBD at DIR/drbdN.nbd (export name \"drbdN\" or \"\");\n"
      "e.g. nbdsh -u nbd+unix:///?socket=DIR/drbd0.nbd. Writing auto-promotes the\n"
      "resource when auto-promote is on.\n\nOptions");
  desc.add_options()("help,h", "print this help and exit")(
      "node", po::value<std::string>(&opt.node), "node name, used in log lines (required)")(
      "socket", po::value<std::string>(&opt.socket),
      "path of the genl Unix socket to create (required)")(
      "nbd-dir", po::value<std::string>(&opt.nbd_dir),
      "directory for the devices' NBD exports (default: the directory of --socket)")(
      "nbd-tcp", po::value<std::string>(&opt.nbd_tcp),
      "also export minor N over TCP at ADDR, port PORT+N (e.g. 127.0.0.1:10809)")(
      "quiet,q", po::bool_switch(&opt.quiet), "no kernel-style log lines on stderr")(
      "usermode-helper", po::value<std::string>(&opt.usermode_helper),
      "program run for handlers as PROGRAM HANDLER RESOURCE, like the module's usermode_helper "
      "parameter, e.g. a script running drbdadm -c CONF \"$@\" (default: disabled)")(
      "helper-timeout", po::value<uint64_t>(&opt.helper_timeout_ms),
      "kill a handler still running after this many ms (default 0: wait as the kernel does)")(
      "helper-env", po::value<std::vector<std::string>>(&opt.helper_env),
      "KEY=VALUE added to every handler's environment (repeatable; DRBD_SIM_SOCKET is always "
      "set)")(
      "enable-faults", po::value<uint32_t>(&opt.enable_faults),
      "fault injection, as the module parameter enable_faults: bit mask of fault types "
      "(0 meta-data write, 1 meta-data read, 2 resync write, 3 resync read, 4 data write, "
      "5 data read, ...)")(
      "fault-rate", po::value<uint32_t>(&opt.fault_rate),
      "percentage of eligible requests that fail (module parameter fault_rate; 0 = off)")(
      "fault-devs", po::value<uint32_t>(&opt.fault_devs),
      "bit mask of the minors faults apply to (module parameter fault_devs; 0 = all)")(
      "fault-file", po::value<std::string>(&opt.fault_file),
      "on SIGHUP, read enable_faults=N, fault_rate=N, fault_devs=N lines from this file");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "drbd-simd: " << e.what() << "\n" << desc << "\n";
    return 1;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (opt.node.empty() || opt.socket.empty()) {
    std::cerr << "drbd-simd: --node and --socket are required\n" << desc << "\n";
    return 1;
  }
  return drbd::simd::RunDaemon(opt);
}
