// SPDX-License-Identifier: GPL-2.0-or-later
// The deterministic world with three nodes a, b, c (node ids 0..2, hosts
// 10.0.0.1..3), shared by the engine's three-node tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/world/node.h"
#include "sim/world/world.h"

namespace drbd::engine {

inline std::string Host(int i) { return "10.0.0." + std::to_string(i + 1); }

class ThreeNodes : public ::testing::Test {
 protected:
  ThreeNodes() {
    for (int i = 0; i < 3; ++i) {
      nodes.push_back(
          std::make_unique<sim::Node>(world, std::string(1, static_cast<char>('a' + i))));
    }
  }
  sim::Node& N(int i) { return *nodes[static_cast<size_t>(i)]; }

  // r0 on a, b, c, attached, fully meshed and connected, UpToDate (initial
  // sync skipped).
  void UpMesh() {
    ASSERT_EQ(sim::UpMesh(world, {&N(0), &N(1), &N(2)}), "");
    world.RunFor(2 * sim::kSec);
    ASSERT_EQ(N(0).engine.NewCurrentUuid(N(0).Minor(0), true).ret, Ret::kNoError);
    world.RunFor(2 * sim::kSec);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(N(i).engine.DiskStateOf(0), DiskState::kUpToDate) << i;
  }

  // UpMesh, then a as Primary with the device open for writing (`handle`).
  void UpMeshWithWriter() {
    UpMesh();
    handle = sim::PrimaryWriter(N(0));
    ASSERT_NE(handle, 0u);
  }

  sim::World world;
  std::vector<std::unique_ptr<sim::Node>> nodes;
  uint64_t handle = 0;  // a's opener (UpMeshWithWriter)
};

}  // namespace drbd::engine
