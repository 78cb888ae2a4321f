// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm: DRBD administration from drbd.conf. All logic is in drbdadm_lib.
// Also routes operator new/delete through drbdadm's small-block allocator
// (drbdadm/small_alloc.h), except in sanitizer builds, which need their own.
#include <malloc.h>

#include <cstdlib>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "drbdadm/drbdadm.h"
#include "drbdadm/small_alloc.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define DRBDADM_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DRBDADM_SANITIZED 1
#endif

#ifndef DRBDADM_SANITIZED
void* operator new(size_t n) {
  if (void* p = drbd::adm::SmallAlloc(n)) return p;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept {
  if (!drbd::adm::SmallFree(p)) std::free(p);
}
void operator delete[](void* p) noexcept { ::operator delete(p); }
void operator delete(void* p, size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, size_t) noexcept { ::operator delete(p); }
#endif

int main(int argc, char** argv) {
  // A short-lived process that builds one large model: grow the heap in big
  // steps, keep large blocks (growing queues) on the heap where freed ones
  // are reused, and never hand memory back before exit.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  std::ios::sync_with_stdio(false);
  // Like stdio: stdout stays buffered while stderr is written, so output
  // interleaves in a 2>&1 pipe exactly as drbd-utils' does.
  std::cerr.tie(nullptr);
  std::vector<std::string> args(argv, argv + argc);
  int rc = drbd::adm::RunDrbdadm(args, std::cout, std::cerr, /*free_state=*/false);
  std::cout.flush();
  return rc;
}
