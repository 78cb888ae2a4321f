// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the NBD server codec (sim/nbd/protocol.h), all in
// memory. The input is what a client sends after the greeting, fed in
// chunks whose sizes come from the input's first byte; every request the
// codec accepts must satisfy the checks it promises (known command, allowed
// flags, aligned and inside the export, payload length equal to the write
// length): a violation aborts. Rejections and hang-ups are normal; a crash,
// hang or sanitizer report is a bug. Build: sim/CMakeLists.txt; seeds in
// sim/nbd/fuzz_seeds/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "sim/nbd/protocol.h"

namespace {

using namespace drbd::nbd;

class Catalog : public ExportCatalog {
 public:
  std::vector<Export> List() override { return {disk}; }
  uint32_t Lookup(std::string_view name, bool, Export* out, std::string* why) override {
    if (name != "" && name != disk.name) {
      *why = "unknown";
      return kRepErrUnknown;
    }
    *out = disk;
    return kRepAck;
  }
  Export disk{"drbd0", "r0/0", 1 << 20, false};
};

void Check(const Request& r, const Export& e) {
  if (r.cmd == Cmd::kDisc) return;
  if (r.cmd == Cmd::kFlush) {
    if (r.offset != 0 || r.length != 0) std::abort();
    return;
  }
  if (r.cmd != Cmd::kRead && r.cmd != Cmd::kWrite && r.cmd != Cmd::kTrim &&
      r.cmd != Cmd::kWriteZeroes) {
    std::abort();
  }
  if (r.offset % kMinBlock || r.length % kMinBlock || r.length == 0) std::abort();
  if (r.offset > e.size || r.length > e.size - r.offset) std::abort();
  if (r.cmd == Cmd::kWrite && r.data.size() != r.length) std::abort();
  if (r.cmd != Cmd::kWrite && !r.data.empty()) std::abort();
  if (r.cmd == Cmd::kRead && r.flags != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = 1 + data[0] % 64;
  std::span<const uint8_t> in(data + 1, size - 1);
  Catalog cat;
  ServerSession s(&cat);
  (void)s.Greeting();
  for (size_t p = 0; p < in.size(); p += chunk) {
    s.Feed(in.subspan(p, std::min(chunk, in.size() - p)));
    while (auto r = s.Next()) Check(*r, s.chosen());
    (void)s.TakeOutput();
  }
  return 0;
}
