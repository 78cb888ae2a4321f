// SPDX-License-Identifier: GPL-2.0-or-later
// A size-class allocator for the small blocks drbdadm allocates by the
// hundred thousand (configuration objects, option strings, queued commands).
// drbdadm's main() routes operator new/delete through it; the library does
// not depend on it.
//
// Blocks of up to kSmallAllocMax bytes are cut from 64 KiB chunks, each chunk
// serving one size class (multiples of 16 bytes), taken in turn from one
// reserved address range (pages are only backed once written). A block has no
// header: its class is found from its chunk. Freed blocks go onto a per-class
// free list of the freeing thread and are reused for the same class only.
// Compared with glibc malloc this saves the 8-16 bytes of chunk header and
// rounding per block and most of the instructions of malloc/free; memory is
// never returned to the system, which suits a short-lived process.
#pragma once

#include <cstddef>

namespace drbd::adm {

inline constexpr size_t kSmallAllocMax = 512;

// A block of at least n bytes aligned to 16, or nullptr when n exceeds
// kSmallAllocMax or the reserved range is used up (then use malloc).
void* SmallAlloc(size_t n) noexcept;

// Frees p if SmallAlloc returned it and returns true; false (nothing done)
// for any other pointer, including nullptr.
bool SmallFree(void* p) noexcept;

}  // namespace drbd::adm
