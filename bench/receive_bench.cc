// drbd-simd's receive paths in user space, without sockets: the peer
// protocol Decoder taking 1 MiB DATA frames, and the NBD ServerSession
// taking 1 MiB WRITE requests, each fed in 256 KiB pieces as a socket read
// delivers them (real_env.cc reads up to 256 KiB). Bytes/s is block data
// decoded per second. See docs/bench.md ("Eighth pass").
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sim/nbd/protocol.h"
#include "sim/proto/wire.h"

namespace {

constexpr size_t kPiece = 256 * 1024;
constexpr int kFrames = 64;

// Feeds `stream` to `s` (a Decoder or a ServerSession) in kPiece pieces,
// taking out every message each piece completes; returns how many came.
template <typename Session>
int FeedInPieces(Session& s, const std::vector<uint8_t>& stream) {
  int got = 0;
  for (size_t pos = 0; pos < stream.size(); pos += kPiece) {
    s.Feed(std::span<const uint8_t>(stream).subspan(pos, std::min(kPiece, stream.size() - pos)));
    while (auto m = s.Next()) {
      benchmark::DoNotOptimize(*m);
      ++got;
    }
  }
  return got;
}

// Block data per iteration: kFrames messages of `len` bytes.
void SetBlockBytes(benchmark::State& state, size_t len) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kFrames *
                          static_cast<int64_t>(len));
}

void BM_PeerDecoder_Data(benchmark::State& state) {
  const auto len = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> stream;
  for (int i = 0; i < kFrames; ++i) {
    auto f = drbd::proto::Encode(drbd::proto::Data{0, static_cast<uint64_t>(i), len * i, 0, 0,
                                                   std::vector<uint8_t>(len, 0x5a)});
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (auto _ : state) {
    drbd::proto::Decoder d;
    if (FeedInPieces(d, stream) != kFrames) state.SkipWithError("frames lost");
  }
  SetBlockBytes(state, len);
}
BENCHMARK(BM_PeerDecoder_Data)->Arg(32 * 1024)->Arg(1 << 20);

class OneExport : public drbd::nbd::ExportCatalog {
 public:
  std::vector<drbd::nbd::Export> List() override { return {disk}; }
  uint32_t Lookup(std::string_view /*name*/, bool /*open*/, drbd::nbd::Export* out,
                  std::string* /*why*/) override {
    *out = disk;
    return drbd::nbd::kRepAck;
  }
  drbd::nbd::Export disk{"drbd0", "r0/0", uint64_t{1} << 30, false};
};

void Put(std::vector<uint8_t>& v, uint64_t x, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}

void BM_NbdSession_Write(benchmark::State& state) {
  using namespace drbd::nbd;
  const auto len = static_cast<uint32_t>(state.range(0));
  // The handshake (fixed newstyle, no zeroes, GO "drbd0"), then the writes.
  std::vector<uint8_t> hello;
  Put(hello, kClientFlagFixedNewstyle | kClientFlagNoZeroes, 4);
  Put(hello, kOptMagic, 8);
  Put(hello, kOptGo, 4);
  Put(hello, 4 + 5 + 2, 4);
  Put(hello, 5, 4);
  for (char c : std::string_view("drbd0")) hello.push_back(static_cast<uint8_t>(c));
  Put(hello, 0, 2);
  std::vector<uint8_t> stream;
  for (int i = 0; i < kFrames; ++i) {
    Put(stream, kRequestMagic, 4);
    Put(stream, 0, 2);
    Put(stream, static_cast<uint16_t>(Cmd::kWrite), 2);
    Put(stream, static_cast<uint64_t>(i), 8);
    Put(stream, uint64_t{len} * i, 8);
    Put(stream, len, 4);
    stream.insert(stream.end(), len, 0x33);
  }
  OneExport cat;
  for (auto _ : state) {
    ServerSession s(&cat);
    s.Feed(hello);
    if (s.Next() || s.phase() != Phase::kTransmission) state.SkipWithError("handshake failed");
    s.TakeOutput();
    if (FeedInPieces(s, stream) != kFrames) state.SkipWithError("writes lost");
  }
  SetBlockBytes(state, len);
}
BENCHMARK(BM_NbdSession_Write)->Arg(32 * 1024)->Arg(1 << 20);

}  // namespace

BENCHMARK_MAIN();
