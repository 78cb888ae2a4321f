// SPDX-License-Identifier: GPL-2.0-or-later
// get-gi / show-gi texts (see gi.h).
#include "lib/md/gi.h"

#include <fmt/format.h>

#include "lib/md/format.h"

namespace drbd::md {
namespace {

char Bit(uint32_t v, uint32_t mask) { return (v & mask) ? '1' : '0'; }

std::string Uuids(uint64_t current, uint64_t bitmap, uint64_t h0, uint64_t h1) {
  return fmt::format("{:016X}:{:016X}:{:016X}:{:016X}:", current, bitmap, h0, h1);
}

}  // namespace

std::string GiLineV09(uint64_t current, uint64_t bitmap, uint64_t history0, uint64_t history1,
                      uint32_t f, uint32_t p) {
  return Uuids(current, bitmap, history0, history1) +
         fmt::format("{}:{}:{}:{}:{}:{}:{}:{}:{}:{}:{}:{}\n", Bit(f, kMdfConsistent),
                     Bit(f, kMdfWasUpToDate), Bit(f, kMdfPrimaryInd), Bit(f, kMdfCrashedPrimary),
                     Bit(f, kMdfAlClean), Bit(f, kMdfAlDisabled), Bit(f, kMdfPrimaryLostQuorum),
                     Bit(p, kPeerConnected), Bit(p, kPeerOutdated), Bit(p, kPeerFencing),
                     Bit(p, kPeerFullSync), Bit(p, kPeerDeviceSeen));
}

std::string GiLineV08(uint64_t current, uint64_t bitmap, uint64_t history0, uint64_t history1,
                      uint32_t f) {
  return Uuids(current, bitmap, history0, history1) +
         fmt::format("{}:{}:{}:{}:{}:{}:{}\n", Bit(f, kMdfConsistent), Bit(f, kMdfWasUpToDate),
                     Bit(f, kMdfPrimaryInd), Bit(f, kMdfConnectedInd), Bit(f, kMdfFullSync),
                     Bit(f, kMdfPeerOutDated), Bit(f, kMdfCrashedPrimary));
}

const std::string_view kShowGiHeader =
    "\n"
    "       +--<  Current data generation UUID  >-\n"
    "       |               +--<  Bitmap's base data generation UUID  >-\n"
    "       |               |                 +--<  younger history UUID  >-\n"
    "       |               |                 |         +-<  older history  >-\n"
    "       V               V                 V         V\n";

const std::string_view kShowGiV09Legend =
    "                                                                    ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^\n"
    "                                      -<  Data consistency flag  >--+ | | | | | | | | | | |\n"
    "                             -<  Data was/is currently up-to-date  >--+ | | | | | | | | | |\n"
    "                                  -<  Node was/is currently primary  >--+ | | | | | | | | |\n"
    " -<  This node was a crashed primary, and has not seen its peer since  >--+ | | | | | | | |\n"
    "             -<  The activity-log was applied, the disk can be attached  >--+ | | | | | | |\n"
    "        -<  The activity-log was disabled, peer is completely out of sync  >--+ | | | | | |\n"
    "                              -<  This node was primary when it lost quorum  >--+ | | | | |\n"
    "                                          -<  Node was/is currently connected  >--+ | | | |\n"
    "                              -<  The peer's disk was out-dated or inconsistent  >--+ | | |\n"
    "                                 -<   A fence policy other the dont-care was used  >--+ | |\n"
    "                  -<  Node was in the progress of marking all blocks as out of sync  >--+ |\n"
    "                     -<  At least once we saw this node with a backing device attached >--+\n"
    "\n";

const std::string_view kShowGiV08Legend =
    "                                                                    ^ ^ ^ ^ ^ ^ ^\n"
    "                                      -<  Data consistency flag  >--+ | | | | | |\n"
    "                             -<  Data was/is currently up-to-date  >--+ | | | | |\n"
    "                                  -<  Node was/is currently primary  >--+ | | | |\n"
    "                                  -<  Node was/is currently connected  >--+ | | |\n"
    "         -<  Node was in the progress of setting all bits in the bitmap  >--+ | |\n"
    "                        -<  The peer's disk was out-dated or inconsistent  >--+ |\n"
    "      -<  This node was a crashed primary, and has not seen its peer since   >--+\n"
    "\n";

}  // namespace drbd::md
