// SPDX-License-Identifier: GPL-2.0-or-later
// Fault injection as the module's CONFIG_DRBD_FAULT_INJECTION offers it:
// with fault_rate set and the request's type enabled in enable_faults, a
// request of a minor selected by fault_devs (0 = all) fails with
// probability fault_rate percent, logged as "***Simulating <type>
// failure", and completes with an I/O error without reaching the disk, so
// the on-io-error policy handles it as a real disk error. The engine's
// randomness (Env) draws the chance, and only while faults are enabled, so
// runs without faults see the same random sequence as before. Where each
// type is checked: docs/design/drbd-simd.md (fault injection).
#include <fmt/format.h>

#include <array>
#include <string_view>

#include "sim/engine/engine.h"
#include "sim/engine/engine_internal.h"

namespace drbd::engine {
namespace {

// _drbd_fault_str.
constexpr std::array<std::string_view, Engine::kFaultMax> kFaultNames = {
    "Meta-data write", "Meta-data read", "Resync write",  "Resync read",   "Data write",
    "Data read",       "Data read ahead", "BM allocation", "EE allocation", "receive data corruption",
};

}  // namespace

bool Engine::InsertFault(const Resource& r, const Device& d, FaultType t) {
  if (faults_.rate == 0 || t >= kFaultMax || !(faults_.enable & (1u << t))) return false;
  if (faults_.devs != 0 && (d.minor >= 32 || !(faults_.devs & (1u << d.minor)))) return false;
  if (env_.rng->Next() % 100 + 1 > faults_.rate) return false;
  ++fault_count_;
  Log(fmt::format("{}: ***Simulating {} failure", Prefix(r, d), kFaultNames[t]));
  return true;
}

}  // namespace drbd::engine
