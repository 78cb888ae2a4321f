// SPDX-License-Identifier: GPL-2.0-or-later
// The drbd-simd daemon: one engine on an Asio loop with the real env, its
// genl endpoint on a Unix SOCK_SEQPACKET socket
// (docs/formats/genl-unix-socket.md), an NBD export per minor
// (docs/formats/nbd-export.md), sd_notify READY=1 once the socket listens,
// and a clean shutdown on SIGTERM/SIGINT (every resource is taken down, the
// sockets removed). See docs/design/drbd-simd.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace drbd::simd {

struct DaemonOptions {
  std::string node;     // node name, for logs
  std::string socket;   // genl socket path
  std::string nbd_dir;  // minor N is exported at nbd_dir/drbdN.nbd; "" = dir of `socket`
  std::string nbd_tcp;  // "ADDR:BASEPORT": minor N also on TCP BASEPORT+N; "" = none
  bool quiet = false;   // no kernel-style log lines on stderr
  // Usermode helper program (the module's usermode_helper parameter);
  // "" or "disabled" = no helpers. Not /sbin/drbdadm by default as in the
  // kernel: a drbdadm started with the kernel's bare environment cannot tell
  // which drbd.conf and node name a simulated node stands for.
  std::string usermode_helper;
  uint64_t helper_timeout_ms = 0;       // kill a helper after this long; 0 = never
  std::vector<std::string> helper_env;  // extra "KEY=value" for every helper
  // Fault injection, the module's parameters of the same names
  // (engine_faults.cc): enable_faults (bit mask of fault types), fault_rate
  // (percent), fault_devs (bit mask of minors, 0 = all).
  uint32_t enable_faults = 0;
  uint32_t fault_rate = 0;
  uint32_t fault_devs = 0;
  // Read again on SIGHUP: "enable_faults=N", "fault_rate=N", "fault_devs=N"
  // lines (what writing /sys/module/drbd/parameters/* changes). "" = none.
  std::string fault_file;
};

// Applies the "key=value" lines of `text` (enable_faults, fault_rate,
// fault_devs; decimal or 0x hex; other lines ignored) to the fields of
// `opt`. False on a malformed value of a known key.
bool ParseFaultParams(const std::string& text, DaemonOptions* opt);

// Runs until SIGTERM/SIGINT. Returns the process exit code: 0 after a clean
// shutdown, 20 if the socket cannot be set up, 1 for a bad --nbd-tcp.
int RunDaemon(const DaemonOptions& opt);

}  // namespace drbd::simd
