// SPDX-License-Identifier: GPL-2.0-or-later
// events2 --now text captured from drbd-utils 9.22 on DRBD 9.2.18 (two
// resources r0/r1 looped back on one host, copied from
// lib/events/testdata/drbd-9.2.18) → snapshot → the agent's answers.
#include "lib/ocf/snapshot.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/ocf/decide.h"

namespace drbd::ocf {
namespace {

std::string ReadCapture(std::string_view name) {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "testdata" / name);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Answers {
  Exit monitor;
  ScoreDecision score;
};

Answers For(std::string_view capture, std::string_view res) {
  std::optional<events::ResourceSnapshot> snap;
  std::string error;
  EXPECT_TRUE(SnapshotFromEvents2Now(ReadCapture(capture), res, &snap, &error)) << error;
  StateSummary s = Summarize(snap ? &*snap : nullptr);
  return {MonitorResult(s), PromotionScore(s, Params{}, ClusterView{})};
}

TEST(OcfSnapshot, CollectsOnlyTheNamedResource) {
  std::optional<events::ResourceSnapshot> snap;
  std::string error;
  ASSERT_TRUE(SnapshotFromEvents2Now(ReadCapture("events2_now_synced_r0_primary.txt"), "r1", &snap,
                                     &error));
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->resource.name, "r1");
  ASSERT_EQ(snap->devices.size(), 1u);
  EXPECT_EQ(snap->devices[0].minor, 1u);
  ASSERT_EQ(snap->connections.size(), 1u);
  EXPECT_EQ(snap->connections[0].connection.peer_node_id, 0u);
  EXPECT_EQ(snap->connections[0].peer_devices.size(), 1u);
  EXPECT_EQ(snap->connections[0].paths.size(), 1u);
}

TEST(OcfSnapshot, MissingResourceIsNotRunning) {
  Answers a = For("events2_now_synced_r0_primary.txt", "r9");
  EXPECT_EQ(a.monitor, Exit::kNotRunning);
  EXPECT_EQ(a.score.kind, ScoreDecision::Kind::kRemove);
  std::optional<events::ResourceSnapshot> snap;
  std::string error;
  ASSERT_TRUE(SnapshotFromEvents2Now("exists -\n", "r0", &snap, &error));
  EXPECT_FALSE(snap);
}

TEST(OcfSnapshot, SyncedPrimaryAndSecondary) {
  Answers r0 = For("events2_now_synced_r0_primary.txt", "r0");
  EXPECT_EQ(r0.monitor, Exit::kRunningPromoted);
  EXPECT_EQ(r0.score.score, 10000);
  EXPECT_EQ(r0.score.rule, "primary-uptodate");
  Answers r1 = For("events2_now_synced_r0_primary.txt", "r1");
  EXPECT_EQ(r1.monitor, Exit::kSuccess);
  EXPECT_EQ(r1.score.score, 10000);
  EXPECT_EQ(r1.score.rule, "uptodate-peers-known");
}

TEST(OcfSnapshot, BothInconsistentHaveNoScore) {
  Answers r0 = For("events2_now_both_inconsistent.txt", "r0");
  EXPECT_EQ(r0.monitor, Exit::kSuccess);
  EXPECT_EQ(r0.score.kind, ScoreDecision::Kind::kRemove);
  EXPECT_EQ(r0.score.rule, "no-good-data");
}

TEST(OcfSnapshot, BadLineIsAnError) {
  std::optional<events::ResourceSnapshot> snap;
  std::string error;
  EXPECT_FALSE(SnapshotFromEvents2Now("exists device name:r0 volume:x disk:UpToDate\n", "r0", &snap,
                                      &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace drbd::ocf
