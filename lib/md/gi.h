// SPDX-License-Identifier: GPL-2.0-or-later
// The generation-identifier texts of get-gi and show-gi, shared by drbdmeta
// (from the superblock) and drbdsetup (from the kernel's device and peer
// device statistics): the UUID line with its flag columns, and show-gi's
// header and legends, as drbd-utils prints them.
// See docs/formats/metadata-v09.md (flags).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace drbd::md {

// "CURRENT:BITMAP:HIST0:HIST1:" + the v09 flag columns: seven of the
// device's MDF_* flags, then five of the peer's MDF_PEER_* flags; with '\n'.
std::string GiLineV09(uint64_t current, uint64_t bitmap, uint64_t history0, uint64_t history1,
                      uint32_t disk_flags, uint32_t peer_flags);

// The same for v08 metadata: seven MDF_* flag columns.
std::string GiLineV08(uint64_t current, uint64_t bitmap, uint64_t history0, uint64_t history1,
                      uint32_t flags);

// show-gi's picture above the line, and the legends below it (each ends
// with the blank line drbd-utils prints).
extern const std::string_view kShowGiHeader;
extern const std::string_view kShowGiV09Legend;
extern const std::string_view kShowGiV08Legend;

}  // namespace drbd::md
