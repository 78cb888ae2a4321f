// SPDX-License-Identifier: GPL-2.0-or-later
// The `drbd` OCF resource agent executable (installed as
// /usr/lib/ocf/resource.d/drbd-cp/drbd): argv[1] is the action; the rest
// lives in ocf/agent.cc and lib/ocf.
#include <cstdlib>
#include <iostream>

#include "ocf/agent.h"

int main(int argc, char** argv) {
  drbd::ocf::ProcessRunner runner;
  auto env = [](const std::string& key) -> std::optional<std::string> {
    const char* v = std::getenv(key.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  std::string_view action = argc > 1 ? argv[1] : "";
  return static_cast<int>(drbd::ocf::RunAgent(action, env, runner, std::cout, std::cerr));
}
