// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm driving a DRBD 8.4 kernel module itself (no drbdadm-84): the
// verbs drbdadm/plan84.h plans are printed (`-d`) or run through drbd-cp's
// own drbdsetup (which speaks genl version 1 to an 8.4 module) and
// drbdmeta (v08), with drbdadm-84's semantics: staged up/adjust that skip a
// resource after a failed prerequisite, drbdsetup-then-drbdmeta fallbacks
// (invalidate, outdate, dstate, get-gi/show-gi), exit codes. adjust reads
// the running configuration with `drbdsetup show RES` and changes only what
// differs. sh-status is answered from the same queries.
// See docs/compat.md "DRBD 8.4 modules".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "drbdadm/adm.h"
#include "drbdadm/plan84.h"

namespace drbd::adm {

// True when drbdadm handles `verb` for an 8.4 module itself (the verbs of
// IsPlan84Verb plus sh-status); other verbs need no module or go to
// drbdadm-84 when it is installed.
bool IsLive84Verb(std::string_view verb);

// The verbs only drbdadm-84 has (sh-status), for an 8.4 module; nullptr
// for any other name.
const AdmCmd* FindCommand84(std::string_view name);

// drbdadm-84's usage text (general options, the 8.4 command list or the
// options of `cmd`, version lines, `addinfo`) on st.out, then throws
// AdmExit{status}. cmd may be null.
[[noreturn]] void PrintUsage84AndExit(AdmState& st, const AdmCmd* cmd, const char* addinfo,
                                      int status);

// Runs (or with st.dry_run prints) `verb` on the named resources against an
// 8.4 module. Returns drbdadm's exit code; may throw AdmExit (a helper
// failing with 20 or more ends the run, as in drbdadm-84).
// REQUIRES: st.config parsed and post-processed; CheckConfig84 passed.
int RunVerb84(AdmState& st, std::string_view verb, const std::vector<std::string>& names,
              const std::string& module_version);

// adjust's comparison of one configured resource with the running one
// (null: not running), as drbdadm-84 adm_adjust decides; exposed for tests.
Adjust84 CompareRunning84(const AdmState& st, const cfg::Resource& conf,
                          const cfg::Resource* running);

}  // namespace drbd::adm
