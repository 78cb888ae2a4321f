// SPDX-License-Identifier: GPL-2.0-or-later
// Fault injection as the module's CONFIG_DRBD_FAULT_INJECTION offers it:
// with fault_rate set and the request's type enabled in enable_faults, a
// request of a minor selected by fault_devs (0 = all) fails with
// probability fault_rate percent, logged as "***Simulating <type>
// failure", and completes with an I/O error without reaching the disk, so
// the on-io-error policy handles it as a real disk error. The engine's
// randomness (Env) draws the chance, and only while faults are enabled, so
// runs without faults see the same random sequence as before. Beside the
// draw: the reads that may fail (FaultingRead), the metadata write
// faults (MetaWriteFault, which detach under any on-io-error), and the
// receiver's EE allocation and receive corruption faults (ReceiveFaults).
// Where each type is checked: docs/design/drbd-simd.md (fault injection).
#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <string_view>
#include <utility>

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

void Engine::FaultingRead(Device& d, FaultType t, uint64_t offset, uint32_t len,
                          std::function<void(bool, std::vector<uint8_t>)> done) {
  const Resource* r = ResourceOfMinor(d.minor);
  if (r && InsertFault(*r, d, t)) {
    env_.clock->StartTimer(0, [done = std::move(done)] { done(false, {}); });
    return;
  }
  d.data->Read(offset, len, std::move(done));
}

bool Engine::MetaWriteFault(Device& d, const std::string& where) {
  const Resource* r = ResourceOfMinor(d.minor);
  if (!r || !InsertFault(*r, d, kFaultMdWr)) return false;
  // drbd_md_write says so; both then hand DRBD_META_IO_ERROR on.
  if (where == "drbd_md_write") Log(fmt::format("{}: meta data update failed!", Prefix(*r, d)));
  env_.clock->StartTimer(0, [this, minor = d.minor, where] { LocalIoError(minor, where, true); });
  return true;
}

bool Engine::ReceiveFaults(Resource& r, Connection& c, const Device& d, proto::Data& dm) {
  const bool resync = (dm.flags & proto::kDataResync) != 0;
  // receive_Data / recv_resync_read failing: drbdd logs the packet and
  // the error, and the connection goes to ProtocolError.
  auto failed = [&](int err) {
    Log(fmt::format("{}: error receiving {}, e: {} l: {}!", Prefix(r, c),
                    resync ? "RSDataReply" : "Data", -err, dm.data.size()));
    ConnectionLost(r, c, ConnState::kProtocolError, false, "protocol-error");
    return true;
  };
  // drbd_alloc_peer_req: no peer request.
  if (InsertFault(r, d, kFaultAlEe)) return failed(EIO);
  if (dm.data.size() >= sizeof(uint64_t) && InsertFault(r, d, kFaultReceive)) {
    // read_in_block flips the first word of the page; only a
    // data-integrity-alg digest notices.
    Log(fmt::format("{}: Fault injection: Corrupting data on receive, sector {}", Prefix(r, d),
                    dm.offset / 512));
    for (size_t i = 0; i < sizeof(uint64_t); ++i) dm.data[i] = static_cast<uint8_t>(~dm.data[i]);
    if (!c.net.Str("data-integrity-alg").empty()) {
      Log(fmt::format("{}: Digest integrity check FAILED: {}s +{}", Prefix(r, d), dm.offset / 512,
                      dm.data.size()));
      return failed(EINVAL);
    }
  }
  return false;
}

}  // namespace drbd::engine
