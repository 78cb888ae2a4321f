// SPDX-License-Identifier: GPL-2.0-or-later
// The drbd-simd daemon: one engine on an Asio loop with the real env, its
// genl endpoint on a Unix SOCK_SEQPACKET socket
// (docs/formats/genl-unix-socket.md), an NBD export per minor
// (docs/formats/nbd-export.md), sd_notify READY=1 once the socket listens,
// and a clean shutdown on SIGTERM/SIGINT (every resource is taken down, the
// sockets removed). See docs/design/drbd-simd.md.
#pragma once

#include <string>

namespace drbd::simd {

struct DaemonOptions {
  std::string node;     // node name, for logs
  std::string socket;   // genl socket path
  std::string nbd_dir;  // minor N is exported at nbd_dir/drbdN.nbd; "" = dir of `socket`
  std::string nbd_tcp;  // "ADDR:BASEPORT": minor N also on TCP BASEPORT+N; "" = none
  bool quiet = false;   // no kernel-style log lines on stderr
};

// Runs until SIGTERM/SIGINT. Returns the process exit code: 0 after a clean
// shutdown, 20 if the socket cannot be set up, 1 for a bad --nbd-tcp.
int RunDaemon(const DaemonOptions& opt);

}  // namespace drbd::simd
