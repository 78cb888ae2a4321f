// SPDX-License-Identifier: GPL-2.0-or-later
// The fence-peer and unfence-peer handlers (drbd-cp-fence-peer,
// drbd-cp-unfence-peer; drop-ins for crm-fence-peer.9.sh and
// crm-unfence-peer.9.sh): read the CIB with `cibadmin --query`, this node's
// DRBD state with `drbdsetup events2 --now`, ask lib/ocf/fence.h what to do,
// and place, replace or delete the location constraint with cibadmin. See
// docs/ocf-agent.md "Fencing handlers".
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "lib/ocf/params.h"
#include "ocf/agent.h"

namespace drbd::ocf {

enum class FenceMode { kFence, kUnfence };

// argv[0]'s base name picks the mode: a name containing "unfence" unfences.
FenceMode FenceModeFromProgramName(const std::string& argv0);

// Runs one handler call. `args` are the command-line options (without
// argv[0]); OCF_RESKEY_unfence_extra_args from `env` is appended, as the
// script does. Tools: DRBD_CP_CIBADMIN (cibadmin), DRBD_CP_DRBDSETUP
// (drbdsetup); this node's name: DRBD_CP_HOSTNAME, else uname -n. Returns
// the process exit code: fence → DRBD's fence-peer codes (1, 4, 5, 7; see
// FenceExit); unfence → 0, or 1 when the CIB could not be read or changed.
// `log` gets one line per event.
int RunFenceHandler(FenceMode mode, const std::vector<std::string>& args, const EnvLookup& env,
                    Runner& runner, std::ostream& log);

}  // namespace drbd::ocf
