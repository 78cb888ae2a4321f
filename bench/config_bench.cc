// SPDX-License-Identifier: GPL-2.0-or-later
// Google Benchmark of the drbd.conf path in-process:
//   BM_Config_Parse/N      parse + post-process + validate N resources;
//   BM_Config_ParsePlan/N  the whole `drbdadm -c F -d up all` (RunDrbdadm).
// The configuration is generated here: N resources, alternating two-node
// resources with two volumes and three-node meshes. bench/parse_plan.sh
// times the programs end to end against drbd-utils.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "drbdadm/drbdadm.h"
#include "lib/config/ast.h"
#include "lib/config/diag.h"
#include "lib/config/parser.h"
#include "lib/config/postparse.h"

namespace {

std::string GenerateConfig(int n) {
  std::ostringstream c;
  c << "global {\n    usage-count no;\n    disable-ip-verification;\n}\n"
    << "common {\n    net {\n        protocol C;\n        max-buffers 8k;\n    }\n"
    << "    disk {\n        al-extents 3389;\n        resync-rate 40M;\n    }\n}\n";
  for (int i = 0; i < n; ++i) {
    const int net = 1 + i % 60000;
    const std::string ip = "10." + std::to_string(net / 256) + "." + std::to_string(net % 256) + ".";
    const int port = 7789 + i % 50000;
    c << "resource r" << i << " {\n";
    if (i % 2 == 0) {
      c << "    net {\n        shared-secret s" << i << ";\n    }\n";
      for (int v = 0; v < 2; ++v) {
        c << "    volume " << v << " {\n        device minor " << i * 4 + v
          << ";\n        disk /dev/vg/r" << i << "_" << v << ";\n        meta-disk internal;\n    }\n";
      }
      c << "    on alpha {\n        node-id 0;\n        address " << ip << "1:" << port << ";\n    }\n"
        << "    on bravo {\n        node-id 1;\n        address " << ip << "2:" << port << ";\n    }\n";
    } else {
      c << "    device minor " << i * 4 << ";\n    disk /dev/vg/r" << i << ";\n    meta-disk internal;\n";
      const char* hosts[] = {"alpha", "bravo", "charlie"};
      for (int h = 0; h < 3; ++h) {
        c << "    on " << hosts[h] << " {\n        node-id " << h << ";\n        address " << ip << h + 1
          << ":" << port << ";\n    }\n";
      }
      c << "    connection-mesh {\n        hosts alpha bravo charlie;\n    }\n";
    }
    c << "}\n";
  }
  return c.str();
}

// One file per N, written once, removed at exit.
const std::string& ConfigFile(int n) {
  static std::map<int, std::string> files;
  auto it = files.find(n);
  if (it != files.end()) return it->second;
  std::string path = (std::filesystem::temp_directory_path() /
                      ("drbd-config-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n) + ".conf"))
                         .string();
  std::ofstream(path) << GenerateConfig(n);
  static struct Cleanup {
    ~Cleanup() {
      for (const auto& [k, p] : files) std::remove(p.c_str());
    }
  } cleanup;
  return files.emplace(n, path).first->second;
}

void BM_Config_Parse(benchmark::State& state) {
  const std::string text = GenerateConfig(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    std::istringstream in(text);
    std::ostringstream sink;
    drbd::cfg::DiagSink diag(sink, drbd::cfg::DiagStyle::kDrbdUtils);
    drbd::cfg::Config cfg;
    drbd::cfg::ParseRequest req;
    req.config_file = "-";
    req.stdin_stream = &in;
    drbd::cfg::PostParseOptions pp;
    pp.hostname = "alpha";
    pp.dry_run = true;
    pp.no_tty = true;
    try {
      drbd::cfg::ParseConfig(req, cfg, diag);
      drbd::cfg::PostParse(cfg, pp, diag);
      drbd::cfg::GlobalValidate(cfg, /*expand=*/true, pp, diag);
    } catch (const drbd::cfg::FatalConfigError&) {
      state.SkipWithError("configuration rejected");
      break;
    }
    benchmark::DoNotOptimize(cfg.resources.size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Config_Parse)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_Config_ParsePlan(benchmark::State& state) {
  ::setenv("__DRBD_NODE__", "alpha", 1);
  ::setenv("DRBD_DRIVER_VERSION_OVERRIDE", "9.2.0", 1);
  const std::vector<std::string> argv = {"drbdadm", "-c", ConfigFile(static_cast<int>(state.range(0))),
                                         "-d",      "up", "all"};
  for (auto _ : state) {
    std::ostringstream out;
    std::ostringstream err;
    const int rc = drbd::adm::RunDrbdadm(argv, out, err);
    if (rc != 0) {
      state.SkipWithError(("drbdadm exited " + std::to_string(rc)).c_str());
      break;
    }
    benchmark::DoNotOptimize(out.str().size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Config_ParsePlan)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
