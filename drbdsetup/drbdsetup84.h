// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup for a mainline DRBD 8.4 module (genl version 1): the 8.4
// command set and arguments as drbdsetup-84 takes them (minors by number,
// connect with local and peer address, primary --force /
// --overwrite-data-of-peer), requests encoded with lib/spec/genl84.def,
// replies reported as drbd-utils does. RunDrbdsetup() switches here when
// the module probe (lib/genl/family84.h) finds 8.4.
// See docs/design/drbdsetup.md (8.4 section).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "lib/genl/client.h"

namespace drbd::setup {

// Runs drbdsetup against an 8.4 module; argv[0] included. Returns the exit
// code (drbd-utils' values: 0, 1 usage, 10/11/16/17 kernel refusals, 20).
int RunDrbdsetup84(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

// The same over a given client (tests with a fake 8.4 kernel).
int RunDrbdsetup84With(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err,
                       genl::Client* client);

// The request a command line encodes, without sending it (tests pin these
// against drbdsetup-84's bytes). False, with the message in `err`, on a
// usage error.
struct Request84 {
  genl::Message msg;
  std::string objname;  // for messages: the resource or minor as given
};
bool BuildRequest84(const std::vector<std::string>& args, Request84& req, std::string& err);

// drbdsetup-84 sh-status for one minor: shell variables (_minor, _res_name,
// _volume, _known, _cstate, _role, ...) from a GET_STATUS reply decoded
// with the 8.4 table; `reply` null when the module sent none (minor
// unknown: "_known=NA ...").
void PrintShStatus84(uint32_t minor, const genl::Message* reply, std::ostream& out);

}  // namespace drbd::setup
