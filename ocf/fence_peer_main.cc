// SPDX-License-Identifier: GPL-2.0-or-later
// drbd-cp-fence-peer / drbd-cp-unfence-peer: DRBD fence-peer and
// unfence-peer handlers for Pacemaker clusters (the program's name picks the
// mode); everything lives in ocf/fence_handler.cc and lib/ocf/fence.cc.
#include <cstdlib>
#include <iostream>

#include "ocf/fence_handler.h"

int main(int argc, char** argv) {
  drbd::ocf::ProcessRunner runner;
  auto env = [](const std::string& key) -> std::optional<std::string> {
    const char* v = std::getenv(key.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  std::vector<std::string> args(argv + 1, argv + argc);
  return drbd::ocf::RunFenceHandler(drbd::ocf::FenceModeFromProgramName(argc > 0 ? argv[0] : ""),
                                    args, env, runner, std::cerr);
}
