// SPDX-License-Identifier: GPL-2.0-or-later
// `drbdsetup events2` for a mainline 8.4 module, as drbdsetup-84 prints it:
// keys with the fixed peer-node-id 0 and conn-name "peer", 8.4 state names
// in their DRBD 9 spelling (Connecting/Connected, Off/Established), and
// only what changed after the first line of an object.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "lib/genl/client.h"

namespace drbd::setup {

// Prints events2 lines for the messages of one run. Feed every decoded
// (8.4 table) message in order; returns true when --now output is complete.
class Events84Printer {
 public:
  Events84Printer(bool statistics, bool now, std::string resource)
      : statistics_(statistics), now_(now), resource_(std::move(resource)) {}
  bool Feed(const genl::Message& m, std::ostream& out);

 private:
  bool statistics_;
  bool now_;
  std::string resource_;  // "all" = every resource
  bool last_seq_known_ = false;
  uint32_t last_seq_ = 0;
  // Last attributes seen per object key (info and statistics TLAs).
  std::vector<std::pair<std::string, genl::Message>> known_;
};

// args: "events2" [resource|all] [--now] [--statistics] [--timestamps].
// Returns the exit code.
int Events2For84(genl::Client& client, const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err);

// One `drbdsetup events` line (the 8.4 broadcast format: "SEQ ST
// MINOR,RES[VOL] { cs:.. ro:../.. ds:../.. r--- }", ST-prev/ST-new pairs,
// UH/UH-post helper calls, SP sync progress) for a decoded GET_STATUS
// reply or broadcast; empty when the message prints nothing.
std::string FormatEvent84(const genl::Message& m);

// args: "events" [minor|resource|all]. The current state of the object,
// then every change until the connection fails. Returns the exit code.
int EventsFor84(genl::Client& client, const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err);

}  // namespace drbd::setup
