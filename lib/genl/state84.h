// SPDX-License-Identifier: GPL-2.0-or-later
// DRBD 8.4 state numbers and their DRBD 9 equivalents: the 8.4 disk-state
// numbering (no Detaching), enum drbd_conns for connection and replication
// state, union drbd_state (8.4 current_state), and the rewrite that turns
// an 8.4 reply or event into the DRBD 9 shape our status/events2 printers
// read (the renumbering drbdsetup-84 does, plus its fixed connection name
// "peer" and peer node id 0).
// See /work/shared/spec/genl.md §11.
#pragma once

#include <cstdint>
#include <string_view>

#include "lib/genl/codec.h"

namespace drbd::genl::v84 {

// 8.4 disk state (0 Diskless .. 8 UpToDate) -> DRBD 9 number (9 inserts
// Detaching as 2).
uint32_t DiskState9(uint32_t d84);
// 8.4 enum drbd_conns as a connection state -> drbd_conn_state (8
// WFConnection -> Connecting; 9 WFReportParams and above -> Connected).
uint32_t ConnState9(uint32_t c84);
// 8.4 enum drbd_conns as a replication state -> drbd_repl_state (below 10
// -> Off; 10 and above keep their number).
uint32_t ReplState9(uint32_t c84);

// Names as drbdsetup-84 prints them (role, cstate, dstate).
std::string_view RoleName(uint32_t r);
std::string_view ConnName(uint32_t c84);
std::string_view DiskName(uint32_t d84);

// union drbd_state, little-endian bitfields of a u32.
struct State84 {
  uint32_t role, peer, conn, disk, pdsk;
  bool susp, aftr_isp, peer_isp, user_isp, susp_nod, susp_fen;
};
State84 DecodeState(uint32_t raw);

// Rewrites an 8.4 message (decoded with the 8.4 table) in place into the
// DRBD 9 numbering; messages without state are left alone.
void RewriteTo9(Message& m);

}  // namespace drbd::genl::v84
