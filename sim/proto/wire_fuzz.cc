// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the drbd-simd peer protocol decoder
// (sim/proto/wire.h), all in memory. The input is a byte stream as a peer
// would send it, fed to one Decoder in chunks whose sizes come from the
// input's first byte (TCP may split or merge frames anywhere). Every
// message the decoder accepts must survive a round trip: Encode() and a
// fresh Decoder give back an equal message and consume exactly the frame;
// a violation aborts. Rejections ("stream broken") are normal; a crash,
// hang or sanitizer report is a bug. Build: sim/CMakeLists.txt; seeds (one
// frame of every message type, and streams of several) in
// sim/proto/fuzz_seeds/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "sim/proto/wire.h"

namespace {

using drbd::proto::Decoder;
using drbd::proto::Encode;
using drbd::proto::Message;

void RoundTrip(const Message& m) {
  std::vector<uint8_t> bytes = Encode(m);
  Decoder again;
  again.Feed(bytes);
  std::optional<Message> back = again.Next();
  if (!back || !(*back == m) || !again.error().empty()) std::abort();
  if (again.Next().has_value()) std::abort();  // exactly one frame
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;  // 1..64 bytes per Feed
  std::span<const uint8_t> rest(data + 1, size - 1);
  Decoder d;
  size_t messages = 0;
  while (!rest.empty() && d.error().empty()) {
    size_t n = std::min(chunk, rest.size());
    d.Feed(rest.first(n));
    rest = rest.subspan(n);
    while (std::optional<Message> m = d.Next()) {
      RoundTrip(*m);
      if (++messages > 100000) std::abort();  // more frames than bytes could hold
    }
  }
  // After an error the decoder stays broken and yields nothing.
  if (!d.error().empty() && d.Next().has_value()) std::abort();
  return 0;
}
