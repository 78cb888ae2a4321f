// SPDX-License-Identifier: GPL-2.0-or-later
// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected form 0x82F63B78),
// as DRBD and drbd-utils compute it: the caller passes the running value and
// does any pre/post inversion itself (the activity log seeds it with 0, the
// implicit node-id hash with 0x1a656f21, neither inverts).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace drbd {

// Continues a CRC32C over data from crc.
uint32_t Crc32c(uint32_t crc, std::span<const uint8_t> data);
uint32_t Crc32c(uint32_t crc, std::string_view data);

}  // namespace drbd
