// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the genl decoders (lib/genl), all in memory. The
// input is one received netlink datagram: it is split into messages and
// every message goes through the DRBD decoder (with and without keeping
// unknown attributes), the NLMSG_ERROR, nlctrl and drbd-simd membership
// decoders. Whatever the DRBD decoder accepts must encode again and decode
// to the same message (a failure aborts: that is a bug). Rejections are
// normal; a crash, hang or sanitizer report is a bug.
// Build: tests/CMakeLists.txt (genl_decode_fuzz_replay with any compiler,
// genl_decode_fuzz with -DDRBD_FUZZ=ON and clang); seeds in
// tests/fuzz/genl_seeds/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "lib/genl/codec.h"
#include "lib/genl/ctrl.h"
#include "lib/genl/drbd_codes.h"
#include "lib/genl/transport.h"

using namespace drbd::genl;

namespace {

void CheckRoundTrip(const Message& m) {
  Result<std::vector<uint8_t>> again = Encode(m);
  if (!again.ok()) std::abort();  // decoded values always fit the table
  Result<Message> back = Decode(*again);
  if (!back.ok()) std::abort();
  Message a = m;
  Message b = *back;
  a.nl.len = b.nl.len = 0;
  if (!(a == b)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  // The whole input as one message, and split into messages.
  DecodeStats stats;
  Result<Message> whole = Decode(in, {}, &stats);
  if (whole.ok()) {
    CheckRoundTrip(*whole);
    (void)Describe(*whole);
    (void)ReportReply("r0", *whole);
  }
  Result<std::vector<Frame>> frames = Split(in);
  if (!frames.ok()) return 0;
  for (const Frame& f : *frames) {
    Result<Message> m = Decode(f.bytes, DecodeOptions{.keep_unknown = true});
    if (m.ok()) (void)Describe(*m);
    (void)DecodeNlError(f);
    (void)DecodeGetFamily(f.bytes);
    Result<FamilyInfo> fi = DecodeNewFamily(f.bytes);
    if (fi.ok()) {
      Result<FamilyInfo> back = DecodeNewFamily(EncodeNewFamily(*fi, 1, 2));
      if (!back.ok() || !(*back == *fi)) std::abort();
    }
    (void)DecodeMembership(f.bytes);
  }
  return 0;
}
