// SPDX-License-Identifier: GPL-2.0-or-later
// The simulator's own guarantees: one seed gives one trace, another seed
// another; the invariants trip on a replica corrupted behind the engine's
// back (so a clean run means something); each fault of the catalogue runs
// alone without breaking an invariant. Two nodes, as CI runs them
// (docs/design/detsim.md, Limits).
#include "tests/sim/detsim.h"

#include <gtest/gtest.h>

namespace drbd::sim::detsim {
namespace {

TEST(Detsim, SameSeedGivesTheSameTrace) {
  Options o;
  o.seed = 0x5eed;
  o.steps = 60;
  o.nodes = 2;
  Result a = Simulate(o);
  Result b = Simulate(o);
  EXPECT_TRUE(a.ok) << a.violation << "\n" << ReproLine(o);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.writes_acked, b.writes_acked);
  EXPECT_EQ(a.virtual_ns, b.virtual_ns);
  o.seed = 0x5eee;
  EXPECT_NE(Simulate(o).trace_hash, a.trace_hash);
}

TEST(Detsim, CorruptedReplicaTripsAnInvariant) {
  Options o;
  o.seed = 3;
  o.steps = 40;
  o.nodes = 2;
  o.faults = {Fault::kLatency};
  o.corrupt_at_step = 10;
  Result r = Simulate(o);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.step, 10u);
  EXPECT_NE(r.violation.find("block 3"), std::string::npos) << r.violation;
}

TEST(Detsim, WritesAreAcknowledgedWithoutFaults) {
  Options o;
  o.seed = 11;
  o.steps = 40;
  o.nodes = 2;
  o.faults = {Fault::kLatency};
  Result r = Simulate(o);
  EXPECT_TRUE(r.ok) << r.violation << "\n" << ReproLine(o);
  EXPECT_GT(r.writes_acked, 20u);
  EXPECT_EQ(r.writes_failed, 0u);
}

TEST(Detsim, EachFaultAloneKeepsTheInvariants) {
  for (const FaultInfo& f : kFaults) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      Options o;
      o.seed = seed;
      o.steps = 80;
      o.nodes = 2;
      o.faults = {f.fault};
      Result r = Simulate(o);
      EXPECT_TRUE(r.ok) << f.name << ": step " << r.step << ": " << r.violation << "\n"
                        << ReproLine(o);
      EXPECT_GT(r.faults[std::string(f.name)], 0u) << f.name << " never injected, seed " << seed;
    }
  }
}

// Fresh seeds that once broke an invariant through engine bugs, each with
// what it exercises (docs/design/detsim.md, Limits): a restarted crashed
// Primary writing beside an Outdated WFBitMapS peer took no new current
// UUID (the kernel's NEW_CUR_UUID after a promotion, rotate_current_into_bitmap
// for Outdated / Inconsistent peers); a SyncSource that crashed before it
// heard the end of the resync kept a stale bitmap UUID and later chose
// no-sync (drbd_uuid_detect_finished_resyncs: sync-source-missed-finish);
// writes cut off by a lost connection were acknowledged before the new
// current UUID was durable, and a crash during that superblock write let
// the survivor resync over them; a peer that died in the middle of the
// handshake held the connection in Connecting for ever (the handshake's
// receive timeout).
TEST(Detsim, FormerlyFailingFreshSeedsKeepTheInvariants) {
  for (uint64_t seed : {0xa0cf9fc466f61c18ull, 0xd739af86106e58e8ull, 0x1d5dbb87564e3041ull,
                        0x24a1bd0fb818ce0eull, 0x909f3c07535e8a8aull,
                        0x826fe5a4086d52e8ull, 0x200be53d3fd2bba8ull}) {
    Options o;
    o.seed = seed;
    o.steps = 150;
    o.nodes = 2;
    Result r = Simulate(o);
    EXPECT_TRUE(r.ok) << "step " << r.step << ": " << r.violation << "\n" << ReproLine(o);
  }
}

TEST(Detsim, ReproLineNamesSeedStepsAndFaults) {
  Options o;
  o.seed = 0xabc;
  o.steps = 7;
  o.nodes = 3;
  o.faults = {Fault::kPartition, Fault::kCrashTorn};
  EXPECT_EQ(ReproLine(o),
            "drbd-detsim --seed=0x0000000000000abc --steps=7 --nodes=3 "
            "--faults=partition,crash-torn");
}

}  // namespace
}  // namespace drbd::sim::detsim
