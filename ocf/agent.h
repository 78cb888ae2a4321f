// SPDX-License-Identifier: GPL-2.0-or-later
// The `drbd` OCF resource agent's action dispatch: reads the parameters,
// gathers DRBD state through drbdsetup, asks lib/ocf for every decision and
// carries it out with drbdadm and crm_attribute. External commands go
// through a Runner so tests can record them. Returns OCF exit codes only.
// See docs/ocf-agent.md.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "lib/ocf/params.h"

namespace drbd::ocf {

// Runs an external command, capturing its stdout. Returns its exit status
// (0..255), or -1 when it could not be run. Also the agent's clock: actions
// that retry (promote) wait through it, so tests run them in virtual time.
class Runner {
 public:
  virtual ~Runner() = default;
  virtual int Run(const std::vector<std::string>& argv, std::string* stdout_text) = 0;
  virtual std::chrono::milliseconds Now() = 0;  // a monotonic clock
  virtual void Sleep(std::chrono::milliseconds d) = 0;
};

// posix_spawnp-based runner; stderr of the child goes to ours.
class ProcessRunner : public Runner {
 public:
  int Run(const std::vector<std::string>& argv, std::string* stdout_text) override;
  std::chrono::milliseconds Now() override;
  void Sleep(std::chrono::milliseconds d) override;
};

// This node's name as Pacemaker knows it: DRBD_CP_HOSTNAME from `env`,
// else uname -n.
std::string LocalHostname(const EnvLookup& env);

// Runs one OCF action ("start", "monitor", "meta-data", …). `env` supplies
// OCF_RESKEY_* and the tool overrides DRBD_CP_DRBDADM, DRBD_CP_DRBDSETUP and
// DRBD_CP_CRM_ATTRIBUTE (defaults: drbdadm, drbdsetup, crm_attribute from
// PATH), the clone meta attributes (OCF_RESKEY_CRM_meta_*) and, for notify,
// the notification variables. `out` gets meta-data; `log` gets one line per event and the
// "ocf-exit-reason:" line Pacemaker shows. A crm_attribute that cannot run
// or fails (no cluster, as under ocf-tester) is logged and never changes
// the result.
Exit RunAgent(std::string_view action, const EnvLookup& env, Runner& runner, std::ostream& out,
              std::ostream& log);

}  // namespace drbd::ocf
