// SPDX-License-Identifier: GPL-2.0-or-later
// Resolving drbdadm's resource arguments (`res`, `res/vol`, `res:peer`,
// `res:peer/vol`, `minor-N`) to command contexts, with drbd-utils 9.22's
// connection-selection checks (ctx_by_name / ctx_by_minor).
#pragma once

#include <string_view>

#include "drbdadm/adm.h"

namespace drbd::adm {

// What CtxByName is asked to do (drbd-utils `checks`).
enum class CtxCheck { kSetupMulti, kCtxFirst, kWouldEnableDisabled, kWouldEnableMultiTimes };

// Returns 0 on success, a negative value when the name does not resolve
// (ctx->res stays null if the resource is unknown), 1 when a check fails.
// Messages for bad peers/volumes go to st.err.
int CtxByName(AdmState& st, CmdCtx* ctx, std::string_view id, CtxCheck check);

// "minor-N": finds the volume with that minor. 0 or negative.
int CtxByMinor(AdmState& st, CmdCtx* ctx, std::string_view id);

}  // namespace drbd::adm
