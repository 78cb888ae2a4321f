// SPDX-License-Identifier: GPL-2.0-or-later
// The ELF note that marks an executable as one of drbd-cp's own helper
// programs (drbdsetup, drbdmeta). drbdadm reads it from the program it is
// about to exec and, when the note names a tool it links itself, runs the
// command in-process instead (docs/design/drbdadm.md, "Helpers in-process").
// A note is found from the program headers (PT_NOTE) without reading the
// whole binary; a fake helper (a shell script, drbd-utils' binary) has none.
#pragma once

#include <cstdint>

namespace drbd {

// Note owner name and type. The descriptor is the NUL-terminated tool name.
// Bump kToolNoteType when the in-process contract changes incompatibly.
inline constexpr char kToolNoteOwner[] = "drbd-cp";
inline constexpr uint32_t kToolNoteType = 0x44435031;  // "DCP1"

}  // namespace drbd

// Emits the note into the executable that expands it (once, at namespace
// scope of its main.cc). TOOL is a string literal: "drbdsetup".
// The type below must equal kToolNoteType.
#define DRBD_TOOL_NOTE(TOOL)                     \
  __asm__(                                       \
      ".pushsection .note.drbd-cp,\"a\",@note\n" \
      ".balign 4\n"                              \
      ".long 2f - 1f\n"                          \
      ".long 4f - 3f\n"                          \
      ".long 0x44435031\n"                       \
      "1: .asciz \"drbd-cp\"\n"                  \
      "2: .balign 4\n"                           \
      "3: .asciz \"" TOOL                        \
      "\"\n"                                     \
      "4: .balign 4\n"                           \
      ".popsection\n")
