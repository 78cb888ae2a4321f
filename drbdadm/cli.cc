// SPDX-License-Identifier: GPL-2.0-or-later
// Placeholder entry point; replaced by the command layer.
#include <ostream>

#include "drbdadm/drbdadm.h"

namespace drbd::adm {

int RunDrbdadm(const std::vector<std::string>&, std::ostream&, std::ostream& err) {
  err << "drbdadm: not built yet\n";
  return 20;
}

}  // namespace drbd::adm
