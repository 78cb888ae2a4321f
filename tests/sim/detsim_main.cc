// SPDX-License-Identifier: GPL-2.0-or-later
// drbd-detsim: runs the deterministic cluster simulator for one seed, a
// file of pinned seeds and/or N fresh seeds drawn from the time, each
// optionally twice to check that the trace hash repeats. Prints one line
// per seed, and for a failure the invariant and a one-line repro. Exit 0
// when every seed passed. See docs/design/detsim.md.
#include <boost/program_options.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "tests/sim/detsim.h"

namespace po = boost::program_options;
namespace ds = drbd::sim::detsim;

namespace {

bool ParseSeed(const std::string& s, uint64_t* out) {
  try {
    size_t used = 0;
    *out = std::stoull(s, &used, 0);
    return used == s.size();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string seed_arg, seeds_file, faults_arg;
  uint32_t fresh = 0;
  ds::Options base;
  bool twice = false, list = false;
  po::options_description desc(
      "Usage: drbd-detsim [--seed=0x..] [--seeds-file=F] [--fresh=N] [--steps=N] [--nodes=K]\n"
      "                   [--faults=a,b] [--check-determinism] [--verbose]\n\n"
      "Runs 2-3 simulated DRBD nodes in one process, in virtual time, from one seed,\n"
      "with a protocol-C write workload and injected faults; checks the invariants\n"
      "after every step. See docs/design/detsim.md.\n\nOptions");
  desc.add_options()("help,h", "print this help and exit")(
      "seed", po::value<std::string>(&seed_arg), "run this seed (decimal or 0x hex)")(
      "seeds-file", po::value<std::string>(&seeds_file),
      "run every seed listed in F (one per line, # comments)")(
      "fresh", po::value<uint32_t>(&fresh), "also run N fresh seeds derived from the time")(
      "steps", po::value<uint32_t>(&base.steps)->default_value(150), "workload steps per seed")(
      "nodes", po::value<uint32_t>(&base.nodes)->default_value(0), "2 or 3 (0: from the seed)")(
      "faults", po::value<std::string>(&faults_arg), "comma-separated fault names (default all)")(
      "check-determinism", po::bool_switch(&twice), "run each seed twice, compare trace hashes")(
      "list-faults", po::bool_switch(&list), "print the fault catalogue and exit")(
      "verbose,v", po::bool_switch(&base.verbose), "print the trace to stderr");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "drbd-detsim: " << e.what() << "\n" << desc << "\n";
    return 1;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (list) {
    for (const ds::FaultInfo& f : ds::kFaults) {
      std::cout << f.name << "\t" << f.target << "\t" << f.weight << "\t" << f.doc << "\n";
    }
    return 0;
  }
  if (!faults_arg.empty()) {
    std::stringstream ss(faults_arg);
    std::string name;
    while (std::getline(ss, name, ',')) {
      ds::Fault f;
      if (!ds::FaultByName(name, &f)) {
        std::cerr << "drbd-detsim: unknown fault '" << name << "' (see --list-faults)\n";
        return 1;
      }
      base.faults.push_back(f);
    }
  }
  std::vector<uint64_t> seeds;
  if (!seed_arg.empty()) {
    uint64_t s = 0;
    if (!ParseSeed(seed_arg, &s)) {
      std::cerr << "drbd-detsim: bad --seed '" << seed_arg << "'\n";
      return 1;
    }
    seeds.push_back(s);
  }
  if (!seeds_file.empty()) {
    std::ifstream in(seeds_file);
    if (!in) {
      std::cerr << "drbd-detsim: cannot read " << seeds_file << "\n";
      return 1;
    }
    std::string line;
    while (std::getline(in, line)) {
      line = line.substr(0, line.find('#'));
      std::stringstream ls(line);
      std::string tok;
      if (!(ls >> tok)) continue;
      uint64_t s = 0;
      if (!ParseSeed(tok, &s)) {
        std::cerr << "drbd-detsim: " << seeds_file << ": bad seed '" << tok << "'\n";
        return 1;
      }
      seeds.push_back(s);
    }
  }
  if (fresh) {
    uint64_t t = static_cast<uint64_t>(
        std::chrono::system_clock::now().time_since_epoch().count());  // the one clock read
    for (uint32_t i = 0; i < fresh; ++i) {
      uint64_t x = t + 0x9e3779b97f4a7c15ull * (i + 1);
      x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
      x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
      seeds.push_back(x ^ (x >> 31));
    }
    std::cout << "fresh seeds from the time: " << fresh << "\n";
  }
  if (seeds.empty()) seeds.push_back(1);

  int failed = 0;
  std::map<std::string, uint64_t> faults, probes;
  for (uint64_t seed : seeds) {
    ds::Options o = base;
    o.seed = seed;
    ds::Result r = ds::Simulate(o);
    char hex[32];
    std::snprintf(hex, sizeof hex, "%#018llx", static_cast<unsigned long long>(seed));
    char hash[32];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(r.trace_hash));
    std::string verdict = r.ok ? "ok" : "FAIL";
    if (r.ok && twice) {
      ds::Result again = ds::Simulate(o);
      if (again.trace_hash != r.trace_hash) {
        verdict = "FAIL";
        r.ok = false;
        r.violation = "not deterministic: the second run's trace hash differs";
      }
    }
    std::cout << "seed " << hex << " " << verdict << " trace " << hash << " acked "
              << r.writes_acked << " failed " << r.writes_failed << " virtual "
              << r.virtual_ns / 1000000 << "ms faults " <<
        [&] {
          uint64_t n = 0;
          for (const auto& [k, v] : r.faults) n += v;
          return n;
        }() << "\n";
    for (const auto& [k, v] : r.faults) faults[k] += v;
    for (const auto& [k, v] : r.probes) probes[k] += v;
    if (!r.ok) {
      ++failed;
      std::cout << "  step " << r.step << ": " << r.violation << "\n  repro: " << ds::ReproLine(o)
                << "\n";
    }
  }
  std::cout << "seeds " << seeds.size() << " failed " << failed << "\nfaults injected:";
  for (const auto& [k, v] : faults) std::cout << " " << k << "=" << v;
  std::cout << "\nprobes:";
  for (const auto& [k, v] : probes) std::cout << " " << k << "=" << v;
  std::cout << "\n";
  return failed ? 1 : 0;
}
