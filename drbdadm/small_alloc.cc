// SPDX-License-Identifier: GPL-2.0-or-later
// Size-class small-block allocator; see small_alloc.h.
#include "drbdadm/small_alloc.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdint>

namespace drbd::adm {
namespace {

constexpr size_t kGranule = 16;
constexpr size_t kClasses = kSmallAllocMax / kGranule;
constexpr size_t kChunk = size_t{64} << 10;
// Address space reserved once (MAP_NORESERVE: nothing is committed until a
// page is written). Past it, SmallAlloc declines and callers use malloc.
constexpr size_t kRegion = size_t{1} << 30;
constexpr size_t kChunks = kRegion / kChunk;

struct FreeBlock {
  FreeBlock* next;
};

// Per-thread state; constant-initialised, so TLS access needs no guard.
struct ThreadCache {
  FreeBlock* free[kClasses];
  char* bump[kClasses];
  char* end[kClasses];
};
thread_local ThreadCache tls_cache{};

struct Region {
  char* base = nullptr;
  std::atomic<size_t> next_chunk{0};
  uint8_t chunk_class[kChunks] = {};  // size class of each handed-out chunk
};

Region& TheRegion() {
  static Region* region = [] {
    static Region r;
    void* p = mmap(nullptr, kRegion + kChunk, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
      // Chunks are kChunk-aligned, so a block's chunk is its address rounded down.
      const auto a = reinterpret_cast<uintptr_t>(p);
      r.base = reinterpret_cast<char*>((a + kChunk - 1) & ~(uintptr_t{kChunk} - 1));
    }
    return &r;
  }();
  return *region;
}

}  // namespace

void* SmallAlloc(size_t n) noexcept {
  if (n > kSmallAllocMax) return nullptr;
  const size_t c = n == 0 ? 0 : (n - 1) / kGranule;
  ThreadCache& tc = tls_cache;
  if (FreeBlock* b = tc.free[c]) {
    tc.free[c] = b->next;
    return b;
  }
  const size_t size = (c + 1) * kGranule;
  if (tc.bump[c] == nullptr || static_cast<size_t>(tc.end[c] - tc.bump[c]) < size) {
    Region& r = TheRegion();
    if (r.base == nullptr) return nullptr;
    const size_t i = r.next_chunk.fetch_add(1, std::memory_order_relaxed);
    if (i >= kChunks) return nullptr;
    r.chunk_class[i] = static_cast<uint8_t>(c);
    tc.bump[c] = r.base + i * kChunk;
    tc.end[c] = tc.bump[c] + kChunk;
  }
  void* p = tc.bump[c];
  tc.bump[c] += size;
  return p;
}

bool SmallFree(void* p) noexcept {
  Region& r = TheRegion();
  const auto* q = static_cast<char*>(p);
  if (r.base == nullptr || q < r.base || q >= r.base + kRegion) return false;
  const size_t c = r.chunk_class[static_cast<size_t>(q - r.base) / kChunk];
  auto* b = static_cast<FreeBlock*>(p);
  ThreadCache& tc = tls_cache;
  b->next = tc.free[c];
  tc.free[c] = b;
  return true;
}

}  // namespace drbd::adm
