// SPDX-License-Identifier: GPL-2.0-or-later
// The deterministic cluster simulator: 2 or 3 drbd-simd engines in one
// sim::World, driven from one seed in virtual time by a random protocol-C
// write workload on one writer, while faults from the catalogue
// (tests/sim/faults.def) are injected and healed. A reference model holds
// what every block must contain; the invariants are checked after every
// step and once more after everything healed. The same seed always gives
// the same run, and the run's trace hash proves it. See
// docs/design/detsim.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace drbd::sim::detsim {

enum class Fault {
#define DRBD_FAULT(id, name, target, weight, doc) id,
#include "tests/sim/faults.def"
#undef DRBD_FAULT
};

struct FaultInfo {
  Fault fault;
  std::string_view name;    // as --faults= spells it
  std::string_view target;  // net, node, disk
  uint32_t weight;          // relative chance among the enabled faults
  std::string_view doc;
};

inline constexpr FaultInfo kFaults[] = {
#define DRBD_FAULT(id, name, target, weight, doc) {Fault::id, name, target, weight, doc},
#include "tests/sim/faults.def"
#undef DRBD_FAULT
};

// The fault named `name`; false if there is none.
bool FaultByName(std::string_view name, Fault* out);

struct Options {
  uint64_t seed = 1;
  uint32_t steps = 150;
  // 0: 2 or 3, picked by the seed.
  uint32_t nodes = 0;
  // Faults that may be injected; empty = the whole catalogue.
  std::vector<Fault> faults;
  // Print every step's actions (the trace) to stderr.
  bool verbose = false;
  // Test hook: after this step, overwrite one block of a replica behind
  // the engine's back, so that the invariants must trip. 0 = never.
  uint32_t corrupt_at_step = 0;
};

struct Result {
  bool ok = true;
  std::string violation;  // the first invariant broken, with its details
  uint32_t step = 0;      // the step after which it was found
  // FNV-1a over every step's actions, every notification and log line of
  // every node, and the world's event count and clock.
  uint64_t trace_hash = 0;
  uint64_t virtual_ns = 0;
  uint64_t writes_acked = 0;
  uint64_t writes_failed = 0;
  // Faults injected, by name; probes (named things that happened, e.g.
  // "resync-after-crash"), by name.
  std::map<std::string, uint64_t> faults;
  std::map<std::string, uint64_t> probes;
};

// Runs one simulation.
Result Simulate(const Options& o);

// "drbd-detsim --seed=0x... --steps=N [--nodes=K] [--faults=a,b]".
std::string ReproLine(const Options& o);

}  // namespace drbd::sim::detsim
